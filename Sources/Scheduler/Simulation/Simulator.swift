import Foundation
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

    /// The stage runs one average sector of the mix makes: each stage of each kind's flow with
    /// its size and the share of a sector it stands for (the kind's weight in the mix; a batch
    /// stage's run also serves its whole batch). Empty for an empty mix.
    public var averageSectorRuns: [(stage: ProofStage, size: SectorSize, share: Double)] {
        let totalWeight = Double(workload.sectors.reduce(0) { $0 + $1.weight })
        guard totalWeight > 0 else { return [] }
        return workload.sectors.flatMap { sectors in
            workload.flow(sectors.kind).compactMap { step -> (stage: ProofStage, size: SectorSize, share: Double)? in
                guard case let .stage(stage) = step else { return nil }
                let perBatch = stage.isBatch ? 1 / Double(max(1, workload.batchSize)) : 1
                return (stage, sectors.size, perBatch * Double(sectors.weight) / totalWeight)
            }
        }
    }

    /// The request one run of `stage` makes for a sector of `size`.
    public func request(_ stage: ProofStage, _ size: SectorSize) -> ResourceRequest {
        var request = ResourceRequest(stage: stage, cost: cost(stage, size))
        request.spillable = stage == .pc1 && request.numaBound && workload.resources.pc1SpillSlowdown != nil
        return request
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
    /// The sealing thread that ran it; nil for a WindowPoSt run.
    public var thread: Int? = nil
    /// How long it waited for admission before `start`.
    public var waited: Duration = .zero
}

/// A request still waiting for admission when the run ended, for the timeline and wait charts.
public struct PendingRequest: Sendable, Hashable {
    public var stage: ProofStage
    /// The sealing thread waiting; nil for a WindowPoSt partition.
    public var thread: Int?
    public var since: Duration
}

/// What a run measured.
public struct SimulationResult: Sendable {
    /// Sectors finished per day in steady state (after the first full sector cycle).
    public var sectorsPerDay: Double
    /// The same window counted by work rather than completions: sectors in flight at its start and
    /// end count by the share of their nominal cycle done inside it. The difference from
    /// `sectorsPerDay` is the pipeline still filling (warm-up) when the window opens.
    public var workPerDay: Double = 0
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
    /// Requests still waiting at the end (recorded with the timeline): starvation shows here.
    public var pending: [PendingRequest] = []
    /// Crynux inference tasks finished per day after warm-up, and arrived per day in all.
    public var crynuxPerDay: Double = 0
    public var crynuxArrivedPerDay: Double = 0
    /// The longest a Crynux task waited for a GPU (those still waiting at the end included).
    public var crynuxMaxWait: Duration = .zero
    /// Share of all GPU time Crynux held.
    public var crynuxGPUShare: Double = 0
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
        var waited: Int64 = 0

