import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An operator who does what operators do: starts a second daemon on the same config, and fires
/// control commands back to back.
@Suite("Hostile operator end to end")
struct HostileOperatorEndToEndTests {
    @Test("a second daemon on the same config owns no location: its threads stay refused until the first daemon stops")
    func twoDaemonsOneConfig() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2))
        let first = try Child(["daemon", "-c", config], log: dir.path + "/first.log")
        _ = try await first.managementPort()
        try await first.waitForLog("sector finished")

        let second = try Child(["daemon", "-c", config], log: dir.path + "/second.log")
        let port = try await second.managementPort()
        let host = "127.0.0.1:\(port)"
        try await eventually("both threads of the second daemon refused", timeout: .seconds(120)) {
            let out = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
            return try (0..<2).allSatisfy { try threadState(out, index: $0) == "Paused" }
        }
        let list = try await runSealer(["worker", "-H", host, "list"])
        #expect(list.stdout.contains("in use by another sealing thread"), "\(list.stdout)")
        let refused = try await runSealer(["worker", "-H", host, "resume", "-i", "0"])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("in use by another sealing thread"), "\(refused.stderr)")
        #expect(!second.log.contains("--Allocate-->"), "the second daemon sealed nothing")

        first.signal(SIGTERM)
        #expect(try await first.wait() == 0)
        let resumed = try await runSealer(["worker", "-H", host, "resume", "-i", "0"])
        #expect(resumed.status == 0, "\(resumed.output)")
        // Thread 0 now owns its location and moves its sector on. (Polling for "not Paused" can
        // miss it: each daemon embeds its own mock manager, so the first daemon's sector may be
        // unknown to the second one's, which pauses the thread again with that error.)
        do {
            try await eventually("thread 0 of the second daemon runs", timeout: .seconds(120)) {
                if second.log.split(separator: "\n").contains(where: { $0.contains("thread=0 ") && $0.contains("-->") }) { return true }
                let json = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
                let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
                guard let row = rows.first(where: { ($0["index"] as? Int) == 0 }) else { return false }
                let state = (row["thread_state"] as? [String: Any])?["state"] as? String
                let error = row["last_error"] as? String ?? ""
                return state != "Paused" || !error.contains("in use by another sealing thread")
            }
        } catch {
            let list = try? await runSealer(["worker", "-H", host, "list"])
            Issue.record("\(error)\nresume said: \(resumed.output)\nlist: \(list?.stdout ?? "-")\nsecond daemon:\n\(second.log.suffix(4000))\nfirst daemon tail:\n\(first.log.suffix(1500))")
            throw error
        }
        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
    }

    @Test("SIGTERM at any instant of startup is never lost: sent from 0 to 40 ms after the spawn, the daemon always stops")
    func stopSignalDuringStartupIsNeverLost() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        for delay in stride(from: 0, through: 40, by: 4) {
            let daemon = try Child(["daemon", "-c", config], log: dir.path + "/run-\(delay).log")
            defer { daemon.signal(SIGKILL) }
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            daemon.signal(SIGTERM)
            // Stopped gracefully, its startup aborted, or (sent before `main` ran) killed by the
            // signal's default action with nothing started: it never keeps running.
            let status = try await daemon.wait(timeout: .seconds(60))
            #expect([0, 1, SIGTERM].contains(status), "after \(delay) ms: exit \(status)\n\(daemon.log.suffix(1500))")
        }
    }

    @Test("resume -s immediately followed by pause, again and again: every pause is kept and no target outlives its resume")
    func interleavedControl() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        // Deals only, and the embedded manager has none: the thread holds its sector at
        // Allocated, asking again every recover_interval (a wait a pause ends), however slow the
        // machine is.
        let text = testConfig(dir: dir.path, threads: 1, stage: "20ms")
            .replacingOccurrences(of: "[sealing]\n", with: "[sealing]\nenable_deals = true\ndisable_cc = true\n")
        let config = try dir.write("sealer.toml", text)
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        let host = "127.0.0.1:\(port)"
        try await daemon.waitForLog("--Allocate--> Allocated")
        #expect(try await runSealer(["worker", "-H", host, "pause", "-i", "0"]).status == 0)
        try await eventually("paused") {
            try threadState(try await runSealer(["worker", "-H", host, "list", "--json"]).stdout, index: 0) == "Paused"
        }
        for _ in 0..<8 {
            // The issue's reproduction: resume -s immediately followed by pause.
            let resume = try await runSealer(["worker", "-H", host, "resume", "-i", "0", "-s", "Allocated"])
            let pause = try await runSealer(["worker", "-H", host, "pause", "-i", "0"])
            #expect(resume.status == 0, "\(resume.output)")
            #expect(pause.status == 0, "\(pause.output)")
            try await eventually("parked again") {
                try threadState(try await runSealer(["worker", "-H", host, "list", "--json"]).stdout, index: 0) == "Paused"
            }
            let row = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
            #expect(!row.contains("\"job_state\":\"Empty\""), "the sector was kept: \(row)")
        }
        #expect(!daemon.log.contains("lacks"), "no resume target was applied to a record that lacks its data")
        #expect(try await runSealer(["worker", "-H", host, "resume", "-i", "0"]).status == 0)
        try await eventually("running again") {
            try threadState(try await runSealer(["worker", "-H", host, "list", "--json"]).stdout, index: 0) != "Paused"
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }
}

@Suite("Drain end to end")
struct DrainEndToEndTests {
    @Test("worker drain --all --exit: every thread finishes its sector, then the daemon exits 0; SIGQUIT drains without exiting")
    func drainAllExit() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2, stage: "20ms"))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        let host = "127.0.0.1:\(port)"
        try await daemon.waitForLog("--AddPiece--> PieceAdded")

        daemon.signal(SIGQUIT)
        try await eventually("both drained after SIGQUIT") {
            let out = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
            return try (0..<2).allSatisfy { try threadState(out, index: $0) == "Drained" }
        }
        #expect(kill(daemon.pid, 0) == 0, "SIGQUIT drains; it does not stop the daemon")
        for i in 0..<2 { #expect(try await runSealer(["worker", "-H", host, "resume", "-i", "\(i)"]).status == 0) }
        try await eventually("sealing again") {
            let out = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
            return try (0..<2).allSatisfy { try threadState(out, index: $0) != "Drained" }
        }

        let usage = try await runSealer(["worker", "-H", host, "drain"])
        #expect(usage.status == 2 && usage.stderr.contains("drain needs -i N or --all"), "\(usage.output)")
        let drain = try await runSealer(["worker", "-H", host, "drain", "--all", "--exit"])
        #expect(drain.status == 0, "\(drain.output)")
        #expect(try await daemon.wait(timeout: .seconds(60)) == 0)
        #expect(daemon.log.contains("every thread is drained"))
        #expect(!daemon.log.contains("aborted"), "every sector in flight was finished, none aborted")
    }
}
