import Foundation
import TestSupport
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

@Suite("SealingThread")
struct SealingThreadTests {
    @Test("a sealer thread seals sectors end to end; every proof verifies at the manager")
    func sealsSectors() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("3 finalized sectors") { await manager.sectors.values.filter { $0.finalized > 0 }.count >= 3 }
        task.cancel()
        await task.value
        let ledgers = await manager.sectors
        #expect(await manager.mismatchedProofs.isEmpty)
        for (id, ledger) in ledgers where ledger.finalized > 0 {
            #expect(ledger.proofSubmitted != nil, "\(id) finalized without a proof")
            #expect(ledger.preCommit != nil)
        }
        let history = try ThreadStore.readHistory(path: dir.path + "/t0/meta/history").entries
        let first = history.filter { $0.sector == "s-t010000-1" }.map(\.event)
        #expect(first == ["Allocate", "AcquireDeals", "AddPiece", "BuildTreeD", "AssignTicket", "PC1", "PC2", "SubmitPC",
                          "CheckPC", "Persist", "SubmitPersistance", "AssignSeed", "C1", "C2", "SubmitProof", "Finish"])
    }

    @Test("a new thread on the same location resumes the persisted sector instead of allocating")
    func resumesAfterRestart() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let location = dir.path + "/t0"
        let manager = MockManager()
        // Slow C2 so the first run stops with a sector in flight.
        let slow = fastProver([.c2: .seconds(3600)])
        let first = SealingThread(settings: fastSettings(0, location), manager: manager, prover: slow, log: quietLog)
        let task = Task { await first.run() }
        try await eventually("C1Done") { await first.info().jobState == "C1Done" }
        task.cancel()
        await task.value

        let second = SealingThread(settings: fastSettings(0, location), manager: manager, prover: fastProver(), log: quietLog)
        let task2 = Task { await second.run() }
        try await eventually("sector 1 finalized") { (await manager.sectors[SectorID(miner: 10000, number: 1)]?.finalized ?? 0) >= 1 }
        task2.cancel()
        await task2.value
        // Sector 1 was finished by the second run; it was never re-allocated under another number first.
        let history = try ThreadStore.readHistory(path: location + "/meta/history").entries
        let afterRestart = history.filter { $0.sector == "s-t010000-1" }.map(\.event)
        #expect(afterRestart.suffix(3) == ["C2", "SubmitProof", "Finish"])
        #expect(await manager.mismatchedProofs.isEmpty)
    }

    @Test("a pause takes effect while the thread waits for a stage slot")
    func pauseWhileWaiting() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let gate = StageGate(limit: 1)
        try await gate.acquire() // the slot is busy elsewhere
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(), prover: fastProver(),
                                   gates: [.pc1: gate], log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("waiting for pc1") { await thread.info().activity.name == "Waiting" }
        #expect(thread.pause())
        try await eventually("paused") { thread.isPaused }
        #expect(gate.usage.waiting == 0, "the cancelled waiter left the queue")
        #expect(await thread.info().jobState == "TicketAssigned")
        // A second pause of a paused thread is a no-op (damocles answers false), not a queued re-pause.
        #expect(thread.requestPause() == .alreadyPaused)
        #expect(!thread.pause())
        gate.release()
        try await thread.resume(state: nil)
        try await eventually("past PC1") { await thread.info().jobState != "TicketAssigned" }
        #expect(!(thread.isPaused), "the second pause was not queued")
        task.cancel()
        await task.value
    }

    @Test("resume validates the state against the plan and names the valid ones")
    func resumeValidatesState() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let gate = StageGate(limit: 1)
        try await gate.acquire() // PC1 never gets a slot, so the thread waits (pausable) at TicketAssigned
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(),
                                   prover: fastProver(), gates: [.pc1: gate], log: quietLog)
        await #expect(throws: ControlError.notPaused(index: 0)) { try await thread.resume(state: nil) }
        let task = Task { await thread.run() }
        try await eventually("waiting for pc1") { await thread.info().activity.name == "Waiting" }
        thread.pause()
        try await eventually("paused") { thread.isPaused }
        do {
            try await thread.resume(state: "SnapEncoded")
            Issue.record("SnapEncoded is not a sealer state")
        } catch {
            #expect(error.description.contains("valid states: Empty, Allocated"))
        }
        try await thread.resume(state: "Aborted")
        try await eventually("the next sector") { await thread.info().jobID == "s-t010000-2" }
        let history = try ThreadStore.readHistory(path: dir.path + "/t0/meta/history").entries
        #expect(history.contains { $0.sector == "s-t010000-1" && $0.event == "SetState" && $0.to == .aborted })
        task.cancel()
        await task.value
    }

    @Test("temporary failures retry max_retries times, then the thread pauses with last_error")
    func temporaryFailuresPause() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var options = MockManager.Options()
        options.transportErrorRate = 1
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(options: options),
                                   prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("paused") { thread.isPaused }
        let info = await thread.info()
        #expect(info.lastError?.hasPrefix("permanent: manager AllocateSector: injected transport error") == true)
        task.cancel()
        await task.value
    }

    @Test("a rejected submission aborts the sector, reports it and moves on")
    func rejectionAborts() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var options = MockManager.Options()
        options.rejectSubmitRate = 1
        let manager = MockManager(options: options)
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: manager, prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("two aborted sectors") { await manager.sectors.values.filter { $0.aborted != nil }.count >= 2 }
        task.cancel()
        await task.value
        let aborted = await manager.sectors[SectorID(miner: 10000, number: 1)]?.aborted
        #expect(aborted?.contains("PreCommit submission rejected") == true)
    }

    @Test("a corrupt state file pauses the thread with a critical error and is left untouched")
    func corruptStateFile() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let location = dir.path + "/t0"
        try FileManager.default.createDirectory(atPath: location + "/meta", withIntermediateDirectories: true)
        let garbage = Data("not a state file".utf8)
        try garbage.write(to: URL(fileURLWithPath: location + "/meta/state"))
        let thread = SealingThread(settings: fastSettings(0, location), manager: MockManager(), prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("paused") { thread.isPaused }
        let info = await thread.info()
        #expect(info.lastError?.contains(location + "/meta/state") == true)
        task.cancel()
        await task.value
        #expect(try Data(contentsOf: URL(fileURLWithPath: location + "/meta/state")) == garbage)
    }

    @Test("the manager's 11001 (sector unknown) aborts the sector")
    func unknownSectorAborts() {
        let error = ManagerError.rpc(method: "ReportState", code: 11001, message: "not found")
        #expect(error.failure.level == .abort)
        #expect(ManagerError.transport(method: "X", reason: "refused").failure.level == .temporary)
    }
}

