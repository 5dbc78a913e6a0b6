import ProofsFFI

/// The most sectors a day the box could seal when stages are placed whole: each NUMA node runs an
/// integral mix of NUMA-bound stages (a 180 GiB node holds two 64 GiB PC1s, not 2.8), each GPU an
/// integral mix of GPU stages within its slots and VRAM; the memory, cores and hugepages a node's
/// mix leaves are pooled for the stages that may draw from any node. A schedule spends its time
/// in such mixes, so the best time-weighted mixture (a linear program over every mix, solved
/// here) bounds every scheduler. It shares no code with admission: only the cost table and box.
///
/// NUMA-bound stages whose memory is under 1/32 of a node (add_pieces, tree_d) are pooled like
/// the rest: their granularity costs at most that fraction, and enumerating them would not.
public struct PackingBound: Sendable {
    /// A stage at a sector size, as the mix demands it.
    public struct Demand: Sendable, Hashable {
        public var stage: ProofStage
        public var size: SectorSize
        public var request: ResourceRequest
        /// Runs per sector of the mix.
        public var share: Double
        /// One run's length, in days.
        public var days: Double
        /// Runs in flight per sector/day of throughput (Little's law).
        public var concurrency: Double { share * days }
        public var name: String { "\(stage.rawValue)/\(ByteSize.short(size.bytes))" }
    }

    /// Sectors/day the nodes allow (NUMA mixes plus pooled memory, cores, hugepages).
    public var nodes: Double
    /// The same (spilling when configured) with WindowPoSt's headroom kept: long stages leave
    /// room for `post_reserve` PoSts.
    public var nodesWithHeadroom: Double
    /// The same when a PC1 may spill over two nodes at `pc1_spill_slowdown` (nil: spilling off).
    public var nodesWithSpill: Double?
    /// Sectors/day the GPUs allow with integral mixes per device (infinity without GPU stages).
    public var gpus: Double
    /// Sectors/day the threads allow: each holds one sector for at least its mix-weighted cycle.
    public var threads: Double
    /// The stages placed integrally per node, as `stage/size`.
    public var integral: [String]

    /// The packing bound: what integral placement allows (spilling PC1s when configured),
    /// WindowPoSt's own runs included.
    public var value: Double { min(nodesWithSpill ?? nodes, gpus) }
    public var limitedBy: String { (nodesWithSpill ?? nodes) <= gpus ? "numa" : "gpu" }

    public init(_ setup: SimulationSetup, spillSlowdown: Double? = nil) {
        let capacity = setup.capacity
        let demands = Self.demands(setup)
        let hasGPUs = !capacity.gpus.isEmpty
        let minNode = capacity.nodes.map(\.memoryBytes).min() ?? 0
        let minHuge = capacity.nodes.map(\.hugepages).min() ?? 0
        func isIntegral(_ d: Demand) -> Bool {
            let r = d.request
            guard r.numaBound else { return false }
            return (r.memoryBytes > 0 && r.memoryBytes * 32 >= minNode) || (r.hugepages > 0 && r.hugepages * 32 >= minHuge)
        }
        let placed = demands.filter(isIntegral)
        let pooled = demands.filter { !isIntegral($0) }
        integral = placed.map(\.name)
        var post: (request: ResourceRequest, concurrency: Double)?
        if let bursts = setup.workload.windowPost {
            let perDay = 86_400 / bursts.every.inSeconds * Double(bursts.partitions)
            let cost = setup.costs.cost(.windowPost, bursts.size)
            post = (setup.request(.windowPost, bursts.size), perDay * cost.duration.inSeconds / 86_400)
        }
        let policy = SimulationSetup.dynamicPolicy(setup.workload)
        let headroom = policy.headroom.reduce(0.0) { $0 + Self.gib($1.memoryBytes) }
        let mixes = capacity.nodes.map { Self.mixes($0, placed) }
        nodes = Self.solveNodes(capacity, placed, pooled, mixes, post: post, headroom: nil, spill: nil)
        // Spilled PC1s are pooled in the nodes' program; whole box states count them (and the
        // C2s beside them) whole. Both bound every schedule, so the lower one holds.
        nodesWithSpill = spillSlowdown.map { slowdown in
            let pooledSpill = Self.solveNodes(capacity, placed, pooled, mixes, post: post, headroom: nil, spill: slowdown)
            let states = Self.solveSpillStates(capacity, demands, placed: placed, mixes: mixes, post: post, spill: slowdown)
            return min(pooledSpill, states ?? pooledSpill)
        }
        let headroomBound = policy.headroom.isEmpty ? (nodesWithSpill ?? nodes)
            : Self.solveNodes(capacity, placed, pooled, mixes, post: post, headroom: (headroom, policy.headroomWait.inSeconds / 86_400),
                              spill: spillSlowdown)
        nodesWithHeadroom = min(headroomBound, nodesWithSpill ?? headroomBound)
        let onGPU = hasGPUs ? demands.filter { $0.request.vramBytes > 0 && $0.request.extraGPUSlots == 0 } : []
        gpus = Self.solveGPUs(capacity, onGPU)
        let cycle = setup.workload.sectors.reduce(0.0) { sum, sectors in
            let total = Double(setup.workload.sectors.reduce(0) { $0 + $1.weight })
            return sum + Double(sectors.weight) / total * Double(Simulator.cycle(setup, sectors)) / 86_400_000
        }
        threads = cycle > 0 ? Double(setup.threads) / cycle : .infinity
    }

