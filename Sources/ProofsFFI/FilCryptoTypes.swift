// The values FilCrypto's wrappers take and return: libfilcrypto's proof-type enums and result
// structs as Swift values. Byte strings are `[UInt8]`; commitments, ids, tickets, seeds and
// randomness are exactly 32 bytes (checked before a call, a permanent error otherwise).

extension FilCrypto {
    /// filecoin-ffi's `RegisteredSealProof` (its integer ids are the chain's).
    public enum SealProofType: Int32, Sendable, Hashable, CaseIterable {
        case stackedDrg2KiBV1 = 0, stackedDrg8MiBV1, stackedDrg512MiBV1, stackedDrg32GiBV1, stackedDrg64GiBV1
        case stackedDrg2KiBV1_1 = 5, stackedDrg8MiBV1_1, stackedDrg512MiBV1_1, stackedDrg32GiBV1_1, stackedDrg64GiBV1_1
        case stackedDrg2KiBV1_1SyntheticPoRep = 10, stackedDrg8MiBV1_1SyntheticPoRep, stackedDrg512MiBV1_1SyntheticPoRep,
             stackedDrg32GiBV1_1SyntheticPoRep, stackedDrg64GiBV1_1SyntheticPoRep
        case stackedDrg2KiBV1_2NonInteractivePoRep = 15, stackedDrg8MiBV1_2NonInteractivePoRep,
             stackedDrg512MiBV1_2NonInteractivePoRep, stackedDrg32GiBV1_2NonInteractivePoRep,
             stackedDrg64GiBV1_2NonInteractivePoRep

        /// The type with this chain id (e.g. `SealProof.id`), nil outside 0...19.
        public init?(id: Int) {
            guard let raw = Int32(exactly: id) else { return nil }
            self.init(rawValue: raw)
        }
    }

    /// filecoin-ffi's `RegisteredPoStProof`: 0-4 winning, 5-9 window V1, 10-14 window V1_1.
    public enum PoStProofType: Int32, Sendable, Hashable, CaseIterable {
        case winning2KiBV1 = 0, winning8MiBV1, winning512MiBV1, winning32GiBV1, winning64GiBV1
        case window2KiBV1 = 5, window8MiBV1, window512MiBV1, window32GiBV1, window64GiBV1
        case window2KiBV1_1 = 10, window8MiBV1_1, window512MiBV1_1, window32GiBV1_1, window64GiBV1_1

        /// The type with this chain id, nil outside 0...14.
        public init?(id: Int) {
            guard let raw = Int32(exactly: id) else { return nil }
            self.init(rawValue: raw)
        }
    }

    /// filecoin-ffi's `RegisteredUpdateProof` (SnapDeals).
    public enum UpdateProofType: Int32, Sendable, Hashable, CaseIterable {
        case stackedDrg2KiBV1 = 0, stackedDrg8MiBV1, stackedDrg512MiBV1, stackedDrg32GiBV1, stackedDrg64GiBV1

        /// The type with this chain id, nil outside 0...4.
        public init?(id: Int) {
            guard let raw = Int32(exactly: id) else { return nil }
            self.init(rawValue: raw)
        }
    }

    /// A piece as the seal calls take it (`PublicPieceInfo`).
    public struct Piece: Sendable, Hashable {
        /// The unpadded size in bytes.
        public var size: UInt64
        /// 32 bytes.
        public var commP: [UInt8]
        public init(size: UInt64, commP: [UInt8]) {
            self.size = size
            self.commP = commP
        }
    }

    /// `generate_piece_commitment`'s result.
    public struct PieceCommitment: Sendable, Hashable {
        public var commP: [UInt8]
        /// The piece's unpadded size once padded to a power of two.
        public var alignedSize: UInt64
        public init(commP: [UInt8], alignedSize: UInt64) {
            self.commP = commP
            self.alignedSize = alignedSize
        }
    }

    /// `write_with_alignment` / `write_without_alignment`'s result.
    public struct PieceWrite: Sendable, Hashable {
        public var commP: [UInt8]
        /// Unpadded zero bytes written before the piece to align it (0 without alignment).
        public var leftAlignment: UInt64
        /// Unpadded bytes written in all.
        public var totalWritten: UInt64
        public init(commP: [UInt8], leftAlignment: UInt64, totalWritten: UInt64) {
            self.commP = commP
            self.leftAlignment = leftAlignment
            self.totalWritten = totalWritten
        }
    }

    /// `seal_pre_commit_phase2`'s result.
    public struct PreCommitPhase2Output: Sendable, Hashable {
        /// The raw `RegisteredSealProof` the library reported.
        public var proofType: Int32
        public var commD: [UInt8]
        public var commR: [UInt8]
        public init(proofType: Int32, commD: [UInt8], commR: [UInt8]) {
            self.proofType = proofType
            self.commD = commD
            self.commR = commR
        }
    }

    /// A sealed sector as window PoSt generation sees it (`PrivateReplicaInfo`).
    public struct PrivateReplica: Sendable, Hashable {
        public var proofType: PoStProofType
        public var cacheDir: String
        public var commR: [UInt8]
        public var replicaPath: String
        public var sectorID: UInt64
        public init(proofType: PoStProofType, cacheDir: String, commR: [UInt8], replicaPath: String, sectorID: UInt64) {
            self.proofType = proofType
            self.cacheDir = cacheDir
            self.commR = commR
            self.replicaPath = replicaPath
            self.sectorID = sectorID
        }
    }

    /// A sealed sector as window PoSt verification sees it (`PublicReplicaInfo`).
    public struct PublicReplica: Sendable, Hashable {
        public var proofType: PoStProofType
        public var commR: [UInt8]
        public var sectorID: UInt64
        public init(proofType: PoStProofType, commR: [UInt8], sectorID: UInt64) {
            self.proofType = proofType
            self.commR = commR
            self.sectorID = sectorID
        }
    }

    /// One PoSt proof (`PoStProof`); `proofType` is raw because the library chooses it.
    public struct PoStProofBytes: Sendable, Hashable {
        public var proofType: Int32
        public var bytes: [UInt8]
        public init(proofType: Int32, bytes: [UInt8]) {
            self.proofType = proofType
            self.bytes = bytes
        }
    }

    /// One sector's window PoSt challenges (`generate_fallback_sector_challenges`).
    public struct SectorChallenges: Sendable, Hashable {
        public var sectorID: UInt64
        public var challenges: [UInt64]
        public init(sectorID: UInt64, challenges: [UInt64]) {
            self.sectorID = sectorID
            self.challenges = challenges
        }
    }

    /// `empty_sector_update_encode_into`'s result.
    public struct SnapEncoding: Sendable, Hashable {
        public var commRNew: [UInt8]
        public var commRLastNew: [UInt8]
        public var commDNew: [UInt8]
        public init(commRNew: [UInt8], commRLastNew: [UInt8], commDNew: [UInt8]) {
            self.commRNew = commRNew
            self.commRLastNew = commRLastNew
            self.commDNew = commDNew
        }
    }
}
