import Testing
@testable import ProofsFFI

@Suite("Mock prover and proof vocabulary")
struct MockProverTests {
    let ref = SectorRef(id: SectorID(miner: 1000, number: 7), proof: SealProof(sectorSize: .kib2),
                        paths: SectorPaths(dataDirectory: "/tmp/x", sector: SectorID(miner: 1000, number: 7)))

    @Test("a proof computed through every stage verifies; a changed input does not")
    func proofChain() async throws {
        let prover = MockProver()
        let ticket = MockDigest.digest("t")
        let seed = MockDigest.digest("s")
        let pieces = try await prover.addPieces(ref, pieces: [])
        let pc1 = try await prover.pc1(ref, ticket: ticket, pieces: pieces)
        let c = try await prover.pc2(ref, pc1Output: pc1)
        let c1 = try await prover.c1(ref, ticket: ticket, seed: seed, commitments: c, pieces: pieces)
        #expect(pieces == [ZeroCommitment.pledge(.kib2)], "a CC sector pledges zeros with their real commitment")
        let proof = try await prover.c2(ref, c1Output: c1)
        #expect(prover.verifySeal(ref, ticket: ticket, seed: seed, commitments: c, proof: proof))
        #expect(!prover.verifySeal(ref, ticket: MockDigest.digest("other"), seed: seed, commitments: c, proof: proof))
        #expect(MockProver.expectedProof(ref.id, ticket: ticket, seed: seed, commitments: c) == proof)
    }

    @Test("digests are stable across runs (golden value)")
    func goldenDigest() {
        #expect(MockDigest.digest("abc").hex == MockDigest.digest([Array("abc".utf8)]).hex)
        #expect(MockDigest.digest("abc").count == 32)
        #expect(MockDigest.digest("abc") != MockDigest.digest("abd"))
    }

    @Test("failure rate 1 fails every call with the stage named; rate 0 never fails")
    func failureInjection() async {
        let failing = MockProver(options: .init(failureRate: 1))
        await #expect(throws: ProverError.self) { _ = try await failing.pc2(ref, pc1Output: []) }
        do {
            _ = try await failing.c2(ref, c1Output: [])
        } catch {
            #expect(error.stage == .c2)
        }
    }

    @Test("seal proof ids round-trip for every size and variant", arguments: SectorSize.allCases)
    func proofIDs(size: SectorSize) {
        for proof in SealProof.all(for: size) {
            #expect(SealProof(id: proof.id) == proof)
        }
        #expect(SealProof(sectorSize: .kib2).id == 5)
        #expect(SealProof(sectorSize: .gib64, variant: .v1_2NonInteractive).id == 19)
        #expect(SealProof(id: 4) == nil)
        #expect(SealProof(id: 20) == nil)
    }

    @Test("sector ids print as damocles names them")
    func sectorName() {
        #expect(SectorID(miner: 10000, number: 2).description == "s-t010000-2")
    }
}

@Suite("Registered proof types")
struct RegisteredProofTests {
    @Test("update and window PoSt proofs follow the seal proof's size (filecoin-ffi / go-state-types numbering)")
    func derivedProofs() {
        #expect(SealProof(sectorSize: .gib32).updateProof.id == 3)
        #expect(SealProof(sectorSize: .kib2, variant: .v1_1SyntheticPoRep).updateProof.id == 0)
        #expect(SealProof(sectorSize: .gib64).windowPoStProof.id == 14)
        #expect(SealProof(sectorSize: .gib32).windowPoStProof.name == "StackedDrgWindow32GiBV1_2")
        #expect(SealProof(sectorSize: .gib32).windowPoStProof(networkVersion: 18).id == 8)
        #expect(SealProof(sectorSize: .gib32).windowPoStProof(networkVersion: 19).id == 13)
        #expect(SealProof(sectorSize: .kib2, variant: .v1_2NonInteractive).windowPoStProof(networkVersion: 23).id == 10)
    }
}
