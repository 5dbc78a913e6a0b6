import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Socket helpers (internal, shared with HTTPClient)

enum HTTPSocketIO {
    enum WaitResult {
        case ready
        case timedOut
        case failed(Int32)
    }

    static func now() -> ContinuousClock.Instant { ContinuousClock.now }

    /// Milliseconds left until `deadline`, rounded up, clamped to `0...Int32.max`.
    static func millisecondsUntil(_ deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = deadline - now()
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow { return Int32.max }
        let total = ms.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: total)
    }

    /// Blocks (off the cooperative pool) until `fd` has `events` or the deadline passes.
    static func wait(_ fd: Int32, events: Int16, until deadline: ContinuousClock.Instant) -> WaitResult {
        while true {
            let ms = millisecondsUntil(deadline)
            if ms == 0 { return .timedOut }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, ms)
            if rc > 0 { return .ready }
            if rc == 0 { continue }  // re-check the deadline (poll may wake a little early)
            let err = errno
            if err == EINTR { continue }
            return .failed(err)
        }
    }

    /// Sends all bytes on a non-blocking socket. Returns 0 on success, an errno otherwise
    /// (`ETIMEDOUT` when the deadline passed). Never raises SIGPIPE.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                offset += n
                continue
            }
            let err = errno
            if n < 0 && err == EINTR { continue }
            if n < 0 && (err == EAGAIN || err == EWOULDBLOCK) {
                switch wait(fd, events: Int16(POLLOUT), until: deadline) {
                case .ready: continue
                case .timedOut: return ETIMEDOUT
                case .failed(let e): return e
                }
            }
            return n < 0 ? err : EPIPE
        }
        return 0
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func errorText(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by peer"
        case EPIPE: return "broken pipe"
        case ETIMEDOUT: return "timed out"
        case ENETUNREACH: return "network unreachable"
        case EHOSTUNREACH: return "host unreachable"
        default:
            guard let s = strerror(code) else { return "error \(code)" }
            return String(cString: s)
        }
    }

    /// Formats `host:port`, bracketing IPv6 literals.
    static func hostPort(_ host: String, _ port: UInt16) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A resolved socket address.
    struct Address {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t

        /// Numeric host text (e.g. `127.0.0.1`, `::1`).
        var numericHost: String {
            var storageCopy = storage
            var hostBuffer = [CChar](repeating: 0, count: 256)
            let rc = withUnsafePointer(to: &storageCopy) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    getnameinfo(sa, length, &hostBuffer, socklen_t(hostBuffer.count), nil, 0, NI_NUMERICHOST)
                }
            }
            guard rc == 0 else { return "?" }
            return String(decoding: hostBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Resolves `host` with getaddrinfo (blocking). Returns the addresses or an error text.
    static func resolve(host: String, port: UInt16, passive: Bool) -> Result<[Address], ResolveError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0 else {
            if rc == EAI_SYSTEM { return .failure(ResolveError(text: errorText(errno))) }
            guard let s = gai_strerror(rc) else { return .failure(ResolveError(text: "resolution failed")) }
            return .failure(ResolveError(text: String(cString: s)))
        }
        defer { freeaddrinfo(result) }
        var addresses: [Address] = []
        var cursor = result
        while let info = cursor {
            if let sa = info.pointee.ai_addr, Int(info.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(sa), count: Int(info.pointee.ai_addrlen)))
                }
                addresses.append(Address(family: info.pointee.ai_family, storage: storage, length: info.pointee.ai_addrlen))
            }
            cursor = info.pointee.ai_next
        }
        if addresses.isEmpty { return .failure(ResolveError(text: "no addresses found")) }
        return .success(addresses)
    }

    struct ResolveError: Error {
        var text: String
    }

    /// Local port of a bound socket.
    static func boundPort(_ fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { ptr in
                ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { ptr in
                ptr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
        default:
            return nil
        }
    }

    /// Half-closes, then discards what the peer still sends for a short while before
    /// closing, so that the peer reads our final response instead of a TCP reset.
    static func lingeringClose(_ fd: Int32, linger: Duration = .seconds(1), maxBytes: Int = 4 << 20) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        let deadline = now() + linger
        var drained = 0
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        loop: while drained < maxBytes {
            switch wait(fd, events: Int16(POLLIN), until: deadline) {
            case .ready:
                let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    drained += n
                } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    continue
                } else {
                    break loop
                }
            case .timedOut, .failed:
                break loop
            }
        }
        _ = close(fd)
    }
}

