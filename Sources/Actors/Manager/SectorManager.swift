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

    /// damocles-manager's SectorStateNotFound: the manager does not know the sector; abort it.
    public static let sectorStateNotFound = 11001

    public var description: String {
        switch self {
        case let .transport(method, reason): "manager \(method): \(reason)"
        case let .rpc(method, code, message): "manager \(method): error \(code): \(message)"
        case let .malformed(method, reason): "manager \(method): malformed reply: \(reason)"
        }
    }

    /// damocles' mapping: every RPC failure is temporary except 11001, which aborts the sector.
    public var failure: SealingFailure {
        if case let .rpc(_, code, _) = self, code == Self.sectorStateNotFound {
            return .abort(description)
        }
        return .temporary(description)
    }
}

/// The subset of damocles-manager's `Venus.*` API a sealing worker calls.
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
