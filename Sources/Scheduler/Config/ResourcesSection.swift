import ProofsFFI

/// Ours: `[resources]`, how the pools see the box and what stages cost.
public struct ResourcesSection: Sendable, Hashable {
    /// A described box instead of the discovered one (simulation, demos, tests).
    public var box: BoxSpec?
    /// Keep only these CPUs, NUMA nodes and GPUs (the rest belongs to other software).
    public var cpus: Set<Int>?
    public var nodes: Set<Int>?
    public var gpus: Set<Int>?
    /// Memory kept from sealing for the OS and page cache (the PC1 parent cache lives there);
    /// nil: 4 GiB, or an eighth of the memory on a box smaller than 32 GiB.
    public var memoryReserve: UInt64?

    /// The reserve for a box with `total` bytes of memory.
    public func reserve(forTotal total: UInt64) -> UInt64 {
        memoryReserve ?? min(4 << 30, total / 8)
    }
    /// Stages that may run on one GPU at once.
    public var gpuSlots = 1
    /// Bypasses after which a waiting request reserves the resources it needs.
    public var starvationLimit = 32
    /// Waiting time after which a request reserves the resources it needs.
    public var starvationWait: Duration = .seconds(6 * 3600)
    /// Stages expected to run longer than this may not use WindowPoSt's room, so a PoSt waits
    /// at most this long for sealing.
    public var postHeadroom: Duration = .seconds(15 * 60)
    /// How many WindowPoSt runs the headroom keeps room for (0: none).
    public var postReserve = 1
    /// `long_stage_share`: memory long stages (PC1) may hold ahead of short ones (C2, PC2).
    public var longStageShare: LongStageShare = .auto
    /// Cost overrides by size (nil: every size) and stage.
    public var costs: [CostOverride] = []
    /// `pc1_spill_slowdown`: a PC1 that finds no node with room may take its memory from two
    /// nodes, running this fraction longer (0.3: 30%); nil (the default): PC1 never spills.
    public var pc1SpillSlowdown: Double?

    public init() {}

    /// The admission policy these settings ask for. `postSize`: the sector size of the box's
    /// WindowPoSt runs, when it does any (they get `post_reserve` runs' worth of headroom).
    public func admissionPolicy(postSize: SectorSize?) -> AdmissionPolicy {
        let post = postSize.map { ResourceRequest(stage: .windowPost, cost: costTable.cost(.windowPost, $0)) }
        return AdmissionPolicy(starvationLimit: starvationLimit, starvationWait: starvationWait,
                               headroom: post.map { Array(repeating: $0, count: postReserve) } ?? [], headroomWait: postHeadroom)
    }

    /// What `[resources.box]` describes, or nil when the box is to be discovered.
    public var describedCapacity: BoxCapacity? {
        box?.capacity(memoryReserve: memoryReserve, gpuSlots: gpuSlots)
    }

    /// The cost table: defaults with the overrides applied in file order.
    public var costTable: CostTable {
        var table = CostTable.defaults
        for override in costs {
            for size in override.size.map({ [$0] }) ?? SectorSize.allCases {
                table.set(override.stage, size, override.apply(to: table.cost(override.stage, size)))
            }
        }
        return table
    }
}

/// `[resources.costs.<stage>]` or `[resources.costs."<size>".<stage>]`: fields set replace defaults.
public struct CostOverride: Sendable, Hashable {
    public var size: SectorSize?
    public var stage: ProofStage
    public var cores: Int?
    public var sameL3: Bool?
    public var memoryBytes: UInt64?
    public var hugepages: Int?
    public var vramBytes: UInt64?
    public var duration: Duration?

    public func apply(to cost: StageCost) -> StageCost {
        var out = cost
        if let cores { out.cores = cores }
        if let sameL3 { out.sameL3 = sameL3 }
        if let memoryBytes { out.memoryBytes = memoryBytes }
        if let hugepages { out.hugepages = hugepages }
        if let vramBytes { out.vramBytes = vramBytes }
        if let duration { out.duration = duration }
        return out
    }
}

/// `[resources.box]`: a box described by its shape rather than discovered.
public struct BoxSpec: Sendable, Hashable {
    public var nodes = 1
    public var coresPerNode = 16
    /// Cores sharing one L3 cache (8 on Zen CCXs).
    public var coresPerL3 = 8
    public var memory: UInt64 = 64 << 30
    public var hugepagesPerNode = 0
    public var gpus = 0
    public var gpuVRAM: UInt64 = 24 << 30
    /// NVMe drives for batch sealing's layers, by size; spread over nodes in order like GPUs.
    public var nvme: [UInt64] = []

