/// `limitation.staggered` for one stage: starts are spaced at least `interval` apart, except
/// that a task of the stage finishing lets the next one start at once (damocles' rule: a single
/// start token, refilled by a timer that restarts at each start, and by every finish).
public actor StaggerGate {
    public let interval: Duration
    private let clock: any Clock<Duration>
    private var available = true
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0
    private var timer: Task<Void, Never>?

    public init(interval: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        self.interval = interval
        self.clock = clock
    }

    /// Waits for the start token; false when the waiting task was cancelled.
    func start() async -> Bool {
        if available, waiters.isEmpty {
            take()
            return true
        }
        nextID += 1
        let id = nextID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                if Task.isCancelled { continuation.resume(returning: false) } else { waiters.append((id, continuation)) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// A task of the stage finished: the next start may go now.
    func finished() { refill() }

    private func take() {
        available = false
        timer?.cancel()
        let clock = clock, interval = interval
        timer = Task { [weak self] in
            do { try await clock.sleep(for: interval, tolerance: nil) } catch { return }
            await self?.refill()
        }
    }

    private func refill() {
        if waiters.isEmpty {
            available = true
            timer?.cancel()
            timer = nil
        } else {
            take()
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    private func cancel(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: false)
    }

    /// Starts waiting, for tests and status.
    public var waiting: Int { waiters.count }
}
