import Foundation
import ProofsFFI
@testable import Scheduler
import TestSupport
import Testing

private let gib: UInt64 = 1 << 30
private let minute = Duration.seconds(60)

/// A toy box and cost table small enough to reason about by hand: 1 node, 8 cores, 100 GiB.
private func toy(threads: Int = 4, sectors: [Workload.Sectors] = [.init(kind: .cc, size: .gib32, weight: 1)]) -> SimulationSetup {
    var costs = CostTable.defaults
    for stage in ProofStage.allCases { costs.set(stage, .gib32, StageCost(cores: 1, memoryBytes: 1 * gib, duration: minute)) }
    costs.set(.pc1, .gib32, StageCost(cores: 2, memoryBytes: 40 * gib, duration: minute * 60))
    costs.set(.pc1, .gib64, StageCost(cores: 2, memoryBytes: 80 * gib, duration: minute * 120))
    for stage in ProofStage.allCases where stage != .pc1 { costs.set(stage, .gib64, StageCost(cores: 1, memoryBytes: 1 * gib, duration: minute)) }
    var workload = Workload(name: "toy")
    workload.sectors = sectors
    workload.seedWait = minute * 10
    workload.jitter = 0
    let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: 100 * gib)], gpus: [])
    return SimulationSetup(capacity: box, costs: costs, workload: workload, threads: threads, days: 2, policy: .dynamic(AdmissionPolicy()))
}

@Suite(.computeBound) struct SimulatorTests {
    @Test func boundIsTheScarcestResource() {
        let setup = toy()
        let bound = ThroughputBound(setup)
        // Memory: PC1 40 GiB x 60 min + 5 one-minute stages of 1 GiB = 2405 GiB-min per sector;
        // 100 GiB x 1440 min / 2405 = 59.9 sectors/day.
        #expect(abs(bound.byResource["memory"]! - 100.0 * 1440 / 2405) < 1e-6)
        // Threads: 4 threads over a 60 + 5 + 10 minute cycle.
        #expect(abs(bound.byResource["threads"]! - 4.0 * 1440 / 75) < 1e-6)
        #expect(bound.limitedBy == "memory")
    }

    @Test func runsAreDeterministicAndNeverOversubscribe() {
        let setup = toy(threads: 6)
        let a = Simulator(setup).run(), b = Simulator(setup).run()
        #expect(a.completed == b.completed && a.sectorsPerDay == b.sectorsPerDay)
        #expect(a.oversubscriptions == 0)
        #expect(a.completed > 0)
        #expect(a.sectorsPerDay <= ThroughputBound(setup).value + 1e-9)
        // Two PC1s fit in 100 GiB, so memory stays mostly busy.
        #expect(a.utilization["memory"]! > 0.7)
    }

    @Test func theCapacityCheckCatchesAnOversubscription() {
        let setup = toy()
        let grant = Grant(node: 0, cpus: [0, 1], memoryBytes: 60 * gib, hugepages: 0, gpu: nil, vramBytes: 0)
        #expect(Simulator.withinCapacity([grant], setup.capacity))
        #expect(!Simulator.withinCapacity([grant, grant], setup.capacity), "120 GiB on a 100 GiB node")
        var other = grant
        other.memory = [0: 1 * gib]
        #expect(!Simulator.withinCapacity([grant, other], setup.capacity), "the same CPUs twice")
    }

    @Test func staticLimitsAreSafeForTheLargestSizeAndLoseToDynamicOnAMix() throws {
        var setup = toy(threads: 8, sectors: [.init(kind: .cc, size: .gib32, weight: 3), .init(kind: .cc, size: .gib64, weight: 1)])
        let candidates = StaticLimits.candidates(setup)
        let limits = try #require(candidates.first)
        // PC1 at its limit with every sector 64GiB (80 GiB each) plus the small stages must fit.
        let worst = limits.perStage.reduce(UInt64(0)) { sum, entry in
            sum + UInt64(entry.value) * max(setup.costs.cost(entry.key, .gib32).memoryBytes, setup.costs.cost(entry.key, .gib64).memoryBytes)
        }
        #expect(worst <= setup.capacity.memoryBytes)
        let dynamic = Simulator(setup).run()
        setup.policy = .fixed(limits)
        let fixed = Simulator(setup).run()
        #expect(fixed.oversubscriptions == 0 && dynamic.oversubscriptions == 0)
        #expect(dynamic.sectorsPerDay > fixed.sectorsPerDay, "static limits must assume 64GiB PC1s; the pools see the 32GiB ones")
    }

