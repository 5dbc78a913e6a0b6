import Foundation
@testable import ProofsFFI
import Testing

@Suite("Keccak-256 (Ethereum's, padding 0x01)")
struct Keccak256Tests {
    @Test("published digests: empty input, \"abc\", the quick brown fox")
    func publishedVectors() {
        // Ethereum's empty-input hash (the empty code hash of every externally owned account).
        #expect(Keccak256.hash([UInt8]()).hex == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        // go-ethereum crypto/crypto_test.go, TestKeccak256Hash.
        #expect(Keccak256.hash(Array("abc".utf8)).hex == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        #expect(Keccak256.hash("The quick brown fox jumps over the lazy dog".utf8).hex
            == "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")
    }

    /// Around the 136-byte rate: the padding fits in the block (135: one byte 0x81), fills a
    /// whole extra block (136), or spills (137, 272). Expected values from pycryptodome's
    /// Crypto.Hash.keccak (an independent implementation); the Python cross-check test below
    /// covers every length 0..300 too.
    @Test("rate-boundary and multi-block messages", arguments: [
        (135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"),
        (136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"),
        (137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"),
        (272, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8"),
    ])
    func boundaries(length: Int, expected: String) {
        #expect(Keccak256.hash([UInt8](repeating: UInt8(ascii: "a"), count: length)).hex == expected)
    }

    @Test("a 1000-byte message (8 blocks) and any Collection input")
    func multiBlock() {
        let message = (0..<1000).map { UInt8($0 % 251) }
        #expect(Keccak256.hash(message).hex == "af692982e84a5a9688359025660a7857cd28ee7c8d867cfa1677baf2e6d1f63b")
        #expect(Keccak256.hash(message[...]) == Keccak256.hash(message))
        #expect(Keccak256.hash(Data(message)) == Keccak256.hash(message))
    }

    @Test("not SHA3-256: the same empty input differs from FIPS 202's a7ffc6f8...")
    func notSHA3() {
        #expect(Keccak256.hash([UInt8]()).hex != "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
    }
}
