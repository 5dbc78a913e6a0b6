/// A 256-bit unsigned integer as four 64-bit little-endian limbs, with the constant-time building
/// blocks (carries, borrows, masks, selects) that the secp256k1 field and scalar arithmetic use.
/// Carries are computed with bitwise formulas, never with `Bool`s, so no secret reaches a branch.
struct UInt256Limbs: Sendable, Hashable {
    var w0: UInt64
    var w1: UInt64
    var w2: UInt64
    var w3: UInt64

    init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    static let zero = UInt256Limbs(0, 0, 0, 0)

    /// Reads 32 big-endian bytes (the caller checks the count).
    init(bigEndian bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 32, "UInt256Limbs needs 32 bytes")
        var limbs: [UInt64] = [0, 0, 0, 0]
        var index = bytes.startIndex
        for limb in (0..<4).reversed() {
            var value: UInt64 = 0
            for _ in 0..<8 {
                value = value << 8 | UInt64(bytes[index])
                index += 1
            }
            limbs[limb] = value
        }
        self.init(limbs[0], limbs[1], limbs[2], limbs[3])
    }

    /// The 32 big-endian bytes.
    var bigEndianBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for limb in [w3, w2, w1, w0] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        return out
    }

    /// Limb `i` (0 = least significant); `i` is always a public loop index.
    subscript(i: Int) -> UInt64 {
        switch i {
        case 0: w0
        case 1: w1
        case 2: w2
        default: w3
        }
    }

    /// Bit `i` (0 = least significant); `i` is public, the result may be secret.
    func bit(_ i: Int) -> UInt64 { (self[i >> 6] >> UInt64(i & 63)) & 1 }

    /// The 4-bit window starting at bit `4 * i`.
    func nibble(_ i: Int) -> UInt64 { (self[i >> 4] >> UInt64((i & 15) * 4)) & 0xF }

    /// `self + other` modulo 2^256 and the carry out (0 or 1).
    func adding(_ other: UInt256Limbs) -> (sum: UInt256Limbs, carry: UInt64) {
        let (s0, c0) = ctAdd(w0, other.w0, 0)
        let (s1, c1) = ctAdd(w1, other.w1, c0)
        let (s2, c2) = ctAdd(w2, other.w2, c1)
        let (s3, c3) = ctAdd(w3, other.w3, c2)
        return (UInt256Limbs(s0, s1, s2, s3), c3)
    }

    /// `self - other` modulo 2^256 and the borrow out (0 or 1).
    func subtracting(_ other: UInt256Limbs) -> (difference: UInt256Limbs, borrow: UInt64) {
        let (d0, b0) = ctSub(w0, other.w0, 0)
        let (d1, b1) = ctSub(w1, other.w1, b0)
        let (d2, b2) = ctSub(w2, other.w2, b1)
        let (d3, b3) = ctSub(w3, other.w3, b2)
        return (UInt256Limbs(d0, d1, d2, d3), b3)
    }

    /// Each limb ANDed with `mask` (all ones or all zeros).
    func masked(_ mask: UInt64) -> UInt256Limbs { UInt256Limbs(w0 & mask, w1 & mask, w2 & mask, w3 & mask) }

    /// `a` where `mask` is all ones, `b` where it is zero, without a branch.
    static func select(_ mask: UInt64, _ a: UInt256Limbs, _ b: UInt256Limbs) -> UInt256Limbs {
        UInt256Limbs(
            (a.w0 & mask) | (b.w0 & ~mask), (a.w1 & mask) | (b.w1 & ~mask),
            (a.w2 & mask) | (b.w2 & ~mask), (a.w3 & mask) | (b.w3 & ~mask))
    }

    /// 1 when every limb is zero, else 0, without a branch.
    var isZeroBit: UInt64 { ctIsZero(w0 | w1 | w2 | w3) }

    /// 1 when `self == other`, else 0, without a branch.
    func equalBit(_ other: UInt256Limbs) -> UInt64 {
        ctIsZero((w0 ^ other.w0) | (w1 ^ other.w1) | (w2 ^ other.w2) | (w3 ^ other.w3))
    }

    /// 1 when `self < other`, else 0 (the borrow of the subtraction), without a branch.
    func lessThanBit(_ other: UInt256Limbs) -> UInt64 { subtracting(other).borrow }
}

/// `a + b + carryIn` (carryIn 0 or 1) and its carry out, by bit formulas.
@inline(__always)
func ctAdd(_ a: UInt64, _ b: UInt64, _ carryIn: UInt64) -> (UInt64, UInt64) {
    let s = a &+ b &+ carryIn
    let carry = ((a & b) | ((a | b) & ~s)) >> 63
    return (s, carry)
}

/// `a - b - borrowIn` (borrowIn 0 or 1) and its borrow out, by bit formulas.
@inline(__always)
func ctSub(_ a: UInt64, _ b: UInt64, _ borrowIn: UInt64) -> (UInt64, UInt64) {
    let d = a &- b &- borrowIn
    let borrow = ((~a & b) | (~(a ^ b) & d)) >> 63
    return (d, borrow)
}

/// 1 when `x == 0`, else 0, without a branch.
@inline(__always)
func ctIsZero(_ x: UInt64) -> UInt64 { ((x | (0 &- x)) >> 63) ^ 1 }

/// All ones when `bit` is 1, zero when it is 0.
@inline(__always)
func ctMask(_ bit: UInt64) -> UInt64 { 0 &- bit }

/// `a * b + c + d` as (high, low): it never overflows 128 bits.
@inline(__always)
func ctMulAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
    let (high, low) = a.multipliedFullWidth(by: b)
    let (l1, c1) = ctAdd(low, c, 0)
    let (l2, c2) = ctAdd(l1, d, 0)
    return (high &+ c1 &+ c2, l2)
}
