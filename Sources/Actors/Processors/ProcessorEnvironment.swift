/// Builds the environment of an external processor child (damocles-worker compatible).
public enum ProcessorEnvironment {
    /// Name of the variable carrying the cgroup name for the child.
    public static let cgroupNameKey = "VC_CG_NAME"
    /// Name of the variable carrying the cpuset the child should bind to.
    public static let cgroupCpusetKey = "VC_CG_CPUSET"
    /// Name of the variable carrying the preferred NUMA node.
    public static let numaPreferredKey = "VENUS_WORKER_NUMA_PREFERRED"
    /// Name of the variable selecting the GPU.
    public static let cudaDevicesKey = "CUDA_VISIBLE_DEVICES"

    /// Composes the child's environment.
    ///
    /// Order of application (later wins):
    /// 1. the parent environment when `inherit` is true, otherwise nothing;
    /// 2. the configured `envs`;
    /// 3. the run-time `overlay` (`VenusWorker.WorkerSetEnv`), whether or not `inherit` is set;
    /// 4. when `cpuset` is set: `VC_CG_NAME=<groupName>/sub-<stage>-<parentPID>-<index>` and
    ///    `VC_CG_CPUSET=<cpuset>`;
    /// 5. when `numaNode` is set: `VENUS_WORKER_NUMA_PREFERRED=<numaNode>`;
    /// 6. when `gpu` is set: `CUDA_VISIBLE_DEVICES=<gpu>`.
    public static func compose(
        parent: [String: String],
        inherit: Bool,
        envs: [String: String],
        overlay: [String: String] = [:],
        stage: String,
        index: Int,
        parentPID: Int32,
        groupName: String,
        cpuset: String?,
        numaNode: Int?,
        gpu: Int?
    ) -> [String: String] {
        var env = inherit ? parent : [:]
        for (key, value) in envs {
            env[key] = value
        }
        for (key, value) in overlay {
            env[key] = value
        }
        if let cpuset {
            env[cgroupNameKey] = "\(groupName)/sub-\(stage)-\(parentPID)-\(index)"
            env[cgroupCpusetKey] = cpuset
        }
        if let numaNode {
            env[numaPreferredKey] = String(numaNode)
        }
        if let gpu {
            env[cudaDevicesKey] = String(gpu)
        }
        return env
    }
}
