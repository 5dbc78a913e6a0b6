import Foundation
import ProofsFFI
import Scheduler
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

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Waits until `condition` holds, checking after every scheduling turn; fails after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(try await condition()) {
        if ContinuousClock.now > deadline { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(1))
    }
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

