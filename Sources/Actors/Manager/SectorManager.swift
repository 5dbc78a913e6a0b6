import ProofsFFI
import Scheduler

/// A call to the sector manager failed.
public enum ManagerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request did not get an answer (connection refused, timeout, HTTP error).
    case transport(method: String, reason: String)
    /// The manager answered with a JSON-RPC error.
    case rpc(method: String, code: Int, message: String)
    /// The answer could not be decoded.
    case malformed(method: String, reason: String)
    /// The pinned damocles-manager release has no such call (or no such parameter).
    case unsupported(method: String, reason: String)

    /// damocles-manager's SectorStateNotFound: the manager does not know the sector; abort it.
    public static let sectorStateNotFound = 11001

    public var description: String {
        switch self {
        case let .transport(method, reason): "manager \(method): \(reason)"
        case let .rpc(method, code, message): "manager \(method): error \(code): \(message)"
        case let .malformed(method, reason): "manager \(method): malformed reply: \(reason)"
        case let .unsupported(method, reason): "manager \(method): unsupported: \(reason)"
        }
    }

    /// damocles' mapping: every RPC failure is temporary except 11001, which aborts the sector.
    /// A call the manager cannot serve pauses the thread: retrying would not help.
    public var failure: SealingFailure {
        switch self {
        case let .rpc(_, code, _) where code == Self.sectorStateNotFound: .abort(description)
        case .unsupported: .permanent(description)
        default: .temporary(description)
        }
    }
}

/// The subset of damocles-manager's `Venus.*` API a sealing worker calls, pinned to the release
/// damocles v0.13.0 (`damocles-manager/core/api.go`): each requirement is one Go method with the
/// same parameters in the same order (see `ContractTests`).
///
/// Implemented by `RemoteSectorManager` (JSON-RPC over HTTP) and `MockManager` (in-process).
public protocol SectorManager: Sendable {
    func allocateSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedSector?
    func acquireDeals(_ sector: SectorID, _ spec: AcquireDealsSpec) async throws(ManagerError) -> [WireDeal]?
    func assignTicket(_ sector: SectorID) async throws(ManagerError) -> WireTicket
    func submitPreCommit(_ sector: AllocatedSector, _ info: PreCommitOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp
    func pollPreCommitState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp
    func storeReserveSpace(_ sector: SectorID, size: UInt64, candidates: [String]) async throws(ManagerError) -> StoreInfo?
    func submitPersistedEx(_ sector: SectorID, instance: String, isUpgrade: Bool) async throws(ManagerError) -> Bool
    func waitSeed(_ sector: SectorID, proofType: SealProof) async throws(ManagerError) -> WaitSeedResp
    func submitProof(_ sector: SectorID, _ info: ProofOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp
    func pollProofState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp
    func reportState(_ sector: SectorID, _ req: ReportStateReq) async throws(ManagerError) -> ReportStateResp
    func reportFinalized(_ sector: SectorID) async throws(ManagerError)
    func reportAborted(_ sector: SectorID, reason: String) async throws(ManagerError)
    func workerPing(_ info: WorkerPingInfo) async throws(ManagerError)
    /// The manager's record of a persist store, nil when it does not know the name.
    func storeBasicInfo(_ name: String) async throws(ManagerError) -> StoreInfo?
    func allocateSnapUpSector(_ spec: SnapUpAllocateSpec) async throws(ManagerError) -> AllocatedSnapUpSector?
    func submitSnapUpProof(_ sector: SectorID, _ info: SnapUpOnChainInfo) async throws(ManagerError) -> SubmitPreCommitResp
    func allocateRebuildSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedRebuildSector?
    func allocateUnsealSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedUnsealSector?
    /// Where an unsealed piece must be uploaded (`http(s)://`, `file://`, ...); may be empty.
    func acquireUnsealDest(_ sector: SectorID, piece: WireCID) async throws(ManagerError) -> [String]
    func achieveUnsealSector(_ sector: SectorID, piece: WireCID, error: String) async throws(ManagerError)
    func wdPoStAllocateJobs(_ spec: AllocatePoStSpec, count: Int, worker: String) async throws(ManagerError) -> [WdPoStJob]
    func wdPoStHeartbeatJobs(_ ids: [String], worker: String) async throws(ManagerError)
    func wdPoStFinishJob(_ id: String, output: WindowPoStOutput?, errorReason: String) async throws(ManagerError)
}

extension SectorManager {
    /// Allocates one sector for an interactive (`niporep: false`) or NI-PoRep plan.
    ///
    /// damocles v0.13.0's `AllocateSector` takes only the spec (go-jsonrpc refuses a second
    /// parameter); a `niporep` flag exists only on damocles' unreleased `felix/niporep` branch.
    /// So `false` is the plain one-parameter call and `true` is `.unsupported`.
    public func allocateSector(_ spec: AllocateSectorSpec, niporep: Bool) async throws(ManagerError) -> AllocatedSector? {
        guard !niporep else {
            throw .unsupported(method: "AllocateSector", reason: "damocles-manager v0.13.0 cannot allocate NI-PoRep sectors")
        }
        return try await allocateSector(spec)
    }

    /// Allocates up to `count` sectors, stopping at the first the manager cannot give.
    ///
    /// damocles v0.13.0 serves no `Venus.AllocateSectorsBatch` (its worker declares one; the
    /// manager answers "method not found"), so this makes one `AllocateSector` call per sector.
    /// The sectors are not reserved together: another worker may take numbers in between.
    public func allocateSectorsBatch(_ spec: AllocateSectorSpec, niporep: Bool, count: Int) async throws(ManagerError) -> [AllocatedSector] {
        var sectors: [AllocatedSector] = []
        while sectors.count < count, let sector = try await allocateSector(spec, niporep: niporep) {
            sectors.append(sector)
        }
        return sectors
    }
}

/// The manager's worker registry, as damocles-manager's `util worker` commands read it: one
/// entry per worker name, replaced by each `WorkerPing`.
public protocol WorkerRegistry: Sendable {
    /// `Venus.WorkerGetPingInfo(name)`: the worker's entry, nil when the manager has none.
    func workerGetPingInfo(_ name: String) async throws(ManagerError) -> WorkerPingRecord?
    /// `Venus.WorkerPingInfoList()`: every entry, by name.
    func workerPingInfoList() async throws(ManagerError) -> [WorkerPingRecord]
    /// `Venus.WorkerPingInfoRemove(name)`: forgets the worker (until it pings again).
    func workerPingInfoRemove(_ name: String) async throws(ManagerError)
}
