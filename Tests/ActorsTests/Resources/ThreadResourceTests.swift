@testable import Actors
import ProofsFFI
import Scheduler
import TestSupport
import Testing

/// Sealing threads admitted through the pools: waits are explained, pausable, and leave nothing held.
@Suite struct ThreadResourceTests {
    /// One node with room for one PC1 of the test size's cost, overridden to 2 cores and 64 MiB.
    func broker() -> ResourceBroker {
        var costs = CostTable.defaults
        var pc1 = CostTable.defaultCost(.pc1, .kib2)
        pc1.cores = 2
        pc1.memoryBytes = 64 << 20
        costs.set(.pc1, .kib2, pc1)
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1, 2]], memoryBytes: 100 << 20)], gpus: [])
        return ResourceBroker(capacity: box, costs: costs)
    }

    @Test("a thread waiting for resources says which pool and how much; pause ends the wait; nothing leaks")
    func waitIsExplainedAndPausable() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let broker = broker()
        // Something else holds the memory the PC1 needs.
        guard case let .granted(blocker) = try await broker.enqueue(ResourceRequest(stage: .c2, cores: 1, memoryBytes: 60 << 20)) else {
            Issue.record("empty box refused")
            return
        }
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(), prover: fastProver(),
                                   broker: broker, log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("waiting for memory") { await thread.info().activity.name == "Waiting" }
        guard case let .waiting(_, reason) = await thread.info().activity else { return }
        #expect(reason == "pc1 memory: needs 64MiB on one node, most free 40MiB (node 0)")
        #expect(await broker.waitingByPool == ["memory": 1], "counted under the pool that blocks it")
        #expect(thread.pause())
        try await eventually("paused") { thread.isPaused }
        #expect(await broker.usage.waiting == 0, "the cancelled wait left the queue")
        await blocker.release()
        #expect(await broker.usage.held.isEmpty)
        try await thread.resume(state: nil)
        try await eventually("past PC1") { await thread.info().jobState != "TicketAssigned" }
        task.cancel()
        await task.value
        #expect(await broker.isBalanced)
    }

    @Test("four threads share the pools: never more held than the box has, and every sector completes")
    func threadsShareThePools() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let broker = broker()
        let manager = MockManager()
        let threads = (0..<4).map {
            SealingThread(settings: fastSettings($0, dir.path + "/t\($0)"), manager: manager, prover: fastProver(), broker: broker, log: quietLog)
        }
        let tasks = threads.map { thread in Task { await thread.run() } }
        var peak: UInt64 = 0
        try await eventually("each thread finished a sector", timeout: .seconds(120)) {
            let held = await broker.usage.held
            peak = max(peak, held.reduce(0) { $0 + $1.memoryBytes })
            return await manager.sectors.values.filter { $0.finalized > 0 }.count >= 4
        }
        #expect(peak <= 100 << 20)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
    }
}

@Suite("Window PoSt costing")
struct WindowPoStCostTests {
    @Test("12. a window PoSt is costed by its job's proof type, not by the config's allowed sizes")
    func costedByJob() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var options = MockManager.Options()
        options.sectorSize = .gib32
        let manager = MockManager(options: options)
        let sealer = SealingThread(settings: fastSettings(0, dir.path + "/sealer"), manager: manager, prover: fastProver(), log: quietLog)
        let sealing = Task { await sealer.run() }
        try await eventually("a sealed 32GiB sector") { await manager.sectors.values.contains { $0.finalized > 0 } }
        sealing.cancel()
        await sealing.value

        var costs = CostTable.defaults
        for (size, mib) in [(SectorSize.kib2, UInt64(8)), (.gib32, 48)] {
            var post = CostTable.defaultCost(.windowPost, size)
            post.cores = 1
            post.memoryBytes = mib << 20
            post.vramBytes = 0
            costs.set(.windowPost, size, post)
        }
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1]], memoryBytes: 100 << 20)], gpus: [])
        let broker = ResourceBroker(capacity: box, costs: costs)
        var settings = fastSettings(1, "", plan: .wdpost)
        settings.sealing.allowedSizes = [.kib2] // what the old code costed by
        let post = SealingThread(settings: settings, manager: manager, prover: fastProver([.windowPost: .milliseconds(500)]),
                                 broker: broker, log: quietLog)
        let task = Task { await post.run() }
        try await eventually("proving under a lease") { await broker.usage.held.count == 1 }
        let held = try #require(await broker.usage.held.first)
        #expect(held.memory.values.reduce(0, +) == 48 << 20, "leased as a 32GiB window PoSt: \(held)")
        #expect(await post.record.phases.postInput?.proofType == "StackedDrgWindow32GiBV1_2")
        task.cancel()
        await task.value
    }
}
