import Foundation
import ProofsFFI
@testable import Scheduler
import TestSupport
import Testing

private let gib: UInt64 = 1 << 30
private let minute = Duration.seconds(60)

/// An NPS4-style box: `nodes` nodes of 16 cores (8-core L3 groups) and `perNode` GiB, `gpus` GPUs;
/// PC1 64 GiB for 180 min (4 cores, one L3), every other stage 1 core, 1 GiB, 1 minute, GPU
/// stages 5 GiB VRAM.
private func box(nodes: Int = 4, perNode: UInt64 = 180, gpus: Int = 1, threads: Int = 16, days: Double = 2) -> SimulationSetup {
    var costs = CostTable.defaults
    for stage in ProofStage.allCases {
        let gpu = [.pc2, .c2, .snapEncode, .snapProve, .windowPost].contains(stage)
        costs.set(stage, .gib32, StageCost(cores: 1, memoryBytes: 1 * gib, numaBound: !gpu, vramBytes: gpu ? 5 * gib : 0, duration: minute))
    }
    costs.set(.pc1, .gib32, StageCost(cores: 4, sameL3: true, memoryBytes: 64 * gib, duration: minute * 180))
    var workload = Workload(name: "nps4-toy")
    workload.sectors = [.init(kind: .cc, size: .gib32, weight: 1)]
    workload.seedWait = minute * 10
    workload.jitter = 0
    let capacity = BoxCapacity(
        nodes: (0..<nodes).map { n in NodeCapacity(id: n, l3Groups: [Array(n * 16..<n * 16 + 8), Array(n * 16 + 8..<n * 16 + 16)], memoryBytes: perNode * gib) },
        gpus: (0..<gpus).map { GPUCapacity(index: $0, node: $0 % nodes, vramBytes: 24 * gib) })
    return SimulationSetup(capacity: capacity, costs: costs, workload: workload, threads: threads, days: days,
                           policy: .dynamic(SimulationSetup.dynamicPolicy(workload)))
}

@Suite struct LinearProgramTests {
    @Test func findsTheVertexOptimum() throws {
        // max 3x + 2y: x + y <= 4, x + 3y <= 6, x <= 3 -> (3, 1), 11.
        let lp = LinearProgram(objective: [3, 2], rows: [[1, 1], [1, 3], [1, 0]], limits: [4, 6, 3])
        let (value, x) = try #require(lp.maximize())
        #expect(abs(value - 11) < 1e-9 && abs(x[0] - 3) < 1e-9 && abs(x[1] - 1) < 1e-9)
    }

    @Test func degenerateRowsAndUnboundedness() throws {
        // max x: x - y <= 0, y <= 2 (degenerate at the origin) -> 2.
        let lp = LinearProgram(objective: [1, 0], rows: [[1, -1], [0, 1]], limits: [0, 2])
        #expect(abs((try #require(lp.maximize())).value - 2) < 1e-9)
        #expect(LinearProgram(objective: [1, 0], rows: [[0, 1]], limits: [1]).maximize() == nil, "x is unbounded")
        #expect(LinearProgram(objective: [1], rows: [[1]], limits: [-1]).maximize() == nil, "a negative limit is refused")
    }
}

@Suite(.computeBound) struct PackingBoundTests {
    @Test func aNodeHoldsWholePC1sOnly() {
        let setup = box()
        let packing = PackingBound(setup)
        let fluid = ThroughputBound(setup)
        // 4 nodes x two 64 GiB PC1s (a third does not fit in 180 GiB) = 8 runs of 180 min.
        #expect(abs(packing.nodes - 8.0 * 1440 / 180) < 1e-6)
        #expect(packing.integral == ["pc1/32GiB"])
        // Fluid: 720 GiB over 64 x 180 + 5 one-minute stages of 1 GiB per sector.
        #expect(abs(fluid.byResource["memory"]! - 720.0 * 1440 / (64 * 180 + 5)) < 1e-6)
        #expect(fluid.value > packing.value)
        // One GPU, PC2 and C2 one minute each: 1440 / 2 sectors a day.
        #expect(abs(packing.gpus - 720) < 1e-6)
        // 16 threads over a 180 + 5 + 10 minute cycle.
        #expect(abs(packing.threads - 16.0 * 1440 / 195) < 1e-6)
    }

