import CFilcrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The wrappers: Swift values in, Swift values out. Each copies its arguments into C memory it
// owns for the call (`Arguments`), calls, reads the response, and hands the response to its
// destroy_* exactly once (`finish`'s defer), error or not.

extension FilCrypto {
    // MARK: Pieces

    /// `generate_piece_commitment`: commP of `unpaddedSize` bytes read from `pieceFD` at its
    /// current offset (the fd stays open and is not rewound).
    public func generatePieceCommitment(_ proof: SealProofType, pieceFD: Int32, unpaddedSize: UInt64) throws(FilCryptoError) -> PieceCommitment {
        try finish("generate_piece_commitment", symbols.generatePieceCommitment(proof.rawValue, pieceFD, unpaddedSize),
                   { symbols.destroyPieceCommitment($0) }) { r in
            PieceCommitment(commP: bytes(r.value.comm_p), alignedSize: r.value.num_bytes_aligned)
        }
    }

    /// `generate_piece_commitment` of the first `unpaddedSize` bytes of the file at `piecePath`.
    public func generatePieceCommitment(_ proof: SealProofType, piecePath: String, unpaddedSize: UInt64) throws(FilCryptoError) -> PieceCommitment {
        let fd = try openFile(piecePath, O_RDONLY, call: "generate_piece_commitment")
        defer { close(fd) }
        return try generatePieceCommitment(proof, pieceFD: fd, unpaddedSize: unpaddedSize)
    }

    /// `generate_data_commitment`: commD of a sector holding `pieces`.
    public func generateDataCommitment(_ proof: SealProofType, pieces: [Piece]) throws(FilCryptoError) -> [UInt8] {
        let call = "generate_data_commitment"
        let args = Arguments(call)
        defer { args.release() }
        let cPieces = try args.pieces(pieces)
        return try finish(call, symbols.generateDataCommitment(proof.rawValue, cPieces), { symbols.destroyDataCommitment($0) }) { r in
            bytes(r.value)
        }
    }

    /// `write_with_alignment`: appends the piece (`sourceSize` bytes from `sourceFD`) to the
    /// staged sector at `destinationFD`, after the zeros that align it behind `existingPieceSizes`
    /// (unpadded sizes of the pieces already there).
    public func writeWithAlignment(_ proof: SealProofType, sourceFD: Int32, sourceSize: UInt64, destinationFD: Int32,
                                   existingPieceSizes: [UInt64]) throws(FilCryptoError) -> PieceWrite {
        let call = "write_with_alignment"
        let args = Arguments(call)
        defer { args.release() }
        let sizes = args.uint64s(existingPieceSizes)
        return try finish(call, symbols.writeWithAlignment(proof.rawValue, sourceFD, sourceSize, destinationFD, sizes),
                          { symbols.destroyWriteWithAlignment($0) }) { r in
            PieceWrite(commP: bytes(r.value.comm_p), leftAlignment: r.value.left_alignment_unpadded,
                       totalWritten: r.value.total_write_unpadded)
        }
    }

    /// `write_with_alignment` from the file at `sourcePath` to the end of the file at
    /// `stagedPath` (created when missing).
    public func writeWithAlignment(_ proof: SealProofType, sourcePath: String, sourceSize: UInt64, stagedPath: String,
                                   existingPieceSizes: [UInt64]) throws(FilCryptoError) -> PieceWrite {
        let call = "write_with_alignment"
        let source = try openFile(sourcePath, O_RDONLY, call: call)
        defer { close(source) }
        let staged = try openFile(stagedPath, O_WRONLY | O_CREAT | O_APPEND, call: call)
        defer { close(staged) }
        return try writeWithAlignment(proof, sourceFD: source, sourceSize: sourceSize, destinationFD: staged,
                                      existingPieceSizes: existingPieceSizes)
    }

