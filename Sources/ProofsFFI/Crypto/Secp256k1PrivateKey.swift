/// A secp256k1 private key (a scalar in 1..n-1), signing 32-byte digests the way go-ethereum's
/// `crypto.Sign` does: RFC 6979 nonce, low-s, recovery id 0/1. Key derivation and signing run in
/// constant time (their only value-dependent branches are on events of probability about 2^-128).
public struct Secp256k1PrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let scalar: Secp256k1Scalar
    /// The public key, derived once at initialisation.
    public let publicKey: Secp256k1PublicKey

    /// 32 big-endian bytes in 1..n-1.
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 32, let scalar = Secp256k1Scalar(bigEndian: bytes[...]), scalar.isZeroBit == 0 else {
            throw .invalidPrivateKey
        }
        self.scalar = scalar
        let (x, y) = Secp256k1Point.multiplyGenerator(scalar).affine
        publicKey = Secp256k1PublicKey(x: x, y: y)
    }

    /// 64 hex digits, optionally 0x-prefixed, surrounding whitespace and newlines ignored (as in
    /// go-ethereum's key files).
    public init(hex: String) throws(Secp256k1Error) {
        let trimmed = hex.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        guard let bytes = Hex.decodeSecret32(Substring(String(trimmed))) else { throw .invalidPrivateKey }
        try self.init(bytes: bytes)
    }

    /// Signs a 32-byte digest: k from RFC 6979, r = (kG).x mod n, s = k^-1 (z + r d) mod n,
    /// s replaced by n - s when high (flipping the recovery id), as libsecp256k1 does.
    public func sign(digest: [UInt8]) throws(Secp256k1Error) -> RecoverableSignature {
        guard digest.count == 32 else { throw .invalidDigest }
        let z = Secp256k1Scalar(reducing: digest[...])
        var nonces = RFC6979(privateKey: scalar.bigEndianBytes, digest: digest)
        while true {
            let k = nonces.next()
            let (x, y) = Secp256k1Point.multiplyGenerator(k).affine
            // r = x mod n; x >= n (probability about 2^-128) would need recovery id 2 or 3,
            // which Ethereum's v cannot carry: such a nonce is skipped like a zero r or s.
            let xLimbs = x.limbs
            let xOverflowBit = xLimbs.lessThanBit(Secp256k1Scalar.order) ^ 1
            let r = Secp256k1Scalar(reducing: xLimbs.bigEndianBytes[...])
            var s = k.inverse * (z + r * scalar)
            var recoveryID = UInt8(truncatingIfNeeded: y.isOddBit)
            let high = s.isHighBit
            s = Secp256k1Scalar.select(ctMask(high), -s, s)
            recoveryID ^= UInt8(truncatingIfNeeded: high)
            if xOverflowBit == 1 || r.isZeroBit == 1 || s.isZeroBit == 1 { continue }
            return RecoverableSignature(r: r, s: s, recoveryID: recoveryID)
        }
    }

    /// Never the key itself, so a key interpolated into a log line stays secret.
    public var description: String { "Secp256k1PrivateKey(<redacted>)" }
    public var debugDescription: String { description }
}