    @Test func weightedRoundRobinKeepsTheMix() {
        var mix = WeightedRoundRobin([2, 1, 1])
        let picks = (0..<400).map { _ in mix.next() }
        #expect(picks.filter { $0 == 0 }.count == 200)
        #expect(picks.filter { $0 == 1 }.count == 100)
    }

    @Test func workloadErrorsNameTheFileAndLine() throws {
        let path = NSTemporaryDirectory() + "workload-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name = \"x\"\n[[sectors]]\nkind = \"cc\"\nsize = \"33GiB\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case let .failure(error) = Workload.load(path: path) else {
            Issue.record("33GiB is not a sector size")
            return
        }
        #expect(error.description.hasPrefix("\(path):4:"))
        #expect(error.description.contains("33GiB"))
    }
}

@Suite(.computeBound) struct BackfillTests {
    private func box() -> BoxCapacity {
        BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<16)], memoryBytes: 100 * gib)], gpus: [])
    }

    @Test func aShortStageMayUseReservedMemoryALongOneMayNot() {
        var ledger = ResourceLedger(box())
        let running = Grant(node: 0, cpus: [0], memoryBytes: 70 * gib, hugepages: 0, gpu: nil, vramBytes: 0)
        ledger.take(running)
        // The 64 GiB request has starved; 30 GiB is free and the running stage ends at t=60 min.
        let starving = Waiter(id: 1, request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 64 * gib, expectedDuration: minute * 180),
                              sequence: 1, bypassed: 100)
        let short = Waiter(id: 2, request: ResourceRequest(stage: .treeD, cores: 1, memoryBytes: 10 * gib, expectedDuration: minute * 30), sequence: 2)
        let long = Waiter(id: 3, request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 10 * gib, expectedDuration: minute * 90), sequence: 3)
        var waiters = [starving, short, long]
        let granted = AdmissionPolicy().admit(&waiters, &ledger, now: .zero, running: [RunningGrant(grant: running, expectedEnd: minute * 60)])
        #expect(granted.map(\.id) == [2], "the short one ends before the starving one could start; the long one would delay it")
    }

    @Test func aStarvingRequestWaitsAtMostOneRoundOfWhatRunsBeforeIt() {
        var ledger = ResourceLedger(box())
        let policy = AdmissionPolicy(starvationLimit: 2)
        var waiters = [Waiter(id: 1, request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 60 * gib), sequence: 1, bypassed: 2)]
        let holder = Grant(node: 0, cpus: [1], memoryBytes: 50 * gib, hugepages: 0, gpu: nil, vramBytes: 0)
        ledger.take(holder)
        for i in 0..<10 {
            waiters.append(Waiter(id: 100 + UInt64(i), request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 5 * gib), sequence: 100 + UInt64(i)))
        }
        #expect(policy.admit(&waiters, &ledger).isEmpty, "nothing may take the memory the starving one waits for")
        ledger.give(holder)
        #expect(policy.admit(&waiters, &ledger).first?.id == 1)
    }

    @Test func aStageWaitingLongerThanTheStarvationWaitReserves() {
        var ledger = ResourceLedger(box())
        ledger.take(Grant(node: 0, cpus: [1], memoryBytes: 50 * gib, hugepages: 0, gpu: nil, vramBytes: 0))
        let policy = AdmissionPolicy(starvationLimit: 1000, starvationWait: minute * 60)
        let old = Waiter(id: 1, request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 60 * gib), sequence: 1, since: .zero)
        let young = Waiter(id: 2, request: ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 5 * gib), sequence: 2, since: minute * 59)
        var early = [old, young], late = [old, young]
        var l1 = ledger, l2 = ledger
        #expect(policy.admit(&early, &l1, now: minute * 59).map(\.id) == [2], "before the hour the small one backfills")
        #expect(policy.admit(&late, &l2, now: minute * 61).isEmpty, "after it, the memory is held for the old one")
    }
}
