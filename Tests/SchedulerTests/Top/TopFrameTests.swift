import Foundation
@testable import Scheduler
import Testing

private let gib: UInt64 = 1 << 30

/// A box of `nodes` NUMA nodes (16 cores, 256 GiB, 4 hugepages each) and `gpus` GPUs (24 GiB,
/// 2 slots), with `held` grants out.
private func pools(nodes: Int = 1, gpus: Int = 1, held: [Grant] = [], waiting: Int = 0, blocked: [String: Int] = [:]) -> PoolOccupancy {
    let capacity = BoxCapacity(
        nodes: (0..<nodes).map { NodeCapacity(id: $0, l3Groups: [Array($0 * 16..<$0 * 16 + 8), Array($0 * 16 + 8..<$0 * 16 + 16)], memoryBytes: 256 * gib, hugepages: 4) },
        gpus: (0..<gpus).map { GPUCapacity(index: $0, node: 0, vramBytes: 24 * gib, slots: 2) })
    return PoolOccupancy(capacity: capacity, held: held, waiting: waiting, blocked: blocked)
}

private let states = ["Running", "Waiting", "Paused", "Idle", "Draining", "Drained"]

/// `count` threads cycling through every state, each with a sector, detail and elapsed time.
private func threads(_ count: Int) -> [TopSnapshot.Thread] {
    (0..<count).map { i in
        let state = states[i % states.count]
        return TopSnapshot.Thread(
            index: i, plan: i % 5 == 0 ? "snapup" : "sealer", sector: state == "Idle" ? nil : "s-t01000-\(1000 + i)", state: state,
            elapsed: state == "Idle" ? nil : UInt64(i * 61), jobState: state == "Idle" ? "" : "PC1Done",
            proc: state == "Running" ? "mock pc2 [node 0 cpus 0-7 32GiB]" : nil,
            waitingFor: state == "Waiting" ? "pc1 memory: needs 64GiB on one node, most free 32GiB (node 0)" : nil,
            lastError: state == "Paused" ? "temporary: manager unreachable" : nil)
    }
}

private func transitions(_ count: Int) -> [TopTransition] {
    (0..<count).map { TopTransition(time: 1_764_756_000 + Double($0), thread: $0 % 7, plan: "sealer", sector: "s-t01000-\($0)", from: "PC1Done", event: "PC2", to: "PC2Done") }
}

/// The thread rows: after the column line, up to a `+N more` line, a heading or the end.
private func threadRows(_ lines: [String]) -> [String] {
    guard let start = lines.firstIndex(where: { $0.hasPrefix("# ") || $0 == "#" }) else { return [] }
    return Array(lines[(start + 1)...].prefix { $0.first?.isNumber == true && !$0.contains("-->") })
}

private func snapshot(threads count: Int = 8, pools occupancy: PoolOccupancy? = pools(), transitions n: Int = 8) -> TopSnapshot {
    TopSnapshot(source: "127.0.0.1:17890", time: 1_764_756_123, threads: threads(count), pools: occupancy, transitions: transitions(n))
}

@Suite("sealer top frame")
struct TopFrameTests {
    static let widths = [0, 1, 2, 10, 20, 40, 79, 80, 132, 300]
    static let heights: [Int?] = [nil, 0, 1, 3, 10, 24, 50, 600]
    static let snapshots: [(String, TopSnapshot)] = [
        ("empty daemon", snapshot(threads: 0, pools: nil, transitions: 0)),
        ("no GPUs", snapshot(pools: pools(gpus: 0))),
        ("512 threads on 2 nodes and 8 GPUs", snapshot(threads: 512, pools: pools(nodes: 2, gpus: 8, waiting: 300, blocked: ["memory": 200, "gpu": 100]), transitions: 64)),
        ("unmetered", snapshot(pools: nil)),
        ("one thread", snapshot(threads: 1, transitions: 1)),
    ]

