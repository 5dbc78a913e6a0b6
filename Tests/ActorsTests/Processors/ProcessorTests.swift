import Actors
import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Helpers

/// Collects log lines from the processor under test.
final class LogSink: Sendable {
    private let storage = Mutex<[String]>([])

    var function: @Sendable (String) -> Void {
        { [self] line in storage.withLock { $0.append(line) } }
    }

    var lines: [String] { storage.withLock { $0 } }
}

enum FakeProcessor {
    /// The `fake-processor` binary in the build products directory (next to the test bundle).
    static let path: String = product("fake-processor")

    /// A binary of this package's build products, found next to the test bundle.
    static func product(_ name: String) -> String {
        var starts: [URL] = [Bundle.main.bundleURL, Bundle.main.executableURL].compactMap { $0 }
        if let argv0 = CommandLine.arguments.first {
            starts.append(URL(fileURLWithPath: argv0).standardizedFileURL)
        }
        for start in starts {
            var dir = start
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: candidate) {
                    return candidate
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        Issue.record("\(name) binary not found near \(starts); run `swift build --build-tests` first")
        return "/nonexistent/\(name)"
    }
}

func launch(
    stage: String = "pc1",
    mode: String = "echo",
    extraArgs: [String] = [],
    stableWait: Duration = .seconds(10),
    cpuset: String? = nil,
    groupName: String = "sealer",
    numaNode: Int? = nil,
    gpu: Int? = nil,
    autoRestart: Bool = false,
    restartDelay: Duration = .milliseconds(50),
    shutdownGrace: Duration = .seconds(5)
) -> ProcessorLaunch {
    ProcessorLaunch(
        bin: FakeProcessor.path,
        args: [stage, "--mode", mode] + extraArgs,
        envs: [:],
        inheritEnvs: true,
        stableWait: stableWait,
        cpuset: cpuset,
        groupName: groupName,
        numaNode: numaNode,
        gpu: gpu,
        autoRestart: autoRestart,
        restartDelay: restartDelay,
        shutdownGrace: shutdownGrace
    )
}

/// Starts a processor, runs `body`, and always shuts it down.
func withProcessor<T>(
    _ config: ProcessorLaunch,
    stage: String = "pc1",
    log: LogSink = LogSink(),
    _ body: (ExternalProcessor) async throws -> T
) async throws -> T {
    let processor = ExternalProcessor(stage: stage, index: 0, config: config, log: log.function)
    do {
        try await processor.start()
        let result = try await body(processor)
        await processor.shutdown()
        return result
    } catch {
        await processor.shutdown()
        throw error
    }
}

/// Polls `condition` until it holds or `timeout` passes (a bounded wait, not an ordering sleep).
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return await condition()
}

func processExists(_ pid: Int32) -> Bool {
    if kill(pid, 0) == 0 { return true }
    return errno != ESRCH
}

func capture(_ body: () async throws(ProcessorError) -> JSONValue) async -> Result<JSONValue, ProcessorError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

// MARK: - Environment composition

@Suite struct EnvironmentTests {
    @Test func inheritsAndOverrides() {
        let env = ProcessorEnvironment.compose(
            parent: ["PATH": "/bin", "A": "parent"], inherit: true, envs: ["A": "config", "B": "b"],
            stage: "pc1", index: 2, parentPID: 1234, groupName: "grp",
            cpuset: "0-3", numaNode: 1, gpu: 0)
        #expect(env == [
            "PATH": "/bin", "A": "config", "B": "b",
            "VC_CG_NAME": "grp/sub-pc1-1234-2", "VC_CG_CPUSET": "0-3",
            "VENUS_WORKER_NUMA_PREFERRED": "1", "CUDA_VISIBLE_DEVICES": "0",
        ])
    }

    @Test func noInheritAndNoPlacement() {
        let env = ProcessorEnvironment.compose(
            parent: ["PATH": "/bin"], inherit: false, envs: ["X": "1"],
            stage: "c2", index: 0, parentPID: 1, groupName: "g",
            cpuset: nil, numaNode: nil, gpu: nil)
        #expect(env == ["X": "1"])
    }

    @Test func placementOverridesConfiguredEnvs() {
        let env = ProcessorEnvironment.compose(
            parent: [:], inherit: false, envs: ["CUDA_VISIBLE_DEVICES": "7", "VC_CG_CPUSET": "9"],
            stage: "pc2", index: 5, parentPID: 42, groupName: "",
            cpuset: "4-7", numaNode: nil, gpu: 3)
        #expect(env["CUDA_VISIBLE_DEVICES"] == "3")
        #expect(env["VC_CG_CPUSET"] == "4-7")
        #expect(env["VC_CG_NAME"] == "/sub-pc2-42-5")
        #expect(env["VENUS_WORKER_NUMA_PREFERRED"] == nil)
    }
}

