/// Draws `sealer top`: a `TopSnapshot` as lines that fit a terminal of a given size (pure, so
/// every size and snapshot can be tested), the same lines as a plain table for a pipe, and the
/// ANSI screen that repaints a terminal in place.
public enum TopFrame {
    /// One line of the view; headings are drawn bold on a terminal.
    public struct Line: Sendable, Hashable {
        public var text: String
        public var heading: Bool
        public init(_ text: String, heading: Bool = false) {
            self.text = text
            self.heading = heading
        }
    }

    /// How many of the last transitions a terminal view keeps room for (when it has the room).
    public static let transitionRows = 5
    /// How many of the last transitions the plain table lists.
    public static let tableTransitions = 20
    /// Thread rows a terminal view makes room for before it keeps transitions and pool bars.
    static let minimumThreadRows = 4
    /// Bars narrower than this are left out: the figures alone say more.
    static let minimumBar = 4

    /// The live view: at most `height` lines (nil: as many as it takes, with up to
    /// `tableTransitions` transitions instead of `transitionRows`), none longer than
    /// `width` characters; nothing at all for a width or height below 1. When the threads do
    /// not fit, the ones that need an operator come first (paused, waiting, running) and a last
    /// line counts the rest. `bars: false` writes the pools as figures only.
    public static func render(_ snapshot: TopSnapshot, width: Int, height: Int?, bars: Bool = true) -> [Line] {
        guard width > 0, height.map({ $0 > 0 }) ?? true else { return [] }
        var lines = [Line(header(snapshot))]
        var pools = poolLines(snapshot.pools, width: width, bars: bars)
        var transitions = transitionLines(snapshot.transitions, limit: height == nil ? tableTransitions : transitionRows)
        let columns = ["#", "PLAN", "SECTOR", "JOB", "STATE", "FOR", "DETAIL"]
        var budget = Int.max
        if let height {
            // Header, pools, the thread heading and column line, threads, transitions. Short of
            // room for a few threads, the transitions go first, then the pools' bars.
            func room() -> Int { height - 1 - pools.count - 2 - transitions.count }
            let wanted = min(snapshot.threads.count, minimumThreadRows)
            if room() < wanted { transitions = [] }
            if room() < wanted { pools = poolLines(snapshot.pools, width: width, bars: false, compact: true) }
            budget = room()
        }
        lines += pools
        lines.append(Line("THREADS" + (snapshot.threads.isEmpty ? ": none" : ": " + stateCounts(snapshot.threads)), heading: true))
        lines += threadTable([columns] + threadRows(snapshot.threads, budget: budget), width: width).map { Line($0) }
        lines += transitions
        if let height, lines.count > height { lines.removeLast(lines.count - height) }
        return lines.map { Line(clip($0.text, width), heading: $0.heading) }
    }

    /// The view for a pipe or a file: every thread, the last `tableTransitions` transitions,
    /// pools as figures, no escape codes; one line per row, ending in a newline.
    public static func table(_ snapshot: TopSnapshot) -> String {
        render(snapshot, width: Int.max, height: nil, bars: false).map { $0.text + "\n" }.joined()
    }

