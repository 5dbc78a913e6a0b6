import Synchronization

/// A first-in, first-out line of tasks parked for a value: a permit, a start token, a processor
/// slot, a resource grant. Every wait of the daemon parks in one of these.
///
/// Taking a place (`enqueue`) is synchronous, so an owner decides "take now or queue" in one
/// step under its own lock. Cancellation is synchronous too: `cancel` removes the waiter and wakes
/// it with nil before returning, so whoever serves the line next never hands a value to a waiter
/// that has gone, and never needs a task hop to learn that it went. A value handed over before
/// the cancellation wins: the waiter receives it and must give it back if it no longer wants it.
///
/// Lock order: an owner may call into its queue while holding its own lock; the queue never calls
/// out while holding its lock (continuations are resumed after unlocking).
public final class WaitQueue<Tag: Sendable, Value: Sendable>: Sendable {
    /// A place in the line.
    public struct Ticket: Hashable, Sendable {
        public let id: UInt64
    }

    fileprivate enum Slot {
        /// In line, its task not parked yet.
        case pending
        case parked(CheckedContinuation<Value?, Never>)
        /// Handed a value before its task parked.
        case ready(Value)
    }

    fileprivate struct State {
        var order: [UInt64] = []
        var tags: [UInt64: Tag] = [:]
        var slots: [UInt64: Slot] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Takes a place at the end of the line.
    public func enqueue(_ tag: Tag) -> Ticket {
        state.withLock { s in
            s.nextID += 1
            s.order.append(s.nextID)
            s.tags[s.nextID] = tag
            s.slots[s.nextID] = .pending
            return Ticket(id: s.nextID)
        }
    }

    /// Parks until the ticket is served (its value) or cancelled (nil). Cancelling the waiting
    /// task cancels the ticket. Each ticket is waited for once.
    public func wait(_ ticket: Ticket) async -> Value? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let ready: Value?? = state.withLock { s in
                    switch s.slots[ticket.id] {
                    case .pending:
                        s.slots[ticket.id] = .parked(continuation)
                        return nil
                    case let .ready(value):
                        s.slots[ticket.id] = nil
                        return .some(.some(value))
                    case .parked, nil:
                        // Cancelled and forgotten, or waited for twice: nothing will come.
                        return .some(nil)
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            cancel(ticket)
        }
    }

    /// Hands `value` to the ticket's waiter and takes it out of line; false when the ticket is no
    /// longer in line (cancelled, or served already), and the caller keeps the value.
    @discardableResult
    public func deliver(_ ticket: Ticket, _ value: Value) -> Bool {
        guard let taken = takeOutOfLine(ticket, leaving: .ready(value)) else { return false }
        taken?.resume(returning: value)
        return true
    }

    /// Takes an in-line ticket out: its parked continuation (to resume after unlocking), or nil
    /// inside when its task has not parked yet (then `leaving` is what it will find, or nothing).
    /// Nil outside when it was not in line.
    private func takeOutOfLine(_ ticket: Ticket, leaving: Slot?) -> CheckedContinuation<Value?, Never>?? {
        state.withLock { s in
            guard let slot = s.slots[ticket.id], s.remove(ticket.id) else { return nil }
            switch slot {
            case let .parked(continuation):
                s.slots[ticket.id] = nil
                return .some(continuation)
            case .pending:
                s.slots[ticket.id] = leaving
                return .some(nil)
            case .ready:
                return nil
            }
        }
    }

    /// Takes the ticket out of line and wakes its waiter with nil; false when it had already been
    /// served or cancelled (then a served value stays with the waiter).
    @discardableResult
    public func cancel(_ ticket: Ticket) -> Bool {
        // A task not parked yet finds no slot and returns nil at once.
        guard let taken = takeOutOfLine(ticket, leaving: nil) else { return false }
        taken?.resume(returning: nil)
        return true
    }

    /// A served value the ticket's task has not collected yet, taken without waiting; nil (and
    /// the ticket stays in line) when it has not been served.
    public func collect(_ ticket: Ticket) -> Value? {
        state.withLock { s in
            guard case let .ready(value) = s.slots[ticket.id] else { return nil }
            s.slots[ticket.id] = nil
            return value
        }
    }

    /// The tickets in line, oldest first, with their tags.
    public var line: [(ticket: Ticket, tag: Tag)] {
        state.withLock { s in s.order.compactMap { id in s.tags[id].map { (Ticket(id: id), $0) } } }
    }

    /// How many wait.
    public var count: Int { state.withLock { $0.order.count } }

    /// How many wait with a tag that satisfies `predicate`.
    public func count(where predicate: (Tag) -> Bool) -> Int {
        state.withLock { s in s.order.count { id in s.tags[id].map(predicate) ?? false } }
    }

    /// True when no one waits with a tag that satisfies `predicate`.
    public func isEmpty(where predicate: (Tag) -> Bool) -> Bool {
        count(where: predicate) == 0
    }

    /// Cancels every ticket in line (shutdown of the owner).
    public func cancelAll() {
        for (ticket, _) in line { cancel(ticket) }
    }
}

extension WaitQueue.State {
    /// Takes `id` out of line; false when it was not in line.
    mutating func remove(_ id: UInt64) -> Bool {
        guard let i = order.firstIndex(of: id) else { return false }
        order.remove(at: i)
        tags[id] = nil
        return true
    }
}
