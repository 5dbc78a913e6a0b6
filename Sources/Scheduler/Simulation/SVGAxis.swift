import Foundation

/// A linear scale from data values to pixels, with round tick values: the time axis in hours
/// every chart of a simulation shares, and the value axes of busy curves and histograms.
struct SVGAxis {
    var lower: Double
    var upper: Double
    /// Pixels `lower` and `upper` land on (a value axis runs upwards: start > end).
    var start: Double
    var end: Double

    init(_ lower: Double, _ upper: Double, pixels start: Double, _ end: Double) {
        self.lower = lower
        // An empty domain (a zero-day run, an idle resource) still gets a drawable axis.
        self.upper = upper > lower ? upper : lower + 1
        self.start = start
        self.end = end
    }

    func position(_ value: Double) -> Double {
        start + (min(max(value, lower), upper) - lower) / (upper - lower) * (end - start)
    }

    /// Round values in the domain, about `target` of them: steps of 1, 2 or 5 times a power of ten.
    /// `unit` sets what counts as round (2^30 for GiB ticks on a byte axis).
    func ticks(target: Int = 5, unit: Double = 1) -> [Double] {
        let step = Self.niceStep((upper - lower) / unit / Double(max(1, target)), steps: [1, 2, 5]) * unit
        return stride(from: (lower / step).rounded(.up) * step, through: upper + step * 1e-9, by: step).map { $0 }
    }

    /// Hour ticks on a time axis: steps a reader counts in (1, 2, 3, 6, 12 h, days, weeks).
    func hourTicks(target: Int = 12) -> [Double] {
        let span = upper - lower
        let candidates: [Double] = [0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160, 4320, 8760]
        let step = candidates.first { span / $0 <= Double(target) } ?? Self.niceStep(span / Double(target), steps: [1, 2, 5])
        return stride(from: (lower / step).rounded(.up) * step, through: upper + step * 1e-9, by: step).map { $0 }
    }

    static func niceStep(_ raw: Double, steps: [Double]) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        return (steps + [10]).map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    }

    /// An hour tick's label: "12", "1.5", "0.25".
    static func hours(_ value: Double) -> String {
        if value == value.rounded() { return "\(Int(value))" }
        return String(format: value * 10 == (value * 10).rounded() ? "%.1f" : "%.2f", value)
    }

    /// A horizontal axis along `y` with hour ticks, light grid lines up to `gridTop`, and a caption.
    func drawTime(_ w: inout SVGWriter, y: Double, gridTop: Double?, caption: String = "time (hours)") {
        w.line(x1: start, y1: y, x2: end, y2: y, stroke: "#444")
        for tick in hourTicks() {
            let x = position(tick)
            if let gridTop { w.line(x1: x, y1: gridTop, x2: x, y2: y, stroke: "#e4e4e4") }
            w.line(x1: x, y1: y, x2: x, y2: y + 4, stroke: "#444")
            w.label(Self.hours(tick), x: x, y: y + 15, size: 10, anchor: .middle)
        }
        w.label(caption, x: end, y: y + 28, size: 10, anchor: .end, fill: "#555")
    }

    /// A vertical axis along `x` with value ticks and grid lines to `gridRight`.
    func drawValues(_ w: inout SVGWriter, x: Double, gridRight: Double, unit: Double = 1, format: (Double) -> String) {
        w.line(x1: x, y1: start, x2: x, y2: end, stroke: "#444")
        for tick in ticks(target: 4, unit: unit) {
            let y = position(tick)
            w.line(x1: x, y1: y, x2: gridRight, y2: y, stroke: "#eee")
            w.label(format(tick), x: x - 4, y: y + 3.5, size: 10, anchor: .end)
        }
    }
}
