/// What the node's persisted row says about the task it tracks (spec 2.2).
public struct CrynuxLocalState: Sendable, Hashable, Codable {
    /// A valid score (non-empty, multiple of 8 for images, not all zero) and its files are on disk.
    public var scorePersisted: Bool
    /// Inference already ran (or was started) in this executor lifetime.
    public var executedThisLifetime: Bool
    /// How the last execution ended, when it ended without a score.
    public var executionOutcome: CrynuxExecutionOutcome?
    /// The result files were uploaded.
    public var resultUploaded: Bool
    /// The row is closed (task finished locally).
    public var closed: Bool

    public init(scorePersisted: Bool = false, executedThisLifetime: Bool = false, executionOutcome: CrynuxExecutionOutcome? = nil,
                resultUploaded: Bool = false, closed: Bool = false) {
        self.scorePersisted = scorePersisted
        self.executedThisLifetime = executedThisLifetime
        self.executionOutcome = executionOutcome
        self.resultUploaded = resultUploaded
        self.closed = closed
    }
}

/// How an execution without a score ended (spec 2.5).
public enum CrynuxExecutionOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// The executor proved the arguments invalid (same failure on every node).
    case taskInvalid
    /// Download, CUDA, OOM, missing model, anything else.
    case failed
    /// Executor restarted or hung.
    case cancelled
}

/// The one action a reconcile cycle takes (spec 2.3).
public enum CrynuxAction: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    case submitScore
    case execute
    case reportError
    case closeAborted
    case uploadResult
    case close
}

/// The node's reconcile decision: a fresh relay status plus the persisted row -> at most one action.
public enum CrynuxReconcile {
    public static func decide(status: CrynuxTaskStatus, local: CrynuxLocalState) -> CrynuxAction {
        if local.closed { return .none }
        switch status {
        case .queued:
            return .none
        case .started, .parametersUploaded:
            if local.scorePersisted { return .submitScore }
            switch local.executionOutcome {
            case .taskInvalid: return .reportError
            case .failed, .cancelled: return .closeAborted
            case nil: return local.executedThisLifetime ? .none : .execute
            }
        case .scoreReady:
            return .none
        case .validated, .groupValidated:
            return local.resultUploaded ? .none : .uploadResult
        case .endInvalidated:
            return local.resultUploaded ? .close : .uploadResult
        case .endSuccess, .endGroupSuccess, .endGroupRefund, .endAborted, .errorReported:
            return .close
        }
    }
}
