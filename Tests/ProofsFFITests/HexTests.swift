import ProofsFFI
import Testing

@Suite("Hex")
struct HexTests {
    @Test("encode is lowercase, prefixed adds 0x, decode(unprefixed:) takes digits only")
    func roundTrip() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.prefixed([0x01, 0x2C]) == "0x012c")
        #expect(Hex.decode(unprefixed: "00AbfF") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode(unprefixed: "") == [])
        // A second 0x after a stripped one, an odd length, a stray character: refused.
        #expect(Hex.decode(unprefixed: "0x12") == nil)
        #expect(Hex.decode(unprefixed: "0X12") == nil)
        #expect(Hex.decode(unprefixed: "123") == nil)
        #expect(Hex.decode(unprefixed: "12g4") == nil)
    }
}
