/// An integer modulo secp256k1's group order n, kept fully reduced in four 64-bit limbs: private
/// keys, nonces, r and s. Multiplication is Montgomery's (CIOS) with a masked final subtraction and
/// inversion is Fermat's with the fixed exponent n - 2, so no operation branches on a value.
struct Secp256k1Scalar: Sendable, Hashable {
    var limbs: UInt256Limbs

    static let order = UInt256Limbs(0xBFD2_5E8C_D036_4141, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF)
    /// floor(n / 2): an s above it is "high" (EIP-2, libsecp256k1's low-s rule).
    static let halfOrder = UInt256Limbs(0xDFE9_2F46_681B_20A0, 0x5D57_6E73_57A4_501D, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF)
    /// 2^512 mod n, which takes a Montgomery product back to the plain product.
    private static let montgomeryR2 = UInt256Limbs(0x896C_F214_67D7_D140, 0x7414_96C2_0E7C_F878, 0xE697_F5E4_5BCD_07C6, 0x9D67_1CD5_81C6_9BC5)
    /// -n^-1 mod 2^64.
    private static let montgomeryN0: UInt64 = 0x4B0D_FF66_5588_B13F
    static let zero = Secp256k1Scalar(reduced: .zero)
    static let one = Secp256k1Scalar(reduced: UInt256Limbs(1, 0, 0, 0))

    /// Wraps limbs already known to be below n.
    init(reduced limbs: UInt256Limbs) { self.limbs = limbs }

    /// Parses 32 big-endian bytes; nil when the value is not below n.
    init?(bigEndian bytes: ArraySlice<UInt8>) {
        let value = UInt256Limbs(bigEndian: bytes)
        guard value.lessThanBit(Self.order) == 1 else { return nil }
        self.limbs = value
    }

    /// 32 big-endian bytes reduced modulo n (any 256-bit value is below 2n: one masked subtraction).
    init(reducing bytes: ArraySlice<UInt8>) {
        let value = UInt256Limbs(bigEndian: bytes)
        let (difference, borrow) = value.subtracting(Self.order)
        self.limbs = .select(ctMask(borrow), value, difference)
    }

    var bigEndianBytes: [UInt8] { limbs.bigEndianBytes }
    var isZeroBit: UInt64 { limbs.isZeroBit }
    /// 1 when the value is above n / 2.
    var isHighBit: UInt64 { Self.halfOrder.lessThanBit(limbs) }

    static func + (a: Secp256k1Scalar, b: Secp256k1Scalar) -> Secp256k1Scalar {
        let (sum, carry) = a.limbs.adding(b.limbs)
        let (difference, borrow) = sum.subtracting(order)
        // Keep the sum only when it did not overflow and is below n.
        return Secp256k1Scalar(reduced: .select(ctMask(borrow & (carry ^ 1)), sum, difference))
    }

    static func - (a: Secp256k1Scalar, b: Secp256k1Scalar) -> Secp256k1Scalar {
        let (difference, borrow) = a.limbs.subtracting(b.limbs)
        let (fixed, _) = difference.adding(order.masked(ctMask(borrow)))
        return Secp256k1Scalar(reduced: fixed)
    }

    static prefix func - (a: Secp256k1Scalar) -> Secp256k1Scalar { zero - a }

    static func * (a: Secp256k1Scalar, b: Secp256k1Scalar) -> Secp256k1Scalar {
        // mont(a, b) = a b R^-1; mont(that, R^2) = a b.
        Secp256k1Scalar(reduced: montgomeryProduct(montgomeryProduct(a.limbs, b.limbs), montgomeryR2))
    }

    /// a * b * 2^-256 mod n for a, b below n (CIOS, one masked final subtraction).
    private static func montgomeryProduct(_ a: UInt256Limbs, _ b: UInt256Limbs) -> UInt256Limbs {
        let n = order
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0, t4: UInt64 = 0
        for i in 0..<4 {
            let bi = b[i]
            var carry: UInt64
            var t5: UInt64
            (carry, t0) = ctMulAdd(a.w0, bi, t0, 0)
            (carry, t1) = ctMulAdd(a.w1, bi, t1, carry)
            (carry, t2) = ctMulAdd(a.w2, bi, t2, carry)
            (carry, t3) = ctMulAdd(a.w3, bi, t3, carry)
            (t4, t5) = ctAdd(t4, carry, 0)
            let m = t0 &* montgomeryN0
            (carry, _) = ctMulAdd(m, n.w0, t0, 0)
            (carry, t0) = ctMulAdd(m, n.w1, t1, carry)
            (carry, t1) = ctMulAdd(m, n.w2, t2, carry)
            (carry, t2) = ctMulAdd(m, n.w3, t3, carry)
            let k: UInt64
            (t3, k) = ctAdd(t4, carry, 0)
            t4 = t5 &+ k
        }
        // The result t4:t3..t0 is below 2n: subtract n when t4 is set or t3..t0 >= n.
        let value = UInt256Limbs(t0, t1, t2, t3)
        let (difference, borrow) = value.subtracting(n)
        return .select(ctMask(t4 | (borrow ^ 1)), difference, value)
    }

    /// The inverse by Fermat (self^(n-2)), square-and-multiply over the public exponent's bits;
    /// zero maps to zero.
    var inverse: Secp256k1Scalar {
        let exponent = UInt256Limbs(0xBFD2_5E8C_D036_413F, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF)
        var result = Secp256k1Scalar.one
        for i in stride(from: 255, through: 0, by: -1) {
            result = result * result
            if exponent.bit(i) == 1 { result = result * self }
        }
        return result
    }

    /// `a` where `mask` is all ones, `b` where it is zero.
    static func select(_ mask: UInt64, _ a: Secp256k1Scalar, _ b: Secp256k1Scalar) -> Secp256k1Scalar {
        Secp256k1Scalar(reduced: .select(mask, a.limbs, b.limbs))
    }
}
