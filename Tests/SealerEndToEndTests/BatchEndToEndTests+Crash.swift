import Foundation
import TestSupport
import Testing
import ProofsFFI
import Scheduler
@testable import Actors
#if canImport(Glibc)
import Glibc
#endif

/// kill -9 the daemon between a batch's PC1 and its PC2: the restarted daemon re-forms the batch
/// from the sector records and finishes it with the batch stages only.
@Suite("Batch sealing end to end: a crash between batch PC1 and PC2")
struct BatchCrashEndToEndTests {
    /// 16 threads in batch mode against `port`'s manager; the stock PC1/PC2/C1 take an hour (a
    /// sector sealed alone never finishes), `supra_pc2` takes `supraPC2`.
    static func config(_ dir: Scratch, port: UInt16, supraPC2: String, name: String) throws -> String {
        let box = """
        [resources.box]
        nodes = 1
        cores_per_node = 4
        memory = "16GiB"
        nvme = ["1MiB"]

        [metrics]
        enable = true
        http_listen = "127.0.0.1:0"

        """
        var text = testConfig(dir: dir.path, threads: 16, manager: "http://127.0.0.1:\(port)", extra: box)
            .replacingOccurrences(of: "[sealing]\n", with: "[sealing]\nmode = \"batch\"\nbatch_size = 16\n")
            .replacingOccurrences(of: "[proofs.mock]\n", with: "[proofs.mock]\nsupra_pc2 = \"\(supraPC2)\"\n")
        for stage in ["pc1", "pc2", "c1"] {
            text = text.replacingOccurrences(of: "\n\(stage) = \"5ms\"", with: "\n\(stage) = \"1h\"")
        }
        return try dir.write(name, text)
    }

    @Test("SIGKILL after batch PC1, before batch PC2: the restart re-forms the batch; supra_pc2 and 16 supra_c1, no stock PC2/C1; the NVMe slot is released and the pools balance")
    func killBetweenPC1AndPC2() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let manager = MockManager()
        let rpc = JSONRPCServer(methods: ManagerRPCServer.methods(manager))
        let server = HTTPServer(host: "127.0.0.1", port: 0) { request in await rpc.handle(request) }
        let port = try server.start()
        defer { Task { await server.shutdown() } }

        // First run: the batch PC2 never ends; the daemon dies while it runs.
        let first = try Child(["daemon", "-c", try Self.config(dir, port: port, supraPC2: "1h", name: "first.toml")], log: dir.path + "/first.log")
        defer { first.signal(SIGKILL) }
        try await first.waitForLog("batch 1 supra_pc1 done")
        try await first.waitForLog("batch 1 supra_pc2 runs")
        first.signal(SIGKILL)
        _ = try await first.wait()

        // Every record names the batch, with the slot its PC1 took.
        let records = try (0..<16).compactMap { try ThreadStore(location: dir.path + "/t\($0)").load() }
        #expect(records.count == 16)
        #expect(records.allSatisfy { $0.state == .pc1Done && $0.phases.batch != nil && $0.phases.batch == records[0].phases.batch })
        let membership = try #require(records.first?.phases.batch)
        #expect(membership.nvme?.nvme == [0: 352 << 10])
        let sectors = Set(membership.members.map(\.sector))
        #expect(sectors.count == 16)

        // Second run: the batch is re-formed and finished; every thread then drains.
        let second = try Child(["daemon", "-c", try Self.config(dir, port: port, supraPC2: "5ms", name: "second.toml")], log: dir.path + "/second.log")
        defer { second.signal(SIGKILL) }
        let host = "127.0.0.1:\(try await second.managementPort())"
        let drain = try await runSealer(["worker", "-H", host, "drain", "--all"])
        #expect(drain.status == 0, "\(drain.output)")
        try await second.waitForLog("batch 1 re-formed from records (\(membership.id)): 16 of 16 members live, 16 at supra_pc2 on [node 0 nvme 0 352KiB]")
        try await second.waitForLog("batch 1 supra_pc2 done")
        try await second.waitForLog("batch 1 finalized: NVMe slot released", timeout: .seconds(120))
        try await eventually("every thread drained") {
            let out = try await runSealer(["worker", "-H", host, "list", "--json"]).stdout
            return try (0..<16).allSatisfy { try threadState(out, index: $0) == "Drained" }
        }
        let ledgers = await manager.sectors
        #expect(sectors.allSatisfy { (ledgers[$0]?.finalized ?? 0) > 0 }, "every sector of the batch finalized")
        #expect(await manager.mismatchedProofs.isEmpty)

        // The pools' books: the slot is free again, nothing is held.
        let metricsText = try await second.waitForLog("metrics listening on ")
        let metricsPort = try #require(metricsText.range(of: "metrics listening on 127.0.0.1:").map { String(metricsText[$0.upperBound...].prefix(while: \.isNumber)) })
        let scraped = try await runTool(["curl", "-sf", "http://127.0.0.1:\(metricsPort)/metrics"])
        #expect(scraped.status == 0)
        let nvme = scraped.output.split(separator: "\n").filter { $0.hasPrefix("sealer_pool_nvme_bytes{") }
        #expect(nvme.contains { $0.contains("kind=\"leased\"") && $0.hasSuffix(" 0") }, "\(nvme)")
        #expect(nvme.contains { $0.contains("kind=\"free\"") && $0.hasSuffix(" 1048576") }, "\(nvme)")

        let log = second.log
        let lines = log.split(separator: "\n")
        #expect(lines.filter { $0.contains("supra_c1 runs on") }.count == 16)
        let stock = lines.filter { ($0.contains("pc2 runs on") || $0.contains("c1 runs on")) && !$0.contains("supra_") }
        #expect(stock.isEmpty, "a sector ran the stock PC2 or C1: \(stock)")
        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
    }
}
