import Actors
import Foundation
import Scheduler

/// `sealer config check -c FILE [--resolve [--sysfs-root DIR]]`: the effective config on stdout
/// (and nothing else, so `> effective.toml` is a config that checks to the same text), its
/// warnings and errors on stderr. Without `--resolve` it reads only the file: no hardware
/// discovery, no name or address lookup.
enum ConfigCommand {
    static let spec = OptionSpec(command: "sealer config check", options: [
        .init(["--config", "-c"], value: true, help: "config file to check; else \(EnvironmentVariables.named(EnvironmentVariables.config))"),
        .init(["--resolve"], value: false, help: "also resolve what the daemon resolves on this box (hardware, worker name) and append it as comments"),
        .init(["--sysfs-root"], value: true, help: "with --resolve: read DIR/sys (and DIR/nvidia-smi-q.xml) instead of /sys and NVML"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 1)

    static let usage = "usage: sealer config check -c FILE [--resolve [--sysfs-root DIR]]"

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error, usage: usage) }
        if parsed.has("--help") {
            print(usage + "\n\nprints the effective config (defaults resolved) on stdout; warnings and errors go to stderr\n\n" + spec.help)
            return CommandExit.success
        }
        switch parsed.positionals.first {
        case "check"?: break
        case nil: return usageFailure("missing subcommand: config check", usage: usage)
        case let other?: return usageFailure("unknown config subcommand '\(other)'", usage: usage)
        }
        guard let config = parsed.setting("--config", orEnvironment: EnvironmentVariables.config, ProcessInfo.processInfo.environment) else {
            return usageFailure("config check needs -c FILE (or \(EnvironmentVariables.either(EnvironmentVariables.config)))", usage: usage)
        }
        let resolve = parsed.has("--resolve")
        if parsed.value("--sysfs-root") != nil, !resolve {
            return usageFailure("--sysfs-root only matters with --resolve", usage: usage)
        }
        let path = config.value
        let loaded = resolve
            ? ConfigBridge.load(path: path, log: Log(), sysfsRoot: parsed.value("--sysfs-root") ?? "/")
            : ConfigBridge.check(path: path)
        for diagnostic in loaded.diagnostics { FileHandle.standardError.write(Data(("\(diagnostic)\n").utf8)) }
        guard var effective = loaded.effective else {
            return fail("\(path): \(loaded.diagnostics.filter(\.isError).count) error(s)"
                + (config.source == "--config" ? "" : " (the config named by \(config.source))"))
        }
        if let options = loaded.options { effective += resolvedComments(options) }
        print(effective, terminator: effective.hasSuffix("\n") ? "" : "\n")
        return CommandExit.success
    }

    /// What `--resolve` found, as TOML comments, so the output stays a config that checks.
    static func resolvedComments(_ options: DaemonOptions) -> String {
        var out = "\n# resolved on this box (--resolve):\n"
        out += "# worker name: \(options.workerName)\n"
        if let advertised = options.advertisedHost { out += "# management address given to the manager: \(advertised)\n" }
        if let capacity = options.pools?.capacity {
            out += "# box: \(capacity.cpuCount) cores on \(capacity.nodes.count) node(s), \(ByteSize.short(capacity.memoryBytes)) memory for sealing, "
                + "\(capacity.hugepages) x 1GiB hugepages, \(capacity.gpus.count) GPU(s)\n"
        }
        for thread in options.threads where !thread.location.isEmpty {
            out += "# sealing_thread \(thread.index): \(thread.location)\n"
        }
        return out
    }
}
