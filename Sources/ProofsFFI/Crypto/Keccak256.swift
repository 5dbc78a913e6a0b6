/// Keccak-256 as Ethereum uses it: Keccak[c = 512] with the original padding byte 0x01, not
/// FIPS 202 SHA3-256's 0x06 (so Keccak-256("") = c5d24601...). Inputs are public (request
/// bodies, public keys), so the byte-oriented absorb needs no constant-time care.
public enum Keccak256 {
    /// Bytes absorbed per permutation: (1600 - 2 * 256) / 8.
    static let rate = 136

    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    /// Rotation offsets of lane x + 5y (the rho step).
    private static let rotations: [UInt64] = [
        0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
    ]
    /// Destination of lane x + 5y in the pi step: y + 5 * ((2x + 3y) mod 5).
    private static let piDestination: [Int] = (0..<25).map { i in
        let (x, y) = (i % 5, i / 5)
        return y + 5 * ((2 * x + 3 * y) % 5)
    }

    /// The 32-byte Keccak-256 digest of `data`.
    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var message = Array(data)
        // Multi-rate padding with Keccak's domain byte: 0x01 ... 0x80 (0x81 when one byte is left).
        let padLength = rate - message.count % rate
        message.append(contentsOf: [UInt8](repeating: 0, count: padLength))
        message[message.count - padLength] ^= 0x01
        message[message.count - 1] ^= 0x80
        var state = [UInt64](repeating: 0, count: 25)
        for block in stride(from: 0, to: message.count, by: rate) {
            for lane in 0..<(rate / 8) {
                var value: UInt64 = 0
                for byte in 0..<8 { value |= UInt64(message[block + lane * 8 + byte]) << UInt64(8 * byte) }
                state[lane] ^= value
            }
            permute(&state)
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for lane in 0..<4 {
            for byte in 0..<8 { digest.append(UInt8(truncatingIfNeeded: state[lane] >> UInt64(8 * byte))) }
        }
        return digest
    }

    /// Keccak-f[1600]: 24 rounds of theta, rho, pi, chi, iota over lanes indexed x + 5y.
    static func permute(_ a: inout [UInt64]) {
        var c = [UInt64](repeating: 0, count: 5)
        var b = [UInt64](repeating: 0, count: 25)
        for round in 0..<24 {
            for x in 0..<5 { c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ rotateLeft(c[(x + 1) % 5], 1)
                for y in stride(from: 0, to: 25, by: 5) { a[x + y] ^= d }
            }
            for i in 0..<25 { b[piDestination[i]] = rotateLeft(a[i], rotations[i]) }
            for y in stride(from: 0, to: 25, by: 5) {
                for x in 0..<5 { a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]) }
            }
            a[0] ^= roundConstants[round]
        }
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 {
        // Smart shifts: a shift by 64 gives 0, so count 0 is the identity.
        value << count | value >> (64 - count)
    }
}
