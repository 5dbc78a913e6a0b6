/// Hexadecimal for keys, signatures, addresses and relay fields: strict decoding, lowercase
/// encoding (the same digits as `Collection.hex`).
public enum Hex {
    /// Lowercase hex, no prefix.
    public static func encode(_ bytes: [UInt8]) -> String { bytes.hex }

    /// `0x` + lowercase hex, as go-ethereum's `hexutil.Encode`.
    public static func prefixed(_ bytes: [UInt8]) -> String { "0x" + bytes.hex }

    /// Bytes of `text`, which must be hex digits only (no prefix); nil on an odd length or any
    /// other character.
    public static func decode(unprefixed text: String) -> [UInt8]? {
        if text.utf8.count >= 2, text.utf8.first == UInt8(ascii: "0"), text.utf8.dropFirst().first.map({ $0 | 0x20 }) == UInt8(ascii: "x") {
            return nil
        }
        return decode(Substring(text))
    }

    /// Bytes of `text` (an optional 0x or 0X prefix, digits in either case); nil on an odd
    /// length or a non-hex character.
    static func decode(_ text: Substring) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] | 0x20 == UInt8(ascii: "x") { utf8.removeFirst(2) }
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Exactly 32 bytes of a secret from 64 hex digits (optional 0x), decoding every digit with
    /// masks so that timing depends on the length only; nil when anything is off.
    static func decodeSecret32(_ text: Substring) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] | 0x20 == UInt8(ascii: "x") { utf8.removeFirst(2) }
        guard utf8.count == 64 else { return nil }
        var invalid: UInt64 = 0
        var out = [UInt8](repeating: 0, count: 32)
        for index in 0..<64 {
            let (digit, bad) = secretDigit(utf8[index])
            invalid |= bad
            out[index / 2] |= digit << (index % 2 == 0 ? 4 : 0)
        }
        return invalid == 0 ? out : nil
    }

    /// The value of one hex digit and 1 when it is not one, without a branch on `c`.
    private static func secretDigit(_ c: UInt8) -> (UInt8, UInt64) {
        let value = UInt64(c)
        // in(range) is 1 when lo <= value <= hi: both differences keep their sign bit clear.
        func inRange(_ lo: UInt64, _ hi: UInt64) -> UInt64 { ((value &- lo) | (hi &- value)) >> 63 ^ 1 }
        let isDecimal = inRange(0x30, 0x39)
        let isLower = inRange(0x61, 0x66)
        let isUpper = inRange(0x41, 0x46)
        let digit = (ctMask(isDecimal) & (value &- 0x30)) | (ctMask(isLower) & (value &- 0x57)) | (ctMask(isUpper) & (value &- 0x37))
        return (UInt8(truncatingIfNeeded: digit), (isDecimal | isLower | isUpper) ^ 1)
    }
}
