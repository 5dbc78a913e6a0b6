/// A condition that did not come true in time, named as the test awaited it.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// Waits until `condition` holds, checking it every `poll`; throws `TimedOut` after `timeout`.
/// The condition is checked again after each wait before the deadline is, so a test whose task
/// was queued behind a loaded machine's backlog sees a condition that came true meanwhile.
public func eventually(_ what: String, timeout: Duration = .seconds(60), poll: Duration = .milliseconds(2),
                       _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(try await condition()) {
        if ContinuousClock.now > deadline { throw TimedOut(what: what) }
        try await Task.sleep(for: poll)
    }
}
