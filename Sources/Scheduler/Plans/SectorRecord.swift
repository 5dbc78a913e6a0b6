import ProofsFFI

/// Everything a sealing thread must remember about its current task to resume it after a crash.
///
/// A state means "this step is done", so a restart re-runs the handler of `state` with these
/// phase outputs. The record is rewritten (durably) after every applied event.
public struct SectorRecord: Sendable, Hashable, Codable {
    public static let currentVersion = 1

    public var version: Int = SectorRecord.currentVersion
    public var plan: PlanKind
    public var state: SectorState = .empty
    public var prevState: SectorState?
    /// Retries spent on this sector (persisted; damocles never resets it on progress, nor do we).
    public var retry: Int = 0
    public var sector: SectorID?
    public var proof: SealProof?
    public var phases = Phases()
    /// Set by an operator's pause and kept across restarts, unlike damocles.
    public var paused = false
    public var lastError: String?
    /// Why the sector was aborted, reported to the manager when it is finalized.
    public var abortReason: String?

    public init(plan: PlanKind) { self.plan = plan }

    /// Outputs of completed steps, each filled by the event that completed it.
    public struct Phases: Sendable, Hashable, Codable {
        public var deals: [DealPiece]?
        public var pieces: [PieceInfo]?
        public var commD: Blob?
        public var ticket: Ticket?
        public var pc1Output: Blob?
        /// The SupraSeal batch this sector's PC1 ran in (batch mode), until the sector is done.
        public var batch: BatchMembership?
        public var commitments: Commitments?
        public var pc2ReSubmit = false
        public var persistInstance: String?
        public var seed: Seed?
        public var c1Output: Blob?
        public var proof: Blob?
        public var c2ReSubmit = false
        // Snap upgrades and rebuilds.
        public var accessInstance: String?
        public var oldCommR: Blob?
        public var snapCommitments: Commitments?
        public var snapProof: Blob?
        public var isSnapRebuild = false
        // Unseal and window PoSt.
        public var unsealPiece: PieceInfo?
        public var unsealedBytes: UInt64?
        public var unsealOffset: UInt64?
        public var wdpostJob: String?
        public var postInput: PoStInput?
        public var wdpostResult: WindowPoStResult?
        /// A window PoSt that failed is reported to the manager, not retried here (damocles).
        public var wdpostError: String?

        public init() {}
    }

    /// The sector's name for logs and `worker list`, if one is allocated.
    public var jobID: String? {
        if plan == .wdpost { return phases.wdpostJob }
        return sector?.description
    }
}

/// A deal piece the manager assigned; id 0 is a pledge piece.
public struct DealPiece: Sendable, Hashable, Codable {
    public var dealID: UInt64
    public var piece: PieceInfo

    public init(dealID: UInt64, piece: PieceInfo) {
        self.dealID = dealID
        self.piece = piece
    }
}

/// On-chain randomness for PC1.
public struct Ticket: Sendable, Hashable, Codable {
    public var ticket: Blob
    public var epoch: Int64

    public init(ticket: Blob, epoch: Int64) {
        self.ticket = ticket
        self.epoch = epoch
    }
}

/// On-chain randomness for C1.
public struct Seed: Sendable, Hashable, Codable {
    public var seed: Blob
    public var epoch: Int64

    public init(seed: Blob, epoch: Int64) {
        self.seed = seed
        self.epoch = epoch
    }
}

/// What a window PoSt job proves: the miner, its sectors (numbers), the challenge seed, and
/// the job's proof type as the manager names it (absent in records of older builds).
public struct PoStInput: Sendable, Hashable, Codable {
    public var miner: UInt64
    /// The replicas to prove: sector numbers, CommR and where their files are.
    public var replicas: [ReplicaInfo]
    public var seed: Blob
    public var proofType: String?

    public init(miner: UInt64, replicas: [ReplicaInfo], seed: Blob, proofType: String? = nil) {
        self.miner = miner
        self.replicas = replicas
        self.seed = seed
        self.proofType = proofType
    }

    /// The size of the job's sectors, from its proof type; nil when it has none or it is unknown.
    public var sectorSize: SectorSize? {
        proofType.flatMap { try? PoStProof.sectorSize(of: $0) }
    }
}
