import Actors
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

/// Issue 10 as an operator sees it: sealing and Crynux tasks side by side on a 1-GPU box, and a
/// SIGKILL between a persisted score and its submission.
@Suite struct CrynuxEndToEndTests {
    static let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

    static func crynuxExtra(dir: String, relay: String) throws -> String {
        try key.write(toFile: dir + "/node.key", atomically: true, encoding: .utf8)
        // The relay mock's tasks name base:mock-model; a node without it on disk is never picked.
        try FileManager.default.createDirectory(atPath: dir + "/models/base", withIntermediateDirectories: true)
        try "mock model\n".write(toFile: dir + "/models/base/mock-model", atomically: true, encoding: .utf8)
        return """
        [resources]
        memory_reserve = "0"

        [resources.box]
        nodes = 1
        cores_per_node = 8
        cores_per_l3 = 8
        memory = "64GiB"
        gpus = 1
        gpu_vram = "24GiB"

        [crynux]
        relay_url = "\(relay)"
        node_key_file = "\(dir)/node.key"
        gpu_name = "Test GPU"
        model_dir = "\(dir)/models"

        [crynux.mock]
        task_interval = "300ms"
        task_count = 3
        min_vram = 8

        [[sealing_thread]]
        plan = "crynux"
        location = "\(dir)/crynux"

        """
    }

    @Test("a sector and Crynux tasks finish side by side; worker list and the node API show the crynux thread")
    func sideBySide() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let config = try scratch.write("sealer.toml", testConfig(dir: scratch.path, threads: 2, extra: try Self.crynuxExtra(dir: scratch.path, relay: "embedded")))
        let daemon = try Child(["daemon", "-c", config], log: scratch.path + "/daemon.log")
        let port = try await daemon.managementPort()
        try await daemon.waitForLog("sector finished")
        try await eventually("three Crynux tasks closed", timeout: .seconds(60)) {
            daemon.log.components(separatedBy: "status=EndSuccess task closed locally").count - 1 >= 2
        }
        let log = daemon.log
        #expect(log.contains("executor started"))
        #expect(log.contains("lease=\"node 0 cpus"), "the executor ran under a GPU lease from the pool")
        #expect(log.contains("GPU lease released"))
        #expect(log.contains("stage=crynux_inference"), "the inference lease is admitted under its own name")
        let list = try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "list"])
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains("#2 crynux node 0x"), "\(list.stdout)")
        // `sealer top` (stdout not a terminal: one plain table) lists the crynux thread beside the sealing ones.
        let top = try await runSealer(["top", "-H", "127.0.0.1:\(port)"])
        #expect(top.status == 0, "\(top.output)")
        #expect(top.stdout.split(separator: "\n").contains { $0.hasPrefix("2 ") && $0.contains("crynux") }, "\(top.stdout)")
        // The node API: GET shows the thread, POST pause reaches the relay.
        let get = try await HTTPClient.send(HTTPRequest(method: "GET", target: "/manager/v1/node"), host: "127.0.0.1", port: port, timeout: .seconds(60))
        #expect(get.status == 200)
        #expect(get.bodyText.contains("\"node\":\"0x"))
        let pause = try await HTTPClient.send(HTTPRequest(method: "POST", target: "/manager/v1/node", body: Array(#"{"action":"pause"}"#.utf8)),
                                              host: "127.0.0.1", port: port, timeout: .seconds(60))
        #expect(pause.status == 200)
        try await daemon.waitForLog("node pause")
        let bad = try await HTTPClient.send(HTTPRequest(method: "POST", target: "/manager/v1/node", body: Array(#"{"action":"explode"}"#.utf8)),
                                            host: "127.0.0.1", port: port, timeout: .seconds(60))
        #expect(bad.status == 400)
        // worker resume / pause on the crynux thread's index go to the relay too.
        let resume = try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "resume", "-i", "2"])
        #expect(resume.status == 0, "\(resume.output)")
        try await daemon.waitForLog("node resume")
        let pausesBefore = daemon.log.components(separatedBy: "node pause").count
        let sealingPause = try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "pause", "-i", "0"])
        #expect(sealingPause.status == 0, "\(sealingPause.output)")
        try await daemon.waitForLog("pause requested")
        #expect(daemon.log.components(separatedBy: "node pause").count == pausesBefore, "pausing sealing thread 0 must not pause the Crynux node")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }

    @Test("SIGKILL after the score is persisted and before submit: the restarted daemon submits it without re-running the executor")
    func sigkillBetweenPersistAndSubmit() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let relay = try Child(["relay", "mock", "--listen", "127.0.0.1:0", "--task-count", "1", "--task-interval", "100ms"],
                              log: scratch.path + "/relay.log")
        let url = "http://127.0.0.1:\(try await relay.loopbackPort(after: "relay mock serving on "))"
        let config = try scratch.write("sealer.toml", testConfig(dir: scratch.path, threads: 1, extra: try Self.crynuxExtra(dir: scratch.path, relay: url)))
        let first = try Child(["daemon", "-c", config], log: scratch.path + "/first.log",
                              environment: ["SEALER_CRYNUX_HOLD_BEFORE_SUBMIT": "60"])
        try await first.waitForLog("holding before submit")
        #expect(first.log.contains("score persisted"))
        #expect(first.log.components(separatedBy: "executor started").count == 2)
        first.signal(SIGKILL)
        _ = try await first.wait()
        let second = try Child(["daemon", "-c", config], log: scratch.path + "/second.log")
        try await second.waitForLog("score submitted")
        try await second.waitForLog("results uploaded")
        try await relay.waitForLog("-> EndSuccess")
        #expect(!second.log.contains("executor started"), "the scored task must not run again:\n\(second.log.suffix(3000))")
        #expect(second.log.contains("persisted row loaded"))
        second.signal(SIGTERM)
        _ = try await second.wait()
        relay.signal(SIGTERM)
        _ = try await relay.wait()
    }

    @Test("relay mock and the mock executor refuse bad command lines with status 2 and say why")
    func commandLineMistakes() async throws {
        let mode = try await runSealer(["relay", "mock", "--mode", "chain"])
        #expect(mode.status == 2 && mode.stderr.contains("--mode expects relay or legacy"), "\(mode.output)")
        let rate = try await runSealer(["relay", "mock", "--group-rate", "2"])
        #expect(rate.status == 2 && rate.stderr.contains("--group-rate"), "\(rate.output)")
        let executor = try await runSealer(["crynux", "executor"])
        #expect(executor.status == 2, "\(executor.output)")
    }

    @Test("the demo config is valid")
    func demoConfigChecks() async throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let out = try await runSealer(["config", "check", "-c", package + "/config/crynux-demo.toml"])
        #expect(out.status == 0, "\(out.output)")
    }
}
