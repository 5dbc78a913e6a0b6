import Foundation
import ProofsFFI
import Scheduler
#if canImport(Glibc)
import Glibc
#endif

/// One Crynux node identity: the node side of the task lifecycle (spec 2.3). A 1 s reconcile
/// cycle decides at most one action from a fresh relay read plus the persisted row; the GPU is
/// leased from the shared pool from Started until the score exists.
public actor CrynuxThread {
    public nonisolated let index: Int
    public nonisolated let address: EthereumAddress
    let location: String
    let client: RelayClient
    let executor: InferenceExecutor
    let broker: ResourceBroker?
    let gpuUUIDs: [Int: String]
    let settings: CrynuxSection
    let mode: CrynuxFlowMode
    let log: Log
    let store: DurableFile
    let holdBeforeSubmit: Duration?
    let metrics: SealingMetrics?
    /// The box's GPUs as the reported identity sees them (names from discovery, when known).
    let cards: [CrynuxGPUIdentity.Card]
    let models: CrynuxModelStore
    /// The model ids reported at the last join (re-joined when the directory changes while idle).
    var reportedModels: [String] = []
    /// What the execution is doing now (waiting for its lease, running), for `worker list`.
    var phase: String?
    var row: CrynuxRow?
    var executedThisLifetime: Set<String> = []
    var lastStatus: CrynuxTaskStatus?
    var lastAction: CrynuxAction = .none
    var nodeStatus: CrynuxNodeStatus?
    var joined = false
    var loaded = false
    var executions = 0
    var lastError: String?
    var share: CrynuxGPUShare

    public init(index: Int, location: String, client: RelayClient, executor: InferenceExecutor, broker: ResourceBroker?,
                gpuUUIDs: [Int: String], settings: CrynuxSection, log: Log, holdBeforeSubmit: Duration? = nil,
                gpuNames: [Int: String] = [:], metrics: SealingMetrics? = nil) {
        self.index = index
        self.address = client.signer.address
        self.location = location
        self.client = client
        self.executor = executor
        self.broker = broker
        self.gpuUUIDs = gpuUUIDs
        self.settings = settings
        self.mode = settings.mock.mode
        self.log = log.with("thread", "\(index)").with("plan", "crynux")
        self.store = DurableFile(path: location + "/crynux-row.json")
        self.holdBeforeSubmit = holdBeforeSubmit
        self.share = CrynuxGPUShare(share: settings.gpuShare)
        self.metrics = metrics
        self.cards = broker?.capacity.gpus.map { CrynuxGPUIdentity.Card(index: $0.index, name: gpuNames[$0.index], vramBytes: $0.vramBytes) } ?? []
        self.models = CrynuxModelStore(dir: settings.modelDir ?? location + "/models")
    }

    func resultDir(_ id: String) -> String { location + "/results/" + id }

    /// Loads the persisted row (once, at start).
    func load() {
        do {
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            if let bytes = try store.read() {
                row = try JSONDecoder().decode(CrynuxRow.self, from: Data(bytes))
                if let row { log.info("persisted row loaded", [("task", row.taskID), ("score", row.score == nil ? "none" : "persisted"), ("closed", "\(row.closed)")]) }
            }
        } catch {
            log.error("cannot read the persisted row \(store.path): \(error); starting without it")
        }
    }

    func save() -> Bool {
        guard let row else { return true }
        do {
            let bytes = try JSONEncoder().encode(row)
            try store.write(Array(bytes))
            return true
        } catch {
            log.error("cannot persist the row of task \(row.taskID) to \(store.path): \(error)")
            return false
        }
    }

    /// The reported GPU (spec 3.3): `<name>+<platform>`, VRAM = ceil(MiB / 1024), of the largest
    /// group of identical selected cards; without a GPU pool, the mock's task VRAM.
    nonisolated var identity: CrynuxGPUIdentity {
        CrynuxGPUIdentity.report(cards: cards, selected: settings.gpus, configuredName: settings.gpuName, platform: settings.platform,
                                 fallbackVRAM: settings.mock.minVRAMGiB)
    }

    /// Joins the relay (or refreshes capabilities), then reconciles every second until cancelled.
    public func run() async {
        while !Task.isCancelled {
            await cycle()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Joins (or refreshes the node's capabilities): the GPU identity and the models on disk.
    func join() async {
        let gpu = identity
        let onDisk = models.reported()
        do {
            try await client.join(gpuName: gpu.name, gpuVRAM: gpu.vramGiB, modelIDs: onDisk, version: "2.5.0")
            joined = true
            reportedModels = onDisk
            log.info("joined the relay", [("node", address.description), ("gpu", gpu.name), ("vram_gib", "\(gpu.vramGiB)"),
                                          ("models", onDisk.isEmpty ? "none" : onDisk.joined(separator: ","))])
        } catch {
            note("join failed: \(error)")
        }
    }

    /// Logs a problem once (until it changes) with the tracked task and its relay status; it
    /// shows as `last_error` in `worker list`.
    func note(_ message: String) {
        if lastError != message {
            log.warn(message, [("task", row.map { $0.closed ? "none" : $0.taskID } ?? "none"), ("status", lastStatus.map { "\($0)" } ?? "unknown")])
        }
        lastError = message
    }

    /// One reconcile cycle (spec 2.3): fresh relay read + persisted row -> at most one action.
    public func cycle() async {
        if !loaded { load(); loaded = true }
        if !joined { await join(); if !joined { return } }
        if let s = try? await client.nodeStatus() { nodeStatus = s }
        let current: String?
        do {
            current = try await client.currentTask()
        } catch {
            note("cycle: \(error); no action")
            return
        }
        // A tracked open task the relay no longer points at: close it with its final status.
        if var open = row, !open.closed, open.taskID != current {
            // Only the relay's "Task not found" closes it as EndAborted; an unreachable relay ends
            // the cycle (closing on a transport error would delete result files still owed).
            let final: CrynuxTaskStatus?
            do {
                final = try await client.task(open.taskID).status
            } catch let .rejected(_, message) where message == "Task not found" {
                final = nil
            } catch {
                note("task \(open.taskID): cannot read its final status (\(error)); no action")
                return
            }
            open.status = (final ?? .endAborted).rawValue
            open.closed = true
            row = open
            _ = save()
            log.info("task closed locally", [("task", open.taskID), ("status", "\(final.map { "\($0)" } ?? "not found (EndAborted)")")])
            if final != .endInvalidated { try? FileManager.default.removeItem(atPath: resultDir(open.taskID)) }
        }
        guard let id = current else {
            lastStatus = nil
            lastAction = .none
            // Idle: report models that appeared or vanished since the last join (spec 3.2's gate).
            if models.reported() != reportedModels { await join() }
            return
        }
        if row?.taskID != id {
            row = CrynuxRow(taskID: id, status: CrynuxTaskStatus.started.rawValue, taskType: 0)
            log.info("new task", [("task", id)])
            guard save() else { return }
        }
        guard var r = row, !r.closed || mode == .legacy else { return }
        let record: RelayTaskRecord
        do {
            record = try await client.task(id)
        } catch {
            note("task \(id): \(error); no action")
            return
        }
        lastError = nil
        if record.status.rawValue != r.status || record.taskType.rawValue != r.taskType || r.deadline == nil {
            if record.status.rawValue != r.status { log.info("relay status", [("task", id), ("from", "\(CrynuxTaskStatus(rawValue: r.status).map { "\($0)" } ?? "?")"), ("to", "\(record.status)")]) }
            r.status = record.status.rawValue
            r.taskType = record.taskType.rawValue
            r.deadline = record.startUnix.map { $0 + Double(record.timeout) }
            row = r
            _ = save()
        }
        lastStatus = record.status
        let local = CrynuxLocalState(scorePersisted: validScore(r, type: record.taskType) != nil, executedThisLifetime: executedThisLifetime.contains(id),
                                     executionOutcome: r.outcome, resultUploaded: r.resultUploaded, closed: r.closed)
        // Legacy flow only: the node aborts a task past start + timeout (+5 s) itself.
        if mode == .legacy, !local.scorePersisted, [.started, .parametersUploaded].contains(record.status), let start = record.startUnix,
           CrynuxErrorPolicy.nodeMayAbort(mode: mode, now: Double(client.now()), start: start, timeout: Double(record.timeout)) {
            lastAction = .closeAborted
            do { try await client.abort(id); log.info("aborted (legacy flow, past the deadline)", [("task", id)]) } catch { note("abort \(id): \(error)") }
            return
        }
        if r.closed { return }
        let action = CrynuxReconcile.decide(status: record.status, local: local)
        lastAction = action
        await apply(action, record: record)
    }

    /// The score persisted in `r` if it is valid (spec 2.4) and its files are on disk.
    func validScore(_ r: CrynuxRow, type: CrynuxTaskType) -> [UInt8]? {
        guard let hex = r.score, hex.hasPrefix("0x"), let bytes = Hex.decode(unprefixed: String(hex.dropFirst(2))), !bytes.isEmpty,
              !type.isImage || bytes.count % 8 == 0, bytes.contains(where: { $0 != 0 }), !r.files.isEmpty,
              r.files.allSatisfy({ FileManager.default.fileExists(atPath: resultDir(r.taskID) + "/" + $0) }) else { return nil }
        return bytes
    }

    func apply(_ action: CrynuxAction, record: RelayTaskRecord) async {
        let id = record.id
        guard var r = row else { return }
        switch action {
        case .none:
            return
        case .execute:
            executedThisLifetime.insert(id)
            await execute(record)
        case .submitScore:
            guard let score = validScore(r, type: record.taskType) else { return }
            if let hold = holdBeforeSubmit {
                log.info("holding before submit (test hook)", [("task", id), ("for", "\(hold)")])
                try? await Task.sleep(for: hold)
                if Task.isCancelled { return }
            }
            do {
                try await client.submitScore(id, score: score)
                log.info("score submitted", [("task", id), ("score", Hex.prefixed(score))])
            } catch {
                note("submit score \(id): \(error)")
            }
        case .reportError:
            do {
                try await client.reportError(id)
                log.info("error reported (ParametersValidationFailed)", [("task", id)])
            } catch {
                note("report error \(id): \(error)")
            }
        case .closeAborted:
            r.closed = true
            row = r
            _ = save()
            log.info("execution failed; closed locally, staying silent (the relay's timeout ends it)", [("task", id)])
        case .uploadResult:
            var files: [(name: String, data: [UInt8])] = []
            for name in r.files {
                guard let data = FileManager.default.contents(atPath: resultDir(id) + "/" + name) else {
                    note("upload \(id): result file \(name) is missing; no upload")
                    return
                }
                files.append((name, Array(data)))
            }
            do {
                try await client.uploadResults(id, files: files)
                r.resultUploaded = true
                row = r
                _ = save()
                log.info("results uploaded", [("task", id), ("files", "\(files.count)")])
            } catch {
                note("upload \(id): \(error)")
            }
        case .close:
            r.closed = true
            row = r
            _ = save()
            log.info("task closed", [("task", id), ("status", "\(record.status)")])
            if record.status != .endInvalidated { try? FileManager.default.removeItem(atPath: resultDir(id)) }
        }
    }

    /// Checks the base model, leases a GPU by the task's requirement (scoped: released on every
    /// exit, cancellation included), runs the executor and persists files then score inside the
    /// lease. Every failure is silent (spec 2.5).
    func execute(_ record: RelayTaskRecord) async {
        let id = record.id
        let dir = resultDir(id)
        try? FileManager.default.removeItem(atPath: dir)
        // Spec 2.4: the base model must already be on disk; without it the run is a
        // TaskExecutionError ("Task model not downloaded"), never an error report.
        switch CrynuxModelPlan.plan(record.modelIDs, onDisk: models.onDisk()) {
        case let .baseMissing(base):
            _ = persist(.failed("Task model not downloaded: \(base) is not in \(models.dir)"), record: record)
            return
        case let .unusable(reason):
            _ = persist(.failed("Task model not downloaded: \(reason)"), record: record)
            return
        case .download:
            break // the executor child downloads the non-base models within the deadline
        }
        let vramGiB = record.requiredGPUVRAM > 0 ? record.requiredGPUVRAM : record.minVRAM
        // Spec 2.4: model downloads and inference end by start + timeout + 10 s, however long the
        // lease took (or, without a start time, timeout + 10 s from now).
        let runOnce: @Sendable (Int?) async -> InferenceOutcome = { [executor, models, gpuUUIDs, client] gpu in
            let left = record.startUnix.map { $0 + Double(record.timeout) + 10 - Double(client.now()) } ?? Double(record.timeout + 10)
            guard left > 0 else { return .cancelled("the task's deadline passed before the executor started") }
            let deadline = Duration.milliseconds(Int64(left * 1000))
            return await executor.run(taskID: id, type: record.taskType, args: record.taskArgs, modelIDs: record.modelIDs, outputDir: dir, modelDir: models.dir,
                               gpuUUID: gpu.map { gpuUUIDs[$0] ?? "GPU-\($0)" }, deadline: deadline)
        }
        executions += 1
        defer { phase = nil }
        guard let broker, !broker.capacity.gpus.isEmpty else {
            log.info("executor started", [("task", id), ("lease", "none (no GPU pool)")])
            phase = "running (no GPU pool)"
            let result = await runOnce(nil)
            if Task.isCancelled { return }
            let outcome = persist(result, record: record)
            log.info("execution ended", [("task", id), ("outcome", "\(outcome)")])
            return
        }
        let ahead = CrynuxAdmission.aheadOfSealing(settings.priority, shareUsed: share.usedFraction(now: Double(client.now())), share: share.share)
        // A task requiring an exact GPU runs on a card of the reported identity.
        let gpu = identity
        let allowed = !record.requiredGPU.isEmpty && !gpu.gpus.isEmpty ? Set(gpu.gpus) : (settings.gpus.isEmpty ? nil : Set(settings.gpus))
        let card = cards.filter { gpu.gpus.contains($0.index) }.map(\.vramBytes).min()
        let request = CrynuxAdmission.request(vramGiB: vramGiB, cardBytes: card, allowedGPUs: allowed, ahead: ahead, costs: broker.costs)
        log.info("waiting for a GPU lease", [("task", id), ("stage", "\(ProofStage.inference)"), ("vram_gib", "\(vramGiB)"),
                                             ("priority", ahead ? "like c2" : "below sealing")])
        phase = "waiting for a GPU lease (\(ProofStage.inference), \(ahead ? "like c2" : "below sealing"))"
        let asked = ContinuousClock.now
        do {
            let outcome: InferenceOutcome? = try await broker.withResources(request) { @Sendable [self, client, runOnce, metrics, log] lease in
                metrics?.admitted("\(ProofStage.inference)", waited: Self.seconds(asked.duration(to: .now)))
                log.info("executor started", [("task", id), ("lease", lease.summary)])
                await self.setPhase("running on \(lease.summary)")
                let leased = Double(client.now())
                let result = await runOnce(lease.grant.gpu)
                // Shutdown: nothing is persisted, so the next lifetime runs the task again.
                if Task.isCancelled { return nil }
                // The score is computed inside the lease: the GPU returns to sealing only once it exists.
                let outcome = await self.persist(result, record: record)
                await self.recordLease(start: leased, end: Double(client.now()))
                return outcome
            }
            if let outcome {
                log.info("GPU lease released", [("task", id), ("outcome", "\(outcome)")])
            } else {
                log.info("executor stopped by shutdown; GPU lease released; the task runs again after restart", [("task", id)])
            }
        } catch {
            // Cancelled while waiting (shutdown) or a request that can never fit: nothing held, silent.
            note("task \(id): no GPU lease (\(error)); staying silent")
        }
    }

    func setPhase(_ text: String?) { phase = text }

    func recordLease(start: Double, end: Double) { share.record(start: start, end: end) }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// Files durable first, then the score in the row (spec 2.2); failures classified (2.5).
    func persist(_ outcome: InferenceOutcome, record: RelayTaskRecord) -> InferenceOutcome {
        let id = record.id
        guard var r = row, r.taskID == id else { return outcome }
        switch outcome {
        case let .success(files):
            var contents: [[UInt8]] = []
            for name in files {
                let path = resultDir(id) + "/" + name
                guard !name.contains("/"), let data = FileManager.default.contents(atPath: path) else {
                    r.outcome = .failed
                    row = r
                    _ = save()
                    log.warn("executor named a result file that is not there: \(path); treated as an execution failure")
                    return .failed("missing file")
                }
                Self.fsync(path)
                contents.append(Array(data))
            }
            Self.fsync(resultDir(id))
            let score: [UInt8]
            if record.taskType.isImage {
                do { score = try CrynuxScore.stableDiffusion(pngFiles: contents) } catch {
                    r.outcome = .failed
                    row = r
                    _ = save()
                    log.warn("result of task \(id) is not a valid PNG (\(error)); treated as an execution failure")
                    return .failed("bad png")
                }
            } else {
                score = CrynuxScore.llm(jsonFiles: contents)
            }
            r.files = files
            r.score = Hex.prefixed(score)
            row = r
            if save() { log.info("score persisted", [("task", id), ("score", r.score ?? "")]) }
        case let .invalid(message):
            r.outcome = .taskInvalid
            row = r
            _ = save()
            log.info("executor: task arguments invalid (\(message))", [("task", id)])
        case let .failed(message):
            r.outcome = .failed
            row = r
            _ = save()
            log.warn("execution failed (\(message)); no protocol action, the relay's timeout ends the task", [("task", id), ("status", "\(record.status)")])
        case let .cancelled(message):
            r.outcome = .cancelled
            row = r
            _ = save()
            log.warn("execution cancelled (\(message)); no protocol action", [("task", id), ("status", "\(record.status)")])
        }
        return outcome
    }

    static func fsync(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = Glibc.fsync(fd)
        close(fd)
    }

    /// What `worker list` shows.
    public func info() -> CrynuxThreadInfo {
        CrynuxThreadInfo(index: index, node: address.description, taskID: row.flatMap { $0.closed ? nil : $0.taskID },
                         relayStatus: lastStatus.map { "\($0)" }, localAction: phase ?? "\(lastAction)", nodeStatus: nodeStatus.map { "\($0)" },
                         executions: executions, lastError: lastError)
    }

    /// The node API's actions (spec 5.2): start (join), stop (quit), pause, resume. Pause while
    /// Busy becomes PendingPause at the relay and completes when the task ends.
    public func control(_ action: String) async throws(RelayClientError) {
        switch action {
        case "start": await join()
        case "stop": try await client.nodeControl("quit")
        case "pause", "resume": try await client.nodeControl(action)
        default: throw .malformed("unknown action \"\(action)\" (start, stop, pause, resume)")
        }
        if let s = try? await client.nodeStatus() { nodeStatus = s }
        log.info("node \(action)", [("node_status", nodeStatus.map { "\($0)" } ?? "?")])
    }
}
