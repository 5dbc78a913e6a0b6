@testable import Actors
import Foundation
import ProofsFFI
import Testing

/// Golden payloads for damocles' SupraSeal batch tasks, pinned against damocles
/// 45cfe9fb6d62069f1aa8ec578a48945c63ee8642 (branch feat/0x5459/batch-sealing,
/// `damocles-worker/vc-processors/src/builtin/tasks.rs`): `SupraPC1`, `SupraPC2`, `SupraC1`.
/// JSON here is canonical: keys sorted, no spaces.
@Suite struct DamoclesSupraPayloadTests {
    static func b32(_ n: UInt8) -> String { "[" + Array(repeating: "\(n)", count: 32).joined(separator: ",") + "]" }
    static func bytes(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 32) }

    static func batch(_ count: Int) -> SupraBatch {
        SupraBatch(sectors: (0..<count).map { n in
            let id = SectorID(miner: 1000, number: UInt64(40 + n))
            return SectorRef(id: id, proof: SealProof(sectorSize: .gib32), paths: SectorPaths(dataDirectory: "/d\(n)", sector: id))
        }, blockOffset: 4096)
    }

    func pin<T: Codable & Equatable>(_ value: T, _ golden: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try JSONValue(encoding: value).serializedString == golden, sourceLocation: sourceLocation)
        #expect(try JSONValue.parse(golden).decode(T.self) == value, sourceLocation: sourceLocation)
        #expect(DamoclesShape.task(stage: Self.stage(of: T.self))?.mismatch(try JSONValue.parse(golden), at: "task") == nil, sourceLocation: sourceLocation)
    }

    static func stage(of type: Any.Type) -> String {
        switch type {
        case is DamoclesSupraPC1.Type: "supra_pc1"
        case is DamoclesSupraPC2.Type: "supra_pc2"
        default: "supra_c1"
        }
    }

    @Test("SupraPC1: registered_proof, block_offset, num_sectors, replica_ids (32 bytes each, slot order); output true")
    func supraPC1() throws {
        let task = try #require(SupraTasks.pc1(Self.batch(2), replicaIDs: [Self.bytes(1), Self.bytes(2)]))
        try pin(task, #"{"block_offset":4096,"num_sectors":2,"registered_proof":"StackedDrg32GiBV1_1","#
            + #""replica_ids":[\#(Self.b32(1)),\#(Self.b32(2))]}"#)
        #expect(SupraTasks.pc1(SupraBatch(sectors: []), replicaIDs: []) == nil, "an empty batch has no proof type")
    }

    @Test("SupraPC2: registered_proof, block_offset, num_sectors, output_dir, data_filenames; output [CommR]")
    func supraPC2() throws {
        let task = try #require(SupraTasks.pc2(Self.batch(2), outputDirectory: "/out"))
        try pin(task, #"{"block_offset":4096,"data_filenames":["",""],"num_sectors":2,"output_dir":"/out","#
            + #""registered_proof":"StackedDrg32GiBV1_1"}"#)
        #expect(try JSONValue.parse("[\(Self.b32(7)),\(Self.b32(8))]").decode([[UInt8]].self) == [Self.bytes(7), Self.bytes(8)])
    }

    @Test("SupraC1: registered_proof, block_offset, num_sectors, sector_slot, pc1_replica_id, ticket, seed, cache_path, replica_path")
    func supraC1() throws {
        let task = try #require(SupraTasks.c1(Self.batch(3), slot: 1, replicaID: Self.bytes(5), ticket: Self.bytes(3), seed: Self.bytes(4)))
        try pin(task, #"{"block_offset":4096,"cache_path":"/d1/cache/s-t01000-41","num_sectors":3,"pc1_replica_id":\#(Self.b32(5)),"#
            + #""registered_proof":"StackedDrg32GiBV1_1","replica_path":"/d1/sealed/s-t01000-41","sector_slot":1,"#
            + #""seed":\#(Self.b32(4)),"ticket":\#(Self.b32(3))}"#)
        #expect(SupraTasks.c1(Self.batch(3), slot: 3, replicaID: [], ticket: [], seed: []) == nil, "slot outside the batch")
    }

    @Test("the schema refuses a supra task with a missing, extra or mistyped field, naming it")
    func schemaRefuses() throws {
        let shape = try #require(DamoclesShape.task(stage: "supra_c1"))
        let good = try JSONValue(encoding: try #require(SupraTasks.c1(Self.batch(1), slot: 0, replicaID: Self.bytes(1), ticket: Self.bytes(2), seed: Self.bytes(3))))
        #expect(shape.mismatch(good, at: "task") == nil)
        var missing = try #require(good.objectValue)
        missing["sector_slot"] = nil
        #expect(shape.mismatch(.object(missing), at: "task")?.field == "task.sector_slot")
        var short = try #require(good.objectValue)
        short["seed"] = .array([.int(1)])
        #expect(shape.mismatch(.object(short), at: "task")?.field == "task.seed")
        let pc1 = try #require(DamoclesShape.task(stage: "supra_pc1"))
        #expect(pc1.mismatch(try JSONValue.parse(#"{"registered_proof":"StackedDrg32GiBV1_1","block_offset":0,"num_sectors":1,"replica_ids":[],"x":1}"#),
                             at: "task")?.field == "task.x")
    }

    @Test("the mock prover's batch stages give each sector what it gets sealed alone, and its proof verifies")
    func mockBatchMatchesSingle() async throws {
        let prover = MockProver()
        let batch = Self.batch(3)
        let tickets = [Self.bytes(1), Self.bytes(2), Self.bytes(3)]
        let pieces = batch.sectors.map { [ZeroCommitment.pledge($0.proof.sectorSize)] }
        let outputs = try await prover.supraPC1(SupraBatch(sectors: batch.sectors.map { var s = $0; s.paths = SectorPaths(staged: "", cache: "", sealed: ""); return s }),
                                                tickets: tickets, pieces: pieces)
        #expect(outputs.count == 3)
        for i in 0..<3 {
            let alone = try await prover.pc1(batch.sectors[i], ticket: tickets[i], pieces: pieces[i])
            #expect(outputs[i] == alone)
        }
        let bare = SupraBatch(sectors: batch.sectors.map { var s = $0; s.paths = SectorPaths(staged: "", cache: "", sealed: ""); return s })
        let commitments = try await prover.supraPC2(bare, pc1Outputs: outputs)
        let c1 = try await prover.supraC1(bare, slot: 2, ticket: tickets[2], seed: Self.bytes(9), commitments: commitments[2], pieces: pieces[2])
        let proof = try await prover.c2(bare.sectors[2], c1Output: c1)
        #expect(prover.verifySeal(bare.sectors[2], ticket: tickets[2], seed: Self.bytes(9), commitments: commitments[2], proof: proof))
        await #expect(throws: ProverError.self) { try await prover.supraPC1(bare, tickets: [], pieces: []) }
    }

    @Test("the daemon's supra tasks pass the validating fake processor, and its answers come back per sector")
    func externalProverAgainstFake() async throws {
        var children: [ExternalProcessor] = []
        func remote(_ stage: ProofStage) async throws -> ExternalProver {
            let child = ExternalProcessor(stage: stage.rawValue, index: 0, config: ProcessorLaunch(
                bin: FakeProcessor.path, args: [stage.rawValue, "--mode", "damocles"])) { _ in }
            try await child.start()
            children.append(child)
            return ExternalProver(processor: child, local: MockProver(), lease: nil)
        }
        let batch = SupraBatch(sectors: Self.batch(3).sectors.map { var s = $0; s.proof = SealProof(sectorSize: .kib2); return s })
        let tickets = [Self.bytes(1), Self.bytes(2), Self.bytes(3)]
        let pieces = batch.sectors.map { _ in [PieceInfo]() }
        let outputs = try await remote(.supraPC1).supraPC1(batch, tickets: tickets, pieces: pieces)
        let zero = ZeroCommitment.of(padded: SectorSize.kib2.bytes)
        #expect(outputs == batch.sectors.indices.map { ReplicaID.compute(batch.sectors[$0], ticket: tickets[$0], commD: zero) + zero })
        let commitments = try await remote(.supraPC2).supraPC2(batch, pc1Outputs: outputs)
        #expect(commitments.map(\.commR) == [Self.bytes(0x70), Self.bytes(0x71), Self.bytes(0x72)])
        #expect(commitments.allSatisfy { $0.commD == zero })
        let c1 = try await remote(.supraC1).supraC1(batch, slot: 1, ticket: tickets[1], seed: Self.bytes(9), commitments: commitments[1], pieces: [])
        let replica = try JSONValue.parse(c1)["replica_id"]?.arrayValue?.compactMap(\.intValue).map { UInt8($0) }
        #expect(replica == Array(outputs[1].prefix(32)), "supra_c1 names the sector's replica id")
        await #expect(throws: ProverError.self) { try await remote(.supraPC2).supraPC2(batch, pc1Outputs: [[1]]) }
        for child in children { await child.shutdown() }
    }

    @Test("replica id: SHA-256 of prover id, sector number big-endian, ticket, CommD and porep id, top two bits cleared")
    func replicaID() {
        let sector = Self.batch(1).sectors[0]
        let porep = ReplicaID.porepID(sector.proof)
        #expect(porep == [UInt8(sector.proof.id)] + Array(repeating: 0, count: 31))
        let id = ReplicaID.compute(sector, ticket: Self.bytes(3), commD: Self.bytes(4))
        var preimage = sector.proverID.bytes + [0, 0, 0, 0, 0, 0, 0, 40] + Self.bytes(3) + Self.bytes(4) + porep
        var expected = SHA256.hash(preimage)
        expected[31] &= 0x3f
        #expect(id == expected && id.count == 32 && id[31] & 0xc0 == 0)
        preimage[sector.proverID.bytes.count + 7] = 41
        #expect(ReplicaID.compute(Self.batch(2).sectors[1], ticket: Self.bytes(3), commD: Self.bytes(4)) == { var h = SHA256.hash(preimage); h[31] &= 0x3f; return h }())
        #expect(ReplicaID.compute(sector, ticket: Self.bytes(5), commD: Self.bytes(4)) != id)
    }
}
