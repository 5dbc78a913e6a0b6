import Foundation
import TestSupport
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

/// Batches across restarts and aborted members: the records keep each sector's batch, a restart
/// re-forms it (batch PC2 and `supra_c1`, never the stock stages), and a member that is gone
/// neither holds up its batch-mates nor keeps the NVMe slot.
@Suite("Batch sealing across restarts")
struct BatchRestartTests {
    /// Every stage at 1 ms except `slow`, which takes an hour: a sector that needs one of them
    /// cannot finish within a test.
    static func prover(slow: [ProofStage], failSectors: [ProofStage: Set<UInt64>] = [:]) -> MockProver {
        var durations = Dictionary(uniqueKeysWithValues: ProofStage.allCases.map { ($0, Duration.milliseconds(1)) })
        for stage in slow { durations[stage] = .seconds(3600) }
        return MockProver(options: .init(durations: durations, failSectors: failSectors))
    }

    static func start(_ count: Int, _ dir: TempDir, manager: MockManager, prover: MockProver, broker: ResourceBroker,
                      batch: BatchCoordinator) -> (threads: [SealingThread], tasks: [Task<Void, Never>]) {
        let threads = (0..<count).map { i in
            SealingThread(settings: fastSettings(i, dir.path + "/t\(i)"), manager: manager, prover: prover, broker: broker, log: quietLog, batch: batch)
        }
        return (threads, threads.map { thread in Task { await thread.run() } })
    }

    static func records(_ count: Int, _ dir: TempDir) throws -> [SectorRecord] {
        try (0..<count).compactMap { try ThreadStore(location: dir.path + "/t\($0)").load() }
    }

