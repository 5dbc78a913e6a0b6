/// Durations written as damocles (humantime) writes them: `"30s"`, `"1min"`, `"1h 30m"`, `"100ms"`.
public enum HumanDuration {
    private static let units: [String: Duration] = {
        var table: [String: Duration] = [:]
        func add(_ names: [String], _ d: Duration) { for n in names { table[n] = d } }
        add(["nsec", "ns"], .nanoseconds(1))
        add(["usec", "us", "µs"], .microseconds(1))
        add(["msec", "ms"], .milliseconds(1))
        add(["seconds", "second", "secs", "sec", "s"], .seconds(1))
        add(["minutes", "minute", "mins", "min", "m"], .seconds(60))
        add(["hours", "hour", "hrs", "hr", "h"], .seconds(3600))
        add(["days", "day", "d"], .seconds(86400))
        add(["weeks", "week", "w"], .seconds(604_800))
        add(["months", "month", "M"], .seconds(2_630_016))
        add(["years", "year", "y"], .seconds(31_557_600))
        return table
    }()

    /// Parses a sequence of `<integer><unit>` terms, optionally separated by spaces.
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = Duration.zero
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let n = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            guard let scale = units[String(unit)] else { return nil }
            rest = rest.dropFirst(unit.count).drop { $0 == " " }
            total += scale * n
        }
        return total
    }

    /// humantime's rendering: `"1h 2m 3s"`, `"150ms"`, `"0s"`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, atto) = duration.components
        var parts: [String] = []
        var rest = seconds
        for (name, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            parts.append("\(rest / size)\(name)")
            rest %= size
        }
        var nanos = atto / 1_000_000_000
        for (name, size) in [("ms", Int64(1_000_000)), ("us", 1000), ("ns", 1)] where nanos >= size {
            parts.append("\(nanos / size)\(name)")
            nanos %= size
        }
        return parts.isEmpty ? "0s" : parts.joined(separator: " ")
    }
}

import Foundation

extension Duration {
    /// The duration in seconds, as a Double (for rates, ratios and printing).
    public var inSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
