import ProofsFFI

/// A sector's SupraSeal batch, persisted with its record from batch PC1 on: the batch's layers
/// lie interleaved on the batch's NVMe slot, so only the batch PC2 and `supra_c1` can read them,
/// and after a restart the batch must be re-formed from these records, never finished sector by
/// sector with stock PC2/C1.
public struct BatchMembership: Sendable, Hashable, Codable {
    /// Unique across restarts: the first member's sector id (a sector is in one batch at most).
    public var id: String
    public var proof: SealProof
    /// Where the batch starts on its NVMe slot (SupraSeal's `block_offset`).
    public var blockOffset: UInt64
    /// The members in batch order (a member's position is its `sector_slot`).
    public var members: [Member]
    /// The NVMe layer space the batch PC1 took (node and bytes per drive), held until every
    /// member is finalized; nil when no pools are configured.
    public var nvme: Grant?

    /// One sector of the batch: where its thread keeps its files, and its PC1 output (replica id
    /// and CommD), which the batch PC2 needs even if the member is gone.
    public struct Member: Sendable, Hashable, Codable {
        public var sector: SectorID
        /// The member's sealing thread location (its record lives under it).
        public var thread: String
        public var paths: SectorPaths
        public var pc1Output: Blob

        public init(sector: SectorID, thread: String, paths: SectorPaths, pc1Output: Blob) {
            self.sector = sector
            self.thread = thread
            self.paths = paths
            self.pc1Output = pc1Output
        }
    }

    public init(id: String, proof: SealProof, blockOffset: UInt64 = 0, members: [Member], nvme: Grant?) {
        self.id = id
        self.proof = proof
        self.blockOffset = blockOffset
        self.members = members
        self.nvme = nvme
    }

    /// The batch as the prover sees it.
    public var supra: SupraBatch {
        SupraBatch(sectors: members.map { SectorRef(id: $0.sector, proof: proof, paths: $0.paths) }, blockOffset: blockOffset)
    }

    /// `sector`'s position in the batch (its `sector_slot`).
    public func slot(of sector: SectorID) -> Int? { members.firstIndex { $0.sector == sector } }
}

/// What a batch member still needs of its batch, judged from its record: the restart rule.
public enum BatchNeed: Sendable, Hashable {
    /// At batch PC1 done: it waits for the batch PC2 (and then its `supra_c1`).
    case pc2
    /// Past PC2, before its C1: it needs the batch's layers for `supra_c1`.
    case c1
    /// Aborted, finished or past C1: it neither holds up the batch nor needs its slot.
    case nothing

    /// The need of `record`'s sector in `batch`; `.nothing` for a record of another sector.
    public static func of(_ record: SectorRecord?, in batch: BatchMembership) -> BatchNeed {
        guard let record, let sector = record.sector, record.phases.batch?.id == batch.id, batch.slot(of: sector) != nil,
              !record.state.isTerminal, record.phases.c1Output == nil else { return .nothing }
        return record.phases.commitments == nil ? .pc2 : .c1
    }
}
