import ProofsFFI

/// What one run of a stage holds while it runs: cores, memory on the cores' NUMA node,
/// 1 GiB hugepages on that node, and a GPU with VRAM. `duration` is the expected run time, used by
/// the simulator and by `worker list` estimates, never by admission.
public struct StageCost: Sendable, Hashable {
    public var cores: Int
    /// Cores must share one L3 group (multicore SDR wants its producers under one cache).
    public var sameL3: Bool
    public var memoryBytes: UInt64
    /// The memory must be on the cores' NUMA node: PC1 and unseal read their layers at random
    /// (damocles #350); GPU stages stream host buffers and may draw from several nodes.
    public var numaBound: Bool
    /// 1 GiB hugepages on the same node, taken instead of `memoryBytes` when the box has them.
    public var hugepages: Int
    /// VRAM on one GPU; 0 means the stage does not use a GPU.
    public var vramBytes: UInt64
    public var duration: Duration
    /// Cores come as whole L3 groups (batch PC1).
    public var wholeL3 = false
    /// NVMe layer space on the cores' node (a batch's slot, `BatchSizing.slotBytes`).
    public var nvmeBytes: UInt64 = 0

    public init(cores: Int, sameL3: Bool = false, memoryBytes: UInt64, numaBound: Bool = true, hugepages: Int = 0, vramBytes: UInt64 = 0,
                duration: Duration, wholeL3: Bool = false) {
        self.cores = cores
        self.sameL3 = sameL3
        self.memoryBytes = memoryBytes
        self.numaBound = numaBound
        self.hugepages = hugepages
        self.vramBytes = vramBytes
        self.duration = duration
        self.wholeL3 = wholeL3
    }

    public var usesGPU: Bool { vramBytes > 0 }
}

/// Per stage and sector size, what a run holds. Defaults come from the peers' published numbers
/// (`shared/spec/peers.md` §3: lotus' table, Curio's costs, damocles' guide); config overrides them.
public struct CostTable: Sendable, Hashable {
    public var entries: [SectorSize: [ProofStage: StageCost]]

    public init(entries: [SectorSize: [ProofStage: StageCost]]) { self.entries = entries }

    /// The cost of `stage` for sectors of `size`.
    public func cost(_ stage: ProofStage, _ size: SectorSize) -> StageCost {
        entries[size]?[stage] ?? Self.defaultCost(stage, size)
    }

    public mutating func set(_ stage: ProofStage, _ size: SectorSize, _ cost: StageCost) {
        entries[size, default: [:]][stage] = cost
    }

    public static let defaults = CostTable(entries: [:])

    private static let gib: UInt64 = 1 << 30
    private static let minute = Duration.seconds(60)

    /// 32 GiB numbers, sourced: PC1 4 cores (multicore SDR, 3 producers + 1) under one L3, 64 GiB,
    /// ~3 h; PC2 on GPU ~10 min, 32 GiB host, 5 GiB VRAM; C2 ~10 min, 128 GiB (Curio PR #932), 11 GiB
    /// VRAM; WindowPoSt ~5 min per partition, 120 GiB, 11 GiB VRAM; snap encode/prove 3-5 min.
    private static func base32(_ stage: ProofStage) -> StageCost {
        switch stage {
        case .addPieces: StageCost(cores: 1, memoryBytes: 4 * gib, duration: minute * 2)
        case .treeD: StageCost(cores: 1, memoryBytes: 4 * gib, duration: minute * 1)
        case .pc1: StageCost(cores: 4, sameL3: true, memoryBytes: 64 * gib, duration: minute * 180)
        case .pc2: StageCost(cores: 8, memoryBytes: 32 * gib, numaBound: false, vramBytes: 5 * gib, duration: minute * 10)
        case .synthProof: StageCost(cores: 2, memoryBytes: 8 * gib, duration: minute * 2)
        case .c1: StageCost(cores: 1, memoryBytes: 1 * gib, numaBound: false, duration: .seconds(1))
        case .c2: StageCost(cores: 8, memoryBytes: 128 * gib, numaBound: false, vramBytes: 11 * gib, duration: minute * 10)
        case .snapEncode: StageCost(cores: 4, memoryBytes: 8 * gib, numaBound: false, vramBytes: 5 * gib, duration: minute * 4)
        case .snapProve: StageCost(cores: 8, memoryBytes: 96 * gib, numaBound: false, vramBytes: 11 * gib, duration: minute * 4)
        case .unseal: StageCost(cores: 4, sameL3: true, memoryBytes: 64 * gib, duration: minute * 180)
        case .windowPost: StageCost(cores: 8, memoryBytes: 120 * gib, numaBound: false, vramBytes: 11 * gib, duration: minute * 5)
        case .transfer: StageCost(cores: 1, memoryBytes: 1 * gib, numaBound: false, duration: minute * 5)
        // SupraSeal, per 64-sector batch (peers.md §2.4, §3.1): PC1 3h30m on a 32-core 5975WX,
        // 16 hasher cores (4 sectors a core) + a coordinator per CCX + reader, writer and
        // orchestrator: 24 cores taken as whole CCXs (3 of 8), 36 × 1 GiB hugepages; PC2 (tree
        // C/R of the batch) ~1.5 h on one GPU; C1 per sector as the stock C1.
        case .supraPC1: StageCost(cores: 24, memoryBytes: 0, hugepages: 36, duration: minute * 210, wholeL3: true)
        case .supraPC2: StageCost(cores: 8, memoryBytes: 64 * gib, numaBound: false, vramBytes: 16 * gib, duration: minute * 90)
        case .supraC1: StageCost(cores: 1, memoryBytes: 1 * gib, numaBound: false, duration: .seconds(1))
        // The task's VRAM comes from its relay record (CrynuxAdmission), not from this table.
        case .inference: StageCost(cores: 1, memoryBytes: 64 << 20, numaBound: false, duration: minute * 2)
        }
    }

