import Foundation
import ProofsFFI

/// The outcome of reading a config: the config when it has no errors, and every diagnostic.
public struct ConfigResult: Sendable {
    public var config: SealerConfig?
    public var diagnostics: [ConfigDiagnostic]

    public var errors: [ConfigDiagnostic] { diagnostics.filter(\.isError) }
    public var warnings: [ConfigDiagnostic] { diagnostics.filter { !$0.isError } }
}

/// Turns a damocles-worker (or sealer) TOML document into a validated `SealerConfig`.
public enum ConfigDecoder {
    /// Reads and decodes `path`; unreadable files and TOML syntax errors are diagnostics too.
    public static func load(path: String) -> ConfigResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read it (permission denied?)" : "no such file"
            return ConfigResult(config: nil, diagnostics: [ConfigDiagnostic(.error, file: path, position: nil, keyPath: "", message: reason)])
        }
        return decode(bytes: Array(data), file: path)
    }

    public static func decode(bytes: [UInt8], file: String) -> ConfigResult {
        do {
            return decode(try TOML.parse(bytes: bytes), file: file)
        } catch {
            return ConfigResult(config: nil, diagnostics: [
                ConfigDiagnostic(.error, file: file, position: error.position, keyPath: "", message: "invalid TOML: \(error.message)"),
            ])
        }
    }

    public static func decode(_ root: TOMLTable, file: String) -> ConfigResult {
        var log = DiagnosticLog(file: file)
        var config = SealerConfig()
        var top = TableReader(root, path: "")

        if var worker = top.table("worker", &log) { decodeWorker(&worker, into: &config.worker, &log) }
        if var metrics = top.table("metrics", &log) {
            config.metrics.enable = metrics.bool("enable", &log) ?? false
            config.metrics.httpListen = metrics.string("http_listen", &log) ?? config.metrics.httpListen
            metrics.reportUnknown(&log)
        }
        if var manager = top.table("sector_manager", &log) {
            decodeManager(&manager, into: &config.sectorManager, &log)
        } else {
            log.error("sector_manager", nil, "missing: set [sector_manager] rpc_client.addr (a manager address, or \"embedded\")")
        }
        if var sealing = top.table("sealing", &log) {
            config.batch = decodeBatchMode(&sealing, &log)
            config.sealing = decodeSealing(&sealing, &log)
            sealing.reportUnknown(&log)
        }
        if let threads = top.tables("sealing_thread", &log) {
            for var thread in threads { config.sealingThreads.append(decodeThread(&thread, &log)) }
        }
        if config.sealingThreads.isEmpty, root["sealing_thread"] == nil {
            log.error("sealing_thread", nil, "no [[sealing_thread]]: the daemon would have nothing to do")
        }
        if let stores = top.tables("attached", &log) {
            for var store in stores {
                guard let location = store.string("location", &log) else {
                    if store.table["location"] == nil { log.error(store.path, store.table.origin, "missing location") }
                    continue
                }
                let name = store.string("name", &log) ?? absolute(location)
                config.attached.append(AttachedStore(location: location, name: name, readonly: store.bool("readonly", &log) ?? false))
                store.reportUnknown(&log)
            }
        }
        if var processors = top.table("processors", &log) { decodeProcessors(&processors, into: &config.processors, &log) }
        if var proofs = top.table("proofs", &log) { decodeProofs(&proofs, into: &config.proofs, &log) }
        if var resources = top.table("resources", &log) { config.resources = decodeResources(&resources, &log) }
        if var crynux = top.table("crynux", &log) { config.crynux = decodeCrynux(&crynux, &log) }
        top.reportUnknown(&log, deprecated: ["remote_store", "attached_selection"])

        validate(config, root: root, &log)
        validateBatch(config, &log)
        let hasErrors = log.diagnostics.contains(where: \.isError)
        return ConfigResult(config: hasErrors ? nil : config, diagnostics: sorted(log.diagnostics))
    }

    /// A thread's hot file (`<location>/config.toml`): `plan` and `sealing.*`, nothing else.
    public static func decodeHot(bytes: [UInt8], file: String) -> (plan: PlanKind?, sealing: SealingOverrides, diagnostics: [ConfigDiagnostic]) {
        var log = DiagnosticLog(file: file)
        let root: TOMLTable
        do { root = try TOML.parse(bytes: bytes) } catch {
            log.error("", error.position, "invalid TOML: \(error.message)")
            return (nil, SealingOverrides(), log.diagnostics)
        }
        var reader = TableReader(root, path: "")
        var plan: PlanKind?
        if let name = reader.string("plan", &log) {
            plan = PlanKind(rawValue: name)
            if plan == nil { log.error("plan", reader.position("plan"), unknownPlan(name)) }
        }
        var sealing = SealingOverrides()
        if var table = reader.table("sealing", &log) {
            sealing = decodeSealing(&table, &log)
            table.reportUnknown(&log)
        }
        if let position = root.position(of: "location") {
            _ = reader.string("location", &log)
            log.warning("location", position, "a hot config cannot move its thread (ignored)")
        }
        reader.reportUnknown(&log)
        return (plan, sealing, sorted(log.diagnostics))
    }

    /// In file order, so the list reads top to bottom; file-wide ones first.
    static func sorted(_ diagnostics: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let pa = a.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            let pb = b.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
    }

    static func unknownPlan(_ name: String) -> String {
        "unknown plan \"\(name)\"; plans: \((PlanKind.allCases.map(\.rawValue) + ["crynux"]).joined(separator: ", "))"
    }

    static func absolute(_ path: String) -> String {
        (path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path).standardizedPath
    }

    private static func decodeWorker(_ w: inout TableReader, into worker: inout WorkerSection, _ log: inout DiagnosticLog) {
        worker.name = w.string("name", &log)
        if var rpc = w.table("rpc_server", &log) {
            worker.rpcHost = rpc.string("host", &log) ?? worker.rpcHost
            if let port = rpc.int("port", &log, range: 0...65535) { worker.rpcPort = UInt16(port) }
            worker.rpcToken = rpc.string("token", &log)
            rpc.reportUnknown(&log)
        }
        worker.pingInterval = w.positiveDuration("ping_interval", &log) ?? worker.pingInterval
        let legacy = w.string("local_pieces_dir", &log)
        worker.localPiecesDirs = w.strings("local_pieces_dirs", &log) ?? legacy.map { [$0] } ?? []
        if w.table["ScanPersistStores"] != nil, w.table["scan_persist_stores"] == nil {
            worker.scanPersistStores = w.strings("ScanPersistStores", &log) ?? []
        } else {
            worker.scanPersistStores = w.strings("scan_persist_stores", &log) ?? []
        }
        worker.shutdownTimeout = w.duration("shutdown_timeout", &log) ?? worker.shutdownTimeout
        w.reportUnknown(&log)
    }

    private static func decodeManager(_ m: inout TableReader, into manager: inout SectorManagerSection, _ log: inout DiagnosticLog) {
        if var client = m.table("rpc_client", &log) {
            if let addr = client.string("addr", &log) {
                if let address = ManagerAddress(parsing: addr) {
                    manager.address = address
                } else {
                    log.error(client.keyPath("addr"), client.position("addr"),
                              "invalid manager address \"\(addr)\" (a multiaddr like /ip4/10.0.0.2/tcp/1789, a URL like http://host:1789, or \"embedded\")")
                }
            } else if client.table["addr"] == nil {
                log.error(client.keyPath("addr"), client.table.origin, "missing: the manager's address")
            }
            if var headers = client.table("headers", &log) {
                for entry in headers.table.entries {
                    if let value = headers.string(entry.key, &log) { manager.headers[entry.key] = value }
                }
            }
            client.reportUnknown(&log)
        } else {
            log.error(m.keyPath("rpc_client"), m.table.origin, "missing: set rpc_client.addr")
        }
        manager.pieceToken = m.string("piece_token", &log)
        if var mock = m.table("mock", &log) {
            if let miner = mock.int("miner", &log, range: 1...Int64.max) { manager.mock.miner = UInt64(miner) }
            if let size = mock.byteSize("sector_size", &log) {
                if let known = SectorSize(rawValue: size.bytes) { manager.mock.sectorSize = known } else {
                    log.error(mock.keyPath("sector_size"), mock.position("sector_size"), "\(size) is not a Filecoin sector size (\(SectorSize.allCases.map(\.description).joined(separator: ", ")))")
                }
            }
            manager.mock.rejectSubmitRate = mock.fraction("reject_submit_rate", &log) ?? 0
            manager.mock.pollFailedRate = mock.fraction("poll_failed_rate", &log) ?? 0
            manager.mock.transportErrorRate = mock.fraction("transport_error_rate", &log) ?? 0
            manager.mock.delay = mock.duration("delay", &log) ?? .zero
            if let seed = mock.int("seed", &log) { manager.mock.seed = UInt64(seed) }
            mock.reportUnknown(&log)
        }
        m.reportUnknown(&log)
    }

    static func decodeSealing(_ s: inout TableReader, _ log: inout DiagnosticLog) -> SealingOverrides {
        var o = SealingOverrides()
        if let miners = s.array("allowed_miners", &log) {
            o.allowedMiners = miners.compactMap { v in
                if case let .integer(n) = v, n > 0 { return UInt64(n) }
                log.error(s.keyPath("allowed_miners"), s.position("allowed_miners"), "expected actor ids (positive integers), found \(TableReader.describe(v))")
                return nil
            }
        }
        if let sizes = s.strings("allowed_sizes", &log) {
            o.allowedSizes = sizes.compactMap { text in
                if let size = ByteSize(parsing: text), let known = SectorSize(rawValue: size.bytes) { return known }
                log.error(s.keyPath("allowed_sizes"), s.position("allowed_sizes"),
                          "\"\(text)\" is not a Filecoin sector size (\(SectorSize.allCases.map(\.description).joined(separator: ", ")))")
                return nil
            }
        }
        o.enableDeals = s.bool("enable_deals", &log)
        o.disableCC = s.bool("disable_cc", &log)
        o.maxDeals = s.int("max_deals", &log).map(Int.init)
        o.minDealSpace = s.byteSize("min_deal_space", &log)
        o.maxRetries = s.int("max_retries", &log).map(Int.init)
        o.sealInterval = s.duration("seal_interval", &log)
        o.recoverInterval = s.duration("recover_interval", &log)
        o.rpcPollingInterval = s.duration("rpc_polling_interval", &log)
        o.ignoreProofCheck = s.bool("ignore_proof_check", &log)
        o.requestTaskMaxRetries = s.int("request_task_max_retries", &log).map(Int.init)
        o.verifyAfterPC2 = s.bool("verify_after_pc2", &log)
        return o
    }

    private static func decodeThread(_ t: inout TableReader, _ log: inout DiagnosticLog) -> SealingThreadConfig {
        var thread = SealingThreadConfig()
        thread.position = t.table.origin
        thread.location = t.string("location", &log)
        if let name = t.string("plan", &log) {
            if name == "crynux" { thread.crynux = true } else if let plan = PlanKind(rawValue: name) { thread.plan = plan } else { log.error(t.keyPath("plan"), t.position("plan"), unknownPlan(name)) }
        }
        if var sealing = t.table("sealing", &log) {
            thread.sealing = decodeSealing(&sealing, &log)
            sealing.reportUnknown(&log)
        }
        t.reportUnknown(&log)
        return thread
    }

    private static func decodeProcessors(_ p: inout TableReader, into processors: inout ProcessorsSection, _ log: inout DiagnosticLog) {
        func limits(_ reader: inout TableReader) -> [String: Int] {
            var out: [String: Int] = [:]
            for entry in reader.table.entries {
                if let n = reader.int(entry.key, &log, range: 1...1_000_000) { out[entry.key] = Int(n) }
                if !ProcessorsSection.limitStages.contains(entry.key) {
                    log.warning(reader.keyPath(entry.key), entry.position, "no stage is called '\(entry.key)' (stages: \(ProcessorsSection.limitStages.joined(separator: ", ")))")
                }
            }
            return out
        }
        if var limitation = p.table("limitation", &log) {
            if var concurrent = limitation.table("concurrent", &log) { processors.concurrent = limits(&concurrent) }
            if var staggered = limitation.table("staggered", &log) {
                for entry in staggered.table.entries {
                    guard let d = staggered.duration(entry.key, &log) else { continue }
                    if d < .seconds(1) {
                        log.warning(staggered.keyPath(entry.key), entry.position, "intervals under 1s are ignored, as in damocles")
                    } else {
                        processors.staggered[entry.key] = d
                    }
                }
            }
            limitation.reportUnknown(&log)
        }
        if var legacy = p.table("limit", &log) {
            let values = limits(&legacy)
            if processors.concurrent.isEmpty { processors.concurrent = values } else {
                log.warning(legacy.path, legacy.table.origin, "legacy [processors.limit] is ignored because limitation.concurrent is set")
            }
        }
        if var locks = p.table("ext_locks", &log) {
            for entry in locks.table.entries { if let n = locks.int(entry.key, &log, range: 1...1_000_000) { processors.extLocks[entry.key] = Int(n) } }
        }
        if var tree = p.table("static_tree_d", &log) {
            for entry in tree.table.entries {
                guard let path = tree.string(entry.key, &log) else { continue }
                if let size = ByteSize(parsing: entry.key), SectorSize(rawValue: size.bytes) != nil {
                    processors.staticTreeD[entry.key] = path
                } else {
                    log.error(tree.keyPath(entry.key), entry.position, "\"\(entry.key)\" is not a Filecoin sector size")
                }
            }
        }
        for stage in ProcessorsSection.externalStages {
            guard let entries = p.tables(stage, &log) else { continue }
            processors.external[stage] = entries.map { reader in
                var r = reader
                var ext = ExternalProcessorConfig()
                ext.bin = r.string("bin", &log)
                ext.args = r.strings("args", &log)
                ext.stableWait = r.positiveDuration("stable_wait", &log) ?? ext.stableWait
                if var cgroup = r.table("cgroup", &log) {
                    if let cpuset = cgroup.string("cpuset", &log) {
                        if CPUList.parse(cpuset)?.isEmpty ?? true {
                            log.error(cgroup.keyPath("cpuset"), cgroup.position("cpuset"), "invalid cpuset \"\(cpuset)\" (write e.g. \"0-7,32-39\")")
                        } else {
                            ext.cpuset = cpuset
                        }
                    }
                    ext.groupName = cgroup.string("group_name", &log) ?? ext.groupName
                    cgroup.reportUnknown(&log)
                }
                if var envs = r.table("envs", &log) {
                    for entry in envs.table.entries { if let v = envs.string(entry.key, &log) { ext.envs[entry.key] = v } }
                }
                ext.inheritEnvs = r.bool("inherit_envs", &log) ?? true
                ext.numaPreferred = r.int("numa_preferred", &log, range: 0...1024).map(Int.init)
                ext.concurrent = r.int("concurrent", &log, range: 1...1_000_000).map(Int.init)
                ext.locks = r.strings("locks", &log) ?? []
                ext.autoRestart = r.bool("auto_restart", &log) ?? true
                r.reportUnknown(&log, deprecated: ["weight"])
                return ext
            }
        }
        p.reportUnknown(&log)
    }

    private static func decodeProofs(_ p: inout TableReader, into proofs: inout ProofsSection, _ log: inout DiagnosticLog) {
        if let name = p.string("backend", &log) {
            if let backend = ProofsSection.Backend(rawValue: name) { proofs.backend = backend } else {
                log.error(p.keyPath("backend"), p.position("backend"), "unknown proofs backend \"\(name)\" (mock or ffi)")
            }
        }
        if let library = p.string("ffi_library", &log) {
            if library.isEmpty {
                log.error(p.keyPath("ffi_library"), p.position("ffi_library"), "ffi_library is empty (leave it out to use $FIL_PROOFS_LIBRARY or the loader's path)")
            } else {
                proofs.ffiLibrary = library
            }
        }
        if var mock = p.table("mock", &log) {
            for stage in ProofStage.allCases {
                if let d = mock.duration(stage.rawValue, &log) { proofs.mockDurations[stage] = d }
            }
            proofs.mockFailureRate = mock.fraction("failure_rate", &log) ?? 0
            mock.reportUnknown(&log)
        }
        p.reportUnknown(&log)
    }

    /// Checks that span sections: required locations, duplicates, lock names.
    private static func validate(_ config: SealerConfig, root: TOMLTable, _ log: inout DiagnosticLog) {
        var seen: [String: (Int, TOMLPosition?)] = [:]
        for (index, thread) in config.sealingThreads.enumerated() {
            guard let location = thread.location else {
                if thread.plan != .wdpost {
                    log.error("sealing_thread[\(index)].location", thread.position, "missing: every plan but wdpost needs a location")
                }
                continue
            }
            let key = absolute(location)
            if let (other, otherPosition) = seen[key] {
                log.error("sealing_thread[\(index)].location", thread.position,
                          "\"\(location)\" is also the location of sealing_thread[\(other)]\(otherPosition.map { " (line \($0.line))" } ?? ""); two threads on one directory would corrupt each other's state")
            } else {
                seen[key] = (index, thread.position)
            }
        }
        if config.attached.isEmpty, config.sealingThreads.contains(where: { [.sealer, .snapup, .rebuild].contains($0.plan) }) {
            log.warning("attached", nil, "no [[attached]] persist store: sealed sectors will wait at PCLanded for one")
        }
        let crynuxThreads = config.sealingThreads.indices.filter { config.sealingThreads[$0].crynux }
        if !crynuxThreads.isEmpty, config.crynux == nil {
            log.error("crynux", nil, "sealing_thread[\(crynuxThreads[0])] has plan = \"crynux\" but there is no [crynux] section (relay_url, node_key_file)")
        }
        if let first = crynuxThreads.first, config.sealingThreads[first...].contains(where: { !$0.crynux }) {
            log.error("sealing_thread[\(first)].plan", config.sealingThreads[first].position, "the crynux thread must come after every sealing thread (worker list keeps sealing indices first)")
        }
        if crynuxThreads.count > 1 {
            log.error("sealing_thread[\(crynuxThreads[1])].plan", config.sealingThreads[crynuxThreads[1]].position, "a second crynux thread: one node identity runs one crynux thread")
        }
        var names = Set<String>()
        for (index, store) in config.attached.enumerated() where !names.insert(store.name).inserted {
            log.error("attached[\(index)].name", nil, "persist store name \"\(store.name)\" is used twice")
        }
        for (stage, processors) in config.processors.external {
            for (index, processor) in processors.enumerated() {
                for lock in processor.locks where config.processors.extLocks[lock] == nil {
                    log.error("processors.\(stage)[\(index)].locks", nil, "lock \"\(lock)\" is not declared in [processors.ext_locks]")
                }
            }
        }
    }
}

extension String {
    /// The path with `.` and `..` resolved, without touching the file system.
    var standardizedPath: String { (self as NSString).standardizingPath }
}