    @Test("every snapshot at every size: no line wider than the terminal, no more lines than it has, never a control character",
          arguments: 0..<snapshots.count)
    func fitsEverySize(_ which: Int) {
        let (name, snap) = Self.snapshots[which]
        for width in Self.widths {
            for height in Self.heights {
                let lines = TopFrame.render(snap, width: width, height: height)
                if width == 0 || height == 0 { #expect(lines.isEmpty, "\(name) \(width)x\(String(describing: height))") }
                if let height { #expect(lines.count <= height, "\(name) \(width)x\(height): \(lines.count) lines") }
                for line in lines {
                    #expect(line.text.count <= width, "\(name) \(width)x\(String(describing: height)): \(line.text)")
                    #expect(!line.text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(name): \(line.text)")
                }
                if width >= 20, let height, height >= 1 { #expect(lines.first?.text.hasPrefix("sealer top") == true) }
            }
        }
    }

    @Test("an 80x24 terminal: a bar per pool and node/GPU, a row per thread, the last transitions newest first")
    func standardTerminal() {
        let snap = snapshot(threads: 8, pools: pools(held: [Grant(node: 0, cpus: Array(0..<8), memoryBytes: 64 * gib, hugepages: 1, gpu: 0, vramBytes: 12 * gib)],
                                                     waiting: 2, blocked: ["memory": 2]))
        let lines = TopFrame.render(snap, width: 80, height: 24).map(\.text)
        #expect(lines.count <= 24)
        #expect(lines[0] == "sealer top  127.0.0.1:17890  10:02:03Z  8 threads")
        #expect(lines.contains("THREADS: 2 running, 2 waiting, 1 paused, 1 draining, 1 drained, 1 idle"))
        let bar = { (label: String) in lines.first { $0.hasPrefix(label) } ?? "" }
        // 8 of 16 cores held: half the bar is filled.
        let cores = bar("node0 cores")
        #expect(cores.hasSuffix("] 8/16 (8 free)"), "\(cores)")
        let fill = cores.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
        #expect(fill.count >= TopFrame.minimumBar && abs(fill.filter { $0 == "#" }.count * 2 - fill.count) <= 1, "\(cores)")
        #expect(bar("node0 memory").hasSuffix("64G/256G (192G free)"))
        #expect(bar("node0 hugepages").hasSuffix("1/4 (3 free)"))
        #expect(bar("gpu0 slots").hasSuffix("1/2 (1 free)"))
        #expect(bar("gpu0 vram").hasSuffix("12G/24G (12G free)"))
        #expect(lines.contains("waiting for the pools: 2 (blocked by memory 2)"))
        // By stage when the daemon says (a Crynux lease under its own name).
        var staged = snap
        staged.pools?.waitingByStage = ["pc1": 1, "crynux_inference": 1]
        #expect(TopFrame.render(staged, width: 80, height: 24).map(\.text).contains("waiting for the pools: 2 (blocked by memory 2) [crynux_inference 1, pc1 1]"))
        // Every thread, in index order, with its state, time and what it does or waits for.
        let rows = threadRows(lines)
        #expect(rows.count == 8, "\(lines.joined(separator: "\n"))")
        #expect(rows.map { Int($0.prefix { $0 != " " }) } == Array(0..<8))
        #expect(rows[1].contains("Waiting") && rows[1].contains("1m01s") && rows[1].contains("for pc1 memory: needs 64GiB"))
        #expect(rows[2].contains("Paused") && rows[2].contains("error: temporary"))
        #expect(rows[0].contains("Running") && rows[0].contains("mock pc2"))
        let newest = lines.firstIndex { $0.hasPrefix("LAST TRANSITIONS") }.map { lines[$0 + 1] }
        #expect(newest == "10:00:07 #0 sealer s-t01000-7 PC1Done --PC2--> PC2Done")
    }

    @Test("512 threads on 24 rows: the ones needing an operator first, and a last row that counts the rest")
    func manyThreads() {
        let snap = snapshot(threads: 512, pools: pools(gpus: 0))
        let lines = TopFrame.render(snap, width: 80, height: 24).map(\.text)
        #expect(lines.count == 24)
        let more = lines.last { $0.hasPrefix("+") }
        let rows = threadRows(lines)
        #expect(rows.count >= TopFrame.minimumThreadRows)
        // Paused threads (every 6th, from 2) come first.
        #expect(rows.allSatisfy { $0.contains("Paused") }, "\(rows)")
        let shown = rows.count
        let counted = (more ?? "").split(separator: " ").compactMap { Int($0) }.dropFirst().reduce(0, +)
        #expect(more?.hasPrefix("+\(512 - shown) more: ") == true, "\(String(describing: more))")
        #expect(counted == 512 - shown, "\(String(describing: more))")
        // The plain table lists all of them, in index order.
        let all = threadRows(TopFrame.table(snap).split(separator: "\n").map(String.init)).map { Int($0.prefix { $0 != " " }) }
        #expect(all == (0..<512).map { Optional($0) })
    }

    @Test("transitions: the last five newest first on a terminal, the last twenty in the plain table, none said when there are none")
    func transitionCounts() {
        let snap = snapshot(threads: 2, transitions: 64)
        let live = TopFrame.render(snap, width: 80, height: 50).map(\.text)
        let start = live.firstIndex { $0.hasPrefix("LAST TRANSITIONS") } ?? live.count
        #expect(live.count - start - 1 == TopFrame.transitionRows)
        #expect(live.last?.contains("s-t01000-59 ") == true, "the fifth newest last: \(live)")
        let table = TopFrame.table(snap).split(separator: "\n").map(String.init)
        let heading = table.firstIndex { $0.hasPrefix("LAST TRANSITIONS") } ?? table.count
        #expect(table.count - heading - 1 == TopFrame.tableTransitions)
        #expect(table[heading + 1].contains("s-t01000-63 ") && table.last?.contains("s-t01000-44 ") == true)
        #expect(!TopFrame.table(snapshot(transitions: 0)).contains("LAST TRANSITIONS"))
    }

    @Test("a box with no GPUs says so and draws node bars only")
    func noGPUs() {
        let lines = TopFrame.render(snapshot(pools: pools(nodes: 2, gpus: 0)), width: 80, height: 40).map(\.text)
        #expect(lines.contains { $0.hasPrefix("POOLS") && $0.contains("no GPUs") })
        #expect(!lines.contains { $0.hasPrefix("gpu") })
        #expect(lines.filter { $0.hasPrefix("node1 ") }.count == 3)
        let unmetered = TopFrame.render(snapshot(pools: nil), width: 80, height: 40).map(\.text)
        #expect(unmetered.contains { $0.hasPrefix("POOLS: none") })
    }

    @Test("a batch box's NVMe drives get a bar each, with what batches hold; an answer without them still decodes")
    func nvmeDrives() throws {
        let tib: UInt64 = 1 << 40
        let capacity = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: 256 * gib)], gpus: [],
                                   nvme: [NVMeCapacity(index: 0, node: 0, bytes: 14 * tib), NVMeCapacity(index: 1, node: 0, bytes: 14 * tib)])
        let slot = Grant(node: 0, cpus: [0], memory: [0: gib], hugepages: 0, gpu: nil, vramBytes: 0, nvme: [0: 11 * tib, 1: 11 * tib])
        let occupancy = PoolOccupancy(capacity: capacity, held: [slot], waiting: 0, blocked: [:])
        #expect(occupancy.nvme == [.init(index: 0, bytes: 14 * tib, held: 11 * tib), .init(index: 1, bytes: 14 * tib, held: 11 * tib)])
        let lines = TopFrame.render(snapshot(pools: occupancy), width: 80, height: 40).map(\.text)
        #expect(lines.filter { $0.hasPrefix("nvme") }.count == 2, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("nvme1 layers") && $0.contains("11T") }, "\(lines)")
        let old = #"{"nodes":[],"gpus":[],"waiting":0,"blocked":{}}"#
        let decoded = try JSONDecoder().decode(PoolOccupancy.self, from: Data(old.utf8))
        #expect(decoded.nvme.isEmpty)
    }