        /// The segment for the timeline, ended at `end`.
        func segment(end: Int64) -> Segment {
            var thread: Int?
            if case let .thread(t) = owner { thread = t }
            return Segment(stage: stage, start: .milliseconds(start), end: .milliseconds(end), grant: grant, thread: thread, waited: .milliseconds(waited))
        }
        /// The processor child it runs on (fixed policy with `[[processors.<stage>]]`).
        var slot: Int?
    }

    private struct ThreadState {
        var kind = 0
        var step = 0
        /// When the running stage was admitted (nil while waiting or between steps).
        var stepStart: Int64?
        /// When the current seed wait ends (its time counts as work only as it passes).
        var waitEnd: Int64 = 0
    }

    private struct Event: Comparable {
        enum Kind { case stageDone(UInt64), wakeUp(Int), postBurst, tick, crynuxArrival, crynuxDone(UInt64) }
        var time: Int64
        var order: UInt64
        var kind: Kind
        static func < (a: Event, b: Event) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Event, b: Event) -> Bool { (a.time, a.order) == (b.time, b.order) }
    }

    public func run() -> SimulationResult {
        // As the daemon's pools: `[resources] long_stage_share`, auto from this box and mix.
        let longStageShare = setup.longStageShare
        let spillGranule = setup.spillGranule
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
        // Crynux tasks: arrival times waiting, grants running, GPU time held, finished after warm-up.
        var crynuxRandom = SplitMix64(seed: workload.seed ^ 0x6372_796e_7578)
        var crynuxQueue: [Int64] = []
        var crynuxRunning: [UInt64: (grant: Grant, start: Int64)] = [:]
        var crynuxHeld: Int64 = 0
        // The daemon's gpu_share bookkeeping (CrynuxGPUShare over the last hour), in seconds.
        var crynuxShare = CrynuxGPUShare(share: workload.crynux?.gpuShare ?? 0)
        var crynuxFinished = 0
        var crynuxArrived = 0
        var crynuxMaxWait: Int64 = 0
        func nextCrynuxArrival() {
            guard let crynux = workload.crynux else { return }
            let mean = 3_600_000.0 / Double(crynux.perHour)
            schedule(now + max(1, Int64((-mean * log(1 - crynuxRandom.unit())).rounded())), .crynuxArrival)
        }
        /// The daemon's rule (CrynuxAdmission): a task queues below every sealing stage, so it takes
        /// a GPU only while no sealing GPU stage waits for one; ahead of sealing (C2's priority) when
        /// configured `like_c2` or while Crynux held less than `gpu_share` of the last hour, so only
        /// C2 and WindowPoSt waiting go first. A WindowPoSt's VRAM stays free either way.
        /// `aheadOnly`: the pass before sealing's admission, where only a task queued ahead of
        /// sealing may start (a freed GPU goes to it before the sealing stages below it).
        func admitCrynux(aheadOnly: Bool = false) {
            guard let crynux = workload.crynux, !setup.capacity.gpus.isEmpty else { return }
            // Offers that waited past max_wait went to another node.
            crynuxQueue.removeAll { now - $0 > crynux.maxWait.milliseconds }
            while let arrived = crynuxQueue.first {
                let seconds = Double(now) / 1000
                let running = crynuxRunning.values.reduce(0.0) { $0 + Double(now - $1.start) / 1000 }
                let used = (crynuxShare.usedFraction(now: seconds) + running / crynuxShare.window) / Double(setup.capacity.gpus.count)
                let ahead = CrynuxAdmission.aheadOfSealing(crynux.priority, shareUsed: used, share: crynuxShare.share)
                if aheadOnly && !ahead { return }
                let own = CrynuxAdmission.priority(ahead: ahead)
                // A GPU stage of no lower priority waiting for a GPU (it would fit without one) goes first.
                let gpuWanted = waiters.contains { waiter in
                    var cpuOnly = waiter.request
                    cpuOnly.vramBytes = 0
                    return waiter.request.vramBytes > 0 && waiter.request.priority >= own && ledger.place(cpuOnly) != nil
                }
                if gpuWanted { return }
                // Tasks hold only a GPU slot and VRAM here; they never enter stage admission.
                let request = CrynuxAdmission.request(vramGiB: 0, allowedGPUs: nil, ahead: ahead)
                var gpuOnly = request
                gpuOnly.cores = 0
                gpuOnly.memoryBytes = 0
                gpuOnly.vramBytes = crynux.vramBytes
                guard let grant = ledger.place(gpuOnly), grant.gpu != nil else { return }
                var after = ledger
                after.take(grant)
                if let post = workload.windowPost, after.place(setup.request(.windowPost, post.size)) == nil { return }
                ledger = after
                crynuxQueue.removeFirst()
                crynuxMaxWait = max(crynuxMaxWait, now - arrived)
                nextID += 1
                crynuxRunning[nextID] = (grant, now)
                schedule(now + crynux.duration.milliseconds, .crynuxDone(nextID))
            }
        }
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
                    threads[t].waitEnd = now + duration.milliseconds
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
            var admitted: [(id: UInt64, grant: Grant)]
            var slots: [UInt64: Int] = [:]
            switch setup.policy {
            case var .dynamic(policy):
                policy.longStageShare = longStageShare
                policy.spillGranule = spillGranule
                let holding = running.values.map { r in
                    RunningGrant(grant: r.grant, expectedEnd: .milliseconds(r.start + r.expected), isLong: r.expected >= policy.longStage.milliseconds)
                }
                admitted = policy.admit(&waiters, &ledger, now: .milliseconds(now), running: holding)
            case let .fixed(limits):
                let fixed = Self.admitFixed(limits, &waiters, &ledger, running: running.values.map { ($0.stage, $0.slot) })
                admitted = fixed.map { ($0.id, $0.grant) }
                for entry in fixed { slots[entry.id] = entry.slot }
            }
            for (id, grant) in admitted {
                guard let owner = owners.removeValue(forKey: id) else { continue }
                let stageOf: ProofStage
                let size: SectorSize
                switch owner {
                case let .thread(t):
                    let sectors = workload.sectors[threads[t].kind]
                    guard case let .stage(s) = workload.flow(sectors.kind)[threads[t].step] else { continue }
                    threads[t].stepStart = now
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
                let since = enqueuedAt.removeValue(forKey: id)
                if let since { longestWait[stageOf] = max(longestWait[stageOf] ?? 0, now - since) }
                var nominal = Double(setup.cost(stageOf, size).duration.milliseconds)
                // A PC1 whose layers sit on two nodes runs `pc1_spill_slowdown` longer.
                if stageOf == .pc1, grant.hasRemoteMemory, let slowdown = workload.resources.pc1SpillSlowdown { nominal *= 1 + slowdown }
                let duration = Int64((nominal * (1 + workload.jitter * (2 * random.unit() - 1))).rounded())
                running[id] = Running(grant: grant, owner: owner, stage: stageOf, start: now, expected: duration, waited: now - (since ?? now), slot: slots[id])
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
        nextCrynuxArrival()
        admit()
        let warmup = Self.longestCycle(setup)
        // Nominal share of each thread's sector cycle done at time `at`.
        let nominal = workload.sectors.map { sectors in
            workload.flow(sectors.kind).map { step -> Int64 in
                switch step {
                case let .stage(stage): setup.costs.cost(stage, sectors.size).duration.milliseconds
                case let .wait(d): d.milliseconds
                }
            }
        }
        func progress(at: Int64) -> Double {
            threads.reduce(0.0) { sum, thread in
                let steps = nominal[thread.kind]
                let cycle = steps.reduce(0, +)
                guard cycle > 0 else { return sum }
                var done = steps.prefix(min(thread.step, steps.count)).reduce(0, +) - max(0, thread.waitEnd - at)
                if let start = thread.stepStart, thread.step < steps.count { done += min(max(0, at - start), steps[thread.step]) }
                return sum + Double(max(0, done)) / Double(cycle)
            }
        }
        var progressAtWarmup: Double?
        while let next = queue.peek(), next.time <= end {
            if progressAtWarmup == nil, next.time > warmup { progressAtWarmup = progress(at: warmup) }
            // Integrate utilisation over [now, next.time).
            let span = Double(next.time - now)
            if span > 0 {
                Self.accumulate(&busy, running.values.map(\.grant) + crynuxRunning.values.map(\.grant), setup.capacity, span)
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
                        segments.append(done.segment(end: now))
                    }
                    switch done.owner {
                    case let .thread(t):
                        threads[t].step += 1
                        threads[t].stepStart = nil
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
                case .crynuxArrival:
                    crynuxArrived += 1
                    crynuxQueue.append(now)
                    nextCrynuxArrival()
                case let .crynuxDone(id):
                    guard let done = crynuxRunning.removeValue(forKey: id) else { continue }
                    ledger.give(done.grant)
                    crynuxHeld += now - done.start
                    crynuxShare.record(start: Double(done.start) / 1000, end: Double(now) / 1000)
                    if now >= warmup { crynuxFinished += 1 }
                case .postBurst:
                    guard let post = workload.windowPost else { continue }
                    for _ in 0..<post.partitions { enqueue(setup.request(.windowPost, post.size), .post(arrived: now, postBusy: postBusy)) }
                    schedule(now + post.every.milliseconds, .postBurst)
                }
            }
            admitCrynux(aheadOnly: true)
            admit()
            admitCrynux()
            if !Self.withinCapacity(running.values.map(\.grant) + crynuxRunning.values.map(\.grant) + slots.values.map(\.grant), setup.capacity) { oversubscriptions += 1 }
        }
        if end > now { Self.accumulate(&busy, running.values.map(\.grant) + crynuxRunning.values.map(\.grant), setup.capacity, Double(end - now)) }
        crynuxHeld += crynuxRunning.values.reduce(0) { $0 + (end - $1.start) }
        // Stages still running at the end show on the timeline up to the end.
        if setup.recordTimeline { segments += running.sorted { $0.key < $1.key }.map { $0.value.segment(end: max(end, $0.value.start)) } }
        let pending: [PendingRequest] = !setup.recordTimeline ? [] : waiters.sorted { $0.sequence < $1.sequence }.map { waiter in
            var thread: Int?
            if case let .thread(t) = owners[waiter.id] { thread = t }
            return PendingRequest(stage: waiter.request.stage, thread: thread, since: waiter.since)
        }

        let steady = completions.filter { $0 >= warmup }.count
        let window = Double(end - warmup) / 86_400_000
        let inFlight = progress(at: end) - (progressAtWarmup ?? progress(at: warmup))
        var utilization: [String: Double] = [:]
        for (key, value) in busy { utilization[key] = value / Double(end) }
        return SimulationResult(
            sectorsPerDay: window > 0 ? Double(steady) / window : 0, workPerDay: window > 0 ? (Double(steady) + inFlight) / window : 0,
            completed: completions.count, utilization: utilization,
            oversubscriptions: oversubscriptions, events: events, postRuns: postRuns, postMaxWait: .milliseconds(postMaxWait),
            postMaxSealingWait: .milliseconds(postMaxSealingWait), longestWait: longestWait.mapValues { .milliseconds($0) },
            segments: segments, pending: pending,
            crynuxPerDay: window > 0 ? Double(crynuxFinished) / window : 0, crynuxArrivedPerDay: Double(crynuxArrived) / (Double(end) / 86_400_000),
            crynuxMaxWait: .milliseconds(crynuxMaxWait),
            crynuxGPUShare: setup.capacity.gpus.isEmpty ? 0 : Double(crynuxHeld) / (Double(end) * Double(setup.capacity.gpus.count)))
    }

    /// damocles' rule: a stage starts when its own limit and every lock it takes have room, in
    /// arrival order, on the child with the most room whose slot and locks are free (when the
    /// stage has `[[processors]]`); it then lands on the pools (waiting if they are full).
    static func admitFixed(_ limits: StaticLimits, _ waiters: inout [Waiter], _ ledger: inout ResourceLedger,
                           running: [(stage: ProofStage, slot: Int?)]) -> [(id: UInt64, grant: Grant, slot: Int?)] {
        var counts: [ProofStage: Int] = [:]
        var inFlight: [ProofStage: [Int]] = limits.processors.mapValues { Array(repeating: 0, count: $0.count) }
        var freeLocks = limits.extLocks
        func hold(_ stage: ProofStage, _ slot: Int?) {
            counts[stage, default: 0] += 1
            guard let slot, let child = limits.processors[stage]?[slot] else { return }
            inFlight[stage]?[slot] += 1
            for lock in child.locks { freeLocks[lock, default: 0] -= 1 }
        }
        for entry in running { hold(entry.stage, entry.slot) }
        var admitted: [(id: UInt64, grant: Grant, slot: Int?)] = []
        var remaining: [Waiter] = []
        for waiter in waiters.sorted(by: { $0.sequence < $1.sequence }) {
            let stage = waiter.request.stage
            let stageRoom = limits.perStage[stage].map { (counts[stage] ?? 0) < $0 } ?? true
            let lockRoom = limits.locks.values.allSatisfy { lock in
                !lock.stages.contains(stage) || lock.stages.reduce(0) { $0 + (counts[$1] ?? 0) } < lock.limit
            }
            var placed: (grant: Grant, slot: Int?)?
            if stageRoom, lockRoom {
                if let children = limits.processors[stage], !children.isEmpty {
                    // damocles' pick; if the pools cannot hold it there, the next child with room.
                    let order = children.indices.filter { i in
                        (children[i].concurrent ?? ProcessorChoice.unboundedSlots) > inFlight[stage]![i]
                            && children[i].locks.allSatisfy { (freeLocks[$0] ?? 0) > 0 }
                    }.sorted { a, b in
                        let roomA = (children[a].concurrent ?? ProcessorChoice.unboundedSlots) - inFlight[stage]![a]
                        let roomB = (children[b].concurrent ?? ProcessorChoice.unboundedSlots) - inFlight[stage]![b]
                        return (roomA, -a) > (roomB, -b)
                    }
                    for i in order {
                        if let grant = ledger.place(children[i].restrict(waiter.request)) {
                            placed = (grant, i)
                            break
                        }
                    }
                } else if let grant = ledger.place(waiter.request) {
                    placed = (grant, nil)
                }
            }
            if let (grant, slot) = placed {
                ledger.take(grant)
                hold(stage, slot)
                admitted.append((waiter.id, grant, slot))
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
