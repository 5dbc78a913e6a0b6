import ProofsFFI

/// Operator-set limits: per stage, and counting locks that several stages share.
public struct StaticLimits: Sendable, Hashable, CustomStringConvertible {
    /// An `ext_locks` entry: at most `limit` runs of these stages at once, together.
    public struct SharedLock: Sendable, Hashable {
        public var limit: Int
        public var stages: Set<ProofStage>
    }

    public var perStage: [ProofStage: Int]
    public var locks: [String: SharedLock]
    /// `[[processors.<stage>]]` children: a stage listed here runs only on them (pinned to a node's
    /// cpuset, or to one GPU), one of its children chosen as damocles does; others run built-in.
    public var processors: [ProofStage: [ProcessorSlot]] = [:]
    /// `[processors.ext_locks]` the children's `locks` name.
    public var extLocks: [String: Int] = [:]

    public init(perStage: [ProofStage: Int], locks: [String: SharedLock] = [:]) {
        self.perStage = perStage
        self.locks = locks
    }

    public var description: String {
        let stages = perStage.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key)=\($0.value)" }
        let locked = locks.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.limit)[\($0.value.stages.map(\.rawValue).sorted().joined(separator: "+"))]" }
        let children = processors.sorted { $0.key.rawValue < $1.key.rawValue }.map { stage, slots in
            "\(stage.rawValue)[" + slots.map { slot in
                (slot.node.map { "n\($0)" } ?? slot.gpu.map { "g\($0)" } ?? "*") + "x\(slot.concurrent ?? ProcessorChoice.unboundedSlots)"
            }.joined(separator: ",") + "]"
        }
        return (stages + locked + children).joined(separator: " ")
    }
}

extension StaticLimits {
    /// Limits an operator could set without risking an out-of-memory kill: with every stage at its
    /// limit at once and every sector of the largest size in the mix, memory, hugepages and cores
    /// still fit, and GPU stages (bound to devices by `envs`) never exceed the GPU slots. Candidates
    /// split the GPUs between stages, or share them all through one `ext_locks` entry, and give PC1
    /// whatever memory is left; the best by simulated throughput wins.
    /// The long NUMA-bound stage that holds a sector's layers (PC1, or a SupraSeal batch PC1):
    /// what gets the memory left and one processor per node.
    static func layerStage(in stages: [ProofStage]) -> ProofStage? {
        [ProofStage.pc1, .supraPC1].first(where: stages.contains)
    }

    public static func candidates(_ setup: SimulationSetup) -> [StaticLimits] {
        // Short CPU stages get a small fixed limit (they hold little and finish fast); 1 when 2
        // would not leave room for a single PC1.
        for small in [2, 1] {
            let found = candidates(setup, smallLimit: small)
            if !found.isEmpty { return found.map { pinned($0, setup) ?? $0 } }
        }
        return []
    }

