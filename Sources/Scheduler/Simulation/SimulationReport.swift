import Foundation
import ProofsFFI

/// `sealer simulate --report`: one self-contained HTML page (inline CSS and SVG, one small inline
/// script, nothing fetched) that shows a run the way providers decide: the workload and box, the
/// bounds and the ratio, each resource busy over time against its capacity, the stage timeline,
/// where stages and WindowPoSt waited; with `--compare`, the runs side by side.
public struct SimulationReport: Sendable {
    /// An upper limit on sectors/day, named for what imposes it (a resource, the threads, packing).
    public struct Bound: Sendable, Hashable {
        public var name: String
        public var sectorsPerDay: Double
        public var detail: String

        public init(name: String, sectorsPerDay: Double, detail: String = "") {
            self.name = name
            self.sectorsPerDay = sectorsPerDay
            self.detail = detail
        }
    }

    /// One simulated run (a policy), with any further figures to list as name and value.
    public struct Run: Sendable {
        public var name: String
        public var result: SimulationResult
        public var figures: [(name: String, value: String)]

        public init(name: String, result: SimulationResult, figures: [(name: String, value: String)] = []) {
            self.name = name
            self.result = result
            self.figures = figures
        }
    }

    public var setup: SimulationSetup
    /// Listed as given; the lowest is the bound the ratio is taken against.
    public var bounds: [Bound]
    public var runs: [Run]

    public init(setup: SimulationSetup, bounds: [Bound], runs: [Run]) {
        self.setup = setup
        self.bounds = bounds
        self.runs = runs
    }

    /// The throughput bound's entries, one per resource (and the threads), lowest first.
    public static func bounds(_ bound: ThroughputBound) -> [Bound] {
        bound.byResource.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { key, value in
            Bound(name: key, sectorsPerDay: value, detail: key == "threads" ? "threads over the shortest sector cycle"
                : "what the box's \(key) offers a day (less WindowPoSt's share) over one sector's need")
        }
    }

    /// The lowest finite bound: what the ratio is taken against.
    public var tightest: Bound? {
        bounds.filter { $0.sectorsPerDay.isFinite }.min { $0.sectorsPerDay < $1.sectorsPerDay }
    }

    var horizonSeconds: Double { max(0, setup.days * 86_400) }