// MARK: - Server

/// Errors from `HTTPServer.start()`.
public enum HTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Resolving, binding or listening failed; `address` is `host:port`.
    case cannotListen(address: String, reason: String)
    /// `start()` was called on a server that is already started.
    case alreadyStarted
    /// `start()` was called after `shutdown()`.
    case shutDown

    /// e.g. `cannot listen on 127.0.0.1:17890: Address already in use`.
    public var description: String {
        switch self {
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        case .alreadyStarted: return "HTTP server already started"
        case .shutDown: return "HTTP server has been shut down"
        }
    }
}

/// A small HTTP/1.1 server on POSIX sockets.
///
/// Threading: a dedicated accept thread blocks in `poll`/`accept`, and each connection
/// gets its own thread (at most `Limits.maxConnections`; extra connections are answered
/// with 503 and closed). Request handlers are `async` and run as Swift tasks at `.high`
/// priority; the connection thread (never a cooperative-pool thread) waits for them.
/// Nothing polls while idle: all blocking waits have deadlines derived from the limits.
///
/// Keep-alive is the HTTP/1.1 default; HTTP/1.0 requests and `Connection: close` close
/// the connection after the response. A request (from its first byte to the end of its
/// body) must arrive within `requestTimeout` (else 408 and close), and idle keep-alive
/// connections are closed after `idleTimeout`.
public final class HTTPServer: Sendable {
    /// Resource limits and timeouts.
    public struct Limits: Sendable {
        /// Maximum simultaneously open connections (default 64).
        public var maxConnections: Int
        /// Maximum bytes of request line + headers (default 16 KiB; 431 beyond).
        public var maxHeaderBytes: Int
        /// Maximum request body bytes (default 1 MiB; 413 beyond).
        public var maxBodyBytes: Int
        /// Time allowed for a whole request to arrive once its first byte is received (default 5 s).
        public var requestTimeout: Duration
        /// Time an idle keep-alive connection is kept open (default 30 s).
        public var idleTimeout: Duration
        /// Time allowed for writing a response (default 10 s).
        public var writeTimeout: Duration
        /// How long `shutdown()` waits for in-flight requests (default 5 s).
        public var shutdownGracePeriod: Duration

