import Actors
import Foundation
import ProofsFFI
import Scheduler

/// The executable's view of a config file: daemon options, diagnostics, the effective text.
enum ConfigBridge {
    struct Loaded {
        var options: DaemonOptions?
        var diagnostics: [ConfigDiagnostic]
        var effective: String?
    }

    /// The daemon's view: the config resolved on this box (hardware discovery, the worker's
    /// name from its address toward the manager), logging what it found to `log`.
    static func load(path: String, log: Log = Log(), sysfsRoot: String = "/") -> Loaded {
        let result = ConfigDecoder.load(path: path)
        guard let config = result.config else { return Loaded(options: nil, diagnostics: result.diagnostics, effective: nil) }
        do {
            let options = try DaemonOptions(config: config, file: path, log: log, sysfsRoot: sysfsRoot)
            return Loaded(options: options, diagnostics: result.diagnostics, effective: EffectiveConfig.render(config))
        } catch {
            return Loaded(options: nil, diagnostics: result.diagnostics + [refused(path, error)], effective: nil)
        }
    }

    /// `sealer config check`'s view without `--resolve`: decoded, validated and refused as the
    /// daemon would, but with no hardware discovery (sysfs, NVML) and no name or address lookup.
    /// `options` stays nil; `effective` is set when the daemon would accept the config.
    static func check(path: String) -> Loaded {
        let result = ConfigDecoder.load(path: path)
        guard let config = result.config else { return Loaded(options: nil, diagnostics: result.diagnostics, effective: nil) }
        do {
            try DaemonOptions.check(config, file: path)
            return Loaded(options: nil, diagnostics: result.diagnostics, effective: EffectiveConfig.render(config))
        } catch {
            return Loaded(options: nil, diagnostics: result.diagnostics + [refused(path, error)], effective: nil)
        }
    }

    static func refused(_ path: String, _ error: DaemonError) -> ConfigDiagnostic {
        ConfigDiagnostic(.error, file: path, position: nil, keyPath: "", message: error.message)
    }

    /// `[worker] rpc_server` of a config, for `sealer worker -c`; a config that does not load is
    /// a runtime failure naming where its path came from.
    static func managementAddress(config: Setting) throws(CommandFailure) -> (host: String, port: UInt16, token: String?) {
        let result = ConfigDecoder.load(path: config.value)
        guard let loaded = result.config else {
            let origin = config.source == "--config" ? "" : "\n(the config named by \(config.source))"
            throw CommandFailure(result.errors.map(\.description).joined(separator: "\n") + origin)
        }
        return (loaded.worker.rpcHost, loaded.worker.rpcPort, loaded.worker.rpcToken)
    }

    static func sectorSize(_ text: String, what: String) throws -> SectorSize {
        guard let size = ByteSize(parsing: text), let known = SectorSize(rawValue: size.bytes) else {
            throw UsageError("\(what): '\(text)' is not a Filecoin sector size (\(SectorSize.allCases.map(\.description).joined(separator: ", ")))")
        }
        return known
    }

    static func duration(_ text: String, what: String) throws -> Duration {
        guard let d = HumanDuration.parse(text) else { throw UsageError("\(what): '\(text)' is not a duration (e.g. 200ms, 5s)") }
        return d
    }
}