    static func gib(_ bytes: UInt64) -> Double { Double(bytes) / Double(1 << 30) }

    /// Every (stage, size) the mix runs, with its share of sectors.
    public static func demands(_ setup: SimulationSetup) -> [Demand] {
        let total = Double(setup.workload.sectors.reduce(0) { $0 + $1.weight })
        var out: [Demand] = []
        for sectors in setup.workload.sectors {
            for case let .stage(stage) in setup.workload.flow(sectors.kind) {
                // A batch stage runs once for `batchSize` sectors.
                let share = Double(sectors.weight) / total / (stage.isBatch ? Double(max(1, setup.workload.batchSize)) : 1)
                if let i = out.firstIndex(where: { $0.stage == stage && $0.size == sectors.size }) {
                    out[i].share += share
                } else {
                    let cost = setup.cost(stage, sectors.size)
                    out.append(Demand(stage: stage, size: sectors.size, request: setup.request(stage, sectors.size), share: share,
                                      days: cost.duration.inSeconds / 86_400))
                }
            }
        }
        return out
    }

    /// Every count vector of `placed` stages that fits on `node` at once: memory, hugepages, and
    /// cores (stages that want one L3 group take whole slices of a group, best fit).
    static func mixes(_ node: NodeCapacity, _ placed: [Demand]) -> [[Int]] {
        var out: [[Int]] = []
        func fits(_ counts: [Int]) -> Bool {
            var memory: UInt64 = 0, huge = 0, loose = 0
            var groups = node.l3Groups.map(\.count)
            var grouped: [Int] = [], whole: [Int] = []
            for (d, n) in zip(placed, counts) where n > 0 {
                memory += d.request.memoryBytes * UInt64(n)
                huge += d.request.hugepages * n
                if d.request.wholeL3 {
                    whole += Array(repeating: d.request.cores, count: n)
                } else if d.request.sameL3, d.request.cores <= (groups.max() ?? 0) {
                    grouped += Array(repeating: d.request.cores, count: n)
                } else {
                    loose += d.request.cores * n
                }
            }
            guard memory <= node.memoryBytes, huge <= node.hugepages else { return false }
            // Whole-L3 stages (a batch PC1) take wholly free groups, largest first, until their
            // cores are covered.
            for cores in whole.sorted(by: >) {
                var covered = 0
                while covered < cores {
                    guard let g = groups.indices.filter({ groups[$0] > 0 && groups[$0] == node.l3Groups[$0].count })
                        .max(by: { groups[$0] < groups[$1] }) else { return false }
                    covered += groups[g]
                    groups[g] = 0
                }
            }
            for cores in grouped.sorted(by: >) {
                guard let g = groups.indices.filter({ groups[$0] >= cores }).min(by: { groups[$0] < groups[$1] }) else { return false }
                groups[g] -= cores
            }
            return loose <= groups.reduce(0, +)
        }
        func walk(_ i: Int, _ counts: [Int]) {
            if out.count > 20_000 { return }
            if i == placed.count {
                out.append(counts)
                return
            }
            var next = counts
            while fits(next) {
                walk(i + 1, next)
                next[i] += 1
            }
        }
        walk(0, Array(repeating: 0, count: placed.count))
        return out
    }

