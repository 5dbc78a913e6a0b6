import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `fake-processor` test double, built next to `sealer`.
func fakeProcessorBinary() throws -> String {
    URL(fileURLWithPath: try sealerBinary()).deletingLastPathComponent().appendingPathComponent("fake-processor").path
}

/// The pids in log lines containing `marker` (e.g. "ready, pid "), in order.
func pids(after marker: String, in log: String) -> [Int32] {
    log.split(separator: "\n").compactMap { line in
        guard let range = line.range(of: marker) else { return nil }
        return Int32(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// Gone, or a zombie nobody has reaped yet: not running.
func notRunning(_ pid: Int32) -> Bool {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return true }
    return text[text.index(close, offsetBy: 2)...].hasPrefix("Z")
}

/// The environment of a running process, as `NAME=value` strings.
func environ(of pid: Int32) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
}

/// A daemon config whose one sealing thread never needs the `unseal` processor child it starts.
func unsealChildConfig(_ dir: Scratch, mode: String, stableWait: String = "60s") throws -> String {
    try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1, extra: """
        [[processors.unseal]]
        bin = "\(try fakeProcessorBinary())"
        args = ["unseal", "--mode", "\(mode)"]
        stable_wait = "\(stableWait)"
        auto_restart = true
        """))
}

@Suite("Processor children end to end: signals, parent death, run-time environment")
struct ProcessorLifecycleEndToEndTests {
    @Test("SIGUSR1 while a child starts does not kill the daemon; SIGTERM then aborts the startup and leaves no child")
    func signalsDuringStartup() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let daemon = try Child(["daemon", "-c", try unsealChildConfig(dir, mode: "slow-ready", stableWait: "300s")], log: dir.path + "/daemon.log")
        // The child is spawned and has 600 s to go before its ready line (the daemon waits 300 s):
        // the startup window, wide enough that a stalled test process still signals inside it.
        let spawned = try await daemon.waitForLog("spawned, pid ")
        let child = try #require(pids(after: "spawned, pid ", in: spawned).first)
        defer { if !notRunning(child) { kill(child, SIGKILL) } }
        daemon.signal(SIGUSR1)
        try await daemon.waitForLog("received SIGUSR1 during startup")
        #expect(daemon.process.isRunning)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.log)")
        #expect(daemon.log.contains("startup aborted by SIGTERM"), "\(daemon.log)")
        #expect(!daemon.log.contains("sealer v"), "the daemon went on to start: \(daemon.log)")
        #expect(notRunning(child), "child \(child) outlived the aborted startup")
    }

    @Test("a SIGKILLed daemon leaves no child running, even one that ignores EOF and SIGTERM")
    func killedDaemonLeavesNoChild() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let daemon = try Child(["daemon", "-c", try unsealChildConfig(dir, mode: "ignore-eof")], log: dir.path + "/daemon.log")
        let ready = try await daemon.waitForLog("ready, pid ")
        let child = try #require(pids(after: "ready, pid ", in: ready).first)
        defer { if !notRunning(child) { kill(child, SIGKILL) } }
        #expect(!notRunning(child))
        daemon.signal(SIGKILL)
        _ = try await daemon.wait()
        try await eventually("child \(child) to die with its parent", timeout: .seconds(20)) { notRunning(child) }
    }

    @Test("WorkerSetEnv / enable-dump reach the next child spawned (an auto_restart); WorkerRemoveEnv / disable-dump take it back")
    func runtimeEnvironmentReachesRespawnedChild() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let daemon = try Child(["daemon", "-c", try unsealChildConfig(dir, mode: "echo")], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        let host = "127.0.0.1:\(port)"
        var known = 1
        /// SIGKILLs the current child and returns the pid of its auto_restarted successor.
        func respawn(_ pid: Int32) async throws -> Int32 {
            kill(pid, SIGKILL)
            known += 1
            let count = known
            try await eventually("respawn of \(pid)") { pids(after: "ready, pid ", in: daemon.log).count >= count }
            return try #require(pids(after: "ready, pid ", in: daemon.log).last)
        }
        var child = try #require(pids(after: "ready, pid ", in: try await daemon.waitForLog("ready, pid ")).first)
        defer { if !notRunning(child) { kill(child, SIGKILL) } }
        #expect(!(try environ(of: child)).contains("SEALER_E2E_OVERLAY=42"))

        let set = try await runTool(["curl", "-s", "-X", "POST", "http://\(host)/rpc/v0", "-H", "Content-Type: application/json", "-d",
                                  #"{"jsonrpc":"2.0","id":1,"method":"VenusWorker.WorkerSetEnv","params":["SEALER_E2E_OVERLAY","42"]}"#])
        #expect(set.output.contains(#""result":null"#), "\(set.output)")
        let dumps = dir.path + "/dumps"
        try FileManager.default.createDirectory(atPath: dumps, withIntermediateDirectories: true)
        let enable = try await runSealer(["worker", "-H", host, "enable-dump", "--child-pid", "\(child)", "--dump-dir", dumps])
        #expect(enable.status == 0, "\(enable.output)")
        let notDir = try await runSealer(["worker", "-H", host, "enable-dump", "--child-pid", "\(child)", "--dump-dir", dir.path + "/nope"])
        #expect(notDir.status != 0 && notDir.output.contains("is not a directory"), "\(notDir.output)")
        let first = child

        child = try await respawn(child)
        let env = try environ(of: child)
        #expect(env.contains("SEALER_E2E_OVERLAY=42"), "\(env)")
        let canonical = URL(fileURLWithPath: dumps).resolvingSymlinksInPath().path
        #expect(env.contains { $0 == "DUMP_ERR_RESP_\(first)=\(canonical)" || $0 == "DUMP_ERR_RESP_\(first)=\(dumps)" }, "\(env)")

        _ = try await runTool(["curl", "-s", "-X", "POST", "http://\(host)/rpc/v0", "-H", "Content-Type: application/json", "-d",
                            #"{"jsonrpc":"2.0","id":2,"method":"VenusWorker.WorkerRemoveEnv","params":["SEALER_E2E_OVERLAY"]}"#])
        let disable = try await runSealer(["worker", "-H", host, "disable-dump", "--child-pid", "\(first)"])
        #expect(disable.status == 0, "\(disable.output)")
        child = try await respawn(child)
        let after = try environ(of: child)
        #expect(!after.contains { $0.hasPrefix("SEALER_E2E_OVERLAY=") || $0.hasPrefix("DUMP_ERR_RESP_") }, "\(after)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.log)")
        #expect(notRunning(child))
    }
}