    /// `write_without_alignment`: writes the piece at `destinationFD`'s current offset, padded
    /// to its aligned size, with no leading alignment.
    public func writeWithoutAlignment(_ proof: SealProofType, sourceFD: Int32, sourceSize: UInt64,
                                      destinationFD: Int32) throws(FilCryptoError) -> PieceWrite {
        try finish("write_without_alignment", symbols.writeWithoutAlignment(proof.rawValue, sourceFD, sourceSize, destinationFD),
                   { symbols.destroyWriteWithoutAlignment($0) }) { r in
            PieceWrite(commP: bytes(r.value.comm_p), leftAlignment: 0, totalWritten: r.value.total_write_unpadded)
        }
    }

    // MARK: Sealing

    /// `seal_pre_commit_phase1`: returns the opaque PC1 output that `sealPreCommitPhase2` takes.
    /// `cacheDir`, `stagedPath` and `sealedPath` must exist.
    public func sealPreCommitPhase1(_ proof: SealProofType, cacheDir: String, stagedPath: String, sealedPath: String,
                                    sectorID: UInt64, proverID: [UInt8], ticket: [UInt8], pieces: [Piece]) throws(FilCryptoError) -> [UInt8] {
        let call = "seal_pre_commit_phase1"
        let args = Arguments(call)
        defer { args.release() }
        let prover = try args.array32(proverID, "prover_id")
        let ticket = try args.array32(ticket, "ticket")
        let cPieces = try args.pieces(pieces)
        let response = symbols.sealPreCommitPhase1(proof.rawValue, args.path(cacheDir), args.path(stagedPath), args.path(sealedPath),
                                                   sectorID, prover, ticket, cPieces)
        return try finish(call, response, { symbols.destroySealPreCommitPhase1($0) }) { r in bytes(r.value) }
    }

    /// `seal_pre_commit_phase2`: commR and commD from the PC1 output.
    public func sealPreCommitPhase2(phase1Output: [UInt8], cacheDir: String, sealedPath: String) throws(FilCryptoError) -> PreCommitPhase2Output {
        let call = "seal_pre_commit_phase2"
        let args = Arguments(call)
        defer { args.release() }
        let response = symbols.sealPreCommitPhase2(args.bytes(phase1Output), args.path(cacheDir), args.path(sealedPath))
        return try finish(call, response, { symbols.destroySealPreCommitPhase2($0) }) { r in
            PreCommitPhase2Output(proofType: r.value.registered_proof, commD: bytes(r.value.comm_d), commR: bytes(r.value.comm_r))
        }
    }

    /// `generate_synth_proofs`: writes the synthetic PoRep proofs into `cacheDir` (proof types
    /// with SyntheticPoRep only, between PC2 and C1).
    public func generateSynthProofs(_ proof: SealProofType, commR: [UInt8], commD: [UInt8], cacheDir: String, replicaPath: String,
                                    sectorID: UInt64, proverID: [UInt8], ticket: [UInt8], pieces: [Piece]) throws(FilCryptoError) {
        let call = "generate_synth_proofs"
        let args = Arguments(call)
        defer { args.release() }
        let commR = try args.array32(commR, "comm_r")
        let commD = try args.array32(commD, "comm_d")
        let prover = try args.array32(proverID, "prover_id")
        let ticket = try args.array32(ticket, "ticket")
        let cPieces = try args.pieces(pieces)
        let response = symbols.generateSynthProofs(proof.rawValue, commR, commD, args.path(cacheDir), args.path(replicaPath),
                                                   sectorID, prover, ticket, cPieces)
        try finish(call, response, { symbols.destroyGenerateSynthProofs($0) }) { _ in () }
    }

