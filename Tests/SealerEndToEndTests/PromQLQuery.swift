import Foundation

/// The series a PromQL expression (or a Grafana `label_values(...)` query) selects, their label
/// matchers, and the labels it groups by: enough to check names against `/metrics`, not a parser
/// of the whole language.
struct PromQLQuery {
    struct Selector {
        var name: String
        var matchers: [(label: String, op: String, value: String)]
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Labels Prometheus adds at scrape time, not the daemon.
    static let targetLabels: Set<String> = ["instance", "job"]
    static let functions: Set<String> = [
        "sum", "avg", "min", "max", "count", "topk", "bottomk", "quantile", "stddev", "group", "count_values",
        "rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes", "histogram_quantile", "abs", "clamp_min", "clamp_max",
        "min_over_time", "max_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time", "absent", "absent_over_time",
        "vector", "scalar", "time", "label_replace", "round", "ceil", "floor", "label_values",
    ]
    static let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "group_left", "group_right"]
    static let grouping: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    var selectors: [Selector] = []
    var groupingLabels: [String] = []

    init(_ expr: String) throws(ReadError) {
        let chars = Array(expr)
        // Brackets balance outside strings.
        var depth: [Character] = []
        var inString: Character?
        for (index, c) in chars.enumerated() {
            if let quote = inString {
                if c == quote, index == 0 || chars[index - 1] != "\\" { inString = nil }
                continue
            }
            switch c {
            case "\"", "'": inString = c
            case "(", "{", "[": depth.append(c)
            case ")", "}", "]":
                let open: Character = c == ")" ? "(" : c == "}" ? "{" : "["
                guard depth.popLast() == open else { throw ReadError(description: "unbalanced \(c) at \(index) in \(expr)") }
            default: break
            }
        }
        guard depth.isEmpty, inString == nil else { throw ReadError(description: "unclosed \(depth.last.map(String.init) ?? "string") in \(expr)") }
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
        func isStart(_ c: Character) -> Bool { c.isLetter || c == "_" || c == ":" }
        func isPart(_ c: Character) -> Bool { isStart(c) || c.isNumber }
        func quoted() throws(ReadError) -> String {
            let quote = chars[i]
            i += 1
            var value = ""
            while i < chars.count, chars[i] != quote {
                if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                value.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw ReadError(description: "unterminated string in \(expr)") }
            i += 1
            return value
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "\"" || c == "'" { _ = try quoted(); continue }
            if c == "[" {
                guard let close = chars[i...].firstIndex(of: "]") else { throw ReadError(description: "unclosed [ in \(expr)") }
                i = close + 1
                continue
            }
            if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                while i < chars.count, isPart(chars[i]) || chars[i] == "." { i += 1 }
                continue
            }
            if c == "$" {
                i += 1
                while i < chars.count, isPart(chars[i]) { i += 1 }
                continue
            }
            if c == "{" {
                // A selector without a name: no series to check, but it must close.
                _ = try matchers(chars, &i, expr)
                continue
            }
            guard isStart(c) else { i += 1; continue }
            var word = ""
            while i < chars.count, isPart(chars[i]) { word.append(chars[i]); i += 1 }
            skipSpaces()
            if Self.grouping.contains(word) {
                if i < chars.count, chars[i] == "(" {
                    guard let close = chars[i...].firstIndex(of: ")") else { throw ReadError(description: "unclosed \(word)( in \(expr)") }
                    groupingLabels += String(chars[(i + 1)..<close]).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    i = close + 1
                }
                continue
            }
            if Self.keywords.contains(word) { continue }
            if i < chars.count, chars[i] == "(" {
                guard Self.functions.contains(word) else { throw ReadError(description: "unknown function \(word) in \(expr)") }
                if word == "label_values" {
                    // label_values(METRIC, LABEL): the metric is a series, the label one of its labels.
                    guard let close = chars[i...].firstIndex(of: ")") else { throw ReadError(description: "unclosed label_values( in \(expr)") }
                    let args = String(chars[(i + 1)..<close]).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    if args.count == 2 {
                        selectors.append(Selector(name: args[0], matchers: []))
                        groupingLabels.append(args[1])
                    }
                    i = close + 1
                }
                continue
            }
            // An aggregation followed by its `by (...)`, e.g. `sum by (x) (...)`: not a series.
            if Self.functions.contains(word) { continue }
            var selector = Selector(name: word, matchers: [])
            if i < chars.count, chars[i] == "{" { selector.matchers = try matchers(chars, &i, expr) }
            selectors.append(selector)
        }
    }

    /// `{a="x", b=~"y"}` from `i` (at the brace) to after the closing brace.
    private func matchers(_ chars: [Character], _ i: inout Int, _ expr: String) throws(ReadError) -> [(label: String, op: String, value: String)] {
        var out: [(String, String, String)] = []
        i += 1
        while true {
            while i < chars.count, chars[i].isWhitespace || chars[i] == "," { i += 1 }
            guard i < chars.count else { throw ReadError(description: "unclosed { in \(expr)") }
            if chars[i] == "}" { i += 1; return out }
            var label = ""
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { label.append(chars[i]); i += 1 }
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            var op = ""
            while i < chars.count, "=!~".contains(chars[i]) { op.append(chars[i]); i += 1 }
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            guard !label.isEmpty, ["=", "!=", "=~", "!~"].contains(op), i < chars.count, chars[i] == "\"" else {
                throw ReadError(description: "bad label matcher at \(i) in \(expr)")
            }
            let quote = chars[i]
            i += 1
            var value = ""
            while i < chars.count, chars[i] != quote {
                if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                value.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw ReadError(description: "unterminated label value in \(expr)") }
            i += 1
            out.append((label, op, value))
        }
    }
}