// MARK: - Processor lifecycle

@Suite struct ProcessorTests {
    @Test func readyAndEcho() async throws {
        try await withProcessor(launch(cpuset: "0-1", numaNode: 0, gpu: 2)) { p in
            let pid = try #require(await p.pid)
            #expect(processExists(pid))
            let out = try await p.process(["sector": 7])
            #expect(out["echo"] == ["sector": 7])
            #expect(out["pid"]?.intValue == Int64(pid))
            #expect(out["env"]?["VC_CG_CPUSET"] == "0-1")
            #expect(out["env"]?["VC_CG_NAME"] == .string("sealer/sub-pc1-\(getpid())-0"))
            #expect(out["env"]?["VENUS_WORKER_NUMA_PREFERRED"] == "0")
            #expect(out["env"]?["CUDA_VISIBLE_DEVICES"] == "2")
            #expect(await p.inFlight == 0)
        }
    }

    @Test func wrongReadyLine() async {
        let p = ExternalProcessor(stage: "pc1", index: 0, config: launch(mode: "wrong-ready"), log: { _ in })
        await #expect(throws: ProcessorError.unexpectedReadyLine("pc1", "hello")) {
            try await p.start()
        }
        #expect(await p.pid == nil)
        await #expect(throws: ProcessorError.unavailable("pc1")) {
            try await p.process(["a": 1])
        }
        await p.shutdown()
    }

    @Test func readyTimeout() async {
        let config = launch(mode: "slow-ready", stableWait: .milliseconds(300))
        let p = ExternalProcessor(stage: "pc1", index: 0, config: config, log: { _ in })
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: ProcessorError.notReady("pc1", .milliseconds(300))) {
            try await p.start()
        }
        // The child needs 600 s to print its ready line: giving up well before that shows the
        // start gave up at stable_wait (300 ms plus stopping the child) instead of waiting for
        // it; the margin keeps a loaded 2-core machine from failing the test.
        #expect(clock.now - start < .seconds(120))
        #expect(await p.pid == nil)
        await p.shutdown()
    }

    @Test func exitBeforeReady() async {
        let config = ProcessorLaunch(bin: "/bin/false", stableWait: .seconds(10))
        let p = ExternalProcessor(stage: "c2", index: 0, config: config, log: { _ in })
        await #expect(throws: ProcessorError.exitedBeforeReady("c2", 1)) {
            try await p.start()
        }
        await p.shutdown()
    }

    @Test func spawnFailure() async {
        let config = ProcessorLaunch(bin: "/nonexistent/definitely-not-here", stableWait: .seconds(1))
        let p = ExternalProcessor(stage: "pc1", index: 0, config: config, log: { _ in })
        do {
            try await p.start()
            Issue.record("start should fail")
        } catch {
            guard case .spawnFailed("pc1", let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(!reason.isEmpty)
        }
        await p.shutdown()
    }

    @Test func manyConcurrentCalls() async throws {
        try await withProcessor(launch()) { p in
            try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let out = try await p.process(["n": .int(Int64(i)), "payload": .string(String(repeating: "x", count: i * 10))])
                        return (i, out)
                    }
                }
                var seen = Set<Int>()
                for try await (i, out) in group {
                    #expect(out["echo"]?["n"]?.intValue == Int64(i))
                    #expect(out["echo"]?["payload"]?.stringValue?.count == i * 10)
                    seen.insert(i)
                }
                #expect(seen.count == 50)
            }
            #expect(await p.inFlight == 0)
        }
    }

    @Test func outOfOrderResponses() async throws {
        try await withProcessor(launch()) { p in
            try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                for i in 0..<5 {
                    group.addTask { (i, try await p.process(["hold": true, "n": .int(Int64(i))])) }
                }
                #expect(await eventually { await p.inFlight == 5 })
                group.addTask { (-1, try await p.process(["release": true])) }
                var count = 0
                for try await (i, out) in group {
                    if i >= 0 {
                        #expect(out["echo"] == ["hold": true, "n": .int(Int64(i))])
                    } else {
                        #expect(out["echo"] == ["release": true])
                    }
                    count += 1
                }
                #expect(count == 6)
            }
        }
    }

    @Test func errMsgBecomesTaskFailed() async throws {
        try await withProcessor(launch()) { p in
            await #expect(throws: ProcessorError.taskFailed("pc1", "no space left")) {
                try await p.process(["fail": "no space left"])
            }
            // The processor keeps working.
            let out = try await p.process(["after": 1])
            #expect(out["echo"] == ["after": 1])
        }
    }

    @Test func garbageLineIsLoggedAndIgnored() async throws {
        let log = LogSink()
        try await withProcessor(launch(), log: log) { p in
            try await withThrowingTaskGroup(of: JSONValue.self) { group in
                group.addTask { try await p.process(["hold": true, "k": 1]) }
                #expect(await eventually { await p.inFlight == 1 })
                let out = try await p.process(["garbage": true])
                #expect(out["echo"] == ["garbage": true])
                #expect(await p.inFlight == 1)
                _ = try await p.process(["release": true])
                let held = try await group.next()
                #expect(held?["echo"] == ["hold": true, "k": 1])
            }
        }
        #expect(log.lines.contains { $0.contains("this is not json {{{") })
        #expect(log.lines.contains { $0.contains("unknown id 987654321") })
    }

    @Test func crashFailsInFlightCall() async throws {
        let p = ExternalProcessor(stage: "pc1", index: 0, config: launch(autoRestart: false), log: { _ in })
        try await p.start()
        let pid = try #require(await p.pid)
        let result = await capture { () async throws(ProcessorError) -> JSONValue in try await p.process(["crash": true]) }
        #expect(result == .failure(.childExited("pc1", 3)))
        if case .failure(let error) = result {
            #expect(error.description == "child process exited: pc1")
        }
        #expect(await p.inFlight == 0)
        #expect(await p.pid == nil)
        #expect(!processExists(pid))
        // autoRestart == false: the processor is gone for good.
        await #expect(throws: ProcessorError.unavailable("pc1")) {
            try await p.process(["a": 1])
        }
        #expect(await p.restarts == 0)
        await p.shutdown()
    }

    @Test func autoRestartRespawnsWithSameEnvironment() async throws {
        let marker = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-processor-marker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let config = launch(
            mode: "crash-once", extraArgs: ["--marker", marker],
            cpuset: "2-5", numaNode: 1, gpu: 1, autoRestart: true, restartDelay: .milliseconds(50))
        let log = LogSink()
        try await withProcessor(config, log: log) { p in
            let firstPID = try #require(await p.pid)
            await #expect(throws: ProcessorError.childExited("pc1", 3)) {
                try await p.process(["first": true])
            }
            // Issued while restarting: waits for the respawn, then succeeds.
            let out = try await p.process(["second": true])
            #expect(out["echo"] == ["second": true])
            #expect(await p.restarts == 1)
            let secondPID = try #require(await p.pid)
            #expect(secondPID != firstPID)
            #expect(out["pid"]?.intValue == Int64(secondPID))
            #expect(!processExists(firstPID))
            #expect(out["env"]?["VC_CG_CPUSET"] == "2-5")
            #expect(out["env"]?["CUDA_VISIBLE_DEVICES"] == "1")
            #expect(out["env"]?["VENUS_WORKER_NUMA_PREFERRED"] == "1")
            #expect(out["env"]?["VC_CG_NAME"] == .string("sealer/sub-pc1-\(getpid())-0"))
        }
    }

    @Test func failedRestartGivesUp() async throws {
        let marker = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-processor-marker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let config = launch(
            mode: "crash-then-bad-ready", extraArgs: ["--marker", marker],
            autoRestart: true, restartDelay: .milliseconds(20))
        let log = LogSink()
        try await withProcessor(config, log: log) { p in
            await #expect(throws: ProcessorError.childExited("pc1", 3)) {
                try await p.process(["first": true])
            }
            // Issued while restarting: waits for the respawn, which fails its ready check.
            await #expect(throws: ProcessorError.unavailable("pc1")) {
                try await p.process(["second": true])
            }
            await #expect(throws: ProcessorError.unavailable("pc1")) {
                try await p.process(["third": true])
            }
            #expect(await p.restarts == 0)
            #expect(await p.pid == nil)
        }
        #expect(log.lines.contains { $0.contains("restart failed") })
    }

    @Test func callWaitingForRestartIsCancellable() async throws {
        let marker = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-processor-marker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // A restart delay far longer than the test: the call can only end through cancellation.
        let config = launch(
            mode: "crash-once", extraArgs: ["--marker", marker],
            autoRestart: true, restartDelay: .seconds(60))
        try await withProcessor(config) { p in
            await #expect(throws: ProcessorError.childExited("pc1", 3)) {
                try await p.process(["first": true])
            }
            let waiting = Task { await capture { () async throws(ProcessorError) -> JSONValue in try await p.process(["x": 1]) } }
            let clock = ContinuousClock()
            let start = clock.now
            waiting.cancel()
            #expect(await waiting.value == .failure(.cancelled))
            #expect(clock.now - start < .seconds(30), "far below the 60 s restart delay or a hang")
            #expect(await p.restarts == 0)
        }
    }

    @Test func hungChildCallIsCancellable() async throws {
        let log = LogSink()
        try await withProcessor(launch(mode: "hang"), log: log) { p in
            let call = Task { await capture { () async throws(ProcessorError) -> JSONValue in try await p.process(["x": 1]) } }
            #expect(await eventually { await p.inFlight == 1 })
            let clock = ContinuousClock()
            let start = clock.now
            call.cancel()
            let result = await call.value
            #expect(clock.now - start < .seconds(30), "far below the 60 s restart delay or a hang")
            #expect(result == .failure(.cancelled))
            #expect(await p.inFlight == 0)
        }
    }

    @Test func shutdownReapsChild() async throws {
        let p = ExternalProcessor(stage: "pc1", index: 0, config: launch(mode: "hang"), log: { _ in })
        try await p.start()
        let pid = try #require(await p.pid)
        #expect(processExists(pid))
        await p.shutdown()
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
        #expect(await p.pid == nil)
        await #expect(throws: ProcessorError.unavailable("pc1")) {
            try await p.process(["a": 1])
        }
    }

    @Test func shutdownKillsChildIgnoringEOF() async throws {
        let config = launch(mode: "ignore-eof", shutdownGrace: .milliseconds(200))
        let p = ExternalProcessor(stage: "pc1", index: 0, config: config, log: { _ in })
        try await p.start()
        let pid = try #require(await p.pid)
        let call = Task { await capture { () async throws(ProcessorError) -> JSONValue in try await p.process(["x": 1]) } }
        #expect(await eventually { await p.inFlight == 1 })
        let clock = ContinuousClock()
        let start = clock.now
        await p.shutdown()
        // A child that ignores EOF would otherwise live on: any bound far from forever will do.
        #expect(clock.now - start < .seconds(30))
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
        // SIGKILL: 128 + 9.
        #expect(await call.value == .failure(.childExited("pc1", 137)))
    }
}
