import Foundation

/// What one `/metrics` answer serves: sample names (histogram parts included) and their labels.
struct ServedMetrics {
    /// Family names from `# TYPE` (with `_bucket`, `_sum`, `_count` for histograms) and every
    /// sample name.
    var names: Set<String> = []
    /// Label sets of every sample, by sample name.
    var samples: [String: [[String: String]]] = [:]
    /// Every sample's labels and value, by sample name.
    var values: [String: [(labels: [String: String], value: Double)]] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count >= 4 else { continue }
                let name = String(parts[2])
                names.insert(name)
                if parts[3] == "histogram" { for suffix in ["_bucket", "_sum", "_count"] { names.insert(name + suffix) } }
                if parts[3] == "summary" { for suffix in ["_sum", "_count"] { names.insert(name + suffix) } }
                continue
            }
            guard !line.hasPrefix("#") else { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            names.insert(name)
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{") {
                var rest = line[line.index(after: open)...]
                while let eq = rest.firstIndex(of: "="), rest.first != "}" {
                    let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                    var value = ""
                    var index = rest.index(eq, offsetBy: 2)
                    while index < rest.endIndex, rest[index] != "\"" {
                        if rest[index] == "\\", rest.index(after: index) < rest.endIndex { index = rest.index(after: index) }
                        value.append(rest[index])
                        index = rest.index(after: index)
                    }
                    labels[key] = value
                    rest = rest[rest.index(after: min(index, rest.index(before: rest.endIndex)))...]
                    if rest.first == "," { rest = rest.dropFirst() }
                }
            }
            samples[name, default: []].append(labels)
            if let space = line.lastIndex(of: " "), let number = Double(line[line.index(after: space)...]) {
                values[name, default: []].append((labels, number))
            }
        }
    }

    /// The value of the first sample of `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        values[name]?.first { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    func labels(on name: String) -> Set<String> { Set((samples[name] ?? []).flatMap(\.keys)) }
    func values(of label: String, on name: String) -> Set<String> { Set((samples[name] ?? []).compactMap { $0[label] }) }
}
