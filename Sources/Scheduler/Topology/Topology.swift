import Foundation

/// The machine the scheduler places work on: NUMA nodes (CPUs, caches, memory) and GPUs.
public struct Topology: Sendable, Hashable, Codable {
    public var nodes: [NUMANode]
    public var gpus: [GPUDevice]

    public init(nodes: [NUMANode], gpus: [GPUDevice] = []) {
        self.nodes = nodes
        self.gpus = gpus
    }

    enum CodingKeys: String, CodingKey {
        case nodes
        case gpus
    }

    /// Number of CPUs (hardware threads) over all nodes.
    public var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }

    /// Installed memory over all nodes.
    public var totalMemoryBytes: UInt64 { nodes.reduce(0) { $0 + $1.memoryBytes } }

    /// The node holding `cpu`, or nil when no node lists it.
    public func node(ofCPU cpu: Int) -> NUMANode? {
        nodes.first { $0.cpus.contains(cpu) }
    }

    /// Applies config overrides: keeps only the given CPUs, nodes and GPU indices (nil = keep all).
    /// A node whose CPUs were all filtered away is dropped; a node that never had CPUs is kept
    /// only if it has memory (and passes the node filter). GPU indices are left unchanged.
    public func restricted(toCPUs cpus: Set<Int>?, nodes nodeIDs: Set<Int>?, gpus gpuIDs: Set<Int>?) -> Topology {
        var kept: [NUMANode] = []
        for node in nodes {
            if let nodeIDs, !nodeIDs.contains(node.id) { continue }
            guard let cpus else {
                if !node.cpus.isEmpty || node.memoryBytes > 0 { kept.append(node) }
                continue
            }
            if node.cpus.isEmpty {
                if node.memoryBytes > 0 { kept.append(node) }
                continue
            }
            let keep = node.cpus.filter { cpus.contains($0) }
            if keep.isEmpty { continue }
            var n = node
            n.cpus = keep
            n.l3Groups = node.l3Groups.map { $0.filter { cpus.contains($0) } }.filter { !$0.isEmpty }
            n.cores = node.cores.map { $0.filter { cpus.contains($0) } }.filter { !$0.isEmpty }
            kept.append(n)
        }
        let keptGPUs = gpuIDs.map { ids in gpus.filter { ids.contains($0.index) } } ?? gpus
        return Topology(nodes: kept, gpus: keptGPUs)
    }
}

/// One NUMA node: its CPUs grouped by shared L3 and by physical core, plus its memory.
public struct NUMANode: Sendable, Hashable, Codable {
    public var id: Int
    /// Sorted CPU (hardware thread) numbers.
    public var cpus: [Int]
    /// CPUs sharing one L3 cache; one group of all CPUs when unknown.
    public var l3Groups: [[Int]]
    /// Hyperthread sibling sets (one per physical core); each CPU alone when unknown.
    public var cores: [[Int]]
    public var memoryBytes: UInt64
    /// Free memory at read time, when the source reports it.
    public var freeMemoryBytes: UInt64?
    public var hugepages: [HugepagePool]

    public init(
        id: Int, cpus: [Int], l3Groups: [[Int]]? = nil, cores: [[Int]]? = nil, memoryBytes: UInt64,
        freeMemoryBytes: UInt64? = nil, hugepages: [HugepagePool] = []
    ) {
        self.id = id
        self.cpus = cpus
        self.l3Groups = l3Groups ?? (cpus.isEmpty ? [] : [cpus])
        self.cores = cores ?? cpus.map { [$0] }
        self.memoryBytes = memoryBytes
        self.freeMemoryBytes = freeMemoryBytes
        self.hugepages = hugepages
    }

    enum CodingKeys: String, CodingKey {
        case id
        case cpus
        case l3Groups = "l3_groups"
        case cores
        case memoryBytes = "memory_bytes"
        case freeMemoryBytes = "free_memory_bytes"
        case hugepages
    }
}

