import Actors
import Dispatch
import Foundation
import Scheduler
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `sealer top [-c CFG | -H HOST:PORT]`: a live view of a running daemon, redrawn every second
/// (pools, threads, last transitions; `q` quits); with stdout not a terminal, the same as a
/// plain table printed once. The drawing is `TopFrame` (pure); this is the terminal around it.
enum TopCommand {
    static let spec = OptionSpec(command: "sealer top", options: [
        .init(["--config", "-c"], value: true, help: "daemon config file; its [worker] rpc_server is used"),
        .init(["--host", "-H"], value: true, help: "daemon address HOST:PORT (default 127.0.0.1:17890)"),
        .init(["--token"], value: true, help: "bearer token (default: $SEALER_RPC_TOKEN, else [worker] rpc_server.token)"),
        .init(["--once"], value: false, help: "print the plain table once and exit, also on a terminal"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static let usage = """
    usage: sealer top [-c CFG | -H HOST:PORT] [--once]

    a live view of the daemon, redrawn every second: q quits. With stdout not a terminal (a pipe,
    a file) or --once, prints the view once as a plain table. The daemon: as 'sealer worker'.
    """

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error, usage: usage) }
        if parsed.has("--help") {
            print(usage + "\n\n" + spec.help)
            return CommandExit.success
        }
        let target: (host: String, port: UInt16, token: String?)
        do { target = try WorkerCommand.resolveTarget(parsed) } catch let error as UsageError { return usageFailure(error) } catch { return fail("\(error)") }
        let source = "\(target.host):\(target.port)"
        let client = JSONRPCClient(
            endpoint: HTTPEndpoint(host: target.host, port: target.port, path: "/"),
            headers: target.token.map { [("Authorization", "Bearer \($0)")] } ?? [], timeout: .seconds(5))

        let first: TopSnapshot
        do { first = try await fetch(client, source: source) } catch { return fail(error.message) }
        guard isatty(1) == 1, !parsed.has("--once") else {
            print(TopFrame.table(first), terminator: "")
            return CommandExit.success
        }
        return await live(client, source: source, first: first)
    }

    /// A failure to read the daemon, worded for the operator (it names the address).
    struct FetchError: Error {
        var message: String
    }

    /// One snapshot: the threads (`VenusWorker.WorkerList`), then pools and transitions
    /// (`VenusWorker.WorkerActivity`; a daemon without it shows no pools).
    static func fetch(_ client: JSONRPCClient, source: String) async throws(FetchError) -> TopSnapshot {
        let infos: [WorkerInfo]
        do {
            infos = try await client.call("VenusWorker.WorkerList", []).decode([WorkerInfo].self)
        } catch let error as JSONRPCClientError {
            if case let .rpc(_, rpc) = error { throw FetchError(message: "daemon at \(source): \(rpc.message)") }
            throw FetchError(message: "cannot reach the daemon at \(source): \(error)")
        } catch {
            throw FetchError(message: "daemon at \(source) answered VenusWorker.WorkerList with something else: \(error)")
        }
        var activity = WorkerActivity(pools: nil, transitions: [])
        do {
            activity = try await client.call("VenusWorker.WorkerActivity", []).decode(WorkerActivity.self)
        } catch let error as JSONRPCClientError where error.rpcError?.code == JSONRPCError.methodNotFound.code {
            // An older daemon: threads only.
        } catch {
            throw FetchError(message: "daemon at \(source): VenusWorker.WorkerActivity: \(error)")
        }
        var threads = infos.map { info in
            TopSnapshot.Thread(index: info.index, plan: info.plan, sector: info.job_id, state: info.thread_state.state,
                               elapsed: info.thread_state.elapsed, jobState: info.job_state, proc: info.thread_state.proc,
                               waitingFor: info.thread_state.waiting_for, lastError: info.last_error)
        }
        // A Crynux node's thread (issue 10) answers `Crynux.List`; a daemon without one has no such method.
        if let rows = (try? await client.call("Crynux.List", []))?.arrayValue {
            for row in rows {
                guard let index = row["index"]?.intValue else { continue }
                threads.append(TopSnapshot.crynuxThread(index: Int(index), taskID: row["task_id"]?.stringValue,
                                                        relayStatus: row["relay_status"]?.stringValue,
                                                        nodeStatus: row["node_status"]?.stringValue,
                                                        localAction: row["local_action"]?.stringValue ?? "-",
                                                        lastError: row["last_error"]?.stringValue))
            }
        }
        return TopSnapshot(source: source, time: Date().timeIntervalSince1970, threads: threads, pools: activity.pools,
                           transitions: activity.transitions)
    }

