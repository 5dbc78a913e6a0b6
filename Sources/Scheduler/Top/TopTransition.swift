/// One state change of a sealing thread's job, as `sealer top` lists the last ones: the daemon
/// keeps a short ring of them for `VenusWorker.WorkerActivity` (snake_case JSON).
public struct TopTransition: Sendable, Hashable, Codable {
    /// Unix seconds.
    public var time: Double
    public var thread: Int
    public var plan: String
    /// The job (sector) id, `s-t0<miner>-<number>`; nil for a job without one.
    public var sector: String?
    public var from: String
    public var event: String
    public var to: String

    public init(time: Double, thread: Int, plan: String, sector: String?, from: String, event: String, to: String) {
        self.time = time
        self.thread = thread
        self.plan = plan
        self.sector = sector
        self.from = from
        self.event = event
        self.to = to
    }
}

/// What `VenusWorker.WorkerActivity` answers: the pools (nil when stages run unmetered) and the
/// last transitions, oldest first.
public struct WorkerActivity: Sendable, Hashable, Codable {
    public var pools: PoolOccupancy?
    public var transitions: [TopTransition]

    public init(pools: PoolOccupancy?, transitions: [TopTransition]) {
        self.pools = pools
        self.transitions = transitions
    }
}
