import Foundation
import ProofsFFI
@testable import Scheduler
import TestSupport
import Testing

private let gib: UInt64 = 1 << 30
private let tib: UInt64 = 1 << 40

/// Two nodes of 2 L3 groups × 4 cores; NVMe: two 10 TiB drives on node 0, one 5 TiB on node 1.
private let box = BoxCapacity(
    nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1, 2, 3], [4, 5, 6, 7]], memoryBytes: 64 * gib, hugepages: 36),
            NodeCapacity(id: 1, l3Groups: [[8, 9, 10, 11], [12, 13, 14, 15]], memoryBytes: 64 * gib, hugepages: 36)],
    gpus: [],
    nvme: [NVMeCapacity(index: 0, node: 0, bytes: 10 * tib), NVMeCapacity(index: 1, node: 0, bytes: 10 * tib),
           NVMeCapacity(index: 2, node: 1, bytes: 5 * tib)])

@Suite(.computeBound) struct BatchPoolTests {
    @Test("Curio's sizing: a slot is 11 × sector size × batch; slots per node from the layer space there")
    func slotSizing() {
        #expect(BatchSizing.slotBytes(.gib32, batch: 64) == 11 * 32 * 64 * gib)
        #expect(BatchSizing.slotBytes(.gib64, batch: 16) == 11 * 64 * 16 * gib)
        // Node 0's 20 TiB hold no 64-sector slot (22 TiB) but three 16-sector ones (5.5 TiB).
        #expect(NVMeLedger.slots(box, slotBytes: BatchSizing.slotBytes(.gib32, batch: 64)) == [0: 0, 1: 0])
        #expect(NVMeLedger.slots(box, slotBytes: BatchSizing.slotBytes(.gib32, batch: 16)) == [0: 3, 1: 0])
        #expect(NVMeLedger.slots(box, slotBytes: 5 * tib) == [0: 4, 1: 1])
    }

    @Test("a slot is striped evenly over the node's drives, taken and given back exactly")
    func stripeTakeGive() throws {
        var ledger = ResourceLedger(box)
        var request = ResourceRequest(stage: .supraPC1, cores: 4, memoryBytes: 0, hugepages: 36)
        request.wholeL3 = true
        request.nvmeBytes = 12 * tib
        let grant = try #require(ledger.place(request))
        #expect(grant.node == 0, "only node 0 has 12 TiB")
        #expect(grant.nvme == [0: 6 * tib, 1: 6 * tib])
        #expect(grant.cpus == [0, 1, 2, 3], "one whole L3 group")
        ledger.take(grant)
        #expect(ledger.nvme.free(near: 0) == 8 * tib)
        #expect(ledger.place(request) == nil, "no node has 12 TiB left")
        #expect(Refusal.explain(request, in: ledger).pool == .nvme)
        // PC1 ends: all but the slot goes back.
        ledger.give(grant.withoutNVMe)
        #expect(ledger.freeCPUCount(node: 0) == 8 && ledger.memory.freeHugepages[0] == 36)
        #expect(ledger.nvme.free(near: 0) == 8 * tib)
        ledger.give(grant.nvmeOnly)
        #expect(ledger == ResourceLedger(box))
    }

    @Test("uneven drives: the stripe fills the emptier drives' share from the others")
    func unevenStripe() {
        let drives = BoxCapacity(nodes: box.nodes, gpus: [], nvme: [NVMeCapacity(index: 0, node: nil, bytes: 2 * tib),
                                                                    NVMeCapacity(index: 1, node: 0, bytes: 10 * tib)])
        let shares = NVMeLedger(drives).stripe(8 * tib, near: 0)
        #expect(shares == [0: 2 * tib, 1: 6 * tib])
        #expect(NVMeLedger(drives).stripe(8 * tib, near: 1) == [:], "node 1 reaches only the unbound 2 TiB drive")
        #expect(NVMeLedger(drives).stripe(2 * tib, near: 1) == [0: 2 * tib])
    }