    @Test func whereMemoryIsPooledTheBoundsAgree() {
        // 4 x 256 GiB: 4 PC1s per node use it all, so the integral and fluid bounds nearly meet.
        let setup = box(perNode: 256, threads: 64)
        let packing = PackingBound(setup), fluid = ThroughputBound(setup)
        #expect(packing.value <= fluid.value + 1e-9)
        #expect(packing.value > 0.99 * fluid.value)
    }

    @Test func gpuMixesRespectSlotsAndVRAM() {
        var setup = box()
        setup.capacity.gpus = [GPUCapacity(index: 0, node: 0, vramBytes: 24 * gib, slots: 2)]
        // Two slots and 5 GiB stages: two at once, twice the one-slot figure.
        #expect(abs(PackingBound(setup).gpus - 1440) < 1e-6)
        setup.costs.set(.c2, .gib32, StageCost(cores: 1, memoryBytes: gib, numaBound: false, vramBytes: 20 * gib, duration: minute))
        // A 20 GiB C2 shares the GPU with nothing: C2 one minute alone, PC2s two at a time.
        #expect(abs(PackingBound(setup).gpus - 1440 / 1.5) < 1e-6)
    }

    @Test func postHeadroomOnlyLowers() {
        var setup = box(perNode: 160)
        setup.workload.windowPost = .init(every: minute * 30, partitions: 1, size: .gib32)
        setup.workload.resources.postHeadroom = minute * 15
        setup.costs.set(.windowPost, .gib32, StageCost(cores: 1, memoryBytes: 100 * gib, numaBound: false, vramBytes: 5 * gib, duration: minute * 5))
        setup.workload.resources.costs = [CostOverride(size: .gib32, stage: .windowPost, memoryBytes: 100 * gib, vramBytes: 5 * gib,
                                                       duration: minute * 5)]
        let packing = PackingBound(setup)
        // 640 GiB: 8 PC1s hold 512 and 100 GiB of headroom still fits beside them.
        #expect(abs(packing.nodesWithHeadroom - packing.nodes) < 1e-6)
        var tight = box(perNode: 140)
        tight.workload = setup.workload
        tight.costs = setup.costs
        let bound = PackingBound(tight)
        // 4 x 140: two PC1s per node (512 of 560 GiB); keeping 100 GiB free allows 460 GiB of PC1s:
        // 7.1875 on average, not 8.
        #expect(abs(bound.nodes - 8.0 * 1440 / 180) < 1e-6)
        #expect(abs(bound.nodesWithHeadroom - 460.0 / 64 * 1440 / 180) < 1e-3)
    }

    @Test func theDynamicPolicyReachesThePackingBoundAndTheLossesAddUp() {
        let setup = box(threads: 16, days: 3)
        let result = Simulator(setup).run()
        let fluid = ThroughputBound(setup), packing = PackingBound(setup)
        let loss = LossBreakdown(fluid: fluid, packing: packing, result: result)
        #expect(result.oversubscriptions == 0)
        // The work rate counts in-flight sectors by nominal time, so where they stand at the
        // window's edges moves it a little; it cannot beat the bound by more than that.
        #expect(result.workPerDay <= 1.01 * packing.value)
        #expect(result.sectorsPerDay >= 0.95 * packing.value)
        #expect(abs(loss.numaGranularity - (fluid.value - packing.value)) < 1e-9)
        #expect(loss.windowPostHeadroom == 0 && loss.threadCount == 0)
        #expect(abs(loss.sum - loss.gap) < 0.01 * loss.gap)
        // Two threads cannot keep eight PC1 slots busy: thread count takes the loss.
        var few = setup
        few.threads = 2
        let starved = LossBreakdown(fluid: ThroughputBound(few), packing: PackingBound(few), result: Simulator(few).run())
        #expect(starved.threadCount > 0.5 * starved.gap)
    }
}

