import Foundation
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

/// The JSON damocles-manager and damocles-worker exchange (field names from damocles' serde
/// structs: PascalCase, `ID`, base64 bytes, `[u8; 32]` commitments as number arrays).
@Suite("Wire format")
struct WireFormatTests {
    func json(_ value: some Encodable) throws -> JSONValue { try JSONValue(encoding: value) }
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test("requests encode as damocles-manager expects")
    func requests() throws {
        let sector = AllocatedSector(ID: SectorID(miner: 1000, number: 7), ProofType: SealProof(sectorSize: .gib32))
        #expect(try json(sector) == parse(#"{"ID":{"Miner":1000,"Number":7},"ProofType":8}"#))
        let info = PreCommitOnChainInfo(CommR: [1, 2], CommD: [3], Ticket: WireTicket(Ticket: Blob([0xFF, 0x00]), Epoch: 100))
        #expect(try json(info) == parse(#"{"CommR":[1,2],"CommD":[3],"Ticket":{"Ticket":"/wA=","Epoch":100}}"#))
        let report = ReportStateReq(instance: "w1", location: "/nvme0/t0", prev: "TicketAssigned", next: "PC1Done", event: "PC1",
                                    failure: .temporary("rpc down"))
        #expect(try json(report) == parse("""
            {"Worker":{"Instance":"w1","Location":"/nvme0/t0"},"StateChange":{"Prev":"TicketAssigned","Next":"PC1Done","Event":"PC1"},
             "Failure":{"Level":"temporary","Desc":"rpc down"}}
            """))
        let spec = AllocateSectorSpec(AllowedMiners: [1001], AllowedProofTypes: [8, 13, 18])
        #expect(try json(spec) == parse(#"{"AllowedMiners":[1001],"AllowedProofTypes":[8,13,18]}"#))
        let ping = WorkerPingInfo(Name: "w", Dest: "10.0.0.5:17890", Version: "v0.1.0-x",
                                  Summary: .init(Threads: 4, Empty: 1, Paused: 1, Running: 1, Waiting: 1, Errors: 0))
        #expect(try json(ping) == parse("""
            {"Name":"w","Dest":"10.0.0.5:17890","Version":"v0.1.0-x","Summary":{"Threads":4,"Empty":1,"Paused":1,"Running":1,"Waiting":1,"Errors":0}}
            """))
    }

    @Test("responses decode from what damocles-manager sends")
    func responses() throws {
        // Go's SectorStateResp tags its id `json:"Id"` (damocles v0.13.0 core/types.go); the old
        // golden had "ID", which a real manager never sends.
        let state = try parse(#"{"Id":{"Miner":1000,"Number":7},"Finalized":true,"AbortReason":"removed"}"#).decode(ReportStateResp.self)
        #expect(state.Finalized && state.AbortReason == "removed")
        let seed = try parse(#"{"ShouldWait":false,"Delay":0,"Seed":{"Seed":"AQID","Epoch":42}}"#).decode(WaitSeedResp.self)
        #expect(seed.Seed?.Seed.bytes == [1, 2, 3])
        let deals = try parse("""
            [{"Piece":{"Size":2048,"PieceCID":{"/":"baga6ea4sea"}},"DealInfo":{"DealID":5,"AllocationID":0,"PayloadSize":1900,"IsBuiltinMarket":true}}]
            """).decode([WireDeal].self)
        #expect(deals.first?.Piece.PieceCID.value == "baga6ea4sea")
        let rebuild = try parse("""
            {"Sector":{"ID":{"Miner":1000,"Number":7},"ProofType":5},"Ticket":{"Ticket":"AQID","Epoch":9},
             "Pieces":[{"ID":5,"PayloadSize":100,"Piece":{"Size":2048,"Offset":0,"Cid":{"/":"baga-old"}}}],
             "PiecesV2":null,"IsSnapUp":false,"UpgradePublic":null}
            """).decode(AllocatedRebuildSector.self)
        #expect(rebuild.deals.map(\.Piece.PieceCID.value) == ["baga-old"])
        #expect(try parse(#"{"Res":4,"Desc":"bad"}"#).decode(SubmitPreCommitResp.self).Res == .rejected)
        #expect(try parse(#"{"State":3}"#).decode(PollStateResp.self).State == .landed)
    }

    @Test("WorkerInfo is damocles' snake_case with an internally tagged thread state")
    func workerInfo() throws {
        let start = ContinuousClock.now
        let info = ThreadInfo(index: 2, location: "/nvme0/t2", plan: .sealer, jobID: "s-t01000-7", jobState: "PC1Done", jobStage: "PC2",
                              activity: .running(since: start, proc: "mock pc2"), lastError: nil)
        let encoded = try json(WorkerInfo(info, now: start + .seconds(65)))
        #expect(encoded == (try parse("""
            {"location":"/nvme0/t2","plan":"sealer","job_id":"s-t01000-7","index":2,
             "thread_state":{"state":"Running","elapsed":65,"proc":"mock pc2"},"job_state":"PC1Done","job_stage":"PC2","last_error":null}
            """)))
    }
}
