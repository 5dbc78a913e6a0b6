import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import ProofsFFI
import Scheduler
import Testing

/// Headless Chromium (Debian's `chromium`, which `.ci/run` installs): `$SEALER_CHROMIUM`, or the
/// first of the usual names on PATH.
func chromiumBinary() throws -> String {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = environment["SEALER_CHROMIUM"], !explicit.isEmpty { return explicit }
    let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for directory in path where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") { return "\(directory)/\(name)" }
    }
    throw HarnessError("no headless Chromium on PATH (bash .ci/run installs Debian's chromium; or set SEALER_CHROMIUM)")
}

/// What a page showed in Chromium: the verdict the report's inline self-check wrote into the DOM,
/// and every console line Chromium logged (script errors, blocked fetches, console calls).
struct BrowserVerdict {
    var status: String
    var charts: Int
    var marks: Int
    var text: String
    var console: [String]
}

/// Loads `file` in headless Chromium with `--dump-dom` (the DOM after the page's scripts ran).
func renderInChromium(_ file: String, scratch: Scratch) async throws -> BrowserVerdict {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try chromiumBinary())
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                         "--window-size=1400,1000", "--user-data-dir=\(scratch.path)/chromium-profile", "--enable-logging=stderr", "--v=0",
                         "--dump-dom", URL(fileURLWithPath: file).absoluteString]
    let domPath = scratch.path + "/dom.html", logPath = scratch.path + "/chromium.log"
    _ = FileManager.default.createFile(atPath: domPath, contents: nil)
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: domPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + .seconds(120)
    while process.isRunning {
        if ContinuousClock.now > deadline {
            kill(process.processIdentifier, SIGKILL)
            throw HarnessError("chromium still running after 120 s on \(file)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    let dom = try String(contentsOfFile: domPath, encoding: .utf8)
    let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    guard process.terminationStatus == 0 else { throw HarnessError("chromium exited \(process.terminationStatus):\n\(log.suffix(2000))") }
    guard let start = dom.range(of: "<output id=\"selfcheck\""), let end = dom.range(of: "</output>", range: start.upperBound..<dom.endIndex) else {
        throw HarnessError("no #selfcheck in the DOM Chromium dumped (\(dom.utf8.count) bytes)")
    }
    let element = String(dom[start.lowerBound..<end.upperBound])
    func attribute(_ name: String) -> String? {
        guard let r = element.range(of: "\(name)=\""), let close = element[r.upperBound...].firstIndex(of: "\"") else { return nil }
        return String(element[r.upperBound..<close])
    }
    let text = element.split(separator: ">", maxSplits: 1).last.map { String($0.dropLast("</output>".count)) } ?? ""
    return BrowserVerdict(status: attribute("data-status") ?? "missing", charts: Int(attribute("data-charts") ?? "") ?? 0,
                          marks: Int(attribute("data-marks") ?? "") ?? 0, text: text,
                          console: log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") })
}

/// `sealer simulate --report` read in a real browser: the page's inline self-check counts what
/// each chart drew (marks with a non-empty box) and records script errors; Chromium's console
/// must stay silent. Serialized: each test starts a browser, and CI has two cores.
@Suite(.serialized, .computeBound) struct ReportBrowserTests {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("a --compare report of a day on the WindowPoSt box draws every chart, with no console errors")
    func realReportPassesInChromium() async throws {
        let scratch = Scratch("browser")
        defer { scratch.cleanup() }
        let report = scratch.path + "/report.html"
        let run = try await runSealer(["simulate", "--workload", package + "/config/workloads/cc32-wdpost.toml", "--days", "1", "--compare",
                                       "--report", report], timeout: .seconds(180))
        #expect(run.status == 0, "\(run.output)")
        let verdict = try await renderInChromium(report, scratch: scratch)
        #expect(verdict.status == "ok", "\(verdict.text)")
        #expect(verdict.console.isEmpty, "\(verdict.console)")
        // 2 nodes x (cores, memory) + 4 GPUs x (stages, VRAM) busy charts, 2 timelines, and histograms.
        #expect(verdict.charts >= 2 * 2 + 4 * 2 + 2 + 1, "\(verdict.text)")
        #expect(verdict.marks > 100, "\(verdict.text)")
    }

    @Test("a zero-day run, a box with no GPUs and 512 threads each render with the self-check passing")
    func badInputRendersInChromium() async throws {
        let gib: UInt64 = 1 << 30
        let files = Scratch("browser-workload")
        defer { files.cleanup() }
        let path = try files.write("edge.toml", "name = \"edge\"\n[[sectors]]\nkind = \"cc\"\nsize = \"32GiB\"\n")
        guard case let .success(workload) = Workload.load(path: path) else { throw HarnessError("\(path) does not load") }
        let node = { (id: Int) in NodeCapacity(id: id, l3Groups: [Array((id * 64)..<(id * 64 + 64))], memoryBytes: 1024 * gib) }
        let withGPUs = BoxCapacity(nodes: [node(0), node(1)], gpus: [GPUCapacity(index: 0, node: 0, vramBytes: 24 * gib)])
        let noGPUs = BoxCapacity(nodes: [node(0)], gpus: [])
        let cases: [(name: String, capacity: BoxCapacity, threads: Int, days: Double)] = [
            ("zero-day", withGPUs, 8, 0), ("no-gpus", noGPUs, 8, 1), ("512-threads", withGPUs, 512, 0.1),
        ]
        for entry in cases {
            let scratch = Scratch("browser-\(entry.name)")
            defer { scratch.cleanup() }
            var setup = SimulationSetup(capacity: entry.capacity, costs: workload.resources.costTable, workload: workload, threads: entry.threads,
                                        days: entry.days, policy: .dynamic(SimulationSetup.dynamicPolicy(workload)))
            setup.recordTimeline = true
            let result = Simulator(setup).run()
            let html = SimulationReport(setup: setup, bounds: SimulationReport.bounds(ThroughputBound(setup)), runs: [.init(name: "dynamic", result: result)]).html()
            let file = try scratch.write("report.html", html)
            let verdict = try await renderInChromium(file, scratch: scratch)
            let name = entry.name
            #expect(verdict.status == "ok", "\(name): \(verdict.text)")
            #expect(verdict.console.isEmpty, "\(name): \(verdict.console)")
            #expect(verdict.charts > 0, "\(name)")
        }
    }

    @Test("a report that cannot be written fails with status 1 and names the file; a missing value is a usage error")
    func unwritableReport() async throws {
        let out = try await runSealer(["simulate", "--workload", package + "/config/workloads/cc32.toml", "--days", "1",
                                       "--report", "/nonexistent/dir/report.html"], timeout: .seconds(120))
        #expect(out.status == 1)
        #expect(out.stderr.contains("--report /nonexistent/dir/report.html"), "\(out.stderr)")
        let missing = try await runSealer(["simulate", "--workload", package + "/config/workloads/cc32.toml", "--report"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--report"), "\(missing.stderr)")
    }

    @Test("the self-check fails a page whose chart drew nothing visible, and one with a script error")
    func theCheckCanFail() async throws {
        let scratch = Scratch("browser-fail")
        defer { scratch.cleanup() }
        let report = scratch.path + "/report.html"
        let run = try await runSealer(["simulate", "--workload", package + "/config/workloads/cc32.toml", "--days", "1", "--report", report],
                                      timeout: .seconds(180))
        #expect(run.status == 0, "\(run.output)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        // Every busy curve hidden: those charts are blank.
        let blank = try scratch.write("blank.html", html.replacingOccurrences(of: "</style>", with: "svg[data-chart=busy] [data-mark]{display:none}</style>"))
        let blankVerdict = try await renderInChromium(blank, scratch: scratch)
        #expect(blankVerdict.status == "fail")
        #expect(blankVerdict.text.contains("blank: busy#0"), "\(blankVerdict.text)")
        // A script that throws: the page's error listener and Chromium's console both see it.
        let broken = try scratch.write("broken.html", html.replacingOccurrences(of: "<footer>", with: "<script>undefinedReportFunction();</script><footer>"))
        let brokenVerdict = try await renderInChromium(broken, scratch: scratch)
        #expect(brokenVerdict.status == "fail")
        #expect(brokenVerdict.text.contains("undefinedReportFunction"), "\(brokenVerdict.text)")
        #expect(brokenVerdict.console.contains { $0.contains("undefinedReportFunction") }, "\(brokenVerdict.console)")
    }
}
