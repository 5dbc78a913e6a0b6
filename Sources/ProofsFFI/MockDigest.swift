/// A small deterministic 32-byte digest for the mock prover: the same inputs give the same bytes
/// on every run and every machine (unlike `Hasher`, which is seeded per process).
///
/// Not cryptographic; it only has to make mock commitments and proofs depend on their inputs.
public enum MockDigest {
    public static func digest(_ parts: [[UInt8]]) -> [UInt8] {
        var lanes: [UInt64] = [0xcbf2_9ce4_8422_2325, 0x9e37_79b9_7f4a_7c15, 0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b]
        for (index, part) in parts.enumerated() {
            absorb(&lanes, UInt64(index) &+ 0x51)
            absorb(&lanes, UInt64(part.count))
            for byte in part { absorb(&lanes, UInt64(byte)) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for lane in lanes {
            var x = mix(lane)
            for _ in 0..<8 {
                out.append(UInt8(truncatingIfNeeded: x))
                x >>= 8
            }
        }
        return out
    }

    public static func digest(_ strings: String...) -> [UInt8] {
        digest(strings.map { Array($0.utf8) })
    }

    private static func absorb(_ lanes: inout [UInt64], _ value: UInt64) {
        for i in lanes.indices {
            lanes[i] = (lanes[i] ^ (value &+ UInt64(i))) &* 0x0000_0100_0000_01b3
            lanes[i] = lanes[i] ^ (lanes[(i + 1) % lanes.count] >> 29)
        }
    }

    /// splitmix64 finaliser: spreads a counter into well-mixed bits.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
