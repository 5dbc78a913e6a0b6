import Foundation
import ProofsFFI
import Scheduler
import Synchronization

/// What the daemon needs to run the box's Crynux node (from `[crynux]` and the crynux
/// `[[sealing_thread]]`).
public struct CrynuxOptions: Sendable {
    public var section: CrynuxSection
    /// The thread's index in `worker list` (after the sealing threads).
    public var index: Int
    /// The thread's directory (persisted row, result files).
    public var location: String
    /// GPU index -> UUID, for `CUDA_VISIBLE_DEVICES`.
    public var gpuUUIDs: [Int: String] = [:]
    /// GPU index -> model name (discovery), for the reported GPU identity (spec 3.3).
    public var gpuNames: [Int: String] = [:]
    public init(section: CrynuxSection, index: Int, location: String) {
        self.section = section
        self.index = index
        self.location = location
    }
}

/// The daemon's Crynux node: the embedded relay mock when `relay_url = "embedded"`, the crynux
/// thread, and the node API (`/manager/v1/node`, spec 5.2) and `worker list` entries.
public final class CrynuxNode: Sendable {
    public let options: CrynuxOptions
    let log: Log
    let broker: ResourceBroker?
    let metrics: SealingMetrics?
    let state = Mutex(State())
    struct State {
        var thread: CrynuxThread?
        var tasks: [Task<Void, Never>] = []
        var relayServer: HTTPServer?
        var relay: RelayMock?
    }

    public init(options: CrynuxOptions, broker: ResourceBroker?, log: Log, metrics: SealingMetrics? = nil) {
        self.options = options
        self.broker = broker
        self.metrics = metrics
        self.log = log
    }

    /// The thread, once started.
    public var thread: CrynuxThread? { state.withLock { $0.thread } }
    /// The embedded relay, if any.
    public var relay: RelayMock? { state.withLock { $0.relay } }

    /// Reads the key, starts the embedded relay if asked, and starts the thread.
    public func start() async throws(DaemonError) {
        let section = options.section
        guard let keyFile = section.nodeKeyFile else { throw DaemonError("[crynux] node_key_file: missing") }
        guard let keyData = FileManager.default.contents(atPath: keyFile) else { throw DaemonError("[crynux] node_key_file: cannot read \(keyFile)") }
        let keyText = String(decoding: keyData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let key: Secp256k1PrivateKey
        do { key = try Secp256k1PrivateKey(hex: keyText) } catch {
            throw DaemonError("[crynux] node_key_file \(keyFile): not a secp256k1 private key in hex (\(error))")
        }
        let endpoint: HTTPEndpoint
        switch section.relay {
        case let .url(url):
            guard let e = HTTPEndpoint(url: url) else { throw DaemonError("[crynux] relay_url: invalid URL \(url)") }
            endpoint = e
        case .embedded:
            let mock = RelayMock(settings: section.mock, distanceThreshold: section.distanceThreshold, log: log)
            let server = HTTPServer(host: "127.0.0.1", port: 0) { request in await mock.handle(request) }
            let port: UInt16
            do { port = try server.start() } catch { throw DaemonError("[crynux] embedded relay: \(error)") }
            let loop = Task { await mock.runLoops() }
            state.withLock { $0.relay = mock; $0.relayServer = server; $0.tasks.append(loop) }
            endpoint = HTTPEndpoint(host: "127.0.0.1", port: port)
            log.info("embedded Crynux relay mock listening on 127.0.0.1:\(port) (\(section.mock.mode) flow)")
        }
        let hold = ProcessInfo.processInfo.environment["SEALER_CRYNUX_HOLD_BEFORE_SUBMIT"].flatMap(Int.init).map { Duration.seconds($0) }
        let executor = section.executor.map { InferenceExecutor(bin: $0, args: section.executorArgs) } ?? InferenceExecutor.mock()
        if section.executor == nil, case .embedded = section.relay { seedMockBaseModels(section) }
        let thread = CrynuxThread(index: options.index, location: options.location, client: RelayClient(endpoint: endpoint, signer: RelaySigner(key: key)),
                                  executor: executor, broker: broker, gpuUUIDs: options.gpuUUIDs, settings: section, log: log, holdBeforeSubmit: hold,
                                  gpuNames: options.gpuNames, metrics: metrics)
        let run = Task { await thread.run() }
        state.withLock { $0.thread = thread; $0.tasks.append(run) }
        log.info("crynux thread started", [("thread", "\(options.index)"), ("node", thread.address.description), ("relay", "\(endpoint)")])
    }

    /// The demo pairing (embedded relay + mock executor): the mock tasks' base models are placed
    /// in `model_dir` as the mock executor's placeholders, so the base-model gate lets tasks
    /// through. A real executor's base models are the operator's to download.
    func seedMockBaseModels(_ section: CrynuxSection) {
        let store = CrynuxModelStore(dir: section.modelDir ?? options.location + "/models")
        let onDisk = store.onDisk()
        for text in section.mock.modelIDs {
            guard let id = try? CrynuxModelID(parsing: text), id.kind == .base, !onDisk.contains(id) else { continue }
            do {
                try store.install(id, contents: Array("mock model \(id)\n".utf8))
                log.info("mock executor: base model placed", [("thread", "\(options.index)"), ("model", id.description), ("dir", store.dir)])
            } catch {
                log.warn("mock executor: \(error); tasks naming it stay queued", [("thread", "\(options.index)")])
            }
        }
    }

    /// Cancels the thread and the relay loops, closes the relay server.
    public func stop() async {
        let (tasks, server) = state.withLock { s in (s.tasks, s.relayServer) }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        await server?.shutdown()
    }

    /// Serves `GET|POST /manager/v1/node` (spec 5.2); nil for other paths.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse? {
        guard request.path == "/manager/v1/node" else { return nil }
        guard let thread else { return .json(503, ["message": "crynux node not started"]) }
        switch request.method {
        case "GET":
            let info = await thread.info()
            return .json(200, Self.json(info))
        case "POST":
            guard let body = try? JSONValue.parse(request.body), let action = body["action"]?.stringValue else {
                return .json(400, ["message": "body must be {\"action\": \"start\" | \"stop\" | \"pause\" | \"resume\"}"])
            }
            guard ["start", "stop", "pause", "resume"].contains(action) else { return .json(400, ["message": .string("unknown action \"\(action)\"")]) }
            // Returns at once; the relay call runs in the background (as the Crynux node does).
            let log = self.log
            Task {
                do { try await thread.control(action) } catch { log.warn("node \(action) failed: \(error)") }
            }
            return .json(200, ["message": "success"])
        default:
            return .json(405, ["message": "GET or POST"])
        }
    }

