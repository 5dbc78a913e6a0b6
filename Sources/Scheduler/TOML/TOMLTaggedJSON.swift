/// toml-test's tagged JSON: every leaf as `{"type": ..., "value": "..."}`.
public enum TOMLTaggedJSON {
    public static func encode(_ table: TOMLTable) -> String {
        var out = ""
        write(.table(table), into: &out)
        return out
    }

    private static func write(_ value: TOMLValue, into out: inout String) {
        switch value {
        case let .table(table):
            out += "{"
            for (n, entry) in table.entries.enumerated() {
                if n > 0 { out += "," }
                out += quote(entry.key) + ":"
                write(entry.value, into: &out)
            }
            out += "}"
        case let .array(values):
            out += "["
            for (n, element) in values.enumerated() {
                if n > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case let .string(s): leaf("string", s, &out)
        case let .integer(n): leaf("integer", String(n), &out)
        case let .float(d): leaf("float", format(d), &out)
        case let .boolean(b): leaf("bool", b ? "true" : "false", &out)
        case let .dateTime(dt): leaf(dt.tomlTestType, dt.rfc3339, &out)
        }
    }

    private static func leaf(_ type: String, _ value: String, _ out: inout String) {
        out += "{\"type\":\"\(type)\",\"value\":\(quote(value))}"
    }

    static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension TOMLDateTime {
    /// toml-test's type name: datetime, datetime-local, date-local or time-local.
    public var tomlTestType: String {
        switch (date != nil, time != nil, offsetMinutes != nil) {
        case (true, true, true): "datetime"
        case (true, true, false): "datetime-local"
        case (true, false, _): "date-local"
        default: "time-local"
        }
    }

    /// RFC 3339 text, keeping the fraction digits as written.
    public var rfc3339: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var out = ""
        if let date { out += "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))" }
        if let time {
            if date != nil { out += "T" }
            out += "\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2))"
            if !time.fraction.isEmpty { out += "." + time.fraction }
        }
        if let offsetMinutes {
            if offsetMinutes == 0 {
                out += "Z"
            } else {
                let m = abs(offsetMinutes)
                out += (offsetMinutes < 0 ? "-" : "+") + "\(pad(m / 60, 2)):\(pad(m % 60, 2))"
            }
        }
        return out
    }
}
