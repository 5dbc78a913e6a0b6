/// A SupraSeal batch as the proof calls see it: its CC sectors (one seal proof), in slot order,
/// and where its layers start on the NVMe space (SupraSeal's `block_offset`, in 4 KiB pages).
public struct SupraBatch: Sendable, Hashable {
    public var sectors: [SectorRef]
    public var blockOffset: UInt64

    public init(sectors: [SectorRef], blockOffset: UInt64 = 0) {
        self.sectors = sectors
        self.blockOffset = blockOffset
    }

    /// The batch's seal proof (its first sector's; a batch holds one proof type).
    public var proof: SealProof? { sectors.first?.proof }

    /// SupraSeal's pages per sector of `size` on the NVMe space: 11 layers of 4 KiB pages.
    public static func pages(_ size: SectorSize) -> UInt64 { 11 * size.bytes / 4096 }
}

/// Batch sealing on the proof boundary: damocles' `supra_pc1`, `supra_pc2` and `supra_c1` tasks.
/// Provers without SupraSeal refuse them.
extension Prover {
    public func supraPC1(_ batch: SupraBatch, tickets: [[UInt8]], pieces: [[PieceInfo]]) async throws(ProverError) -> [[UInt8]] {
        throw ProverError(stage: .supraPC1, message: "this prover has no SupraSeal batch PC1")
    }

    public func supraPC2(_ batch: SupraBatch, pc1Outputs: [[UInt8]]) async throws(ProverError) -> [Commitments] {
        throw ProverError(stage: .supraPC2, message: "this prover has no SupraSeal batch PC2")
    }

    public func supraC1(_ batch: SupraBatch, slot: Int, ticket: [UInt8], seed: [UInt8], commitments: Commitments,
                        pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        throw ProverError(stage: .supraC1, message: "this prover has no SupraSeal C1")
    }
}
