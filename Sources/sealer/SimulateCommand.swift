import Actors
import ProofsFFI
import Foundation
import Scheduler

/// `sealer simulate`: runs the admission code in virtual time over a workload and prints
/// sectors/day against the throughput bound (BENCHMARKS.md records the shipped workloads).
enum SimulateCommand {
    static let spec = OptionSpec(command: "sealer simulate", options: [
        .init(["--workload", "-w"], value: true, help: "workload file (config/workloads/*.toml)"),
        .init(["--config", "-c"], value: true, help: "sealer config: its threads, [resources] and limitation.concurrent win over the workload's"),
        .init(["--days"], value: true, help: "simulated days (default: the workload's)"),
        .init(["--policy"], value: true, help: "dynamic (the pools, default) or static (damocles-style fixed limits)"),
        .init(["--compare"], value: false, help: "run both policies and print their ratio"),
        .init(["--svg"], value: true, help: "write a timeline of the (first) run to FILE"),
        .init(["--report"], value: true, help: "write one self-contained HTML report (bounds, resources over time, timeline, waits) to FILE"),
        .init(["--json"], value: false, help: "print one JSON object"),
        .init(["--emit-processors"], value: false, help: "print only the damocles [processors] TOML of the best static limits for this box"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static let usage = "usage: sealer simulate --workload W.toml [--config BOX.toml] [--days D] [--policy dynamic|static] [--compare] [--json] [--svg FILE] [--report FILE.html] [--emit-processors]"

    /// 0 when no run oversubscribed the box, 1 when one did or the inputs do not load, 2 for a
    /// command-line mistake.
    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print(usage + "\n\n" + spec.help)
            return 0
        }
        guard let workloadPath = parsed.value("--workload") else { return usageFailure("missing required option --workload", usage: usage) }
        let requestedDays: Double?
        do { requestedDays = try parsed.int("--days").map(Double.init) } catch { return usageFailure(error) }
        if let requestedDays, requestedDays <= 0 { return usageFailure("--days must be at least 1") }
        let policyName = parsed.value("--policy") ?? "dynamic"
        guard ["dynamic", "static"].contains(policyName) else { return usageFailure("--policy: '\(policyName)' is not dynamic or static") }
        var workload: Workload
        switch Workload.load(path: workloadPath) {
        case let .success(w): workload = w
        case let .failure(error): return fail("\(error)")
        }
        var threads = workload.threads
        var configLimits: [String: Int] = [:]
        if let path = parsed.value("--config") {
            let result = ConfigDecoder.load(path: path)
            guard let config = result.config else { return fail(result.errors.map(\.description).joined(separator: "\n")) }
            threads = config.sealingThreads.count
            var resources = config.resources
            resources.costs = workload.resources.costs + config.resources.costs
            if resources.box == nil { resources.box = workload.resources.box }
            workload.resources = resources
            configLimits = config.processors.concurrent
        }
        let days = requestedDays ?? workload.days
        guard days > 0 else { return fail("\(workloadPath): days must be at least 1") }

        let capacity: BoxCapacity
        if let described = workload.resources.describedCapacity {
            capacity = described
        } else {
            switch BoxDiscovery.discover() {
            case let .success(found): capacity = BoxCapacity(topology: found.topology, resources: workload.resources)
            case let .failure(error): return fail("no [resources.box] and discovery failed: \(error)")
            }
        }
        let costs = workload.resources.costTable
        var setup = SimulationSetup(capacity: capacity, costs: costs, workload: workload, threads: threads, days: days,
                                    policy: .dynamic(SimulationSetup.dynamicPolicy(workload)))
        let bound = ThroughputBound(setup)
        let packing = PackingBound(setup, spillSlowdown: workload.resources.pc1SpillSlowdown)

        var runs: [(name: String, result: SimulationResult, limits: StaticLimits?)] = []
        if (policyName == "dynamic" || parsed.has("--compare")) && !parsed.has("--emit-processors") {
            var dynamic = setup
            dynamic.recordTimeline = parsed.value("--svg") != nil || parsed.value("--report") != nil
            runs.append(("dynamic", Simulator(dynamic).run(), nil))
        }
        let emit = parsed.has("--emit-processors")
        if policyName == "static" || parsed.has("--compare") || emit {
            var candidates = StaticLimits.candidates(setup)
            if !configLimits.isEmpty {
                let perStage = Dictionary(uniqueKeysWithValues: configLimits.compactMap { key, value in ProofStage(rawValue: key).map { ($0, value) } })
                candidates = [StaticLimits(perStage: perStage)]
            }
            var best: (SimulationResult, StaticLimits)?
            for limits in candidates {
                setup.policy = .fixed(limits)
                setup.recordTimeline = parsed.value("--svg") != nil && runs.isEmpty
                let result = Simulator(setup).run()
                if best == nil || result.sectorsPerDay > best!.0.sectorsPerDay { best = (result, limits) }
            }
            guard let (found, limits) = best else { return fail("no static limits fit this box (a stage never fits?)") }
            var result = found
            if parsed.value("--report") != nil {
                // The report draws the best static run too: run it again, recording (runs are deterministic).
                setup.policy = .fixed(limits)
                setup.recordTimeline = true
                result = Simulator(setup).run()
            }
            runs.append(("static", result, limits))
        }
        if emit, let found = runs.last, let limits = found.limits {
            print(processorsTOML(limits, workload: workload, capacity: capacity, sectorsPerDay: found.result.sectorsPerDay, days: days), terminator: "")
            return found.result.oversubscriptions == 0 ? 0 : 1
        }
        if let svg = parsed.value("--svg"), let first = runs.first {
            let text = TimelineSVG.render(first.result.segments, pending: first.result.pending, capacity: capacity, title: "\(workload.name) \(first.name)",
                                          horizon: .seconds(days * 86_400), threads: threads)
            do { try text.write(toFile: svg, atomically: true, encoding: .utf8) } catch { return fail("--svg \(svg): \(error.localizedDescription)") }
        }
        // What sharing the GPUs with Crynux costs sealing: the first run again without the tasks.
        var sealingAlone: SimulationResult?
        if workload.crynux != nil, let first = runs.first {
            var alone = setup
            alone.workload.crynux = nil
            alone.recordTimeline = false
            alone.policy = first.limits.map { .fixed($0) } ?? .dynamic(SimulationSetup.dynamicPolicy(alone.workload))
            sealingAlone = Simulator(alone).run()
        }
        if let path = parsed.value("--report") {
            var bounds = SimulationReport.bounds(bound)
            bounds.append(.init(name: "packing", sectorsPerDay: min(bound.value, packing.value),
                                detail: "whole stages per NUMA node and per GPU (limited by \(packing.limitedBy))"))
            let report = SimulationReport(setup: setup, bounds: bounds, runs: runs.map { run in
                let loss = LossBreakdown(fluid: bound, packing: packing, result: run.result)
                var figures: [(name: String, value: String)] = run.limits.map { [("static limits", $0.description)] } ?? []
                figures.append(("ratio of the packing bound", String(format: "%.3f", run.result.sectorsPerDay / loss.packing)))
                figures += loss.terms.map { ("loss: \($0.key)", String(format: "%.1f sectors/day", $0.value)) }
                if workload.crynux != nil {
                    figures.append(("crynux tasks/day", String(format: "%.1f of %.1f offered", run.result.crynuxPerDay, run.result.crynuxArrivedPerDay)))
                    figures.append(("crynux GPU share", String(format: "%.1f%%", run.result.crynuxGPUShare * 100)))
                    figures.append(("crynux longest wait", String(format: "%.1f min", run.result.crynuxMaxWait.inSeconds / 60)))
                    if run.name == runs.first?.name, let alone = sealingAlone {
                        figures.append(("sealing without crynux", String(format: "%.1f sectors/day", alone.sectorsPerDay)))
                    }
                }
                return SimulationReport.Run(name: run.name, result: run.result, figures: figures)
            })
            do { try report.html().write(toFile: path, atomically: true, encoding: .utf8) } catch { return fail("--report \(path): \(error.localizedDescription)") }
        }
        if parsed.has("--json") {
            var object = report(runs[0].name, runs[0].result, runs[0].limits, bound: bound, packing: packing)
            object["workload"] = .string(workload.name)
            object["days"] = .double(days)
            object["threads"] = .int(Int64(threads))
            if let alone = sealingAlone, let crynux = workload.crynux {
                let r = runs[0].result
                object["crynux"] = .object([
                    "tasks_per_day": .double(round4(r.crynuxPerDay)), "offered_per_day": .double(round4(r.crynuxArrivedPerDay)),
                    "max_wait_s": .double(round4(r.crynuxMaxWait.inSeconds)), "gpu_share_used": .double(round4(r.crynuxGPUShare)),
                    "gpu_share": crynux.gpuShare.map { .double($0) } ?? .null,
                    "sealing_sectors_per_day": .double(round4(r.sectorsPerDay)),
                    "sealing_sectors_per_day_without": .double(round4(alone.sectorsPerDay)),
                ])
            }
            if runs.count == 2 {
                object["static"] = .object(report(runs[1].name, runs[1].result, runs[1].limits, bound: bound, packing: packing))
                object["dynamic_over_static"] = .double(round4(runs[0].result.sectorsPerDay / max(1e-9, runs[1].result.sectorsPerDay)))
            }
            print(JSONValue.object(object).serializedString)
        } else {
            print("workload \(workload.name): \(threads) threads, \(capacity.cpuCount) cores, \(ByteSize.short(capacity.memoryBytes)) memory,"
                + " \(capacity.gpus.count) GPUs, \(Int(days)) days")
            print(String(format: "bound %.1f sectors/day (limited by %@; ", bound.value, bound.limitedBy)
                + bound.byResource.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f", $0.key, $0.value) }.joined(separator: ", ") + ")")
            print(String(format: "packing bound %.1f sectors/day (limited by %@; numa %.1f%@, gpu %.1f; with PoSt headroom %.1f; threads %.1f; whole per node: %@)",
                         min(bound.value, packing.value), packing.limitedBy, packing.nodes,
                         packing.nodesWithSpill.map { String(format: " (%.1f spilling)", $0) } ?? "", packing.gpus, packing.nodesWithHeadroom,
                         packing.threads, packing.integral.isEmpty ? "-" : packing.integral.joined(separator: " ")))
            if let slowdown = workload.resources.pc1SpillSlowdown, let spilled = packing.nodesWithSpill, let dynamic = runs.first(where: { $0.name == "dynamic" }) {
                // What spilling buys: the same run with PC1s kept on one node.
                var kept = setup
                kept.workload.resources.pc1SpillSlowdown = nil
                kept.policy = .dynamic(SimulationSetup.dynamicPolicy(kept.workload))
                let without = Simulator(kept).run()
                print(String(format: "pc1 spill at %.0f%% slower: %.1f sectors/day (%.1f without spilling); nodes' packing bound %.1f (%.1f without)",
                             slowdown * 100, dynamic.result.sectorsPerDay, without.sectorsPerDay, spilled, packing.nodes))
            }
            for run in runs {
                let r = run.result
                print(String(format: "%@: %.1f sectors/day, ratio %.3f of bound, %d oversubscriptions, %d sectors done", run.name,
                             r.sectorsPerDay, r.sectorsPerDay / bound.value, r.oversubscriptions, r.completed))
                let loss = LossBreakdown(fluid: bound, packing: packing, result: r)
                print(String(format: "  ratio %.3f of packing bound; loss %.1f sectors/day: ", r.sectorsPerDay / loss.packing, loss.gap)
                    + loss.terms.map { String(format: "%@ %.1f", $0.key, $0.value) }.joined(separator: ", "))
                print("  busy: " + r.utilization.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f%%", $0.key, $0.value * 100) }.joined(separator: ", "))
                if let limits = run.limits {
                    print("  limits: \(limits)")
                    print("  damocles [processors] (sealer simulate --emit-processors):")
                    let text = processorsTOML(limits, workload: workload, capacity: capacity, sectorsPerDay: r.sectorsPerDay, days: days)
                    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { print(line.isEmpty ? "" : "    " + line) }
                }
                if let (stage, wait) = r.longestWait.max(by: { $0.value < $1.value }) {
                    print(String(format: "  longest admission wait: %@ %.1f h", stage.rawValue, wait.inSeconds / 3600))
                }
                if r.postRuns > 0 {
                    print(String(format: "  window_post: %d runs, longest wait %.0f s, of it behind sealing %.0f s", r.postRuns,
                                 r.postMaxWait.inSeconds, r.postMaxSealingWait.inSeconds))
                }
            }
            if let alone = sealingAlone, let crynux = workload.crynux, let first = runs.first {
                let r = first.result
                print(String(format: "crynux (%@): %.1f inference tasks/day of %.1f offered, longest wait %.0f s, %.1f%% of GPU time%@; sealing %.1f sectors/day beside them, %.1f without",
                             first.name, r.crynuxPerDay, r.crynuxArrivedPerDay, r.crynuxMaxWait.inSeconds, r.crynuxGPUShare * 100,
                             crynux.priority == .likeC2 ? " (like C2: ahead of sealing)"
                                 : (crynux.gpuShare ?? 0) > 0 ? String(format: " (ahead of sealing under gpu_share %.2f)", crynux.gpuShare ?? 0) : " (only what sealing leaves)",
                             r.sectorsPerDay, alone.sectorsPerDay))
            }
            if runs.count == 2 {
                print(String(format: "dynamic / best static: %.3f", runs[0].result.sectorsPerDay / max(1e-9, runs[1].result.sectorsPerDay)))
            }
        }
        return runs.allSatisfy { $0.result.oversubscriptions == 0 } ? 0 : 1
    }

    static func report(_ name: String, _ r: SimulationResult, _ limits: StaticLimits?, bound: ThroughputBound,
                       packing: PackingBound) -> [String: JSONValue] {
        let loss = LossBreakdown(fluid: bound, packing: packing, result: r)
        var object: [String: JSONValue] = [
            "policy": .string(name),
            "sectors_per_day": .double(round4(r.sectorsPerDay)),
            "bound": .double(round4(bound.value)),
            "bound_by": .string(bound.limitedBy),
            "bound_by_resource": .object(bound.byResource.mapValues { .double(round4($0)) }),
            "ratio": .double(round4(r.sectorsPerDay / bound.value)),
            "utilization": .object(r.utilization.mapValues { .double(round4($0)) }),
            "oversubscriptions": .int(Int64(r.oversubscriptions)),
            "completed": .int(Int64(r.completed)),
            "window_post": .object([
                "runs": .int(Int64(r.postRuns)), "max_wait_s": .double(round4(r.postMaxWait.inSeconds)),
                "max_wait_for_sealing_s": .double(round4(r.postMaxSealingWait.inSeconds)),
            ]),
        ]
        object["work_per_day"] = .double(round4(r.workPerDay))
        object["fluid_bound"] = .double(round4(loss.fluid))
        object["packing_bound"] = .double(round4(loss.packing))
        object["ratio_fluid"] = .double(round4(r.sectorsPerDay / loss.fluid))
        object["ratio_packing"] = .double(round4(r.sectorsPerDay / loss.packing))
        func finite(_ x: Double) -> JSONValue { x.isFinite ? .double(round4(x)) : .null }
        object["packing"] = .object([
            "value": finite(packing.value), "limited_by": .string(packing.limitedBy), "numa": finite(packing.nodes),
            "numa_with_post_headroom": finite(packing.nodesWithHeadroom), "gpu": finite(packing.gpus), "threads": finite(packing.threads),
            "integral": .array(packing.integral.map { .string($0) }),
            "numa_with_spill": packing.nodesWithSpill.map(finite) ?? .null,
        ])
        var terms = Dictionary(uniqueKeysWithValues: loss.terms.map { ($0.key, JSONValue.double(round4($0.value))) })
        terms["gap"] = .double(round4(loss.gap))
        terms["sum"] = .double(round4(loss.sum))
        object["loss"] = .object(terms)
        if let limits { object["static_limits"] = .string(limits.description) }
        if let limits { object["processors_toml"] = .string(ProcessorsEmitter.toml(limits)) }
        object["longest_wait_s"] = .object(Dictionary(uniqueKeysWithValues: r.longestWait.map { ($0.key.rawValue, JSONValue.double(round4($0.value.inSeconds))) }))
        return object
    }

    /// The best static limits as damocles `[processors]` TOML, headed by what they were found for.
    static func processorsTOML(_ limits: StaticLimits, workload: Workload, capacity: BoxCapacity, sectorsPerDay: Double, days: Double) -> String {
        ProcessorsEmitter.toml(limits, comments: [
            "damocles-worker [processors] found by sealer simulate for workload \(workload.name):",
            "\(capacity.nodes.count) NUMA nodes, \(capacity.cpuCount) cores, \(ByteSize.short(capacity.memoryBytes)) memory for sealing, \(capacity.gpus.count) GPUs;",
            String(format: "%.1f sectors/day over %.0f simulated days, never over any node's memory with the largest sector size.", sectorsPerDay, days),
        ])
    }

    static func round4(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }

    /// A runtime failure (exit 1): a workload or config that does not load, no box to run on.
    static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("sealer simulate: \(message)\n".utf8))
        return CommandExit.failure
    }
}

