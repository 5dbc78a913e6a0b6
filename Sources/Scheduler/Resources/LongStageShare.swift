import ProofsFFI

/// How much memory long stages (PC1 and its kin: an hour or more) may hold ahead of short ones
/// (`[resources] long_stage_share`).
///
/// Left to plain priorities, short stages (C2, PC2) take memory as PC1s end, PC1 starts slip,
/// and PC1s then start, end and hand over in waves; a greedy fill to the last whole PC1 leaves
/// too little room for a C2. A waiting long stage therefore ranks ahead of short ones while
/// the memory long stages hold is below their share: what they hold on average when the box
/// seals at its fluid bound, less room for the largest short stage. Above the share long
/// stages backfill at their own (lowest) priority as before.
public enum LongStageShare: Sendable, Hashable {
    /// Derived from the box, the cost table and the sector mix (the default).
    case auto
    /// Plain priorities only.
    case off
    /// This many bytes.
    case bytes(UInt64)

    /// Stages expected to run at least this long are long stages.
    public static let longStage = Duration.seconds(3600)

    /// What admission uses: long stages go first while that brings the memory they hold closer
    /// to `target` (held plus half the stage's within it), and never past `limit`.
    public struct Resolved: Sendable, Hashable {
        public var target: UInt64
        public var limit: UInt64
        public static let off = Resolved(target: 0, limit: 0)
        public init(target: UInt64, limit: UInt64) {
            self.target = target
            self.limit = limit
        }
    }

    /// The share in bytes, given what `.auto` works out to; a configured size is both target and limit.
    public func resolved(auto: @autoclosure () -> Resolved) -> Resolved {
        switch self {
        case .auto: auto()
        case .off: .off
        case let .bytes(bytes): Resolved(target: bytes, limit: bytes)
        }
    }

    /// The auto share for `setup`'s box and sector mix: the memory long stages hold on average
    /// at the fluid bound's rate, limited to the box's memory less the largest short stage's,
    /// so a short stage always fits beside a full share.
    public static func auto(_ setup: SimulationSetup) -> Resolved {
        let runs = setup.averageSectorRuns
        guard !runs.isEmpty else { return .off }
        var longByteSeconds = 0.0
        var largestShort: UInt64 = 0
        for run in runs {
            let cost = setup.cost(run.stage, run.size)
            if cost.duration >= longStage {
                longByteSeconds += Double(cost.memoryBytes) * cost.duration.inSeconds * run.share
            } else {
                largestShort = max(largestShort, cost.memoryBytes)
            }
        }
        let fluid = ThroughputBound(setup).value * longByteSeconds / 86_400
        let room = setup.capacity.memoryBytes > largestShort ? setup.capacity.memoryBytes - largestShort : 0
        return Resolved(target: min(UInt64(max(0, fluid)), room), limit: room)
    }
}

extension LongStageShare {
    /// The auto share for a daemon: its threads' plans (sealer, snapup; the others seal nothing
    /// new) at each thread's first allowed size or `defaultSize`, one weight a thread, on `capacity`.
    public static func auto(capacity: BoxCapacity, resources: ResourcesSection, threads: [(plan: PlanKind, size: SectorSize?)],
                            defaultSize: SectorSize, batchSize: Int?) -> Resolved {
        var weights: [Workload.Sectors: Int] = [:]
        for thread in threads {
            let kind: Workload.Kind
            switch thread.plan {
            case .sealer: kind = batchSize == nil ? .cc : .batch
            case .snapup: kind = .snapup
            case .rebuild, .unseal, .wdpost: continue
            }
            weights[Workload.Sectors(kind: kind, size: thread.size ?? defaultSize, weight: 1), default: 0] += 1
        }
        guard !weights.isEmpty else { return .off }
        var workload = Workload(name: "daemon")
        workload.resources = resources
        workload.threads = threads.count
        if let batchSize { workload.batchSize = batchSize }
        workload.sectors = weights.sorted { ($0.key.kind.rawValue, $0.key.size.rawValue) < ($1.key.kind.rawValue, $1.key.size.rawValue) }
            .map { Workload.Sectors(kind: $0.key.kind, size: $0.key.size, weight: $0.value) }
        let setup = SimulationSetup(capacity: capacity, costs: resources.costTable, workload: workload, threads: threads.count, days: 1,
                                    policy: .dynamic(AdmissionPolicy()))
        return auto(setup)
    }
}

extension SimulationSetup {
    /// The long-stage share the dynamic policy runs with for this setup: its workload's
    /// `long_stage_share`, `auto` worked out for this box and mix (simulator and live bench alike).
    public var longStageShare: LongStageShare.Resolved {
        workload.resources.longStageShare.resolved(auto: LongStageShare.auto(self))
    }
}