        /// Creates limits; every parameter has the documented default.
        public init(
            maxConnections: Int = 64,
            maxHeaderBytes: Int = 16 * 1024,
            maxBodyBytes: Int = 1 << 20,
            requestTimeout: Duration = .seconds(5),
            idleTimeout: Duration = .seconds(30),
            writeTimeout: Duration = .seconds(10),
            shutdownGracePeriod: Duration = .seconds(5)
        ) {
            self.maxConnections = max(1, maxConnections)
            self.maxHeaderBytes = max(256, maxHeaderBytes)
            self.maxBodyBytes = max(0, maxBodyBytes)
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.writeTimeout = writeTimeout
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    private enum Phase: Sendable {
        case created
        case starting
        case running
        case stopping
        case stopped
    }

    private struct Connection: Sendable {
        var fd: Int32
        var busy: Bool
        var task: Task<Void, Never>?
    }

    private struct State: Sendable {
        var phase: Phase = .created
        var wakeWriteFD: Int32 = -1
        var acceptThreadRunning = false
        var connections: [UInt64: Connection] = [:]
        var nextConnectionID: UInt64 = 0
        var port: UInt16? = nil
    }

    /// Host given at init.
    public let host: String
    /// Port requested at init (0 = any).
    public let requestedPort: UInt16
    /// Limits in force.
    public let limits: Limits
    private let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    private let state = Mutex(State())

    /// Creates a server; nothing is bound until `start()`.
    /// - Parameters:
    ///   - host: `127.0.0.1`, `0.0.0.0`, `::1`, `::`, `localhost` (bound as 127.0.0.1) or a host name.
    ///   - port: TCP port, 0 for an ephemeral one (read it from `start()`'s result).
    ///   - limits: resource limits.
    ///   - handler: called once per request, concurrently across connections.
    public init(
        host: String,
        port: UInt16,
        limits: HTTPServer.Limits = .init(),
        handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) {
        self.host = host
        self.requestedPort = port
        self.limits = limits
        self.handler = handler
    }

    /// The bound port once started.
    public var port: UInt16? { state.withLock { $0.port } }

    /// Number of currently open connections (for monitoring and tests).
    public var openConnections: Int { state.withLock { $0.connections.count } }

    /// Binds, listens and starts the accept thread. Returns the bound port.
    public func start() throws(HTTPServerError) -> UInt16 {
        let phaseError: HTTPServerError? = state.withLock { s in
            switch s.phase {
            case .created:
                s.phase = .starting
                return nil
            case .starting, .running:
                return .alreadyStarted
            case .stopping, .stopped:
                return .shutDown
            }
        }
        if let phaseError { throw phaseError }

        let listenFD: Int32
        let boundPort: UInt16
        var pipeFDs: [Int32] = [-1, -1]
        do throws(HTTPServerError) {
            (listenFD, boundPort) = try openListener()
            guard pipe(&pipeFDs) == 0 else {
                let reason = HTTPSocketIO.errorText(errno)
                _ = close(listenFD)
                throw HTTPServerError.cannotListen(address: HTTPSocketIO.hostPort(host, requestedPort), reason: "cannot create wake pipe: \(reason)")
            }
            HTTPSocketIO.setCloseOnExec(pipeFDs[0])
            HTTPSocketIO.setCloseOnExec(pipeFDs[1])
        } catch {
            state.withLock { s in
                if s.phase == .starting { s.phase = .created }
            }
            throw error
        }

        let proceed: Bool = state.withLock { s in
            guard s.phase == .starting else { return false }
            s.phase = .running
            s.wakeWriteFD = pipeFDs[1]
            s.acceptThreadRunning = true
            s.port = boundPort
            return true
        }
        guard proceed else {
            _ = close(listenFD)
            _ = close(pipeFDs[0])
            _ = close(pipeFDs[1])
            state.withLock { $0.phase = .stopped }
            throw .shutDown
        }

        let wakeReadFD = pipeFDs[0]
        Thread.start(named: "http-acc-\(boundPort)", stackSize: 256 * 1024) { [self] in
            self.acceptLoop(listenFD: listenFD, wakeFD: wakeReadFD)
        }
        return boundPort
    }

    private func openListener() throws(HTTPServerError) -> (Int32, UInt16) {
        var bindHost = host
        if bindHost.hasPrefix("[") && bindHost.hasSuffix("]") { bindHost = String(bindHost.dropFirst().dropLast()) }
        if bindHost.isEmpty || bindHost == "*" { bindHost = "0.0.0.0" }
        if httpNameEquals(bindHost, "localhost") { bindHost = "127.0.0.1" }

        let addresses: [HTTPSocketIO.Address]
        switch HTTPSocketIO.resolve(host: bindHost, port: requestedPort, passive: true) {
        case .success(let a): addresses = a
        case .failure(let e):
            throw .cannotListen(address: HTTPSocketIO.hostPort(bindHost, requestedPort), reason: "cannot resolve host: \(e.text)")
        }

        var firstFailure: HTTPServerError? = nil
        for address in addresses {
            let label = HTTPSocketIO.hostPort(address.numericHost, requestedPort)
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                if firstFailure == nil { firstFailure = .cannotListen(address: label, reason: HTTPSocketIO.errorText(errno)) }
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var storage = address.storage
            let bindRC = withUnsafePointer(to: &storage) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
            }
            if bindRC != 0 || listen(fd, SOMAXCONN) != 0 {
                let reason = HTTPSocketIO.errorText(errno)
                _ = close(fd)
                if firstFailure == nil { firstFailure = .cannotListen(address: label, reason: reason) }
                continue
            }
            HTTPSocketIO.setNonBlocking(fd)
            guard let port = HTTPSocketIO.boundPort(fd) else {
                let reason = HTTPSocketIO.errorText(errno)
                _ = close(fd)
                if firstFailure == nil { firstFailure = .cannotListen(address: label, reason: reason) }
                continue
            }
            return (fd, port)
        }
        throw firstFailure ?? .cannotListen(address: HTTPSocketIO.hostPort(bindHost, requestedPort), reason: "no usable address")
    }

    // MARK: Accept loop (dedicated thread)

