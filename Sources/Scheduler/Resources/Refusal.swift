/// Why a request is not admitted yet, in the words `worker list` shows: which pool, how much is
/// needed, how much is free at best (lotus' and Curio's users asked for exactly this).
public struct Refusal: Sendable, Hashable, CustomStringConvertible {
    public enum Pool: String, Sendable, Hashable { case cpu, memory, hugepages, gpu, nvme, headroom, queue }
    public var pool: Pool
    public var detail: String

    public var description: String { "\(pool): \(detail)" }

    /// The first pool that cannot serve `request` on any node or GPU.
    public static func explain(_ request: ResourceRequest, in ledger: ResourceLedger) -> Refusal {
        let nodes = ledger.capacity.nodes.filter { request.node == nil || $0.id == request.node }
        let frees = nodes.compactMap { node in ledger.free(node: node.id).map { (node.id, $0) } }
        func best<T: Comparable>(_ key: ((cpus: Int, memoryBytes: UInt64, hugepages: Int)) -> T) -> (Int, T)? {
            frees.map { ($0.0, key($0.1)) }.max { $0.1 < $1.1 }
        }
        if !request.numaBound {
            let total = ledger.memory.freeBytes.reduce(0, +)
            if total < request.memoryBytes {
                return Refusal(pool: .memory, detail: "needs \(ByteSize.short(request.memoryBytes)), \(ByteSize.short(total)) free on all nodes")
            }
        } else if let (node, memory) = best({ $0.memoryBytes }), memory < request.memoryBytes {
            return Refusal(pool: .memory, detail: "needs \(ByteSize.short(request.memoryBytes)) on one node, most free \(ByteSize.short(memory)) (node \(node))")
        }
        if request.hugepages > 0, let (node, pages) = best({ $0.hugepages }), pages < request.hugepages {
            return Refusal(pool: .hugepages, detail: "needs \(request.hugepages) x 1GiB on one node, most free \(pages) (node \(node))")
        }
        if request.nvmeBytes > 0, ledger.hasNVMe,
           let (node, space) = nodes.map({ ($0.id, ledger.nvme.free(near: $0.id)) }).max(by: { $0.1 < $1.1 }), space < request.nvmeBytes {
            return Refusal(pool: .nvme, detail: "needs \(ByteSize.short(request.nvmeBytes)) of NVMe layer space, most free \(ByteSize.short(space)) (node \(node))")
        }
        if let (node, cpus) = best({ $0.cpus }), cpus < request.cores {
            return Refusal(pool: .cpu, detail: "needs \(request.cores) cores, most free \(cpus) (node \(node))")
        }
        if request.vramBytes > 0, ledger.hasGPUs {
            let gpus = ledger.capacity.gpus.compactMap { gpu in ledger.free(gpu: gpu.index).map { (gpu.index, $0) } }
            let usable = gpus.filter { $0.1.slots + request.extraGPUSlots > 0 }
            if let top = usable.max(by: { $0.1.vramBytes < $1.1.vramBytes }) {
                if top.1.vramBytes < request.vramBytes {
                    return Refusal(pool: .gpu, detail: "needs \(ByteSize.short(request.vramBytes)) VRAM, most free \(ByteSize.short(top.1.vramBytes)) (gpu \(top.0))")
                }
            } else {
                return Refusal(pool: .gpu, detail: "needs a GPU with \(ByteSize.short(request.vramBytes)) VRAM, all \(gpus.count) busy")
            }
        }
        if request.sameL3, ledger.place(request) == nil {
            return Refusal(pool: .cpu, detail: "needs \(request.cores) free cores under one L3 cache")
        }
        if ledger.place(request) != nil {
            return Refusal(pool: .queue, detail: "fits, but resources are held for WindowPoSt headroom or an older request")
        }
        return Refusal(pool: .cpu, detail: "needs \(request.cores) cores and \(ByteSize.short(request.memoryBytes)) together on one node")
    }

}

import Foundation