    @Test("whole L3 groups: a batch PC1 takes only wholly free groups; other stages on a batch box fill used groups first")
    func wholeL3() throws {
        var ledger = ResourceLedger(box)
        let small = try #require(ledger.place(ResourceRequest(stage: .c1, cores: 1, memoryBytes: 1 * gib)))
        ledger.take(small)
        var pc1 = ResourceRequest(stage: .supraPC1, cores: 5, memoryBytes: 0, hugepages: 0)
        pc1.wholeL3 = true
        let big = try #require(ledger.place(pc1))
        #expect(big.node == 1 && big.cpus == Array(8...15), "node 0 has a core taken: only node 1 has two whole groups")
        ledger.take(big)
        // The next single core goes beside the first, keeping node 0's second group whole.
        let next = try #require(ledger.place(ResourceRequest(stage: .c1, cores: 1, memoryBytes: 1 * gib)))
        #expect(next.node == 0 && next.cpus == [small.cpus[0] + 1])
    }

    @Test("a box without NVMe ignores the NVMe ask, as a box without GPUs ignores VRAM")
    func noNVMeIgnored() {
        let plain = BoxCapacity(nodes: box.nodes, gpus: [])
        var request = ResourceRequest(stage: .supraPC1, cores: 2, memoryBytes: 0)
        request.nvmeBytes = 100 * tib
        #expect(ResourceLedger(plain).place(request)?.nvme == [:])
    }

    @Test("batch cost rows: 64-sector SupraSeal figures, scaled by batch size")
    func batchCosts() {
        let table = CostTable.defaults
        let pc1 = table.batchCost(.supraPC1, .gib32, batch: 64)
        #expect(pc1.duration == .seconds(210 * 60) && pc1.hugepages == 36 && pc1.wholeL3 && pc1.cores == 24)
        #expect(pc1.nvmeBytes == BatchSizing.slotBytes(.gib32, batch: 64))
        let half = table.batchCost(.supraPC1, .gib32, batch: 32)
        #expect(half.cores == 12 && half.duration == pc1.duration && half.nvmeBytes == pc1.nvmeBytes / 2)
        #expect(table.batchCost(.supraPC2, .gib32, batch: 128).duration == .seconds(180 * 60))
        #expect(table.batchCost(.c2, .gib32, batch: 64) == table.cost(.c2, .gib32), "per-sector stages are as today")
        let request = ResourceRequest(stage: .supraPC1, cost: pc1)
        #expect(request.nvmeBytes == pc1.nvmeBytes && request.wholeL3 && request.hugepages == 36 && request.memoryBytes == 0)
    }

    @Test("[sealing] mode = \"batch\" with batch_size; [resources.box] nvme; bad values name their key")
    func config() {
        let base = """
        [sector_manager]
        rpc_client.addr = "embedded"

        """
        let threads = (0..<16).map { "[[sealing_thread]]\nlocation = \"/tmp/b\($0)\"\n" }.joined()
        let good = ConfigDecoder.decode(bytes: Array((base + """
        [sealing]
        mode = "batch"
        batch_size = 16

        [resources.box]
        nodes = 2
        nvme = ["15.36TB", "7.68TB"]

        """ + threads).utf8), file: "b.toml")
        #expect(good.config?.batch == BatchMode(size: 16), "\(good.diagnostics)")
        let capacity = good.config?.resources.describedCapacity
        #expect(capacity?.nvme.map(\.bytes) == [15_360_000_000_000, 7_680_000_000_000])
        #expect(capacity?.nvme.map(\.node) == [0, 1])
        func error(_ sealing: String, _ extra: String = "") -> String {
            let r = ConfigDecoder.decode(bytes: Array((base + "[sealing]\n" + sealing + "\n" + extra + threads).utf8), file: "b.toml")
            return r.diagnostics.filter(\.isError).map(\.description).joined(separator: "; ")
        }
        #expect(error("mode = \"batch\"\nbatch_size = 48").contains("sealing.batch_size"))
        #expect(error("mode = \"batches\"").contains("unknown sealing mode"))
        #expect(error("batch_size = 16").contains("needs mode = \"batch\""))
        #expect(error("mode = \"batch\"\nbatch_size = 32").contains("do not make whole batches of 32"))
        #expect(error("mode = \"batch\"\nbatch_size = 16", "[resources.box]\nnvme = [\"lots\"]\n").contains("resources.box.nvme[0]"))
        #expect(error("mode = \"batch\"\nbatch_size = 16").isEmpty)
    }

