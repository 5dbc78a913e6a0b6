/// A piece of phase data a state's handler (or a later one) reads from the sector record.
public enum PhaseField: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sector = "sector id and proof type"
    case pieces
    case commD
    case ticket
    case pc1Output = "PC1 output"
    case commitments
    case persistInstance = "persist instance"
    case seed
    case c1Output = "C1 output"
    case proof
    case oldCommR = "old CommR"
    case snapCommitments = "snap commitments"
    case snapProof = "snap proof"
    case unsealPiece = "piece to unseal"
    case wdpostJob = "window PoSt job id"
    case postInput = "window PoSt input"

    public var description: String { rawValue }

    /// Whether `record` holds this field.
    public func isPresent(in record: SectorRecord) -> Bool {
        let p = record.phases
        switch self {
        case .sector: return record.sector != nil && record.proof != nil
        case .pieces: return p.pieces != nil
        case .commD: return p.commD != nil
        case .ticket: return p.ticket != nil
        case .pc1Output: return p.pc1Output != nil
        case .commitments: return p.commitments != nil
        case .persistInstance: return p.persistInstance != nil
        case .seed: return p.seed != nil
        case .c1Output: return p.c1Output != nil
        case .proof: return p.proof != nil
        case .oldCommR: return p.oldCommR != nil
        case .snapCommitments: return p.snapCommitments != nil
        case .snapProof: return p.snapProof != nil
        case .unsealPiece: return p.unsealPiece != nil
        case .wdpostJob: return p.wdpostJob != nil
        case .postInput: return p.postInput != nil
        }
    }
}

extension Plan {
    /// The phase data a record must hold to be in `state`: what that state's handler and the
    /// handlers after it read, produced by the steps before it. A `resume -s` target whose data
    /// the record lacks is refused rather than run into a missing-data failure.
    public func requiredPhases(at state: SectorState) -> [PhaseField] {
        switch kind {
        case .sealer: Self.sealerRequirements[state] ?? []
        case .snapup: Self.snapupRequirements[state] ?? []
        case .rebuild: Self.rebuildRequirements[state] ?? []
        case .unseal: Self.unsealRequirements[state] ?? []
        case .wdpost: Self.wdpostRequirements[state] ?? []
        }
    }

    /// The fields `record` lacks for `state`, in declaration order; empty when it can be there.
    public func missingPhases(for state: SectorState, in record: SectorRecord) -> [PhaseField] {
        requiredPhases(at: state).filter { !$0.isPresent(in: record) }
    }

    /// Validates an operator's `resume --state NAME` against this plan and against the phase data
    /// `record` holds (damocles logs and ignores unknown names; we refuse and say why).
    public func resumeTarget(named name: String, for record: SectorRecord) -> Result<SectorState, ResumeError> {
        let target: SectorState
        switch resumeTarget(named: name) {
        case let .success(state): target = state
        case let .failure(error): return .failure(error)
        }
        let missing = missingPhases(for: target, in: record)
        guard missing.isEmpty else {
            return .failure(.missingPhaseData(state: target, plan: kind, missing: missing))
        }
        return .success(target)
    }

    private static let sealerRequirements: [SectorState: [PhaseField]] = [
        .allocated: [.sector],
        .dealsAcquired: [.sector],
        .pieceAdded: [.sector, .pieces],
        .treeDBuilt: [.sector, .pieces],
        .ticketAssigned: [.sector, .pieces],
        .pc1Done: [.sector, .pieces, .ticket, .pc1Output],
        .syntheticPoRepNeeded: [.sector, .pieces, .ticket, .commitments],
        .pc2Done: [.sector, .pieces, .ticket, .commitments],
        .pcSubmitted: [.sector, .pieces, .ticket, .commitments],
        .pcLanded: [.sector, .pieces, .ticket, .commitments],
        .persisted: [.sector, .pieces, .ticket, .commitments, .persistInstance],
        .persistanceSubmitted: [.sector, .pieces, .ticket, .commitments],
        .seedAssigned: [.sector, .pieces, .ticket, .commitments, .seed],
        .c1Done: [.sector, .c1Output],
        .c2Done: [.sector, .proof],
        .proofSubmitted: [.sector],
        .finished: [.sector],
    ]

    private static let snapupRequirements: [SectorState: [PhaseField]] = [
        .allocated: [.sector, .oldCommR],
        .pieceAdded: [.sector, .oldCommR, .pieces],
        .treeDBuilt: [.sector, .oldCommR, .pieces],
        .snapEncoded: [.sector, .oldCommR, .snapCommitments],
        .snapProved: [.sector, .snapCommitments, .snapProof],
        .persisted: [.sector, .snapCommitments, .snapProof, .persistInstance],
        .finished: [.sector],
    ]

    private static let rebuildRequirements: [SectorState: [PhaseField]] = [
        .allocated: [.sector, .ticket],
        .pieceAdded: [.sector, .ticket, .pieces],
        .treeDBuilt: [.sector, .ticket, .pieces],
        .pc1Done: [.sector, .pieces, .ticket, .pc1Output],
        .syntheticPoRepNeeded: [.sector, .pieces, .ticket, .commitments],
        .pc2Done: [.sector, .pieces, .ticket, .commitments],
        .sealedChecked: [.sector, .oldCommR],
        .snapPieceAdded: [.sector, .oldCommR, .pieces],
        .snapTreeDBuilt: [.sector, .oldCommR, .pieces],
        .snapEncoded: [.sector, .oldCommR, .snapCommitments],
        .snapDone: [.sector],
        .persisted: [.sector, .persistInstance],
        .finished: [.sector],
    ]

    private static let unsealRequirements: [SectorState: [PhaseField]] = [
        .allocated: [.sector, .unsealPiece, .ticket, .commD],
        .unsealed: [.sector, .unsealPiece],
        .finished: [.sector],
    ]

    private static let wdpostRequirements: [SectorState: [PhaseField]] = [
        .allocated: [.wdpostJob, .postInput],
        .generated: [.wdpostJob],
    ]
}
