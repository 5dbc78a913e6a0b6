import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `http://host:port/path` split into its parts. Only plain `http` is supported.
public struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP literal (IPv6 without brackets).
    public var host: String
    /// TCP port (default 80 when the URL has none).
    public var port: UInt16
    /// Path plus optional query, always starting with `/`.
    public var path: String

    /// Creates an endpoint from parts; an empty `path` becomes `/`.
    public init(host: String, port: UInt16, path: String = "/") {
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : (path.hasPrefix("/") ? path : "/" + path)
    }

    /// Parses `http://host[:port][/path][?query]` (IPv6 as `[::1]`). Returns nil for other
    /// schemes, user info, empty hosts, or ports outside 1...65535. Fragments are dropped.
    public init?(url: String) {
        let scheme = "http://"
        guard url.utf8.count > scheme.utf8.count, httpNameEquals(url.prefix(scheme.count), scheme) else { return nil }
        var rest = Substring(url.dropFirst(scheme.count))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" }
        if path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        guard !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { return nil }

        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let colons = authority.filter { $0 == ":" }.count
            guard colons <= 1 else { return nil }
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
        }
        guard !host.isEmpty else { return nil }
        var port: UInt16 = 80
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let p = UInt16(portText), p > 0
            else { return nil }
            port = p
        }
        self.host = String(host)
        self.port = port
        self.path = path
    }

    /// `host:port` with IPv6 literals bracketed.
    public var hostPort: String { HTTPSocketIO.hostPort(host, port) }

    /// The URL form, `http://host:port/path`.
    public var description: String { "http://\(hostPort)\(path)" }
}

/// Failure of `HTTPClient.send`. Every case names the `host:port` it concerns.
public enum HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The host name could not be resolved.
    case resolutionFailed(host: String, port: UInt16, reason: String)
    /// No connection could be established (e.g. `connection refused`).
    case connectFailed(host: String, port: UInt16, reason: String)
    /// The whole exchange did not complete within the timeout.
    case timedOut(host: String, port: UInt16, after: Duration)
    /// The connection broke while sending or before a complete response arrived.
    case connectionLost(host: String, port: UInt16, reason: String)
    /// The peer's response is not valid HTTP/1.x (or exceeds the client's limits).
    case malformedResponse(host: String, port: UInt16, reason: String)
    /// The calling task was cancelled.
    case cancelled(host: String, port: UInt16)

    /// The target host.
    public var host: String {
        switch self {
        case .resolutionFailed(let h, _, _), .connectFailed(let h, _, _), .timedOut(let h, _, _),
            .connectionLost(let h, _, _), .malformedResponse(let h, _, _), .cancelled(let h, _):
            return h
        }
    }

    /// The target port.
    public var port: UInt16 {
        switch self {
        case .resolutionFailed(_, let p, _), .connectFailed(_, let p, _), .timedOut(_, let p, _),
            .connectionLost(_, let p, _), .malformedResponse(_, let p, _), .cancelled(_, let p):
            return p
        }
    }

    /// The reason alone, e.g. `connection refused`, `timed out after 2s`, `malformed response: …`.
    public var reason: String {
        switch self {
        case .resolutionFailed(_, _, let r): return "cannot resolve host: \(r)"
        case .connectFailed(_, _, let r): return r
        case .timedOut(_, _, let after): return "timed out after \(httpFormatDuration(after))"
        case .connectionLost(_, _, let r): return "connection lost: \(r)"
        case .malformedResponse(_, _, let r): return "malformed response: \(r)"
        case .cancelled: return "cancelled"
        }
    }

    /// e.g. `http 127.0.0.1:1234: connection refused`.
    public var description: String { "http \(HTTPSocketIO.hostPort(host, port)): \(reason)" }
}

/// Minimal HTTP/1.1 client: one connection per request (`Connection: close`).
public struct HTTPClient: Sendable {
    /// Default cap on response size (head + body).
    public static let defaultMaxResponseBytes = 64 << 20