    /// `seal_commit_phase1`: the opaque C1 output that `sealCommitPhase2` takes.
    public func sealCommitPhase1(_ proof: SealProofType, commR: [UInt8], commD: [UInt8], cacheDir: String, replicaPath: String,
                                 sectorID: UInt64, proverID: [UInt8], ticket: [UInt8], seed: [UInt8],
                                 pieces: [Piece]) throws(FilCryptoError) -> [UInt8] {
        let call = "seal_commit_phase1"
        let args = Arguments(call)
        defer { args.release() }
        let commR = try args.array32(commR, "comm_r")
        let commD = try args.array32(commD, "comm_d")
        let prover = try args.array32(proverID, "prover_id")
        let ticket = try args.array32(ticket, "ticket")
        let seed = try args.array32(seed, "seed")
        let cPieces = try args.pieces(pieces)
        let response = symbols.sealCommitPhase1(proof.rawValue, commR, commD, args.path(cacheDir), args.path(replicaPath),
                                                sectorID, prover, ticket, seed, cPieces)
        return try finish(call, response, { symbols.destroySealCommitPhase1($0) }) { r in bytes(r.value) }
    }

    /// `seal_commit_phase2`: the seal proof (the SNARK) from the C1 output.
    public func sealCommitPhase2(phase1Output: [UInt8], sectorID: UInt64, proverID: [UInt8]) throws(FilCryptoError) -> [UInt8] {
        let call = "seal_commit_phase2"
        let args = Arguments(call)
        defer { args.release() }
        let prover = try args.array32(proverID, "prover_id")
        let response = symbols.sealCommitPhase2(args.bytes(phase1Output), sectorID, prover)
        return try finish(call, response, { symbols.destroySealCommitPhase2($0) }) { r in bytes(r.value) }
    }

    /// `verify_seal`: whether `proof` proves this sector's seal.
    public func verifySeal(_ proof: SealProofType, commR: [UInt8], commD: [UInt8], proverID: [UInt8], ticket: [UInt8], seed: [UInt8],
                           sectorID: UInt64, proofBytes: [UInt8]) throws(FilCryptoError) -> Bool {
        let call = "verify_seal"
        let args = Arguments(call)
        defer { args.release() }
        let commR = try args.array32(commR, "comm_r")
        let commD = try args.array32(commD, "comm_d")
        let prover = try args.array32(proverID, "prover_id")
        let ticket = try args.array32(ticket, "ticket")
        let seed = try args.array32(seed, "seed")
        let response = symbols.verifySeal(proof.rawValue, commR, commD, prover, ticket, seed, sectorID, args.bytes(proofBytes))
        return try finish(call, response, { symbols.destroyVerifySeal($0) }) { r in r.value }
    }

    /// `unseal_range`: writes `length` unsealed bytes, from unpadded offset `offset` of the
    /// sector, to `outputFD` at its current offset. The fds stay open.
    public func unsealRange(_ proof: SealProofType, cacheDir: String, sealedFD: Int32, outputFD: Int32, sectorID: UInt64,
                            proverID: [UInt8], ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64) throws(FilCryptoError) {
        let call = "unseal_range"
        let args = Arguments(call)
        defer { args.release() }
        let prover = try args.array32(proverID, "prover_id")
        let ticket = try args.array32(ticket, "ticket")
        let commD = try args.array32(commD, "comm_d")
        let response = symbols.unsealRange(proof.rawValue, args.path(cacheDir), sealedFD, outputFD, sectorID, prover, ticket, commD,
                                           offset, length)
        try finish(call, response, { symbols.destroyUnsealRange($0) }) { _ in () }
    }

    /// `unseal_range` from the sealed file at `sealedPath` into `outputPath` (created or truncated).
    public func unsealRange(_ proof: SealProofType, cacheDir: String, sealedPath: String, outputPath: String, sectorID: UInt64,
                            proverID: [UInt8], ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64) throws(FilCryptoError) {
        let call = "unseal_range"
        let sealed = try openFile(sealedPath, O_RDONLY, call: call)
        defer { close(sealed) }
        let output = try openFile(outputPath, O_WRONLY | O_CREAT | O_TRUNC, call: call)
        defer { close(output) }
        try unsealRange(proof, cacheDir: cacheDir, sealedFD: sealed, outputFD: output, sectorID: sectorID, proverID: proverID,
                        ticket: ticket, commD: commD, offset: offset, length: length)
    }

