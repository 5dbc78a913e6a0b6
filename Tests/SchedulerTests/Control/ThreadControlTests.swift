import ProofsFFI
import Scheduler
import Testing

@Suite("Thread control state machine")
struct ThreadControlTests {
    static let states: [ControlState] = [
        .running, .pauseRequested, .paused,
        .resuming(target: nil, thenPause: false), .resuming(target: .allocated, thenPause: false),
        .resuming(target: nil, thenPause: true), .drained,
    ]

    @Test("pause from every state: registered once, never lost, never queued twice")
    func pauseTable() {
        for start in Self.states {
            var control = ThreadControl(start)
            let outcome = control.requestPause()
            switch start {
            case .running:
                #expect(outcome == .requested && control.state == .pauseRequested)
            case .pauseRequested:
                #expect(outcome == .alreadyRequested && control.state == .pauseRequested)
            case .paused:
                #expect(outcome == .alreadyPaused && control.state == .paused)
            case let .resuming(target, false):
                // The defect: a pause right after a resume used to be dropped.
                #expect(outcome == .requested && control.state == .resuming(target: target, thenPause: true))
            case .resuming(_, true):
                #expect(outcome == .alreadyRequested && control.state == start)
            case .drained:
                #expect(outcome == .alreadyPaused && control.state == .drained, "a drained thread is parked already")
            }
        }
    }

    @Test("resume from every state: accepted only from paused (or withdrawing a pending pause), refused while resuming")
    func resumeTable() {
        for start in Self.states {
            for target in [nil, SectorState.pc1Done] {
                var control = ThreadControl(start)
                let result = refusal(control.requestResume(target: target))
                switch (start, target) {
                case (.running, _):
                    #expect(result == .notPaused && control.state == .running)
                case (.pauseRequested, nil):
                    #expect(result == nil && control.state == .running)
                case (.pauseRequested, _):
                    #expect(result == .pausePending && control.state == .pauseRequested)
                case (.paused, _), (.drained, _):
                    #expect(result == nil && control.state == .resuming(target: target, thenPause: false))
                case (.resuming, _):
                    #expect(result == .alreadyResuming && control.state == start)
                }
            }
        }
    }

    @Test("the woken thread takes its resume once; a pause that came meanwhile parks it again")
    func takeResume() {
        var control = ThreadControl(.paused)
        let early = control.takeResume()
        #expect(early == nil, "nothing to take while parked")
        _ = control.requestResume(target: .allocated)
        _ = control.requestPause()
        let taken = control.takeResume()
        #expect(taken?.target == .allocated && taken?.pauseAgain == true)
        #expect(control.state == .pauseRequested)
        let again = control.takeResume()
        #expect(again == nil, "a resume target is applied once, never again later")
        let parked = control.park(force: false)
        #expect(parked && control.state == .paused)
    }

    @Test("parking without a reason left (a plain resume withdrew the pause) does not park")
    func parkAfterWithdrawnPause() {
        var control = ThreadControl()
        _ = control.requestPause()
        _ = control.requestResume(target: nil)
        let withdrawn = control.park(force: false)
        #expect(!withdrawn && control.state == .running)
        let forced = control.park(force: true)
        #expect(forced && control.state == .paused, "a failure parks the thread on its own")
    }

