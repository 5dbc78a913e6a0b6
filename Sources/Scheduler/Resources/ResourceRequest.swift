import ProofsFFI

/// What one stage asks of the pools, all at once: admission grants the whole bundle or nothing.
public struct ResourceRequest: Sendable, Hashable {
    public var stage: ProofStage
    public var cores: Int
    public var sameL3: Bool
    public var memoryBytes: UInt64
    /// The memory must sit on the cores' node (PC1's layers); otherwise it may span nodes.
    public var numaBound: Bool
    public var hugepages: Int
    /// VRAM on one GPU; ignored (the stage runs on CPU) when the box has no GPU.
    public var vramBytes: UInt64
    /// Restricts the cores to a cpuset (a processor's `cgroup.cpuset`).
    public var allowedCPUs: Set<Int>?
    /// Restricts placement to one node (a processor's `numa_preferred`).
    public var node: Int?
    /// Restricts the GPU (a processor pinned to a device through `CUDA_VISIBLE_DEVICES`).
    public var allowedGPUs: Set<Int>?
    /// Lets the stage share a GPU beyond its slots (WindowPoSt's headroom); VRAM still bounds it.
    public var extraGPUSlots: Int
    /// How long the stage is expected to hold its grant (the cost table's duration); nil: unknown.
    public var expectedDuration: Duration?
    /// NUMA-bound memory that may still spill onto one other node when no node has room
    /// (`pc1_spill_slowdown`); the stage then runs slower.
    public var spillable = false
    /// Cores are taken as whole, wholly free L3 groups (SupraSeal's batch PC1: a coordinator per CCX).
    public var wholeL3 = false
    /// NVMe layer space on the cores' node (a batch's slot); 0: none. Ignored when the box has
    /// no NVMe pool, as VRAM is on a box without GPUs.
    public var nvmeBytes: UInt64 = 0
    /// Admission priority instead of the stage's (a Crynux lease configured like C2); nil: the stage's.
    public var priorityOverride: Int?

    public init(stage: ProofStage, cores: Int, sameL3: Bool = false, memoryBytes: UInt64, numaBound: Bool = true, hugepages: Int = 0,
                vramBytes: UInt64 = 0,
                allowedCPUs: Set<Int>? = nil, node: Int? = nil, extraGPUSlots: Int = 0, expectedDuration: Duration? = nil) {
        self.stage = stage
        self.cores = cores
        self.sameL3 = sameL3
        self.memoryBytes = memoryBytes
        self.numaBound = numaBound
        self.hugepages = hugepages
        self.vramBytes = vramBytes
        self.allowedCPUs = allowedCPUs
        self.node = node
        self.extraGPUSlots = extraGPUSlots
        self.expectedDuration = expectedDuration
    }

    /// The request for one run of `stage` costing `cost`.
    public init(stage: ProofStage, cost: StageCost) {
        self.init(stage: stage, cores: cost.cores, sameL3: cost.sameL3, memoryBytes: cost.hugepages > 0 ? 0 : cost.memoryBytes,
                  numaBound: cost.numaBound, hugepages: cost.hugepages, vramBytes: cost.vramBytes, extraGPUSlots: stage == .windowPost ? 1 : 0,
                  expectedDuration: cost.duration)
        wholeL3 = cost.wholeL3
        nvmeBytes = cost.nvmeBytes
    }

    /// Admission order: a stage nearer the end of its sector goes first (C2 before PC2 before a
    /// new PC1), WindowPoSt before all sealing; lotus orders its queue the same way.
    public var priority: Int { priorityOverride ?? Self.priority(stage) }

    public static func priority(_ stage: ProofStage) -> Int {
        switch stage {
        case .windowPost: 100
        case .c2: 90
        case .snapProve: 85
        case .c1: 80
        case .synthProof: 75
        case .supraPC1: 95
        case .supraC1: 94
        case .supraPC2: 93
        case .pc2: 70
        case .snapEncode: 60
        case .transfer: 55
        case .unseal: 50
        case .treeD: 40
        case .addPieces: 30
        case .pc1: 20
        // Below every sealing stage unless `[crynux] priority`/`gpu_share` raise it (CrynuxAdmission).
        case .inference: 10
        }
    }
}
