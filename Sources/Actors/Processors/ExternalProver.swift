import ProofsFFI
import Scheduler

/// A `Prover` whose stages run in an external processor child, speaking damocles' own task
/// payloads (`DamoclesTasks.swift`), so a `[[processors.<stage>]]` child can be damocles-worker
/// itself (`processor <stage>`) or `sealer processor <stage>`.
///
/// Sent to the child, as damocles-worker sends them: `add_pieces` (CC sectors), `tree_d`,
/// `pc1`, `pc2`, `c2`, `snap_encode`, `unseal`, `window_post` (damocles-worker's own binary
/// has processor subcommands for all of them but `unseal`, whose `Unseal` task only a child
/// built on vc-processors reads).
///
/// Run in-process through `local`, because damocles has no processor task for them or the
/// `Prover` boundary lacks what the task needs: C1 and synthetic PoRep proofs (damocles runs
/// them in-process too), snap prove (damocles' `SnapProve` takes vanilla partition proofs,
/// which the boundary has no call for), adding deal pieces (damocles' `AddPieces` takes each
/// piece's source, a URL or file, which the boundary does not carry), and seal verification.
///
/// PC1 and C1 outputs are opaque bytes in this daemon's records: a child's PC1 output (a JSON
/// `SealPreCommitPhase1Output`) is kept as its JSON text, and spliced verbatim into the PC2 task
/// (likewise a C1 output into the C2 task). The mock prover's outputs, which are not JSON,
/// travel as `{"mock":[…],"registered_proof":…}` and are kept as the mock's bytes
/// (`DamoclesOpaque.embedding`, `DamoclesOpaque.stored`).
public struct ExternalProver: Prover {
    let processor: ExternalProcessor
    let local: any Prover
    /// The resources leased for the run. damocles' tasks have no field for it: a child is pinned
    /// when it is spawned (`VC_CG_CPUSET`, `VENUS_WORKER_NUMA_PREFERRED`, `CUDA_VISIBLE_DEVICES`).
    let lease: Grant?

    /// `local` runs the stages that are not sent (see the type's documentation).
    public init(processor: ExternalProcessor, local: any Prover, lease: Grant?) {
        self.processor = processor
        self.local = local
        self.lease = lease
    }

