import ProofsFFI
import Scheduler

/// The `wdpost` plan's handlers: take a window PoSt job, prove it, report it (spec 2.3). The
/// thread heartbeats the job every 3 s while it holds it (`SealingThread.syncHeartbeat`).
extension PlanContext {
    func wdPoStStep() async throws(StepError) -> StepOutcome {
        var next = record
        switch record.state {
        case .empty:
            let spec = AllocatePoStSpec(AllowedMiners: settings.sealing.allowedMiners, AllowedProofTypes: nil)
            let worker = settings.instance
            let jobs = try await call({ () async throws(ManagerError) in try await manager.wdPoStAllocateJobs(spec, count: 1, worker: worker) })
            guard let job = jobs.first else { return .idle }
            next.phases.wdpostJob = job.Id
            let miner = job.Input.MinerId
            let replicas = job.Input.Sectors.map { info in
                let paths = settings.replica(of: SectorID(miner: miner, number: info.SectorId),
                                             sealedIn: info.Accesses.SealedFile, cacheIn: info.Accesses.CacheDir)
                return ReplicaInfo(sector: info.SectorId, commR: info.CommR, cacheDir: paths.cache, sealedFile: paths.sealed)
            }
            next.phases.postInput = PoStInput(miner: miner, replicas: replicas, seed: Blob(job.Input.Seed), proofType: job.Input.ProofType)
            // A job is costed (and proven) by its own proof type; one this build cannot read is
            // handed back with the reason rather than run at a guessed size.
            do throws(PoStProofError) {
                _ = try job.Input.postProof
            } catch {
                return .abort(next, reason: "window PoSt job \(job.Id): \(error)")
            }
            return .advance(.allocatedWdPostJob, next)

        case .allocated:
            let input = try require(record.phases.postInput, "window PoSt input")
            let proof = input.proofType.flatMap { try? PoStProof.parse($0) } ?? PoStProof(sectorSize: stageSize)
            // A failed proof is reported to the manager with its reason, not retried here.
            do {
                next.phases.wdpostResult = try await run(.windowPost) { (prover: any Prover) async throws(ProverError) in
                    try await prover.windowPost(miner: input.miner, proof: proof, replicas: input.replicas, randomness: input.seed.bytes)
                }
            } catch {
                guard case let .failure(failure) = error else { throw error }
                next.phases.wdpostError = failure.message
            }
            return .advance(.generateWdPost, next)

        case .generated:
            let job = try require(record.phases.wdpostJob, "window PoSt job id")
            let output = record.phases.wdpostResult.map { WindowPoStOutput(proofs: $0.proofs.map(Blob.init), faults: $0.faultySectors) }
            let reason = record.phases.wdpostError ?? ""
            try await call({ () async throws(ManagerError) in try await manager.wdPoStFinishJob(job, output: output, errorReason: reason) })
            return .advance(.finish, next)

        default:
            throw .failure(.critical("plan wdpost has no handler for state \(record.state)"))
        }
    }
}