    public init() {}

    /// The pools' view: memory split evenly over nodes, less hugepages and the reserve; GPUs
    /// spread over nodes in order.
    public func capacity(memoryReserve: UInt64?, gpuSlots: Int) -> BoxCapacity {
        let perNode = memory / UInt64(nodes)
        let reservePerNode = (memoryReserve ?? ResourcesSection().reserve(forTotal: memory)) / UInt64(nodes)
        let nodeList = (0..<nodes).map { n in
            let first = n * coresPerNode
            let groups = stride(from: 0, to: coresPerNode, by: max(1, coresPerL3)).map { start in
                Array(first + start ..< first + min(coresPerNode, start + max(1, coresPerL3)))
            }
            let huge = UInt64(hugepagesPerNode) << 30
            let usable = perNode > huge + reservePerNode ? perNode - huge - reservePerNode : 0
            return NodeCapacity(id: n, l3Groups: groups, memoryBytes: usable, hugepages: hugepagesPerNode)
        }
        let gpuList = (0..<gpus).map { g in GPUCapacity(index: g, node: g * nodes / max(1, gpus), vramBytes: gpuVRAM, slots: gpuSlots) }
        let drives = nvme.enumerated().map { d, bytes in NVMeCapacity(index: d, node: d * nodes / max(1, nvme.count), bytes: bytes) }
        return BoxCapacity(nodes: nodeList, gpus: gpuList, nvme: drives)
    }
}

extension BoxCapacity {
    /// The pools' view of a discovered topology: each node's memory less its hugepages and a
    /// share of the reserve, restricted as configured.
    public init(topology: Topology, resources: ResourcesSection) {
        let t = topology.restricted(toCPUs: resources.cpus, nodes: resources.nodes, gpus: resources.gpus)
        let count = UInt64(max(1, t.nodes.count))
        let nodes = t.nodes.map { node in
            let giant = node.hugepages.first { $0.pageBytes == 1 << 30 }
            let huge = UInt64(giant?.total ?? 0) << 30
            let reserve = resources.reserve(forTotal: t.totalMemoryBytes) / count
            let usable = node.memoryBytes > huge + reserve ? node.memoryBytes - huge - reserve : 0
            let groups = node.l3Groups.map { $0.filter(node.cpus.contains) }
            return NodeCapacity(id: node.id, l3Groups: groups, memoryBytes: usable, hugepages: giant?.free ?? 0)
        }
        let gpus = t.gpus.map { GPUCapacity(index: $0.index, node: $0.numaNode, vramBytes: $0.vramBytes, slots: resources.gpuSlots) }
        self.init(nodes: nodes, gpus: gpus)
    }
}