    /// `clear_cache`: removes what a finalized sector's cache no longer needs (layers, tree-c,
    /// tree-d), keeping p_aux, t_aux and tree-r-last.
    public func clearCache(cacheDir: String) throws(FilCryptoError) {
        let call = "clear_cache"
        let args = Arguments(call)
        defer { args.release() }
        try finish(call, symbols.clearCache(args.path(cacheDir)), { symbols.destroyClearCache($0) }) { _ in () }
    }

    // MARK: Window PoSt

    /// `generate_window_post`: the window PoSt proofs for `replicas`. When the library finds
    /// faulty sectors it fails: the thrown error's `faultySectors` names them.
    public func generateWindowPoSt(randomness: [UInt8], replicas: [PrivateReplica], proverID: [UInt8]) throws(FilCryptoError) -> [PoStProofBytes] {
        let call = "generate_window_post"
        let args = Arguments(call)
        defer { args.release() }
        let random = try args.array32(randomness, "randomness")
        let prover = try args.array32(proverID, "prover_id")
        let cReplicas = try args.privateReplicas(replicas)
        return try finishWindowPoSt(call, symbols.generateWindowPoSt(random, cReplicas, prover))
    }

    /// `generate_window_post_with_vanilla`: window PoSt proofs from vanilla proofs computed elsewhere.
    public func generateWindowPoStWithVanilla(_ proof: PoStProofType, randomness: [UInt8], proverID: [UInt8],
                                              vanillaProofs: [[UInt8]]) throws(FilCryptoError) -> [PoStProofBytes] {
        let call = "generate_window_post_with_vanilla"
        let args = Arguments(call)
        defer { args.release() }
        let random = try args.array32(randomness, "randomness")
        let prover = try args.array32(proverID, "prover_id")
        let vanilla = args.byteLists(vanillaProofs)
        return try finishWindowPoSt(call, symbols.generateWindowPoStWithVanilla(proof.rawValue, random, prover, vanilla))
    }

    /// `generate_fallback_sector_challenges`: each sector's challenges for this randomness, in
    /// the library's order (ascending sector id), for `generateSingleVanillaProof`.
    public func generateFallbackSectorChallenges(_ proof: PoStProofType, randomness: [UInt8], sectorIDs: [UInt64],
                                                 proverID: [UInt8]) throws(FilCryptoError) -> [SectorChallenges] {
        let call = "generate_fallback_sector_challenges"
        let args = Arguments(call)
        defer { args.release() }
        let random = try args.array32(randomness, "randomness")
        let prover = try args.array32(proverID, "prover_id")
        let response = symbols.generateFallbackSectorChallenges(proof.rawValue, random, args.uint64s(sectorIDs), prover)
        return try finish(call, response, { symbols.destroyFallbackSectorChallenges($0) }) { r in
            let ids = UnsafeBufferPointer(start: r.value.ids.ptr, count: r.value.ids.len)
            let lists = UnsafeBufferPointer(start: r.value.challenges.ptr, count: r.value.challenges.len)
            return zip(ids, lists).map { id, list in
                SectorChallenges(sectorID: id, challenges: Array(UnsafeBufferPointer(start: list.ptr, count: list.len)))
            }
        }
    }

    /// `generate_single_vanilla_proof`: one sector's vanilla proof for its challenges, for
    /// `generateWindowPoStWithVanilla`.
    public func generateSingleVanillaProof(replica: PrivateReplica, challenges: [UInt64]) throws(FilCryptoError) -> [UInt8] {
        let call = "generate_single_vanilla_proof"
        let args = Arguments(call)
        defer { args.release() }
        let cReplica = try args.privateReplica(replica, "replica")
        let response = symbols.generateSingleVanillaProof(cReplica, args.uint64s(challenges))
        return try finish(call, response, { symbols.destroySingleVanillaProof($0) }) { r in bytes(r.value) }
    }

