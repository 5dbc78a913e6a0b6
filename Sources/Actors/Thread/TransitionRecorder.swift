import Foundation
import ProofsFFI
import Scheduler

/// Records a sealing thread's transitions: the state file first (durable before anything else
/// happens), then the history journal, the log line, and last the report to the manager.
struct TransitionRecorder: Sendable {
    let store: ThreadStore
    /// The location's history; nil for a thread without a location (or before it is opened).
    var journal: Journal?
    let manager: any SectorManager
    /// Times each durable history append for `/metrics`; nil: not timed.
    var metrics: SealingMetrics? = nil

    /// Makes `record` durable, off the cooperative pool.
    func save(_ record: SectorRecord) async throws(SealingFailure) {
        try await store.save(record)
    }

    /// Applies `event` to `current` with the phase data of `updated`: persists, writes history,
    /// logs, then reports. Returns the new record and, when the manager answered that it finalized
    /// the sector (its way of aborting remotely), its reason.
    func apply(
        _ event: SealingEvent, to updated: SectorRecord, from current: SectorRecord, settings: ThreadSettings, log: Log, note: String? = nil
    ) async throws(StepError) -> (record: SectorRecord, managerAbort: String?) {
        let prev = current.state
        let next: SectorState
        switch current.plan.plan.transition(from: prev, on: event) {
        case let .success(state): next = state
        case let .failure(error): throw .failure(.critical("internal: \(error)"))
        }
        var new = updated
        new.prevState = prev
        new.state = next
        do {
            try await save(new)
        } catch {
            throw .failure(error)
        }
        await appendHistory(new, from: prev, event: event.rawValue, to: next, note: note, log: log)
        metrics?.recent.record(TopTransition(time: Date().timeIntervalSince1970, thread: settings.index, plan: current.plan.rawValue,
                                             sector: new.jobID, from: prev.rawValue, event: event.rawValue, to: next.rawValue))
        // JSON lines carry the transition as fields; the text line already reads it.
        log.info("\(prev) --\(event)--> \(next)", structured: [("plan", current.plan.rawValue), ("event", event.rawValue), ("from", prev.rawValue), ("to", next.rawValue)])
        let resp = await report(new, settings: settings, prev: prev, next: next, event: event.rawValue, failure: nil, log: log)
        if let resp, resp.Finalized, !next.isTerminal {
            return (new, resp.AbortReason ?? "finalized by the manager")
        }
        return (new, nil)
    }

    /// Appends one history entry; a failure to write it is logged, never fatal.
    func appendHistory(_ record: SectorRecord, from: SectorState, event: String, to: SectorState, note: String?, log: Log) async {
        guard let journal else { return }
        let entry = HistoryEntry(
            time: Date().timeIntervalSince1970, sector: record.jobID, plan: record.plan,
            from: from, event: event, to: to, note: note)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let bytes = Array(try encoder.encode(entry))
            let started = ContinuousClock.now
            try await offload { () throws(PersistenceError) in try journal.append(bytes) }
            metrics?.journalAppended(seconds: started.duration(to: .now).inSeconds)
        } catch {
            log.warn("history not written: \(error)")
        }
    }

    /// Reports a transition (or a failure) of a sector to the manager; window PoSt jobs are not
    /// sectors and report through their own calls. A failed report is logged: the state file
    /// already holds the truth, and the next transition reports again.
    func report(
        _ record: SectorRecord, settings: ThreadSettings, prev: SectorState, next: SectorState, event: String,
        failure: SealingFailure?, log: Log
    ) async -> ReportStateResp? {
        guard let sector = record.sector, record.plan != .wdpost else { return nil }
        let req = ReportStateReq(
            instance: settings.instance, location: settings.location, prev: prev.rawValue, next: next.rawValue,
            event: event, failure: failure)
        do {
            return try await manager.reportState(sector, req)
        } catch {
            log.warn("report state failed: \(error)")
            return nil
        }
    }
}
