@testable import Actors
import Foundation
import ProofsFFI
import Testing

/// Golden payloads: every damocles task and output as JSON, pinned against damocles
/// 4235a89557219de436bba441e727af3a42f903f0 (`damocles-worker/vc-processors/src/builtin/tasks.rs`,
/// `vc-processors/src/fil_proofs/mod.rs`, `b64serde.rs`) and the types it embeds from
/// filecoin-proofs-api b44e7cecf2a120aa266b6886628e869ba67252af (18.1.0) and rust-fil-proofs
/// 87348a749d80447d00c595af834a8ed73c09e4d9. Field names, nesting, enum spellings, and number
/// vs array vs base64 encodings are serde's. JSON here is canonical: keys sorted, no spaces.
@Suite struct DamoclesPayloadTests {
    /// `[n,n,…]` with 32 entries: serde's `[u8; 32]`.
    static func b32(_ n: UInt8) -> String { "[" + Array(repeating: "\(n)", count: 32).joined(separator: ",") + "]" }
    static func bytes(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 32) }

    static let sector = SectorRef(id: SectorID(miner: 1000, number: 42), proof: SealProof(sectorSize: .gib32),
                                  paths: SectorPaths(dataDirectory: "/d", sector: SectorID(miner: 1000, number: 42)))
    /// t01000's prover id: 1000 as LEB128 (0xe8 0x07), zero-padded.
    static let proverID = "[232,7" + String(repeating: ",0", count: 30) + "]"

    func json(_ value: some Encodable) throws -> String { try JSONValue(encoding: value).serializedString }

    /// Encodes `value` to exactly `golden` and decodes `golden` back to `value`.
    func pin<T: Codable & Equatable>(_ value: T, _ golden: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try json(value) == golden, sourceLocation: sourceLocation)
        #expect(try JSONValue.parse(golden).decode(T.self) == value, sourceLocation: sourceLocation)
    }

    @Test("registered proofs are spelled as filecoin-proofs-api's variant names")
    func proofNames() throws {
        #expect(DamoclesSealProof(SealProof(sectorSize: .gib32, variant: .v1_1)).name == "StackedDrg32GiBV1_1")
        #expect(DamoclesSealProof(SealProof(sectorSize: .kib2, variant: .v1_1SyntheticPoRep)).name == "StackedDrg2KiBV1_1_Feat_SyntheticPoRep")
        #expect(DamoclesSealProof(SealProof(sectorSize: .gib64, variant: .v1_2NonInteractive)).name == "StackedDrg64GiBV1_2_Feat_NonInteractivePoRep")
        #expect(DamoclesSealProof(SealProof(sectorSize: .mib512)).name == "StackedDrg512MiBV1_1")
        #expect(DamoclesSealProof(SealProof(sectorSize: .mib8)).name == "StackedDrg8MiBV1_1")
        for size in SectorSize.allCases {
            for proof in SealProof.all(for: size) { #expect(DamoclesSealProof(name: DamoclesSealProof(proof).name)?.proof == proof) }
        }
        #expect(DamoclesSealProof(name: "StackedDrg32GiBV1") == nil, "V1 (ids 0-4) is not sealed by this daemon")
        #expect(DamoclesPoStProof(PoStProof(id: 13)!).name == "StackedDrgWindow32GiBV1_2")
        #expect(DamoclesPoStProof(PoStProof(id: 8)!).name == "StackedDrgWindow32GiBV1")
        #expect(DamoclesPoStProof(PoStProof(id: 3)!).name == "StackedDrgWinning32GiBV1")
        #expect(DamoclesUpdateProof(UpdateProof(sectorSize: .gib32)).name == "StackedDrg32GiBV1")
        try pin(DamoclesPoStProof(PoStProof(id: 14)!), #""StackedDrgWindow64GiBV1_2""#)
        try pin(DamoclesUpdateProof(UpdateProof(sectorSize: .kib2)), #""StackedDrg2KiBV1""#)
        #expect(throws: (any Error).self) { try JSONValue.parse(#""StackedDrg32GiBV1_2""#).decode(DamoclesSealProof.self) }
        #expect(throws: (any Error).self) { try JSONValue.parse("8").decode(DamoclesSealProof.self) }
    }

    @Test("AddPieces: seal_proof_type, pieces (piece_file pledge/url/local, payload_size, piece_size), staged_filepath; output [PieceInfo]")
    func addPieces() throws {
        let task = DamoclesAddPieces(seal_proof_type: DamoclesSealProof(Self.sector.proof), pieces: [
            DamoclesPiece(piece_file: .pledge, payload_size: 0, piece_size: 2032),
            DamoclesPiece(piece_file: .url("http://p/1"), payload_size: 1000, piece_size: 1016),
            DamoclesPiece(piece_file: .local("/p/2"), payload_size: 5, piece_size: 127),
        ], staged_filepath: "/d/unsealed/s-t01000-42")
        try pin(task, #"{"pieces":[{"payload_size":0,"piece_file":"pledge","piece_size":2032},"#
            + #"{"payload_size":1000,"piece_file":{"url":"http://p/1"},"piece_size":1016},"#
            + #"{"payload_size":5,"piece_file":{"local":"/p/2"},"piece_size":127}],"#
            + #""seal_proof_type":"StackedDrg32GiBV1_1","staged_filepath":"/d/unsealed/s-t01000-42"}"#)
        try pin([DamoclesPieceInfo(commitment: Self.bytes(9), size: 34_091_302_912)],
                #"[{"commitment":\#(Self.b32(9)),"size":34091302912}]"#)
        #expect(throws: (any Error).self) { try JSONValue.parse(#"{"file":"x"}"#).decode(DamoclesPieceFile.self) }
    }

    @Test("TreeD: registered_proof, staged_file, cache_dir; output true")
    func treeD() throws {
        try pin(DamoclesTreeD(registered_proof: DamoclesSealProof(Self.sector.proof), staged_file: "/s", cache_dir: "/c"),
                #"{"cache_dir":"/c","registered_proof":"StackedDrg32GiBV1_1","staged_file":"/s"}"#)
        try pin(true, "true")
    }

    @Test("PC1: registered_proof, cache_path, in_path, out_path, prover_id, sector_id, ticket, piece_infos; output SealPreCommitPhase1Output")
    func pc1() throws {
        let task = DamoclesPC1(registered_proof: DamoclesSealProof(Self.sector.proof), cache_path: "/c", in_path: "/u", out_path: "/s",
                               prover_id: Self.sector.proverID.bytes, sector_id: 42, ticket: Self.bytes(3),
                               piece_infos: [DamoclesPieceInfo(commitment: Self.bytes(9), size: 2032)])
        try pin(task, #"{"cache_path":"/c","in_path":"/u","out_path":"/s","piece_infos":[{"commitment":\#(Self.b32(9)),"size":2032}],"#
            + #""prover_id":\#(Self.proverID),"registered_proof":"StackedDrg32GiBV1_1","sector_id":42,"ticket":\#(Self.b32(3))}"#)
        // The output is kept as its JSON text.
        let output = #"{"comm_d":\#(Self.b32(1)),"config":{"id":"tree-d"},"labels":{},"registered_proof":"StackedDrg32GiBV1_1"}"#
        #expect(try JSONValue.parse(output).decode(DamoclesOpaque.self).bytes == Array(output.utf8))
    }

    @Test("PC2: pc1out (the PC1 output, spliced in byte for byte), cache_dir, sealed_file; output registered_proof, comm_r, comm_d")
    func pc2() throws {
        // Key order and spacing as serde wrote them, not canonical: they must survive.
        let pc1out = #"{"registered_proof":"StackedDrg32GiBV1_1", "labels":{"StackedDrg32GiBV1":{}},"config":{},"comm_d":\#(Self.b32(1))}"#
        let opaque = DamoclesOpaque.embedding(Array(pc1out.utf8), proof: Self.sector.proof)
        #expect(opaque.bytes == Array(pc1out.utf8))
        let body = try ExternalProver.encode(DamoclesPC2(pc1out: opaque, cache_dir: "/c", sealed_file: "/s"), opaque: ("pc1out", opaque.bytes))
        #expect(String(decoding: body, as: UTF8.self) == #"{"pc1out":\#(pc1out),"cache_dir":"/c","sealed_file":"/s"}"#)
        #expect(try JSONValue.parse(body).decode(DamoclesPC2.self).cache_dir == "/c")
        try pin(DamoclesPC2Output(registered_proof: DamoclesSealProof(Self.sector.proof), comm_r: Self.bytes(4), comm_d: Self.bytes(1)),
                #"{"comm_d":\#(Self.b32(1)),"comm_r":\#(Self.b32(4)),"registered_proof":"StackedDrg32GiBV1_1"}"#)
    }

    @Test("the mock prover's opaque outputs travel as {mock, registered_proof} and are recorded as its bytes")
    func mockOpaque() throws {
        let opaque = DamoclesOpaque.embedding([1, 2, 255], proof: Self.sector.proof)
        #expect(String(decoding: opaque.bytes, as: UTF8.self) == #"{"mock":[1,2,255],"registered_proof":"StackedDrg32GiBV1_1"}"#)
        #expect(opaque.mockBytes == [1, 2, 255])
        #expect(opaque.stored == [1, 2, 255])
        #expect(opaque.registeredProof == Self.sector.proof)
        let real = DamoclesOpaque(json: Array(#"{"comm_d":[]}"#.utf8))
        #expect(real.mockBytes == nil && real.stored == real.bytes)
    }

    @Test("C2: c1out (spliced), prover_id, sector_id, miner_id; output {proof: [bytes]}")
    func c2() throws {
        let c1out = #"{"registered_proof":"StackedDrg32GiBV1_1","vanilla_proofs":{},"comm_r":[],"comm_d":[],"replica_id":"0x0","seed":[],"ticket":[]}"#
        let opaque = DamoclesOpaque(json: Array(c1out.utf8))
        let task = DamoclesC2(c1out: opaque, prover_id: Self.sector.proverID.bytes, sector_id: 42, miner_id: 1000)
        let body = try ExternalProver.encode(task, opaque: ("c1out", opaque.bytes))
        #expect(String(decoding: body, as: UTF8.self) == #"{"c1out":\#(c1out),"miner_id":1000,"prover_id":\#(Self.proverID),"sector_id":42}"#)
        try pin(DamoclesC2Output(proof: [1, 2, 3]), #"{"proof":[1,2,3]}"#)
    }

    @Test("SnapEncode: registered_proof (update), new_replica_path, new_cache_path, sector_path, sector_cache_path, staged_data_path, piece_infos; output comm_r_new, comm_r_last_new, comm_d_new")
    func snapEncode() throws {
        let task = DamoclesSnapEncode(registered_proof: DamoclesUpdateProof(UpdateProof(sectorSize: .gib32)), new_replica_path: "/u", new_cache_path: "/uc",
                                      sector_path: "/s", sector_cache_path: "/c", staged_data_path: "/d", piece_infos: [])
        try pin(task, #"{"new_cache_path":"/uc","new_replica_path":"/u","piece_infos":[],"registered_proof":"StackedDrg32GiBV1","#
            + #""sector_cache_path":"/c","sector_path":"/s","staged_data_path":"/d"}"#)
        try pin(DamoclesSnapEncodeOutput(comm_r_new: Self.bytes(1), comm_r_last_new: Self.bytes(2), comm_d_new: Self.bytes(3)),
                #"{"comm_d_new":\#(Self.b32(3)),"comm_r_last_new":\#(Self.b32(2)),"comm_r_new":\#(Self.b32(1))}"#)
    }

    @Test("SnapProve: registered_proof, vannilla_proofs (damocles' spelling), comm_r_old, comm_r_new, comm_d_new; output [bytes]")
    func snapProve() throws {
        let task = DamoclesSnapProve(registered_proof: DamoclesUpdateProof(UpdateProof(sectorSize: .gib64)), vannilla_proofs: [[1], [2, 3]],
                                     comm_r_old: Self.bytes(1), comm_r_new: Self.bytes(2), comm_d_new: Self.bytes(3))
        try pin(task, #"{"comm_d_new":\#(Self.b32(3)),"comm_r_new":\#(Self.b32(2)),"comm_r_old":\#(Self.b32(1)),"#
            + #""registered_proof":"StackedDrg64GiBV1","vannilla_proofs":[[1],[2,3]]}"#)
        try pin([UInt8]([9, 8]), "[9,8]")
    }

    @Test("Transfer: stores {name, meta}, routes {src, dest {store_name, uri}, opt {is_dir, allow_link}}; output true")
    func transfer() throws {
        let task = DamoclesTransfer(stores: ["p": DamoclesTransferStoreInfo(name: "p", meta: nil)], routes: [
            DamoclesTransferRoute(src: DamoclesTransferItem(store_name: nil, uri: "/a"), dest: DamoclesTransferItem(store_name: "p", uri: "b"),
                                  opt: DamoclesTransferOption(is_dir: true, allow_link: false)),
            DamoclesTransferRoute(src: DamoclesTransferItem(store_name: nil, uri: "/c"), dest: DamoclesTransferItem(store_name: "p", uri: "d"), opt: nil),
        ])
        try pin(task, #"{"routes":[{"dest":{"store_name":"p","uri":"b"},"opt":{"allow_link":false,"is_dir":true},"src":{"store_name":null,"uri":"/a"}},"#
            + #"{"dest":{"store_name":"p","uri":"d"},"opt":null,"src":{"store_name":null,"uri":"/c"}}],"stores":{"p":{"meta":null,"name":"p"}}}"#)
    }

    @Test("WindowPoSt: miner_id, proof_type, replicas {sector_id, comm_r, cache_dir, sealed_file}, seed; output proofs (base64), faults")
    func windowPoSt() throws {
        let task = DamoclesWindowPoSt(miner_id: 1000, proof_type: DamoclesPoStProof(PoStProof(id: 13)!),
                                      replicas: [DamoclesPoStReplicaInfo(sector_id: 42, comm_r: Self.bytes(7), cache_dir: "/c", sealed_file: "/s")],
                                      seed: Self.bytes(5))
        try pin(task, #"{"miner_id":1000,"proof_type":"StackedDrgWindow32GiBV1_2","#
            + #""replicas":[{"cache_dir":"/c","comm_r":\#(Self.b32(7)),"sealed_file":"/s","sector_id":42}],"seed":\#(Self.b32(5))}"#)
        try pin(DamoclesWindowPoStOutput(proofs: [DamoclesBase64Bytes([0, 1, 2, 253, 254, 255]), DamoclesBase64Bytes([0x61])], faults: [7]),
                #"{"faults":[7],"proofs":["AAEC/f7/","YQ=="]}"#)
        #expect(throws: (any Error).self) { try JSONValue.parse(#"["YQ="]"#).decode([DamoclesBase64Bytes].self) }
    }

    @Test("Unseal: registered_proof, prover_id, sector_id, comm_d, ticket, cache_dir, sealed_file, unsealed_output, offset, num_bytes; output a number")
    func unseal() throws {
        let task = DamoclesUnseal(registered_proof: DamoclesSealProof(Self.sector.proof), prover_id: Self.sector.proverID.bytes, sector_id: 42,
                                  comm_d: Self.bytes(1), ticket: Self.bytes(3), cache_dir: "/c", sealed_file: "/s", unsealed_output: "/o",
                                  offset: 0, num_bytes: 2032)
        try pin(task, #"{"cache_dir":"/c","comm_d":\#(Self.b32(1)),"num_bytes":2032,"offset":0,"prover_id":\#(Self.proverID),"#
            + #""registered_proof":"StackedDrg32GiBV1_1","sealed_file":"/s","sector_id":42,"ticket":\#(Self.b32(3)),"unsealed_output":"/o"}"#)
        try pin(UInt64(2032), "2032")
    }

    @Test("base64 round-trips every length and byte")
    func base64() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + length) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }

    @Test("the data commitment is filecoin-proofs' compute_comm_d: zero-padded pieces joined in order")
    func dataCommitment() throws {
        let size = SectorSize.kib2
        #expect(try DataCommitment.compute(sectorSize: size, pieces: [ZeroCommitment.pledge(size)]) == ZeroCommitment.of(padded: 2048))
        #expect(try DataCommitment.compute(sectorSize: size, pieces: []) == ZeroCommitment.of(padded: 2048))
        let a = PieceInfo(commP: Self.bytes(1), size: 1016), b = PieceInfo(commP: Self.bytes(2), size: 508)
        // Two halves join directly.
        #expect(try DataCommitment.compute(sectorSize: size, pieces: [a, a]) == ZeroCommitment.node(a.commP, a.commP))
        // A quarter then a half: the quarter is padded by a zero quarter first.
        let padded = ZeroCommitment.node(b.commP, ZeroCommitment.of(padded: 512))
        #expect(try DataCommitment.compute(sectorSize: size, pieces: [b, a]) == ZeroCommitment.node(padded, a.commP))
        // A half then a quarter: the tail is padded up to the half.
        #expect(try DataCommitment.compute(sectorSize: size, pieces: [a, b]) == ZeroCommitment.node(a.commP, padded))
        #expect(throws: DamoclesPayloadError.self) { try DataCommitment.compute(sectorSize: size, pieces: [PieceInfo(commP: Self.bytes(1), size: 1000)]) }
        #expect(throws: DamoclesPayloadError.self) { try DataCommitment.compute(sectorSize: size, pieces: [a, a, a]) }
    }
}
