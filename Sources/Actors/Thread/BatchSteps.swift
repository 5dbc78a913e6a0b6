import ProofsFFI
import Scheduler

/// The sealer plan's steps in batch mode: PC1 and PC2 through the thread's `BatchCoordinator`,
/// C1 on the batch's layers (`supra_c1`), which then finalizes the sector's part of the batch.
/// The record and the transitions are the sealer plan's; only who computes differs.
extension PlanContext {
    /// Batch PC1; false when this thread seals alone (no coordinator).
    func batchPC1(ticket: Ticket, into next: inout SectorRecord) async throws(StepError) -> Bool {
        guard let batch else { return false }
        let ref = try sectorRef()
        let pieces = try require(record.phases.pieces, "pieces")
        let answer = await rendezvous(batch, "supra_pc1 batch of \(batch.size)") { token in
            await batch.pc1(ref, ticket: ticket.ticket.bytes, pieces: pieces, token: token)
        }
        next.phases.pc1Output = Blob(try Self.value(answer))
        return true
    }

    /// Batch PC2; nil when this sector is in no batch of this process (it then runs PC2 alone).
    func batchPC2(into next: inout SectorRecord) async throws(StepError) -> SealingEvent? {
        guard let batch else { return nil }
        let ref = try sectorRef()
        let pc1 = try require(record.phases.pc1Output, "PC1 output")
        let answer = await rendezvous(batch, "supra_pc2 of its batch") { token in await batch.pc2(ref, pc1Output: pc1.bytes, token: token) }
        if case .notInBatch = answer {
            log.info("not in a batch of this process (sealed before a restart): PC2 runs alone")
            return nil
        }
        next.phases.commitments = try Self.value(answer)
        return ref.proof.needsSyntheticPoRep ? .pc2NeedSyntheticProof : .pc2
    }

    /// C1 on the batch's layers; nil when this sector is in no batch here (stock C1 then).
    func batchC1(ticket: Ticket, seed: Seed, commitments: Commitments, pieces: [PieceInfo]) async throws(StepError) -> [UInt8]? {
        guard let batch else { return nil }
        let ref = try sectorRef()
        guard let (supra, slot) = await batch.placement(of: ref.id) else { return nil }
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
