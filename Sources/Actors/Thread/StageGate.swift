import Synchronization

/// A counting gate for one stage (`limitation.concurrent`): FIFO, and a waiter that is cancelled
/// leaves the line at once, so a pause or shutdown is never stuck behind a busy stage.
///
/// Taking a permit or a place in line is one synchronous step (`take`), so the caller can check
/// for a pending pause and register its wait without a suspension in between.
public final class StageGate: Sendable {
    /// A permit of this gate, handed over by `release` to the oldest waiter.
    public struct Permit: Sendable {}

    public let limit: Int
    private let inUse = Mutex(0)
    let line = WaitQueue<Void, Permit>()

    public init(limit: Int) { self.limit = max(1, limit) }

    /// A permit now (nil), or a place in line to wait on (`line.wait`).
    func take() -> WaitQueue<Void, Permit>.Ticket? {
        inUse.withLock { count in
            if count < limit, line.count == 0 {
                count += 1
                return nil
            }
            return line.enqueue(())
        }
    }

    /// Takes a permit, waiting in FIFO order; throws `CancellationError` when the waiting task is
    /// cancelled. Callers pair it with `release()` in a scoped helper.
    func acquire() async throws {
        guard let ticket = take() else { return }
        guard await line.wait(ticket) != nil else { throw CancellationError() }
    }

    /// Returns a permit, handing it straight to the oldest waiter if any.
    func release() {
        inUse.withLock { count in
            for (ticket, _) in line.line where line.deliver(ticket, Permit()) { return }
            count -= 1
        }
    }

    /// Permits held and tasks waiting, for `worker list` and tests.
    public var usage: (inUse: Int, waiting: Int) {
        inUse.withLock { ($0, line.count) }
    }
}
