/// How bad a failed step is, with damocles' four levels and their handling.
public enum FailureLevel: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Transport hiccups and the like: retried after `recover_interval`, up to `max_retries`.
    case temporary
    /// A step that will not succeed by retrying: the thread pauses with `last_error`.
    case permanent
    /// The sector cannot be completed: reported aborted and finalized; the thread moves on.
    case abort
    /// Local storage or bookkeeping broke: the thread pauses with `last_error`.
    case critical

    public var description: String { rawValue }
}

/// A failed step: its level and an operator-readable message with context.
public struct SealingFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var level: FailureLevel
    public var message: String

    public init(_ level: FailureLevel, _ message: String) {
        self.level = level
        self.message = message
    }

    public static func temporary(_ message: String) -> SealingFailure { .init(.temporary, message) }
    public static func permanent(_ message: String) -> SealingFailure { .init(.permanent, message) }
    public static func abort(_ message: String) -> SealingFailure { .init(.abort, message) }
    public static func critical(_ message: String) -> SealingFailure { .init(.critical, message) }

    /// `"<level>: <message>"`, the form damocles shows in LastErr.
    public var description: String { "\(level): \(message)" }
}

/// What a thread does after a failed step, decided purely from the failure and the retry count.
public enum FailureDecision: Sendable, Hashable {
    /// Sleep `after`, then re-run the same state with the persisted retry counter set to `retry`.
    case retry(after: Duration, retry: Int)
    /// Stop and wait for an operator; the sector and its files are kept.
    case pause(lastError: String, retry: Int)
    /// Report the sector aborted, finalize it, move on.
    case abort(reason: String)
}

/// damocles' error handling (spec 2.4), as a pure function.
public enum RetryPolicy {
    /// What a temporary failure becomes once its retries are spent.
    public enum Exhausted: Sendable, Hashable {
        /// A permanent error: the thread pauses (sector plans).
        case pause
        /// The task is given back (window PoSt jobs, which the manager reassigns).
        case abort
    }

    public static func decide(
        _ failure: SealingFailure, retry: Int, maxRetries: Int, recoverInterval: Duration, exhausted: Exhausted = .pause
    ) -> FailureDecision {
        switch failure.level {
        case .temporary:
            if retry >= maxRetries {
                let reason = "\(failure.message) (gave up after \(maxRetries) retries)"
                if exhausted == .abort { return .abort(reason: reason) }
                // Escalate: the counter restarts so a resumed thread gets a fresh budget.
                return .pause(lastError: SealingFailure(.permanent, reason).description, retry: 0)
            }
            return .retry(after: recoverInterval, retry: retry + 1)
        case .permanent, .critical:
            return .pause(lastError: failure.description, retry: retry)
        case .abort:
            return .abort(reason: failure.message)
        }
    }
}
