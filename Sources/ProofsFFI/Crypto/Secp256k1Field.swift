/// An element of secp256k1's base field, integers modulo p = 2^256 - 2^32 - 977, kept fully
/// reduced in four 64-bit limbs. Every operation runs the same instructions whatever the values
/// (reductions by masks, inversion by Fermat with the fixed exponent p - 2), so secrets are safe.
struct Secp256k1Field: Sendable, Equatable {
    var limbs: UInt256Limbs

    /// 2^256 - p: reducing modulo p folds the high half in multiplied by this.
    static let foldConstant: UInt64 = 0x1_0000_03D1
    static let modulus = UInt256Limbs(0xFFFF_FFFE_FFFF_FC2F, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF)
    static let zero = Secp256k1Field(reduced: .zero)
    static let one = Secp256k1Field(reduced: UInt256Limbs(1, 0, 0, 0))
    /// The curve's b (y^2 = x^3 + 7) and 3b, which the complete addition formulas use.
    static let b = Secp256k1Field(reduced: UInt256Limbs(7, 0, 0, 0))
    static let b3 = Secp256k1Field(reduced: UInt256Limbs(21, 0, 0, 0))

    /// Wraps limbs already known to be below p.
    init(reduced limbs: UInt256Limbs) { self.limbs = limbs }

    /// Parses 32 big-endian bytes; nil when the value is not below p (public input only).
    init?(bigEndian bytes: ArraySlice<UInt8>) {
        let value = UInt256Limbs(bigEndian: bytes)
        guard value.lessThanBit(Self.modulus) == 1 else { return nil }
        self.limbs = value
    }

    var bigEndianBytes: [UInt8] { limbs.bigEndianBytes }
    var isZeroBit: UInt64 { limbs.isZeroBit }
    var isOddBit: UInt64 { limbs.w0 & 1 }

    /// Reduces a value below 2^256 once: subtracts p when it is at least p.
    private static func reduceOnce(_ value: UInt256Limbs) -> Secp256k1Field {
        let (plusC, carry) = value.adding(UInt256Limbs(foldConstant, 0, 0, 0))
        return Secp256k1Field(reduced: .select(ctMask(carry), plusC, value))
    }

    static func + (a: Secp256k1Field, b: Secp256k1Field) -> Secp256k1Field {
        let (sum, carry) = a.limbs.adding(b.limbs)
        let (plusC, carry2) = sum.adding(UInt256Limbs(foldConstant, 0, 0, 0))
        return Secp256k1Field(reduced: .select(ctMask(carry | carry2), plusC, sum))
    }

    static func - (a: Secp256k1Field, b: Secp256k1Field) -> Secp256k1Field {
        let (difference, borrow) = a.limbs.subtracting(b.limbs)
        // Adding p modulo 2^256 is subtracting 2^256 - p.
        let (fixed, _) = difference.subtracting(UInt256Limbs(foldConstant & ctMask(borrow), 0, 0, 0))
        return Secp256k1Field(reduced: fixed)
    }

    static prefix func - (a: Secp256k1Field) -> Secp256k1Field { zero - a }

    static func * (a: Secp256k1Field, b: Secp256k1Field) -> Secp256k1Field {
        let x = a.limbs
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        var t4: UInt64 = 0, t5: UInt64 = 0, t6: UInt64 = 0, t7: UInt64 = 0
        t4 = mulRow(x, b.limbs.w0, &t0, &t1, &t2, &t3)
        t5 = mulRow(x, b.limbs.w1, &t1, &t2, &t3, &t4)
        t6 = mulRow(x, b.limbs.w2, &t2, &t3, &t4, &t5)
        t7 = mulRow(x, b.limbs.w3, &t3, &t4, &t5, &t6)
        // 2^256 = C (mod p): low + high * C, at most 2^290.
        let c = foldConstant
        var carry: UInt64
        var u0: UInt64, u1: UInt64, u2: UInt64, u3: UInt64
        (carry, u0) = ctMulAdd(t4, c, t0, 0)
        (carry, u1) = ctMulAdd(t5, c, t1, carry)
        (carry, u2) = ctMulAdd(t6, c, t2, carry)
        (carry, u3) = ctMulAdd(t7, c, t3, carry)
        // Fold the top limb (below 2^34) again.
        let (high, low) = carry.multipliedFullWidth(by: c)
        let (v0, k0) = ctAdd(u0, low, 0)
        let (v1, k1) = ctAdd(u1, high, k0)
        let (v2, k2) = ctAdd(u2, 0, k1)
        let (v3, k3) = ctAdd(u3, 0, k2)
        // A last carry out leaves a small value: adding C once more cannot carry again.
        let (w, _) = UInt256Limbs(v0, v1, v2, v3).adding(UInt256Limbs(c & ctMask(k3), 0, 0, 0))
        return reduceOnce(w)
    }

    /// `x * y` added into four accumulator limbs; returns the limb carried out above them.
    @inline(__always)
    private static func mulRow(
        _ x: UInt256Limbs, _ y: UInt64,
        _ a0: inout UInt64, _ a1: inout UInt64, _ a2: inout UInt64, _ a3: inout UInt64
    ) -> UInt64 {
        var carry: UInt64
        (carry, a0) = ctMulAdd(x.w0, y, a0, 0)
        (carry, a1) = ctMulAdd(x.w1, y, a1, carry)
        (carry, a2) = ctMulAdd(x.w2, y, a2, carry)
        (carry, a3) = ctMulAdd(x.w3, y, a3, carry)
        return carry
    }

    var squared: Secp256k1Field { self * self }

    /// `self` to a public exponent, square-and-multiply from the top bit: the sequence of
    /// operations depends only on the exponent, never on `self`.
    func power(_ exponent: UInt256Limbs) -> Secp256k1Field {
        var result = Secp256k1Field.one
        for i in stride(from: 255, through: 0, by: -1) {
            result = result.squared
            if exponent.bit(i) == 1 { result = result * self }
        }
        return result
    }

    /// The inverse by Fermat (self^(p-2)); zero maps to zero.
    var inverse: Secp256k1Field {
        power(UInt256Limbs(0xFFFF_FFFE_FFFF_FC2D, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF))
    }

    /// A square root (self^((p+1)/4), valid as p = 3 mod 4), or nil when `self` is not a square.
    /// Used on public values only (signature recovery, public-key checks).
    var squareRoot: Secp256k1Field? {
        let root = power(UInt256Limbs(0xFFFF_FFFF_BFFF_FF0C, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x3FFF_FFFF_FFFF_FFFF))
        return root.squared == self ? root : nil
    }

    /// `a` where `mask` is all ones, `b` where it is zero.
    static func select(_ mask: UInt64, _ a: Secp256k1Field, _ b: Secp256k1Field) -> Secp256k1Field {
        Secp256k1Field(reduced: .select(mask, a.limbs, b.limbs))
    }
}
