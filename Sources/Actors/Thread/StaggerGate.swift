import Synchronization

/// `limitation.staggered` for one stage: starts are spaced at least `interval` apart, except
/// that a task of the stage finishing lets the next one start at once (damocles' rule: a single
/// start token, refilled by a timer that restarts at each start, and by every finish).
public final class StaggerGate: Sendable {
    /// The start token, handed to the oldest waiter when it refills.
    public struct Token: Sendable {}

    public let interval: Duration
    private let clock: any Clock<Duration>
    private struct State {
        var available = true
        var timer: Task<Void, Never>?
        var generation: UInt64 = 0
    }
    private let state = Mutex(State())
    let line = WaitQueue<Void, Token>()

    public init(interval: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        self.interval = interval
        self.clock = clock
    }

    /// The token now (nil), or a place in line to wait on (`line.wait`).
    func take() -> WaitQueue<Void, Token>.Ticket? {
        state.withLock { s in
            if s.available, line.count == 0 {
                startTimer(&s)
                return nil
            }
            return line.enqueue(())
        }
    }

    /// Waits for the start token; false when the waiting task was cancelled.
    func start() async -> Bool {
        guard let ticket = take() else { return true }
        return await line.wait(ticket) != nil
    }

    /// A task of the stage finished: the next start may go now.
    func finished() {
        state.withLock { refill(&$0, generation: nil) }
    }

    /// Takes the token and arms the timer that refills it.
    private func startTimer(_ s: inout State) {
        s.available = false
        s.timer?.cancel()
        s.generation += 1
        let generation = s.generation, clock = clock, interval = interval
        s.timer = Task { [weak self] in
            do { try await clock.sleep(for: interval, tolerance: nil) } catch { return }
            self?.state.withLock { self?.refill(&$0, generation: generation) }
        }
    }

    /// Gives the token to the oldest waiter (re-arming the timer), or makes it available. A timer
    /// that fires after a newer start (`generation` differs) does nothing.
    private func refill(_ s: inout State, generation: UInt64?) {
        if let generation, generation != s.generation { return }
        for (ticket, _) in line.line where line.deliver(ticket, Token()) {
            startTimer(&s)
            return
        }
        s.available = true
        s.timer?.cancel()
        s.timer = nil
    }

    /// Starts waiting, for tests and status.
    public var waiting: Int { line.count }
}