    /// The ANSI text that repaints a terminal with `lines`: cursor home, each line (headings
    /// bold) cleared to its end, then everything below cleared.
    public static func screen(_ lines: [Line]) -> String {
        var out = "\u{1B}[H"
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "\r\n" }
            out += line.heading ? "\u{1B}[1m" + line.text + "\u{1B}[0m" : line.text
            out += "\u{1B}[K"
        }
        return out + "\u{1B}[J"
    }

    // MARK: - Sections

    static func header(_ snapshot: TopSnapshot) -> String {
        "sealer top  \(sanitize(snapshot.source))  \(clock(snapshot.time))Z  \(snapshot.threads.count) threads"
    }

    /// `2 running, 1 waiting, 5 idle`: threads by state, busiest first.
    static func stateCounts(_ threads: [TopSnapshot.Thread]) -> String {
        var counts: [String: Int] = [:]
        for thread in threads { counts[thread.state, default: 0] += 1 }
        let order = ["Running", "Waiting", "Paused", "Draining", "Drained", "Idle"]
        let known = order.compactMap { state in counts[state].map { "\($0) \(state.lowercased())" } }
        let other = counts.keys.filter { !order.contains($0) }.sorted().map { "\(counts[$0]!) \(sanitize($0).lowercased())" }
        return (known + other).joined(separator: ", ")
    }

    /// One bar (or figures) line per pool and node or GPU; `compact`: one line per node and
    /// per GPU, figures only.
    static func poolLines(_ pools: PoolOccupancy?, width: Int, bars: Bool, compact: Bool = false) -> [Line] {
        guard let pools else { return [Line("POOLS: none (stages run unmetered, or the daemon does not say)", heading: true)] }
        if compact {
            var lines = [Line("POOLS (held/capacity)" + (pools.gpus.isEmpty ? "  no GPUs" : ""), heading: true)]
            for node in pools.nodes {
                lines.append(Line("node\(node.id) cores \(node.coresHeld)/\(node.cores) memory \(size(node.memoryHeld))/\(size(node.memoryBytes))"
                    + (node.hugepages > 0 ? " hugepages \(node.hugepagesHeld)/\(node.hugepages)" : "")))
            }
            for gpu in pools.gpus {
                lines.append(Line("gpu\(gpu.index) slots \(gpu.slotsHeld)/\(gpu.slots) vram \(size(gpu.vramHeld))/\(size(gpu.vramBytes))"))
            }
            for drive in pools.nvme {
                lines.append(Line("nvme\(drive.index) layers \(size(drive.held))/\(size(drive.bytes))"))
            }
            return lines + [waitingLine(pools)]
        }
        var items: [(label: String, held: Double, capacity: Double, value: String)] = []
        for node in pools.nodes {
            items.append(("node\(node.id) cores", Double(node.coresHeld), Double(node.cores), figures(node.coresHeld, node.cores)))
            items.append(("node\(node.id) memory", Double(node.memoryHeld), Double(node.memoryBytes), bytes(node.memoryHeld, node.memoryBytes)))
            if node.hugepages > 0 {
                items.append(("node\(node.id) hugepages", Double(node.hugepagesHeld), Double(node.hugepages), figures(node.hugepagesHeld, node.hugepages)))
            }
        }
        for gpu in pools.gpus {
            items.append(("gpu\(gpu.index) slots", Double(gpu.slotsHeld), Double(gpu.slots), figures(gpu.slotsHeld, gpu.slots)))
            items.append(("gpu\(gpu.index) vram", Double(gpu.vramHeld), Double(gpu.vramBytes), bytes(gpu.vramHeld, gpu.vramBytes)))
        }
        for drive in pools.nvme {
            items.append(("nvme\(drive.index) layers", Double(drive.held), Double(drive.bytes), bytes(drive.held, drive.bytes)))
        }
        var lines = [Line("POOLS (held / capacity)" + (pools.gpus.isEmpty ? "  no GPUs" : ""), heading: true)]
        let labelWidth = items.map(\.label.count).max() ?? 0
        let valueWidth = items.map(\.value.count).max() ?? 0
        for item in items {
            let label = item.label.padded(to: labelWidth)
            let barWidth = width - labelWidth - valueWidth - 4
            if bars, width != Int.max, barWidth >= minimumBar {
                lines.append(Line(label + " [" + bar(item.held, item.capacity, width: barWidth) + "] " + item.value))
            } else {
                lines.append(Line(label + "  " + item.value))
            }
        }
        lines.append(waitingLine(pools))
        return lines
    }

    static func waitingLine(_ pools: PoolOccupancy) -> Line {
        var waiting = "waiting for the pools: \(pools.waiting)"
        let blocked = pools.blocked.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !blocked.isEmpty { waiting += " (blocked by " + blocked.map { "\(sanitize($0.key)) \($0.value)" }.joined(separator: ", ") + ")" }
        let stages = pools.waitingByStage.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !stages.isEmpty { waiting += " [" + stages.map { "\(sanitize($0.key)) \($0.value)" }.joined(separator: ", ") + "]" }
        return Line(waiting)
    }

    /// The threads' rows, at most `budget` of them: all in index order when they fit, else the
    /// ones needing attention first and a last row counting the rest.
    static func threadRows(_ threads: [TopSnapshot.Thread], budget: Int) -> [[String]] {
        func row(_ t: TopSnapshot.Thread) -> [String] {
            let detail: String
            if let error = t.lastError, t.state == "Paused" {
                detail = "error: " + error
            } else if let waiting = t.waitingFor {
                detail = "for " + waiting
            } else if let proc = t.proc {
                detail = proc
            } else {
                detail = t.lastError.map { "last error: " + $0 } ?? ""
            }
            return ["\(t.index)", t.plan, t.sector ?? "-", t.jobState.isEmpty ? "-" : t.jobState, t.state,
                    t.elapsed.map(duration) ?? "-", detail].map(sanitize)
        }
        let sorted = threads.sorted { $0.index < $1.index }
        guard sorted.count > budget else { return sorted.map(row) }
        guard budget > 0 else { return [] }
        func rank(_ state: String) -> Int {
            switch state {
            case "Paused": 0
            case "Waiting": 1
            case "Running": 2
            case "Draining": 3
            default: 4
            }
        }
        let urgent = sorted.enumerated().sorted { (rank($0.element.state), $0.offset) < (rank($1.element.state), $1.offset) }.map(\.element)
        let shown = urgent.prefix(budget - 1)
        var rest: [String: Int] = [:]
        for thread in urgent.dropFirst(budget - 1) { rest[thread.state, default: 0] += 1 }
        let summary = rest.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }.map { "\($0.value) \(sanitize($0.key).lowercased())" }
        return shown.map(row) + [["+\(urgent.count - shown.count) more: " + summary.joined(separator: ", ")]]
    }

    /// Columns a narrow terminal drops first (JOB, then PLAN), so state and detail stay readable.
    static let droppable = [3, 1]
    /// What the last column (DETAIL) should keep at least before columns are dropped for it.
    static let detailRoom = 12

    /// Rows as aligned columns (cells over 24 characters cut); the last column (and a lone
    /// summary cell) takes what is left. Columns in `droppable` go when `width` is too narrow.
    static func threadTable(_ rows: [[String]], width: Int) -> [String] {
        let count = rows.first?.count ?? 0
        var widths = [Int](repeating: 0, count: count)
        for row in rows where row.count == count {
            for (i, cell) in row.enumerated() where i < count - 1 { widths[i] = max(widths[i], min(cell.count, 24)) }
        }
        var kept = Array(0..<count)
        func used() -> Int { kept.dropLast().reduce(0) { $0 + widths[$1] + 1 } }
        for column in droppable where column < count - 1 && used() + detailRoom > width {
            kept.removeAll { $0 == column }
        }
        return rows.map { row in
            guard row.count == count else { return row.joined(separator: " ") }
            return kept.map { i in
                i == count - 1 ? row[i] : clip(row[i], widths[i]).padded(to: widths[i])
            }.joined(separator: " ").withoutTrailingSpaces
        }
    }

    static func transitionLines(_ transitions: [TopTransition], limit: Int) -> [Line] {
        guard !transitions.isEmpty, limit > 0 else { return [] }
        let last = transitions.suffix(limit).reversed()
        return [Line("LAST TRANSITIONS (newest first)", heading: true)] + last.map { t in
            Line(sanitize("\(clock(t.time)) #\(t.thread) \(t.plan) \(t.sector ?? "-") \(t.from) --\(t.event)--> \(t.to)"))
        }
    }

    // MARK: - Pieces

    /// `text` cut to `width` characters, the last one replaced by `~` when something was cut.
    public static func clip(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + "~"
    }

    /// Control characters (an escape sequence in a job id or an error would drive the terminal)
    /// shown as `?`; a newline as a space.
    public static func sanitize(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(scalar == "\n" ? " " : isControl(scalar) ? "?" : scalar)
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `width` characters, `#` for the held share (rounded, at least one when anything is held).
    static func bar(_ held: Double, _ capacity: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        var filled = 0
        if capacity > 0, held > 0 {
            filled = min(width, max(1, Int((held / capacity * Double(width)).rounded())))
        }
        return String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    }

    static func figures(_ held: Int, _ capacity: Int) -> String {
        "\(held)/\(capacity) (\(max(0, capacity - held)) free)"
    }

    static func bytes(_ held: UInt64, _ capacity: UInt64) -> String {
        "\(size(held))/\(size(capacity)) (\(size(capacity > held ? capacity - held : 0)) free)"
    }

    /// Bytes in the largest binary unit that keeps a whole number part: `64G`, `1.5T`, `512M`.
    static func size(_ value: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]
        for (unit, name) in units where value >= unit {
            let tenths = value / unit * 10 + (value % unit * 10 + unit / 2) / unit
            return tenths % 10 == 0 ? "\(tenths / 10)\(name)" : "\(tenths / 10).\(tenths % 10)\(name)"
        }
        return "\(value)B"
    }

    /// `45s`, `12m05s`, `3h07m`, `2d05h`.
    public static func duration(_ seconds: UInt64) -> String {
        func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(two(seconds % 60))s"
        case ..<86400: return "\(seconds / 3600)h\(two(seconds % 3600 / 60))m"
        default: return "\(seconds / 86400)d\(two(seconds % 86400 / 3600))h"
        }
    }

    /// `HH:MM:SS` (UTC) of Unix seconds `time`.
    static func clock(_ time: Double) -> String {
        guard time.isFinite, abs(time) < 1e15 else { return "--:--:--" }
        let day = Int64(time.rounded(.down)) % 86400
        let s = day < 0 ? day + 86400 : day
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(s / 3600)):\(two(s % 3600 / 60)):\(two(s % 60))"
    }
}

private extension String {
    /// Spaces appended up to `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    var withoutTrailingSpaces: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
