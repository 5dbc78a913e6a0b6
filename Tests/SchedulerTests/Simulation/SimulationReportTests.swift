import Foundation
import ProofsFFI
@testable import Scheduler
import TestSupport
import Testing

private let gib: UInt64 = 1 << 30
private let minute = Duration.seconds(60)
private let hour = Duration.seconds(3600)

/// A small box (2 nodes of 8 cores, 2 GPUs unless told otherwise) proving WindowPoSt while it
/// seals 32GiB CC sectors, with every run recorded for the report.
private func setup(threads: Int = 6, gpus: Int = 2, days: Double = 1, hugepages: Int = 0) -> SimulationSetup {
    var costs = CostTable.defaults
    for stage in ProofStage.allCases { costs.set(stage, .gib32, StageCost(cores: 1, memoryBytes: 1 * gib, duration: minute * 5)) }
    costs.set(.pc1, .gib32, StageCost(cores: 1, memoryBytes: 20 * gib, hugepages: hugepages > 0 ? 4 : 0, duration: hour * 3))
    costs.set(.pc2, .gib32, StageCost(cores: 2, memoryBytes: 10 * gib, numaBound: false, vramBytes: 8 * gib, duration: minute * 30))
    costs.set(.c2, .gib32, StageCost(cores: 2, memoryBytes: 20 * gib, numaBound: false, vramBytes: 10 * gib, duration: minute * 40))
    costs.set(.windowPost, .gib32, StageCost(cores: 1, memoryBytes: 4 * gib, numaBound: false, vramBytes: 4 * gib, duration: minute * 5))
    var workload = Workload(name: "report <toy> & co")
    workload.sectors = [.init(kind: .cc, size: .gib32, weight: 1)]
    workload.seedWait = minute * 20
    workload.jitter = 0.05
    workload.windowPost = .init(every: minute * 30, partitions: 2, size: .gib32)
    let nodes = (0..<2).map { n in NodeCapacity(id: n, l3Groups: [Array((n * 8)..<(n * 8 + 8))], memoryBytes: 64 * gib, hugepages: hugepages) }
    let box = BoxCapacity(nodes: nodes, gpus: (0..<gpus).map { GPUCapacity(index: $0, node: $0 % 2, vramBytes: 24 * gib) })
    var setup = SimulationSetup(capacity: box, costs: costs, workload: workload, threads: threads, days: days,
                                policy: .dynamic(AdmissionPolicy(headroom: [ResourceRequest(stage: .windowPost, cost: costs.cost(.windowPost, .gib32))],
                                                                 headroomWait: minute * 15)))
    setup.recordTimeline = true
    return setup
}

private func segment(_ stage: ProofStage, from: Duration, to: Duration, cores: [Int], node: Int = 0, memory: UInt64 = 0,
                     gpu: Int? = nil, thread: Int? = 0) -> Segment {
    Segment(stage: stage, start: from, end: to, grant: Grant(node: node, cpus: cores, memoryBytes: memory, hugepages: 0, gpu: gpu, vramBytes: 0),
            thread: thread)
}

private func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

/// A number that did not survive formatting: "nan" or "inf" as a word.
private func hasBrokenNumber(_ text: String) -> Bool { text.range(of: "\\b-?(nan|inf)\\b", options: .regularExpression) != nil }

@Suite(.computeBound) struct SimulationReportTests {
    @Test func busyCurvesAverageAndPeakEachBucket() {
        // Two cores for the first hour, four more from 0.5 h to 2 h; 30-minute buckets over 2 h.
        let segments = [segment(.pc1, from: .zero, to: hour, cores: [0, 1]), segment(.pc2, from: minute * 30, to: hour * 2, cores: [2, 3, 4, 5])]
        let curve = BusyCurve(name: "cores", unit: .cores, capacity: 8, segments: segments, horizonSeconds: 7200, buckets: 4) { Double($0.grant.cpus.count) }
        #expect(curve.mean == [2, 6, 4, 4])
        #expect(curve.peak == [2, 6, 4, 4])
        let share: Double = (2 + 6 + 4 + 4) / 4 / 8
        #expect(curve.meanShare == share)
        // Eight cores for half of the first bucket: mean 4 there, peak 8.
        let half = BusyCurve(name: "cores", unit: .cores, capacity: 8, segments: [segment(.pc1, from: minute * 15, to: minute * 45, cores: Array(0..<8))],
                             horizonSeconds: 7200, buckets: 4) { Double($0.grant.cpus.count) }
        #expect(half.mean == [4, 4, 0, 0])
        #expect(half.peak == [8, 8, 0, 0])
    }

