/// Where one sector's working files live while it is sealed (damocles' `data/` layout).
public struct SectorPaths: Sendable, Hashable, Codable {
    public var staged: String
    public var cache: String
    public var sealed: String

    public init(staged: String, cache: String, sealed: String) {
        self.staged = staged
        self.cache = cache
        self.sealed = sealed
    }

    /// damocles' layout under a sealing location's `data/` directory.
    public init(dataDirectory: String, sector: SectorID) {
        self.init(
            staged: "\(dataDirectory)/unsealed/\(sector)",
            cache: "\(dataDirectory)/cache/\(sector)",
            sealed: "\(dataDirectory)/sealed/\(sector)")
    }
}

/// The sector a proof call works on.
public struct SectorRef: Sendable, Hashable {
    public var id: SectorID
    public var proof: SealProof
    public var paths: SectorPaths

    public init(id: SectorID, proof: SealProof, paths: SectorPaths) {
        self.id = id
        self.proof = proof
        self.paths = paths
    }
}

/// A piece placed in a sector: its padded size and CID string (`baga...`).
public struct PieceInfo: Sendable, Hashable, Codable {
    public var size: UInt64
    public var cid: String

    public init(size: UInt64, cid: String) {
        self.size = size
        self.cid = cid
    }
}

/// The replica and data commitments PC2 (or snap encoding) produces.
public struct Commitments: Sendable, Hashable, Codable {
    public var commR: [UInt8]
    public var commD: [UInt8]

    public init(commR: [UInt8], commD: [UInt8]) {
        self.commR = commR
        self.commD = commD
    }
}

/// A proof computation failed; `stage` says which, `message` says why.
public struct ProverError: Error, Sendable, Hashable, CustomStringConvertible {
    public var stage: ProofStage
    public var message: String

    public init(stage: ProofStage, message: String) {
        self.stage = stage
        self.message = message
    }

    public var description: String { "\(stage): \(message)" }
}

/// The boundary to the proofs library: filecoin-ffi, external processors, or the mock prover.
///
/// Every call is one stage of one sector. Implementations must honour task cancellation.
public protocol Prover: Sendable {
    func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo]
    /// Builds tree_d over the staged data and returns CommD.
    func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
    func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
    func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments
    func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments) async throws(ProverError)
    func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments) async throws(ProverError) -> [UInt8]
    func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8]
    /// Encodes new data into an existing replica; returns the new commitments.
    func snapEncode(_ sector: SectorRef, oldCommR: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> Commitments
    func snapProve(_ sector: SectorRef, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8]
    func unseal(_ sector: SectorRef, piece: PieceInfo) async throws(ProverError) -> UInt64
    func windowPost(miner: UInt64, sectors: [SectorID], randomness: [UInt8]) async throws(ProverError) -> [UInt8]
    /// Checks a porep proof against its inputs.
    func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool
}