    /// What wakes the live loop.
    enum Event: Sendable {
        case tick, resize
    }

    /// Redraws every second (and on a resize) until `q`, SIGINT or SIGTERM, which restore the
    /// terminal and exit at once (also while a call to the daemon is still out). A daemon that
    /// stops answering is said on the first line while the last view stays.
    static func live(_ client: JSONRPCClient, source: String, first: TopSnapshot) async -> Int32 {
        let terminal = TerminalSession()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(2))
        // Handlers first, so no SIGINT/SIGTERM can leave the terminal changed.
        let signals = [SIGINT, SIGTERM, SIGWINCH].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGWINCH { continuation.yield(.resize) } else { terminal.finish(CommandExit.success) }
            }
            source.resume()
            return source
        }
        terminal.enter()
        let keys = KeyReader(terminal.hasInput) { terminal.finish(CommandExit.success) }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield(.tick)
            }
        }
        var snapshot = first
        var problem: String?
        draw(snapshot, problem: problem)
        for await event in events {
            if case .tick = event {
                do {
                    snapshot = try await fetch(client, source: source)
                    problem = nil
                } catch {
                    problem = error.message
                }
            }
            draw(snapshot, problem: problem)
        }
        // The stream never finishes (quitting exits from `finish`); this also keeps the key reader
        // and the signal sources alive for as long as the loop runs.
        ticker.cancel()
        keys.stop()
        for source in signals { source.cancel() }
        terminal.finish(CommandExit.success)
    }

    static func draw(_ snapshot: TopSnapshot, problem: String?) {
        let (width, height) = TerminalSession.size()
        var lines: [TopFrame.Line] = []
        if let problem { lines.append(TopFrame.Line(TopFrame.clip(TopFrame.sanitize("retrying: " + problem), width), heading: true)) }
        lines += TopFrame.render(snapshot, width: width, height: max(0, height - lines.count))
        TerminalSession.write(TopFrame.screen(lines))
    }
}

/// The terminal while `sealer top` runs: keys unbuffered and not echoed (termios), the
/// alternate screen, the cursor hidden; `finish(_:)` puts all of it back and exits, also from a
/// signal handler.
final class TerminalSession: Sendable {
    /// The settings before `enter()`; nil when stdin is no terminal (then no keys are read).
    private let saved = Mutex<termios?>(nil)

    /// True when stdin is a terminal whose keys `KeyReader` can read.
    var hasInput: Bool { saved.withLock { $0 != nil } }

    func enter() {
        var settings = termios()
        if isatty(0) == 1, tcgetattr(0, &settings) == 0 {
            saved.withLock { $0 = settings }
            var raw = settings
            // Keys one at a time, not echoed; ^C still raises SIGINT, which restores everything.
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            _ = tcsetattr(0, TCSANOW, &raw)
        }
        Self.write("\u{1B}[?1049h\u{1B}[?25l")
    }

    private let finished = Atomic<Bool>(false)

    /// Puts the terminal back (once, whoever calls first) and exits with `status`.
    func finish(_ status: Int32) -> Never {
        if finished.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            if var settings = saved.withLock({ $0 }) { _ = tcsetattr(0, TCSANOW, &settings) }
            Self.write("\u{1B}[?25h\u{1B}[?1049l")
            exit(status)
        }
        // Another thread is restoring the terminal and exits the process; wait for it.
        while true { pause() }
    }

    /// Columns and rows from TIOCGWINSZ, else `$COLUMNS`/`$LINES`, else 80x24.
    static func size() -> (width: Int, height: Int) {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return (Int(size.ws_col), size.ws_row > 0 ? Int(size.ws_row) : 24)
        }
        let env = ProcessInfo.processInfo.environment
        return (env["COLUMNS"].flatMap(Int.init).map { max(0, $0) } ?? 80, env["LINES"].flatMap(Int.init).map { max(0, $0) } ?? 24)
    }

    /// Writes `text` to stdout at once (no buffering between frames).
    static func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// Reads keys from stdin on its own thread (poll with a short timeout, so `stop()` ends it)
/// and calls `quit` on `q`, `Q` or end of input.
final class KeyReader: Sendable {
    private let stopped = Atomic<Bool>(false)

    init(_ enabled: Bool, quit: @escaping @Sendable () -> Void) {
        guard enabled else { return }
        Thread.start(named: "top-keys") { [self] in
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            var byte: UInt8 = 0
            while !stopped.load(ordering: .relaxed) {
                guard poll(&descriptor, 1, 200) > 0 else { continue }
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) || byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") {
                    quit()
                    return
                }
            }
        }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
}
