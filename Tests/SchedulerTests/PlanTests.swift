import Testing
@testable import Scheduler

@Suite("Plan transition tables")
struct PlanTests {
    /// The seed document's edges, written out independently of the tables, so a table edit that
    /// drops or redirects an edge fails here.
    static let documented: [PlanKind: [(String, String, String)]] = [
        .sealer: [
            ("Empty", "Allocate", "Allocated"), ("Allocated", "AcquireDeals", "DealsAcquired"),
            ("DealsAcquired", "AddPiece", "PieceAdded"), ("PieceAdded", "BuildTreeD", "TreeDBuilt"),
            ("TreeDBuilt", "AssignTicket", "TicketAssigned"), ("TicketAssigned", "PC1", "PC1Done"),
            ("PC1Done", "PC2", "PC2Done"), ("PC2Done", "SubmitPC", "PCSubmitted"),
            ("PCSubmitted", "ReSubmitPC", "PC2Done"), ("PCSubmitted", "CheckPC", "PCLanded"),
            ("PCLanded", "Persist", "Persisted"), ("Persisted", "SubmitPersistance", "PersistanceSubmitted"),
            ("PersistanceSubmitted", "AssignSeed", "SeedAssigned"), ("SeedAssigned", "C1", "C1Done"),
            ("C1Done", "C2", "C2Done"), ("C2Done", "SubmitProof", "ProofSubmitted"),
            ("ProofSubmitted", "ReSubmitProof", "C2Done"), ("ProofSubmitted", "Finish", "Finished"),
            // spec 2.3: synthetic PoRep proof types
            ("PC1Done", "PC2NeedSyntheticProof", "SyntheticPoRepNeeded"), ("SyntheticPoRepNeeded", "SyntheticPoRep", "PC2Done"),
        ],
        .snapup: [
            ("Empty", "AllocatedSnapUpSector", "Allocated"), ("Allocated", "AddPiece", "PieceAdded"),
            ("PieceAdded", "BuildTreeD", "TreeDBuilt"), ("TreeDBuilt", "SnapEncode", "SnapEncoded"),
            ("SnapEncoded", "SnapProve", "SnapProved"), ("SnapProved", "Persist", "Persisted"),
            ("Persisted", "RePersist", "SnapProved"), ("Persisted", "Finish", "Finished"),
        ],
        .rebuild: [
            ("Empty", "AllocatedRebuildSector", "Allocated"), ("Allocated", "AddPiece", "PieceAdded"),
            ("PieceAdded", "BuildTreeD", "TreeDBuilt"), ("TreeDBuilt", "PC1", "PC1Done"),
            ("PC1Done", "PC2", "PC2Done"), ("PC2Done", "CheckSealed", "SealedChecked"),
            ("SealedChecked", "SkipSnap", "SnapDone"), ("SealedChecked", "AddPiece", "SnapPieceAdded"),
            ("SnapPieceAdded", "BuildTreeD", "SnapTreeDBuilt"), ("SnapTreeDBuilt", "SnapEncode", "SnapEncoded"),
            ("SnapEncoded", "SnapProve", "SnapDone"), ("SnapDone", "Persist", "Persisted"),
            ("Persisted", "SubmitPersistance", "Finished"),
            ("PC1Done", "PC2NeedSyntheticProof", "SyntheticPoRepNeeded"), ("SyntheticPoRepNeeded", "SyntheticPoRep", "PC2Done"),
        ],
        .unseal: [
            ("Empty", "AllocatedUnsealSector", "Allocated"), ("Allocated", "UnsealDone", "Unsealed"),
            ("Unsealed", "UploadPieceDone", "Finished"),
        ],
        .wdpost: [
            ("Empty", "AllocatedWdPostJob", "Allocated"), ("Allocated", "GenerateWdPost", "Generated"),
            ("Generated", "Finish", "Finished"),
        ],
    ]

    @Test("every documented edge is in the table and leads where the document says", arguments: PlanKind.allCases)
    func documentedEdges(kind: PlanKind) throws {
        let plan = kind.plan
        let expected = try #require(Self.documented[kind])
        #expect(plan.edges.count == expected.count, "table has edges the document does not list")
        for (from, event, to) in expected {
            let state = try #require(SectorState(rawValue: from))
            let ev = try #require(SealingEvent(rawValue: event))
            #expect(plan.transition(from: state, on: ev) == .success(SectorState(rawValue: to)!), "\(kind): \(from) --\(event)-->")
        }
    }

    @Test("every pair not in the table is rejected, and Abort works from every live state", arguments: PlanKind.allCases)
    func illegalEventsRejected(kind: PlanKind) {
        let plan = kind.plan
        let allowed = Set(plan.edges.map { "\($0.from)/\($0.event)" })
        for state in SectorState.allCases {
            for event in SealingEvent.allCases {
                let result = plan.transition(from: state, on: event)
                if state.isTerminal {
                    #expect(result == .failure(.terminal(plan: kind, state: state, event: event)))
                } else if event == .abort {
                    #expect(result == .success(.aborted))
                } else if !allowed.contains("\(state)/\(event)") {
                    #expect(result == .failure(.illegal(plan: kind, state: state, event: event)))
                }
            }
        }
    }

    @Test("a sealer sector walks Empty to Finished on the happy path")
    func happyPath() {
        let path: [SealingEvent] = [.allocate, .acquireDeals, .addPiece, .buildTreeD, .assignTicket, .pc1, .pc2,
                                    .submitPC, .checkPC, .persist, .submitPersistance, .assignSeed, .c1, .c2,
                                    .submitProof, .finish]
        var state = SectorState.empty
        for event in path {
            guard case let .success(next) = Plan.sealer.transition(from: state, on: event) else {
                Issue.record("\(event) rejected in \(state)")
                return
            }
            state = next
        }
        #expect(state == .finished)
    }

    @Test("every non-terminal state of a plan reaches Finished")
    func finishable() {
        for kind in PlanKind.allCases {
            let plan = kind.plan
            var reach: Set<SectorState> = [.finished]
            var changed = true
            while changed {
                changed = false
                for edge in plan.edges where reach.contains(edge.to) && !reach.contains(edge.from) {
                    reach.insert(edge.from)
                    changed = true
                }
            }
            for state in plan.states where state != .aborted {
                #expect(reach.contains(state), "\(kind): \(state) cannot reach Finished")
            }
        }
    }

    @Test("state names parse case-insensitively and indexes follow damocles' order")
    func stateNames() {
        #expect(SectorState(name: "TreeDBuilt") == .treeDBuilt)
        #expect(SectorState(name: "treedbuilt") == .treeDBuilt)
        #expect(SectorState(name: "Bogus") == nil)
        #expect(SectorState.empty.index == 0)
        #expect(SectorState.unsealed.index == 25)
        #expect(SectorState.aborted.index == 18)
    }

    @Test("every plan state except Empty and terminal ones has a stage label")
    func stageLabels() {
        for kind in PlanKind.allCases {
            for state in kind.plan.states {
                let label = kind.plan.stage(of: state)
                if state == .empty || state.isTerminal { #expect(label == nil) } else { #expect(label != nil, "\(kind) \(state)") }
            }
        }
        #expect(Plan.sealer.stage(of: .treeDBuilt) == "AssignTicket")
        #expect(Plan.rebuild.stage(of: .treeDBuilt) == "PC1")
        #expect(Plan.snapup.stage(of: .persisted) == "SubmitSnapupProof")
    }
}
