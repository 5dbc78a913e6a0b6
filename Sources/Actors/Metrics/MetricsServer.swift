import Foundation
import Scheduler

/// Why the metrics listener cannot be set up.
public enum MetricsServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `http_listen` is not `HOST:PORT`, `[V6]:PORT` or `:PORT`.
    case badAddress(String)
    /// Binding or listening failed (e.g. the port is in use); `address` is `host:port`.
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case let .badAddress(text): "[metrics] http_listen = \"\(text)\" is not HOST:PORT"
        case let .cannotListen(address, reason): "metrics: cannot listen on \(address): \(reason)"
        }
    }
}

/// `GET /metrics` (Prometheus text 0.0.4) and `GET /healthz` on `[metrics] http_listen`. Each
/// request copies the daemon's state once and renders it; nothing is kept up to date between
/// scrapes.
public final class MetricsServer: Sendable {
    private let server: HTTPServer
    /// The host it listens on.
    public let host: String

    /// Splits `HOST:PORT` (`[V6]:PORT`; an empty host is 127.0.0.1).
    public static func parse(listen text: String) throws(MetricsServerError) -> (host: String, port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { throw .badAddress(text) }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }
        guard !host.contains(" ") else { throw .badAddress(text) }
        return (host, port)
    }

    /// Serves what `snapshot` returns at request time, labelled with `workerName` and `workerIP`.
    /// `snapshot(true)` is for `/healthz` and must fill each thread's last error; `/metrics`
    /// asks `snapshot(false)`, which needs only each thread's plan, activity and drain flag.
    public init(host: String, port: UInt16, workerName: String, workerIP: String,
                snapshot: @escaping @Sendable (_ forHealth: Bool) async -> MetricsSnapshot) {
        self.host = host
        server = HTTPServer(host: host, port: port) { request in
            let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.target
            guard request.method == "GET" || request.method == "HEAD" else {
                return HTTPResponse(status: 405, headers: [("Allow", "GET, HEAD")], body: Array("only GET\n".utf8))
            }
            switch path {
            case "/metrics":
                let text = Metrics.render(await snapshot(false), workerName: workerName, workerIP: workerIP)
                return HTTPResponse(status: 200, headers: [("Content-Type", PrometheusText.contentType)], body: Array(text.utf8))
            case "/healthz":
                let problems = Metrics.problems(await snapshot(true))
                let body: String
                if problems.isEmpty {
                    body = #"{"ok":true}"#
                } else {
                    body = #"{"ok":false,"problems":["# + problems.map { Log.jsonString($0) }.joined(separator: ",") + "]}"
                }
                return HTTPResponse(status: problems.isEmpty ? 200 : 503, headers: [("Content-Type", "application/json")], body: Array((body + "\n").utf8))
            default:
                return HTTPResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("try /metrics or /healthz\n".utf8))
            }
        }
    }

    /// Binds and serves; returns the bound port (useful with port 0).
    public func start() throws(MetricsServerError) -> UInt16 {
        do { return try server.start() } catch {
            switch error {
            case let .cannotListen(address, reason): throw .cannotListen(address: address, reason: reason)
            default: throw .cannotListen(address: "\(host):\(server.requestedPort)", reason: "\(error)")
            }
        }
    }

    /// Closes the listener and open connections.
    public func shutdown() async { await server.shutdown() }
}