    /// The batch size the `supra_pc1` / `supra_pc2` rows are for.
    public static let rowBatch = 64

    /// What one run of a batch stage holds for `batch` sectors: the 64-sector row with hasher
    /// cores and PC2 time in proportion to the batch (PC1 time stays, as hashers scale with the
    /// batch), and the NVMe slot Curio's rule sizes. Other stages: their per-sector row.
    public func batchCost(_ stage: ProofStage, _ size: SectorSize, batch: Int) -> StageCost {
        var cost = cost(stage, size)
        switch stage {
        case .supraPC1:
            if cost.cores > 0 { cost.cores = max(1, (cost.cores * batch + Self.rowBatch - 1) / Self.rowBatch) }
            cost.nvmeBytes = BatchSizing.slotBytes(size, batch: batch)
        case .supraPC2:
            cost.duration = cost.duration * batch / Self.rowBatch
        default:
            break
        }
        return cost
    }

    /// 64 GiB sectors hold twice the PC1/PC2 memory and take twice PC1's time (2^31 nodes per
    /// layer); C2 and PoSt follow lotus' 64 GiB rows (190 GiB and 64 GiB params).
    private static func base64(_ stage: ProofStage) -> StageCost {
        var cost = base32(stage)
        switch stage {
        case .pc1, .unseal:
            cost.memoryBytes *= 2
            cost.duration = cost.duration * 2
        case .pc2, .addPieces, .treeD, .synthProof:
            cost.memoryBytes *= 2
            cost.duration = cost.duration * 2
        case .c2, .snapProve:
            cost.memoryBytes = 192 * gib
            cost.duration = cost.duration * 3 / 2
        case .windowPost:
            cost.memoryBytes = 184 * gib
        case .snapEncode:
            cost.memoryBytes *= 2
            cost.duration = cost.duration * 2
        case .c1, .transfer, .supraC1:
            cost.duration = cost.duration * 2
        case .supraPC1, .supraPC2:
            cost.duration = cost.duration * 2
        case .inference:
            break
        }
        return cost
    }

    /// The default for any size: 32/64 GiB from the sources; test sizes (2 KiB-512 MiB) scale
    /// memory by sector size (at least 1 MiB) and claim no core or GPU: they take no measurable
    /// CPU time and must run on any box, CI runners included.
    public static func defaultCost(_ stage: ProofStage, _ size: SectorSize) -> StageCost {
        switch size {
        case .gib32: return base32(stage)
        case .gib64: return base64(stage)
        case .kib2, .mib8, .mib512:
            var cost = base32(stage)
            let scaled = cost.memoryBytes / (SectorSize.gib32.bytes / size.bytes)
            cost.memoryBytes = max(1 << 20, scaled)
            cost.vramBytes = 0
            cost.cores = 0
            cost.sameL3 = false
            cost.wholeL3 = false
            // Test sizes need no hugepages either (SupraSeal's pinned buffers are for 32/64 GiB).
            if stage.isBatch { cost.hugepages = 0 }
            return cost
        }
    }
}
