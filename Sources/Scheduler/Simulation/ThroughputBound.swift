import ProofsFFI

/// The most sectors a day the box could seal, whatever the scheduler: for each resource, what it
/// offers in a day (less WindowPoSt's use) over what one sector of the mix needs of it; and the
/// threads over the shortest sector cycle. The bound is the smallest of these.
public struct ThroughputBound: Sendable {
    /// Sectors/day each resource allows (`cpu`, `memory`, `hugepages`, `gpu`, `threads`).
    public var byResource: [String: Double]

    public var value: Double { byResource.values.min() ?? 0 }
    public var limitedBy: String { byResource.min { $0.value < $1.value }?.key ?? "-" }

    public init(_ setup: SimulationSetup) {
        let day = 86_400.0
        let capacity = setup.capacity
        let hasGPUs = !capacity.gpus.isEmpty
        let mix = setup.workload.sectors
        // Resource-seconds one average sector needs, and what WindowPoSt takes per day.
        var demand: [String: Double] = [:]
        func add(_ request: ResourceRequest, seconds: Double, weight: Double, into table: inout [String: Double]) {
            table["cpu", default: 0] += Double(request.cores) * seconds * weight
            table["memory", default: 0] += Double(request.memoryBytes) * seconds * weight
            table["hugepages", default: 0] += Double(request.hugepages) * seconds * weight
            if hasGPUs, request.vramBytes > 0, request.extraGPUSlots == 0 { table["gpu", default: 0] += seconds * weight }
        }
        for run in setup.averageSectorRuns {
            add(setup.request(run.stage, run.size), seconds: setup.cost(run.stage, run.size).duration.inSeconds, weight: run.share, into: &demand)
        }
        var post: [String: Double] = [:]
        if let bursts = setup.workload.windowPost {
            let perDay = day / bursts.every.inSeconds * Double(bursts.partitions)
            add(setup.request(.windowPost, bursts.size), seconds: setup.costs.cost(.windowPost, bursts.size).duration.inSeconds, weight: perDay, into: &post)
        }
        let offered: [String: Double] = [
            "cpu": Double(capacity.cpuCount) * day,
            "memory": Double(capacity.memoryBytes) * day,
            "hugepages": Double(capacity.hugepages) * day,
            "gpu": Double(capacity.gpus.reduce(0) { $0 + $1.slots }) * day,
        ]
        var bound: [String: Double] = [:]
        for (resource, need) in demand where need > 0 {
            bound[resource] = max(0, (offered[resource] ?? 0) - (post[resource] ?? 0)) / need
        }
        // NVMe: a batch holds a whole slot from batch PC1 until its last C1 (Curio's finalize).
        if !capacity.nvme.isEmpty, let batch = mix.first(where: { $0.kind == .batch }) {
            let slotBytes = setup.cost(.supraPC1, batch.size).nvmeBytes
            let slots = NVMeLedger.slots(capacity, slotBytes: slotBytes).values.reduce(0, +)
            let held = [ProofStage.supraPC1, .supraPC2, .supraC1].reduce(setup.workload.seedWait.inSeconds) { $0 + setup.cost($1, batch.size).duration.inSeconds }
            bound["nvme"] = Double(slots) * day / held * Double(max(1, setup.workload.batchSize))
        }
        let shortest = mix.map { Double(Simulator.cycle(setup, $0)) / 1000 }.min() ?? .infinity
        bound["threads"] = Double(setup.threads) * day / shortest
        byResource = bound
    }
}

