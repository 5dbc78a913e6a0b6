import Actors
import Foundation
import ProofsFFI
import Scheduler

/// `sealer bench pools`: the live daemon (sealing threads, mock manager, mock prover, the
/// resource broker) on a workload at scaled durations, against the simulator on the same
/// workload; and how fast a freed resource reaches the next waiting stage.
enum PoolsBench {
    static let spec = OptionSpec(command: "sealer bench pools", options: [
        .init(["--workload", "-w"], value: true, help: "workload file (default config/workloads/cc32.toml); CC sectors of one size"),
        .init(["--speedup"], value: true, help: "real time runs this many times faster than the workload's (default 2000)"),
        .init(["--days"], value: true, help: "workload days to run (default 3)"),
        .init(["--dir"], value: true, help: "scratch directory for the threads' state (default: a new one under /tmp)"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer bench pools [--workload W.toml] [--speedup N] [--days D] [--dir DIR]\n\n" + spec.help)
            return 0
        }
        let speedup: Double
        let days: Double
        do {
            speedup = Double(try parsed.int("--speedup") ?? 2000)
            days = Double(try parsed.int("--days") ?? 3)
        } catch { return usageFailure(error) }
        guard speedup >= 1, days >= 1 else { return usageFailure("--speedup and --days must be at least 1") }
        let workload: Workload
        switch Workload.load(path: parsed.value("--workload") ?? "config/workloads/cc32.toml") {
        case let .success(w): workload = w
        case let .failure(error): return fail("\(error)")
        }
        guard workload.sectors.count == 1, let sectors = workload.sectors.first, sectors.kind == .cc, workload.windowPost == nil else {
            return fail("the live comparison runs CC sectors of one size without WindowPoSt; \(workload.name) has more")
        }
        guard let capacity = workload.resources.describedCapacity else { return fail("\(workload.name) has no [resources.box]") }
        let costs = workload.resources.costTable
        var policy = SimulationSetup.dynamicPolicy(workload)

        // The simulator's answer.
        let setup = SimulationSetup(capacity: capacity, costs: costs, workload: workload, threads: workload.threads, days: days,
                                    policy: .dynamic(policy))
        let simulated = Simulator(setup).run()
        let bound = ThroughputBound(setup)
        // The live broker gets the same policy as the simulator (the long-stage share resolved the
        // same way), with its times divided by the speedup like the stage durations.
        policy.longStageShare = setup.longStageShare
        policy.spillGranule = setup.spillGranule
        policy.longStage = policy.longStage / speedup
        policy.starvationWait = policy.starvationWait / speedup
        policy.headroomWait = policy.headroomWait / speedup

        // The live run: the same workload with every duration divided by the speedup.
        var scaled = CostTable.defaults
        var durations: [ProofStage: Duration] = [:]
        for stage in ProofStage.allCases {
            var cost = costs.cost(stage, sectors.size)
            cost.duration = cost.duration / speedup
            scaled.set(stage, sectors.size, cost)
            durations[stage] = cost.duration
        }
        let root = parsed.value("--dir") ?? NSTemporaryDirectory() + "sealer-bench-pools-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if parsed.value("--dir") == nil { try? FileManager.default.removeItem(atPath: root) } }
        var managerOptions = MockManager.Options()
        managerOptions.sectorSize = sectors.size
        managerOptions.seedDelay = workload.seedWait / speedup
        let manager = MockManager(options: managerOptions)
        let prover = MockProver(options: .init(durations: durations, seed: workload.seed, jitter: workload.jitter))
        let broker = ResourceBroker(capacity: capacity, policy: policy, costs: scaled, recordHandovers: true)
        let log = Log(minimum: .error, fd: 2)
        try? FileManager.default.createDirectory(atPath: "\(root)/persist", withIntermediateDirectories: true)
        let threads = (0..<workload.threads).map { i in
            var settings = ThreadSettings(index: i, location: "\(root)/t\(i)", instance: "bench")
            settings.sealing.allowedSizes = [sectors.size]
            settings.sealing.sealInterval = .zero
            settings.sealing.recoverInterval = .milliseconds(10)
            settings.sealing.rpcPollingInterval = .zero
            settings.persistStores = ["bench"]
            settings.storeLocations = ["bench": "\(root)/persist"]
            return SealingThread(settings: settings, manager: manager, prover: prover, broker: broker, log: log)
        }
        let realDay = Duration.seconds(86_400) / speedup
        let warmup = Duration.milliseconds(Simulator.longestCycle(setup)) / speedup
        let total = realDay * days
        print("sealer bench pools: \(workload.name), \(workload.threads) threads, speedup \(Int(speedup)), \(Int(days)) workload days"
            + " = \(String(format: "%.0f", total.inSeconds)) s real")
        let tasks = threads.map { thread in Task { await thread.run() } }
        try? await Task.sleep(for: warmup)
        let atWarmup = await finished(manager)
        try? await Task.sleep(for: total - warmup)
        let atEnd = await finished(manager)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let live = Double(atEnd - atWarmup) / ((total - warmup).inSeconds * speedup / 86_400)
        let handovers = await broker.handovers.sorted()
        let balanced = await broker.isBalanced

        func ms(_ q: Double) -> String {
            guard !handovers.isEmpty else { return "-" }
            let d = handovers[min(handovers.count - 1, Int(Double(handovers.count - 1) * q))]
            return String(format: "%.3f ms", d.inSeconds * 1000)
        }
        print("""

        | figure | value | target |
        |---|---|---|
        | simulator, dynamic policy | \(String(format: "%.1f", simulated.sectorsPerDay)) sectors/day (bound \(String(format: "%.1f", bound.value)), \(simulated.oversubscriptions) oversubscriptions) | — |
        | live daemon, same workload at 1/\(Int(speedup)) time | \(String(format: "%.1f", live)) sectors/day (\(atEnd - atWarmup) sectors after warm-up) | — |
        | live / simulator | \(String(format: "%.3f", live / max(1e-9, simulated.sectorsPerDay))) | within 3% (0.97-1.03) |
        | freed resource → next waiting stage resumed (\(handovers.count) hand-overs) | p50 \(ms(0.5)), p99 \(ms(0.99)), max \(ms(1)) | p99 < 1 ms |
        | pools balanced after the run (nothing leaked) | \(balanced) | true |
        """)
        return 0
    }

    static func finished(_ manager: MockManager) async -> Int {
        await manager.sectors.values.filter { $0.finalized > 0 }.count
    }

    /// A runtime failure (exit 1): a workload that does not load or that this bench cannot run.
    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("sealer bench pools: \(message)\n".utf8))
        return CommandExit.failure
    }
}
