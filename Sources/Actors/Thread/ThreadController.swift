import ProofsFFI
import Scheduler
import Synchronization

/// A sealing thread's control state (`ThreadControl`) and what it is doing now, behind one lock,
/// so a pause, a resume or `worker list` never waits for the thread's actor to be free.
///
/// Every wait of the thread goes through `wait(on:_:)` or `sleep(for:on:)`: the wait registers how
/// to end it at once, unless a pause or shutdown is already pending, with no suspension between
/// that check and the registration. So a pause registered at any instant either ends the wait in
/// progress or stops the next checkpoint.
final class ThreadController: Sendable {
    private struct State {
        var control = ThreadControl()
        /// Ends the wait in progress (cancels its ticket or its timer).
        var cancelWait: (@Sendable () -> Void)?
        /// The parked thread, woken by a resume or shutdown.
        var parked: CheckedContinuation<Void, Never>?
        var activity: ThreadActivity = .idle
        /// The resource request the thread waits for (broker id and stage), for `worker list`.
        var resourceWait: (id: UInt64, stage: ProofStage)?
    }

    private let state = Mutex(State())

    // MARK: - Commands

    /// Registers a pause and ends the wait in progress; the next checkpoint parks the thread.
    func requestPause() -> PauseOutcome {
        let (outcome, cancel) = state.withLock { s -> (PauseOutcome, (@Sendable () -> Void)?) in
            let outcome = s.control.requestPause()
            return (outcome, outcome == .requested ? s.cancelWait : nil)
        }
        cancel?()
        return outcome
    }

    /// Registers a drain: the thread finishes its current sector and parks at the boundary.
    func requestDrain() -> DrainOutcome {
        state.withLock { $0.control.requestDrain() }
    }

    var drainRequested: Bool { state.withLock { $0.control.draining } }

    /// At a sector boundary: parks the thread as drained when a drain is pending (true).
    func drainAtBoundary() -> Bool {
        state.withLock { s in
            guard s.control.drainAtBoundary() else { return false }
            s.activity = .drained(since: .now)
            s.resourceWait = nil
            return true
        }
    }

    /// Accepts a resume (from `target` when given) and wakes the parked thread.
    func requestResume(target: SectorState?) -> Result<Void, ResumeRefusal> {
        let (result, parked) = state.withLock { s -> (Result<Void, ResumeRefusal>, CheckedContinuation<Void, Never>?) in
            let result = s.control.requestResume(target: target)
            guard case .success = result else { return (result, nil) }
            let parked = s.parked
            s.parked = nil
            return (result, parked)
        }
        parked?.resume()
        return result
    }

    /// Ends the wait in progress and wakes a parked thread; its task is being cancelled.
    func wakeForShutdown() {
        let (cancel, parked) = state.withLock { s in
            defer { s.parked = nil }
            return (s.cancelWait, s.parked)
        }
        cancel?()
        parked?.resume()
    }

    // MARK: - The thread's side

    var control: ControlState { state.withLock { $0.control.state } }
    var parkRequested: Bool { state.withLock { $0.control.parkRequested } }

    /// Stops the step when a pause or shutdown is pending.
    func checkpoint() throws(StepError) {
        if Task.isCancelled || parkRequested { throw .interrupted }
    }

    /// Marks the thread parked (after a pause request, or forced: a failure, a pause kept across
    /// a restart); false when a resume withdrew the pause meanwhile and the thread runs on.
    func markParked(force: Bool) -> Bool {
        state.withLock { s in
            guard s.control.park(force: force) else { return false }
            s.activity = .paused(since: .now)
            s.resourceWait = nil
            return true
        }
    }

    /// Waits, parked, until a resume is accepted; returns it, or nil when the daemon stops.
    func waitForResume() async -> (target: SectorState?, pauseAgain: Bool)? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if Task.isCancelled || (s.control.state != .paused && s.control.state != .drained) { return true }
                    s.parked = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wakeForShutdown()
        }
        if Task.isCancelled { return nil }
        return state.withLock { s in
            let taken = s.control.takeResume()
            if taken != nil { s.activity = .idle }
            return taken
        }
    }

    /// Applying a resume failed: the thread stays parked.
    func resumeFailed() {
        state.withLock { s in
            s.control.resumeFailed()
            s.activity = .paused(since: .now)
        }
    }

    /// Registers `cancel` as the way to end the wait now starting. When a pause or shutdown is
    /// already pending, it runs `cancel` at once instead, so the wait ends as soon as it starts.
    private func begin(_ cancel: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if Task.isCancelled || s.control.parkRequested { return true }
            s.cancelWait = cancel
            return false
        }
        if now { cancel() }
    }

    private func end() {
        state.withLock { $0.cancelWait = nil }
    }

    /// Waits for `ticket` in `queue`, ended early by a pause or shutdown; nil when it was ended
    /// before being served. A value served is returned even if a pause came after: the caller
    /// checks `checkpoint()` and gives it back.
    func wait<Tag, Value>(on queue: WaitQueue<Tag, Value>, _ ticket: WaitQueue<Tag, Value>.Ticket) async -> Value? {
        begin { queue.cancel(ticket) }
        defer { end() }
        return await queue.wait(ticket)
    }

    /// Sleeps on `clock`; false when a pause or shutdown cut it short.
    func sleep(for duration: Duration, on clock: any Clock<Duration>) async -> Bool {
        if Task.isCancelled || parkRequested { return false }
        guard duration > .zero else { return true }
        let timer = Task<Void, any Error> { try await clock.sleep(for: duration, tolerance: nil) }
        begin { timer.cancel() }
        defer { end() }
        let completed = await withTaskCancellationHandler {
            (try? await timer.value) != nil
        } onCancel: {
            timer.cancel()
        }
        return completed && !Task.isCancelled && !parkRequested
    }

    /// Runs a wait whose only way to end early is `cancel` (a resource request's withdrawal).
    func wait<R>(cancel: @escaping @Sendable () -> Void, _ body: () async -> R) async -> R {
        begin(cancel)
        defer { end() }
        return await withTaskCancellationHandler {
            await body()
        } onCancel: {
            cancel()
        }
    }

    // MARK: - What it does now

    var activity: ThreadActivity {
        get { state.withLock { $0.activity } }
        set { state.withLock { $0.activity = newValue } }
    }

    var resourceWait: (id: UInt64, stage: ProofStage)? {
        get { state.withLock { $0.resourceWait } }
        set { state.withLock { $0.resourceWait = newValue } }
    }
}
