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

/// Creates a fresh directory `<tmp>/<prefix>-XXXXXX` with mkdtemp; the caller removes it.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let base = FileManager.default.temporaryDirectory.path + "/\(prefix)-XXXXXX"
    var template = Array(base.utf8CString)
    guard let made = mkdtemp(&template) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base])
    }
    return String(cString: made)
}

/// Runs `body` with a fresh directory that is removed when it returns.
func withTemporaryDirectory<R>(_ prefix: String, _ body: (String) throws -> R) throws -> R {
    let directory = try makeTemporaryDirectory(prefix)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
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