extension ConfigDecoder {
    static func decodeResources(_ r: inout TableReader, _ log: inout DiagnosticLog) -> ResourcesSection {
        var section = ResourcesSection()
        if var box = r.table("box", &log) {
            var spec = BoxSpec()
            spec.nodes = box.int("nodes", &log, range: 1...64).map(Int.init) ?? spec.nodes
            spec.coresPerNode = box.int("cores_per_node", &log, range: 1...4096).map(Int.init) ?? spec.coresPerNode
            spec.coresPerL3 = box.int("cores_per_l3", &log, range: 1...4096).map(Int.init) ?? spec.coresPerL3
            spec.memory = box.byteSize("memory", &log)?.bytes ?? spec.memory
            spec.hugepagesPerNode = box.int("hugepages_per_node", &log, range: 0...1_000_000).map(Int.init) ?? 0
            spec.gpus = box.int("gpus", &log, range: 0...64).map(Int.init) ?? 0
            spec.gpuVRAM = box.byteSize("gpu_vram", &log)?.bytes ?? spec.gpuVRAM
            for (i, value) in (box.array("nvme", &log) ?? []).enumerated() {
                let text: String? = switch value {
                case let .string(t): t
                case let .integer(n): n > 0 ? String(n) : nil
                default: nil
                }
                guard let text, let size = ByteSize(parsing: text), size.bytes > 0 else {
                    log.error("\(box.keyPath("nvme"))[\(i)]", box.position("nvme"), "expected a drive size such as \"15.36TB\", found \(TableReader.describe(value))")
                    continue
                }
                spec.nvme.append(size.bytes)
            }
            box.reportUnknown(&log)
            section.box = spec
        }
        func ints(_ key: String) -> Set<Int>? {
            guard let values = r.array(key, &log) else { return nil }
            var out = Set<Int>()
            for (i, value) in values.enumerated() {
                guard case let .integer(n) = value, n >= 0, n < 65536 else {
                    log.error("\(r.keyPath(key))[\(i)]", r.position(key), "expected a non-negative integer, found \(TableReader.describe(value))")
                    return nil
                }
                out.insert(Int(n))
            }
            return out
        }
        if let text = r.string("cpus", &log) {
            if let cpus = CPUList.parse(text), !cpus.isEmpty { section.cpus = Set(cpus) } else {
                log.error(r.keyPath("cpus"), r.position("cpus"), "invalid cpu list \"\(text)\" (write e.g. \"0-63,128-191\")")
            }
        }
        section.nodes = ints("nodes")
        section.gpus = ints("gpus")
        section.memoryReserve = r.byteSize("memory_reserve", &log)?.bytes
        section.gpuSlots = r.int("gpu_slots", &log, range: 1...64).map(Int.init) ?? section.gpuSlots
        section.starvationLimit = r.int("starvation_limit", &log, range: 0...1_000_000).map(Int.init) ?? section.starvationLimit
        section.starvationWait = r.positiveDuration("starvation_wait", &log) ?? section.starvationWait
        section.postHeadroom = r.duration("post_headroom", &log) ?? section.postHeadroom
        section.postReserve = r.int("post_reserve", &log, range: 0...64).map(Int.init) ?? section.postReserve
        section.pc1SpillSlowdown = r.fraction("pc1_spill_slowdown", &log)
        switch r.table["long_stage_share"] {
        case nil: break
        case .string("auto")?:
            _ = r.string("long_stage_share", &log)
            section.longStageShare = .auto
        case .string("off")?:
            _ = r.string("long_stage_share", &log)
            section.longStageShare = .off
        case let .string(text)? where ByteSize(parsing: text) == nil:
            _ = r.string("long_stage_share", &log)
            log.error(r.keyPath("long_stage_share"), r.position("long_stage_share"),
                      "long_stage_share is \"auto\", \"off\" or a size such as \"832GiB\", not \"\(text)\"")
        default:
            if let size = r.byteSize("long_stage_share", &log) { section.longStageShare = .bytes(size.bytes) }
        }
        if var costs = r.table("costs", &log) {
            for entry in costs.table.entries {
                if let stage = ProofStage(rawValue: entry.key) {
                    if var t = costs.table(entry.key, &log) { section.costs.append(decodeCost(&t, size: nil, stage: stage, &log)) }
                } else if let bytes = ByteSize(parsing: entry.key), let size = SectorSize(rawValue: bytes.bytes) {
                    guard var bySize = costs.table(entry.key, &log) else { continue }
                    for inner in bySize.table.entries {
                        guard let stage = ProofStage(rawValue: inner.key) else {
                            log.error(bySize.keyPath(inner.key), inner.position, unknownStage(inner.key))
                            continue
                        }
                        if var t = bySize.table(inner.key, &log) { section.costs.append(decodeCost(&t, size: size, stage: stage, &log)) }
                    }
                } else {
                    _ = costs.table(entry.key, &log)
                    log.error(costs.keyPath(entry.key), entry.position, "\"\(entry.key)\" is neither a stage nor a sector size; " + unknownStage(entry.key))
                }
            }
        }
        r.reportUnknown(&log)
        return section
    }

    static func unknownStage(_ name: String) -> String {
        "unknown stage \"\(name)\"; stages: \(ProofStage.allCases.map(\.rawValue).joined(separator: ", "))"
    }

    private static func decodeCost(_ t: inout TableReader, size: SectorSize?, stage: ProofStage, _ log: inout DiagnosticLog) -> CostOverride {
        var o = CostOverride(size: size, stage: stage)
        o.cores = t.int("cores", &log, range: 0...4096).map(Int.init)
        o.sameL3 = t.bool("same_l3", &log)
        o.memoryBytes = t.byteSize("memory", &log)?.bytes
        o.hugepages = t.int("hugepages", &log, range: 0...1_000_000).map(Int.init)
        o.vramBytes = t.byteSize("vram", &log)?.bytes
        o.duration = t.duration("duration", &log)
        t.reportUnknown(&log)
        return o
    }
}
