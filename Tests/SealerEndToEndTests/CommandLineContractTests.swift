import Foundation
import Scheduler
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What scripts rely on: stdout carries only a command's output, stderr its log and complaints,
/// and the status says which: 0 done, 1 failed, 2 a mistake in the command line.
@Suite("Command-line contract end to end")
struct CommandLineContractTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let mockConfig = package + "/config/mock.toml"

    /// A log line starts with its timestamp (`2026-01-02T03:04:05.678Z INFO ...`).
    static func logLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            line.count > 24 && line.prefix(4).allSatisfy(\.isNumber) && line.dropFirst(10).first == "T" && line.dropFirst(23).first == "Z"
        }
    }

    // MARK: exit statuses

    @Test("every subcommand exits 2 for a usage mistake, naming it on stderr, with nothing on stdout", arguments: [
        ([], "missing command"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["daemon", "--bogus"], "unknown option '--bogus'"),
        (["daemon", "-c"], "option -c needs a value"),
        (["daemon", "-c", "--log-level", "debug"], "option -c needs a value"),
        (["daemon"], "daemon needs a config"),
        (["daemon", "x.toml"], "unexpected argument 'x.toml'"),
        (["daemon", "-c", "x.toml", "--log-level", "loud"], "--log-level expects debug, info, warn or error, got 'loud'"),
        (["config"], "missing subcommand: config check"),
        (["config", "frob"], "unknown config subcommand 'frob'"),
        (["config", "check"], "config check needs -c FILE"),
        (["config", "check", "--bogus"], "unknown option '--bogus'"),
        (["config", "check", "-c"], "option -c needs a value"),
        (["config", "check", "-c", "x.toml", "--sysfs-root", "/"], "--sysfs-root only matters with --resolve"),
        (["worker"], "missing worker subcommand"),
        (["worker", "-H", "127.0.0.1:1", "frob"], "unknown worker subcommand 'frob'"),
        (["worker", "--bogus", "list"], "unknown option '--bogus'"),
        (["worker", "-H"], "option -H needs a value"),
        (["worker", "-H", "nonsense", "list"], "--host expects HOST:PORT, got 'nonsense'"),
        (["worker", "-H", "127.0.0.1:1", "pause"], "pause needs -i N"),
        (["worker", "-H", "127.0.0.1:1", "resume"], "resume needs -i N"),
        (["worker", "-H", "127.0.0.1:1", "pause", "-i", "x"], "--index expects an integer, got 'x'"),
        (["worker", "-H", "127.0.0.1:1", "list", "extra"], "unexpected argument 'extra'"),
        (["manager"], "missing subcommand: manager mock"),
        (["manager", "frob"], "unknown manager subcommand 'frob'"),
        (["manager", "mock", "--bogus"], "unknown option '--bogus'"),
        (["manager", "mock", "--listen"], "option --listen needs a value"),
        (["manager", "mock", "--listen", "nowhere"], "--listen expects HOST:PORT, got 'nowhere'"),
        (["manager", "mock", "--sector-size", "3GiB"], "'3GiB' is not a Filecoin sector size"),
        (["manager", "mock", "--poll-failed-rate", "2"], "--poll-failed-rate must be between 0 and 1"),
        (["util"], "missing util subcommand (worker)"),
        (["util", "frob"], "unknown util subcommand 'frob'"),
        (["util", "worker"], "missing worker subcommand"),
        (["util", "worker", "frob"], "unknown worker subcommand 'frob'"),
        (["util", "worker", "pause", "box-a"], "worker pause takes <name> <index>"),
        (["util", "worker", "pause", "box-a", "x"], "thread index must be a number"),
        (["util", "worker", "list", "--expiration", "soon"], "--expiration: 'soon' is not a duration"),
        (["util", "worker", "list", "--manager", "nowhere"], "--manager expects HOST:PORT, got 'nowhere'"),
        (["history"], "history needs -l LOCATION"),
        (["history", "--bogus"], "unknown option '--bogus'"),
        (["history", "-l"], "option -l needs a value"),
        (["bench", "--bogus"], "unknown option '--bogus'"),
        (["bench", "--threads"], "option --threads needs a value"),
        (["bench", "--threads", "many"], "--threads expects an integer, got 'many'"),
        (["bench", "pools", "--bogus"], "unknown option '--bogus'"),
        (["bench", "pools", "--days", "0"], "--speedup and --days must be at least 1"),
        (["processor"], "processor needs a stage"),
        (["processor", "pc9"], "unknown stage 'pc9'"),
        (["processor", "--bogus"], "unknown option '--bogus'"),
        (["processor", "pc1", "extra"], "unexpected argument 'extra'"),
        (["hwinfo", "--bogus"], "unknown option '--bogus'"),
        (["hwinfo", "--sysfs-root"], "option --sysfs-root needs a value"),
        (["hwinfo", "extra"], "unexpected argument 'extra'"),
        (["hwinfo", "--sysfs-root", "/", "--hwloc", "x.xml"], "--hwloc and --sysfs-root"),
        (["simulate"], "missing required option --workload"),
        (["simulate", "--bogus"], "unknown option '--bogus'"),
        (["simulate", "-w"], "option -w needs a value"),
        (["simulate", "-w", "w.toml", "--days", "soon"], "--days expects an integer, got 'soon'"),
        (["simulate", "-w", "w.toml", "--policy", "greedy"], "--policy: 'greedy' is not dynamic or static"),
        (["version", "--bogus"], "unknown option '--bogus'"),
        (["version", "extra"], "unexpected argument 'extra'"),
    ])
    func usageMistakes(arguments: [String], message: String) async throws {
        let run = try await runSealer(arguments)
        #expect(run.status == 2, "\(arguments): status \(run.status)\n\(run.output)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(arguments) printed on stdout: \(run.stdout)")
    }

    @Test("runtime failures exit 1 with the reason on stderr", arguments: [
        (["daemon", "-c", "/nonexistent/sealer.toml"], "/nonexistent/sealer.toml: error: no such file"),
        (["config", "check", "-c", "/nonexistent/x.toml"], "/nonexistent/x.toml: error: no such file"),
        (["worker", "-H", "127.0.0.1:1", "list"], "cannot reach the daemon at 127.0.0.1:1"),
        (["worker", "-c", "/nonexistent/w.toml", "list"], "/nonexistent/w.toml: error: no such file"),
        (["util", "worker", "list", "--manager", "127.0.0.1:1"], "the manager at http://127.0.0.1:1/rpc/v0"),
        (["util", "worker", "-c", "/nonexistent/w.toml", "list"], "/nonexistent/w.toml: error: no such file"),
        (["history", "-l", "/nonexistent/loc"], "no history at /nonexistent/loc/meta/history"),
        (["hwinfo", "--hwloc", "/nonexistent/box.xml"], "/nonexistent/box.xml"),
        (["simulate", "-w", "/nonexistent/w.toml"], "/nonexistent/w.toml"),
        (["bench", "pools", "-w", "/nonexistent/w.toml"], "/nonexistent/w.toml"),
    ])
    func runtimeFailures(arguments: [String], message: String) async throws {
        let run = try await runSealer(arguments)
        #expect(run.status == 1, "\(arguments): status \(run.status)\n\(run.output)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(arguments) printed on stdout: \(run.stdout)")
    }

    @Test("--help exits 0 with the usage on stdout", arguments: [
        ["--help"], ["help"], ["daemon", "--help"], ["config", "--help"], ["config", "check", "--help"], ["worker", "--help"],
        ["manager", "--help"], ["manager", "mock", "--help"], ["util", "--help"], ["history", "--help"], ["bench", "--help"], ["bench", "pools", "--help"],
        ["processor", "--help"], ["hwinfo", "--help"], ["simulate", "--help"], ["version", "--help"],
    ])
    func help(arguments: [String]) async throws {
        let run = try await runSealer(arguments)
        #expect(run.status == 0, "\(arguments): \(run.output)")
        #expect(run.stdout.contains("usage"), "\(arguments): \(run.stdout)")
        #expect(run.stderr.isEmpty, "\(arguments): \(run.stderr)")
    }

    @Test("version prints one line on stdout")
    func version() async throws {
        let run = try await runSealer(["version"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("sealer ") && run.stdout.split(separator: "\n").count == 1, "\(run.stdout)")
    }

    // MARK: config check

    @Test("config check prints a config that parses, checks to the same text again, and carries no log line")
    func configCheckFixedPoint() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let first = try await runSealer(["config", "check", "-c", Self.mockConfig])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stderr.isEmpty, "mock.toml has no warnings and nothing is logged: \(first.stderr)")
        #expect(Self.logLines(first.stdout).isEmpty, "\(first.stdout)")
        let effective = try dir.write("effective.toml", first.stdout)
        let decoded = ConfigDecoder.load(path: effective)
        #expect(decoded.config != nil && decoded.diagnostics.isEmpty, "\(decoded.diagnostics)\n\(first.stdout)")
        let again = try await runSealer(["config", "check", "-c", effective])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stdout == first.stdout)
    }

    @Test("config check reads only the file: no hardware discovery, no name lookup, however unreachable the box and manager")
    func configCheckTouchesNothing() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        // No worker name and a manager host that cannot resolve: the daemon would look up both;
        // no [resources.box]: the daemon would read sysfs and NVML.
        let config = try dir.write("remote.toml", testConfig(dir: dir.path, threads: 1, manager: "http://manager.invalid:1789")
            .replacingOccurrences(of: "name = \"e2e\"\n", with: ""))
        let start = ContinuousClock.now
        let run = try await runSealer(["config", "check", "-c", config])
        #expect(run.status == 0, "\(run.output)")
        // Generous: on a loaded 2-core machine the test process itself may notice the exit late;
        // the empty stderr and the unresolved name below are the sharper evidence.
        #expect(ContinuousClock.now - start < .seconds(90), "a DNS or NVML timeout would show here")
        #expect(run.stderr.isEmpty, "nothing discovered, nothing logged: \(run.stderr)")
        #expect(run.stdout.contains("rpc_client.addr = \"http://manager.invalid:1789/rpc/v0\""), "\(run.stdout)")
        #expect(run.stdout.contains("# name: not set"), "the name is left for the daemon to resolve: \(run.stdout)")
        #expect(!run.stdout.contains("# resolved"))
    }

    @Test("config check --resolve resolves on the box, logging to stderr; with no sysfs it still succeeds, assuming one node")
    func configCheckResolve() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let empty = dir.path + "/no-sysfs"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let start = ContinuousClock.now
        let run = try await runSealer(["config", "check", "--resolve", "--sysfs-root", empty, "-c", Self.mockConfig])
        #expect(run.status == 0, "\(run.output)")
        // Generous: on a loaded 2-core machine the test process itself may notice the exit late;
        // the empty stderr and the unresolved name below are the sharper evidence.
        #expect(ContinuousClock.now - start < .seconds(90), "a DNS or NVML timeout would show here")
        #expect(run.stderr.contains("cannot read the box's topology"), "\(run.stderr)")
        #expect(run.stderr.contains("resource pools:"), "\(run.stderr)")
        #expect(Self.logLines(run.stdout).isEmpty, "\(run.stdout)")
        #expect(run.stdout.contains("# resolved on this box (--resolve):"), "\(run.stdout)")
        #expect(run.stdout.contains("# worker name: mock-worker"), "\(run.stdout)")
        #expect(run.stdout.contains("# box: "), "\(run.stdout)")
        let effective = try dir.write("resolved.toml", run.stdout)
        let decoded = ConfigDecoder.load(path: effective)
        #expect(decoded.config != nil && decoded.diagnostics.isEmpty, "\(decoded.diagnostics)")
    }

    @Test("an invalid config: status 1, every error on stderr with its line, nothing on stdout")
    func configCheckInvalid() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let bad = try dir.write("bad.toml", "[sector_manager]\nrpc_client.addr = \"embedded\"\n[sealing]\nmax_retries = \"five\"\nbogus_key = 1\n")
        let run = try await runSealer(["config", "check", "-c", bad])
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stdout.isEmpty, "\(run.stdout)")
        #expect(run.stderr.contains("bad.toml:4"), "\(run.stderr)")
        #expect(run.stderr.contains("bad.toml:5"), "the unknown key's warning with its line: \(run.stderr)")
        // What this build refuses is found without --resolve too.
        let tls = try dir.write("tls.toml", testConfig(dir: dir.path, threads: 1, manager: "https://manager.invalid:1789/rpc/v0"))
        let refused = try await runSealer(["config", "check", "-c", tls])
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains("https is not supported by this build"), "\(refused.stderr)")
        // backend = "ffi" is checked when the daemon starts (library, symbols, parameters), not here.
        let ffi = try dir.write("ffi.toml", testConfig(dir: dir.path, threads: 1).replacingOccurrences(of: "backend = \"mock\"", with: "backend = \"ffi\""))
        #expect(try await runSealer(["config", "check", "-c", ffi]).status == 0)
    }

    // MARK: the daemon's streams

    @Test("the daemon logs on stderr only; its stdout stays empty")
    func daemonLogsToStderr() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/stderr", stdout: dir.path + "/stdout")
        try await daemon.waitForLog("sector finished")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        #expect(daemon.stdout.isEmpty, "\(daemon.stdout)")
        #expect(!Self.logLines(daemon.log).isEmpty)
    }

    // MARK: environment

    @Test("the daemon's config: -c, then $SEALER_CONFIG, then $DAMOCLES_WORKER_CONFIG", arguments: [
        ([], ["DAMOCLES_WORKER_CONFIG": "/nonexistent/damocles.toml"], "/nonexistent/damocles.toml"),
        ([], ["SEALER_CONFIG": "/nonexistent/ours.toml", "DAMOCLES_WORKER_CONFIG": "/nonexistent/damocles.toml"], "/nonexistent/ours.toml"),
        (["-c", "/nonexistent/flag.toml"], ["SEALER_CONFIG": "/nonexistent/ours.toml", "DAMOCLES_WORKER_CONFIG": "/nonexistent/damocles.toml"],
         "/nonexistent/flag.toml"),
    ])
    func daemonConfigFromEnvironment(flags: [String], environment: [String: String], named: String) async throws {
        let run = try await runSealer(["daemon"] + flags, environment: environment)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stderr.contains("\(named): error: no such file"), "\(run.stderr)")
    }

    @Test("config check takes damocles-worker's $DAMOCLES_WORKER_CONFIG")
    func configCheckFromEnvironment() async throws {
        let byFlag = try await runSealer(["config", "check", "-c", Self.mockConfig])
        let byEnv = try await runSealer(["config", "check"], environment: ["DAMOCLES_WORKER_CONFIG": Self.mockConfig])
        #expect(byEnv.status == 0, "\(byEnv.output)")
        #expect(byEnv.stdout == byFlag.stdout)
    }

    @Test("worker's daemon: flags, then $SEALER_*, then $DAMOCLES_WORKER_*", arguments: [
        ([], ["DAMOCLES_WORKER_HOST": "127.0.0.1:1"], "127.0.0.1:1"),
        ([], ["SEALER_WORKER_HOST": "127.0.0.1:2", "DAMOCLES_WORKER_HOST": "127.0.0.1:1"], "127.0.0.1:2"),
        (["-H", "127.0.0.1:3"], ["SEALER_WORKER_HOST": "127.0.0.1:2", "DAMOCLES_WORKER_HOST": "127.0.0.1:1"], "127.0.0.1:3"),
        ([], ["DAMOCLES_WORKER_CONFIG": "CONFIG", "DAMOCLES_WORKER_HOST": "127.0.0.1:1"], "127.0.0.1:4"),
        ([], ["SEALER_WORKER_HOST": "127.0.0.1:2", "DAMOCLES_WORKER_CONFIG": "CONFIG"], "127.0.0.1:2"),
    ])
    func workerTargetFromEnvironment(flags: [String], environment: [String: String], reached: String) async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        // A config whose management server would be on port 4.
        let config = try dir.write("w.toml", testConfig(dir: dir.path, threads: 1, port: 4))
        let env = environment.mapValues { $0 == "CONFIG" ? config : $0 }
        let run = try await runSealer(["worker"] + flags + ["list"], environment: env)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stderr.contains("cannot reach the daemon at \(reached)"), "\(run.stderr)")
    }

    @Test("a bad address from the environment is a usage mistake naming the variable")
    func badHostFromEnvironment() async throws {
        let run = try await runSealer(["worker", "list"], environment: ["DAMOCLES_WORKER_HOST": "box"])
        #expect(run.status == 2, "\(run.output)")
        #expect(run.stderr.contains("$DAMOCLES_WORKER_HOST expects HOST:PORT, got 'box'"), "\(run.stderr)")
    }
}
