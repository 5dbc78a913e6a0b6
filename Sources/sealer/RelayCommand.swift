import Actors
import Foundation
import ProofsFFI
import Scheduler

/// `sealer relay mock`: a Crynux relay stand-in (node-facing API of spec crynux.md 5.3, with the
/// application side played by the mock), and `sealer crynux executor --mock`, the default
/// inference executor child.
enum RelayCommand {
    static let spec = OptionSpec(command: "sealer relay mock", options: [
        .init(["--listen"], value: true, help: "address to serve on (default 127.0.0.1:8081)"),
        .init(["--mode"], value: true, help: "relay (current flow, default) or legacy (older seed: ParametersUploaded, node-side abort)"),
        .init(["--task-interval"], value: true, help: "the mock app creates a task this often (default 2s; 0 = never)"),
        .init(["--task-count"], value: true, help: "stop creating after N tasks (default 0 = no limit)"),
        .init(["--task-type"], value: true, help: "sd (default) or llm"),
        .init(["--outputs"], value: true, help: "images or responses per task (default 2)"),
        .init(["--min-vram"], value: true, help: "GiB of VRAM tasks require (default 1)"),
        .init(["--execution-timeout"], value: true, help: "Started deadline (default 60s)"),
        .init(["--group-rate"], value: true, help: "fraction of tasks validated as VSS groups of three (0..1)"),
        .init(["--error-rate"], value: true, help: "fraction of requests answered 500 (0..1)"),
        .init(["--distance-threshold"], value: true, help: "pHash Hamming threshold for SD groups (default 24)"),
        .init(["--seed"], value: true, help: "random seed (default 1)"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 1)

    static let usage = "usage: sealer relay mock [--listen HOST:PORT] [--mode relay|legacy] [--task-interval D] [--task-count N] [knobs]"

    static func run(_ args: [String]) async -> Int32 {
        let (parsedMock, status) = parseMockCommand(args, spec: spec, usage: usage, command: "relay")
        guard let parsed = parsedMock else { return status }
        var settings = CrynuxMockSettings()
        var threshold = 24
        do {
            if let mode = parsed.value("--mode") {
                guard let m = CrynuxFlowMode(rawValue: mode) else { throw UsageError("--mode expects relay or legacy, got '\(mode)'") }
                settings.mode = m
            }
            if let d = parsed.value("--task-interval") { settings.taskInterval = try ConfigBridge.duration(d, what: "--task-interval") }
            if let d = parsed.value("--execution-timeout") { settings.executionTimeout = try ConfigBridge.duration(d, what: "--execution-timeout") }
            if let n = try parsed.int("--task-count") { settings.taskCount = n }
            if let n = try parsed.int("--outputs") { settings.outputs = max(1, n) }
            if let n = try parsed.int("--min-vram") { settings.minVRAMGiB = n }
            if let n = try parsed.int("--distance-threshold") { threshold = n }
            if let t = parsed.value("--task-type") {
                switch t {
                case "sd": settings.taskType = .sd
                case "llm": settings.taskType = .llm
                default: throw UsageError("--task-type expects sd or llm, got '\(t)'")
                }
            }
            settings.groupRate = try ManagerCommand.rate(parsed, "--group-rate")
            settings.errorRate = try ManagerCommand.rate(parsed, "--error-rate")
            if let seed = parsed.value("--seed") {
                guard let n = UInt64(seed) else { throw UsageError("--seed expects a number, got '\(seed)'") }
                settings.seed = n
            }
        } catch let error as UsageError { return usageFailure(error) } catch { return fail("\(error)") }
        let host: String
        let port: UInt16
        do { (host, port) = try ManagementTarget.hostPort(Setting(parsed.value("--listen") ?? "127.0.0.1:8081", from: "--listen")) } catch { return usageFailure(error) }
        let log: Log
        do { log = try Log.configured(by: ProcessInfo.processInfo.environment) } catch { return usageFailure("\(error)") }
        let mock = RelayMock(settings: settings, distanceThreshold: threshold, log: log)
        let server = HTTPServer(host: host, port: port) { request in await mock.handle(request) }
        let bound: UInt16
        do { bound = try server.start() } catch { return fail("\(error)") }
        log.info("Crynux relay mock serving on \(host):\(bound) (\(settings.mode) flow)")
        let loops = Task { await mock.runLoops() }
        let signals = SignalStream([SIGTERM, SIGINT])
        for await _ in signals.signals { break }
        loops.cancel()
        await server.shutdown()
        log.info("relay mock stopped")
        return 0
    }
}
