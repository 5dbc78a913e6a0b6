import Synchronization
import Foundation
import ProofsFFI
import Scheduler
import TestSupport
import Testing
@testable import Actors

/// The control-plane defects of issue 13, each reproduced against a running thread.
@Suite("Pause, resume and ownership: reproduced defects")
struct ControlReproductionTests {
    /// A thread parked at TicketAssigned: its PC1 waits for a slot the test holds.
    func parkedAtPC1(_ dir: TempDir, manager: MockManager = MockManager()) async throws -> (SealingThread, StageGate, Task<Void, Never>) {
        let gate = StageGate(limit: 1)
        try await gate.acquire()
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(),
                                   gates: [.pc1: gate], log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("waiting for pc1") { await thread.info().activity.name == "Waiting" }
        #expect(thread.pause())
        try await eventually("paused") { thread.isPaused }
        return (thread, gate, task)
    }

    @Test("1. a pause right after a resume is kept: the resume is applied, then the thread parks again")
    func pauseAfterResumeIsKept() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (thread, gate, task) = try await parkedAtPC1(dir)
        let sector = await thread.record.sector
        for round in 1...10 {
            try await thread.resume(state: "Allocated")
            #expect(thread.pause(), "the pause is registered, not dropped as 'already paused'")
            try await eventually("parked again") { thread.isPaused }
            // Parked at Allocated, or a little later when this task was descheduled between the
            // two commands; never past the PC1 slot the test holds, and always the same sector.
            let parked = await thread.record
            #expect([.allocated, .dealsAcquired, .pieceAdded, .treeDBuilt, .ticketAssigned].contains(parked.state), "\(parked.state)")
            #expect(parked.sector == sector && parked.paused)
            let resumes = try ThreadStore.readHistory(path: dir.path + "/t0/meta/history").entries.filter { $0.note == "resumed --state Allocated" }
            #expect(resumes.count == round, "each resume target applied exactly once")
            // A later plain resume must not re-apply the old target: the thread goes on from Allocated.
            try await thread.resume(state: nil)
            try await eventually("back at PC1") {
                let info = await thread.info()
                return info.jobState == "TicketAssigned" && info.activity.name == "Waiting"
            }
            #expect(thread.pause())
            try await eventually("paused at PC1") { thread.isPaused }
            #expect(await thread.record.state == .ticketAssigned)
        }
        gate.release()
        task.cancel()
        await task.value
    }

    @Test("1b. a plain resume right after a pause withdraws it (or resumes the parked thread): the thread runs on")
    func resumeRightAfterPause() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (thread, gate, task) = try await parkedAtPC1(dir)
        try await thread.resume(state: nil)
        try await eventually("running at PC1") { await thread.info().activity.name == "Waiting" }
        for _ in 0..<10 {
            #expect(thread.pause())
            try await thread.resume(state: nil)
            // Either the pause was withdrawn before the thread parked, or it parked and the resume
            // woke it: both end with the thread back in its PC1 wait, not paused, not persisted paused.
            try await eventually("running again at PC1") {
                let info = await thread.info()
                let persistedPaused = await thread.record.paused
                return thread.controller.control == .running && info.activity.name == "Waiting" && !persistedPaused
            }
        }
        gate.release()
        task.cancel()
        await task.value
    }

    @Test("2. a pause that lands during a manager call just before a stage wait parks the thread instead of queueing")
    func pauseDuringAwaitBeforeStageWait() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        await manager.hold("AssignTicket")
        let gate = StageGate(limit: 1)
        try await gate.acquire() // PC1 would wait for an hour
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(),
                                   gates: [.pc1: gate], log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("inside AssignTicket") { await manager.waiting("AssignTicket") == 1 }
        #expect(thread.pause())
        await manager.release("AssignTicket")
        try await eventually("paused") { thread.isPaused }
        #expect(gate.usage.waiting == 0, "never queued for the PC1 slot")
        #expect(await thread.record.phases.ticket != nil, "the fetched ticket was kept")
        #expect(await thread.record.state == .ticketAssigned)
        gate.release()
        task.cancel()
        await task.value
    }

    @Test("3. two threads on one location: the second is refused, stays refused on resume, and takes over once the first stops")
    func oneOwnerPerLocation() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let location = dir.path + "/t0"
        let manager = MockManager()
        let first = SealingThread(settings: fastSettings(0, location), manager: manager, prover: fastProver([.c2: .seconds(3600)]), log: quietLog)
        let firstTask = Task { await first.run() }
        try await eventually("first thread in C1Done") { await first.info().jobState == "C1Done" }
        let second = SealingThread(settings: fastSettings(1, location), manager: manager, prover: fastProver(), log: quietLog)
        let secondTask = Task { await second.run() }
        try await eventually("second refused") { second.isPaused }
        let info = await second.info()
        #expect(info.lastError?.contains("in use by another sealing thread") == true, "\(info)")
        #expect(info.jobID == nil, "it read nothing of the location")
        for _ in 0..<3 {
            await #expect(throws: ControlError.self) { try await second.resume(state: nil) }
            #expect(second.isPaused)
        }
        #expect(await manager.sectors.count == 1, "the second thread allocated nothing and touched no sector")
        firstTask.cancel()
        await firstTask.value
        try await second.resume(state: nil)
        try await eventually("the second thread finishes the first one's sector") {
            (await manager.sectors[SectorID(miner: 10000, number: 1)]?.finalized ?? 0) >= 1
        }
        secondTask.cancel()
        await secondTask.value
        #expect(await manager.mismatchedProofs.isEmpty)
    }

    @Test("5. a paused window PoSt thread gives its job back and stops heartbeating it")
    func pausedWdPoStHandsJobBack() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = try await managerWithSealedSector(dir)
        let gate = StageGate(limit: 1)
        try await gate.acquire() // the proof waits for its slot while the job is held
        let post = SealingThread(settings: fastSettings(1, "", plan: .wdpost), manager: manager, prover: fastProver(),
                                 gates: [.windowPost: gate], log: quietLog, heartbeatInterval: .milliseconds(5))
        let task = Task { await post.run() }
        try await eventually("heartbeating a held job") { (await manager.postJobs["wdpost-1"]?.heartbeats ?? 0) >= 2 }
        #expect(post.pause())
        try await eventually("paused") { post.isPaused }
        let job = try #require(await manager.postJobs["wdpost-1"])
        #expect(job.errorReason?.contains("worker paused: job handed back") == true, "\(job)")
        #expect(await post.heartbeatingJob == nil)
        #expect(await post.record.state == .empty, "the thread holds no job while parked")
        let beats = job.heartbeats
        try await Task.sleep(for: .milliseconds(50)) // ten heartbeat intervals: none may come
        #expect(await manager.postJobs["wdpost-1"]?.heartbeats == beats)
        gate.release()
        task.cancel()
        await task.value
    }

    @Test("5b. a pause while the proof computes lets it finish and submits it before parking")
    func pausedWdPoStSubmitsFinishedProof() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = try await managerWithSealedSector(dir)
        let post = SealingThread(settings: fastSettings(1, "", plan: .wdpost), manager: manager,
                                 prover: fastProver([.windowPost: .milliseconds(300)]), log: quietLog, heartbeatInterval: .milliseconds(5))
        let task = Task { await post.run() }
        try await eventually("proving") { await post.info().activity.name == "Running" }
        #expect(post.pause())
        try await eventually("paused") { post.isPaused }
        let job = try #require(await manager.postJobs["wdpost-1"])
        #expect(job.verified == true, "the proof was submitted and verified: \(job)")
        #expect(await post.heartbeatingJob == nil)
        task.cancel()
        await task.value
    }

    @Test("6. a mistyped resume target is refused and the sector kept; missing phase data pauses, never aborts")
    func mistypedResumeKeepsSector() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let (thread, gate, task) = try await parkedAtPC1(dir, manager: manager)
        do {
            try await thread.resume(state: "PC2Done")
            Issue.record("PC2Done without commitments was accepted")
        } catch {
            #expect(error == .invalidState(index: 0, .missingPhaseData(state: .pc2Done, plan: .sealer, missing: [.commitments])))
        }
        #expect(thread.isPaused)
        #expect(await thread.record.state == .ticketAssigned)
        gate.release()
        task.cancel()
        await task.value

        // A record that lacks what its state needs (written by hand, or an older build).
        var broken = try #require(try ThreadStore(location: dir.path + "/t0").load())
        broken.state = .pc1Done
        broken.paused = false
        broken.phases.pc1Output = nil
        try ThreadStore(location: dir.path + "/t0").saveNow(broken)
        let again = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(), log: quietLog)
        let againTask = Task { await again.run() }
        try await eventually("paused on the missing data") { again.isPaused }
        let info = await again.info()
        #expect(info.lastError?.hasPrefix("critical: sector record in state PC1Done lacks PC1 output") == true, "\(info)")
        #expect(await manager.sectors[SectorID(miner: 10000, number: 1)]?.aborted == nil, "the sector was not aborted")
        againTask.cancel()
        await againTask.value
    }

    @Test("9. ReportFinalized follows the retry policy: retried max_retries times, then paused with last_error")
    func reportFinalizedIsBounded() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        await manager.inject(.rpc(method: "ReportFinalized", code: ManagerError.sectorStateNotFound, message: "sector not found"),
                             into: "ReportFinalized")
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("paused at Finished") { thread.isPaused }
        let info = await thread.info()
        #expect(info.jobState == "Finished")
        #expect(info.lastError?.contains("the manager does not know this finished sector") == true, "\(info)")
        #expect(await manager.calls["ReportFinalized"] == 1, "an unknown sector is not retried in a loop")
        task.cancel()
        await task.value

        let transient = MockManager()
        await transient.inject(.transport(method: "ReportFinalized", reason: "connection refused"), into: "ReportFinalized")
        let other = SealingThread(settings: fastSettings(0, dir.path + "/t1"), manager: transient, prover: fastProver(), log: quietLog)
        let otherTask = Task { await other.run() }
        try await eventually("paused after its retries") { other.isPaused }
        let retried = await transient.calls["ReportFinalized"] ?? 0
        #expect(retried >= 1 && retried <= 3, "at most max_retries (2) retries after the first call: \(retried)")
        #expect(await other.info().lastError?.contains("gave up after 2 retries") == true)
        otherTask.cancel()
        await otherTask.value
    }

    /// A manager that holds one finished sector, so window PoSt jobs exist.
    func managerWithSealedSector(_ dir: TempDir) async throws -> MockManager {
        let manager = MockManager()
        let sealer = SealingThread(settings: fastSettings(0, dir.path + "/sealer"), manager: manager, prover: fastProver(), log: quietLog)
        let sealing = Task { await sealer.run() }
        try await eventually("a sealed sector") { await manager.sectors.values.contains { $0.finalized > 0 } }
        sealing.cancel()
        await sealing.value
        return manager
    }
}

