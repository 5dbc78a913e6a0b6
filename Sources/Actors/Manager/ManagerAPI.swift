import ProofsFFI
import Scheduler

// Wire types of damocles-manager's `Venus.*` JSON-RPC API (spec section 4): PascalCase fields,
// base64 byte strings, commitments as arrays of 32 numbers, CIDs as {"/": "..."}.

/// A CID as Go's JSON encodes it.
public struct WireCID: Sendable, Hashable, Codable {
    public var value: String
    public init(_ value: String) { self.value = value }
    enum CodingKeys: String, CodingKey { case value = "/" }
}

public struct AllocateSectorSpec: Sendable, Hashable, Codable {
    public var AllowedMiners: [UInt64]?
    public var AllowedProofTypes: [Int]?
    public init(AllowedMiners: [UInt64]?, AllowedProofTypes: [Int]?) {
        self.AllowedMiners = AllowedMiners
        self.AllowedProofTypes = AllowedProofTypes
    }
}

public struct AllocatedSector: Sendable, Hashable, Codable {
    public var ID: SectorID
    public var ProofType: SealProof
    public init(ID: SectorID, ProofType: SealProof) {
        self.ID = ID
        self.ProofType = ProofType
    }
}

public struct AcquireDealsSpec: Sendable, Hashable, Codable {
    public var MaxDeals: Int?
    public var MinUsedSpace: UInt64?
    public init(MaxDeals: Int?, MinUsedSpace: UInt64?) {
        self.MaxDeals = MaxDeals
        self.MinUsedSpace = MinUsedSpace
    }
}

public struct WirePiece: Sendable, Hashable, Codable {
    public var Size: UInt64
    public var PieceCID: WireCID
    public init(Size: UInt64, PieceCID: WireCID) {
        self.Size = Size
        self.PieceCID = PieceCID
    }
}

extension WirePiece {
    /// The piece as the proofs take it: its commitment from the CID, its size unpadded (the
    /// manager sends the padded size). A CID that is no piece commitment is the manager's error.
    public func pieceInfo() throws(PieceCIDError) -> PieceInfo {
        PieceInfo(commP: try ProofsFFI.PieceCID.commitment(PieceCID.value), size: ProofsFFI.PieceInfo.unpadded(Size))
    }
}

public struct WireDealInfo: Sendable, Hashable, Codable {
    public var DealID: UInt64
    public var AllocationID: UInt64?
    public var PayloadSize: UInt64?
    public var IsBuiltinMarket: Bool?
    public init(DealID: UInt64, AllocationID: UInt64? = nil, PayloadSize: UInt64? = nil, IsBuiltinMarket: Bool? = nil) {
        self.DealID = DealID
        self.AllocationID = AllocationID
        self.PayloadSize = PayloadSize
        self.IsBuiltinMarket = IsBuiltinMarket
    }
}

public struct WireDeal: Sendable, Hashable, Codable {
    public var Piece: WirePiece
    public var DealInfo: WireDealInfo?
    public init(Piece: WirePiece, DealInfo: WireDealInfo?) {
        self.Piece = Piece
        self.DealInfo = DealInfo
    }
}

public struct WireTicket: Sendable, Hashable, Codable {
    public var Ticket: Blob
    public var Epoch: Int64
    public init(Ticket: Blob, Epoch: Int64) {
        self.Ticket = Ticket
        self.Epoch = Epoch
    }
}

public struct PreCommitOnChainInfo: Sendable, Hashable, Codable {
    public var CommR: [UInt8]
    public var CommD: [UInt8]
    public var Ticket: WireTicket
    public init(CommR: [UInt8], CommD: [UInt8], Ticket: WireTicket) {
        self.CommR = CommR
        self.CommD = CommD
        self.Ticket = Ticket
    }
}

/// `Res` of SubmitPreCommit / SubmitProof / SubmitSnapUpProof.
public enum SubmitResult: Int, Sendable, Hashable, Codable {
    case accepted = 1, duplicateSubmit, mismatchedSubmission, rejected, filesMissed
}

public struct SubmitPreCommitResp: Sendable, Hashable, Codable {
    public var Res: SubmitResult
    public var Desc: String?
    public init(Res: SubmitResult, Desc: String? = nil) {
        self.Res = Res
        self.Desc = Desc
    }
}

