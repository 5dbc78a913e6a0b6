import ProofsFFI
import Scheduler

/// Where the sealing threads of `[sealing] mode = "batch"` meet: the first `size` threads to reach
/// PC1 form a SupraSeal batch, which takes one lease for its batch PC1 (cores as whole L3 groups,
/// hugepages and an NVMe slot, all or nothing like any stage) and makes one prover call; its
/// threads meet again for one batch PC2; then each goes on alone (its own C1 on the batch's
/// layers, C2, submissions), and the NVMe slot is given back once every sector has done its C1.
///
/// Each sector keeps its own record and reports: the coordinator only runs the shared stages and
/// hands every thread its sector's output, or the batch's error (a failed batch PC1 dissolves the
/// batch; a failed batch PC2 is retried by the same batch). A thread paused or shut down while it
/// waits leaves the rendezvous: a forming batch goes on without it; a formed batch keeps its
/// sector and hands it its output when the thread comes back. Batches live in memory: after a
/// restart a sector past batch PC1 finishes alone (stock PC2 and C1).
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
        /// Threads waiting for this batch's PC1, by token (a thread that came back after leaving
        /// waits here too).
        var pc1Waiting: [UInt64: Waiting] = [:]
        /// Each sector's PC1 output once the batch PC1 is done (for threads that come back).
        var pc1Done: [SectorID: [UInt8]]?
        /// Sectors whose thread is at PC2, with their PC1 outputs; PC2 starts when all are.
        var atPC2: [SectorID: [UInt8]] = [:]
        var pc2Waiting: [UInt64: Waiting] = [:]
        var pc2Running = false
        var pc2Done: [SectorID: Commitments]?
        var finalized: Set<SectorID> = []

        var supra: SupraBatch { SupraBatch(sectors: sectors, blockOffset: 0) }
    }

    private var forming: [Waiting] = []
    private var batches: [Int: Batch] = [:]
    private var batchOf: [SectorID: Int] = [:]
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

    /// Joins the forming batch (or the batch this sector is already in) and waits for its batch
    /// PC1: this sector's PC1 output.
    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo], token: UInt64) async -> Answer<[UInt8]> {
        if let id = batchOf[sector.id], let batch = batches[id], let done = batch.pc1Done {
            // Its thread left while the batch PC1 ran, or retries: the output is here.
            if let output = done[sector.id] { return .done(output) }
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<[UInt8]>, Never>) in
            let waiting = Waiting(token: token, sector: sector, ticket: ticket, pieces: pieces, pc1: continuation)
            if let id = batchOf[sector.id], batches[id] != nil {
                batches[id]?.pc1Waiting[token] = waiting
                return
            }
            forming.append(waiting)
            log.info("\(sector.id) joins the forming batch (\(forming.count) of \(size))")
            if forming.count >= size { form() }
        }
    }

    private func form() {
        let members = Array(forming.prefix(size))
        forming.removeFirst(members.count)
        nextBatch += 1
        let id = nextBatch
        var batch = Batch(id: id, sectors: members.map(\.sector))
        for member in members {
            batchOf[member.sector.id] = id
            batch.pc1Waiting[member.token] = member
        }
        batches[id] = batch
        log.info("batch \(id) formed: \(members.map { "\($0.sector.id)" }.joined(separator: " "))")
        Task { await self.runPC1(id, members) }
    }

    private func runPC1(_ id: Int, _ members: [Waiting]) async {
        guard let batch = batches[id] else { return }
        let lease: ResourceLease?
        switch await admit(.supraPC1, batch.sectors[0].proof.sectorSize, batch: id) {
        case let .success(taken): lease = taken
        case let .failure(error):
            failPC1(id, error)
            return
        }
        log.info("batch \(id) supra_pc1 runs\(lease.map { " on [\($0.summary)]" } ?? "")")
        let outputs: [[UInt8]]
        do {
            outputs = try await worker(.supraPC1, lease).supraPC1(batch.supra, tickets: members.map(\.ticket), pieces: members.map(\.pieces))
        } catch {
            await lease?.release()
            failPC1(id, error)
            return
        }
        await lease?.keepOnlyNVMe()
        let done = Dictionary(uniqueKeysWithValues: zip(batch.sectors.map(\.id), outputs))
        batches[id]?.slot = lease
        batches[id]?.pc1Done = done
        log.info("batch \(id) supra_pc1 done")
        let waiting = batches[id]?.pc1Waiting.values.map { $0 } ?? []
        batches[id]?.pc1Waiting = [:]
        for member in waiting { member.pc1?.resume(returning: done[member.sector.id].map { .done($0) } ?? .notInBatch) }
    }

    /// A failed batch PC1 dissolves the batch: its threads get the error and retry in new batches.
    private func failPC1(_ id: Int, _ error: ProverError) {
        log.warn("batch \(id) supra_pc1 failed: \(error.message)")
        guard let batch = batches.removeValue(forKey: id) else { return }
        for sector in batch.sectors { batchOf[sector.id] = nil }
        for member in batch.pc1Waiting.values { member.pc1?.resume(returning: .failed(error)) }
    }

    // MARK: - Batch PC2

    /// Waits for the rest of this sector's batch and its batch PC2: this sector's commitments.
    public func pc2(_ sector: SectorRef, pc1Output: [UInt8], token: UInt64) async -> Answer<Commitments> {
        guard let id = batchOf[sector.id], let batch = batches[id] else { return .notInBatch }
        if let done = batch.pc2Done?[sector.id] { return .done(done) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<Commitments>, Never>) in
            guard var batch = batches[id] else { return continuation.resume(returning: .notInBatch) }
            batch.atPC2[sector.id] = pc1Output
            batch.pc2Waiting[token] = Waiting(token: token, sector: sector, pc1Output: pc1Output, pc2: continuation)
            batches[id] = batch
            log.info("\(sector.id) waits for batch \(id) supra_pc2 (\(batch.atPC2.count) of \(batch.sectors.count))")
            if batch.atPC2.count == batch.sectors.count, !batch.pc2Running {
                batches[id]?.pc2Running = true
                Task { await self.runPC2(id) }
            }
        }
    }

    private func runPC2(_ id: Int) async {
        guard let batch = batches[id] else { return }
        let pc1Outputs = batch.sectors.map { batch.atPC2[$0.id] ?? [] }
        let result: Result<[Commitments], ProverError>
        switch await admit(.supraPC2, batch.sectors[0].proof.sectorSize, batch: id) {
        case let .failure(error): result = .failure(error)
        case let .success(lease):
            log.info("batch \(id) supra_pc2 runs\(lease.map { " on [\($0.summary)]" } ?? "")")
            do {
                result = .success(try await worker(.supraPC2, lease).supraPC2(batch.supra, pc1Outputs: pc1Outputs))
            } catch {
                result = .failure(error)
            }
            await lease?.release()
        }
        guard var current = batches[id] else { return }
        current.pc2Running = false
        let waiting = Array(current.pc2Waiting.values)
        current.pc2Waiting = [:]
        switch result {
        case let .success(commitments):
            let done = Dictionary(uniqueKeysWithValues: zip(batch.sectors.map(\.id), commitments))
            current.pc2Done = done
            batches[id] = current
            log.info("batch \(id) supra_pc2 done")
            for member in waiting { member.pc2?.resume(returning: done[member.sector.id].map { .done($0) } ?? .notInBatch) }
        case let .failure(error):
            // Every thread gets the error; they meet again for the retry.
            current.atPC2 = [:]
            batches[id] = current
            log.warn("batch \(id) supra_pc2 failed: \(error.message)")
            for member in waiting { member.pc2?.resume(returning: .failed(error)) }
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
    /// A batch already formed keeps the sector: its outputs wait for the thread to come back.
    public func withdraw(_ token: UInt64) {
        if let i = forming.firstIndex(where: { $0.token == token }) {
            forming.remove(at: i).pc1?.resume(returning: .withdrawn)
            return
        }
        for (id, batch) in batches {
            if let member = batch.pc1Waiting[token] {
                batches[id]?.pc1Waiting[token] = nil
                member.pc1?.resume(returning: .withdrawn)
                return
            }
            if let member = batch.pc2Waiting[token] {
                batches[id]?.pc2Waiting[token] = nil
                // Not yet running: the batch waits for this sector again.
                if !batch.pc2Running { batches[id]?.atPC2[member.sector.id] = nil }
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
