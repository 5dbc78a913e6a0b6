/// Which of the two documented flows a table describes: the current relay-driven one, or the
/// older on-chain one of `crynux-task-lifecycle-v1.md` / `VSSTask.sol` (spec 1.2).
public enum CrynuxFlowMode: String, Sendable, Hashable, Codable, CaseIterable {
    case relay
    case legacy
}

/// Who may cause a transition (spec 1.2 "Trigger (caller)").
public enum CrynuxTrigger: String, Sendable, Hashable, Codable, CaseIterable {
    /// Task creation or dispatch (application / relay dispatcher).
    case dispatch
    /// The relay (legacy: on-chain `reportTaskParametersUploaded`, `reportTaskResultUploaded`).
    case relay
    /// The selected node: submit score, report error, upload result, and (legacy only) abort.
    case node
    /// The application: validate single / group, cancel.
    case creator
    /// A deadline passing (relay timeout processor; legacy: a caller after start + timeout).
    case timeout
}

/// One allowed edge of the task state machine.
public struct CrynuxTransition: Sendable, Hashable {
    public var from: CrynuxTaskStatus?
    public var to: CrynuxTaskStatus
    public var trigger: CrynuxTrigger
    public init(_ from: CrynuxTaskStatus?, _ to: CrynuxTaskStatus, _ trigger: CrynuxTrigger) {
        self.from = from
        self.to = to
        self.trigger = trigger
    }
}

/// The task state machine as data, per mode (spec 1.2, 1.3, 1.5). `from == nil` is creation.
public enum CrynuxTransitionTable {
    /// Edges of `mode`.
    public static func edges(_ mode: CrynuxFlowMode) -> [CrynuxTransition] {
        var e: [CrynuxTransition] = [
            .init(nil, .queued, .dispatch),
            .init(nil, .started, .dispatch),
            .init(.queued, .started, .dispatch),
            .init(.scoreReady, .validated, .creator),
            .init(.errorReported, .endAborted, .creator),
            // Group validation (1.3): each member lands in one of these.
            .init(.scoreReady, .groupValidated, .creator),
            .init(.scoreReady, .endGroupRefund, .creator),
            .init(.scoreReady, .endInvalidated, .creator),
            .init(.scoreReady, .endAborted, .creator),
            .init(.errorReported, .endInvalidated, .creator),
            .init(.errorReported, .endGroupRefund, .creator),
            .init(.validated, .endSuccess, .relay),
            .init(.groupValidated, .endGroupSuccess, .relay),
        ]
        switch mode {
        case .relay:
            // Parameters travel in the create request; score/error only from Started.
            e += [
                .init(.started, .scoreReady, .node),
                .init(.started, .errorReported, .node),
                .init(.queued, .endAborted, .creator), // CreatorCancelled, only while Queued
                .init(.queued, .endAborted, .timeout),
                .init(.started, .endAborted, .timeout),
                .init(.scoreReady, .endAborted, .timeout), // CreatorValidationTimeout / GroupTimeout
                .init(.errorReported, .endAborted, .timeout),
                .init(.validated, .endAborted, .timeout), // ResultUploadTimeout
                .init(.groupValidated, .endAborted, .timeout),
            ]
        case .legacy:
            e += [
                .init(.queued, .endAborted, .dispatch), // queue overflow: TaskFeeTooLow
                .init(.started, .parametersUploaded, .relay),
                .init(.parametersUploaded, .scoreReady, .node),
                .init(.parametersUploaded, .errorReported, .node),
                .init(.endAborted, .endAborted, .creator), // group validation over an aborted member: no-op
            ]
            // abortTask(reason): creator or selected node, from any non-final state after the timeout.
            for s in CrynuxTaskStatus.allCases where !s.isTerminal {
                e.append(.init(s, .endAborted, .node))
                e.append(.init(s, .endAborted, .timeout))
            }
        }
        return e
    }

    /// True when `mode` has an edge `from -> to` (any trigger).
    public static func allows(_ from: CrynuxTaskStatus, _ to: CrynuxTaskStatus, mode: CrynuxFlowMode) -> Bool {
        edges(mode).contains { $0.from == from && $0.to == to }
    }

    /// True when `trigger` may move `from -> to` in `mode`.
    public static func allows(_ from: CrynuxTaskStatus, _ to: CrynuxTaskStatus, by trigger: CrynuxTrigger, mode: CrynuxFlowMode) -> Bool {
        edges(mode).contains { $0.from == from && $0.to == to && $0.trigger == trigger }
    }

    /// The status in which a node may submit a score or report an error.
    public static func executionStatus(_ mode: CrynuxFlowMode) -> CrynuxTaskStatus {
        mode == .relay ? .started : .parametersUploaded
    }

    /// Statuses in which the relay accepts a result upload (spec 1.2).
    public static let uploadStatuses: Set<CrynuxTaskStatus> = [.validated, .groupValidated, .endInvalidated, .endGroupRefund]
}
