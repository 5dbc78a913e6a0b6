import Scheduler
import Testing
@testable import Actors

/// `sealer_threads_paused_by_error`: what the error-pause alert reads.
@Suite("Metrics: threads paused by an error")
struct PausedByErrorMetricsTests {
    func thread(_ index: Int, _ plan: PlanKind, _ activity: ThreadActivity, error: String?) -> ThreadInfo {
        ThreadInfo(index: index, location: "/t\(index)", plan: plan, jobID: nil, jobState: "Empty", jobStage: nil, activity: activity, lastError: error)
    }

    @Test("counts paused threads with an error per plan, zeros included; an operator's pause and a running thread's old error do not count")
    func counts() {
        var snapshot = MetricsSnapshot()
        snapshot.threads = [
            thread(0, .sealer, .paused(since: .now), error: "permanent: bad proof"),
            thread(1, .sealer, .paused(since: .now), error: nil),
            thread(2, .sealer, .running(since: .now, proc: "pc1"), error: "temporary: retried"),
            thread(3, .sealer, .paused(since: .now), error: "temporary: manager unreachable"),
            thread(4, .snapup, .paused(since: .now), error: nil),
        ]
        let text = Metrics.render(snapshot, workerName: "w", workerIP: "127.0.0.1")
        #expect(text.contains("# TYPE sealer_threads_paused_by_error gauge\n"))
        #expect(text.contains(#"sealer_threads_paused_by_error{worker_name="w",worker_ip="127.0.0.1",plan="sealer"} 2"#), "\(text)")
        #expect(text.contains(#"sealer_threads_paused_by_error{worker_name="w",worker_ip="127.0.0.1",plan="snapup"} 0"#), "\(text)")
        #expect(Metrics.problems(snapshot).filter { $0.contains("paused by an error") }.count == 2, "the same threads /healthz names")
    }
}
