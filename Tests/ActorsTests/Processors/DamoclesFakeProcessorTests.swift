@testable import Actors
import Foundation
import ProofsFFI
import Testing

/// The daemon's `ExternalProver` against `fake-processor --mode damocles`, which checks every
/// task field by field against damocles' schema (damocles 4235a895, filecoin-proofs-api 18.1.0)
/// and answers damocles-shaped outputs: what we send is accepted, a broken payload is refused
/// naming the field. (No real damocles-worker binary can be built here.)
@Suite struct DamoclesFakeProcessorTests {
    static let sector = SectorRef(id: SectorID(miner: 1000, number: 42), proof: SealProof(sectorSize: .kib2),
                                  paths: SectorPaths(dataDirectory: "/tmp/data", sector: SectorID(miner: 1000, number: 42)))

    /// The in-process prover for the stages not sent; its C1 output is damocles-shaped JSON (as
    /// filecoin-ffi's is), so the C2 task carries a real `SealCommitPhase1Output` shape.
    struct JSONC1Prover: Prover {
        let mock = MockProver()
        static let c1Output = #"{"registered_proof":"StackedDrg2KiBV1_1","vanilla_proofs":{"StackedDrg2KiBV1":[[]]},"#
            + #""comm_r":[\#(Array(repeating: "1", count: 32).joined(separator: ","))],"comm_d":[\#(Array(repeating: "2", count: 32).joined(separator: ","))],"#
            + #""replica_id":"0x00","seed":[\#(Array(repeating: "5", count: 32).joined(separator: ","))],"ticket":[\#(Array(repeating: "3", count: 32).joined(separator: ","))]}"#