    /// A task's request body: `task` as JSON, with `opaque` (an already serialized JSON value)
    /// written verbatim under its key instead of re-encoded.
    static func encode(_ task: some Encodable, opaque: (key: String, json: [UInt8])? = nil) throws -> [UInt8] {
        let value = try JSONValue(encoding: task)
        guard let opaque, case .object(var fields) = value else { return value.serialized() }
        fields[opaque.key] = nil
        let rest = JSONValue.object(fields).serialized()
        var out: [UInt8] = [UInt8(ascii: "{")]
        JSONValue.writeString(opaque.key, to: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: opaque.json)
        if rest.count > 2 {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: rest.dropFirst())
        } else {
            out.append(UInt8(ascii: "}"))
        }
        return out
    }

    private func send<Output: Decodable>(_ stage: ProofStage, _ task: some Encodable, opaque: (key: String, json: [UInt8])? = nil,
                                         answer: Output.Type) async throws(ProverError) -> Output {
        let body: [UInt8]
        do { body = try Self.encode(task, opaque: opaque) } catch {
            throw ProverError(stage: stage, message: "cannot encode the \(stage) task: \(error)")
        }
        let reply: JSONValue
        do { reply = try await processor.process(encodedTask: body) } catch {
            throw ProverError(stage: stage, message: "\(error)")
        }
        do { return try reply.decode(Output.self) } catch {
            throw ProverError(stage: stage, message: "processor answered something that is not damocles' \(stage) output: \(error)")
        }
    }

    private static func require32(_ bytes: [UInt8], _ stage: ProofStage, _ field: String) throws(ProverError) -> [UInt8] {
        guard bytes.count == 32 else { throw ProverError(stage: stage, message: "output field \(field) has \(bytes.count) bytes, want 32") }
        return bytes
    }

    public func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] {
        // Deal pieces need their sources (damocles' `PieceFile`), which the boundary lacks.
        guard pieces.isEmpty else { return try await local.addPieces(sector, pieces: pieces) }
        let task = DamoclesAddPieces(seal_proof_type: DamoclesSealProof(sector.proof), pieces: [], staged_filepath: sector.paths.staged)
        let placed = try await send(.addPieces, task, answer: [DamoclesPieceInfo].self)
        for piece in placed { _ = try Self.require32(piece.commitment, .addPieces, "commitment") }
        return placed.map(\.piece)
    }

    /// damocles' `tree_d` answers `true`; the root is the pieces' data commitment.
    public func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let task = DamoclesTreeD(registered_proof: DamoclesSealProof(sector.proof), staged_file: sector.paths.staged, cache_dir: sector.paths.cache)
        guard try await send(.treeD, task, answer: Bool.self) else {
            throw ProverError(stage: .treeD, message: "processor answered false")
        }
        do { return try DataCommitment.compute(sectorSize: sector.proof.sectorSize, pieces: pieces) } catch {
            throw ProverError(stage: .treeD, message: "\(error)")
        }
    }

    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let task = DamoclesPC1(registered_proof: DamoclesSealProof(sector.proof), cache_path: sector.paths.cache, in_path: sector.paths.staged,
                               out_path: sector.paths.sealed, prover_id: sector.proverID.bytes, sector_id: sector.id.number, ticket: ticket,
                               piece_infos: pieces.map(DamoclesPieceInfo.init))
        return try await send(.pc1, task, answer: DamoclesOpaque.self).stored
    }

    public func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments {
        let pc1out = DamoclesOpaque.embedding(pc1Output, proof: sector.proof)
        let task = DamoclesPC2(pc1out: pc1out, cache_dir: sector.paths.cache, sealed_file: sector.paths.sealed)
        let out = try await send(.pc2, task, opaque: ("pc1out", pc1out.bytes), answer: DamoclesPC2Output.self)
        return Commitments(commR: try Self.require32(out.comm_r, .pc2, "comm_r"), commD: try Self.require32(out.comm_d, .pc2, "comm_d"))
    }

    public func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {
        try await local.syntheticProofs(sector, ticket: ticket, commitments: commitments, pieces: pieces)
    }

    public func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        try await local.c1(sector, ticket: ticket, seed: seed, commitments: commitments, pieces: pieces)
    }

    public func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] {
        let c1out = DamoclesOpaque.embedding(c1Output, proof: sector.proof)
        let task = DamoclesC2(c1out: c1out, prover_id: sector.proverID.bytes, sector_id: sector.id.number, miner_id: sector.id.miner)
        return try await send(.c2, task, opaque: ("c1out", c1out.bytes), answer: DamoclesC2Output.self).proof
    }

    public func snapEncode(_ sector: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        let task = DamoclesSnapEncode(registered_proof: DamoclesUpdateProof(sector.proof.updateProof), new_replica_path: sector.paths.sealed,
                                      new_cache_path: sector.paths.cache, sector_path: old.sealed, sector_cache_path: old.cache,
                                      staged_data_path: sector.paths.staged, piece_infos: pieces.map(DamoclesPieceInfo.init))
        let out = try await send(.snapEncode, task, answer: DamoclesSnapEncodeOutput.self)
        return Commitments(commR: try Self.require32(out.comm_r_new, .snapEncode, "comm_r_new"),
                           commD: try Self.require32(out.comm_d_new, .snapEncode, "comm_d_new"))
    }

    /// As damocles does: the vanilla proofs here (CPU), the SNARK in the child (its GPU); a
    /// local prover without the split proves here in one call.
    public func snapProve(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        guard let vanilla = try await local.snapVanillaProofs(sector, old: old, oldCommR: oldCommR, new: new) else {
            return try await local.snapProve(sector, old: old, oldCommR: oldCommR, new: new)
        }
        return try await snapProve(sector, vanillaProofs: vanilla, oldCommR: oldCommR, new: new)
    }

    public func snapVanillaProofs(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [[UInt8]]? {
        try await local.snapVanillaProofs(sector, old: old, oldCommR: oldCommR, new: new)
    }

    public func snapProve(_ sector: SectorRef, vanillaProofs: [[UInt8]], oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        let task = DamoclesSnapProve(registered_proof: DamoclesUpdateProof(sector.proof.updateProof), vannilla_proofs: vanillaProofs,
                                     comm_r_old: oldCommR, comm_r_new: new.commR, comm_d_new: new.commD)
        return try await send(.snapProve, task, answer: [UInt8].self)
    }

    public func unseal(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 {
        let task = DamoclesUnseal(registered_proof: DamoclesSealProof(sector.proof), prover_id: sector.proverID.bytes, sector_id: sector.id.number,
                                  comm_d: commD, ticket: ticket, cache_dir: sector.paths.cache, sealed_file: sector.paths.sealed,
                                  unsealed_output: output, offset: offset, num_bytes: length)
        return try await send(.unseal, task, answer: UInt64.self)
    }

    public func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
        let task = DamoclesWindowPoSt(miner_id: miner, proof_type: DamoclesPoStProof(proof), replicas: replicas.map(DamoclesPoStReplicaInfo.init),
                                      seed: randomness)
        let out = try await send(.windowPost, task, answer: DamoclesWindowPoStOutput.self)
        return WindowPoStResult(proofs: out.proofs.map(\.bytes), faultySectors: out.faults)
    }

    public func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        local.verifySeal(sector, ticket: ticket, seed: seed, commitments: commitments, proof: proof)
    }

    // SupraSeal batches (damocles' supra tasks). A sector's "PC1 output" is its replica id and
    // CommD (64 bytes): the layers stay on the batch's NVMe slot; PC2 and C1 need only these.

    public func supraPC1(_ batch: SupraBatch, tickets: [[UInt8]], pieces: [[PieceInfo]]) async throws(ProverError) -> [[UInt8]] {
        guard tickets.count == batch.sectors.count, pieces.count == batch.sectors.count else {
            throw ProverError(stage: .supraPC1, message: "\(batch.sectors.count) sectors but \(tickets.count) tickets and \(pieces.count) piece lists")
        }
        var outputs: [[UInt8]] = []
        for (i, sector) in batch.sectors.enumerated() {
            let commD: [UInt8]
            do { commD = try DataCommitment.compute(sectorSize: sector.proof.sectorSize, pieces: pieces[i]) } catch {
                throw ProverError(stage: .supraPC1, message: "\(sector.id): \(error)")
            }
            outputs.append(ReplicaID.compute(sector, ticket: tickets[i], commD: commD) + commD)
        }
        guard let task = SupraTasks.pc1(batch, replicaIDs: outputs.map { Array($0.prefix(32)) }) else {
            throw ProverError(stage: .supraPC1, message: "an empty batch")
        }
        guard try await send(.supraPC1, task, answer: Bool.self) else { throw ProverError(stage: .supraPC1, message: "the processor answered false") }
        return outputs
    }

    public func supraPC2(_ batch: SupraBatch, pc1Outputs: [[UInt8]]) async throws(ProverError) -> [Commitments] {
        guard pc1Outputs.count == batch.sectors.count, pc1Outputs.allSatisfy({ $0.count == 64 }) else {
            throw ProverError(stage: .supraPC2, message: "want one 64-byte PC1 output (replica id, CommD) per sector")
        }
        // Beside the first sector's cache directory (`<data>/cache`).
        let cache = batch.sectors.first?.paths.cache ?? ""
        let directory = cache.lastIndex(of: "/").map { String(cache[..<$0]) } ?? cache
        guard let task = SupraTasks.pc2(batch, outputDirectory: directory) else { throw ProverError(stage: .supraPC2, message: "an empty batch") }
        let commRs = try await send(.supraPC2, task, answer: [[UInt8]].self)
        guard commRs.count == batch.sectors.count else {
            throw ProverError(stage: .supraPC2, message: "\(commRs.count) commitments for \(batch.sectors.count) sectors")
        }
        var out: [Commitments] = []
        for (commR, pc1) in zip(commRs, pc1Outputs) {
            out.append(Commitments(commR: try Self.require32(commR, .supraPC2, "comm_r"), commD: Array(pc1.suffix(32))))
        }
        return out
    }

    public func supraC1(_ batch: SupraBatch, slot: Int, ticket: [UInt8], seed: [UInt8], commitments: Commitments,
                        pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        guard batch.sectors.indices.contains(slot) else { throw ProverError(stage: .supraC1, message: "slot \(slot) is outside the batch") }
        let replica = ReplicaID.compute(batch.sectors[slot], ticket: ticket, commD: commitments.commD)
        guard let task = SupraTasks.c1(batch, slot: slot, replicaID: replica, ticket: ticket, seed: seed) else {
            throw ProverError(stage: .supraC1, message: "an empty batch")
        }
        return try await send(.supraC1, task, answer: DamoclesOpaque.self).stored
    }
}