/// `State` of PollPreCommitState / PollProofState.
public enum OnChainState: Int, Sendable, Hashable, Codable {
    case pending = 1, packed, landed, notFound, failed, permFailed, shouldAbort
}

public struct PollStateResp: Sendable, Hashable, Codable {
    public var State: OnChainState
    public var Desc: String?
    public init(State: OnChainState, Desc: String? = nil) {
        self.State = State
        self.Desc = Desc
    }
}

public struct StoreInfo: Sendable, Hashable, Codable {
    public var Name: String
    public var Path: String
    public init(Name: String, Path: String) {
        self.Name = Name
        self.Path = Path
    }
}

public struct WireSeed: Sendable, Hashable, Codable {
    public var Seed: Blob
    public var Epoch: Int64
    public init(Seed: Blob, Epoch: Int64) {
        self.Seed = Seed
        self.Epoch = Epoch
    }
}

public struct WaitSeedResp: Sendable, Hashable, Codable {
    public var ShouldWait: Bool
    public var Delay: Int
    public var Seed: WireSeed?
    public init(ShouldWait: Bool, Delay: Int, Seed: WireSeed?) {
        self.ShouldWait = ShouldWait
        self.Delay = Delay
        self.Seed = Seed
    }
}

public struct ProofOnChainInfo: Sendable, Hashable, Codable {
    public var Proof: Blob
    public init(Proof: Blob) { self.Proof = Proof }
}

public struct ReportStateReq: Sendable, Hashable, Codable {
    public struct Identifier: Sendable, Hashable, Codable {
        public var Instance: String
        public var Location: String
    }
    public struct Change: Sendable, Hashable, Codable {
        public var Prev: String
        public var Next: String
        public var Event: String
    }
    public struct FailureInfo: Sendable, Hashable, Codable {
        public var Level: String
        public var Desc: String
    }
    public var Worker: Identifier
    public var StateChange: Change
    public var Failure: FailureInfo?

    public init(instance: String, location: String, prev: String, next: String, event: String, failure: SealingFailure?) {
        Worker = Identifier(Instance: instance, Location: location)
        StateChange = Change(Prev: prev, Next: next, Event: event)
        Failure = failure.map { FailureInfo(Level: $0.level.rawValue, Desc: $0.message) }
    }
}

/// The manager's view of a sector after a state report (damocles' `SectorStateResp`).
public struct ReportStateResp: Sendable, Hashable, Codable {
    public var ID: SectorID
    public var Finalized: Bool
    public var AbortReason: String?
    public init(ID: SectorID, Finalized: Bool = false, AbortReason: String? = nil) {
        self.ID = ID
        self.Finalized = Finalized
        self.AbortReason = AbortReason
    }
    /// Go tags the id `json:"Id"`, unlike every other sector id on this API.
    enum CodingKeys: String, CodingKey {
        case ID = "Id"
        case Finalized, AbortReason
    }
}

public struct WorkerPingInfo: Sendable, Hashable, Codable {
    public struct Summary: Sendable, Hashable, Codable {
        public var Threads: Int
        public var Empty: Int
        public var Paused: Int
        public var Running: Int
        public var Waiting: Int
        public var Errors: Int
        public init(Threads: Int, Empty: Int, Paused: Int, Running: Int, Waiting: Int, Errors: Int) {
            self.Threads = Threads
            self.Empty = Empty
            self.Paused = Paused
            self.Running = Running
            self.Waiting = Waiting
            self.Errors = Errors
        }
    }
    public var Name: String
    public var Dest: String
    public var Version: String
    public var Summary: Summary
    public init(Name: String, Dest: String, Version: String, Summary: Summary) {
        self.Name = Name
        self.Dest = Dest
        self.Version = Version
        self.Summary = Summary
    }
}

/// damocles-manager's registry entry for one worker (Go's `core.WorkerPingInfo`): the worker's
/// last `WorkerPing` and when it came, in Unix seconds. `Venus.WorkerGetPingInfo` and
/// `Venus.WorkerPingInfoList` answer with it.
public struct WorkerPingRecord: Sendable, Hashable, Codable {
    /// What the worker sent (Go's `core.WorkerInfo`).
    public var Info: WorkerPingInfo
    /// When the manager received it, Unix seconds of the manager's clock.
    public var LastPing: Int64
    public init(Info: WorkerPingInfo, LastPing: Int64) {
        self.Info = Info
        self.LastPing = LastPing
    }
}

