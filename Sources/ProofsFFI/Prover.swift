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

    /// Where a snap upgrade of a rebuilt sector writes its new replica (damocles' `update/` and
    /// `update-cache/`), from the same staged data.
    public static func update(dataDirectory: String, sector: SectorID) -> SectorPaths {
        SectorPaths(staged: "\(dataDirectory)/unsealed/\(sector)", cache: "\(dataDirectory)/update-cache/\(sector)",
                    sealed: "\(dataDirectory)/update/\(sector)")
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
    /// Worth retrying (filecoin-ffi's errors other than a caller error); else the thread pauses.
    public var retryable: Bool

    public init(stage: ProofStage, message: String, retryable: Bool = false) {
        self.stage = stage
        self.message = message
        self.retryable = retryable
    }

    public var description: String { "\(stage): \(message)" }
}

/// Where an existing replica's files are: the sector key a snap upgrade encodes into a new
/// replica (damocles finds it in the persist store the manager names).
public struct ReplicaPaths: Sendable, Hashable, Codable {
    public var sealed: String
    public var cache: String

    public init(sealed: String, cache: String) {
        self.sealed = sealed
        self.cache = cache
    }
}

/// A sealed replica a window PoSt proves (filecoin-ffi's `PrivateReplicaInfo`).
public struct ReplicaInfo: Sendable, Hashable, Codable {
    /// The sector number (the miner is the job's).
    public var sector: UInt64
    public var commR: [UInt8]
    public var cacheDir: String
    public var sealedFile: String

    public init(sector: UInt64, commR: [UInt8], cacheDir: String, sealedFile: String) {
        self.sector = sector
        self.commR = commR
        self.cacheDir = cacheDir
        self.sealedFile = sealedFile
    }

    enum CodingKeys: String, CodingKey {
        case sector = "sector_id", commR = "comm_r", cacheDir = "cache_dir", sealedFile = "sealed_file"
    }
}

/// What a window PoSt produced: its proofs (one per partition) and the sectors it found faulty.
public struct WindowPoStResult: Sendable, Hashable, Codable {
    public var proofs: [[UInt8]]
    public var faultySectors: [UInt64]

    public init(proofs: [[UInt8]], faultySectors: [UInt64] = []) {
        self.proofs = proofs
        self.faultySectors = faultySectors
    }

    enum CodingKeys: String, CodingKey { case proofs, faultySectors = "faulty_sectors" }
}

/// The boundary to the proofs: filecoin-ffi, external processors, or the mock prover. Its
/// inputs are what filecoin-ffi's calls take: the sector's registered proof and prover id
/// (`SectorRef.proverID`), 32-byte commitments, pieces as commP and unpadded size, PC1 and C1
/// outputs as opaque bytes persisted verbatim, replica infos for window PoSt.
///
/// Every call is one stage of one sector. Implementations must honour task cancellation.
public protocol Prover: Sendable {
    /// Writes the pieces into the staged file; a CC sector (no pieces) gets one pledge piece of
    /// zeros. Returns the pieces as placed.
    func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo]
    /// Builds tree_d over the staged data and returns CommD.
    func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
    /// PC1; the output is opaque and persisted verbatim.
    func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
    func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments
    /// Synthetic PoRep proofs after PC2 (proof types with synthetic PoRep).
    func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError)
    /// C1; the output is opaque and persisted verbatim.
    func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
    func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8]
    /// Encodes the staged data into a new replica from the old one (`old`, the sector key);
    /// returns the new commitments.
    func snapEncode(_ sector: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments
    func snapProve(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8]
    /// Unseals `length` unpadded bytes from `offset` of the sector into the file `output`;
    /// returns the bytes written.
    func unseal(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64
    func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult
    /// Checks a porep proof against its inputs.
    func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool
    /// Snap prove's first half, on the CPU: the partition (vanilla) proofs of the new replica.
    /// nil when this prover only proves in one call (`snapProve(_:old:oldCommR:new:)`).
    func snapVanillaProofs(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [[UInt8]]?
    /// Snap prove's second half, on a GPU: the update proof from the vanilla proofs (damocles'
    /// `SnapProve` task, which carries no paths).
    func snapProve(_ sector: SectorRef, vanillaProofs: [[UInt8]], oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8]
    /// Removes what a finished sector's cache no longer needs (filecoin-ffi's `clear_cache`).
    func clearCache(_ sector: SectorRef) async throws(ProverError)
    /// True when calls block their thread for the whole computation (filecoin-ffi): the stage
    /// runner then gives them a thread of their own, never one of the cooperative pool's.
    var blocksThreads: Bool { get }
    /// SupraSeal batch PC1 over every sector of `batch` in one run (damocles' `supra_pc1`):
    /// each sector's PC1 output, in slot order, persisted per sector like a PC1 output.
    func supraPC1(_ batch: SupraBatch, tickets: [[UInt8]], pieces: [[PieceInfo]]) async throws(ProverError) -> [[UInt8]]
    /// SupraSeal batch PC2 (tree C and R of the whole batch on one GPU; damocles' `supra_pc2`):
    /// each sector's commitments, in slot order.
    func supraPC2(_ batch: SupraBatch, pc1Outputs: [[UInt8]]) async throws(ProverError) -> [Commitments]
    /// C1 of the sector in `slot`, reading the batch's layers (damocles' `supra_c1`); the output
    /// is a C1 output, which C2 takes as today.
    func supraC1(_ batch: SupraBatch, slot: Int, ticket: [UInt8], seed: [UInt8], commitments: Commitments,
                 pieces: [PieceInfo]) async throws(ProverError) -> [UInt8]
}

extension Prover {
    public func snapVanillaProofs(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [[UInt8]]? { nil }
    public func snapProve(_ sector: SectorRef, vanillaProofs: [[UInt8]], oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        throw ProverError(stage: .snapProve, message: "this prover cannot prove a snap upgrade from vanilla proofs")
    }
    public func clearCache(_ sector: SectorRef) async throws(ProverError) {}
    public var blocksThreads: Bool { false }
}
