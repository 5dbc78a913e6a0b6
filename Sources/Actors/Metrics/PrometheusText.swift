/// Builds Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then samples, every
/// sample carrying the global labels first.
public struct PrometheusText: Sendable {
    /// The `Content-Type` of a scrape answer.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The global labels, rendered and escaped once: `a="x",b="y"`.
    private let global: String
    public private(set) var text = ""

    /// `global` labels (e.g. `worker_name`, `worker_ip`) are put on every sample.
    public init(global: [(String, String)]) {
        self.global = global.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",")
        text.reserveCapacity(8192)
    }

    /// Starts a family: its help line and type (`counter`, `gauge`, `histogram`).
    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    /// One sample line.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !global.isEmpty || !labels.isEmpty {
            text += "{"
            text += global
            for (index, label) in labels.enumerated() {
                if index > 0 || !global.isEmpty { text += "," }
                text += label.0
                text += "=\""
                text += Self.escapeLabel(label.1)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += Self.format(value)
        text += "\n"
    }

    /// A histogram's `_bucket` (cumulative, with `le`), `_sum` and `_count` samples.
    public mutating func histogram(_ name: String, _ labels: [(String, String)], _ state: HistogramState) {
        var cumulative: UInt64 = 0
        for (index, bound) in state.bounds.enumerated() {
            cumulative += state.counts[index]
            sample(name + "_bucket", labels + [("le", Self.format(bound))], Double(cumulative))
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(state.count))
        sample(name + "_sum", labels, state.sum)
        sample(name + "_count", labels, Double(state.count))
    }

    /// Integers without a fraction; `+Inf`, `-Inf` and `NaN` as the format spells them.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Backslash, double quote and newline escaped; most values have none and are returned as they are.
    static func escapeLabel(_ value: String) -> String {
        escape(value, quote: true)
    }

    /// Backslash and newline escaped.
    static func escapeHelp(_ value: String) -> String {
        escape(value, quote: false)
    }

    private static func escape(_ value: String, quote: Bool) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || (quote && $0 == UInt8(ascii: "\"")) }) else {
            return value
        }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