    /// Sends `request` to `host:port` and returns the response.
    ///
    /// The blocking socket work runs on a dedicated thread, never on the cooperative pool.
    /// `timeout` bounds the whole exchange after name resolution (connect, send, receive).
    /// Host names are resolved with getaddrinfo and each address is tried in turn.
    /// `Host`, `Content-Length` and `Connection: close` are added; responses framed by
    /// `Content-Length`, `chunked` or connection close are understood. Cancelling the
    /// calling task aborts the exchange with `.cancelled`.
    public static func send(
        _ request: HTTPRequest,
        host: String,
        port: UInt16,
        timeout: Duration,
        maxResponseBytes: Int = HTTPClient.defaultMaxResponseBytes
    ) async throws(HTTPClientError) -> HTTPResponse {
        let cancellation = ClientCancellation()
        let result: Result<HTTPResponse, HTTPClientError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPClientError>, Never>) in
                Thread.start(named: "http-client", stackSize: 256 * 1024) {
                    let outcome = ClientExchange(
                        request: request, host: host, port: port, timeout: timeout,
                        maxResponseBytes: maxResponseBytes, cancellation: cancellation
                    ).run()
                    continuation.resume(returning: outcome)
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }
}

/// Lets a cancelled task interrupt the blocking exchange by shutting its socket down.
private final class ClientCancellation: Sendable {
    private struct State {
        var fd: Int32 = -1
        var cancelled = false
    }

    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Registers the live socket; returns false if already cancelled.
    func register(_ fd: Int32) -> Bool {
        state.withLock { s in
            s.fd = fd
            return !s.cancelled
        }
    }

    /// Must be called before the socket is closed.
    func unregister() {
        state.withLock { $0.fd = -1 }
    }

    func cancel() {
        state.withLock { s in
            s.cancelled = true
            if s.fd >= 0 { _ = Glibc.shutdown(s.fd, Int32(SHUT_RDWR)) }
        }
    }
}

/// One blocking request/response exchange, run on its own thread.
private struct ClientExchange {
    let request: HTTPRequest
    let host: String
    let port: UInt16
    let timeout: Duration
    let maxResponseBytes: Int
    let cancellation: ClientCancellation

    private func failure(_ make: (String, UInt16) -> HTTPClientError) -> HTTPClientError {
        cancellation.isCancelled ? .cancelled(host: host, port: port) : make(host, port)
    }

    func run() -> Result<HTTPResponse, HTTPClientError> {
        if cancellation.isCancelled { return .failure(.cancelled(host: host, port: port)) }
        var lookupHost = host
        if lookupHost.hasPrefix("[") && lookupHost.hasSuffix("]") { lookupHost = String(lookupHost.dropFirst().dropLast()) }
        let addresses: [HTTPSocketIO.Address]
        switch HTTPSocketIO.resolve(host: lookupHost, port: port, passive: false) {
        case .success(let a): addresses = a
        case .failure(let e): return .failure(.resolutionFailed(host: host, port: port, reason: e.text))
        }
        let deadline = HTTPSocketIO.now() + timeout

        var lastError: Int32 = ECONNREFUSED
        for address in addresses {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            if fd < 0 {
                lastError = errno
                continue
            }
            guard cancellation.register(fd) else {
                _ = close(fd)
                return .failure(.cancelled(host: host, port: port))
            }
            defer {
                cancellation.unregister()
                _ = close(fd)
            }
            switch connect(fd, address, deadline: deadline) {
            case .connected:
                HTTPSocketIO.setNoDelay(fd)
                return exchange(fd, deadline: deadline)
            case .timedOut:
                return .failure(failure { .timedOut(host: $0, port: $1, after: timeout) })
            case .failed(let err):
                if cancellation.isCancelled { return .failure(.cancelled(host: host, port: port)) }
                lastError = err
            }
        }
        return .failure(.connectFailed(host: host, port: port, reason: HTTPSocketIO.errorText(lastError)))
    }

    private enum ConnectResult {
        case connected
        case timedOut
        case failed(Int32)
    }