    static func candidates(_ setup: SimulationSetup, smallLimit: Int) -> [StaticLimits] {
        let capacity = setup.capacity
        let sizes = Set(setup.workload.sectors.map(\.size))
        var stages: [ProofStage] = []
        for sectors in setup.workload.sectors {
            for case let .stage(stage) in setup.workload.flow(sectors.kind) where !stages.contains(stage) { stages.append(stage) }
        }
        if setup.workload.windowPost != nil { stages.append(.windowPost) }
        // The sizes a stage runs for: those of the kinds whose flow has it.
        func sizesOf(_ stage: ProofStage) -> [SectorSize] {
            if stage == .windowPost { return [setup.workload.windowPost?.size ?? .gib32] }
            let found = setup.workload.sectors.filter { setup.workload.flow($0.kind).contains(.stage(stage)) }.map(\.size)
            return found.isEmpty ? Array(sizes) : found
        }
        func worst(_ stage: ProofStage) -> ResourceRequest {
            let requests = sizesOf(stage).map { setup.request(stage, $0) }
            var out = requests[0]
            for r in requests {
                out.memoryBytes = max(out.memoryBytes, r.memoryBytes)
                out.hugepages = max(out.hugepages, r.hugepages)
                out.cores = max(out.cores, r.cores)
            }
            return out
        }
        let hasGPUs = !capacity.gpus.isEmpty
        let gpuStages = hasGPUs ? stages.filter { $0 != .windowPost && worst($0).vramBytes > 0 } : []
        let slots = capacity.gpus.reduce(0) { $0 + $1.slots }
        let fillStage: ProofStage = Self.layerStage(in: stages) ?? (stages.first { !gpuStages.contains($0) && $0 != .windowPost } ?? .addPieces)
        var base: [ProofStage: Int] = [:]
        for stage in stages where !gpuStages.contains(stage) && stage != fillStage { base[stage] = stage == .windowPost ? 1 : smallLimit }

        var splits: [[ProofStage: Int]] = []
        func compose(_ i: Int, _ left: Int, _ current: [ProofStage: Int]) {
            if i == gpuStages.count {
                splits.append(current)
                return
            }
            let remainingStages = gpuStages.count - i - 1
            guard left - remainingStages >= 1 else { return }
            for n in 1...(left - remainingStages) {
                var next = current
                next[gpuStages[i]] = n
                compose(i + 1, left - n, next)
            }
        }
        var out: [StaticLimits] = []
        if gpuStages.isEmpty {
            for n in [1, 2, 4] { splits.append(Dictionary(uniqueKeysWithValues: stages.filter { worst($0).vramBytes > 0 && $0 != .windowPost && $0 != fillStage }.map { ($0, n) })) }
        } else if slots >= gpuStages.count {
            compose(0, slots, [:])
        }
        func fill(_ limits: StaticLimits, gpuConcurrency: [ProofStage: Int]) -> StaticLimits? {
            var memory = 0.0, cores = 0, hugepages = 0
            for (stage, n) in limits.perStage {
                let r = worst(stage)
                memory += Double(r.memoryBytes) * Double(n)
                cores += r.cores * n
                hugepages += r.hugepages * n
            }
            for (stage, n) in gpuConcurrency {
                let r = worst(stage)
                memory += Double(r.memoryBytes) * Double(n)
                cores += r.cores * n
            }
            let fillRequest = worst(fillStage)
            var n = Int.max
            if fillRequest.memoryBytes > 0 { n = min(n, Int((Double(capacity.memoryBytes) - memory) / Double(fillRequest.memoryBytes))) }
            if fillRequest.hugepages > 0 { n = min(n, (capacity.hugepages - hugepages) / fillRequest.hugepages) }
            if fillRequest.cores > 0 { n = min(n, (capacity.cpuCount - cores) / fillRequest.cores) }
            guard n >= 1, n != .max else { return nil }
            var out = limits
            out.perStage[fillStage] = n
            return out
        }
        for split in splits {
            var limits = StaticLimits(perStage: base)
            for (stage, n) in split { limits.perStage[stage] = n }
            if let filled = fill(limits, gpuConcurrency: [:]) { out.append(filled) }
        }
        if gpuStages.count > 1 {
            // One ext_lock over all GPU stages: at most `slots` of them at once, in any mix; the
            // worst case is `slots` runs of the hungriest GPU stage.
            let hungriest = gpuStages.max { worst($0).memoryBytes < worst($1).memoryBytes }!
            var limits = StaticLimits(perStage: base, locks: ["gpu": SharedLock(limit: slots, stages: Set(gpuStages))])
            for stage in gpuStages { limits.perStage[stage] = slots }
            var counted = limits
            for stage in gpuStages { counted.perStage[stage] = nil }
            if var filled = fill(counted, gpuConcurrency: [hungriest: slots]) {
                for stage in gpuStages { filled.perStage[stage] = slots }
                filled.locks = limits.locks
                out.append(filled)
            }
        }
        return out
    }
}
