/// One NUMA node as the pools see it: its CPUs grouped by L3 cache, the memory sealing may use,
/// and its 1 GiB hugepages.
public struct NodeCapacity: Sendable, Hashable, Codable {
    public var id: Int
    /// CPUs grouped by shared L3 cache; a node without cache data is one group.
    public var l3Groups: [[Int]]
    public var memoryBytes: UInt64
    public var hugepages: Int

    public init(id: Int, l3Groups: [[Int]], memoryBytes: UInt64, hugepages: Int = 0) {
        self.id = id
        self.l3Groups = l3Groups.filter { !$0.isEmpty }
        self.memoryBytes = memoryBytes
        self.hugepages = hugepages
    }

    public var cpus: [Int] { l3Groups.flatMap { $0 }.sorted() }
}

/// One GPU: VRAM and how many stages may run on it at once (`slots`, 1 = exclusive).
public struct GPUCapacity: Sendable, Hashable, Codable {
    public var index: Int
    public var node: Int?
    public var vramBytes: UInt64
    public var slots: Int

    public init(index: Int, node: Int?, vramBytes: UInt64, slots: Int = 1) {
        self.index = index
        self.node = node
        self.vramBytes = vramBytes
        self.slots = max(1, slots)
    }
}

/// What the box offers to the pools.
public struct BoxCapacity: Sendable, Hashable, Codable {
    public var nodes: [NodeCapacity]
    public var gpus: [GPUCapacity]
    /// NVMe layer space for batch sealing (the fourth pool); empty on a box that seals no batches.
    public var nvme: [NVMeCapacity]

    public init(nodes: [NodeCapacity], gpus: [GPUCapacity], nvme: [NVMeCapacity] = []) {
        self.nodes = nodes
        self.gpus = gpus
        self.nvme = nvme
    }

    public var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }
    public var memoryBytes: UInt64 { nodes.reduce(0) { $0 + $1.memoryBytes } }
    public var hugepages: Int { nodes.reduce(0) { $0 + $1.hugepages } }
    public var vramBytes: UInt64 { gpus.reduce(0) { $0 + $1.vramBytes } }
}

/// The resources one admitted stage holds: cores on one node, memory on that node (or, for a
/// stage whose memory is not NUMA-bound, drawn from several), maybe a GPU.
public struct Grant: Sendable, Hashable, Codable {
    public var node: Int
    public var cpus: [Int]
    /// Bytes held per node id.
    public var memory: [Int: UInt64]
    public var hugepages: Int
    public var gpu: Int?
    public var vramBytes: UInt64
    /// NVMe layer space held per device index (a batch's slot, striped over the node's drives).
    public var nvme: [Int: UInt64]

    public init(node: Int, cpus: [Int], memory: [Int: UInt64], hugepages: Int, gpu: Int?, vramBytes: UInt64, nvme: [Int: UInt64] = [:]) {
        self.node = node
        self.cpus = cpus
        self.memory = memory.filter { $0.value > 0 }
        self.hugepages = hugepages
        self.gpu = gpu
        self.vramBytes = vramBytes
        self.nvme = nvme.filter { $0.value > 0 }
    }

    /// Whether some of its memory is on another node than its cores: for a NUMA-bound stage
    /// (PC1), a spill, which runs `pc1_spill_slowdown` longer.
    public var hasRemoteMemory: Bool { memory.keys.contains { $0 != node } }

    public init(node: Int, cpus: [Int], memoryBytes: UInt64, hugepages: Int, gpu: Int?, vramBytes: UInt64) {
        self.init(node: node, cpus: cpus, memory: [node: memoryBytes], hugepages: hugepages, gpu: gpu, vramBytes: vramBytes)
    }

    /// All NVMe layer space held.
    public var nvmeBytes: UInt64 { nvme.values.reduce(0, +) }

    /// All memory held, over every node.
    public var memoryBytes: UInt64 { memory.values.reduce(0, +) }

    /// Gives up to `bytes` of memory back, remote shares first; returns what was given per node.
    public mutating func returnMemory(_ bytes: UInt64) -> [Int: UInt64] {
        var left = bytes
        var returned: [Int: UInt64] = [:]
        let order = memory.keys.sorted { ($0 == node ? 1 : 0, $0) < ($1 == node ? 1 : 0, $1) }
        for id in order where left > 0 {
            let take = min(left, memory[id] ?? 0)
            memory[id] = (memory[id] ?? 0) - take
            if memory[id] == 0 { memory[id] = nil }
            returned[id] = take
            left -= take
        }
        return returned
    }
}

