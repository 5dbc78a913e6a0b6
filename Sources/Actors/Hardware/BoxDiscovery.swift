import Foundation
import Scheduler

/// Finds the box the pools manage: sysfs for CPUs, caches, memory and hugepages, NVML for GPUs
/// (absent library: no GPUs). A captured tree (`--sysfs-root`) may carry `nvidia-smi-q.xml`
/// beside its `sys/`, read instead of NVML so every path is testable without the hardware.
public enum BoxDiscovery {
    /// What was found, with notes worth showing (NVML problems, where the GPUs came from).
    public struct Found: Sendable {
        public var topology: Topology
        public var notes: [String]
    }

    public static func discover(root: String = "/") -> Result<Found, TopologyError> {
        var topology: Topology
        do { topology = try SysfsTopology.read(root: root) } catch { return .failure(error) }
        var notes: [String] = []
        let captured = (root as NSString).appendingPathComponent("nvidia-smi-q.xml")
        if root != "/", FileManager.default.fileExists(atPath: captured) {
            do {
                let xml = try String(contentsOfFile: captured, encoding: .utf8)
                topology.gpus = SysfsTopology.attachNUMANodes(try NvidiaSMIXML.parse(xml), root: root)
                notes.append("gpus from \(captured)")
            } catch {
                return .failure(TopologyError(path: captured, problem: "\(error)"))
            }
        } else {
            switch NVML.probe(sysfsRoot: root) {
            case let .success(gpus):
                topology.gpus = gpus
                notes.append(gpus.isEmpty ? "no NVIDIA GPU (\(NVML.defaultLibrary) absent or reports none)" : "gpus from NVML")
            case let .failure(error):
                notes.append("NVML: \(error); treating the box as having no GPU")
            }
        }
        return .success(Found(topology: topology, notes: notes))
    }

    /// Reads an hwloc XML export (`lstopo --of xml`) as a topology.
    public static func hwloc(path: String) -> Result<Topology, TopologyError> {
        do {
            let xml = try String(contentsOfFile: path, encoding: .utf8)
            return .success(try HwlocXML.parse(xml))
        } catch let error as TopologyParseError {
            return .failure(TopologyError(path: path, problem: error.message))
        } catch {
            return .failure(TopologyError(path: path, problem: "cannot read: \(error.localizedDescription)"))
        }
    }
}
