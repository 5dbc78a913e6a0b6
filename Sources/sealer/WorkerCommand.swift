import Actors
import Foundation
import Scheduler

/// `sealer worker [-c CFG | -H HOST:PORT] list [--json] | pause -i N | resume -i N [-s STATE]
/// | drain (-i N | --all) [--exit] | enable-dump --child-pid PID --dump-dir DIR | disable-dump --child-pid PID`:
/// damocles-worker's management client, talking to a running daemon.
enum WorkerCommand {
    static let spec = OptionSpec(command: "sealer worker", options: [
        .init(["--config", "-c"], value: true, help: "daemon config file; its [worker] rpc_server is used"),
        .init(["--host", "-H"], value: true, help: "daemon address HOST:PORT (default 127.0.0.1:17890)"),
        .init(["--token"], value: true, help: "bearer token (default: $SEALER_RPC_TOKEN, else [worker] rpc_server.token)"),
        .init(["--json"], value: false, help: "list: print the WorkerInfo array as JSON"),
        .init(["--index", "-i"], value: true, help: "pause/resume: thread index from 'list'"),
        .init(["--state", "-s"], value: true, help: "resume: continue from this state of the thread's plan"),
        .init(["--all"], value: false, help: "drain: every thread"),
        .init(["--exit"], value: false, help: "drain: stop the daemon (status 0) once every thread is drained"),
        .init(["--child-pid", "--child_pid"], value: true, help: "enable-dump/disable-dump: pid of the processor child"),
        .init(["--dump-dir", "--dump_dir"], value: true, help: "enable-dump: existing directory for the dump files"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 1)

    static let usage = """
    usage: sealer worker [-c CFG | -H HOST:PORT] list [--json]
           sealer worker [-c CFG | -H HOST:PORT] pause -i N
           sealer worker [-c CFG | -H HOST:PORT] resume -i N [-s STATE]
           sealer worker [-c CFG | -H HOST:PORT] drain (-i N | --all) [--exit]
           sealer worker [-c CFG | -H HOST:PORT] enable-dump --child-pid PID --dump-dir DIR
           sealer worker [-c CFG | -H HOST:PORT] disable-dump --child-pid PID

    the daemon: -c, else -H, else $SEALER_CONFIG, $SEALER_WORKER_HOST, else damocles-worker's
    $DAMOCLES_WORKER_CONFIG, $DAMOCLES_WORKER_HOST, else 127.0.0.1:17890
    """

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch {
            return usageFailure(error, usage: usage)
        }
        if parsed.has("--help") {
            print(usage + "\n\n" + spec.help)
            return 0
        }
        if parsed.positionals.isEmpty { return usageFailure("missing worker subcommand (list, pause, resume)", usage: usage) }
        let target: (host: String, port: UInt16, token: String?)
        do { target = try resolveTarget(parsed) } catch let error as UsageError { return usageFailure(error) } catch { return fail("\(error)") }
        let client = JSONRPCClient(
            endpoint: HTTPEndpoint(host: target.host, port: target.port, path: "/"),
            headers: target.token.map { [("Authorization", "Bearer \($0)")] } ?? [], timeout: .seconds(10))
        let where_ = "\(target.host):\(target.port)"
        do {
            switch parsed.positionals[0] {
            case "list":
                let result = try await client.call("VenusWorker.WorkerList", [])
                if parsed.has("--json") {
                    print(String(decoding: result.serialized(), as: UTF8.self))
                } else {
                    let infos = try result.decode([WorkerInfo].self)
                    print(WorkerTable.render(infos), terminator: "")
                    // Crynux threads (issue 10): task id, relay status, local action.
                    if let rows = (try? await client.call("Crynux.List", []))?.arrayValue {
                        for row in rows {
                            let text: (String) -> String = { row[$0]?.stringValue ?? "-" }
                            print("#\(row["index"]?.intValue ?? -1) crynux node \(text("node")) [\(text("node_status"))] task \(text("task_id")) relay \(text("relay_status")) action \(text("local_action"))"
                                  + (row["last_error"]?.stringValue.map { " error: \($0)" } ?? ""))
                        }
                    }
                }
            case "pause":
                guard let index = try parsed.int("--index") else { return usageFailure("pause needs -i N", usage: usage) }
                let ok = try await client.call("VenusWorker.WorkerPause", [.int(Int64(index))])
                print(ok.boolValue == true ? "thread #\(index) will pause at its next checkpoint" : "thread #\(index) is already paused (or pausing)")
            case "resume":
                guard let index = try parsed.int("--index") else { return usageFailure("resume needs -i N", usage: usage) }
                let state: JSONValue = parsed.value("--state").map { .string($0) } ?? .null
                _ = try await client.call("VenusWorker.WorkerResume", [.int(Int64(index)), state])
                print("thread #\(index) resumed" + (parsed.value("--state").map { " from state \($0)" } ?? ""))
            case "drain":
                // Finishes the current sector, takes no new one; `resume` undoes it.
                let index = try parsed.int("--index")
                guard (index == nil) != !parsed.has("--all") else { return usageFailure("drain needs -i N or --all (not both)", usage: usage) }
                let exit = parsed.has("--exit")
                let ok = try await client.call("VenusWorker.WorkerDrain", [.int(Int64(index ?? -1)), .bool(exit)])
                let who = index.map { "thread #\($0)" } ?? "every thread"
                print(ok.boolValue == true ? "\(who) finishes its sector and takes no new one" + (exit ? "; the daemon stops once all are drained" : "")
                                           : "\(who): already draining or drained")
            case "enable-dump", "enable_dump":
                // damocles' semantics: the daemon writes each response line it cannot use from
                // that child to DIR, keyed by DUMP_ERR_RESP_<pid> in the children's environment.
                guard let pid = try childPID(parsed) else { return usageFailure("enable-dump needs --child-pid PID", usage: usage) }
                guard let dir = parsed.value("--dump-dir") else { return usageFailure("enable-dump needs --dump-dir DIR", usage: usage) }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue,
                      let absolute = realpath(dir, nil) else {
                    return fail("'\(dir)' is not a directory")
                }
                let canonical = String(cString: absolute)
                free(absolute)
                _ = try await client.call("VenusWorker.WorkerSetEnv", [.string(ExternalProcessor.dumpVariable(pid: pid)), .string(canonical)])
                print("processor child \(pid): unusable responses are dumped to \(canonical)")
            case "disable-dump", "disable_dump":
                guard let pid = try childPID(parsed) else { return usageFailure("disable-dump needs --child-pid PID", usage: usage) }
                _ = try await client.call("VenusWorker.WorkerRemoveEnv", [.string(ExternalProcessor.dumpVariable(pid: pid))])
                print("processor child \(pid): dumping off")
            case let other:
                return usageFailure("unknown worker subcommand '\(other)'", usage: usage)
            }
        } catch let error as JSONRPCClientError {
            if case let .rpc(_, rpc) = error { return fail("daemon at \(where_): \(rpc.message)") }
            return fail("cannot reach the daemon at \(where_): \(error)")
        } catch let error as UsageError {
            return usageFailure(error)
        } catch {
            return fail("\(error)")
        }
        return 0
    }

    /// `--child-pid` as a pid; nil when absent.
    static func childPID(_ parsed: ParsedOptions) throws(UsageError) -> Int32? {
        guard let text = parsed.value("--child-pid") else { return nil }
        guard let pid = Int32(text), pid > 0 else { throw UsageError("--child-pid expects a process id, got '\(text)'") }
        return pid
    }

    /// The daemon to talk to (`ManagementTarget.choose`: flags, then ours, then damocles'
    /// variables) and the token (`--token`, `$SEALER_RPC_TOKEN`, the config's).
    static func resolveTarget(_ parsed: ParsedOptions) throws -> (host: String, port: UInt16, token: String?) {
        let env = ProcessInfo.processInfo.environment
        let token = parsed.setting("--token", orEnvironment: EnvironmentVariables.rpcToken, env)?.value
        switch ManagementTarget.choose(config: parsed.value("--config"), host: parsed.value("--host"), environment: env) {
        case let .config(path):
            let rpc = try ConfigBridge.managementAddress(config: path)
            return (rpc.host == "0.0.0.0" ? "127.0.0.1" : rpc.host, rpc.port, token ?? rpc.token)
        case let .host(address):
            let (host, port) = try ManagementTarget.hostPort(address)
            return (host, port, token)
        }
    }
}

/// damocles' `worker list` table: `# location Plan JobID JobState JobStage ThreadState LastErr`.
enum WorkerTable {
    static func render(_ infos: [WorkerInfo]) -> String {
        var rows = [["#", "location", "Plan", "JobID", "JobState", "JobStage", "ThreadState", "LastErr"]]
        for info in infos {
            rows.append([
                "\(info.index)", info.location, info.plan, info.job_id ?? "-", info.job_state, info.job_stage ?? "-",
                threadState(info.thread_state), info.last_error.map(debugQuoted) ?? "-",
            ])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() where i < row.count - 1 { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func threadState(_ s: WorkerInfo.ThreadState) -> String {
        var text = s.state
        if let elapsed = s.elapsed { text += "(\(humanSeconds(elapsed)))" }
        if let proc = s.proc { text += " \(proc)" }
        if let waiting = s.waiting_for { text += " for \(waiting)" }
        return text
    }

    static func humanSeconds(_ total: UInt64) -> String {
        if total == 0 { return "0s" }
        var parts: [String] = []
        let units: [(UInt64, String)] = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        var rest = total
        for (size, name) in units where rest >= size {
            parts.append("\(rest / size)\(name)")
            rest %= size
        }
        return parts.joined(separator: " ")
    }

    static func debugQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}

func fail(_ message: String) -> Int32 {
    FileHandle.standardError.write(Data(("sealer: " + message + "\n").utf8))
    return 1
}
