import Foundation
import TestSupport
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

@Suite("Management API over HTTP")
struct ManagementAPITests {
    /// A supervisor with two threads, its management server on an ephemeral port, and a client.
    func withServer(_ body: (JSONRPCClient, Supervisor, MockManager) async throws -> Void) async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let gate = StageGate(limit: 1)
        try await gate.acquire() // PC1 is busy: threads queue for it, where a pause must still land
        let manager = MockManager()
        let threads = (0..<2).map {
            SealingThread(settings: fastSettings($0, dir.path + "/t\($0)"), manager: manager, prover: fastProver(),
                          gates: [.pc1: gate], log: quietLog)
        }
        let supervisor = Supervisor(threads: threads, manager: manager, log: quietLog)
        await supervisor.start()
        let rpc = JSONRPCServer(methods: ManagementAPI.methods(supervisor: supervisor))
        let server = HTTPServer(host: "127.0.0.1", port: 0) { await rpc.handle($0) }
        let port = try server.start()
        let client = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/rpc/v0"), timeout: .seconds(60))
        do {
            try await body(client, supervisor, manager)
        } catch {
            _ = await supervisor.shutdown(timeout: .seconds(5))
            await server.shutdown()
            throw error
        }
        _ = await supervisor.shutdown(timeout: .seconds(5))
        await server.shutdown()
    }

    func list(_ client: JSONRPCClient) async throws -> [WorkerInfo] {
        try await client.call("VenusWorker.WorkerList", []).decode([WorkerInfo].self)
    }

    @Test("WorkerList has damocles' snake_case fields; pause lands on a waiting thread; resume validates")
    func pauseResume() async throws {
        try await withServer { client, _, _ in
            try await eventually("both waiting for pc1") { try await list(client).allSatisfy { $0.thread_state.state == "Waiting" } }
            let raw = try await client.call("VenusWorker.WorkerList", [])
            let first = try #require(raw.arrayValue?.first?.objectValue)
            for key in ["location", "plan", "job_id", "index", "thread_state", "job_state", "job_stage"] {
                #expect(first[key] != nil, "WorkerInfo lacks \(key)")
            }
            #expect(try await list(client)[0].thread_state.waiting_for?.contains("pc1") == true)

            #expect(try await client.call("VenusWorker.WorkerPause", [.int(0)]) == .bool(true))
            try await eventually("thread 0 paused") { try await list(client)[0].thread_state.state == "Paused" }
            #expect(try await list(client)[1].thread_state.state == "Waiting", "only thread 0 paused")

            do {
                _ = try await client.call("VenusWorker.WorkerResume", [.int(0), .string("SnapDone")])
                Issue.record("SnapDone is not a sealer state")
            } catch let error as JSONRPCClientError {
                guard case let .rpc(_, rpc) = error else { throw error }
                #expect(rpc.code == JSONRPCError.invalidParams.code)
                #expect(rpc.message.contains("valid states: Empty, Allocated"))
            }
            do {
                _ = try await client.call("VenusWorker.WorkerPause", [.int(5)])
                Issue.record("no thread 5")
            } catch let error as JSONRPCClientError {
                guard case let .rpc(_, rpc) = error else { throw error }
                #expect(rpc.message.contains("worker #5 not found"))
            }
            #expect(try await client.call("VenusWorker.WorkerResume", [.int(0), .null]) == .bool(true))
            try await eventually("thread 0 back in the queue") { try await list(client)[0].thread_state.state == "Waiting" }
            let version = try await client.call("VenusWorker.WorkerVersion", [])
            #expect(version.stringValue?.hasPrefix("v0.1.0-") == true)
        }
    }

    @Test("bad params are JSON-RPC invalid-params errors, not crashes")
    func badParams() async throws {
        try await withServer { client, _, _ in
            for (method, params) in [("VenusWorker.WorkerPause", [JSONValue.string("x")]), ("VenusWorker.WorkerResume", []),
                                     ("VenusWorker.WorkerResume", [.int(0), .int(3)]), ("VenusWorker.WorkerSetEnv", [.string("A=B"), .string("x")])] {
                do {
                    _ = try await client.call(method, params)
                    Issue.record("\(method) \(params) should fail")
                } catch let error as JSONRPCClientError {
                    guard case let .rpc(_, rpc) = error else { throw error }
                    #expect(rpc.code == JSONRPCError.invalidParams.code, "\(method)")
                }
            }
        }
    }

    @Test("the mock manager served over JSON-RPC drives a thread through the wire format")
    func remoteManager() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let mock = MockManager()
        let rpc = JSONRPCServer(methods: ManagerRPCServer.methods(mock))
        let server = HTTPServer(host: "127.0.0.1", port: 0) { await rpc.handle($0) }
        let port = try server.start()
        let remote = RemoteSectorManager(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/rpc/v0"))
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: remote, prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("two sectors over the wire") { await mock.sectors.values.filter { $0.finalized > 0 }.count >= 2 }
        task.cancel()
        await task.value
        // Unknown sectors come back as 11001 and map to abort.
        do {
            _ = try await remote.assignTicket(SectorID(miner: 10000, number: 999))
            Issue.record("sector 999 is unknown")
        } catch {
            #expect(error.failure.level == .abort, "\(error)")
        }
        await server.shutdown()
        #expect(await mock.mismatchedProofs.isEmpty)
        let ledger = try #require(await mock.sectors[SectorID(miner: 10000, number: 1)])
        #expect(ledger.lastReportedState == "Finished")
    }
}
