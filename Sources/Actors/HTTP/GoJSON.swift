/// The bytes Go's `encoding/json.Marshal` writes for a value decoded into `interface{}`: what the
/// Crynux relay re-marshals and verifies signatures over (spec crynux.md 3.4, relay
/// `api/v1/validate/validate_signature.go`). Compact, object keys sorted bytewise, `<`, `>`, `&`,
/// U+2028 and U+2029 escaped as `\u003c`-style sequences, every number written as a float64.
public enum GoJSON {
    /// Go's encoding of `value`.
    public static func marshal(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, to: &out)
        return out
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(formatFloat(Double(i)).utf8)
        case .double(let d): out += Array(formatFloat(d).utf8)
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let dict):
            out.append(UInt8(ascii: "{"))
            for (i, key) in dict.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(dict[key] ?? .null, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Go's `appendString` with HTML escaping on (the `json.Marshal` default, Go >= 1.22).
    static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        func u(_ code: UInt32) {
            out += Array("\\u".utf8)
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((code >> UInt32(shift)) & 0xF)]) }
        }
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x00..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029: u(scalar.value)
            default: out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Go's float64 encoding: shortest round-trip digits, `%f` style for 1e-6 <= |x| < 1e21,
    /// else `%e` style with the exponent's leading zero dropped (`1e-07` -> `1e-7`, `1e+21`).
    public static func formatFloat(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == 0 { return x.sign == .minus ? "-0" : "0" }
        // Shortest digits and decimal exponent from Swift's shortest round-trip description.
        var text = Substring(abs(x).description)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = ""
        var point = text.count
        if let dot = text.firstIndex(of: ".") {
            point = text.distance(from: text.startIndex, to: dot)
            digits = String(text[..<dot]) + String(text[text.index(after: dot)...])
        } else {
            digits = String(text)
        }
        // value = 0.digits x 10^(point + exp10)
        var decimalPoint = point + exp10
        while digits.hasPrefix("0"), digits.count > 1 { digits.removeFirst(); decimalPoint -= 1 }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        let sign = x < 0 ? "-" : ""
        let magnitude = abs(x)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            let e = decimalPoint - 1
            var m = String(digits.first!)
            if digits.count > 1 { m += "." + digits.dropFirst() }
            let es = e < 0 ? "-" : "+"
            let ed = abs(e)
            // Go writes at least two exponent digits, then drops a leading zero only for negatives.
            let expText = e < 0 ? "\(ed)" : (ed < 10 ? "0\(ed)" : "\(ed)")
            return sign + m + "e" + es + expText
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits
        }
        if decimalPoint >= digits.count {
            return sign + digits + String(repeating: "0", count: decimalPoint - digits.count)
        }
        let i = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<i] + "." + digits[i...]
    }
}
