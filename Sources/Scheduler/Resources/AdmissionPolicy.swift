/// One request waiting for resources, as the admission policy sees it.
public struct Waiter: Sendable, Hashable {
    public var id: UInt64
    public var request: ResourceRequest
    /// Arrival order; earlier first among equal priorities.
    public var sequence: UInt64
    /// How many times a request behind it was admitted while it waited.
    public var bypassed: Int
    /// When it started waiting (the admission clock's time).
    public var since: Duration

    public init(id: UInt64, request: ResourceRequest, sequence: UInt64, bypassed: Int = 0, since: Duration = .zero) {
        self.id = id
        self.request = request
        self.sequence = sequence
        self.bypassed = bypassed
        self.since = since
    }
}

/// Admission policy: all-or-nothing grants in priority order with backfill, and no starvation.
///
/// A request that does not fit lets the ones behind it go (so no resource idles while work that
/// fits waits), but once it has been bypassed `starvationLimit` times it reserves the node and GPU
/// closest to fitting: nothing behind it may take from those until it is admitted, and since held
/// resources are always released, it is admitted after at most one round of running stages.
/// WindowPoSt is never blocked by sealing for longer than `headroomWait`: a sealing stage
/// expected to run longer than that is admitted only if the `headroom` requests (one WindowPoSt
/// each) still fit afterwards, and a waiting PoSt reserves what it needs at once, so it waits at
/// most for the short stages already running on it. While long stages hold less memory than
/// `longStageShare`, a waiting long stage ranks ahead of short ones (see `LongStageShare`); it
/// is then protected by its share and bypass count, so waiting time alone does not make it starve.
public struct AdmissionPolicy: Sendable, Hashable {
    public var starvationLimit: Int
    /// A request waiting longer than this starves too, however few passed it.
    public var starvationWait: Duration
    public var headroom: [ResourceRequest]
    public var headroomWait: Duration
    /// Memory long stages may hold ahead of short ones; `.off` (target 0): plain priorities.
    public var longStageShare = LongStageShare.Resolved.off
    /// Stages expected to run at least this long are long stages (a scaled-time bench scales it).
    public var longStage = LongStageShare.longStage
    /// With `pc1_spill_slowdown` set, the memory of the box's smallest PC1 (0: spilling off).
    /// A spill holds its memory longer for the same sector, so it takes only what short stages
    /// leave: no PC1 spills while a short stage that needs this much memory from any node (a C2,
    /// a WindowPoSt) waits, and memory drawn from several nodes comes from what cannot hold a
    /// PC1 whole first (`ResourceLedger.memoryGranule`).
    public var spillGranule: UInt64 = 0

    public init(starvationLimit: Int = 32, starvationWait: Duration = .seconds(6 * 3600), headroom: [ResourceRequest] = [],
                headroomWait: Duration = .zero) {
        self.starvationLimit = max(0, starvationLimit)
        self.starvationWait = starvationWait
        self.headroom = headroom
        self.headroomWait = headroomWait
    }

    /// Starving waiters go first and reserve; a WindowPoSt is treated as starving from the start.
    func isStarving(_ waiter: Waiter, now: Duration) -> Bool {
        let waitedTooLong = now - waiter.since >= starvationWait && !(longStageShare.target > 0 && isLong(waiter.request))
        return waiter.bypassed >= starvationLimit || waitedTooLong || waiter.request.stage == .windowPost
    }

    /// Whether `request` is a long stage (PC1-class), which the long-stage share covers.
    public func isLong(_ request: ResourceRequest) -> Bool {
        (request.expectedDuration ?? .zero) >= longStage
    }

    /// `ordered`, with the long stages that bring the long stages' memory closer to the share's
    /// target (held + half of theirs within it) and keep it within its limit moved up to just
    /// behind the starving waiters (a WindowPoSt among them), in their own order.
    func ranked(_ waiters: [Waiter], now: Duration, running: [RunningGrant]) -> [Waiter] {
        let order = ordered(waiters, now: now)
        guard longStageShare.target > 0 else { return order }
        var held = running.filter(\.isLong).reduce(UInt64(0)) { $0 + $1.grant.memoryBytes }
        var first: [Waiter] = []
        for waiter in order where isLong(waiter.request) && held + waiter.request.memoryBytes / 2 <= longStageShare.target
            && held + waiter.request.memoryBytes <= longStageShare.limit {
            first.append(waiter)
            held += waiter.request.memoryBytes
        }
        guard !first.isEmpty else { return order }
        let ahead = Set(first.map(\.id))
        let rest = order.filter { !ahead.contains($0.id) }
        let starving = rest.prefix { isStarving($0, now: now) }
        return Array(starving) + first + rest.dropFirst(starving.count)
    }

