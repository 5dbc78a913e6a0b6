import ProofsFFI
import Scheduler

/// Runs one proof stage for a sealing thread: takes, in damocles' order, the stage's permit
/// (`limitation.concurrent`), its start token (`limitation.staggered`), a processor child's slot
/// and locks, then the resources from the pools. Every wait goes through the thread's controller,
/// so a pause ends it; whatever was taken is given back on every path. Then it computes, in the
/// child whose slot it holds or in-process on the leased cores, and gives everything back.
struct StageRunner: Sendable {
    let prover: any Prover
    let proverName: String
    let gates: [ProofStage: StageGate]
    let staggers: [ProofStage: StaggerGate]
    /// `[[processors.<stage>]]` children's slots and `ext_locks`; nil when none are configured.
    let processors: ProcessorSlots?
    /// The running children, by stage and index (matching `ProcessorSlot.index`).
    let children: [ProofStage: [ExternalProcessor]]
    /// The resource pools every proof stage is admitted through; nil runs stages unmetered.
    let broker: ResourceBroker?
    /// Counts each stage's run seconds for `/metrics`; nil: not counted.
    var metrics: SealingMetrics? = nil

    /// Runs `stage` of a sector of `size`; `log` carries the thread, sector and state.
    func run<T>(
        _ stage: ProofStage, size: SectorSize, controller: ThreadController, log: Log,
        _ body: (any Prover) async throws(ProverError) -> T
    ) async throws(StepError) -> T {
        var held = Held(stage: stage)
        do {
            try await acquire(stage, size: size, into: &held, controller: controller, log: log)
        } catch {
            await held.release()
            controller.activity = .idle
            throw error
        }
        // A stage with processor children runs in the child whose slot it holds, with its lease.
        var worker: any Prover = prover
        var proc = "\(proverName) \(stage)"
        if let slot = held.slot, let child = children[stage]?[slot.index] {
            worker = ExternalProver(processor: child, local: prover, lease: held.lease?.grant)
            proc = "processors.\(stage)[\(slot.index)]"
        }
        let running = proc + (held.lease.map { " [\($0.summary)]" } ?? "")
        controller.activity = .running(since: .now, proc: running)
        log.info("\(stage) runs on \(running)")
        // In-process work runs on a thread pinned to the leased cores and node; a prover whose
        // calls block gets a thread of its own when no lease pins one.
        let pinned = held.slot == nil ? held.lease.flatMap { PinnedExecutor.forLease(cpus: $0.grant.cpus, node: $0.grant.node) } : nil
        let dedicated = pinned == nil && worker.blocksThreads ? DedicatedExecutor(name: "stage-\(stage)") : nil
        let executor: (any TaskExecutor)? = pinned ?? dedicated
        let result: Result<T, ProverError>
        let started = ContinuousClock.now
        do {
            result = .success(try await withTaskExecutorPreference(executor) { () async throws(ProverError) -> T in try await body(worker) })
            let ran = (ContinuousClock.now - started).components
            metrics?.stageRan("\(stage)", sectorSize: "\(size)", seconds: Double(ran.seconds) + Double(ran.attoseconds) / 1e18)
        } catch {
            result = .failure(error)
        }
        dedicated?.finish()
        await held.release()
        controller.activity = .idle
        switch result {
        case let .success(value): return value
        case let .failure(error):
            if Task.isCancelled { throw .interrupted }
            throw .failure(error.retryable ? .temporary("\(error)") : .permanent("\(error)"))
        }
    }

    /// Removes what a finished or aborted sector's cache no longer needs (filecoin-ffi's
    /// `clear_cache`, which damocles runs before removing the sector's files), on a thread of its
    /// own when the prover blocks; a failure is only logged, the files go anyway.
    func clearCache(_ sector: SectorRef, log: Log) async {
        let dedicated = prover.blocksThreads ? DedicatedExecutor(name: "clear-cache") : nil
        let prover = self.prover
        do {
            try await withTaskExecutorPreference(dedicated) { () async throws(ProverError) in try await prover.clearCache(sector) }
        } catch {
            log.warn("clear_cache failed: \(error)")
        }
        dedicated?.finish()
    }

    /// What a running stage holds, given back in reverse order of taking.
    struct Held {
        let stage: ProofStage
        var permit: StageGate?
        var stagger: StaggerGate?
        var processors: ProcessorSlots?
        var slot: ProcessorSlot?
        var lease: ResourceLease?

        mutating func release() async {
            if let lease { await lease.release() }
            if let slot, let processors { processors.release(stage, slot) }
            if let stagger { stagger.finished() }
            if let permit { permit.release() }
            self = Held(stage: stage)
        }
    }

    private func acquire(
        _ stage: ProofStage, size: SectorSize, into held: inout Held, controller: ThreadController, log: Log
    ) async throws(StepError) {
        try controller.checkpoint()
        if let gate = gates[stage] {
            if let ticket = gate.take() {
                controller.activity = .waiting(since: .now, waitingFor: "\(stage) slot (limit \(gate.limit))")
                guard await controller.wait(on: gate.line, ticket) != nil else { throw .interrupted }
            }
            held.permit = gate
            try controller.checkpoint()
        }
        if let stagger = staggers[stage] {
            if let ticket = stagger.take() {
                controller.activity = .waiting(since: .now, waitingFor: "\(stage) start (staggered \(stagger.interval))")
                guard await controller.wait(on: stagger.line, ticket) != nil else { throw .interrupted }
            }
            held.stagger = stagger
            try controller.checkpoint()
        }
        if let processors, let taken = processors.take(stage) {
            switch taken {
            case let .taken(slot):
                held.slot = slot
            case let .queued(ticket):
                controller.activity = .waiting(since: .now, waitingFor: "\(stage) processor (slot or ext_lock)")
                guard let slot = await controller.wait(on: processors.line, ticket) else { throw .interrupted }
                held.slot = slot
            }
            held.processors = processors
            try controller.checkpoint()
        }
        held.lease = try await admit(stage, size: size, on: held.slot, controller: controller, log: log)
        try controller.checkpoint()
    }

    /// Waits for the pools to grant what `stage` needs for a sector of `size`, within the
    /// processor child's pinning; a pause or shutdown ends the wait and leaves nothing held.
    private func admit(
        _ stage: ProofStage, size: SectorSize, on slot: ProcessorSlot?, controller: ThreadController, log: Log
    ) async throws(StepError) -> ResourceLease? {
        guard let broker else { return nil }
        var request = broker.request(stage, size: size)
        if let slot { request = slot.restrict(request) }
        let ticket: ResourceBroker.Ticket
        do {
            ticket = try await broker.enqueue(request)
        } catch {
            throw .failure(.permanent("\(error)"))
        }
        switch ticket {
        case let .granted(lease):
            metrics?.admitted("\(stage)", waited: 0)
            return lease
        case let .waiting(id, refusal):
            let since = ContinuousClock.now
            controller.activity = .waiting(since: since, waitingFor: "\(stage) \(refusal)")
            log.info("\(stage) waits for resources: \(refusal)")
            controller.resourceWait = (id, stage)
            let lease = await controller.wait(cancel: { _ = broker.withdraw(id) }) { await broker.wait(id) }
            controller.resourceWait = nil
            guard let lease else {
                // Leave the admission queue now, so a paused thread is never counted as waiting.
                await broker.cancel(id)
                throw .interrupted
            }
            let waited = since.duration(to: .now).inSeconds
            metrics?.admitted("\(stage)", waited: waited)
            log.info("\(stage) admitted after \(String(format: "%.1f", waited))s: \(lease.summary)")
            return lease
        }
    }
}
