import ProofsFFI

/// How stages are admitted in a simulation run.
public enum SimulationPolicy: Sendable, Hashable {
    /// Ours: the resource pools with `AdmissionPolicy` (priorities, backfill, no starvation).
    case dynamic(AdmissionPolicy)
    /// damocles-style fixed per-stage concurrency (`limitation.concurrent`) plus named locks
    /// shared by stages (`ext_locks`), first come first served; stages still land on the pools,
    /// so nothing is oversubscribed, but nothing looks at what a stage actually needs.
    case fixed(StaticLimits)
}

/// Everything a run needs.
public struct SimulationSetup: Sendable {
    public var capacity: BoxCapacity
    public var costs: CostTable
    public var workload: Workload
    public var threads: Int
    public var days: Double
    public var policy: SimulationPolicy
    /// Record stage segments for an SVG timeline.
    public var recordTimeline = false

    public init(capacity: BoxCapacity, costs: CostTable, workload: Workload, threads: Int, days: Double, policy: SimulationPolicy) {
        self.capacity = capacity
        self.costs = costs
        self.workload = workload
        self.threads = threads
        self.days = days
        self.policy = policy
    }

    /// The request one run of `stage` makes for a sector of `size`.
    public func request(_ stage: ProofStage, _ size: SectorSize) -> ResourceRequest {
        ResourceRequest(stage: stage, cost: cost(stage, size))
    }

    /// One run's cost: a batch stage's for the workload's batch size, else the sector's.
    public func cost(_ stage: ProofStage, _ size: SectorSize) -> StageCost {
        stage.isBatch ? costs.batchCost(stage, size, batch: workload.batchSize) : costs.cost(stage, size)
    }

    /// The dynamic policy for this workload: its `[resources]`, with WindowPoSt headroom when it
    /// has WindowPoSt bursts.
    public static func dynamicPolicy(_ workload: Workload) -> AdmissionPolicy {
        workload.resources.admissionPolicy(postSize: workload.windowPost?.size)
    }
}

/// One stage occupying resources, for the timeline.
public struct Segment: Sendable, Hashable {
    public var stage: ProofStage
    public var start: Duration
    public var end: Duration
    public var grant: Grant
}

/// What a run measured.
public struct SimulationResult: Sendable {
    /// Sectors finished per day in steady state (after the first full sector cycle).
    public var sectorsPerDay: Double
    public var completed: Int
    /// Busy fraction per resource: `cpu`, `memory`, `gpu` (devices with a stage), `vram`, `hugepages`.
    public var utilization: [String: Double]
    /// Events at which some pool held more than it has (must stay 0).
    public var oversubscriptions: Int
    public var events: Int
    public var postRuns: Int
    public var postMaxWait: Duration
    /// The longest a PoSt waited while no other PoSt was running ahead of it: sealing's share.
    public var postMaxSealingWait: Duration
    /// The longest any run of each stage waited for admission (starvation shows here).
    public var longestWait: [ProofStage: Duration]
    public var segments: [Segment]
}

/// A discrete-event run of the admission code in virtual time: threads walk their sectors'
/// flows, stages wait for and hold resources for their cost-table duration, and every event is
/// checked against the box's capacity.
public struct Simulator {
    public let setup: SimulationSetup

    public init(_ setup: SimulationSetup) { self.setup = setup }

    private enum Owner {
        case thread(Int)
        /// A batch stage of the batch with this id.
        case batch(Int)
        /// A WindowPoSt run; `postBusy` is the PoSt-running time accumulated when it arrived.
        case post(arrived: Int64, postBusy: Int64)
    }

    private struct Running {
        var grant: Grant
        var owner: Owner
        var stage: ProofStage
        var start: Int64
        var expected: Int64
    }

    private struct ThreadState {
        var kind = 0
        var step = 0
    }

