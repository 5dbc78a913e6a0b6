/// A point of secp256k1 (y^2 = x^3 + 7) in projective coordinates (X:Y:Z), x = X/Z, y = Y/Z,
/// with the point at infinity as (0:1:0). Addition and doubling use the complete formulas of
/// Renes, Costello and Batina ("Complete addition formulas for prime order elliptic curves",
/// 2016, algorithms 7 and 9 for a = 0): one straight-line sequence for every input, identity and
/// equal points included, which is what makes the fixed-window multiplication constant time.
struct Secp256k1Point: Sendable {
    var x: Secp256k1Field
    var y: Secp256k1Field
    var z: Secp256k1Field

    static let infinity = Secp256k1Point(x: .zero, y: .one, z: .zero)
    /// The generator G (SEC 2, section 2.4.1).
    static let generator = Secp256k1Point(
        x: Secp256k1Field(reduced: UInt256Limbs(0x59F2_815B_16F8_1798, 0x029B_FCDB_2DCE_28D9, 0x55A0_6295_CE87_0B07, 0x79BE_667E_F9DC_BBAC)),
        y: Secp256k1Field(reduced: UInt256Limbs(0x9C47_D08F_FB10_D4B8, 0xFD17_B448_A685_5419, 0x5DA4_FBFC_0E11_08A8, 0x483A_DA77_26A3_C465)),
        z: .one)
    /// 0G ... 15G for the fixed-window multiplication, built once.
    private static let generatorTable: [Secp256k1Point] = windowTable(generator)

    /// The affine point (x, y); the caller has checked that it is on the curve.
    init(affineX: Secp256k1Field, y: Secp256k1Field) {
        self.init(x: affineX, y: y, z: .one)
    }

    private init(x: Secp256k1Field, y: Secp256k1Field, z: Secp256k1Field) {
        (self.x, self.y, self.z) = (x, y, z)
    }

    /// 1 for the point at infinity.
    var isInfinityBit: UInt64 { z.isZeroBit }

    /// Whether affine (x, y) satisfies y^2 = x^3 + 7.
    static func isOnCurve(x: Secp256k1Field, y: Secp256k1Field) -> Bool {
        y.squared == x.squared * x + Secp256k1Field.b
    }

    /// The affine point whose x is `x` and whose y has the parity `odd`; nil when no point has
    /// that x. Public inputs only (signature recovery).
    static func lift(x: Secp256k1Field, odd: Bool) -> Secp256k1Point? {
        guard let root = (x.squared * x + Secp256k1Field.b).squareRoot else { return nil }
        let y = (root.isOddBit == 1) == odd ? root : -root
        return Secp256k1Point(affineX: x, y: y)
    }

    /// The affine coordinates; the caller must know the point is not at infinity (zero maps to
    /// zero through the Fermat inverse, so a secret point is converted without a branch).
    var affine: (x: Secp256k1Field, y: Secp256k1Field) {
        let zInverse = z.inverse
        return (x * zInverse, y * zInverse)
    }

    /// P + Q for any P, Q (RCB 2016, algorithm 7, a = 0, b3 = 21).
    static func + (p: Secp256k1Point, q: Secp256k1Point) -> Secp256k1Point {
        let b3 = Secp256k1Field.b3
        var t0 = p.x * q.x
        var t1 = p.y * q.y
        var t2 = p.z * q.z
        var t3 = p.x + p.y
        var t4 = q.x + q.y
        t3 = t3 * t4
        t4 = t0 + t1
        t3 = t3 - t4
        t4 = p.y + p.z
        var x3 = q.y + q.z
        t4 = t4 * x3
        x3 = t1 + t2
        t4 = t4 - x3
        x3 = p.x + p.z
        var y3 = q.x + q.z
        x3 = x3 * y3
        y3 = t0 + t2
        y3 = x3 - y3
        x3 = t0 + t0
        t0 = x3 + t0
        t2 = b3 * t2
        var z3 = t1 + t2
        t1 = t1 - t2
        y3 = b3 * y3
        x3 = t4 * y3
        t2 = t3 * t1
        x3 = t2 - x3
        y3 = y3 * t0
        t1 = t1 * z3
        y3 = t1 + y3
        t0 = t0 * t3
        z3 = z3 * t4
        z3 = z3 + t0
        return Secp256k1Point(x: x3, y: y3, z: z3)
    }

    /// 2P for any P (RCB 2016, algorithm 9, a = 0, b3 = 21).
    var doubled: Secp256k1Point {
        let b3 = Secp256k1Field.b3
        var t0 = y * y
        var z3 = t0 + t0
        z3 = z3 + z3
        z3 = z3 + z3
        var t1 = y * z
        var t2 = z * z
        t2 = b3 * t2
        var x3 = t2 * z3
        var y3 = t0 + t2
        z3 = t1 * z3
        t1 = t2 + t2
        t2 = t1 + t2
        t0 = t0 - t2
        y3 = t0 * y3
        y3 = x3 + y3
        t1 = x * y
        x3 = t0 * t1
        x3 = x3 + x3
        return Secp256k1Point(x: x3, y: y3, z: z3)
    }

    static prefix func - (p: Secp256k1Point) -> Secp256k1Point { Secp256k1Point(x: p.x, y: -p.y, z: p.z) }

    /// `a` where `mask` is all ones, `b` where it is zero.
    static func select(_ mask: UInt64, _ a: Secp256k1Point, _ b: Secp256k1Point) -> Secp256k1Point {
        Secp256k1Point(x: .select(mask, a.x, b.x), y: .select(mask, a.y, b.y), z: .select(mask, a.z, b.z))
    }

    /// 0P, 1P, ..., 15P.
    private static func windowTable(_ p: Secp256k1Point) -> [Secp256k1Point] {
        var table = [Secp256k1Point.infinity]
        for i in 1..<16 { table.append(table[i - 1] + p) }
        return table
    }

    /// k * (the point behind `table`) with 4-bit fixed windows: 4 doublings and one addition per
    /// window whatever k is, the table entry picked by scanning all 16 entries with masks.
    private static func multiply(_ k: UInt256Limbs, table: [Secp256k1Point]) -> Secp256k1Point {
        var accumulator = Secp256k1Point.infinity
        for window in stride(from: 63, through: 0, by: -1) {
            accumulator = accumulator.doubled.doubled.doubled.doubled
            let digit = k.nibble(window)
            var chosen = Secp256k1Point.infinity
            for (j, entry) in table.enumerated() {
                chosen = select(ctMask(ctIsZero(digit ^ UInt64(j))), entry, chosen)
            }
            accumulator = accumulator + chosen
        }
        return accumulator
    }

    /// k * G in constant time (private keys and nonces).
    static func multiplyGenerator(_ k: Secp256k1Scalar) -> Secp256k1Point {
        multiply(k.limbs, table: generatorTable)
    }

    /// k * P in constant time.
    func multiplied(by k: Secp256k1Scalar) -> Secp256k1Point {
        Self.multiply(k.limbs, table: Self.windowTable(self))
    }
}
