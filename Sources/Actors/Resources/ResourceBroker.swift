import Foundation
import Synchronization
import ProofsFFI
import Scheduler

/// Admits stages to the CPU, memory and GPU pools: a request gets its whole bundle at once or
/// waits, in the order `AdmissionPolicy` sets; a released bundle goes to the next waiter that
/// fits in the same step.
public actor ResourceBroker {
    public let capacity: BoxCapacity
    public let policy: AdmissionPolicy
    public let costs: CostTable
    private var waiters: [Waiter] = []
    /// Where a queued request's task parks for its grant. Outside the actor so a granted waiter
    /// resumes straight into its own task without hopping back onto the broker (the hand-over the
    /// benchmark measures), and so a pause can withdraw a waiter synchronously.
    private let mailboxes = WaitQueue<Void, Grant>()
    /// When the release that granted each waiter began (for `sealer bench pools`).
    private let handoverStart = Mutex<[UInt64: ContinuousClock.Instant]>([:])

    /// Hands a waiter its grant; false when it withdrew (then the caller still holds the grant).
    private func deliver(_ id: UInt64, _ grant: Grant, trigger: ContinuousClock.Instant?) -> Bool {
        if let trigger, recordHandovers { handoverStart.withLock { $0[id] = trigger } }
        return mailboxes.deliver(.init(id: id), grant)
    }
    private var held: [UInt64: Grant] = [:]
    private var nextID: UInt64 = 0
    private let initial: ResourceLedger
    /// When the broker's clock started: admission times are durations since then.
    private let epoch = ContinuousClock.now
    /// Expected end of each held grant, for backfilling past reservations.
    private var expectedEnds: [UInt64: Duration] = [:]
    private var requests: [UInt64: ResourceRequest] = [:]
    private var releaseStarted: ContinuousClock.Instant?
    /// Release-to-resume times of waiters woken by a release (for `sealer bench pools`).
    public private(set) var handovers: [Duration] = []
    private nonisolated let recordHandovers: Bool

    /// PC1 may spill its memory onto a second node (`[resources] pc1_spill_slowdown`).
    public nonisolated let pc1Spill: Bool

    public init(capacity: BoxCapacity, policy: AdmissionPolicy = AdmissionPolicy(), costs: CostTable = .defaults, recordHandovers: Bool = false,
                pc1Spill: Bool = false) {
        self.capacity = capacity
        self.policy = policy
        self.costs = costs
        self.pc1Spill = pc1Spill
        self.recordHandovers = recordHandovers
        initial = ResourceLedger(capacity)
    }

    private var now: Duration { epoch.duration(to: .now) }

    public private(set) lazy var cpuPool = CPUPool(capacity: capacity, books: initial.cpu, executor: unownedExecutor)
    public private(set) lazy var memoryPool = MemoryPool(capacity: capacity, books: initial.memory, executor: unownedExecutor)
    public private(set) lazy var gpuPool = GPUPool(capacity: capacity, books: initial.gpu, executor: unownedExecutor)
    public private(set) lazy var nvmePool = NVMePool(capacity: capacity, books: initial.nvme, executor: unownedExecutor)

    /// All three pools' books as one ledger, read and written in one synchronous step.
    private var ledger: ResourceLedger {
        get {
            ResourceLedger(capacity: capacity, cpu: cpuPool.assumeIsolated { $0.books }, memory: memoryPool.assumeIsolated { $0.books },
                           gpu: gpuPool.assumeIsolated { $0.books }, nvme: nvmePool.assumeIsolated { $0.books })
        }
        set {
            cpuPool.assumeIsolated { $0.books = newValue.cpu }
            memoryPool.assumeIsolated { $0.books = newValue.memory }
            gpuPool.assumeIsolated { $0.books = newValue.gpu }
            nvmePool.assumeIsolated { $0.books = newValue.nvme }
        }
    }

    /// The request for one run of `stage` on a sector of `size`, from the cost table.
    public nonisolated func request(_ stage: ProofStage, size: SectorSize) -> ResourceRequest {
        var request = ResourceRequest(stage: stage, cost: costs.cost(stage, size))
        request.spillable = pc1Spill && stage == .pc1 && request.numaBound
        return request
    }

    /// A place in the queue: granted at once, or waiting for the reason given.
    public enum Ticket: Sendable {
        case granted(ResourceLease)
        case waiting(id: UInt64, Refusal)
    }

    /// Queues `request` and runs admission; a request that can never fit is refused at once.
    public func enqueue(_ request: ResourceRequest) throws(ResourceError) -> Ticket {
        guard ResourceLedger(capacity).place(request) != nil else {
            throw .neverFits(stage: request.stage, Refusal.explain(request, in: ResourceLedger(capacity)))
        }
        let id = mailboxes.enqueue(()).id
        waiters.append(Waiter(id: id, request: request, sequence: id, since: now))
        requests[id] = request
        admit()
        if let grant = mailboxes.collect(.init(id: id)) {
            handoverStart.withLock { _ = $0.removeValue(forKey: id) }
            return .granted(ResourceLease(id: id, grant: grant, broker: self))
        }
        return .waiting(id: id, Refusal.explain(request, in: ledger))
    }

    /// Waits for a queued request; nil when the waiting task was cancelled or the request was
    /// withdrawn (nothing is held then).
    public nonisolated func wait(_ id: UInt64) async -> ResourceLease? {
        let grant = await mailboxes.wait(.init(id: id))
        let resumed = ContinuousClock.now
        let start = handoverStart.withLock { $0.removeValue(forKey: id) }
        guard let grant else {
            Task { await self.cancel(id) }
            return nil
        }
        if let start { await noteHandover(start.duration(to: resumed)) }
        if Task.isCancelled {
            await release(id)
            return nil
        }
        return ResourceLease(id: id, grant: grant, broker: self)
    }

    /// Withdraws a queued request at once, from any context: its waiter wakes with nil. False when
    /// it had been granted already (its waiter receives the lease and must release it). The
    /// admission queue forgets it when `cancel` runs.
    public nonisolated func withdraw(_ id: UInt64) -> Bool {
        mailboxes.cancel(.init(id: id))
    }

    private func noteHandover(_ duration: Duration) {
        if handovers.count < 1_000_000 { handovers.append(duration) }
    }

    /// Drops a waiting request (its task was cancelled).
    public func cancel(_ id: UInt64) {
        mailboxes.cancel(.init(id: id))
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i)
        requests[id] = nil
        releaseStarted = .now
        admit()
    }

    /// Returns everything a lease holds and hands it to the waiters that now fit.
    public func release(_ id: UInt64) {
        guard let grant = held.removeValue(forKey: id) else { return }
        releaseStarted = .now
        expectedEnds[id] = nil
        requests[id] = nil
        ledger.give(grant)
        admit()
    }

    /// Returns all but the NVMe space of a lease (a batch PC1 that ended): its slot stays held by
    /// the same lease until the batch is finalized and the lease released.
    public func releaseKeepingNVMe(_ id: UInt64) {
        guard let grant = held[id], !grant.nvme.isEmpty else { return release(id) }
        held[id] = grant.nvmeOnly
        expectedEnds[id] = nil
        var books = ledger
        books.give(grant.withoutNVMe)
        ledger = books
        releaseStarted = .now
        admit()
    }

    /// Takes back, outside the queue, the NVMe slot a batch held before a restart (from its
    /// persisted grant), so the pool's books match the layers on disk; nil when it no longer fits
    /// the configured drives (the books are then left alone).
    public func reclaimNVMe(_ grant: Grant) -> ResourceLease? {
        let slot = grant.nvmeOnly
        var books = ledger
        guard !slot.nvme.isEmpty, books.nvme.canTake(slot.nvme) else { return nil }
        books.take(slot)
        ledger = books
        let id = mailboxes.enqueue(()).id
        mailboxes.cancel(.init(id: id))
        held[id] = slot
        return ResourceLease(id: id, grant: slot, broker: self)
    }

    /// Returns part of a lease's memory early (buffers the stage no longer needs).
    public func releaseMemory(_ id: UInt64, bytes: UInt64) {
        guard var grant = held[id] else { return }
        let returned = grant.returnMemory(bytes)
        held[id] = grant
        var books = ledger
        books.giveMemory(returned)
        ledger = books
        releaseStarted = .now
        admit()
    }

    private func admit() {
        guard !waiters.isEmpty else { return }
        var books = ledger
        let clock = now
        let running = held.map { id, grant in
            RunningGrant(grant: grant, expectedEnd: expectedEnds[id] ?? clock, isLong: requests[id].map(policy.isLong) ?? false)
        }
        let admitted = policy.admit(&waiters, &books, now: clock, running: running)
        let trigger = releaseStarted
        releaseStarted = nil
        guard !admitted.isEmpty else { return }
        ledger = books
        var withdrawn = false
        for (id, grant) in admitted {
            if deliver(id, grant, trigger: trigger) {
                held[id] = grant
                expectedEnds[id] = clock + (requests[id]?.expectedDuration ?? AdmissionPolicy.unknownDuration)
            } else {
                // Its waiter withdrew (a pause) after the policy chose it: the grant goes back.
                requests[id] = nil
                ledger.give(grant)
                withdrawn = true
            }
        }
        if withdrawn { admit() }
    }

    /// Why a queued request still waits, for `worker list`.
    public func reason(_ id: UInt64) -> Refusal? {
        guard let waiter = waiters.first(where: { $0.id == id }) else { return nil }
        return Refusal.explain(waiter.request, in: ledger)
    }

    /// Waiting requests by the pool that blocks each now (`/metrics`).
    public var waitingByPool: [String: Int] {
        let books = ledger
        var counts: [String: Int] = [:]
        for waiter in waiters { counts[Refusal.explain(waiter.request, in: books).pool.rawValue, default: 0] += 1 }
        return counts
    }

    /// Waiting requests by stage (`/metrics`): a Crynux lease counts as `crynux_inference`.
    public var waitingByStage: [String: Int] {
        Dictionary(waiters.map { ($0.request.stage.rawValue, 1) }, uniquingKeysWith: +)
    }

    /// Held grants and queue length, for status and tests.
    public var usage: (held: [Grant], waiting: Int) { (Array(held.values), waiters.count) }

    /// True when the pools' books equal capacity minus the held grants (nothing leaked).
    public var isBalanced: Bool {
        var expected = ResourceLedger(capacity)
        for grant in held.values { expected.take(grant) }
        return expected == ledger
    }
}

extension ResourceBroker {
    /// Runs `body` holding the resources `request` needs, waiting for them first; returns them on
    /// success, error and cancellation alike.
    public nonisolated func withResources<T: Sendable>(
        _ request: ResourceRequest, _ body: (ResourceLease) async throws -> T
    ) async throws -> T {
        let lease: ResourceLease
        switch try await enqueueChecked(request) {
        case let .granted(granted): lease = granted
        case let .waiting(id, _):
            guard let granted = await wait(id) else { throw ResourceError.cancelled }
            lease = granted
        }
        do {
            let result = try await body(lease)
            await lease.release()
            return result
        } catch {
            await lease.release()
            throw error
        }
    }

    private nonisolated func enqueueChecked(_ request: ResourceRequest) async throws(ResourceError) -> Ticket {
        try await enqueue(request)
    }
}
