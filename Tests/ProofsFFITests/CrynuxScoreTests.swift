import Foundation
import ProofsFFI
import TestSupport
import Testing

@Suite("Crynux task scores (spec s3.4)", .computeBound)
struct CrynuxScoreTests {
    @Test("LLM score: SHA-256 of each JSON file, concatenated, equal to Python hashlib")
    func llm() {
        let files: [[UInt8]] = [[], Array("{\"text\": \"hello\"}\n".utf8), Array((0..<768).map { UInt8($0 % 256) })]
        // python3 -c "import hashlib; print(hashlib.sha256(b).hexdigest())" for each file above.
        let expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            + "7cda9ec1f0842184c2f10f1b056ef625e75a4749c94b594d0a70c9eda7553262"
            + "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363"
        let score = CrynuxScore.llm(jsonFiles: files)
        #expect(score.count == 96)
        #expect(CrynuxScore.hex(score) == expected)
        #expect(CrynuxScore.llm(jsonFiles: []).isEmpty)
    }

    @Test("SD score: each PNG's hash as 8 big-endian bytes in file order, hex as Go prints it")
    func stableDiffusion() throws {
        let names = ["real/adwaita_folder512.png", "corpus/ct3_d8_65x63.png", "corpus/ct0_d16_9x130_adam7.png"]
        let goldens = try names.map { name in
            try #require(PNGFixtures.golden.first { $0.path == name }?.hash, "golden for \(name)")
        }
        let score = try CrynuxScore.stableDiffusion(pngFiles: try names.map(PNGFixtures.bytes))
        #expect(score.count == 24)
        let goHex = goldens.map { String($0, radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
        #expect(CrynuxScore.hex(score) == goHex)
        #expect(score[0] == UInt8(goldens[0] >> 56) && score[7] == UInt8(goldens[0] & 0xff))
        #expect(throws: PNGError.notPNG) {
            try CrynuxScore.stableDiffusion(pngFiles: [try PNGFixtures.bytes(names[0]), Array("not a png".utf8)])
        }
    }

    @Test("hex is lowercase, two digits per byte")
    func hex() {
        #expect(CrynuxScore.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(CrynuxScore.hex([]) == "")
    }

    @Test("matches: same length, multiple of 8, every block's Hamming distance below the threshold")
    func matches() {
        let a: [UInt8] = [0xff, 0, 0, 0, 0, 0, 0, 0x01, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80]
        var b = a
        #expect(CrynuxScore.matches(a, b, distanceThreshold: 1))
        #expect(!CrynuxScore.matches(a, b, distanceThreshold: 0))  // Nothing is below 0.
        b[0] = 0x00  // 8 bits differ in the first block.
        #expect(!CrynuxScore.matches(a, b, distanceThreshold: 8))
        #expect(CrynuxScore.matches(a, b, distanceThreshold: 9))
        b[15] ^= 0xff  // Second block: 8 bits too; first still 8.
        #expect(CrynuxScore.matches(a, b, distanceThreshold: 9))
        b[14] ^= 0x01  // Second block now 9.
        #expect(!CrynuxScore.matches(a, b, distanceThreshold: 9))
        #expect(CrynuxScore.matches(a, b, distanceThreshold: 24))
        #expect(!CrynuxScore.matches(a, Array(a.prefix(8)), distanceThreshold: 64))  // Lengths differ.
        #expect(!CrynuxScore.matches(Array(a.prefix(7)), Array(a.prefix(7)), distanceThreshold: 64))  // Not a multiple of 8.
        #expect(!CrynuxScore.matches([], [], distanceThreshold: 64))  // A score is never empty.
    }
}
