import ProofsFFI

// damocles' SupraSeal batch payloads, field for field.
//
// Read from (facts only, no code taken): ipfs-force-community/damocles
// 45cfe9fb6d62069f1aa8ec578a48945c63ee8642 (branch feat/0x5459/batch-sealing; main has no supra
// tasks), damocles-worker/vc-processors/src/builtin/tasks.rs: `SupraPC1` (stage `supra_pc1`,
// output `bool`), `SupraPC2` (stage `supra_pc2`, output `Vec<Commitment>`), `SupraC1` (stage
// `supra_c1`, output `SealCommitPhase1Output`). `usize` fields are JSON numbers, `[u8; 32]`
// arrays of 32 numbers, `PathBuf` strings, as in DamoclesTasks.swift.

/// The commit of damocles' supra task definitions these payloads follow.
public let damoclesSupraPayloadCommit = "45cfe9fb6d62069f1aa8ec578a48945c63ee8642"

/// `SupraPC1` (stage `supra_pc1`): PC1 of `num_sectors` sectors whose layers start at
/// `block_offset` on the NVMe space, one replica id per sector in slot order; output `true`.
public struct DamoclesSupraPC1: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var block_offset: UInt64
    public var num_sectors: Int
    public var replica_ids: [[UInt8]]

    public init(registered_proof: DamoclesSealProof, block_offset: UInt64, num_sectors: Int, replica_ids: [[UInt8]]) {
        self.registered_proof = registered_proof
        self.block_offset = block_offset
        self.num_sectors = num_sectors
        self.replica_ids = replica_ids
    }
}

/// `SupraPC2` (stage `supra_pc2`): tree C and R of the batch into `output_dir`, reading each
/// sector's data from `data_filenames` (CC sectors: empty names); output one CommR per sector
/// (`Vec<Commitment>`, arrays of 32 numbers).
public struct DamoclesSupraPC2: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var block_offset: UInt64
    public var num_sectors: Int
    public var output_dir: String
    public var data_filenames: [String]

    public init(registered_proof: DamoclesSealProof, block_offset: UInt64, num_sectors: Int, output_dir: String, data_filenames: [String]) {
        self.registered_proof = registered_proof
        self.block_offset = block_offset
        self.num_sectors = num_sectors
        self.output_dir = output_dir
        self.data_filenames = data_filenames
    }
}

/// `SupraC1` (stage `supra_c1`): C1 of the sector in `sector_slot` of the batch, from the layers
/// on NVMe; output a `SealCommitPhase1Output` (`DamoclesOpaque`), which C2 takes as today.
public struct DamoclesSupraC1: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var block_offset: UInt64
    public var num_sectors: Int
    public var sector_slot: Int
    public var pc1_replica_id: [UInt8]
    public var ticket: [UInt8]
    /// The raw seed.
    public var seed: [UInt8]
    public var cache_path: String
    /// Where the sealed file is stored.
    public var replica_path: String

    public init(registered_proof: DamoclesSealProof, block_offset: UInt64, num_sectors: Int, sector_slot: Int, pc1_replica_id: [UInt8],
                ticket: [UInt8], seed: [UInt8], cache_path: String, replica_path: String) {
        self.registered_proof = registered_proof
        self.block_offset = block_offset
        self.num_sectors = num_sectors
        self.sector_slot = sector_slot
        self.pc1_replica_id = pc1_replica_id
        self.ticket = ticket
        self.seed = seed
        self.cache_path = cache_path
        self.replica_path = replica_path
    }
}

extension DamoclesShape {
    /// The supra tasks' shapes (`supra_pc1`, `supra_pc2`, `supra_c1`); nil for other stages.
    static func supraTask(stage: String) -> DamoclesShape? {
        switch stage {
        case "supra_pc1":
            return .object([("registered_proof", .sealProof), ("block_offset", .u64), ("num_sectors", .u64), ("replica_ids", .array(.bytes32))])
        case "supra_pc2":
            return .object([("registered_proof", .sealProof), ("block_offset", .u64), ("num_sectors", .u64), ("output_dir", .string),
                            ("data_filenames", .array(.string))])
        case "supra_c1":
            return .object([("registered_proof", .sealProof), ("block_offset", .u64), ("num_sectors", .u64), ("sector_slot", .u64),
                            ("pc1_replica_id", .bytes32), ("ticket", .bytes32), ("seed", .bytes32), ("cache_path", .string),
                            ("replica_path", .string)])
        default:
            return nil
        }
    }
}

/// The tasks a batch's stages send a SupraSeal processor.
public enum SupraTasks {
    /// `supra_pc1` for `batch`, with each sector's replica id.
    public static func pc1(_ batch: SupraBatch, replicaIDs: [[UInt8]]) -> DamoclesSupraPC1? {
        guard let proof = batch.proof else { return nil }
        return DamoclesSupraPC1(registered_proof: DamoclesSealProof(proof), block_offset: batch.blockOffset, num_sectors: batch.sectors.count,
                                replica_ids: replicaIDs)
    }

    /// `supra_pc2` for `batch`: CC sectors have no data files; the output goes beside the first
    /// sector's cache (SupraSeal writes one directory per sector under it).
    public static func pc2(_ batch: SupraBatch, outputDirectory: String) -> DamoclesSupraPC2? {
        guard let proof = batch.proof else { return nil }
        return DamoclesSupraPC2(registered_proof: DamoclesSealProof(proof), block_offset: batch.blockOffset, num_sectors: batch.sectors.count,
                                output_dir: outputDirectory, data_filenames: batch.sectors.map { _ in "" })
    }

    /// `supra_c1` for the sector in `slot`.
    public static func c1(_ batch: SupraBatch, slot: Int, replicaID: [UInt8], ticket: [UInt8], seed: [UInt8]) -> DamoclesSupraC1? {
        guard let proof = batch.proof, batch.sectors.indices.contains(slot) else { return nil }
        let sector = batch.sectors[slot]
        return DamoclesSupraC1(registered_proof: DamoclesSealProof(proof), block_offset: batch.blockOffset, num_sectors: batch.sectors.count,
                               sector_slot: slot, pc1_replica_id: replicaID, ticket: ticket, seed: seed, cache_path: sector.paths.cache,
                               replica_path: sector.paths.sealed)
    }
}
