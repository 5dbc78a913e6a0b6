import ProofsFFI
import Scheduler

/// The `rebuild` plan's handlers: re-seal a lost replica from its original ticket, then redo
/// its snap upgrade if it had one (spec 2.3).
extension PlanContext {
    func rebuildStep() async throws(StepError) -> StepOutcome {
        var next = record
        switch record.state {
        case .empty:
            let spec = settings.sectorSpec
            guard let allocated = try await call({ () async throws(ManagerError) in try await manager.allocateRebuildSector(spec) }) else {
                return .idle
            }
            next.sector = allocated.Sector.ID
            next.proof = allocated.Sector.ProofType
            next.phases.ticket = Ticket(ticket: allocated.Ticket.Ticket, epoch: allocated.Ticket.Epoch)
            next.phases.deals = try dealPieces(allocated.deals)
            next.phases.isSnapRebuild = allocated.IsSnapUp
            return .advance(.allocatedRebuildSector, next)

        case .allocated:
            // A snapped sector is first rebuilt as the CC sector it was.
            let pieces = record.phases.isSnapRebuild ? [] : (record.phases.deals ?? []).map(\.piece)
            try await addPieces(pieces, into: &next)
            return .advance(.addPiece, next)

        case .pieceAdded:
            try await buildTreeD(into: &next)
            return .advance(.buildTreeD, next)

        case .treeDBuilt:
            try await pc1(ticket: try require(record.phases.ticket, "ticket"), into: &next)
            return .advance(.pc1, next)

        case .pc1Done:
            return .advance(try await pc2(into: &next), next)

        case .syntheticPoRepNeeded:
            try await syntheticProofs()
            return .advance(.syntheticPoRep, next)

        case .pc2Done:
            // C1 with the ticket as seed checks the rebuilt replica.
            let ref = try sectorRef()
            let ticket = try require(record.phases.ticket, "ticket")
            let c = try require(record.phases.commitments, "commitments")
            let pieces = try require(record.phases.pieces, "pieces")
            _ = try await run(.c1) { (prover: any Prover) async throws(ProverError) in
                try await prover.c1(ref, ticket: ticket.ticket.bytes, seed: ticket.ticket.bytes, commitments: c, pieces: pieces)
            }
            next.phases.oldCommR = Blob(c.commR)
            return .advance(.checkSealed, next)

        case .sealedChecked:
            guard record.phases.isSnapRebuild else { return .advance(.skipSnap, next) }
            try await addPieces((record.phases.deals ?? []).map(\.piece), into: &next)
            return .advance(.addPiece, next)

        case .snapPieceAdded:
            try await buildTreeD(into: &next)
            return .advance(.buildTreeD, next)

        case .snapTreeDBuilt:
            try await snapEncode(into: &next)
            return .advance(.snapEncode, next)

        case .snapEncoded:
            try await snapProve(into: &next)
            return .advance(.snapProve, next)

        case .snapDone:
            let instance = try await reservePersistStore()
            try await persistFiles(to: instance, upgraded: record.phases.isSnapRebuild)
            next.phases.persistInstance = instance
            return .advance(.persist, next)

        case .persisted:
            let id = try sectorRef().id
            let instance = try require(record.phases.persistInstance, "persist instance")
            let upgrade = record.phases.isSnapRebuild
            guard try await call({ () async throws(ManagerError) in try await manager.submitPersistedEx(id, instance: instance, isUpgrade: upgrade) }) else {
                throw .failure(.permanent("manager refused rebuilt files in store \(instance)"))
            }
            return .advance(.submitPersistance, next)

        default:
            throw .failure(.critical("plan rebuild has no handler for state \(record.state)"))
        }
    }
}
