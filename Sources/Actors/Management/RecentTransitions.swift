import Scheduler
import Synchronization

/// The daemon's last job transitions, newest last, for `VenusWorker.WorkerActivity` (what
/// `sealer top` lists). A short ring: recording is one lock and never grows memory.
public final class RecentTransitions: Sendable {
    /// How many are kept.
    public let capacity: Int
    private let ring = Mutex<[TopTransition]>([])

    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    /// Keeps `transition`, dropping the oldest when full.
    public func record(_ transition: TopTransition) {
        ring.withLock { ring in
            if ring.count >= capacity { ring.removeFirst(ring.count - capacity + 1) }
            ring.append(transition)
        }
    }

    /// The kept transitions, oldest first.
    public func snapshot() -> [TopTransition] { ring.withLock { $0 } }
}
