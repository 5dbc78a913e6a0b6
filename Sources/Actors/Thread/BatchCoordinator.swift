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
/// sector and hands it its output when the thread comes back.
///
/// Batches survive restarts: batch PC1 hands each thread a `BatchMembership` that its record
/// keeps, and at start `restore(_:)` re-forms every batch from its members' records (re-taking
/// its NVMe slot). The rule for members that are gone: a member that is aborted, finished, past
/// its C1 or absent from every record is finalized for the slot and not waited for at batch PC2
/// (its PC1 output comes from the membership); the same holds for a member aborted while the
/// daemon runs (`leave(_:)`). A sector whose batch no record re-formed re-forms it alone.
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
        /// The sector is in no batch of this process: it must not be sealed with the batch.
        case notInBatch
    }

    private struct Waiting {
        var token: UInt64
        var sector: SectorRef
        var thread: String = ""
        var ticket: [UInt8] = []
        var pieces: [PieceInfo] = []
        var pc1: CheckedContinuation<Answer<BatchMembership>, Never>?
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
        /// What every member persists once the batch PC1 is done (and each one's PC1 output).
        var membership: BatchMembership?
        /// Sectors whose thread is at PC2; PC2 starts when every member is, or is excused.
        var atPC2: Set<SectorID> = []
        /// Members the batch PC2 does not wait for: gone, aborted, or past PC2 before a restart.
        var excused: Set<SectorID> = []
        var pc2Waiting: [UInt64: Waiting] = [:]
        var pc2Running = false
        var pc2Done: [SectorID: Commitments]?
        var finalized: Set<SectorID> = []

        var supra: SupraBatch { membership?.supra ?? SupraBatch(sectors: sectors, blockOffset: 0) }
        var readyForPC2: Bool {
            !pc2Running && pc2Done == nil && !atPC2.isEmpty && sectors.allSatisfy { atPC2.contains($0.id) || excused.contains($0.id) }
        }
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

    // MARK: - Restart

    /// Re-forms the batches of `records` (every sealer thread's record, read at start before the
    /// threads run): members that still need the batch rendezvous again, the others are
    /// finalized; the NVMe slot is re-taken while any member needs it. Returns how many batches
    /// were re-formed.
    @discardableResult
    public func restore(_ records: [SectorRecord]) async -> Int {
        var seen: [String: (BatchMembership, [SectorID: BatchNeed])] = [:]
        for record in records {
            guard let membership = record.phases.batch, let sector = record.sector else { continue }
            var entry = seen[membership.id] ?? (membership, [:])
            entry.1[sector] = BatchNeed.of(record, in: membership)
            seen[membership.id] = entry
        }
        var count = 0
        for (membership, needs) in seen.values.sorted(by: { $0.0.id < $1.0.id }) where await reform(membership, needs: needs) != nil {
            count += 1
        }
        return count
    }

    /// Re-forms `membership`'s batch with the members' `needs` (a member absent from it needs
    /// nothing); nil when no member needs the batch any more.
    private func reform(_ membership: BatchMembership, needs: [SectorID: BatchNeed]) async -> Int? {
        if let known = liveBatch(of: membership) { return known }
        let live = membership.members.filter { (needs[$0.sector] ?? .nothing) != .nothing }
        guard !live.isEmpty else { return nil }
        nextBatch += 1
        let id = nextBatch
        let supra = membership.supra
        var batch = Batch(id: id, sectors: supra.sectors, membership: membership)
        for member in membership.members {
            switch needs[member.sector] ?? .nothing {
            case .pc2: batchOf[member.sector] = id
            case .c1:
                batchOf[member.sector] = id
                batch.excused.insert(member.sector)
            case .nothing:
                batch.excused.insert(member.sector)
                batch.finalized.insert(member.sector)
            }
        }
        // Registered before the slot is re-taken, so a concurrent caller finds this batch.
        batches[id] = batch
        if let grant = membership.nvme, let broker {
            let slot = await broker.reclaimNVMe(grant)
            if slot == nil { log.warn("batch \(id) (\(membership.id)): its NVMe slot no longer fits the configured drives; not re-taken") }
            if batches[id] == nil {
                await slot?.release()
            } else {
                batches[id]?.slot = slot
                batch.slot = slot
            }
        }
        let waiting = live.filter { needs[$0.sector] == .pc2 }.count
        log.info("batch \(id) re-formed from records (\(membership.id)): \(live.count) of \(membership.members.count) members live, \(waiting) at supra_pc2\(batch.slot.map { " on [\($0.summary)]" } ?? "")")
        return id
    }

    /// The batch of this process that `membership`'s members are in, if any.
    private func liveBatch(of membership: BatchMembership) -> Int? {
        membership.members.lazy.compactMap { self.batchOf[$0.sector] }.first { self.batches[$0] != nil }
    }

    /// The batch of `sector`, re-formed from its own record's membership if this process has
    /// none (its record was not read at start): it then goes on alone.
    private func batch(of sector: SectorID, _ membership: BatchMembership, need: BatchNeed) async -> Int? {
        if let id = batchOf[sector], batches[id] != nil { return id }
        if let id = liveBatch(of: membership) {
            // Known through a batch-mate, but this member was counted gone: it needs the batch again.
            batchOf[sector] = id
            batches[id]?.finalized.remove(sector)
            if need == .pc2, batches[id]?.pc2Done == nil { batches[id]?.excused.remove(sector) }
            return id
        }
        return await reform(membership, needs: [sector: need])
    }

    // MARK: - Batch PC1

    /// Joins the forming batch (or the batch this sector is already in) and waits for its batch
    /// PC1: the batch's membership, with this sector's PC1 output.
    public func pc1(_ sector: SectorRef, thread: String, ticket: [UInt8], pieces: [PieceInfo], token: UInt64) async -> Answer<BatchMembership> {
        if let id = batchOf[sector.id], let membership = batches[id]?.membership {
            // Its thread left while the batch PC1 ran, or retries: the output is here.
            return .done(membership)
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<BatchMembership>, Never>) in
            let waiting = Waiting(token: token, sector: sector, thread: thread, ticket: ticket, pieces: pieces, pc1: continuation)
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
        do throws(ProverError) {
            outputs = try await worker(.supraPC1, lease).supraPC1(batch.supra, tickets: members.map(\.ticket), pieces: members.map(\.pieces))
            guard outputs.count == members.count else {
                throw ProverError(stage: .supraPC1, message: "\(outputs.count) PC1 outputs for \(members.count) sectors")
            }
        } catch {
            await lease?.release()
            failPC1(id, error)
            return
        }
        await lease?.keepOnlyNVMe()
        let membership = BatchMembership(
            id: "\(batch.sectors[0].id)", proof: batch.sectors[0].proof, blockOffset: batch.supra.blockOffset,
            members: zip(members, outputs).map { BatchMembership.Member(sector: $0.sector.id, thread: $0.thread, paths: $0.sector.paths, pc1Output: Blob($1)) },
            nvme: lease.map(\.grant.nvmeOnly))
        batches[id]?.slot = lease
        batches[id]?.membership = membership
        log.info("batch \(id) supra_pc1 done (\(membership.id))")
        let waiting = batches[id]?.pc1Waiting.values.map { $0 } ?? []
        batches[id]?.pc1Waiting = [:]
        for member in waiting { member.pc1?.resume(returning: .done(membership)) }
    }

    /// A failed batch PC1 dissolves the batch: its threads get the error and retry in new batches.
    private func failPC1(_ id: Int, _ error: ProverError) {
        log.warn("batch \(id) supra_pc1 failed: \(error.message)")
        guard let batch = batches.removeValue(forKey: id) else { return }
        for sector in batch.sectors { batchOf[sector.id] = nil }
        for member in batch.pc1Waiting.values { member.pc1?.resume(returning: .failed(error)) }
    }

    // MARK: - Batch PC2

    /// Waits for the rest of this sector's batch (those not excused) and its batch PC2: this
    /// sector's commitments.
    public func pc2(_ sector: SectorRef, membership: BatchMembership, token: UInt64) async -> Answer<Commitments> {
        guard let id = await batch(of: sector.id, membership, need: .pc2), let batch = batches[id] else { return .notInBatch }
        if let done = batch.pc2Done?[sector.id] { return .done(done) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer<Commitments>, Never>) in
            guard var batch = batches[id] else { return continuation.resume(returning: .notInBatch) }
            batch.atPC2.insert(sector.id)
            batch.pc2Waiting[token] = Waiting(token: token, sector: sector, pc2: continuation)
            batches[id] = batch
            log.info("\(sector.id) waits for batch \(id) supra_pc2 (\(batch.atPC2.count) of \(batch.sectors.count - batch.excused.count))")
            startPC2IfReady(id)
        }
    }

    private func startPC2IfReady(_ id: Int) {
        guard batches[id]?.readyForPC2 == true else { return }
        batches[id]?.pc2Running = true
        Task { await self.runPC2(id) }
    }

    private func runPC2(_ id: Int) async {
        guard let batch = batches[id], let membership = batch.membership else { return }
        let pc1Outputs = membership.members.map(\.pc1Output.bytes)
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
            let done = Dictionary(zip(batch.sectors.map(\.id), commitments), uniquingKeysWith: { first, _ in first })
            current.pc2Done = done
            batches[id] = current
            log.info("batch \(id) supra_pc2 done")
            for member in waiting { member.pc2?.resume(returning: done[member.sector.id].map { .done($0) } ?? .notInBatch) }
        case let .failure(error):
            // Every thread gets the error; they meet again for the retry.
            current.atPC2 = []
            batches[id] = current
            log.warn("batch \(id) supra_pc2 failed: \(error.message)")
            for member in waiting { member.pc2?.resume(returning: .failed(error)) }
        }
    }

    // MARK: - Per sector after PC2

    /// Makes sure `sector`'s batch holds its NVMe slot for its `supra_c1` (re-forming the batch
    /// from `membership` if this process has none).
    public func holdSlot(for sector: SectorID, _ membership: BatchMembership) async {
        _ = await batch(of: sector, membership, need: .c1)
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

    /// `sector` left its batch for good (aborted between batch PC1 and its C1): it is finalized
    /// for the slot, and the batch PC2 no longer waits for it.
    public func leave(_ sector: SectorID) async {
        guard let id = batchOf[sector], batches[id] != nil else { return }
        log.info("\(sector) leaves batch \(id) (aborted)")
        batches[id]?.excused.insert(sector)
        startPC2IfReady(id)
        await finalized(sector)
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
                if !batch.pc2Running { batches[id]?.atPC2.remove(member.sector.id) }
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
