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
    public var commitments: Commitments?
    public var sectors: [SectorID]?
    public var randomness: [UInt8]?
    /// The resources the daemon leased for this run, so the child can pin the work to them.
    public var lease: Grant?

    enum CodingKeys: String, CodingKey {
        case stage, ticket, seed, commitments, sectors, randomness, lease
        case registeredProof = "registered_proof", proverID = "prover_id", sectorID = "sector_id", cacheDir = "cache_dir"
        case sealedFile = "sealed_file", stagedFile = "staged_file", pieceInfos = "piece_infos", pc1Out = "pc1out"
        case c1Out = "c1out", commROld = "comm_r_old"
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
            try await prover.syntheticProofs(try sectorRef(), ticket: try need(ticket, "ticket"), commitments: try need(commitments, "commitments"))
            return ProcessorOutput()
        case .c1:
            return ProcessorOutput(bytes: try await prover.c1(try sectorRef(), ticket: try need(ticket, "ticket"), seed: try need(seed, "seed"),
                                                              commitments: try need(commitments, "commitments")))
        case .c2:
            return ProcessorOutput(bytes: try await prover.c2(try sectorRef(), c1Output: try need(c1Out, "c1out")))
        case .snapEncode:
            return ProcessorOutput(commitments: try await prover.snapEncode(try sectorRef(), oldCommR: try need(commROld, "comm_r_old"),
                                                                            pieces: try need(pieceInfos, "piece_infos")))
        case .snapProve:
            return ProcessorOutput(bytes: try await prover.snapProve(try sectorRef(), oldCommR: try need(commROld, "comm_r_old"),
                                                                     new: try need(commitments, "commitments")))
        case .unseal:
            let pieces = try need(pieceInfos, "piece_infos")
            guard let piece = pieces.first else { throw ProverError(stage: stage, message: "task has no piece to unseal") }
            return ProcessorOutput(count: try await prover.unseal(try sectorRef(), piece: piece))
        case .windowPost:
            return ProcessorOutput(bytes: try await prover.windowPost(miner: try need(proverID, "prover_id"), sectors: try need(sectors, "sectors"),
                                                                      randomness: try need(randomness, "randomness")))
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

    enum CodingKeys: String, CodingKey {
        case bytes, commitments, count
        case pieceInfos = "piece_infos"
    }

    public init(bytes: [UInt8]? = nil, pieceInfos: [PieceInfo]? = nil, commitments: Commitments? = nil, count: UInt64? = nil) {
        self.bytes = bytes
        self.pieceInfos = pieceInfos
        self.commitments = commitments
        self.count = count
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

    public func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments) async throws(ProverError) {
        var t = task(.synthProof, sector)
        t.ticket = ticket
        t.commitments = commitments
        _ = try await send(t)
    }

    public func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments) async throws(ProverError) -> [UInt8] {
        var t = task(.c1, sector)
        t.ticket = ticket
        t.seed = seed
        t.commitments = commitments
        return try need(try await send(t).bytes, .c1)
    }

    public func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] {
        var t = task(.c2, sector)
        t.c1Out = c1Output
        return try need(try await send(t).bytes, .c2)
    }

    public func snapEncode(_ sector: SectorRef, oldCommR: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        var t = task(.snapEncode, sector)
        t.commROld = oldCommR
        t.pieceInfos = pieces
        return try need(try await send(t).commitments, .snapEncode)
    }

    public func snapProve(_ sector: SectorRef, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        var t = task(.snapProve, sector)
        t.commROld = oldCommR
        t.commitments = new
        return try need(try await send(t).bytes, .snapProve)
    }

    public func unseal(_ sector: SectorRef, piece: PieceInfo) async throws(ProverError) -> UInt64 {
        var t = task(.unseal, sector)
        t.pieceInfos = [piece]
        return try need(try await send(t).count, .unseal)
    }

    public func windowPost(miner: UInt64, sectors: [SectorID], randomness: [UInt8]) async throws(ProverError) -> [UInt8] {
        var t = task(.windowPost, nil)
        t.proverID = miner
        t.sectors = sectors
        t.randomness = randomness
        return try need(try await send(t).bytes, .windowPost)
    }

    public func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        local.verifySeal(sector, ticket: ticket, seed: seed, commitments: commitments, proof: proof)
    }
}