    /// `verify_window_post`: whether `proofs` prove `replicas` for this randomness.
    public func verifyWindowPoSt(randomness: [UInt8], replicas: [PublicReplica], proofs: [PoStProofBytes],
                                 proverID: [UInt8]) throws(FilCryptoError) -> Bool {
        let call = "verify_window_post"
        let args = Arguments(call)
        defer { args.release() }
        let random = try args.array32(randomness, "randomness")
        let prover = try args.array32(proverID, "prover_id")
        let cReplicas = try args.publicReplicas(replicas)
        let cProofs = args.postProofs(proofs)
        return try finish(call, symbols.verifyWindowPoSt(random, cReplicas, cProofs, prover), { symbols.destroyVerifyWindowPoSt($0) }) { r in
            r.value
        }
    }

    // MARK: SnapDeals

    /// `empty_sector_update_encode_into`: encodes `stagedDataPath` into the CC sector's key
    /// (`sectorKeyPath`, its cache `sectorKeyCacheDir`), writing `newReplicaPath` (must exist)
    /// and `newCacheDir`.
    public func emptySectorUpdateEncodeInto(_ proof: UpdateProofType, newReplicaPath: String, newCacheDir: String, sectorKeyPath: String,
                                            sectorKeyCacheDir: String, stagedDataPath: String,
                                            pieces: [Piece]) throws(FilCryptoError) -> SnapEncoding {
        let call = "empty_sector_update_encode_into"
        let args = Arguments(call)
        defer { args.release() }
        let cPieces = try args.pieces(pieces)
        let response = symbols.emptySectorUpdateEncodeInto(proof.rawValue, args.path(newReplicaPath), args.path(newCacheDir),
                                                           args.path(sectorKeyPath), args.path(sectorKeyCacheDir),
                                                           args.path(stagedDataPath), cPieces)
        return try finish(call, response, { symbols.destroyEmptySectorUpdateEncodeInto($0) }) { r in
            SnapEncoding(commRNew: bytes(r.value.comm_r_new), commRLastNew: bytes(r.value.comm_r_last_new),
                         commDNew: bytes(r.value.comm_d_new))
        }
    }

    /// `generate_empty_sector_update_partition_proofs`: the partition (vanilla) proofs of an
    /// update, for `generateEmptySectorUpdateProofWithVanilla`.
    public func generateEmptySectorUpdatePartitionProofs(_ proof: UpdateProofType, commROld: [UInt8], commRNew: [UInt8], commDNew: [UInt8],
                                                         sectorKeyPath: String, sectorKeyCacheDir: String, replicaPath: String,
                                                         replicaCacheDir: String) throws(FilCryptoError) -> [[UInt8]] {
        let call = "generate_empty_sector_update_partition_proofs"
        let args = Arguments(call)
        defer { args.release() }
        let old = try args.array32(commROld, "comm_r_old")
        let newR = try args.array32(commRNew, "comm_r_new")
        let newD = try args.array32(commDNew, "comm_d_new")
        let response = symbols.generateEmptySectorUpdatePartitionProofs(proof.rawValue, old, newR, newD, args.path(sectorKeyPath),
                                                                        args.path(sectorKeyCacheDir), args.path(replicaPath),
                                                                        args.path(replicaCacheDir))
        return try finish(call, response, { symbols.destroyEmptySectorUpdatePartitionProofs($0) }) { r in
            UnsafeBufferPointer(start: r.value.ptr, count: r.value.len).map(bytes)
        }
    }

    /// `generate_empty_sector_update_proof_with_vanilla`: the update proof from partition
    /// (vanilla) proofs computed elsewhere.
    public func generateEmptySectorUpdateProofWithVanilla(_ proof: UpdateProofType, vanillaProofs: [[UInt8]], commROld: [UInt8],
                                                          commRNew: [UInt8], commDNew: [UInt8]) throws(FilCryptoError) -> [UInt8] {
        let call = "generate_empty_sector_update_proof_with_vanilla"
        let args = Arguments(call)
        defer { args.release() }
        let old = try args.array32(commROld, "comm_r_old")
        let newR = try args.array32(commRNew, "comm_r_new")
        let newD = try args.array32(commDNew, "comm_d_new")
        let response = symbols.generateEmptySectorUpdateProofWithVanilla(proof.rawValue, args.byteLists(vanillaProofs), old, newR, newD)
        return try finish(call, response, { symbols.destroyEmptySectorUpdateGenerateProof($0) }) { r in bytes(r.value) }
    }

