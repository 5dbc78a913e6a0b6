import Testing
@testable import Scheduler

/// Spec crynux.md 1.1-1.3, 2.3, 2.5: the task state machine and the node's decisions as data.
@Suite struct CrynuxLifecycleTests {
    typealias S = CrynuxTaskStatus

    @Test func statusNumbersAreTheRelays() {
        let names = ["Queued", "Started", "ParametersUploaded", "ErrorReported", "ScoreReady", "Validated", "GroupValidated",
                     "EndInvalidated", "EndSuccess", "EndAborted", "EndGroupRefund", "EndGroupSuccess"]
        #expect(S.allCases.map(\.rawValue) == Array(0...11))
        #expect(S.allCases.map(\.description) == names)
        #expect(S.allCases.filter(\.isTerminal).map(\.rawValue) == [7, 8, 9, 10, 11])
        #expect(CrynuxAbortReason.allCases.count == 11 && CrynuxAbortReason.nodeSlashed.rawValue == 10)
        #expect(CrynuxTaskError.parametersValidationFailed.rawValue == 1)
        #expect(CrynuxNodeStatus.paused.rawValue == 5 && CrynuxNodeStatus.pendingPause.rawValue == 3)
    }

    /// Every row of spec 1.2 (legacy) and its "current relay differences", as (from, to, trigger).
    static let legacyRows: [(S?, S, CrynuxTrigger)] = [
        (nil, .started, .dispatch), (nil, .queued, .dispatch), (.queued, .started, .dispatch),
        (.started, .parametersUploaded, .relay), (.parametersUploaded, .scoreReady, .node), (.parametersUploaded, .errorReported, .node),
        (.scoreReady, .validated, .creator), (.errorReported, .endAborted, .creator),
        (.scoreReady, .groupValidated, .creator), (.scoreReady, .endGroupRefund, .creator), (.scoreReady, .endInvalidated, .creator),
        (.errorReported, .endInvalidated, .creator), (.endAborted, .endAborted, .creator),
        (.validated, .endSuccess, .relay), (.groupValidated, .endGroupSuccess, .relay),
    ]
    static let relayRows: [(S?, S, CrynuxTrigger)] = [
        (nil, .queued, .dispatch), (.queued, .started, .dispatch), (.started, .scoreReady, .node), (.started, .errorReported, .node),
        (.scoreReady, .validated, .creator), (.errorReported, .endAborted, .creator), (.queued, .endAborted, .creator),
        (.validated, .endSuccess, .relay), (.groupValidated, .endGroupSuccess, .relay),
        (.queued, .endAborted, .timeout), (.started, .endAborted, .timeout), (.scoreReady, .endAborted, .timeout),
        (.errorReported, .endAborted, .timeout), (.validated, .endAborted, .timeout), (.groupValidated, .endAborted, .timeout),
    ]

    @Test(arguments: CrynuxFlowMode.allCases)
    func everySpecEdgeIsInTheTable(mode: CrynuxFlowMode) {
        let rows = mode == .legacy ? Self.legacyRows : Self.relayRows
        let edges = CrynuxTransitionTable.edges(mode)
        for (from, to, trigger) in rows {
            #expect(edges.contains(CrynuxTransition(from, to, trigger)), "\(mode): \(from.map { "\($0)" } ?? "new") -> \(to) by \(trigger)")
        }
    }

