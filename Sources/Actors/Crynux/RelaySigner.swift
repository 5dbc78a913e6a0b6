import ProofsFFI

/// Signs node requests the way the Crynux relay verifies them (spec crynux.md 5.3, relay
/// `validate_signature.go`): Go-marshalled sorted compact JSON of the input, then the decimal
/// Unix timestamp, keccak256, secp256k1 with recovery byte 0/1, sent as `0x` + hex(r||s||v).
public struct RelaySigner: Sendable {
    public let key: Secp256k1PrivateKey
    /// The node's address as Ethereum derives it from the key.
    public let address: EthereumAddress

    public init(key: Secp256k1PrivateKey) {
        self.key = key
        self.address = key.publicKey.ethereumAddress
    }

    /// The exact bytes hashed for `input` at `timestamp`.
    public static func message(_ input: [String: JSONValue], timestamp: Int64) -> [UInt8] {
        GoJSON.marshal(.object(input)) + Array(String(timestamp).utf8)
    }

    /// `0x`-prefixed hex signature of `input` at `timestamp`.
    public func sign(_ input: [String: JSONValue], timestamp: Int64) throws(Secp256k1Error) -> String {
        let digest = Keccak256.hash(Self.message(input, timestamp: timestamp))
        return "0x" + Hex.encode(try key.sign(digest: digest).bytes)
    }

    /// The address that signed `input` at `timestamp`, or why none can be recovered.
    public static func recover(_ input: [String: JSONValue], timestamp: Int64, signature: String) -> Result<EthereumAddress, RelaySignatureError> {
        guard signature.hasPrefix("0x"), let bytes = Hex.decode(String(signature.dropFirst(2))) else { return .failure(.malformed) }
        let digest = Keccak256.hash(message(input, timestamp: timestamp))
        do {
            let sig = try RecoverableSignature(bytes: bytes)
            return .success(try sig.recoverPublicKey(digest: digest).ethereumAddress)
        } catch {
            return .failure(.unrecoverable)
        }
    }
}

/// Why a relay signature is refused.
public enum RelaySignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed, unrecoverable, expired(skew: Int64), wrongSigner(String)
    public var description: String {
        switch self {
        case .malformed: "signature is not 0x-prefixed hex"
        case .unrecoverable: "no public key recovers from the signature"
        case let .expired(skew): "timestamp is \(skew) s from the relay's clock (limit 60 s)"
        case let .wrongSigner(a): "signed by \(a), not the node"
        }
    }
}

/// Lowercase hex without prefix.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let d = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(d[Int(b >> 4)]); out.append(d[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    /// Decodes hex (no prefix); nil on odd length or non-hex characters.
    public static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let a = v(u[i]), let b = v(u[i + 1]) else { return nil }
            out.append(a << 4 | b)
            i += 2
        }
        return out
    }
    /// `0x` + lowercase hex, as go-ethereum's `hexutil.Encode`.
    public static func prefixed(_ bytes: [UInt8]) -> String { "0x" + encode(bytes) }
}

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