@Suite(.computeBound) struct StaticPerNodeTests {
    @Test func staticLimitsPinPC1PerNodeAndGPUStagesPerGPU() throws {
        var setup = box(gpus: 2)
        let candidates = StaticLimits.candidates(setup)
        let limits = try #require(candidates.first)
        let pc1 = try #require(limits.processors[.pc1])
        #expect(pc1.map(\.node) == [0, 1, 2, 3])
        for child in pc1 {
            let node = setup.capacity.nodes[child.node!]
            #expect(UInt64(child.concurrent!) * 64 * gib <= node.memoryBytes, "no node is asked for more PC1s than it holds")
            #expect(child.cpus!.isSubset(of: Set(node.cpus)))
        }
        #expect(limits.processors[.c2]?.map(\.gpu) == [0, 1] && limits.extLocks == ["gpu0": 1, "gpu1": 1])
        // Run it: PC1s land only inside their child's cpuset, GPU stages on their child's GPU.
        setup.policy = .fixed(limits)
        setup.recordTimeline = true
        let result = Simulator(setup).run()
        #expect(result.oversubscriptions == 0 && result.completed > 0)
        for segment in result.segments where segment.stage == .pc1 {
            #expect(pc1.contains { $0.node == segment.grant.node && Set(segment.grant.cpus).isSubset(of: $0.cpus!) })
        }
        let gpus = Set(limits.processors[.c2]!.compactMap(\.gpu))
        #expect(result.segments.filter { $0.stage == .c2 || $0.stage == .pc2 }.allSatisfy { $0.grant.gpu.map(gpus.contains) ?? false })
    }

    @Test func theEmittedProcessorsAreDamoclesConfig() throws {
        let setup = box(gpus: 2)
        let limits = try #require(StaticLimits.candidates(setup).first)
        let text = ProcessorsEmitter.toml(limits, comments: ["found for a test"])
        // Our TOML parser reads it, and every key is one damocles-worker knows (spec §1.7).
        let root = try TOML.parse(bytes: Array(text.utf8))
        guard case let .table(processors)? = root["processors"] else {
            Issue.record("no [processors]")
            return
        }
        let childKeys: Set<String> = ["bin", "args", "stable_wait", "cgroup", "envs", "inherit_envs", "numa_preferred", "concurrent", "locks", "auto_restart"]
        for entry in processors.entries {
            switch entry.key {
            case "limitation":
                guard case let .table(limitation) = entry.value, case let .table(concurrent)? = limitation["concurrent"] else {
                    Issue.record("limitation is not a table")
                    continue
                }
                #expect(concurrent.entries.allSatisfy { ProcessorsSection.limitStages.contains($0.key) })
            case "ext_locks":
                break
            default:
                #expect(ProcessorsSection.externalStages.contains(entry.key), "\(entry.key)")
                guard case let .array(children) = entry.value else {
                    Issue.record("\(entry.key) is not an array of tables")
                    continue
                }
                for case let .table(child) in children {
                    #expect(child.entries.allSatisfy { childKeys.contains($0.key) }, "\(entry.key): \(child.entries.map(\.key))")
                }
            }
        }
        // And the config decoder takes it without a warning, as the pinning the simulator ran.
        let config = "[sector_manager]\nrpc_client.addr = \"embedded\"\n[[sealing_thread]]\nlocation = \"/tmp/t0\"\n"
            + "[[attached]]\nlocation = \"/tmp/persist\"\n" + text
        let decoded = ConfigDecoder.decode(bytes: Array(config.utf8), file: "emitted.toml")
        #expect(decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
        let external = try #require(decoded.config?.processors.external["pc1"])
        #expect(external.map(\.numaPreferred) == [0, 1, 2, 3])
        #expect(external.map { ProcessorSlot(index: 0, $0).cpus } == limits.processors[.pc1]!.map(\.cpus))
        let c2 = try #require(decoded.config?.processors.external["c2"])
        #expect(c2.map { $0.envs["CUDA_VISIBLE_DEVICES"] } == ["0", "1"] && c2.map(\.locks) == [["gpu0"], ["gpu1"]])
    }