    private struct Event: Comparable {
        enum Kind { case stageDone(UInt64), wakeUp(Int), postBurst, tick }
        var time: Int64
        var order: UInt64
        var kind: Kind
        static func < (a: Event, b: Event) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Event, b: Event) -> Bool { (a.time, a.order) == (b.time, b.order) }
    }

    public func run() -> SimulationResult {
        let workload = setup.workload
        let end = Int64(setup.days * 86_400_000)
        var ledger = ResourceLedger(setup.capacity)
        var queue = EventQueue<Event>()
        var order: UInt64 = 0
        func schedule(_ time: Int64, _ kind: Event.Kind) {
            order += 1
            queue.push(Event(time: time, order: order, kind: kind))
        }
        var mix = WeightedRoundRobin(workload.sectors.map(\.weight))
        var threads = [ThreadState](repeating: ThreadState(), count: setup.threads)
        var waiters: [Waiter] = []
        var owners: [UInt64: Owner] = [:]
        var running: [UInt64: Running] = [:]
        var nextID: UInt64 = 0
        var completions: [Int64] = []
        var oversubscriptions = 0
        var events = 0
        var busy: [String: Double] = [:]
        var postRuns = 0
        var postMaxWait: Int64 = 0
        var postMaxSealingWait: Int64 = 0
        var longestWait: [ProofStage: Int64] = [:]
        var enqueuedAt: [UInt64: Int64] = [:]
        // Time during which some PoSt ran, so a PoSt's wait behind another is not charged to sealing.
        var postBusy: Int64 = 0
        var segments: [Segment] = []
        var now: Int64 = 0
        var random = SplitMix64(seed: workload.seed)
        // Batches: the first `batchSize` threads to reach batch PC1 form a batch and meet again
        // at batch PC2; the batch PC1's NVMe slot is kept until every sector of the batch has
        // done its C1 (Curio's finalize).
        let batchSize = max(1, workload.batchSize)
        var forming: [Int] = []
        var members: [Int: [Int]] = [:]
        var batchOf: [Int: Int] = [:]
        var arrived: [Int: Int] = [:]
        var slots: [Int: (grant: Grant, left: Int)] = [:]
        var nextBatch = 0

        func enqueue(_ request: ResourceRequest, _ owner: Owner) {
            nextID += 1
            owners[nextID] = owner
            enqueuedAt[nextID] = now
            waiters.append(Waiter(id: nextID, request: request, sequence: nextID, since: .milliseconds(now)))
        }
        func advance(_ t: Int) {
            // Runs thread t's flow from its current step until it waits for resources or time.
            while true {
                let sectors = workload.sectors[threads[t].kind]
                let flow = workload.flow(sectors.kind)
                if threads[t].step >= flow.count {
                    if now > 0 { completions.append(now) }
                    threads[t] = ThreadState(kind: mix.next(), step: 0)
                    continue
                }
                switch flow[threads[t].step] {
                case .stage(.supraPC1):
                    forming.append(t)
                    if forming.count == batchSize {
                        nextBatch += 1
                        members[nextBatch] = forming
                        for member in forming { batchOf[member] = nextBatch }
                        forming = []
                        enqueue(setup.request(.supraPC1, sectors.size), .batch(nextBatch))
                    }
                    return
                case let .stage(stage) where stage.isBatch:
                    guard let b = batchOf[t] else { return }
                    arrived[b, default: 0] += 1
                    if arrived[b] == members[b]?.count {
                        arrived[b] = nil
                        enqueue(setup.request(stage, sectors.size), .batch(b))
                    }
                    return
                case let .stage(stage):
                    enqueue(setup.request(stage, sectors.size), .thread(t))
                    return
                case let .wait(duration):
                    threads[t].step += 1
                    schedule(now + duration.milliseconds, .wakeUp(t))
                    return
                }
            }
        }
        var nextStart: [ProofStage: Int64] = [:]
        func admit() {
            // limitation.staggered: one start of a stage per interval; the rest wait out of sight.
            var hidden: [Waiter] = []
            for (stage, _) in workload.staggered {
                let candidates = waiters.filter { $0.request.stage == stage }.sorted { $0.sequence < $1.sequence }
                let keep = now >= (nextStart[stage] ?? 0) ? candidates.first?.id : nil
                hidden += candidates.filter { $0.id != keep }
            }
            if !hidden.isEmpty {
                let ids = Set(hidden.map(\.id))
                waiters.removeAll { ids.contains($0.id) }
            }
            defer { waiters += hidden }
            let admitted: [(id: UInt64, grant: Grant)]
            switch setup.policy {
            case let .dynamic(policy):
                let holding = running.values.map { r in
                    RunningGrant(grant: r.grant, expectedEnd: .milliseconds(r.start + r.expected))
                }
                admitted = policy.admit(&waiters, &ledger, now: .milliseconds(now), running: holding)
            case let .fixed(limits):
                admitted = Self.admitFixed(limits, &waiters, &ledger, running: running.values.map(\.stage))
            }
            for (id, grant) in admitted {
                guard let owner = owners.removeValue(forKey: id) else { continue }
                let stageOf: ProofStage
                let size: SectorSize
                switch owner {
                case let .thread(t):
                    let sectors = workload.sectors[threads[t].kind]
                    guard case let .stage(s) = workload.flow(sectors.kind)[threads[t].step] else { continue }
                    stageOf = s
                    size = sectors.size
                case let .batch(b):
                    let t = members[b]?.first ?? 0
                    let sectors = workload.sectors[threads[t].kind]
                    guard case let .stage(s) = workload.flow(sectors.kind)[threads[t].step] else { continue }
                    stageOf = s
                    size = sectors.size
                case let .post(arrived, busyAtArrival):
                    stageOf = .windowPost
                    size = workload.windowPost?.size ?? .gib32
                    postMaxWait = max(postMaxWait, now - arrived)
                    // Waiting behind an earlier PoSt is PoSt's own queue; count only the time since
                    // the last PoSt finished, when sealing alone held the room.
                    postMaxSealingWait = max(postMaxSealingWait, (now - arrived) - (postBusy - busyAtArrival))
                    postRuns += 1
                }
                if let since = enqueuedAt.removeValue(forKey: id) { longestWait[stageOf] = max(longestWait[stageOf] ?? 0, now - since) }
                let nominal = Double(setup.cost(stageOf, size).duration.milliseconds)
                let duration = Int64((nominal * (1 + workload.jitter * (2 * random.unit() - 1))).rounded())
                running[id] = Running(grant: grant, owner: owner, stage: stageOf, start: now, expected: duration)
                schedule(now + duration, .stageDone(id))
                if let interval = workload.staggered[stageOf] {
                    nextStart[stageOf] = now + interval.milliseconds
                    schedule(now + interval.milliseconds, .tick)
                }
            }
        }

        for t in threads.indices {
            threads[t].kind = mix.next()
            advance(t)
        }
        if workload.windowPost != nil { schedule(0, .postBurst) }
        admit()
        while let next = queue.peek(), next.time <= end {
            // Integrate utilisation over [now, next.time).
            let span = Double(next.time - now)
            if span > 0 {
                Self.accumulate(&busy, running.values.map(\.grant), setup.capacity, span)
                if running.values.contains(where: { $0.stage == .windowPost }) { postBusy += next.time - now }
            }
            now = next.time
            while let event = queue.peek(), event.time == now {
                _ = queue.pop()
                events += 1
                switch event.kind {
                case let .stageDone(id):
                    guard let done = running.removeValue(forKey: id) else { continue }
                    if done.stage == .supraPC1, case let .batch(b) = done.owner, !done.grant.nvme.isEmpty {
                        ledger.give(done.grant.withoutNVMe)
                        slots[b] = (done.grant.nvmeOnly, members[b]?.count ?? 1)
                    } else {
                        ledger.give(done.grant)
                    }
                    if done.stage == .supraC1, case let .thread(t) = done.owner, let b = batchOf[t] {
                        if let slot = slots[b] {
                            if slot.left <= 1 {
                                ledger.give(slot.grant)
                                slots[b] = nil
                            } else {
                                slots[b]?.left -= 1
                            }
                        }
                        if slots[b] == nil { members[b] = nil }
                    }
                    if setup.recordTimeline {
                        segments.append(Segment(stage: done.stage, start: .milliseconds(done.start), end: .milliseconds(now), grant: done.grant))
                    }
                    switch done.owner {
                    case let .thread(t):
                        threads[t].step += 1
                        advance(t)
                    case let .batch(b):
                        for t in members[b] ?? [] {
                            threads[t].step += 1
                            advance(t)
                        }
                    case .post:
                        break
                    }
                case let .wakeUp(t):
                    advance(t)
                case .tick:
                    break
                case .postBurst:
                    guard let post = workload.windowPost else { continue }
                    for _ in 0..<post.partitions { enqueue(setup.request(.windowPost, post.size), .post(arrived: now, postBusy: postBusy)) }
                    schedule(now + post.every.milliseconds, .postBurst)
                }
            }
            admit()
            if !Self.withinCapacity(running.values.map(\.grant) + slots.values.map(\.grant), setup.capacity) { oversubscriptions += 1 }
        }
        if end > now { Self.accumulate(&busy, running.values.map(\.grant), setup.capacity, Double(end - now)) }

        let warmup = Self.longestCycle(setup)
        let steady = completions.filter { $0 >= warmup }.count
        let window = Double(end - warmup) / 86_400_000
        var utilization: [String: Double] = [:]
        for (key, value) in busy { utilization[key] = value / Double(end) }
        return SimulationResult(
            sectorsPerDay: window > 0 ? Double(steady) / window : 0, completed: completions.count, utilization: utilization,
            oversubscriptions: oversubscriptions, events: events, postRuns: postRuns, postMaxWait: .milliseconds(postMaxWait),
            postMaxSealingWait: .milliseconds(postMaxSealingWait), longestWait: longestWait.mapValues { .milliseconds($0) },
            segments: segments)
    }

    /// damocles' rule: a stage starts when its own limit and every lock it takes have room, in
    /// arrival order; it then lands on the pools (waiting if they are full).
    static func admitFixed(_ limits: StaticLimits, _ waiters: inout [Waiter], _ ledger: inout ResourceLedger,
                           running: [ProofStage]) -> [(id: UInt64, grant: Grant)] {
        var counts: [ProofStage: Int] = [:]
        for stage in running { counts[stage, default: 0] += 1 }
        var admitted: [(id: UInt64, grant: Grant)] = []
        var remaining: [Waiter] = []
        for waiter in waiters.sorted(by: { $0.sequence < $1.sequence }) {
            let stage = waiter.request.stage
            let stageRoom = limits.perStage[stage].map { (counts[stage] ?? 0) < $0 } ?? true
            let lockRoom = limits.locks.values.allSatisfy { lock in
                !lock.stages.contains(stage) || lock.stages.reduce(0) { $0 + (counts[$1] ?? 0) } < lock.limit
            }
            if stageRoom, lockRoom, let grant = ledger.place(waiter.request) {
                ledger.take(grant)
                counts[stage, default: 0] += 1
                admitted.append((waiter.id, grant))
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
        return admitted
    }

    /// Independent of the ledger: sums what the running stages hold per node and GPU.
    static func withinCapacity(_ grants: [Grant], _ capacity: BoxCapacity) -> Bool {
        for node in capacity.nodes {
            let here = grants.filter { $0.node == node.id }
            let cpus = here.flatMap(\.cpus)
            guard Set(cpus).count == cpus.count, cpus.allSatisfy(node.cpus.contains),
                  grants.reduce(0, { $0 + ($1.memory[node.id] ?? 0) }) <= node.memoryBytes,
                  here.reduce(0, { $0 + $1.hugepages }) <= node.hugepages else { return false }
        }
        for gpu in capacity.gpus where grants.filter({ $0.gpu == gpu.index }).reduce(0, { $0 + $1.vramBytes }) > gpu.vramBytes {
            return false
        }
        for drive in capacity.nvme where grants.reduce(0, { $0 + ($1.nvme[drive.index] ?? 0) }) > drive.bytes { return false }
        return grants.allSatisfy { grant in capacity.nodes.contains { $0.id == grant.node } }
    }

    private static func accumulate(_ busy: inout [String: Double], _ grants: [Grant], _ capacity: BoxCapacity, _ span: Double) {
        let cpus = Double(grants.reduce(0) { $0 + $1.cpus.count }) / Double(max(1, capacity.cpuCount))
        busy["cpu", default: 0] += cpus * span
        if capacity.memoryBytes > 0 {
            busy["memory", default: 0] += Double(grants.reduce(0) { $0 + $1.memoryBytes }) / Double(capacity.memoryBytes) * span
        }
        if capacity.hugepages > 0 {
            busy["hugepages", default: 0] += Double(grants.reduce(0) { $0 + $1.hugepages }) / Double(capacity.hugepages) * span
        }
        if !capacity.gpus.isEmpty {
            let devices = Set(grants.compactMap(\.gpu)).count
            busy["gpu", default: 0] += Double(devices) / Double(capacity.gpus.count) * span
            busy["vram", default: 0] += Double(grants.reduce(0) { $0 + $1.vramBytes }) / Double(capacity.vramBytes) * span
        }
    }

    /// The longest time one sector takes with no waiting, in milliseconds: the warm-up excluded
    /// from the rate.
    public static func longestCycle(_ setup: SimulationSetup) -> Int64 {
        setup.workload.sectors.map { cycle(setup, $0) }.max() ?? 0
    }

    static func cycle(_ setup: SimulationSetup, _ sectors: Workload.Sectors) -> Int64 {
        setup.workload.flow(sectors.kind).reduce(0) { sum, step in
            switch step {
            case let .stage(stage): sum + setup.cost(stage, sectors.size).duration.milliseconds
            case let .wait(d): sum + d.milliseconds
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds (the simulator's tick).
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}

/// Picks kinds in proportion to their weights, evenly spread (smooth weighted round robin).
struct WeightedRoundRobin {
    let weights: [Int]
    var current: [Int]

    init(_ weights: [Int]) {
        self.weights = weights
        current = weights.map { _ in 0 }
    }

    mutating func next() -> Int {
        guard !weights.isEmpty else { return 0 }
        let total = weights.reduce(0, +)
        for i in current.indices { current[i] += weights[i] }
        let best = current.indices.max { (current[$0], -$0) < (current[$1], -$1) }!
        current[best] -= total
        return best
    }
}

/// A binary min-heap.
struct EventQueue<Element: Comparable> {
    private var heap: [Element] = []

    func peek() -> Element? { heap.first }

    mutating func push(_ element: Element) {
        heap.append(element)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i] < heap[parent] else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, heap[l] < heap[smallest] { smallest = l }
            if r < heap.count, heap[r] < heap[smallest] { smallest = r }
            if smallest == i { break }
            heap.swapAt(i, smallest)
            i = smallest
        }
        return top
    }
}