    @Test("a crynux thread's row: the task where a sector would be, the relay status as its job state, what the node does as detail")
    func crynuxRows() {
        let busy = TopSnapshot.crynuxThread(index: 2, taskID: "0x1bc2664ffa26f6bc9658902d4ab92f1ac0419907cedb3f614756414bfcbe47c5",
                                            relayStatus: "Started", nodeStatus: "Busy", localAction: "executing", lastError: nil)
        #expect(busy.plan == "crynux" && busy.state == "Running" && busy.jobState == "Started" && busy.proc == "executing")
        #expect(busy.sector == "0x1bc2664ffa26f6bc")
        let waiting = TopSnapshot.crynuxThread(index: 2, taskID: "0xab", relayStatus: "Started", nodeStatus: "Busy",
                                               localAction: "waiting for a GPU lease (crynux_inference, below sealing)", lastError: nil)
        #expect(waiting.state == "Waiting" && waiting.waitingFor == "a GPU lease (crynux_inference, below sealing)")
        let paused = TopSnapshot.crynuxThread(index: 2, taskID: nil, relayStatus: nil, nodeStatus: "Paused", localAction: "idle", lastError: "x")
        #expect(paused.state == "Paused" && paused.jobState == "Paused" && paused.lastError == "x")
        let idle = TopSnapshot.crynuxThread(index: 2, taskID: nil, relayStatus: nil, nodeStatus: "Available", localAction: "idle", lastError: nil)
        #expect(idle.state == "Idle")
        let lines = TopFrame.render(TopSnapshot(source: "h", time: 0, threads: [busy], pools: nil, transitions: []), width: 80, height: 24).map(\.text)
        #expect(lines.contains { $0.hasPrefix("2 ") && $0.contains("crynux") && $0.contains("executing") }, "\(lines)")
    }

    @Test("narrow terminals drop JOB, then PLAN, and keep state and detail; short ones fold the bars into figures")
    func narrow() {
        let snap = snapshot(threads: 4)
        let forty = TopFrame.render(snap, width: 40, height: 24).map(\.text)
        let header = forty.first { $0.hasPrefix("#") } ?? ""
        #expect(header.split(separator: " ") == ["#", "SECTOR", "STATE", "FOR", "DETAIL"], "\(header)")
        #expect(TopFrame.render(snap, width: 80, height: 24).map(\.text).contains { $0.split(separator: " ") == ["#", "PLAN", "SECTOR", "JOB", "STATE", "FOR", "DETAIL"] })
        // 10 rows: no room for bars and transitions, but the threads are there.
        let short = TopFrame.render(snapshot(threads: 4), width: 80, height: 12).map(\.text)
        #expect(short.contains("node0 cores 0/16 memory 0B/256G hugepages 0/4"), "\(short)")
        #expect(!short.contains { $0.hasPrefix("LAST TRANSITIONS") })
        #expect(threadRows(short).count == 4, "\(short)")
        #expect(TopFrame.render(snap, width: 1, height: 3).map(\.text) == ["~", "~", "~"])
    }

