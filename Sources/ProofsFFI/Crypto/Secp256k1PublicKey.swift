/// A secp256k1 public key (a point on the curve, never infinity), held as its 65-byte
/// uncompressed encoding 0x04 || X || Y.
public struct Secp256k1PublicKey: Sendable, Hashable {
    /// 0x04 || X || Y, 65 bytes.
    public let uncompressed: [UInt8]

    /// 65 bytes 0x04 || X || Y with X, Y below p and the point on the curve.
    public init(uncompressed: [UInt8]) throws(Secp256k1Error) {
        guard uncompressed.count == 65, uncompressed[0] == 0x04,
            let x = Secp256k1Field(bigEndian: uncompressed[1..<33]),
            let y = Secp256k1Field(bigEndian: uncompressed[33..<65]),
            Secp256k1Point.isOnCurve(x: x, y: y)
        else { throw .invalidPublicKey }
        self.uncompressed = uncompressed
    }

    /// From affine coordinates known to be on the curve.
    init(x: Secp256k1Field, y: Secp256k1Field) {
        uncompressed = [0x04] + x.bigEndianBytes + y.bigEndianBytes
    }

    var point: Secp256k1Point {
        // `uncompressed` was validated at initialisation.
        Secp256k1Point(
            affineX: Secp256k1Field(reduced: UInt256Limbs(bigEndian: uncompressed[1..<33])),
            y: Secp256k1Field(reduced: UInt256Limbs(bigEndian: uncompressed[33..<65])))
    }

    /// The Ethereum address: the last 20 bytes of Keccak-256(X || Y).
    public var ethereumAddress: EthereumAddress {
        EthereumAddress(validated: Array(Keccak256.hash(uncompressed[1...]).suffix(20)))
    }

    /// Whether `signature` over `digest` was made by this key (go-ethereum's VerifySignature
    /// rules: low s only; the recovery id is not consulted).
    public func isValidSignature(_ signature: RecoverableSignature, digest: [UInt8]) -> Bool {
        guard digest.count == 32 else { return false }
        let z = Secp256k1Scalar(reducing: digest[...])
        let w = signature.sScalar.inverse
        let sum = Secp256k1Point.multiplyGenerator(z * w) + point.multiplied(by: signature.rScalar * w)
        guard sum.isInfinityBit == 0 else { return false }
        let x = sum.affine.x
        return Secp256k1Scalar(reducing: x.bigEndianBytes[...]) == signature.rScalar
    }
}
