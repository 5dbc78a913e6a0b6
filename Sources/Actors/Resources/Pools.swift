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

/// GPUs, each with VRAM bytes and run slots; leases are bound to one device.
public actor GPUPool {
    public nonisolated let unownedExecutor: UnownedSerialExecutor
    public let capacity: BoxCapacity
    var books: GPULedger

    init(capacity: BoxCapacity, books: GPULedger, executor: UnownedSerialExecutor) {
        self.capacity = capacity
        self.books = books
        unownedExecutor = executor
    }

    /// Free VRAM and slots per GPU index.
    public func free() -> [Int: (vramBytes: UInt64, slots: Int)] {
        Dictionary(uniqueKeysWithValues: capacity.gpus.indices.map { (capacity.gpus[$0].index, (books.freeVRAM[$0], books.freeSlots[$0])) })
    }
}
