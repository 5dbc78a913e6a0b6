import Synchronization

/// A histogram's running state: cumulative-ready bucket counts, sum and count.
public struct HistogramState: Sendable, Hashable {
    /// Upper bounds, ascending; `+Inf` is implied.
    public let bounds: [Double]
    /// Observations per bucket (not cumulative); the last entry is the `+Inf` overflow.
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        let slot = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[slot] += 1
        sum += value
        count += 1
    }
}

/// damocles' manager-call series (`rpc_call`, `rpc_error`, `rpc_timing`), by method.
/// Thread-safe; recording is one short lock, scraping copies the table.
public final class RPCMetrics: Sendable {
    /// Seconds; manager calls are usually milliseconds, `WaitSeed`-like ones may take long.
    public static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// One method's counters.
    public struct Entry: Sendable, Hashable {
        public var calls: UInt64 = 0
        public var errors: UInt64 = 0
        public var timing = HistogramState(bounds: RPCMetrics.bounds)
    }

    private let table = Mutex<[String: Entry]>([:])

    public init() {}

    /// Counts one call of `method` that took `seconds`; `failed` when it threw.
    public func record(method: String, seconds: Double, failed: Bool) {
        table.withLock { table in
            var entry = table[method] ?? Entry()
            entry.calls += 1
            if failed { entry.errors += 1 }
            entry.timing.observe(seconds)
            table[method] = entry
        }
    }

    /// A copy of every method's counters.
    public func snapshot() -> [String: Entry] { table.withLock { $0 } }
}

/// Sealing outcomes: stage run seconds by stage and sector size, sectors finished/aborted by plan.
/// Thread-safe; the sealing threads call it, `/metrics` reads a copy.
public final class SealingMetrics: Sendable {
    /// Seconds: mock stages take milliseconds, real PC1 of 32 GiB hours.
    public static let bounds: [Double] = [0.1, 1, 10, 60, 300, 600, 1800, 3600, 7200, 14400, 28800]

    /// A stage's key: stage name and sector size as damocles writes it (e.g. `32GiB`).
    public struct StageKey: Sendable, Hashable, Comparable {
        public var stage: String
        public var sectorSize: String
        public static func < (a: Self, b: Self) -> Bool { (a.stage, a.sectorSize) < (b.stage, b.sectorSize) }
    }

    /// What `/metrics` renders.
    public struct Snapshot: Sendable {
        public var stages: [StageKey: HistogramState] = [:]
        /// Seconds from asking the pools to being granted, by stage (0 for an immediate grant).
        public var admissions: [String: HistogramState] = [:]
        /// Seconds each history record took to append durably (write and fdatasync).
        public var journal = HistogramState(bounds: SealingMetrics.journalBounds)
        public var finished: [String: UInt64] = [:]
        public var aborted: [String: UInt64] = [:]
    }

    private let state = Mutex(Snapshot())
    /// The last job transitions, for `sealer top` (`VenusWorker.WorkerActivity`).
    public let recent = RecentTransitions()

    public init() {}

    /// One stage body ran for `seconds`.
    public func stageRan(_ stage: String, sectorSize: String, seconds: Double) {
        state.withLock { state in
            let key = StageKey(stage: stage, sectorSize: sectorSize)
            var histogram = state.stages[key] ?? HistogramState(bounds: Self.bounds)
            histogram.observe(seconds)
            state.stages[key] = histogram
        }
    }

    /// Buckets for durable appends: fractions of a millisecond to a second.
    public static let journalBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

    /// A history record was appended durably in `seconds`.
    public func journalAppended(seconds: Double) {
        state.withLock { $0.journal.observe(seconds) }
    }

    /// A stage waited `seconds` for the pools to grant its resources.
    public func admitted(_ stage: String, waited seconds: Double) {
        state.withLock { state in
            var histogram = state.admissions[stage] ?? HistogramState(bounds: Self.bounds)
            histogram.observe(seconds)
            state.admissions[stage] = histogram
        }
    }

    /// A sector of `plan` was finished (true) or aborted (false).
    public func sectorEnded(plan: String, finished: Bool) {
        state.withLock { state in
            if finished { state.finished[plan, default: 0] += 1 } else { state.aborted[plan, default: 0] += 1 }
        }
    }

    public func snapshot() -> Snapshot { state.withLock { $0 } }
}
