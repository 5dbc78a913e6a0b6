import Foundation
import Synchronization
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

// Contract with damocles-manager as released in ipfs-force-community/damocles v0.13.0
// (commit f3756a21e5c7375a6c55ac4de323fa7aaf193532). The table below is transcribed from
// `damocles-manager/core/api.go` (SealerAPI, WorkerWdPoStAPI), `core/types.go`,
// `core/types_wdpost.go`, `core/worker.go` and `pkg/extproc/stage/ext_window_post.go`;
// the error text from go-jsonrpc as the manager pins it (ipfs-force-community/go-jsonrpc
// v0.1.9, `handler.go`). Facts only; none of that code is reproduced.

/// How Go's encoding/json writes a value of one Go type.
indirect enum GoShape: Sendable {
    /// Any integer type, including `abi.ActorID`, `abi.RegisteredSealProof`, epochs.
    case int
    case string
    case bool
    /// `[]byte` / `abi.Randomness`: a base64 string.
    case bytes
    /// `[32]byte`: an array of exactly 32 numbers.
    case bytes32
    /// `cid.Cid`: `{"/": "..."}`.
    case cid
    case array(GoShape)
    /// A struct: its JSON field names (Go name or json tag) and their shapes.
    case object([String: GoShape])

    static let sectorID: GoShape = .object(["Miner": .int, "Number": .int])
    static let allocateSectorSpec: GoShape = .object(["AllowedMiners": .array(.int), "AllowedProofTypes": .array(.int)])
    static let allocatedSector: GoShape = .object(["ID": sectorID, "ProofType": .int])
    static let acquireDealsSpec: GoShape = .object(["MaxDeals": .int, "MinUsedSpace": .int])
    static let ticket: GoShape = .object(["Ticket": .bytes, "Epoch": .int])
}

/// One Go method of the manager's `Venus` namespace as v0.13.0 declares it.
struct GoMethod: Sendable, CustomTestStringConvertible {
    /// Go method name; the wire name is `Venus.` + this.
    var name: String
    /// Shapes of the parameters after the context, in order.
    var params: [GoShape]
    /// A reply as the Go manager encodes it (every field of the Go result type present).
    var sampleResult: String

    var testDescription: String { name }
}

enum DamoclesV0_13 {
    static let release = "v0.13.0"
    static let commit = "f3756a21e5c7375a6c55ac4de323fa7aaf193532"

    static let commR32 = "[" + (1...32).map(String.init).joined(separator: ",") + "]"
    static let allocated = #"{"ID":{"Miner":1000,"Number":7},"ProofType":8}"#
    static let ticket = #"{"Ticket":"AQID","Epoch":100}"#
    static let publicInfo = #"{"CommR":\#(commR32),"SealedCID":{"/":"bagboea4b5abc"},"Activation":10,"Expiration":1000}"#
    /// `SectorPieceV2`: `abi.PieceInfo` and `*DealInfoV2`, which embeds venus' market DealInfoV2.
    static let pieceV2 = """
        {"Piece":{"Size":2048,"PieceCID":{"/":"baga6ea4seaq"}},
         "DealInfo":{"DealID":5,"PublishCid":{"/":"bafy2bzace"},"AllocationID":0,"PieceCID":{"/":"baga6ea4seaq"},"PieceSize":2048,
                     "Client":"f01001","Provider":"f01000","Offset":0,"Length":2048,"PayloadSize":1900,"StartEpoch":10,"EndEpoch":100,
                     "IsBuiltinMarket":true,"IsCompatible":false}}
        """
    static let pingRecord = """
        {"Info":{"Name":"w","Dest":"10.0.0.5:17890","Version":"v","Summary":{"Threads":2,"Empty":1,"Paused":1,"Running":0,"Waiting":0,"Errors":0}},
         "LastPing":1700000000}
        """
    static let pingRecordShape: GoShape = .object([
        "Info": .object(["Name": .string, "Dest": .string, "Version": .string,
                         "Summary": .object(["Threads": .int, "Empty": .int, "Paused": .int, "Running": .int, "Waiting": .int, "Errors": .int])]),
        "LastPing": .int,
    ])
    static let storeInfo = #"{"Name":"store-a","Path":"/mnt/a","Strict":false,"ReadOnly":false,"Weight":1,"Meta":{"k":"v"}}"#