    @Test func shippedWorkloadsLoadWithTheirBoxes() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../config/workloads").standardized.path
        for (name, nodes) in [("nps4-1s", 4), ("2s-4node", 4)] {
            guard case let .success(workload) = Workload.load(path: "\(dir)/\(name).toml") else {
                Issue.record("\(name) does not load")
                continue
            }
            let capacity = try #require(workload.resources.describedCapacity)
            #expect(capacity.nodes.count == nodes)
        }
    }
}

@Suite(.computeBound) struct PC1SpillTests {
    @Test func aSpillablePC1TakesMemoryFromTwoNodesOnlyWhenNoneHasRoom() throws {
        let setup = box(nodes: 3, perNode: 100)
        var ledger = ResourceLedger(setup.capacity)
        var pc1 = setup.request(.pc1, .gib32)
        for _ in 0..<3 { ledger.take(try #require(ledger.place(pc1))) }
        // 36 GiB left on each node: a 64 GiB PC1 fits nowhere whole.
        #expect(ledger.place(pc1) == nil, "spilling is off by default")
        pc1.spillable = true
        let spilled = try #require(ledger.place(pc1))
        #expect(spilled.memory.count == 2 && spilled.memoryBytes == 64 * gib)
        #expect(spilled.memory[spilled.node] == 36 * gib, "as much as the cores' node has, the rest from one other")
        ledger.take(spilled)
        // 8 GiB left on two nodes and 36 on one: 44 GiB from two nodes is not enough.
        #expect(ledger.place(pc1) == nil)
    }

    @Test("with a spill granule, memory drawn from several nodes leaves each node's whole PC1 slots")
    func drawsFromSeveralNodesComeFromFragmentsFirst() throws {
        let setup = box(nodes: 2, perNode: 100)
        var ledger = ResourceLedger(setup.capacity)
        // 30 GiB held on node 1: free 100 (a 64 GiB slot and 36 over) and 70 (a slot and 6 over).
        ledger.take(Grant(node: 1, cpus: [], memory: [1: 30 * gib], hugepages: 0, gpu: nil, vramBytes: 0))
        let pooled = ResourceRequest(stage: .c2, cores: 1, memoryBytes: 40 * gib, numaBound: false)
        let pc1 = setup.request(.pc1, .gib32)
        // Without a granule the cores' node gives all it can: node 0 is left one PC1 short.
        var plain = ledger
        plain.take(try #require(plain.place(pooled)))
        #expect(plain.memory.freeBytes.count { $0 >= pc1.memoryBytes } == 1)
        ledger.memoryGranule = pc1.memoryBytes
        let grant = try #require(ledger.place(pooled))
        #expect(grant.memory == [0: 36 * gib, 1: 4 * gib])
        ledger.take(grant)
        #expect(ledger.memory.freeBytes == [64 * gib, 66 * gib])
        for node in 0..<2 {
            var pinned = pc1
            pinned.node = node
            #expect(ledger.place(pinned)?.hasRemoteMemory == false, "node \(node) still holds a PC1 whole")
        }
        // More than the fragments hold: whole slots go, from the node with the most free.
        let large = ResourceRequest(stage: .c2, cores: 1, memoryBytes: 70 * gib, numaBound: false)
        #expect(ledger.place(large)?.memory == [0: 4 * gib, 1: 66 * gib])
    }

    @Test("no PC1 spills while a short stage that needs a PC1's worth of memory waits; it spills once none does")
    func aSpillWaitsForTheShortStagesThatNeedItsMemory() throws {
        let setup = box(nodes: 2, perNode: 100)
        var pc1 = setup.request(.pc1, .gib32)
        pc1.spillable = true
        var policy = AdmissionPolicy()
        policy.spillGranule = pc1.memoryBytes
        var ledger = ResourceLedger(setup.capacity)
        // 50 GiB free on each node: a PC1 fits only spilled, a 128 GiB C2 not at all.
        for node in 0..<2 { ledger.take(Grant(node: node, cpus: [], memory: [node: 50 * gib], hugepages: 0, gpu: nil, vramBytes: 0)) }
        let c2 = ResourceRequest(stage: .c2, cores: 1, memoryBytes: 128 * gib, numaBound: false)
        var waiters = [Waiter(id: 1, request: c2, sequence: 1), Waiter(id: 2, request: pc1, sequence: 2)]
        var held = ledger
        #expect(policy.admit(&waiters, &held).isEmpty, "the spill would take what the waiting C2 needs")
        #expect(held.memory == ledger.memory)
        // Without the C2, the PC1 spills; without the granule (spilling as before) it spills anyway.
        var alone = [waiters[1]]
        let spilled = policy.admit(&alone, &held)
        #expect(spilled.count == 1 && spilled[0].grant.hasRemoteMemory)
        var before = AdmissionPolicy()
        before.spillGranule = 0
        var both = [Waiter(id: 1, request: c2, sequence: 1), Waiter(id: 2, request: pc1, sequence: 2)]
        var plain = ledger
        #expect(before.admit(&both, &plain).map(\.id) == [2])
        // A waiting short stage that needs less than a PC1's memory (here it waits for cores)
        // does not hold a spill back.
        var small = [Waiter(id: 3, request: ResourceRequest(stage: .pc2, cores: 40, memoryBytes: 32 * gib, numaBound: false), sequence: 3),
                     Waiter(id: 4, request: pc1, sequence: 4)]
        var room = ledger
        #expect(policy.admit(&small, &room).map(\.id) == [4])
    }

    @Test("with spilling, whole box states bound nps4-1s-spill at scipy's optimum over the same states, under the pooled bound")
    func spillStatesMatchAnIndependentLP() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../config/workloads/nps4-1s-spill.toml").standardized.path
        guard case let .success(workload) = Workload.load(path: path) else {
            Issue.record("nps4-1s-spill does not load")
            return
        }
        let capacity = try #require(workload.resources.describedCapacity)
        let setup = SimulationSetup(capacity: capacity, costs: workload.resources.costTable, workload: workload, threads: workload.threads,
                                    days: 1, policy: .dynamic(SimulationSetup.dynamicPolicy(workload)))
        let bound = PackingBound(setup, spillSlowdown: workload.resources.pc1SpillSlowdown)
        let spilling = try #require(bound.nodesWithSpill)
        // Fixtures/spill-states-lp.py (scipy's HiGHS on the same box and costs): 74.50193050193052.
        #expect(abs(spilling - 74.50193050193052) < 1e-6)
        // The nodes' program pools spilled PC1s with the C2s beside them and allows more (75.8).
        let pooled = PackingBound.solveNodes(capacity, PackingBound.demands(setup).filter { $0.stage == .pc1 },
                                             PackingBound.demands(setup).filter { $0.stage != .pc1 },
                                             capacity.nodes.map { PackingBound.mixes($0, PackingBound.demands(setup).filter { $0.stage == .pc1 }) },
                                             post: nil, headroom: nil, spill: 0.3)
        #expect(pooled > spilling + 1)
        #expect(bound.value == spilling && bound.nodesWithHeadroom == spilling)
    }

    @Test func spillingBuysThroughputOnAnNPS4BoxAndTheWorkloadKeyIsRead() throws {
        let path = NSTemporaryDirectory() + "spill-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name = \"s\"\n[[sectors]]\nkind = \"cc\"\n[resources]\npc1_spill_slowdown = 0.3\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case let .success(loaded) = Workload.load(path: path) else {
            Issue.record("the workload does not load")
            return
        }
        #expect(loaded.resources.pc1SpillSlowdown == 0.3)
        var setup = box(threads: 24, days: 3)
        let kept = Simulator(setup).run()
        setup.workload.resources.pc1SpillSlowdown = 0.3
        setup.recordTimeline = true
        let spilled = Simulator(setup).run()
        #expect(spilled.oversubscriptions == 0)
        #expect(spilled.sectorsPerDay > kept.sectorsPerDay)
        // Spilled runs are the 30% longer ones (the timeline also shows stages still running at the
        // end, cut there: those are left out).
        let horizon = Duration.seconds(setup.days * 86_400)
        let pc1s = spilled.segments.filter { $0.stage == .pc1 && $0.end < horizon }
        #expect(pc1s.contains { $0.grant.hasRemoteMemory })
        for segment in pc1s {
            let minutes = (segment.end - segment.start).inSeconds / 60
            #expect(abs(minutes - (segment.grant.hasRemoteMemory ? 234 : 180)) < 1e-6)
        }
        let bound = PackingBound(setup, spillSlowdown: 0.3)
        #expect(try #require(bound.nodesWithSpill) > bound.nodes)
        #expect(spilled.workPerDay <= 1.01 * bound.value)
    }
}

@Suite(.computeBound) struct CrynuxSimulationTests {
    private func shared(perHour: Int, share: Double? = nil) -> SimulationSetup {
        var setup = box(gpus: 1, threads: 16, days: 3)
        setup.workload.crynux = .init(perHour: perHour, duration: minute * 2, vramBytes: 12 * gib, gpuShare: share, maxWait: minute)
        return setup
    }

