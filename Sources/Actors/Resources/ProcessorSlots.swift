import ProofsFFI
import Scheduler

/// The `[[processors.<stage>]]` children's slots and the `[processors.ext_locks]` they share.
/// A stage with children takes one child's slot and all its locks before its resources, as
/// damocles does; its resource request is then narrowed to where that child is pinned.
/// Waiters are served first come, first served as slots and locks free up (damocles blocks on
/// its first child instead, which can leave a free second child idle).
public actor ProcessorSlots {
    private let slots: [ProofStage: [ProcessorSlot]]
    private var inFlight: [ProofStage: [Int]]
    private var freeLocks: [String: Int]
    private var waiters: [(id: UInt64, stage: ProofStage, continuation: CheckedContinuation<ProcessorSlot?, Never>)] = []
    private var nextID: UInt64 = 0

    public init(processors: [String: [ExternalProcessorConfig]], extLocks: [String: Int]) {
        var slots: [ProofStage: [ProcessorSlot]] = [:]
        for (name, children) in processors {
            guard let stage = ProofStage(rawValue: name), !children.isEmpty else { continue }
            slots[stage] = children.enumerated().map { ProcessorSlot(index: $0.offset, $0.element) }
        }
        self.slots = slots
        inFlight = slots.mapValues { Array(repeating: 0, count: $0.count) }
        freeLocks = extLocks
    }

    /// The stages that have children.
    public nonisolated var stages: Set<ProofStage> { Set(slots.keys) }

    /// Takes a child's slot and its locks, waiting in arrival order; nil when cancelled.
    public func acquire(_ stage: ProofStage) async -> ProcessorSlot? {
        guard slots[stage] != nil else { return nil }
        if waiters.isEmpty, let slot = take(stage) { return slot }
        nextID += 1
        let id = nextID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume(returning: nil) } else { waiters.append((id, stage, continuation)) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// Gives a child's slot and its locks back, and serves the waiters that now fit.
    public func release(_ stage: ProofStage, _ slot: ProcessorSlot) {
        inFlight[stage]?[slot.index] -= 1
        for lock in slot.locks { freeLocks[lock, default: 0] += 1 }
        serve()
    }

    /// Tasks in flight per child, and free count per lock (for status and tests).
    public func usage(_ stage: ProofStage) -> (inFlight: [Int], freeLocks: [String: Int], waiting: Int) {
        (inFlight[stage] ?? [], freeLocks, waiters.count { $0.stage == stage })
    }

    private func take(_ stage: ProofStage) -> ProcessorSlot? {
        guard let children = slots[stage], let counts = inFlight[stage],
              let i = ProcessorChoice.pick(children, inFlight: counts, freeLocks: freeLocks) else { return nil }
        inFlight[stage]?[i] += 1
        for lock in children[i].locks { freeLocks[lock, default: 0] -= 1 }
        return children[i]
    }

    private func serve() {
        var i = 0
        while i < waiters.count {
            if let slot = take(waiters[i].stage) {
                waiters.remove(at: i).continuation.resume(returning: slot)
            } else {
                i += 1
            }
        }
    }

    private func cancel(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: nil)
    }
}
