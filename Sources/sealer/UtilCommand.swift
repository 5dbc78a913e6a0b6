import Actors
import Foundation
import Scheduler

/// `sealer util worker list|info|pause|resume|remove`: damocles-manager's view of its boxes.
///
/// Like `damocles-manager util worker`, it reads the manager's worker registry (built from each
/// worker's `Venus.WorkerPing`) and reaches a box through the `Dest` of its last ping. The
/// manager may be ours (`sealer manager mock`) or a real damocles-manager: same wire format.
enum UtilCommand {
    static let spec = OptionSpec(command: "sealer util worker", options: [
        .init(["--config", "-c"], value: true, help: "a daemon config; its [sector_manager] rpc_client.addr (and headers) is the manager"),
        .init(["--manager", "-m"], value: true, help: "the manager: HOST:PORT, a multiaddr or a URL (default 127.0.0.1:1789)"),
        .init(["--token"], value: true, help: "bearer token for the boxes' management RPC (default: $SEALER_RPC_TOKEN)"),
        .init(["--expiration"], value: true, help: "list: a ping older than this is marked (!) (default 10m)"),
        .init(["--state", "-s"], value: true, help: "resume: continue from this state of the thread's plan"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 4)

    static let usage = """
    usage: sealer util [-c CFG | --manager ADDR] worker list [--expiration 10m]
           sealer util [-c CFG | --manager ADDR] worker info <name>
           sealer util [-c CFG | --manager ADDR] worker pause <name> <index>
           sealer util [-c CFG | --manager ADDR] worker resume <name> <index> [--state S]
           sealer util [-c CFG | --manager ADDR] worker remove <name>

    <name> is a worker's name in the manager's registry (else HOST[:PORT] of the box itself).
    """

    /// The default port of a box's management RPC (damocles-worker's).
    static let defaultWorkerPort: UInt16 = 17890

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error, usage: usage) }
        if parsed.has("--help") {
            print(usage + "\n\n" + spec.help)
            return CommandExit.success
        }
        let words = parsed.positionals
        guard let group = words.first else { return usageFailure("missing util subcommand (worker)", usage: usage) }
        guard group == "worker" else { return usageFailure("unknown util subcommand '\(group)'", usage: usage) }
        guard words.count >= 2 else { return usageFailure("missing worker subcommand (list, info, pause, resume, remove)", usage: usage) }
        let action = words[1], operands = Array(words.dropFirst(2))
        let wanted: Int
        switch action {
        case "list": wanted = 0
        case "info", "remove": wanted = 1
        case "pause", "resume": wanted = 2
        default: return usageFailure("unknown worker subcommand '\(action)'", usage: usage)
        }
        guard operands.count == wanted else {
            return usageFailure("worker \(action) takes \(wanted == 0 ? "no operands" : wanted == 1 ? "<name>" : "<name> <index>")", usage: usage)
        }
        var index = 0
        var expiration: Duration = .seconds(600)
        let manager: (endpoint: HTTPEndpoint, headers: [(String, String)])
        do {
            if wanted == 2 {
                guard let n = Int(operands[1]), n >= 0 else { throw UsageError("thread index must be a number from 'sealer util worker info', got '\(operands[1])'") }
                index = n
            }
            if let text = parsed.value("--expiration") { expiration = try ConfigBridge.duration(text, what: "--expiration") }
            if parsed.value("--state") != nil, action != "resume" { throw UsageError("--state is for resume") }
            manager = try managerEndpoint(parsed)
        } catch let error as UsageError { return usageFailure(error, usage: usage) } catch { return fail("\(error)") }