    /// Every `Venus.*` method our worker (and `sealer util worker`) calls, with the parameters
    /// v0.13.0 declares.
    static let methods: [GoMethod] = [
        GoMethod(name: "AllocateSector", params: [GoShape.allocateSectorSpec], sampleResult: allocated),
        GoMethod(name: "AcquireDeals", params: [GoShape.sectorID, GoShape.acquireDealsSpec], sampleResult: "[\(pieceV2)]"),
        GoMethod(name: "AssignTicket", params: [GoShape.sectorID], sampleResult: ticket),
        GoMethod(name: "SubmitPreCommit",
                 params: [GoShape.allocatedSector, .object(["CommR": .bytes32, "CommD": .bytes32, "Ticket": GoShape.ticket]), .bool],
                 sampleResult: #"{"Res":1,"Desc":null}"#),
        GoMethod(name: "PollPreCommitState", params: [GoShape.sectorID], sampleResult: #"{"State":3,"Desc":null}"#),
        GoMethod(name: "SubmitPersistedEx", params: [GoShape.sectorID, .string, .bool], sampleResult: "true"),
        GoMethod(name: "WaitSeed", params: [GoShape.sectorID, .int],
                 sampleResult: #"{"ShouldWait":false,"Delay":0,"Seed":{"Seed":"AQID","Epoch":200}}"#),
        GoMethod(name: "SubmitProof", params: [GoShape.sectorID, .object(["Proof": .bytes]), .bool], sampleResult: #"{"Res":2,"Desc":"dup"}"#),
        GoMethod(name: "PollProofState", params: [GoShape.sectorID], sampleResult: #"{"State":1,"Desc":null}"#),
        GoMethod(name: "ReportState",
                 params: [GoShape.sectorID,
                          .object(["Worker": .object(["Instance": .string, "Location": .string]),
                                   "StateChange": .object(["Prev": .string, "Next": .string, "Event": .string]),
                                   "Failure": .object(["Level": .string, "Desc": .string])])],
                 sampleResult: #"{"Id":{"Miner":1000,"Number":7},"Finalized":true,"AbortReason":null}"#),
        GoMethod(name: "ReportFinalized", params: [GoShape.sectorID], sampleResult: "null"),
        GoMethod(name: "ReportAborted", params: [GoShape.sectorID, .string], sampleResult: "null"),
        GoMethod(name: "AllocateSanpUpSector",
                 params: [.object(["Sector": GoShape.allocateSectorSpec, "Deals": GoShape.acquireDealsSpec])],
                 sampleResult: #"{"Sector":\#(allocated),"Pieces":[\#(pieceV2)],"Public":\#(publicInfo),"Private":{"AccessInstance":"store-a"}}"#),
        GoMethod(name: "SubmitSnapUpProof",
                 params: [GoShape.sectorID,
                          .object(["CommR": .bytes32, "CommD": .bytes32, "AccessInstance": .string, "Pieces": .array(.cid), "Proof": .bytes])],
                 sampleResult: #"{"Res":1,"Desc":null}"#),
        GoMethod(name: "AllocateRebuildSector", params: [GoShape.allocateSectorSpec],
                 sampleResult: """
                     {"Sector":\(allocated),"Ticket":\(ticket),"Pieces":null,"PiecesV2":[\(pieceV2)],"IsSnapUp":true,"UpgradePublic":\(publicInfo)}
                     """),
        GoMethod(name: "WorkerPing",
                 params: [.object(["Name": .string, "Dest": .string, "Version": .string,
                                   "Summary": .object(["Threads": .int, "Empty": .int, "Paused": .int, "Running": .int, "Waiting": .int,
                                                       "Errors": .int])])],
                 sampleResult: "null"),
        // The registry `damocles-manager util worker` reads (SealerCliAPI; Go's core.WorkerPingInfo).
        GoMethod(name: "WorkerGetPingInfo", params: [.string], sampleResult: pingRecord),
        GoMethod(name: "WorkerPingInfoList", params: [], sampleResult: "[\(pingRecord)]"),
        GoMethod(name: "WorkerPingInfoRemove", params: [.string], sampleResult: "null"),
        GoMethod(name: "StoreReserveSpace", params: [GoShape.sectorID, .int, .array(.string)], sampleResult: storeInfo),
        GoMethod(name: "StoreBasicInfo", params: [.string], sampleResult: storeInfo),
        GoMethod(name: "AllocateUnsealSector", params: [GoShape.allocateSectorSpec],
                 sampleResult: """
                     {"Sector":\(allocated),"PieceCid":{"/":"baga6ea4seaq"},"Offset":0,"Size":2032,"PrivateInfo":{"AccessInstance":"store-a"},
                      "Ticket":\(ticket),"CommD":\(commR32),"Dest":["http://market/upload"],"State":"","ErrorInfo":""}
                     """),
        GoMethod(name: "AchieveUnsealSector", params: [GoShape.sectorID, .cid, .string], sampleResult: "null"),
        GoMethod(name: "AcquireUnsealDest", params: [GoShape.sectorID, .cid], sampleResult: #"["http://market/upload"]"#),
        GoMethod(name: "WdPoStHeartbeatJobs", params: [.array(.string), .string], sampleResult: "null"),
        GoMethod(name: "WdPoStAllocateJobs",
                 params: [.object(["AllowedMiners": .array(.int), "AllowedProofTypes": .array(.string)]), .int, .string],
                 sampleResult: """
                     [{"Id":"job-1","Input":{"Sectors":[{"SectorId":7,"CommR":\(commR32),"Upgrade":false,
                       "Accesses":{"SealedFile":"store-a","CacheDir":"store-a"}}],"MinerId":1000,"ProofType":"StackedDrgWindow32GiBV1_2","Seed":\(commR32)}}]
                     """),
        GoMethod(name: "WdPoStFinishJob", params: [.string, .object(["proofs": .array(.bytes), "faults": .array(.int)]), .string],
                 sampleResult: "null"),
    ]

    static func method(_ name: String) -> GoMethod? { methods.first { $0.name == name } }
}

/// Sample arguments with every optional field set, so each struct parameter encodes all its fields.
enum Samples {
    static let sector = SectorID(miner: 1000, number: 7)
    static let spec = AllocateSectorSpec(AllowedMiners: [1000], AllowedProofTypes: [8, 13])
    static let deals = AcquireDealsSpec(MaxDeals: 2, MinUsedSpace: 1024)
    static let comm = Array(1...32).map(UInt8.init)
    static let ticket = WireTicket(Ticket: Blob([1, 2, 3]), Epoch: 100)
    static let piece = WireCID("baga6ea4seaq")

    /// Calls the client's method for `name` and checks one decoded field of the sample reply.
    static func invoke(_ name: String, _ m: RemoteSectorManager) async throws {
        switch name {
        case "AllocateSector":
            #expect(try await m.allocateSector(spec, niporep: false)?.ProofType == SealProof(sectorSize: .gib32))
        case "AcquireDeals":
            #expect(try await m.acquireDeals(sector, deals)?.first?.DealInfo?.PayloadSize == 1900)
        case "AssignTicket":
            #expect(try await m.assignTicket(sector).Ticket.bytes == [1, 2, 3])
        case "SubmitPreCommit":
            let info = PreCommitOnChainInfo(CommR: comm, CommD: comm, Ticket: ticket)
            #expect(try await m.submitPreCommit(AllocatedSector(ID: sector, ProofType: SealProof(sectorSize: .gib32)), info, reset: true).Res == .accepted)
        case "PollPreCommitState":
            #expect(try await m.pollPreCommitState(sector).State == .landed)
        case "SubmitPersistedEx":
            #expect(try await m.submitPersistedEx(sector, instance: "store-a", isUpgrade: false))
        case "WaitSeed":
            #expect(try await m.waitSeed(sector, proofType: SealProof(sectorSize: .gib32)).Seed?.Epoch == 200)
        case "SubmitProof":
            #expect(try await m.submitProof(sector, ProofOnChainInfo(Proof: Blob([9])), reset: false) == SubmitPreCommitResp(Res: .duplicateSubmit, Desc: "dup"))
        case "PollProofState":
            #expect(try await m.pollProofState(sector).State == .pending)
        case "ReportState":
            let req = ReportStateReq(instance: "w1", location: "/t0", prev: "A", next: "B", event: "E", failure: .temporary("x"))
            #expect(try await m.reportState(sector, req) == ReportStateResp(ID: sector, Finalized: true))
        case "ReportFinalized":
            try await m.reportFinalized(sector)
        case "ReportAborted":
            try await m.reportAborted(sector, reason: "gone")
        case "AllocateSanpUpSector":
            let snap = try await m.allocateSnapUpSector(SnapUpAllocateSpec(Sector: spec, Deals: deals))
            #expect(snap?.Public.CommR == comm && snap?.Private.AccessInstance == "store-a")
        case "SubmitSnapUpProof":
            let info = SnapUpOnChainInfo(CommR: comm, CommD: comm, AccessInstance: "store-a", Pieces: [piece], Proof: Blob([7]))
            #expect(try await m.submitSnapUpProof(sector, info).Res == .accepted)
        case "AllocateRebuildSector":
            let rebuild = try await m.allocateRebuildSector(spec)
            #expect(rebuild?.deals.first?.DealInfo?.DealID == 5 && rebuild?.UpgradePublic?.CommR == comm)
        case "WorkerPing":
            try await m.workerPing(WorkerPingInfo(Name: "w", Dest: "10.0.0.5:17890", Version: "v",
                                                  Summary: .init(Threads: 1, Empty: 1, Paused: 0, Running: 0, Waiting: 0, Errors: 0)))
        case "WorkerGetPingInfo":
            let record = try await m.workerGetPingInfo("w")
            #expect(record?.LastPing == 1_700_000_000 && record?.Info.Summary.Paused == 1)
        case "WorkerPingInfoList":
            #expect(try await m.workerPingInfoList().map(\.Info.Dest) == ["10.0.0.5:17890"])
        case "WorkerPingInfoRemove":
            try await m.workerPingInfoRemove("w")
        case "StoreReserveSpace":
            #expect(try await m.storeReserveSpace(sector, size: 1 << 30, candidates: ["store-a"]) == StoreInfo(Name: "store-a", Path: "/mnt/a"))
        case "StoreBasicInfo":
            #expect(try await m.storeBasicInfo("store-a")?.Path == "/mnt/a")
        case "AllocateUnsealSector":
            let unseal = try await m.allocateUnsealSector(spec)
            #expect(unseal?.Size == 2032 && unseal?.CommD == comm)
        case "AchieveUnsealSector":
            try await m.achieveUnsealSector(sector, piece: piece, error: "")
        case "AcquireUnsealDest":
            #expect(try await m.acquireUnsealDest(sector, piece: piece) == ["http://market/upload"])
        case "WdPoStHeartbeatJobs":
            try await m.wdPoStHeartbeatJobs(["job-1"], worker: "w")
        case "WdPoStAllocateJobs":
            let jobs = try await m.wdPoStAllocateJobs(AllocatePoStSpec(AllowedMiners: [1000], AllowedProofTypes: ["StackedDrgWindow32GiBV1_2"]),
                                                      count: 1, worker: "w")
            #expect(try jobs.first?.Input.postProof.sectorSize == .gib32)
            #expect(jobs.first?.Input.Seed == comm)
        case "WdPoStFinishJob":
            try await m.wdPoStFinishJob("job-1", output: WindowPoStOutput(proofs: [Blob([1])], faults: [7]), errorReason: "")
        default:
            Issue.record("no invocation for \(name)")
        }
    }
}

/// A stand-in manager on 127.0.0.1: records each request and answers with a canned reply.
final class RecordingManager: Sendable {
    struct Call: Sendable {
        var method: String
        var params: JSONValue?
    }

    final class Log: Sendable {
        let calls = Mutex<[Call]>([])
    }

    private let log: Log
    let server: HTTPServer

    /// `reply(method, id)` builds the HTTP response for one call.
    init(reply: @escaping @Sendable (String, JSONValue) -> HTTPResponse) {
        let log = Log()
        self.log = log
        server = HTTPServer(host: "127.0.0.1", port: 0) { request in
            let document = try? JSONValue.parse(request.body)
            let method = document?["method"]?.stringValue ?? ""
            log.calls.withLock { $0.append(Call(method: method, params: document?["params"])) }
            return reply(method, document?["id"] ?? .null)
        }
    }

    var recorded: [Call] { log.calls.withLock { $0 } }

    /// A manager whose `AllocateSector` takes (spec, niporep), as damocles' NI-PoRep branch does.
    static func twoParameterAllocate(result: JSONValue) -> RecordingManager {
        let log = Log()
        return RecordingManager(log: log) { request in
            let document = try? JSONValue.parse(request.body)
            let params = document?["params"]
            log.calls.withLock { $0.append(Call(method: document?["method"]?.stringValue ?? "", params: params)) }
            let id = document?["id"] ?? .null
            let got = params?.arrayValue?.count ?? 0
            guard got == 2 else {
                return .json(500, .object(["jsonrpc": "2.0", "id": id, "error": .object([
                    "code": .int(-32602), "message": .string("(error code -32602) wrong param count (method 'Venus.AllocateSector'): \(got) != 2")])]))
            }
            return .json(200, .object(["jsonrpc": "2.0", "id": id, "result": result]))
        }
    }

    private init(log: Log, handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.log = log
        server = HTTPServer(host: "127.0.0.1", port: 0, handler: handler)
    }

    func client() throws -> RemoteSectorManager {
        RemoteSectorManager(endpoint: HTTPEndpoint(host: "127.0.0.1", port: try server.start(), path: "/rpc/v0"), timeout: .seconds(60))
    }
}

@Suite("damocles-manager v0.13.0 contract")
struct ManagerContractTests {
    /// Where `value` departs from `shape`; empty when it matches.
    static func mismatches(_ value: JSONValue, _ shape: GoShape, at path: String) -> [String] {
        switch (shape, value) {
        case (.int, .int), (.string, .string), (.bool, .bool): return []
        case (.bytes, .string(let text)):
            return Data(base64Encoded: text) == nil ? ["\(path): \(text) is not base64"] : []
        case (.bytes32, .array(let items)):
            let numbers = items.allSatisfy { if case .int(let n) = $0 { return (0...255).contains(n) } else { return false } }
            return items.count == 32 && numbers ? [] : ["\(path): [32]byte needs 32 numbers 0-255, got \(value)"]
        case (.cid, _): return mismatches(value, .object(["/": .string]), at: path)
        case (.array(let element), .array(let items)):
            return items.enumerated().flatMap { mismatches($1, element, at: "\(path)[\($0)]") }
        case (.object(let fields), .object(let members)):
            var problems: [String] = []
            let sent = Set(members.keys), declared = Set(fields.keys)
            if sent != declared {
                problems.append("\(path): fields \(sent.sorted()) but Go declares \(declared.sorted())")
            }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let field = fields[key] { problems += mismatches(member, field, at: "\(path).\(key)") }
            }
            return problems
        default:
            return ["\(path): \(value) is not a Go \(shape)"]
        }
    }

    @Test("each call sends Venus.<Go method> with the release's parameter count and Go field names, and decodes the Go reply",
          arguments: DamoclesV0_13.methods)
    func clientSpeaksTheRelease(_ method: GoMethod) async throws {
        let reply = try JSONValue.parse(method.sampleResult)
        let double = RecordingManager { _, id in .json(200, .object(["jsonrpc": "2.0", "id": id, "result": reply])) }
        let client = try double.client()
        try await Samples.invoke(method.name, client)
        await double.server.shutdown()

        let calls = double.recorded
        try #require(calls.count == 1, "\(calls.map(\.method))")
        #expect(calls[0].method == "Venus." + method.name)
        guard case .array(let params)? = calls[0].params else {
            Issue.record("params must be a positional array, got \(String(describing: calls[0].params))")
            return
        }
        #expect(params.count == method.params.count, "Venus.\(method.name) takes \(method.params.count) parameters in v0.13.0")
        for (index, (param, shape)) in zip(params, method.params).enumerated() {
            let problems = Self.mismatches(param, shape, at: "params[\(index)]")
            #expect(problems.isEmpty, "Venus.\(method.name): \(problems)")
        }
    }

    @Test("the mock manager serves exactly the release's methods our client calls")
    func mockServesTheTable() {
        let served = Set(ManagerRPCServer.methods(MockManager()).keys)
        #expect(served == Set(DamoclesV0_13.methods.map { "Venus." + $0.name }))
    }

    @Test("the mock manager refuses a wrong parameter count with go-jsonrpc's error", arguments: DamoclesV0_13.methods)
    func mockRefusesWrongCount(_ method: GoMethod) async throws {
        let handler = try #require(ManagerRPCServer.methods(MockManager())["Venus." + method.name])
        let want = method.params.count
        for got in [want - 1, want + 1] where got >= 0 {
            do {
                _ = try await handler(Array(repeating: .null, count: got))
                Issue.record("Venus.\(method.name) accepted \(got) parameters")
            } catch {
                #expect(error.code == -32602)
                #expect(error.message == "(error code -32602) wrong param count (method 'Venus.\(method.name)'): \(got) != \(want)")
            }
        }
    }

    @Test("go-jsonrpc's refusal, as the real manager sends it (HTTP 500), reaches the caller as that rpc error")
    func clientSurfacesGoJSONRPCRefusal() async throws {
        // What v0.13.0 answers a worker that sends AllocateSector([spec, niporep]).
        let message = "(error code -32602) wrong param count (method 'Venus.AllocateSector'): 2 != 1"
        let double = RecordingManager { _, id in
            .json(500, .object(["jsonrpc": "2.0", "id": id, "error": .object(["code": .int(-32602), "message": .string(message)])]))
        }
        let client = try double.client()
        do {
            _ = try await client.allocateSector(Samples.spec)
            Issue.record("a refused call returned")
        } catch {
            #expect(error == .rpc(method: "AllocateSector", code: -32602, message: message))
            #expect(error.failure.level == .temporary)
        }
        await double.server.shutdown()
        #expect(ManagerRPCServer.wrongParamCount(method: "Venus.AllocateSector", got: 2, want: 1) == JSONRPCError(code: -32602, message: message))
    }

    @Test("a manager built from damocles' NI-PoRep branch (AllocateSector(spec, niporep)) is met with the two-parameter call, learnt once")
    func niporepBranchManager() async throws {
        let sector = try JSONValue(encoding: AllocatedSector(ID: SectorID(miner: 1000, number: 1), ProofType: SealProof.interactive(for: .kib2)[0]))
        // A double that answers only the branch's two-parameter form.
        let branch = RecordingManager.twoParameterAllocate(result: sector)
        let client = try branch.client()
        #expect(try await client.allocateSector(Samples.spec)?.ID == SectorID(miner: 1000, number: 1))
        #expect(try await client.allocateSector(Samples.spec) != nil)
        let counts = branch.recorded.map { $0.params?.arrayValue?.count ?? -1 }
        #expect(counts == [1, 2, 2], "refused once, then the learnt shape: \(counts)")
        #expect(branch.recorded.last?.params?.arrayValue?.last == .bool(false), "never asks for NI-PoRep")
        await branch.server.shutdown()
    }

    @Test("the mock manager has no AllocateSectorsBatch, like v0.13.0 (its worker declares one the manager never registered)")
    func noBatchMethod() async throws {
        let rpc = JSONRPCServer(methods: ManagerRPCServer.methods(MockManager()))
        let body = #"{"jsonrpc":"2.0","id":1,"method":"Venus.AllocateSectorsBatch","params":[{},1]}"#
        let response = await rpc.handle(HTTPRequest(method: "POST", target: "/rpc/v0", headers: [], body: Array(body.utf8)))
        let error = try JSONValue.parse(response.body)["error"]
        #expect(error?["code"] == .int(-32601))
    }

    @Test("the mock keeps damocles-manager's registry: the last ping per name, stamped, listed by name, removable")
    func mockRegistry() async throws {
        final class UnixClock: Sendable { let now = Mutex<Int64>(1_700_000_000) }
        let clock = UnixClock()
        let mock = MockManager(unixNow: { clock.now.withLock { $0 } })
        let rpc = ManagerRPCServer.methods(mock)
        func call(_ method: String, _ params: [JSONValue]) async throws -> JSONValue {
            guard let handler = rpc["Venus." + method] else { throw JSONRPCError.methodNotFound }
            return try await handler(params)
        }
        func ping(_ name: String, dest: String, paused: Int) throws -> JSONValue {
            try JSONValue(encoding: WorkerPingInfo(Name: name, Dest: dest, Version: "v1",
                                                   Summary: .init(Threads: 2, Empty: 2, Paused: paused, Running: 0, Waiting: 0, Errors: 0)))
        }
        _ = try await call("WorkerPing", [try ping("b", dest: "10.0.0.2:17890", paused: 0)])
        _ = try await call("WorkerPing", [try ping("a", dest: "10.0.0.1:17890", paused: 0)])
        clock.now.withLock { $0 += 30 }
        _ = try await call("WorkerPing", [try ping("a", dest: "10.0.0.1:17891", paused: 1)])

        let list = try await call("WorkerPingInfoList", []).decode([WorkerPingRecord].self)
        #expect(list.map(\.Info.Name) == ["a", "b"])
        #expect(list[0].Info.Dest == "10.0.0.1:17891" && list[0].Info.Summary.Paused == 1 && list[0].LastPing == 1_700_000_030)
        #expect(list[1].LastPing == 1_700_000_000)
        let one = try await call("WorkerGetPingInfo", [.string("b")])
        #expect(Self.mismatches(one, DamoclesV0_13.pingRecordShape, at: "result").isEmpty)
        let nobody = try await call("WorkerGetPingInfo", [.string("nobody")])
        #expect(nobody == .null)

        let removed = try await call("WorkerPingInfoRemove", [.string("b")])
        #expect(removed == .null)
        let again = try await call("WorkerPingInfoRemove", [.string("b")])
        #expect(again == .null, "removing a missing name is not an error, as in damocles")
        let left = try await call("WorkerPingInfoList", []).decode([WorkerPingRecord].self)
        #expect(left.map(\.Info.Name) == ["a"])

        do {
            _ = try await call("WorkerPing", [try ping("", dest: "10.0.0.3:1", paused: 0)])
            Issue.record("a nameless ping was accepted")
        } catch let error as JSONRPCError {
            #expect(error.code == 1 && error.message == "worker name is required")
        }
    }

    @Test("NI-PoRep allocation is unsupported by the release and pauses the thread; false sends the one-parameter call")
    func niporepFlag() async throws {
        let double = RecordingManager { _, id in .json(200, .object(["jsonrpc": "2.0", "id": id, "result": .null])) }
        let client = try double.client()
        do {
            _ = try await client.allocateSector(Samples.spec, niporep: true)
            Issue.record("NI-PoRep allocation went through")
        } catch {
            #expect(error.failure.level == .permanent)
        }
        #expect(try await client.allocateSector(Samples.spec, niporep: false) == nil)
        await double.server.shutdown()
        #expect(double.recorded.map(\.method) == ["Venus.AllocateSector"])
        #expect(double.recorded.first?.params?[1] == nil)
    }

    @Test("a batch allocation is one AllocateSector per sector and stops when the manager has none")
    func batchAllocation() async throws {
        let mock = MockManager()
        let spec = AllocateSectorSpec(AllowedMiners: [MockManager.Options().miner], AllowedProofTypes: nil)
        let sectors = try await mock.allocateSectorsBatch(spec, niporep: false, count: 3)
        #expect(sectors.map(\.ID.number) == [1, 2, 3])
        let none = try await mock.allocateSectorsBatch(AllocateSectorSpec(AllowedMiners: [42], AllowedProofTypes: nil), niporep: false, count: 3)
        #expect(none.isEmpty)
    }

    @Test("the mock hands out window PoSt jobs by damocles' proof type names, and a job's name gives its sector size")
    func mockPoStFilter() async throws {
        let mock = MockManager()
        let spec = AllocateSectorSpec(AllowedMiners: nil, AllowedProofTypes: nil)
        let sector = try #require(try await mock.allocateSector(spec))
        try await mock.reportFinalized(sector.ID)
        let other = AllocatePoStSpec(AllowedMiners: nil, AllowedProofTypes: ["StackedDrgWindow32GiBV1_2"])
        #expect(try await mock.wdPoStAllocateJobs(other, count: 1, worker: "w").isEmpty)
        let own = AllocatePoStSpec(AllowedMiners: [MockManager.Options().miner], AllowedProofTypes: ["StackedDrgWindow2KiBV1_2"])
        let jobs = try await mock.wdPoStAllocateJobs(own, count: 1, worker: "w")
        #expect(try jobs.map { try $0.Input.postProof.sectorSize } == [.kib2])
    }

    @Test("the interactive sealer plan asks only for interactive proof types")
    func interactiveSpec() {
        var settings = ThreadSettings(index: 0, location: "/t0")
        settings.sealing.allowedSizes = [.kib2, .gib32]
        let ids = settings.sectorSpec.AllowedProofTypes ?? []
        #expect(ids == [5, 10, 8, 13])
        #expect(ids.allSatisfy { SealProof(id: $0)?.isInteractive == true })
    }

    @Test("a window PoSt job decodes its proof type whether the manager sends the name or the registered id")
    func postJobProofType() throws {
        let named = try JSONValue.parse("""
            {"Sectors":[],"MinerId":1000,"ProofType":"StackedDrgWindow64GiBV1_2","Seed":[]}
            """).decode(WdPoStJob.Input.self)
        #expect(try named.postProof == PoStProof(sectorSize: .gib64))
        let numbered = try JSONValue.parse(#"{"Sectors":[],"MinerId":1000,"ProofType":13,"Seed":[]}"#).decode(WdPoStJob.Input.self)
        #expect(try numbered.postProof.sectorSize == .gib32)
        let unknown = try JSONValue.parse(#"{"Sectors":[],"MinerId":1000,"ProofType":"Unknown RegisteredPoStProof 99","Seed":[]}"#)
            .decode(WdPoStJob.Input.self)
        #expect(throws: PoStProofError(given: "Unknown RegisteredPoStProof 99")) { try unknown.postProof }
    }
}