    /// Waiters in the order admission considers them: starving ones first (oldest first), then by
    /// stage priority, then by arrival.
    public func ordered(_ waiters: [Waiter], now: Duration = .zero) -> [Waiter] {
        waiters.sorted { a, b in
            let starvingA = isStarving(a, now: now), starvingB = isStarving(b, now: now)
            if starvingA != starvingB { return starvingA }
            if starvingA { return (a.request.priority, b.sequence) > (b.request.priority, a.sequence) }
            return (a.request.priority, b.sequence) > (b.request.priority, a.sequence)
        }
    }

    /// Admits what fits, updating `ledger` and the waiters' bypass counts; returns the grants.
    /// `running` and `now` let a stage use reserved resources when it is expected to finish before
    /// the reserved request could start anyway (backfilling); without them reservations are strict.
    public func admit(_ waiters: inout [Waiter], _ ledger: inout ResourceLedger, now: Duration = .zero,
                      running: [RunningGrant] = []) -> [(id: UInt64, grant: Grant)] {
        var reserved: [Reservation] = []
        var admitted: [(id: UInt64, grant: Grant, sequence: UInt64, priority: Int)] = []
        ledger.memoryGranule = spillGranule
        var spillBlockers = Set(waiters.filter(blocksSpills).map(\.id))
        for waiter in ranked(waiters, now: now, running: running) {
            let finish = now + (waiter.request.expectedDuration ?? Self.unknownDuration)
            let binding = reserved.filter { reservation in reservation.until.map { finish > $0 } ?? true }
            if let grant = ledger.place(waiter.request, avoiding: binding), keepsHeadroom(waiter.request, grant, ledger, now: now, running: running),
               !(waiter.request.numaBound && grant.hasRemoteMemory && !spillBlockers.subtracting([waiter.id]).isEmpty) {
                ledger.take(grant)
                spillBlockers.remove(waiter.id)
                admitted.append((waiter.id, grant, waiter.sequence, waiter.request.priority))
            } else if isStarving(waiter, now: now), !Self.waitsForNVMe(waiter.request, ledger),
                      let reservation = Self.reservation(for: waiter.request, in: ledger, now: now, running: running) {
                reserved.append(reservation)
            }
        }
        guard !admitted.isEmpty else { return [] }
        let admittedIDs = Set(admitted.map(\.id))
        waiters.removeAll { admittedIDs.contains($0.id) }
        // A waiter counts one bypass for every later arrival of no higher priority that got in
        // before it (higher priorities going first is the policy, not overtaking).
        for i in waiters.indices {
            let own = waiters[i].request.priority
            waiters[i].bypassed += admitted.count { $0.sequence > waiters[i].sequence && $0.priority <= own }
        }
        return admitted.map { ($0.id, $0.grant) }
    }

    /// A waiting short stage that draws at least `spillGranule` from any node: while one waits,
    /// no PC1 spills (see `spillGranule`).
    private func blocksSpills(_ waiter: Waiter) -> Bool {
        let request = waiter.request
        return spillGranule > 0 && !request.numaBound && !isLong(request) && request.memoryBytes >= spillGranule
    }

    /// A long sealing stage may not take what the WindowPoSt headroom needs: after it starts, the
    /// headroom requests must fit once the stages expected to end within `headroomWait` have.
    private func keepsHeadroom(_ request: ResourceRequest, _ grant: Grant, _ ledger: ResourceLedger, now: Duration,
                               running: [RunningGrant]) -> Bool {
        guard request.stage != .windowPost, !headroom.isEmpty, (request.expectedDuration ?? Self.unknownDuration) > headroomWait else {
            return true
        }
        var after = ledger
        for stage in running where stage.expectedEnd <= now + headroomWait { after.give(stage.grant) }
        after.take(grant)
        for post in headroom {
            guard let room = after.place(post) else { return false }
            after.take(room)
        }
        return true
    }

    public static let unknownDuration = Duration.seconds(Int64(1) << 40)

    /// A batch PC1 with no NVMe slot free on any node waits for a batch to be finalized, which
    /// no reservation of cores or memory brings sooner: reserving them would only idle them (and
    /// hold back the C1s that finalize the batches).
    static func waitsForNVMe(_ request: ResourceRequest, _ ledger: ResourceLedger) -> Bool {
        request.nvmeBytes > 0 && ledger.hasNVMe && !ledger.capacity.nodes.contains { ledger.nvme.free(near: $0.id) >= request.nvmeBytes }
    }

