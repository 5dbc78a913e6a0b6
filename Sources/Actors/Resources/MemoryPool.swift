import Scheduler

// Shares the broker's executor; see CPUPool.swift.

/// Memory bytes and 1 GiB hugepages per NUMA node.
public actor MemoryPool {
    public nonisolated let unownedExecutor: UnownedSerialExecutor
    public let capacity: BoxCapacity
    var books: MemoryLedger

    init(capacity: BoxCapacity, books: MemoryLedger, executor: UnownedSerialExecutor) {
        self.capacity = capacity
        self.books = books
        unownedExecutor = executor
    }

    /// Free bytes and hugepages per node id.
    public func free() -> [Int: (bytes: UInt64, hugepages: Int)] {
        Dictionary(uniqueKeysWithValues: capacity.nodes.indices.map {
            (capacity.nodes[$0].id, (books.freeBytes[$0], books.freeHugepages[$0]))
        })
    }
}
