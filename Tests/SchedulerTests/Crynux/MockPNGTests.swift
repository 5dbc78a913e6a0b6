import Testing
@testable import Scheduler

@Suite struct MockPNGTests {
    @Test func checksumsMatchPublishedCheckValues() {
        #expect(MockPNG.crc32(Array("123456789".utf8)) == 0xCBF4_3926) // CRC-32/ISO-HDLC check value
        #expect(MockPNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398) // RFC 1950 example
    }

    @Test func pngStructureIsWellFormed() {
        let png = MockPNG.encode(width: 2, height: 1) { x, _ in (UInt8(x), 0, 255) }
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: length 13, 2x1, depth 8, colour type 2; its CRC covers type + data.
        #expect(Array(png[8..<16]) == [0, 0, 0, 13] + Array("IHDR".utf8))
        #expect(Array(png[16..<29]) == [0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0])
        let crc = png[29..<33].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(crc == MockPNG.crc32(Array(png[12..<29])))
        // IDAT holds zlib(stored): header, one final block of 7 bytes (filter byte + 2 RGB pixels).
        let idat = Array(png[41..<(41 + 2 + 5 + 7 + 4)])
        #expect(Array(idat.prefix(7)) == [0x78, 0x01, 1, 7, 0, 0xF8, 0xFF])
        #expect(Array(idat[7..<14]) == [0, 0, 0, 255, 1, 0, 255])
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
    }

    @Test func deterministicImagesDependOnTheSeedOnly() {
        #expect(MockPNG.deterministic(seed: 7) == MockPNG.deterministic(seed: 7))
        #expect(MockPNG.deterministic(seed: 7) != MockPNG.deterministic(seed: 8))
        // More than one stored block when the raw data exceeds 65535 bytes.
        #expect(MockPNG.deterministic(seed: 1, width: 200, height: 200).count > 120_000)
    }
}
