import Scheduler

// Shares the broker's executor; see CPUPool.swift.

/// NVMe layer space for batch sealing: bytes free per drive, taken in whole batch slots striped
/// over a node's drives and held from batch PC1 until the batch is finalized.
public actor NVMePool {
    public nonisolated let unownedExecutor: UnownedSerialExecutor
    public let capacity: BoxCapacity
    var books: NVMeLedger

    init(capacity: BoxCapacity, books: NVMeLedger, executor: UnownedSerialExecutor) {
        self.capacity = capacity
        self.books = books
        unownedExecutor = executor
    }

    /// Free bytes per drive index (a gauge per drive).
    public func free() -> [Int: UInt64] {
        Dictionary(uniqueKeysWithValues: capacity.nvme.indices.map { (capacity.nvme[$0].index, books.freeBytes[$0]) })
    }

    /// Whole batch slots of `slotBytes` free per node id (`BatchSizing.slotBytes`).
    public func freeSlots(slotBytes: UInt64) -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: capacity.nodes.map { ($0.id, books.freeSlots(near: $0.id, slotBytes: slotBytes)) })
    }
}
