import ProofsFFI
import Scheduler
import Synchronization

/// damocles-manager over JSON-RPC 2.0 / HTTP (`Venus.*`, positional params), speaking the
/// damocles v0.13.0 API: every call sends exactly the Go method's parameters, in order.
public struct RemoteSectorManager: SectorManager {
    private let client: JSONRPCClient
    /// Whether this manager's `AllocateSector` takes the NI-PoRep flag as a second parameter
    /// (damocles' unreleased `felix/niporep` branch) instead of v0.13.0's spec alone; learnt from
    /// go-jsonrpc's "wrong param count" answer and kept for the manager's life.
    private let allocateTakesNiPoRep = AllocateShape()
    /// Counts every call for `/metrics` (`rpc_call`, `rpc_error`, `rpc_timing`); nil: not counted.
    private let metrics: RPCMetrics?

    final class AllocateShape: Sendable {
        let withFlag = Atomic<Bool>(false)
    }

    /// `metrics`, when given, counts and times every call by method.
    public init(endpoint: HTTPEndpoint, headers: [(String, String)] = [], timeout: Duration = .seconds(30), metrics: RPCMetrics? = nil) {
        client = JSONRPCClient(endpoint: endpoint, headers: headers, timeout: timeout)
        self.metrics = metrics
    }

