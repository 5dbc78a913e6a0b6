import ProofsFFI

/// Renders a config with every default resolved, as valid TOML that reads back to the same
/// effective settings (`sealer config check`). The text names no source file, so rendering
/// what it reads back to gives the same text again (a fixed point). Secrets
/// (`rpc_server.token`, `piece_token`) are not printed, only a comment that they are set, so
/// a config with them loses them, and that comment, in the round trip.
public enum EffectiveConfig {
    public static func render(_ c: SealerConfig) -> String {
        var out = "# effective configuration: every default resolved\n\n"
        out += "[worker]\n"
        if let name = c.worker.name { out += "name = \(q(name))\n" } else { out += "# name: not set; the daemon uses its address toward the manager, else its host name\n" }
        out += "rpc_server = { host = \(q(c.worker.rpcHost)), port = \(c.worker.rpcPort) }\n"
        if c.worker.rpcToken != nil { out += "# rpc_server.token is set (not shown)\n" }
        out += "ping_interval = \(d(c.worker.pingInterval))\n"
        out += "shutdown_timeout = \(d(c.worker.shutdownTimeout))\n"
        out += "local_pieces_dirs = \(list(c.worker.localPiecesDirs))\n"
        out += "scan_persist_stores = \(list(c.worker.scanPersistStores))\n\n"

        out += "[metrics]\nenable = \(c.metrics.enable)\nhttp_listen = \(q(c.metrics.httpListen))\n\n"

        out += "[sector_manager]\nrpc_client.addr = \(q(c.sectorManager.address.description))\n"
        for (key, value) in c.sectorManager.headers.sorted(by: { $0.key < $1.key }) {
            out += "rpc_client.headers.\(q(key)) = \(q(value))\n"
        }
        if c.sectorManager.pieceToken != nil { out += "# piece_token is set (not shown)\n" }
        if c.sectorManager.address == .embedded {
            let m = c.sectorManager.mock
            out += "\n[sector_manager.mock]\nminer = \(m.miner)\nsector_size = \(q(m.sectorSize.description))\n"
            out += "reject_submit_rate = \(m.rejectSubmitRate)\npoll_failed_rate = \(m.pollFailedRate)\n"
            out += "transport_error_rate = \(m.transportErrorRate)\ndelay = \(d(m.delay))\nseed = \(m.seed)\n"
        }

        out += "\n[sealing]\n" + sealing(SealingOptions().merged(with: c.sealing), prefix: "")

        for (index, thread) in c.sealingThreads.enumerated() {
            out += "\n[[sealing_thread]]\n"
            if let location = thread.location { out += "location = \(q(location))\n" }
            out += "plan = \(q(thread.crynux ? "crynux" : thread.plan.rawValue))\n"
            out += sealing(c.sealingOptions(forThread: index), prefix: "sealing.")
        }

        for store in c.attached {
            out += "\n[[attached]]\nname = \(q(store.name))\nlocation = \(q(store.location))\nreadonly = \(store.readonly)\n"
        }

        let p = c.processors
        out += "\n[processors.limitation.concurrent]\n"
        for (stage, n) in p.concurrent.sorted(by: { $0.key < $1.key }) { out += "\(stage) = \(n)\n" }
        out += "\n[processors.limitation.staggered]\n"
        for (stage, interval) in p.staggered.sorted(by: { $0.key < $1.key }) { out += "\(stage) = \(d(interval))\n" }
        out += "\n[processors.ext_locks]\n"
        for (name, n) in p.extLocks.sorted(by: { $0.key < $1.key }) { out += "\(q(name)) = \(n)\n" }
        out += "\n[processors.static_tree_d]\n"
        for (size, path) in p.staticTreeD.sorted(by: { $0.key < $1.key }) { out += "\(q(size)) = \(q(path))\n" }
        for stage in ProcessorsSection.externalStages {
            for ext in p.external[stage] ?? [] {
                out += "\n[[processors.\(stage)]]\n"
                if let bin = ext.bin { out += "bin = \(q(bin))\n" }
                if let args = ext.args { out += "args = \(list(args))\n" } else { out += "# args: default, [\"processor\", \"\(stage)\"]\n" }
                out += "stable_wait = \(d(ext.stableWait))\n"
                if let cpuset = ext.cpuset { out += "cgroup.cpuset = \(q(cpuset))\n" }
                out += "cgroup.group_name = \(q(ext.groupName))\n"
                if !ext.envs.isEmpty {
                    out += "envs = { " + ext.envs.sorted(by: { $0.key < $1.key }).map { "\(q($0.key)) = \(q($0.value))" }.joined(separator: ", ") + " }\n"
                }
                out += "inherit_envs = \(ext.inheritEnvs)\n"
                if let numa = ext.numaPreferred { out += "numa_preferred = \(numa)\n" }
                if let n = ext.concurrent { out += "concurrent = \(n)\n" }
                out += "locks = \(list(ext.locks))\nauto_restart = \(ext.autoRestart)\n"
            }
        }

        out += "\n[proofs]\nbackend = \(q(c.proofs.backend.rawValue))\n"
        if let library = c.proofs.ffiLibrary { out += "ffi_library = \(q(library))\n" }
        if c.proofs.backend == .mock {
            out += "\n[proofs.mock]\n"
            for (stage, duration) in c.proofs.resolvedMockDurations.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out += "\(stage.rawValue) = \(d(duration))\n"
            }
            out += "failure_rate = \(c.proofs.mockFailureRate)\n"
        }