/// Resources set aside for a request that has waited too long: nobody else may take from them,
/// except a stage expected to finish before `until`, when the reserved request should fit.
public struct Reservation: Sendable, Hashable {
    public var node: Int?
    public var gpu: Int?
    /// The expected time the reserved request fits (EASY backfilling's shadow time); nil: unknown.
    public var until: Duration?
    /// The reserved request's memory may come from any node, so every node's memory is held.
    public var allMemory: Bool

    public init(node: Int?, gpu: Int?, until: Duration? = nil, allMemory: Bool = false) {
        self.node = node
        self.gpu = gpu
        self.until = until
        self.allMemory = allMemory
    }
}

/// A stage holding resources and when it is expected to give them back.
public struct RunningGrant: Sendable, Hashable {
    public var grant: Grant
    public var expectedEnd: Duration
    /// A long stage's (PC1-class), which counts against the long-stage share.
    public var isLong: Bool

    public init(grant: Grant, expectedEnd: Duration, isLong: Bool = false) {
        self.grant = grant
        self.expectedEnd = expectedEnd
        self.isLong = isLong
    }
}

/// Free CPUs per node and L3 group: the CPU pool's books.
public struct CPULedger: Sendable, Hashable {
    /// Same shape as `BoxCapacity.nodes[i].l3Groups`.
    public internal(set) var free: [[Set<Int>]]
}

/// Free bytes and 1 GiB hugepages per node: the memory pool's books.
public struct MemoryLedger: Sendable, Hashable {
    public internal(set) var freeBytes: [UInt64]
    public internal(set) var freeHugepages: [Int]
}

/// Free VRAM and slots per GPU: the GPU pool's books.
public struct GPULedger: Sendable, Hashable {
    public internal(set) var freeVRAM: [UInt64]
    public internal(set) var freeSlots: [Int]
}

/// The free state of every pool: pure bookkeeping that the pool actors own (one part each) and
/// the admission policy and simulator share. `take` and `give` are exact inverses.
public struct ResourceLedger: Sendable, Hashable {
    public let capacity: BoxCapacity
    public var cpu: CPULedger
    public var memory: MemoryLedger
    public var gpu: GPULedger
    public var nvme: NVMeLedger
    /// With PC1 spilling on, the memory of the box's smallest PC1 (0: off; see
    /// `AdmissionPolicy.spillGranule`). Memory drawn from several nodes (a stage that is not
    /// NUMA-bound, a spilled PC1) then comes first from what no node can give such a PC1 whole
    /// (each node's free bytes beyond a multiple of it), so a short stage does not leave a node
    /// one PC1 short and push the next PC1 into a slow spill.
    public var memoryGranule: UInt64 = 0

    public init(_ capacity: BoxCapacity) {
        self.capacity = capacity
        cpu = CPULedger(free: capacity.nodes.map { $0.l3Groups.map(Set.init) })
        memory = MemoryLedger(freeBytes: capacity.nodes.map(\.memoryBytes), freeHugepages: capacity.nodes.map(\.hugepages))
        gpu = GPULedger(freeVRAM: capacity.gpus.map(\.vramBytes), freeSlots: capacity.gpus.map(\.slots))
        nvme = NVMeLedger(capacity)
    }

    /// Reassembles a ledger from the pools' parts (`nvme` nil: the NVMe pool is all free).
    public init(capacity: BoxCapacity, cpu: CPULedger, memory: MemoryLedger, gpu: GPULedger, nvme: NVMeLedger? = nil) {
        self.capacity = capacity
        self.cpu = cpu
        self.memory = memory
        self.gpu = gpu
        self.nvme = nvme ?? NVMeLedger(capacity)
    }

    public var hasGPUs: Bool { !capacity.gpus.isEmpty }
    /// NVMe space is asked of the pool only when the box has one (as VRAM only with GPUs).
    public var hasNVMe: Bool { !capacity.nvme.isEmpty }