    @Test(arguments: CrynuxFlowMode.allCases)
    func exhaustiveOverStatePairs(mode: CrynuxFlowMode) {
        for from in S.allCases {
            for to in S.allCases {
                let allowed = CrynuxTransitionTable.allows(from, to, mode: mode)
                // Terminal states are final (legacy's EndAborted -> EndAborted no-op excepted).
                if from.isTerminal { #expect(allowed == (mode == .legacy && from == .endAborted && to == .endAborted), "\(mode) \(from)->\(to)") }
                // Nothing goes back to Queued, and nothing but dispatch reaches Started.
                if to == .queued { #expect(!allowed) }
                if to == .started { #expect(allowed == (from == .queued)) }
                // The node writes only score / error (and, legacy only, abort).
                let byNode = CrynuxTransitionTable.allows(from, to, by: .node, mode: mode)
                if byNode {
                    let exec = CrynuxTransitionTable.executionStatus(mode)
                    let isWrite = from == exec && (to == .scoreReady || to == .errorReported)
                    #expect(isWrite || (mode == .legacy && to == .endAborted), "\(mode): node may not move \(from)->\(to)")
                }
                // ParametersUploaded exists only in the legacy flow.
                if mode == .relay, from == .parametersUploaded || to == .parametersUploaded { #expect(!allowed) }
            }
        }
        // Legacy: the node may abort every non-final task (after the timeout); current: never.
        for s in S.allCases where !s.isTerminal {
            #expect(CrynuxTransitionTable.allows(s, .endAborted, by: .node, mode: mode) == (mode == .legacy))
        }
    }

    @Test(arguments: CrynuxFlowMode.allCases)
    func everyStateIsReachableAndEveryOpenStateCanEnd(mode: CrynuxFlowMode) {
        let edges = CrynuxTransitionTable.edges(mode)
        var reached = Set(edges.filter { $0.from == nil }.map(\.to))
        var frontier = Array(reached)
        while let s = frontier.popLast() {
            for e in edges where e.from == s && reached.insert(e.to).inserted { frontier.append(e.to) }
        }
        let expected = Set(S.allCases.filter { mode == .legacy || $0 != .parametersUploaded })
        #expect(reached == expected)
        for s in expected where !s.isTerminal {
            var seen: Set<S> = [s]
            var stack = [s]
            while let x = stack.popLast() { for e in edges where e.from == x && seen.insert(e.to).inserted { stack.append(e.to) } }
            let ends = seen.contains { $0.isTerminal }
            #expect(ends, "\(mode): \(s) cannot end")
        }
        #expect(CrynuxTransitionTable.uploadStatuses == [.validated, .groupValidated, .endInvalidated, .endGroupRefund])
    }

    // MARK: 1.3 group outcomes

    static let exact: @Sendable ([UInt8], [UInt8]) -> Bool = { $0 == $1 }
    static func outcome(_ m: [CrynuxGroupMember]) -> [String] { CrynuxGroupValidation.outcome(m, matches: exact).map(\.description) }
    static let a = CrynuxGroupMember.score([1]), b = CrynuxGroupMember.score([2]), c = CrynuxGroupMember.score([3])

    @Test func groupOutcomeTable() {
        #expect(Self.outcome([Self.a, Self.a, Self.a]) == ["GroupValidated", "EndGroupRefund", "EndGroupRefund"])
        #expect(Self.outcome([Self.a, Self.a, Self.b]) == ["GroupValidated", "EndGroupRefund", "EndInvalidated"])
        #expect(Self.outcome([Self.a, Self.a, .error]) == ["GroupValidated", "EndGroupRefund", "EndInvalidated"])
        #expect(Self.outcome([Self.a, .error, .error]) == ["EndInvalidated", "EndAborted(incorrectResult)", "EndAborted(incorrectResult)"])
        #expect(Self.outcome([Self.a, Self.a, .aborted]) == ["GroupValidated", "EndGroupRefund", "EndAborted"])
        for odd in [Self.c, .error, .aborted] {
            let r = CrynuxGroupValidation.outcome([Self.a, Self.b, odd], matches: Self.exact)
            #expect(r.allSatisfy { $0.status == .endAborted }, "A, B, \(odd)")
        }
        // Error x3: the relay's code (not the GitBook) gives two EndAborted and one EndGroupRefund.
        let errors = CrynuxGroupValidation.outcome([.error, .error, .error], matches: Self.exact).map(\.status)
        #expect(errors.filter { $0 == .endAborted }.count == 2 && errors.filter { $0 == .endGroupRefund }.count == 1)
        #expect(Self.outcome([Self.a, .aborted, .aborted]) == ["EndAborted(groupTimeout)", "EndAborted", "EndAborted"])
    }

    /// The odd one out is invalidated wherever it sits; the fastest matching scorer is paid.
    @Test func groupOutcomeByPosition() {
        for odd in 0..<3 {
            var m = [Self.a, Self.a, Self.a]
            m[odd] = Self.b
            let r = CrynuxGroupValidation.outcome(m, matches: Self.exact)
            #expect(r[odd].status == .endInvalidated)
            let paid = (0..<3).first { $0 != odd }!
            #expect(r[paid].status == .groupValidated)
            #expect(r.filter { $0.status == .endGroupRefund }.count == 1)
        }
    }

    @Test func scoreMatching() {
        let x: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
        var y = x
        y[0] = 0b0000_0111
        #expect(CrynuxGroupValidation.scoresMatch(x, y, type: .sd, distanceThreshold: 4))
        #expect(!CrynuxGroupValidation.scoresMatch(x, y, type: .sd, distanceThreshold: 3))
        #expect(!CrynuxGroupValidation.scoresMatch(x, y, type: .llm, distanceThreshold: 64))
        #expect(!CrynuxGroupValidation.scoresMatch(x, x + x, type: .sd, distanceThreshold: 24))
        #expect(!CrynuxGroupValidation.scoresMatch(x, x, type: .sd, distanceThreshold: 0))
    }

    // MARK: 2.3 reconcile, 2.5 policy

    static var locals: [CrynuxLocalState] {
        var out: [CrynuxLocalState] = []
        for score in [false, true] { for executed in [false, true] { for outcome in [nil] + CrynuxExecutionOutcome.allCases.map(Optional.some) {
            for uploaded in [false, true] { for closed in [false, true] {
                out.append(CrynuxLocalState(scorePersisted: score, executedThisLifetime: executed, executionOutcome: outcome, resultUploaded: uploaded, closed: closed))
            } }
        } } }
        return out
    }

    @Test func reconcileIsExhaustiveAndFollowsTheTable() {
        for status in S.allCases {
            for local in Self.locals {
                let action = CrynuxReconcile.decide(status: status, local: local)
                let what = "\(status) \(local)"
                if local.closed { #expect(action == .none, "\(what)"); continue }
                switch status {
                case .started, .parametersUploaded:
                    if local.scorePersisted { #expect(action == .submitScore, "\(what)") }
                    else if let o = local.executionOutcome { #expect(action == CrynuxErrorPolicy.protocolAction(for: o), "\(what)") }
                    else { #expect(action == (local.executedThisLifetime ? .none : .execute), "\(what)") }
                case .queued, .scoreReady: #expect(action == .none, "\(what)")
                case .validated, .groupValidated: #expect(action == (local.resultUploaded ? .none : .uploadResult), "\(what)")
                case .endInvalidated: #expect(action == (local.resultUploaded ? .close : .uploadResult), "\(what)")
                case .endSuccess, .endGroupSuccess, .endGroupRefund, .endAborted, .errorReported: #expect(action == .close, "\(what)")
                }
                // A persisted score never leads to running the GPU job again.
                if local.scorePersisted { #expect(action != .execute) }
                // Never a protocol write in a status that does not accept it.
                if action == .submitScore || action == .reportError { #expect(status == .started || status == .parametersUploaded) }
            }
        }
    }

    @Test func errorPolicyReportsOnlyInvalidArgumentsAndNeverAborts() {
        #expect(CrynuxErrorPolicy.protocolAction(for: .taskInvalid) == .reportError)
        #expect(CrynuxErrorPolicy.protocolAction(for: .failed) == .closeAborted)
        #expect(CrynuxErrorPolicy.protocolAction(for: .cancelled) == .closeAborted)
        #expect(!CrynuxErrorPolicy.nodeMayAbort(mode: .relay, now: 1e9, start: 0, timeout: 1))
        #expect(!CrynuxErrorPolicy.nodeMayAbort(mode: .legacy, now: 104, start: 0, timeout: 100))
        #expect(CrynuxErrorPolicy.nodeMayAbort(mode: .legacy, now: 105, start: 0, timeout: 100))
    }
}

@Suite struct CrynuxGPUShareTests {
    @Test func shareLimitsTimeAheadOfSealing() {
        var s = CrynuxGPUShare(share: 0.25, window: 100)
        #expect(s.aheadOfSealing(now: 1000))
        s.record(start: 950, end: 970) // 20 of the last 100 s
        #expect(abs(s.usedFraction(now: 1000) - 0.2) < 1e-9)
        #expect(s.aheadOfSealing(now: 1000))
        s.record(start: 980, end: 990)
        #expect(!s.aheadOfSealing(now: 1000))
        // Time passes: the old leases slide out of the window.
        #expect(abs(s.usedFraction(now: 1060) - 0.2) < 1e-9)
        #expect(s.aheadOfSealing(now: 1080))
        #expect(!CrynuxGPUShare(share: 0).aheadOfSealing(now: 0))
    }
}
