import Foundation
import Testing
import ProofsFFI
@testable import Scheduler

/// Bad bytes must give an error, never a crash: the daemon parses files users edit by hand.
@Suite("TOML parser robustness")
struct TOMLRobustnessTests {
    struct Mutator {
        var rng: SplitMix64
        init(state: UInt64) { rng = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { rng.next() }
        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var bytes = input
            let interesting: [UInt8] = Array("[]{}=\"'.,#\n\r\\ -:+_0eZT".utf8) + [0x00, 0x7F, 0xC3, 0xFF, 0xE2, 0x80]
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count))
                switch next() % 4 {
                case 0 where !bytes.isEmpty: bytes[at] = interesting[Int(next() % UInt64(interesting.count))]
                case 1: bytes.insert(interesting[Int(next() % UInt64(interesting.count))], at: at)
                case 2 where !bytes.isEmpty: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            return bytes
        }
    }

    @Test("thousands of seeded mutations of the suite's valid files parse or fail cleanly")
    func mutations() throws {
        let suite = try #require(TOMLSuiteTests.suite)
        var mutator = Mutator(state: 42)
        var parsed = 0
        var rejected = 0
        for name in TOMLSuiteTests.cases where name.hasPrefix("valid/") {
            let original = try Array(Data(contentsOf: URL(fileURLWithPath: suite + "/" + name)))
            for _ in 0..<25 {
                do {
                    _ = try TOML.parse(bytes: mutator.mutate(original))
                    parsed += 1
                } catch {
                    #expect(error.position.line >= 1)
                    rejected += 1
                }
            }
        }
        #expect(parsed + rejected > 4000)
        #expect(rejected > 0 && parsed > 0)
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func deepNesting() throws {
        for open in ["[", "{ a = "] {
            let text = "a = " + String(repeating: open, count: 100_000)
            #expect(throws: TOMLError.self) { try TOML.parse(text) }
        }
        let fine = "a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try TOML.parse(fine)["a"] != nil)
    }
}
