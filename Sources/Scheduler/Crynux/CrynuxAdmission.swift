import ProofsFFI

/// How a Crynux inference lease enters the pools' admission (issue 10), shared by the daemon's
/// crynux thread and `sealer simulate`: it asks as `ProofStage.inference` (its own name in
/// metrics), below every sealing stage by default; at C2's priority when `[crynux] priority =
/// "like_c2"` or while Crynux held less than `gpu_share` of recent GPU time. WindowPoSt stays
/// ahead either way (higher priority, and it reserves at once).
public enum CrynuxAdmission {
    /// True when the lease queues at C2's priority rather than below sealing.
    public static func aheadOfSealing(_ priority: CrynuxSection.Priority, shareUsed: Double, share: Double) -> Bool {
        priority == .likeC2 || (share > 0 && shareUsed < share)
    }

    /// The admission priority: C2's when ahead, else `ProofStage.inference`'s (below PC1).
    public static func priority(ahead: Bool) -> Int {
        ResourceRequest.priority(ahead ? .c2 : .inference)
    }

    /// The lease for one task needing `vramGiB` on one of `allowedGPUs` (nil: any GPU). The node
    /// reports ceil(MiB / 1024) GiB (spec 3.3), so a task sized to the reported VRAM asks at most
    /// `cardBytes`, the reported card's real VRAM; otherwise it could never fit on that card.
    public static func request(vramGiB: UInt64, cardBytes: UInt64? = nil, allowedGPUs: Set<Int>?, ahead: Bool, costs: CostTable = .defaults) -> ResourceRequest {
        let cost = costs.cost(.inference, .gib32)
        var request = ResourceRequest(stage: .inference, cores: cost.cores, memoryBytes: cost.memoryBytes, numaBound: false,
                                      vramBytes: min(vramGiB << 30, cardBytes ?? .max), expectedDuration: cost.duration)
        request.allowedGPUs = allowedGPUs
        if ahead { request.priorityOverride = priority(ahead: true) }
        return request
    }
}
