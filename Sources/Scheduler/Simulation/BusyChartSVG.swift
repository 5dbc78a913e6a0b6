/// One resource's busy-over-time chart: what the running stages held (each time bucket's mean as
/// a filled curve, its peak as a thin line) under the resource's capacity (dashed), for one run
/// or several runs of the same box overlaid (`--compare`).
enum BusyChartSVG {
    /// Colours of the runs in a chart (dynamic first, then static).
    static let runColors = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"]

    static func render(_ curves: [(run: String, curve: BusyCurve)], width: Double = 540, height: Double = 190) -> String {
        var w = SVGWriter()
        guard let first = curves.first?.curve else { return w.svg(width: width, height: 40, kind: "busy", expectMarks: false) }
        let left = 62.0, right = width - 12, top = 38.0, bottom = height - 36
        let highest = max(first.capacity + first.headroom, curves.map(\.curve.highest).max() ?? 0)
        let values = SVGAxis(0, highest * 1.08, pixels: bottom, top)
        let time = SVGAxis(0, first.horizonSeconds / 3600, pixels: left, right)
        w.label(first.name, x: 8, y: 15, size: 13, weight: "bold")
        let summary = curves.map { entry in
            (curves.count > 1 ? entry.run + " " : "") + "mean \(percent(entry.curve.meanShare)), peak \(format(entry.curve.highest, entry.curve.unit))"
        }.joined(separator: "; ")
        w.label(summary + " of \(format(first.capacity, first.unit))", x: 8, y: 30, size: 10.5, fill: "#444")
        if first.unit == .bytes {
            let unit: Double = highest >= 4 * 1_099_511_627_776 ? 1_099_511_627_776 : 1_073_741_824
            values.drawValues(&w, x: left, gridRight: right, unit: unit) { SVGWriter.number($0 / unit) + (unit > 1_073_741_824 ? "TiB" : "GiB") }
        } else {
            values.drawValues(&w, x: left, gridRight: right) { SVGWriter.number($0) }
        }
        time.drawTime(&w, y: bottom, gridTop: nil)
        guard first.horizonSeconds > 0, !first.mean.isEmpty else {
            w.label("nothing simulated (0 hours)", x: left + 8, y: (top + bottom) / 2, size: 12, fill: "#a00")
            return w.svg(width: width, height: height, kind: "busy", expectMarks: false)
        }
        for (i, entry) in curves.enumerated() {
            let color = runColors[i % runColors.count]
            let curve = entry.curve
            let step = (right - left) / Double(curve.mean.count)
            func steps(_ series: [Double]) -> [(x: Double, y: Double)] {
                series.enumerated().flatMap { c, v in [(left + Double(c) * step, values.position(v)), (left + Double(c + 1) * step, values.position(v))] }
            }
            let meanPoints = steps(curve.mean)
            w.curve([(left, bottom)] + meanPoints + [(right, bottom)], stroke: "none", fill: color, attributes: "fill-opacity=\"\(curves.count > 1 ? "0.18" : "0.35")\"")
            w.curve(meanPoints, stroke: color, attributes: "stroke-width=\"1.2\"")
            if curves.count == 1 { w.curve(steps(curve.peak), stroke: color, attributes: "stroke-width=\"0.6\" stroke-opacity=\"0.6\"") }
        }
        let capacityY = values.position(first.capacity)
        w.line(x1: left, y1: capacityY, x2: right, y2: capacityY, stroke: "#c00", dash: "5 3")
        w.label("capacity", x: right - 2, y: capacityY - 3, size: 9.5, anchor: .end, fill: "#c00")
        if first.headroom > 0 {
            let y = values.position(first.capacity + first.headroom)
            w.line(x1: left, y1: y, x2: right, y2: y, stroke: "#c00", dash: "1 3")
            w.label("+ WindowPoSt's extra slot", x: right - 2, y: y - 3, size: 9.5, anchor: .end, fill: "#c00")
        }
        // Legend: which fill is which run, and what the thin line is.
        var x = left + 150
        for (i, entry) in curves.enumerated() where curves.count > 1 {
            w.rect(x: x, y: 4, width: 10, height: 10, fill: runColors[i % runColors.count])
            w.label(entry.run, x: x + 13, y: 13, size: 10)
            x += 20 + Double(entry.run.count) * 6
        }
        if curves.count == 1 { w.label("fill: mean per \(bucketText(first)), line: peak", x: right, y: 15, size: 9.5, anchor: .end, fill: "#555") }
        return w.svg(width: width, height: height, kind: "busy")
    }

    static func bucketText(_ curve: BusyCurve) -> String {
        let minutes = curve.horizonSeconds / Double(max(1, curve.mean.count)) / 60
        return minutes >= 1 ? "\(Int(minutes.rounded())) min" : "\(Int((minutes * 60).rounded())) s"
    }

    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

    static func format(_ value: Double, _ unit: BusyCurve.Unit) -> String {
        switch unit {
        case .cores: "\(SVGWriter.number(value)) cores"
        case .hugepages: "\(SVGWriter.number(value)) hugepages"
        case .stages: "\(SVGWriter.number(value)) stages"
        case .bytes: value <= 0 ? "0" : ByteSize.short(UInt64(value.rounded()))
        }
    }
}