    @Test("hostile text from the daemon cannot drive the terminal: escapes and newlines are shown, not sent")
    func hostileText() {
        var snap = snapshot(threads: 1, transitions: 0)
        snap.threads[0].sector = "s-\u{1B}[2J\u{1B}]0;owned\u{07}"
        snap.threads[0].state = "Paused"
        snap.threads[0].lastError = "boom\nsecond line\r\u{9B}31m"
        snap.transitions = [TopTransition(time: .nan, thread: 0, plan: "sealer\u{1B}", sector: nil, from: "A", event: "e\n", to: "B")]
        for text in TopFrame.render(snap, width: 300, height: nil).map(\.text) + [TopFrame.table(snap)] {
            #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\r" || $0 == "\u{9B}" }, "\(text)")
        }
        #expect(TopFrame.table(snap).contains("error: boom second line?"))
        #expect(TopFrame.table(snap).contains("--:--:-- #0 sealer? - A --e --> B"))
    }

    @Test("the screen repaints in place: home, bold headings, each line cleared to its end, the rest cleared")
    func screen() {
        let text = TopFrame.screen([TopFrame.Line("a", heading: true), TopFrame.Line("b")])
        #expect(text == "\u{1B}[H\u{1B}[1ma\u{1B}[0m\u{1B}[K\r\n" + "b\u{1B}[K\u{1B}[J")
        #expect(TopFrame.screen([]) == "\u{1B}[H\u{1B}[J")
    }

    @Test("figures: durations, sizes, bars, clipping")
    func pieces() {
        #expect([0, 59, 60, 61, 3599, 3600, 86399, 86400, 90061, UInt64.max].map(TopFrame.duration)
                == ["0s", "59s", "1m00s", "1m01s", "59m59s", "1h00m", "23h59m", "1d00h", "1d01h", "213503982334601d07h"])
        #expect([0, 1023, 1024, 1536, 64 * gib, 1 << 40, (3 << 40) / 2, UInt64.max].map(TopFrame.size)
                == ["0B", "1023B", "1K", "1.5K", "64G", "1T", "1.5T", "16777216T"])
        #expect(TopFrame.bar(0, 0, width: 4) == "....")
        #expect(TopFrame.bar(1, 1000, width: 4) == "#...", "anything held shows")
        #expect(TopFrame.bar(5, 4, width: 4) == "####", "over capacity stays inside the bar")
        #expect(TopFrame.bar(1, 2, width: 0) == "")
        #expect(TopFrame.clip("abcdef", 4) == "abc~" && TopFrame.clip("abc", 3) == "abc" && TopFrame.clip("abc", 0) == "" && TopFrame.clip("abc", -5) == "")
        #expect(TopFrame.clock(1_764_756_123) == "10:02:03" && TopFrame.clock(-1) == "23:59:59" && TopFrame.clock(.infinity) == "--:--:--" && TopFrame.clock(1e300) == "--:--:--")
    }

    @Test("pool occupancy sums the held grants per node and GPU, as /metrics does")
    func occupancy() {
        let held = [
            Grant(node: 0, cpus: [0, 1, 2, 3], memory: [0: 10 * gib, 1: 6 * gib], hugepages: 2, gpu: 1, vramBytes: 8 * gib),
            Grant(node: 1, cpus: [16, 17], memoryBytes: 4 * gib, hugepages: 1, gpu: 1, vramBytes: 2 * gib),
            Grant(node: 1, cpus: [18], memoryBytes: 1 * gib, hugepages: 0, gpu: nil, vramBytes: 0),
        ]
        let occupancy = pools(nodes: 2, gpus: 2, held: held, waiting: 3, blocked: ["cpu": 3])
        #expect(occupancy.nodes.map(\.coresHeld) == [4, 3])
        #expect(occupancy.nodes.map(\.memoryHeld) == [10 * gib, 11 * gib])
        #expect(occupancy.nodes.map(\.hugepagesHeld) == [2, 1])
        #expect(occupancy.gpus.map(\.slotsHeld) == [0, 2])
        #expect(occupancy.gpus.map(\.vramHeld) == [0, 10 * gib])
        #expect(occupancy.waiting == 3 && occupancy.blocked == ["cpu": 3])
    }
}
