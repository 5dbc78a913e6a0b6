/// An SVG timeline of a simulated run: one row per CPU core and per GPU, stages as coloured bars.
public enum TimelineSVG {
    public static func render(_ segments: [Segment], capacity: BoxCapacity, title: String) -> String {
        let cores = capacity.nodes.flatMap(\.cpus)
        let rowOf = Dictionary(uniqueKeysWithValues: cores.enumerated().map { ($1, $0) })
        let gpuRow = Dictionary(uniqueKeysWithValues: capacity.gpus.enumerated().map { ($1.index, cores.count + 1 + $0) })
        let end = segments.map(\.end.inSeconds).max() ?? 1
        let width = 1600.0, rowHeight = 4.0, left = 60.0
        let rows = cores.count + 1 + capacity.gpus.count
        let height = Double(rows) * rowHeight + 40
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + left))\" height=\"\(Int(height))\">\n"
        out += "<text x=\"4\" y=\"14\" font-size=\"12\">\(title): \(cores.count) cores, \(capacity.gpus.count) GPUs, \(Int(end / 3600)) h</text>\n"
        func bar(_ row: Int, _ s: Segment) {
            let x = left + s.start.inSeconds / end * width
            let w = max(0.5, (s.end.inSeconds - s.start.inSeconds) / end * width)
            out += "<rect x=\"\(fmt(x))\" y=\"\(fmt(20 + Double(row) * rowHeight))\" width=\"\(fmt(w))\" height=\"\(fmt(rowHeight - 0.5))\" fill=\"\(color(s.stage))\"><title>\(s.stage)</title></rect>\n"
        }
        for s in segments {
            for cpu in s.grant.cpus { if let row = rowOf[cpu] { bar(row, s) } }
            if let gpu = s.grant.gpu, let row = gpuRow[gpu] { bar(row, s) }
        }
        out += "<text x=\"4\" y=\"\(fmt(20 + Double(cores.count + 1) * rowHeight + 8))\" font-size=\"10\">GPUs</text>\n</svg>\n"
        return out
    }

    private static func fmt(_ x: Double) -> String { String(Int((x * 10).rounded())) .withDecimal }

    private static func color(_ stage: ProofStage) -> String {
        switch stage {
        case .pc1, .unseal: "#4e79a7"
        case .pc2: "#f28e2b"
        case .c2: "#e15759"
        case .snapEncode: "#76b7b2"
        case .snapProve: "#59a14f"
        case .windowPost: "#000000"
        default: "#bab0ac"
        }
    }
}

private extension String {
    /// "123" (tenths) → "12.3".
    var withDecimal: String {
        var digits = self
        let negative = digits.hasPrefix("-")
        if negative { digits.removeFirst() }
        while digits.count < 2 { digits = "0" + digits }
        return (negative ? "-" : "") + digits.dropLast() + "." + digits.suffix(1)
    }
}

import ProofsFFI
