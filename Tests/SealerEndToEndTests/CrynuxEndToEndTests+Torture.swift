import Foundation
import ProofsFFI
import TestSupport
import Testing

/// Issue 10's promise under fire: SIGKILL the daemon at seeded instants while a Crynux node works
/// through tasks against an outside relay mock (which lives on). However the kills fall, no
/// persisted score is lost and no scored task runs its executor again; the tasks still end.
@Suite("Crynux node: SIGKILL at any instant")
struct CrynuxTortureEndToEndTests {
    @Test("repeated SIGKILLs at seeded instants: a scored task never runs again, and every task still ends in EndSuccess")
    func killsAtSeededInstants() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let tasks = 6
        let relay = try Child(["relay", "mock", "--listen", "127.0.0.1:0", "--task-count", "\(tasks)", "--task-interval", "100ms",
                               "--execution-timeout", "600s"], log: scratch.path + "/relay.log")
        defer { relay.signal(SIGKILL) }
        let port = try await relay.loopbackPort(after: "relay mock serving on ")
        let config = try scratch.write("sealer.toml", testConfig(dir: scratch.path, threads: 1,
                                                                  extra: try CrynuxEndToEndTests.crynuxExtra(dir: scratch.path, relay: "http://127.0.0.1:\(port)")))
        var rng = SplitMix64(seed: 20261203)  // seeded, so a failing run can be replayed
        var logs: [String] = []
        var metWork = 0
        // At least eight kills, and on until three of them cut a run that had started a task's work,
        // at most twelve. Each instant is seeded: a third fall anywhere from just after start to a few
        // task phases in; the others fall a moment after the run starts an executor or persists a
        // score, so kills meet the work however slowly a loaded machine goes.
        for round in 0..<12 where round < 8 || metWork < 3 {
            let daemon = try Child(["daemon", "-c", config], log: scratch.path + "/run-\(round).log")
            _ = try await daemon.managementPort()
            let anchor = ["", "executor started", "score persisted"][round % 3]
            // Long: on a machine loaded several times over, a restarted daemon takes tens of
            // seconds to reach the task's work, and a kill before it would not meet the work.
            if !anchor.isEmpty { _ = try? await daemon.waitForLog(anchor, timeout: .seconds(90)) }
            let delay = anchor.isEmpty ? 100 + Int(rng.next() % 2_400) : Int(rng.next() % 300)
            try await Task.sleep(for: .milliseconds(delay))
            daemon.signal(SIGKILL)
            _ = try await daemon.wait()
            logs.append(daemon.log)
            if daemon.log.contains("executor started") || daemon.log.contains("score persisted") { metWork += 1 }
        }
        let last = try Child(["daemon", "-c", config], log: scratch.path + "/run-last.log")
        defer { last.signal(SIGKILL) }
        try await eventually("every task ended", timeout: .seconds(180)) {
            relay.log.components(separatedBy: "-> EndSuccess").count - 1 >= tasks
        }
        last.signal(SIGTERM)
        _ = try await last.wait()
        logs.append(last.log)

        // Walk every run's log in order: once a task's score is persisted, its executor never starts again.
        var scored: Set<String> = []
        var executions: [String: Int] = [:]
        var violations: [String] = []
        for (run, log) in logs.enumerated() {
            for line in log.split(separator: "\n") {
                guard let range = line.range(of: "task=0x") else { continue }
                let task = String(line[range.lowerBound...].dropFirst("task=".count).prefix { $0.isHexDigit || $0 == "x" })
                if line.hasSuffix("executor started") {
                    executions[task, default: 0] += 1
                    if scored.contains(task) { violations.append("run \(run): \(line)") }
                } else if line.contains("score persisted")
                            || (line.hasSuffix("persisted row loaded") && line.contains("score=persisted")) {
                    // A kill between the persist and its log line leaves only the next run's
                    // load of the row to say the score was kept; that run must not execute it.
                    scored.insert(task)
                }
            }
        }
        #expect(violations.isEmpty, "a scored task ran again:\n\(violations.joined(separator: "\n"))")
        #expect(scored.count >= tasks, "\(scored.count) tasks scored of \(tasks)")
        #expect(relay.log.components(separatedBy: "-> EndSuccess").count - 1 == tasks, "\(relay.log.suffix(3000))")
        // The kills did land mid-work.
        #expect(metWork >= 3, "only \(metWork) kills met a task's work")
        relay.signal(SIGTERM)
        _ = try await relay.wait()
    }
}
