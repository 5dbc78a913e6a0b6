import Foundation
import TestSupport
import Testing

/// `sealer manager mock` as its own process, driving a `sealer daemon` over the Venus API.
@Suite("Mock manager end to end")
struct MockManagerEndToEndTests {
    func start(_ arguments: [String], dir: Scratch) async throws -> (Child, UInt16) {
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0"] + arguments, log: dir.path + "/manager.log")
        let port = try await manager.loopbackPort(after: "mock manager serving Venus.* on ")
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

    /// The line of `util worker list` output naming `box`, nil when it is not listed.
    static func row(_ output: String, _ box: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(box + " ") }.map(String.init)
    }

    @Test("util worker: two boxes ping one manager; list, info, pause and resume through its registry, an expired ping, a dead box, remove")
    func utilWorker() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (manager, port) = try await start([], dir: dir)
        let managerAddress = "127.0.0.1:\(port)"
        func util(_ arguments: [String]) async throws -> SealerRun {
            try await runSealer(["util", "worker"] + arguments + ["--manager", managerAddress])
        }
        func box(_ name: String, threads: Int) throws -> Child {
            let text = testConfig(dir: dir.path + "/" + name, threads: threads, manager: "/ip4/127.0.0.1/tcp/\(port)")
                .replacingOccurrences(of: #"name = "e2e""#, with: #"name = "\#(name)""#)
            return try Child(["daemon", "-c", try dir.write(name + ".toml", text)], log: dir.path + "/\(name).log")
        }
        let a = try box("box-a", threads: 2)
        let b = try box("box-b", threads: 1)
        let portA = try await a.managementPort()
        let portB = try await b.managementPort()

        // Both boxes ping (every second) and are listed with damocles' columns and their Dest.
        var list = SealerRun(status: -1, stdout: "", stderr: "")
        try await eventually("both boxes listed") {
            list = try await util(["list"])
            return Self.row(list.stdout, "box-a") != nil && Self.row(list.stdout, "box-b") != nil
        }
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.hasPrefix("Name "), "\(list.stdout)")
        #expect(list.stdout.contains("LastPing(with ! if expired)"))
        let rowA = try #require(Self.row(list.stdout, "box-a"))
        #expect(rowA.contains("127.0.0.1:\(portA)") && !rowA.contains("(!)"), "\(rowA)")
        #expect(rowA.split(separator: " ", omittingEmptySubsequences: true)[3] == "2", "box-a has 2 threads: \(rowA)")
        #expect(try #require(Self.row(list.stdout, "box-b")).contains("127.0.0.1:\(portB)"))

        // info reaches box-a through its Dest.
        let info = try await util(["info", "box-a"])
        #expect(info.status == 0, "\(info.output)")
        #expect(info.stdout.hasPrefix("Index "), "\(info.stdout)")
        #expect(info.stdout.contains(dir.path + "/box-a/t1"), "\(info.stdout)")

        // pause box-a 0 pauses thread 0 of box-a (and not box-b's).
        let pause = try await util(["pause", "box-a", "0"])
        #expect(pause.status == 0, "\(pause.output)")
        #expect(pause.stdout.contains("box 'box-a' at 127.0.0.1:\(portA)"), "\(pause.stdout)")
        try await eventually("thread 0 of box-a paused") {
            try threadState(try await runSealer(["worker", "-H", "127.0.0.1:\(portA)", "list", "--json"]).stdout, index: 0) == "Paused"
        }
        #expect(try threadState(try await runSealer(["worker", "-H", "127.0.0.1:\(portB)", "list", "--json"]).stdout, index: 0) != "Paused")
        let resume = try await util(["resume", "box-a", "0"])
        #expect(resume.status == 0, "\(resume.output)")
        try await eventually("thread 0 of box-a resumed") {
            try threadState(try await runSealer(["worker", "-H", "127.0.0.1:\(portA)", "list", "--json"]).stdout, index: 0) != "Paused"
        }

        // box-b stops: its last ping ages past --expiration and is marked; box-a's is not.
        b.signal(SIGTERM)
        #expect(try await b.wait() == 0)
        try await eventually("box-b's ping expired") {
            let expired = try await util(["list", "--expiration", "1s"])
            return Self.row(expired.stdout, "box-b")?.hasSuffix(" (!)") == true
        }
        let fresh = try await util(["list"])
        #expect(try #require(Self.row(fresh.stdout, "box-a")).hasSuffix(" (!)") == false, "\(fresh.stdout)")

        // The dead box: pause names it and why, exit 1.
        let dead = try await util(["pause", "box-b", "0"])
        #expect(dead.status == 1, "\(dead.output)")
        #expect(dead.stderr.contains("box 'box-b' at 127.0.0.1:\(portB)"), "\(dead.stderr)")
        #expect(dead.stderr.contains("cannot reach"), "\(dead.stderr)")

        // remove forgets box-b; removing it again is refused by name.
        let remove = try await util(["remove", "box-b"])
        #expect(remove.status == 0 && remove.stdout == "'box-b' removed\n", "\(remove.output)")
        let after = try await util(["list"])
        #expect(Self.row(after.stdout, "box-b") == nil && Self.row(after.stdout, "box-a") != nil, "\(after.stdout)")
        let again = try await util(["remove", "box-b"])
        #expect(again.status == 1 && again.stderr.contains("no worker named 'box-b'"), "\(again.output)")

        a.signal(SIGTERM)
        #expect(try await a.wait() == 0)
        manager.signal(SIGTERM)
        #expect(try await manager.wait() == 0)
    }
}
