/// A topology source could not be parsed; `message` says what and where.
public struct TopologyParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Minimal DOM node from `XMLScanner`: element name, attributes, child elements, direct text.
public struct XMLElement: Sendable, Hashable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLElement]
    /// Concatenated direct text content, entities decoded, not trimmed.
    public var text: String

    public init(name: String, attributes: [String: String] = [:], children: [XMLElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// First child element called `name`.
    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// Direct text with surrounding whitespace removed.
    public var trimmedText: String {
        var s = Substring(text)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Tiny XML reader for well-formed tool output (nvidia-smi, lstopo); avoids FoundationXML/libxml2.
/// Handles elements, attributes, text, comments, CDATA, `<?...?>`, `<!DOCTYPE>` and the five
/// predefined plus numeric entities. No namespaces, no DTD validation.
public enum XMLScanner {
    /// Parses `xml` into its root element.
    public static func parse(_ xml: String) throws(TopologyParseError) -> XMLElement {
        var p = Parser(bytes: Array(xml.utf8))
        return try p.document()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ what: String) -> TopologyParseError {
        var line = 1
        for b in bytes[0..<min(pos, bytes.count)] where b == UInt8(ascii: "\n") { line += 1 }
        return TopologyParseError("XML line \(line): \(what)")
    }

    private func starts(_ s: String) -> Bool {
        var i = pos
        for b in s.utf8 {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
        }
        return true
    }

    /// Moves past the next occurrence of `end`.
    private mutating func skip(past end: String) throws(TopologyParseError) {
        while pos < bytes.count {
            if starts(end) {
                pos += end.utf8.count
                return
            }
            pos += 1
        }
        throw fail("missing \"\(end)\"")
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private mutating func skipSpace() {
        while pos < bytes.count, Self.isSpace(bytes[pos]) { pos += 1 }
    }

    private mutating func name() throws(TopologyParseError) -> String {
        let start = pos
        while pos < bytes.count {
            let b = bytes[pos]
            if Self.isSpace(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: ">") || b == UInt8(ascii: "=") { break }
            pos += 1
        }
        guard pos > start else { throw fail("expected a name") }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    mutating func document() throws(TopologyParseError) -> XMLElement {
        var stack: [XMLElement] = []
        var root: XMLElement?

        func attach(_ element: XMLElement) throws(TopologyParseError) {
            if stack.isEmpty {
                guard root == nil else { throw fail("more than one root element") }
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }

        while pos < bytes.count {
            if bytes[pos] != UInt8(ascii: "<") {
                let start = pos
                while pos < bytes.count, bytes[pos] != UInt8(ascii: "<") { pos += 1 }
                let text = try decode(bytes[start..<pos])
                if stack.isEmpty {
                    guard text.allSatisfy(\.isWhitespace) else { throw fail("text outside the root element") }
                } else {
                    stack[stack.count - 1].text += text
                }
            } else if starts("<?") {
                try skip(past: "?>")
            } else if starts("<!--") {
                try skip(past: "-->")
            } else if starts("<![CDATA[") {
                pos += 9
                let start = pos
                try skip(past: "]]>")
                guard !stack.isEmpty else { throw fail("CDATA outside the root element") }
                stack[stack.count - 1].text += String(decoding: bytes[start..<(pos - 3)], as: UTF8.self)
            } else if starts("<!") {
                // DOCTYPE, possibly with an internal subset in [...]
                var depth = 0
                while pos < bytes.count {
                    let b = bytes[pos]
                    pos += 1
                    if b == UInt8(ascii: "[") { depth += 1 }
                    if b == UInt8(ascii: "]") { depth -= 1 }
                    if b == UInt8(ascii: ">"), depth <= 0 { break }
                }
            } else if starts("</") {
                pos += 2
                let closing = try name()
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ">") else { throw fail("bad end tag </\(closing)") }
                pos += 1
                guard let open = stack.popLast() else { throw fail("unexpected </\(closing)>") }
                guard open.name == closing else { throw fail("</\(closing)> closes <\(open.name)>") }
                try attach(open)
            } else {
                pos += 1
                var element = XMLElement(name: try name())
                var selfClosing = false
                while true {
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated <\(element.name)>") }
                    if bytes[pos] == UInt8(ascii: ">") {
                        pos += 1
                        break
                    }
                    if starts("/>") {
                        pos += 2
                        selfClosing = true
                        break
                    }
                    let key = try name()
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "=") else { throw fail("attribute \(key) without value") }
                    pos += 1
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") || bytes[pos] == UInt8(ascii: "'") else {
                        throw fail("attribute \(key) value not quoted")
                    }
                    let quote = bytes[pos]
                    pos += 1
                    let start = pos
                    while pos < bytes.count, bytes[pos] != quote { pos += 1 }
                    guard pos < bytes.count else { throw fail("unterminated attribute \(key)") }
                    element.attributes[key] = try decode(bytes[start..<pos])
                    pos += 1
                }
                if selfClosing { try attach(element) } else { stack.append(element) }
            }
        }
        if let open = stack.last { throw fail("<\(open.name)> is never closed") }
        guard let root else { throw fail("no root element") }
        return root
    }

    /// Decodes entity references in text or attribute values.
    private func decode(_ raw: ArraySlice<UInt8>) throws(TopologyParseError) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let b = raw[i]
            guard b == UInt8(ascii: "&") else {
                out.append(b)
                i += 1
                continue
            }
            guard let semi = raw[i...].firstIndex(of: UInt8(ascii: ";")), semi - i <= 12 else {
                throw fail("unterminated entity")
            }
            let entity = String(decoding: raw[(i + 1)..<semi], as: UTF8.self)
            let scalar: Unicode.Scalar?
            switch entity {
            case "amp": scalar = "&"
            case "lt": scalar = "<"
            case "gt": scalar = ">"
            case "quot": scalar = "\""
            case "apos": scalar = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                } else {
                    scalar = nil
                }
            }
            guard let scalar else { throw fail("unknown entity &\(entity);") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            i = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