    private func nodeIndex(_ id: Int) -> Int? { capacity.nodes.firstIndex { $0.id == id } }
    private func gpuIndex(_ index: Int) -> Int? { capacity.gpus.firstIndex { $0.index == index } }

    public func freeCPUCount(node i: Int) -> Int { cpu.free[i].reduce(0) { $0 + $1.count } }

    /// Where `request` fits right now, avoiding `reserved` resources, or nil. Memory is packed
    /// best-fit (the node left with the least free memory), so large requests find room; a GPU on
    /// the chosen node is preferred to a remote one.
    public func place(_ request: ResourceRequest, avoiding reserved: [Reservation] = []) -> Grant? {
        var blockedNodes = Set(reserved.compactMap(\.node))
        let blockedGPUs = Set(reserved.compactMap(\.gpu))
        let wantsGPU = request.vramBytes > 0 && hasGPUs
        // A reservation for memory from any node keeps all memory for it: only requests without
        // memory may pass.
        if request.memoryBytes > 0, reserved.contains(where: \.allMemory) { blockedNodes = Set(capacity.nodes.map(\.id)) }
        // Memory a stage that is not NUMA-bound may draw from other (unreserved) nodes.
        // A spillable NUMA-bound request draws from one other node at most.
        let open = capacity.nodes.indices.filter { !blockedNodes.contains(capacity.nodes[$0].id) }
        let spare = request.numaBound
            ? (request.spillable ? (open.map { memory.freeBytes[$0] }.sorted(by: >).prefix(2).reduce(0, +)) : 0)
            : open.reduce(UInt64(0)) { $0 + memory.freeBytes[$1] }
        var candidates: [(index: Int, left: UInt64, spills: Bool)] = []
        for (i, node) in capacity.nodes.enumerated() where !blockedNodes.contains(node.id) {
            if let only = request.node, only != node.id { continue }
            guard memory.freeHugepages[i] >= request.hugepages, pickCPUs(request, node: i) != nil,
                  request.nvmeBytes == 0 || !hasNVMe || nvme.free(near: node.id) >= request.nvmeBytes else { continue }
            if memory.freeBytes[i] >= request.memoryBytes {
                candidates.append((i, memory.freeBytes[i] - request.memoryBytes, false))
            } else if !request.numaBound || request.spillable, spare >= request.memoryBytes,
                      !request.numaBound || (open.filter { $0 != i }.map { memory.freeBytes[$0] }.max() ?? 0) + memory.freeBytes[i] >= request.memoryBytes {
                candidates.append((i, 0, true))
            }
        }
        // Best fit on the node, spilling only when no node has room; GPU near the cores.
        // A batch box packs cores instead (the node with the fewest whole free L3 groups), so
        // batch PC1 finds whole groups.
        let packCores = hasNVMe && !request.wholeL3
        candidates.sort { a, b in
            let ca = packCores ? wholeFreeGroups(a.index) : 0, cb = packCores ? wholeFreeGroups(b.index) : 0
            return (a.spills ? 1 : 0, ca, a.left, capacity.nodes[a.index].id) < (b.spills ? 1 : 0, cb, b.left, capacity.nodes[b.index].id)
        }
        for candidate in candidates {
            let node = capacity.nodes[candidate.index]
            var gpu: Int?
            if wantsGPU {
                guard let chosen = pickGPU(request, near: node.id, avoiding: blockedGPUs) else { return nil }
                gpu = chosen
            }
            if memoryGranule > 0, !request.numaBound || candidate.spills, request.memoryBytes > 0 {
                let open = capacity.nodes.indices.filter { !blockedNodes.contains(capacity.nodes[$0].id) }
                let shares = splitByGranule(request.memoryBytes, primary: candidate.index, among: open, atMostTwo: request.numaBound)
                if shares.isEmpty { return nil }
                let cpus = pickCPUs(request, node: candidate.index) ?? []
                return Grant(node: node.id, cpus: cpus, memory: shares, hugepages: request.hugepages,
                             gpu: gpu, vramBytes: wantsGPU ? request.vramBytes : 0, nvme: nvme.stripe(request.nvmeBytes, near: node.id))
            }
            var shares: [Int: UInt64] = [:]
            var needed = request.memoryBytes
            let local = min(needed, memory.freeBytes[candidate.index])
            shares[node.id] = local
            needed -= local
            if needed > 0 {
                let others = capacity.nodes.indices.filter { $0 != candidate.index && !blockedNodes.contains(capacity.nodes[$0].id) }
                    .sorted { memory.freeBytes[$0] > memory.freeBytes[$1] }
                for j in others.prefix(request.numaBound ? 1 : others.count) where needed > 0 {
                    let take = min(needed, memory.freeBytes[j])
                    shares[capacity.nodes[j].id, default: 0] += take
                    needed -= take
                }
            }
            let cpus = pickCPUs(request, node: candidate.index) ?? []
            return Grant(node: node.id, cpus: cpus, memory: shares, hugepages: request.hugepages,
                         gpu: gpu, vramBytes: wantsGPU ? request.vramBytes : 0, nvme: nvme.stripe(request.nvmeBytes, near: node.id))
        }
        return nil
    }

