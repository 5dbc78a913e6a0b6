import Foundation
import ProofsFFI
import Scheduler
import TestSupport
import Testing
@testable import Actors

private let gib: UInt64 = 1 << 30

/// `VenusWorker.WorkerActivity` (what `sealer top` reads) and the ring of recent transitions.
@Suite("Worker activity: pools and recent transitions")
struct WorkerActivityTests {
    @Test("the ring keeps the last transitions, oldest first, and never more than its capacity")
    func ring() {
        let ring = RecentTransitions(capacity: 3)
        #expect(ring.snapshot().isEmpty)
        for i in 0..<5 {
            ring.record(TopTransition(time: Double(i), thread: i, plan: "sealer", sector: nil, from: "A", event: "e", to: "B"))
        }
        #expect(ring.snapshot().map(\.thread) == [2, 3, 4])
        #expect(RecentTransitions(capacity: 0).capacity == 1, "a ring of nothing would drop every transition")
    }

    @Test("WorkerActivity answers the pools' occupancy per node and GPU (snake_case) and the recorded transitions")
    func answers() async throws {
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: 100 * gib, hugepages: 2)],
                              gpus: [GPUCapacity(index: 0, node: 0, vramBytes: 24 * gib)])
        let broker = ResourceBroker(capacity: box)
        guard case .granted = try await broker.enqueue(ResourceRequest(stage: .c2, cores: 2, memoryBytes: 10 * gib, vramBytes: 8 * gib)),
              case .granted = try await broker.enqueue(ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 64 * gib)),
              case .waiting = try await broker.enqueue(ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 64 * gib)) else {
            Issue.record("expected two grants and a waiter")
            return
        }
        let sealing = SealingMetrics()
        sealing.recent.record(TopTransition(time: 1, thread: 3, plan: "sealer", sector: "s-t01000-1", from: "PC1Done", event: "PC2", to: "PC2Done"))
        let supervisor = Supervisor(threads: [], manager: MockManager(), log: quietLog)
        let methods = ManagementAPI.methods(supervisor: supervisor, broker: broker, sealing: sealing)
        let method = try #require(methods["VenusWorker.WorkerActivity"])
        let raw = try await method([])
        let node = try #require(raw["pools"]?["nodes"]?.arrayValue?.first?.objectValue)
        #expect(Set(node.keys) == ["id", "cores", "cores_held", "memory_bytes", "memory_held", "hugepages", "hugepages_held"])
        let activity = try raw.decode(WorkerActivity.self)
        let pools = try #require(activity.pools)
        #expect(pools.nodes.map(\.coresHeld) == [3] && pools.nodes.map(\.cores) == [8])
        #expect(pools.nodes.map(\.memoryHeld) == [74 * gib])
        #expect(pools.gpus.map(\.slotsHeld) == [1] && pools.gpus.map(\.vramHeld) == [8 * gib])
        #expect(pools.waiting == 1 && pools.blocked == ["memory": 1])
        #expect(activity.transitions.map(\.thread) == [3] && activity.transitions.first?.sector == "s-t01000-1")

        // A daemon without pools (stages unmetered) says so; one without the ring lists nothing.
        let bare = try await ManagementAPI.methods(supervisor: supervisor)["VenusWorker.WorkerActivity"]!([]).decode(WorkerActivity.self)
        #expect(bare.pools == nil && bare.transitions.isEmpty)
    }

    @Test("a sealing thread records each transition of its sector in the ring: thread, plan, sector, from, event, to")
    func threadRecords() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let sealing = SealingMetrics()
        let manager = MockManager()
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(), log: quietLog, metrics: sealing)
        let supervisor = Supervisor(threads: [thread], manager: manager, log: quietLog)
        await supervisor.start()
        try await eventually("a sector's transitions") { sealing.recent.snapshot().count >= 6 }
        _ = await supervisor.shutdown(timeout: .seconds(5))
        let recorded = sealing.recent.snapshot()
        #expect(recorded.allSatisfy { $0.thread == 0 && $0.plan == "sealer" })
        #expect(recorded.first?.from == "Empty", "\(recorded)")
        #expect(recorded.dropFirst().first?.sector?.hasPrefix("s-t0") == true, "\(recorded)")
        // Consecutive: each starts where the one before ended, in time order.
        for (previous, next) in zip(recorded, recorded.dropFirst()) {
            #expect(next.time >= previous.time)
            if next.from != "Empty" { #expect(next.from == previous.to, "\(previous) then \(next)") }
        }
    }
}
