/// Sector sizes Filecoin supports, in bytes.
public enum SectorSize: UInt64, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case kib2 = 2048
    case mib8 = 8_388_608
    case mib512 = 536_870_912
    case gib32 = 34_359_738_368
    case gib64 = 68_719_476_736

    public var bytes: UInt64 { rawValue }

    public var description: String {
        switch self {
        case .kib2: "2KiB"
        case .mib8: "8MiB"
        case .mib512: "512MiB"
        case .gib32: "32GiB"
        case .gib64: "64GiB"
        }
    }

    /// The cache files a sealed (or upgraded) sector keeps for window PoSt, which damocles
    /// persists with the replica: tree_r_last (split in 8 or 16 for 32GiB and 64GiB), p_aux, t_aux.
    public var persistedCacheFiles: [String] {
        let trees: [String]
        switch self {
        case .kib2, .mib8, .mib512: trees = ["sc-02-data-tree-r-last.dat"]
        case .gib32: trees = (0..<8).map { "sc-02-data-tree-r-last-\($0).dat" }
        case .gib64: trees = (0..<16).map { "sc-02-data-tree-r-last-\($0).dat" }
        }
        return trees + ["p_aux", "t_aux"]
    }

    /// Position in Filecoin's proof-type numbering (2KiB = 0 ... 64GiB = 4).
    var ordinal: Int {
        switch self {
        case .kib2: 0
        case .mib8: 1
        case .mib512: 2
        case .gib32: 3
        case .gib64: 4
        }
    }
}

/// Filecoin's `RegisteredSealProof`, carried on the wire as its integer id.
///
/// Ids 5-9 are StackedDRG V1_1, 10-14 V1_1 with synthetic PoRep, 15-19 V1_2 with NI-PoRep.
public struct SealProof: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Variant: Int, Sendable, CaseIterable {
        case v1_1 = 5
        case v1_1SyntheticPoRep = 10
        case v1_2NonInteractive = 15
    }

    public var sectorSize: SectorSize
    public var variant: Variant

    public init(sectorSize: SectorSize, variant: Variant = .v1_1) {
        self.sectorSize = sectorSize
        self.variant = variant
    }

    /// Decodes a wire id; nil for ids outside the supported V1_1 / V1_1+Synth / V1_2 ranges.
    public init?(id: Int) {
        for variant in Variant.allCases {
            let offset = id - variant.rawValue
            if let size = SectorSize.allCases.first(where: { $0.ordinal == offset }) {
                self.init(sectorSize: size, variant: variant)
                return
            }
        }
        return nil
    }

    public var id: Int { variant.rawValue + sectorSize.ordinal }

    /// The three proof types damocles requests for one allowed size.
    public static func all(for size: SectorSize) -> [SealProof] {
        Variant.allCases.map { SealProof(sectorSize: size, variant: $0) }
    }

    /// The proof types an interactive sealing plan can seal for one size: V1_1 and V1_1 with
    /// synthetic PoRep (both wait for the chain's seed), never V1_2 NI-PoRep.
    public static func interactive(for size: SectorSize) -> [SealProof] {
        all(for: size).filter(\.isInteractive)
    }

    /// Whether sealing waits for an interactive seed (`WaitSeed`); false only for NI-PoRep.
    public var isInteractive: Bool { variant != .v1_2NonInteractive }

    /// Whether PC2 must be followed by synthetic proof generation.
    public var needsSyntheticPoRep: Bool { variant == .v1_1SyntheticPoRep }

    public var description: String { "\(id) (\(sectorSize), \(variant))" }

    public init(from decoder: any Decoder) throws {
        let id = try decoder.singleValueContainer().decode(Int.self)
        guard let proof = SealProof(id: id) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "unknown seal proof type \(id)"))
        }
        self = proof
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(id)
    }
}
