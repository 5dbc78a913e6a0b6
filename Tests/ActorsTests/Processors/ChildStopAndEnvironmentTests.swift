import Foundation
import Scheduler
import TestSupport
import Testing
@testable import Actors

#if canImport(Glibc)
import Glibc
#endif

@Suite("Processor children: bounded stop")
struct ChildStopTests {
    @Test("the daemon stops children that ignore EOF and SIGTERM together, within one shutdown_timeout")
    func concurrentBoundedStop() async throws {
        var config = ExternalProcessorConfig()
        config.bin = FakeProcessor.path
        config.args = ["pc1", "--mode", "ignore-eof"]
        config.stableWait = .seconds(30)
        config.autoRestart = false
        let options = DaemonOptions(workerName: "t", threads: [], manager: .embedded(.init()), rpcPort: 0,
                                    shutdownTimeout: .seconds(2))
        var withChildren = options
        withChildren.processors = ["pc1": Array(repeating: config, count: 4)]
        let daemon = Daemon(options: withChildren, log: quietLog)
        _ = try await daemon.start()
        var pids: [Int32] = []
        for child in daemon.children[.pc1] ?? [] { pids.append(try #require(await child.pid)) }
        #expect(pids.count == 4)
        let clock = ContinuousClock()
        let started = clock.now
        _ = await daemon.stop()
        let took = clock.now - started
        // One bound (2 s) for all four, not four bounds (8 s), and not 5 s each; the rest is slack
        // for a loaded machine.
        #expect(took < .seconds(6), "stop took \(took)")
        for pid in pids { #expect(processGone(pid), "child \(pid) survived the stop") }
    }
}

@Suite("Processor environment overlay and dumps")
struct EnvironmentOverlayTests {
    @Test("a variable set in the overlay reaches the next spawn (an auto_restart too); removed, it is gone")
    func overlayReachesRespawn() async throws {
        let overlay = EnvironmentOverlay()
        let config = launch(mode: "echo", autoRestart: true, restartDelay: .milliseconds(10))
        let p = ExternalProcessor(stage: "pc1", index: 0, config: config, overlay: overlay, log: { _ in })
        try await p.start()
        defer { Task { await p.shutdown() } }
        func environOfChild() async throws -> [String] {
            let pid = try #require(await p.pid)
            let data = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
            return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
        func restart() async throws {
            let old = try #require(await p.pid)
            _ = try? await p.process(["crash": true])
            #expect(await eventually(timeout: .seconds(120)) { await p.pid.map { $0 != old } ?? false })
        }
        #expect(!(try await environOfChild()).contains("SEALER_OVERLAY_TEST=on"))
        overlay.set("SEALER_OVERLAY_TEST", "on")
        try await restart()
        #expect((try await environOfChild()).contains("SEALER_OVERLAY_TEST=on"))
        overlay.remove("SEALER_OVERLAY_TEST")
        try await restart()
        #expect(!(try await environOfChild()).contains { $0.hasPrefix("SEALER_OVERLAY_TEST=") })
        #expect(getenv("SEALER_OVERLAY_TEST") == nil)
    }

    @Test("with DUMP_ERR_RESP_<pid> set, an unusable response line is written to the dump dir")
    func dumpsUnusableLines() async throws {
        let dir = NSTemporaryDirectory() + "sealer-dump-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let overlay = EnvironmentOverlay()
        let log = LogSink()
        let p = ExternalProcessor(stage: "pc1", index: 0, config: launch(), overlay: overlay, log: log.function)
        try await p.start()
        defer { Task { await p.shutdown() } }
        let pid = try #require(await p.pid)
        overlay.set(ExternalProcessor.dumpVariable(pid: pid), dir)
        _ = try await p.process(["garbage": true])
        #expect(await eventually { log.lines.contains { $0.contains("dump file") } }, "\(log.lines)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(files.count == 1, "\(files)")
        #expect(files.allSatisfy { $0.hasPrefix("ext-processor-err-resp-\(pid)-") && $0.hasSuffix(".json") })
        let text = try String(contentsOfFile: dir + "/" + files[0], encoding: .utf8)
        #expect(text == "this is not json {{{")
    }
}
