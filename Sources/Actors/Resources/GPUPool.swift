import Scheduler

// Shares the broker's executor; see CPUPool.swift.

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
