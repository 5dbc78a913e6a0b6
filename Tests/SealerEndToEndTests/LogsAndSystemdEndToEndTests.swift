import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket standing in for systemd's: bound to a fresh path under /tmp, read
/// without blocking.
final class NotifySocket: Sendable {
    let path: String
    private let fd: Int32

    init() throws {
        path = "/tmp/sealer-e2e-notify-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket(): errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind(\(path)): errno \(errno)") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Datagrams until one contains `text` (returned last); throws after `timeout`.
    func wait(for text: String, timeout: Duration = .seconds(60)) async throws -> [String] {
        var seen: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 {
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                seen.append(message)
                if message.contains(text) { return seen }
            } else {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        throw HarnessError("no '\(text)' on \(path) after \(timeout) (got \(seen))")
    }
}

/// `SEALER_LOG`, `SEALER_LOG_FORMAT` and the systemd notification protocol, on the real binary.
@Suite("Logs and systemd end to end")
struct LogsAndSystemdEndToEndTests {
    @Test("SEALER_LOG_FORMAT=json: every stderr line of a daemon's life is a JSON object with time, level and msg; transitions carry thread, event, from, to and (once allocated) sector")
    func jsonLog() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log", environment: ["SEALER_LOG_FORMAT": "json", "SEALER_LOG": "debug"])
        try await daemon.waitForLog("\"event\":\"Finish\"")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        let script = """
        import json, sys
        lines = open(sys.argv[1]).read().splitlines()
        assert lines, "no lines"
        transitions = 0
        for line in lines:
            obj = json.loads(line)
            assert isinstance(obj, dict), line
            for key in ("time", "level", "msg"):
                assert isinstance(obj.get(key), str), (key, line)
            assert obj["level"] in ("debug", "info", "warn", "error"), line
            if "event" in obj:
                for key in ("thread", "plan", "from", "to"):
                    assert key in obj, (key, line)
                # The allocation names the sector; from then on every line carries it.
                assert obj["from"] == "Empty" or "sector" in obj, line
                assert obj["msg"] == "%s --%s--> %s" % (obj["from"], obj["event"], obj["to"]), line
                transitions += 1
        assert transitions > 0, "no transition lines"
        assert any(o.get("msg") == "stopped cleanly" for o in map(json.loads, lines))
        print("ok", len(lines), transitions)
        """
        let (status, output) = try await runTool(["python3", "-c", script, daemon.logPath])
        #expect(status == 0, "\(output)\n\(daemon.log.suffix(3000))")
        #expect(output.hasPrefix("ok "), "\(output)")
    }

    @Test("SEALER_LOG_FORMAT=json: a config with errors is reported in JSON lines too, exit 1")
    func jsonConfigErrors() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", "[worker\nname = \"broken\"\n")
        let run = try await runSealer(["daemon", "-c", config], environment: ["SEALER_LOG_FORMAT": "json"])
        #expect(run.status == 1)
        _ = try dir.write("stderr", run.stderr)
        let script = """
        import json, sys
        lines = open(sys.argv[1]).read().splitlines()
        objs = [json.loads(line) for line in lines]
        assert all(isinstance(o, dict) and {"time", "level", "msg"} <= o.keys() for o in objs), lines
        assert any(o["level"] == "error" and "nothing was started" in o["msg"] for o in objs), lines
        print("ok")
        """
        let (status, output) = try await runTool(["python3", "-c", script, dir.path + "/stderr"])
        #expect(status == 0, "\(output)\n\(run.stderr)")
    }

    @Test("the text log reads as before: level column, key=value fields, the transition as 'A --E--> B'")
    func textLog() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let log = try await daemon.waitForLog("ProofSubmitted --Finish--> Finished")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        let line = try #require(log.split(separator: "\n").first { $0.hasSuffix("ProofSubmitted --Finish--> Finished") })
        #expect(line.contains(" INFO  thread=0 "), "\(line)")
        #expect(!line.contains("event="), "\(line)")
        #expect(!log.contains("{\"time\""))
    }

    @Test("a bad SEALER_LOG or SEALER_LOG_FORMAT is a usage error (exit 2) naming the variable", arguments: [
        ("SEALER_LOG", "loud", "SEALER_LOG expects debug, info, warn or error, got 'loud'"),
        ("SEALER_LOG_FORMAT", "xml", "SEALER_LOG_FORMAT expects text or json, got 'xml'"),
    ])
    func badSetting(variable: String, value: String, message: String) async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        let run = try await runSealer(["daemon", "-c", config], environment: [variable: value])
        #expect(run.status == 2)
        #expect(run.stderr.contains("sealer: " + message), "\(run.stderr)")
    }

    @Test("under NOTIFY_SOCKET and WATCHDOG_USEC the daemon sends READY=1, watchdog beats, then STOPPING=1 on SIGTERM; SEALER_LOG=warn hides info lines")
    func systemdNotify() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let socket = try NotifySocket()
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log", environment: [
            "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "200000", "SEALER_LOG": "warn",
        ])
        let ready = try await socket.wait(for: "READY=1")
        #expect(ready.last == "READY=1\nSTATUS=sealing with 1 threads")
        _ = try await socket.wait(for: "WATCHDOG=1")
        _ = try await socket.wait(for: "WATCHDOG=1")
        daemon.signal(SIGTERM)
        let stopping = try await socket.wait(for: "STOPPING=1")
        #expect(stopping.last?.hasPrefix("STOPPING=1\nSTATUS=stopping") == true, "\(stopping)")
        #expect(try await daemon.wait() == 0)
        #expect(!daemon.log.contains(" INFO "), "\(daemon.log.suffix(2000))")
    }
}
