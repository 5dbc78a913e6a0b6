import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `Prover` on filecoin-ffi (`[proofs] backend = "ffi"`): each stage is the library call
/// lotus and damocles make for it, on the sector's files in damocles' layout. Calls block their
/// thread for the whole computation (`blocksThreads`); the stage runner gives them one.
///
/// Deal pieces are read from `local_pieces_dirs` (`<dir>/<piece CID>` or `<dir>/<piece CID>.car`,
/// as damocles looks them up); a CC sector's staged file is the sector's capacity of zeros.
public struct FFIProver: Prover {
    public let library: FilCrypto
    public let localPiecesDirs: [String]

    public init(library: FilCrypto, localPiecesDirs: [String] = []) {
        self.library = library
        self.localPiecesDirs = localPiecesDirs
    }

    public var blocksThreads: Bool { true }

    // MARK: - Mapping

    private static func seal(_ sector: SectorRef, _ stage: ProofStage) throws(ProverError) -> FilCrypto.SealProofType {
        guard let type = FilCrypto.SealProofType(id: sector.proof.id) else {
            throw ProverError(stage: stage, message: "filecoin-ffi has no seal proof \(sector.proof)")
        }
        return type
    }

    private static func pieces(_ pieces: [PieceInfo]) -> [FilCrypto.Piece] {
        pieces.map { FilCrypto.Piece(size: $0.size, commP: $0.commP) }
    }

    /// Runs one library call, mapping its error onto the stage (caller errors are permanent,
    /// the rest worth a retry).
    private func call<T>(_ stage: ProofStage, _ body: () throws(FilCryptoError) -> T) throws(ProverError) -> T {
        if Task.isCancelled { throw ProverError(stage: stage, message: "cancelled") }
        do {
            return try body()
        } catch {
            throw ProverError(stage: stage, message: "\(error)", retryable: error.kind == .temporary)
        }
    }

    /// Creates the directories a call writes into, and an empty file where the library expects
    /// one to exist (the sealed file PC1 writes, the new replica of a snap encoding).
    private static func prepare(_ stage: ProofStage, directories: [String], files: [String] = []) throws(ProverError) {
        let fm = FileManager.default
        do {
            for dir in directories { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            for file in files where !fm.fileExists(atPath: file) {
                try fm.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard fm.createFile(atPath: file, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
            }
        } catch {
            throw ProverError(stage: stage, message: "cannot prepare \((directories + files).joined(separator: ", ")): \(error.localizedDescription)")
        }
    }

    private static func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    // MARK: - Sealing

    public func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] {
        let staged = sector.paths.staged
        try Self.prepare(.addPieces, directories: [Self.parent(staged)])
        guard !pieces.isEmpty else {
            // A CC sector: its capacity of zeros (a sparse file), committing to the zero root.
            let pledge = ZeroCommitment.pledge(sector.proof.sectorSize)
            guard truncate(staged, off_t(pledge.size)) == 0 || (FileManager.default.createFile(atPath: staged, contents: nil)
                  && truncate(staged, off_t(pledge.size)) == 0) else {
                throw ProverError(stage: .addPieces, message: "cannot size the staged file \(staged): \(String(cString: strerror(errno)))")
            }
            return [pledge]
        }
        let type = try Self.seal(sector, .addPieces)
        _ = try? FileManager.default.removeItem(atPath: staged)
        var placed: [UInt64] = []
        for piece in pieces {
            let cid = PieceCID.string(piece.commP)
            guard let source = localPiecesDirs.lazy.flatMap({ ["\($0)/\(cid)", "\($0)/\(cid).car"] })
                .first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw ProverError(stage: .addPieces, message: "piece \(cid) is in none of local_pieces_dirs (\(localPiecesDirs.joined(separator: ", ")))")
            }
            let write = try call(.addPieces) { () throws(FilCryptoError) in
                try library.writeWithAlignment(type, sourcePath: source, sourceSize: piece.size, stagedPath: staged, existingPieceSizes: placed)
            }
            guard write.commP == piece.commP else {
                throw ProverError(stage: .addPieces, message: "piece file \(source) commits to \(PieceCID.string(write.commP)), not to \(cid)")
            }
            placed.append(piece.size)
        }
        return pieces
    }

