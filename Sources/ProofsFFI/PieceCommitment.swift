/// A piece as the proofs see it (filecoin-ffi's `PieceInfo`): its 32-byte commitment (commP) and
/// its unpadded size. CID strings exist only at the manager boundary (`PieceCID`).
public struct PieceInfo: Sendable, Hashable, Codable {
    public var commP: [UInt8]
    /// Unpadded bytes (127/128 of the padded size).
    public var size: UInt64

    public init(commP: [UInt8], size: UInt64) {
        self.commP = commP
        self.size = size
    }

    /// The padded size the piece occupies in the sector.
    public var paddedSize: UInt64 { size + size / 127 }

    /// The unpadded size of a piece that fills `padded` bytes.
    public static func unpadded(_ padded: UInt64) -> UInt64 { padded - padded / 128 }

    enum CodingKeys: String, CodingKey { case commP = "comm_p", size, cid }

    /// Also reads the shape earlier builds persisted (`size` padded, `cid`), so a sector in flight
    /// across an upgrade keeps its record. Their mock pieces' CIDs were no piece commitments;
    /// those decode to a digest of the CID, which only the mock prover ever saw.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let commP = try c.decodeIfPresent([UInt8].self, forKey: .commP) {
            self.init(commP: commP, size: try c.decode(UInt64.self, forKey: .size))
            return
        }
        let cid = try c.decode(String.self, forKey: .cid)
        let padded = try c.decode(UInt64.self, forKey: .size)
        let commP = (try? PieceCID.commitment(cid)) ?? ZeroCommitment.trunc254(SHA256.hash(Array(cid.utf8)))
        self.init(commP: commP, size: Self.unpadded(padded))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(commP, forKey: .commP)
        try c.encode(size, forKey: .size)
    }
}

/// The commitments of all-zero data (`sha2-256-trunc254-padded` binary Merkle trees over zero
/// leaves): what a CC sector's one pledge piece commits to, as damocles and lotus use it.
public enum ZeroCommitment {
    /// The root over `padded` bytes of zeros (`padded` a power of two, at least 32 bytes).
    public static func of(padded: UInt64) -> [UInt8] {
        var node = [UInt8](repeating: 0, count: 32)
        var width: UInt64 = 32
        while width < padded {
            node = Self.node(node, node)
            width *= 2
        }
        return node
    }

    /// A Merkle node of piece and data commitments (`sha2-256-trunc254-padded`): SHA-256 of
    /// the two children with the two high bits of the last byte cleared.
    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        trunc254(SHA256.hash(left + right))
    }

    /// A CC sector's pledge piece: the whole sector's unpadded capacity, committing to zeros.
    public static func pledge(_ size: SectorSize) -> PieceInfo {
        PieceInfo(commP: of(padded: size.bytes), size: PieceInfo.unpadded(size.bytes))
    }

    /// Filecoin's Merkle hash keeps 254 bits: the two high bits of the last byte are cleared.
    static func trunc254(_ digest: [UInt8]) -> [UInt8] {
        var out = digest
        out[31] &= 0x3f
        return out
    }
}