/// The child side of the processor protocol: decodes one damocles task for `stage`, runs it on
/// a `Prover`, and answers damocles' output for it (what `sealer processor <stage>` does).
///
/// Made for the mock prover: a PC1 output is answered as `{"mock":[…],"registered_proof":…}`
/// and read back in PC2 (and a C1 output in C2) from that shape. damocles' tasks carry no
/// sector id for `add_pieces`, `tree_d`, `pc2` and `snap_encode`; the prover gets one from the
/// task's paths where damocles' layout names the sector (`…/s-t0<miner>-<number>`), else 0.
public enum DamoclesProcessorRunner {
    /// The output for `task`, or the error to answer in `err_msg`.
    public static func run(stage: ProofStage, task: JSONValue, on prover: any Prover) async throws(ProverError) -> JSONValue {
        func decode<T: Decodable>(_ type: T.Type) throws(ProverError) -> T {
            do { return try task.decode(T.self) } catch {
                throw ProverError(stage: stage, message: "not a damocles \(stage) task: \(error)")
            }
        }
        func answer(_ value: some Encodable) throws(ProverError) -> JSONValue {
            do { return try JSONValue(encoding: value) } catch {
                throw ProverError(stage: stage, message: "cannot encode the output: \(error)")
            }
        }
        switch stage {
        case .addPieces:
            let t = try decode(DamoclesAddPieces.self)
            var pieces: [PieceInfo] = []
            for (index, piece) in t.pieces.enumerated() {
                guard case .pledge = piece.piece_file else {
                    throw ProverError(stage: stage, message: "pieces[\(index)]: this processor cannot fetch piece data, only pledge pieces")
                }
                let padded = piece.piece_size + piece.piece_size / 127
                pieces.append(PieceInfo(commP: ZeroCommitment.of(padded: padded), size: piece.piece_size))
            }
            let ref = sector(t.seal_proof_type.proof, id: nil, staged: t.staged_filepath, cache: "", sealed: "")
            return try answer(try await prover.addPieces(ref, pieces: pieces).map(DamoclesPieceInfo.init))
        case .treeD:
            let t = try decode(DamoclesTreeD.self)
            _ = try await prover.buildTreeD(sector(t.registered_proof.proof, id: nil, staged: t.staged_file, cache: t.cache_dir, sealed: ""), pieces: [])
            return .bool(true)
        case .pc1:
            let t = try decode(DamoclesPC1.self)
            let id = SectorID(miner: try miner(t.prover_id, stage), number: t.sector_id)
            let ref = sector(t.registered_proof.proof, id: id, staged: t.in_path, cache: t.cache_path, sealed: t.out_path)
            let out = try await prover.pc1(ref, ticket: t.ticket, pieces: t.piece_infos.map(\.piece))
            return .object(["mock": .array(out.map { .int(Int64($0)) }), "registered_proof": .string(t.registered_proof.name)])
        case .pc2:
            let t = try decode(DamoclesPC2.self)
            let (bytes, proof) = try mock(t.pc1out, "pc1out", stage)
            let commitments = try await prover.pc2(sector(proof, id: nil, staged: "", cache: t.cache_dir, sealed: t.sealed_file), pc1Output: bytes)
            return try answer(DamoclesPC2Output(registered_proof: DamoclesSealProof(proof), comm_r: commitments.commR, comm_d: commitments.commD))
        case .c2:
            let t = try decode(DamoclesC2.self)
            let (bytes, proof) = try mock(t.c1out, "c1out", stage)
            let ref = sector(proof, id: SectorID(miner: t.miner_id, number: t.sector_id), staged: "", cache: "", sealed: "")
            return try answer(DamoclesC2Output(proof: try await prover.c2(ref, c1Output: bytes)))
        case .snapEncode:
            let t = try decode(DamoclesSnapEncode.self)
            let ref = sector(SealProof(sectorSize: t.registered_proof.proof.sectorSize), id: nil, staged: t.staged_data_path,
                             cache: t.new_cache_path, sealed: t.new_replica_path)
            let new = try await prover.snapEncode(ref, old: ReplicaPaths(sealed: t.sector_path, cache: t.sector_cache_path),
                                                  pieces: t.piece_infos.map(\.piece))
            // The boundary's commitments have no tree-r-last root; CommR stands in for it.
            return try answer(DamoclesSnapEncodeOutput(comm_r_new: new.commR, comm_r_last_new: new.commR, comm_d_new: new.commD))
        case .unseal:
            let t = try decode(DamoclesUnseal.self)
            let id = SectorID(miner: try miner(t.prover_id, stage), number: t.sector_id)
            let ref = sector(t.registered_proof.proof, id: id, staged: "", cache: t.cache_dir, sealed: t.sealed_file)
            return try answer(try await prover.unseal(ref, ticket: t.ticket, commD: t.comm_d, offset: t.offset, length: t.num_bytes,
                                                      output: t.unsealed_output))
        case .windowPost:
            let t = try decode(DamoclesWindowPoSt.self)
            let result = try await prover.windowPost(miner: t.miner_id, proof: t.proof_type.proof, replicas: t.replicas.map(\.replica), randomness: t.seed)
            return try answer(DamoclesWindowPoStOutput(proofs: result.proofs.map(DamoclesBase64Bytes.init), faults: result.faultySectors))
        case .snapProve:
            let t = try decode(DamoclesSnapProve.self)
            // The task names no sector: the proof type gives the size, the vanilla proofs the rest.
            let ref = sector(SealProof(sectorSize: t.registered_proof.proof.sectorSize), id: nil, staged: "", cache: "", sealed: "")
            return try answer(try await prover.snapProve(ref, vanillaProofs: t.vannilla_proofs, oldCommR: t.comm_r_old,
                                                         new: Commitments(commR: t.comm_r_new, commD: t.comm_d_new)))
        case .transfer:
            _ = try decode(DamoclesTransfer.self)
            throw ProverError(stage: stage, message: "transfer tasks are not run by this processor")
        case .supraPC1, .supraPC2, .supraC1:
            let shape = DamoclesShape.task(stage: stage.rawValue) ?? .any
            if let problem = shape.mismatch(task, at: "task") { throw ProverError(stage: stage, message: "not a damocles \(stage) task: \(problem)") }
            throw ProverError(stage: stage, message: "\(stage) tasks need a SupraSeal processor; sealer processor does not run them")
        case .inference:
            throw ProverError(stage: stage, message: "Crynux inference runs in the crynux executor, not in a proof processor")
        case .c1, .synthProof:
            throw ProverError(stage: stage, message: "damocles has no \(stage) processor task; \(stage) runs in the daemon")
        }
    }

