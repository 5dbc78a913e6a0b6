import Actors
import Foundation
import Scheduler

/// `sealer hwinfo`: the box as the resource pools see it (NUMA nodes, L3 groups, memory,
/// hugepages, GPUs), from the live sysfs and NVML, a captured tree, or an hwloc export.
enum HwinfoCommand {
    static let spec = OptionSpec(command: "sealer hwinfo", options: [
        .init(["--sysfs-root"], value: true, help: "read DIR/sys (and DIR/nvidia-smi-q.xml if present) instead of /sys and NVML"),
        .init(["--hwloc"], value: true, help: "read an hwloc XML export (lstopo --of xml) instead"),
        .init(["--config", "-c"], value: true, help: "apply this config's [resources] (restrictions, reserve) and show the pools"),
        .init(["--json"], value: false, help: "print JSON"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer hwinfo [--sysfs-root DIR | --hwloc FILE] [-c FILE] [--json]\n\n" + spec.help)
            return 0
        }
        if parsed.value("--hwloc") != nil, parsed.value("--sysfs-root") != nil {
            return usageFailure("--hwloc and --sysfs-root are two sources of the box; give one")
        }
        var resources = ResourcesSection()
        if let path = parsed.value("--config") {
            let result = ConfigDecoder.load(path: path)
            guard let config = result.config else { return fail(result.errors.map(\.description).joined(separator: "\n")) }
            resources = config.resources
        }
        var notes: [String] = []
        let topology: Topology
        if let path = parsed.value("--hwloc") {
            switch BoxDiscovery.hwloc(path: path) {
            case let .success(t): topology = t
            case let .failure(error): return fail("\(error)")
            }
        } else {
            switch BoxDiscovery.discover(root: parsed.value("--sysfs-root") ?? "/") {
            case let .success(found):
                topology = found.topology
                notes = found.notes
            case let .failure(error): return fail("\(error)")
            }
        }
        let capacity = BoxCapacity(topology: topology, resources: resources)
        if parsed.has("--json") {
            print(TopologyReport.json(topology))
        } else {
            print(TopologyReport.text(topology), terminator: "")
            print("pools: \(capacity.cpuCount) cores, \(ByteSize.short(capacity.memoryBytes)) memory for sealing"
                + " (reserve \(ByteSize.short(resources.reserve(forTotal: topology.totalMemoryBytes)))), \(capacity.hugepages) x 1GiB hugepages free,"
                + " \(capacity.gpus.count) GPUs x \(resources.gpuSlots) slot\(resources.gpuSlots == 1 ? "" : "s")")
            for note in notes { print("note: \(note)") }
        }
        return 0
    }

    /// A runtime failure (exit 1): an unreadable file or sysfs tree, a config with errors.
    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("sealer hwinfo: \(message)\n".utf8))
        return CommandExit.failure
    }
}