    @Test func busyCurvesOfABoxCoverEveryNodeAndGPU() {
        let box = setup(gpus: 3, hugepages: 16).capacity
        let names = BusyCurve.all(box, segments: [], horizonSeconds: 3600).map(\.name)
        let expected: [String] = ["node 0 cores", "node 0 memory", "node 0 hugepages", "node 1 cores", "node 1 memory", "node 1 hugepages",
                                  "gpu 0 stages", "gpu 0 VRAM", "gpu 1 stages", "gpu 1 VRAM", "gpu 2 stages", "gpu 2 VRAM"]
        #expect(names == expected)
        let bare = BusyCurve.all(setup(gpus: 0).capacity, segments: [], horizonSeconds: 3600).map(\.name)
        let nodesOnly: [String] = ["node 0 cores", "node 0 memory", "node 1 cores", "node 1 memory"]
        #expect(bare == nodesOnly, "no hugepages, no GPUs: no curves for them")
    }

    @Test func svgNumbersAndTextAreCompactAndSafe() {
        let numbers: [String] = [12.34, 12.0, -0.5, -12.5, 0.04, .nan, .infinity].map(SVGWriter.number)
        #expect(numbers == ["12.3", "12", "-0.5", "-12.5", "0", "0", "1e15"])
        #expect(SVGWriter.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
        // Byte axes tick in whole GiB, not in fractions of the capacity.
        let gibTicks = SVGAxis(0, 480 * 1_073_741_824, pixels: 0, 100).ticks(target: 4, unit: 1_073_741_824).map { $0 / 1_073_741_824 }
        #expect(gibTicks == [0, 200, 400], "480 GiB / 4 ticks = 120 GiB, rounded up to a 1-2-5 step")
    }

    @Test func histogramsBinWaitsAsReadersCountThem() {
        let h = Histogram([0, 0.0005, 30, 60, 3599, 3600, 50_000], bins: Histogram.stageWaits)
        #expect(h.bins.map(\.label) == ["none", "<1m", "1-10m", "10m-1h", "1-4h", "4-12h", "12h+"])
        #expect(h.counts == [2, 1, 1, 1, 1, 0, 1])
        #expect(h.total == 7)
    }

    @Test func eachTimelineColumnShowsTheStageThatHeldItLongest() {
        // 10 columns of 10 s: PC1 for 24 s, then PC2; a lone 4-second C1 covers too little of its column to show.
        let runs = TimelineSVG.raster([(0, 24, .stage(.pc1)), (24, 100, .stage(.pc2))], columns: 10, columnSeconds: 10)
        // A thread still waiting at the end waits on its row up to the end.
        let box = setup().capacity
        let rows = TimelineSVG.rows([], pending: [PendingRequest(stage: .pc1, thread: 1, since: hour)], end: 7200, capacity: box, threads: 2)
        let threadRow = rows.first { $0.label == "thread 1" }
        #expect(threadRow?.intervals.count == 1)
        #expect(threadRow?.intervals.first?.start == 3600 && threadRow?.intervals.first?.end == 7200 && threadRow?.intervals.first?.paint == .waiting)
        #expect(rows.filter { $0.group == "node 0: 8 cores" }.count == 8)
        #expect(runs.map(\.first) == [0, 2])
        #expect(runs.map(\.last) == [1, 9])
        #expect(runs.map(\.paint) == [TimelineSVG.Paint.stage(.pc1), .stage(.pc2)])
        #expect(TimelineSVG.raster([(0, 4, .stage(.c1))], columns: 10, columnSeconds: 10).isEmpty)
        #expect(TimelineSVG.raster([(0, 6, .waiting)], columns: 10, columnSeconds: 10).map(\.paint) == [TimelineSVG.Paint.waiting])
    }

