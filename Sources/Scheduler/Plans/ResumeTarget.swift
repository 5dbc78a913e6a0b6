/// Why `resume --state NAME` was refused.
public enum ResumeError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownState(name: String, plan: PlanKind, valid: [SectorState])
    /// The record lacks phase data the target state's handlers read (a mistyped target, say).
    case missingPhaseData(state: SectorState, plan: PlanKind, missing: [PhaseField])

    public var description: String {
        switch self {
        case let .unknownState(name, plan, valid):
            "'\(name)' is not a state of plan \(plan); valid states: \(valid.map(\.rawValue).joined(separator: ", "))"
        case let .missingPhaseData(state, plan, missing):
            "cannot resume plan \(plan) from \(state): the sector record lacks \(missing.map(\.description).joined(separator: ", ")); the thread stays paused"
        }
    }
}

extension Plan {
    /// Validates an operator's `resume --state NAME` against this plan (damocles logs and ignores
    /// unknown names; we refuse and list the states that exist).
    public func resumeTarget(named name: String) -> Result<SectorState, ResumeError> {
        guard let state = SectorState(name: name), contains(state) else {
            return .failure(.unknownState(name: name, plan: kind, valid: states))
        }
        return .success(state)
    }
}
