import ProofsFFI
import Scheduler

/// The sealer plan's steps in batch mode: PC1 and PC2 through the thread's `BatchCoordinator`,
/// C1 on the batch's layers (`supra_c1`), which then finalizes the sector's part of the batch.
/// The record and the transitions are the sealer plan's; only who computes differs.
extension PlanContext {
    /// Batch PC1; false when this thread seals alone (no coordinator). The record keeps the
    /// batch's membership, so a restart re-forms the batch instead of sealing the sector alone.
    func batchPC1(ticket: Ticket, into next: inout SectorRecord) async throws(StepError) -> Bool {
        guard let batch else { return false }
        let ref = try sectorRef()
        let pieces = try require(record.phases.pieces, "pieces")
        let thread = store.location
        let answer = await rendezvous(batch, "supra_pc1 batch of \(batch.size)") { token in
            await batch.pc1(ref, thread: thread, ticket: ticket.ticket.bytes, pieces: pieces, token: token)
        }
        let membership = try Self.value(answer)
        guard let slot = membership.slot(of: ref.id) else { throw .failure(.temporary("batch \(membership.id) has no slot for \(ref.id)")) }
        next.phases.pc1Output = membership.members[slot].pc1Output
        next.phases.batch = membership
        return true
    }

    /// Batch PC2; nil when this sector never was in a batch (sealed before batch mode): it then
    /// runs PC2 alone. A sector with a batch membership is never sealed alone.
    func batchPC2(into next: inout SectorRecord) async throws(StepError) -> SealingEvent? {
        guard let membership = record.phases.batch else { return nil }
        guard let batch else {
            throw .failure(.permanent("sector is in SupraSeal batch \(membership.id) but batch mode is off: its layers are readable only by the batch PC2"))
        }
        let ref = try sectorRef()
        let answer = await rendezvous(batch, "supra_pc2 of its batch") { token in await batch.pc2(ref, membership: membership, token: token) }
        next.phases.commitments = try Self.value(answer)
        return ref.proof.needsSyntheticPoRep ? .pc2NeedSyntheticProof : .pc2
    }

    /// C1 on the batch's layers; nil when this sector never was in a batch (stock C1 then).
    func batchC1(ticket: Ticket, seed: Seed, commitments: Commitments, pieces: [PieceInfo]) async throws(StepError) -> [UInt8]? {
        guard let membership = record.phases.batch else { return nil }
        guard let batch else {
            throw .failure(.permanent("sector is in SupraSeal batch \(membership.id) but batch mode is off: its layers are readable only by supra_c1"))
        }
        let ref = try sectorRef()
        guard let slot = membership.slot(of: ref.id) else { throw .failure(.critical("batch \(membership.id) in the record has no slot for \(ref.id)")) }
        await batch.holdSlot(for: ref.id, membership)
        let supra = membership.supra
        let out = try await run(.supraC1) { (prover: any Prover) async throws(ProverError) in
            try await prover.supraC1(supra, slot: slot, ticket: ticket.ticket.bytes, seed: seed.seed.bytes, commitments: commitments, pieces: pieces)
        }
        await batch.finalized(ref.id)
        return out
    }

    /// Waits at the coordinator; a pause or shutdown leaves the rendezvous.
    private func rendezvous<T: Sendable>(_ batch: BatchCoordinator, _ what: String,
                                         _ body: @Sendable (UInt64) async -> BatchCoordinator.Answer<T>) async -> BatchCoordinator.Answer<T> {
        let token = await batch.token()
        controller.activity = .waiting(since: .now, waitingFor: what)
        defer { controller.activity = .idle }
        return await controller.wait(cancel: { Task { await batch.withdraw(token) } }) { await body(token) }
    }

    private static func value<T>(_ answer: BatchCoordinator.Answer<T>) throws(StepError) -> T {
        switch answer {
        case let .done(value): return value
        case let .failed(error): throw .failure(error.retryable ? .temporary("\(error)") : .permanent("\(error)"))
        case .withdrawn: throw .interrupted
        case .notInBatch: throw .failure(.temporary("the sector's batch is gone"))
        }
    }
}
