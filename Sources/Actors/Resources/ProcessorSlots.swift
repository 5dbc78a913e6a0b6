import ProofsFFI
import Scheduler
import Synchronization

/// The `[[processors.<stage>]]` children's slots and the `[processors.ext_locks]` they share.
/// A stage with children takes one child's slot and all its locks before its resources, as
/// damocles does; its resource request is then narrowed to where that child is pinned.
///
/// Each stage queues on its own: a stage with a free child starts at once even while another
/// stage waits (a queued PC2 never holds back a PC1 whose children are idle). As slots and locks
/// free up, waiters are served in arrival order across stages, so a shared `ext_lock` goes to
/// whoever asked for it first. (damocles blocks on its first child instead, which can leave a
/// free second child idle.)
public final class ProcessorSlots: Sendable {
    private struct Books {
        var inFlight: [ProofStage: [Int]]
        var freeLocks: [String: Int]
    }

    private let slots: [ProofStage: [ProcessorSlot]]
    private let books: Mutex<Books>
    let line = WaitQueue<ProofStage, ProcessorSlot>()

    public init(processors: [String: [ExternalProcessorConfig]], extLocks: [String: Int]) {
        var slots: [ProofStage: [ProcessorSlot]] = [:]
        for (name, children) in processors {
            guard let stage = ProofStage(rawValue: name), !children.isEmpty else { continue }
            slots[stage] = children.enumerated().map { ProcessorSlot(index: $0.offset, $0.element) }
        }
        self.slots = slots
        books = Mutex(Books(inFlight: slots.mapValues { Array(repeating: 0, count: $0.count) }, freeLocks: extLocks))
    }

    /// The stages that have children.
    public var stages: Set<ProofStage> { Set(slots.keys) }

    /// A child's slot and its locks now (`.taken`), or a place in this stage's line; nil when the
    /// stage has no children.
    func take(_ stage: ProofStage) -> Taken? {
        guard slots[stage] != nil else { return nil }
        return books.withLock { b in
            if line.isEmpty(where: { $0 == stage }), let slot = take(stage, &b) { return .taken(slot) }
            return .queued(line.enqueue(stage))
        }
    }

    /// A slot taken at once, or a place in line.
    enum Taken {
        case taken(ProcessorSlot)
        case queued(WaitQueue<ProofStage, ProcessorSlot>.Ticket)
    }

    /// Takes a child's slot and its locks, waiting in line; nil when cancelled.
    public func acquire(_ stage: ProofStage) async -> ProcessorSlot? {
        switch take(stage) {
        case nil: return nil
        case let .taken(slot): return slot
        case let .queued(ticket): return await line.wait(ticket)
        }
    }

    /// Gives a child's slot and its locks back, and serves the waiters that now fit.
    public func release(_ stage: ProofStage, _ slot: ProcessorSlot) {
        books.withLock { b in
            give(stage, slot, &b)
            for (ticket, waiting) in line.line {
                guard let slot = take(waiting, &b) else { continue }
                if !line.deliver(ticket, slot) { give(waiting, slot, &b) }
            }
        }
    }

    /// Tasks in flight per child, free count per lock, and this stage's waiters (status, tests).
    public func usage(_ stage: ProofStage) -> (inFlight: [Int], freeLocks: [String: Int], waiting: Int) {
        books.withLock { b in (b.inFlight[stage] ?? [], b.freeLocks, line.count(where: { $0 == stage })) }
    }

    private func take(_ stage: ProofStage, _ b: inout Books) -> ProcessorSlot? {
        guard let children = slots[stage], let counts = b.inFlight[stage],
              let i = ProcessorChoice.pick(children, inFlight: counts, freeLocks: b.freeLocks) else { return nil }
        b.inFlight[stage]?[i] += 1
        for lock in children[i].locks { b.freeLocks[lock, default: 0] -= 1 }
        return children[i]
    }

    private func give(_ stage: ProofStage, _ slot: ProcessorSlot, _ b: inout Books) {
        b.inFlight[stage]?[slot.index] -= 1
        for lock in slot.locks { b.freeLocks[lock, default: 0] += 1 }
    }
}
