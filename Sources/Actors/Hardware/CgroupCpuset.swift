import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a damocles processor child does with `VC_CG_NAME` / `VC_CG_CPUSET` before it says
/// ready: create the cgroup, set its CPUs, move itself in. Works on cgroup v2 (the unified
/// hierarchy) and v1 (the `cpuset` controller); a failure (no permission, no cgroupfs) is
/// reported and the caller falls back to thread affinity, as damocles only logs it.
public enum CgroupCpuset {
    /// Joins `name` (e.g. `vc-worker/sub-pc1-1234-0`) under `root` with `cpus`; returns the
    /// cgroup directory used, or why not.
    public static func join(name: String, cpus: String, pid: Int32, root: String = "/sys/fs/cgroup") -> Result<String, Pinning.Failure> {
        guard !name.isEmpty, !name.contains(".."), CPUListText.valid(cpus) else {
            return .failure(Pinning.Failure(description: "refusing cgroup \"\(name)\" with cpuset \"\(cpus)\""))
        }
        let fm = FileManager.default
        let unified = fm.fileExists(atPath: root + "/cgroup.controllers")
        let base = unified ? root : root + "/cpuset"
        let directory = base + "/" + name
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if unified {
                // cpuset must be enabled for the children of every level above the group.
                var level = base
                for part in name.split(separator: "/").dropLast() {
                    try? "+cpuset".write(toFile: level + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
                    level += "/" + part
                }
                try? "+cpuset".write(toFile: level + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
            } else {
                // v1 starts a group with no CPUs and no memory nodes, and a group may only hold
                // what its parent has: fill every new level from the root before the leaf.
                let rootCPUs = (try? String(contentsOfFile: base + "/cpuset.cpus", encoding: .utf8)) ?? ""
                let rootMems = (try? String(contentsOfFile: base + "/cpuset.mems", encoding: .utf8)) ?? ""
                var level = base
                for part in name.split(separator: "/") {
                    level += "/" + part
                    for (file, value) in [("cpuset.cpus", rootCPUs), ("cpuset.mems", rootMems)] {
                        let current = (try? String(contentsOfFile: level + "/" + file, encoding: .utf8)) ?? ""
                        if current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !value.isEmpty {
                            try value.write(toFile: level + "/" + file, atomically: false, encoding: .utf8)
                        }
                    }
                }
            }
            try cpus.write(toFile: directory + "/cpuset.cpus", atomically: false, encoding: .utf8)
            try "\(pid)".write(toFile: directory + "/cgroup.procs", atomically: false, encoding: .utf8)
            return .success(directory)
        } catch {
            return .failure(Pinning.Failure(description: "cgroup \(directory): \(error.localizedDescription)"))
        }
    }
}

extension CgroupCpuset {
    /// Removes a child's group after it exited (damocles leaves them to `cleanup_orphan.sh`,
    /// and stale groups broke restarts there: damocles #130). Best effort: a group still in
    /// use or already gone stays as it is.
    public static func remove(name: String, root: String = "/sys/fs/cgroup") {
        guard !name.isEmpty, !name.contains("..") else { return }
        let unified = FileManager.default.fileExists(atPath: root + "/cgroup.controllers")
        _ = rmdir((unified ? root : root + "/cpuset") + "/" + name)
    }
}

/// A cpuset string's shape check, before it is written anywhere.
enum CPUListText {
    static func valid(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isNumber || $0 == "," || $0 == "-" }
    }
}