/// Hugepages of one size reserved on a node.
public struct HugepagePool: Sendable, Hashable, Codable {
    public var pageBytes: UInt64
    public var total: Int
    public var free: Int

    public init(pageBytes: UInt64, total: Int, free: Int) {
        self.pageBytes = pageBytes
        self.total = total
        self.free = free
    }

    enum CodingKeys: String, CodingKey {
        case pageBytes = "page_bytes"
        case total
        case free
    }
}

/// One GPU as the scheduler sees it; `index` is the NVML / nvidia-smi index (PCI bus order).
public struct GPUDevice: Sendable, Hashable, Codable {
    public var index: Int
    public var name: String
    public var uuid: String
    public var vramBytes: UInt64
    public var pciBusID: String
    /// NUMA node the GPU is attached to; nil when unknown (e.g. VMs report -1).
    public var numaNode: Int?

    public init(index: Int, name: String, uuid: String, vramBytes: UInt64, pciBusID: String, numaNode: Int? = nil) {
        self.index = index
        self.name = name
        self.uuid = uuid
        self.vramBytes = vramBytes
        self.pciBusID = pciBusID
        self.numaNode = numaNode
    }

    enum CodingKeys: String, CodingKey {
        case index
        case name
        case uuid
        case vramBytes = "vram_bytes"
        case pciBusID = "pci_bus_id"
        case numaNode = "numa_node"
    }

    /// Canonical PCI address for matching sources: lowercase, 4-digit domain
    /// ("00000000:00:06.0" and "0000:00:06.0" both become "0000:00:06.0").
    public static func normalizedBusID(_ id: String) -> String {
        let lower = id.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = lower.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return lower }
        var domain = Substring(parts[0])
        while domain.count > 4, domain.first == "0" { domain = domain.dropFirst() }
        let padded = String(repeating: "0", count: max(0, 4 - domain.count)) + domain
        return "\(padded):\(parts[1]):\(parts[2])"
    }
}

/// Linux cpulist syntax ("0-7,32-39"), as in sysfs `cpulist` files and config overrides.
public enum CPUList {
    /// CPU numbers at or above this are refused (a typo must not expand to billions of CPUs).
    public static let limit = 1 << 16

    /// Parses a cpulist; returns sorted unique CPUs, [] for an empty list, nil when malformed.
    public static func parse(_ text: String) -> [Int]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        var result = Set<Int>()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let range = part.split(separator: "-", omittingEmptySubsequences: false)
            switch range.count {
            case 1:
                guard let v = Int(range[0].trimmingCharacters(in: .whitespaces)), v >= 0, v < limit else { return nil }
                result.insert(v)
            case 2:
                guard let a = Int(range[0].trimmingCharacters(in: .whitespaces)), let b = Int(range[1].trimmingCharacters(in: .whitespaces)),
                      a >= 0, b >= a, b < limit else { return nil }
                for v in a...b { result.insert(v) }
            default:
                return nil
            }
        }
        return result.sorted()
    }

    /// Formats CPUs as compact ranges ("0-3,8"); "" for none.
    public static func format(_ cpus: [Int]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

extension NUMANode {
    /// Splits `cpus` into the given sets (restricted to `cpus`, deduplicated, ordered by first CPU);
    /// CPUs no set covers become one extra group or singletons. Shared by the topology readers.
    public static func partition(_ cpus: [Int], by sets: [[Int]], leftoversTogether: Bool) -> [[Int]] {
        let own = Set(cpus)
        var seen = Set<[Int]>()
        var groups: [[Int]] = []
        var covered = Set<Int>()
        for set in sets {
            let g = Array(Set(set).intersection(own)).sorted()
            if g.isEmpty || g.contains(where: covered.contains) || !seen.insert(g).inserted { continue }
            groups.append(g)
            covered.formUnion(g)
        }
        let rest = cpus.filter { !covered.contains($0) }
        if !rest.isEmpty {
            if leftoversTogether { groups.append(rest) } else { groups.append(contentsOf: rest.map { [$0] }) }
        }
        return groups.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    }
}
