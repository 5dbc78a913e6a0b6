import Foundation
import TestSupport
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

    static func ref(_ n: UInt64) -> SectorRef {
        SectorRef(id: SectorID(miner: 1000, number: n), proof: SealProof(sectorSize: .kib2), paths: SectorPaths(staged: "", cache: "", sealed: ""))
    }

    @Test("coordinator: a thread that leaves a running batch gets its output when it comes back; the batch goes on; a forming one forgets it")
    func leaveAndComeBack() async throws {
        var durations = Dictionary(uniqueKeysWithValues: ProofStage.allCases.map { ($0, Duration.milliseconds(1)) })
        durations[.supraPC1] = .milliseconds(300)
        let batch = BatchCoordinator(size: 2, prover: MockProver(options: .init(durations: durations)), broker: nil, log: quietLog)
        let ticket = [UInt8](repeating: 1, count: 32)
        let (a, b) = (await batch.token(), await batch.token())
        let first = Task { await batch.pc1(Self.ref(1), thread: "t", ticket: ticket, pieces: [], token: a) }
        let second = Task { await batch.pc1(Self.ref(2), thread: "t", ticket: ticket, pieces: [], token: b) }
        try await eventually("formed") {
            let formed = await batch.batchCount, forming = await batch.formingCount
            return formed == 1 && forming == 0
        }
        await batch.withdraw(a)
        guard case .withdrawn = await first.value else { Issue.record("the withdrawn thread is answered at once"); return }
        let again = await batch.pc1(Self.ref(1), thread: "t", ticket: ticket, pieces: [], token: await batch.token())
        guard case let .done(m1) = again, case let .done(m2) = await second.value else { Issue.record("both get their outputs"); return }
        #expect(m1 == m2 && m1.members.map(\.sector.number) == [1, 2] && m1.id == "s-t01000-1")
        let (out1, out2) = (m1.members[0].pc1Output, m1.members[1].pc1Output)
        #expect(out1 != out2 && out1.bytes.count == 64)
        // Coming back after the batch PC1 ended: the output is kept.
        guard case .done(m1) = await batch.pc1(Self.ref(1), thread: "t", ticket: ticket, pieces: [], token: await batch.token()) else {
            Issue.record("kept output"); return
        }
        async let c1 = batch.pc2(Self.ref(1), membership: m1, token: await batch.token())
        async let c2 = batch.pc2(Self.ref(2), membership: m1, token: await batch.token())
        guard case .done = await c1, case .done = await c2 else { Issue.record("PC2 for both"); return }
        await batch.finalized(SectorID(miner: 1000, number: 1))
        #expect(await batch.batchCount == 1, "one sector still needs the layers")
        await batch.finalized(SectorID(miner: 1000, number: 2))
        #expect(await batch.batchCount == 0)

        let lone = await batch.token()
        let waiting = Task { await batch.pc1(Self.ref(3), thread: "t", ticket: ticket, pieces: [], token: lone) }
        try await eventually("forming") { await batch.formingCount == 1 }
        await batch.withdraw(lone)
        guard case .withdrawn = await waiting.value else { Issue.record("left the forming batch"); return }
        #expect(await batch.formingCount == 0)
        // A sector whose batch no record re-formed (its batch-mates' records unread) re-forms it
        // alone: the batch PC2 runs for it, never a stock PC2.
        let alone = BatchMembership(id: "s-t01000-9", proof: Self.ref(9).proof, members: [
            .init(sector: Self.ref(9).id, thread: "t", paths: Self.ref(9).paths, pc1Output: out1)], nvme: nil)
        guard case .done = await batch.pc2(Self.ref(9), membership: alone, token: await batch.token()) else {
            Issue.record("a sector of a batch unknown here re-forms it alone"); return
        }
        await batch.finalized(Self.ref(9).id)
        #expect(await batch.batchCount == 0)
    }

    @Test("coordinator: a failed batch PC1 answers every thread with the error and dissolves the batch")
    func failedPC1() async throws {
        let prover = MockProver(options: .init(failSectors: [.supraPC1: [2]]))
        let batch = BatchCoordinator(size: 2, prover: prover, broker: nil, log: quietLog)
        let ticket = [UInt8](repeating: 1, count: 32)
        async let one = batch.pc1(Self.ref(1), thread: "t", ticket: ticket, pieces: [], token: await batch.token())
        async let two = batch.pc1(Self.ref(2), thread: "t", ticket: ticket, pieces: [], token: await batch.token())
        guard case let .failed(e1) = await one, case .failed = await two else { Issue.record("both fail"); return }
        #expect(e1.stage == .supraPC1 && e1.message.contains("s-t01000-2"))
        #expect(await batch.batchCount == 0)
    }
}
