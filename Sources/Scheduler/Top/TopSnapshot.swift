/// Everything one `sealer top` frame shows, read from the daemon at one moment.
public struct TopSnapshot: Sendable, Hashable {
    /// One sealing thread, as `VenusWorker.WorkerList` describes it.
    public struct Thread: Sendable, Hashable {
        public var index: Int
        public var plan: String
        /// The job (sector) id; nil when the thread has none.
        public var sector: String?
        /// `Idle`, `Running`, `Waiting`, `Paused`, `Draining` or `Drained`.
        public var state: String
        /// Seconds in `state`; nil when the daemon gives none (Idle).
        public var elapsed: UInt64?
        /// The job's state (`PC1Done`, ...).
        public var jobState: String
        /// Who does the work while Running (`pc1`, a processor child).
        public var proc: String?
        /// What a Waiting thread waits for (a pool or a limit, and how much).
        public var waitingFor: String?
        public var lastError: String?

        public init(index: Int, plan: String, sector: String?, state: String, elapsed: UInt64?, jobState: String,
                    proc: String? = nil, waitingFor: String? = nil, lastError: String? = nil) {
            self.index = index
            self.plan = plan
            self.sector = sector
            self.state = state
            self.elapsed = elapsed
            self.jobState = jobState
            self.proc = proc
            self.waitingFor = waitingFor
            self.lastError = lastError
        }
    }

    /// A crynux thread's row (`Crynux.List`): the task stands where a sector would, the relay's
    /// task status where the job state would, and what the node does now as the detail.
    public static func crynuxThread(index: Int, taskID: String?, relayStatus: String?, nodeStatus: String?, localAction: String,
                                    lastError: String?) -> Thread {
        let state: String
        if nodeStatus == "Paused" || nodeStatus == "Quit" {
            state = "Paused"
        } else if localAction.hasPrefix("waiting") {
            state = "Waiting"
        } else if taskID != nil {
            state = "Running"
        } else {
            state = "Idle"
        }
        // The frame says "for <what>" of a waiting thread.
        let waiting = state == "Waiting" ? String(localAction.hasPrefix("waiting for ") ? localAction.dropFirst("waiting for ".count)
                                                                                         : localAction.dropFirst("waiting ".count)) : nil
        return Thread(index: index, plan: "crynux", sector: taskID.map { $0.count > 18 ? String($0.prefix(18)) : $0 }, state: state, elapsed: nil,
                      jobState: relayStatus ?? nodeStatus ?? "-", proc: state == "Running" ? localAction : nil, waitingFor: waiting,
                      lastError: lastError)
    }

    /// The daemon's management address, as the header names it.
    public var source: String
    /// Unix seconds when the snapshot was taken.
    public var time: Double
    public var threads: [Thread]
    /// nil: the daemon runs stages unmetered, or cannot tell (an older daemon).
    public var pools: PoolOccupancy?
    /// Oldest first.
    public var transitions: [TopTransition]

    public init(source: String, time: Double, threads: [Thread], pools: PoolOccupancy?, transitions: [TopTransition]) {
        self.source = source
        self.time = time
        self.threads = threads
        self.pools = pools
        self.transitions = transitions
    }
}
