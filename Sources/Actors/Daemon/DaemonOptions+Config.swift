import Foundation
import ProofsFFI
import Scheduler

extension DaemonOptions {
    /// Resolves a validated config into what the daemon runs with; refuses what this build
    /// cannot do (the ffi prover, TLS managers) with a message naming the key. This touches the
    /// box and the network: a box without `[resources.box]` is discovered (sysfs under
    /// `sysfsRoot`, NVML), the worker's default name is its local address toward the manager.
    public init(config: SealerConfig, file: String, log: Log = Log(), sysfsRoot: String = "/",
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(DaemonError) {
        try Self.check(config, file: file)
        // damocles names a worker after its local address toward the manager.
        var towardManager: String?
        if case let .url(_, host, port, _) = config.sectorManager.address { towardManager = LocalAddress.toward(host: host, port: port) }
        let name = config.worker.name ?? towardManager ?? ProcessInfo.processInfo.hostName
        var threads: [ThreadSettings] = []
        var reloaders: [String: HotConfig] = [:]
        let persistStores = config.attached.filter { !$0.readonly }.map(\.name)
        var crynuxThread: (index: Int, location: String)?
        for (index, thread) in config.sealingThreads.enumerated() {
            let location = thread.location.map(Self.absolute) ?? ""
            if thread.crynux { crynuxThread = (index, location); continue }
            var settings = ThreadSettings(index: index, location: location, plan: thread.plan, instance: name)
            settings.sealing = config.sealingOptions(forThread: index)
            settings.persistStores = persistStores
            settings.staticTreeD = Dictionary(config.processors.staticTreeD.compactMap { key, path in
                SectorSize.allCases.first { $0.description == key }.map { ($0, Self.absolute(path)) }
            }, uniquingKeysWith: { first, _ in first })
            settings.storeLocations = Dictionary(config.attached.map { ($0.name, Self.absolute($0.location)) }, uniquingKeysWith: { first, _ in first })
            threads.append(settings)
            if !location.isEmpty {
                reloaders[location] = HotConfig(location: location, base: config, index: index, log: log)
            }
        }
        let manager: ManagerChoice
        switch config.sectorManager.address {
        case .embedded:
            let m = config.sectorManager.mock
            var options = MockManager.Options()
            options.miner = m.miner
            options.sectorSize = m.sectorSize
            options.rejectSubmitRate = m.rejectSubmitRate
            options.pollFailedRate = m.pollFailedRate
            options.transportErrorRate = m.transportErrorRate
            options.delay = m.delay
            options.seed = m.seed
            manager = .embedded(options)
        case let .url(_, host, port, path):
            manager = .remote(HTTPEndpoint(host: host, port: port, path: path),
                              headers: config.sectorManager.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        var limits: [ProofStage: Int] = [:]
        for (stage, limit) in config.processors.concurrent {
            if let stage = ProofStage(rawValue: stage) { limits[stage] = limit }
        }
        let hot = reloaders
        let defaultSize: SectorSize = if case .embedded = config.sectorManager.address { config.sectorManager.mock.sectorSize } else { .gib32 }
        let pools = try Self.pools(config.resources, threads: threads, file: file, log: log, sysfsRoot: sysfsRoot, discoverNVMe: config.batch != nil,
                                   defaultSize: defaultSize, batchSize: config.batch?.size)
        self.init(
            workerName: name, threads: threads, manager: manager,
            prover: MockProver.Options(durations: config.proofs.resolvedMockDurations, failureRate: config.proofs.mockFailureRate),
            stageLimits: limits, pools: pools, rpcHost: config.worker.rpcHost, rpcPort: config.worker.rpcPort, rpcToken: config.worker.rpcToken,
            pingInterval: config.worker.pingInterval, shutdownTimeout: config.worker.shutdownTimeout,
            advertisedHost: ["0.0.0.0", "::"].contains(config.worker.rpcHost) ? towardManager : nil,
            reloadSettings: { settings, force in hot[settings.location]?.reload(settings, force: force) })
        if config.metrics.enable { metricsListen = config.metrics.httpListen }
        if let section = config.crynux, let thread = crynuxThread {
            var options = CrynuxOptions(section: section, index: thread.index, location: thread.location)
            if var key = section.nodeKeyFile { key = Self.absolute(key); options.section.nodeKeyFile = key }
            if config.resources.describedCapacity == nil, case let .success(found) = BoxDiscovery.discover(root: sysfsRoot) {
                options.gpuUUIDs = Dictionary(found.topology.gpus.map { ($0.index, $0.uuid) }, uniquingKeysWith: { a, _ in a })
                options.gpuNames = Dictionary(found.topology.gpus.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
            }
            crynux = options
        }
        batch = config.batch
        for (name, interval) in config.processors.staggered {
            if let stage = ProofStage(rawValue: name) { staggered[stage] = interval }
        }
        processors = config.processors.external
        extLocks = config.processors.extLocks
        if config.proofs.backend == .ffi {
            let backend = try Self.loadFFI(config, file: file, threads: threads, log: log, environment: environment)
            ffi = backend
            processors = Self.gpuChildren(processors, gpus: pools.capacity.gpus.map(\.index), costs: pools.costs, log: log)
        }
    }

    /// Loads libfilcrypto (`[proofs] ffi_library`, else `$FIL_PROOFS_LIBRARY`, else the loader's
    /// `libfilcrypto.so`) with every symbol this build calls, and checks the parameter files the
    /// sector sizes need: either missing stops the start with one line naming the path or symbol.
    static func loadFFI(_ config: SealerConfig, file: String, threads: [ThreadSettings], log: Log,
                        environment: [String: String]) throws(DaemonError) -> FFIBackend {
        let path = FilCrypto.libraryPath(config.proofs.ffiLibrary, environment: environment)
        let library: FilCrypto
        do {
            library = try FilCrypto.load(path: config.proofs.ffiLibrary, environment: environment)
        } catch {
            throw DaemonError("\(file): proofs.backend = \"ffi\": \(error)")
        }
        var sizes = Set(threads.flatMap { $0.sealing.allowedSizes ?? [] })
        if case .embedded = config.sectorManager.address, sizes.isEmpty { sizes.insert(config.sectorManager.mock.sectorSize) }
        let directory = ProofParameters.cacheDirectory(environment: environment)
        let missing = sizes.sorted { $0.bytes < $1.bytes }.flatMap { ProofParameters.files(for: $0) }.map { directory + "/" + $0.name }.filter { path in
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64 ?? 0) == 0
        }
        if !missing.isEmpty {
            throw DaemonError("proof parameters missing or empty in \(directory) ($FIL_PROOFS_PARAMETER_CACHE): \(missing.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")); 'sealer proofs check' lists them")
        }
        if sizes.isEmpty { log.warn("no allowed_sizes: proof parameters are not checked at startup; 'sealer proofs check --size SIZE' checks them") }
        log.info("filecoin-ffi loaded from \(path)")
        return FFIBackend(library: library, libraryPath: path, localPiecesDirs: config.worker.localPiecesDirs.map(Self.absolute))
    }

    /// filecoin-ffi takes every GPU it can see, so each GPU stage (one whose cost takes a GPU
    /// lease) without `[[processors.<stage>]]` of its own runs in `sealer processor` children,
    /// one per GPU, each seeing only its GPU (`CUDA_VISIBLE_DEVICES`, as damocles configures
    /// them): a lease on GPU 2 runs on GPU 2.
    static func gpuChildren(_ configured: [String: [ExternalProcessorConfig]], gpus: [Int], costs: CostTable, log: Log) -> [String: [ExternalProcessorConfig]] {
        guard !gpus.isEmpty else { return configured }
        var processors = configured
        // Batch stages need a SupraSeal processor of their own; filecoin-ffi has none to run.
        let gpuStages = ProofStage.allCases.filter { stage in !stage.isBatch && SectorSize.allCases.contains { costs.cost(stage, $0).usesGPU } }
        for stage in gpuStages where processors[stage.rawValue] == nil {
            processors[stage.rawValue] = gpus.map { gpu in
                var child = ExternalProcessorConfig()
                child.envs = ["CUDA_VISIBLE_DEVICES": "\(gpu)"]
                return child
            }
            log.info("processors.\(stage): one child per GPU (\(gpus.map(String.init).joined(separator: ", "))) for filecoin-ffi")
        }
        return processors
    }

    /// Refuses what this build cannot run (the ffi prover, a manager over anything but http, a
    /// described box with no CPU left for sealing) without touching the box or the network:
    /// `sealer config check` runs this, the daemon runs it before anything else.
    public static func check(_ config: SealerConfig, file: String) throws(DaemonError) {
        if case let .url(scheme, _, _, _) = config.sectorManager.address, scheme != "http" {
            throw DaemonError("\(file): sector_manager.rpc_client.addr: \(scheme) is not supported by this build; use http")
        }
        if let described = config.resources.describedCapacity, described.cpuCount == 0 {
            throw DaemonError(noCPULeft(file))
        }
    }

    static func noCPULeft(_ file: String) -> String {
        "\(file): resources: no CPU left for sealing after cpus/nodes restrictions"
    }

    /// The box from `[resources.box]` or discovered (sysfs, NVML), with the config's restrictions;
    /// WindowPoSt headroom only when some thread runs the wdpost plan; the long-stage share
    /// (auto: from the threads' plans and sizes, `defaultSize` where a thread allows any).
    static func pools(_ resources: ResourcesSection, threads: [ThreadSettings], file: String, log: Log, sysfsRoot: String,
                      discoverNVMe: Bool = false, defaultSize: SectorSize = .gib32, batchSize: Int? = nil) throws(DaemonError) -> Pools {
        var capacity: BoxCapacity
        if let described = resources.describedCapacity {
            capacity = described
        } else {
            switch BoxDiscovery.discover(root: sysfsRoot) {
            case let .success(found):
                capacity = BoxCapacity(topology: found.topology, resources: resources)
                for note in found.notes { log.info("hardware: \(note)") }
                if discoverNVMe {
                    // Batch mode's fourth pool: the NVMe namespaces sysfs lists (describe them in
                    // [resources.box] nvme to leave the system drive out).
                    do { capacity.nvme = try SysfsNVMe.read(root: sysfsRoot) } catch { throw DaemonError("\(file): NVMe discovery: \(error)") }
                }
            case let .failure(error):
                // No usable sysfs (a container without /sys): one node with what the OS reports.
                let cpus = ProcessInfo.processInfo.activeProcessorCount
                let memory = ProcessInfo.processInfo.physicalMemory
                log.warn("cannot read the box's topology (\(error)); assuming one NUMA node, \(cpus) CPUs, "
                    + "\(ByteSize.short(memory)) and no GPU; describe it in [resources.box] to be exact")
                let reserve = resources.reserve(forTotal: memory)
                capacity = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<cpus)], memoryBytes: memory > reserve ? memory - reserve : 0)],
                                       gpus: [])
            }
        }
        guard capacity.cpuCount > 0 else {
            throw DaemonError(noCPULeft(file))
        }
        let post = threads.first { $0.plan == .wdpost }.map { $0.sealing.allowedSizes?.first ?? .gib32 }
        var policy = resources.admissionPolicy(postSize: post)
        policy.longStageShare = resources.longStageShare.resolved(
            auto: LongStageShare.auto(capacity: capacity, resources: resources, threads: threads.map { ($0.plan, $0.sealing.allowedSizes?.first) },
                                      defaultSize: defaultSize, batchSize: batchSize))
        if resources.pc1SpillSlowdown != nil {
            // The sizes of the PC1s the threads may run: sealer and rebuild threads run one for
            // each sector they seal or rebuild.
            let sizes = threads.filter { $0.plan == .sealer || $0.plan == .rebuild }.flatMap { $0.sealing.allowedSizes ?? [defaultSize] }
            policy.spillGranule = PC1Spill.granule(costs: resources.costTable, sizes: sizes)
        }
        log.info("resource pools: \(capacity.cpuCount) cores on \(capacity.nodes.count) node(s), \(ByteSize.short(capacity.memoryBytes)) memory, "
            + "\(capacity.hugepages) x 1GiB hugepages, \(capacity.gpus.count) GPU(s)"
            + (capacity.nvme.isEmpty ? "" : ", \(capacity.nvme.count) NVMe drive(s) with \(ByteSize.short(capacity.nvme.reduce(0) { $0 + $1.bytes })) of layer space")
            + (policy.longStageShare.target > 0 ? "; long stages (PC1) hold about \(ByteSize.short(policy.longStageShare.target)) ahead of short ones" : ""))
        return Pools(capacity: capacity, costs: resources.costTable, policy: policy, pc1Spill: resources.pc1SpillSlowdown != nil)
    }

    static func absolute(_ path: String) -> String {
        ((path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
    }
}

