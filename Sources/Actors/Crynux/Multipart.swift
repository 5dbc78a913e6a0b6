import ProofsFFI

/// multipart/form-data bodies for result uploads.
public enum Multipart {
    public struct Part: Sendable, Hashable {
        public var name: String
        public var filename: String?
        public var data: [UInt8]
        public init(name: String, filename: String? = nil, data: [UInt8]) {
            self.name = name
            self.filename = filename
            self.data = data
        }
    }

    public static func encode(_ parts: [Part], boundary: String) -> [UInt8] {
        var out: [UInt8] = []
        for p in parts {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\"".utf8)
            if let f = p.filename { out += Array("; filename=\"\(f)\"\r\nContent-Type: application/octet-stream".utf8) }
            out += Array("\r\n\r\n".utf8) + p.data + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// Parts of `body`; nil when it is not a well-formed multipart body for `boundary`.
    public static func decode(_ body: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0], Array(body[i..<i + delimiter.count]) == delimiter { positions.append(i); i += delimiter.count } else { i += 1 }
        }
        guard positions.count >= 2 else { return nil }
        var parts: [Part] = []
        for (a, b) in zip(positions, positions.dropFirst()) {
            let start = a + delimiter.count + 2 // CRLF
            let end = b - 2 // CRLF before the next delimiter
            guard start <= end, end <= body.count else { return nil }
            let chunk = Array(body[start..<end])
            guard let sep = find(Array("\r\n\r\n".utf8), in: chunk) else { return nil }
            let head = String(decoding: chunk[..<sep], as: UTF8.self)
            let data = Array(chunk[(sep + 4)...])
            guard let name = attribute("name", in: head) else { return nil }
            parts.append(Part(name: name, filename: attribute("filename", in: head), data: data))
        }
        return parts
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<i + needle.count]) == needle { return i }
        return nil
    }

    static func attribute(_ key: String, in head: String) -> String? {
        guard let r = head.range(of: " \(key)=\"") ?? head.range(of: ";\(key)=\"") else { return nil }
        let rest = head[r.upperBound...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }
}
