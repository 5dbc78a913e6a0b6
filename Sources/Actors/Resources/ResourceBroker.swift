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
    /// Where a queued request's waiter parks, and what it finds there. Behind a lock rather than
    /// in the actor so a granted waiter resumes straight into its own task, without hopping back
    /// onto the broker first (the hand-over the benchmark measures).
    private let mailboxes = Mutex<Mailboxes>(Mailboxes())

    struct Mailboxes {
        var parked: [UInt64: CheckedContinuation<Grant?, Never>] = [:]
        /// Outcomes that arrived before their waiter parked: a grant, or nil (cancelled).
        var delivered: [UInt64: Grant?] = [:]
        /// When the release that granted each parked waiter began.
        var handoverStart: [UInt64: ContinuousClock.Instant] = [:]
    }

    /// Hands a waiter its outcome: resumes it if parked, or leaves it for when it parks.
    private func deliver(_ id: UInt64, _ grant: Grant?, trigger: ContinuousClock.Instant?) {
        let parked = mailboxes.withLock { boxes -> CheckedContinuation<Grant?, Never>? in
            if let trigger, grant != nil { boxes.handoverStart[id] = trigger }
            guard let continuation = boxes.parked.removeValue(forKey: id) else {
                boxes.delivered[id] = .some(grant)
                return nil
            }
            return continuation
        }
        parked?.resume(returning: grant)
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

    public init(capacity: BoxCapacity, policy: AdmissionPolicy = AdmissionPolicy(), costs: CostTable = .defaults, recordHandovers: Bool = false) {
        self.capacity = capacity
        self.policy = policy
        self.costs = costs
        self.recordHandovers = recordHandovers
        initial = ResourceLedger(capacity)
    }

    private var now: Duration { epoch.duration(to: .now) }

    public private(set) lazy var cpuPool = CPUPool(capacity: capacity, books: initial.cpu, executor: unownedExecutor)
    public private(set) lazy var memoryPool = MemoryPool(capacity: capacity, books: initial.memory, executor: unownedExecutor)
    public private(set) lazy var gpuPool = GPUPool(capacity: capacity, books: initial.gpu, executor: unownedExecutor)

    /// All three pools' books as one ledger, read and written in one synchronous step.
    private var ledger: ResourceLedger {
        get {
            ResourceLedger(capacity: capacity, cpu: cpuPool.assumeIsolated { $0.books }, memory: memoryPool.assumeIsolated { $0.books },
                           gpu: gpuPool.assumeIsolated { $0.books })
        }
        set {
            cpuPool.assumeIsolated { $0.books = newValue.cpu }
            memoryPool.assumeIsolated { $0.books = newValue.memory }
            gpuPool.assumeIsolated { $0.books = newValue.gpu }
        }
    }

    /// The request for one run of `stage` on a sector of `size`, from the cost table.
    public nonisolated func request(_ stage: ProofStage, size: SectorSize) -> ResourceRequest {
        ResourceRequest(stage: stage, cost: costs.cost(stage, size))
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
        nextID += 1
        let id = nextID
        waiters.append(Waiter(id: id, request: request, sequence: id, since: now))
        requests[id] = request
        admit()
        if let grant = held[id], !waiters.contains(where: { $0.id == id }) {
            mailboxes.withLock { _ = $0.delivered.removeValue(forKey: id) }
            return .granted(ResourceLease(id: id, grant: grant, broker: self))
        }
        return .waiting(id: id, Refusal.explain(request, in: ledger))
    }

    /// Waits for a queued request; nil when the waiting task was cancelled (nothing is held then).
    public nonisolated func wait(_ id: UInt64) async -> ResourceLease? {
        let grant: Grant? = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Grant?, Never>) in
                let ready = mailboxes.withLock { boxes -> Grant?? in
                    if let outcome = boxes.delivered.removeValue(forKey: id) { return .some(outcome) }
                    boxes.parked[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
        let resumed = ContinuousClock.now
        guard let grant else { return nil }
        let start = mailboxes.withLock { $0.handoverStart.removeValue(forKey: id) }
        if let start, recordHandovers { await noteHandover(start.duration(to: resumed)) }
        if Task.isCancelled {
            await release(id)
            return nil
        }
        return ResourceLease(id: id, grant: grant, broker: self)
    }

    private func noteHandover(_ duration: Duration) {
        if handovers.count < 1_000_000 { handovers.append(duration) }
    }

    /// Drops a waiting request (its task was cancelled).
    public func cancel(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i)
        requests[id] = nil
        deliver(id, nil, trigger: nil)
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
        let running = held.map { RunningGrant(grant: $0.value, expectedEnd: expectedEnds[$0.key] ?? clock) }
        let admitted = policy.admit(&waiters, &books, now: clock, running: running)
        let trigger = releaseStarted
        releaseStarted = nil
        guard !admitted.isEmpty else { return }
        ledger = books
        for (id, grant) in admitted {
            held[id] = grant
            expectedEnds[id] = clock + (requests[id]?.expectedDuration ?? AdmissionPolicy.unknownDuration)
            deliver(id, grant, trigger: trigger)
        }
    }

    /// Why a queued request still waits, for `worker list`.
    public func reason(_ id: UInt64) -> Refusal? {
        guard let waiter = waiters.first(where: { $0.id == id }) else { return nil }
        return Refusal.explain(waiter.request, in: ledger)
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