    /// Nodes' block: the best mixture of per-node mixes, with pooled memory, cores and hugepages
    /// serving the pooled stages and WindowPoSt. Variables: X (sectors/day), a spilled-PC1
    /// concurrency per placed PC1 when spilling, then one time share per (node, non-empty mix).
    static func solveNodes(_ capacity: BoxCapacity, _ placed: [Demand], _ pooled: [Demand], _ mixes: [[[Int]]],
                           post: (request: ResourceRequest, concurrency: Double)?, headroom: (gib: Double, wait: Double)?,
                           spill: Double?) -> Double {
        let spilling = spill == nil ? [] : placed.indices.filter { placed[$0].stage == .pc1 }
        var columns: [(node: Int, counts: [Int])] = []
        for (n, list) in mixes.enumerated() { for counts in list where counts.contains(where: { $0 > 0 }) { columns.append((n, counts)) } }
        let width = 1 + spilling.count + columns.count
        var rows: [[Double]] = [], limits: [Double] = []
        func row(_ build: (inout [Double]) -> Void, _ limit: Double) {
            var r = Array(repeating: 0.0, count: width)
            build(&r)
            rows.append(r)
            limits.append(limit)
        }
        let base = 1 + spilling.count
        for n in capacity.nodes.indices {
            row({ r in for (j, c) in columns.enumerated() where c.node == n { r[base + j] = 1 } }, 1)
        }
        for (k, d) in placed.enumerated() {
            row({ r in
                r[0] = d.concurrency
                for (j, c) in columns.enumerated() { r[base + j] = -Double(c.counts[k]) }
                if let s = spilling.firstIndex(of: k), let slowdown = spill { r[1 + s] = -1 / (1 + slowdown) }
            }, 0)
        }
        // Pooled resources: what the pooled stages need per sector/day, plus what the mix holds.
        func pooledRow(_ amount: (ResourceRequest) -> Double, total: Double, onlyLong wait: Double? = nil, reserve: Double = 0) {
            let postUse = wait == nil ? post.map { amount($0.request) * $0.concurrency } ?? 0 : 0
            let limit = total - postUse - reserve
            func counts(_ d: Demand) -> Bool { wait.map { d.days > $0 } ?? true }
            row({ r in
                r[0] = pooled.filter(counts).reduce(0) { $0 + amount($1.request) * $1.concurrency }
                for (s, k) in spilling.enumerated() where counts(placed[k]) { r[1 + s] = amount(placed[k].request) }
                for (j, c) in columns.enumerated() {
                    r[base + j] = zip(placed, c.counts).reduce(0) { $0 + (counts($1.0) ? amount($1.0.request) * Double($1.1) : 0) }
                }
            }, max(0, limit))
        }
        pooledRow({ gib($0.memoryBytes) }, total: gib(capacity.memoryBytes))
        pooledRow({ Double($0.cores) }, total: Double(capacity.cpuCount))
        if capacity.hugepages > 0 { pooledRow({ Double($0.hugepages) }, total: Double(capacity.hugepages)) }
        if let headroom { pooledRow({ gib($0.memoryBytes) }, total: gib(capacity.memoryBytes), onlyLong: headroom.wait, reserve: headroom.gib) }
        var objective = Array(repeating: 0.0, count: width)
        objective[0] = 1
        // No demand at all (an empty mix): nothing binds X; report infinity rather than unbounded.
        guard rows.contains(where: { $0[0] > 0 }) else { return .infinity }
        return LinearProgram(objective: objective, rows: rows, limits: limits).maximize()?.value ?? .infinity
    }

