import Scheduler

/// Why a pause or resume request was refused.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchThread(index: Int, count: Int)
    case notPaused(index: Int)
    /// A resume is already being applied to this thread.
    case alreadyResuming(index: Int)
    /// A pause is pending; a resume with a target state waits until the thread has parked.
    case pausePending(index: Int)
    case invalidState(index: Int, ResumeError)
    /// The thread's location is owned by another thread or daemon; it stays paused until free.
    case locationLocked(index: Int, reason: String)

    public var description: String {
        switch self {
        case let .noSuchThread(index, count): "worker #\(index) not found (this daemon has threads 0...\(max(0, count - 1)))"
        case let .notPaused(index): "worker #\(index) is not paused"
        case let .alreadyResuming(index): "worker #\(index) is already resuming"
        case let .pausePending(index): "worker #\(index) has a pause pending and has not parked yet; resume it with a state once it is paused"
        case let .invalidState(index, error): "worker #\(index): \(error)"
        case let .locationLocked(index, reason): "worker #\(index): \(reason); it stays paused"
        }
    }
}
