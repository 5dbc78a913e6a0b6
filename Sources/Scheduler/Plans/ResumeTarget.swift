/// Why `resume --state NAME` was refused.
public enum ResumeError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownState(name: String, plan: PlanKind, valid: [SectorState])

    public var description: String {
        switch self {
        case let .unknownState(name, plan, valid):
            "'\(name)' is not a state of plan \(plan); valid states: \(valid.map(\.rawValue).joined(separator: ", "))"
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
