import Foundation
@testable import ProofsFFI
import TestSupport
import Testing

@Suite("goimagehash PerceptionHash, bit-exact with the Go reference", .computeBound)
struct PerceptionHashTests {
    @Test("every valid fixture hashes to the Go reference's value")
    func matchesGo() async {
        // Seconds of decoding in a debug build: one loop on a thread of its own rather than 181
        // CPU-bound cases queued on the cooperative pool; every file that differs is named.
        let mismatches = await offPool {
            PNGFixtures.valid.compactMap { golden -> String? in
                do {
                    let bytes = try PNGFixtures.bytes(golden.path)
                    let hash = try PerceptionHash.hash(png: bytes)
                    if hash != golden.hash { return "\(golden.path): ours \(String(hash, radix: 16)), Go \(String(golden.hash ?? 0, radix: 16))" }
                    if PerceptionHash.hash(image: try PNGImage(decoding: bytes)) != hash { return "\(golden.path): hash(image:) differs from hash(png:)" }
                    return nil
                } catch {
                    return "\(golden.path): \(error)"
                }
            }
        }
        #expect(PNGFixtures.valid.count > 150)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("files Go refuses are refused here too", arguments: PNGFixtures.golden.filter { $0.hash == nil })
    func refusesLikeGo(golden: PNGFixtures.Golden) throws {
        let bytes = try PNGFixtures.bytes(golden.path)
        #expect(throws: PNGError.self) { try PerceptionHash.hash(png: bytes) }
    }

    @Test("the DCT constants are Go's math.Cos values, not glibc's, and they matter")
    func cosineTable() {
        // Every tabulated value is 2 cos((i + 0.5) pi / n) to within one unit in the last place.
        var differFromGlibc = 0
        for n in [64, 32, 16, 8, 4, 2] {
            for (i, value) in PerceptionHash.cosineTable(n).enumerated() {
                let glibc = 2 * cos((Double(i) + 0.5) * Double.pi / Double(n))
                #expect(abs(value - glibc) <= value.ulp, "n=\(n) i=\(i)")
                if value != glibc { differFromGlibc += 1 }
            }
            #expect(PerceptionHash.cosineTable(n).count == n / 2)
        }
        // spec s3.4: glibc differs in the last bit for 21 of the 63 arguments.
        #expect(differFromGlibc == 21)
    }

    @Test("the quickselect median is the mean of the 32nd and 33rd smallest of 64 values")
    func median() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            // Few distinct values, so duplicates and ties are common.
            let values = (0..<64).map { _ in Double(rng.next() % 20) }
            let sorted = values.sorted()
            #expect(PerceptionHash.quickSelectMedian(values) == sorted[31] / 2 + sorted[32] / 2)
        }
    }

    @Test("a 64x64 image skips the resize (Go returns it unchanged)")
    func sixtyFourPassesThrough() throws {
        let image = try PNGImage(decoding: try PNGFixtures.bytes("corpus/ct2_d8_64x64.png"))
        let resized = BilinearResize.resize(image.pixels, width: 64, height: 64, toWidth: 64, toHeight: 64)
        #expect(resized == image.pixels)
        let other = try PNGImage(decoding: try PNGFixtures.bytes("corpus/ct6_d8_65x63.png"))
        let scaled = BilinearResize.resize(other.pixels, width: 65, height: 63, toWidth: 64, toHeight: 64)
        // NRGBA in, RGBA out: nfnt/resize premultiplies 8-bit images.
        #expect(scaled.goTypeName == "*image.RGBA")
    }
}
