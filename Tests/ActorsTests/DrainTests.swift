import Synchronization
import Foundation
import ProofsFFI
import Scheduler
import TestSupport
import Testing
@testable import Actors

@Suite("Drain")
struct DrainTests {
    @Test("a draining thread finishes its sector, takes no new one, shows Draining then Drained; resume undoes it")
    func drainFinishesTheSector() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager,
                                   prover: fastProver([.c2: .milliseconds(300)]), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("proving C2") { await thread.info().jobState == "C1Done" }
        #expect(thread.requestDrain() == .requested)
        #expect(thread.requestDrain() == .alreadyDraining)
        #expect(WorkerInfo(await thread.info()).thread_state.state == "Draining")
        try await eventually("drained") { thread.controller.control == .drained }
        #expect(await manager.sectors[SectorID(miner: 10000, number: 1)]?.finalized == 1, "the sector in flight was finished")
        #expect(await manager.sectors.count == 1, "no new sector was taken")
        #expect(WorkerInfo(await thread.info()).thread_state.state == "Drained")
        #expect(!(await thread.record.paused), "a drain is not a persisted pause")
        #expect(thread.pause() == false, "a drained thread is parked already")

        try await thread.resume(state: nil)
        try await eventually("sealing again") { await manager.sectors.count >= 2 }
        task.cancel()
        await task.value
    }

    @Test("drain --exit: the supervisor calls for a stop once every thread is drained, not before")
    func drainExit() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let threads = (0..<2).map {
            SealingThread(settings: fastSettings($0, dir.path + "/t\($0)"), manager: manager,
                          prover: fastProver([.c2: .milliseconds(200)]), log: quietLog)
        }
        let supervisor = Supervisor(threads: threads, manager: manager, log: quietLog)
        let stops = Counter()
        await supervisor.setOnAllDrained { stops.increment() }
        await supervisor.start()
        try await eventually("both sealing") { await manager.sectors.count >= 2 }
        #expect(try await supervisor.drain(nil, exit: true))
        try await eventually("stop called") { stops.value == 1 }
        #expect(threads.allSatisfy { $0.controller.control == .drained })
        #expect(await manager.sectors.values.allSatisfy { $0.finalized == 1 }, "every sector in flight was finished first")
        #expect(await supervisor.shutdown(timeout: .seconds(30)))
        #expect(stops.value == 1)
    }
}

/// A thread-safe counter for callbacks.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
