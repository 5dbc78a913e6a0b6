import Foundation
import Testing

/// `sealer simulate`'s packing bound, loss breakdown and damocles `[processors]` output.
@Suite struct SimulateBoundsEndToEndTests {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("--json carries both bounds, the ratio to each and a loss breakdown that adds up to the gap")
    func boundsInJSON() async throws {
        let out = try await runSealer(["simulate", "--workload", package + "/config/workloads/nps4-1s.toml", "--days", "2", "--json"],
                                      timeout: .seconds(120))
        #expect(out.status == 0, "\(out.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let fluid = try #require(object["fluid_bound"] as? Double), packing = try #require(object["packing_bound"] as? Double)
        #expect(packing < 0.85 * fluid, "two 64 GiB PC1s per 180 GiB node: the fluid bound is out of reach")
        let rate = try #require(object["sectors_per_day"] as? Double)
        #expect(abs(try #require(object["ratio_packing"] as? Double) - rate / packing) < 1e-3)
        #expect(abs(try #require(object["ratio_fluid"] as? Double) - rate / fluid) < 1e-3)
        let loss = try #require(object["loss"] as? [String: Double])
        let named = ["numa_granularity", "window_post_headroom", "thread_count", "jitter_queueing", "warm_up"].map { loss[$0] ?? .nan }
        #expect(abs(named.reduce(0, +) - (fluid - rate)) <= 0.01 * (fluid - rate))
        #expect(abs(named[0] - (fluid - packing)) < 1e-3)
    }

    @Test("--emit-processors prints damocles [processors] TOML with one pc1 child per NUMA node")
    func emitProcessors() async throws {
        let out = try await runSealer(["simulate", "--workload", package + "/config/workloads/nps4-1s.toml", "--days", "1", "--emit-processors"],
                                      timeout: .seconds(120))
        #expect(out.status == 0, "\(out.output)")
        #expect(out.stdout.components(separatedBy: "[[processors.pc1]]").count - 1 == 4)
        for node in 0..<4 { #expect(out.stdout.contains("numa_preferred = \(node)")) }
        #expect(out.stdout.contains("[processors.ext_locks]") && out.stdout.contains("CUDA_VISIBLE_DEVICES = \"1\""))
        #expect(!out.stdout.contains("sectors/day,"), "only the TOML (and its # comments)")
    }
}