    public func html() -> String {
        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>sealer simulate: \(esc(setup.workload.name))</title>
        <script>window.reportErrors = []; window.addEventListener('error', function (e) { window.reportErrors.push(String(e.message)); });</script>
        <style>\(Self.style)</style>
        </head><body>

        """
        page += "<h1>sealer simulate: \(esc(setup.workload.name))</h1>\n"
        page += "<p class=\"lead\">\(esc(headline))</p>\n"
        page += workloadAndBox()
        page += throughput()
        page += resources()
        page += timelines()
        page += waits()
        page += windowPost()
        page += "<footer><output id=\"selfcheck\" data-status=\"pending\">self-check: pending (the page's script did not run)</output></footer>\n"
        page += "<script>\(Self.selfCheck)</script>\n</body></html>\n"
        return page
    }

    var headline: String {
        var text = "\(SVGWriter.number(setup.days)) simulated days, \(setup.threads) sealing threads, \(setup.capacity.cpuCount) cores, "
            + "\(ByteSize.short(setup.capacity.memoryBytes)) memory, \(setup.capacity.gpus.count) GPUs"
        for run in runs {
            text += String(format: "; %@ %.1f sectors/day", run.name, run.result.sectorsPerDay)
            if let tightest, tightest.sectorsPerDay > 0 { text += String(format: " (%.3f of the bound)", run.result.sectorsPerDay / tightest.sectorsPerDay) }
        }
        return text
    }

    // MARK: sections

    func workloadAndBox() -> String {
        let w = setup.workload
        var rows: [(String, String)] = w.sectors.map { ("sectors", "\($0.kind.rawValue) \($0.size), weight \($0.weight)") }
        rows.append(("seed wait", Self.duration(w.seedWait.inSeconds)))
        rows.append(("jitter", "±\(Int((w.jitter * 100).rounded()))% of each stage's cost-table time, seed \(w.seed)"))
        if let post = w.windowPost {
            rows.append(("WindowPoSt", "\(post.partitions) partitions of \(post.size) every \(Self.duration(post.every.inSeconds))"))
        } else {
            rows.append(("WindowPoSt", "none"))
        }
        for (stage, spacing) in w.staggered.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            rows.append(("staggered", "\(stage) at most one start per \(Self.duration(spacing.inSeconds))"))
        }
        var out = "<section id=\"workload\"><h2>Workload and box</h2><div class=\"pair\">\n"
        out += "<table><caption>workload</caption>" + rows.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined() + "</table>\n"
        out += "<table><caption>box</caption><tr><th></th><th>cores</th><th>L3 groups</th><th>memory</th><th>hugepages</th></tr>"
        for node in setup.capacity.nodes {
            out += "<tr><th>node \(node.id)</th><td>\(node.cpus.count)</td><td>\(node.l3Groups.count)</td><td>\(ByteSize.short(node.memoryBytes))</td><td>\(node.hugepages)</td></tr>"
        }
        if setup.capacity.nodes.isEmpty { out += "<tr><td colspan=\"5\">no NUMA nodes</td></tr>" }
        out += "<tr><th></th><th>node</th><th>VRAM</th><th>slots</th><th></th></tr>"
        for gpu in setup.capacity.gpus {
            out += "<tr><th>gpu \(gpu.index)</th><td>\(gpu.node.map(String.init) ?? "-")</td><td>\(ByteSize.short(gpu.vramBytes))</td><td>\(gpu.slots)</td><td></td></tr>"
        }
        if setup.capacity.gpus.isEmpty { out += "<tr><td colspan=\"5\">no GPUs: GPU stages cannot run on this box</td></tr>" }
        out += "</table></div></section>\n"
        return out
    }

    func throughput() -> String {
        var out = "<section id=\"bounds\"><h2>Bounds and ratio</h2>\n"
        out += "<p>A bound is the most sectors a day the box could seal whatever the scheduler; the ratio is a run's "
            + "sectors/day over the lowest bound.</p>\n"
        out += "<table class=\"figures\"><tr><th>bound</th><th>sectors/day</th>" + runs.map { "<th>\(esc($0.name)) ÷ bound</th>" }.joined() + "<th></th></tr>\n"
        for bound in bounds {
            let binding = bound == tightest
            out += "<tr\(binding ? " class=\"binds\"" : "")><th>\(esc(bound.name))\(binding ? " (binds)" : "")</th><td>\(Self.rate(bound.sectorsPerDay))</td>"
            out += runs.map { "<td>\(Self.ratio($0.result.sectorsPerDay, bound.sectorsPerDay))</td>" }.joined()
            out += "<td class=\"note\">\(esc(bound.detail))</td></tr>\n"
        }
        if bounds.isEmpty { out += "<tr><td colspan=\"\(3 + runs.count)\">no bound computed</td></tr>\n" }
        out += "</table>\n"
        // The runs side by side: one column each.
        var rows: [(String, [String])] = []
        rows.append(("sectors/day", runs.map { Self.rate($0.result.sectorsPerDay) }))
        rows.append(("ratio of the bound", runs.map { Self.ratio($0.result.sectorsPerDay, tightest?.sectorsPerDay ?? 0) }))
        rows.append(("sectors done", runs.map { String($0.result.completed) }))
        rows.append(("oversubscriptions", runs.map { String($0.result.oversubscriptions) }))
        let keys = Set(runs.flatMap { $0.result.utilization.keys }).sorted()
        for key in keys { rows.append(("busy \(key)", runs.map { $0.result.utilization[key].map { BusyChartSVG.percent($0) } ?? "-" })) }
        let stages = ProofStage.allCases.filter { stage in runs.contains { $0.result.longestWait[stage] != nil } }
        for stage in stages { rows.append(("longest wait \(stage)", runs.map { $0.result.longestWait[stage].map { Self.duration($0.inSeconds) } ?? "-" })) }
        var extra: [String] = []
        for run in runs { for figure in run.figures where !extra.contains(figure.name) { extra.append(figure.name) } }
        for name in extra { rows.append((name, runs.map { run in run.figures.first { $0.name == name }?.value ?? "-" })) }
        out += "<table class=\"figures\"><tr><th>run</th>" + runs.map { "<th>\(esc($0.name))</th>" }.joined() + "</tr>\n"
        for (name, values) in rows { out += "<tr><th>\(esc(name))</th>" + values.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n" }
        out += "</table></section>\n"
        return out
    }

    func resources() -> String {
        var out = "<section id=\"resources\"><h2>Resources over time</h2>\n<p>What the running stages held of each resource, against its capacity"
            + (runs.count > 1 ? "; the runs overlaid (" + runs.enumerated().map { "\(esc($0.element.name)) \(Self.colorName($0.offset))" }.joined(separator: ", ") + ")" : "")
            + ".\(setup.capacity.hugepages == 0 ? " This box has no hugepages, so none are drawn." : "")"
            + "\(setup.capacity.gpus.isEmpty ? " This box has no GPUs." : "")</p>\n<div class=\"grid\">\n"
        let perRun = runs.map { BusyCurve.all(setup.capacity, segments: $0.result.segments, horizonSeconds: horizonSeconds) }
        for i in (perRun.first ?? []).indices {
            let overlaid = runs.indices.compactMap { r in i < perRun[r].count ? (run: runs[r].name, curve: perRun[r][i]) : nil }
            out += "<figure>" + BusyChartSVG.render(overlaid) + "</figure>\n"
        }
        if setup.capacity.nodes.isEmpty && setup.capacity.gpus.isEmpty { out += "<p>The box has no resources to draw.</p>\n" }
        out += "</div></section>\n"
        return out
    }

    func timelines() -> String {
        var out = "<section id=\"timeline\"><h2>Stage timeline</h2>\n<p>Rows are CPU cores grouped by NUMA node, GPU slots, sealing threads and "
            + "concurrent WindowPoSt runs; each pixel column shows the stage that held the row for most of its time (hover for its name). "
            + "On a thread's row, grey is waiting for admission; blank is the seed wait or idle.</p>\n"
        out += "<div class=\"runs\">\n"
        for run in runs {
            out += "<figure>" + TimelineSVG.svg(run.result.segments, pending: run.result.pending, capacity: setup.capacity, title: "\(setup.workload.name): \(run.name)",
                                                 horizon: .seconds(horizonSeconds), threads: setup.threads, standalone: false) + "</figure>\n"
        }
        out += "</div></section>\n"
        return out
    }

    func waits() -> String {
        var out = "<section id=\"waits\"><h2>Admission waits per stage</h2>\n<p>How long each run of a stage waited for the pools (or the "
            + "static limits) before it started.</p>\n<div class=\"grid\">\n"
        let stages = ProofStage.allCases.filter { stage in
            stage != .windowPost && runs.contains { $0.result.segments.contains { $0.stage == stage } || $0.result.pending.contains { $0.stage == stage } }
        }
        for stage in stages {
            let histograms = runs.map { run in
                (run: run.name, histogram: Histogram(run.result.segments.filter { $0.stage == stage && $0.thread != nil }.map(\.waited.inSeconds), bins: Histogram.stageWaits))
            }
            let subtitle = zip(runs, histograms).map { run, h in
                (runs.count > 1 ? run.name + ": " : "") + "\(h.histogram.total) runs, longest \(Self.duration(run.result.longestWait[stage]?.inSeconds ?? 0))"
                    + stillWaiting(run.result, stage)
            }.joined(separator: "; ")
            out += "<figure>" + Histogram.render(title: stage.rawValue, subtitle: subtitle, histograms) + "</figure>\n"
        }
        if stages.isEmpty { out += "<p>No stage ran\(horizonSeconds <= 0 ? ": nothing was simulated (0 days)" : "").</p>\n" }
        out += "</div></section>\n"
        return out
    }

    func windowPost() -> String {
        var out = "<section id=\"windowpost\"><h2>WindowPoSt waits</h2>\n"
        guard let post = setup.workload.windowPost else { return out + "<p>This workload proves no WindowPoSt.</p></section>\n" }
        out += "<p>\(post.partitions) partitions every \(Self.duration(post.every.inSeconds)); a partition waits behind sealing and behind "
            + "the burst's other partitions. "
            + runs.map { "\(esc($0.name)): \($0.result.postRuns) runs, longest wait \(Self.duration($0.result.postMaxWait.inSeconds)), "
                + "of it behind sealing \(Self.duration($0.result.postMaxSealingWait.inSeconds))" + stillWaiting($0.result, .windowPost) }
                .joined(separator: "; ") + ".</p>\n"
        let histograms = runs.map { run in
            (run: run.name, histogram: Histogram(run.result.segments.filter { $0.stage == .windowPost && $0.thread == nil }.map(\.waited.inSeconds), bins: Histogram.postWaits))
        }
        out += "<div class=\"grid\"><figure>" + Histogram.render(title: "window_post", subtitle: "waits from the burst to the start", histograms, width: 540)
            + "</figure></div></section>\n"
        return out
    }

    /// ", 3 still waiting (since 2.5 h)" when requests for `stage` were never admitted.
    func stillWaiting(_ result: SimulationResult, _ stage: ProofStage) -> String {
        let waiting = result.pending.filter { $0.stage == stage }
        guard let oldest = waiting.map(\.since).min() else { return "" }
        return ", \(waiting.count) still waiting (the first for \(Self.duration(horizonSeconds - oldest.inSeconds)))"
    }

    // MARK: formatting

    private func esc(_ text: String) -> String { SVGWriter.escape(text) }

    static func colorName(_ index: Int) -> String { ["blue", "orange", "green", "purple"][index % 4] }

    static func rate(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value) : "unbounded"
    }

    static func ratio(_ value: Double, _ bound: Double) -> String {
        bound > 0 && bound.isFinite ? String(format: "%.3f", value / bound) : "-"
    }

    /// "45 s", "12 min", "2.5 h", "3 d".
    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<0.001: "0"
        case ..<60: "\(SVGWriter.number(seconds)) s"
        case ..<3600: "\(SVGWriter.number(seconds / 60)) min"
        case ..<172_800: "\(SVGWriter.number(seconds / 3600)) h"
        default: "\(SVGWriter.number(seconds / 86_400)) d"
        }
    }

    static let style = """
    body{font-family:sans-serif;margin:1.5em;color:#222;max-width:2600px}
    h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
    .lead{color:#444}table{border-collapse:collapse;margin:.5em 1.5em .5em 0;font-size:.9em}
    caption{text-align:left;font-weight:bold;padding:.2em 0}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}
    td{font-variant-numeric:tabular-nums}.note{color:#666;font-size:.9em}tr.binds{background:#fff3cd}
    .pair{display:flex;flex-wrap:wrap;align-items:flex-start}
    .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,max-content));gap:.6em}
    .runs{display:grid;grid-template-columns:repeat(auto-fit,minmax(900px,1fr));gap:1em}
    figure{margin:0}svg{max-width:100%;height:auto;border:1px solid #eee}
    footer{margin-top:2em;color:#888;font-size:.8em}
    """

    /// Counts what each chart drew, in the browser, and writes the verdict into #selfcheck:
    /// a chart that should show data but drew nothing visible, or a script error, fails the page.
    static let selfCheck = """
    (function () {
      var out = document.getElementById('selfcheck');
      var charts = document.querySelectorAll('svg[data-chart]');
      var marks = 0, blank = [], emptyByDesign = 0;
      for (var i = 0; i < charts.length; i++) {
        var chart = charts[i], found = chart.querySelectorAll('[data-mark]'), visible = 0;
        marks += found.length;
        for (var j = 0; j < found.length && j < 50 && visible === 0; j++) {
          var box = found[j].getBBox();
          if (box.width > 0 || box.height > 0) visible++;
        }
        var size = chart.getBoundingClientRect();
        if (chart.getAttribute('data-expect') === 'empty') emptyByDesign++;
        else if (visible === 0 || size.width <= 0 || size.height <= 0) blank.push(chart.getAttribute('data-chart') + '#' + i);
      }
      var errors = window.reportErrors || [];
      var ok = charts.length > 0 && blank.length === 0 && errors.length === 0;
      out.setAttribute('data-status', ok ? 'ok' : 'fail');
      out.setAttribute('data-charts', String(charts.length));
      out.setAttribute('data-marks', String(marks));
      out.textContent = 'self-check: ' + (ok ? 'ok' : 'FAIL') + ', ' + charts.length + ' charts, ' + marks + ' marks, '
        + emptyByDesign + ' empty by design' + (blank.length ? ', blank: ' + blank.join(' ') : '')
        + (errors.length ? ', errors: ' + errors.join(' | ') : '');
    })();
    """
}
