import Foundation

/// Builds Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then samples, every
/// sample carrying the global labels first.
public struct PrometheusText: Sendable {
    /// The `Content-Type` of a scrape answer.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let global: [(String, String)]
    public private(set) var text = ""

    /// `global` labels (e.g. `worker_name`, `worker_ip`) are put on every sample.
    public init(global: [(String, String)]) {
        self.global = global
    }

    /// Starts a family: its help line and type (`counter`, `gauge`, `histogram`).
    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    /// One sample line.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        let all = global + labels
        if !all.isEmpty {
            text += "{" + all.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
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

    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
