/// Builds SVG markup as text: compact numbers (tenths), escaped text, and the `data-mark`
/// attribute on everything that draws data, which the report's self-check counts in a browser.
struct SVGWriter {
    private(set) var text = ""
    /// Data-carrying elements written so far (bars, curves, points).
    private(set) var marks = 0

    /// A data element (bar, cell) with a tooltip.
    mutating func mark(x: Double, y: Double, width: Double, height: Double, fill: String, tooltip: String? = nil) {
        marks += 1
        text += "<rect data-mark=\"1\" x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"\(fill)\""
        if let tooltip { text += "><title>\(Self.escape(tooltip))</title></rect>\n" } else { text += "/>\n" }
    }

    /// A data curve (or filled area) through `points`.
    mutating func curve(_ points: [(x: Double, y: Double)], stroke: String, fill: String = "none", attributes: String = "") {
        guard let first = points.first else { return }
        marks += 1
        var d = "M\(Self.number(first.x)) \(Self.number(first.y))"
        for p in points.dropFirst() { d += "L\(Self.number(p.x)) \(Self.number(p.y))" }
        if fill != "none" { d += "Z" }
        text += "<path data-mark=\"1\" d=\"\(d)\" stroke=\"\(stroke)\" fill=\"\(fill)\"\(attributes.isEmpty ? "" : " " + attributes)/>\n"
    }

    /// A decoration (frame, swatch background) that is not data.
    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String = "none") {
        text += "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>\n"
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, dash: String? = nil) {
        text += "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" stroke=\"\(stroke)\""
        text += (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>\n"
    }

    enum Anchor: String { case start, middle, end }

    mutating func label(_ string: String, x: Double, y: Double, size: Double = 11, anchor: Anchor = .start, weight: String? = nil, fill: String = "#222") {
        text += "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" fill=\"\(fill)\""
        if anchor != .start { text += " text-anchor=\"\(anchor.rawValue)\"" }
        if let weight { text += " font-weight=\"\(weight)\"" }
        text += ">\(Self.escape(string))</text>\n"
    }

    mutating func raw(_ markup: String) { text += markup }

    /// The finished `<svg>` element. `standalone` adds the namespace a file on its own needs
    /// (inline SVG in HTML does without it); `kind` names the chart for the self-check;
    /// `expectMarks` false says an empty chart is right here (nothing was simulated).
    func svg(width: Double, height: Double, kind: String, expectMarks: Bool = true, standalone: Bool = false) -> String {
        let ns = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        let w = Self.number(width), h = Self.number(height)
        return "<svg\(ns) data-chart=\"\(kind)\" data-expect=\"\(expectMarks ? "marks" : "empty")\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" "
            + "font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n" + text + "</svg>\n"
    }

    /// `x` to one decimal, without a trailing ".0" (SVG files with tens of thousands of bars stay small).
    static func number(_ x: Double) -> String {
        guard x.isFinite, abs(x) < 1e15 else { return x.isNaN ? "0" : x > 0 ? "1e15" : "-1e15" }
        let tenths = Int((x * 10).rounded())
        let whole = tenths / 10, fraction = abs(tenths % 10)
        let sign = tenths < 0 && whole == 0 ? "-" : ""
        return fraction == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// Text safe inside an element or a quoted attribute.
    static func escape(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for c in string {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
