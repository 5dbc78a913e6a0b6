import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `[metrics] enable = true` on the real binary: `/metrics` fetched with curl and parsed by
/// Prometheus' own Python parser, `/healthz`, and a metrics port in use.
@Suite("Metrics end to end")
struct MetricsEndToEndTests {
    /// Parses Prometheus text with `prometheus_client` and prints `{name: [[labels, value]]}`
    /// per sample, as JSON.
    static let parser = """
    import json, sys
    from prometheus_client.parser import text_string_to_metric_families
    text = open(sys.argv[1]).read()
    families, samples = {}, {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            samples.setdefault(s.name, []).append([s.labels, s.value])
    print(json.dumps({"families": families, "samples": samples}))
    """

    struct Parsed: Decodable {
        var families: [String: String]
        var samples: [String: [Sample]]
        struct Sample: Decodable {
            var labels: [String: String]
            var value: Double
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                labels = try c.decode([String: String].self)
                value = try c.decode(Double.self)
            }
        }
        /// The first sample of `name` with `labels`; a counter's sample may come back as
        /// `<name>_total`, as newer `prometheus_client` parsers name them.
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            (samples[name] ?? samples[name + "_total"])?.first { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
        }
    }

    func metricsPort(_ daemon: Child) async throws -> UInt16 {
        let text = try await daemon.waitForLog("metrics listening on ")
        guard let range = text.range(of: "metrics listening on 127.0.0.1:"),
              let port = UInt16(text[range.upperBound...].prefix(while: \.isNumber)) else {
            throw HarnessError("no metrics port in the daemon's log: \(text)")
        }
        return port
    }

    func scrape(_ port: UInt16, dir: Scratch) async throws -> Parsed {
        let file = dir.path + "/metrics.txt"
        let fetched = try await runTool(["curl", "-sf", "-o", file, "http://127.0.0.1:\(port)/metrics"])
        #expect(fetched.status == 0, "\(fetched.output)")
        let script = try dir.write("parse.py", Self.parser)
        let parsed = try await runTool(["python3", script, file])
        guard parsed.status == 0, let json = parsed.output.split(separator: "\n").last else {
            throw HarnessError("prometheus_client could not parse /metrics: \(parsed.output)\n\((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")")
        }
        return try JSONDecoder().decode(Parsed.self, from: Data(json.utf8))
    }

    @Test("/metrics parses as Prometheus text and agrees with worker list; /healthz is 200; a metrics port in use fails startup")
    func scrapeAgreesWithWorkerList() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0", "--miner", "1234", "--sector-size", "2KiB"], log: dir.path + "/manager.log")
        let managerPort = try await manager.loopbackPort(after: "mock manager serving Venus.* on ")
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 3, manager: "/ip4/127.0.0.1/tcp/\(managerPort)", extra: """
            [metrics]
            enable = true
            http_listen = "127.0.0.1:0"
            """))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let rpc = try await daemon.managementPort()
        let port = try await metricsPort(daemon)
        try await daemon.waitForLog("sector finished")
        // Every thread paused: the thread counts are then the same in both answers.
        daemon.signal(SIGUSR1)
        try await eventually("all paused") {
            let out = try await runSealer(["worker", "-H", "127.0.0.1:\(rpc)", "list", "--json"]).stdout
            return try (0..<3).allSatisfy { try threadState(out, index: $0) == "Paused" }
        }
        let metrics = try await scrape(port, dir: dir)
        #expect(metrics.families["sealer_threads"] == "gauge")
        #expect(metrics.families["rpc_timing"] == "histogram")
        #expect(metrics.families["rpc_call"] == "counter")
        #expect(metrics.value("sealer_threads", ["plan": "sealer", "state": "Paused"]) == 3)
        #expect(metrics.value("sealer_threads", ["plan": "sealer", "state": "Running"]) == 0)
        let total = metrics.samples["sealer_threads"]?.reduce(0) { $0 + $1.value }
        #expect(total == 3)
        for sample in metrics.samples.values.joined() {
            #expect(sample.labels["worker_name"] == "e2e" && sample.labels["worker_ip"] == "127.0.0.1", "\(sample.labels)")
        }
        guard let allocations = metrics.value("rpc_call", ["method": "AllocateSector"]) else {
            throw HarnessError("no rpc_call{method=\"AllocateSector\"} in \(metrics.samples.keys.sorted())")
        }
        #expect(allocations >= 1)
        #expect(metrics.value("rpc_timing_count", ["method": "AllocateSector"]) == allocations)
        #expect(metrics.value("rpc_timing_bucket", ["method": "AllocateSector", "le": "+Inf"]) == allocations)
        #expect(metrics.value("rpc_error", ["method": "AllocateSector"]) == 0)
        #expect((metrics.value("sealer_sectors_finished_total", ["plan": "sealer"]) ?? 0) >= 1)
        #expect((metrics.value("sealer_stage_seconds_count", ["stage": "pc1", "sector_size": "2KiB"]) ?? 0) >= 1)
        // Every PC1 was admitted by the pools first, so it has an admission wait (0 when granted at once).
        #expect((metrics.value("sealer_admission_wait_seconds_count", ["stage": "pc1"]) ?? 0) >= 1)
        #expect((metrics.value("sealer_journal_fsync_seconds_count", [:]) ?? 0) >= 1, "history appends are timed")

        let health = try await runTool(["curl", "-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/healthz"])
        #expect(health.output == #"{"ok":true}"# + "\n 200", "\(health.output)")
        let check = try await runSealer(["health", "--listen", "127.0.0.1:\(port)"])
        #expect(check.status == 0 && check.stdout.contains(#"{"ok":true}"#), "sealer health: \(check.output)")

        // A second daemon whose metrics address is taken does not start, and says which.
        let second = try dir.write("second.toml", testConfig(dir: dir.path + "/second", threads: 1, extra: """
            [metrics]
            enable = true
            http_listen = "127.0.0.1:\(port)"
            """))
        let refused = try await runSealer(["daemon", "-c", second])
        #expect(refused.status != 0)
        #expect(refused.output.contains("cannot listen on 127.0.0.1:\(port)"), "\(refused.output)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }

    @Test("/healthz answers 503 with a reason when a thread is paused by an error")
    func unhealthy() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0", "--transport-error-rate", "1"], log: dir.path + "/manager.log")
        let managerPort = try await manager.loopbackPort(after: "mock manager serving Venus.* on ")
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1, manager: "http://127.0.0.1:\(managerPort)", extra: """
            [metrics]
            enable = true
            http_listen = ":0"
            """))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let port = try await metricsPort(daemon)
        try await daemon.waitForLog("thread paused")
        let health = try await runTool(["curl", "-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/healthz"])
        #expect(health.output.hasSuffix(" 503"), "\(health.output)")
        #expect(health.output.contains("thread 0 (sealer) is paused by an error"), "\(health.output)")
        let check = try await runSealer(["health", "--listen", "127.0.0.1:\(port)"])
        #expect(check.status == 1 && check.stdout.contains("paused by an error"), "sealer health: \(check.output)")
        let usage = try await runSealer(["health"])
        #expect(usage.status == 2 && usage.stderr.contains("health needs -c FILE or --listen"), "\(usage.output)")
        let metrics = try await scrape(port, dir: dir)
        #expect((metrics.value("rpc_error", ["method": "AllocateSector"]) ?? 0) >= 1)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }
}
