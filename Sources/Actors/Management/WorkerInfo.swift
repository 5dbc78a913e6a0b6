import Scheduler

/// damocles' `WorkerInfo`, the element of `VenusWorker.WorkerList` (snake_case JSON).
public struct WorkerInfo: Sendable, Hashable, Codable {
    /// damocles' internally tagged thread state: `{"state":"Running","elapsed":12,"proc":"..."}`.
    public struct ThreadState: Sendable, Hashable, Codable {
        public var state: String
        public var elapsed: UInt64?
        public var proc: String?
        /// Ours: for a Waiting thread, which pool or limit and how much it waits for.
        public var waiting_for: String?
    }

    public var location: String
    public var plan: String
    public var job_id: String?
    public var index: Int
    public var thread_state: ThreadState
    public var job_state: String
    public var job_stage: String?
    public var last_error: String?

    public init(_ info: ThreadInfo, now: ContinuousClock.Instant = .now) {
        location = info.location.isEmpty ? "-" : info.location
        plan = info.plan.rawValue
        job_id = info.jobID
        index = info.index
        job_state = info.jobState
        job_stage = info.jobStage
        last_error = info.lastError
        func secs(_ since: ContinuousClock.Instant) -> UInt64 { UInt64(max(0, (now - since).components.seconds)) }
        switch info.activity {
        case .idle: thread_state = ThreadState(state: "Idle")
        case let .paused(since): thread_state = ThreadState(state: "Paused", elapsed: secs(since))
        case let .running(since, proc): thread_state = ThreadState(state: "Running", elapsed: secs(since), proc: proc)
        case let .waiting(since, what): thread_state = ThreadState(state: "Waiting", elapsed: secs(since), waiting_for: what)
        case let .drained(since): thread_state = ThreadState(state: "Drained", elapsed: secs(since))
        }
        // A draining thread still works on its sector: what it does stays visible.
        if info.draining, ["Idle", "Running", "Waiting"].contains(thread_state.state) { thread_state.state = "Draining" }
    }

    enum CodingKeys: String, CodingKey {
        case location, plan, job_id, index, thread_state, job_state, job_stage, last_error
    }

    /// Absent values are written as `null`, as damocles writes them, so scripts can rely on the keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(location, forKey: .location)
        try c.encode(plan, forKey: .plan)
        try c.encode(job_id, forKey: .job_id)
        try c.encode(index, forKey: .index)
        try c.encode(thread_state, forKey: .thread_state)
        try c.encode(job_state, forKey: .job_state)
        try c.encode(job_stage, forKey: .job_stage)
        try c.encode(last_error, forKey: .last_error)
    }
}