@Suite("Blocking file work stays off the actors")
struct BlockingFileWorkTests {
    /// An actor that answers if any cooperative thread is free.
    actor Probe {
        func ping() -> Bool { true }
    }

    @Test("8. more stuck finalizations than the cooperative pool has threads leave every actor answering")
    func clearDataDoesNotStallActors() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let gate = DispatchSemaphore(value: 0)
        let started = Mutex(0)
        // A removal that blocks its thread until the test lets it go: a huge sector's files.
        let stuck: @Sendable (String) -> Void = { _ in
            started.withLock { $0 += 1 }
            gate.wait()
        }
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        var clearing: [Task<Void, Never>] = []
        for i in 0..<count {
            let store = ThreadStore(location: dir.path + "/t\(i)", removeEntry: stuck)
            try store.prepare()
            _ = FileManager.default.createFile(atPath: store.dataDirectory + "/sealed", contents: Data([1]))
            clearing.append(Task { await store.clearData() })
        }
        // If the removals ran on the cooperative pool, nothing async could run any more; a
        // Dispatch watchdog then frees them after 120 s so the test fails instead of hanging
        // (long: on a loaded two-core machine the clearing tasks may queue for many seconds).
        let done = Mutex(false), rescued = Mutex(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) {
            guard !done.withLock({ $0 }) else { return }
            rescued.withLock { $0 = true }
            for _ in 0..<count { gate.signal() }
        }
        try await eventually("every removal under way", timeout: .seconds(240)) { started.withLock { $0 } == count || rescued.withLock { $0 } }
        #expect(!rescued.withLock { $0 }, "the removals held the cooperative pool")
        // With the removals on the cooperative pool, no thread would be left to run this.
        #expect(await Probe().ping())
        let broker = ResourceBroker(capacity: BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0]], memoryBytes: 1 << 30)], gpus: []))
        #expect(await broker.usage.waiting == 0)
        done.withLock { $0 = true }
        if !rescued.withLock({ $0 }) { for _ in 0..<count { gate.signal() } }
        for task in clearing { await task.value }
    }
}
