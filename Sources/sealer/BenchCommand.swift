import Actors
import Foundation
import ProofsFFI
import Scheduler
#if canImport(Glibc)
import Glibc
#endif

/// `sealer bench`: the daemon core's figures, measured in one run and printed as a table
/// (BENCHMARKS.md records the latest). Not a test: it reports, it does not assert.
enum BenchCommand {
    static let spec = OptionSpec(command: "sealer bench", options: [
        .init(["--threads"], value: true, help: "sealing threads (default 64)"),
        .init(["--seconds"], value: true, help: "length of each timed phase (default 10)"),
        .init(["--scrape-rate"], value: true, help: "GET /metrics per second in the scraped idle phase (default 10; 0 skips it)"),
        .init(["--dir"], value: true, help: "scratch directory (default: a new one under /tmp); its disk is what fsync measures"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) async -> Int32 {
        if args.first == "pools" { return await PoolsBench.run(Array(args.dropFirst())) }
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer bench [--threads N] [--seconds S] [--scrape-rate R] [--dir DIR]\n\n" + spec.help)
            return 0
        }
        let threads: Int
        let seconds: Int
        let scrapeRate: Int
        do {
            threads = try parsed.int("--threads") ?? 64
            seconds = try parsed.int("--seconds") ?? 10
            scrapeRate = try parsed.int("--scrape-rate") ?? 10
        } catch { return usageFailure(error) }
        guard threads > 0, seconds > 0 else { return usageFailure("--threads and --seconds must be at least 1") }
        guard scrapeRate >= 0 else { return usageFailure("--scrape-rate must not be negative") }
        let root = parsed.value("--dir") ?? NSTemporaryDirectory() + "sealer-bench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if parsed.value("--dir") == nil { try? FileManager.default.removeItem(atPath: root) } }

        print("sealer bench: \(threads) threads, \(seconds) s phases, scratch \(root)")
        let transitions = await durableTransitions(threads: threads, seconds: seconds, dir: root + "/transitions")
        let idle: IdleFigures
        var scraped: IdleFigures?
        var loaded: IdleFigures?
        let pause: PauseFigures
        do {
            idle = try await idleDaemon(threads: threads, seconds: seconds, dir: root + "/idle")
            if scrapeRate > 0 {
                scraped = try await idleDaemon(threads: threads, seconds: seconds, dir: root + "/scraped", scrapeRate: scrapeRate)
                loaded = try await idleDaemon(threads: threads, seconds: seconds, dir: root + "/loaded", scrapeRate: scrapeRate, busy: true)
            }
            pause = try await pauseLatency(threads: threads, dir: root + "/pause")
        } catch {
            return fail("bench: \(error)")
        }
        let scrapedRow = scraped.map { scraped in
            "\n| the same with `/metrics` scraped \(scrapeRate) times a second (\(scraped.scrapes) scrapes of \(scraped.scrapeBytes) bytes, "
                + "p50 \(ms(scraped.scrapeTimes, 0.5)), p99 \(ms(scraped.scrapeTimes, 0.99))) | \(idleCPU(scraped, seconds: seconds)) | no measurable difference |"
        } ?? ""
        let loadedRow = loaded.map { loaded in
            "\n| a scrape while \(threads) threads seal flat out (\(loaded.scrapes) scrapes, \(scrapeRate) a second) | "
                + "p50 \(ms(loaded.scrapeTimes, 0.5)), p99 \(ms(loaded.scrapeTimes, 0.99)), max \(ms(loaded.scrapeTimes, 1)) | < 100 ms |"
        } ?? ""
        print("""

        | figure | value | target |
        |---|---|---|
        | durable transitions per second, \(threads) threads (fsync'd state + history before each report) | \(String(format: "%.0f", transitions.perSecond)) (\(transitions.sectors) sectors in \(seconds) s) | — |
        | idle daemon CPU, \(threads) threads asking an empty manager for work every 5 s, pinging every 5 s, over \(seconds) s | \(idleCPU(idle, seconds: seconds)) | < 0.5% |
        | idle daemon RSS, \(threads) threads | \(String(format: "%.1f", idle.rssMiB)) MiB | < 40 MiB |\(scrapedRow)\(loadedRow)
        | pause → Paused, thread waiting for a stage slot (\(pause.waiting.count) samples) | p50 \(ms(pause.waiting, 0.5)), p99 \(ms(pause.waiting, 0.99)), max \(ms(pause.waiting, 1)) | < 50 ms |
        | pause → Paused, thread idle at a checkpoint (\(pause.idle.count) samples) | p50 \(ms(pause.idle, 0.5)), p99 \(ms(pause.idle, 0.99)), max \(ms(pause.idle, 1)) | < 50 ms |
        """)
        return 0
    }

    /// The idle CPU share; with no clock tick charged, the bound one tick would have given.
    static func idleCPU(_ idle: IdleFigures, seconds: Int) -> String {
        if idle.cpuSeconds == 0 {
            return String(format: "< %.3f%% of a core (not one %.0f ms CPU tick in %d s)", tick / Double(seconds) * 100, tick * 1000, seconds)
        }
        return String(format: "%.3f%% of a core (%.2f s of CPU in %d s)", idle.cpuPercent, idle.cpuSeconds, seconds)
    }

    static func ms(_ samples: [Duration], _ q: Double) -> String {
        guard !samples.isEmpty else { return "-" }
        let sorted = samples.sorted()
        let i = min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))
        let value = Double(sorted[i].components.seconds) * 1000 + Double(sorted[i].components.attoseconds) / 1e15
        return String(format: "%.1f ms", value)
    }

    // MARK: transitions

    struct TransitionFigures { var perSecond: Double; var sectors: Int }

    /// In-process: `threads` sealer threads against the embedded mock manager with instant
    /// stages, so the figure is the cost of the durable bookkeeping itself.
    static func durableTransitions(threads: Int, seconds: Int, dir: String) async -> TransitionFigures {
        let manager = MockManager()
        let prover = MockProver()
        let log = Log(minimum: .error, fd: 2)
        var actors: [SealingThread] = []
        // Each sector's replica and cache files are persisted here, as a real store would hold them.
        try? FileManager.default.createDirectory(atPath: "\(dir)/persist", withIntermediateDirectories: true)
        for i in 0..<threads {
            var settings = ThreadSettings(index: i, location: "\(dir)/t\(i)", instance: "bench")
            settings.sealing.sealInterval = .zero
            settings.sealing.recoverInterval = .milliseconds(10)
            settings.sealing.rpcPollingInterval = .zero
            settings.persistStores = ["bench"]
            settings.storeLocations = ["bench": "\(dir)/persist"]
            actors.append(SealingThread(settings: settings, manager: manager, prover: prover, log: log))
        }
        let tasks = actors.map { thread in Task { await thread.run() } }
        let start = ContinuousClock.now
        try? await Task.sleep(for: .seconds(seconds))
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let elapsed = ContinuousClock.now - start
        var count = 0
        for i in 0..<threads {
            count += (try? ThreadStore.readHistory(path: "\(dir)/t\(i)/meta/history").entries.count) ?? 0
        }
        let sectors = await manager.sectors.values.filter { $0.finalized > 0 }.count
        let secs = elapsed.inSeconds
        return TransitionFigures(perSecond: Double(count) / secs, sectors: sectors)
    }

    // MARK: idle daemon

    struct IdleFigures {
        var cpuPercent: Double
        var cpuSeconds: Double
        var rssMiB: Double
        var scrapes = 0
        var scrapeBytes = 0
        var scrapeTimes: [Duration] = []
    }

    static func config(dir: String, threads: Int, worker: String = "", extra: String) -> String {
        var text = """
        [worker]
        rpc_server = { host = "127.0.0.1", port = 0 }
        \(worker)
        [sector_manager]
        rpc_client.addr = "embedded"
        [proofs]
        backend = "mock"
        [[attached]]
        name = "bench"
        location = "\(dir)/persist"

        """ + extra
        for i in 0..<threads { text += "\n[[sealing_thread]]\nlocation = \"\(dir)/t\(i)\"\n" }
        return text
    }

    static func spawnDaemon(dir: String, config text: String) throws -> (Process, String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/sealer.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let log = dir + "/daemon.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = ["daemon", "-c", path]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return (process, log)
    }

    static func waitForPort(log: String, process: Process, marker: String = "management RPC listening on ") async throws -> UInt16 {
        for _ in 0..<3000 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: marker), let line = text[r.upperBound...].split(separator: "\n").first,
               let colon = line.lastIndex(of: ":"), let port = UInt16(line[line.index(after: colon)...].prefix(while: \.isNumber)) {
                return port
            }
            guard process.isRunning else { throw DaemonError("daemon exited: \(text.suffix(1000))") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DaemonError("daemon did not start")
    }

    /// CPU seconds the process has used (utime + stime, exited threads included), in clock ticks.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) ... utime is field 14 overall, i.e. index 11 here; stime 12.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static var tick: Double { 1 / Double(sysconf(Int32(_SC_CLK_TCK))) }

    static func rssMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    /// A daemon whose manager has no work for it (allowed_miners matches nothing): every thread
    /// sits in its idle loop, as a box between batches does.
    /// With `scrapeRate` > 0 the daemon serves `[metrics]` and this process fetches `/metrics`
    /// that many times a second while the daemon's CPU is measured.
    /// With `busy`, the threads seal flat out instead (every mock stage instant): how long a
    /// scrape takes while the daemon is loaded.
    static func idleDaemon(threads: Int, seconds: Int, dir: String, scrapeRate: Int = 0, busy: Bool = false) async throws -> IdleFigures {
        let metrics = scrapeRate > 0 ? "[metrics]\nenable = true\nhttp_listen = \"127.0.0.1:0\"\n" : ""
        let sealing = busy ? """
            [proofs.mock]
            add_pieces = "0s"
            tree_d = "0s"
            pc1 = "0s"
            pc2 = "0s"
            c1 = "0s"
            c2 = "0s"
            [sealing]
            recover_interval = "10ms"
            seal_interval = "1ms"
            rpc_polling_interval = "1ms"
            """ : """
            [sealing]
            allowed_miners = [1]
            recover_interval = "5s"
            seal_interval = "5s"
            """
        let (process, log) = try spawnDaemon(dir: dir, config: config(dir: dir, threads: threads, worker: "ping_interval = \"5s\"", extra: sealing + "\n" + metrics))
        defer { process.terminate(); process.waitUntilExit() }
        _ = try await waitForPort(log: log, process: process)
        let metricsPort = scrapeRate > 0 ? try await waitForPort(log: log, process: process, marker: "metrics listening on ") : 0
        try await Task.sleep(for: .seconds(2))
        let before = cpuSeconds(process.processIdentifier)
        let start = ContinuousClock.now
        var figures = IdleFigures(cpuPercent: 0, cpuSeconds: 0, rssMiB: 0)
        if scrapeRate > 0 {
            let end = start + .seconds(seconds)
            var next = start
            while next < end {
                let sent = ContinuousClock.now
                let response = try await HTTPClient.send(HTTPRequest(method: "GET", target: "/metrics"), host: "127.0.0.1", port: metricsPort, timeout: .seconds(5))
                figures.scrapeTimes.append(ContinuousClock.now - sent)
                figures.scrapes += 1
                figures.scrapeBytes = response.body.count
                next += .seconds(1) / scrapeRate
                try await Task.sleep(until: next, clock: .continuous)
            }
        } else {
            try await Task.sleep(for: .seconds(seconds))
        }
        let used = cpuSeconds(process.processIdentifier) - before
        let wall = ContinuousClock.now - start
        let wallSecs = wall.inSeconds
        figures.cpuPercent = used / wallSecs * 100
        figures.cpuSeconds = used
        figures.rssMiB = rssMiB(process.processIdentifier)
        return figures
    }

    // MARK: pause latency

    struct PauseFigures { var waiting: [Duration]; var idle: [Duration] }

    /// Time from sending `WorkerPause` to `WorkerList` showing the thread Paused, for threads
    /// queued on a busy PC1 slot and for threads idle between polls.
    static func pauseLatency(threads: Int, dir: String) async throws -> PauseFigures {
        let (process, log) = try spawnDaemon(dir: dir, config: config(dir: dir, threads: threads, extra: """
            [proofs.mock]
            pc1 = "1h"
            [processors.limitation.concurrent]
            pc1 = 1
            [sealing]
            seal_interval = "1s"

            """))
        defer { process.terminate(); process.waitUntilExit() }
        let port = try await waitForPort(log: log, process: process)
        let client = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/"), timeout: .seconds(5))
        func states() async throws -> [Int: String] {
            let infos = try await client.call("VenusWorker.WorkerList", []).decode([WorkerInfo].self)
            return Dictionary(uniqueKeysWithValues: infos.map { ($0.index, $0.thread_state.state) })
        }
        // Wait until all but the PC1 holder queue for the slot.
        for _ in 0..<1000 {
            if try await states().values.filter({ $0 == "Waiting" }).count >= threads - 1 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        var waiting: [Duration] = []
        var idle: [Duration] = []
        var paused: [Int] = []
        for (index, state) in try await states().sorted(by: { $0.key < $1.key }) where state == "Waiting" {
            let start = ContinuousClock.now
            _ = try await client.call("VenusWorker.WorkerPause", [.int(Int64(index))])
            while try await states()[index] != "Paused" {}
            waiting.append(ContinuousClock.now - start)
            paused.append(index)
            if waiting.count >= 32 { break }
        }
        // Resume them to Aborted: they start fresh sectors, go idle between seal_interval waits.
        for index in paused { _ = try? await client.call("VenusWorker.WorkerResume", [.int(Int64(index)), .string("Aborted")]) }
        try await Task.sleep(for: .milliseconds(300))
        for (index, state) in try await states().sorted(by: { $0.key < $1.key }) where state == "Idle" {
            let start = ContinuousClock.now
            _ = try await client.call("VenusWorker.WorkerPause", [.int(Int64(index))])
            while try await states()[index] != "Paused" {}
            idle.append(ContinuousClock.now - start)
            if idle.count >= 32 { break }
        }
        return PauseFigures(waiting: waiting, idle: idle)
    }
}
