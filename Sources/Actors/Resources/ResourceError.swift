import ProofsFFI
import Scheduler

/// Why a request cannot be admitted at all.
public enum ResourceError: Error, Sendable, Hashable, CustomStringConvertible {
    case neverFits(stage: ProofStage, Refusal)
    case cancelled

    public var description: String {
        switch self {
        case let .neverFits(stage, refusal): "\(stage) can never run on this box: \(refusal)"
        case .cancelled: "cancelled while waiting for resources"
        }
    }
}
