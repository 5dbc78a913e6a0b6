/// Deterministic ECDSA nonces (RFC 6979, section 3.2) for secp256k1 with HMAC-SHA256, as
/// libsecp256k1's default nonce function (and so go-ethereum) derives them. `next()` yields the
/// candidates k in order; a signer that must reject a k (r or s zero) asks for the next one, which
/// is libsecp256k1's retry with a counter.
struct RFC6979 {
    private var k: [UInt8]
    private var v: [UInt8]
    private var first = true

    /// `privateKey` and `digest` are 32 big-endian bytes each; the digest is reduced modulo n
    /// first (bits2octets).
    init(privateKey: [UInt8], digest: [UInt8]) {
        let h1 = Secp256k1Scalar(reducing: digest[...]).bigEndianBytes
        v = [UInt8](repeating: 0x01, count: 32)
        k = [UInt8](repeating: 0x00, count: 32)
        k = HMACSHA256.authenticate(key: k, message: v + [0x00] + privateKey + h1)
        v = HMACSHA256.authenticate(key: k, message: v)
        k = HMACSHA256.authenticate(key: k, message: v + [0x01] + privateKey + h1)
        v = HMACSHA256.authenticate(key: k, message: v)
    }

    /// The next candidate nonce in 1..n-1 (step h; out-of-range values, probability about
    /// 2^-128, are skipped as the RFC says).
    mutating func next() -> Secp256k1Scalar {
        while true {
            if !first {
                k = HMACSHA256.authenticate(key: k, message: v + [0x00])
                v = HMACSHA256.authenticate(key: k, message: v)
            }
            first = false
            v = HMACSHA256.authenticate(key: k, message: v)
            // qlen = hlen = 256: bits2int(V) is V itself.
            if let candidate = Secp256k1Scalar(bigEndian: v[...]), candidate.isZeroBit == 0 { return candidate }
        }
    }
}
