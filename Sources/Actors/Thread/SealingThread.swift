import Foundation
import ProofsFFI
import Scheduler
#if canImport(Glibc)
import Glibc
#endif

/// One `[[sealing_thread]]`: walks its plan's state machine for one sector at a time, persisting
/// every transition before reporting it, so a restart resumes where it stopped.
///
/// The thread owns its location (`meta/lock`) for its whole life. Pauses and resumes go through
/// its controller (`ThreadControl` behind a lock) and take effect at checkpoints: between steps,
/// and inside every wait (recover and poll sleeps, seed waits, stage limits, stagger, processor
/// slots, resources). A running proof computation is not interrupted.
public actor SealingThread {
    public nonisolated let index: Int
    public internal(set) var settings: ThreadSettings
    let store: ThreadStore
    let manager: any SectorManager
    private let runner: StageRunner
    private let clock: any Clock<Duration>
    let log: Log
    /// Re-reads the hot config: returns new settings when they changed (`force` after SIGHUP).
    private let reloadSettings: (@Sendable (ThreadSettings, _ force: Bool) -> ThreadSettings?)?
    nonisolated let controller = ThreadController()
    /// Batch mode's rendezvous for the sealer plan; nil seals sector by sector.
    let batch: BatchCoordinator?

    var record: SectorRecord
    private var recorder: TransitionRecorder
    /// The location's lock, held from start to stop; nil until taken (or for a thread without
    /// a location).
    private var lock: LocationLock?
    /// Set when the location could not be opened (locked by another thread, unreadable state);
    /// the thread stays paused until a resume finds it usable.
    private var loadFailure: SealingFailure?
    private var idleRounds = 0
    /// The window PoSt heartbeat and the job it beats for (wdpost plan).
    private var heartbeat: Task<Void, Never>?
    private var heartbeatJob: String?
    private var reloadRequested = false
    private var drainedHook: (@Sendable () async -> Void)?
    /// A resume is taking the location's lock (off the actor); a second one is refused.
    private var takingLock = false
    /// How often a held window PoSt job is heartbeaten (damocles: 3 s).
    private let heartbeatInterval: Duration

    public init(
        settings: ThreadSettings, manager: any SectorManager, prover: any Prover, proverName: String = "mock",
        gates: [ProofStage: StageGate] = [:], staggers: [ProofStage: StaggerGate] = [:], processors: ProcessorSlots? = nil,
        children: [ProofStage: [ExternalProcessor]] = [:],
        broker: ResourceBroker? = nil, clock: any Clock<Duration> = ContinuousClock(), log: Log = Log(),
        reloadSettings: (@Sendable (ThreadSettings, _ force: Bool) -> ThreadSettings?)? = nil,
        heartbeatInterval: Duration = SealingThread.heartbeatInterval, metrics: SealingMetrics? = nil,
        batch: BatchCoordinator? = nil
    ) {
        self.batch = settings.plan == .sealer ? batch : nil
        index = settings.index
        self.heartbeatInterval = heartbeatInterval
        self.settings = settings
        store = ThreadStore(location: settings.location)
        self.manager = manager
        runner = StageRunner(prover: prover, proverName: proverName, gates: gates, staggers: staggers, processors: processors,
                             children: children, broker: broker, metrics: metrics)
        self.clock = clock
        self.log = log.with("thread", "\(settings.index)")
        self.reloadSettings = reloadSettings
        record = SectorRecord(plan: settings.plan)
        recorder = TransitionRecorder(store: store, journal: nil, manager: manager, metrics: metrics)
    }

    // MARK: - Control (called by the supervisor)

    /// Registers a pause: the thread parks at its next checkpoint.
    public nonisolated func requestPause() -> PauseOutcome {
        controller.requestPause()
    }

    /// Registers a pause; true when this call registered it, false when the thread was already
    /// paused or pausing.
    @discardableResult
    public nonisolated func pause() -> Bool {
        requestPause() == .requested
    }

    /// Resumes a paused thread, optionally from another state of its plan: the target must be a
    /// state of the plan whose phase data the record holds. A thread whose location another
    /// thread owns stays paused until the location is free.
    public func resume(state name: String?) async throws(ControlError) {
        switch controller.control {
        case .running:
            // A resume undoes a drain; a running thread has nothing else to resume.
            if name != nil || !controller.drainRequested { throw .notPaused(index: index) }
        case .resuming: throw .alreadyResuming(index: index)
        case .pauseRequested:
            if name != nil { throw .pausePending(index: index) }
        case .paused, .drained:
            break
        }
        var target: SectorState?
        if let name {
            switch record.plan.plan.resumeTarget(named: name, for: record) {
            case let .success(state): target = state
            case let .failure(error): throw .invalidState(index: index, error)
            }
        }
        if store.isPersistent, lock == nil {
            // Off the actor, waiting out for a second a child forked elsewhere in this process
            // that still shares the previous owner's lock file until it execs.
            guard !takingLock else { throw .alreadyResuming(index: index) }
            takingLock = true
            defer { takingLock = false }
            let location = store.location, owner = owner
            do {
                lock = try await offload { () throws(LocationLockError) -> LocationLock in
                    try LocationLock.take(location: location, owner: owner, patience: .seconds(1))
                }
            } catch {
                throw .locationLocked(index: index, reason: error.description)
            }
        }
        switch controller.requestResume(target: target) {
        case .success: return
        case .failure(.notPaused): throw .notPaused(index: index)
        case .failure(.alreadyResuming): throw .alreadyResuming(index: index)
        case .failure(.pausePending): throw .pausePending(index: index)
        }
    }

    /// Registers a drain: the thread finishes its current sector (or job) and takes no new one.
    public nonisolated func requestDrain() -> DrainOutcome {
        controller.requestDrain()
    }

    /// Called each time the thread parks as drained (the supervisor's `--exit` bookkeeping).
    public func onDrained(_ hook: @escaping @Sendable () async -> Void) { drainedHook = hook }

    /// Re-reads the hot config at the next sector boundary (SIGHUP).
    public func requestReload() { reloadRequested = true }

    public nonisolated var isPaused: Bool { controller.control == .paused }

    /// A snapshot for `worker list`, the management RPC and pings; a thread waiting for
    /// resources says which pool it waits for and how much, as of now.
    public func info() async -> ThreadInfo {
        var current = controller.activity
        if let wait = controller.resourceWait, let broker = runner.broker, let reason = await broker.reason(wait.id),
           case let .waiting(since, _) = current {
            current = .waiting(since: since, waitingFor: "\(wait.stage) \(reason)")
        }
        let plan = record.plan.plan
        return ThreadInfo(
            index: index, location: settings.location, plan: record.plan, jobID: record.jobID,
            jobState: record.jobID == nil && record.state == .empty ? "" : record.state.rawValue,
            jobStage: record.jobID == nil ? nil : plan.stage(of: record.state),
            activity: current, lastError: record.lastError ?? loadFailure?.description, draining: controller.drainRequested)
    }

    private var owner: String { "pid \(getpid()), thread \(index)" }

    /// What the current state's handler sees: the record as it stands now.
    private var context: PlanContext {
        PlanContext(record: record, settings: settings, manager: manager, runner: runner, controller: controller,
                    store: store, clock: clock, log: stateLog, batch: record.plan == .sealer ? batch : nil)
    }

    /// Carries the thread and its sector (or job).
    private var jobLog: Log { record.jobID.map { log.with("sector", $0) } ?? log }
    /// Carries the thread, its sector and its state.
    private var stateLog: Log { jobLog.with("state", record.state.rawValue) }

    // MARK: - The loop

    /// Runs until the task is cancelled (shutdown).
    public func run() async {
        await open()
        while !Task.isCancelled {
            if loadFailure != nil || record.paused || controller.parkRequested {
                await parkUntilResumed()
                continue
            }
            if record.state.isTerminal {
                await finalize()
                continue
            }
            if record.state == .empty, controller.drainAtBoundary() {
                await parkDrained()
                continue
            }
            if record.state == .empty { await applyReloadIfNeeded() }
            await syncHeartbeat()
            controller.activity = .idle
            do throws(StepError) {
                switch try await context.step() {
                case let .advance(event, updated):
                    idleRounds = 0
                    try await apply(event, to: updated)
                case let .save(updated):
                    do { try await recorder.save(updated) } catch { throw .failure(error) }
                    record = updated
                case let .abort(updated, reason):
                    var aborted = updated
                    aborted.abortReason = reason
                    stateLog.error("aborting: \(reason)")
                    try await apply(.abort, to: aborted)
                case .idle:
                    idleRounds += 1
                    let wait = idleRounds > settings.sealing.requestTaskMaxRetries ? settings.sealing.sealInterval : settings.sealing.recoverInterval
                    if idleRounds > settings.sealing.requestTaskMaxRetries { idleRounds = 0 }
                    _ = await controller.sleep(for: wait, on: clock)
                }
            } catch {
                switch error {
                case .interrupted: continue
                case let .failure(failure):
                    if !Task.isCancelled { await handle(failure) }
                }
            }
        }
        controller.activity = .idle
        await stopHeartbeat()
        recorder.journal?.close()
        recorder.journal = nil
        // The location is free for whoever runs it next (a restart, another daemon).
        lock = nil
        stateLog.info("stopped")
    }

    /// Takes the location (lock first, then directories, history and state file), off the
    /// cooperative pool; a failure leaves the thread paused with the reason as its last error.
    private func open() async {
        loadFailure = nil
        guard store.isPersistent else { return }
        if lock == nil {
            let location = store.location, owner = owner
            do {
                lock = try await offload { () throws(LocationLockError) -> LocationLock in
                    try LocationLock.take(location: location, owner: owner, patience: .seconds(1))
                }
            } catch {
                loadFailure = .critical(error.description)
                log.error("cannot start: \(error)")
                return
            }
        }
        let store = store
        do {
            try await offload { () throws(SealingFailure) in try store.prepare() }
            if recorder.journal == nil {
                let path = store.historyPath
                let journal = try await offload { () throws(PersistenceError) in try Journal(path: path) }
                if let torn = journal.recovered {
                    log.warn("history had an incomplete last record (\(torn)); it was moved aside and the history truncated")
                }
                recorder.journal = journal
            }
            let loaded = try await offload { () throws(SealingFailure) in try store.load() }
            if var loaded {
                if loaded.plan != settings.plan, loaded.state == .empty {
                    loaded = SectorRecord(plan: settings.plan)
                }
                record = loaded
                if record.sector != nil || record.paused {
                    stateLog.info("resuming", [("paused", "\(record.paused)")])
                }
            } else {
                try await recorder.save(record)
            }
        } catch let failure as SealingFailure {
            loadFailure = failure
        } catch {
            loadFailure = .critical("cannot open history \(store.historyPath): \(error)")
        }
        if let loadFailure { log.error("cannot start: \(loadFailure)") }
    }

    private func applyReloadIfNeeded() async {
        guard let reloadSettings else { return }
        let force = reloadRequested
        reloadRequested = false
        let current = settings
        guard let fresh = await offload({ () -> ThreadSettings? in reloadSettings(current, force) }), fresh != settings else { return }
        log.info("hot config applied", [("plan", fresh.plan.rawValue)])
        settings = fresh
        if record.sector == nil, record.plan != fresh.plan {
            record = SectorRecord(plan: fresh.plan)
            await persistQuietly()
        }
    }

    /// Parks until an operator resumes this thread or the daemon stops, then applies the resume
    /// (its target state, if any). A window PoSt thread first gives its job back (or submits a
    /// proof it already has): the manager reassigns a job only once it stops heartbeating, so a
    /// parked thread must not hold one.
    private func parkUntilResumed() async {
        let forced = loadFailure != nil || record.paused
        guard forced || controller.parkRequested else { return }
        if record.plan == .wdpost, loadFailure == nil { await settleWdPoStJob() }
        guard controller.markParked(force: forced) else { return }
        await stopHeartbeat()
        if !record.paused, loadFailure == nil {
            record.paused = true
            await persistQuietly()
        }
        stateLog.info("paused", record.lastError.map { [("last_error", $0)] } ?? [])
        guard let resume = await controller.waitForResume() else { return }
        await applyResume(resume)
    }

    /// Parks a drained thread (at a sector boundary, nothing held) until a resume undoes the drain.
    private func parkDrained() async {
        await stopHeartbeat()
        stateLog.info("drained: its work is finished and it takes no new sector until resumed")
        await drainedHook?()
        guard let resume = await controller.waitForResume() else { return }
        await applyResume(resume)
    }

    /// Applies an accepted resume: reopens a location that could not be opened, moves to the
    /// target state if one was given, clears the pause, and records it.
    private func applyResume(_ resume: (target: SectorState?, pauseAgain: Bool)) async {
        if loadFailure != nil {
            await open()
            if loadFailure != nil {
                controller.resumeFailed()
                return
            }
        }
        var next = record
        next.paused = false
        next.lastError = nil
        var note = "resumed"
        if let target = resume.target, target != record.state {
            next.prevState = record.state
            next.state = target
            next.retry = 0
            note = "resumed --state \(target.rawValue)"
            if target == .aborted { next.abortReason = "aborted by operator (resume --state Aborted)" }
        }
        do {
            try await recorder.save(next)
        } catch {
            record.lastError = error.description
            stateLog.error("resume failed: \(error)")
            controller.resumeFailed()
            return
        }
        if next.state != record.state {
            await recorder.appendHistory(next, from: record.state, event: "SetState", to: next.state, note: note, log: jobLog)
        }
        record = next
        stateLog.info(note + (resume.pauseAgain ? " (a pause arrived meanwhile; parking again)" : ""))
    }

    /// Before a window PoSt thread parks: submits a proof it already generated, else gives the
    /// job back to the manager with the reason, so another worker can take it in time.
    private func settleWdPoStJob() async {
        guard record.phases.wdpostJob != nil, !record.state.isTerminal, record.state != .empty else { return }
        let lastError = record.lastError
        if record.state == .generated {
            if case let .advance(event, updated)? = try? await context.step() {
                try? await apply(event, to: updated)
            }
        }
        if !record.state.isTerminal {
            var handedBack = record
            handedBack.abortReason = "worker paused: job handed back" + (lastError.map { " (\($0))" } ?? "")
            do throws(StepError) { try await apply(.abort, to: handedBack) } catch {
                stateLog.warn("could not record the hand-back of the window PoSt job")
            }
        }
        if record.state.isTerminal { await finalize(sleepAfter: false) }
        record.lastError = lastError
    }

    /// Persists and logs an event; then reports it to the manager (never the other way round).
    private func apply(_ event: SealingEvent, to updated: SectorRecord, note: String? = nil) async throws(StepError) {
        let (new, managerAbort) = try await recorder.apply(event, to: updated, from: record, settings: settings, log: jobLog, note: note)
        record = new
        if let reason = managerAbort {
            var aborted = record
            aborted.abortReason = reason
            if let (abortedRecord, _) = try? await recorder.apply(.abort, to: aborted, from: record, settings: settings, log: jobLog, note: "manager asked to abort") {
                record = abortedRecord
            }
        }
        await syncHeartbeat()
    }

    func persistQuietly() async {
        do { try await recorder.save(record) } catch { stateLog.error("\(error)") }
    }

    /// Retries, pauses or aborts after a failure (damocles' levels through `RetryPolicy`); `what`
    /// prefixes the log line, and a pause is reported to the manager when `reportPause`.
    private func handle(_ failure: SealingFailure, what: String = "", reportPause: Bool = true) async {
        // damocles gives a window PoSt job back rather than holding it paused.
        let exhausted: RetryPolicy.Exhausted = record.plan == .wdpost ? .abort : .pause
        switch RetryPolicy.decide(failure, retry: record.retry, maxRetries: settings.sealing.maxRetries,
                                  recoverInterval: settings.sealing.recoverInterval, exhausted: exhausted) {
        case let .retry(after, retry):
            record.retry = retry
            await persistQuietly()
            stateLog.warn("\(what)\(failure); retry \(retry)/\(settings.sealing.maxRetries) in \(after)")
            _ = await controller.sleep(for: after, on: clock)
        case let .pause(lastError, retry):
            record.retry = retry
            record.lastError = lastError
            record.paused = true
            await persistQuietly()
            stateLog.error("\(what)\(lastError); thread paused")
            guard reportPause else { return }
            _ = await recorder.report(record, settings: settings, prev: record.state, next: record.state, event: "Failure", failure: failure, log: jobLog)
        case let .abort(reason):
            var aborted = record
            aborted.abortReason = reason
            stateLog.error("aborting: \(reason)")
            do { try await apply(.abort, to: aborted) } catch {
                record.paused = true
                record.lastError = "critical: could not record abort: \(error)"
            }
        }
    }

    /// Reports a finished or aborted sector, clears its files and starts an empty record.
    /// `ReportFinalized` follows the retry policy: a manager that keeps failing (or does not know
    /// the sector) pauses the thread with the sector kept and the reason as its last error.
    private func finalize(sleepAfter: Bool = true) async {
        // An aborted batch member gives up its part of the batch: its batch-mates do not wait
        // for it at batch PC2, and it counts as finalized for the batch's NVMe slot.
        if record.state == .aborted, record.phases.batch != nil, let sector = record.sector, let batch { await batch.leave(sector) }
        if let sector = record.sector, record.plan != .wdpost {
            if record.state == .finished {
                do {
                    try await manager.reportFinalized(sector)
                } catch {
                    var failure = error.failure
                    // A finished sector is never aborted: an unknown one waits for the operator.
                    if failure.level == .abort {
                        failure = .permanent("\(failure.message): the manager does not know this finished sector; resume to report it again, or resume -s Aborted to drop it")
                    }
                    await handle(failure, what: "report finalized failed: ", reportPause: false)
                    return
                }
            } else {
                do { try await manager.reportAborted(sector, reason: record.abortReason ?? "aborted") } catch {
                    stateLog.warn("report aborted failed: \(error)")
                }
            }
        }
        if Task.isCancelled { return }
        await stopHeartbeat()
        if record.plan == .wdpost, record.state == .aborted, let job = record.phases.wdpostJob {
            let reason = record.abortReason ?? "aborted"
            do { try await manager.wdPoStFinishJob(job, output: nil, errorReason: reason) } catch {
                stateLog.warn("finish window PoSt job failed: \(error)")
            }
        }
        let what = record.plan == .wdpost ? "job" : "sector"
        stateLog.info(record.state == .finished ? "\(what) finished" : "\(what) aborted: \(record.abortReason ?? "-")")
        runner.metrics?.sectorEnded(plan: record.plan.rawValue, finished: record.state == .finished)
        if let id = record.sector, let proof = record.proof {
            await runner.clearCache(SectorRef(id: id, proof: proof, paths: SectorPaths(dataDirectory: store.dataDirectory, sector: id)), log: stateLog)
        }
        await store.clearData()
        let fresh = SectorRecord(plan: settings.plan)
        do {
            try await recorder.save(fresh)
        } catch {
            record.paused = true
            record.lastError = error.description
            return
        }
        record = fresh
        idleRounds = 0
        if sleepAfter { _ = await controller.sleep(for: settings.sealing.sealInterval, on: clock) }
    }

    // MARK: - Window PoSt heartbeat

    /// Heartbeats the window PoSt job the record holds (every 3 s, on the thread's clock), and
    /// only while it holds one and is not parked.
    private func syncHeartbeat() async {
        let holds = record.plan == .wdpost && (record.state == .allocated || record.state == .generated)
        let job = holds && !isPaused ? record.phases.wdpostJob : nil
        guard job != heartbeatJob else { return }
        await stopHeartbeat()
        guard let job else { return }
        heartbeatJob = job
        let manager = self.manager, worker = settings.instance, log = self.log, clock = self.clock, interval = heartbeatInterval
        heartbeat = Task {
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval, tolerance: nil) } catch { return }
                if Task.isCancelled { return }
                do { try await manager.wdPoStHeartbeatJobs([job], worker: worker) } catch {
                    log.warn("window PoSt heartbeat failed: \(error)", [("job", job)])
                }
            }
        }
    }

    /// Stops the heartbeat and waits for a beat in flight, so none reaches the manager after
    /// the job is handed back or the thread parks.
    private func stopHeartbeat() async {
        let beating = heartbeat
        heartbeat = nil
        heartbeatJob = nil
        beating?.cancel()
        await beating?.value
    }

    public static let heartbeatInterval: Duration = .seconds(3)

    /// The job the heartbeat beats for now (tests).
    var heartbeatingJob: String? { heartbeatJob }
}

/// A thread as `worker list` shows it.
public struct ThreadInfo: Sendable, Hashable {
    public var index: Int
    public var location: String
    public var plan: PlanKind
    public var jobID: String?
    public var jobState: String
    public var jobStage: String?
    public var activity: ThreadActivity
    public var lastError: String?
    /// A drain is pending: the thread finishes its sector and takes no new one.
    public var draining = false
}
