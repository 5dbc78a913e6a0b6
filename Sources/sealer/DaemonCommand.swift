import Actors
import Foundation
import Scheduler

/// `sealer daemon -c FILE`: loads the config, starts the threads and the management server,
/// and runs until SIGTERM / SIGINT.
enum DaemonCommand {
    static let spec = OptionSpec(command: "sealer daemon", options: [
        .init(["--config", "-c"], value: true, help: "config file (damocles-worker.toml format); else \(EnvironmentVariables.named(EnvironmentVariables.config))"),
        .init(["--log-level"], value: true, help: "debug, info (default), warn or error; else \(Log.levelVariable)"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer daemon -c FILE\n\nlogs go to stderr: \(Log.levelVariable)=debug|info|warn|error sets the level, \(Log.formatVariable)=json writes JSON lines\n\n" + spec.help)
            return 0
        }
        guard let path = parsed.setting("--config", orEnvironment: EnvironmentVariables.config, ProcessInfo.processInfo.environment)?.value else {
            return usageFailure("daemon needs a config: sealer daemon -c FILE (try config/mock.toml), or set \(EnvironmentVariables.either(EnvironmentVariables.config))")
        }
        let environment = ProcessInfo.processInfo.environment
        var log: Log
        do { log = try Log.configured(by: environment) } catch { return usageFailure("\(error)") }
        if let level = parsed.value("--log-level") {
            // The flag wins over SEALER_LOG.
            guard let minimum = Log.Level(name: level) else {
                return usageFailure("--log-level expects debug, info, warn or error, got '\(level)'")
            }
            log.minimum = minimum
        }
        let loaded = ConfigBridge.load(path: path, log: log)
        for diagnostic in loaded.diagnostics {
            if !diagnostic.isError {
                log.warn("\(diagnostic)")
            } else if log.format == .json {
                log.error("\(diagnostic)")
            } else {
                FileHandle.standardError.write(Data(("\(diagnostic)\n").utf8))
            }
        }
        guard let options = loaded.options else {
            return failure("\(path): the config has errors (listed above); nothing was started", log)
        }
        var notifier: SystemdNotifier?
        do {
            notifier = try SystemdNotifier.from(environment: environment, log: log)
        } catch {
            // Under systemd with Type=notify this start will time out; say why.
            log.error("\(error); systemd is not notified")
        }
        if let notifier {
            log.info("notifying systemd at \(notifier.socketName)" + (notifier.watchdogInterval.map { "; watchdog beats every \($0)" } ?? ""))
        }
        let daemon = Daemon(options: options, log: log, notifier: notifier)
        // Signals first: one that arrives while children start must not kill us or orphan them.
        daemon.installSignalHandling()
        do {
            _ = try await daemon.start()
        } catch {
            let clean = await daemon.stop()
            if error.aborted {
                log.info("\(error); stopped")
                return clean ? 0 : 1
            }
            return failure("\(error)", log)
        }
        return await daemon.runUntilSignalled() ? 0 : 1
    }

    /// `fail` (exit 1), as a JSON line when the log is JSON, so every stderr line parses.
    static func failure(_ message: String, _ log: Log) -> Int32 {
        guard log.format == .json else { return fail(message) }
        log.error("sealer: " + message)
        return CommandExit.failure
    }
}
