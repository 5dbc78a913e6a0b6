/// A sector task's state, in damocles' order (the persisted integer index follows this order).
///
/// A state names the step that has completed: `PC1Done` means PC1 ran and PC2 is next.
public enum SectorState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case empty = "Empty"
    case allocated = "Allocated"
    case dealsAcquired = "DealsAcquired"
    case pieceAdded = "PieceAdded"
    case treeDBuilt = "TreeDBuilt"
    case ticketAssigned = "TicketAssigned"
    case pc1Done = "PC1Done"
    case pc2Done = "PC2Done"
    case syntheticPoRepNeeded = "SyntheticPoRepNeeded"
    case pcSubmitted = "PCSubmitted"
    case pcLanded = "PCLanded"
    case persisted = "Persisted"
    case persistanceSubmitted = "PersistanceSubmitted"
    case seedAssigned = "SeedAssigned"
    case c1Done = "C1Done"
    case c2Done = "C2Done"
    case proofSubmitted = "ProofSubmitted"
    case finished = "Finished"
    case aborted = "Aborted"
    case snapEncoded = "SnapEncoded"
    case snapProved = "SnapProved"
    case sealedChecked = "SealedChecked"
    case snapPieceAdded = "SnapPieceAdded"
    case snapTreeDBuilt = "SnapTreeDBuilt"
    case snapDone = "SnapDone"
    case unsealed = "Unsealed"
    /// wdpost plan only: the PoSt has been computed and awaits reporting.
    case generated = "Generated"

    public var description: String { rawValue }

    /// damocles' integer index for this state (wdpost's `Generated` is ours, after `Unsealed`).
    public var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// Parses a state name as operators type it (`TreeDBuilt`); case-insensitive, unlike damocles.
    public init?(name: String) {
        if let exact = SectorState(rawValue: name) {
            self = exact
            return
        }
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = match
    }

    /// Whether the task is over; the thread finalizes it and moves on.
    public var isTerminal: Bool { self == .finished || self == .aborted }
}