    /// `bytes` drawn from the nodes `open` (node id to amount): first from fragments (free bytes
    /// beyond a multiple of `memoryGranule`), largest first, then by breaking whole granules,
    /// from the node with the most free. A spill (`atMostTwo`) draws from `primary`, the node
    /// of its cores, and the one other node that breaks the fewest granules. Empty: no room.
    private func splitByGranule(_ bytes: UInt64, primary: Int, among open: [Int], atMostTwo: Bool) -> [Int: UInt64] {
        let granule = memoryGranule
        func split(_ nodes: [Int]) -> (shares: [Int: UInt64], broken: UInt64)? {
            var needed = bytes, broken: UInt64 = 0
            var taken: [Int: UInt64] = [:]
            // Ties go to the primary node, then to the lower index.
            func order(_ key: @escaping (Int) -> UInt64) -> [Int] {
                nodes.sorted { (key($0), $0 == primary ? 1 : 0, -$0) > (key($1), $1 == primary ? 1 : 0, -$1) }
            }
            for j in order({ self.memory.freeBytes[$0] % granule }) where needed > 0 {
                let take = min(needed, memory.freeBytes[j] % granule)
                taken[j, default: 0] += take
                needed -= take
            }
            for j in order({ self.memory.freeBytes[$0] }) where needed > 0 {
                let take = min(needed, memory.freeBytes[j] - taken[j, default: 0])
                taken[j, default: 0] += take
                needed -= take
                broken += (take + granule - 1) / granule
            }
            guard needed == 0 else { return nil }
            var shares: [Int: UInt64] = [:]
            for (j, amount) in taken where amount > 0 { shares[capacity.nodes[j].id] = amount }
            return (shares, broken)
        }
        guard atMostTwo else { return split(open)?.shares ?? [:] }
        let pairs = open.filter { $0 != primary }.compactMap { split([primary, $0]) }
        return pairs.min { $0.broken < $1.broken }?.shares ?? [:]
    }

    /// L3 groups of node `i` with every core free.
    private func wholeFreeGroups(_ i: Int) -> Int {
        cpu.free[i].indices.count { cpu.free[i][$0].count == capacity.nodes[i].l3Groups[$0].count }
    }

    /// The lowest free CPUs that satisfy the request on node `i`: inside the fullest L3 group
    /// that still has room when the request wants one L3, else across groups.
    private func pickCPUs(_ request: ResourceRequest, node i: Int) -> [Int]? {
        let groups = cpu.free[i].map { group in
            request.allowedCPUs.map { group.intersection($0) } ?? group
        }
        let total = groups.reduce(0) { $0 + $1.count }
        guard total >= request.cores else { return nil }
        if request.cores == 0 { return [] }
        let groupSize = capacity.nodes[i].l3Groups.map(\.count).max() ?? 0
        if request.wholeL3 {
            // Whole, wholly free L3 groups (SupraSeal gives each CCX a coordinator core), the
            // fewest that hold `cores`, smallest first.
            let whole = cpu.free[i].indices.filter { g in
                let group = Set(capacity.nodes[i].l3Groups[g])
                return cpu.free[i][g] == group && (request.allowedCPUs.map { group.isSubset(of: $0) } ?? true)
            }.sorted { (capacity.nodes[i].l3Groups[$0].count, -$0) > (capacity.nodes[i].l3Groups[$1].count, -$1) }
            var picked: [Int] = []
            for g in whole where picked.count < request.cores { picked += capacity.nodes[i].l3Groups[g] }
            return picked.count >= request.cores ? picked.sorted() : nil
        }
        if request.sameL3, request.cores <= groupSize {
            let fitting = groups.filter { $0.count >= request.cores }.min { ($0.count, $0.min() ?? 0) < ($1.count, $1.min() ?? 0) }
            guard let group = fitting else { return nil }
            return Array(group.sorted().prefix(request.cores))
        }
        if hasNVMe {
            // A batch box keeps whole L3 groups free for batch PC1: other stages fill the groups
            // already in use first.
            let ordered = groups.indices.sorted { (groups[$0].count == capacity.nodes[i].l3Groups[$0].count ? 1 : 0, $0) <
                (groups[$1].count == capacity.nodes[i].l3Groups[$1].count ? 1 : 0, $1) }
            return Array(ordered.flatMap { groups[$0].sorted() }.prefix(request.cores)).sorted()
        }
        return Array(groups.flatMap { $0 }.sorted().prefix(request.cores))
    }

