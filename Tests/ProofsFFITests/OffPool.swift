import Foundation

/// Runs a long CPU-bound computation (a multi-second simulation) on a thread of its own and
/// returns its value, so it does not hold one of the cooperative pool's few threads (two on a
/// 2-core CI machine) that the in-process servers of other tests need to answer. Expectations
/// stay in the test, on the value returned: only the computation moves.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.start()
    }
}
