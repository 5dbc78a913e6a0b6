import ProofsFFI
import Scheduler

/// What a plan handler sees of its thread: the record as it stands, the settings, and the ways
/// to reach the outside (manager, stage runner, waits). Handlers return a `StepOutcome`; the
/// thread records it. Each plan's handlers live in the file named after the plan.
struct PlanContext: Sendable {
    let record: SectorRecord
    let settings: ThreadSettings
    let manager: any SectorManager
    let runner: StageRunner
    let controller: ThreadController
    let store: ThreadStore
    let clock: any Clock<Duration>
    /// Carries the thread, the sector (or job) and the state.
    let log: Log
    /// Batch mode's rendezvous (sealer plan only); nil seals sector by sector.
    var batch: BatchCoordinator? = nil

    /// Runs the handler of the current state: what to do now that this state's step is done.
    func step() async throws(StepError) -> StepOutcome {
        switch record.plan {
        case .sealer: try await sealerStep()
        case .snapup: try await snapUpStep()
        case .rebuild: try await rebuildStep()
        case .unseal: try await unsealStep()
        case .wdpost: try await wdPoStStep()
        }
    }

    /// The sector size stages are costed for: the sector's, the window PoSt job's (from its
    /// proof type), else the first allowed size.
    var stageSize: SectorSize {
        record.proof?.sectorSize ?? record.phases.postInput?.sectorSize ?? settings.sealing.allowedSizes?.first ?? .kib2
    }

    /// Runs a proof stage through the pools (see `StageRunner`).
    func run<T>(_ stage: ProofStage, _ body: (any Prover) async throws(ProverError) -> T) async throws(StepError) -> T {
        try await runner.run(stage, size: stageSize, controller: controller, log: log, body)
    }

    /// Calls the manager, mapping its errors to damocles' levels.
    func call<T>(_ body: () async throws(ManagerError) -> T) async throws(StepError) -> T {
        do {
            return try await body()
        } catch {
            if Task.isCancelled { throw .interrupted }
            throw .failure(error.failure)
        }
    }

    /// Sleeps on the thread's clock; a pause or shutdown interrupts it.
    func sleep(_ duration: Duration) async throws(StepError) {
        if !(await controller.sleep(for: duration, on: clock)) { throw .interrupted }
    }

    /// The manager's deals as this plan seals them; a deal whose piece CID is no piece
    /// commitment is the manager's error, and the thread pauses on it with the sector kept.
    func dealPieces(_ wire: [WireDeal]) throws(StepError) -> [DealPiece] {
        var pieces: [DealPiece] = []
        for deal in wire {
            do {
                pieces.append(DealPiece(dealID: deal.DealInfo?.DealID ?? 0, piece: try deal.Piece.pieceInfo()))
            } catch {
                throw .failure(.permanent("deal \(deal.DealInfo?.DealID ?? 0) from the manager: \(error)"))
            }
        }
        return pieces
    }

    func sectorRef() throws(StepError) -> SectorRef {
        guard let id = record.sector, let proof = record.proof else {
            throw .failure(.critical("sector record in state \(record.state) has no sector id or proof type; the sector is kept for inspection"))
        }
        return SectorRef(id: id, proof: proof, paths: SectorPaths(dataDirectory: store.dataDirectory, sector: id))
    }

    /// Phase data the current state requires. Its absence means the record is not what this
    /// state expects (a wrong `resume -s`, a damaged file): the thread pauses with the sector and
    /// its files kept; it never aborts a sector for it.
    func require<T>(_ value: T?, _ what: String) throws(StepError) -> T {
        guard let value else {
            throw .failure(.critical("sector record in state \(record.state) lacks \(what); resume it from a state whose data it holds"))
        }
        return value
    }
}
