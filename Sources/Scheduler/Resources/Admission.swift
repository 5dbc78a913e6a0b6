/// One request waiting for resources, as the admission policy sees it.
public struct Waiter: Sendable, Hashable {
    public var id: UInt64
    public var request: ResourceRequest
    /// Arrival order; earlier first among equal priorities.
    public var sequence: UInt64
    /// How many times a request behind it was admitted while it waited.
    public var bypassed: Int

    public init(id: UInt64, request: ResourceRequest, sequence: UInt64, bypassed: Int = 0) {
        self.id = id
        self.request = request
        self.sequence = sequence
        self.bypassed = bypassed
    }
}

/// Admission policy: all-or-nothing grants in priority order with backfill, and no starvation.
///
/// A request that does not fit lets the ones behind it go (so no resource idles while work that
/// fits waits), but once it has been bypassed `starvationLimit` times it reserves the node and GPU
/// closest to fitting: nothing behind it may take from those until it is admitted, and since held
/// resources are always released, it is admitted after at most one round of running stages.
/// `headroom` requests must still fit after any sealing admission (WindowPoSt is never blocked).
public struct AdmissionPolicy: Sendable, Hashable {
    public var starvationLimit: Int
    public var headroom: [ResourceRequest]

    public init(starvationLimit: Int = 8, headroom: [ResourceRequest] = []) {
        self.starvationLimit = max(0, starvationLimit)
        self.headroom = headroom
    }

    /// Waiters in the order admission considers them: starving ones first (oldest first), then by
    /// stage priority, then by arrival.
    public func ordered(_ waiters: [Waiter]) -> [Waiter] {
        waiters.sorted { a, b in
            let starvingA = a.bypassed >= starvationLimit, starvingB = b.bypassed >= starvationLimit
            if starvingA != starvingB { return starvingA }
            if starvingA { return a.sequence < b.sequence }
            return (a.request.priority, b.sequence) > (b.request.priority, a.sequence)
        }
    }

    /// Admits what fits, updating `ledger` and the waiters' bypass counts; returns the grants.
    public func admit(_ waiters: inout [Waiter], _ ledger: inout ResourceLedger) -> [(id: UInt64, grant: Grant)] {
        var reserved: [Reservation] = []
        var admitted: [(id: UInt64, grant: Grant, sequence: UInt64)] = []
        for waiter in ordered(waiters) {
            if let grant = ledger.place(waiter.request, avoiding: reserved), keepsHeadroom(waiter.request, grant, ledger) {
                ledger.take(grant)
                admitted.append((waiter.id, grant, waiter.sequence))
            } else if waiter.bypassed >= starvationLimit, let reservation = Self.reservation(for: waiter.request, in: ledger) {
                reserved.append(reservation)
            }
        }
        guard !admitted.isEmpty else { return [] }
        let admittedIDs = Set(admitted.map(\.id))
        waiters.removeAll { admittedIDs.contains($0.id) }
        // A waiter counts one bypass for every later arrival that got in before it.
        for i in waiters.indices {
            waiters[i].bypassed += admitted.count { $0.sequence > waiters[i].sequence }
        }
        return admitted.map { ($0.id, $0.grant) }
    }

    /// Sealing may not take what the configured WindowPoSt headroom needs.
    private func keepsHeadroom(_ request: ResourceRequest, _ grant: Grant, _ ledger: ResourceLedger) -> Bool {
        guard request.stage != .windowPost, !headroom.isEmpty else { return true }
        var after = ledger
        after.take(grant)
        for post in headroom {
            guard let room = after.place(post) else { return false }
            after.take(room)
        }
        return true
    }

    /// The node (and GPU) where `request` is closest to fitting: the least missing memory, then
    /// the fewest missing cores.
    static func reservation(for request: ResourceRequest, in ledger: ResourceLedger) -> Reservation? {
        let nodes = ledger.capacity.nodes.filter { node in
            (request.node == nil || request.node == node.id) && node.memoryBytes >= request.memoryBytes
                && node.hugepages >= request.hugepages && node.cpus.count >= request.cores
        }
        let best = nodes.min { a, b in
            shortfall(request, a.id, ledger) < shortfall(request, b.id, ledger)
        }
        guard let node = best else { return nil }
        var gpu: Int?
        if request.vramBytes > 0, ledger.hasGPUs {
            gpu = ledger.capacity.gpus.filter { $0.vramBytes >= request.vramBytes }
                .min { a, b in
                    let fa = ledger.free(gpu: a.index)?.vramBytes ?? 0, fb = ledger.free(gpu: b.index)?.vramBytes ?? 0
                    return (a.node == node.id ? 0 : 1, UInt64.max - fa) < (b.node == node.id ? 0 : 1, UInt64.max - fb)
                }?.index
        }
        return Reservation(node: node.id, gpu: gpu)
    }

    private static func shortfall(_ request: ResourceRequest, _ node: Int, _ ledger: ResourceLedger) -> (UInt64, Int, Int) {
        guard let free = ledger.free(node: node) else { return (.max, .max, .max) }
        let memory = request.memoryBytes > free.memoryBytes ? request.memoryBytes - free.memoryBytes : 0
        return (memory, max(0, request.hugepages - free.hugepages), max(0, request.cores - free.cpus))
    }
}