    @Test("drain: finishes the sector, parks at the boundary, survives a pause, and any resume undoes it")
    func drain() {
        var control = ThreadControl()
        let first = control.requestDrain(), second = control.requestDrain()
        #expect(first == .requested && second == .alreadyDraining)
        #expect(!control.parkRequested, "a drain never interrupts the sector in progress")
        let atBoundary = control.drainAtBoundary()
        #expect(atBoundary && control.state == .drained)
        let third = control.requestDrain()
        #expect(third == .alreadyDrained)
        let resumed = refusal(control.requestResume(target: nil))
        #expect(resumed == nil && control.state == .resuming(target: nil, thenPause: false) && !control.draining)

        var running = ThreadControl()
        _ = running.requestDrain()
        let undo = refusal(running.requestResume(target: nil))
        #expect(undo == nil, "resume undoes a drain of a running thread")
        let parks = running.drainAtBoundary()
        #expect(!running.draining && running.state == .running && !parks)
        _ = running.requestDrain()
        let moved = refusal(running.requestResume(target: .allocated))
        #expect(moved == .notPaused, "a running thread is not moved to another state")

        var paused = ThreadControl(.paused)
        let onPaused = paused.requestDrain()
        #expect(onPaused == .requested)
        let pausedParks = paused.drainAtBoundary()
        #expect(!pausedParks, "a paused thread stays paused; the drain waits for it")
        _ = paused.requestResume(target: nil)
        #expect(!paused.draining, "a resume undoes the drain too")
    }

    /// The refusal, or nil for an accepted resume.
    func refusal(_ result: Result<Void, ResumeRefusal>) -> ResumeRefusal? {
        if case let .failure(refusal) = result { return refusal }
        return nil
    }

    @Test("random command sequences: a registered pause is never lost")
    func randomWalks() {
        var rng = SplitMix64(seed: 13)
        for _ in 0..<2_000 {
            var control = ThreadControl()
            // A pause the operator asked for that neither parked the thread nor was withdrawn.
            var pauseOwed = false
            for _ in 0..<40 {
                switch rng.next() % 6 {
                case 0: if control.requestPause() == .requested { pauseOwed = true }
                case 1: if refusal(control.requestResume(target: nil)) == nil { pauseOwed = false }
                case 2: if refusal(control.requestResume(target: .allocated)) == nil { pauseOwed = false }
                case 3: if control.park(force: false), control.state == .paused { pauseOwed = false }
                case 4: if control.takeResume()?.pauseAgain == true { pauseOwed = true }
                default: if control.state == .running, control.park(force: true) { pauseOwed = false }
                }
                if pauseOwed {
                    switch control.state {
                    case .pauseRequested, .resuming(_, true): break
                    default: Issue.record("a registered pause was lost: \(control.state)")
                    }
                }
            }
        }
    }
}

@Suite("Resume targets against the record's phase data")
struct PhaseRequirementTests {
    @Test("a target whose phase data the record lacks is refused and names what is missing")
    func mistypedTargetIsRefused() throws {
        var record = SectorRecord(plan: .sealer)
        record.state = .ticketAssigned
        record.sector = SectorID(miner: 1000, number: 7)
        record.proof = SealProof.all(for: .kib2).first
        record.phases.pieces = []
        guard case let .failure(error) = Plan.sealer.resumeTarget(named: "PC2Done", for: record) else {
            Issue.record("PC2Done without a ticket and commitments was accepted")
            return
        }
        #expect(error == .missingPhaseData(state: .pc2Done, plan: .sealer, missing: [.ticket, .commitments]))
        #expect(error.description.contains("lacks ticket, commitments"))
        #expect(Plan.sealer.resumeTarget(named: "Allocated", for: record) == .success(.allocated))
        #expect(Plan.sealer.resumeTarget(named: "Aborted", for: record) == .success(.aborted), "abort always works")
        #expect(Plan.sealer.resumeTarget(named: "TicketAssigned", for: record) == .success(.ticketAssigned))
    }

    @Test("every state of every plan names its requirements, and they only name states of that plan")
    func requirementsCoverPlans() {
        for kind in PlanKind.allCases {
            let plan = kind.plan
            for state in plan.states where state != .empty && state != .aborted && !(kind == .wdpost && state == .finished) {
                #expect(!plan.requiredPhases(at: state).isEmpty, "\(kind) \(state) requires nothing")
            }
        }
        #expect(Plan.sealer.requiredPhases(at: .empty).isEmpty)
    }
}
