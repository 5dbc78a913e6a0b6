import Dispatch
import Foundation
import Synchronization

/// A task executor whose one thread is pinned to a lease's cores and prefers its NUMA node's
/// memory: a stage that runs in-process runs under `withTaskExecutorPreference`, so its work
/// (and any blocking call it makes) happens on the leased cores. Executors are kept per CPU set
/// and node, since leases on the same cores follow one another; their threads live as long as
/// the process.
public final class PinnedExecutor: TaskExecutor {
    private let jobs = Mutex<[UnownedJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    public let cpus: [Int]
    public let node: Int?

    private init(cpus: [Int], node: Int?) {
        self.cpus = cpus
        self.node = node
        // "pin-" and the CPU list, cut to the 15 bytes a Linux thread name holds.
        Thread.start(named: "pin-\(CPUList.format(cpus))") { [self] in run() }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    private func run() {
        _ = Pinning.setAffinity(cpus)
        if let node { Pinning.preferNode(node) }
        while true {
            wake.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    private static let registry = Mutex<[String: PinnedExecutor]>([:])
    /// Beyond this many distinct CPU sets, work runs unpinned rather than start more threads.
    static let limit = 512

    /// The CPUs this process may run on (a described box may name CPUs this machine lacks).
    private static let usable = Set(Pinning.affinity())

    /// The executor for `cpus` on `node`; nil for no CPUs, CPUs this process cannot run on, or
    /// when too many sets are in use: the work then runs where it is.
    public static func forLease(cpus: [Int], node: Int?) -> PinnedExecutor? {
        guard !cpus.isEmpty, Set(cpus).isSubset(of: usable) else { return nil }
        let key = CPUList.format(cpus) + "@" + (node.map(String.init) ?? "-")
        return registry.withLock { executors in
            if let existing = executors[key] { return existing }
            guard executors.count < limit else { return nil }
            let created = PinnedExecutor(cpus: cpus, node: node)
            executors[key] = created
            return created
        }
    }
}

import Scheduler
