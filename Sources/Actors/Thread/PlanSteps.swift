import Foundation
import ProofsFFI
import Scheduler

/// Steps shared by several plans; each returns the record as it should be after the step.
extension PlanContext {
    /// tree_d's file name in a sector's cache directory (rust-fil-proofs' naming).
    static let treeDFile = "sc-02-data-tree-d.dat"

    func addPieces(_ pieces: [PieceInfo], into next: inout SectorRecord) async throws(StepError) {
        let ref = try sectorRef()
        next.phases.pieces = try await run(.addPieces) { (prover: any Prover) async throws(ProverError) in try await prover.addPieces(ref, pieces: pieces) }
    }

    func buildTreeD(into next: inout SectorRecord) async throws(StepError) {
        let ref = try sectorRef()
        let pieces = try require(record.phases.pieces, "pieces")
        let size = ref.proof.sectorSize
        if let source = settings.staticTreeD[size], pieces == [ZeroCommitment.pledge(size)] {
            // A CC sector's tree_d is the same for every sector of its size: link (else copy) the
            // pre-built one into the cache; its root is the zero commitment.
            let target = ref.paths.cache + "/" + Self.treeDFile
            let failure: String? = await offload { () -> String? in
                let fm = FileManager.default
                do {
                    try fm.createDirectory(atPath: ref.paths.cache, withIntermediateDirectories: true)
                    try? fm.removeItem(atPath: target)
                    do { try fm.linkItem(atPath: source, toPath: target) } catch { try fm.copyItem(atPath: source, toPath: target) }
                    return nil
                } catch {
                    return error.localizedDescription
                }
            }
            if let failure { throw .failure(.permanent("static_tree_d \(size) \(source) → \(target): \(failure)")) }
            next.phases.commD = Blob(ZeroCommitment.of(padded: size.bytes))
            return
        }
        next.phases.commD = Blob(try await run(.treeD) { (prover: any Prover) async throws(ProverError) in try await prover.buildTreeD(ref, pieces: pieces) })
    }

    func pc1(ticket: Ticket, into next: inout SectorRecord) async throws(StepError) {
        if try await batchPC1(ticket: ticket, into: &next) { return }
        let ref = try sectorRef()
        let pieces = try require(record.phases.pieces, "pieces")
        let out = try await run(.pc1) { (prover: any Prover) async throws(ProverError) in try await prover.pc1(ref, ticket: ticket.ticket.bytes, pieces: pieces) }
        next.phases.pc1Output = Blob(out)
    }

    /// PC2, then the event that says whether synthetic proofs must follow.
    func pc2(into next: inout SectorRecord) async throws(StepError) -> SealingEvent {
        if let event = try await batchPC2(into: &next) { return event }
        let ref = try sectorRef()
        let pc1 = try require(record.phases.pc1Output, "PC1 output")
        next.phases.commitments = try await run(.pc2) { (prover: any Prover) async throws(ProverError) in try await prover.pc2(ref, pc1Output: pc1.bytes) }
        return ref.proof.needsSyntheticPoRep ? .pc2NeedSyntheticProof : .pc2
    }

    func syntheticProofs() async throws(StepError) {
        let ref = try sectorRef()
        let ticket = try require(record.phases.ticket, "ticket")
        let commitments = try require(record.phases.commitments, "commitments")
        let pieces = try require(record.phases.pieces, "pieces")
        try await run(.synthProof) { (prover: any Prover) async throws(ProverError) in
            try await prover.syntheticProofs(ref, ticket: ticket.ticket.bytes, commitments: commitments, pieces: pieces)
        }
    }

    /// The sector a snap encoding writes and the sector key it starts from: for a snap upgrade,
    /// the persisted replica in the store the manager named; for a rebuild, the CC replica this
    /// thread has just rebuilt, upgraded into damocles' `update` / `update-cache` files.
    func snapSectors() throws(StepError) -> (new: SectorRef, old: ReplicaPaths) {
        var ref = try sectorRef()
        let old: ReplicaPaths
        if record.plan == .rebuild {
            old = ReplicaPaths(sealed: ref.paths.sealed, cache: ref.paths.cache)
        } else {
            let access = try require(record.phases.accessInstance, "access instance of the old replica")
            old = settings.replica(of: ref.id, sealedIn: access, cacheIn: access)
        }
        ref.paths = SectorPaths.update(dataDirectory: store.dataDirectory, sector: ref.id)
        return (ref, old)
    }

