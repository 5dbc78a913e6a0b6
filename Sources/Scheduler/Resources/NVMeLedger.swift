import ProofsFFI

/// One NVMe drive (or a namespace) that batch sealing may write layers to: its size and the
/// NUMA node it hangs off (nil: any node may use it).
public struct NVMeCapacity: Sendable, Hashable, Codable {
    public var index: Int
    public var node: Int?
    public var bytes: UInt64
    /// Where it came from (`/dev/nvme0n1`, or empty for a described box); for operators only.
    public var path: String

    public init(index: Int, node: Int?, bytes: UInt64, path: String = "") {
        self.index = index
        self.node = node
        self.bytes = bytes
        self.path = path
    }
}

/// Curio's sizing rule for SupraSeal layer space (peers.md §2.4): one batch pipeline needs
/// 11 layers × sector size × batch size on NVMe, held from batch PC1 until the batch's sectors
/// are finalized (C1 reads the layers).
public enum BatchSizing {
    /// The batch sizes SupraSeal builds for (`batch_size`).
    public static let sizes = [16, 32, 64, 128]

    /// Layer space one pipeline of `batch` sectors of `size` takes.
    public static func slotBytes(_ size: SectorSize, batch: Int) -> UInt64 {
        11 * size.bytes * UInt64(max(0, batch))
    }
}

/// Free NVMe layer space per device: the fourth pool's books. A batch's slot is striped over the
/// drives of its node (SupraSeal stripes pages across drives), so only the node's total matters.
public struct NVMeLedger: Sendable, Hashable {
    public let devices: [NVMeCapacity]
    public internal(set) var freeBytes: [UInt64]

    public init(_ capacity: BoxCapacity) {
        devices = capacity.nvme
        freeBytes = capacity.nvme.map(\.bytes)
    }

    /// Devices a stage on `node` may use: the node's own and those bound to no node.
    private func usable(near node: Int) -> [Int] {
        devices.indices.filter { devices[$0].node == nil || devices[$0].node == node }
    }

    /// Free bytes a stage on `node` can reach.
    public func free(near node: Int) -> UInt64 { usable(near: node).reduce(0) { $0 + freeBytes[$1] } }

    /// Whole slots of `slotBytes` free for a stage on `node` (the metric operators watch).
    public func freeSlots(near node: Int, slotBytes: UInt64) -> Int {
        slotBytes == 0 ? 0 : Int(free(near: node) / slotBytes)
    }

    /// Whole slots of `slotBytes` the box holds when nothing runs, per node id.
    public static func slots(_ capacity: BoxCapacity, slotBytes: UInt64) -> [Int: Int] {
        let books = NVMeLedger(capacity)
        return Dictionary(uniqueKeysWithValues: capacity.nodes.map { ($0.id, books.freeSlots(near: $0.id, slotBytes: slotBytes)) })
    }

    /// Shares of `bytes` over the node's devices, evenly over those with room (as SupraSeal
    /// stripes pages), the remainder from the emptiest; empty when `bytes` is 0 or does not fit.
    public func stripe(_ bytes: UInt64, near node: Int) -> [Int: UInt64] {
        guard bytes > 0, free(near: node) >= bytes else { return [:] }
        var left = bytes
        var shares: [Int: UInt64] = [:]
        var open = usable(near: node).filter { freeBytes[$0] > 0 }
        while left > 0, !open.isEmpty {
            let even = max(1, left / UInt64(open.count))
            for i in open where left > 0 {
                let take = min(even, freeBytes[i] - (shares[devices[i].index] ?? 0), left)
                shares[devices[i].index, default: 0] += take
                left -= take
            }
            open = open.filter { freeBytes[$0] > (shares[devices[$0].index] ?? 0) }
        }
        return shares
    }

    /// True when every share names a known drive with that much free (a slot re-taken after a
    /// restart must still fit the configured drives).
    public func canTake(_ shares: [Int: UInt64]) -> Bool {
        shares.allSatisfy { index, bytes in devices.firstIndex { $0.index == index }.map { freeBytes[$0] >= bytes } ?? false }
    }

    mutating func take(_ shares: [Int: UInt64]) {
        for (index, bytes) in shares { if let i = devices.firstIndex(where: { $0.index == index }) { freeBytes[i] -= bytes } }
    }

    mutating func give(_ shares: [Int: UInt64]) {
        for (index, bytes) in shares { if let i = devices.firstIndex(where: { $0.index == index }) { freeBytes[i] += bytes } }
    }
}

extension Grant {
    /// The grant less its NVMe space: what a batch PC1 gives back when it ends, keeping its slot.
    public var withoutNVMe: Grant {
        var out = self
        out.nvme = [:]
        return out
    }

    /// Only the NVMe space, held from batch PC1 until the batch is finalized.
    public var nvmeOnly: Grant {
        Grant(node: node, cpus: [], memory: [:], hugepages: 0, gpu: nil, vramBytes: 0, nvme: nvme)
    }
}
