import Foundation
import Testing

/// Mistakes an operator makes at the shell get a clear message and a non-zero status.
@Suite("CLI errors end to end")
struct CLIEndToEndTests {
    @Test("each mistake names what and where", arguments: [
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["daemon"], "daemon needs a config"),
        (["daemon", "-c", "/nonexistent/sealer.toml"], "/nonexistent/sealer.toml: error: no such file"),
        (["config", "check", "-c", "/nonexistent/x.toml"], "/nonexistent/x.toml: error: no such file"),
        (["worker", "-H", "127.0.0.1:1", "list"], "cannot reach the daemon at 127.0.0.1:1"),
        (["worker", "-H", "nonsense", "list"], "--host expects HOST:PORT, got 'nonsense'"),
        (["worker", "-H", "127.0.0.1:1", "pause"], "pause needs -i N"),
        (["worker", "-H", "127.0.0.1:1", "pause", "-i", "x"], "--index expects an integer, got 'x'"),
        (["worker", "--bogus", "list"], "unknown option '--bogus'"),
        (["manager", "mock", "--sector-size", "3GiB"], "'3GiB' is not a Filecoin sector size"),
        (["manager", "mock", "--poll-failed-rate", "2"], "--poll-failed-rate must be between 0 and 1"),
        (["history", "-l", "/nonexistent/loc"], "no history at /nonexistent/loc/meta/history"),
    ])
    func mistakes(arguments: [String], message: String) async throws {
        let result = try await runSealer(arguments)
        #expect(result.status != 0, "\(arguments) succeeded: \(result.output)")
        #expect(result.output.contains(message), "\(arguments): \(result.output)")
    }

    @Test("the history of a sealed sector reads back from disk")
    func history() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        try await daemon.waitForLog("sector finished")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        let history = try await runSealer(["history", "-l", dir.path + "/t0", "--sector", "s-t010000-1"])
        #expect(history.status == 0)
        #expect(history.output.contains("s-t010000-1  Empty --Allocate--> Allocated"), "\(history.output)")
        #expect(history.output.contains("ProofSubmitted --Finish--> Finished"), "\(history.output)")
    }
}
