import ProofsFFI

/// One colour per stage, the same in the SVG timeline and the HTML report, and the legend that
/// says which is which.
enum StagePalette {
    static func color(_ stage: ProofStage) -> String {
        switch stage {
        case .addPieces: "#9c755f"
        case .treeD: "#bab0ac"
        case .pc1: "#4e79a7"
        case .pc2: "#f28e2b"
        case .synthProof: "#d4a6c8"
        case .c1: "#edc948"
        case .c2: "#e15759"
        case .snapEncode: "#76b7b2"
        case .snapProve: "#59a14f"
        case .unseal: "#86bcb6"
        case .windowPost: "#222222"
        case .transfer: "#b07aa1"
        case .supraPC1: "#1f4e79"
        case .supraPC2: "#c4661f"
        case .supraC1: "#b8960c"
        case .inference: "#ff9da7"
        }
    }

    /// Swatches with stage names in one row from (`x`, `y`), wrapping at `width`; returns the
    /// height used.
    @discardableResult
    static func drawLegend(_ w: inout SVGWriter, stages: [ProofStage], waiting: String? = nil, x: Double, y: Double, width: Double) -> Double {
        var cx = x, cy = y
        let ordered = ProofStage.allCases.filter(stages.contains)
        let items = ordered.map { ($0.rawValue, color($0)) } + (waiting.map { [("waiting for admission", $0)] } ?? [])
        if ordered.isEmpty {
            w.label("no stage ran", x: x, y: y + 10, size: 11, fill: "#555")
            return 16
        }
        w.label("stages:", x: cx, y: cy + 10, size: 11, weight: "bold")
        cx += 50
        for (name, fill) in items {
            let itemWidth = 22 + Double(name.count) * 6.5
            if cx + itemWidth > x + width {
                cx = x + 50
                cy += 16
            }
            w.rect(x: cx, y: cy + 1, width: 12, height: 11, fill: fill)
            w.label(name, x: cx + 16, y: cy + 10, size: 11)
            cx += itemWidth
        }
        return cy - y + 16
    }
}
