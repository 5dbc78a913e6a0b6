import Testing
import ProofsFFI

/// `RegisteredPoStProof` as go-state-types v0.17.0 `abi/sector.go` numbers it, and the names
/// damocles-manager v0.13.0 writes into window PoSt jobs (`stage.ProofType2String`).
@Suite("PoSt proof types")
struct PoStProofTests {
    /// (damocles name, registered id, sector size), transcribed from the two Go sources.
    static let registered: [(String, Int, SectorSize)] = [
        ("StackedDrgWinning2KiBV1", 0, .kib2), ("StackedDrgWinning8MiBV1", 1, .mib8), ("StackedDrgWinning512MiBV1", 2, .mib512),
        ("StackedDrgWinning32GiBV1", 3, .gib32), ("StackedDrgWinning64GiBV1", 4, .gib64),
        ("StackedDrgWindow2KiBV1", 5, .kib2), ("StackedDrgWindow8MiBV1", 6, .mib8), ("StackedDrgWindow512MiBV1", 7, .mib512),
        ("StackedDrgWindow32GiBV1", 8, .gib32), ("StackedDrgWindow64GiBV1", 9, .gib64),
        ("StackedDrgWindow2KiBV1_2", 10, .kib2), ("StackedDrgWindow8MiBV1_2", 11, .mib8), ("StackedDrgWindow512MiBV1_2", 12, .mib512),
        ("StackedDrgWindow32GiBV1_2", 13, .gib32), ("StackedDrgWindow64GiBV1_2", 14, .gib64),
    ]

    /// Position in Filecoin's numbering, transcribed rather than read from the type under test.
    static let ordinals: [SectorSize: Int] = [.kib2: 0, .mib8: 1, .mib512: 2, .gib32: 3, .gib64: 4]

    @Test("every registered PoSt proof parses from damocles' name and from its id")
    func registeredNames() throws {
        for (name, id, size) in Self.registered {
            let proof = try PoStProof.parse(name)
            #expect(proof.id == id, "\(name)")
            #expect(proof.sectorSize == size, "\(name)")
            #expect(proof.name == name)
            #expect(try PoStProof.parse(String(id)) == proof)
            #expect(PoStProof(id: id) == proof)
            #expect(try PoStProof.sectorSize(of: name) == size)
        }
        #expect(PoStProof(id: -1) == nil)
        #expect(PoStProof(id: 15) == nil)
    }

    @Test("go-state-types' own spelling of registered V1_1 is the same proof as damocles' V1_2")
    func goStateTypesSpelling() throws {
        #expect(try PoStProof.parse("StackedDrgWindow32GiBV1_1") == PoStProof(sectorSize: .gib32, variant: .windowV1_1))
        #expect(try PoStProof.parse("RegisteredPoStProof_StackedDrgWindow64GiBV1_1").id == 14)
        #expect(try PoStProof.parse("StackedDrgWindow32GiBV1_2").isWindow)
        #expect(try !PoStProof.parse("StackedDrgWinning32GiBV1").isWindow)
    }

    @Test("unknown proof types are typed errors that quote the input",
          arguments: ["", "Unknown RegisteredPoStProof 99", "StackedDrgWindow16GiBV1_2", "StackedDrgWinning32GiBV1_2", "StackedDrgWindow32GiB", "15", "-1",
                      "stackeddrgwindow32gibv1_2"])
    func unknown(_ text: String) {
        #expect(throws: PoStProofError(given: text)) { try PoStProof.parse(text) }
    }

    @Test("an interactive plan asks only for V1_1 and V1_1 synthetic PoRep, never NI-PoRep", arguments: SectorSize.allCases)
    func interactiveSealProofs(size: SectorSize) {
        let ids = SealProof.interactive(for: size).map(\.id)
        let ordinal = Self.ordinals[size] ?? -1
        #expect(ids == [5 + ordinal, 10 + ordinal])
        #expect(SealProof.interactive(for: size).allSatisfy { $0.isInteractive })
        #expect(!SealProof(sectorSize: size, variant: .v1_2NonInteractive).isInteractive)
    }
}
