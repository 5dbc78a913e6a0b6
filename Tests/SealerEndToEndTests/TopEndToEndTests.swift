import Foundation
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `sealer top` against a running daemon: the plain table through a pipe, the live view on a
/// pseudo-terminal (util-linux `script`), and its mistakes.
@Suite("sealer top end to end")
struct TopEndToEndTests {
    /// A daemon with `threads` threads on a described box with no GPU, after a sector finished.
    func daemon(_ dir: Scratch, threads: Int = 3) async throws -> (Child, UInt16) {
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: threads, extra: """
            [resources.box]
            nodes = 1
            cores_per_node = 8
            cores_per_l3 = 8
            memory = "64GiB"
            gpus = 0
            """))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await daemon.managementPort()
        try await daemon.waitForLog("sector finished")
        return (daemon, port)
    }

    @Test("stdout not a terminal: the table once, every thread, the pools of a box with no GPUs, the last transitions; no escape codes")
    func plainTable() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (daemon, port) = try await daemon(dir, threads: 3)
        let run = try await runSealer(["top", "-H", "127.0.0.1:\(port)"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("sealer top  127.0.0.1:\(port)  ") == true && lines.first?.hasSuffix("  3 threads") == true, "\(run.stdout)")
        #expect(!run.stdout.contains("\u{1B}"), "no escape codes through a pipe")
        #expect(lines.contains { $0.hasPrefix("POOLS") && $0.contains("no GPUs") }, "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("node0 cores ") && $0.contains("/8 (") }, "\(run.stdout)")
        #expect(!lines.contains { $0.hasPrefix("gpu") })
        #expect(lines.contains { $0.hasPrefix("THREADS: ") })
        // One row per thread, agreeing with `worker list` on plan and index.
        let header = try #require(lines.firstIndex { $0.hasPrefix("# ") })
        let rows = lines[(header + 1)...].prefix { $0.first?.isNumber == true && !$0.contains("-->") }
        #expect(rows.map { $0.split(separator: " ").first.map(String.init) } == ["0", "1", "2"], "\(run.stdout)")
        #expect(rows.allSatisfy { $0.split(separator: " ").dropFirst().first == "sealer" }, "\(rows)")
        // The transitions the daemon kept: at least the finished sector's last one.
        let transitions = try #require(lines.firstIndex { $0.hasPrefix("LAST TRANSITIONS") })
        #expect(lines[(transitions + 1)...].contains { $0.contains(" --") && $0.contains("--> ") && $0.contains(" sealer s-t0") }, "\(run.stdout)")
        #expect(lines.count - transitions - 1 <= 20, "the table keeps the last 20")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }

    @Test("a daemon that cannot be reached: the address in the error, status 1, nothing on stdout")
    func unreachable() async throws {
        let run = try await runSealer(["top", "-H", "127.0.0.1:1"])
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stderr.contains("cannot reach the daemon at 127.0.0.1:1"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("command-line mistakes exit 2 naming them; --help exits 0", arguments: [
        (["top", "--bogus"], "unknown option '--bogus'"),
        (["top", "-H"], "option -H needs a value"),
        (["top", "-H", "nonsense"], "--host expects HOST:PORT, got 'nonsense'"),
        (["top", "extra"], "unexpected argument 'extra'"),
    ])
    func mistakes(arguments: [String], message: String) async throws {
        let run = try await runSealer(arguments)
        #expect(run.status == 2, "\(arguments): \(run.output)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty)
        let help = try await runSealer(["top", "--help"])
        #expect(help.status == 0 && help.stdout.contains("usage: sealer top"), "\(help.output)")
    }

    static let hasScript = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    @Test("on a terminal: the live view redraws in place, q quits, SIGTERM quits, and the terminal is as before either way",
          .enabled(if: hasScript, "needs util-linux script for a pseudo-terminal"), arguments: ["q", "SIGTERM"])
    func liveView(quit: String) async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (daemon, port) = try await daemon(dir, threads: 2)
        let sealer = try sealerBinary()
        // The terminal's settings before and after, around top, inside one pseudo-terminal.
        let session = try PseudoTerminal(command: "stty cols 80 rows 24; stty -g; \(sealer) top -H 127.0.0.1:\(port); echo status=$?; stty -g")
        try await eventually("the first frame") { session.output.contains("THREADS: ") }
        #expect(session.output.contains("\u{1B}[?1049h"), "the alternate screen")
        #expect(session.output.contains("\u{1B}[H"), "drawn from the top left")
        if quit == "q" {
            session.type("q")
        } else {
            let top = try #require(session.descendant(named: "sealer"))
            kill(top, SIGTERM)
        }
        let status = try await session.wait()
        let output = session.output
        #expect(status == 0, "\(output)")
        #expect(output.contains("\u{1B}[?25h\u{1B}[?1049l"), "cursor shown, main screen back")
        #expect(output.contains("status=0"), "\(output)")
        let settings = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count > 20 && $0.allSatisfy { $0.isHexDigit || $0 == ":" } }
        #expect(settings.count == 2 && settings.first == settings.last, "stty -g before and after: \(settings)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }

    @Test("on a terminal: a daemon that goes away is said on the first line, naming it, while the last view stays; q still quits",
          .enabled(if: hasScript, "needs util-linux script for a pseudo-terminal"))
    func daemonGoesAway() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let (daemon, port) = try await daemon(dir, threads: 1)
        let session = try PseudoTerminal(command: "stty cols 100 rows 30; \(try sealerBinary()) top -H 127.0.0.1:\(port)")
        try await eventually("the first frame") { session.output.contains("THREADS: ") }
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        try await eventually("the daemon's absence on screen") { session.output.contains("retrying: cannot reach the daemon at 127.0.0.1:\(port)") }
        session.type("q")
        #expect(try await session.wait() == 0, "\(session.output.suffix(2000))")
        #expect(session.output.hasSuffix("\u{1B}[?25h\u{1B}[?1049l"), "the terminal is put back last")
    }
}

/// A command on a pseudo-terminal (`script -qec`), its output collected, keys typed into it.
final class PseudoTerminal {
    /// What the session wrote so far, appended by the reader thread.
    final class Collected: Sendable {
        let text = Mutex("")
        /// The output reached its end (the session and everything in it exited).
        let ended = Mutex(false)
    }

    private let process: Process
    private let input: Pipe
    private let collected = Collected()

    init(command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        for name in scrubbedEnvironment { env[name] = nil }
        env["TERM"] = "xterm"
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        self.process = process
        self.input = input
        try process.run()
        let collected = collected
        let reader = output.fileHandleForReading
        Thread {
            while true {
                let data = reader.availableData
                if data.isEmpty {
                    collected.ended.withLock { $0 = true }
                    return
                }
                collected.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }.start()
    }

    var output: String { collected.text.withLock { $0 } }

    func type(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    /// The first process below `script` whose command line starts with a path ending in `name`.
    func descendant(named name: String) -> Int32? {
        var queue = [process.processIdentifier]
        while !queue.isEmpty {
            let pid = queue.removeFirst()
            let children = ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
            for child in children {
                let argv0 = ((try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(child)/cmdline"))) ?? Data()).split(separator: 0).first
                if let argv0, String(decoding: argv0, as: UTF8.self).hasSuffix("/" + name) { return child }
                queue.append(child)
            }
        }
        return nil
    }

    func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        // Both the exit and the end of the output, so `output` is complete afterwards.
        while process.isRunning || !collected.ended.withLock({ $0 }) {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw HarnessError("the terminal session is still running after \(timeout):\n\(output.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
