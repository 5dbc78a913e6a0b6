// TEMPORARY PLACEHOLDER (helper "crynux"): NOT CRYPTOGRAPHY. Stands in for helper "crypto"'s
// Keccak-256 / secp256k1 / Ethereum address (branch h-crypto) with the same API so the Crynux
// code compiles and its tests run. "Keccak" is SHA-256 here and a "signature" is forgeable by
// anyone who knows the public key. The integrator deletes this file when h-crypto is merged.

/// PLACEHOLDER: SHA-256, not Keccak-256.
public enum Keccak256 {
    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 { SHA256.hash(Array(data)) }
}

public enum Secp256k1Error: Error, Equatable, Sendable { case invalidPrivateKey, invalidSignature, invalidDigest, invalidPublicKey, recoveryFailed }

/// PLACEHOLDER key: public key x = sha256(private), y = sha256(x).
public struct Secp256k1PrivateKey: Sendable {
    let bytes: [UInt8]
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 32, bytes.contains(where: { $0 != 0 }) else { throw .invalidPrivateKey }
        self.bytes = bytes
    }
    public init(hex: String) throws(Secp256k1Error) {
        guard let b = PlaceholderHex.decode(hex) else { throw .invalidPrivateKey }
        try self.init(bytes: b)
    }
    public var publicKey: Secp256k1PublicKey {
        let x = SHA256.hash(bytes)
        return Secp256k1PublicKey(raw: [0x04] + x + SHA256.hash(x))
    }
    public func sign(digest: [UInt8]) throws(Secp256k1Error) -> RecoverableSignature {
        guard digest.count == 32 else { throw .invalidDigest }
        let x = Array(publicKey.uncompressed[1..<33])
        return RecoverableSignature(raw: x + SHA256.hash(x + digest) + [0])
    }
}

public struct Secp256k1PublicKey: Sendable, Hashable {
    public let uncompressed: [UInt8]
    init(raw: [UInt8]) { uncompressed = raw }
    public init(uncompressed: [UInt8]) throws(Secp256k1Error) {
        guard uncompressed.count == 65, uncompressed[0] == 4 else { throw .invalidPublicKey }
        self.uncompressed = uncompressed
    }
    public var ethereumAddress: EthereumAddress {
        EthereumAddress(raw: Array(Keccak256.hash(uncompressed[1...]).suffix(20)))
    }
}

public struct RecoverableSignature: Sendable, Hashable {
    public let bytes: [UInt8]
    init(raw: [UInt8]) { bytes = raw }
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 65, bytes[64] <= 1 else { throw .invalidSignature }
        self.bytes = bytes
    }
    public var r: [UInt8] { Array(bytes[0..<32]) }
    public var s: [UInt8] { Array(bytes[32..<64]) }
    public var recoveryID: UInt8 { bytes[64] }
    public func recoverPublicKey(digest: [UInt8]) throws(Secp256k1Error) -> Secp256k1PublicKey {
        guard digest.count == 32 else { throw .invalidDigest }
        guard SHA256.hash(r + digest) == s else { throw .recoveryFailed }
        return Secp256k1PublicKey(raw: [0x04] + r + SHA256.hash(r))
    }
}

public struct EthereumAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]
    init(raw: [UInt8]) { bytes = raw }
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 20 else { throw .invalidPublicKey }
        self.bytes = bytes
    }
    public init(hex: String) throws(Secp256k1Error) {
        guard let b = PlaceholderHex.decode(hex) else { throw .invalidPublicKey }
        try self.init(bytes: b)
    }
    public var lowercaseHex: String { "0x" + PlaceholderHex.encode(bytes) }
    /// EIP-55 mixed case (with the placeholder hash).
    public var description: String {
        let lower = PlaceholderHex.encode(bytes)
        let h = Keccak256.hash(Array(lower.utf8))
        var out = "0x"
        for (i, c) in lower.enumerated() {
            let nibble = (h[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xF
            out.append(c.isLetter && nibble >= 8 ? Character(c.uppercased()) : c)
        }
        return out
    }
}

enum PlaceholderHex {
    static func encode(_ b: [UInt8]) -> String {
        let d = Array("0123456789abcdef")
        return String(b.flatMap { [d[Int($0 >> 4)], d[Int($0 & 15)]] })
    }
    static func decode(_ text: String) -> [UInt8]? {
        var s = Substring(text)
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        guard s.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var it = s.makeIterator()
        while let a = it.next(), let b = it.next() {
            guard let x = a.hexDigitValue, let y = b.hexDigitValue else { return nil }
            out.append(UInt8(x * 16 + y))
        }
        return out
    }
}
