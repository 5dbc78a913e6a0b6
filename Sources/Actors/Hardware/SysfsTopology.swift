import Foundation
import Scheduler

/// Reading the machine layout failed: `path` is the offending file, `problem` what was wrong.
public struct TopologyError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Reads NUMA nodes, CPU cores, L3 groups and hugepages from Linux sysfs under `root`
/// (a capture directory in tests, "/" in production).
public enum SysfsTopology {
    /// Reads the node layout; `gpus` is left empty (NVML or nvidia-smi supplies them).
    /// Missing cache/topology files fall back to defaults; malformed files throw, naming the path.
    public static func read(root: String = "/") throws(TopologyError) -> Topology {
        let nodeDir = join(root, "sys/devices/system/node")
        let cpuDir = join(root, "sys/devices/system/cpu")
        let nodeIDs = entries(nodeDir).compactMap { name -> Int? in
            guard name.hasPrefix("node") else { return nil }
            return Int(name.dropFirst(4))
        }.sorted()

        var nodes: [NUMANode] = []
        if nodeIDs.isEmpty {
            let cpus = try cpuList(join(cpuDir, "online"))
            let mem = try meminfo(join(root, "proc/meminfo"))
            let pools = try hugepages(join(root, "sys/kernel/mm/hugepages"))
            nodes.append(try node(id: 0, cpus: cpus, memory: mem, hugepages: pools, cpuDir: cpuDir))
        } else {
            for id in nodeIDs {
                let dir = join(nodeDir, "node\(id)")
                let cpus = try cpuList(join(dir, "cpulist"))
                let mem = try meminfo(join(dir, "meminfo"))
                let pools = try hugepages(join(dir, "hugepages"))
                nodes.append(try node(id: id, cpus: cpus, memory: mem, hugepages: pools, cpuDir: cpuDir))
            }
        }
        return Topology(nodes: nodes)
    }

    /// NVIDIA display/3D PCI devices (class 0x0300/0x0302, vendor 0x10de) → NUMA node (nil when
    /// -1 or unreadable), keyed by `GPUDevice.normalizedBusID`. Best effort: never throws.
    public static func nvidiaPCIDevices(root: String = "/") -> [String: Int?] {
        let dir = join(root, "sys/bus/pci/devices")
        var result: [String: Int?] = [:]
        for entry in entries(dir) {
            let dev = join(dir, entry)
            guard let cls = readFile(join(dev, "class")), let vendor = readFile(join(dev, "vendor")) else { continue }
            let c = cls.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard c.hasPrefix("0x0300") || c.hasPrefix("0x0302"),
                vendor.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "0x10de"
            else { continue }
            let numa = readFile(join(dev, "numa_node")).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            result[GPUDevice.normalizedBusID(entry)] = numa.flatMap { $0 >= 0 ? $0 : nil }
        }
        return result
    }

    /// Fills `numaNode` of GPUs (from NVML or nvidia-smi) from sysfs, matching by PCI bus id.
    public static func attachNUMANodes(_ gpus: [GPUDevice], root: String = "/") -> [GPUDevice] {
        let pci = nvidiaPCIDevices(root: root)
        return gpus.map { gpu in
            var g = gpu
            if g.numaNode == nil, let numa = pci[GPUDevice.normalizedBusID(g.pciBusID)] { g.numaNode = numa }
            return g
        }
    }

    // MARK: - Pieces

    private static func node(
        id: Int, cpus: [Int], memory: (total: UInt64, free: UInt64?), hugepages: [HugepagePool], cpuDir: String
    ) throws(TopologyError) -> NUMANode {
        var siblings: [[Int]] = []
        var l3: [[Int]] = []
        for cpu in cpus {
            let dir = join(cpuDir, "cpu\(cpu)")
            let sib = join(dir, "topology/thread_siblings_list")
            if readFile(sib) != nil { siblings.append(try cpuList(sib)) }
            let cacheDir = join(dir, "cache")
            for index in entries(cacheDir) where index.hasPrefix("index") {
                let levelPath = join(cacheDir, "\(index)/level")
                guard let level = readFile(levelPath) else { continue }
                guard let lv = Int(level.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw TopologyError(path: levelPath, problem: "not a cache level: \"\(level.prefix(40))\"")
                }
                let shared = join(cacheDir, "\(index)/shared_cpu_list")
                if lv == 3, readFile(shared) != nil { l3.append(try cpuList(shared)) }
            }
        }
        return NUMANode(
            id: id, cpus: cpus, l3Groups: NUMANode.partition(cpus, by: l3, leftoversTogether: true),
            cores: NUMANode.partition(cpus, by: siblings, leftoversTogether: false), memoryBytes: memory.total,
            freeMemoryBytes: memory.free, hugepages: hugepages)
    }

    private static func cpuList(_ path: String) throws(TopologyError) -> [Int] {
        let text = try required(path)
        guard let cpus = CPUList.parse(text) else {
            throw TopologyError(path: path, problem: "malformed cpu list \"\(text.prefix(80))\"")
        }
        return cpus
    }

    /// Parses `/proc/meminfo` or a node `meminfo` ("Node 0 MemTotal:  16393164 kB").
    private static func meminfo(_ path: String) throws(TopologyError) -> (total: UInt64, free: UInt64?) {
        let text = try required(path)
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let k = tokens.firstIndex(where: { $0.hasSuffix(":") }) else { continue }
            let key = String(tokens[k].dropLast())
            guard key == "MemTotal" || key == "MemFree" else { continue }
            guard k + 1 < tokens.count, let v = UInt64(tokens[k + 1]) else {
                throw TopologyError(path: path, problem: "malformed line \"\(line)\"")
            }
            let unit = k + 2 < tokens.count ? tokens[k + 2] : ""
            values[key] = unit == "kB" ? v * 1024 : v
        }
        guard let total = values["MemTotal"] else { throw TopologyError(path: path, problem: "no MemTotal line") }
        return (total, values["MemFree"])
    }

    /// Reads `hugepages-<N>kB/{nr,free}_hugepages` pools under `dir` (absent dir → none).
    private static func hugepages(_ dir: String) throws(TopologyError) -> [HugepagePool] {
        var pools: [HugepagePool] = []
        for entry in entries(dir) where entry.hasPrefix("hugepages-") && entry.hasSuffix("kB") {
            guard let kb = UInt64(entry.dropFirst("hugepages-".count).dropLast(2)) else {
                throw TopologyError(path: join(dir, entry), problem: "unexpected hugepage directory name")
            }
            let total = try count(join(dir, "\(entry)/nr_hugepages"))
            let free = try count(join(dir, "\(entry)/free_hugepages"))
            pools.append(HugepagePool(pageBytes: kb * 1024, total: total, free: free))
        }
        return pools.sorted { $0.pageBytes < $1.pageBytes }
    }

    private static func count(_ path: String) throws(TopologyError) -> Int {
        let text = try required(path)
        guard let v = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), v >= 0 else {
            throw TopologyError(path: path, problem: "not a count: \"\(text.prefix(40))\"")
        }
        return v
    }

    private static func required(_ path: String) throws(TopologyError) -> String {
        guard let text = readFile(path) else { throw TopologyError(path: path, problem: "missing or unreadable") }
        return text
    }

    private static func readFile(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    private static func join(_ base: String, _ rel: String) -> String {
        base.hasSuffix("/") ? base + rel : base + "/" + rel
    }
}