public struct SnapUpAllocateSpec: Sendable, Hashable, Codable {
    public var Sector: AllocateSectorSpec
    public var Deals: AcquireDealsSpec
    public init(Sector: AllocateSectorSpec, Deals: AcquireDealsSpec) {
        self.Sector = Sector
        self.Deals = Deals
    }
}

/// A CC sector to upgrade with deal data (`AllocateSanpUpSector`, damocles' spelling).
public struct AllocatedSnapUpSector: Sendable, Hashable, Codable {
    public struct PublicInfo: Sendable, Hashable, Codable {
        public var CommR: [UInt8]
        public init(CommR: [UInt8]) { self.CommR = CommR }
    }
    public struct PrivateInfo: Sendable, Hashable, Codable {
        public var AccessInstance: String
        public init(AccessInstance: String) { self.AccessInstance = AccessInstance }
    }
    public var Sector: AllocatedSector
    public var Pieces: [WireDeal]
    public var Public: PublicInfo
    public var Private: PrivateInfo
    public init(Sector: AllocatedSector, Pieces: [WireDeal], Public: PublicInfo, Private: PrivateInfo) {
        self.Sector = Sector
        self.Pieces = Pieces
        self.Public = Public
        self.Private = Private
    }
}

public struct SnapUpOnChainInfo: Sendable, Hashable, Codable {
    public var CommR: [UInt8]
    public var CommD: [UInt8]
    public var AccessInstance: String
    public var Pieces: [WireCID]
    public var Proof: Blob
    public init(CommR: [UInt8], CommD: [UInt8], AccessInstance: String, Pieces: [WireCID], Proof: Blob) {
        self.CommR = CommR
        self.CommD = CommD
        self.AccessInstance = AccessInstance
        self.Pieces = Pieces
        self.Proof = Proof
    }
}

/// A sector whose replica must be rebuilt from its original ticket (`AllocateRebuildSector`).
public struct AllocatedRebuildSector: Sendable, Hashable, Codable {
    public struct UpgradeInfo: Sendable, Hashable, Codable {
        public var CommR: [UInt8]
        public init(CommR: [UInt8]) { self.CommR = CommR }
    }
    public var Sector: AllocatedSector
    public var Ticket: WireTicket
    /// Legacy deal shape (`DealInfo{ID, PayloadSize, Piece{Size, Offset, Cid}}`).
    public var Pieces: [WireDealV1]?
    public var PiecesV2: [WireDeal]?
    public var IsSnapUp: Bool
    public var UpgradePublic: UpgradeInfo?
    public init(Sector: AllocatedSector, Ticket: WireTicket, Pieces: [WireDealV1]? = nil, PiecesV2: [WireDeal]?, IsSnapUp: Bool,
                UpgradePublic: UpgradeInfo?) {
        self.Sector = Sector
        self.Ticket = Ticket
        self.Pieces = Pieces
        self.PiecesV2 = PiecesV2
        self.IsSnapUp = IsSnapUp
        self.UpgradePublic = UpgradePublic
    }

    /// The deals in the current shape, whichever the manager sent.
    public var deals: [WireDeal] {
        PiecesV2 ?? (Pieces ?? []).map {
            WireDeal(Piece: WirePiece(Size: $0.Piece.Size, PieceCID: $0.Piece.Cid), DealInfo: WireDealInfo(DealID: $0.ID, PayloadSize: $0.PayloadSize))
        }
    }
}

/// damocles' legacy `DealInfo`, still sent by some managers for rebuilds.
public struct WireDealV1: Sendable, Hashable, Codable {
    public struct Piece: Sendable, Hashable, Codable {
        public var Size: UInt64
        public var Offset: UInt64?
        public var Cid: WireCID
    }
    public var ID: UInt64
    public var PayloadSize: UInt64
    public var Piece: Piece
}

