import Foundation
import ProofsFFI
import Scheduler
import TestSupport
@testable import Actors

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct TempDir {
    let path: String
    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "sealer-\(safe)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with a fresh `TempDir` that is removed when it returns.
func withTemporaryDirectory<R>(_ name: String = #function, _ body: (String) throws -> R) rethrows -> R {
    let directory = TempDir(name)
    defer { directory.cleanup() }
    return try body(directory.path)
}

/// A file's bytes as they are on disk, past any API that would validate them.
func rawBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes bytes as they are, to plant torn or foreign files.
func writeRaw(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A test's own setup failed (a socket, a missing helper binary): not what it tests.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Settings for a fast test thread: millisecond waits, so threads sleep rather than spin and
/// parallel tests share the two-core machine fairly.
func fastSettings(_ index: Int, _ location: String, plan: PlanKind = .sealer) -> ThreadSettings {
    var s = ThreadSettings(index: index, location: location, plan: plan, instance: "test")
    s.sealing.sealInterval = .milliseconds(1)
    s.sealing.recoverInterval = .milliseconds(1)
    s.sealing.rpcPollingInterval = .milliseconds(1)
    s.sealing.maxRetries = 2
    s.persistStores = ["persist-a"]
    // The store sits beside the location, inside the test's temporary directory.
    if !location.isEmpty {
        s.storeLocations = ["persist-a": location + "-persist-a"]
        try? FileManager.default.createDirectory(atPath: location + "-persist-a", withIntermediateDirectories: true)
    }
    return s
}

/// A mock prover whose every stage takes a millisecond, overridable per stage.
func fastProver(_ overrides: [ProofStage: Duration] = [:]) -> MockProver {
    var durations = Dictionary(uniqueKeysWithValues: ProofStage.allCases.map { ($0, Duration.milliseconds(1)) })
    durations.merge(overrides) { $1 }
    return MockProver(options: .init(durations: durations))
}

/// A logger that discards lines (tests assert on state, not log text).
let quietLog = Log(minimum: ProcessInfo.processInfo.environment["SEALER_TEST_LOG"] == nil ? .error : .debug, fd: ProcessInfo.processInfo.environment["SEALER_TEST_LOG"] == nil ? -1 : 2)