    /// When the reserved resources are expected to have room for `request`: running stages on
    /// them release in order of expected end until it fits.
    static func shadowTime(_ request: ResourceRequest, _ reservation: Reservation, _ ledger: ResourceLedger, now: Duration,
                           running: [RunningGrant]) -> Duration? {
        shadow(request, reservation, ledger, now: now, running: running)?.time
    }

    /// The shadow time, and the memory the reservation leaves idle until then (GiB-seconds of free
    /// memory nobody else may use), which picks the cheapest place to reserve.
    static func shadow(_ request: ResourceRequest, _ reservation: Reservation, _ ledger: ResourceLedger, now: Duration,
                       running: [RunningGrant]) -> (time: Duration, idle: Double)? {
        guard let node = reservation.node, let free = ledger.free(node: node) else { return nil }
        // Memory that is not NUMA-bound counts on every node.
        func memoryOn(_ grant: Grant) -> UInt64 { request.numaBound ? grant.memory[node] ?? 0 : grant.memoryBytes }
        var memory = request.numaBound ? free.memoryBytes : ledger.memory.freeBytes.reduce(0, +)
        var cpus = free.cpus, hugepages = free.hugepages
        var vram = reservation.gpu.flatMap { ledger.free(gpu: $0) }?.vramBytes ?? 0
        var slots = reservation.gpu.flatMap { ledger.free(gpu: $0) }?.slots ?? 0
        let needsGPU = reservation.gpu != nil
        func fits() -> Bool {
            memory >= request.memoryBytes && cpus >= request.cores && hugepages >= request.hugepages
                && (!needsGPU || (vram >= request.vramBytes && slots + request.extraGPUSlots > 0))
        }
        if fits() { return (now, 0) }
        var idle = 0.0
        var clock = now
        let relevant = running.filter { memoryOn($0.grant) > 0 || $0.grant.node == node || (needsGPU && $0.grant.gpu == reservation.gpu) }
        for stage in relevant.sorted(by: { $0.expectedEnd < $1.expectedEnd }) {
            let end = max(now, stage.expectedEnd)
            idle += Double(memory) / Double(1 << 30) * (end - clock).inSeconds
            clock = end
            memory += memoryOn(stage.grant)
            if stage.grant.node == node {
                cpus += stage.grant.cpus.count
                hugepages += stage.grant.hugepages
            }
            if needsGPU, stage.grant.gpu == reservation.gpu {
                vram += stage.grant.vramBytes
                slots += 1
            }
            if fits() { return (end, idle) }
        }
        return nil
    }

    /// The node (and GPU) where reserving leaves the least memory idle until `request` fits
    /// (then: the soonest, then the least missing memory and cores).
    static func reservation(for request: ResourceRequest, in ledger: ResourceLedger, now: Duration = .zero,
                            running: [RunningGrant] = []) -> Reservation? {
        let nodes = ledger.capacity.nodes.filter { node in
            (request.node == nil || request.node == node.id) && node.memoryBytes >= request.memoryBytes
                && node.hugepages >= request.hugepages && node.cpus.count >= request.cores
        }
        var best: (Reservation, (Double, Duration, UInt64, Int, Int))?
        for node in nodes {
            var gpu: Int?
            if request.vramBytes > 0, ledger.hasGPUs {
                gpu = ledger.capacity.gpus.filter { $0.vramBytes >= request.vramBytes }
                    .min { a, b in
                        let fa = ledger.free(gpu: a.index)?.vramBytes ?? 0, fb = ledger.free(gpu: b.index)?.vramBytes ?? 0
                        return (a.node == node.id ? 0 : 1, UInt64.max - fa) < (b.node == node.id ? 0 : 1, UInt64.max - fb)
                    }?.index
            }
            var candidate = Reservation(node: node.id, gpu: gpu, allMemory: !request.numaBound)
            let expected = shadow(request, candidate, ledger, now: now, running: running)
            candidate.until = expected?.time
            let missing = shortfall(request, node.id, ledger)
            let key = (expected?.idle ?? .infinity, expected?.time ?? unknownDuration, missing.0, missing.1, missing.2)
            if best == nil || key < best!.1 { best = (candidate, key) }
        }
        return best?.0
    }

    private static func shortfall(_ request: ResourceRequest, _ node: Int, _ ledger: ResourceLedger) -> (UInt64, Int, Int) {
        guard let free = ledger.free(node: node) else { return (.max, .max, .max) }
        let memory = request.memoryBytes > free.memoryBytes ? request.memoryBytes - free.memoryBytes : 0
        return (memory, max(0, request.hugepages - free.hugepages), max(0, request.cores - free.cpus))
    }
}
