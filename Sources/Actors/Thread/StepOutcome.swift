import Scheduler

/// Why a step did not complete.
enum StepError: Error {
    case failure(SealingFailure)
    /// A pause or shutdown interrupted a wait; the state is unchanged and the step re-runs later.
    case interrupted
}

/// What a plan handler decided; the thread's loop records it. Handlers never change the thread.
enum StepOutcome {
    /// The step is done: record `event` with the record as the step left it.
    case advance(SealingEvent, SectorRecord)
    /// Keep this record (say, a fetched ticket) without a transition, and run the state again.
    case save(SectorRecord)
    /// Record `record` (it names the sector) and abort it for `reason`.
    case abort(SectorRecord, reason: String)
    /// Nothing to do now (no task from the manager): wait, then ask again.
    case idle
}
