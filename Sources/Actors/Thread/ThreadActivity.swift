/// What a thread is doing right now, as `worker list` shows it.
public enum ThreadActivity: Sendable, Hashable {
    case idle
    /// Holding its stage permit and computing; `proc` names who does the work.
    case running(since: ContinuousClock.Instant, proc: String?)
    /// Blocked on a stage limit or resource; `waitingFor` says which and how much.
    case waiting(since: ContinuousClock.Instant, waitingFor: String)
    case paused(since: ContinuousClock.Instant)
    /// Finished its work after a drain; takes no new sector until resumed.
    case drained(since: ContinuousClock.Instant)

    public var name: String {
        switch self {
        case .idle: "Idle"
        case .running: "Running"
        case .waiting: "Waiting"
        case .paused: "Paused"
        case .drained: "Drained"
        }
    }
}
