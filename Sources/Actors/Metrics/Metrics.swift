import Scheduler

/// Everything one scrape renders, copied from the daemon's parts at the time of the request.
public struct MetricsSnapshot: Sendable {
    /// One processor child.
    public struct Processor: Sendable, Hashable {
        public var stage: String
        public var index: Int
        public var up: Bool
        public var restarts: Int
        public init(stage: String, index: Int, up: Bool, restarts: Int) {
            self.stage = stage
            self.index = index
            self.up = up
            self.restarts = restarts
        }
    }

    public var threads: [ThreadInfo] = []
    /// The pools' capacity; nil when stages run unmetered (no pool series then).
    public var capacity: BoxCapacity?
    public var held: [Grant] = []
    public var waiting = 0
    /// Waiting requests by the pool that blocks each (`Refusal.Pool`: cpu, memory, gpu, ...).
    public var waitingByPool: [String: Int] = [:]
    /// Waiting requests by stage (`crynux_inference` for Crynux leases).
    public var waitingByStage: [String: Int] = [:]
    public var processors: [Processor] = []
    public var rpc: [String: RPCMetrics.Entry] = [:]
    public var sealing = SealingMetrics.Snapshot()
    public var ping: ManagerPingStatus?

    public init() {}
}

/// Renders `/metrics` and judges `/healthz` from a `MetricsSnapshot`.
public enum Metrics {
    /// The Prometheus text of `snapshot`, every sample labelled `worker_name` and `worker_ip`.
    public static func render(_ snapshot: MetricsSnapshot, workerName: String, workerIP: String) -> String {
        var out = PrometheusText(global: [("worker_name", workerName), ("worker_ip", workerIP)])

        let methods = snapshot.rpc.keys.sorted()
        out.family("rpc_call", "counter", "Calls to the sector manager, by method.")
        for method in methods { out.sample("rpc_call", [("method", method)], Double(snapshot.rpc[method]!.calls)) }
        out.family("rpc_error", "counter", "Calls to the sector manager that failed, by method.")
        for method in methods { out.sample("rpc_error", [("method", method)], Double(snapshot.rpc[method]!.errors)) }
        out.family("rpc_timing", "histogram", "Seconds a call to the sector manager took, by method.")
        for method in methods { out.histogram("rpc_timing", [("method", method)], snapshot.rpc[method]!.timing) }

        // Every plan and state the daemon has, zeros included, so a series does not vanish.
        var threads: [String: [String: Int]] = [:]
        for info in snapshot.threads {
            let state = WorkerInfo(info).thread_state.state
            threads[info.plan.rawValue, default: [:]][state, default: 0] += 1
        }
        out.family("sealer_threads", "gauge", "Sealing threads by plan and thread state (as `worker list` names it).")
        for plan in threads.keys.sorted() {
            for state in ["Idle", "Running", "Waiting", "Paused", "Draining", "Drained"] {
                out.sample("sealer_threads", [("plan", plan), ("state", state)], Double(threads[plan]?[state] ?? 0))
            }
        }

        // What /healthz calls a problem: paused with an error, not by an operator.
        out.family("sealer_threads_paused_by_error", "gauge", "Sealing threads paused by an error (not by an operator), by plan.")
        for plan in threads.keys.sorted() {
            let paused = snapshot.threads.filter { info in
                guard info.plan.rawValue == plan, case .paused = info.activity else { return false }
                return info.lastError != nil
            }
            out.sample("sealer_threads_paused_by_error", [("plan", plan)], Double(paused.count))
        }

        if let capacity = snapshot.capacity {
            func kinds(_ total: Double, _ leased: Double) -> [(String, Double)] {
                [("capacity", total), ("leased", leased), ("free", total - leased)]
            }
            out.family("sealer_pool_cores", "gauge", "CPU cores of the pool per NUMA node: capacity, leased to stages, free.")
            for node in capacity.nodes {
                let leased = snapshot.held.reduce(0) { $0 + $1.cpus.filter { node.cpus.contains($0) }.count }
                for (kind, value) in kinds(Double(node.cpus.count), Double(leased)) {
                    out.sample("sealer_pool_cores", [("node", "\(node.id)"), ("kind", kind)], value)
                }
            }
            out.family("sealer_pool_memory_bytes", "gauge", "Memory of the pool per NUMA node, in bytes: capacity, leased to stages, free.")
            for node in capacity.nodes {
                let leased = snapshot.held.reduce(UInt64(0)) { $0 + ($1.memory[node.id] ?? 0) }
                for (kind, value) in kinds(Double(node.memoryBytes), Double(leased)) {
                    out.sample("sealer_pool_memory_bytes", [("node", "\(node.id)"), ("kind", kind)], value)
                }
            }
            out.family("sealer_pool_hugepages", "gauge", "1 GiB hugepages of the pool per NUMA node: capacity, leased to stages, free.")
            for node in capacity.nodes {
                let leased = snapshot.held.filter { $0.node == node.id }.reduce(0) { $0 + $1.hugepages }
                for (kind, value) in kinds(Double(node.hugepages), Double(leased)) {
                    out.sample("sealer_pool_hugepages", [("node", "\(node.id)"), ("kind", kind)], value)
                }
            }
            out.family("sealer_pool_vram_bytes", "gauge", "VRAM of the pool per GPU, in bytes: capacity, leased to stages, free.")
            for gpu in capacity.gpus {
                let leased = snapshot.held.filter { $0.gpu == gpu.index }.reduce(UInt64(0)) { $0 + $1.vramBytes }
                for (kind, value) in kinds(Double(gpu.vramBytes), Double(leased)) {
                    out.sample("sealer_pool_vram_bytes", [("gpu", "\(gpu.index)"), ("kind", kind)], value)
                }
            }
            out.family("sealer_pool_gpu_slots", "gauge", "Stage slots per GPU: capacity, leased to stages, free.")
            for gpu in capacity.gpus {
                let leased = snapshot.held.filter { $0.gpu == gpu.index }.count
                for (kind, value) in kinds(Double(gpu.slots), Double(leased)) {
                    out.sample("sealer_pool_gpu_slots", [("gpu", "\(gpu.index)"), ("kind", kind)], value)
                }
            }
            if !capacity.nvme.isEmpty {
                out.family("sealer_pool_nvme_bytes", "gauge", "NVMe layer space for batch sealing per drive, in bytes: capacity, leased to batches, free.")
                for drive in capacity.nvme {
                    let leased = snapshot.held.reduce(UInt64(0)) { $0 + ($1.nvme[drive.index] ?? 0) }
                    for (kind, value) in kinds(Double(drive.bytes), Double(leased)) {
                        out.sample("sealer_pool_nvme_bytes", [("drive", "\(drive.index)"), ("kind", kind)], value)
                    }
                }
            }
            out.family("sealer_pool_waiting_requests", "gauge", "Stages waiting for the pools to admit them.")
            out.sample("sealer_pool_waiting_requests", [], Double(snapshot.waiting))
            out.family("sealer_pool_blocked_requests", "gauge", "Stages waiting for the pools, by the pool that blocks each now.")
            for pool in snapshot.waitingByPool.keys.sorted() {
                out.sample("sealer_pool_blocked_requests", [("pool", pool)], Double(snapshot.waitingByPool[pool]!))
            }
            out.family("sealer_pool_waiting_requests_by_stage", "gauge", "Requests waiting for the pools, by stage (crynux_inference: Crynux leases).")
            for stage in snapshot.waitingByStage.keys.sorted() {
                out.sample("sealer_pool_waiting_requests_by_stage", [("stage", stage)], Double(snapshot.waitingByStage[stage]!))
            }
        }

        out.family("sealer_processor_up", "gauge", "1 when the external processor child is running, else 0.")
        for child in snapshot.processors {
            out.sample("sealer_processor_up", [("stage", child.stage), ("index", "\(child.index)")], child.up ? 1 : 0)
        }
        out.family("sealer_processor_restarts_total", "counter", "Respawns of the external processor child.")
        for child in snapshot.processors {
            out.sample("sealer_processor_restarts_total", [("stage", child.stage), ("index", "\(child.index)")], Double(child.restarts))
        }

        out.family("sealer_stage_seconds", "histogram", "Seconds a stage's body ran, by stage and sector size.")
        for key in snapshot.sealing.stages.keys.sorted() {
            out.histogram("sealer_stage_seconds", [("stage", key.stage), ("sector_size", key.sectorSize)], snapshot.sealing.stages[key]!)
        }
        out.family("sealer_admission_wait_seconds", "histogram", "Seconds a stage waited for the pools to grant its resources, by stage.")
        for stage in snapshot.sealing.admissions.keys.sorted() {
            out.histogram("sealer_admission_wait_seconds", [("stage", stage)], snapshot.sealing.admissions[stage]!)
        }
        out.family("sealer_journal_fsync_seconds", "histogram", "Seconds a history record took to append durably (write and fdatasync).")
        out.histogram("sealer_journal_fsync_seconds", [], snapshot.sealing.journal)
        out.family("sealer_sectors_finished_total", "counter", "Sectors (jobs) finished, by plan.")
        for plan in snapshot.sealing.finished.keys.sorted() {
            out.sample("sealer_sectors_finished_total", [("plan", plan)], Double(snapshot.sealing.finished[plan]!))
        }
        out.family("sealer_sectors_aborted_total", "counter", "Sectors (jobs) aborted, by plan.")
        for plan in snapshot.sealing.aborted.keys.sorted() {
            out.sample("sealer_sectors_aborted_total", [("plan", plan)], Double(snapshot.sealing.aborted[plan]!))
        }
        return out.text
    }

    /// What is wrong, one sentence per problem; empty when healthy: the manager answers pings,
    /// no thread is paused by a failure (paused or drained by an operator is on purpose), and
    /// every processor child is up.
    public static func problems(_ snapshot: MetricsSnapshot, now: ContinuousClock.Instant = .now) -> [String] {
        var problems: [String] = []
        if let problem = snapshot.ping?.problem(now: now) { problems.append(problem) }
        for info in snapshot.threads {
            if case .paused = info.activity, let error = info.lastError {
                problems.append("thread \(info.index) (\(info.plan.rawValue)) is paused by an error: \(error)")
            }
        }
        for child in snapshot.processors where !child.up {
            problems.append("processor \(child.stage)[\(child.index)] is down (restarts: \(child.restarts))")
        }
        return problems
    }
}
