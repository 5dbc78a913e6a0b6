/// A Crynux inference task's status, numbered as the contract, the relay and the node number it
/// (spec crynux.md 1.1; relay `models/inference_task.go`).
public enum CrynuxTaskStatus: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case queued = 0
    case started = 1
    case parametersUploaded = 2
    case errorReported = 3
    case scoreReady = 4
    case validated = 5
    case groupValidated = 6
    case endInvalidated = 7
    case endSuccess = 8
    case endAborted = 9
    case endGroupRefund = 10
    case endGroupSuccess = 11

    /// True for the five End* states, which accept no further transition.
    public var isTerminal: Bool { rawValue >= CrynuxTaskStatus.endInvalidated.rawValue }

    /// The relay's name (`TaskStarted` without the prefix).
    public var description: String {
        switch self {
        case .queued: "Queued"
        case .started: "Started"
        case .parametersUploaded: "ParametersUploaded"
        case .errorReported: "ErrorReported"
        case .scoreReady: "ScoreReady"
        case .validated: "Validated"
        case .groupValidated: "GroupValidated"
        case .endInvalidated: "EndInvalidated"
        case .endSuccess: "EndSuccess"
        case .endAborted: "EndAborted"
        case .endGroupRefund: "EndGroupRefund"
        case .endGroupSuccess: "EndGroupSuccess"
        }
    }
}

/// The kind of inference (spec 1.1).
public enum CrynuxTaskType: Int, Sendable, Hashable, Codable, CaseIterable {
    case sd = 0
    case llm = 1
    case sdFineTune = 2

    /// Stable Diffusion kinds are scored by perceptual hash, LLM by SHA-256.
    public var isImage: Bool { self != .llm }
}

/// The only error a node may report (spec 1.1).
public enum CrynuxTaskError: Int, Sendable, Hashable, Codable, CaseIterable {
    case none = 0
    case parametersValidationFailed = 1
}

/// Why a task ended in EndAborted; 1-4 legacy contract, 5-10 relay additions (spec 1.1).
public enum CrynuxAbortReason: Int, Sendable, Hashable, Codable, CaseIterable {
    case none = 0
    case timeout = 1
    case modelDownloadFailed = 2
    case incorrectResult = 3
    case taskFeeTooLow = 4
    case groupTimeout = 5
    case errorReported = 6
    case creatorCancelled = 7
    case creatorValidationTimeout = 8
    case resultUploadTimeout = 9
    case nodeSlashed = 10
}

/// The relay's view of a node (spec 2.8).
public enum CrynuxNodeStatus: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case quit = 0
    case available = 1
    case busy = 2
    case pendingPause = 3
    case pendingQuit = 4
    case paused = 5

    public var description: String {
        switch self {
        case .quit: "Quit"
        case .available: "Available"
        case .busy: "Busy"
        case .pendingPause: "PendingPause"
        case .pendingQuit: "PendingQuit"
        case .paused: "Paused"
        }
    }
}