    /// `generate_empty_sector_update_proof`: the update proof from the old and new replicas.
    public func generateEmptySectorUpdateProof(_ proof: UpdateProofType, commROld: [UInt8], commRNew: [UInt8], commDNew: [UInt8],
                                               sectorKeyPath: String, sectorKeyCacheDir: String, replicaPath: String,
                                               replicaCacheDir: String) throws(FilCryptoError) -> [UInt8] {
        let call = "generate_empty_sector_update_proof"
        let args = Arguments(call)
        defer { args.release() }
        let old = try args.array32(commROld, "comm_r_old")
        let newR = try args.array32(commRNew, "comm_r_new")
        let newD = try args.array32(commDNew, "comm_d_new")
        let response = symbols.generateEmptySectorUpdateProof(proof.rawValue, old, newR, newD, args.path(sectorKeyPath),
                                                              args.path(sectorKeyCacheDir), args.path(replicaPath),
                                                              args.path(replicaCacheDir))
        return try finish(call, response, { symbols.destroyEmptySectorUpdateGenerateProof($0) }) { r in bytes(r.value) }
    }

    /// `verify_empty_sector_update_proof`: whether `proofBytes` proves the update.
    public func verifyEmptySectorUpdateProof(_ proof: UpdateProofType, proofBytes: [UInt8], commROld: [UInt8], commRNew: [UInt8],
                                             commDNew: [UInt8]) throws(FilCryptoError) -> Bool {
        let call = "verify_empty_sector_update_proof"
        let args = Arguments(call)
        defer { args.release() }
        let old = try args.array32(commROld, "comm_r_old")
        let newR = try args.array32(commRNew, "comm_r_new")
        let newD = try args.array32(commDNew, "comm_d_new")
        let response = symbols.verifyEmptySectorUpdateProof(proof.rawValue, args.bytes(proofBytes), old, newR, newD)
        return try finish(call, response, { symbols.destroyEmptySectorUpdateVerifyProof($0) }) { r in r.value }
    }

    // MARK: Devices

    /// `get_gpu_devices`: the names of the GPUs the library can use (empty for a CPU-only build).
    public func gpuDevices() throws(FilCryptoError) -> [String] {
        try finish("get_gpu_devices", symbols.getGPUDevices(), { symbols.destroyGPUDevices($0) }) { r in
            UnsafeBufferPointer(start: r.value.ptr, count: r.value.len).map { String(decoding: bytes($0), as: UTF8.self) }
        }
    }

    // MARK: Plumbing

    /// Reads `response` with `read` unless its status is an error, then hands it to `destroy`
    /// (once, in every case). A null response is a temporary error.
    private func finish<R: FilResponse, T>(_ call: String, _ response: UnsafeMutablePointer<R>?,
                                           _ destroy: (UnsafeMutablePointer<R>) -> Void,
                                           _ read: (R) -> T) throws(FilCryptoError) -> T {
        guard let response else {
            throw FilCryptoError(call: call, status: FilCryptoError.unclassifiedError, message: "the library returned no response")
        }
        defer { destroy(response) }
        let value = response.pointee
        guard value.status_code == 0 else {
            throw FilCryptoError(call: call, status: value.status_code, message: message(value.error_msg))
        }
        return read(value)
    }

