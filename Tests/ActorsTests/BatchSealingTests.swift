import Foundation
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

@Suite("Batch sealing")
struct BatchSealingTests {
    /// One node, no cores claimed (test sizes), and one NVMe drive that holds exactly one slot of
    /// 4 × 2 KiB sectors (11 × 2 KiB × 4 = 88 KiB).
    static let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1]], memoryBytes: 1 << 30)], gpus: [],
                                 nvme: [NVMeCapacity(index: 0, node: 0, bytes: 100 << 10)])

    @Test("a batch of 4 mock sectors seals through the embedded manager; one sector's C2 fails, the other 3 finish")
    func batchWithOneFailedC2() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        // The stock PC1/PC2/C1 would take an hour: only the batch stages can finish in time.
        var durations = Dictionary(uniqueKeysWithValues: ProofStage.allCases.map { ($0, Duration.milliseconds(1)) })
        for stage in [ProofStage.pc1, .pc2, .c1] { durations[stage] = .seconds(3600) }
        durations[.supraPC1] = .milliseconds(50)
        durations[.supraPC2] = .milliseconds(20)
        let prover = MockProver(options: .init(durations: durations, failSectors: [.c2: [2]]))
        let broker = ResourceBroker(capacity: Self.box)
        let batch = BatchCoordinator(size: 4, prover: prover, broker: broker, log: quietLog)
        let threads = (0..<4).map { i in
            SealingThread(settings: fastSettings(i, dir.path + "/t\(i)"), manager: manager, prover: prover, broker: broker, log: quietLog, batch: batch)
        }
        let tasks = threads.map { thread in Task { await thread.run() } }
        defer { for task in tasks { task.cancel() } }

        let failed = SectorID(miner: 10000, number: 2)
        try await eventually("3 sectors finalized") {
            await manager.sectors.filter { $0.key != failed && $0.value.finalized > 0 }.count >= 3
        }
        // The failing sector's thread pauses on its own C2; its record keeps the sector.
        var failedThread: SealingThread?
        try await eventually("the failed sector's thread paused") {
            for thread in threads where thread.isPaused {
                if await thread.info().jobID == "\(failed)" { failedThread = thread }
            }
            return failedThread != nil
        }
        let info = try #require(await failedThread?.info())
        #expect(info.jobState == "C1Done")
        #expect(info.lastError?.contains("mock failure injected for \(failed)") == true)
        #expect((await manager.sectors[failed]?.finalized ?? 0) == 0)
        #expect(await manager.mismatchedProofs.isEmpty)

        // Every sector of the batch has done its C1: the NVMe slot is back, nothing leaked.
        try await eventually("the batch finalized") { await batch.batchCount == 0 }
        #expect(await broker.nvmePool.free() == [0: 100 << 10])
        #expect(await broker.isBalanced)
        // The 3 finished threads took new sectors and wait for a fourth to form the next batch.
        try await eventually("the next batch forming") { await batch.formingCount == 3 }

        for i in 0..<4 {
            let history = try ThreadStore.readHistory(path: dir.path + "/t\(i)/meta/history").entries
            let first = history.first.map(\.sector) ?? ""
            let events = history.filter { $0.sector == first }.map(\.event)
            // Each sector keeps its own record through the seed's states.
            let expected = ["Allocate", "AcquireDeals", "AddPiece", "BuildTreeD", "AssignTicket", "PC1", "PC2", "SubmitPC",
                            "CheckPC", "Persist", "SubmitPersistance", "AssignSeed", "C1"]
            #expect(Array(events.prefix(expected.count)) == expected, "\(first): \(events)")
            if first != "\(failed)" { #expect(events.suffix(3) == ["C2", "SubmitProof", "Finish"], "\(first): \(events)") }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    @Test("a batch PC1 waits for an NVMe slot: the pool admits one batch at a time and releases the slot at finalize")
    func nvmeSlotAdmission() async throws {
        let broker = ResourceBroker(capacity: Self.box)
        let request = ResourceRequest(stage: .supraPC1, cost: CostTable.defaults.batchCost(.supraPC1, .kib2, batch: 4))
        #expect(request.nvmeBytes == 88 << 10)
        guard case let .granted(first) = try await broker.enqueue(request) else { Issue.record("the first batch fits"); return }
        guard case let .waiting(id, refusal) = try await broker.enqueue(request) else { Issue.record("the second batch must wait"); return }
        #expect(refusal.pool == .nvme)
        // PC1 ends: cores and memory go back, the slot stays.
        await first.keepOnlyNVMe()
        #expect(await broker.usage.held.map(\.nvmeBytes) == [88 << 10])
        #expect(await broker.nvmePool.freeSlots(slotBytes: 88 << 10) == [0: 0])
        await first.release()
        let second = await broker.wait(id)
        #expect(second?.grant.nvme == [0: 88 << 10])
        await second?.release()
        #expect(await broker.isBalanced)
    }

    @Test("metrics: NVMe layer space per drive, capacity, leased to batches and free; no NVMe series without drives")
    func nvmeMetrics() {
        var snapshot = MetricsSnapshot()
        snapshot.capacity = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0]], memoryBytes: 10)], gpus: [],
                                        nvme: [NVMeCapacity(index: 0, node: 0, bytes: 1000), NVMeCapacity(index: 1, node: 0, bytes: 500)])
        snapshot.held = [Grant(node: 0, cpus: [], memory: [:], hugepages: 0, gpu: nil, vramBytes: 0, nvme: [0: 300, 1: 300])]
        let text = Metrics.render(snapshot, workerName: "w", workerIP: "ip")
        let g = #"worker_name="w",worker_ip="ip""#
        #expect(text.contains(#"sealer_pool_nvme_bytes{\#(g),drive="0",kind="leased"} 300"#))
        #expect(text.contains(#"sealer_pool_nvme_bytes{\#(g),drive="1",kind="free"} 200"#))
        #expect(text.contains(#"sealer_pool_nvme_bytes{\#(g),drive="0",kind="capacity"} 1000"#))
        snapshot.capacity?.nvme = []
        #expect(!Metrics.render(snapshot, workerName: "w", workerIP: "ip").contains("sealer_pool_nvme_bytes"))
    }
}
