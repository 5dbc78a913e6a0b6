import Foundation
import Synchronization

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
    try await BlockingWork(body).value
}

/// What a tool run by `runTool` could not do: it did not start.
public struct ToolError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs a tool from PATH (curl, python3) to completion off the cooperative pool; returns its
/// exit status and its stdout and stderr together.
public func runTool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await runBlocking {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { throw ToolError(description: "cannot run \(arguments.first ?? "nothing"): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Blocking work (a test's one-shot socket server) started on a thread of its own at once, from
/// the test's synchronous code. An `async let` of `runBlocking` starts its thread only when the
/// child task gets a pool thread, which a loaded run can delay past the client's timeout.
/// Await `value` once for the result.
public final class BlockingWork<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<T, any Error>?)>((nil, nil))

    public init(_ body: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            let result = Result { try body() }
            let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
                guard let waiter = state.waiter else {
                    state.result = result
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.resume(with: result)
        }.start()
    }

    /// The work's result, once it has returned.
    public var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let ready = state.withLock { state -> Result<T, any Error>? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}