        let registry = RemoteSectorManager(endpoint: manager.endpoint, headers: manager.headers, timeout: .seconds(10))
        let token = parsed.setting("--token", orEnvironment: EnvironmentVariables.rpcToken, ProcessInfo.processInfo.environment)?.value
        do {
            switch action {
            case "list":
                let records = try await registry.workerPingInfoList()
                print(listTable(records, expiration: expiration, now: Date().timeIntervalSince1970), terminator: "")
            case "remove":
                let name = operands[0]
                guard try await registry.workerGetPingInfo(name) != nil else {
                    return fail("the manager at \(manager.endpoint) has no worker named '\(name)'")
                }
                try await registry.workerPingInfoRemove(name)
                print("'\(name)' removed")
            default:
                let box = try await Box.resolve(operands[0], registry: registry, token: token)
                do {
                    switch action {
                    case "info":
                        let infos = try await box.client.call("VenusWorker.WorkerList", []).decode([WorkerInfo].self)
                        if !infos.isEmpty { print(infoTable(infos), terminator: "") }
                    case "pause":
                        let ok = try await box.client.call("VenusWorker.WorkerPause", [.int(Int64(index))])
                        print("\(box): pause thread #\(index): ok = \(ok.boolValue == true)")
                    default:
                        let state: JSONValue = parsed.value("--state").map { .string($0) } ?? .null
                        let ok = try await box.client.call("VenusWorker.WorkerResume", [.int(Int64(index)), state])
                        print("\(box): resume thread #\(index)" + (parsed.value("--state").map { " from state \($0)" } ?? "") + ": ok = \(ok.boolValue == true)")
                    }
                } catch let error as JSONRPCClientError {
                    if case let .rpc(_, rpc) = error { return fail("\(box): \(rpc.message)") }
                    return fail("cannot reach \(box): \(error)")
                } catch {
                    return fail("\(box): \(error)")
                }
            }
        } catch let error as ManagerError {
            return fail("the manager at \(manager.endpoint): \(error)")
        } catch let error as UsageError {
            return usageFailure(error, usage: usage)
        } catch {
            return fail("\(error)")
        }
        return CommandExit.success
    }

    /// The manager: `--manager`, else the config's `[sector_manager] rpc_client.addr` (with its
    /// headers), else 127.0.0.1:1789 (where `sealer manager mock` listens by default).
    static func managerEndpoint(_ parsed: ParsedOptions) throws -> (endpoint: HTTPEndpoint, headers: [(String, String)]) {
        if let text = parsed.value("--manager") {
            if case let .url(_, host, port, path)? = ManagerAddress(parsing: text) { return (HTTPEndpoint(host: host, port: port, path: path), []) }
            let (host, port) = try ManagementTarget.hostPort(Setting(text, from: "--manager"))
            return (HTTPEndpoint(host: host, port: port, path: "/rpc/v0"), [])
        }
        if let path = parsed.value("--config") {
            let result = ConfigDecoder.load(path: path)
            guard let config = result.config else { throw CommandFailure(result.errors.map(\.description).joined(separator: "\n")) }
            guard case let .url(_, host, port, rpcPath) = config.sectorManager.address else {
                throw CommandFailure("\(path): [sector_manager] rpc_client.addr is embedded (the manager lives inside that daemon and serves no registry); name one with --manager")
            }
            return (HTTPEndpoint(host: host, port: port, path: rpcPath), config.sectorManager.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        return (HTTPEndpoint(host: "127.0.0.1", port: 1789, path: "/rpc/v0"), [])
    }

    /// One box, as its management RPC is reached.
    struct Box: CustomStringConvertible {
        var name: String
        var dest: String
        var client: JSONRPCClient
        var description: String { name == dest ? "box \(dest)" : "box '\(name)' at \(dest)" }

        /// Like damocles' `resolveWorkerDest`: the `Dest` of the worker's last ping, else the
        /// name itself as HOST[:PORT] (port 17890 when absent).
        static func resolve(_ name: String, registry: RemoteSectorManager, token: String?) async throws -> Box {
            let dest: String
            if let record = try await registry.workerGetPingInfo(name) {
                dest = record.Info.Dest
            } else if let colon = name.lastIndex(of: ":"), UInt16(name[name.index(after: colon)...]) != nil {
                dest = name
            } else if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), name.contains(".") {
                dest = "\(name):\(defaultWorkerPort)"
            } else {
                throw CommandFailure("the manager has no worker named '\(name)', and it is not an address (HOST[:PORT])")
            }
            let (host, port): (String, UInt16)
            do { (host, port) = try ManagementTarget.hostPort(Setting(dest, from: "the Dest of '\(name)'")) } catch {
                throw CommandFailure("box '\(name)': its Dest '\(dest)' is not HOST:PORT")
            }
            let client = JSONRPCClient(endpoint: HTTPEndpoint(host: host, port: port, path: "/"),
                                       headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [], timeout: .seconds(10))
            return Box(name: name, dest: dest, client: client)
        }
    }

    /// damocles-manager's `util worker list` columns; a ping older than `expiration` gets ` (!)`.
    static func listTable(_ records: [WorkerPingRecord], expiration: Duration, now: Double) -> String {
        var rows = [["Name", "Dest", "Version", "Threads", "Empty", "Paused", "Running", "Waiting", "Errors", "LastPing(with ! if expired)"]]
        let limit = Double(expiration.components.seconds) + Double(expiration.components.attoseconds) / 1e18
        for record in records {
            let info = record.Info, summary = info.Summary
            let age = now - Double(record.LastPing)
            rows.append([info.Name, info.Dest, info.Version, "\(summary.Threads)", "\(summary.Empty)", "\(summary.Paused)",
                         "\(summary.Running)", "\(summary.Waiting)", "\(summary.Errors)",
                         goDuration(age) + (age > limit ? " (!)" : "")])
        }
        return columns(rows)
    }

    /// damocles-manager's `util worker info` columns, NULL for what a thread does not have.
    static func infoTable(_ infos: [WorkerInfo]) -> String {
        var rows = [["Index", "Loc", "Plan", "JobID", "JobState", "JobStage", "ThreadState", "LastErr"]]
        for info in infos {
            rows.append(["\(info.index)", info.location, info.plan, info.job_id ?? "NULL", info.job_state, info.job_stage ?? "NULL",
                         WorkerTable.threadState(info.thread_state), info.last_error ?? "NULL"])
        }
        return columns(rows)
    }

    /// Go's `time.Duration` text to the millisecond: `850ms`, `12.5s`, `3m2.25s`, `1h0m5s`.
    static func goDuration(_ seconds: Double) -> String {
        var ms = Int64((max(seconds, 0) * 1000).rounded(.down))
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        let hours = ms / 3_600_000
        ms %= 3_600_000
        let minutes = ms / 60_000
        ms %= 60_000
        var secs = "\(ms / 1000)"
        if ms % 1000 != 0 {
            var fraction = String(1000 + ms % 1000).dropFirst()
            while fraction.hasSuffix("0") { fraction = fraction.dropLast() }
            secs += "." + fraction
        }
        if hours > 0 { return "\(hours)h\(minutes)m\(secs)s" }
        if minutes > 0 { return "\(minutes)m\(secs)s" }
        return secs + "s"
    }

    /// Columns padded as Go's tabwriter (min width 2, padding 2) lays them out.
    static func columns(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count - 1 { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: max(widths[i], 2) + 2, withPad: " ", startingAt: 0) }
                .joined()
        }.joined(separator: "\n") + "\n"
    }
}
