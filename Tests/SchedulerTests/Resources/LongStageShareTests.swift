import ProofsFFI
@testable import Scheduler
import Testing

private let gib: UInt64 = 1 << 30
private let minute = Duration.seconds(60)

/// One node of 64 CPUs and 480 GiB: seven 64 GiB PC1s and 32 GiB over, as on a cc32 node.
private func node480() -> BoxCapacity {
    BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: (0..<8).map { Array($0 * 8 ..< $0 * 8 + 8) }, memoryBytes: 480 * gib)], gpus: [])
}

private func pc1(_ id: UInt64, sequence: UInt64) -> Waiter {
    Waiter(id: id, request: ResourceRequest(stage: .pc1, cores: 4, memoryBytes: 64 * gib, expectedDuration: minute * 180), sequence: sequence)
}

private func c2(_ id: UInt64, sequence: UInt64) -> Waiter {
    Waiter(id: id, request: ResourceRequest(stage: .c2, cores: 8, memoryBytes: 128 * gib, numaBound: false, expectedDuration: minute * 10),
           sequence: sequence)
}

/// A 480 GiB node with five PC1s already running (320 GiB, 160 free: a C2 or a PC1 fits, not
/// both), as the broker and the simulator report them; and the policy with `share`.
private func fivePC1sRunning(share: LongStageShare.Resolved) -> (policy: AdmissionPolicy, ledger: ResourceLedger, running: [RunningGrant]) {
    var policy = AdmissionPolicy()
    policy.longStageShare = share
    var ledger = ResourceLedger(node480())
    let running = (0..<5).map { _ in
        let grant = ledger.place(ResourceRequest(stage: .pc1, cores: 4, memoryBytes: 64 * gib, expectedDuration: minute * 180))!
        ledger.take(grant)
        return RunningGrant(grant: grant, expectedEnd: minute * 100, isLong: true)
    }
    return (policy, ledger, running)
}

@Suite struct LongStageShareTests {
    @Test("below its share a long stage goes ahead of a short one of higher priority; at the share plain priorities rule")
    func longStagesGoFirstUpToTheirShare() {
        var (policy, ledger, running) = fivePC1sRunning(share: .init(target: 400 * gib, limit: 416 * gib))
        var waiters = [c2(1, sequence: 1), pc1(2, sequence: 2)]
        var withShare = ledger
        let granted = policy.admit(&waiters, &withShare, running: running)
        #expect(granted.map(\.id) == [2], "320 + 32 is within 400: the PC1 first, the C2 waits for the rest")

        // The same queue with the share off: the C2 (higher priority) takes the memory first.
        var plain = ledger
        var waitersPlain = [c2(1, sequence: 1), pc1(2, sequence: 2)]
        #expect(AdmissionPolicy().admit(&waitersPlain, &plain, running: running).map(\.id).first == 1)

        // A share of 340 GiB: 320 + 32 is past it, so the C2 goes first again.
        policy.longStageShare = .init(target: 340 * gib, limit: 416 * gib)
        var again = [c2(1, sequence: 1), pc1(2, sequence: 2)]
        var third = ledger
        #expect(policy.admit(&again, &third, running: running).map(\.id).first == 1)
    }

    @Test("the limit is never passed to go first: it keeps room for the largest short stage")
    func theLimitKeepsRoomForAShortStage() {
        var (policy, ledger, running) = fivePC1sRunning(share: .init(target: 420 * gib, limit: 352 * gib))
        var waiters = [c2(1, sequence: 1), pc1(2, sequence: 2)]
        // 320 + 64 = 384 > 352: within the target's rounding but past the limit, so no going first.
        #expect(policy.admit(&waiters, &ledger, running: running).map(\.id).first == 1)
    }

    @Test("with a share, waiting time alone no longer makes a long stage starve; a short one still does")
    func longStagesDoNotStarveByTime() {
        var policy = AdmissionPolicy(starvationLimit: 1000, starvationWait: minute * 60)
        let oldPC1 = pc1(1, sequence: 1), oldC2 = c2(2, sequence: 2)
        let late = minute * 120
        #expect(policy.isStarving(oldPC1, now: late) && policy.isStarving(oldC2, now: late))
        policy.longStageShare = .init(target: 400 * gib, limit: 416 * gib)
        #expect(!policy.isStarving(oldPC1, now: late))
        #expect(policy.isStarving(oldC2, now: late))
        var bypassed = oldPC1
        bypassed.bypassed = 1000
        #expect(policy.isStarving(bypassed, now: .zero), "the bypass count still protects it")
    }

    @Test("auto on the cc32 box: about 13.2 PC1s' memory (the fluid optimum), limited to 960 - 128 GiB so a C2 always fits")
    func autoOnTheCC32Box() throws {
        var workload = Workload(name: "t")
        workload.sectors = [.init(kind: .cc, size: .gib32, weight: 1)]
        var resources = ResourcesSection()
        resources.memoryReserve = 64 * gib
        workload.resources = resources
        let capacity = BoxCapacity(nodes: (0..<2).map { n in
            NodeCapacity(id: n, l3Groups: (0..<8).map { Array(n * 64 + $0 * 8 ..< n * 64 + $0 * 8 + 8) }, memoryBytes: 480 * gib)
        }, gpus: (0..<4).map { GPUCapacity(index: $0, node: $0 / 2, vramBytes: 24 * gib) })
        let setup = SimulationSetup(capacity: capacity, costs: .defaults, workload: workload, threads: 32, days: 1, policy: .dynamic(AdmissionPolicy()))
        let share = LongStageShare.auto(setup)
        // 105.3 sectors/day × 64 GiB × 3 h / 24 h = 842 GiB, above the 832 GiB limit.
        #expect(share.limit == 832 * gib)
        #expect(share.target == 832 * gib)
        // The daemon's view of the same box: 32 sealer threads of 32 GiB, and wdpost threads count for nothing.
        let daemon = LongStageShare.auto(capacity: capacity, resources: resources,
                                         threads: Array(repeating: (PlanKind.sealer, SectorSize?.none), count: 32) + [(.wdpost, nil)],
                                         defaultSize: .gib32, batchSize: nil)
        #expect(daemon == share)
        #expect(LongStageShare.auto(capacity: capacity, resources: resources, threads: [(.wdpost, nil)], defaultSize: .gib32, batchSize: nil) == .off)
        #expect(LongStageShare.off.resolved(auto: share) == .off)
        #expect(LongStageShare.bytes(100 * gib).resolved(auto: share) == .init(target: 100 * gib, limit: 100 * gib))
    }

    @Test("[resources] long_stage_share: auto (default), off, a size; anything else names the key")
    func config() {
        func decode(_ value: String?) -> (LongStageShare?, String) {
            let line = value.map { "long_stage_share = \($0)\n" } ?? ""
            let r = ConfigDecoder.decode(bytes: Array("""
                [sector_manager]
                rpc_client.addr = "embedded"

                [resources]
                \(line)
                [[sealing_thread]]
                location = "/tmp/lss"
                """.utf8), file: "s.toml")
            return (r.config?.resources.longStageShare, r.diagnostics.filter(\.isError).map(\.description).joined(separator: "; "))
        }
        #expect(decode(nil).0 == .auto)
        #expect(decode("\"auto\"").0 == .auto)
        #expect(decode("\"off\"").0 == .off)
        #expect(decode("\"832GiB\"").0 == .bytes(832 * gib))
        let bad = decode("\"most\"").1
        #expect(bad.contains("resources.long_stage_share") && bad.contains("\"auto\", \"off\" or a size"), "\(bad)")
        #expect(decode("true").1.contains("resources.long_stage_share"))
    }
}