    @Test func inferenceTakesWhatSealingLeavesAndSealingBarelyNotices() {
        var alone = shared(perHour: 6)
        alone.workload.crynux = nil
        let sealing = Simulator(alone).run()
        let both = Simulator(shared(perHour: 6)).run()
        #expect(both.oversubscriptions == 0)
        // 6 an hour of 2 minutes on one GPU (0.2 of it offered) that sealing leaves mostly idle:
        // most offers are taken, the rest found the GPU busy for over a minute.
        #expect(both.crynuxArrivedPerDay > 100 && both.crynuxPerDay > 0.75 * both.crynuxArrivedPerDay)
        #expect(both.crynuxMaxWait <= minute)
        #expect(both.sectorsPerDay >= 0.97 * sealing.sectorsPerDay)
        #expect(sealing.crynuxPerDay == 0 && sealing.crynuxArrivedPerDay == 0)
    }

    /// The daemon's rule: gpu_share (or like_c2) lets inference ahead of sealing's GPU stages, so
    /// it gets more GPU time than "what sealing leaves", and sealing pays for it.
    @Test func gpuShareAndLikeC2GoAheadOfSealing() {
        // 10 an hour of 2 minutes: Crynux stays under its 0.5 share, so it always queues ahead.
        var likeC2Setup = shared(perHour: 10)
        likeC2Setup.workload.crynux?.priority = .likeC2
        let (leftoverSetup, aheadSetup, likeSetup) = (shared(perHour: 10), shared(perHour: 10, share: 0.5), likeC2Setup)
        let (leftover, ahead, likeC2) = (Simulator(leftoverSetup).run(), Simulator(aheadSetup).run(), Simulator(likeSetup).run())
        #expect(ahead.oversubscriptions == 0 && likeC2.oversubscriptions == 0)
        #expect(ahead.crynuxPerDay > leftover.crynuxPerDay, "\(ahead.crynuxPerDay) vs \(leftover.crynuxPerDay)")
        #expect(likeC2.crynuxPerDay >= ahead.crynuxPerDay)
        #expect(ahead.sectorsPerDay <= leftover.sectorsPerDay)
    }

    @Test func theCrynuxTableIsRead() throws {
        let path = NSTemporaryDirectory() + "crynux-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "name = \"c\"\n[[sectors]]\nkind = \"cc\"\n[crynux]\ntasks_per_hour = 12\nduration = \"3m\"\nvram = \"10GiB\"\ngpu_share = 0.25\nmax_wait = \"30s\"\npriority = \"like_c2\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        guard case let .success(w) = Workload.load(path: path) else {
            Issue.record("does not load")
            return
        }
        #expect(w.crynux == .init(perHour: 12, duration: minute * 3, vramBytes: 10 * gib, gpuShare: 0.25, maxWait: .seconds(30), priority: .likeC2))
        try "name = \"c\"\n[[sectors]]\nkind = \"cc\"\n[crynux]\ngpu_share = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case let .failure(error) = Workload.load(path: path) else {
            Issue.record("gpu_share 2 must be refused")
            return
        }
        #expect(error.description.contains("gpu_share"))
    }
}
