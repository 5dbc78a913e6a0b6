import Foundation
import ProofsFFI
import Scheduler

/// One `[[sealing_thread]]`: walks its plan's state machine for one sector at a time, persisting
/// every transition before reporting it, so a restart resumes where it stopped.
///
/// Pause requests take effect at checkpoints: between steps, and inside every wait (recover and
/// poll sleeps, seed waits, stage-limit queues). A running proof step is not interrupted.
public actor SealingThread {
    /// Why a step did not complete.
    enum StepError: Error {
        case failure(SealingFailure)
        /// A pause or shutdown interrupted a wait; the state is unchanged and the step re-runs later.
        case interrupted
    }

    /// What a step produced.
    enum Outcome {
        case advance(SealingEvent, SectorRecord)
        case idle
    }

    public nonisolated let index: Int
    public internal(set) var settings: ThreadSettings
    let store: ThreadStore
    let manager: any SectorManager
    let prover: any Prover
    private let proverName: String
    private let gates: [ProofStage: StageGate]
    private let staggers: [ProofStage: StaggerGate]
    /// `[[processors.<stage>]]` children's slots and `ext_locks`; nil when none are configured.
    private let processors: ProcessorSlots?
    /// The running children, by stage and index (matching `ProcessorSlot.index`).
    private let children: [ProofStage: [ExternalProcessor]]
    /// The resource pools every proof stage is admitted through; nil runs stages unmetered.
    private let broker: ResourceBroker?
    /// The resource wait in progress (queue id), so `worker list` can say what it waits for now.
    private var resourceWait: (id: UInt64, stage: ProofStage)?
    private let clock: any Clock<Duration>
    let log: Log
    /// Re-reads the hot config: returns new settings when they changed (`force` after SIGHUP).
    private let reloadSettings: (@Sendable (ThreadSettings, _ force: Bool) -> ThreadSettings?)?

    var record: SectorRecord
    private var journal: Journal?
    /// Set when the state file could not be read; the thread stays paused until it can be.
    private var loadFailure: SealingFailure?
    private var activity: ThreadActivity = .idle
    private var pauseRequested = false
    private var resumeTarget: SectorState?
    private var resumeWaiter: CheckedContinuation<Void, Never>?
    /// The wait in progress, cancelled by a pause so it ends at once.
    private var interruptible: Task<Void, any Error>?
    /// Cancels the stage wait in progress (permit, start token, processor slot, resources).
    private var cancelWait: (@Sendable () -> Void)?
    private var idleRounds = 0
    /// The window PoSt heartbeat while a job is held (wdpost plan).
    var heartbeat: Task<Void, Never>?
    private var reloadRequested = false

    public init(
        settings: ThreadSettings, manager: any SectorManager, prover: any Prover, proverName: String = "mock",
        gates: [ProofStage: StageGate] = [:], staggers: [ProofStage: StaggerGate] = [:], processors: ProcessorSlots? = nil,
        children: [ProofStage: [ExternalProcessor]] = [:],
        broker: ResourceBroker? = nil, clock: any Clock<Duration> = ContinuousClock(), log: Log = Log(),
        reloadSettings: (@Sendable (ThreadSettings, _ force: Bool) -> ThreadSettings?)? = nil
    ) {
        index = settings.index
        self.settings = settings
        store = ThreadStore(location: settings.location)
        self.manager = manager
        self.prover = prover
        self.proverName = proverName
        self.gates = gates
        self.staggers = staggers
        self.processors = processors
        self.children = children
        self.broker = broker
        self.clock = clock
        self.log = log.with("thread", "\(settings.index)")
        self.reloadSettings = reloadSettings
        record = SectorRecord(plan: settings.plan)
    }

    // MARK: - Control (called by the supervisor)

    /// Pauses at the next checkpoint; a pause of a paused thread is a no-op. Returns true.
    @discardableResult
    public func pause() -> Bool {
        if case .paused = activity { return true }
        pauseRequested = true
        interruptible?.cancel()
        cancelWait?()
        return true
    }

    /// Resumes a paused thread, optionally from another state of its plan (validated first).
    public func resume(state name: String?) throws(ControlError) {
        guard isPaused else { throw .notPaused(index: index) }
        if let name {
            switch record.plan.plan.resumeTarget(named: name) {
            case let .success(state): resumeTarget = state
            case let .failure(error): throw .invalidState(index: index, error)
            }
        }
        resumeWaiter?.resume()
        resumeWaiter = nil
    }

    /// Re-reads the hot config at the next sector boundary (SIGHUP).
    public func requestReload() { reloadRequested = true }

    public var isPaused: Bool {
        if case .paused = activity { return true }
        return false
    }

    /// A snapshot for `worker list`, the management RPC and pings; a thread waiting for
    /// resources says which pool it waits for and how much, as of now.
    public func info() async -> ThreadInfo {
        var current = activity
        if let wait = resourceWait, let broker, let reason = await broker.reason(wait.id), case let .waiting(since, _) = activity {
            current = .waiting(since: since, waitingFor: "\(wait.stage) \(reason)")
        }
        let plan = record.plan.plan
        return ThreadInfo(
            index: index, location: settings.location, plan: record.plan, jobID: record.jobID,
            jobState: record.jobID == nil && record.state == .empty ? "" : record.state.rawValue,
            jobStage: record.jobID == nil ? nil : plan.stage(of: record.state),
            activity: current, lastError: record.lastError ?? loadFailure?.description)
    }

    // MARK: - The loop

    /// Runs until the task is cancelled (shutdown).
    public func run() async {
        do {
            try store.prepare()
            if store.isPersistent {
                let path = store.historyPath
                let journal = try await offload { () throws(PersistenceError) in try Journal(path: path) }
                if let torn = journal.recovered {
                    log.warn("history had an incomplete last record (\(torn)); it was moved aside and the history truncated")
                }
                self.journal = journal
            }
        } catch let failure as SealingFailure {
            loadFailure = failure
        } catch {
            loadFailure = .critical("cannot open history \(store.historyPath): \(error)")
        }
        if loadFailure == nil { await loadRecord() }
        if let loadFailure { log.error("cannot start: \(loadFailure)") }

        while !Task.isCancelled {
            if loadFailure != nil || record.paused || pauseRequested {
                await parkUntilResumed()
                continue
            }
            if record.state.isTerminal {
                await finalize()
                continue
            }
            if record.state == .empty { await applyReloadIfNeeded() }
            activity = .idle
            do throws(StepError) {
                switch try await step() {
                case let .advance(event, updated):
                    idleRounds = 0
                    try await apply(event, to: updated)
                case .idle:
                    idleRounds += 1
                    let wait = idleRounds > settings.sealing.requestTaskMaxRetries ? settings.sealing.sealInterval : settings.sealing.recoverInterval
                    if idleRounds > settings.sealing.requestTaskMaxRetries { idleRounds = 0 }
                    _ = await sleep(wait)
                }
            } catch {
                switch error {
                case .interrupted: continue
                case let .failure(failure):
                    if !Task.isCancelled { await handle(failure) }
                }
            }
        }
        activity = .idle
        heartbeat?.cancel()
        journal?.close()
        log.info("stopped", [("state", record.state.rawValue)] + sectorField)
    }

    var sectorField: [(String, String)] { record.jobID.map { [("sector", $0)] } ?? [] }

    private func loadRecord() async {
        do {
            if var loaded = try store.load() {
                if loaded.plan != settings.plan, loaded.state == .empty {
                    loaded = SectorRecord(plan: settings.plan)
                }
                record = loaded
                if record.sector != nil || record.paused {
                    log.info("resuming", [("state", record.state.rawValue), ("paused", "\(record.paused)")] + sectorField)
                }
            } else {
                try await store.save(record)
            }
        } catch {
            loadFailure = error
        }
    }

    private func applyReloadIfNeeded() async {
        guard let reloadSettings else { return }
        let force = reloadRequested
        reloadRequested = false
        guard let fresh = reloadSettings(settings, force), fresh != settings else { return }
        log.info("hot config applied", [("plan", fresh.plan.rawValue)])
        settings = fresh
        if record.sector == nil, record.plan != fresh.plan {
            record = SectorRecord(plan: fresh.plan)
            try? await store.save(record)
        }
    }

    /// Waits, paused, until an operator resumes this thread or the daemon stops.
    private func parkUntilResumed() async {
        pauseRequested = false
        if !record.paused, loadFailure == nil {
            record.paused = true
            await persistQuietly()
        }
        activity = .paused(since: .now)
        log.info("paused", [("state", record.state.rawValue)] + sectorField + (record.lastError.map { [("last_error", $0)] } ?? []))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled { continuation.resume() } else { resumeWaiter = continuation }
            }
        } onCancel: {
            Task { await self.wakeForShutdown() }
        }
        if Task.isCancelled { return }
        if loadFailure != nil {
            loadFailure = nil
            await loadRecord()
            if loadFailure != nil { return }
        }
        var next = record
        next.paused = false
        next.lastError = nil
        var note = "resumed"
        if let target = resumeTarget {
            resumeTarget = nil
            if target != record.state {
                next.prevState = record.state
                next.state = target
                next.retry = 0
                note = "resumed --state \(target.rawValue)"
                if target == .aborted { next.abortReason = "aborted by operator (resume --state Aborted)" }
            }
        }
        do {
            try await store.save(next)
        } catch {
            record.lastError = error.description
            log.error("resume failed: \(error)")
            return
        }
        if next.state != record.state {
            await appendHistory(from: record.state, event: "SetState", to: next.state, note: note)
        }
        record = next
        activity = .idle
        log.info(note, [("state", record.state.rawValue)] + sectorField)
    }

    private func wakeForShutdown() {
        resumeWaiter?.resume()
        resumeWaiter = nil
        interruptible?.cancel()
        cancelWait?()
    }

    /// Persists and logs an event; then reports it to the manager (never the other way round).
    private func apply(_ event: SealingEvent, to updated: SectorRecord, note: String? = nil) async throws(StepError) {
        let prev = record.state
        let next: SectorState
        switch record.plan.plan.transition(from: prev, on: event) {
        case let .success(state): next = state
        case let .failure(error): throw .failure(.critical("internal: \(error)"))
        }
        var new = updated
        new.prevState = prev
        new.state = next
        do {
            try await store.save(new)
        } catch {
            throw .failure(error)
        }
        record = new
        await appendHistory(from: prev, event: event.rawValue, to: next, note: note)
        log.info("\(prev) --\(event)--> \(next)", sectorField)
        await report(prev: prev, next: next, event: event.rawValue, failure: nil)
    }

    private func appendHistory(from: SectorState, event: String, to: SectorState, note: String?) async {
        guard let journal else { return }
        let entry = HistoryEntry(
            time: Date().timeIntervalSince1970, sector: record.jobID, plan: record.plan,
            from: from, event: event, to: to, note: note)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let bytes = Array(try encoder.encode(entry))
            try await offload { () throws(PersistenceError) in try journal.append(bytes) }
        } catch {
            log.warn("history not written: \(error)", sectorField)
        }
    }

    private func report(prev: SectorState, next: SectorState, event: String, failure: SealingFailure?) async {
        guard let sector = record.sector, record.plan != .wdpost else { return }
        let req = ReportStateReq(
            instance: settings.instance, location: settings.location, prev: prev.rawValue, next: next.rawValue,
            event: event, failure: failure)
        do {
            let resp = try await manager.reportState(sector, req)
            if resp.Finalized, !record.state.isTerminal {
                // The manager aborts a sector remotely this way.
                var aborted = record
                aborted.abortReason = resp.AbortReason ?? "finalized by the manager"
                try? await apply(.abort, to: aborted, note: "manager asked to abort")
            }
        } catch {
            log.warn("report state failed: \(error)", sectorField)
        }
    }

    func persistQuietly() async {
        do { try await store.save(record) } catch { log.error("\(error)", sectorField) }
    }

    private func handle(_ failure: SealingFailure) async {
        // damocles gives a window PoSt job back rather than holding it paused.
        let exhausted: RetryPolicy.Exhausted = record.plan == .wdpost ? .abort : .pause
        switch RetryPolicy.decide(failure, retry: record.retry, maxRetries: settings.sealing.maxRetries,
                                  recoverInterval: settings.sealing.recoverInterval, exhausted: exhausted) {
        case let .retry(after, retry):
            record.retry = retry
            await persistQuietly()
            log.warn("\(failure); retry \(retry)/\(settings.sealing.maxRetries) in \(after)", [("state", record.state.rawValue)] + sectorField)
            _ = await sleep(after)
        case let .pause(lastError, retry):
            record.retry = retry
            record.lastError = lastError
            record.paused = true
            await persistQuietly()
            log.error("\(lastError); thread paused", [("state", record.state.rawValue)] + sectorField)
            await report(prev: record.state, next: record.state, event: "Failure", failure: failure)
        case let .abort(reason):
            var aborted = record
            aborted.abortReason = reason
            log.error("aborting: \(reason)", [("state", record.state.rawValue)] + sectorField)
            do { try await apply(.abort, to: aborted) } catch {
                record.paused = true
                record.lastError = "critical: could not record abort: \(error)"
            }
        }
    }

    /// Reports a finished or aborted sector, clears its files and starts an empty record.
    private func finalize() async {
        if let sector = record.sector {
            if record.state == .finished {
                while !Task.isCancelled {
                    do {
                        try await manager.reportFinalized(sector)
                        break
                    } catch {
                        log.warn("report finalized failed: \(error); retrying in \(settings.sealing.recoverInterval)", sectorField)
                        if !(await sleep(settings.sealing.recoverInterval)) { return }
                    }
                }
            } else {
                do { try await manager.reportAborted(sector, reason: record.abortReason ?? "aborted") } catch {
                    log.warn("report aborted failed: \(error)", sectorField)
                }
            }
        }
        if Task.isCancelled { return }
        heartbeat?.cancel()
        heartbeat = nil
        if record.plan == .wdpost, record.state == .aborted, let job = record.phases.wdpostJob {
            let reason = record.abortReason ?? "aborted"
            do { try await manager.wdPoStFinishJob(job, output: nil, errorReason: reason) } catch {
                log.warn("finish window PoSt job failed: \(error)", sectorField)
            }
        }
        log.info(record.state == .finished ? "\(record.plan == .wdpost ? "job" : "sector") finished" : "\(record.plan == .wdpost ? "job" : "sector") aborted: \(record.abortReason ?? "-")", sectorField)
        store.clearData()
        let fresh = SectorRecord(plan: settings.plan)
        do {
            try await store.save(fresh)
        } catch {
            record.paused = true
            record.lastError = error.description
            return
        }
        record = fresh
        idleRounds = 0
        _ = await sleep(settings.sealing.sealInterval)
    }

    // MARK: - Waiting

    /// Sleeps on the injected clock; false when a pause or shutdown cut it short.
    private func sleep(_ duration: Duration) async -> Bool {
        if pauseRequested || Task.isCancelled { return false }
        guard duration > .zero else { return true }
        let clock = self.clock
        let wait = Task<Void, any Error> { try await clock.sleep(for: duration, tolerance: nil) }
        interruptible = wait
        let completed = await withTaskCancellationHandler {
            (try? await wait.value) != nil
        } onCancel: {
            wait.cancel()
        }
        interruptible = nil
        return completed && !pauseRequested && !Task.isCancelled
    }

    func sleepOrInterrupt(_ duration: Duration) async throws(StepError) {
        if !(await sleep(duration)) { throw .interrupted }
    }

    /// Runs a proof stage: takes, in damocles' order, the stage's permit (`limitation.concurrent`),
    /// its start token (`limitation.staggered`), a processor child's slot and locks, then the
    /// resources from the pools; every wait is interruptible by a pause. Computes, then gives
    /// everything back whatever the outcome.
    func run<T>(_ stage: ProofStage, _ body: (any Prover) async throws(ProverError) -> T) async throws(StepError) -> T {
        var held = HeldForStage(stage: stage)
        do {
            try await acquire(stage, into: &held)
        } catch {
            await held.release()
            activity = .idle
            throw error
        }
        // A stage with processor children runs in the child whose slot it holds, with its lease.
        var worker: any Prover = prover
        var proc = "\(proverName) \(stage)"
        if let slot = held.slot, let child = children[stage]?[slot.index] {
            worker = ExternalProver(processor: child, local: prover, lease: held.lease?.grant)
            proc = "processors.\(stage)[\(slot.index)]"
        }
        activity = .running(since: .now, proc: proc + (held.lease.map { " [\($0.summary)]" } ?? ""))
        // In-process work runs on a thread pinned to the leased cores and node.
        let pinned = held.slot == nil ? held.lease.flatMap { PinnedExecutor.forLease(cpus: $0.grant.cpus, node: $0.grant.node) } : nil
        let result: Result<T, ProverError>
        do {
            result = .success(try await withTaskExecutorPreference(pinned) { () async throws(ProverError) -> T in try await body(worker) })
        } catch {
            result = .failure(error)
        }
        await held.release()
        activity = .idle
        switch result {
        case let .success(value): return value
        case let .failure(error):
            if Task.isCancelled { throw .interrupted }
            throw .failure(.permanent("\(error)"))
        }
    }

    /// What a running stage holds, released in reverse order of taking.
    struct HeldForStage {
        let stage: ProofStage
        var permit: StageGate?
        var stagger: StaggerGate?
        var processors: ProcessorSlots?
        var slot: ProcessorSlot?
        var lease: ResourceLease?

        mutating func release() async {
            if let lease { await lease.release() }
            if let slot, let processors { await processors.release(stage, slot) }
            if let stagger { await stagger.finished() }
            if let permit { await permit.release() }
            self = HeldForStage(stage: stage)
        }
    }

    private func acquire(_ stage: ProofStage, into held: inout HeldForStage) async throws(StepError) {
        if let gate = gates[stage] {
            activity = .waiting(since: .now, waitingFor: "\(stage) slot (limit \(gate.limit))")
            guard await interruptibly({ (try? await gate.acquire()) != nil ? true : nil }) != nil else { throw .interrupted }
            held.permit = gate
            if pauseRequested || Task.isCancelled { throw .interrupted }
        }
        if let stagger = staggers[stage] {
            activity = .waiting(since: .now, waitingFor: "\(stage) start (staggered \(stagger.interval))")
            guard await interruptibly({ await stagger.start() ? true : nil }) != nil else { throw .interrupted }
            held.stagger = stagger
            if pauseRequested || Task.isCancelled { throw .interrupted }
        }
        if let processors, processors.stages.contains(stage) {
            activity = .waiting(since: .now, waitingFor: "\(stage) processor (slot or ext_lock)")
            guard let slot = await interruptibly({ await processors.acquire(stage) }) else { throw .interrupted }
            held.processors = processors
            held.slot = slot
            if pauseRequested || Task.isCancelled { throw .interrupted }
        }
        held.lease = try await admit(stage, on: held.slot)
        if pauseRequested || Task.isCancelled { throw .interrupted }
    }

    /// Runs a wait that a pause or shutdown cancels; nil when it was interrupted before getting
    /// anything (what it got is the caller's to hold, and to release).
    private func interruptibly<R: Sendable>(_ wait: @escaping @Sendable () async -> R?) async -> R? {
        let task = Task<R?, Never> { await wait() }
        cancelWait = { task.cancel() }
        let value = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        cancelWait = nil
        return value
    }

    /// Waits for the pools to grant what `stage` needs for this thread's sector size, within
    /// the processor child's pinning; a pause or shutdown ends the wait and leaves nothing held.
    private func admit(_ stage: ProofStage, on slot: ProcessorSlot?) async throws(StepError) -> ResourceLease? {
        guard let broker else { return nil }
        let size = record.proof?.sectorSize ?? settings.sealing.allowedSizes?.first ?? .kib2
        var request = broker.request(stage, size: size)
        if let slot { request = slot.restrict(request) }
        let ticket: ResourceBroker.Ticket
        do {
            ticket = try await broker.enqueue(request)
        } catch {
            throw .failure(.permanent("\(error)"))
        }
        switch ticket {
        case let .granted(lease):
            return lease
        case let .waiting(id, refusal):
            let since = ContinuousClock.now
            activity = .waiting(since: since, waitingFor: "\(stage) \(refusal)")
            let sectorLog = log.with("sector", record.sector.map { "\($0)" } ?? "-").with("state", record.state.rawValue)
            sectorLog.info("\(stage) waits for resources: \(refusal)")
            resourceWait = (id, stage)
            let lease = await interruptibly { await broker.wait(id) }
            resourceWait = nil
            guard let lease else {
                // The wait's own cancellation handler leaves the queue asynchronously; leave it
                // now, so a paused thread is never still counted as waiting.
                await broker.cancel(id)
                throw .interrupted
            }
            let waited = since.duration(to: .now)
            sectorLog.info("\(stage) admitted after \(String(format: "%.1f", waited.inSeconds))s: \(lease.summary)")
            return lease
        }
    }

    /// Calls the manager, mapping its errors to damocles' levels.
    func call<T>(_ body: () async throws(ManagerError) -> T) async throws(StepError) -> T {
        do {
            return try await body()
        } catch {
            if Task.isCancelled { throw .interrupted }
            throw .failure(error.failure)
        }
    }

    // MARK: - Steps

    /// Runs the handler of the current state: what to do now that this state's step is done.
    /// Each plan's handlers live in the file named after the plan.
    func step() async throws(StepError) -> Outcome {
        switch record.plan {
        case .sealer: try await sealerStep()
        case .snapup: try await snapUpStep()
        case .rebuild: try await rebuildStep()
        case .unseal: try await unsealStep()
        case .wdpost: try await wdPoStStep()
        }
    }
}

/// Why a pause or resume request was refused.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchThread(index: Int, count: Int)
    case notPaused(index: Int)
    case invalidState(index: Int, ResumeError)

    public var description: String {
        switch self {
        case let .noSuchThread(index, count): "worker #\(index) not found (this daemon has threads 0...\(max(0, count - 1)))"
        case let .notPaused(index): "worker #\(index) is not paused"
        case let .invalidState(index, error): "worker #\(index): \(error)"
        }
    }
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
}
