/// An Ethereum-style secp256k1 signature r || s || v (65 bytes): low s, and the recovery id
/// v in {0, 1} that lets a verifier recover the signer's public key, as go-ethereum's
/// `crypto.Sign` produces and `crypto.Ecrecover` consumes.
public struct RecoverableSignature: Sendable, Hashable {
    let rScalar: Secp256k1Scalar
    let sScalar: Secp256k1Scalar
    /// 0 or 1: the parity of the y coordinate of the nonce point R.
    public let recoveryID: UInt8

    init(r: Secp256k1Scalar, s: Secp256k1Scalar, recoveryID: UInt8) {
        (rScalar, sScalar, self.recoveryID) = (r, s, recoveryID)
    }

    /// 65 bytes r || s || v. r and s must be in 1..n-1 and s at most n/2 (high s is refused, not
    /// normalised: EIP-2 malleability, and our signer never makes one); v may be 0/1 or 27/28.
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 65,
            let r = Secp256k1Scalar(bigEndian: bytes[0..<32]), r.isZeroBit == 0,
            let s = Secp256k1Scalar(bigEndian: bytes[32..<64]), s.isZeroBit == 0, s.isHighBit == 0
        else { throw .invalidSignature }
        let v = bytes[64]
        switch v {
        case 0, 1: recoveryID = v
        case 27, 28: recoveryID = v - 27
        default: throw .invalidSignature
        }
        (rScalar, sScalar) = (r, s)
    }

    /// r || s || v with v in {0, 1}.
    public var bytes: [UInt8] { r + s + [recoveryID] }
    /// r, 32 big-endian bytes.
    public var r: [UInt8] { rScalar.bigEndianBytes }
    /// s, 32 big-endian bytes (at most n/2).
    public var s: [UInt8] { sScalar.bigEndianBytes }

    /// The public key whose signature over the 32-byte `digest` this is (Q = r^-1 (sR - zG), R
    /// the point with x = r and y parity v). Public data: not constant time, not needed to be.
    public func recoverPublicKey(digest: [UInt8]) throws(Secp256k1Error) -> Secp256k1PublicKey {
        guard digest.count == 32 else { throw .invalidDigest }
        // r < n < p, so r is a valid x coordinate candidate (v 2/3, x = r + n, is not Ethereum's).
        guard let nonce = Secp256k1Point.lift(x: Secp256k1Field(reduced: rScalar.limbs), odd: recoveryID == 1) else {
            throw .recoveryFailed
        }
        let z = Secp256k1Scalar(reducing: digest[...])
        let rInverse = rScalar.inverse
        let q = Secp256k1Point.multiplyGenerator(-(z * rInverse)) + nonce.multiplied(by: sScalar * rInverse)
        guard q.isInfinityBit == 0 else { throw .recoveryFailed }
        let (x, y) = q.affine
        return Secp256k1PublicKey(x: x, y: y)
    }
}