/// A piece to unseal from a sealed sector (`AllocateUnsealSector`).
public struct AllocatedUnsealSector: Sendable, Hashable, Codable {
    public var Sector: AllocatedSector
    public var PieceCid: WireCID
    public var CommD: [UInt8]
    public var Ticket: WireTicket
    public var Offset: UInt64
    public var Size: UInt64
    public var PrivateInfo: AllocatedSnapUpSector.PrivateInfo
    public init(Sector: AllocatedSector, PieceCid: WireCID, CommD: [UInt8], Ticket: WireTicket, Offset: UInt64, Size: UInt64,
                PrivateInfo: AllocatedSnapUpSector.PrivateInfo) {
        self.Sector = Sector
        self.PieceCid = PieceCid
        self.CommD = CommD
        self.Ticket = Ticket
        self.Offset = Offset
        self.Size = Size
        self.PrivateInfo = PrivateInfo
    }
}

/// Which window PoSt jobs this worker takes (`WdPoStAllocateJobs`, Go `AllocateWdPoStJobSpec`).
public struct AllocatePoStSpec: Sendable, Hashable, Codable {
    public var AllowedMiners: [UInt64]?
    /// Proof type names as jobs carry them (`StackedDrgWindow32GiBV1_2`, see `PoStProof.name`);
    /// Go declares `[]string` and compares them to `WdPoStInput.ProofType`, so ids would not decode.
    public var AllowedProofTypes: [String]?
    public init(AllowedMiners: [UInt64]?, AllowedProofTypes: [String]?) {
        self.AllowedMiners = AllowedMiners
        self.AllowedProofTypes = AllowedProofTypes
    }
}

/// A window PoSt job as damocles-manager hands it out (only the fields a worker reads).
public struct WdPoStJob: Sendable, Hashable, Codable {
    public struct SectorInfo: Sendable, Hashable, Codable {
        public struct Accesses: Sendable, Hashable, Codable {
            public var SealedFile: String
            public var CacheDir: String
            public init(SealedFile: String, CacheDir: String) {
                self.SealedFile = SealedFile
                self.CacheDir = CacheDir
            }
        }
        public var SectorId: UInt64
        public var CommR: [UInt8]
        public var Upgrade: Bool
        public var Accesses: Accesses
        public init(SectorId: UInt64, CommR: [UInt8], Upgrade: Bool, Accesses: Accesses) {
            self.SectorId = SectorId
            self.CommR = CommR
            self.Upgrade = Upgrade
            self.Accesses = Accesses
        }
    }
    public struct Input: Sendable, Hashable, Codable {
        public var Sectors: [SectorInfo]
        public var MinerId: UInt64
        /// damocles' name for the job's `RegisteredPoStProof`, e.g. `StackedDrgWindow32GiBV1_2`
        /// (Go `string`, from `stage.ProofType2String`); `postProof` parses it.
        public var ProofType: String
        public var Seed: [UInt8]
        public init(Sectors: [SectorInfo], MinerId: UInt64, ProofType: String, Seed: [UInt8]) {
            self.Sectors = Sectors
            self.MinerId = MinerId
            self.ProofType = ProofType
            self.Seed = Seed
        }

        /// Also accepts the proof type as a bare `RegisteredPoStProof` integer, kept as its
        /// decimal text, so a manager that sends the number still yields a parseable job.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            Sectors = try c.decode([SectorInfo].self, forKey: .Sectors)
            MinerId = try c.decode(UInt64.self, forKey: .MinerId)
            if let name = try? c.decode(String.self, forKey: .ProofType) {
                ProofType = name
            } else {
                ProofType = String(try c.decode(Int64.self, forKey: .ProofType))
            }
            Seed = try c.decode([UInt8].self, forKey: .Seed)
        }

        /// The job's proof type; its `sectorSize` is what the job costs.
        public var postProof: PoStProof {
            get throws(PoStProofError) { try PoStProof.parse(ProofType) }
        }
    }
    public var Id: String
    public var Input: Input
    public init(Id: String, Input: Input) {
        self.Id = Id
        self.Input = Input
    }
}

/// A computed window PoSt (snake_case, as damocles' processors write it).
public struct WindowPoStOutput: Sendable, Hashable, Codable {
    public var proofs: [Blob]
    public var faults: [UInt64]
    public init(proofs: [Blob], faults: [UInt64]) {
        self.proofs = proofs
        self.faults = faults
    }
}