        let r = c.resources
        out += "\n[resources]\n"
        if let cpus = r.cpus { out += "cpus = \(q(CPUList.format(cpus.sorted())))\n" }
        if let nodes = r.nodes { out += "nodes = [\(nodes.sorted().map(String.init).joined(separator: ", "))]\n" }
        if let gpus = r.gpus { out += "gpus = [\(gpus.sorted().map(String.init).joined(separator: ", "))]\n" }
        if let reserve = r.memoryReserve { out += "memory_reserve = \(q(ByteSize(bytes: reserve).description))\n" }
        out += "gpu_slots = \(r.gpuSlots)\n"
        out += "starvation_limit = \(r.starvationLimit)\nstarvation_wait = \(d(r.starvationWait))\n"
        out += "post_headroom = \(d(r.postHeadroom))\npost_reserve = \(r.postReserve)\n"
        if let slowdown = r.pc1SpillSlowdown { out += "pc1_spill_slowdown = \(slowdown)\n" }
        if let box = r.box {
            out += "\n[resources.box]\nnodes = \(box.nodes)\ncores_per_node = \(box.coresPerNode)\ncores_per_l3 = \(box.coresPerL3)\n"
            out += "memory = \(q(ByteSize(bytes: box.memory).description))\nhugepages_per_node = \(box.hugepagesPerNode)\n"
            out += "gpus = \(box.gpus)\ngpu_vram = \(q(ByteSize(bytes: box.gpuVRAM).description))\n"
        }
        for o in r.costs {
            out += "\n[resources.costs.\(o.size.map { q($0.description) + "." } ?? "")\(o.stage.rawValue)]\n"
            if let v = o.cores { out += "cores = \(v)\n" }
            if let v = o.sameL3 { out += "same_l3 = \(v)\n" }
            if let v = o.memoryBytes { out += "memory = \(q(ByteSize(bytes: v).description))\n" }
            if let v = o.hugepages { out += "hugepages = \(v)\n" }
            if let v = o.vramBytes { out += "vram = \(q(ByteSize(bytes: v).description))\n" }
            if let v = o.duration { out += "duration = \(d(v))\n" }
        }
        if let crynux = c.crynux { out += crynux.effectiveTOML }
        return out
    }

    private static func sealing(_ o: SealingOptions, prefix: String) -> String {
        var out = ""
        func line(_ key: String, _ value: String) { out += "\(prefix)\(key) = \(value)\n" }
        if let miners = o.allowedMiners { line("allowed_miners", "[" + miners.map(String.init).joined(separator: ", ") + "]") }
        if let sizes = o.allowedSizes { line("allowed_sizes", list(sizes.map(\.description))) }
        line("enable_deals", "\(o.enableDeals)")
        line("disable_cc", "\(o.disableCC)")
        if let n = o.maxDeals { line("max_deals", "\(n)") }
        if let s = o.minDealSpace { line("min_deal_space", q(s.description)) }
        line("max_retries", "\(o.maxRetries)")
        line("seal_interval", d(o.sealInterval))
        line("recover_interval", d(o.recoverInterval))
        line("rpc_polling_interval", d(o.rpcPollingInterval))
        line("ignore_proof_check", "\(o.ignoreProofCheck)")
        line("request_task_max_retries", "\(o.requestTaskMaxRetries)")
        line("verify_after_pc2", "\(o.verifyAfterPC2)")
        return out
    }

    private static func q(_ s: String) -> String { TOMLTaggedJSON.quote(s) }
    private static func d(_ duration: Duration) -> String { q(HumanDuration.format(duration)) }
    private static func list(_ items: [String]) -> String { "[" + items.map(q).joined(separator: ", ") + "]" }
}
