import Foundation
import Scheduler

/// Finds NVMe namespaces for batch sealing's layer space in sysfs under `root`: every
/// `sys/block/nvme<c>n<n>`, its size (`size`, 512-byte sectors, whatever the logical block size)
/// and its NUMA node (`device/numa_node` on the controller, else `device/device/numa_node` on the
/// PCI function; -1 or absent: no node).
public enum SysfsNVMe {
    public static func read(root: String = "/") throws(TopologyError) -> [NVMeCapacity] {
        let blockDir = (root as NSString).appendingPathComponent("sys/block")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: blockDir)) ?? []).filter(isNamespace).sorted { a, b in
            // nvme2n1 before nvme10n1.
            a.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.lexicographicallyPrecedes(
                b.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) })
        }
        var drives: [NVMeCapacity] = []
        for name in names {
            let dir = (blockDir as NSString).appendingPathComponent(name)
            let sizePath = dir + "/size"
            guard let text = try? String(contentsOfFile: sizePath, encoding: .utf8) else {
                throw TopologyError(path: sizePath, problem: "cannot read the namespace size")
            }
            guard let sectors = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TopologyError(path: sizePath, problem: "expected a count of 512-byte sectors, found \"\(text.prefix(40))\"")
            }
            guard sectors > 0 else { continue }
            var node: Int?
            for candidate in [dir + "/device/numa_node", dir + "/device/device/numa_node"] {
                guard let value = try? String(contentsOfFile: candidate, encoding: .utf8) else { continue }
                guard let n = Int(value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw TopologyError(path: candidate, problem: "expected a node number, found \"\(value.prefix(40))\"")
                }
                node = n >= 0 ? n : nil
                break
            }
            drives.append(NVMeCapacity(index: drives.count, node: node, bytes: sectors * 512, path: "/dev/\(name)"))
        }
        return drives
    }

    /// `nvme<digits>n<digits>`: a namespace, not a controller (`nvme0`) or a partition (`nvme0n1p1`).
    static func isNamespace(_ name: String) -> Bool {
        guard name.hasPrefix("nvme") else { return false }
        let parts = name.dropFirst(4).split(separator: "n", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
