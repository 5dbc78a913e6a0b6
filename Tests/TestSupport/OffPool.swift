import Foundation

// Swift's global executor on Linux is as wide as the machine has cores: two on the CI machine.
// A test that computes or blocks there for seconds stalls every in-process server and daemon of
// the tests running beside it, and their timeouts then fail for no fault of their own. These
// helpers move such work onto a thread of its own.

/// Runs a long CPU-bound computation on a thread of its own and returns its value. Expectations
/// stay in the test, on the value returned: only the computation moves.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// Runs blocking work (sockets, pipes, child processes, fsync) on a thread of its own.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}
