/// A TOML 1.0 parser: bytes in, `TOMLTable` out, or a `TOMLError` with line and column.
public enum TOML {
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses UTF-8 bytes; invalid UTF-8 is an error at its position.
    public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(bytes)
        return try parser.document()
    }
}

/// The mutable tree built while parsing; converted to value types at the end.
private final class TableNode {
    enum Child {
        case value(TOMLValue)
        case table(TableNode)
        case tables([TableNode])
    }

    var order: [String] = []
    var children: [String: Child] = [:]
    var positions: [String: TOMLPosition] = [:]
    let origin: TOMLPosition?
    /// Opened by its own `[header]`: a second header for it is an error.
    var headerDefined = false
    /// Created by dotted keys: it may not be opened by a `[header]` later.
    var dottedDefined = false

    init(origin: TOMLPosition?) { self.origin = origin }

    /// Where `key` was first defined, for messages.
    func definedAt(_ key: String) -> String { positions[key]?.description ?? "?" }

    func set(_ key: String, _ child: Child, at position: TOMLPosition) {
        if children[key] == nil { order.append(key) }
        children[key] = child
        positions[key] = positions[key] ?? position
    }

    func freeze() -> TOMLTable {
        var table = TOMLTable(origin: origin)
        for key in order {
            guard let child = children[key], let position = positions[key] else { continue }
            switch child {
            case let .value(value): table.set(key, value, at: position)
            case let .table(node): table.set(key, .table(node.freeze()), at: position)
            case let .tables(nodes): table.set(key, .array(nodes.map { .table($0.freeze()) }), at: position)
            }
        }
        return table
    }
}

struct TOMLParser {
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    /// Arrays and inline tables open around the current value; bounded so hostile input gets
    /// an error instead of exhausting the stack.
    private var depth = 0
    static let maximumDepth = 128

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: positions and errors

    private var position: TOMLPosition { position(at: i) }

    private func position(at index: Int) -> TOMLPosition {
        var column = 1
        var k = lineStart
        while k < index && k < bytes.count {
            if bytes[k] & 0xC0 != 0x80 { column += 1 }
            k += 1
        }
        return TOMLPosition(line: line, column: column)
    }

    private func error(_ message: String, at index: Int? = nil) -> TOMLError {
        TOMLError(message, at: position(at: index ?? i))
    }

