import Foundation
import Testing
@testable import ProofsFFI

// FilCrypto against the libfilcrypto double (Tests/ProofsFFITests/FilCryptoDouble.swift): each
// wrapper returns the double's deterministic value, every response goes back to its own
// destroy_* exactly once, failures come back typed, and a bad library is a clear error.

@Suite("filecoin-ffi bindings against the C double")
struct FilCryptoTests {
    let prover = bytes32(0x11)
    let ticket = bytes32(0x22)
    let seed = bytes32(0x33)
    let proof = FilCrypto.SealProofType.stackedDrg2KiBV1_1

    @Test("loads the double from an explicit path with every symbol resolved")
    func loads() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        #expect(lib.path == double.path)
        #expect(FilCrypto.symbolNames.count == 44)
        #expect(Set(FilCrypto.symbolNames).count == FilCrypto.symbolNames.count)
        #expect(try lib.gpuDevices() == ["Double GPU 0", "Double GPU 1"])
        #expect(double.stats.clean, "\(double.stats)")
    }

    @Test("the path comes from the argument, else $FIL_PROOFS_LIBRARY, else the loader's libfilcrypto.so")
    func libraryPath() {
        #expect(FilCrypto.libraryPath("/a/lib.so", environment: ["FIL_PROOFS_LIBRARY": "/b/lib.so"]) == "/a/lib.so")
        #expect(FilCrypto.libraryPath(nil, environment: ["FIL_PROOFS_LIBRARY": "/b/lib.so"]) == "/b/lib.so")
        #expect(FilCrypto.libraryPath("", environment: ["FIL_PROOFS_LIBRARY": ""]) == "libfilcrypto.so")
        #expect(FilCrypto.libraryPath(nil, environment: [:]) == "libfilcrypto.so")
    }

    @Test("$FIL_PROOFS_LIBRARY loads the double when no path is given")
    func loadsFromEnvironment() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(environment: ["FIL_PROOFS_LIBRARY": double.path])
        #expect(lib.path == double.path)
    }

    @Test("pieces, PC1, PC2, synthetic proofs, C1, C2, verify, unseal and clear_cache return the double's values and free every response once")
    func sealPath() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])

        // Pieces.
        let data = Array("hello, filecoin".utf8)
        let piece = try double.file("piece.dat", data)
        let commP = Transcript.digest("commp") { $0.u64(UInt64(proof.rawValue)); $0.bytes(data) }
        let commitment = try lib.generatePieceCommitment(proof, piecePath: piece, unpaddedSize: UInt64(data.count))
        #expect(commitment == .init(commP: commP, alignedSize: 127))

        let staged = double.directory + "/staged"
        let first = try lib.writeWithAlignment(proof, sourcePath: piece, sourceSize: UInt64(data.count), stagedPath: staged,
                                               existingPieceSizes: [])
        #expect(first == .init(commP: commP, leftAlignment: 0, totalWritten: 127))
        let second = try lib.writeWithAlignment(proof, sourcePath: piece, sourceSize: UInt64(data.count), stagedPath: staged,
                                                existingPieceSizes: [100])
        #expect(second == .init(commP: commP, leftAlignment: 27, totalWritten: 27 + 127))
        #expect((try FileManager.default.attributesOfItem(atPath: staged)[.size] as? Int) == 127 + 27 + 127)

        let unaligned = try double.file("unaligned")
        let source = open(piece, O_RDONLY), destination = open(unaligned, O_WRONLY)
        defer { close(source); close(destination) }
        #expect(try lib.writeWithoutAlignment(proof, sourceFD: source, sourceSize: UInt64(data.count), destinationFD: destination)
            == .init(commP: commP, leftAlignment: 0, totalWritten: 127))

        let pieces = [FilCrypto.Piece(size: 127, commP: commP), FilCrypto.Piece(size: 127, commP: bytes32(9))]
        let commD = Transcript.digest("commd") { $0.u64(UInt64(proof.rawValue)); $0.pieces(pieces) }
        #expect(try lib.generateDataCommitment(proof, pieces: pieces) == commD)

        // PC1 → PC2.
        let cache = try double.dir("cache")
        let sealed = try double.file("sealed", Array(0..<200))
        let pc1 = try lib.sealPreCommitPhase1(proof, cacheDir: cache, stagedPath: staged, sealedPath: sealed, sectorID: 7,
                                              proverID: prover, ticket: ticket, pieces: pieces)
        let pc1Digest = Transcript.digest("pc1") { t in
            t.u64(UInt64(proof.rawValue)); t.string(cache); t.string(staged); t.string(sealed); t.u64(7)
            t.bytes(prover); t.bytes(ticket); t.bytes(commD)
        }
        #expect(pc1 == Array("PC1\0".utf8) + [UInt8(proof.rawValue), 0, 0, 0] + commD + pc1Digest)

        let pc2 = try lib.sealPreCommitPhase2(phase1Output: pc1, cacheDir: cache, sealedPath: sealed)
        let commR = Transcript.digest("commr") { $0.bytes(pc1); $0.string(cache); $0.string(sealed) }
        #expect(pc2 == .init(proofType: proof.rawValue, commD: commD, commR: commR))

        // Synthetic proofs land in the cache.
        try lib.generateSynthProofs(.stackedDrg2KiBV1_1SyntheticPoRep, commR: commR, commD: commD, cacheDir: cache, replicaPath: sealed,
                                    sectorID: 7, proverID: prover, ticket: ticket, pieces: pieces)
        let synth = Transcript.digest("synth") { t in
            t.u64(10); t.bytes(commR); t.bytes(commD); t.u64(7); t.bytes(prover); t.bytes(ticket); t.pieces(pieces)
        }
        #expect(FileManager.default.contents(atPath: cache + "/syn-porep-vanilla-proofs.dat") == Data(synth))

        // C1 → C2 → verify.
        let c1 = try lib.sealCommitPhase1(proof, commR: commR, commD: commD, cacheDir: cache, replicaPath: sealed, sectorID: 7,
                                          proverID: prover, ticket: ticket, seed: seed, pieces: pieces)
        #expect(c1.count == 176)
        let proofBytes = try lib.sealCommitPhase2(phase1Output: c1, sectorID: 7, proverID: prover)
        let expected = Transcript.digest("porep", 192) { t in
            t.u64(UInt64(proof.rawValue)); t.bytes(commR); t.bytes(commD); t.bytes(prover); t.bytes(ticket); t.bytes(seed); t.u64(7)
        }
        #expect(proofBytes == expected)
        #expect(try lib.verifySeal(proof, commR: commR, commD: commD, proverID: prover, ticket: ticket, seed: seed, sectorID: 7,
                                   proofBytes: proofBytes))
        #expect(try !lib.verifySeal(proof, commR: commR, commD: commD, proverID: prover, ticket: ticket, seed: bytes32(0x34),
                                    sectorID: 7, proofBytes: proofBytes))

        // Unseal a range (the double's replica is not encoded: the bytes come back as they are).
        let out = double.directory + "/unsealed"
        try lib.unsealRange(proof, cacheDir: cache, sealedPath: sealed, outputPath: out, sectorID: 7, proverID: prover, ticket: ticket,
                            commD: commD, offset: 10, length: 50)
        #expect(FileManager.default.contents(atPath: out) == Data(Array(10..<60) as [UInt8]))

        // clear_cache keeps what a finalized sector needs.
        try double.file("cache/sc-02-data-layer-1.dat")
        try double.file("cache/sc-02-data-tree-c.dat")
        try double.file("cache/sc-02-data-tree-r-last.dat")
        try double.file("cache/p_aux")
        try lib.clearCache(cacheDir: cache)
        // (PC2 left p_aux, t_aux and tree-r-last, as the library does; they stay.)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).sorted()
            == ["p_aux", "sc-02-data-tree-r-last.dat", "syn-porep-vanilla-proofs.dat", "t_aux"])

        let stats = double.stats
        #expect(stats.clean, "\(stats)")
        #expect(stats.responses == 14 && stats.calls == 14, "\(stats)")
    }

    @Test("window PoSt, its faulty sectors, SnapDeals and GPU listing return the double's values and free every response once")
    func postAndSnap() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        let randomness = bytes32(0x44)

        let replicas = try (1...3).map { i in
            FilCrypto.PrivateReplica(proofType: .window2KiBV1_1, cacheDir: try double.dir("cache-\(i)"), commR: bytes32(UInt8(i)),
                                     replicaPath: try double.file("sealed-\(i)"), sectorID: UInt64(i))
        }
        let proofs = try lib.generateWindowPoSt(randomness: randomness, replicas: replicas, proverID: prover)
        let expected = Transcript.digest("wpost", 192) { t in
            t.bytes(randomness); t.bytes(prover); t.u64(3)
            for r in replicas { t.u64(r.sectorID); t.bytes(r.commR) }
        }
        #expect(proofs == [.init(proofType: FilCrypto.PoStProofType.window2KiBV1_1.rawValue, bytes: expected)])
        let publicReplicas = replicas.map { FilCrypto.PublicReplica(proofType: $0.proofType, commR: $0.commR, sectorID: $0.sectorID) }
        #expect(try lib.verifyWindowPoSt(randomness: randomness, replicas: publicReplicas, proofs: proofs, proverID: prover))
        #expect(try !lib.verifyWindowPoSt(randomness: bytes32(0x45), replicas: publicReplicas, proofs: proofs, proverID: prover))

        // A missing replica is a faulty sector: the call fails and says which.
        var faulty = replicas
        faulty[1].replicaPath = double.directory + "/gone"
        let error = try #require(throws: FilCryptoError.self) {
            try lib.generateWindowPoSt(randomness: randomness, replicas: faulty, proverID: prover)
        }
        #expect(error.faultySectors == [2])
        #expect(error.kind == .temporary && error.call == "generate_window_post" && error.message == "1 faulty sectors")

        let vanilla: [[UInt8]] = [[1, 2, 3], [], [4]]
        let withVanilla = try lib.generateWindowPoStWithVanilla(.window32GiBV1_1, randomness: randomness, proverID: prover,
                                                                vanillaProofs: vanilla)
        let vanillaExpected = Transcript.digest("wpost-vanilla", 192) { t in
            t.u64(13); t.bytes(randomness); t.bytes(prover); t.u64(3)
            for v in vanilla { t.bytes(v) }
        }
        #expect(withVanilla == [.init(proofType: 13, bytes: vanillaExpected)])

        // SnapDeals: encode, prove both ways, verify.
        let update = FilCrypto.UpdateProofType.stackedDrg2KiBV1
        let sectorKey = try double.file("key/sealed"), keyCache = try double.dir("key/cache")
        let newReplica = try double.file("update/sealed"), newCache = try double.dir("update/cache")
        let stagedData = try double.file("update/staged")
        let pieces = [FilCrypto.Piece(size: 2032, commP: bytes32(5))]
        let encoding = try lib.emptySectorUpdateEncodeInto(update, newReplicaPath: newReplica, newCacheDir: newCache,
                                                           sectorKeyPath: sectorKey, sectorKeyCacheDir: keyCache,
                                                           stagedDataPath: stagedData, pieces: pieces)
        let commDNew = Transcript.digest("commd") { $0.u64(0); $0.pieces(pieces) }
        let commRNew = Transcript.digest("snap-commr") { t in t.u64(0); t.string(sectorKey); t.string(stagedData); t.bytes(commDNew) }
        #expect(encoding == .init(commRNew: commRNew, commRLastNew: Transcript.digest("snap-commr-last") { $0.bytes(commRNew) },
                                  commDNew: commDNew))
        let commROld = bytes32(0x55)
        let snapProof = Transcript.digest("snap-proof", 192) { t in t.u64(0); t.bytes(commROld); t.bytes(commRNew); t.bytes(commDNew) }
        #expect(try lib.generateEmptySectorUpdateProofWithVanilla(update, vanillaProofs: [[7, 7]], commROld: commROld,
                                                                  commRNew: commRNew, commDNew: commDNew) == snapProof)
        #expect(try lib.generateEmptySectorUpdateProof(update, commROld: commROld, commRNew: commRNew, commDNew: commDNew,
                                                       sectorKeyPath: sectorKey, sectorKeyCacheDir: keyCache, replicaPath: newReplica,
                                                       replicaCacheDir: newCache) == snapProof)
        #expect(try lib.verifyEmptySectorUpdateProof(update, proofBytes: snapProof, commROld: commROld, commRNew: commRNew,
                                                     commDNew: commDNew))
        #expect(try !lib.verifyEmptySectorUpdateProof(update, proofBytes: Array(snapProof.dropLast()), commROld: commROld,
                                                      commRNew: commRNew, commDNew: commDNew))
        #expect(try lib.gpuDevices().count == 2)

        let stats = double.stats
        #expect(stats.clean, "\(stats)")
        #expect(stats.responses == 11, "\(stats)")
    }

    @Test("the vanilla flows: challenges, per-sector vanilla proofs and partition proofs feed the *_with_vanilla calls")
    func vanillaFlows() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        let randomness = bytes32(0x66)
        let type = FilCrypto.PoStProofType.window2KiBV1_1

        let challenges = try lib.generateFallbackSectorChallenges(type, randomness: randomness, sectorIDs: [9, 3], proverID: prover)
        func expectedChallenges(_ sector: UInt64) -> [UInt64] {
            let raw = Transcript.digest("challenges", 80) { t in t.u64(UInt64(type.rawValue)); t.bytes(randomness); t.bytes(prover); t.u64(sector) }
            return (0..<10).map { i in (0..<8).reduce(UInt64(0)) { $0 | UInt64(raw[i * 8 + $1]) << (8 * UInt64($1)) } }
        }
        #expect(challenges == [.init(sectorID: 3, challenges: expectedChallenges(3)), .init(sectorID: 9, challenges: expectedChallenges(9))])

        let replicas = try challenges.map { c in
            FilCrypto.PrivateReplica(proofType: type, cacheDir: try double.dir("cache-\(c.sectorID)"), commR: bytes32(UInt8(c.sectorID)),
                                     replicaPath: try double.file("sealed-\(c.sectorID)"), sectorID: c.sectorID)
        }
        let vanilla = try zip(replicas, challenges).map { replica, c in
            try lib.generateSingleVanillaProof(replica: replica, challenges: c.challenges)
        }
        #expect(vanilla[0] == Transcript.digest("vanilla", 64) { t in
            t.u64(UInt64(type.rawValue)); t.u64(3); t.bytes(bytes32(3)); t.u64(10)
            for c in challenges[0].challenges { t.u64(c) }
        })
        let post = try lib.generateWindowPoStWithVanilla(type, randomness: randomness, proverID: prover, vanillaProofs: vanilla)
        #expect(post.count == 1 && post[0].bytes.count == 192)

        var gone = replicas[1]
        gone.replicaPath += ".missing"
        let missing = try #require(throws: FilCryptoError.self) { try lib.generateSingleVanillaProof(replica: gone, challenges: [1]) }
        #expect(missing.kind == .permanent && missing.message == "replica_path: \(gone.replicaPath) is not an existing file")

        let update = FilCrypto.UpdateProofType.stackedDrg8MiBV1
        let old = bytes32(1), newR = bytes32(2), newD = bytes32(3)
        let partitions = try lib.generateEmptySectorUpdatePartitionProofs(
            update, commROld: old, commRNew: newR, commDNew: newD, sectorKeyPath: try double.file("key"),
            sectorKeyCacheDir: try double.dir("key-cache"), replicaPath: try double.file("replica"), replicaCacheDir: try double.dir("replica-cache"))
        #expect(partitions == (0..<2).map { i in
            Transcript.digest("snap-partition", 64) { t in t.u64(1); t.bytes(old); t.bytes(newR); t.bytes(newD); t.u64(UInt64(i)) }
        })
        let proof = try lib.generateEmptySectorUpdateProofWithVanilla(update, vanillaProofs: partitions, commROld: old, commRNew: newR,
                                                                      commDNew: newD)
        #expect(try lib.verifyEmptySectorUpdateProof(update, proofBytes: proof, commROld: old, commRNew: newR, commDNew: newD))

        let stats = double.stats
        #expect(stats.clean && stats.responses == 8, "\(stats)")
    }

    @Test("an injected failure comes back as the typed error with the library's message, and its response is freed")
    func injectedFailure() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        let cache = try double.dir("cache"), staged = try double.file("staged"), sealed = try double.file("sealed")
        let pieces = [FilCrypto.Piece(size: 2032, commP: bytes32(1))]
        func pc1() throws(FilCryptoError) -> [UInt8] {
            try lib.sealPreCommitPhase1(proof, cacheDir: cache, stagedPath: staged, sealedPath: sealed, sectorID: 1, proverID: prover,
                                        ticket: ticket, pieces: pieces)
        }

        double.fail("seal_pre_commit_phase1", status: 2, message: "bad ticket")
        let permanent = try #require(throws: FilCryptoError.self) { try pc1() }
        #expect(permanent == FilCryptoError(call: "seal_pre_commit_phase1", status: 2, message: "bad ticket"))
        #expect(permanent.kind == .permanent)

        double.fail("seal_pre_commit_phase1", status: 3, message: "GPU lost")
        let temporary = try #require(throws: FilCryptoError.self) { try pc1() }
        #expect(temporary.kind == .temporary && temporary.status == 3 && temporary.message == "GPU lost")

        double.fail("seal_pre_commit_phase1", status: 1, message: "")
        #expect(throws: FilCryptoError(call: "seal_pre_commit_phase1", status: 1, message: "(no message)")) { try pc1() }

        double.fail("seal_pre_commit_phase1", status: 0, message: "")
        #expect(try pc1().count == 72)

        // Every wrapper frees its failed responses too.
        for call in ["generate_window_post", "get_gpu_devices", "verify_seal", "clear_cache"] { double.fail(call, status: 3, message: call) }
        #expect(throws: FilCryptoError(call: "get_gpu_devices", status: 3, message: "get_gpu_devices")) { try lib.gpuDevices() }
        #expect(throws: FilCryptoError(call: "clear_cache", status: 3, message: "clear_cache")) { try lib.clearCache(cacheDir: cache) }
        #expect(throws: FilCryptoError(call: "generate_window_post", status: 3, message: "generate_window_post")) {
            try lib.generateWindowPoSt(randomness: seed, replicas: [], proverID: prover)
        }
        let stats = double.stats
        #expect(stats.clean, "\(stats)")
        #expect(stats.responses == 7, "\(stats)")
    }

    @Test("arguments are checked: a short 32-byte value is refused before the call, a missing path by the library")
    func argumentChecks() throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        let cache = try double.dir("cache"), staged = try double.file("staged")

        let short = try #require(throws: FilCryptoError.self) {
            try lib.sealCommitPhase2(phase1Output: [1, 2], sectorID: 1, proverID: Array(prover.dropLast()))
        }
        #expect(short.kind == .permanent && short.message == "prover_id must be 32 bytes, got 31" && short.call == "seal_commit_phase2")
        let piece = try #require(throws: FilCryptoError.self) {
            try lib.generateDataCommitment(proof, pieces: [.init(size: 127, commP: [1])])
        }
        #expect(piece.message == "pieces[0].comm_p must be 32 bytes, got 1")
        #expect(double.stats.calls == 0, "refused before reaching the library")

        let missing = double.directory + "/no-such-sealed-file"
        let path = try #require(throws: FilCryptoError.self) {
            try lib.sealPreCommitPhase1(proof, cacheDir: cache, stagedPath: staged, sealedPath: missing, sectorID: 1, proverID: prover,
                                        ticket: ticket, pieces: [.init(size: 127, commP: bytes32(1))])
        }
        #expect(path.kind == .permanent && path.message == "sealed_sector_path: \(missing) is not an existing file")

        let notPC1 = try #require(throws: FilCryptoError.self) {
            try lib.sealPreCommitPhase2(phase1Output: [], cacheDir: cache, sealedPath: staged)
        }
        #expect(notPC1.message == "not a PC1 output of this library (0 bytes)")

        let unopenable = try #require(throws: FilCryptoError.self) {
            try lib.generatePieceCommitment(proof, piecePath: missing, unpaddedSize: 1)
        }
        #expect(unopenable.kind == .permanent && unopenable.message.hasPrefix("cannot open \(missing)"))
        #expect(FilCrypto.SealProofType(id: 20) == nil && FilCrypto.SealProofType(id: 18) == .stackedDrg32GiBV1_2NonInteractivePoRep)
        #expect(FilCrypto.PoStProofType(id: 13) == .window32GiBV1_1 && FilCrypto.UpdateProofType(id: -1) == nil)
        #expect(double.stats.clean, "\(double.stats)")
    }

    @Test("a missing library is a typed error naming the path")
    func missingLibrary() {
        let path = NSTemporaryDirectory() + "no-such-dir-\(UUID().uuidString)/libfilcrypto.so"
        let error = #expect(throws: FilCryptoLoadError.self) { try FilCrypto.load(path: path, environment: [:]) }
        guard case .cannotOpen(let reason)? = error?.reason else {
            Issue.record("expected cannotOpen, got \(String(describing: error))")
            return
        }
        #expect(error?.path == path)
        #expect(reason.contains("No such file"))
        #expect(error?.description.hasPrefix("cannot load filecoin-ffi library \(path): ") == true)
    }

    @Test("a library without one symbol (an older filecoin-ffi) is a typed error naming that symbol")
    func missingSymbol() throws {
        let old = try DoubleLibrary("libFilcryptoDoubleOld.so")
        defer { old.cleanup() }
        let error = #expect(throws: FilCryptoLoadError.self) { try FilCrypto.load(path: old.path, environment: [:]) }
        #expect(error == FilCryptoLoadError(path: old.path, reason: .missingSymbols(["generate_synth_proofs"])))
        #expect(error?.description == "filecoin-ffi library \(old.path) lacks symbol generate_synth_proofs (sealer needs filecoin-ffi v1.34.0 or later)")
    }

    @Test("another library (libc) opens but lacks every symbol, and says so")
    func notFilcrypto() {
        let error = #expect(throws: FilCryptoLoadError.self) { try FilCrypto.load(path: "libc.so.6", environment: [:]) }
        #expect(error?.reason == .missingSymbols(FilCrypto.symbolNames))
    }

    @Test("concurrent calls from many tasks all return and free their responses")
    func concurrentCalls() async throws {
        let double = try DoubleLibrary()
        defer { double.cleanup() }
        let lib = try FilCrypto.load(path: double.path, environment: [:])
        let cache = try double.dir("cache"), staged = try double.file("staged"), sealed = try double.file("sealed")
        let prover = prover, ticket = ticket, proof = proof
        let outputs = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for sector in UInt64(0)..<32 {
                group.addTask {
                    try lib.sealPreCommitPhase1(proof, cacheDir: cache, stagedPath: staged, sealedPath: sealed, sectorID: sector,
                                                proverID: prover, ticket: ticket, pieces: [.init(size: 127, commP: bytes32(1))])
                }
            }
            return try await group.reduce(into: Set<[UInt8]>()) { $0.insert($1) }
        }
        #expect(outputs.count == 32)
        let stats = double.stats
        #expect(stats.clean && stats.responses == 32, "\(stats)")
    }
}
