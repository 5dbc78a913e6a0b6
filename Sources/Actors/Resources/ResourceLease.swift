import ProofsFFI
import Scheduler

/// Resources held by one running stage; returned by `release()` (the scoped helpers do it).
public struct ResourceLease: Sendable, Hashable {
    public let id: UInt64
    public let grant: Grant
    let broker: ResourceBroker

    public static func == (a: Self, b: Self) -> Bool { a.id == b.id && a.grant == b.grant }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public func release() async { await broker.release(id) }

    /// Gives back everything but the NVMe space (a batch PC1 that ended); `release()` returns it.
    public func keepOnlyNVMe() async { await broker.releaseKeepingNVMe(id) }

    /// Gives back part of the memory early, keeping the rest of the lease.
    public func releaseMemory(_ bytes: UInt64) async { await broker.releaseMemory(id, bytes: bytes) }

    /// How a lease is shown: `node 0 cpus 0-3 64GiB gpu 1 11GiB`.
    public var summary: String {
        var parts = ["node \(grant.node)"]
        if !grant.cpus.isEmpty { parts.append("cpus \(CPUList.format(grant.cpus))") }
        if grant.memoryBytes > 0 { parts.append(ByteSize.short(grant.memoryBytes)) }
        if grant.hugepages > 0 { parts.append("\(grant.hugepages)x1GiB hugepages") }
        if let gpu = grant.gpu { parts.append("gpu \(gpu) \(ByteSize.short(grant.vramBytes))") }
        if !grant.nvme.isEmpty { parts.append("nvme \(grant.nvme.keys.sorted().map(String.init).joined(separator: ",")) \(ByteSize.short(grant.nvmeBytes))") }
        return parts.joined(separator: " ")
    }

    /// What an external processor's environment gets so the work lands on the leased resources,
    /// as damocles passes it: cpuset, preferred NUMA node and the leased GPU.
    public var environment: [String: String] {
        var env = ["VENUS_WORKER_NUMA_PREFERRED": "\(grant.node)"]
        if !grant.cpus.isEmpty { env["VC_CG_CPUSET"] = CPUList.format(grant.cpus) }
        if let gpu = grant.gpu { env["CUDA_VISIBLE_DEVICES"] = "\(gpu)" }
        return env
    }
}