    private func connect(_ fd: Int32, _ address: HTTPSocketIO.Address, deadline: ContinuousClock.Instant) -> ConnectResult {
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if rc == 0 { return .connected }
        let err = errno
        guard err == EINPROGRESS || err == EINTR else { return .failed(err) }
        switch HTTPSocketIO.wait(fd, events: Int16(POLLOUT), until: deadline) {
        case .timedOut: return .timedOut
        case .failed(let e): return .failed(e)
        case .ready: break
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0 else { return .failed(errno) }
        return soError == 0 ? .connected : .failed(soError)
    }

    private func serializeRequest() -> [UInt8] {
        let method = request.method.isEmpty ? "GET" : request.method
        let target = request.target.isEmpty ? "/" : request.target
        var head = "\(httpSanitizeHeaderText(method)) \(httpSanitizeHeaderText(target).replacingOccurrences(of: " ", with: "%20")) HTTP/1.1\r\n"
        if request.header("Host") == nil {
            head += "Host: \(HTTPSocketIO.hostPort(host, port))\r\n"
        }
        for (name, value) in request.headers {
            if httpNameEquals(name, "Content-Length") || httpNameEquals(name, "Transfer-Encoding")
                || httpNameEquals(name, "Connection")
            {
                continue
            }
            guard !name.isEmpty, name.utf8.allSatisfy(httpIsTokenByte) else { continue }
            head += "\(name): \(httpSanitizeHeaderText(value))\r\n"
        }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: \(request.body.count)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: request.body)
        return bytes
    }

    private func exchange(_ fd: Int32, deadline: ContinuousClock.Instant) -> Result<HTTPResponse, HTTPClientError> {
        let sendError = HTTPSocketIO.sendAll(fd, serializeRequest(), until: deadline)
        if sendError == ETIMEDOUT {
            return .failure(failure { .timedOut(host: $0, port: $1, after: timeout) })
        }
        // On EPIPE / ECONNRESET the server may still have answered early (e.g. 413): try reading.
        var reader = ResponseReader(fd: fd, deadline: deadline, limit: maxResponseBytes)
        let result = reader.read(headRequest: request.method == "HEAD")
        switch result {
        case .success(let response):
            return .success(response)
        case .failure(let failureKind):
            if cancellation.isCancelled { return .failure(.cancelled(host: host, port: port)) }
            switch failureKind {
            case .timedOut:
                return .failure(.timedOut(host: host, port: port, after: timeout))
            case .lost(let reason):
                if sendError != 0 { return .failure(.connectionLost(host: host, port: port, reason: HTTPSocketIO.errorText(sendError))) }
                return .failure(.connectionLost(host: host, port: port, reason: reason))
            case .malformed(let reason):
                return .failure(.malformedResponse(host: host, port: port, reason: reason))
            }
        }
    }
}

/// Reads and parses one response from a socket.
private struct ResponseReader {
    enum Failure: Error {
        case timedOut
        case lost(String)
        case malformed(String)
    }

