import Foundation
import TestSupport
import Testing
import ProofsFFI
import Scheduler
@testable import Actors

@Suite("Daemon in process")
struct DaemonTests {
    @Test("starts on an ephemeral port, seals with the embedded manager, answers WorkerList, stops within the bound")
    func startStop() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var options = DaemonOptions(
            workerName: "t", threads: (0..<3).map { fastSettings($0, dir.path + "/t\($0)") }, manager: .embedded(.init()),
            prover: .init(durations: [.pc1: .milliseconds(2)]), stageLimits: [.pc1: 1], rpcPort: 0,
            pingInterval: .milliseconds(20), shutdownTimeout: .seconds(5))
        options.rpcToken = "tok"
        let daemon = Daemon(options: options, log: quietLog)
        let port = try await daemon.start()
        let client = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/"),
                                   headers: [("Authorization", "Bearer tok")], timeout: .seconds(60))
        let infos = try await client.call("VenusWorker.WorkerList", []).decode([WorkerInfo].self)
        #expect(infos.map(\.index) == [0, 1, 2])
        let manager = try #require(daemon.manager as? MockManager)
        try await eventually("sectors sealed and a ping received") {
            let sealed = await manager.sectors.values.filter { $0.finalized > 0 }.count
            let pinged = await manager.pings.count
            return sealed >= 3 && pinged > 0
        }
        let ping = try #require(await manager.pings.last)
        #expect(ping.Summary.Threads == 3)
        #expect(ping.Dest == "127.0.0.1:\(port)")
        let unauthorized = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/"), timeout: .seconds(60))
        await #expect(throws: JSONRPCClientError.self) { _ = try await unauthorized.call("VenusWorker.WorkerList", []) }
        let start = ContinuousClock.now
        #expect(await daemon.stop())
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("a port already in use is a clear startup error naming the address")
    func portInUse() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let first = Daemon(options: DaemonOptions(workerName: "a", threads: [], manager: .embedded(.init()), rpcPort: 0), log: quietLog)
        let port = try await first.start()
        let second = Daemon(options: DaemonOptions(workerName: "b", threads: [], manager: .embedded(.init()), rpcPort: port), log: quietLog)
        do {
            _ = try await second.start()
            Issue.record("the second daemon bound a busy port")
        } catch {
            #expect(error.description.contains("127.0.0.1:\(port)"), "\(error)")
        }
        _ = await second.stop()
        _ = await first.stop()
    }
}

@Suite("Local address")
struct LocalAddressTests {
    @Test("the address toward loopback is loopback; an unresolvable host gives nil")
    func loopback() {
        #expect(LocalAddress.toward(host: "127.0.0.1", port: 1789) == "127.0.0.1")
        #expect(LocalAddress.toward(host: "no-such-host.invalid", port: 1789) == nil)
    }
}

@Suite("Daemon startup checks")
struct DaemonStartupTests {
    @Test("a persist store the manager does not know stops the start, naming the store")
    func unknownStore() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let rpc = JSONRPCServer(methods: ["Venus.StoreBasicInfo": { _ async throws(JSONRPCError) in .null }])
        let manager = HTTPServer(host: "127.0.0.1", port: 0) { await rpc.handle($0) }
        let port = try manager.start()
        defer { Task { await manager.shutdown() } }
        var settings = fastSettings(0, dir.path + "/t0")
        settings.persistStores = ["persist-x"]
        let daemon = Daemon(options: DaemonOptions(
            workerName: "t", threads: [settings], manager: .remote(HTTPEndpoint(host: "127.0.0.1", port: port, path: "/rpc/v0"), headers: []),
            rpcPort: 0), log: quietLog)
        do {
            _ = try await daemon.start()
            Issue.record("started with an unknown persist store")
            _ = await daemon.stop()
        } catch {
            #expect(error.description.contains("persist store \"persist-x\""), "\(error)")
        }
    }

    @Test("a persist store whose directory is missing (an unmounted disk) stops the start with a remote manager; the embedded demo creates it")
    func missingStoreDirectory() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var settings = fastSettings(0, dir.path + "/t0")
        settings.storeLocations = ["persist-a": dir.path + "/not-mounted"]
        let remote = Daemon(options: DaemonOptions(
            workerName: "t", threads: [settings], manager: .remote(HTTPEndpoint(host: "127.0.0.1", port: 9, path: "/rpc/v0"), headers: []),
            rpcPort: 0), log: quietLog)
        do {
            _ = try await remote.start()
            Issue.record("started with a missing store directory")
            _ = await remote.stop()
        } catch {
            #expect(error.description.contains("\(dir.path)/not-mounted is not a directory"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/not-mounted"), "never created for a real manager")

        let demo = Daemon(options: DaemonOptions(workerName: "t", threads: [settings], manager: .embedded(.init()), rpcPort: 0), log: quietLog)
        _ = try await demo.start()
        #expect(FileManager.default.fileExists(atPath: dir.path + "/not-mounted"))
        _ = await demo.stop()
    }
}