    private var atEnd: Bool { i >= bytes.count }
    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
    private func peek(_ offset: Int) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }

    private static func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "end of file" }
        switch byte {
        case 0x0A: return "a newline"
        case 0x0D: return "a carriage return"
        case 0x09: return "a tab"
        case 0x20: return "a space"
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
        default: return String(format: "byte 0x%02X", byte)
        }
    }

    // MARK: document

    mutating func document() throws(TOMLError) -> TOMLTable {
        try validateUTF8()
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3; lineStart = 3 }
        let root = TableNode(origin: nil)
        var current = root
        while true {
            skipWhitespace()
            guard let c = peek else { break }
            switch c {
            case UInt8(ascii: "#"):
                try comment()
            case 0x0A, 0x0D:
                try newline()
                continue
            case UInt8(ascii: "["):
                current = try header(root)
            default:
                try keyValue(into: current)
            }
            try endOfLine()
        }
        return root.freeze()
    }

    private mutating func validateUTF8() throws(TOMLError) {
        var k = 0
        var scanLine = 1
        var scanLineStart = 0
        while k < bytes.count {
            let b = bytes[k]
            var length = 0
            var minimum: UInt32 = 0
            var scalar: UInt32 = 0
            switch b {
            case 0x00...0x7F:
                if b == 0x0A { scanLine += 1; scanLineStart = k + 1 }
                k += 1
                continue
            case 0xC2...0xDF: length = 2; scalar = UInt32(b & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(b & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(b & 0x07); minimum = 0x10000
            default: length = 0
            }
            var valid = length > 0 && k + length <= bytes.count
            if valid {
                for j in 1..<length {
                    let cont = bytes[k + j]
                    if cont & 0xC0 != 0x80 { valid = false; break }
                    scalar = scalar << 6 | UInt32(cont & 0x3F)
                }
            }
            if valid, scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { valid = false }
            if !valid {
                line = scanLine
                lineStart = scanLineStart
                throw error("invalid UTF-8 (\(Self.describe(b)))", at: k)
            }
            k += length
        }
    }

    private mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 { i += 1 }
    }

    private mutating func newline() throws(TOMLError) {
        if peek == 0x0D {
            guard peek(1) == 0x0A else { throw error("a carriage return must be followed by a newline") }
            i += 1
        }
        i += 1
        line += 1
        lineStart = i
    }

    private mutating func comment() throws(TOMLError) {
        i += 1
        while let c = peek, c != 0x0A {
            if c == 0x0D, peek(1) == 0x0A { break }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character \(Self.describe(c)) in a comment") }
            i += 1
        }
    }

    /// After a statement: optional whitespace and comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLError) {
        skipWhitespace()
        if peek == UInt8(ascii: "#") { try comment() }
        guard let c = peek else { return }
        guard c == 0x0A || c == 0x0D else { throw error("expected a newline after the statement, found \(Self.describe(c))") }
        try newline()
    }

    // MARK: tables

    private mutating func header(_ root: TableNode) throws(TOMLError) -> TableNode {
        let start = i
        let headerPosition = position
        i += 1
        let isArray = peek == UInt8(ascii: "[")
        if isArray { i += 1 }
        skipWhitespace()
        let keys = try key()
        skipWhitespace()
        guard peek == UInt8(ascii: "]") else { throw error("expected ']' to close the table header, found \(Self.describe(peek))") }
        i += 1
        if isArray {
            guard peek == UInt8(ascii: "]") else { throw error("expected ']]' to close the array-of-tables header") }
            i += 1
        }
        var table = root
        for (name, keyPosition) in keys.dropLast() {
            switch table.children[name] {
            case nil:
                let node = TableNode(origin: headerPosition)
                table.set(name, .table(node), at: keyPosition)
                table = node
            case let .table(node)?:
                table = node
            case let .tables(nodes)?:
                guard let last = nodes.last else { throw error("empty array of tables '\(name)'", at: start) }
                table = last
            case .value?:
                throw TOMLError("'\(name)' is already a value (defined at \(table.definedAt(name))), not a table", at: keyPosition)
            }
        }
        let (name, keyPosition) = keys[keys.count - 1]
        if isArray {
            let node = TableNode(origin: headerPosition)
            node.headerDefined = true
            switch table.children[name] {
            case nil:
                table.set(name, .tables([node]), at: keyPosition)
            case var .tables(nodes)?:
                nodes.append(node)
                table.children[name] = .tables(nodes)
            default:
                throw TOMLError("cannot define array of tables '\(name)': it is already defined at \(table.definedAt(name))", at: keyPosition)
            }
            return node
        }
        switch table.children[name] {
        case nil:
            let node = TableNode(origin: headerPosition)
            node.headerDefined = true
            table.set(name, .table(node), at: keyPosition)
            return node
        case let .table(node)?:
            if node.headerDefined || node.dottedDefined {
                throw TOMLError("table '\(keys.map(\.0).joined(separator: "."))' is already defined at \(table.definedAt(name))", at: keyPosition)
            }
            node.headerDefined = true
            return node
        default:
            throw TOMLError("cannot define table '\(name)': it is already defined at \(table.definedAt(name))", at: keyPosition)
        }
    }

    private mutating func keyValue(into table: TableNode) throws(TOMLError) {
        let keys = try key()
        skipWhitespace()
        guard peek == UInt8(ascii: "=") else { throw error("expected '=' after the key, found \(Self.describe(peek))") }
        i += 1
        skipWhitespace()
        let value = try self.value()
        try assign(keys, value, into: table)
    }

    private func assign(_ keys: [(String, TOMLPosition)], _ value: TOMLValue, into root: TableNode) throws(TOMLError) {
        var table = root
        for (name, keyPosition) in keys.dropLast() {
            switch table.children[name] {
            case nil:
                let node = TableNode(origin: keyPosition)
                node.dottedDefined = true
                table.set(name, .table(node), at: keyPosition)
                table = node
            case let .table(node)?:
                guard node.dottedDefined, !node.headerDefined else {
                    throw TOMLError("cannot add to table '\(name)' with dotted keys: it was defined at \(table.definedAt(name))", at: keyPosition)
                }
                table = node
            default:
                throw TOMLError("'\(name)' is already defined at \(table.definedAt(name)) and is not a table", at: keyPosition)
            }
        }
        let (name, keyPosition) = keys[keys.count - 1]
        if let first = table.positions[name], table.children[name] != nil {
            throw TOMLError("duplicate key '\(name)' (first defined at \(first))", at: keyPosition)
        }
        table.set(name, .value(value), at: keyPosition)
    }

    // MARK: keys

    private mutating func key() throws(TOMLError) -> [(String, TOMLPosition)] {
        var parts: [(String, TOMLPosition)] = []
        while true {
            skipWhitespace()
            let keyPosition = position
            guard let c = peek else { throw error("expected a key, found end of file") }
            let part: String
            if c == UInt8(ascii: "\"") {
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { throw error("a key cannot be a multi-line string") }
                part = try basicString()
            } else if c == UInt8(ascii: "'") {
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { throw error("a key cannot be a multi-line string") }
                part = try literalString()
            } else {
                let start = i
                while let b = peek, Self.isBareKey(b) { i += 1 }
                guard i > start else { throw error("expected a key, found \(Self.describe(c))") }
                part = String(decoding: bytes[start..<i], as: UTF8.self)
            }
            parts.append((part, keyPosition))
            skipWhitespace()
            guard peek == UInt8(ascii: ".") else { return parts }
            i += 1
        }
    }

    private static func isBareKey(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    // MARK: values

    private mutating func value() throws(TOMLError) -> TOMLValue {
        guard let c = peek else { throw error("expected a value, found end of file") }
        switch c {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { return .string(try multilineString(quote: c, escapes: true)) }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { return .string(try multilineString(quote: c, escapes: false)) }
            return .string(try literalString())
        case UInt8(ascii: "["):
            return try array()
        case UInt8(ascii: "{"):
            return try inlineTable()
        case UInt8(ascii: "t"):
            return try keyword("true", .boolean(true))
        case UInt8(ascii: "f"):
            return try keyword("false", .boolean(false))
        default:
            return try numberOrDate()
        }
    }

    private mutating func keyword(_ word: String, _ value: TOMLValue) throws(TOMLError) -> TOMLValue {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else {
            throw error("invalid value (expected \(word))")
        }
        i += w.count
        if let next = peek, Self.isBareKey(next) { throw error("invalid value (expected \(word))") }
        return value
    }

    private mutating func enter() throws(TOMLError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("arrays and inline tables nest deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func array() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { depth -= 1 }
        i += 1
        var elements: [TOMLValue] = []
        while true {
            try skipArraySpace()
            guard let c = peek else { throw error("unterminated array") }
            if c == UInt8(ascii: "]") { i += 1; return .array(elements) }
            elements.append(try value())
            try skipArraySpace()
            switch peek {
            case UInt8(ascii: ",")?: i += 1
            case UInt8(ascii: "]")?: i += 1; return .array(elements)
            default: throw error("expected ',' or ']' in the array, found \(Self.describe(peek))")
            }
        }
    }

    private mutating func skipArraySpace() throws(TOMLError) {
        while let c = peek {
            switch c {
            case 0x20, 0x09: i += 1
            case 0x0A, 0x0D: try newline()
            case UInt8(ascii: "#"): try comment()
            default: return
            }
        }
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { depth -= 1 }
        let node = TableNode(origin: position)
        i += 1
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            i += 1
            return .table(node.freeze())
        }
        while true {
            skipWhitespace()
            let keys = try key()
            skipWhitespace()
            guard peek == UInt8(ascii: "=") else { throw error("expected '=' after the key, found \(Self.describe(peek))") }
            i += 1
            skipWhitespace()
            let v = try value()
            try assign(keys, v, into: node)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ",")?:
                i += 1
                skipWhitespace()
                if peek == UInt8(ascii: "}") { throw error("trailing comma in an inline table") }
            case UInt8(ascii: "}")?:
                i += 1
                return .table(node.freeze())
            default:
                throw error("expected ',' or '}' in the inline table, found \(Self.describe(peek))")
            }
        }
    }

    // MARK: strings

    private mutating func appendScalar(_ out: inout [UInt8]) {
        // Copies one UTF-8 encoded scalar (validated up front).
        let b = bytes[i]
        let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
        out.append(contentsOf: bytes[i..<min(bytes.count, i + length)])
        i += length
    }

    private mutating func checkControl(_ c: UInt8) throws(TOMLError) {
        if c == 0x09 { return }
        if c < 0x20 || c == 0x7F { throw error("control character \(Self.describe(c)) in a string") }
    }

    private mutating func basicString() throws(TOMLError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c == 0x0A || c == 0x0D { throw error("newline in a single-line string") }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
                continue
            }
            try checkControl(c)
            appendScalar(&out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        let start = i
        i += 1
        guard let e = peek else { throw error("unterminated escape") }
        i += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard i + count <= bytes.count else { throw error("truncated unicode escape", at: start) }
            var value: UInt32 = 0
            for k in 0..<count {
                guard let digit = Self.hexValue(bytes[i + k]) else { throw error("invalid unicode escape", at: start) }
                value = value << 4 | UInt32(digit)
            }
            i += count
            guard let scalar = Unicode.Scalar(value) else {
                throw error(String(format: "\\%@ escape U+%X is not a Unicode scalar value", e == UInt8(ascii: "u") ? "u" : "U", value), at: start)
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("invalid escape sequence '\\\(Character(Unicode.Scalar(e)))'", at: start)
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    /// Consumes a run of `quote` inside a multi-line string: three or more close it (up to two
    /// more belong to the content, e.g. `""""a"""""`); fewer are content. True when it closed.
    private mutating func quoteRun(_ quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var quotes = 0
        while peek(quotes) == quote { quotes += 1 }
        guard quotes >= 3 else {
            out.append(contentsOf: [UInt8](repeating: quote, count: quotes))
            i += quotes
            return false
        }
        guard quotes <= 5 else { throw error("too many quotes at the end of a multi-line string") }
        out.append(contentsOf: [UInt8](repeating: quote, count: quotes - 3))
        i += quotes
        return true
    }

    /// `"""basic"""` (with escapes and line-ending backslashes) or `'''literal'''` (verbatim);
    /// a newline right after the opening quotes is dropped, CRLF becomes LF.
    private mutating func multilineString(quote: UInt8, escapes: Bool) throws(TOMLError) -> String {
        i += 3
        if peek == 0x0A || (peek == 0x0D && peek(1) == 0x0A) { try newline() }
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated multi-line \(escapes ? "" : "literal ")string") }
            if c == quote {
                if try quoteRun(c, into: &out) { break }
                continue
            }
            if escapes, c == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and following whitespace.
                var k = i + 1
                while k < bytes.count, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                if k < bytes.count, bytes[k] == 0x0A || (bytes[k] == 0x0D && k + 1 < bytes.count && bytes[k + 1] == 0x0A) {
                    i = k
                    while let w = peek, w == 0x20 || w == 0x09 || w == 0x0A || w == 0x0D {
                        if w == 0x0A || w == 0x0D { try newline() } else { i += 1 }
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            if c == 0x0A || c == 0x0D {
                try newline()
                out.append(0x0A)
                continue
            }
            try checkControl(c)
            appendScalar(&out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func literalString() throws(TOMLError) -> String {
        i += 1
        let start = i
        while true {
            guard let c = peek else { throw error("unterminated literal string") }
            if c == UInt8(ascii: "'") { break }
            if c == 0x0A || c == 0x0D { throw error("newline in a single-line literal string") }
            try checkControl(c)
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return text
    }

    // MARK: numbers and dates

    private func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }

    private mutating func numberOrDate() throws(TOMLError) -> TOMLValue {
        // A date starts with four digits and '-'; a time with two digits and ':'.
        if isDigit(peek), isDigit(peek(1)) {
            if isDigit(peek(2)), isDigit(peek(3)), peek(4) == UInt8(ascii: "-") { return .dateTime(try dateTime()) }
            if peek(2) == UInt8(ascii: ":") { return .dateTime(TOMLDateTime(date: nil, time: try time(), offsetMinutes: nil)) }
        }
        let start = i
        while let b = peek, Self.isBareKey(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") { i += 1 }
        let token = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !token.isEmpty else { throw error("expected a value, found \(Self.describe(peek))") }
        if let value = Self.integer(token) { return .integer(value) }
        if let value = Self.float(token) { return .float(value) }
        throw error("invalid value '\(token)'", at: start)
    }

    /// Digits with single underscores between them.
    private static func digitsValid(_ s: Substring, hex: Bool = false, allowLeadingZero: Bool = true) -> Bool {
        guard let first = s.first, let last = s.last, first != "_", last != "_" else { return false }
        var previousUnderscore = false
        for ch in s {
            if ch == "_" {
                if previousUnderscore { return false }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            if hex ? !ch.isHexDigit : !("0"..."9").contains(ch) { return false }
        }
        if !allowLeadingZero, s.count > 1, first == "0" { return false }
        return true
    }

    static func integer(_ token: String) -> Int64? {
        var s = Substring(token)
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where s.hasPrefix(prefix) {
            let digits = s.dropFirst(2)
            guard digitsValid(digits, hex: radix == 16) else { return nil }
            let clean = digits.filter { $0 != "_" }
            if radix == 8, clean.contains(where: { !("0"..."7").contains($0) }) { return nil }
            if radix == 2, clean.contains(where: { $0 != "0" && $0 != "1" }) { return nil }
            return Int64(clean, radix: radix)
        }
        var negative = false
        if s.first == "+" || s.first == "-" {
            negative = s.first == "-"
            s = s.dropFirst()
        }
        guard digitsValid(s, allowLeadingZero: false) else { return nil }
        return Int64((negative ? "-" : "") + s.filter { $0 != "_" })
    }

    static func float(_ token: String) -> Double? {
        var s = Substring(token)
        var sign = ""
        if s.first == "+" || s.first == "-" {
            sign = s.first == "-" ? "-" : ""
            s = s.dropFirst()
        }
        if s == "inf" { return sign == "-" ? -.infinity : .infinity }
        if s == "nan" { return sign == "-" ? -.nan : .nan }
        var mantissa = s
        var exponent: Substring?
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = s[..<e]
            exponent = s[s.index(after: e)...]
        }
        var intPart = mantissa
        var fraction: Substring?
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        guard fraction != nil || exponent != nil else { return nil }
        guard digitsValid(intPart, allowLeadingZero: false) else { return nil }
        if let fraction, !digitsValid(fraction) { return nil }
        if var exp = exponent {
            if exp.first == "+" || exp.first == "-" { exp = exp.dropFirst() }
            guard digitsValid(exp) else { return nil }
        }
        return Double(sign + s.filter { $0 != "_" })
    }

    private mutating func digits(_ count: Int, _ what: String) throws(TOMLError) -> Int {
        var value = 0
        for _ in 0..<count {
            guard let b = peek, isDigit(b) else { throw error("invalid \(what): expected a digit, found \(Self.describe(peek))") }
            value = value * 10 + Int(b - 0x30)
            i += 1
        }
        return value
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(TOMLError) {
        guard peek == byte else { throw error("invalid \(what): expected '\(Character(Unicode.Scalar(byte)))', found \(Self.describe(peek))") }
        i += 1
    }

    private mutating func dateTime() throws(TOMLError) -> TOMLDateTime {
        let start = i
        let year = try digits(4, "date")
        try expect(UInt8(ascii: "-"), "date")
        let month = try digits(2, "date")
        try expect(UInt8(ascii: "-"), "date")
        let day = try digits(2, "date")
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...days[month - 1]).contains(day) else {
            throw error("invalid date \(year)-\(month)-\(day)", at: start)
        }
        let date = TOMLDateTime.Date(year: year, month: month, day: day)
        let separator = peek
        let hasTime = separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t")
            || (separator == 0x20 && isDigit(peek(1)) && isDigit(peek(2)) && peek(3) == UInt8(ascii: ":"))
        guard hasTime else {
            if let b = peek, Self.isBareKey(b) || b == UInt8(ascii: ":") { throw error("invalid date-time", at: start) }
            return TOMLDateTime(date: date, time: nil, offsetMinutes: nil)
        }
        i += 1
        let time = try self.time()
        var offset: Int?
        if peek == UInt8(ascii: "Z") || peek == UInt8(ascii: "z") {
            i += 1
            offset = 0
        } else if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
            let negative = peek == UInt8(ascii: "-")
            i += 1
            let hours = try digits(2, "offset")
            try expect(UInt8(ascii: ":"), "offset")
            let minutes = try digits(2, "offset")
            guard hours < 24, minutes < 60 else { throw error("invalid time offset", at: start) }
            offset = (hours * 60 + minutes) * (negative ? -1 : 1)
        }
        if let b = peek, Self.isBareKey(b) || b == UInt8(ascii: ":") || b == UInt8(ascii: ".") { throw error("invalid date-time", at: start) }
        return TOMLDateTime(date: date, time: time, offsetMinutes: offset)
    }

    private mutating func time() throws(TOMLError) -> TOMLDateTime.Time {
        let start = i
        let hour = try digits(2, "time")
        try expect(UInt8(ascii: ":"), "time")
        let minute = try digits(2, "time")
        try expect(UInt8(ascii: ":"), "time (TOML 1.0 requires seconds)")
        let second = try digits(2, "time")
        var fraction = ""
        if peek == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while isDigit(peek) { i += 1 }
            guard i > fractionStart else { throw error("invalid time: expected digits after '.'") }
            fraction = String(decoding: bytes[fractionStart..<i], as: UTF8.self)
        }
        guard hour < 24, minute < 60, second <= 60 else { throw error("invalid time \(hour):\(minute):\(second)", at: start) }
        return TOMLDateTime.Time(hour: hour, minute: minute, second: second, fraction: fraction)
    }
}
