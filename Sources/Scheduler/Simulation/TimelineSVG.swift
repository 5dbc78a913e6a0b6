import ProofsFFI

/// The stage timeline of a simulated run as SVG: one row per CPU core (grouped and labelled by
/// NUMA node), per GPU slot, per sealing thread and per concurrent WindowPoSt, coloured by stage,
/// with a legend and a time axis in hours. Each pixel column shows the stage that held the row
/// for most of that column's time, so a week of 512 threads stays a few megabytes.
public enum TimelineSVG {
    /// A standalone SVG file (`sealer simulate --svg`).
    public static func render(_ segments: [Segment], pending: [PendingRequest] = [], capacity: BoxCapacity, title: String, horizon: Duration? = nil,
                              threads: Int = 0) -> String {
        svg(segments, pending: pending, capacity: capacity, title: title, horizon: horizon, threads: threads, standalone: true)
    }

    /// What a stretch of a row shows: a stage holding it, or (on a thread's row) the thread
    /// waiting for its next stage to be admitted.
    enum Paint: Hashable {
        case stage(ProofStage)
        case waiting

        static let all: [Paint] = ProofStage.allCases.map { .stage($0) } + [.waiting]
        static let waitingColor = "#d9d9d9"

        var color: String {
            switch self {
            case let .stage(stage): StagePalette.color(stage)
            case .waiting: Self.waitingColor
            }
        }

        var name: String {
            switch self {
            case let .stage(stage): stage.rawValue
            case .waiting: "waiting for admission"
            }
        }
    }

    /// One row of the chart: what it is, the group it belongs to, and what it showed when (seconds).
    struct Row {
        var label: String
        var group: String
        var intervals: [(start: Double, end: Double, paint: Paint)] = []
    }

    static let plotWidth = 1100.0
    static let left = 120.0

    static func svg(_ segments: [Segment], pending: [PendingRequest], capacity: BoxCapacity, title: String, horizon: Duration?, threads: Int,
                    standalone: Bool) -> String {
        let end = horizon?.inSeconds ?? (segments.map(\.end.inSeconds).max() ?? 0)
        let rows = self.rows(segments, pending: pending, end: end, capacity: capacity, threads: threads)
        let groupCount = Set(rows.map(\.group)).count
        let rowHeight = min(12, max(1.5, 720 / Double(max(1, rows.count))))
        var w = SVGWriter()
        let width = left + plotWidth + 20
        w.label(title, x: 8, y: 18, size: 14, weight: "bold")
        let stages = Set(segments.map(\.stage))
        let waited = segments.contains { $0.thread != nil && $0.waited > .zero } || pending.contains { $0.thread != nil }
        let legendHeight = StagePalette.drawLegend(&w, stages: Array(stages), waiting: waited ? Paint.waitingColor : nil, x: 8, y: 26, width: width - 16)
        let top = 26 + legendHeight + 10
        let groupHeader = 16.0
        let plotBottom = top + Double(rows.count) * rowHeight + Double(groupCount) * groupHeader
        let axis = SVGAxis(0, end / 3600, pixels: left, left + plotWidth)
        if end <= 0 || rows.isEmpty {
            w.label(end <= 0 ? "nothing simulated (0 hours)" : "no rows: the box has no cores", x: left + 8, y: top + 14, size: 12, fill: "#a00")
            axis.drawTime(&w, y: top + 30, gridTop: nil)
            return w.svg(width: width, height: top + 70, kind: "timeline", expectMarks: false, standalone: standalone)
        }
        axis.drawTime(&w, y: plotBottom + 4, gridTop: top)
        let columns = Int(plotWidth)
        let columnSeconds = end / Double(columns)
        let labelEvery = rowHeight >= 8 ? 1 : Int((10 / rowHeight).rounded(.up))
        var y = top
        var group: String?
        var indexInGroup = 0
        for row in rows {
            if row.group != group {
                // Each group (a node's cores, the GPUs, the threads) under its own heading.
                group = row.group
                indexInGroup = 0
                w.line(x1: 4, y1: y + 2, x2: left + plotWidth, y2: y + 2, stroke: "#bbb")
                w.label(row.group, x: 4, y: y + 13, size: 11, weight: "bold")
                y += groupHeader
            }
            // Row labels where there is room; every k-th row when rows are thin.
            if indexInGroup % labelEvery == 0 {
                let size = min(10, max(7, rowHeight))
                w.label(row.label, x: left - 4, y: y + rowHeight / 2 + size * 0.35, size: size, anchor: .end, fill: "#444")
            }
            for run in raster(row.intervals, columns: columns, columnSeconds: columnSeconds) {
                let x = left + Double(run.first) * plotWidth / Double(columns)
                let runWidth = Double(run.last - run.first + 1) * plotWidth / Double(columns)
                // The tooltip is the stage's name (the row label and the axis say where and when).
                w.mark(x: x, y: y, width: runWidth, height: rowHeight >= 3 ? rowHeight - 0.5 : rowHeight,
                       fill: run.paint.color, tooltip: run.paint.name)
            }
            y += rowHeight
            indexInGroup += 1
        }
        return w.svg(width: width, height: plotBottom + 40, kind: "timeline", standalone: standalone)
    }

