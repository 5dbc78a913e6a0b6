import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The built `sealer` binary: `$SEALER_BIN`, or next to the test bundle, or under `.build/`.
func sealerBinary() throws -> String {
    let fm = FileManager.default
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["SEALER_BIN"], !explicit.isEmpty { candidates.append(explicit) }
    let executable = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("sealer").path)
        directory = directory.deletingLastPathComponent()
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for configuration in ["debug", "release"] { candidates.append(package.appendingPathComponent(".build/\(configuration)/sealer").path) }
    guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
        throw HarnessError("the sealer binary is not built; run `swift build` first (looked in \(candidates))")
    }
    return found
}

/// A fresh directory, removed by `cleanup()`.
struct Scratch {
    let path: String
    init(_ name: String = #function) {
        path = NSTemporaryDirectory() + "sealer-e2e-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// Variables a developer's shell may set that change which config or daemon a command uses;
/// every child starts without them, so a test sees only what it passes.
/// The log's level and format and systemd's sockets are scrubbed too: a test that wants them
/// passes them.
let scrubbedEnvironment = [
    "SEALER_CONFIG", "SEALER_WORKER_HOST", "SEALER_RPC_TOKEN", "DAMOCLES_WORKER_CONFIG", "DAMOCLES_WORKER_HOST",
    "SEALER_LOG", "SEALER_LOG_FORMAT", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
]

/// A child process whose stderr (its log) goes to a file the test reads; stdout goes to the
/// same file unless `stdout` names another.
final class Child {
    let process = Process()
    let logPath: String
    let stdoutPath: String

    init(_ arguments: [String], log: String, stdout: String? = nil, environment: [String: String] = [:]) throws {
        logPath = log
        stdoutPath = stdout ?? log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: try sealerBinary())
        process.arguments = arguments
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        } else {
            process.standardOutput = handle
        }
        process.standardError = handle
        var env = ProcessInfo.processInfo.environment
        for name in scrubbedEnvironment { env[name] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    /// What the child wrote to stdout (the same as `log` when they share a file).
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for exit and returns the status; throws after `timeout`.
    func wait(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { throw HarnessError("process \(pid) still running after \(timeout)\n\(log.suffix(2000))") }
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    /// Waits until the log contains `text`; returns the log.
    @discardableResult
    func waitForLog(_ text: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = log
            if current.contains(text) { return current }
            if !process.isRunning { throw HarnessError("process exited (\(process.terminationStatus)) before logging '\(text)':\n\(current.suffix(3000))") }
            if ContinuousClock.now > deadline { throw HarnessError("no '\(text)' in the log after \(timeout):\n\(current.suffix(3000))") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The port a mock (manager, relay) bound on 127.0.0.1, from its startup line
    /// "`prefix`127.0.0.1:PORT".
    func loopbackPort(after prefix: String) async throws -> UInt16 {
        let text = try await waitForLog(prefix + "127.0.0.1:")
        guard let range = text.range(of: prefix + "127.0.0.1:"), let port = UInt16(text[range.upperBound...].prefix(while: \.isNumber)) else {
            throw HarnessError("no port after '\(prefix)' in the log: \(text.suffix(3000))")
        }
        return port
    }

    /// The management port the daemon bound, from its startup line.
    func managementPort() async throws -> UInt16 {
        let text = try await waitForLog("management RPC listening on ")
        guard let range = text.range(of: "management RPC listening on "),
              let line = text[range.upperBound...].split(separator: "\n").first,
              let colon = line.lastIndex(of: ":"),
              let port = UInt16(line[line.index(after: colon)...].prefix(while: \.isNumber)) else {
            throw HarnessError("cannot find the port in the log")
        }
        return port
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// What a finished `sealer` command left: its status, stdout and stderr.
struct SealerRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// stdout then stderr, for checks that do not care which carried a text.
    var output: String { stdout + stderr }
}

/// Runs `sealer ARGS` to completion with `environment` added to the (scrubbed) environment.
func runSealer(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> SealerRun {
    let scratch = Scratch("run")
    defer { scratch.cleanup() }
    let child = try Child(arguments, log: scratch.path + "/stderr", stdout: scratch.path + "/stdout", environment: environment)
    let status = try await child.wait(timeout: timeout)
    return SealerRun(status: status, stdout: child.stdout, stderr: child.log)
}

/// A daemon config for tests: `threads` sealer threads under `dir`, fast mock stages.
func testConfig(dir: String, threads: Int, manager: String = "embedded", port: Int = 0, token: String? = nil,
                stage: String = "5ms", extra: String = "") -> String {
    // The persist store must exist, as a mounted disk would.
    try? FileManager.default.createDirectory(atPath: dir + "/persist", withIntermediateDirectories: true)
    var text = """
    [worker]
    name = "e2e"
    rpc_server = { host = "127.0.0.1", port = \(port)\(token.map { ", token = \"\($0)\"" } ?? "") }
    ping_interval = "1s"
    shutdown_timeout = "5s"

    [sector_manager]
    rpc_client.addr = "\(manager)"

    [proofs]
    backend = "mock"

    [proofs.mock]
    add_pieces = "\(stage)"
    tree_d = "\(stage)"
    pc1 = "\(stage)"
    pc2 = "\(stage)"
    c1 = "\(stage)"
    c2 = "\(stage)"

    [sealing]
    max_retries = 3
    seal_interval = "10ms"
    recover_interval = "50ms"
    rpc_polling_interval = "10ms"

    [[attached]]
    name = "persist"
    location = "\(dir)/persist"

    """
    for i in 0..<threads {
        text += "\n[[sealing_thread]]\nlocation = \"\(dir)/t\(i)\"\n"
    }
    return text + "\n" + extra
}