    public func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let type = try Self.seal(sector, .treeD)
        return try call(.treeD) { () throws(FilCryptoError) in try library.generateDataCommitment(type, pieces: Self.pieces(pieces)) }
    }

    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let type = try Self.seal(sector, .pc1)
        try Self.prepare(.pc1, directories: [sector.paths.cache], files: [sector.paths.sealed])
        return try call(.pc1) { () throws(FilCryptoError) in
            try library.sealPreCommitPhase1(type, cacheDir: sector.paths.cache, stagedPath: sector.paths.staged, sealedPath: sector.paths.sealed,
                                            sectorID: sector.id.number, proverID: sector.proverID.bytes, ticket: ticket, pieces: Self.pieces(pieces))
        }
    }

    public func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments {
        let out = try call(.pc2) { () throws(FilCryptoError) in
            try library.sealPreCommitPhase2(phase1Output: pc1Output, cacheDir: sector.paths.cache, sealedPath: sector.paths.sealed)
        }
        return Commitments(commR: out.commR, commD: out.commD)
    }

    public func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {
        let type = try Self.seal(sector, .synthProof)
        try call(.synthProof) { () throws(FilCryptoError) in
            try library.generateSynthProofs(type, commR: commitments.commR, commD: commitments.commD, cacheDir: sector.paths.cache,
                                            replicaPath: sector.paths.sealed, sectorID: sector.id.number, proverID: sector.proverID.bytes,
                                            ticket: ticket, pieces: Self.pieces(pieces))
        }
    }

    public func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let type = try Self.seal(sector, .c1)
        return try call(.c1) { () throws(FilCryptoError) in
            try library.sealCommitPhase1(type, commR: commitments.commR, commD: commitments.commD, cacheDir: sector.paths.cache,
                                         replicaPath: sector.paths.sealed, sectorID: sector.id.number, proverID: sector.proverID.bytes,
                                         ticket: ticket, seed: seed, pieces: Self.pieces(pieces))
        }
    }

    public func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] {
        try call(.c2) { () throws(FilCryptoError) in
            try library.sealCommitPhase2(phase1Output: c1Output, sectorID: sector.id.number, proverID: sector.proverID.bytes)
        }
    }

    public func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        guard let type = FilCrypto.SealProofType(id: sector.proof.id) else { return false }
        return (try? library.verifySeal(type, commR: commitments.commR, commD: commitments.commD, proverID: sector.proverID.bytes,
                                        ticket: ticket, seed: seed, sectorID: sector.id.number, proofBytes: proof)) ?? false
    }

    public func clearCache(_ sector: SectorRef) async throws(ProverError) {
        guard FileManager.default.fileExists(atPath: sector.paths.cache) else { return }
        try call(.transfer) { () throws(FilCryptoError) in try library.clearCache(cacheDir: sector.paths.cache) }
    }

    // MARK: - Snap deals

    private static func update(_ sector: SectorRef, _ stage: ProofStage) throws(ProverError) -> FilCrypto.UpdateProofType {
        guard let type = FilCrypto.UpdateProofType(id: sector.proof.updateProof.id) else {
            throw ProverError(stage: stage, message: "filecoin-ffi has no update proof for \(sector.proof)")
        }
        return type
    }

    public func snapEncode(_ sector: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        let type = try Self.update(sector, .snapEncode)
        try Self.prepare(.snapEncode, directories: [sector.paths.cache], files: [sector.paths.sealed])
        let out = try call(.snapEncode) { () throws(FilCryptoError) in
            try library.emptySectorUpdateEncodeInto(type, newReplicaPath: sector.paths.sealed, newCacheDir: sector.paths.cache,
                                                    sectorKeyPath: old.sealed, sectorKeyCacheDir: old.cache,
                                                    stagedDataPath: sector.paths.staged, pieces: Self.pieces(pieces))
        }
        return Commitments(commR: out.commRNew, commD: out.commDNew)
    }

    public func snapProve(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        let type = try Self.update(sector, .snapProve)
        return try call(.snapProve) { () throws(FilCryptoError) in
            try library.generateEmptySectorUpdateProof(type, commROld: oldCommR, commRNew: new.commR, commDNew: new.commD,
                                                       sectorKeyPath: old.sealed, sectorKeyCacheDir: old.cache,
                                                       replicaPath: sector.paths.sealed, replicaCacheDir: sector.paths.cache)
        }
    }

    public func snapVanillaProofs(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [[UInt8]]? {
        let type = try Self.update(sector, .snapProve)
        return try call(.snapProve) { () throws(FilCryptoError) in
            try library.generateEmptySectorUpdatePartitionProofs(type, commROld: oldCommR, commRNew: new.commR, commDNew: new.commD,
                                                                 sectorKeyPath: old.sealed, sectorKeyCacheDir: old.cache,
                                                                 replicaPath: sector.paths.sealed, replicaCacheDir: sector.paths.cache)
        }
    }

    public func snapProve(_ sector: SectorRef, vanillaProofs: [[UInt8]], oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        let type = try Self.update(sector, .snapProve)
        return try call(.snapProve) { () throws(FilCryptoError) in
            try library.generateEmptySectorUpdateProofWithVanilla(type, vanillaProofs: vanillaProofs, commROld: oldCommR,
                                                                  commRNew: new.commR, commDNew: new.commD)
        }
    }

    // MARK: - Unseal and window PoSt

    public func unseal(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 {
        let type = try Self.seal(sector, .unseal)
        try Self.prepare(.unseal, directories: [Self.parent(output)])
        try call(.unseal) { () throws(FilCryptoError) in
            try library.unsealRange(type, cacheDir: sector.paths.cache, sealedPath: sector.paths.sealed, outputPath: output,
                                    sectorID: sector.id.number, proverID: sector.proverID.bytes, ticket: ticket, commD: commD,
                                    offset: offset, length: length)
        }
        return length
    }

    /// Faulty sectors are reported, not thrown: the manager declares them and the rest is proven
    /// on the next attempt, as damocles does.
    public func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
        guard let type = FilCrypto.PoStProofType(id: proof.id) else {
            throw ProverError(stage: .windowPost, message: "filecoin-ffi has no PoSt proof \(proof)")
        }
        let prover = ProverID(miner: miner).bytes
        let privates = replicas.map {
            FilCrypto.PrivateReplica(proofType: type, cacheDir: $0.cacheDir, commR: $0.commR, replicaPath: $0.sealedFile, sectorID: $0.sector)
        }
        do {
            let proofs = try library.generateWindowPoSt(randomness: randomness, replicas: privates, proverID: prover)
            return WindowPoStResult(proofs: proofs.map(\.bytes))
        } catch {
            if !error.faultySectors.isEmpty { return WindowPoStResult(proofs: [], faultySectors: error.faultySectors) }
            throw ProverError(stage: .windowPost, message: "\(error)", retryable: error.kind == .temporary)
        }
    }
}
