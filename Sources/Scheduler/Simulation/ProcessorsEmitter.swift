import ProofsFFI

/// Writes static limits as damocles-worker's `[processors]` TOML (`shared/spec/damocles.md`
/// §1.7): `limitation.concurrent`, `ext_locks`, and one `[[processors.<stage>]]` per child with
/// only damocles' own keys (`numa_preferred`, `cgroup.cpuset`, `concurrent`, `locks`, `envs`), so
/// an operator can paste it into a damocles config without running this daemon.
public enum ProcessorsEmitter {
    /// The TOML text; `comments` become leading `#` lines (what box and workload it was found for).
    public static func toml(_ limits: StaticLimits, comments: [String] = []) -> String {
        var out = comments.map { "# \($0)\n" }.joined()
        let concurrent = limits.perStage.filter { ProcessorsSection.limitStages.contains($0.key.rawValue) }
            .sorted { $0.key.rawValue < $1.key.rawValue }
        if !concurrent.isEmpty {
            out += "[processors.limitation.concurrent]\n"
            for (stage, n) in concurrent { out += "\(stage.rawValue) = \(n)\n" }
        }
        // Locks: per-GPU entries, plus the global limits shared by several stages.
        var locks = limits.extLocks
        var lockOf: [ProofStage: [String]] = [:]
        for (name, lock) in limits.locks {
            locks[name] = lock.limit
            for stage in lock.stages where limits.processors[stage] == nil { lockOf[stage, default: []].append(name) }
        }
        if !locks.isEmpty {
            out += "\n[processors.ext_locks]\n"
            for (name, n) in locks.sorted(by: { $0.key < $1.key }) { out += "\(name) = \(n)\n" }
        }
        var stages = Set(limits.processors.keys).union(lockOf.keys)
        stages = stages.filter { ProcessorsSection.externalStages.contains($0.rawValue) }
        for stage in stages.sorted(by: { $0.rawValue < $1.rawValue }) {
            // A stage held by a shared lock but without children gets one unpinned child holding it.
            let children = limits.processors[stage] ?? [ProcessorSlot(index: 0, locks: lockOf[stage] ?? [])]
            for child in children {
                out += "\n[[processors.\(stage.rawValue)]]\n"
                if let node = child.node { out += "numa_preferred = \(node)\n" }
                if let cpus = child.cpus, !cpus.isEmpty { out += "cgroup.cpuset = \"\(CPUList.format(Array(cpus)))\"\n" }
                if let n = child.concurrent { out += "concurrent = \(n)\n" }
                if !child.locks.isEmpty { out += "locks = [" + child.locks.map { "\"\($0)\"" }.joined(separator: ", ") + "]\n" }
                var envs: [(String, String)] = []
                if stage == .pc1 { envs.append(("FIL_PROOFS_USE_MULTICORE_SDR", "1")) }
                if let gpu = child.gpu {
                    envs.append(("CUDA_VISIBLE_DEVICES", "\(gpu)"))
                    if stage == .pc2 { envs += [("FIL_PROOFS_USE_GPU_COLUMN_BUILDER", "1"), ("FIL_PROOFS_USE_GPU_TREE_BUILDER", "1")] }
                }
                if !envs.isEmpty { out += "envs = { " + envs.map { "\($0.0) = \"\($0.1)\"" }.joined(separator: ", ") + " }\n" }
            }
        }
        return out
    }
}
