import Foundation

/// Renders a topology for `sealer topology` style output: a human summary or stable JSON.
public enum TopologyReport {
    /// One line per node, then one per GPU, e.g.
    /// `node 0: cpus 0-15 (16), l3 groups 1, memory 15.6 GiB (free 12.0 GiB), hugepages 1GiB 0/0 2MiB 0/0`
    /// (hugepages are free/total per page size, largest first).
    public static func text(_ t: Topology) -> String {
        var lines: [String] = []
        for n in t.nodes {
            var line = "node \(n.id): cpus \(n.cpus.isEmpty ? "-" : CPUList.format(n.cpus)) (\(n.cpus.count))"
            line += ", l3 groups \(n.l3Groups.count), memory \(gib(n.memoryBytes))"
            if let free = n.freeMemoryBytes { line += " (free \(gib(free)))" }
            let pools = n.hugepages.sorted { $0.pageBytes > $1.pageBytes }
            line += ", hugepages "
            line += pools.isEmpty ? "-" : pools.map { "\(pageSize($0.pageBytes)) \($0.free)/\($0.total)" }.joined(separator: " ")
            lines.append(line)
        }
        for g in t.gpus {
            let node = g.numaNode.map(String.init) ?? "-"
            lines.append(
                "gpu \(g.index): \(g.name), \(gib(g.vramBytes)) VRAM, node \(node), pci \(g.pciBusID), uuid \(g.uuid.isEmpty ? "-" : g.uuid)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pretty-printed JSON with sorted, snake_case keys.
    public static func json(_ t: Topology) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain structs of ints and strings cannot fail.
        guard let data = try? encoder.encode(t) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Bytes as GiB with one decimal, rounded half up ("79.6 GiB").
    static func gib(_ bytes: UInt64) -> String {
        let tenths = (bytes / 1024 * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) GiB"
    }

    static func pageSize(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes % 1024 == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)B"
    }
}
