import Actors
import Foundation
import ProofsFFI
import Scheduler

/// `sealer manager mock`: a damocles-manager stand-in serving the `Venus.*` API over HTTP.
enum ManagerCommand {
    static let spec = OptionSpec(command: "sealer manager mock", options: [
        .init(["--listen"], value: true, help: "address to serve on (default 127.0.0.1:1789)"),
        .init(["--miner"], value: true, help: "miner actor id (default 10000)"),
        .init(["--sector-size"], value: true, help: "sector size to allocate (default 2KiB)"),
        .init(["--reject-submit-rate"], value: true, help: "fraction of submissions answered Rejected (0..1)"),
        .init(["--poll-failed-rate"], value: true, help: "fraction of state polls answered Failed (0..1)"),
        .init(["--transport-error-rate"], value: true, help: "fraction of calls failing as transport errors (0..1)"),
        .init(["--delay"], value: true, help: "delay added to every call, e.g. 200ms"),
        .init(["--seed"], value: true, help: "random seed (default 1)"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 1)

    static let usage = "usage: sealer manager mock [--listen HOST:PORT] [--miner N] [--sector-size SIZE] [failure knobs]"

    static func run(_ args: [String]) async -> Int32 {
        let (parsedMock, status) = parseMockCommand(args, spec: spec, usage: usage, command: "manager")
        guard let parsed = parsedMock else { return status }
        var options = MockManager.Options()
        let listen = parsed.value("--listen") ?? "127.0.0.1:1789"
        do {
            if let miner = parsed.value("--miner") {
                guard let n = UInt64(miner) else { throw UsageError("--miner expects an actor id number, got '\(miner)'") }
                options.miner = n
            }
            if let size = parsed.value("--sector-size") { options.sectorSize = try ConfigBridge.sectorSize(size, what: "--sector-size") }
            options.rejectSubmitRate = try rate(parsed, "--reject-submit-rate")
            options.pollFailedRate = try rate(parsed, "--poll-failed-rate")
            options.transportErrorRate = try rate(parsed, "--transport-error-rate")
            if let delay = parsed.value("--delay") { options.delay = try ConfigBridge.duration(delay, what: "--delay") }
            if let seed = parsed.value("--seed") {
                guard let n = UInt64(seed) else { throw UsageError("--seed expects a number, got '\(seed)'") }
                options.seed = n
            }
        } catch let error as UsageError { return usageFailure(error) } catch { return fail("\(error)") }
        let host: String
        let port: UInt16
        do { (host, port) = try ManagementTarget.hostPort(Setting(listen, from: "--listen")) } catch { return usageFailure(error) }
        let log: Log
        do { log = try Log.configured(by: ProcessInfo.processInfo.environment) } catch { return usageFailure("\(error)") }
        let manager = MockManager(options: options)
        let rpc = JSONRPCServer(methods: ManagerRPCServer.methods(manager))
        let server = HTTPServer(host: host, port: port) { request in await rpc.handle(request) }
        let bound: UInt16
        do { bound = try server.start() } catch { return fail("\(error)") }
        log.info("mock manager serving Venus.* on \(host):\(bound) (miner \(options.miner), \(options.sectorSize) sectors)")
        let signals = SignalStream([SIGTERM, SIGINT])
        for await _ in signals.signals { break }
        await server.shutdown()
        log.info("mock manager stopped")
        return 0
    }

    static func rate(_ parsed: ParsedOptions, _ name: String) throws -> Double {
        guard let value = try parsed.double(name) else { return 0 }
        guard (0...1).contains(value) else { throw UsageError("\(name) must be between 0 and 1, got \(value)") }
        return value
    }
}
