import ProofsFFI

/// Collects diagnostics while a config is decoded; every problem is kept, not just the first.
struct DiagnosticLog {
    let file: String
    var diagnostics: [ConfigDiagnostic] = []

    mutating func error(_ keyPath: String, _ position: TOMLPosition?, _ message: String) {
        diagnostics.append(ConfigDiagnostic(.error, file: file, position: position, keyPath: keyPath, message: message))
    }

    mutating func warning(_ keyPath: String, _ position: TOMLPosition?, _ message: String) {
        diagnostics.append(ConfigDiagnostic(.warning, file: file, position: position, keyPath: keyPath, message: message))
    }
}

/// Reads typed keys out of one TOML table, remembering which keys were read so the rest can be
/// reported as unknown.
struct TableReader {
    let table: TOMLTable
    let path: String
    private(set) var used: Set<String> = []

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func position(_ key: String) -> TOMLPosition? { table.position(of: key) ?? table.origin }

    static func describe(_ value: TOMLValue) -> String {
        switch value {
        case let .string(s): "string \"\(s)\""
        case let .integer(n): "integer \(n)"
        case let .float(d): "float \(d)"
        case let .boolean(b): "boolean \(b)"
        case .dateTime: "a date-time"
        case .array: "an array"
        case .table: "a table"
        }
    }

    private mutating func take(_ key: String) -> TOMLValue? {
        used.insert(key)
        return table[key]
    }

    private mutating func typed<T>(_ key: String, _ expected: String, _ log: inout DiagnosticLog, _ convert: (TOMLValue) -> T?) -> T? {
        guard let value = take(key) else { return nil }
        if let converted = convert(value) { return converted }
        log.error(keyPath(key), position(key), "expected \(expected), found \(Self.describe(value))")
        return nil
    }

    mutating func string(_ key: String, _ log: inout DiagnosticLog) -> String? {
        typed(key, "a string", &log) { if case let .string(s) = $0 { s } else { nil } }
    }

    mutating func bool(_ key: String, _ log: inout DiagnosticLog) -> Bool? {
        typed(key, "a boolean (true or false)", &log) { if case let .boolean(b) = $0 { b } else { nil } }
    }

    mutating func int(_ key: String, _ log: inout DiagnosticLog, range: ClosedRange<Int64> = 0...Int64.max) -> Int64? {
        guard let n = typed(key, "an integer", &log, { if case let .integer(n) = $0 { n } else { nil } }) else { return nil }
        guard range.contains(n) else {
            log.error(keyPath(key), position(key), "\(n) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return n
    }

    mutating func fraction(_ key: String, _ log: inout DiagnosticLog) -> Double? {
        guard let d = typed(key, "a number between 0 and 1", &log, { v -> Double? in
            switch v {
            case let .float(d): d
            case let .integer(n): Double(n)
            default: nil
            }
        }) else { return nil }
        guard (0...1).contains(d) else {
            log.error(keyPath(key), position(key), "\(d) is not between 0 and 1")
            return nil
        }
        return d
    }

    mutating func duration(_ key: String, _ log: inout DiagnosticLog) -> Duration? {
        guard let text = string(key, &log) else { return nil }
        guard let d = HumanDuration.parse(text) else {
            log.error(keyPath(key), position(key), "invalid duration \"\(text)\" (write e.g. \"30s\", \"1min\", \"1h 30m\", \"500ms\")")
            return nil
        }
        return d
    }

    /// A duration that must be longer than zero (a zero ping or ready wait cannot work).
    mutating func positiveDuration(_ key: String, _ log: inout DiagnosticLog) -> Duration? {
        guard let d = duration(key, &log) else { return nil }
        guard d > .zero else {
            log.error(keyPath(key), position(key), "must be longer than 0s")
            return nil
        }
        return d
    }

    mutating func byteSize(_ key: String, _ log: inout DiagnosticLog) -> ByteSize? {
        guard let value = take(key) else { return nil }
        switch value {
        case let .integer(n) where n >= 0: return ByteSize(bytes: UInt64(n))
        case let .string(text):
            if let size = ByteSize(parsing: text) { return size }
            log.error(keyPath(key), position(key), "invalid size \"\(text)\" (write e.g. \"32GiB\", \"512MiB\")")
        default:
            log.error(keyPath(key), position(key), "expected a size such as \"32GiB\", found \(Self.describe(value))")
        }
        return nil
    }

    mutating func array(_ key: String, _ log: inout DiagnosticLog) -> [TOMLValue]? {
        typed(key, "an array", &log) { if case let .array(a) = $0 { a } else { nil } }
    }

    mutating func strings(_ key: String, _ log: inout DiagnosticLog) -> [String]? {
        guard let values = array(key, &log) else { return nil }
        var out: [String] = []
        for (i, v) in values.enumerated() {
            guard case let .string(s) = v else {
                log.error("\(keyPath(key))[\(i)]", position(key), "expected a string, found \(Self.describe(v))")
                return nil
            }
            out.append(s)
        }
        return out
    }

    mutating func table(_ key: String, _ log: inout DiagnosticLog) -> TableReader? {
        typed(key, "a table", &log) { if case let .table(t) = $0 { t } else { nil } }.map { TableReader($0, path: keyPath(key)) }
    }

    mutating func tables(_ key: String, _ log: inout DiagnosticLog) -> [TableReader]? {
        guard let values = array(key, &log) else { return nil }
        var out: [TableReader] = []
        for (i, v) in values.enumerated() {
            guard case let .table(t) = v else {
                log.error("\(keyPath(key))[\(i)]", position(key), "expected a table, found \(Self.describe(v))")
                continue
            }
            out.append(TableReader(t, path: "\(keyPath(key))[\(i)]"))
        }
        return out
    }

    /// Warns about every key not read; `deprecated` keys get damocles' reason instead.
    func reportUnknown(_ log: inout DiagnosticLog, deprecated: Set<String> = []) {
        for entry in table.entries where !used.contains(entry.key) {
            if deprecated.contains(entry.key) {
                log.warning(keyPath(entry.key), entry.position, "deprecated in damocles and ignored")
            } else {
                log.warning(keyPath(entry.key), entry.position, "unknown key (ignored)")
            }
        }
    }
}