    @Test func recordedSegmentsCarryTheirThreadAndTheirWait() throws {
        let s = setup()
        let result = Simulator(s).run()
        let segments = result.segments
        try #require(!segments.isEmpty)
        for segment in segments {
            #expect(segment.waited >= .zero && segment.start - segment.waited >= .zero)
            #expect(segment.end <= .seconds(86_400))
            #expect((segment.thread == nil) == (segment.stage == .windowPost))
        }
        // A thread runs one stage at a time.
        for t in 0..<s.threads {
            let own = segments.filter { $0.thread == t }.sorted { $0.start < $1.start }
            #expect(!own.isEmpty)
            for (a, b) in zip(own, own.dropFirst()) { #expect(a.end <= b.start, "thread \(t): \(a.stage) overlaps \(b.stage)") }
        }
        // Every admitted run is recorded (those still running end at the horizon), so the
        // longest recorded wait per stage is the one the run reports.
        for (stage, longest) in result.longestWait {
            #expect(segments.filter { $0.stage == stage }.map(\.waited).max() == longest, "\(stage)")
        }
        #expect(segments.filter { $0.stage == .windowPost }.count == result.postRuns)
        // A thread still waiting at the end holds nothing then: its recorded stages ended first.
        for request in result.pending {
            #expect(request.since <= .seconds(86_400))
            if let t = request.thread { #expect(segments.filter { $0.thread == t }.allSatisfy { $0.end <= request.since }, "thread \(t)") }
        }
        #expect(segments.contains { $0.end == .seconds(86_400) }, "stages running at the end are drawn up to it")
        var unrecorded = s
        unrecorded.recordTimeline = false
        let plain = Simulator(unrecorded).run()
        #expect(plain.segments.isEmpty && plain.pending.isEmpty)
        #expect(plain.sectorsPerDay == result.sectorsPerDay, "recording changes nothing the run measures")
    }

    @Test func theReportShowsBoxBoundsCurvesTimelineAndWaitsForBothRuns() throws {
        var s = setup()
        let dynamic = Simulator(s).run()
        let limits = try #require(StaticLimits.candidates(s).first)
        s.policy = .fixed(limits)
        let fixed = Simulator(s).run()
        var bounds = SimulationReport.bounds(ThroughputBound(s))
        let lowest = try #require(bounds.first)
        // A bound the report never heard of (the packing bound, say) shows as given, and binds when lowest.
        bounds.append(.init(name: "packing", sectorsPerDay: lowest.sectorsPerDay / 2, detail: "whole stages on whole cores"))
        let report = SimulationReport(setup: s, bounds: bounds, runs: [
            .init(name: "dynamic", result: dynamic), .init(name: "static", result: fixed, figures: [("static limits", limits.description)]),
        ])
        let html = report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        for id in ["workload", "bounds", "resources", "timeline", "waits", "windowpost"] { #expect(html.contains("<section id=\"\(id)\">"), "\(id)") }
        // Self-contained: nothing to fetch, and a policy that forbids fetching.
        let hasURL = html.contains("://")
        #expect(!hasURL, "no URL at all: inline SVG needs no namespace")
        #expect(!html.contains("src="))
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        #expect(html.contains("report &lt;toy&gt; &amp; co") && !html.contains("<toy>"), "the workload's name is escaped")
        // The bounds, the binding one marked, the ratio against it.
        #expect(html.contains("<tr class=\"binds\"><th>packing (binds)</th>"))
        for bound in bounds { #expect(html.contains("<th>\(bound.name)"), "\(bound.name)") }
        #expect(html.contains(String(format: "<td>%.3f</td>", dynamic.sectorsPerDay / (lowest.sectorsPerDay / 2))))
        #expect(html.contains("<th>static limits</th><td>-</td><td>\(limits.description)</td>"))
        // A busy curve per node resource and GPU resource, both runs overlaid; a timeline per run.
        #expect(count("data-chart=\"busy\"", in: html) == 2 * 2 + 2 * 2)
        #expect(count("data-chart=\"timeline\"", in: html) == 2)
        for label in ["node 0 cores", "node 1 memory", "gpu 1 VRAM", "node 0: 8 cores", "gpu 0", "threads: 6", "thread 0", "WindowPoSt (not a thread)",
                      "time (hours)", "stages:", "capacity"] {
            #expect(html.contains(">\(label)"), "\(label)")
        }
        // Admission waits: one histogram per stage that ran, plus WindowPoSt's.
        let stages = Set((dynamic.segments + fixed.segments).map(\.stage)).subtracting([.windowPost])
        #expect(count("data-chart=\"histogram\"", in: html) == stages.count + 1)
        #expect(html.contains("\(dynamic.postRuns) runs, longest wait"))
        // Nothing that should show data is declared empty.
        #expect(!html.contains("data-expect=\"empty\""))
        #expect(html.contains("<output id=\"selfcheck\" data-status=\"pending\">"))
    }

    @Test func aZeroDaySimulationRendersAnEmptyButReadableReport() {
        let s = setup(days: 0)
        let result = Simulator(s).run()
        let html = SimulationReport(setup: s, bounds: SimulationReport.bounds(ThroughputBound(s)), runs: [.init(name: "dynamic", result: result)]).html()
        #expect(html.contains("0 simulated days"))
        #expect(html.contains("nothing simulated (0 hours)"))
        // The curves and timelines say they are empty on purpose; the histograms may count the
        // stages admitted at time 0 (they waited for nothing).
        #expect(!html.contains("data-chart=\"busy\" data-expect=\"marks\""))
        #expect(!html.contains("data-chart=\"timeline\" data-expect=\"marks\""))
        #expect(count("data-chart=\"busy\"", in: html) == 8)
        #expect(!hasBrokenNumber(html))
    }

    @Test func aBoxWithoutGPUsHasNoGPURowsOrCurves() {
        var s = setup(gpus: 0)
        s.workload.windowPost = nil
        let result = Simulator(s).run()
        let html = SimulationReport(setup: s, bounds: SimulationReport.bounds(ThroughputBound(s)), runs: [.init(name: "dynamic", result: result)]).html()
        #expect(html.contains("no GPUs: GPU stages cannot run on this box"))
        #expect(!html.contains(">gpu 0"))
        #expect(count("data-chart=\"busy\"", in: html) == 4)
        #expect(html.contains("This workload proves no WindowPoSt."))
        #expect(!hasBrokenNumber(html))
    }

    @Test func fiveHundredTwelveThreadsStayReadableAndSmall() {
        // A tenth of a day: 512 threads make the simulation itself slow in a debug build (seconds;
        // the suite runs on the compute executor, off the cooperative pool).
        var s = setup(threads: 512, days: 0.1)
        s.capacity.nodes = (0..<2).map { n in NodeCapacity(id: n, l3Groups: [Array((n * 64)..<(n * 64 + 64))], memoryBytes: 2048 * gib) }
        let result = Simulator(s).run()
        let html = SimulationReport(setup: s, bounds: SimulationReport.bounds(ThroughputBound(s)), runs: [.init(name: "dynamic", result: result)]).html()
        #expect(html.contains(">threads: 512<"))
        // 128 cores cannot run 512 PC1s: most threads are still waiting, and the report says so.
        let waiting = result.pending.filter { $0.stage == .pc1 && $0.thread != nil }.count
        #expect(waiting > 300)
        #expect(html.contains("\(waiting) still waiting"))
        #expect(html.contains(">thread 0<"))
        #expect(!html.contains("data-expect=\"empty\""))
        // Thin rows are labelled every few rows, never drawn over each other.
        let labels = count(">thread ", in: html)
        #expect(labels > 50 && labels < 512)
        #expect(html.utf8.count < 16 << 20, "\(html.utf8.count) bytes")
    }

    @Test func theSVGFileHasALegendAxesAndRowLabels() {
        let s = setup()
        let result = Simulator(s).run()
        let svg = TimelineSVG.render(result.segments, capacity: s.capacity, title: "toy", horizon: .seconds(86_400), threads: s.threads)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>\n"))
        for label in [">stages:<", ">pc1<", ">c2<", ">window_post<", ">time (hours)<", ">24<", ">node 0: 8 cores<", ">node 1: 8 cores<", ">GPUs<",
                      ">gpu 0<", ">threads: 6<", ">thread 0<", ">post 1<"] {
            #expect(svg.contains(label), "\(label)")
        }
        // Threads' rows show where they waited for admission (this toy's threads do wait).
        #expect(result.segments.contains { $0.thread != nil && $0.waited > .zero })
        #expect(svg.contains(">waiting for admission<") && svg.contains("<title>waiting for admission</title>"))
        // A day's axis in hours: ticks every 2 h from 0 to 24.
        let everyTwoHours: [Double] = stride(from: 0.0, through: 24, by: 2).map { $0 }
        #expect(SVGAxis(0, 24, pixels: 0, 1000).hourTicks() == everyTwoHours)
        #expect(TimelineSVG.render([], capacity: s.capacity, title: "empty").contains("nothing simulated"))
    }
}
