import Dispatch
import Foundation
import Synchronization
import Testing

/// A task executor with its own few threads for tests that compute for seconds (simulations,
/// reports, image hashes) or block on the disk. Their bodies run here instead of on the
/// cooperative pool, and at most `width` of them run at once, so on a two-core machine one
/// core is always left to the pool that the daemons and servers of other tests answer on.
public final class ComputeExecutor: TaskExecutor {
    /// The one instance tests share: max(1, cores − 1) threads, started once and kept for the
    /// life of the test process (a job may arrive late from a child task; a thread is there).
    public static let shared = ComputeExecutor(width: max(1, ProcessInfo.processInfo.activeProcessorCount - 1))

    private static let marker = "sealer.tests.compute-executor"

    /// True on one of the executor's threads (a sync check, for tests of the executor itself).
    public static var isCurrentThread: Bool { Thread.current.threadDictionary[marker] as? Bool == true }

    public let width: Int
    private let queue = Mutex<[UnownedJob]>([])
    private let ready = DispatchSemaphore(value: 0)

    public init(width: Int) {
        self.width = width
        for index in 0..<width {
            Thread { [self] in
                // Named from inside: on Linux a name set before start() never reaches pthread.
                Thread.current.name = "compute-\(index)"
                Thread.current.threadDictionary[Self.marker] = true
                run()
            }.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.append(job) }
        ready.signal()
    }

    private func run() {
        while true {
            ready.wait()
            guard let job = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test of a suite (or one test) on `ComputeExecutor.shared`; nonisolated code of
/// the test and its child tasks stays there, while actors keep their own executors.
public struct ComputeBoundTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(ComputeExecutor.shared) {
            try await function()
        }
    }
}

extension Trait where Self == ComputeBoundTrait {
    /// The test computes or blocks for long: run it on `ComputeExecutor.shared`, off the pool.
    public static var computeBound: Self { ComputeBoundTrait() }
}