@Suite("Snapup and rebuild plans")
struct UpgradePlanTests {
    @Test("snapup upgrades sealed sectors and rebuild re-seals them; every proof verifies")
    func snapupAndRebuild() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let threads = [
            SealingThread(settings: fastSettings(0, dir.path + "/sealer"), manager: manager, prover: fastProver(), log: quietLog),
            SealingThread(settings: fastSettings(1, dir.path + "/snapup", plan: .snapup), manager: manager, prover: fastProver(), log: quietLog),
            SealingThread(settings: fastSettings(2, dir.path + "/rebuild", plan: .rebuild), manager: manager, prover: fastProver(), log: quietLog),
        ]
        let tasks = threads.map { thread in Task { await thread.run() } }
        try await eventually("a snapped sector and a rebuilt one") {
            let ledgers = await manager.sectors.values
            return ledgers.contains { $0.snapProof != nil } && ledgers.contains { $0.rebuilt > 0 }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        #expect(await manager.mismatchedProofs.isEmpty)
        let snap = try ThreadStore.readHistory(path: dir.path + "/snapup/meta/history").entries
        let firstSnap = snap.first?.sector
        #expect(snap.filter { $0.sector == firstSnap }.map(\.event).prefix(7) ==
                ["AllocatedSnapUpSector", "AddPiece", "BuildTreeD", "SnapEncode", "SnapProve", "Persist", "Finish"])
        let rebuild = try ThreadStore.readHistory(path: dir.path + "/rebuild/meta/history").entries
        let events = rebuild.filter { $0.sector == rebuild.first?.sector }.map(\.event)
        #expect(events.first == "AllocatedRebuildSector")
        #expect(events.contains("CheckSealed"))
        #expect(events.last == "SubmitPersistance")
    }
}