    /// Seals a batch of 4 up to batch PC2 and stops every thread there (a crash: the batch PC2
    /// never ends); returns the records on disk.
    static func crashBeforePC2(_ dir: TempDir, manager: MockManager) async throws -> [SectorRecord] {
        let prover = Self.prover(slow: [.pc1, .pc2, .c1, .supraPC2])
        let broker = ResourceBroker(capacity: BatchSealingTests.box)
        let batch = BatchCoordinator(size: 4, prover: prover, broker: broker, log: quietLog)
        let (_, tasks) = start(4, dir, manager: manager, prover: prover, broker: broker, batch: batch)
        try await eventually("every sector at batch PC2") {
            try records(4, dir).filter { $0.state == .pc1Done && $0.phases.batch != nil }.count == 4
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        return try records(4, dir)
    }

    /// `read`: how many of the 4 records the restart reads (a member whose record was not read
    /// re-joins its batch when its thread reaches it).
    @Test("a restart after batch PC1 re-forms the batch from the records: supra_pc2 and supra_c1, never stock PC2/C1; the slot is re-taken and released at the last C1",
          arguments: [4, 3])
    func restartBeforePC2(read: Int) async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let before = try await Self.crashBeforePC2(dir, manager: manager)
        // Every record names the same batch, its members in order, each one's PC1 output, and
        // the NVMe slot the batch PC1 took.
        let membership = try #require(before.first?.phases.batch)
        #expect(before.allSatisfy { $0.phases.batch == membership })
        #expect(Set(membership.members.map(\.sector)) == Set(before.compactMap(\.sector)))
        #expect(membership.nvme?.nvme == [0: 88 << 10])
        for (i, record) in before.enumerated() {
            let sector = try #require(record.sector)
            let slot = try #require(membership.slot(of: sector))
            #expect(membership.members[slot].pc1Output == record.phases.pc1Output)
            #expect(membership.members[slot].thread == dir.path + "/t\(i)")
        }

        // The restarted process: fresh pools, a fresh coordinator, stock PC2/C1 an hour long.
        let prover = Self.prover(slow: [.pc1, .pc2, .c1])
        let broker = ResourceBroker(capacity: BatchSealingTests.box)
        let batch = BatchCoordinator(size: 4, prover: prover, broker: broker, log: quietLog)
        #expect(await batch.restore(Array(before.prefix(read))) == 1)
        // The slot is held again before any thread runs: the books match the layers on disk.
        #expect(await broker.usage.held.map(\.nvme) == [[0: 88 << 10]])
        #expect(await broker.isBalanced)
        let (threads, tasks) = Self.start(4, dir, manager: manager, prover: prover, broker: broker, batch: batch)
        defer { for task in tasks { task.cancel() } }
        // Each thread finishes the sector it holds and takes no new one (no second batch).
        for thread in threads { _ = thread.requestDrain() }
        let sectors = Set(membership.members.map(\.sector))
        try await eventually("the batch's 4 sectors finalized") {
            await manager.sectors.filter { sectors.contains($0.key) && $0.value.finalized > 0 }.count == 4
        }
        #expect(await manager.mismatchedProofs.isEmpty)
        try await eventually("the slot released") { await batch.batchCount == 0 }
        #expect(await broker.usage.held.allSatisfy { $0.nvme.isEmpty })
        #expect(await broker.isBalanced)
        for i in 0..<4 {
            let history = try ThreadStore.readHistory(path: dir.path + "/t\(i)/meta/history").entries
            let first = history.first.map(\.sector) ?? ""
            let events = history.filter { $0.sector == first }.map(\.event)
            #expect(events.contains("PC2") && events.contains("C1") && events.last == "Finish", "\(first): \(events)")
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    @Test("restart rule: a member aborted before the restart is not waited for; the other 3 finish with the batch PC2 and the slot is released")
    func restartWithAbortedMember() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        var before = try await Self.crashBeforePC2(dir, manager: manager)
        // Thread 0's sector was aborted before the crash (its record says so).
        before[0].state = .aborted
        before[0].abortReason = "test: aborted before the restart"
        try ThreadStore(location: dir.path + "/t0").saveNow(before[0])
        let gone = try #require(before[0].sector)

        let prover = Self.prover(slow: [.pc1, .pc2, .c1])
        let broker = ResourceBroker(capacity: BatchSealingTests.box)
        let batch = BatchCoordinator(size: 4, prover: prover, broker: broker, log: quietLog)
        #expect(await batch.restore(try Self.records(4, dir)) == 1)
        let (threads, tasks) = Self.start(4, dir, manager: manager, prover: prover, broker: broker, batch: batch)
        defer { for task in tasks { task.cancel() } }
        // Each thread finishes the sector it holds and takes no new one (no second batch).
        for thread in threads { _ = thread.requestDrain() }
        let others = Set(try #require(before[0].phases.batch).members.map(\.sector)).subtracting([gone])
        try await eventually("the 3 live sectors finalized") {
            await manager.sectors.filter { others.contains($0.key) && $0.value.finalized > 0 }.count == 3
        }
        try await eventually("the slot released") { await batch.batchCount == 0 }
        #expect(await broker.nvmePool.free() == [0: 100 << 10])
        #expect(await broker.isBalanced)
        #expect(await manager.sectors[gone]?.finalized == 0)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    @Test("a sector aborted between batch PC1 and its C1 counts as finalized: the NVMe slot is released after its batch-mate's C1")
    func abortedMemberReleasesSlot() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        // Sector 2's supra_c1 always fails: its thread pauses at SeedAssigned, holding the batch.
        let prover = Self.prover(slow: [.pc1, .pc2, .c1], failSectors: [.supraC1: [2]])
        let broker = ResourceBroker(capacity: BatchSealingTests.box)
        let batch = BatchCoordinator(size: 2, prover: prover, broker: broker, log: quietLog)
        let (threads, tasks) = Self.start(2, dir, manager: manager, prover: prover, broker: broker, batch: batch)
        defer { for task in tasks { task.cancel() } }
        let failed = SectorID(miner: 10000, number: 2)
        var paused: SealingThread?
        try await eventually("sector 2's thread paused on its supra_c1") {
            for thread in threads where thread.isPaused {
                if await thread.info().jobID == "\(failed)" { paused = thread }
            }
            return paused != nil
        }
        try await eventually("sector 1 finalized") { await manager.sectors[SectorID(miner: 10000, number: 1)]?.finalized == 1 }
        // No second batch may form: sector 1's thread stops at its next boundary (or waits alone
        // in a forming batch), sector 2's after its abort.
        for thread in threads { _ = thread.requestDrain() }
        // Its batch-mate is done; the slot is still held for sector 2's C1.
        #expect(await batch.batchCount == 1)
        #expect(await broker.usage.held.map(\.nvmeBytes) == [44 << 10])
        // The operator aborts sector 2: it leaves the batch, and the slot goes back.
        try await paused?.resume(state: "Aborted")
        try await eventually("sector 2 aborted") { await manager.sectors[failed]?.aborted != nil }
        try await eventually("the slot released") { await batch.batchCount == 0 }
        #expect(await broker.usage.held.allSatisfy { $0.nvme.isEmpty })
        #expect(await broker.isBalanced)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    @Test("a sector with a batch never falls back to the stock PC2: with batch mode off its thread pauses and says why")
    func batchModeOffPauses() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let before = try await Self.crashBeforePC2(dir, manager: manager)
        let prover = Self.prover(slow: [])
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: prover, log: quietLog)
        let task = Task { await thread.run() }
        defer { task.cancel() }
        try await eventually("paused") { thread.isPaused }
        let info = await thread.info()
        #expect(info.jobState == "PC1Done" && info.jobID == before[0].sector?.description)
        #expect(info.lastError?.contains("batch mode is off") == true, "\(info.lastError ?? "-")")
        task.cancel()
        await task.value
    }

    @Test("coordinator: a member that leaves before batch PC2 is not waited for; the PC2 runs from the batch's PC1 outputs")
    func leaveBeforePC2() async throws {
        let batch = BatchCoordinator(size: 2, prover: Self.prover(slow: []), broker: nil, log: quietLog)
        let ticket = [UInt8](repeating: 1, count: 32)
        let (one, two) = (BatchSealingTests.ref(1), BatchSealingTests.ref(2))
        async let a = batch.pc1(one, thread: "t0", ticket: ticket, pieces: [], token: await batch.token())
        async let b = batch.pc1(two, thread: "t1", ticket: ticket, pieces: [], token: await batch.token())
        guard case let .done(membership) = await a, case .done = await b else { Issue.record("batch PC1"); return }
        let waiting = Task { await batch.pc2(one, membership: membership, token: await batch.token()) }
        try await eventually("sector 1 at PC2") { await batch.batchCount == 1 }
        await batch.leave(two.id)
        guard case .done = await waiting.value else { Issue.record("PC2 ran without the member that left"); return }
        await batch.finalized(one.id)
        #expect(await batch.batchCount == 0)
    }
}
