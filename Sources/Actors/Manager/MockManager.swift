import Foundation
import ProofsFFI
import Scheduler

/// An in-process damocles-manager for demos and tests, like `damocles-manager mock`: it allocates
/// sectors, hands out a random ticket and seed, accepts submissions and reports them landed on
/// the next poll. Knobs inject the failures a real chain and network produce.
///
/// Unlike damocles' mock it checks submitted proofs against the mock prover, so a corrupted
/// sector record shows up as a mismatched submission instead of passing silently.
public actor MockManager: SectorManager {
    public struct Options: Sendable, Hashable {
        public var miner: UInt64 = 10000
        public var sectorSize: SectorSize = .kib2
        /// Fraction of PreCommit / Proof submissions answered `Rejected` (the sector aborts).
        public var rejectSubmitRate: Double = 0
        /// Fraction of state polls answered `Failed` (the worker resubmits).
        public var pollFailedRate: Double = 0
        /// Fraction of calls that fail as if the network dropped them.
        public var transportErrorRate: Double = 0
        /// Added to every call.
        public var delay: Duration = .zero
        public var seed: UInt64 = 1
        /// How long after its precommit landed a sector's seed is ready (the chain's 150 epochs);
        /// `WaitSeed` holds the call until then. Zero: at once, like damocles' mock.
        public var seedDelay: Duration = .zero
        /// Where deal pieces' data is written (a market's piece store): each deal gets a file of
        /// its unpadded size named by its CID, computed by the checker's backend. nil: deals have
        /// no data (the mock prover never reads it).
        public var piecesDirectory: String?

        public init() {}
    }

    /// What the manager knows of one sector; public so tests can audit a run.
    public struct SectorLedger: Sendable, Hashable {
        public var proof: SealProof
        public var preCommit: PreCommitOnChainInfo?
        public var preCommitSubmissions = 0
        /// When the precommit was accepted, for `seedDelay`.
        public var preCommitAt: ContinuousClock.Instant?
        public var proofSubmitted: Blob?
        public var proofSubmissions = 0
        public var persisted: String?
        public var lastReportedState: String?
        public var reports = 0
        public var finalized = 0
        public var aborted: String?
        /// Snap upgrade: handed to a snapup thread, and its accepted proof.
        public var snapAllocated = false
        public var snapProof: Blob?
        public var snapCommR: [UInt8]?
        /// Rebuild: handed to a rebuild thread, and how often a rebuild completed.
        public var rebuilding = false
        public var rebuilt = 0
        /// Unseal: handed to an unseal thread, and what the worker said when it was done.
        public var unsealAllocated = false
        public var unsealAchieved: String?
    }

    /// A window PoSt job handed out, and how it ended.
    public struct PoStLedger: Sendable, Hashable {
        public var job: WdPoStJob
        public var worker: String
        public var heartbeats = 0
        /// nil while running; true when the proof verified.
        public var verified: Bool?
        public var errorReason: String?
    }

    public let options: Options
    private let clock: any Clock<Duration>
    private var rng: SplitMix64
    private var nextNumber: UInt64 = 1
    public private(set) var sectors: [SectorID: SectorLedger] = [:]
    public private(set) var pings: [WorkerPingInfo] = []
    /// damocles-manager's worker registry: each worker's last ping, by name.
    public private(set) var registry: [String: WorkerPingRecord] = [:]
    /// The wall clock stamped on pings (`LastPing`, Unix seconds); tests may replace it.
    private let unixNow: @Sendable () -> Int64
    public private(set) var mismatchedProofs: [SectorID] = []
    public private(set) var postJobs: [String: PoStLedger] = [:]
    private let ticket: WireTicket
    private let seed: WireSeed

    /// How submitted proofs are verified (the mock prover's, or filecoin-ffi's).
    public nonisolated let checker: any ProofChecker

    public init(options: Options = .init(), clock: any Clock<Duration> = ContinuousClock(), checker: any ProofChecker = MockProofChecker(),
                unixNow: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.options = options
        self.unixNow = unixNow
        self.clock = clock
        self.checker = checker
        rng = SplitMix64(seed: options.seed)
        // Like damocles' mock: one random ticket and seed for the lifetime of the process.
        ticket = WireTicket(Ticket: Blob(MockDigest.digest("ticket", "\(options.seed)")), Epoch: 100)
        seed = WireSeed(Seed: Blob(MockDigest.digest("seed", "\(options.seed)")), Epoch: 200)
    }

    private func draw() -> Double { rng.unit() }

    /// Applies the delay and transport-failure knobs common to every call.
    /// Test hooks: methods whose calls wait until released, errors injected per method, and
    /// how often each method was called.
    private var holding: Set<String> = []
    private var held: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var injected: [String: (error: ManagerError, times: Int)] = [:]
    public private(set) var calls: [String: Int] = [:]

    /// Calls of `method` (its `Venus.*` name without the prefix) wait until `release(method)`.
    public func hold(_ method: String) { holding.insert(method) }

    /// Lets held and future calls of `method` through.
    public func release(_ method: String) {
        holding.remove(method)
        for continuation in held.removeValue(forKey: method) ?? [] { continuation.resume() }
    }

    /// How many calls of `method` are waiting in `hold`.
    public func waiting(_ method: String) -> Int { held[method]?.count ?? 0 }

    /// The next `times` calls of `method` fail with `error`.
    public func inject(_ error: ManagerError, into method: String, times: Int = .max) {
        injected[method] = (error, times)
    }

    private func enter(_ method: String) async throws(ManagerError) {
        calls[method, default: 0] += 1
        if holding.contains(method) {
            await withCheckedContinuation { held[method, default: []].append($0) }
        }
        if let (error, times) = injected[method], times > 0 {
            injected[method] = (error, times - 1)
            throw error
        }
        if options.delay > .zero {
            do { try await clock.sleep(for: options.delay, tolerance: nil) } catch {
                throw .transport(method: method, reason: "cancelled")
            }
        }
        if options.transportErrorRate > 0, draw() < options.transportErrorRate {
            throw .transport(method: method, reason: "injected transport error")
        }
    }

    private func known(_ id: SectorID, _ method: String) throws(ManagerError) -> SectorLedger {
        guard let ledger = sectors[id] else {
            throw .rpc(method: method, code: ManagerError.sectorStateNotFound, message: "sector \(id) not found")
        }
        return ledger
    }

    public func allocateSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedSector? {
        try await enter("AllocateSector")
        if let miners = spec.AllowedMiners, !miners.isEmpty, !miners.contains(options.miner) { return nil }
        let candidates = SealProof.all(for: options.sectorSize).filter { proof in
            spec.AllowedProofTypes.map { $0.isEmpty || $0.contains(proof.id) } ?? true
        }
        guard let proof = candidates.first else { return nil }
        let id = SectorID(miner: options.miner, number: nextNumber)
        nextNumber += 1
        sectors[id] = SectorLedger(proof: proof)
        return AllocatedSector(ID: id, ProofType: proof)
    }

    public func acquireDeals(_ sector: SectorID, _ spec: AcquireDealsSpec) async throws(ManagerError) -> [WireDeal]? {
        try await enter("AcquireDeals")
        _ = try known(sector, "AcquireDeals")
        return nil
    }

    public func assignTicket(_ sector: SectorID) async throws(ManagerError) -> WireTicket {
        try await enter("AssignTicket")
        _ = try known(sector, "AssignTicket")
        return ticket
    }

    public func submitPreCommit(_ sector: AllocatedSector, _ info: PreCommitOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp {
        try await enter("SubmitPreCommit")
        var ledger = try known(sector.ID, "SubmitPreCommit")
        defer { sectors[sector.ID] = ledger }
        ledger.preCommitSubmissions += 1
        if options.rejectSubmitRate > 0, draw() < options.rejectSubmitRate {
            return SubmitPreCommitResp(Res: .rejected, Desc: "injected rejection")
        }
        if let existing = ledger.preCommit, !reset {
            return SubmitPreCommitResp(Res: existing == info ? .duplicateSubmit : .mismatchedSubmission)
        }
        ledger.preCommit = info
        ledger.preCommitAt = .now
        return SubmitPreCommitResp(Res: .accepted)
    }

    public func pollPreCommitState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp {
        try await enter("PollPreCommitState")
        let ledger = try known(sector, "PollPreCommitState")
        guard ledger.preCommit != nil else { return PollStateResp(State: .notFound) }
        if options.pollFailedRate > 0, draw() < options.pollFailedRate {
            return PollStateResp(State: .failed, Desc: "injected message failure")
        }
        return PollStateResp(State: .landed)
    }

    public func storeReserveSpace(_ sector: SectorID, size: UInt64, candidates: [String]) async throws(ManagerError) -> StoreInfo? {
        try await enter("StoreReserveSpace")
        _ = try known(sector, "StoreReserveSpace")
        guard let name = candidates.first else { return nil }
        return StoreInfo(Name: name, Path: name)
    }

    public func submitPersistedEx(_ sector: SectorID, instance: String, isUpgrade: Bool) async throws(ManagerError) -> Bool {
        try await enter("SubmitPersistedEx")
        var ledger = try known(sector, "SubmitPersistedEx")
        ledger.persisted = instance
        if ledger.rebuilding {
            ledger.rebuilding = false
            ledger.rebuilt += 1
        }
        sectors[sector] = ledger
        return true
    }

    public func waitSeed(_ sector: SectorID, proofType: SealProof) async throws(ManagerError) -> WaitSeedResp {
        try await enter("WaitSeed")
        let ledger = try known(sector, "WaitSeed")
        if options.seedDelay > .zero, let landed = ledger.preCommitAt {
            let remaining = options.seedDelay - landed.duration(to: .now)
            if remaining > .zero {
                do { try await clock.sleep(for: remaining, tolerance: nil) } catch {
                    throw .transport(method: "WaitSeed", reason: "cancelled")
                }
            }
        }
        return WaitSeedResp(ShouldWait: false, Delay: 0, Seed: seed)
    }

    public func submitProof(_ sector: SectorID, _ info: ProofOnChainInfo, reset: Bool) async throws(ManagerError) -> SubmitPreCommitResp {
        try await enter("SubmitProof")
        var ledger = try known(sector, "SubmitProof")
        defer { sectors[sector] = ledger }
        ledger.proofSubmissions += 1
        if options.rejectSubmitRate > 0, draw() < options.rejectSubmitRate {
            return SubmitPreCommitResp(Res: .rejected, Desc: "injected rejection")
        }
        guard let pre = ledger.preCommit else {
            return SubmitPreCommitResp(Res: .filesMissed, Desc: "no precommit for \(sector)")
        }
        let ref = SectorRef(id: sector, proof: ledger.proof, paths: SectorPaths(staged: "", cache: "", sealed: ""))
        guard checker.sealVerifies(ref, ticket: pre.Ticket.Ticket.bytes, seed: seed.Seed.bytes,
                                   commitments: Commitments(commR: pre.CommR, commD: pre.CommD), proof: info.Proof.bytes) else {
            mismatchedProofs.append(sector)
            return SubmitPreCommitResp(Res: .mismatchedSubmission, Desc: "proof does not verify")
        }
        if let existing = ledger.proofSubmitted, !reset {
            return SubmitPreCommitResp(Res: existing == info.Proof ? .duplicateSubmit : .mismatchedSubmission)
        }
        ledger.proofSubmitted = info.Proof
        return SubmitPreCommitResp(Res: .accepted)
    }

    public func pollProofState(_ sector: SectorID) async throws(ManagerError) -> PollStateResp {
        try await enter("PollProofState")
        let ledger = try known(sector, "PollProofState")
        guard ledger.proofSubmitted != nil else { return PollStateResp(State: .notFound) }
        if options.pollFailedRate > 0, draw() < options.pollFailedRate {
            return PollStateResp(State: .failed, Desc: "injected message failure")
        }
        return PollStateResp(State: .landed)
    }

    public func reportState(_ sector: SectorID, _ req: ReportStateReq) async throws(ManagerError) -> ReportStateResp {
        try await enter("ReportState")
        var ledger = try known(sector, "ReportState")
        ledger.reports += 1
        ledger.lastReportedState = req.StateChange.Next
        sectors[sector] = ledger
        return ReportStateResp(ID: sector, Finalized: false)
    }

    public func reportFinalized(_ sector: SectorID) async throws(ManagerError) {
        try await enter("ReportFinalized")
        var ledger = try known(sector, "ReportFinalized")
        ledger.finalized += 1
        sectors[sector] = ledger
    }

    public func reportAborted(_ sector: SectorID, reason: String) async throws(ManagerError) {
        try await enter("ReportAborted")
        var ledger = try known(sector, "ReportAborted")
        ledger.aborted = reason
        sectors[sector] = ledger
    }

    public func workerPing(_ info: WorkerPingInfo) async throws(ManagerError) {
        try await enter("WorkerPing")
        // damocles-manager refuses a ping it could not list or reach (plain errors: code 1).
        if info.Name.isEmpty { throw .rpc(method: "WorkerPing", code: 1, message: "worker name is required") }
        if info.Dest.isEmpty { throw .rpc(method: "WorkerPing", code: 1, message: "worker dest is required") }
        pings.append(info)
        if pings.count > 100 { pings.removeFirst(pings.count - 100) }
        registry[info.Name] = WorkerPingRecord(Info: info, LastPing: unixNow())
    }

    /// Knows every store name, as `damocles-manager mock` does.
    public func storeBasicInfo(_ name: String) async throws(ManagerError) -> StoreInfo? {
        try await enter("StoreBasicInfo")
        return StoreInfo(Name: name, Path: name)
    }

    /// Deal CIDs by sector, so a rebuild asks for the piece its snap upgrade sealed.
    private var dealCIDs: [SectorID: WireCID] = [:]

    /// The deal piece of `id`'s snap upgrade: with `piecesDirectory`, a file of the piece's data
    /// named by the commitment the backend computes for it; else a digest-named CID.
    private func dealCID(_ id: SectorID, proof: SealProof) -> WireCID {
        if let known = dealCIDs[id] { return known }
        var cid = Self.pieceCID("deal", id)
        if let dir = options.piecesDirectory {
            let size = PieceInfo.unpadded(proof.sectorSize.bytes)
            let pattern = MockDigest.digest("piece-data", "\(id)")
            let data = Data((0..<Int(size)).map { pattern[$0 % pattern.count] })
            let staging = dir + "/.incoming-\(id)"
            if FileManager.default.createFile(atPath: staging, contents: data),
               let commP = checker.pieceCommitment(ofFile: staging, unpaddedSize: size, proof: proof) {
                cid = WireCID(PieceCID.string(commP))
                try? FileManager.default.removeItem(atPath: dir + "/" + cid.value)
                try? FileManager.default.moveItem(atPath: staging, toPath: dir + "/" + cid.value)
            } else {
                try? FileManager.default.removeItem(atPath: staging)
            }
        }
        dealCIDs[id] = cid
        return cid
    }

    /// A mock deal piece's CID: a real piece-commitment CID over a digest of `tag` and the sector.
    static func pieceCID(_ tag: String, _ id: SectorID) -> WireCID {
        var commP = MockDigest.digest(tag, "\(id)")
        commP[31] &= 0x3f
        return WireCID(PieceCID.string(commP))
    }

    /// Offers a finalized CC sector, once, for a snap upgrade with one deal piece.
    public func allocateSnapUpSector(_ spec: SnapUpAllocateSpec) async throws(ManagerError) -> AllocatedSnapUpSector? {
        try await enter("AllocateSanpUpSector")
        guard let (id, ledger) = sectors.filter({ $0.value.finalized > 0 && !$0.value.snapAllocated && !$0.value.rebuilding })
            .min(by: { $0.key < $1.key }), let pre = ledger.preCommit else { return nil }
        sectors[id]?.snapAllocated = true
        let size = ledger.proof.sectorSize.bytes
        let deal = WireDeal(Piece: WirePiece(Size: size, PieceCID: dealCID(id, proof: ledger.proof)),
                            DealInfo: WireDealInfo(DealID: id.number, AllocationID: 0, PayloadSize: size, IsBuiltinMarket: true))
        return AllocatedSnapUpSector(
            Sector: AllocatedSector(ID: id, ProofType: ledger.proof), Pieces: [deal],
            Public: .init(CommR: pre.CommR), Private: .init(AccessInstance: ledger.persisted ?? "persist"))
    }

    public func submitSnapUpProof(_ sector: SectorID, _ info: SnapUpOnChainInfo) async throws(ManagerError) -> SubmitPreCommitResp {
        try await enter("SubmitSnapUpProof")
        var ledger = try known(sector, "SubmitSnapUpProof")
        defer { sectors[sector] = ledger }
        guard ledger.snapAllocated, let pre = ledger.preCommit else {
            return SubmitPreCommitResp(Res: .rejected, Desc: "\(sector) was not allocated for a snap upgrade")
        }
        let ref = SectorRef(id: sector, proof: ledger.proof, paths: SectorPaths(staged: "", cache: "", sealed: ""))
        guard checker.snapVerifies(ref, oldCommR: pre.CommR, new: Commitments(commR: info.CommR, commD: info.CommD), proof: info.Proof.bytes) else {
            mismatchedProofs.append(sector)
            return SubmitPreCommitResp(Res: .mismatchedSubmission, Desc: "snap proof does not verify")
        }
        if let existing = ledger.snapProof {
            return SubmitPreCommitResp(Res: existing == info.Proof ? .duplicateSubmit : .mismatchedSubmission)
        }
        ledger.snapProof = info.Proof
        ledger.snapCommR = info.CommR
        return SubmitPreCommitResp(Res: .accepted)
    }

    /// Offers a finalized sector, once, for a rebuild from its original ticket.
    public func allocateRebuildSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedRebuildSector? {
        try await enter("AllocateRebuildSector")
        guard let (id, ledger) = sectors.filter({ $0.value.finalized > 0 && $0.value.rebuilt == 0 && !$0.value.rebuilding
            && ($0.value.snapAllocated == ($0.value.snapProof != nil)) })
            .min(by: { $0.key < $1.key }), let pre = ledger.preCommit else { return nil }
        sectors[id]?.rebuilding = true
        let snapped = ledger.snapProof != nil
        let size = ledger.proof.sectorSize.bytes
        let deals = snapped ? [WireDeal(Piece: WirePiece(Size: size, PieceCID: dealCID(id, proof: ledger.proof)),
                                        DealInfo: WireDealInfo(DealID: id.number, AllocationID: 0, PayloadSize: size, IsBuiltinMarket: true))] : nil
        return AllocatedRebuildSector(
            Sector: AllocatedSector(ID: id, ProofType: ledger.proof), Ticket: pre.Ticket, PiecesV2: deals, IsSnapUp: snapped,
            UpgradePublic: ledger.snapCommR.map { .init(CommR: $0) })
    }

    /// Offers a finalized sector, once, for unsealing its (single, mock) piece.
    public func allocateUnsealSector(_ spec: AllocateSectorSpec) async throws(ManagerError) -> AllocatedUnsealSector? {
        try await enter("AllocateUnsealSector")
        guard let (id, ledger) = sectors.filter({ $0.value.finalized > 0 && !$0.value.unsealAllocated })
            .min(by: { $0.key < $1.key }), let pre = ledger.preCommit else { return nil }
        sectors[id]?.unsealAllocated = true
        return AllocatedUnsealSector(
            Sector: AllocatedSector(ID: id, ProofType: ledger.proof), PieceCid: dealCID(id, proof: ledger.proof),
            CommD: pre.CommD, Ticket: pre.Ticket, Offset: 0, Size: PieceInfo.unpadded(ledger.proof.sectorSize.bytes),
            PrivateInfo: .init(AccessInstance: ledger.persisted ?? "persist"))
    }

    /// The mock keeps unsealed pieces where they are: no upload destinations.
    public func acquireUnsealDest(_ sector: SectorID, piece: WireCID) async throws(ManagerError) -> [String] {
        try await enter("AcquireUnsealDest")
        _ = try known(sector, "AcquireUnsealDest")
        return []
    }

    public func achieveUnsealSector(_ sector: SectorID, piece: WireCID, error: String) async throws(ManagerError) {
        try await enter("AchieveUnsealSector")
        _ = try known(sector, "AchieveUnsealSector")
        sectors[sector]?.unsealAchieved = error
    }

    /// One job at a time over every finalized sector of the miner, with a fresh seed each time.
    public func wdPoStAllocateJobs(_ spec: AllocatePoStSpec, count: Int, worker: String) async throws(ManagerError) -> [WdPoStJob] {
        try await enter("WdPoStAllocateJobs")
        guard count > 0, !postJobs.values.contains(where: { $0.verified == nil && $0.errorReason == nil }) else { return [] }
        // Like damocles' job manager: empty filters allow all; proof types match the job's name.
        let proofType = PoStProof(sectorSize: options.sectorSize).name
        if let miners = spec.AllowedMiners, !miners.isEmpty, !miners.contains(options.miner) { return [] }
        if let types = spec.AllowedProofTypes, !types.isEmpty, !types.contains(proofType) { return [] }
        let proven = sectors.filter { $0.value.finalized > 0 }.sorted { $0.key < $1.key }
        guard !proven.isEmpty else { return [] }
        let id = "wdpost-\(postJobs.count + 1)"
        let input = WdPoStJob.Input(
            Sectors: proven.map { entry in
                WdPoStJob.SectorInfo(SectorId: entry.key.number, CommR: entry.value.preCommit?.CommR ?? [], Upgrade: entry.value.snapProof != nil,
                                     Accesses: .init(SealedFile: entry.value.persisted ?? "persist", CacheDir: entry.value.persisted ?? "persist"))
            },
            MinerId: options.miner, ProofType: proofType, Seed: MockDigest.digest("post-seed", id))
        let job = WdPoStJob(Id: id, Input: input)
        postJobs[id] = PoStLedger(job: job, worker: worker)
        return [job]
    }

    public func wdPoStHeartbeatJobs(_ ids: [String], worker: String) async throws(ManagerError) {
        try await enter("WdPoStHeartbeatJobs")
        for id in ids { postJobs[id]?.heartbeats += 1 }
    }

    public func wdPoStFinishJob(_ id: String, output: WindowPoStOutput?, errorReason: String) async throws(ManagerError) {
        try await enter("WdPoStFinishJob")
        guard var ledger = postJobs[id] else {
            throw .rpc(method: "WdPoStFinishJob", code: 1, message: "no window PoSt job \(id)")
        }
        if let output {
            let input = ledger.job.Input
            let proof = (try? input.postProof) ?? PoStProof(sectorSize: options.sectorSize)
            ledger.verified = checker.windowPoStVerifies(miner: input.MinerId, proof: proof, replicas: input.Sectors.map { ($0.SectorId, $0.CommR) },
                                                         randomness: input.Seed, proofs: output.proofs.map(\.bytes))
        }
        ledger.errorReason = errorReason.isEmpty ? nil : errorReason
        if output == nil, ledger.errorReason == nil { ledger.errorReason = "finished without output" }
        postJobs[id] = ledger
    }
}

/// The registry `util worker` reads; like damocles-manager's, untouched by the failure knobs.
extension MockManager: WorkerRegistry {
    public func workerGetPingInfo(_ name: String) async throws(ManagerError) -> WorkerPingRecord? {
        calls["WorkerGetPingInfo", default: 0] += 1
        return registry[name]
    }
    public func workerPingInfoList() async throws(ManagerError) -> [WorkerPingRecord] {
        calls["WorkerPingInfoList", default: 0] += 1
        return registry.keys.sorted().compactMap { registry[$0] }
    }
    public func workerPingInfoRemove(_ name: String) async throws(ManagerError) {
        calls["WorkerPingInfoRemove", default: 0] += 1
        registry[name] = nil
    }
}
