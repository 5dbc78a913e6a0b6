/// A position in a TOML document, 1-based, counted in Unicode scalars per line.
public struct TOMLPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// Why a document is not valid TOML, and where.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String
    public init(_ message: String, at position: TOMLPosition) {
        self.message = message
        self.position = position
    }
    public var description: String { "line \(position.line), column \(position.column): \(message)" }
}

/// A TOML date-time, local date, or local time, kept as written (no time-zone conversion).
public struct TOMLDateTime: Sendable, Hashable {
    public struct Date: Sendable, Hashable {
        public var year: Int, month: Int, day: Int
        public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }
    }
    public struct Time: Sendable, Hashable {
        public var hour: Int, minute: Int, second: Int
        /// Fractional seconds digits as written (e.g. "123" for .123), empty when absent.
        public var fraction: String
        public init(hour: Int, minute: Int, second: Int, fraction: String = "") {
            self.hour = hour; self.minute = minute; self.second = second; self.fraction = fraction
        }
    }
    public var date: Date?
    public var time: Time?
    /// Offset from UTC in minutes; nil for local values. `Z` is 0.
    public var offsetMinutes: Int?
    public init(date: Date?, time: Time?, offsetMinutes: Int?) {
        self.date = date; self.time = time; self.offsetMinutes = offsetMinutes
    }
}

/// A decoded TOML value.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case dateTime(TOMLDateTime)
    case array([TOMLValue])
    case table(TOMLTable)
}

/// A TOML table: keys in document order, each with the position where it was defined,
/// so configuration code can point at `file:line` for unknown or invalid keys.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: TOMLValue
        /// Where the key (its last dotted component) was written.
        public var position: TOMLPosition
        public init(key: String, value: TOMLValue, position: TOMLPosition) {
            self.key = key; self.value = value; self.position = position
        }
        /// Entries compare by key and value; positions are bookkeeping.
        public static func == (a: Entry, b: Entry) -> Bool { a.key == b.key && a.value == b.value }
    }
    /// Entries in the order their keys first appeared.
    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// Where the table was opened: its `[header]`, `[[header]]`, `{` or first dotted key; nil for the root.
    public var origin: TOMLPosition?

    public init(origin: TOMLPosition? = nil) { self.origin = origin }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(key: String) -> TOMLValue? {
        index[key].map { entries[$0].value }
    }

    public func position(of key: String) -> TOMLPosition? {
        index[key].map { entries[$0].position }
    }

    /// Sets `key`, keeping its original position and order when it already exists.
    public mutating func set(_ key: String, _ value: TOMLValue, at position: TOMLPosition) {
        if let i = index[key] {
            entries[i].value = value
        } else {
            index[key] = entries.count
            entries.append(Entry(key: key, value: value, position: position))
        }
    }

    public static func == (a: TOMLTable, b: TOMLTable) -> Bool { a.entries == b.entries }
}
