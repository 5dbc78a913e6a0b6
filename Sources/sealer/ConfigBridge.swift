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

    static func load(path: String, log: Log = Log()) -> Loaded {
        let result = ConfigDecoder.load(path: path)
        guard let config = result.config else { return Loaded(options: nil, diagnostics: result.diagnostics, effective: nil) }
        do {
            let options = try DaemonOptions(config: config, file: path, log: log)
            return Loaded(options: options, diagnostics: result.diagnostics, effective: EffectiveConfig.render(config, source: path))
        } catch {
            let refused = ConfigDiagnostic(.error, file: path, position: nil, keyPath: "", message: error.message)
            return Loaded(options: nil, diagnostics: result.diagnostics + [refused], effective: nil)
        }
    }

    /// `[worker] rpc_server` of a config, for `sealer worker -c`.
    static func managementAddress(configPath: String) throws -> (host: String, port: UInt16, token: String?) {
        let result = ConfigDecoder.load(path: configPath)
        guard let config = result.config else {
            throw UsageError(result.errors.map(\.description).joined(separator: "\n"))
        }
        return (config.worker.rpcHost, config.worker.rpcPort, config.worker.rpcToken)
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
