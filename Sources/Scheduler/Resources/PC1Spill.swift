import ProofsFFI

/// Spilling a PC1 over two NUMA nodes (`[resources] pc1_spill_slowdown`): a PC1 that finds no
/// node with room for its layers may take them from its cores' node and one other, and runs
/// that much longer. Spilling buys throughput only from memory short stages would leave idle,
/// so admission keeps it there (`AdmissionPolicy.spillGranule`).
public enum PC1Spill {
    /// The granule admission keeps whole on each node: the memory of the smallest PC1 among
    /// `sizes` (0 without any).
    public static func granule(costs: CostTable, sizes: some Sequence<SectorSize>) -> UInt64 {
        sizes.map { costs.cost(.pc1, $0) }.filter(\.numaBound).map(\.memoryBytes).filter { $0 > 0 }.min() ?? 0
    }
}

extension SimulationSetup {
    /// The spill granule the dynamic policy runs with: 0 unless the workload spills PC1s.
    public var spillGranule: UInt64 {
        guard workload.resources.pc1SpillSlowdown != nil else { return 0 }
        return PC1Spill.granule(costs: costs, sizes: workload.sectors.filter { workload.flow($0.kind).contains(.stage(.pc1)) }.map(\.size))
    }
}