    private func acceptLoop(listenFD: Int32, wakeFD: Int32) {
        var fds = [
            pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let rc = poll(&fds, 2, -1)
            if rc < 0 {
                if errno == EINTR { continue }
                usleep(50_000)  // unexpected; avoid spinning
                continue
            }
            if fds[1].revents != 0 { break }
            if fds[0].revents == 0 { continue }
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO:
                    continue
                default:
                    // EMFILE / ENFILE / ENOBUFS / ENOMEM: back off instead of spinning.
                    usleep(50_000)
                    continue
                }
            }
            HTTPSocketIO.setCloseOnExec(fd)
            HTTPSocketIO.setNonBlocking(fd)
            admit(fd)
        }
        _ = close(listenFD)
        _ = close(wakeFD)
        state.withLock { $0.acceptThreadRunning = false }
    }

    private func admit(_ fd: Int32) {
        let maxConnections = limits.maxConnections
        let id: UInt64? = state.withLock { s in
            guard s.phase == .running, s.connections.count < maxConnections else { return nil }
            s.nextConnectionID += 1
            s.connections[s.nextConnectionID] = Connection(fd: fd, busy: false, task: nil)
            return s.nextConnectionID
        }
        guard let id else {
            reject(fd)
            return
        }
        HTTPSocketIO.setNoDelay(fd)
        Thread.start(named: "http-conn-\(id)", stackSize: 512 * 1024) { [self] in
            self.serve(connection: id, fd: fd)
        }
    }

    /// Answers 503 without blocking the accept thread, then closes.
    private func reject(_ fd: Int32) {
        let response = HTTPResponse.text(503, "too many connections\n")
        var withRetry = response
        withRetry.headers.append((name: "Retry-After", value: "1"))
        let bytes = withRetry.serialize(keepAlive: false, includeBody: true)
        _ = bytes.withUnsafeBytes { raw in
            send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        // Discard whatever already arrived so close() does not turn into a reset.
        var scratch = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
        }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        _ = close(fd)
    }

    // MARK: Connection (one thread each)

    /// Marks the connection busy; false if the server is stopping (then it must close).
    private func markBusy(_ id: UInt64) -> Bool {
        state.withLock { s in
            guard s.phase == .running, s.connections[id] != nil else { return false }
            s.connections[id]?.busy = true
            return true
        }
    }

    /// Marks the connection idle; false if the server is stopping (then it must close).
    private func markIdle(_ id: UInt64) -> Bool {
        state.withLock { s in
            s.connections[id]?.busy = false
            s.connections[id]?.task = nil
            return s.phase == .running
        }
    }

    private func serve(connection id: UInt64, fd: Int32) {
        var parser = HTTPRequestParser(maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes)
        var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
        var idleDeadline = HTTPSocketIO.now() + limits.idleTimeout
        var requestDeadline: ContinuousClock.Instant? = nil
        var lingering = false
        defer {
            // Deregister first so that no other thread touches the descriptor after close.
            state.withLock { _ = $0.connections.removeValue(forKey: id) }
            if lingering {
                HTTPSocketIO.lingeringClose(fd)
            } else {
                _ = close(fd)
            }
        }

        while true {
            let event: HTTPRequestParser.Event
            do {
                event = try parser.next()
            } catch {
                let response = HTTPResponse.text(error.status, "\(error.description)\n")
                _ = HTTPSocketIO.sendAll(fd, response.serialize(keepAlive: false, includeBody: true), until: HTTPSocketIO.now() + limits.writeTimeout)
                lingering = true
                return
            }

            switch event {
            case .expectContinue:
                let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                guard HTTPSocketIO.sendAll(fd, interim, until: HTTPSocketIO.now() + limits.writeTimeout) == 0 else { return }

            case .request(let request):
                requestDeadline = nil
                guard markBusy(id) else { return }
                let response = invokeHandler(request, connection: id)
                var keepAlive = request.keepAlive
                if let connection = response.header("Connection"), httpHeaderValueContainsToken(connection, "close") {
                    keepAlive = false
                }
                if !markIdle(id) { keepAlive = false }
                let bytes = response.serialize(keepAlive: keepAlive, includeBody: request.method != "HEAD")
                guard HTTPSocketIO.sendAll(fd, bytes, until: HTTPSocketIO.now() + limits.writeTimeout) == 0 else { return }
                if !keepAlive {
                    lingering = true
                    return
                }
                idleDeadline = HTTPSocketIO.now() + limits.idleTimeout

            case .needMoreData:
                // The request clock runs from the first byte of a request until it is complete;
                // stray CRLFs between requests (consumed by the parser) do not start it.
                if !parser.hasPartialRequest {
                    requestDeadline = nil
                } else if requestDeadline == nil {
                    requestDeadline = HTTPSocketIO.now() + limits.requestTimeout
                }
                let deadline = requestDeadline ?? idleDeadline
                switch HTTPSocketIO.wait(fd, events: Int16(POLLIN), until: deadline) {
                case .timedOut:
                    if requestDeadline != nil {
                        let response = HTTPResponse.text(408, "request not received within \(httpFormatDuration(limits.requestTimeout))\n")
                        _ = HTTPSocketIO.sendAll(fd, response.serialize(keepAlive: false, includeBody: true), until: HTTPSocketIO.now() + .milliseconds(200))
                        lingering = true
                    }
                    return
                case .failed:
                    return
                case .ready:
                    break
                }
                let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                    return
                }
                parser.append(readBuffer[0..<n])
                if requestDeadline == nil {
                    requestDeadline = HTTPSocketIO.now() + limits.requestTimeout
                }
            }
        }
    }

    private func invokeHandler(_ request: HTTPRequest, connection id: UInt64) -> HTTPResponse {
        let done = DispatchSemaphore(value: 0)
        let handler = self.handler
        let completion = HandlerCompletion()
        // `.high`: a task made on this plain thread would otherwise take the default priority
        // and queue behind every default-priority job already waiting for the cooperative
        // pool (on Linux each priority has its own worker threads, served FIFO). An operator's
        // pause or a scrape must not wait for that backlog; actors it calls are escalated.
        let task = Task(priority: .high) {
            let response = await handler(request)
            completion.finish(response, signal: done)
        }
        state.withLock { $0.connections[id]?.task = task }
        done.wait()
        return completion.take() ?? HTTPResponse.text(500, "handler produced no response\n")
    }

    // MARK: Shutdown

    /// Stops accepting, closes the listener and idle keep-alive connections, and waits up
    /// to `Limits.shutdownGracePeriod` for in-flight requests to finish (their responses
    /// are sent with `Connection: close`). After the grace period remaining handler tasks
    /// are cancelled and their sockets shut down. Safe to call more than once.
    public func shutdown() async {
        let wakeFD: Int32 = state.withLock { s in
            switch s.phase {
            case .created:
                s.phase = .stopped
                return -1
            case .starting:
                s.phase = .stopping  // start() notices and closes what it opened
                return -1
            case .running:
                s.phase = .stopping
                for connection in s.connections.values where !connection.busy {
                    _ = Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
                }
                let fd = s.wakeWriteFD
                s.wakeWriteFD = -1
                return fd
            case .stopping, .stopped:
                return -1
            }
        }
        if wakeFD >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeFD, &byte, 1)
            _ = close(wakeFD)
        }

        let deadline = HTTPSocketIO.now() + limits.shutdownGracePeriod
        while true {
            let (acceptRunning, open) = state.withLock { ($0.acceptThreadRunning, $0.connections.count) }
            if !acceptRunning && open == 0 { break }
            if HTTPSocketIO.now() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        state.withLock { s in
            for connection in s.connections.values {
                connection.task?.cancel()
                _ = Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
            }
            if s.phase == .stopping { s.phase = .stopped }
        }
    }
}

/// One-shot hand-off of a handler's response from its task to the waiting connection thread.
private final class HandlerCompletion: Sendable {
    private let value = Mutex<HTTPResponse?>(nil)

    func finish(_ response: HTTPResponse, signal: DispatchSemaphore) {
        value.withLock { $0 = response }
        signal.signal()
    }

    func take() -> HTTPResponse? {
        value.withLock { v in
            let r = v
            v = nil
            return r
        }
    }
}

/// Formats a duration for messages: `2s`, `1.5s`, `200ms`.
func httpFormatDuration(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let totalMilliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    if totalMilliseconds % 1000 == 0 { return "\(totalMilliseconds / 1000)s" }
    if totalMilliseconds < 1000 { return "\(totalMilliseconds)ms" }
    let whole = totalMilliseconds / 1000
    var fraction = String(totalMilliseconds % 1000)
    while fraction.count < 3 { fraction = "0" + fraction }
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(whole).\(fraction)s"
}
