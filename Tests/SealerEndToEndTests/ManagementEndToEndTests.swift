import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary, driven as an operator would: `sealer daemon`, `sealer worker`, curl, signals.
@Suite("Daemon management end to end")
struct ManagementEndToEndTests {
    @Test("worker list / pause / resume through the CLI, with state validation")
    func pauseResumeThroughCLI() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        // PC1 limited to one slot and slow, so most threads wait for it: pausable at once.
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 3, stage: "20ms", extra: """
            [processors.limitation.concurrent]
            pc1 = 1
            """))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        let host = "127.0.0.1:\(port)"

        try await daemon.waitForLog("--PC1--> PC1Done")
        let list = try await runSealer(["worker", "-H", host, "list"])
        #expect(list.status == 0, "\(list.output)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("#") == true && lines.first?.contains("ThreadState") == true, "\(list.output)")
        #expect(lines.count == 4, "\(list.output)")
        // damocles-worker's variable finds the same daemon with no flag.
        let viaDamoclesEnv = try await runSealer(["worker", "list"], environment: ["DAMOCLES_WORKER_HOST": host])
        #expect(viaDamoclesEnv.status == 0, "\(viaDamoclesEnv.output)")
        #expect(viaDamoclesEnv.stdout.split(separator: "\n").count == 4, "\(viaDamoclesEnv.output)")

        let pause = try await runSealer(["worker", "-H", host, "pause", "-i", "1"])
        #expect(pause.status == 0, "\(pause.output)")
        try await eventually("thread 1 paused") {
            try threadState(try await runSealer(["worker", "-H", host, "list", "--json"]).stdout, index: 1) == "Paused"
        }

        let bad = try await runSealer(["worker", "-H", host, "resume", "-i", "1", "-s", "NoSuchState"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("valid states: Empty, Allocated"), "\(bad.output)")
        let missing = try await runSealer(["worker", "-H", host, "pause", "-i", "9"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("worker #9 not found"), "\(missing.output)")

        let resume = try await runSealer(["worker", "-H", host, "resume", "-i", "1"])
        #expect(resume.status == 0, "\(resume.output)")
        try await eventually("thread 1 running again") {
            try threadState(try await runSealer(["worker", "-H", host, "list", "--json"]).stdout, index: 1) != "Paused"
        }

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        #expect(daemon.log.contains("stopped cleanly"))
    }

    @Test("SIGUSR1 pauses every thread, SIGUSR2 resumes them, SIGTERM stops with status 0")
    func signals() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        try await daemon.waitForLog("sector finished")
        daemon.signal(SIGUSR1)
        try await eventually("all paused") {
            let out = try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "list", "--json"]).stdout
            return try (0..<2).allSatisfy { try threadState(out, index: $0) == "Paused" }
        }
        daemon.signal(SIGUSR2)
        try await eventually("all resumed") {
            let out = try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "list", "--json"]).stdout
            return try (0..<2).allSatisfy { try threadState(out, index: $0) != "Paused" }
        }
        daemon.signal(SIGHUP)
        try await daemon.waitForLog("re-reading hot configs")
        let start = ContinuousClock.now
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        #expect(ContinuousClock.now - start < .seconds(6), "graceful stop is bounded by shutdown_timeout")
    }

    @Test("malformed, unknown and badly typed JSON-RPC requests get JSON-RPC errors; the daemon keeps serving")
    func rpcErrors() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1, token: "s3cret"))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        let url = "http://127.0.0.1:\(port)/rpc/v0"
        func curl(_ body: String, token: String? = "s3cret") async throws -> String {
            var args = ["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body, url]
            if let token { args += ["-H", "Authorization: Bearer \(token)"] }
            return try await runTool(args).output
        }
        #expect(try await curl("{not json").contains("-32700"))
        #expect(try await curl(#"{"jsonrpc":"2.0","id":1,"method":"VenusWorker.Nope","params":[]}"#).contains("-32601"))
        #expect(try await curl(#"{"jsonrpc":"2.0","id":1,"method":"VenusWorker.WorkerPause","params":["x"]}"#).contains("-32602"))
        let anonymous = try await curl(#"{"jsonrpc":"2.0","id":1,"method":"VenusWorker.WorkerList","params":[]}"#, token: nil)
        #expect(anonymous.contains("-32001") && !anonymous.contains("\"result\""), "\(anonymous)")
        let version = try await curl(#"{"jsonrpc":"2.0","id":7,"method":"VenusWorker.WorkerVersion","params":[]}"#)
        #expect(version.contains(#""result":"v0.1.0"#), "\(version)")

        // The same from Python's standard library, as an operator's script would call it.
        let script = """
        import json, urllib.request
        req = urllib.request.Request("\(url)", data=json.dumps({"jsonrpc":"2.0","id":1,"method":"VenusWorker.WorkerList","params":[]}).encode(),
                                     headers={"Content-Type":"application/json","Authorization":"Bearer s3cret"})
        rows = json.load(urllib.request.urlopen(req))["result"]
        assert rows[0]["index"] == 0 and rows[0]["plan"] == "sealer" and "thread_state" in rows[0], rows
        print("ok", rows[0]["thread_state"]["state"])
        """
        let (status, out) = try await runTool(["python3", "-c", script])
        #expect(status == 0, "\(out)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }

    @Test("config check prints the effective config, or the errors with file:line, and sets the exit status")
    func configCheck() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let good = try dir.write("good.toml", testConfig(dir: dir.path, threads: 2))
        let ok = try await runSealer(["config", "check", "-c", good])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.stdout.contains("recover_interval"), "defaults are printed resolved: \(ok.stdout)")
        let bad = try dir.write("bad.toml", "[sector_manager]\nrpc_client.addr = \"embedded\"\n[sealing]\nmax_retries = \"five\"\nbogus_key = 1\n")
        let result = try await runSealer(["config", "check", "-c", bad])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "errors go to stderr: \(result.stdout)")
        #expect(result.stderr.contains("bad.toml:4"), "\(result.stderr)")
        #expect(result.stderr.contains("bad.toml:5"), "unknown key warning with its line: \(result.stderr)")
        let daemon = try await runSealer(["daemon", "-c", bad])
        #expect(daemon.status == 1, "the daemon refuses a config with errors")
    }
}

/// `thread_state.state` of thread `index` in `worker list --json` output.
func threadState(_ json: String, index: Int) throws -> String {
    guard let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
        throw HarnessError("not a WorkerInfo array: \(json)")
    }
    guard let row = rows.first(where: { ($0["index"] as? Int) == index }),
          let state = (row["thread_state"] as? [String: Any])?["state"] as? String else {
        throw HarnessError("no thread \(index) in \(json)")
    }
    return state
}
