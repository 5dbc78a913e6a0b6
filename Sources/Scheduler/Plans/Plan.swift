/// The kind of work a sealing thread does, as `plan = "..."` names it in the config.
public enum PlanKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case sealer
    case snapup
    case rebuild
    case unseal
    case wdpost

    public var description: String { rawValue }

    /// This plan's state machine.
    public var plan: Plan { Plan.of(self) }
}

/// Why an event cannot be applied in a state.
public enum TransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The plan has no edge for this event out of this state.
    case illegal(plan: PlanKind, state: SectorState, event: SealingEvent)
    /// A terminal state accepts no events.
    case terminal(plan: PlanKind, state: SectorState, event: SealingEvent)

    public var description: String {
        switch self {
        case let .illegal(plan, state, event):
            "plan \(plan): event \(event) is not allowed in state \(state)"
        case let .terminal(plan, state, event):
            "plan \(plan): state \(state) is terminal; event \(event) rejected"
        }
    }
}

/// One plan's transition table: pure data, the single source of which edges exist.
///
/// Tables follow damocles' task-status-flow document; `Abort` from any non-terminal state goes to
/// `Aborted`, the one edge the document states in prose rather than per state.
public struct Plan: Sendable, Hashable {
    public struct Edge: Sendable, Hashable {
        public var from: SectorState
        public var event: SealingEvent
        public var to: SectorState
    }

    public let kind: PlanKind
    /// Edges as the flow document lists them, in order (without the implicit Abort edges).
    public let edges: [Edge]
    private let table: [SectorState: [SealingEvent: SectorState]]

    init(_ kind: PlanKind, _ rows: [(SectorState, [(SealingEvent, SectorState)])]) {
        self.kind = kind
        var edges: [Edge] = []
        var table: [SectorState: [SealingEvent: SectorState]] = [:]
        for (from, outs) in rows {
            for (event, to) in outs {
                edges.append(Edge(from: from, event: event, to: to))
                table[from, default: [:]][event] = to
            }
        }
        self.edges = edges
        self.table = table
    }

    /// Every state a task of this plan can be in, in damocles' order.
    public var states: [SectorState] {
        var seen = Set<SectorState>()
        for edge in edges {
            seen.insert(edge.from)
            seen.insert(edge.to)
        }
        seen.insert(.aborted)
        return SectorState.allCases.filter(seen.contains)
    }

    /// The state after `event` in `state`, or why the event is not allowed there.
    public func transition(from state: SectorState, on event: SealingEvent) -> Result<SectorState, TransitionError> {
        if state.isTerminal { return .failure(.terminal(plan: kind, state: state, event: event)) }
        if event == .abort { return .success(.aborted) }
        guard let next = table[state]?[event] else {
            return .failure(.illegal(plan: kind, state: state, event: event))
        }
        return .success(next)
    }

    /// Events this plan accepts in `state`, in table order (Abort excluded).
    public func events(from state: SectorState) -> [SealingEvent] {
        edges.filter { $0.from == state }.map(\.event)
    }

    public func contains(_ state: SectorState) -> Bool { states.contains(state) }

    static func of(_ kind: PlanKind) -> Plan {
        switch kind {
        case .sealer: sealer
        case .snapup: snapup
        case .rebuild: rebuild
        case .unseal: unseal
        case .wdpost: wdpost
        }
    }

    public static let sealer = Plan(.sealer, [
        (.empty, [(.allocate, .allocated)]),
        (.allocated, [(.acquireDeals, .dealsAcquired)]),
        (.dealsAcquired, [(.addPiece, .pieceAdded)]),
        (.pieceAdded, [(.buildTreeD, .treeDBuilt)]),
        (.treeDBuilt, [(.assignTicket, .ticketAssigned)]),
        (.ticketAssigned, [(.pc1, .pc1Done)]),
        // Proof types with synthetic PoRep take a detour through SyntheticPoRepNeeded (spec 2.3).
        (.pc1Done, [(.pc2, .pc2Done), (.pc2NeedSyntheticProof, .syntheticPoRepNeeded)]),
        (.syntheticPoRepNeeded, [(.syntheticPoRep, .pc2Done)]),
        (.pc2Done, [(.submitPC, .pcSubmitted)]),
        (.pcSubmitted, [(.reSubmitPC, .pc2Done), (.checkPC, .pcLanded)]),
        (.pcLanded, [(.persist, .persisted)]),
        (.persisted, [(.submitPersistance, .persistanceSubmitted)]),
        (.persistanceSubmitted, [(.assignSeed, .seedAssigned)]),
        (.seedAssigned, [(.c1, .c1Done)]),
        (.c1Done, [(.c2, .c2Done)]),
        (.c2Done, [(.submitProof, .proofSubmitted)]),
        (.proofSubmitted, [(.reSubmitProof, .c2Done), (.finish, .finished)]),
    ])

    public static let snapup = Plan(.snapup, [
        (.empty, [(.allocatedSnapUpSector, .allocated)]),
        (.allocated, [(.addPiece, .pieceAdded)]),
        (.pieceAdded, [(.buildTreeD, .treeDBuilt)]),
        (.treeDBuilt, [(.snapEncode, .snapEncoded)]),
        (.snapEncoded, [(.snapProve, .snapProved)]),
        (.snapProved, [(.persist, .persisted)]),
        (.persisted, [(.rePersist, .snapProved), (.finish, .finished)]),
    ])

    public static let rebuild = Plan(.rebuild, [
        (.empty, [(.allocatedRebuildSector, .allocated)]),
        (.allocated, [(.addPiece, .pieceAdded)]),
        (.pieceAdded, [(.buildTreeD, .treeDBuilt)]),
        (.treeDBuilt, [(.pc1, .pc1Done)]),
        (.pc1Done, [(.pc2, .pc2Done), (.pc2NeedSyntheticProof, .syntheticPoRepNeeded)]),
        (.syntheticPoRepNeeded, [(.syntheticPoRep, .pc2Done)]),
        (.pc2Done, [(.checkSealed, .sealedChecked)]),
        (.sealedChecked, [(.skipSnap, .snapDone), (.addPiece, .snapPieceAdded)]),
        (.snapPieceAdded, [(.buildTreeD, .snapTreeDBuilt)]),
        (.snapTreeDBuilt, [(.snapEncode, .snapEncoded)]),
        (.snapEncoded, [(.snapProve, .snapDone)]),
        (.snapDone, [(.persist, .persisted)]),
        (.persisted, [(.submitPersistance, .finished)]),
    ])

    public static let unseal = Plan(.unseal, [
        (.empty, [(.allocatedUnsealSector, .allocated)]),
        (.allocated, [(.unsealDone, .unsealed)]),
        (.unsealed, [(.uploadPieceDone, .finished)]),
    ])

    public static let wdpost = Plan(.wdpost, [
        (.empty, [(.allocatedWdPostJob, .allocated)]),
        (.allocated, [(.generateWdPost, .generated)]),
        (.generated, [(.finish, .finished)]),
    ])
}