    /// `finish` for the window PoSt responses, whose errors carry the faulty sectors.
    private func finishWindowPoSt(_ call: String, _ response: UnsafeMutablePointer<Result_GenerateWindowPoSt_t>?) throws(FilCryptoError) -> [PoStProofBytes] {
        guard let response else {
            throw FilCryptoError(call: call, status: FilCryptoError.unclassifiedError, message: "the library returned no response")
        }
        defer { symbols.destroyGenerateWindowPoSt(response) }
        let value = response.pointee
        guard value.status_code == 0 else {
            let faulty = Array(UnsafeBufferPointer(start: value.value.faulty_sectors.ptr, count: value.value.faulty_sectors.len))
            throw FilCryptoError(call: call, status: value.status_code, message: message(value.error_msg), faultySectors: faulty)
        }
        return UnsafeBufferPointer(start: value.value.proofs.ptr, count: value.value.proofs.len).map {
            PoStProofBytes(proofType: $0.registered_proof, bytes: bytes($0.proof))
        }
    }

    private func message(_ slice: slice_boxed_uint8_t) -> String {
        let text = String(decoding: bytes(slice), as: UTF8.self)
        return text.isEmpty ? "(no message)" : text
    }

    private func openFile(_ path: String, _ flags: Int32, call: String) throws(FilCryptoError) -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw FilCryptoError(call: call, status: FilCryptoError.callerError, message: "cannot open \(path): \(reason)")
        }
        return fd
    }
}

/// What every safer_ffi response starts with.
protocol FilResponse {
    var status_code: FCPResponseStatus_t { get }
    var error_msg: slice_boxed_uint8_t { get }
}

extension Result_void_t: FilResponse {}
extension Result_bool_t: FilResponse {}
extension Result_uint8_32_array_t: FilResponse {}
extension Result_slice_boxed_uint8_t: FilResponse {}
extension Result_slice_boxed_slice_boxed_uint8_t: FilResponse {}
extension Result_GeneratePieceCommitment_t: FilResponse {}
extension Result_WriteWithAlignment_t: FilResponse {}
extension Result_WriteWithoutAlignment_t: FilResponse {}
extension Result_SealPreCommitPhase2_t: FilResponse {}
extension Result_GenerateWindowPoSt_t: FilResponse {}
extension Result_EmptySectorUpdateEncodeInto_t: FilResponse {}
extension Result_GenerateFallbackSectorChallenges_t: FilResponse {}

private func bytes(_ slice: slice_boxed_uint8_t) -> [UInt8] {
    Array(UnsafeBufferPointer(start: slice.ptr, count: slice.len))
}

private func bytes(_ array: uint8_32_array_t) -> [UInt8] {
    withUnsafeBytes(of: array) { Array($0) }
}

/// C copies of one call's arguments, freed together by `release()` after the call. Every slice
/// gets a real allocation, even an empty one: Rust slices may not carry a null pointer.
private final class Arguments {
    private let call: String
    private var blocks: [UnsafeMutableRawPointer] = []

    init(_ call: String) { self.call = call }

    func release() {
        for block in blocks { block.deallocate() }
        blocks.removeAll()
    }