    private func call<R: Decodable>(_ method: String, _ params: [any Encodable], as type: R.Type = R.self) async throws(ManagerError) -> R {
        guard let metrics else { return try await uncounted(method, params, as: type) }
        let start = ContinuousClock.now
        do {
            let result = try await uncounted(method, params, as: type)
            metrics.record(method: method, seconds: Self.seconds(ContinuousClock.now - start), failed: false)
            return result
        } catch {
            metrics.record(method: method, seconds: Self.seconds(ContinuousClock.now - start), failed: true)
            throw error
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func uncounted<R: Decodable>(_ method: String, _ params: [any Encodable], as _: R.Type = R.self) async throws(ManagerError) -> R {
        var encoded: [JSONValue] = []
        for param in params {
            do { encoded.append(try JSONValue(encoding: param)) } catch {
                throw .malformed(method: method, reason: "cannot encode params: \(error)")
            }
        }
        let result: JSONValue
        do {
            result = try await client.call("Venus." + method, encoded)
        } catch {
            switch error {
            case let .rpc(_, rpc): throw .rpc(method: method, code: rpc.code, message: rpc.message)
            case let .http(_, _, body):
                // go-jsonrpc answers protocol errors (wrong param count, unknown method, bad
                // params) with HTTP 500 and a JSON-RPC error body; keep its code and message.
                if let rpc = Self.rpcError(inBody: body) { throw .rpc(method: method, code: rpc.code, message: rpc.message) }
                throw .transport(method: method, reason: "\(error)")
            default: throw .transport(method: method, reason: "\(error)")
            }
        }
        do { return try result.decode(R.self) } catch {
            throw .malformed(method: method, reason: "\(error)")
        }
    }

    /// The JSON-RPC error object in a non-2xx response body, if it carries one.
    static func rpcError(inBody body: String) -> JSONRPCError? {
        guard let document = try? JSONValue.parse(Array(body.utf8)), let error = document["error"] else { return nil }
        return JSONRPCError(jsonValue: error)
    }

    /// For methods whose result is null or absent.
    private func callVoid(_ method: String, _ params: [any Encodable]) async throws(ManagerError) {
        let _: JSONValue = try await call(method, params)
    }

    private func optional<R: Decodable>(_ method: String, _ params: [any Encodable]) async throws(ManagerError) -> R? {
        let raw: JSONValue = try await call(method, params)
        if raw == .null { return nil }
        do { return try raw.decode(R.self) } catch { throw .malformed(method: method, reason: "\(error)") }
    }

    /// v0.13.0's `AllocateSector(spec)`; a manager built from damocles' NI-PoRep branch declares
    /// `AllocateSector(spec, niporep)` and refuses the other count, so a refusal for the count
    /// switches the call's shape once (always with `niporep: false`: this plan is interactive).
    public func allocateSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedSector? {
        let withFlag = allocateTakesNiPoRep.withFlag.load(ordering: .relaxed)
        do {
            return try await optional("AllocateSector", withFlag ? [spec, false] : [spec])
        } catch {
            guard case let .rpc(_, code, message) = error, code == JSONRPCError.invalidParams.code,
                  message.contains("wrong param count") else { throw error }
            allocateTakesNiPoRep.withFlag.store(!withFlag, ordering: .relaxed)
            return try await optional("AllocateSector", withFlag ? [spec] : [spec, false])
        }
    }
    public func acquireDeals(_ sector: SectorID, _ spec: AcquireDealsSpec) async throws(ManagerError) -> [WireDeal]? {
        try await optional("AcquireDeals", [sector, spec])
    }
    public func assignTicket(_ sector: SectorID) async throws(ManagerError) -> WireTicket {
        try await call("AssignTicket", [sector])
    }
    public func submitPreCommit(_ sector: AllocatedSector, _ info: PreCommitOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp {
        try await call("SubmitPreCommit", [sector, info, reset])
    }
    public func pollPreCommitState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp {
        try await call("PollPreCommitState", [sector])
    }
    public func storeReserveSpace(_ sector: SectorID, size: UInt64, candidates: [String]) async throws(ManagerError) -> StoreInfo? {
        try await optional("StoreReserveSpace", [sector, size, candidates])
    }
    public func submitPersistedEx(_ sector: SectorID, instance: String, isUpgrade: Bool) async throws(ManagerError) -> Bool {
        try await call("SubmitPersistedEx", [sector, instance, isUpgrade])
    }
    public func waitSeed(_ sector: SectorID, proofType: SealProof) async throws(ManagerError) -> WaitSeedResp {
        try await call("WaitSeed", [sector, proofType])
    }
    public func submitProof(_ sector: SectorID, _ info: ProofOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp {
        try await call("SubmitProof", [sector, info, reset])
    }
    public func pollProofState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp {
        try await call("PollProofState", [sector])
    }
    public func reportState(_ sector: SectorID, _ req: ReportStateReq) async throws(ManagerError) -> ReportStateResp {
        try await call("ReportState", [sector, req])
    }
    public func reportFinalized(_ sector: SectorID) async throws(ManagerError) {
        try await callVoid("ReportFinalized", [sector])
    }
    public func reportAborted(_ sector: SectorID, reason: String) async throws(ManagerError) {
        try await callVoid("ReportAborted", [sector, reason])
    }
    public func workerPing(_ info: WorkerPingInfo) async throws(ManagerError) {
        try await callVoid("WorkerPing", [info])
    }
    public func storeBasicInfo(_ name: String) async throws(ManagerError) -> StoreInfo? {
        try await optional("StoreBasicInfo", [name])
    }
    public func allocateSnapUpSector(_ spec: SnapUpAllocateSpec) async throws(ManagerError) -> AllocatedSnapUpSector? {
        try await optional("AllocateSanpUpSector", [spec])
    }
    public func submitSnapUpProof(_ sector: SectorID, _ info: SnapUpOnChainInfo) async throws(ManagerError) -> SubmitPreCommitResp {
        try await call("SubmitSnapUpProof", [sector, info])
    }
    public func allocateUnsealSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedUnsealSector? {
        try await optional("AllocateUnsealSector", [spec])
    }
    public func acquireUnsealDest(_ sector: SectorID, piece: WireCID) async throws(ManagerError) -> [String] {
        let dests: [String]? = try await optional("AcquireUnsealDest", [sector, piece])
        return dests ?? []
    }
    public func achieveUnsealSector(_ sector: SectorID, piece: WireCID, error: String) async throws(ManagerError) {
        try await callVoid("AchieveUnsealSector", [sector, piece, error])
    }
    public func wdPoStAllocateJobs(_ spec: AllocatePoStSpec, count: Int, worker: String) async throws(ManagerError) -> [WdPoStJob] {
        let jobs: [WdPoStJob]? = try await optional("WdPoStAllocateJobs", [spec, count, worker])
        return jobs ?? []
    }
    public func wdPoStHeartbeatJobs(_ ids: [String], worker: String) async throws(ManagerError) {
        try await callVoid("WdPoStHeartbeatJobs", [ids, worker])
    }
    public func wdPoStFinishJob(_ id: String, output: WindowPoStOutput?, errorReason: String) async throws(ManagerError) {
        try await callVoid("WdPoStFinishJob", [id, output, errorReason])
    }
    public func allocateRebuildSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedRebuildSector? {
        try await optional("AllocateRebuildSector", [spec])
    }
}

extension RemoteSectorManager: WorkerRegistry {
    public func workerGetPingInfo(_ name: String) async throws(ManagerError) -> WorkerPingRecord? {
        try await optional("WorkerGetPingInfo", [name])
    }
    public func workerPingInfoList() async throws(ManagerError) -> [WorkerPingRecord] {
        let records: [WorkerPingRecord]? = try await optional("WorkerPingInfoList", [])
        return records ?? []
    }
    public func workerPingInfoRemove(_ name: String) async throws(ManagerError) {
        try await callVoid("WorkerPingInfoRemove", [name])
    }
}
