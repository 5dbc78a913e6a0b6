/// Reads a topology from `lstopo --of xml` output (hwloc v1 and v2/v3 layouts), so tests and
/// offline tools can use real multi-socket, multi-GPU machines.
public enum HwlocXML {
    /// Parses the file. CPUs are PU os_indexes, assigned to the NUMANode whose cpuset holds them;
    /// GPUs are NVIDIA display/3D PCI devices (class 03xx, vendor 10de), one per bus id, indexed in
    /// bus order. Hugepage counts come from `page_type` (free is not recorded: set to total).
    public static func parse(_ xml: String) throws(TopologyParseError) -> Topology {
        let root = try XMLScanner.parse(xml)
        guard root.name == "topology" else {
            throw TopologyParseError("hwloc XML: root is <\(root.name)>, expected <topology>")
        }
        var w = Walker()
        for child in root.children where child.name == "object" {
            _ = try w.visit(child, nodeset: nil)
        }
        let allPUs = Set(w.pus)
        var nodes: [NUMANode] = []
        if w.numa.isEmpty {
            let cpus = allPUs.sorted()
            nodes.append(
                NUMANode(
                    id: 0, cpus: cpus, l3Groups: NUMANode.partition(cpus, by: w.l3, leftoversTogether: true),
                    cores: NUMANode.partition(cpus, by: w.cores, leftoversTogether: false),
                    memoryBytes: w.machineMemory, hugepages: w.machineHugepages))
        } else {
            var assigned = Set<Int>()
            for n in w.numa.sorted(by: { $0.id < $1.id }) {
                let cpus = (allPUs.isEmpty ? n.cpuset : n.cpuset.intersection(allPUs)).subtracting(assigned).sorted()
                assigned.formUnion(cpus)
                nodes.append(
                    NUMANode(
                        id: n.id, cpus: cpus, l3Groups: NUMANode.partition(cpus, by: w.l3, leftoversTogether: true),
                        cores: NUMANode.partition(cpus, by: w.cores, leftoversTogether: false),
                        memoryBytes: n.memory, hugepages: n.hugepages))
            }
        }
        var seen = Set<String>()
        let gpus = w.gpus
            .filter { seen.insert(GPUDevice.normalizedBusID($0.pciBusID)).inserted }
            .sorted { GPUDevice.normalizedBusID($0.pciBusID) < GPUDevice.normalizedBusID($1.pciBusID) }
            .enumerated()
            .map { i, g in
                var g = g
                g.index = i
                return g
            }
        return Topology(nodes: nodes, gpus: gpus)
    }

    /// Parses an hwloc bitmap string ("0xffffffff,,0x0000ffff": 32-bit words, most significant
    /// first, empty = zero). An infinite "0xf...f" prefix is ignored. Nil when malformed.
    public static func parseBitmap(_ text: String) -> Set<Int>? {
        var result = Set<Int>()
        let words = text.split(separator: ",", omittingEmptySubsequences: false)
        for (i, raw) in words.reversed().enumerated() {
            var w = Substring(raw)
            if w.isEmpty { continue }
            if w.hasPrefix("0x") || w.hasPrefix("0X") { w = w.dropFirst(2) }
            if w == "f...f" { continue }
            guard let value = UInt32(w, radix: 16) else { return nil }
            for bit in 0..<32 where value & (1 << UInt32(bit)) != 0 {
                result.insert(i * 32 + bit)
            }
        }
        return result
    }
}

private struct Walker {
    struct Node {
        var id: Int
        var cpuset: Set<Int>
        var memory: UInt64
        var hugepages: [HugepagePool]
    }

    var pus: [Int] = []
    var numa: [Node] = []
    var cores: [[Int]] = []
    var l3: [[Int]] = []
    var gpus: [GPUDevice] = []
    var machineMemory: UInt64 = 0
    var machineHugepages: [HugepagePool] = []

