import Synchronization

/// Environment variables set at run time through `VenusWorker.WorkerSetEnv` / `WorkerRemoveEnv`,
/// owned by the daemon and applied to every processor child started afterwards (respawns too).
/// It replaces `setenv`, which is unsafe in a multithreaded process and which children spawned
/// with an explicit environment never saw.
public final class EnvironmentOverlay: Sendable {
    private let values = Mutex<[String: String]>([:])

    public init(_ initial: [String: String] = [:]) {
        values.withLock { $0 = initial }
    }

    /// Why a name cannot be a variable name (nil when it can): empty, or containing `=` or NUL.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "an environment variable name cannot be empty" }
        if name.contains("=") || name.contains("\0") { return "invalid environment variable name '\(name)'" }
        return nil
    }

    /// Sets `name` to `value` for children started from now on.
    public func set(_ name: String, _ value: String) {
        values.withLock { $0[name] = value }
    }

    /// Removes `name`; returns whether it was set.
    @discardableResult
    public func remove(_ name: String) -> Bool {
        values.withLock { $0.removeValue(forKey: name) != nil }
    }

    /// The value of `name`, nil when unset.
    public func value(_ name: String) -> String? {
        values.withLock { $0[name] }
    }

    /// Every variable, as a child started now gets them.
    public var snapshot: [String: String] {
        values.withLock { $0 }
    }
}
