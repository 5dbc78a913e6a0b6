import ProofsFFI
import Scheduler

/// One stage's work as it crosses to an external processor child: the `task` of damocles'
/// `{"id":…,"task":…}` line. Field names follow damocles' payloads (`registered_proof`,
/// `prover_id`, `sector_id`, `cache_dir`, `sealed_file`, `ticket`, `piece_infos`, …); the
/// inputs and outputs are the ones this daemon's `Prover` boundary has, so the counterpart is
/// `sealer processor <stage>`, not damocles' own processors (which speak filecoin-ffi's types).
public struct ProcessorTask: Codable, Sendable, Hashable {
    public var stage: ProofStage
    public var registeredProof: Int?
    public var proverID: UInt64?
    public var sectorID: UInt64?
    public var cacheDir: String?
    public var sealedFile: String?
    public var stagedFile: String?
    public var ticket: [UInt8]?
    public var seed: [UInt8]?
    public var pieceInfos: [PieceInfo]?
    public var pc1Out: [UInt8]?
    public var c1Out: [UInt8]?
    public var commROld: [UInt8]?
    /// The sector key of a snap encoding (the old replica's sealed file and cache).
    public var oldSealedFile: String?
    public var oldCacheDir: String?
    public var commitments: Commitments?
    public var commD: [UInt8]?
    public var offset: UInt64?
    public var length: UInt64?
    public var output: String?
    /// Window PoSt: the registered PoSt proof id and the replicas to prove.
    public var postProof: Int?
    public var replicas: [ReplicaInfo]?
    public var randomness: [UInt8]?
    /// The resources the daemon leased for this run, so the child can pin the work to them.
    public var lease: Grant?

    enum CodingKeys: String, CodingKey {
        case stage, ticket, seed, commitments, randomness, lease, offset, length, output, replicas
        case registeredProof = "registered_proof", proverID = "prover_id", sectorID = "sector_id", cacheDir = "cache_dir"
        case sealedFile = "sealed_file", stagedFile = "staged_file", pieceInfos = "piece_infos", pc1Out = "pc1out"
        case c1Out = "c1out", commROld = "comm_r_old", oldSealedFile = "old_sealed_file", oldCacheDir = "old_cache_dir"
        case commD = "comm_d", postProof = "registered_post_proof"
    }

    init(stage: ProofStage, sector: SectorRef?, lease: Grant?) {
        self.stage = stage
        registeredProof = sector?.proof.id
        proverID = sector?.id.miner
        sectorID = sector?.id.number
        cacheDir = sector?.paths.cache
        sealedFile = sector?.paths.sealed
        stagedFile = sector?.paths.staged
        self.lease = lease
    }

    /// The sector the task names, or an error saying which field is missing.
    func sectorRef() throws(ProverError) -> SectorRef {
        guard let registeredProof, let proof = SealProof(id: registeredProof), let proverID, let sectorID else {
            throw ProverError(stage: stage, message: "task lacks registered_proof, prover_id or sector_id")
        }
        return SectorRef(id: SectorID(miner: proverID, number: sectorID), proof: proof,
                         paths: SectorPaths(staged: stagedFile ?? "", cache: cacheDir ?? "", sealed: sealedFile ?? ""))
    }

    private func need<T>(_ value: T?, _ name: String) throws(ProverError) -> T {
        guard let value else { throw ProverError(stage: stage, message: "task lacks \(name)") }
        return value
    }

    private func oldReplica() throws(ProverError) -> ReplicaPaths {
        ReplicaPaths(sealed: try need(oldSealedFile, "old_sealed_file"), cache: try need(oldCacheDir, "old_cache_dir"))
    }

    /// Runs the task on `prover` (in the child) and returns its output.
    public func run(on prover: any Prover) async throws(ProverError) -> ProcessorOutput {
        switch stage {
        case .addPieces:
            return ProcessorOutput(pieceInfos: try await prover.addPieces(try sectorRef(), pieces: try need(pieceInfos, "piece_infos")))
        case .treeD:
            return ProcessorOutput(bytes: try await prover.buildTreeD(try sectorRef(), pieces: try need(pieceInfos, "piece_infos")))
        case .pc1:
            return ProcessorOutput(bytes: try await prover.pc1(try sectorRef(), ticket: try need(ticket, "ticket"), pieces: try need(pieceInfos, "piece_infos")))
        case .pc2:
            return ProcessorOutput(commitments: try await prover.pc2(try sectorRef(), pc1Output: try need(pc1Out, "pc1out")))
        case .synthProof:
            try await prover.syntheticProofs(try sectorRef(), ticket: try need(ticket, "ticket"), commitments: try need(commitments, "commitments"),
                                             pieces: try need(pieceInfos, "piece_infos"))
            return ProcessorOutput()
        case .c1:
            return ProcessorOutput(bytes: try await prover.c1(try sectorRef(), ticket: try need(ticket, "ticket"), seed: try need(seed, "seed"),
                                                              commitments: try need(commitments, "commitments"), pieces: try need(pieceInfos, "piece_infos")))
        case .c2:
            return ProcessorOutput(bytes: try await prover.c2(try sectorRef(), c1Output: try need(c1Out, "c1out")))
        case .snapEncode:
            return ProcessorOutput(commitments: try await prover.snapEncode(try sectorRef(), old: try oldReplica(), pieces: try need(pieceInfos, "piece_infos")))
        case .snapProve:
            return ProcessorOutput(bytes: try await prover.snapProve(try sectorRef(), old: try oldReplica(), oldCommR: try need(commROld, "comm_r_old"),
                                                                     new: try need(commitments, "commitments")))
        case .unseal:
            return ProcessorOutput(count: try await prover.unseal(try sectorRef(), ticket: try need(ticket, "ticket"), commD: try need(commD, "comm_d"),
                                                                  offset: try need(offset, "offset"), length: try need(length, "length"),
                                                                  output: try need(output, "output")))
        case .windowPost:
            guard let id = try need(postProof, "registered_post_proof") as Int?, let proof = PoStProof(id: id) else {
                throw ProverError(stage: stage, message: "task has an unknown registered_post_proof")
            }
            return ProcessorOutput(windowPoSt: try await prover.windowPost(miner: try need(proverID, "prover_id"), proof: proof,
                                                                           replicas: try need(replicas, "replicas"), randomness: try need(randomness, "randomness")))
        case .transfer:
            throw ProverError(stage: stage, message: "transfer tasks are not run by this processor")
        }
    }
}

