@testable import Actors
import Foundation
import ProofsFFI
import Scheduler
import Testing

/// A stage run in a `sealer processor` child, over damocles' payloads, gives what it gives
/// in-process (C1, synthetic proofs and snap prove run in-process through `local`).
@Suite struct ExternalProverTests {
    func child(_ stage: ProofStage) async throws -> ExternalProcessor {
        let processor = ExternalProcessor(stage: stage.rawValue, index: 0, config: ProcessorLaunch(
            bin: FakeProcessor.product("sealer"), args: ["processor", stage.rawValue], envs: ["SEALER_MOCK_SEED": "7"])) { _ in }
        try await processor.start()
        return processor
    }

    @Test("every sealing stage's output crosses the wire unchanged")
    func sameAsInProcess() async throws {
        let local = MockProver(options: .init(seed: 7))
        let sector = SectorRef(id: SectorID(miner: 1000, number: 42), proof: SealProof(sectorSize: .kib2),
                               paths: SectorPaths(dataDirectory: "/tmp/data", sector: SectorID(miner: 1000, number: 42)))
        let ticket = Array(repeating: UInt8(3), count: 32), seed = Array(repeating: UInt8(5), count: 32)
        var children: [ExternalProcessor] = []
        func remote(_ stage: ProofStage) async throws -> ExternalProver {
            let c = try await child(stage)
            children.append(c)
            return ExternalProver(processor: c, local: local, lease: Grant(node: 0, cpus: [0], memoryBytes: 1, hugepages: 0, gpu: nil, vramBytes: 0))
        }
        let pieces = try await remote(.addPieces).addPieces(sector, pieces: [])
        #expect(pieces == (try await local.addPieces(sector, pieces: [])))
        // damocles' tree_d answers true; the root is the pieces' data commitment (a CC sector's: zeros).
        #expect(try await remote(.treeD).buildTreeD(sector, pieces: pieces) == ZeroCommitment.of(padded: 2048))
        // damocles' PC1 output is JSON: the mock's bytes travel as {"mock":[…],"registered_proof":…}
        // and are recorded as the mock's bytes, so PC2 may run in-process or in a child.
        let pc1 = try await remote(.pc1).pc1(sector, ticket: ticket, pieces: pieces)
        #expect(pc1 == (try await local.pc1(sector, ticket: ticket, pieces: pieces)))
        let commitments = try await remote(.pc2).pc2(sector, pc1Output: pc1)
        #expect(commitments == (try await local.pc2(sector, pc1Output: pc1)))
        let c1 = try await remote(.c1).c1(sector, ticket: ticket, seed: seed, commitments: commitments, pieces: pieces)
        #expect(c1 == (try await local.c1(sector, ticket: ticket, seed: seed, commitments: commitments, pieces: pieces)))
        let proof = try await remote(.c2).c2(sector, c1Output: c1)
        #expect(proof == (try await local.c2(sector, c1Output: c1)))
        #expect(local.verifySeal(sector, ticket: ticket, seed: seed, commitments: commitments, proof: proof))
        let old = ReplicaPaths(sealed: "/store/sealed/\(sector.id)", cache: "/store/cache/\(sector.id)")
        let snap = try await remote(.snapEncode).snapEncode(sector, old: old, pieces: pieces)
        #expect(snap == (try await local.snapEncode(sector, old: old, pieces: pieces)))
        let snapProof = try await remote(.snapProve).snapProve(sector, old: old, oldCommR: commitments.commR, new: snap)
        #expect(snapProof == MockProver.expectedSnapProof(sector.id, oldCommR: commitments.commR, new: snap))
        let unsealed = try await remote(.unseal).unseal(sector, ticket: ticket, commD: commitments.commD, offset: 0, length: 2032, output: "/tmp/unsealed-piece")
        #expect(unsealed == 2032)
        let replica = ReplicaInfo(sector: sector.id.number, commR: commitments.commR, cacheDir: sector.paths.cache, sealedFile: sector.paths.sealed)
        let post = try await remote(.windowPost).windowPost(miner: 1000, proof: sector.proof.windowPoStProof, replicas: [replica], randomness: seed)
        #expect(post.proofs == [MockProver.expectedWindowPoSt(miner: 1000, sectors: [sector.id], randomness: seed)])
        #expect(post.faultySectors.isEmpty)
        for c in children { await c.shutdown() }
    }

    @Test("a task the child cannot run comes back as that stage's error, and the child stays up")
    func childErrorsAreStageErrors() async throws {
        let c = try await child(.pc2)
        let prover = ExternalProver(processor: c, local: MockProver(), lease: nil)
        let sector = SectorRef(id: SectorID(miner: 1, number: 1), proof: SealProof(sectorSize: .kib2),
                               paths: SectorPaths(staged: "", cache: "", sealed: ""))
        await #expect(throws: ProverError.self) { try await prover.pc2(sector, pc1Output: [1, 2, 3]) }
        let pc1 = try await MockProver().pc1(sector, ticket: [1], pieces: [])
        #expect(try await prover.pc2(sector, pc1Output: pc1) == (try await MockProver().pc2(sector, pc1Output: pc1)))
        await c.shutdown()
    }
}