    private func allocate<T>(_ count: Int, of type: T.Type) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride,
                                                   alignment: max(MemoryLayout<T>.alignment, 8))
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    private func copy(_ bytes: some Collection<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let pointer = allocate(bytes.count, of: UInt8.self)
        _ = UnsafeMutableBufferPointer(start: pointer, count: bytes.count).initialize(from: bytes)
        return pointer
    }

    func bytes(_ bytes: [UInt8]) -> slice_ref_uint8_t {
        slice_ref_uint8_t(ptr: UnsafePointer(copy(bytes)), len: bytes.count)
    }

    func boxed(_ bytes: some Collection<UInt8>) -> slice_boxed_uint8_t {
        slice_boxed_uint8_t(ptr: copy(bytes), len: bytes.count)
    }

    /// A path as its UTF-8 bytes (no terminating NUL, as filecoin-ffi reads it).
    func path(_ path: String) -> slice_ref_uint8_t {
        let utf8 = Array(path.utf8)
        return slice_ref_uint8_t(ptr: UnsafePointer(copy(utf8)), len: utf8.count)
    }

    func array32(_ bytes: [UInt8], _ what: String) throws(FilCryptoError) -> UnsafePointer<uint8_32_array_t> {
        guard bytes.count == 32 else {
            throw FilCryptoError(call: call, status: FilCryptoError.callerError, message: "\(what) must be 32 bytes, got \(bytes.count)")
        }
        let pointer = allocate(1, of: uint8_32_array_t.self)
        pointer.initialize(to: cfil_array32(copy(bytes)))
        return UnsafePointer(pointer)
    }

    private func value32(_ bytes: [UInt8], _ what: String) throws(FilCryptoError) -> uint8_32_array_t {
        try array32(bytes, what).pointee
    }

    func uint64s(_ values: [UInt64]) -> slice_ref_uint64_t {
        let pointer = allocate(values.count, of: UInt64.self)
        _ = UnsafeMutableBufferPointer(start: pointer, count: values.count).initialize(from: values)
        return slice_ref_uint64_t(ptr: UnsafePointer(pointer), len: values.count)
    }

    func pieces(_ pieces: [FilCrypto.Piece]) throws(FilCryptoError) -> slice_ref_PublicPieceInfo_t {
        let pointer = allocate(pieces.count, of: PublicPieceInfo_t.self)
        for (i, piece) in pieces.enumerated() {
            (pointer + i).initialize(to: PublicPieceInfo_t(num_bytes: piece.size, comm_p: try value32(piece.commP, "pieces[\(i)].comm_p")))
        }
        return slice_ref_PublicPieceInfo_t(ptr: UnsafePointer(pointer), len: pieces.count)
    }

    func byteLists(_ lists: [[UInt8]]) -> slice_ref_slice_boxed_uint8_t {
        let pointer = allocate(lists.count, of: slice_boxed_uint8_t.self)
        for (i, list) in lists.enumerated() { (pointer + i).initialize(to: boxed(list)) }
        return slice_ref_slice_boxed_uint8_t(ptr: UnsafePointer(pointer), len: lists.count)
    }

    /// A replica whose paths live in this call's memory; `what` names it in errors.
    func privateReplica(_ replica: FilCrypto.PrivateReplica, _ what: String) throws(FilCryptoError) -> PrivateReplicaInfo_t {
        PrivateReplicaInfo_t(registered_proof: replica.proofType.rawValue, cache_dir_path: boxed(replica.cacheDir.utf8),
                             comm_r: try value32(replica.commR, what + ".comm_r"), replica_path: boxed(replica.replicaPath.utf8),
                             sector_id: replica.sectorID)
    }

    func privateReplicas(_ replicas: [FilCrypto.PrivateReplica]) throws(FilCryptoError) -> slice_ref_PrivateReplicaInfo_t {
        let pointer = allocate(replicas.count, of: PrivateReplicaInfo_t.self)
        for (i, replica) in replicas.enumerated() {
            (pointer + i).initialize(to: try privateReplica(replica, "replicas[\(i)]"))
        }
        return slice_ref_PrivateReplicaInfo_t(ptr: UnsafePointer(pointer), len: replicas.count)
    }

    func publicReplicas(_ replicas: [FilCrypto.PublicReplica]) throws(FilCryptoError) -> slice_ref_PublicReplicaInfo_t {
        let pointer = allocate(replicas.count, of: PublicReplicaInfo_t.self)
        for (i, replica) in replicas.enumerated() {
            (pointer + i).initialize(to: PublicReplicaInfo_t(
                registered_proof: replica.proofType.rawValue, comm_r: try value32(replica.commR, "replicas[\(i)].comm_r"),
                sector_id: replica.sectorID))
        }
        return slice_ref_PublicReplicaInfo_t(ptr: UnsafePointer(pointer), len: replicas.count)
    }

    func postProofs(_ proofs: [FilCrypto.PoStProofBytes]) -> slice_ref_PoStProof_t {
        let pointer = allocate(proofs.count, of: PoStProof_t.self)
        for (i, proof) in proofs.enumerated() {
            (pointer + i).initialize(to: PoStProof_t(registered_proof: proof.proofType, proof: boxed(proof.bytes)))
        }
        return slice_ref_PoStProof_t(ptr: UnsafePointer(pointer), len: proofs.count)
    }
}