    /// Visits `e` and its subtree; returns the PU os_indexes below (and including) it.
    mutating func visit(_ e: XMLElement, nodeset inherited: Set<Int>?) throws(TopologyParseError) -> [Int] {
        let type = e.attributes["type"] ?? ""
        var nodeset = inherited
        if let text = e.attributes["nodeset"] {
            guard let set = HwlocXML.parseBitmap(text) else { throw bad(e, "nodeset \"\(text)\"") }
            nodeset = set
        }
        var below: [Int] = []
        for child in e.children where child.name == "object" {
            below += try visit(child, nodeset: nodeset)
        }
        switch type {
        case "PU":
            guard let os = e.attributes["os_index"].flatMap({ Int($0) }) else { throw bad(e, "PU without os_index") }
            pus.append(os)
            below.append(os)
        case "Core":
            cores.append(below)
        case "L3Cache":
            l3.append(below)
        case "Cache" where e.attributes["depth"] == "3":
            l3.append(below)
        case "Machine":
            machineMemory = try memory(e)
            machineHugepages = try hugepages(e)
        case "NUMANode":
            guard let os = e.attributes["os_index"].flatMap({ Int($0) }) else { throw bad(e, "NUMANode without os_index") }
            let text = e.attributes["cpuset"] ?? ""
            guard let cpuset = HwlocXML.parseBitmap(text) else { throw bad(e, "cpuset \"\(text)\"") }
            numa.append(Node(id: os, cpuset: cpuset.union(below), memory: try memory(e), hugepages: try hugepages(e)))
        case "PCIDev":
            if let gpu = gpu(e, nodeset: nodeset) { gpus.append(gpu) }
        default:
            break
        }
        return below
    }

    private func bad(_ e: XMLElement, _ what: String) -> TopologyParseError {
        TopologyParseError("hwloc XML: object \(e.attributes["type"] ?? "?") \(e.attributes["id"] ?? ""): bad \(what)")
    }

    private func memory(_ e: XMLElement) throws(TopologyParseError) -> UInt64 {
        if let text = e.attributes["local_memory"] {
            guard let v = UInt64(text) else { throw bad(e, "local_memory \"\(text)\"") }
            return v
        }
        var total: UInt64 = 0
        for p in try pageTypes(e) { total += p.size * p.count }
        return total
    }

    private func hugepages(_ e: XMLElement) throws(TopologyParseError) -> [HugepagePool] {
        try pageTypes(e).filter { $0.size > 4096 }.map {
            HugepagePool(pageBytes: $0.size, total: Int($0.count), free: Int($0.count))
        }
    }

    private func pageTypes(_ e: XMLElement) throws(TopologyParseError) -> [(size: UInt64, count: UInt64)] {
        var out: [(size: UInt64, count: UInt64)] = []
        for p in e.children where p.name == "page_type" {
            guard let size = p.attributes["size"].flatMap({ UInt64($0) }),
                let count = p.attributes["count"].flatMap({ UInt64($0) })
            else { throw bad(e, "page_type") }
            out.append((size, count))
        }
        return out
    }

    /// A GPUDevice for an NVIDIA display/3D controller; details from its OSDev children's infos.
    private func gpu(_ e: XMLElement, nodeset: Set<Int>?) -> GPUDevice? {
        // pci_type="0302 [10de:1db8] [10de:131d] a1 00": class, [vendor:device], ...
        guard let pciType = e.attributes["pci_type"], let busID = e.attributes["pci_busid"] else { return nil }
        let fields = pciType.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("03"), fields[1].lowercased().hasPrefix("[10de:") else { return nil }
        var infos: [String: String] = [:]
        for child in e.children where child.name == "object" && child.attributes["type"] == "OSDev" {
            for info in child.children where info.name == "info" {
                if let k = info.attributes["name"], let v = info.attributes["value"], infos[k] == nil { infos[k] = v }
            }
        }
        for info in e.children where info.name == "info" {
            if let k = info.attributes["name"], let v = info.attributes["value"], infos["PCI." + k] == nil { infos["PCI." + k] = v }
        }
        var vram: UInt64 = 0
        if let mem = infos["CUDAGlobalMemorySize"], mem.hasSuffix("KiB"), let kib = UInt64(mem.dropLast(3)) {
            vram = kib * 1024
        }
        let node = nodeset.flatMap { $0.count == 1 ? $0.first : nil }
        return GPUDevice(
            index: 0, name: infos["GPUModel"] ?? infos["PCI.PCIDevice"] ?? "", uuid: infos["NVIDIAUUID"] ?? "",
            vramBytes: vram, pciBusID: busID, numaNode: node)
    }
}
