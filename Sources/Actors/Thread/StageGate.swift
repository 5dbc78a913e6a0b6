/// A counting gate for one stage (`limitation.concurrent`): FIFO, and a waiter that is cancelled
/// leaves the queue at once, so a pause or shutdown is never stuck behind a busy stage.
public actor StageGate {
    public let limit: Int
    private var inUse = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a permit, waiting in FIFO order; throws `CancellationError` if cancelled while
    /// waiting. Callers pair it with `release()` in a scoped helper (`SealingThread.run(_:_:)`).
    func acquire() async throws {
        if inUse < limit, waiters.isEmpty {
            inUse += 1
            return
        }
        nextID += 1
        let id = nextID
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                if Task.isCancelled {
                    continuation.resume(returning: false)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
        guard granted else { throw CancellationError() }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: false)
    }

    /// Returns a permit, handing it to the oldest waiter if any.
    func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            // Hand the permit straight to the oldest waiter.
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    /// Permits held and tasks waiting, for `worker list` and tests.
    public var usage: (inUse: Int, waiting: Int) { (inUse, waiters.count) }
}
