/// Counts of waits in bins a reader thinks in (none, under a minute, ... half a day or more),
/// and their bar chart: one histogram per stage for admission waits, one for WindowPoSt.
public struct Histogram: Sendable, Hashable {
    /// A bin holds the values below `upper` that no earlier bin holds.
    public struct Bin: Sendable, Hashable {
        public var upper: Double
        public var label: String
    }

    public var bins: [Bin]
    public var counts: [Int]

    /// Waits for admission, in seconds (a waited millisecond or less counts as none).
    public static let stageWaits: [Bin] = [
        .init(upper: 0.001, label: "none"), .init(upper: 60, label: "<1m"), .init(upper: 600, label: "1-10m"),
        .init(upper: 3600, label: "10m-1h"), .init(upper: 4 * 3600, label: "1-4h"), .init(upper: 12 * 3600, label: "4-12h"),
        .init(upper: .infinity, label: "12h+"),
    ]

    /// WindowPoSt waits, in seconds: a proving deadline is 30 minutes.
    public static let postWaits: [Bin] = [
        .init(upper: 0.001, label: "none"), .init(upper: 10, label: "<10s"), .init(upper: 60, label: "10s-1m"),
        .init(upper: 300, label: "1-5m"), .init(upper: 900, label: "5-15m"), .init(upper: 1800, label: "15-30m"),
        .init(upper: .infinity, label: "30m+"),
    ]

    public init(_ values: [Double], bins: [Bin]) {
        self.bins = bins
        var counts = [Int](repeating: 0, count: bins.count)
        for value in values {
            if let i = bins.firstIndex(where: { value < $0.upper }) { counts[i] += 1 }
        }
        self.counts = counts
    }

    public var total: Int { counts.reduce(0, +) }

    /// Bars per bin, one per run side by side (colours as in the busy charts).
    static func render(title: String, subtitle: String, _ histograms: [(run: String, histogram: Histogram)],
                       width: Double = 360, height: Double = 170) -> String {
        var w = SVGWriter()
        w.label(title, x: 8, y: 15, size: 13, weight: "bold")
        w.label(subtitle, x: 8, y: 30, size: 10.5, fill: "#444")
        guard let bins = histograms.first?.histogram.bins, !bins.isEmpty else { return w.svg(width: width, height: 40, kind: "histogram", expectMarks: false) }
        let left = 44.0, right = width - 8, top = 40.0, bottom = height - 22
        let highest = Double(histograms.flatMap(\.histogram.counts).max() ?? 0)
        let counts = SVGAxis(0, max(1, highest * 1.1), pixels: bottom, top)
        counts.drawValues(&w, x: left, gridRight: right) { $0 == $0.rounded() ? String(Int($0)) : "" }
        w.line(x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#444")
        let slot = (right - left) / Double(bins.count)
        let barWidth = slot * 0.8 / Double(max(1, histograms.count))
        for (b, bin) in bins.enumerated() {
            w.label(bin.label, x: left + (Double(b) + 0.5) * slot, y: bottom + 13, size: 9.5, anchor: .middle)
            for (r, entry) in histograms.enumerated() where b < entry.histogram.counts.count {
                let count = entry.histogram.counts[b]
                guard count > 0 else { continue }
                let x = left + Double(b) * slot + slot * 0.1 + Double(r) * barWidth
                let y = counts.position(Double(count))
                w.mark(x: x, y: y, width: barWidth, height: bottom - y, fill: BusyChartSVG.runColors[r % BusyChartSVG.runColors.count],
                       tooltip: "\(entry.run): \(count) in \(bin.label)")
                w.label(String(count), x: x + barWidth / 2, y: y - 2, size: 8.5, anchor: .middle, fill: "#333")
            }
        }
        var x = right
        for (r, entry) in histograms.enumerated().reversed() where histograms.count > 1 {
            x -= 18 + Double(entry.run.count) * 6
            w.rect(x: x, y: 6, width: 10, height: 10, fill: BusyChartSVG.runColors[r % BusyChartSVG.runColors.count])
            w.label(entry.run, x: x + 13, y: 15, size: 10)
        }
        if histograms.allSatisfy({ $0.histogram.total == 0 }) {
            w.label("none ran", x: (left + right) / 2, y: (top + bottom) / 2, size: 12, anchor: .middle, fill: "#a00")
            return w.svg(width: width, height: height, kind: "histogram", expectMarks: false)
        }
        return w.svg(width: width, height: height, kind: "histogram")
    }
}
