/// Why a secp256k1 key, signature or digest was refused. Cases carry no key material, so they
/// can be logged.
public enum Secp256k1Error: Error, Equatable, Sendable {
    /// Not 32 bytes (64 hex digits), not hex, zero, or not below the group order n.
    case invalidPrivateKey
    /// Not 65 bytes, r or s outside 1..n-1, s above n/2 (malleable), or v not 0, 1, 27 or 28.
    case invalidSignature
    /// The digest to sign or recover from is not 32 bytes.
    case invalidDigest
    /// Not 65 bytes 0x04 || X || Y of a point on the curve (also: an address not 20 bytes).
    case invalidPublicKey
    /// No public key results from this signature and digest.
    case recoveryFailed
}