        func addPieces(_ s: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] { try await mock.addPieces(s, pieces: pieces) }
        func buildTreeD(_ s: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] { try await mock.buildTreeD(s, pieces: pieces) }
        func pc1(_ s: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] { try await mock.pc1(s, ticket: ticket, pieces: pieces) }
        func pc2(_ s: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments { try await mock.pc2(s, pc1Output: pc1Output) }
        func syntheticProofs(_ s: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {}
        func c1(_ s: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
            Array(Self.c1Output.utf8)
        }
        func c2(_ s: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] { try await mock.c2(s, c1Output: c1Output) }
        func snapEncode(_ s: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
            try await mock.snapEncode(s, old: old, pieces: pieces)
        }
        func snapProve(_ s: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] { [0x77] }
        func unseal(_ s: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 { 0 }
        func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
            WindowPoStResult(proofs: [])
        }
        func verifySeal(_ s: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool { true }
    }

    func damocles(_ stage: ProofStage) async throws -> ExternalProcessor {
        let processor = ExternalProcessor(stage: stage.rawValue, index: 0, config: ProcessorLaunch(
            bin: FakeProcessor.path, args: [stage.rawValue, "--mode", "damocles"])) { _ in }
        try await processor.start()
        return processor
    }

    @Test("the validating fake accepts every task the daemon sends, and the daemon reads every output it answers")
    func everyStageAccepted() async throws {
        var children: [ExternalProcessor] = []
        func remote(_ stage: ProofStage) async throws -> ExternalProver {
            let c = try await damocles(stage)
            children.append(c)
            return ExternalProver(processor: c, local: JSONC1Prover(), lease: nil)
        }
        let sector = Self.sector
        let ticket = Array(repeating: UInt8(3), count: 32), seed = Array(repeating: UInt8(5), count: 32)

        let pieces = try await remote(.addPieces).addPieces(sector, pieces: [])
        #expect(pieces == [PieceInfo(commP: Array(repeating: 0x21, count: 32), size: 2032)])
        #expect(try await remote(.treeD).buildTreeD(sector, pieces: [ZeroCommitment.pledge(.kib2)]) == ZeroCommitment.of(padded: 2048))
        let pc1 = try await remote(.pc1).pc1(sector, ticket: ticket, pieces: pieces)
        let pc1Value = try JSONValue.parse(pc1)
        #expect(pc1Value["registered_proof"] == "StackedDrg2KiBV1_1")
        #expect(pc1Value["config"]?["path"]?.stringValue == sector.paths.cache)
        // The PC1 output goes back into PC2 as the fake wrote it, and PC2 reads its comm_d.
        let commitments = try await remote(.pc2).pc2(sector, pc1Output: pc1)
        #expect(commitments == Commitments(commR: Array(repeating: 0x32, count: 32), commD: Array(repeating: 0x31, count: 32)))
        // C1 runs in-process; its output goes to the C2 processor.
        let c1 = try await remote(.c2).c1(sector, ticket: ticket, seed: seed, commitments: commitments, pieces: pieces)
        #expect(c1 == Array(JSONC1Prover.c1Output.utf8))
        #expect(try await remote(.c2).c2(sector, c1Output: c1) == Array(repeating: 0x42, count: 192))
        let old = ReplicaPaths(sealed: "/store/sealed/\(sector.id)", cache: "/store/cache/\(sector.id)")
        let snap = try await remote(.snapEncode).snapEncode(sector, old: old, pieces: pieces)
        #expect(snap == Commitments(commR: Array(repeating: 0x51, count: 32), commD: Array(repeating: 0x53, count: 32)))
        // Snap prove runs in-process (the boundary has no vanilla proofs to send).
        #expect(try await remote(.snapProve).snapProve(sector, old: old, oldCommR: commitments.commR, new: snap) == [0x77])
        #expect(try await remote(.unseal).unseal(sector, ticket: ticket, commD: commitments.commD, offset: 0, length: 2032, output: "/tmp/o") == 2032)
        let replica = ReplicaInfo(sector: 42, commR: commitments.commR, cacheDir: sector.paths.cache, sealedFile: sector.paths.sealed)
        let post = try await remote(.windowPost).windowPost(miner: 1000, proof: sector.proof.windowPoStProof, replicas: [replica], randomness: seed)
        #expect(post == WindowPoStResult(proofs: [[0x61, 0x61, 0x61]], faultySectors: []))
        for c in children { await c.shutdown() }
    }

    /// The err_msg the fake answers for `task`.
    func refusal(_ stage: ProofStage, _ task: JSONValue) async throws -> String {
        let c = try await damocles(stage)
        let result: Result<JSONValue, ProcessorError>
        do { result = .success(try await c.process(task)) } catch { result = .failure(error) }
        await c.shutdown()
        switch result {
        case .failure(.taskFailed(_, let message)): return message
        case .failure(let error): throw error
        case .success(let output):
            Issue.record("accepted: \(output)")
            return ""
        }
    }

    /// What the daemon sends for a PC1 task, as a JSON value to break.
    func pc1Task() throws -> JSONValue {
        let s = Self.sector
        return try JSONValue(encoding: DamoclesPC1(registered_proof: DamoclesSealProof(s.proof), cache_path: s.paths.cache, in_path: s.paths.staged,
                                                   out_path: s.paths.sealed, prover_id: s.proverID.bytes, sector_id: 42,
                                                   ticket: Array(repeating: 3, count: 32), piece_infos: [DamoclesPieceInfo(ZeroCommitment.pledge(.kib2))]))
    }

    @Test("a broken task is refused naming the field: missing, unexpected, mistyped, wrong enum spelling, short array")
    func brokenPayloadsNamed() async throws {
        guard case .object(let good) = try pc1Task() else { Issue.record("not an object"); return }
        var missing = good
        missing["ticket"] = nil
        #expect(try await refusal(.pc1, .object(missing)).contains("field task.ticket: missing"))
        var extra = good
        extra["lease"] = ["node": 0]
        #expect(try await refusal(.pc1, .object(extra)).contains("field task.lease: unexpected"))
        var mistyped = good
        mistyped["sector_id"] = "42"
        #expect(try await refusal(.pc1, .object(mistyped)).contains("field task.sector_id: expected an unsigned 64-bit number"))
        var number = good
        number["registered_proof"] = 5
        #expect(try await refusal(.pc1, .object(number)).contains("field task.registered_proof: expected a RegisteredSealProof name"))
        var short = good
        short["prover_id"] = [232, 7]
        #expect(try await refusal(.pc1, .object(short)).contains("field task.prover_id: expected 32 bytes, got 2"))
        var nested = good
        nested["piece_infos"] = [["commitment": .array(Array(repeating: 1, count: 32)), "size": 2032, "cid": "baga"]]
        #expect(try await refusal(.pc1, .object(nested)).contains("field task.piece_infos[0].cid: unexpected"))
        // This daemon's earlier payload shape is not damocles'.
        var old: JSONValue = ["stage": "pc1", "registered_proof": 5, "prover_id": 1000, "sector_id": 42]
        #expect(try await refusal(.pc1, old).contains("field task.registered_proof: expected a RegisteredSealProof name, got 5"))
        old = ["stage": "pc1", "registered_proof": "StackedDrg2KiBV1_1", "prover_id": 1000, "sector_id": 42]
        #expect(try await refusal(.pc1, old).contains("field task.cache_path: missing"))
    }

    @Test("a mock prover's PC1 output is not damocles' SealPreCommitPhase1Output, and the fake says which field is missing")
    func mockPC1RefusedByDamocles() async throws {
        let c = try await damocles(.pc2)
        let prover = ExternalProver(processor: c, local: MockProver(), lease: nil)
        let pc1 = try await MockProver().pc1(Self.sector, ticket: Array(repeating: 3, count: 32), pieces: [ZeroCommitment.pledge(.kib2)])
        do {
            _ = try await prover.pc2(Self.sector, pc1Output: pc1)
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("field task.pc1out.labels: missing"), "\(error)")
        }
        await c.shutdown()
    }

    @Test("a pre-serialized task goes into the request line verbatim, its raw newlines (JSON whitespace) made spaces")
    func encodedTaskLine() async throws {
        let c = ExternalProcessor(stage: "pc2", index: 0, config: ProcessorLaunch(bin: FakeProcessor.path, args: ["pc2"])) { _ in }
        try await c.start()
        let output = try await c.process(encodedTask: Array("{\"pc1out\":{\n\"b\":[1, 2],\r\n\"a\":\"x\"},\"cache_dir\":\"/c\"}".utf8))
        #expect(output["echo"] == ["pc1out": ["a": "x", "b": [1, 2]], "cache_dir": "/c"])
        await c.shutdown()
    }

    @Test("the schema reads what the Codable payloads write, for every stage damocles has a processor for")
    func schemaMatchesTypes() throws {
        let s = Self.sector
        let b = Array(repeating: UInt8(1), count: 32)
        let samples: [(String, any Encodable)] = [
            ("add_pieces", DamoclesAddPieces(seal_proof_type: DamoclesSealProof(s.proof), pieces: [
                DamoclesPiece(piece_file: .pledge, payload_size: 0, piece_size: 2032), DamoclesPiece(piece_file: .url("u"), payload_size: 1, piece_size: 127),
                DamoclesPiece(piece_file: .local("/l"), payload_size: 1, piece_size: 127)], staged_filepath: "/s")),
            ("tree_d", DamoclesTreeD(registered_proof: DamoclesSealProof(s.proof), staged_file: "/s", cache_dir: "/c")),
            ("pc1", try pc1Task()),
            ("pc2", DamoclesPC2(pc1out: DamoclesOpaque(json: Array(#"{"registered_proof":"StackedDrg2KiBV1_1","labels":{},"config":{},"comm_d":\#(b)}"#.utf8)),
                                cache_dir: "/c", sealed_file: "/s")),
            ("c2", DamoclesC2(c1out: DamoclesOpaque(json: Array(JSONC1Prover.c1Output.utf8)), prover_id: s.proverID.bytes, sector_id: 42, miner_id: 1000)),
            ("snap_encode", DamoclesSnapEncode(registered_proof: DamoclesUpdateProof(s.proof.updateProof), new_replica_path: "/u", new_cache_path: "/uc",
                                               sector_path: "/s", sector_cache_path: "/c", staged_data_path: "/d", piece_infos: [])),
            ("snap_prove", DamoclesSnapProve(registered_proof: DamoclesUpdateProof(s.proof.updateProof), vannilla_proofs: [[1, 2]], comm_r_old: b,
                                             comm_r_new: b, comm_d_new: b)),
            ("transfer", DamoclesTransfer(stores: ["p": DamoclesTransferStoreInfo(name: "p", meta: ["k": "v"])], routes: [
                DamoclesTransferRoute(src: DamoclesTransferItem(store_name: nil, uri: "/a"), dest: DamoclesTransferItem(store_name: "p", uri: "b"), opt: nil)])),
            ("window_post", DamoclesWindowPoSt(miner_id: 1000, proof_type: DamoclesPoStProof(s.proof.windowPoStProof),
                                               replicas: [DamoclesPoStReplicaInfo(sector_id: 42, comm_r: b, cache_dir: "/c", sealed_file: "/s")], seed: b)),
            ("unseal", DamoclesUnseal(registered_proof: DamoclesSealProof(s.proof), prover_id: s.proverID.bytes, sector_id: 42, comm_d: b, ticket: b,
                                      cache_dir: "/c", sealed_file: "/s", unsealed_output: "/o", offset: 0, num_bytes: 2032)),
        ]
        for (stage, task) in samples {
            let shape = try #require(DamoclesShape.task(stage: stage))
            let error = shape.mismatch(try JSONValue(encoding: task), at: "task")
            #expect(error == nil, "\(stage): \(String(describing: error))")
        }
        #expect(DamoclesShape.task(stage: "c1") == nil && DamoclesShape.task(stage: "synth_proof") == nil)
        #expect(DamoclesShape.u64.mismatch(1.5, at: "x") != nil && DamoclesShape.u64.mismatch(-1, at: "x") != nil)
        #expect(DamoclesShape.bytes32.mismatch(.array(Array(repeating: 256, count: 32)), at: "x")?.field == "x[0]")
    }
}