    @Test("simulator: a batch workload seals in batches, keeps NVMe slots until finalize and never oversubscribes")
    func simulateBatches() throws {
        var workload = Workload(name: "batch")
        workload.sectors = [.init(kind: .batch, size: .gib32, weight: 1)]
        workload.batchSize = 16
        workload.jitter = 0
        let capacity = BoxCapacity(
            nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]], memoryBytes: 512 * gib, hugepages: 36)],
            gpus: [GPUCapacity(index: 0, node: 0, vramBytes: 24 * gib)],
            nvme: [NVMeCapacity(index: 0, node: 0, bytes: BatchSizing.slotBytes(.gib32, batch: 16))])
        let setup = SimulationSetup(capacity: capacity, costs: .defaults, workload: workload, threads: 32, days: 12, policy: .dynamic(AdmissionPolicy()))
        let result = Simulator(setup).run()
        #expect(result.oversubscriptions == 0)
        #expect(result.completed >= 3 * 16, "\(result.completed)")
        // One NVMe slot: batches go one at a time from PC1 to their last C1, so the slot binds.
        let bound = ThroughputBound(setup)
        #expect(bound.limitedBy == "nvme", "\(bound.byResource)")
        let held = (210 + 90.0 * 16 / 64 + 75) * 60 + 1
        #expect(abs(bound.byResource["nvme"]! - 86_400.0 / held * 16) < 1e-6)
        // Sectors finish 16 at a time: the steady window may hold one batch more than its share.
        let window = 12 - Double(Simulator.longestCycle(setup)) / 86_400_000
        #expect(result.sectorsPerDay <= bound.value + 16 / window)
        #expect(result.sectorsPerDay >= 0.9 * bound.value, "\(result.sectorsPerDay) of \(bound.value)")
    }

    @Test("the supraseal-2socket workload loads: 6 batches of 64, 8 drives, two 64-sector slots a socket")
    func shippedWorkload() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../config/workloads/supraseal-2socket.toml").path
        let workload = try Workload.load(path: path).get()
        #expect(workload.batchSize == 64 && workload.threads == 384 && workload.sectors.first?.kind == .batch)
        let capacity = try #require(workload.resources.describedCapacity)
        #expect(capacity.nvme.count == 8)
        #expect(NVMeLedger.slots(capacity, slotBytes: BatchSizing.slotBytes(.gib32, batch: 64)) == [0: 2, 1: 2])
    }

    @Test("packing bound on the SupraSeal box: a batch stage counts once per batch, a batch PC1 takes whole CCXs")
    func packingBoundCountsBatchesOnce() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../config/workloads/supraseal-2socket.toml").path
        let workload = try Workload.load(path: path).get()
        let capacity = try #require(workload.resources.describedCapacity)
        let setup = SimulationSetup(capacity: capacity, costs: workload.resources.costTable, workload: workload, threads: workload.threads,
                                    days: 1, policy: .dynamic(SimulationSetup.dynamicPolicy(workload)))
        let demands = PackingBound.demands(setup)
        let pc1 = try #require(demands.first { $0.stage == .supraPC1 })
        #expect(abs(pc1.share - 1.0 / 64) < 1e-12, "one batch PC1 per 64 sectors")
        #expect(abs(pc1.days - 3.5 / 24) < 1e-9, "the 64-sector batch's 3.5 h")
        let bound = PackingBound(setup)
        #expect(bound.integral.contains("supra_pc1/32GiB"))
        // One batch PC1 per socket (36 hugepages, 3 of 4 CCXs): at most 2 × 64 sectors per 3.5 h.
        #expect(bound.nodes <= 2 * 64 * 24 / 3.5 + 1e-6)
        // And no lower than the fluid CPU bound says once whole CCXs are counted (batch work comes in 8-core units).
        #expect(bound.nodes >= 0.99 * ThroughputBound(setup).value, "\(bound.nodes)")
    }
}
