import Actors
import Foundation
import Scheduler

/// `sealer health [-c CFG | --listen HOST:PORT]`: asks a running daemon's `/healthz` (on its
/// `[metrics] http_listen`) and prints the answer; exit 0 when healthy, 1 when not or when it
/// cannot be reached, 2 for a command-line mistake. For scripts and monitoring checks.
enum HealthCommand {
    static let spec = OptionSpec(command: "sealer health", options: [
        .init(["--config", "-c"], value: true, help: "daemon config file; its [metrics] http_listen is asked ($SEALER_CONFIG, $DAMOCLES_WORKER_CONFIG)"),
        .init(["--listen"], value: true, help: "the metrics listener HOST:PORT instead of a config's"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static let usage = "usage: sealer health [-c CFG | --listen HOST:PORT]"

    static func run(_ args: [String]) async -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error, usage: usage) }
        if parsed.has("--help") {
            print(usage + "\n\nasks the daemon's /healthz: 0 healthy, 1 unhealthy or unreachable\n\n" + spec.help)
            return CommandExit.success
        }
        let listen: String
        if let explicit = parsed.value("--listen") {
            listen = explicit
        } else if let config = parsed.setting("--config", orEnvironment: EnvironmentVariables.config, ProcessInfo.processInfo.environment) {
            guard let decoded = ConfigDecoder.load(path: config.value).config else {
                return fail("\(config.value): the config has errors ('sealer config check -c \(config.value)' lists them)")
            }
            guard decoded.metrics.enable else {
                return fail("\(config.value): [metrics] enable is false; the daemon serves no /healthz")
            }
            listen = decoded.metrics.httpListen
        } else {
            return usageFailure("health needs -c FILE or --listen HOST:PORT", usage: usage)
        }
        let address: (host: String, port: UInt16)
        do { address = try MetricsServer.parse(listen: listen) } catch {
            return usageFailure("\(error)", usage: usage)
        }
        let host = address.host == "0.0.0.0" ? "127.0.0.1" : address.host
        let response: HTTPResponse
        do {
            response = try await HTTPClient.send(HTTPRequest(method: "GET", target: "/healthz", body: []),
                                                 host: host, port: address.port, timeout: .seconds(10))
        } catch {
            return fail("cannot reach the daemon's /healthz at \(host):\(address.port): \(error)")
        }
        print(response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines))
        return response.status == 200 ? CommandExit.success : CommandExit.failure
    }
}