/// A processor's answer (the `output` of damocles' response line); which field is set depends
/// on the stage.
public struct ProcessorOutput: Codable, Sendable, Hashable {
    public var bytes: [UInt8]?
    public var pieceInfos: [PieceInfo]?
    public var commitments: Commitments?
    public var count: UInt64?
    public var windowPoSt: WindowPoStResult?

    enum CodingKeys: String, CodingKey {
        case bytes, commitments, count
        case pieceInfos = "piece_infos", windowPoSt = "window_post"
    }

    public init(bytes: [UInt8]? = nil, pieceInfos: [PieceInfo]? = nil, commitments: Commitments? = nil, count: UInt64? = nil,
                windowPoSt: WindowPoStResult? = nil) {
        self.bytes = bytes
        self.pieceInfos = pieceInfos
        self.commitments = commitments
        self.count = count
        self.windowPoSt = windowPoSt
    }
}

/// A `Prover` whose stages run in an external processor child; verification stays in-process
/// (as in damocles), through `local`.
public struct ExternalProver: Prover {
    let processor: ExternalProcessor
    let local: any Prover
    let lease: Grant?

    public init(processor: ExternalProcessor, local: any Prover, lease: Grant?) {
        self.processor = processor
        self.local = local
        self.lease = lease
    }

    private func send(_ task: ProcessorTask) async throws(ProverError) -> ProcessorOutput {
        let stage = task.stage
        let payload: JSONValue
        do { payload = try JSONValue(encoding: task) } catch {
            throw ProverError(stage: stage, message: "cannot encode the task: \(error)")
        }
        let reply: JSONValue
        do { reply = try await processor.process(payload) } catch {
            throw ProverError(stage: stage, message: "\(error)")
        }
        do { return try reply.decode(ProcessorOutput.self) } catch {
            throw ProverError(stage: stage, message: "processor answered something that is not a \(stage) output: \(error)")
        }
    }

    private func need<T>(_ value: T?, _ stage: ProofStage) throws(ProverError) -> T {
        guard let value else { throw ProverError(stage: stage, message: "processor output lacks the \(stage) result") }
        return value
    }

    private func task(_ stage: ProofStage, _ sector: SectorRef?) -> ProcessorTask { ProcessorTask(stage: stage, sector: sector, lease: lease) }

    public func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] {
        var t = task(.addPieces, sector)
        t.pieceInfos = pieces
        return try need(try await send(t).pieceInfos, .addPieces)
    }

    public func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        var t = task(.treeD, sector)
        t.pieceInfos = pieces
        return try need(try await send(t).bytes, .treeD)
    }

    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        var t = task(.pc1, sector)
        t.ticket = ticket
        t.pieceInfos = pieces
        return try need(try await send(t).bytes, .pc1)
    }

    public func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments {
        var t = task(.pc2, sector)
        t.pc1Out = pc1Output
        return try need(try await send(t).commitments, .pc2)
    }

    public func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {
        var t = task(.synthProof, sector)
        t.ticket = ticket
        t.commitments = commitments
        t.pieceInfos = pieces
        _ = try await send(t)
    }

    public func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        var t = task(.c1, sector)
        t.ticket = ticket
        t.seed = seed
        t.commitments = commitments
        t.pieceInfos = pieces
        return try need(try await send(t).bytes, .c1)
    }

    public func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] {
        var t = task(.c2, sector)
        t.c1Out = c1Output
        return try need(try await send(t).bytes, .c2)
    }

    public func snapEncode(_ sector: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        var t = task(.snapEncode, sector)
        t.oldSealedFile = old.sealed
        t.oldCacheDir = old.cache
        t.pieceInfos = pieces
        return try need(try await send(t).commitments, .snapEncode)
    }

    public func snapProve(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        var t = task(.snapProve, sector)
        t.oldSealedFile = old.sealed
        t.oldCacheDir = old.cache
        t.commROld = oldCommR
        t.commitments = new
        return try need(try await send(t).bytes, .snapProve)
    }

    public func unseal(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 {
        var t = task(.unseal, sector)
        t.ticket = ticket
        t.commD = commD
        t.offset = offset
        t.length = length
        t.output = output
        return try need(try await send(t).count, .unseal)
    }

    public func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
        var t = task(.windowPost, nil)
        t.proverID = miner
        t.postProof = proof.id
        t.replicas = replicas
        t.randomness = randomness
        return try need(try await send(t).windowPoSt, .windowPost)
    }

    public func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        local.verifySeal(sector, ticket: ticket, seed: seed, commitments: commitments, proof: proof)
    }
}
