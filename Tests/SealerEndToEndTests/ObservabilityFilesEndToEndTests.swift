import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `config/grafana/sealer.json` and `config/prometheus/alerts.yml`: they parse as Grafana and
/// Prometheus read them, and every series (and label) their PromQL names is one a running
/// daemon serves on `/metrics`.
@Suite("Grafana dashboard and Prometheus alerts")
struct ObservabilityFilesEndToEndTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let dashboardPath = package + "/config/grafana/sealer.json"
    static let alertsPath = package + "/config/prometheus/alerts.yml"

    /// YAML to JSON with PyYAML (`.ci/run` installs it), as Prometheus would read the file.
    static let yamlToJSON = """
    import json, sys, yaml
    print(json.dumps(yaml.safe_load(open(sys.argv[1]))))
    """

    static func dashboard() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dashboardPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "the dashboard is not a JSON object")
    }

    static func alerts(_ dir: Scratch) async throws -> [String: Any] {
        let script = try dir.write("yaml2json.py", yamlToJSON)
        let converted = try await runTool(["python3", script, alertsPath])
        guard converted.status == 0, let line = converted.output.split(separator: "\n").last else {
            throw HarnessError("\(alertsPath) does not parse as YAML: \(converted.output)")
        }
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Every panel, rows' nested panels included.
    static func panels(_ dashboard: [String: Any]) -> [[String: Any]] {
        let top = dashboard["panels"] as? [[String: Any]] ?? []
        return top + top.flatMap { $0["panels"] as? [[String: Any]] ?? [] }
    }

    /// Every PromQL expression of the dashboard (targets and variable queries) and the rules.
    static func expressions(dashboard: [String: Any], alerts: [String: Any]) -> [(where: String, expr: String)] {
        var out: [(String, String)] = []
        for panel in panels(dashboard) {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String { out.append(("panel '\(panel["title"] ?? "?")'", expr)) }
            }
        }
        for variable in (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] {
            if let query = (variable["query"] as? [String: Any])?["query"] as? String ?? variable["query"] as? String {
                out.append(("variable $\(variable["name"] ?? "?")", query))
            }
        }
        for group in alerts["groups"] as? [[String: Any]] ?? [] {
            for rule in group["rules"] as? [[String: Any]] ?? [] {
                if let expr = rule["expr"] as? String { out.append(("alert \(rule["alert"] ?? "?")", expr)) }
            }
        }
        return out
    }

    @Test("the dashboard imports as is: __inputs names DS_PROMETHEUS, every panel and query uses it, an instance variable, the sections the issue asks for")
    func dashboardShape() throws {
        let dashboard = try Self.dashboard()
        let inputs = try #require(dashboard["__inputs"] as? [[String: Any]])
        #expect(inputs.contains { $0["name"] as? String == "DS_PROMETHEUS" && $0["pluginId"] as? String == "prometheus" && $0["type"] as? String == "datasource" })
        #expect((dashboard["schemaVersion"] as? Int ?? 0) >= 36)
        #expect(dashboard["title"] as? String == "sealer" && dashboard["uid"] as? String != nil)
        let panels = Self.panels(dashboard)
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count, "every panel has a distinct id")
        for panel in panels {
            let grid = try #require(panel["gridPos"] as? [String: Int], "\(panel["title"] ?? "?") has no gridPos")
            #expect((grid["x"] ?? -1) >= 0 && (grid["w"] ?? 0) > 0 && (grid["x"] ?? 0) + (grid["w"] ?? 0) <= 24 && (grid["h"] ?? 0) > 0, "\(panel["title"] ?? "?"): \(grid)")
            guard panel["type"] as? String != "row" else { continue }
            #expect((panel["datasource"] as? [String: Any])?["uid"] as? String == "${DS_PROMETHEUS}", "\(panel["title"] ?? "?")")
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "\(panel["title"] ?? "?") has no query")
            for target in targets {
                #expect((target["datasource"] as? [String: Any])?["uid"] as? String == "${DS_PROMETHEUS}")
                #expect((target["expr"] as? String)?.contains("$instance") == true, "\(panel["title"] ?? "?") ignores the instance variable")
            }
        }
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let instance = try #require(variables.first { $0["name"] as? String == "instance" })
        #expect((instance["datasource"] as? [String: Any])?["uid"] as? String == "${DS_PROMETHEUS}")
        // What the issue asks for, by the series drawn.
        let all = Self.expressions(dashboard: dashboard, alerts: [:]).map(\.expr).joined(separator: "\n")
        for series in ["sealer_threads", "sealer_stage_seconds_bucket", "sealer_pool_cores", "sealer_pool_memory_bytes", "sealer_pool_gpu_slots",
                       "sealer_pool_vram_bytes", "sealer_pool_blocked_requests", "rpc_error"] {
            #expect(all.contains(series), "no panel draws \(series)")
        }
    }

    @Test("the alerts parse as Prometheus rule groups and cover a paused thread, the manager, starving pools and restarting processors")
    func alertsShape() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let alerts = try await Self.alerts(dir)
        let groups = try #require(alerts["groups"] as? [[String: Any]])
        #expect(!groups.isEmpty)
        var names: [String] = []
        for group in groups {
            #expect(group["name"] as? String != nil)
            for rule in try #require(group["rules"] as? [[String: Any]]) {
                let name = try #require(rule["alert"] as? String, "a rule without a name: \(rule)")
                names.append(name)
                #expect((rule["expr"] as? String)?.isEmpty == false, "\(name)")
                #expect(["warning", "critical"].contains((rule["labels"] as? [String: Any])?["severity"] as? String ?? ""), "\(name)")
                #expect(((rule["annotations"] as? [String: Any])?["summary"] as? String)?.isEmpty == false, "\(name)")
                if let duration = rule["for"] as? String {
                    #expect(duration.range(of: #"^[0-9]+[smhd]$"#, options: .regularExpression) != nil, "\(name): for: \(duration)")
                }
            }
        }
        #expect(Set(names).count == names.count, "alert names repeat: \(names)")
        for needed in ["SealerThreadPausedByError", "SealerThreadPaused", "SealerManagerUnreachable", "SealerPoolStarving", "SealerProcessorRestarting"] {
            #expect(names.contains(needed), "no \(needed) in \(names)")
        }
    }

    @Test("every series and label the dashboard and the alerts name is one a running daemon serves")
    func seriesAreServed() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let expressions = Self.expressions(dashboard: try Self.dashboard(), alerts: try await Self.alerts(dir))
        #expect(expressions.count > 20)

        // A daemon with everything that has series: a remote manager (rpc_*), pools, a processor child.
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0", "--miner", "1234", "--sector-size", "2KiB"], log: dir.path + "/manager.log")
        let managerPort = try await manager.loopbackPort(after: "mock manager serving Venus.* on ")
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 2, manager: "/ip4/127.0.0.1/tcp/\(managerPort)", extra: """
            [metrics]
            enable = true
            http_listen = "127.0.0.1:0"

            [resources.box]
            nodes = 1
            cores_per_node = 16
            cores_per_l3 = 8
            memory = "256GiB"
            gpus = 1
            gpu_vram = "24GiB"

            [[processors.unseal]]
            bin = "\(try fakeProcessorBinary())"
            args = ["unseal"]
            """))
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        let text = try await daemon.waitForLog("metrics listening on ")
        guard let at = text.range(of: "metrics listening on 127.0.0.1:"), let port = UInt16(text[at.upperBound...].prefix(while: \.isNumber)) else {
            throw HarnessError("no metrics port in the daemon's log")
        }
        try await daemon.waitForLog("sector finished")
        let file = dir.path + "/metrics.txt"
        // Until a ping and an admission are in: then every family the files use has samples.
        try await eventually("rpc and admission samples") {
            _ = try await runTool(["curl", "-sf", "-o", file, "http://127.0.0.1:\(port)/metrics"])
            let scraped = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            return scraped.contains("rpc_call{") && scraped.contains("method=\"WorkerPing\"") && scraped.contains("sealer_admission_wait_seconds_bucket{")
        }
        let served = ServedMetrics(try String(contentsOfFile: file, encoding: .utf8))
        #expect(served.names.contains("sealer_pool_cores") && served.names.contains("rpc_timing_bucket"), "\(served.names.sorted())")

        var checked = Set<String>()
        for (place, expr) in expressions {
            let query: PromQLQuery
            do { query = try PromQLQuery(expr) } catch {
                Issue.record("\(place): \(error)\n\(expr)")
                continue
            }
            for selector in query.selectors {
                checked.insert(selector.name)
                guard served.names.contains(selector.name) else {
                    Issue.record("\(place) names \(selector.name), which the daemon does not serve")
                    continue
                }
                // Labels can be judged only on series with samples now (no sector aborted, no
                // stage blocked: those families have their `# TYPE` line alone).
                guard served.samples[selector.name] != nil else { continue }
                for matcher in selector.matchers where !PromQLQuery.targetLabels.contains(matcher.label) {
                    let values = served.values(of: matcher.label, on: selector.name)
                    #expect(!values.isEmpty, "\(place): \(selector.name) has no label \(matcher.label)")
                    if matcher.op == "=" { #expect(values.contains(matcher.value), "\(place): no \(selector.name){\(matcher.label)=\"\(matcher.value)\"}; served: \(values.sorted())") }
                }
            }
            let available = Set(query.selectors.flatMap { served.labels(on: $0.name) })
            guard !available.isEmpty else { continue }
            for label in query.groupingLabels where !PromQLQuery.targetLabels.contains(label) {
                #expect(available.contains(label), "\(place) groups by \(label), which none of its series carries")
            }
        }
        // Both files together draw on most of what the daemon serves.
        for family in ["sealer_threads", "sealer_threads_paused_by_error", "sealer_pool_blocked_requests", "sealer_processor_restarts_total", "rpc_error", "sealer_admission_wait_seconds_bucket"] {
            #expect(checked.contains(family), "nothing uses \(family)")
        }

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }

    @Test("sealer_threads_paused_by_error counts a thread paused by an error, not one an operator paused")
    func pausedByError() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        // Every manager call fails: the thread's retries run out and it pauses with the error.
        let manager = try Child(["manager", "mock", "--listen", "127.0.0.1:0", "--transport-error-rate", "1"], log: dir.path + "/manager.log")
        let managerPort = try await manager.loopbackPort(after: "mock manager serving Venus.* on ")
        let metrics = "\n[metrics]\nenable = true\nhttp_listen = \"127.0.0.1:0\"\n"
        let failing = try Child(["daemon", "-c", try dir.write("failing.toml", testConfig(dir: dir.path + "/failing", threads: 1,
                                                                                         manager: "http://127.0.0.1:\(managerPort)", extra: metrics))],
                                log: dir.path + "/failing.log")
        let healthy = try Child(["daemon", "-c", try dir.write("healthy.toml", testConfig(dir: dir.path + "/healthy", threads: 1, extra: metrics))],
                                log: dir.path + "/healthy.log")
        func scrape(_ daemon: Child, _ name: String) async throws -> ServedMetrics {
            let text = try await daemon.waitForLog("metrics listening on ")
            guard let at = text.range(of: "metrics listening on 127.0.0.1:"), let port = UInt16(text[at.upperBound...].prefix(while: \.isNumber)) else {
                throw HarnessError("no metrics port in the daemon's log")
            }
            let file = dir.path + "/" + name
            let fetched = try await runTool(["curl", "-sf", "-o", file, "http://127.0.0.1:\(port)/metrics"])
            #expect(fetched.status == 0, "\(fetched.output)")
            return ServedMetrics(try String(contentsOfFile: file, encoding: .utf8))
        }
        try await failing.waitForLog("thread paused")
        let failed = try await scrape(failing, "failing.txt")
        #expect(failed.value("sealer_threads", ["plan": "sealer", "state": "Paused"]) == 1)
        #expect(failed.value("sealer_threads_paused_by_error", ["plan": "sealer"]) == 1)

        // An operator's pause (SIGUSR1 pauses every thread) is on purpose: not counted.
        try await healthy.waitForLog("sector finished")
        healthy.signal(SIGUSR1)
        let port = try await healthy.managementPort()
        try await eventually("paused by the operator") {
            try await runSealer(["worker", "-H", "127.0.0.1:\(port)", "list"]).stdout.contains("Paused")
        }
        let paused = try await scrape(healthy, "healthy.txt")
        #expect(paused.value("sealer_threads", ["plan": "sealer", "state": "Paused"]) == 1)
        #expect(paused.value("sealer_threads_paused_by_error", ["plan": "sealer"]) == 0)

        for daemon in [failing, healthy] {
            daemon.signal(SIGTERM)
            #expect(try await daemon.wait() == 0)
        }
        manager.signal(SIGTERM)
        _ = try await manager.wait()
    }

    @Test("the PromQL reader finds series, matchers and grouping labels, and refuses an unknown function")
    func promQLReader() throws {
        let query = try PromQLQuery(#"histogram_quantile(0.95, sum by (stage, le) (rate(sealer_stage_seconds_bucket{instance=~"$instance", kind!="x,}"}[$__rate_interval]))) / on(instance) group_left sum without (gpu) (rpc_call) > 0.5 and up"#)
        #expect(query.selectors.map(\.name) == ["sealer_stage_seconds_bucket", "rpc_call", "up"])
        #expect(query.selectors[0].matchers.map { "\($0.label)\($0.op)\($0.value)" } == ["instance=~$instance", "kind!=x,}"])
        #expect(query.groupingLabels == ["stage", "le", "instance", "gpu"])
        #expect(try PromQLQuery("label_values(sealer_threads, instance)").selectors.map(\.name) == ["sealer_threads"])
        #expect(throws: PromQLQuery.ReadError.self) { try PromQLQuery("histogram_quantil(0.9, x)") }
        #expect(throws: PromQLQuery.ReadError.self) { try PromQLQuery("x{a=\"b\"") }
        #expect(throws: PromQLQuery.ReadError.self) { try PromQLQuery("sum(rate(x[5m])") }
        #expect(throws: PromQLQuery.ReadError.self) { try PromQLQuery("sum(x))") }
    }
}
