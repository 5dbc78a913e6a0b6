import Foundation
import Scheduler
import Testing
@testable import Actors

private let gib: UInt64 = 1 << 30

/// The daemon's pools carry the long-stage share worked out from its own threads, as the
/// simulator does for a workload: the same number for the same box and mix.
@Suite("Daemon: long-stage share")
struct DaemonLongStageShareTests {
    private func resources(_ extra: String = "") throws -> ResourcesSection {
        let decoded = ConfigDecoder.decode(bytes: Array("""
            [sector_manager]
            rpc_client.addr = "embedded"

            [resources]
            memory_reserve = "64GiB"
            \(extra)

            [resources.box]
            nodes = 2
            cores_per_node = 64
            cores_per_l3 = 8
            memory = "1TiB"
            gpus = 4
            gpu_vram = "24GiB"

            [[sealing_thread]]
            location = "/tmp/dlss"
            """.utf8), file: "s.toml")
        return try #require(decoded.config?.resources, "\(decoded.diagnostics)")
    }

    @Test("32 sealer threads of 32 GiB on the cc32 box: PC1s go first up to 832 GiB (13 of them); off and a size are honoured")
    func poolsCarryTheShare() throws {
        let threads = (0..<32).map { fastSettings($0, "") } + [fastSettings(32, "", plan: .wdpost)]
        let auto = try DaemonOptions.pools(try resources(), threads: threads, file: "s.toml", log: quietLog, sysfsRoot: "/nonexistent")
        #expect(auto.policy.longStageShare == .init(target: 832 * gib, limit: 832 * gib))
        let off = try DaemonOptions.pools(try resources("long_stage_share = \"off\""), threads: threads, file: "s.toml", log: quietLog,
                                          sysfsRoot: "/nonexistent")
        #expect(off.policy.longStageShare == .off)
        let fixed = try DaemonOptions.pools(try resources("long_stage_share = \"700GiB\""), threads: threads, file: "s.toml", log: quietLog,
                                            sysfsRoot: "/nonexistent")
        #expect(fixed.policy.longStageShare == .init(target: 700 * gib, limit: 700 * gib))
        // Only WindowPoSt threads: nothing long to share.
        let post = try DaemonOptions.pools(try resources(), threads: [fastSettings(0, "", plan: .wdpost)], file: "s.toml", log: quietLog,
                                           sysfsRoot: "/nonexistent")
        #expect(post.policy.longStageShare == .off)
    }

    @Test("with pc1_spill_slowdown, the spill granule is the smallest PC1 of the sealer and rebuild threads; without it, none")
    func poolsCarryTheSpillGranule() throws {
        var big = fastSettings(1, "")
        big.sealing.allowedSizes = [.gib64]
        var post = fastSettings(2, "", plan: .wdpost)
        post.sealing.allowedSizes = [.gib32]
        let spill = try resources("pc1_spill_slowdown = 0.3")
        let mixed = try DaemonOptions.pools(spill, threads: [fastSettings(0, ""), big], file: "s.toml", log: quietLog, sysfsRoot: "/nonexistent")
        #expect(mixed.pc1Spill && mixed.policy.spillGranule == 64 * gib)
        // The WindowPoSt thread's 32 GiB runs no PC1: the 64 GiB sealer's 128 GiB PC1 is the granule.
        let only64 = try DaemonOptions.pools(spill, threads: [big, post], file: "s.toml", log: quietLog, sysfsRoot: "/nonexistent")
        #expect(only64.policy.spillGranule == 128 * gib)
        let off = try DaemonOptions.pools(try resources(), threads: [fastSettings(0, ""), big], file: "s.toml", log: quietLog, sysfsRoot: "/nonexistent")
        #expect(!off.pc1Spill && off.policy.spillGranule == 0)
    }
}
