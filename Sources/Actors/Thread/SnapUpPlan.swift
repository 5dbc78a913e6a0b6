import ProofsFFI
import Scheduler

/// The `snapup` plan's handlers: upgrade a sealed CC sector with deal data (spec 2.3).
extension PlanContext {
    func snapUpStep() async throws(StepError) -> StepOutcome {
        var next = record
        switch record.state {
        case .empty:
            let spec = SnapUpAllocateSpec(Sector: settings.sectorSpec, Deals: settings.dealsSpec)
            guard let allocated = try await call({ () async throws(ManagerError) in try await manager.allocateSnapUpSector(spec) }) else {
                return .idle
            }
            next.sector = allocated.Sector.ID
            next.proof = allocated.Sector.ProofType
            next.phases.deals = try dealPieces(allocated.Pieces)
            next.phases.oldCommR = Blob(allocated.Public.CommR)
            next.phases.accessInstance = allocated.Private.AccessInstance
            // damocles aborts an upgrade without data or without the old replica's location.
            if allocated.Pieces.isEmpty || allocated.Private.AccessInstance.isEmpty {
                return .abort(next, reason: "snapup allocation without pieces or access instance")
            }
            return .advance(.allocatedSnapUpSector, next)

        case .allocated:
            try await addPieces((record.phases.deals ?? []).map(\.piece), into: &next)
            return .advance(.addPiece, next)

        case .pieceAdded:
            try await buildTreeD(into: &next)
            return .advance(.buildTreeD, next)

        case .treeDBuilt:
            try await snapEncode(into: &next)
            return .advance(.snapEncode, next)

        case .snapEncoded:
            try await snapProve(into: &next)
            return .advance(.snapProve, next)

        case .snapProved:
            let instance = try await reservePersistStore()
            try await persistFiles(to: instance, upgraded: true)
            next.phases.persistInstance = instance
            return .advance(.persist, next)

        case .persisted:
            let id = try sectorRef().id
            let new = try require(record.phases.snapCommitments, "snap commitments")
            let proof = try require(record.phases.snapProof, "snap proof")
            let info = SnapUpOnChainInfo(
                CommR: new.commR, CommD: new.commD, AccessInstance: try require(record.phases.persistInstance, "persist instance"),
                Pieces: (record.phases.deals ?? []).map { WireCID(PieceCID.string($0.piece.commP)) }, Proof: proof)
            let resp = try await call({ () async throws(ManagerError) in try await manager.submitSnapUpProof(id, info) })
            let desc = resp.Desc.map { ": \($0)" } ?? ""
            switch resp.Res {
            case .accepted, .duplicateSubmit: return .advance(.finish, next)
            case .filesMissed:
                log.warn("snapup files missed\(desc); persisting again")
                return .advance(.rePersist, next)
            case .mismatchedSubmission, .rejected:
                throw .failure(.abort("snapup proof submission \(resp.Res)\(desc)"))
            }

        default:
            throw .failure(.critical("plan snapup has no handler for state \(record.state)"))
        }
    }
}
