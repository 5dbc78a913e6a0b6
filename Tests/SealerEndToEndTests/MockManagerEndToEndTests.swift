import Foundation
import Testing

/// `sealer manager mock` as its own process, driving a `sealer daemon` over the Venus API.
@Suite("Mock manager end to end")
struct MockManagerEndToEndTests {
    func start(_ arguments: [String], dir: Scratch) async throws -> (Child, UInt16) {
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0"] + arguments, log: dir.path + "/manager.log")
        let text = try await manager.waitForLog("mock manager serving Venus.* on ")
        guard let range = text.range(of: "mock manager serving Venus.* on 127.0.0.1:"),
              let port = UInt16(text[range.upperBound...].prefix(while: \.isNumber)) else {
            throw HarnessError("no port in the mock manager's log: \(text)")
        }
        return (manager, port)
    }

    @Test("a daemon seals against a separate mock manager process")
    func seals() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (manager, port) = try await start(["--miner", "1234", "--sector-size", "2KiB"], dir: dir)
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2, manager: "/ip4/127.0.0.1/tcp/\(port)"))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        try await daemon.waitForLog("sector=s-t01234-1 ProofSubmitted --Finish--> Finished")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        #expect(try await manager.wait() == 0)
    }

    @Test("the mock's failure knobs reach the worker: rejected submissions abort sectors")
    func rejectKnob() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (manager, port) = try await start(["--reject-submit-rate", "1"], dir: dir)
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1, manager: "http://127.0.0.1:\(port)"))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        try await daemon.waitForLog("aborting: PreCommit submission rejected: injected rejection")
        try await daemon.waitForLog("sector aborted")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }

    @Test("transport failures are retried, then the thread pauses with the error in worker list")
    func transportKnob() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (manager, port) = try await start(["--transport-error-rate", "1"], dir: dir)
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1, manager: "http://127.0.0.1:\(port)"))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let rpc = try await daemon.managementPort()
        try await daemon.waitForLog("thread paused")
        let list = try await runSealer(["worker", "-H", "127.0.0.1:\(rpc)", "list"])
        #expect(list.output.contains("Paused"), "\(list.output)")
        #expect(list.output.contains("gave up after 3 retries"), "\(list.output)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }
}