    private static func sector(_ proof: SealProof, id: SectorID?, staged: String, cache: String, sealed: String) -> SectorRef {
        let named = id ?? [sealed, cache, staged].lazy.compactMap(sectorID(inPath:)).first ?? SectorID(miner: 0, number: 0)
        return SectorRef(id: named, proof: proof, paths: SectorPaths(staged: staged, cache: cache, sealed: sealed))
    }

    /// The sector a damocles path names in its last component, `s-t0<miner>-<number>`.
    static func sectorID(inPath path: String) -> SectorID? {
        guard let last = path.split(separator: "/").last, last.hasPrefix("s-t0") else { return nil }
        let parts = last.dropFirst(4).split(separator: "-")
        guard parts.count == 2, let miner = UInt64(parts[0]), let number = UInt64(parts[1]) else { return nil }
        return SectorID(miner: miner, number: number)
    }

    /// The miner actor id a prover id encodes (the inverse of `ProverID(miner:)`).
    static func miner(_ proverID: [UInt8], _ stage: ProofStage) throws(ProverError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for byte in proverID.prefix(10) {
            value |= UInt64(byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        guard proverID.count == 32, ProverID(miner: value).bytes == proverID else {
            throw ProverError(stage: stage, message: "prover_id is not an ID address payload padded to 32 bytes")
        }
        return value
    }

    private static func mock(_ value: DamoclesOpaque, _ field: String, _ stage: ProofStage) throws(ProverError) -> ([UInt8], SealProof) {
        guard let bytes = value.mockBytes, let proof = value.registeredProof else {
            throw ProverError(stage: stage, message: "\(field) is not an output of this processor's prover ({\"mock\":[…],\"registered_proof\":…})")
        }
        return (bytes, proof)
    }
}
