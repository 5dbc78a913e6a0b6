import ProofsFFI

/// How the mock manager checks what workers submit, as a real manager would verify on chain:
/// with the mock prover's expectations, or with a real backend's verify calls (`[proofs]
/// backend = "ffi"`), so a flow is only green when its proofs verify with the backend that made them.
public protocol ProofChecker: Sendable {
    func sealVerifies(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool
    func snapVerifies(_ sector: SectorRef, oldCommR: [UInt8], new: Commitments, proof: [UInt8]) -> Bool
    func windowPoStVerifies(miner: UInt64, proof: PoStProof, replicas: [(number: UInt64, commR: [UInt8])], randomness: [UInt8], proofs: [[UInt8]]) -> Bool
    /// The commitment of a piece file as this backend computes it; nil when it computes none
    /// (the mock names pieces by digest).
    func pieceCommitment(ofFile path: String, unpaddedSize: UInt64, proof: SealProof) -> [UInt8]?
}

extension ProofChecker {
    public func pieceCommitment(ofFile path: String, unpaddedSize: UInt64, proof: SealProof) -> [UInt8]? { nil }
}

/// The mock prover's expectations.
public struct MockProofChecker: ProofChecker {
    public init() {}

    public func sealVerifies(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        MockProver.expectedProof(sector.id, ticket: ticket, seed: seed, commitments: commitments) == proof
    }

    public func snapVerifies(_ sector: SectorRef, oldCommR: [UInt8], new: Commitments, proof: [UInt8]) -> Bool {
        MockProver.expectedSnapProof(sector.id, oldCommR: oldCommR, new: new) == proof
    }

    public func windowPoStVerifies(miner: UInt64, proof: PoStProof, replicas: [(number: UInt64, commR: [UInt8])], randomness: [UInt8], proofs: [[UInt8]]) -> Bool {
        proofs.first == MockProver.expectedWindowPoSt(miner: miner, sectors: replicas.map { SectorID(miner: miner, number: $0.number) }, randomness: randomness)
    }
}

/// filecoin-ffi's verify calls (`verify_seal`, `verify_empty_sector_update_proof`, `verify_window_post`).
public struct FFIProofChecker: ProofChecker {
    public let library: FilCrypto

    public init(library: FilCrypto) { self.library = library }

    public func sealVerifies(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        FFIProver(library: library).verifySeal(sector, ticket: ticket, seed: seed, commitments: commitments, proof: proof)
    }

    public func snapVerifies(_ sector: SectorRef, oldCommR: [UInt8], new: Commitments, proof: [UInt8]) -> Bool {
        guard let type = FilCrypto.UpdateProofType(id: sector.proof.updateProof.id) else { return false }
        return (try? library.verifyEmptySectorUpdateProof(type, proofBytes: proof, commROld: oldCommR, commRNew: new.commR, commDNew: new.commD)) ?? false
    }

    public func pieceCommitment(ofFile path: String, unpaddedSize: UInt64, proof: SealProof) -> [UInt8]? {
        guard let type = FilCrypto.SealProofType(id: proof.id) else { return nil }
        return try? library.generatePieceCommitment(type, piecePath: path, unpaddedSize: unpaddedSize).commP
    }

    public func windowPoStVerifies(miner: UInt64, proof: PoStProof, replicas: [(number: UInt64, commR: [UInt8])], randomness: [UInt8], proofs: [[UInt8]]) -> Bool {
        guard let type = FilCrypto.PoStProofType(id: proof.id), !proofs.isEmpty else { return false }
        let publics = replicas.map { FilCrypto.PublicReplica(proofType: type, commR: $0.commR, sectorID: $0.number) }
        let bytes = proofs.map { FilCrypto.PoStProofBytes(proofType: type.rawValue, bytes: $0) }
        return (try? library.verifyWindowPoSt(randomness: randomness, replicas: publics, proofs: bytes, proverID: ProverID(miner: miner).bytes)) ?? false
    }
}