    /// Cores by node, then GPU slots, then threads (waiting up to `end` for what was still
    /// pending), then concurrent WindowPoSt runs.
    static func rows(_ segments: [Segment], pending: [PendingRequest] = [], end: Double = 0, capacity: BoxCapacity, threads: Int) -> [Row] {
        var rows: [Row] = []
        var rowOfCPU: [Int: Int] = [:]
        for node in capacity.nodes {
            for cpu in node.cpus {
                rowOfCPU[cpu] = rows.count
                rows.append(Row(label: "cpu \(cpu)", group: "node \(node.id): \(node.cpus.count) cores"))
            }
        }
        for segment in segments {
            let interval = (segment.start.inSeconds, segment.end.inSeconds, Paint.stage(segment.stage))
            for cpu in segment.grant.cpus { if let row = rowOfCPU[cpu] { rows[row].intervals.append(interval) } }
        }
        let sorted = segments.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        for gpu in capacity.gpus {
            let lanes = lanes(sorted.filter { $0.grant.gpu == gpu.index }, minimum: gpu.slots)
            for (i, lane) in lanes.enumerated() {
                // Lanes past the slots hold the WindowPoSt runs that take a GPU's extra slot.
                let label = i >= gpu.slots ? "gpu \(gpu.index) extra" : gpu.slots > 1 ? "gpu \(gpu.index) slot \(i + 1)" : "gpu \(gpu.index)"
                rows.append(Row(label: label, group: "GPUs",
                                intervals: lane.map { ($0.start.inSeconds, $0.end.inSeconds, .stage($0.stage)) }))
            }
        }
        let threadCount = max(threads, ((segments.compactMap(\.thread) + pending.compactMap(\.thread)).max() ?? -1) + 1)
        var threadRows = (0..<threadCount).map { Row(label: "thread \($0)", group: "threads: \(threadCount)") }
        for segment in segments {
            guard let t = segment.thread else { continue }
            if segment.waited > .zero { threadRows[t].intervals.append(((segment.start - segment.waited).inSeconds, segment.start.inSeconds, .waiting)) }
            threadRows[t].intervals.append((segment.start.inSeconds, segment.end.inSeconds, .stage(segment.stage)))
        }
        for request in pending where request.since.inSeconds < end {
            if let t = request.thread { threadRows[t].intervals.append((request.since.inSeconds, end, .waiting)) }
        }
        rows += threadRows
        let posts = lanes(sorted.filter { $0.thread == nil }, minimum: 0)
        for (i, lane) in posts.enumerated() {
            rows.append(Row(label: "post \(i + 1)", group: "WindowPoSt (not a thread)", intervals: lane.map { ($0.start.inSeconds, $0.end.inSeconds, .stage($0.stage)) }))
        }
        return rows
    }

    /// Greedy interval partitioning: each segment goes to the first lane free at its start.
    static func lanes(_ segments: [Segment], minimum: Int) -> [[Segment]] {
        var lanes = [[Segment]](repeating: [], count: minimum)
        for segment in segments {
            if let i = lanes.firstIndex(where: { ($0.last?.end ?? .zero) <= segment.start }) {
                lanes[i].append(segment)
            } else {
                lanes.append([segment])
            }
        }
        return lanes
    }

    /// Runs of pixel columns showing one paint: a column shows what covered most of it, when
    /// something covered at least half of it.
    static func raster(_ intervals: [(start: Double, end: Double, paint: Paint)], columns: Int, columnSeconds: Double)
        -> [(first: Int, last: Int, paint: Paint)] {
        guard !intervals.isEmpty, columns > 0, columnSeconds > 0 else { return [] }
        let stages = Paint.all
        var cover = [Double](repeating: 0, count: columns * stages.count)
        for interval in intervals where interval.end > interval.start {
            let k = stages.firstIndex(of: interval.paint)!
            let first = max(0, min(columns - 1, Int(interval.start / columnSeconds)))
            let last = max(0, min(columns - 1, Int((interval.end / columnSeconds).rounded(.up)) - 1))
            guard first <= last else { continue }
            for c in first...last {
                let overlap = min(interval.end, Double(c + 1) * columnSeconds) - max(interval.start, Double(c) * columnSeconds)
                if overlap > 0 { cover[c * stages.count + k] += overlap }
            }
        }
        var runs: [(first: Int, last: Int, paint: Paint)] = []
        for c in 0..<columns {
            let slice = cover[(c * stages.count)..<((c + 1) * stages.count)]
            guard slice.reduce(0, +) >= columnSeconds / 2, let best = slice.indices.max(by: { slice[$0] < slice[$1] }) else { continue }
            let stage = stages[best - c * stages.count]
            if let lastRun = runs.last, lastRun.last == c - 1, lastRun.paint == stage {
                runs[runs.count - 1].last = c
            } else {
                runs.append((c, c, stage))
            }
        }
        return runs
    }
}