    let fd: Int32
    let deadline: ContinuousClock.Instant
    let limit: Int
    var buffer: [UInt8] = []
    var eof = false
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: Int32, deadline: ContinuousClock.Instant, limit: Int) {
        self.fd = fd
        self.deadline = deadline
        self.limit = limit
    }

    /// Reads more bytes into `buffer`; returns false at EOF.
    private mutating func fill() -> Result<Bool, Failure> {
        if eof { return .success(false) }
        let fd = self.fd
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: scratch[0..<n])
                if buffer.count > limit { return .failure(.malformed("response exceeds \(limit) bytes")) }
                return .success(true)
            }
            if n == 0 {
                eof = true
                return .success(false)
            }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK {
                switch HTTPSocketIO.wait(fd, events: Int16(POLLIN), until: deadline) {
                case .ready: continue
                case .timedOut: return .failure(.timedOut)
                case .failed(let e): return .failure(.lost(HTTPSocketIO.errorText(e)))
                }
            }
            return .failure(.lost(HTTPSocketIO.errorText(err)))
        }
    }

    private static func findHeadEnd(_ buffer: [UInt8], from: Int) -> Int? {
        var i = from
        while let lf = httpIndexOfLF(buffer, from: i) {
            let next = lf + 1
            if next < buffer.count && buffer[next] == httpLF { return next + 1 }
            if next + 1 < buffer.count && buffer[next] == httpCR && buffer[next + 1] == httpLF { return next + 2 }
            i = next
        }
        return nil
    }

    mutating func read(headRequest: Bool) -> Result<HTTPResponse, Failure> {
        var start = 0
        var status = 0
        var reason = ""
        var headers: [(name: String, value: String)] = []
        // Head(s); interim 1xx responses are skipped.
        while true {
            guard let headEnd = ResponseReader.findHeadEnd(buffer, from: start) else {
                if buffer.count - start > 64 * 1024 { return .failure(.malformed("response head exceeds 64 KiB")) }
                switch fill() {
                case .failure(let f): return .failure(f)
                case .success(true): continue
                case .success(false):
                    if buffer.isEmpty { return .failure(.lost("server closed the connection without responding")) }
                    return .failure(.malformed("connection closed inside the response head"))
                }
            }
            switch ResponseReader.parseHead(buffer[start..<headEnd]) {
            case .failure(let f): return .failure(f)
            case .success(let head):
                (status, reason, headers) = head
            }
            start = headEnd
            if (100..<200).contains(status) {
                if status == 101 { return .failure(.malformed("unexpected 101 Switching Protocols")) }
                continue
            }
            break
        }

        func header(_ name: String) -> [String] {
            headers.filter { httpNameEquals($0.name, name) }.map(\.value)
        }

        if headRequest || HTTPResponse.statusHasNoBody(status) {
            return .success(HTTPResponse(status: status, reason: reason, headers: headers, body: []))
        }
        let transferEncoding = header("Transfer-Encoding")
        if !transferEncoding.isEmpty {
            let codings = transferEncoding.flatMap { $0.split(separator: ",") }.map { httpTrimOWS($0) }.filter { !$0.isEmpty }
            guard let last = codings.last, httpNameEquals(last, "chunked"), codings.count == 1 else {
                return .failure(.malformed("unsupported transfer coding '\(transferEncoding.joined(separator: ", "))'"))
            }
            var decoder = HTTPChunkedDecoder(maxBody: limit, maxTrailer: 64 * 1024)
            var pos = start
            while true {
                do {
                    if try decoder.consume(buffer, &pos) { break }
                } catch {
                    return .failure(.malformed("bad chunked body: \(error.reason)"))
                }
                switch fill() {
                case .failure(let f): return .failure(f)
                case .success(true): continue
                case .success(false): return .failure(.malformed("connection closed inside a chunked body"))
                }
            }
            return .success(HTTPResponse(status: status, reason: reason, headers: headers, body: decoder.body))
        }
        let lengths = header("Content-Length")
        if !lengths.isEmpty {
            let values = Set(lengths.flatMap { $0.split(separator: ",") }.map { String(httpTrimOWS($0)) })
            guard values.count == 1, let text = values.first, text.utf8.count <= 18,
                text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(text)
            else {
                return .failure(.malformed("invalid Content-Length '\(lengths.joined(separator: ", "))'"))
            }
            guard length <= limit else { return .failure(.malformed("body of \(length) bytes exceeds \(limit) bytes")) }
            while buffer.count - start < length {
                switch fill() {
                case .failure(let f): return .failure(f)
                case .success(true): continue
                case .success(false):
                    return .failure(.malformed("connection closed after \(buffer.count - start) of \(length) body bytes"))
                }
            }
            return .success(HTTPResponse(status: status, reason: reason, headers: headers, body: Array(buffer[start..<(start + length)])))
        }
        // Delimited by connection close.
        while true {
            switch fill() {
            case .failure(let f): return .failure(f)
            case .success(true): continue
            case .success(false):
                return .success(HTTPResponse(status: status, reason: reason, headers: headers, body: Array(buffer[start...])))
            }
        }
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<(Int, String, [(name: String, value: String)]), Failure> {
        var lines = httpLines(bytes)
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let statusLine = lines.first else { return .failure(.malformed("empty status line")) }
        let text = String(decoding: statusLine, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].utf8.count == 3,
            let status = Int(parts[1]), status >= 100
        else {
            return .failure(.malformed("invalid status line '\(String(text.prefix(80)))'"))
        }
        let reason = parts.count == 3 ? String(parts[2]) : ""
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(httpIsTokenByte)
            else {
                return .failure(.malformed("invalid header line '\(String(decoding: line.prefix(80), as: UTF8.self))'"))
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = httpTrimOWS(Substring(String(decoding: line[(colon + 1)...], as: UTF8.self)))
            headers.append((name: name, value: String(value)))
        }
        return .success((status, reason, headers))
    }
}
