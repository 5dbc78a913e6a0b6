import ProofsFFI
import Scheduler

/// Where the sealing threads of `[sealing] mode = "batch"` meet: the first `size` threads to reach
/// PC1 form a SupraSeal batch, which takes one lease for its batch PC1 (cores as whole L3 groups,
/// hugepages and an NVMe slot, all or nothing like any stage) and makes one prover call; its
/// threads meet again for one batch PC2; then each goes on alone (its own C1 on the batch's
/// layers, C2, submissions), and the NVMe slot is given back once every sector has done its C1.
///
/// Each sector keeps its own record and reports: the coordinator only runs the shared stages and
/// hands every thread its sector's output, or the batch's error. A thread that is paused or shut
/// down while it waits leaves the rendezvous (a forming batch goes on without it; a batch already
/// running keeps its result from it, and the thread seals that sector alone when it resumes).
/// Batches live in memory: after a restart a sector past batch PC1 finishes alone.
public actor BatchCoordinator {
    /// Sectors per batch.
    public nonisolated let size: Int
    private let prover: any Prover
    private let broker: ResourceBroker?
    private let log: Log
    /// `[[processors.supra_pc1]]` / `[[processors.supra_pc2]]` children (a SupraSeal processor);
    /// without one the stage runs on `prover`.
    private let processors: [ProofStage: ExternalProcessor]

    /// What a thread gets back from a rendezvous.
    public enum Answer<T: Sendable>: Sendable {
        case done(T)
        case failed(ProverError)
        /// The thread left the rendezvous (pause or shutdown); nothing was computed for it.
        case withdrawn
        /// The sector is in no batch of this process (sealed before a restart): seal it alone.
        case notInBatch
    }

    private struct Waiting {
        var token: UInt64
        var sector: SectorRef
        var ticket: [UInt8] = []
        var pieces: [PieceInfo] = []
        var pc1Output: [UInt8] = []
        var pc1: CheckedContinuation<Answer<[UInt8]>, Never>?
        var pc2: CheckedContinuation<Answer<Commitments>, Never>?
    }

    private struct Batch {
        var id: Int
        var sectors: [SectorRef]
        /// The NVMe slot, held from batch PC1 until every sector has done its C1.
        var slot: ResourceLease?
        var atPC2: [SectorID: Waiting] = [:]
        var pc2Running = false
        var finalized: Set<SectorID> = []

        var supra: SupraBatch { SupraBatch(sectors: sectors, blockOffset: 0) }
    }

    private var forming: [Waiting] = []
    private var batches: [Int: Batch] = [:]
    private var batchOf: [SectorID: Int] = [:]
    /// Threads waiting on a running stage of a batch, by token, so a withdrawal can answer them.
    private var running: [UInt64: Waiting] = [:]
    private var nextToken: UInt64 = 0
    private var nextBatch = 0

    public init(size: Int, prover: any Prover, broker: ResourceBroker?, log: Log, processors: [ProofStage: ExternalProcessor] = [:]) {
        self.size = max(1, size)
        self.processors = processors
        self.prover = prover
        self.broker = broker
        self.log = log.with("batch-size", "\(max(1, size))")
    }

    /// A token naming one wait, so the waiting thread can withdraw it.
    public func token() -> UInt64 {
        nextToken += 1
        return nextToken
    }

    // MARK: - Batch PC1

    /// Joins the forming batch and waits for its batch PC1: this sector's PC1 output.
    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo], token: UInt64) async -> Answer<[UInt8]> {
        // A sector that left an earlier batch (withdrawn while it ran) no longer holds its slot.
        if batchOf[sector.id] != nil { await finalized(sector.id) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<[UInt8]>, Never>) in
            forming.append(Waiting(token: token, sector: sector, ticket: ticket, pieces: pieces, pc1: continuation))
            log.info("\(sector.id) joins the forming batch (\(forming.count) of \(size))")
            if forming.count >= size { form() }
        }
    }

    private func form() {
        let members = Array(forming.prefix(size))
        forming.removeFirst(members.count)
        nextBatch += 1
        let id = nextBatch
        batches[id] = Batch(id: id, sectors: members.map(\.sector))
        for member in members {
            batchOf[member.sector.id] = id
            running[member.token] = member
        }
        log.info("batch \(id) formed: \(members.map { "\($0.sector.id)" }.joined(separator: " "))")
        Task { await self.runPC1(id, members) }
    }

    private func runPC1(_ id: Int, _ members: [Waiting]) async {
        guard let batch = batches[id] else { return }
        let proof = batch.sectors[0].proof
        let lease: ResourceLease?
        switch await admit(.supraPC1, proof.sectorSize, batch: id) {
        case let .success(taken): lease = taken
        case let .failure(error):
            fail(id, members, error, dropBatch: true)
            return
        }
        log.info("batch \(id) supra_pc1 runs\(lease.map { " on [\($0.summary)]" } ?? "")")
        let outputs: [[UInt8]]
        do {
            outputs = try await worker(.supraPC1, lease).supraPC1(batch.supra, tickets: members.map(\.ticket), pieces: members.map(\.pieces))
        } catch {
            await lease?.release()
            fail(id, members, error, dropBatch: true)
            return
        }
        await lease?.keepOnlyNVMe()
        batches[id]?.slot = lease
        log.info("batch \(id) supra_pc1 done")
        for (member, output) in zip(members, outputs) {
            running.removeValue(forKey: member.token)?.pc1?.resume(returning: .done(output))
        }
    }

    // MARK: - Batch PC2

    /// Waits for the rest of this sector's batch and its batch PC2: this sector's commitments.
    public func pc2(_ sector: SectorRef, pc1Output: [UInt8], token: UInt64) async -> Answer<Commitments> {
        guard let id = batchOf[sector.id], batches[id] != nil else { return .notInBatch }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<Commitments>, Never>) in
            batches[id]?.atPC2[sector.id] = Waiting(token: token, sector: sector, pc1Output: pc1Output, pc2: continuation)
            guard let batch = batches[id] else { return }
            log.info("\(sector.id) waits for batch \(id) supra_pc2 (\(batch.atPC2.count) of \(batch.sectors.count))")
            if batch.atPC2.count == batch.sectors.count, !batch.pc2Running { startPC2(id) }
        }
    }

    private func startPC2(_ id: Int) {
        guard var batch = batches[id] else { return }
        batch.pc2Running = true
        let members = batch.sectors.compactMap { batch.atPC2[$0.id] }
        batch.atPC2 = [:]
        batches[id] = batch
        for member in members { running[member.token] = member }
        Task { await self.runPC2(id, members) }
    }

    private func runPC2(_ id: Int, _ members: [Waiting]) async {
        guard let batch = batches[id] else { return }
        let lease: ResourceLease?
        switch await admit(.supraPC2, batch.sectors[0].proof.sectorSize, batch: id) {
        case let .success(taken): lease = taken
        case let .failure(error):
            batches[id]?.pc2Running = false
            fail(id, members, error, dropBatch: false)
            return
        }
        log.info("batch \(id) supra_pc2 runs\(lease.map { " on [\($0.summary)]" } ?? "")")
        let result: Result<[Commitments], ProverError>
        do {
            result = .success(try await worker(.supraPC2, lease).supraPC2(batch.supra, pc1Outputs: members.map(\.pc1Output)))
        } catch {
            result = .failure(error)
        }
        await lease?.release()
        batches[id]?.pc2Running = false
        switch result {
        case let .success(commitments):
            log.info("batch \(id) supra_pc2 done")
            for (member, c) in zip(members, commitments) { running.removeValue(forKey: member.token)?.pc2?.resume(returning: .done(c)) }
        case let .failure(error):
            fail(id, members, error, dropBatch: false)
        }
    }

    // MARK: - Per sector after PC2

    /// The batch and slot of `sector`, for its `supra_c1`; nil when it is in no batch here.
    public func placement(of sector: SectorID) -> (batch: SupraBatch, slot: Int)? {
        guard let id = batchOf[sector], let batch = batches[id], let slot = batch.sectors.firstIndex(where: { $0.id == sector }) else { return nil }
        return (batch.supra, slot)
    }

    /// `sector` no longer needs the batch's layers (its C1 is done, or it left the batch); the
    /// NVMe slot goes back when every sector of the batch is finalized.
    public func finalized(_ sector: SectorID) async {
        guard let id = batchOf.removeValue(forKey: sector), var batch = batches[id] else { return }
        batch.finalized.insert(sector)
        batches[id] = batch
        guard batch.finalized.count == batch.sectors.count else { return }
        batches[id] = nil
        await batch.slot?.release()
        log.info("batch \(id) finalized: NVMe slot released")
    }

    // MARK: - Leaving

    /// The waiting thread of `token` leaves (pause, shutdown): it is answered `.withdrawn` now.
    public func withdraw(_ token: UInt64) {
        if let i = forming.firstIndex(where: { $0.token == token }) {
            forming.remove(at: i).pc1?.resume(returning: .withdrawn)
            return
        }
        if let member = running.removeValue(forKey: token) {
            member.pc1?.resume(returning: .withdrawn)
            member.pc2?.resume(returning: .withdrawn)
            return
        }
        for (id, batch) in batches {
            if let (sector, member) = batch.atPC2.first(where: { $0.value.token == token }) {
                batches[id]?.atPC2[sector] = nil
                member.pc2?.resume(returning: .withdrawn)
                return
            }
        }
    }

    /// How many sectors wait for a batch to form (for status and tests).
    public var formingCount: Int { forming.count }
    /// Batches holding an NVMe slot or running (for status and tests).
    public var batchCount: Int { batches.count }

    // MARK: - Helpers

    private func fail(_ id: Int, _ members: [Waiting], _ error: ProverError, dropBatch: Bool) {
        log.warn("batch \(id) \(error.stage) failed: \(error.message)")
        if dropBatch {
            batches[id] = nil
            for member in members { batchOf[member.sector.id] = nil }
        }
        for member in members {
            guard let waiting = running.removeValue(forKey: member.token) else { continue }
            waiting.pc1?.resume(returning: .failed(error))
            waiting.pc2?.resume(returning: .failed(error))
        }
    }

    /// The processor child for `stage` with the lease in its environment, else the prover.
    private func worker(_ stage: ProofStage, _ lease: ResourceLease?) -> any Prover {
        processors[stage].map { ExternalProver(processor: $0, local: prover, lease: lease?.grant) } ?? prover
    }

    /// Waits for the pools to grant one run of a batch stage (nil lease: no pools configured).
    private func admit(_ stage: ProofStage, _ size: SectorSize, batch id: Int) async -> Result<ResourceLease?, ProverError> {
        guard let broker else { return .success(nil) }
        let request = ResourceRequest(stage: stage, cost: broker.costs.batchCost(stage, size, batch: self.size))
        do {
            switch try await broker.enqueue(request) {
            case let .granted(lease): return .success(lease)
            case let .waiting(ticket, refusal):
                log.info("batch \(id) \(stage) waits for resources: \(refusal)")
                guard let lease = await broker.wait(ticket) else { return .failure(ProverError(stage: stage, message: "admission cancelled")) }
                return .success(lease)
            }
        } catch {
            return .failure(ProverError(stage: stage, message: "\(error)"))
        }
    }
}