    private func pickGPU(_ request: ResourceRequest, near node: Int, avoiding blocked: Set<Int>) -> Int? {
        let fitting = capacity.gpus.indices.filter { g in
            !blocked.contains(capacity.gpus[g].index) && (request.allowedGPUs?.contains(capacity.gpus[g].index) ?? true)
                && gpu.freeVRAM[g] >= request.vramBytes
                && gpu.freeSlots[g] + request.extraGPUSlots > 0
        }
        // Local first, then the fullest that fits (best fit keeps whole GPUs free for big proofs).
        let best = fitting.min { a, b in
            let localA = capacity.gpus[a].node == node ? 0 : 1
            let localB = capacity.gpus[b].node == node ? 0 : 1
            return (localA, gpu.freeVRAM[a], capacity.gpus[a].index) < (localB, gpu.freeVRAM[b], capacity.gpus[b].index)
        }
        return best.map { capacity.gpus[$0].index }
    }

    /// Marks a grant's resources as held.
    public mutating func take(_ grant: Grant) {
        guard let i = nodeIndex(grant.node) else { return }
        for id in grant.cpus {
            for g in cpu.free[i].indices where cpu.free[i][g].remove(id) != nil { break }
        }
        for (id, bytes) in grant.memory { if let j = nodeIndex(id) { memory.freeBytes[j] -= bytes } }
        memory.freeHugepages[i] -= grant.hugepages
        if let device = grant.gpu, let g = gpuIndex(device) {
            gpu.freeVRAM[g] -= grant.vramBytes
            gpu.freeSlots[g] -= 1
        }
        nvme.take(grant.nvme)
    }

    /// Returns a grant's resources.
    public mutating func give(_ grant: Grant) {
        guard let i = nodeIndex(grant.node) else { return }
        for id in grant.cpus {
            if let g = capacity.nodes[i].l3Groups.firstIndex(where: { $0.contains(id) }) { cpu.free[i][g].insert(id) }
        }
        for (id, bytes) in grant.memory { if let j = nodeIndex(id) { memory.freeBytes[j] += bytes } }
        memory.freeHugepages[i] += grant.hugepages
        if let device = grant.gpu, let g = gpuIndex(device) {
            gpu.freeVRAM[g] += grant.vramBytes
            gpu.freeSlots[g] += 1
        }
        nvme.give(grant.nvme)
    }

    /// Returns memory a grant gave up early (`Grant.returnMemory`).
    public mutating func giveMemory(_ shares: [Int: UInt64]) {
        for (id, bytes) in shares { if let i = nodeIndex(id) { memory.freeBytes[i] += bytes } }
    }

    /// A node's free amounts, for explanations.
    public func free(node id: Int) -> (cpus: Int, memoryBytes: UInt64, hugepages: Int)? {
        guard let i = nodeIndex(id) else { return nil }
        return (freeCPUCount(node: i), memory.freeBytes[i], memory.freeHugepages[i])
    }

    public func free(gpu index: Int) -> (vramBytes: UInt64, slots: Int)? {
        guard let g = gpuIndex(index) else { return nil }
        return (gpu.freeVRAM[g], gpu.freeSlots[g])
    }
}
