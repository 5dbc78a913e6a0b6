/// SDR's replica id, which SupraSeal's batch tasks carry per sector (`replica_ids`,
/// `pc1_replica_id`). Formula as read in rust-fil-proofs (storage-proofs-porep
/// `generate_replica_id`): SHA-256 over prover id ‖ sector number (8 bytes, big-endian) ‖ ticket ‖
/// CommD ‖ porep id, with the top two bits of the last byte cleared (`bytes_into_fr_repr_safe`).
/// The porep id is the registered proof id and a zero nonce, each 8 bytes little-endian, then
/// zeros (filecoin-proofs-api `RegisteredSealProof::porep_id`).
public enum ReplicaID {
    public static func porepID(_ proof: SealProof) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let id = UInt64(proof.id)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: id >> (8 * UInt64(i))) }
        return out
    }

    public static func compute(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8]) -> [UInt8] {
        let number = sector.id.number
        let bigEndian = (0..<8).map { UInt8(truncatingIfNeeded: number >> (8 * UInt64(7 - $0))) }
        var hash = SHA256.hash(sector.proverID.bytes + bigEndian + ticket + commD + porepID(sector.proof))
        hash[31] &= 0b0011_1111
        return hash
    }
}
