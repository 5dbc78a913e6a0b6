import Foundation
import Scheduler
import Testing
@testable import Actors

@Suite("Metrics rendering and health")
struct MetricsTests {
    func info(_ index: Int, _ activity: ThreadActivity, plan: PlanKind = .sealer, error: String? = nil, draining: Bool = false) -> ThreadInfo {
        ThreadInfo(index: index, location: "/t\(index)", plan: plan, jobID: nil, jobState: "Empty", jobStage: nil,
                   activity: activity, lastError: error, draining: draining)
    }

    func lines(_ text: String) -> Set<String> { Set(text.split(separator: "\n").map(String.init)) }

    @Test("threads by plan and state, zeros included; global labels on every sample")
    func threads() {
        var snapshot = MetricsSnapshot()
        snapshot.threads = [info(0, .idle), info(1, .running(since: .now, proc: "mock pc1")), info(2, .paused(since: .now)),
                            info(3, .running(since: .now, proc: nil), draining: true), info(4, .idle, plan: .snapup)]
        let text = Metrics.render(snapshot, workerName: "box\"1", workerIP: "10.0.0.1")
        let all = lines(text)
        let global = #"worker_name="box\"1",worker_ip="10.0.0.1""#
        #expect(all.contains("# TYPE sealer_threads gauge"))
        #expect(all.contains(#"sealer_threads{\#(global),plan="sealer",state="Idle"} 1"#))
        #expect(all.contains(#"sealer_threads{\#(global),plan="sealer",state="Running"} 1"#))
        #expect(all.contains(#"sealer_threads{\#(global),plan="sealer",state="Draining"} 1"#))
        #expect(all.contains(#"sealer_threads{\#(global),plan="sealer",state="Drained"} 0"#))
        #expect(all.contains(#"sealer_threads{\#(global),plan="snapup",state="Idle"} 1"#))
        for line in all where !line.hasPrefix("#") { #expect(line.contains(global), "\(line)") }
        // Every family has its help and type, once.
        for family in ["rpc_call", "rpc_error", "rpc_timing", "sealer_threads", "sealer_processor_up", "sealer_stage_seconds", "sealer_admission_wait_seconds"] {
            #expect(text.components(separatedBy: "# HELP \(family) ").count == 2, "\(family)")
            #expect(text.components(separatedBy: "# TYPE \(family) ").count == 2, "\(family)")
        }
        #expect(!text.contains("sealer_pool_"), "no pools, no pool series")
    }

    @Test("admission waits are a histogram by stage: a grant at once counts as 0 seconds")
    func admissionWaits() {
        let sealing = SealingMetrics()
        sealing.admitted("pc1", waited: 0)
        sealing.admitted("pc1", waited: 42)
        let snapshot = sealing.snapshot()
        #expect(snapshot.admissions["pc1"]?.count == 2)
        #expect(snapshot.admissions["pc1"]?.sum == 42)
        #expect(snapshot.admissions["c2"] == nil)
    }

    @Test("rpc histograms are cumulative with +Inf, sum and count")
    func rpcHistogram() {
        let rpc = RPCMetrics()
        rpc.record(method: "AllocateSector", seconds: 0.003, failed: false)
        rpc.record(method: "AllocateSector", seconds: 0.2, failed: true)
        rpc.record(method: "AllocateSector", seconds: 100, failed: false)
        var snapshot = MetricsSnapshot()
        snapshot.rpc = rpc.snapshot()
        let all = lines(Metrics.render(snapshot, workerName: "w", workerIP: "ip"))
        let g = #"worker_name="w",worker_ip="ip",method="AllocateSector""#
        #expect(all.contains("rpc_call{\(g)} 3"))
        #expect(all.contains("rpc_error{\(g)} 1"))
        #expect(all.contains(#"rpc_timing_bucket{\#(g),le="0.005"} 1"#))
        #expect(all.contains(#"rpc_timing_bucket{\#(g),le="0.1"} 1"#))
        #expect(all.contains(#"rpc_timing_bucket{\#(g),le="0.25"} 2"#))
        #expect(all.contains(#"rpc_timing_bucket{\#(g),le="30"} 2"#))
        #expect(all.contains(#"rpc_timing_bucket{\#(g),le="+Inf"} 3"#))
        #expect(all.contains("rpc_timing_count{\(g)} 3"))
        #expect(all.contains("rpc_timing_sum{\(g)} 100.203"))
    }

    @Test("pools: capacity, leased and free per node and GPU from the held grants")
    func pools() {
        var snapshot = MetricsSnapshot()
        snapshot.capacity = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[0, 1, 2, 3]], memoryBytes: 1000, hugepages: 4),
                                                NodeCapacity(id: 1, l3Groups: [[4, 5]], memoryBytes: 500)],
                                        gpus: [GPUCapacity(index: 0, node: 0, vramBytes: 800, slots: 2)])
        snapshot.held = [Grant(node: 0, cpus: [0, 1], memory: [0: 300, 1: 100], hugepages: 1, gpu: 0, vramBytes: 600)]
        snapshot.waiting = 2
        snapshot.waitingByPool = ["memory": 2]
        snapshot.waitingByStage = ["pc1": 1, "crynux_inference": 1]
        let all = lines(Metrics.render(snapshot, workerName: "w", workerIP: "ip"))
        let g = #"worker_name="w",worker_ip="ip""#
        #expect(all.contains(#"sealer_pool_cores{\#(g),node="0",kind="leased"} 2"#))
        #expect(all.contains(#"sealer_pool_cores{\#(g),node="0",kind="free"} 2"#))
        #expect(all.contains(#"sealer_pool_cores{\#(g),node="1",kind="capacity"} 2"#))
        #expect(all.contains(#"sealer_pool_memory_bytes{\#(g),node="1",kind="leased"} 100"#))
        #expect(all.contains(#"sealer_pool_memory_bytes{\#(g),node="0",kind="free"} 700"#))
        #expect(all.contains(#"sealer_pool_hugepages{\#(g),node="0",kind="free"} 3"#))
        #expect(all.contains(#"sealer_pool_vram_bytes{\#(g),gpu="0",kind="free"} 200"#))
        #expect(all.contains(#"sealer_pool_gpu_slots{\#(g),gpu="0",kind="leased"} 1"#))
        #expect(all.contains("sealer_pool_waiting_requests{\(g)} 2"))
        #expect(all.contains(#"sealer_pool_blocked_requests{\#(g),pool="memory"} 2"#))
        #expect(all.contains(#"sealer_pool_waiting_requests_by_stage{\#(g),stage="crynux_inference"} 1"#))
        #expect(all.contains(#"sealer_pool_waiting_requests_by_stage{\#(g),stage="pc1"} 1"#))
    }

    @Test("health: a failed or missing ping, a thread paused by an error and a down child are each one reason")
    func health() {
        let start = ContinuousClock.now
        var snapshot = MetricsSnapshot()
        snapshot.threads = [info(0, .paused(since: start)), info(1, .drained(since: start)), info(2, .idle)]
        snapshot.ping = ManagerPingStatus(interval: .seconds(30), since: start)
        snapshot.processors = [.init(stage: "pc2", index: 0, up: true, restarts: 1)]
        #expect(Metrics.problems(snapshot, now: start + .seconds(59)).isEmpty, "operator pauses and drains are on purpose")

        #expect(Metrics.problems(snapshot, now: start + .seconds(61)) == ["the manager has not answered a ping since startup"])
        snapshot.ping?.lastSuccess = start + .seconds(30)
        #expect(Metrics.problems(snapshot, now: start + .seconds(61)).isEmpty)
        snapshot.ping?.lastError = "transport: refused"
        snapshot.threads.append(info(3, .paused(since: start), error: "gave up after 3 retries"))
        snapshot.processors.append(.init(stage: "c2", index: 1, up: false, restarts: 4))
        #expect(Metrics.problems(snapshot, now: start + .seconds(61)) == [
            "the manager did not answer the last ping: transport: refused",
            "thread 3 (sealer) is paused by an error: gave up after 3 retries",
            "processor c2[1] is down (restarts: 4)",
        ])
        #expect(PrometheusText.escapeLabel("a\\b\"c\r\nd") == #"a\\b\"c\#r\nd"#)
        #expect(PrometheusText.escapeHelp("a\\b\"c\nd") == #"a\\b"c\nd"#)
        #expect(Log.jsonString("a \"b\"\n\u{1}") == #""a \"b\"\n\u0001""#)
    }

    @Test("http_listen: HOST:PORT, [V6]:PORT, :PORT (127.0.0.1); anything else is refused")
    func listen() throws {
        #expect(try MetricsServer.parse(listen: "0.0.0.0:9000") == ("0.0.0.0", 9000))
        #expect(try MetricsServer.parse(listen: "[::1]:9100") == ("::1", 9100))
        #expect(try MetricsServer.parse(listen: ":0") == ("127.0.0.1", 0))
        #expect(throws: MetricsServerError.badAddress("9000")) { try MetricsServer.parse(listen: "9000") }
        #expect(throws: MetricsServerError.badAddress("host:99999")) { try MetricsServer.parse(listen: "host:99999") }
    }

    @Test("a port in use is refused with the address; /metrics, /healthz and 404 are served")
    func server() async throws {
        let first = MetricsServer(host: "127.0.0.1", port: 0, workerName: "w", workerIP: "ip") { _ in MetricsSnapshot() }
        let port = try first.start()
        let second = MetricsServer(host: "127.0.0.1", port: port, workerName: "w", workerIP: "ip") { _ in MetricsSnapshot() }
        #expect(throws: MetricsServerError.self) { try second.start() }
        do { _ = try second.start() } catch {
            #expect(error.description.contains("cannot listen on 127.0.0.1:\(port)"), "\(error)")
        }
        func get(_ target: String) async throws -> HTTPResponse {
            try await HTTPClient.send(HTTPRequest(method: "GET", target: target), host: "127.0.0.1", port: port, timeout: .seconds(60))
        }
        let metrics = try await get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type") == PrometheusText.contentType)
        let health = try await get("/healthz")
        #expect(health.status == 200 && health.bodyText == "{\"ok\":true}\n")
        let other = try await get("/nope")
        #expect(other.status == 404)
        await first.shutdown()
        await second.shutdown()
    }
}