    /// With spilling: the best time-weighted mixture of whole box states. A state counts, as
    /// integers, the local PC1s (at most what the nodes' mixes hold), the spilled ones, and every
    /// stage that draws at least 1/32 of the box's memory from any node (C2, PC2); its memory
    /// fits the box. Smaller stages and WindowPoSt are pooled as averages, and spilled PC1s may
    /// take any node's memory, so this too bounds every schedule; where the nodes' program pools
    /// a fraction of a spilled PC1 beside a fraction of a C2, this counts what fits at once.
    /// nil when the states are too many to list (then the nodes' program alone bounds it).
    static func solveSpillStates(_ capacity: BoxCapacity, _ demands: [Demand], placed: [Demand], mixes: [[[Int]]],
                                 post: (request: ResourceRequest, concurrency: Double)?, spill slowdown: Double) -> Double? {
        let total = gib(capacity.memoryBytes)
        func isWhole(_ d: Demand) -> Bool { gib(d.request.memoryBytes) * 32 >= total }
        let whole = demands.filter(isWhole)
        let fluid = demands.filter { !isWhole($0) }
        // One dimension per whole stage (its count), then one per spillable PC1 (spilled count).
        let spillable = whole.indices.filter { whole[$0].stage == .pc1 && whole[$0].request.numaBound }
        var maxima = whole.map { d -> Int in
            let bytes = max(1, d.request.memoryBytes)
            guard d.request.numaBound, let k = placed.firstIndex(of: d) else { return Int(capacity.memoryBytes / bytes) }
            return mixes.reduce(0) { sum, node in sum + (node.map { $0[k] }.max() ?? 0) }
        }
        maxima += spillable.map { Int(capacity.memoryBytes / max(1, whole[$0].request.memoryBytes)) }
        let bytes = whole.map(\.request.memoryBytes) + spillable.map { whole[$0].request.memoryBytes }
        let cores = whole.map(\.request.cores) + spillable.map { whole[$0].request.cores }
        var states: [[Int]] = []
        func walk(_ i: Int, _ counts: [Int], _ used: UInt64, _ usedCores: Int) -> Bool {
            if states.count > 20_000 { return false }
            if i == maxima.count {
                if counts.contains(where: { $0 > 0 }) { states.append(counts) }
                return true
            }
            var next = counts, memory = used, taken = usedCores
            for _ in 0...maxima[i] {
                guard memory <= capacity.memoryBytes, taken <= capacity.cpuCount else { break }
                guard walk(i + 1, next, memory, taken) else { return false }
                next[i] += 1
                memory += bytes[i]
                taken += cores[i]
            }
            return true
        }
        guard walk(0, Array(repeating: 0, count: maxima.count), 0, 0), !states.isEmpty else { return nil }
        // Variables: X, then one time share per state.
        let width = 1 + states.count
        var rows: [[Double]] = [], limits: [Double] = []
        func row(_ build: (inout [Double]) -> Void, _ limit: Double) {
            var r = Array(repeating: 0.0, count: width)
            build(&r)
            rows.append(r)
            limits.append(max(0, limit))
        }
        row({ r in for j in states.indices { r[1 + j] = 1 } }, 1)
        for (k, d) in whole.enumerated() {
            let spilled = spillable.firstIndex(of: k).map { whole.count + $0 }
            row({ r in
                r[0] = d.concurrency
                for (j, state) in states.enumerated() {
                    r[1 + j] = -Double(state[k]) - (spilled.map { Double(state[$0]) / (1 + slowdown) } ?? 0)
                }
            }, 0)
        }
        func averageRow(_ amount: (ResourceRequest) -> Double, perDimension: [Double], total: Double) {
            let postUse = post.map { amount($0.request) * $0.concurrency } ?? 0
            row({ r in
                r[0] = fluid.reduce(0) { $0 + amount($1.request) * $1.concurrency }
                for (j, state) in states.enumerated() { r[1 + j] = zip(state, perDimension).reduce(0) { $0 + Double($1.0) * $1.1 } }
            }, total - postUse)
        }
        averageRow({ gib($0.memoryBytes) }, perDimension: bytes.map(gib), total: total)
        averageRow({ Double($0.cores) }, perDimension: cores.map(Double.init), total: Double(capacity.cpuCount))
        var objective = Array(repeating: 0.0, count: width)
        objective[0] = 1
        return LinearProgram(objective: objective, rows: rows, limits: limits).maximize()?.value
    }

    /// GPUs' block: per device, integral mixes of GPU stages within its slots and VRAM.
    static func solveGPUs(_ capacity: BoxCapacity, _ onGPU: [Demand]) -> Double {
        guard !onGPU.isEmpty else { return .infinity }
        var columns: [(gpu: Int, counts: [Int])] = []
        for (g, device) in capacity.gpus.enumerated() {
            func walk(_ i: Int, _ counts: [Int], _ slots: Int, _ vram: UInt64) {
                if i == onGPU.count {
                    columns.append((g, counts))
                    return
                }
                var next = counts, s = slots, v = vram
                while s <= device.slots, v <= device.vramBytes {
                    walk(i + 1, next, s, v)
                    next[i] += 1
                    s += 1
                    v += onGPU[i].request.vramBytes
                }
            }
            walk(0, Array(repeating: 0, count: onGPU.count), 0, 0)
        }
        columns.removeAll { !$0.counts.contains { $0 > 0 } }
        let width = 1 + columns.count
        var rows: [[Double]] = [], limits: [Double] = []
        for g in capacity.gpus.indices {
            var r = Array(repeating: 0.0, count: width)
            for (j, c) in columns.enumerated() where c.gpu == g { r[1 + j] = 1 }
            rows.append(r)
            limits.append(1)
        }
        for (k, d) in onGPU.enumerated() {
            var r = Array(repeating: 0.0, count: width)
            r[0] = d.concurrency
            for (j, c) in columns.enumerated() { r[1 + j] = -Double(c.counts[k]) }
            rows.append(r)
            limits.append(0)
        }
        var objective = Array(repeating: 0.0, count: width)
        objective[0] = 1
        return LinearProgram(objective: objective, rows: rows, limits: limits).maximize()?.value ?? .infinity
    }
}
