/// Where the sectors/day between the fluid bound and a run went, in sectors/day, each step from
/// one bound or measurement to the next:
/// - `numaGranularity`: fluid bound to packing bound (whole stages per node and GPU);
/// - `windowPostHeadroom`: packing bound to the packing bound with PoSt's room kept free of long
///   stages (0 without WindowPoSt);
/// - `threadCount`: to what the threads allow (each holds one sector for a whole cycle);
/// - `jitterQueueing`: to the run's work rate: stages waiting while resources idle or fragment,
///   run lengths that differ from the cost table;
/// - `warmUp`: from the work rate to the completion rate: the pipeline still filling when the
///   measured window opens.
public struct LossBreakdown: Sendable, Hashable {
    public var fluid: Double
    public var packing: Double
    public var achieved: Double
    public var numaGranularity: Double
    public var windowPostHeadroom: Double
    public var threadCount: Double
    public var jitterQueueing: Double
    public var warmUp: Double

    public init(fluid: ThroughputBound, packing: PackingBound, result: SimulationResult) {
        self.fluid = fluid.value
        self.packing = min(fluid.value, packing.value)
        achieved = result.sectorsPerDay
        let withHeadroom = min(self.packing, packing.nodesWithHeadroom)
        let withThreads = min(withHeadroom, packing.threads)
        numaGranularity = self.fluid - self.packing
        windowPostHeadroom = self.packing - withHeadroom
        threadCount = withHeadroom - withThreads
        jitterQueueing = withThreads - result.workPerDay
        warmUp = result.workPerDay - result.sectorsPerDay
    }

    /// The named losses by their report keys.
    public var terms: [(key: String, value: Double)] {
        [("numa_granularity", numaGranularity), ("window_post_headroom", windowPostHeadroom), ("thread_count", threadCount),
         ("jitter_queueing", jitterQueueing), ("warm_up", warmUp)]
    }

    /// The gap from the fluid bound to the run.
    public var gap: Double { fluid - achieved }
    public var sum: Double { terms.reduce(0) { $0 + $1.value } }
}
