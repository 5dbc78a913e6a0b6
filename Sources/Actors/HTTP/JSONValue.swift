import Foundation

/// A JSON document held in memory.
///
/// Integers that fit in `Int64` are kept exactly as `.int`, so sector numbers and
/// other 64-bit identifiers round-trip without passing through `Double`. Every other
/// number is a `.double`. Object keys are serialized in sorted (UTF-8 byte) order,
/// which makes `serialized()` deterministic.
public enum JSONValue: Sendable, Hashable {
    /// JSON `null`.
    case null
    /// JSON `true` / `false`.
    case bool(Bool)
    /// A JSON number without fraction or exponent that fits in `Int64`.
    case int(Int64)
    /// Any other JSON number.
    case double(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object. Duplicate keys in parsed input keep the last value.
    case object([String: JSONValue])
}

/// Error thrown by `JSONValue.parse` for input that is not valid JSON.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Zero-based byte offset in the input at which the problem was detected.
    public let offset: Int
    /// What was wrong at `offset`.
    public let reason: String

    /// Creates a parse error.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// Human-readable text, e.g. `invalid JSON at byte 7: expected string key`.
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

// MARK: - Parsing and serialization

extension JSONValue {
    /// Default maximum nesting depth of arrays and objects accepted by `parse`.
    public static let defaultMaxDepth = 128

    /// Parses a complete JSON text (RFC 8259). Leading and trailing whitespace is allowed;
    /// anything else after the value is an error. Nesting deeper than `maxDepth` is rejected
    /// with an error rather than exhausting the stack.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var parser = JSONTextParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses a JSON text given as a string (see `parse(_:maxDepth:)`).
    public static func parse(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Compact JSON encoding (no insignificant whitespace, object keys sorted).
    /// Non-finite doubles, which JSON cannot represent, are written as `null`.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(to: &out)
        return out
    }

    /// `serialized()` as a `String`.
    public var serializedString: String { String(decoding: serialized(), as: UTF8.self) }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i):
            out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite {
                out.append(contentsOf: d.description.utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s):
            JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let dict):
            out.append(UInt8(ascii: "{"))
            let keys = dict.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var first = true
            for key in keys {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                dict[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Codable bridging

extension JSONValue: Codable {
    /// Decodes any JSON value from a single-value container.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "value is not representable as JSON")
        }
    }

    /// Encodes the value into a single-value container.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    /// Converts any `Encodable` value to a `JSONValue` (via `JSONEncoder`).
    /// Unsigned integers above `Int64.max` become `.double` and lose precision.
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        self = try JSONValue.parse([UInt8](data))
    }

    /// Decodes this value into `T` (via `JSONDecoder`).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(serialized()))
    }
}

// MARK: - Accessors

extension JSONValue {
    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if this is `.bool`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The integer, if this is `.int`, or a `.double` holding an exactly representable integer.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The value as an unsigned 64-bit integer, if it is a non-negative integer.
    public var uint64Value: UInt64? {
        switch self {
        case .int(let i): return i >= 0 ? UInt64(i) : nil
        case .double(let d): return UInt64(exactly: d)
        default: return nil
        }
    }

    /// The number as a `Double` (`.int` converted), if this is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The string, if this is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, if this is `.array`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if this is `.object`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Member lookup; `nil` when this is not an object or the key is absent.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Element lookup; `nil` when this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact serialization.
    public var description: String { serializedString }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// `nil` literal: `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// Boolean literal: `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Integer literal: `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// Float literal: `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// String literal: `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Array literal: `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Dictionary literal: `.object` (later duplicates win).
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var dict: [String: JSONValue] = [:]
        for (k, v) in elements { dict[k] = v }
        self = .object(dict)
    }
}

// MARK: - Parser

/// Recursive-descent RFC 8259 parser over bytes with an explicit depth limit.
struct JSONTextParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var i = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? i, reason: reason)
    }

    private func describeByte(at index: Int) -> String {
        guard index < bytes.count else { return "end of input" }
        let b = bytes[index]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        let hex = String(b, radix: 16)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if i != bytes.count {
            throw fail("unexpected \(describeByte(at: i)) after the JSON value")
        }
        return value
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected \(describeByte(at: i))")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = i
        let count = literal.utf8CodeUnitCount
        let base = literal.utf8Start
        for k in 0..<count {
            guard i < bytes.count, bytes[i] == base[k] else {
                throw fail("invalid literal (expected '\(literal)')", at: start)
            }
            i += 1
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
        i += 1
        skipWhitespace()
        var items: [JSONValue] = []
        if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input in array") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(items)
            default: throw fail("expected ',' or ']' but found \(describeByte(at: i))")
            }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
        i += 1
        skipWhitespace()
        var dict: [String: JSONValue] = [:]
        if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(dict)
        }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw fail("expected string key but found \(describeByte(at: i))")
            }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw fail("expected ':' but found \(describeByte(at: i))")
            }
            i += 1
            skipWhitespace()
            dict[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input in object") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(dict)
            default: throw fail("expected ',' or '}' but found \(describeByte(at: i))")
            }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        let quote = i
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                guard let s = String(validating: bytes[start..<i], as: UTF8.self) else {
                    throw fail("invalid UTF-8 in string", at: start)
                }
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("unescaped control character in string") }
            i += 1
        }
        var buffer = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { throw fail("unterminated string", at: quote) }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                break
            }
            if b < 0x20 { throw fail("unescaped control character in string") }
            if b != UInt8(ascii: "\\") {
                buffer.append(b)
                i += 1
                continue
            }
            let escapeStart = i
            i += 1
            guard i < bytes.count else { throw fail("unterminated string", at: quote) }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try parseHex4()
                var scalarValue = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired UTF-16 high surrogate", at: escapeStart)
                    }
                    i += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw fail("invalid UTF-16 low surrogate", at: escapeStart)
                    }
                    scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00..<0xE000).contains(unit) {
                    throw fail("unpaired UTF-16 low surrogate", at: escapeStart)
                }
                guard let scalar = Unicode.Scalar(scalarValue) else {
                    throw fail("invalid unicode escape", at: escapeStart)
                }
                UTF8.encode(scalar) { buffer.append($0) }
            default:
                throw fail("invalid escape sequence", at: escapeStart)
            }
        }
        guard let s = String(validating: buffer, as: UTF8.self) else {
            throw fail("invalid UTF-8 in string", at: start)
        }
        return s
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
            i += 1
        }
        return value
    }

    private func isDigit(_ index: Int) -> Bool {
        index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw fail("invalid number: expected digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw fail("invalid number: leading zero", at: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        var integral = true
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard isDigit(i) else { throw fail("invalid number: expected digit after '.'") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            integral = false
            i += 1
            if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { throw fail("invalid number: expected exponent digit") }
            while isDigit(i) { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if integral, let value = Int64(text) {
            return .int(value)
        }
        guard let d = Double(text), d.isFinite else {
            throw fail("number out of range", at: start)
        }
        return .double(d)
    }
}