    /// The node's display status (spec 2.8) from the relay's node status.
    static func displayStatus(_ relay: String?) -> String {
        switch relay {
        case "Available"?, "Busy"?: "running"
        case "Paused"?: "paused"
        case "PendingPause"?: "pending_pause"
        case "PendingQuit"?: "pending_stop"
        case "Quit"?: "stopped"
        default: "initializing"
        }
    }

    static func json(_ info: CrynuxThreadInfo) -> JSONValue {
        ["status": .string(displayStatus(info.nodeStatus)), "index": .int(Int64(info.index)), "node": .string(info.node), "task_id": info.taskID.map(JSONValue.string) ?? .null,
         "relay_status": info.relayStatus.map(JSONValue.string) ?? .null, "local_action": .string(info.localAction),
         "node_status": info.nodeStatus.map(JSONValue.string) ?? .null, "executions": .int(Int64(info.executions)),
         "last_error": info.lastError.map(JSONValue.string) ?? .null]
    }

    /// JSON-RPC additions: `Crynux.List`, and pause/resume of the crynux thread's index routed
    /// to the relay (pause while Busy = PendingPause); other indices go to `fallback`.
    public func methods(wrapping fallback: [String: JSONRPCServer.Method]) -> [String: JSONRPCServer.Method] {
        var out = fallback
        let node = self
        let list: JSONRPCServer.Method = { params async throws(JSONRPCError) -> JSONValue in try await node.list(params) }
        out["Crynux.List"] = list
        if let pause = fallback["VenusWorker.WorkerPause"] {
            let wrapped: JSONRPCServer.Method = { params async throws(JSONRPCError) -> JSONValue in try await node.control("pause", params, pause) }
            out["VenusWorker.WorkerPause"] = wrapped
        }
        if let resume = fallback["VenusWorker.WorkerResume"] {
            let wrapped: JSONRPCServer.Method = { params async throws(JSONRPCError) -> JSONValue in try await node.control("resume", params, resume) }
            out["VenusWorker.WorkerResume"] = wrapped
        }
        return out
    }

    func list(_ params: [JSONValue]) async throws(JSONRPCError) -> JSONValue {
        guard let thread else { return .array([]) }
        let info = await thread.info()
        return .array([CrynuxNode.json(info)])
    }

    func control(_ action: String, _ params: [JSONValue], _ fallback: JSONRPCServer.Method) async throws(JSONRPCError) -> JSONValue {
        guard params.first?.intValue == Int64(options.index), let thread else { return try await fallback(params) }
        do { try await thread.control(action) } catch {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "crynux \(action): \(error)", data: nil)
        }
        return .bool(true)
    }
}
