import ProofsFFI

/// One line of a thread's per-sector history: what changed, when, and why.
public struct HistoryEntry: Sendable, Hashable, Codable {
    public var time: Double
    public var sector: String?
    public var plan: PlanKind
    public var from: SectorState
    public var event: String
    public var to: SectorState
    public var note: String?

    public init(time: Double, sector: String?, plan: PlanKind, from: SectorState, event: String, to: SectorState, note: String? = nil) {
        self.time = time
        self.sector = sector
        self.plan = plan
        self.from = from
        self.event = event
        self.to = to
        self.note = note
    }
}
