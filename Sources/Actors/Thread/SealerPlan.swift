import ProofsFFI
import Scheduler

/// The `sealer` plan's handlers (damocles' planner/sealer.rs behaviour, spec 2.3).
extension PlanContext {
    func sealerStep() async throws(StepError) -> StepOutcome {
        var next = record
        switch record.state {
        case .empty:
            let spec = settings.sectorSpec
            guard let allocated = try await call({ () async throws(ManagerError) in try await manager.allocateSector(spec) }) else {
                return .idle
            }
            next.sector = allocated.ID
            next.proof = allocated.ProofType
            return .advance(.allocate, next)

        case .allocated:
            let sector = try sectorRef().id
            if !settings.sealing.enableDeals {
                if settings.sealing.disableCC { return .idle }
                next.phases.deals = []
                return .advance(.acquireDeals, next)
            }
            let spec = settings.dealsSpec
            let deals = try await call({ () async throws(ManagerError) in try await manager.acquireDeals(sector, spec) }) ?? []
            if deals.isEmpty, settings.sealing.disableCC { return .idle }
            next.phases.deals = try dealPieces(deals)
            return .advance(.acquireDeals, next)

        case .dealsAcquired:
            try await addPieces((record.phases.deals ?? []).map(\.piece), into: &next)
            return .advance(.addPiece, next)

        case .pieceAdded:
            try await buildTreeD(into: &next)
            return .advance(.buildTreeD, next)

        case .treeDBuilt:
            // The ticket is fetched lazily at PC1 time, as damocles does.
            return .advance(.assignTicket, next)

        case .ticketAssigned:
            let id = try sectorRef().id
            guard let ticket = record.phases.ticket else {
                let wire = try await call({ () async throws(ManagerError) in try await manager.assignTicket(id) })
                // Kept before PC1 runs, so a retry (or a restart) seals with the same randomness.
                next.phases.ticket = Ticket(ticket: wire.Ticket, epoch: wire.Epoch)
                return .save(next)
            }
            try await pc1(ticket: ticket, into: &next)
            return .advance(.pc1, next)

        case .pc1Done:
            return .advance(try await pc2(into: &next), next)

        case .syntheticPoRepNeeded:
            try await syntheticProofs()
            return .advance(.syntheticPoRep, next)

        case .pc2Done:
            let ref = try sectorRef()
            let ticket = try require(record.phases.ticket, "ticket")
            let c = try require(record.phases.commitments, "commitments")
            let info = PreCommitOnChainInfo(CommR: c.commR, CommD: c.commD, Ticket: WireTicket(Ticket: ticket.ticket, Epoch: ticket.epoch))
            let reset = record.phases.pc2ReSubmit
            let resp = try await call({ () async throws(ManagerError) in
                try await manager.submitPreCommit(AllocatedSector(ID: ref.id, ProofType: ref.proof), info, reset: reset)
            })
            try check(resp, "PreCommit")
            next.phases.pc2ReSubmit = false
            return .advance(.submitPC, next)

        case .pcSubmitted:
            let id = try sectorRef().id
            if try await pollUntilLanded("PreCommit", { () async throws(ManagerError) in try await manager.pollPreCommitState(id) }) {
                return .advance(.checkPC, next)
            }
            next.phases.pc2ReSubmit = true
            return .advance(.reSubmitPC, next)

        case .pcLanded:
            let instance = try await reservePersistStore()
            try await persistFiles(to: instance, upgraded: false)
            next.phases.persistInstance = instance
            return .advance(.persist, next)

        case .persisted:
            let id = try sectorRef().id
            let instance = try require(record.phases.persistInstance, "persist instance")
            guard try await call({ () async throws(ManagerError) in try await manager.submitPersistedEx(id, instance: instance, isUpgrade: false) }) else {
                throw .failure(.permanent("manager refused persisted files in store \(instance)"))
            }
            return .advance(.submitPersistance, next)

        case .persistanceSubmitted:
            let ref = try sectorRef()
            while true {
                let resp = try await call({ () async throws(ManagerError) in try await manager.waitSeed(ref.id, proofType: ref.proof) })
                if let seed = resp.Seed {
                    next.phases.seed = Seed(seed: seed.Seed, epoch: seed.Epoch)
                    return .advance(.assignSeed, next)
                }
                guard resp.ShouldWait else { throw .failure(.temporary("manager has no seed for \(ref.id) and says not to wait")) }
                try await sleep(.seconds(max(1, resp.Delay)))
            }

        case .seedAssigned:
            let ref = try sectorRef()
            let ticket = try require(record.phases.ticket, "ticket")
            let seed = try require(record.phases.seed, "seed")
            let c = try require(record.phases.commitments, "commitments")
            let pieces = try require(record.phases.pieces, "pieces")
            if let out = try await batchC1(ticket: ticket, seed: seed, commitments: c, pieces: pieces) {
                next.phases.c1Output = Blob(out)
                return .advance(.c1, next)
            }
            next.phases.c1Output = Blob(try await run(.c1) { (prover: any Prover) async throws(ProverError) in
                try await prover.c1(ref, ticket: ticket.ticket.bytes, seed: seed.seed.bytes, commitments: c, pieces: pieces)
            })
            return .advance(.c1, next)

        case .c1Done:
            let ref = try sectorRef()
            let c1 = try require(record.phases.c1Output, "C1 output")
            next.phases.proof = Blob(try await run(.c2) { (prover: any Prover) async throws(ProverError) in try await prover.c2(ref, c1Output: c1.bytes) })
            return .advance(.c2, next)

        case .c2Done:
            let id = try sectorRef().id
            let proof = try require(record.phases.proof, "proof")
            let reset = record.phases.c2ReSubmit
            let resp = try await call({ () async throws(ManagerError) in try await manager.submitProof(id, ProofOnChainInfo(Proof: proof), reset: reset) })
            try check(resp, "Proof")
            next.phases.c2ReSubmit = false
            return .advance(.submitProof, next)

        case .proofSubmitted:
            let id = try sectorRef().id
            if settings.sealing.ignoreProofCheck { return .advance(.finish, next) }
            if try await pollUntilLanded("Proof", { () async throws(ManagerError) in try await manager.pollProofState(id) }) {
                return .advance(.finish, next)
            }
            next.phases.c2ReSubmit = true
            return .advance(.reSubmitProof, next)

        default:
            throw .failure(.critical("plan sealer has no handler for state \(record.state)"))
        }
    }
}
