import Foundation
import ProofsFFI
import Scheduler

/// A Crynux relay's node-facing API (spec crynux.md 5.3) in memory, plus the application side it
/// plays: signature checks with the 60 s window, dispatch by GPU requirement, per-status
/// deadlines (1.5) on an injectable clock, VSS groups of three decided by the 1.3 table with
/// virtual peers, upload re-hashing with `CrynuxScore`, failure knobs, and the legacy flow.
public actor RelayMock {
    /// How the two virtual peers of a VSS group behave.
    public enum Peer: Sendable, Hashable { case agree, differ, error, aborted }

    struct Node {
        var address: EthereumAddress
        var status: CrynuxNodeStatus = .available
        var gpuName: String
        var vram: Int
        /// Model ids the node reported on disk at its last join.
        var models: Set<String> = []
        var current: String?
    }
    struct TaskEntry {
        var record: RelayTaskRecord
        var created: Double
        var start: Double?
        var scoreReady: Double?
        var validated: Double?
        var abortReason: CrynuxAbortReason = .none
        var node: EthereumAddress?
        var grouped: Bool
        var uploads = 0
    }

    public let settings: CrynuxMockSettings
    public let distanceThreshold: Int
    let clock: @Sendable () -> Double
    var nodes: [EthereumAddress: Node] = [:]
    var tasks: [String: TaskEntry] = [:]
    var order: [String] = []
    var created = 0
    var rng: SplitMix64
    var log: Log
    /// Behaviour of the two virtual peers of grouped tasks.
    public var peers: [Peer] = [.agree, .agree]
    /// Every protocol event, for tests and the log: "task <id> Started -> ScoreReady".
    public private(set) var events: [String] = []
    /// Requests refused, with the reason (bad signature, expired timestamp, wrong files...).
    public private(set) var refusals: [String] = []

    public init(settings: CrynuxMockSettings, distanceThreshold: Int = 24, log: Log = Log(),
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.settings = settings
        self.distanceThreshold = distanceThreshold
        self.clock = clock
        self.rng = SplitMix64(seed: settings.seed)
        self.log = log.with("relay", "mock")
    }

    public func setPeers(_ peers: [Peer]) { self.peers = peers }
    /// Whether the mock app validates scored tasks (off: they wait for CreatorValidationTimeout).
    public private(set) var appValidates = true
    public func setAppValidates(_ on: Bool) { appValidates = on }

    /// Status of task `id`, for tests.
    public func status(_ id: String) -> CrynuxTaskStatus? { tasks[id]?.record.status }
    public func abortReason(_ id: String) -> CrynuxAbortReason? { tasks[id]?.abortReason }
    public func taskIDs() -> [String] { order }
    public func nodeStatus(_ address: EthereumAddress) -> CrynuxNodeStatus? { nodes[address]?.status }
    public func uploads(_ id: String) -> Int { tasks[id]?.uploads ?? 0 }

    func move(_ id: String, to status: CrynuxTaskStatus, reason: CrynuxAbortReason = .none) {
        guard var t = tasks[id] else { return }
        let from = t.record.status
        t.record.status = status
        if status == .endAborted { t.abortReason = reason }
        let now = clock()
        if status == .started { t.start = now; t.record.startUnix = now }
        if status == .scoreReady || status == .errorReported { t.scoreReady = now }
        if status == .validated || status == .groupValidated { t.validated = now }
        tasks[id] = t
        let line = "task \(id.prefix(10)) \(from) -> \(status)" + (reason == .none ? "" : " (\(reason))")
        events.append(line)
        log.info(line)
        if status == .endInvalidated, let a = t.node {
            // Slashed: the node quits; its pointer stays on the task until the results are
            // uploaded (the node's table uploads in EndInvalidated), then clears.
            nodes[a]?.status = .quit
            return
        }
        if status.isTerminal, let a = t.node, var n = nodes[a], n.current == id {
            n.current = nil
            switch n.status {
            case .busy: n.status = .available
            case .pendingPause: n.status = .paused
            case .pendingQuit: n.status = .quit
            default: break
            }
            nodes[a] = n
        }
    }

    // MARK: application side

    /// Creates a task (the mock app); it dispatches on the next `tick`.
    @discardableResult
    public func createTask(type: CrynuxTaskType? = nil, args: String? = nil, minVRAM: Int? = nil, requiredGPU: String = "",
                           requiredGPUVRAM: Int = 0, grouped: Bool? = nil, modelIDs: [String]? = nil) -> String {
        created += 1
        var idBytes = Keccak256.hash(Array("sealer-mock-task-\(settings.seed)-\(created)".utf8))
        idBytes = Array(idBytes.prefix(32))
        let id = Hex.prefixed(idBytes)
        let type = type ?? settings.taskType
        let taskArgs = args ?? "{\"outputs\":\(settings.outputs),\"prompt\":\"mock task \(created)\",\"seed\":\(created)}"
        let isGrouped = grouped ?? (Double(rng.next() % 1_000_000) / 1_000_000 < settings.groupRate)
        let record = RelayTaskRecord(id: id, status: .queued, taskType: type, taskArgs: taskArgs, timeout: UInt64(settings.executionTimeout.components.seconds),
                                     minVRAM: UInt64(minVRAM ?? settings.minVRAMGiB), requiredGPU: requiredGPU, requiredGPUVRAM: UInt64(requiredGPUVRAM),
                                     modelIDs: modelIDs ?? settings.modelIDs)
        tasks[id] = TaskEntry(record: record, created: clock(), grouped: isGrouped)
        order.append(id)
        events.append("task \(id.prefix(10)) created")
        log.info("task created", [("task", id), ("type", "\(type)"), ("grouped", "\(isGrouped)")])
        return id
    }

    /// Keeps a long-running mock's memory bounded: the newest 1000 events and refusals, and
    /// ended tasks beyond the newest 1000.
    func prune() {
        if events.count > 2000 { events.removeFirst(events.count - 1000) }
        if refusals.count > 2000 { refusals.removeFirst(refusals.count - 1000) }
        guard order.count > 2000 else { return }
        let pointed = Set(nodes.values.compactMap(\.current))
        let drop = Set(order.prefix(order.count - 1000).filter { tasks[$0]?.record.status.isTerminal == true && !pointed.contains($0) })
        for id in drop { tasks[id] = nil }
        order.removeAll { drop.contains($0) }
    }

    /// One pass of the relay's loops: app task creation, dispatch, legacy parameter upload,
    /// app validation, deadlines.
    public func tick() {
        prune()
        let now = clock()
        for id in order {
            guard let t = tasks[id] else { continue }
            switch t.record.status {
            case .queued:
                if now > t.created + seconds(settings.queueTimeout) { move(id, to: .endAborted, reason: .timeout) } else { dispatch(id) }
            case .started where settings.mode == .legacy:
                move(id, to: .parametersUploaded) // the app uploads parameters on TaskStarted
            case .started, .parametersUploaded:
                if settings.mode == .relay, let s = t.start, now > s + Double(t.record.timeout) { move(id, to: .endAborted, reason: .timeout) }
            case .scoreReady, .errorReported:
                if let s = t.scoreReady, now > s + seconds(settings.validationTimeout) {
                    move(id, to: .endAborted, reason: .creatorValidationTimeout)
                } else if appValidates {
                    validate(id)
                }
            case .validated, .groupValidated:
                if let v = t.validated, now > v + seconds(settings.uploadTimeout) { move(id, to: .endAborted, reason: .resultUploadTimeout) }
            default: break
            }
        }
    }

    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// Matches a queued task (spec 3.2): hard filters (available, exact GPU name and VRAM when
    /// `required_gpu` is set, else VRAM >= `min_vram`), then the base-model gate (the node reported
    /// the task's `base:` model on disk; none: the task stays queued). The first node by address wins.
    func dispatch(_ id: String) {
        guard let t = tasks[id] else { return }
        let r = t.record
        let base = r.modelIDs.first { $0.hasPrefix("base:") }
        let candidates = nodes.values.filter { n in
            guard n.status == .available, n.current == nil else { return false }
            let fits = r.requiredGPU.isEmpty ? UInt64(n.vram) >= r.minVRAM : (n.gpuName == r.requiredGPU && UInt64(n.vram) == r.requiredGPUVRAM)
            return fits && (base.map(n.models.contains) ?? true)
        }.sorted { $0.address.bytes.lexicographicallyPrecedes($1.address.bytes) }
        guard let node = candidates.first else { return }
        tasks[id]?.node = node.address
        tasks[id]?.record.selectedNode = node.address.description
        nodes[node.address]?.current = id
        nodes[node.address]?.status = .busy
        move(id, to: .started)
    }

    func validate(_ id: String) {
        guard let t = tasks[id] else { return }
        guard t.grouped else {
            if t.record.status == .scoreReady { move(id, to: .validated) } else { move(id, to: .endAborted, reason: .errorReported) }
            return
        }
        let mine: CrynuxGroupMember = t.record.status == .scoreReady ? .score(Hex.decode(unprefixed: String(t.record.score.dropFirst(2))) ?? []) : .error
        var members = [mine]
        for p in peers.prefix(2) {
            switch (p, mine) {
            case (.agree, _): members.append(mine)
            case (.differ, .score(let s)): members.append(.score(s.map { ~$0 }))
            case (.differ, _): members.append(.score([UInt8](repeating: 0x55, count: 8)))
            case (.error, _): members.append(.error)
            case (.aborted, _): members.append(.aborted)
            }
        }
        let type = t.record.taskType
        let threshold = distanceThreshold
        let results = CrynuxGroupValidation.outcome(members) { a, b in
            CrynuxGroupValidation.scoresMatch(a, b, type: type, distanceThreshold: threshold)
        }
        events.append("task \(id.prefix(10)) group \(results.map(\.description).joined(separator: ","))")
        move(id, to: results[0].status, reason: results[0].abortReason)
    }

    // MARK: node-facing API

    func checkSignature(_ input: [String: JSONValue], _ timestamp: Int64?, _ signature: String?) -> Result<EthereumAddress, RelaySignatureError> {
        guard let timestamp, let signature else { return .failure(.malformed) }
        let skew = Int64(clock()) - timestamp
        if abs(skew) > 60 { return .failure(.expired(skew: skew)) }
        return RelaySigner.recover(input, timestamp: timestamp, signature: signature)
    }

    static func ok(_ data: JSONValue = .null) -> HTTPResponse { .json(200, ["message": "success", "data": data]) }
    static func invalid(_ field: String, _ message: String) -> HTTPResponse {
        .json(400, ["message": "validation_error", "data": ["field_name": .string(field), "message": .string(message)]])
    }

    func refuse(_ what: String, _ field: String, _ message: String) -> HTTPResponse {
        refusals.append("\(what): \(message)")
        log.warn("refused \(what): \(message)")
        return Self.invalid(field, message)
    }

    /// Serves one request of the node-facing API.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        tick()
        if settings.errorRate > 0, Double(rng.next() % 1_000_000) / 1_000_000 < settings.errorRate {
            return .json(500, ["message": "internal_error"])
        }
        let (path, query) = Self.split(request.target)
        let parts = path.split(separator: "/").map(String.init)
        let body = (try? JSONValue.parse(request.body)) ?? .object([:])
        func sigFields() -> (Int64?, String?) {
            (query["timestamp"].flatMap { Int64($0) } ?? body["timestamp"]?.intValue, query["signature"] ?? body["signature"]?.stringValue)
        }
        switch (request.method, Route(parts)) {
        case ("GET", .now):
            return Self.ok(["now": .int(Int64(clock()))])
        case let ("GET", .nodeTask(addr)):
            guard let a = try? EthereumAddress(hex: addr), let n = nodes[a] else { return Self.ok(.string(RelayClient.zeroTask)) }
            return Self.ok(.string(n.current ?? RelayClient.zeroTask))
        case let ("POST", .join(addr)):
            let input = body.objectValue?.filter { $0.key != "timestamp" && $0.key != "signature" } ?? [:]
            let (t, s) = sigFields()
            guard case let .success(signer) = checkSignature(input, t, s), let a = try? EthereumAddress(hex: addr), signer == a else {
                return refuse("join \(addr)", "signature", "Invalid signature")
            }
            let name = body["gpu_name"]?.stringValue ?? ""
            let vram = Int(body["gpu_vram"]?.intValue ?? 0)
            let models = Set(body["model_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            if var n = nodes[a] { n.gpuName = name; n.vram = vram; n.models = models; if n.status == .quit { n.status = .available }; nodes[a] = n } else {
                nodes[a] = Node(address: a, gpuName: name, vram: vram, models: models)
            }
            log.info("node joined", [("node", a.description), ("gpu", name), ("vram", "\(vram)"), ("models", models.sorted().joined(separator: ","))])
            return Self.ok()
        case let ("GET", .node(addr)):
            let (t, s) = sigFields()
            guard case .success = checkSignature(["address": .string(addr)], t, s) else { return refuse("node info", "signature", "Invalid signature") }
            guard let a = try? EthereumAddress(hex: addr), let n = nodes[a] else { return Self.invalid("address", "Node not found") }
            return Self.ok(["address": .string(a.description), "status": .int(Int64(n.status.rawValue)), "gpu_name": .string(n.gpuName), "gpu_vram": .int(Int64(n.vram))])
        case let ("POST", .nodeControl(addr, verb)):
            let (t, s) = sigFields()
            guard case let .success(signer) = checkSignature(["address": .string(addr)], t, s), let a = try? EthereumAddress(hex: addr), signer == a else {
                return refuse("\(verb) \(addr)", "signature", "Invalid signature")
            }
            guard var n = nodes[a] else { return Self.invalid("address", "Node not found") }
            switch (verb, n.status) {
            case ("pause", .available): n.status = .paused
            case ("pause", .busy): n.status = .pendingPause
            case ("resume", .paused): n.status = .available
            case ("resume", .pendingPause): n.status = .busy
            case ("quit", .available), ("quit", .paused): n.status = .quit
            case ("quit", .busy): n.status = .pendingQuit
            default: return Self.invalid("address", "Illegal node status")
            }
            nodes[a] = n
            log.info("node \(verb)", [("node", a.description), ("status", "\(n.status)")])
            return Self.ok()
        case let ("GET", .task(id)):
            let (t, s) = sigFields()
            let signer: EthereumAddress
            switch checkSignature(["task_id_commitment": .string(id)], t, s) {
            case let .success(a): signer = a
            case let .failure(e): return refuse("get task \(id.prefix(10))", "signature", "Invalid signature (\(e))")
            }
            guard let task = tasks[id] else { return Self.invalid("task_id_commitment", "Task not found") }
            guard task.node == signer else { return refuse("get task \(id.prefix(10))", "signature", "Signer not allowed") }
            return Self.ok(task.record.json)
        case let ("POST", .taskAction(id, "score")):
            let score = body["score"]?.stringValue ?? ""
            let (t, s) = sigFields()
            let signer: EthereumAddress
            switch checkSignature(["task_id_commitment": .string(id), "score": .string(score)], t, s) {
            case let .success(a): signer = a
            case let .failure(e): return refuse("score \(id.prefix(10))", "signature", "Invalid signature (\(e))")
            }
            guard let task = tasks[id] else { return Self.invalid("task_id_commitment", "Task not found") }
            guard task.record.status == CrynuxTransitionTable.executionStatus(settings.mode) else { return refuse("score \(id.prefix(10))", "task_id_commitment", "Illegal task state") }
            guard task.node == signer else { return refuse("score \(id.prefix(10))", "signature", "Signer not allowed") }
            guard score.hasPrefix("0x"), let bytes = Hex.decode(unprefixed: String(score.dropFirst(2))), !bytes.isEmpty,
                  !task.record.taskType.isImage || bytes.count % 8 == 0 else { return refuse("score \(id.prefix(10))", "score", "invalid score") }
            guard nodes[signer]?.current == id else { return refuse("score \(id.prefix(10))", "task_id_commitment", "wrong node current task") }
            tasks[id]?.record.score = score
            move(id, to: .scoreReady)
            return Self.ok()
        case let ("POST", .taskAction(id, "task_error")):
            let code = body["task_error"]?.intValue ?? -1
            let (t, s) = sigFields()
            let signer: EthereumAddress
            switch checkSignature(["task_id_commitment": .string(id), "task_error": .int(code)], t, s) {
            case let .success(a): signer = a
            case let .failure(e): return refuse("task_error \(id.prefix(10))", "signature", "Invalid signature (\(e))")
            }
            guard let task = tasks[id] else { return Self.invalid("task_id_commitment", "Task not found") }
            guard task.record.status == CrynuxTransitionTable.executionStatus(settings.mode) else { return refuse("task_error \(id.prefix(10))", "task_id_commitment", "Illegal task state") }
            guard task.node == signer, nodes[signer]?.current == id else { return refuse("task_error \(id.prefix(10))", "signature", "Signer not allowed") }
            move(id, to: .errorReported)
            return Self.ok()
        case let ("POST", .taskAction(id, "abort_task")):
            let reason = body["abort_reason"]?.intValue ?? -1
            let (t, s) = sigFields()
            guard case let .success(signer) = checkSignature(["task_id_commitment": .string(id), "abort_reason": .int(reason)], t, s) else {
                return refuse("abort \(id.prefix(10))", "signature", "Invalid signature")
            }
            guard let task = tasks[id] else { return Self.invalid("task_id_commitment", "Task not found") }
            // Current relay: only the creator may cancel, only while Queued; the node never aborts.
            guard settings.mode == .legacy, task.node == signer, !task.record.status.isTerminal,
                  let start = task.start, clock() >= start + Double(task.record.timeout) else {
                return refuse("abort \(id.prefix(10))", "abort_reason", "Abort not allowed")
            }
            move(id, to: .endAborted, reason: .timeout)
            return Self.ok()
        case let ("POST", .taskAction(id, "results")):
            return upload(id, request)
        default:
            return .json(404, ["message": "not_found"])
        }
    }

    func upload(_ id: String, _ request: HTTPRequest) -> HTTPResponse {
        guard let ct = request.header("Content-Type"), let b = ct.range(of: "boundary=") else { return refuse("upload \(id.prefix(10))", "files", "Files is empty") }
        let boundary = String(ct[b.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard let parts = Multipart.decode(request.body, boundary: boundary) else { return refuse("upload \(id.prefix(10))", "files", "malformed multipart body") }
        let t = parts.first { $0.name == "timestamp" }.flatMap { Int64(String(decoding: $0.data, as: UTF8.self)) }
        let s = parts.first { $0.name == "signature" }.map { String(decoding: $0.data, as: UTF8.self) }
        let signer: EthereumAddress
        switch checkSignature(["task_id_commitment": .string(id)], t, s) {
        case let .success(a): signer = a
        case let .failure(e): return refuse("upload \(id.prefix(10))", "signature", "Invalid signature (\(e))")
        }
        guard let task = tasks[id] else { return Self.invalid("task_id_commitment", "Task not found") }
        guard task.node == signer else { return refuse("upload \(id.prefix(10))", "Signature", "Signer not allowed") }
        guard CrynuxTransitionTable.uploadStatuses.contains(task.record.status) else { return refuse("upload \(id.prefix(10))", "task_id_commitment", "Task not validated") }
        let files = parts.filter { $0.name == "files" }.map(\.data)
        guard !files.isEmpty else { return refuse("upload \(id.prefix(10))", "files", "Files is empty") }
        let rehashed: [UInt8]
        if task.record.taskType.isImage {
            do { rehashed = try CrynuxScore.stableDiffusion(pngFiles: files) } catch { return refuse("upload \(id.prefix(10))", "files", "not a PNG: \(error)") }
        } else {
            rehashed = CrynuxScore.llm(jsonFiles: files)
        }
        guard Hex.prefixed(rehashed) == task.record.score else { return refuse("upload \(id.prefix(10))", "files", "Wrong result files uploaded") }
        tasks[id]?.uploads += 1
        switch task.record.status {
        case .validated: move(id, to: .endSuccess)
        case .groupValidated: move(id, to: .endGroupSuccess)
        default:
            events.append("task \(id.prefix(10)) results uploaded in \(task.record.status)")
            if let a = task.node, nodes[a]?.current == id { nodes[a]?.current = nil }
        }
        return Self.ok()
    }

    enum Route: Equatable {
        case now, nodeTask(String), join(String), node(String), nodeControl(String, String), task(String), taskAction(String, String), other
        init(_ p: [String]) {
            switch p.count {
            case 2 where p == ["v1", "now"]: self = .now
            case 3 where p[0] == "v2" && p[1] == "node": self = .node(p[2])
            case 3 where p[0] == "v1" && p[1] == "inference_tasks": self = .task(p[2])
            case 4 where p[0] == "v1" && p[1] == "node" && p[3] == "task": self = .nodeTask(p[2])
            case 4 where p[0] == "v2" && p[1] == "node" && p[3] == "join": self = .join(p[2])
            case 4 where p[0] == "v1" && p[1] == "node" && ["pause", "resume", "quit"].contains(p[3]): self = .nodeControl(p[2], p[3])
            case 4 where p[0] == "v1" && p[1] == "inference_tasks": self = .taskAction(p[2], p[3])
            default: self = .other
            }
        }
    }

    static func split(_ target: String) -> (String, [String: String]) {
        guard let q = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { query[kv[0]] = kv[1].removingPercentEncoding ?? kv[1] }
        }
        return (String(target[..<q]), query)
    }

    /// Runs the app loop (task creation every `taskInterval`, up to `taskCount`) and the 2 s
    /// timeout processor until cancelled.
    public func runLoops() async {
        var lastCreate = -Double.infinity
        while !Task.isCancelled {
            let now = clock()
            let queued = tasks.values.filter { $0.record.status == .queued }.count
            if settings.taskInterval > .zero, settings.taskCount == 0 || created < settings.taskCount, queued < 8,
               now - lastCreate >= seconds(settings.taskInterval) {
                createTask()
                lastCreate = now
            }
            tick()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
