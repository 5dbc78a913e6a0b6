import Scheduler

// The three pools are actors that share the broker's serial executor: each owns its books and
// answers queries on its own, while the broker, running on the same executor, reads and updates
// all three in one synchronous step (`assumeIsolated`). That is what makes a grant all-or-nothing
// without locks: no other task can observe or change a pool between the three updates.

/// CPU cores per NUMA node and L3 group.
public actor CPUPool {
    public nonisolated let unownedExecutor: UnownedSerialExecutor
    public let capacity: BoxCapacity
    var books: CPULedger

    init(capacity: BoxCapacity, books: CPULedger, executor: UnownedSerialExecutor) {
        self.capacity = capacity
        self.books = books
        unownedExecutor = executor
    }

    /// Free cores per node id.
    public func freeCores() -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: capacity.nodes.indices.map { (capacity.nodes[$0].id, books.free[$0].reduce(0) { $0 + $1.count }) })
    }
}
