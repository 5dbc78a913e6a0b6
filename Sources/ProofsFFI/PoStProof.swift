/// A PoSt proof type that is not one of Filecoin's registered ones (or not spelled as one).
public struct PoStProofError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The proof type exactly as it was given (a name, or an id as text).
    public var given: String

    /// Wraps the unparseable input.
    public init(given: String) { self.given = given }

    public var description: String {
        "unknown PoSt proof type \"\(given)\" (expected e.g. StackedDrgWindow32GiBV1_2 or a RegisteredPoStProof id 0-14)"
    }
}

/// Filecoin's `RegisteredPoStProof` (go-state-types `abi/sector.go`).
///
/// Ids 0-4 are StackedDRG winning PoSt V1, 5-9 window PoSt V1, 10-14 window PoSt V1_1, each
/// range in size order 2KiB, 8MiB, 512MiB, 32GiB, 64GiB. A window PoSt job from damocles-manager
/// names its proof type as text (`WdPoStInput.ProofType`, written by damocles'
/// `stage.ProofType2String`), where registered V1_1 is spelled `…V1_2` (the proofs API version
/// that fixed grindability); `parse(_:)` reads that form so a job can be costed by its sector size.
public struct PoStProof: Sendable, Hashable, CustomStringConvertible {
    /// The registered proof family; the raw value is the id of its 2KiB member.
    public enum Variant: Int, Sendable, Hashable, CaseIterable {
        case winningV1 = 0
        case windowV1 = 5
        case windowV1_1 = 10
    }

    /// The size of the sectors this proof type proves.
    public var sectorSize: SectorSize
    /// Winning or window, and which registered version.
    public var variant: Variant

    /// A proof type by size and family; window PoSt V1_1 (what current miners use) by default.
    public init(sectorSize: SectorSize, variant: Variant = .windowV1_1) {
        self.sectorSize = sectorSize
        self.variant = variant
    }

    /// Decodes a registered id (0-14); nil outside that range.
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

    /// The `RegisteredPoStProof` id.
    public var id: Int { variant.rawValue + sectorSize.ordinal }

    /// Whether this is a window (not winning) PoSt.
    public var isWindow: Bool { variant != .winningV1 }

    /// The name damocles-manager puts in a window PoSt job, e.g. `StackedDrgWindow32GiBV1_2`
    /// for registered id 13 (V1_1).
    public var name: String {
        switch variant {
        case .winningV1: "StackedDrgWinning\(sectorSize)V1"
        case .windowV1: "StackedDrgWindow\(sectorSize)V1"
        case .windowV1_1: "StackedDrgWindow\(sectorSize)V1_2"
        }
    }

    public var description: String { "\(name) (\(id))" }

    /// Parses a proof type as a window PoSt job carries it.
    ///
    /// Accepts damocles' names (`StackedDrgWindow32GiBV1_2`, `StackedDrgWinning2KiBV1`), the
    /// go-state-types spelling of the same ids (`…V1_1`, optionally prefixed
    /// `RegisteredPoStProof_`), and a decimal id (`"13"`). Anything else, including damocles'
    /// own `Unknown RegisteredPoStProof <n>`, is a `PoStProofError`.
    public static func parse(_ text: String) throws(PoStProofError) -> PoStProof {
        if let id = Int(text) {
            guard let proof = PoStProof(id: id) else { throw PoStProofError(given: text) }
            return proof
        }
        var rest = Substring(text)
        if rest.hasPrefix("RegisteredPoStProof_") { rest = rest.dropFirst("RegisteredPoStProof_".count) }
        let family: Bool  // true: window
        if rest.hasPrefix("StackedDrgWindow") {
            family = true
            rest = rest.dropFirst("StackedDrgWindow".count)
        } else if rest.hasPrefix("StackedDrgWinning") {
            family = false
            rest = rest.dropFirst("StackedDrgWinning".count)
        } else {
            throw PoStProofError(given: text)
        }
        guard let size = SectorSize.allCases.first(where: { rest.hasPrefix($0.description) }) else {
            throw PoStProofError(given: text)
        }
        let version = rest.dropFirst(size.description.count)
        switch (family, version) {
        case (false, "V1"): return PoStProof(sectorSize: size, variant: .winningV1)
        case (true, "V1"): return PoStProof(sectorSize: size, variant: .windowV1)
        case (true, "V1_1"), (true, "V1_2"): return PoStProof(sectorSize: size, variant: .windowV1_1)
        default: throw PoStProofError(given: text)
        }
    }

    /// The sector size a job's proof type proves, e.g. `.gib32` for `StackedDrgWindow32GiBV1_2`.
    public static func sectorSize(of proofType: String) throws(PoStProofError) -> SectorSize {
        try parse(proofType).sectorSize
    }
}
