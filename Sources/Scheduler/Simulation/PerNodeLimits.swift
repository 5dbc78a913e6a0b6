import ProofsFFI

extension StaticLimits {
    /// The limits as a careful damocles operator writes them on a NUMA box: the stage limits
    /// stay, PC1 (or a batch PC1) runs on one `[[processors.pc1]]` per node (`numa_preferred`, a `cgroup.cpuset` of
    /// whole L3 groups, its own `concurrent`, together no more than the PC1 limit), and each GPU
    /// stage on one child per GPU (`CUDA_VISIBLE_DEVICES`) holding that GPU's `ext_locks` entry,
    /// so two GPU stages never share a device beyond its slots. A lock shared by stages becomes
    /// an `ext_locks` entry their children hold. Nil when the mix has no PC1 or a node cannot
    /// hold one.
    static func pinned(_ limits: StaticLimits, _ setup: SimulationSetup) -> StaticLimits? {
        let capacity = setup.capacity
        guard let layers = layerStage(in: Array(limits.perStage.keys)), let total = limits.perStage[layers], total > 0 else { return nil }
        let sizes = setup.workload.sectors.filter { setup.workload.flow($0.kind).contains(.stage(layers)) }.map(\.size)
        guard !sizes.isEmpty else { return nil }
        var pc1 = setup.request(layers, sizes[0])
        for size in sizes {
            let r = setup.request(layers, size)
            pc1.memoryBytes = max(pc1.memoryBytes, r.memoryBytes)
            pc1.hugepages = max(pc1.hugepages, r.hugepages)
            pc1.cores = max(pc1.cores, r.cores)
        }
        // Most PC1s each node holds, then the limit dealt round-robin over the nodes.
        let most = capacity.nodes.map { node -> Int in
            var n = pc1.memoryBytes > 0 ? Int(min(node.memoryBytes / pc1.memoryBytes, 4096)) : 4096
            if pc1.hugepages > 0 { n = min(n, node.hugepages / pc1.hugepages) }
            if pc1.cores > 0 { n = min(n, pc1.sameL3 ? node.l3Groups.reduce(0) { $0 + $1.count / pc1.cores } : node.cpus.count / pc1.cores) }
            return n
        }
        var counts = Array(repeating: 0, count: capacity.nodes.count)
        var left = total
        while left > 0 {
            let open = counts.indices.filter { counts[$0] < most[$0] }
            guard !open.isEmpty else { break }
            for i in open where left > 0 {
                counts[i] += 1
                left -= 1
            }
        }
        guard counts.reduce(0, +) > 0 else { return nil }
        var out = limits
        out.locks = [:]
        var slots: [ProcessorSlot] = []
        var pinnedCPUs: [Int: Set<Int>] = [:]
        for (i, node) in capacity.nodes.enumerated() where counts[i] > 0 {
            var cpus: [Int] = []
            if pc1.sameL3, pc1.cores > 0 {
                var room = 0
                for group in node.l3Groups where room < counts[i] {
                    cpus += group
                    room += group.count / pc1.cores
                }
            } else {
                cpus = Array(node.cpus.prefix(max(1, counts[i] * pc1.cores)))
            }
            pinnedCPUs[node.id] = Set(cpus)
            slots.append(ProcessorSlot(index: slots.count, concurrent: counts[i], cpus: Set(cpus), node: node.id))
        }
        out.processors[layers] = slots
        // GPU stages: one child per GPU on the cores PC1 leaves on the GPU's node.
        let gpuStages = capacity.gpus.isEmpty ? [] : limits.perStage.keys.filter { stage in
            stage != .windowPost && stage != layers
                && setup.workload.sectors.contains { setup.workload.flow($0.kind).contains(.stage(stage)) && setup.request(stage, $0.size).vramBytes > 0 }
        }.sorted { $0.rawValue < $1.rawValue }
        for gpu in capacity.gpus { if !gpuStages.isEmpty { out.extLocks["gpu\(gpu.index)"] = gpu.slots } }
        for stage in gpuStages {
            let shared = limits.locks.filter { $0.value.stages.contains(stage) }
            for (name, lock) in shared { out.extLocks[name] = lock.limit }
            out.processors[stage] = capacity.gpus.enumerated().map { i, gpu in
                var cpus: Set<Int>?
                if let nodeID = gpu.node, let node = capacity.nodes.first(where: { $0.id == nodeID }) {
                    let free = Set(node.cpus).subtracting(pinnedCPUs[nodeID] ?? [])
                    if free.count >= setup.request(stage, sizes[0]).cores, !free.isEmpty { cpus = free }
                }
                return ProcessorSlot(index: i, concurrent: gpu.slots, locks: ["gpu\(gpu.index)"] + shared.keys.sorted(), cpus: cpus, node: nil, gpu: gpu.index)
            }
        }
        return out
    }
}
