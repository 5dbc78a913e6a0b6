import Synchronization

/// An exit status handed from the async entry point back to the main thread.
final class ExitStatus: Sendable {
    private let value = Mutex<Int32>(0)
    func set(_ v: Int32) { value.withLock { $0 = v } }
    func get() -> Int32 { value.withLock { $0 } }
}
