/// damocles' `[[processors.<stage>]]` entries as the pools see them: a child's slots, the
/// `ext_locks` it holds while a task runs, and where it is pinned (cpuset, NUMA node, GPU).
public struct ProcessorSlot: Sendable, Hashable {
    public var index: Int
    /// `concurrent`: tasks at once on this child; nil is unbounded (damocles counts it as 64).
    public var concurrent: Int?
    public var locks: [String]
    /// `cgroup.cpuset`: the child's CPUs.
    public var cpus: Set<Int>?
    /// `numa_preferred`.
    public var node: Int?
    /// The GPU its `envs` pin it to (`CUDA_VISIBLE_DEVICES` naming one device).
    public var gpu: Int?

    public init(index: Int, concurrent: Int? = nil, locks: [String] = [], cpus: Set<Int>? = nil, node: Int? = nil, gpu: Int? = nil) {
        self.index = index
        self.concurrent = concurrent
        self.locks = locks
        self.cpus = cpus
        self.node = node
        self.gpu = gpu
    }

    /// The slot from a config entry; the GPU comes from `envs.CUDA_VISIBLE_DEVICES` when it
    /// names exactly one device.
    public init(index: Int, _ processor: ExternalProcessorConfig) {
        let visible = processor.envs["CUDA_VISIBLE_DEVICES"].map { $0.split(separator: ",") }
        self.init(index: index, concurrent: processor.concurrent, locks: processor.locks,
                  cpus: processor.cpuset.flatMap(CPUList.parse).map(Set.init), node: processor.numaPreferred,
                  gpu: visible?.count == 1 ? Int(visible![0].trimmingCharacters(in: .whitespaces)) : nil)
    }

    /// Narrows a stage's request to where this child runs.
    public func restrict(_ request: ResourceRequest) -> ResourceRequest {
        var out = request
        if let cpus { out.allowedCPUs = out.allowedCPUs.map { $0.intersection(cpus) } ?? cpus }
        if let node { out.node = node }
        if let gpu { out.allowedGPUs = [gpu] }
        return out
    }
}

/// damocles' choice of child for a task: among the children whose slot and every lock are free,
/// the one with the most room left (`concurrent`, or 64 when unbounded, minus tasks in flight).
public enum ProcessorChoice {
    public static let unboundedSlots = 64

    public static func pick(_ slots: [ProcessorSlot], inFlight: [Int], freeLocks: [String: Int]) -> Int? {
        var best: (index: Int, room: Int)?
        for (i, slot) in slots.enumerated() {
            let room = (slot.concurrent ?? unboundedSlots) - inFlight[i]
            guard room > 0, slot.locks.allSatisfy({ (freeLocks[$0] ?? 0) > 0 }) else { continue }
            if best == nil || room > best!.room { best = (i, room) }
        }
        return best?.index
    }
}