@Suite("Threads without a location")
struct LocationlessThreadTests {
    @Test("a wdpost thread without a location keeps its state in memory and touches no files")
    func wdpost() async throws {
        let store = ThreadStore(location: "")
        #expect(!store.isPersistent)
        #expect(try store.load() == nil)
        try await store.save(SectorRecord(plan: .wdpost))
        let thread = SealingThread(settings: fastSettings(0, "", plan: .wdpost), manager: MockManager(), prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("idle") { await thread.info().activity == .idle }
        #expect(await thread.info().lastError == nil)
        #expect(WorkerInfo(await thread.info()).location == "-")
        task.cancel()
        await task.value
    }
}

@Suite("Pause survives a restart")
struct PausePersistenceTests {
    @Test("a thread paused by an operator is still paused after the daemon restarts")
    func pausedAcrossRestart() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let gate = StageGate(limit: 1)
        try await gate.acquire()
        let first = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(), prover: fastProver(),
                                  gates: [.pc1: gate], log: quietLog)
        let task = Task { await first.run() }
        try await eventually("waiting for pc1") { await first.info().activity.name == "Waiting" }
        first.pause()
        try await eventually("paused") { first.isPaused }
        task.cancel()
        await task.value

        let second = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(), prover: fastProver(), log: quietLog)
        let task2 = Task { await second.run() }
        try await eventually("paused again after restart") { second.isPaused }
        #expect(await second.info().jobState == "TicketAssigned")
        task2.cancel()
        await task2.value
    }
}

@Suite("Unseal and window PoSt plans")
struct UnsealAndPoStPlanTests {
    @Test("an unseal thread unseals finished sectors; a wdpost thread proves them and the proof verifies")
    func unsealAndPoSt() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let threads = [
            SealingThread(settings: fastSettings(0, dir.path + "/sealer"), manager: manager, prover: fastProver(), log: quietLog),
            SealingThread(settings: fastSettings(1, dir.path + "/unseal", plan: .unseal), manager: manager, prover: fastProver(), log: quietLog),
            SealingThread(settings: fastSettings(2, "", plan: .wdpost), manager: manager, prover: fastProver(), log: quietLog),
        ]
        let tasks = threads.map { thread in Task { await thread.run() } }
        try await eventually("an unsealed piece and a verified window PoSt") {
            let unsealed = await manager.sectors.values.contains { $0.unsealAchieved == "" }
            let proven = await manager.postJobs.values.contains { $0.verified == true }
            return unsealed && proven
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        #expect(await manager.postJobs.values.allSatisfy { $0.verified != false }, "no window PoSt failed verification")
        let unseal = try ThreadStore.readHistory(path: dir.path + "/unseal/meta/history").entries
        let first = unseal.first?.sector
        #expect(unseal.filter { $0.sector == first }.map(\.event).prefix(3) == ["AllocatedUnsealSector", "UnsealDone", "UploadPieceDone"])
    }

    @Test("a failed window PoSt is reported to the manager with its reason")
    func failedPoSt() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let sealer = SealingThread(settings: fastSettings(0, dir.path + "/sealer"), manager: manager, prover: fastProver(), log: quietLog)
        let sealing = Task { await sealer.run() }
        try await eventually("a sealed sector") { await manager.sectors.values.contains { $0.finalized > 0 } }
        sealing.cancel()
        await sealing.value
        let failing = MockProver(options: .init(failureRate: 1))
        let post = SealingThread(settings: fastSettings(1, "", plan: .wdpost), manager: manager, prover: failing, log: quietLog)
        let task = Task { await post.run() }
        try await eventually("a failed job reported") { await manager.postJobs.values.contains { $0.errorReason != nil } }
        task.cancel()
        await task.value
        let job = try #require(await manager.postJobs["wdpost-1"])
        #expect(job.errorReason?.contains("window_post") == true, "\(job)")
        #expect(job.verified == nil)
    }
}

@Suite("CC sectors and static tree_d")
struct StaticTreeDTests {
    @Test("a CC sector with [processors.static_tree_d] for its size links the pre-built tree_d and takes the zero commitment")
    func staticTreeD() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let tree = dir.path + "/tree-d-2KiB.dat"
        _ = FileManager.default.createFile(atPath: tree, contents: Data(repeating: 7, count: 4064))
        var settings = fastSettings(0, dir.path + "/t0")
        settings.staticTreeD = [.kib2: tree]
        let gate = StageGate(limit: 1)
        try await gate.acquire() // stop at PC1 to look at the sector
        let thread = SealingThread(settings: settings, manager: MockManager(), prover: fastProver(), gates: [.pc1: gate], log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("at PC1") { await thread.info().activity.name == "Waiting" }
        let record = await thread.record
        #expect(record.phases.commD?.bytes == ZeroCommitment.of(padded: SectorSize.kib2.bytes))
        let id = try #require(record.sector)
        let linked = dir.path + "/t0/data/cache/\(id)/sc-02-data-tree-d.dat"
        #expect(FileManager.default.contents(atPath: linked) == Data(repeating: 7, count: 4064))
        gate.release()
        task.cancel()
        await task.value
    }
}