    /// Copies the sector's replica and the cache files window PoSt needs into the persist store
    /// the manager reserved (`[[attached]]` by name), as damocles' transfer does, but through
    /// fsynced temporaries renamed into place, so a crash never leaves a partial file under a
    /// final name; a rerun after one skips what is complete.
    func persistFiles(to instance: String, upgraded: Bool) async throws(StepError) {
        let ref = try sectorRef()
        guard let location = settings.storeLocations[instance] else {
            throw .failure(.permanent("persist store \(instance), reserved by the manager, has no [[attached]] location in this worker's config"))
        }
        let persister = SectorPersister(storeRoot: location)
        let source = upgraded ? SectorPaths.update(dataDirectory: store.dataDirectory, sector: ref.id) : ref.paths
        let routes = persister.routes(sector: ref.id, size: ref.proof.sectorSize, replica: source.sealed, cache: source.cache,
                                      kind: upgraded ? .upgraded : .sealed)
        do {
            let report = try await persister.persist(routes)
            log.info("persisted to \(instance): \(report.summary)")
        } catch {
            switch error {
            case .cancelled: throw .interrupted
            case .io: throw .failure(.temporary("persist to \(instance): \(error)"))
            default: throw .failure(.permanent("persist to \(instance): \(error)"))
            }
        }
    }

    func snapEncode(into next: inout SectorRecord) async throws(StepError) {
        let (ref, old) = try snapSectors()
        let pieces = try require(record.phases.pieces, "pieces")
        next.phases.snapCommitments = try await run(.snapEncode) { (prover: any Prover) async throws(ProverError) in
            try await prover.snapEncode(ref, old: old, pieces: pieces)
        }
    }

    func snapProve(into next: inout SectorRecord) async throws(StepError) {
        let (ref, old) = try snapSectors()
        let oldCommR = try require(record.phases.oldCommR, "old CommR")
        let new = try require(record.phases.snapCommitments, "snap commitments")
        next.phases.snapProof = Blob(try await run(.snapProve) { (prover: any Prover) async throws(ProverError) in
            try await prover.snapProve(ref, old: old, oldCommR: oldCommR.bytes, new: new)
        })
    }

    /// Reserves room in a persist store, waiting while none has any (damocles' PCLanded step).
    func reservePersistStore() async throws(StepError) -> String {
        let ref = try sectorRef()
        let size = ref.proof.sectorSize.bytes
        let reserve = size < SectorSize.gib32.bytes ? size * 2 : size + size / 50
        let candidates = settings.persistStores
        while true {
            if let store = try await call({ () async throws(ManagerError) in
                try await manager.storeReserveSpace(ref.id, size: reserve, candidates: candidates)
            }) {
                return store.Name
            }
            log.info("no persist store has room; waiting \(settings.sealing.rpcPollingInterval)")
            try await sleep(settings.sealing.rpcPollingInterval)
        }
    }

    /// damocles' mapping of a submission result to an outcome.
    func check(_ resp: SubmitPreCommitResp, _ what: String) throws(StepError) {
        let desc = resp.Desc.map { ": \($0)" } ?? ""
        switch resp.Res {
        case .accepted, .duplicateSubmit: return
        case .mismatchedSubmission: throw .failure(.permanent("\(what) submission mismatched\(desc)"))
        case .filesMissed: throw .failure(.permanent("\(what) submission: files missed\(desc)"))
        case .rejected: throw .failure(.abort("\(what) submission rejected\(desc)"))
        }
    }

    /// Polls an on-chain message until it lands (true) or fails and must be resubmitted (false).
    func pollUntilLanded(_ what: String, _ poll: () async throws(ManagerError) -> PollStateResp) async throws(StepError) -> Bool {
        while true {
            let resp = try await call(poll)
            let desc = resp.Desc.map { ": \($0)" } ?? ""
            switch resp.State {
            case .landed: return true
            case .pending, .packed: try await sleep(settings.sealing.rpcPollingInterval)
            case .failed:
                log.warn("\(what) message failed\(desc); resubmitting")
                try await sleep(settings.sealing.recoverInterval)
                return false
            case .notFound: throw .failure(.permanent("\(what) message not found\(desc)"))
            case .permFailed: throw .failure(.permanent("\(what) message permanently failed\(desc)"))
            case .shouldAbort: throw .failure(.abort("manager says abort after \(what)\(desc)"))
            }
        }
    }
}
