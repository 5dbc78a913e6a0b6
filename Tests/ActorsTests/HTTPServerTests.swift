import Actors
import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Shared test support (used by all test files in this target)

struct HTTPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


final class HTTPTestDataBox: Sendable {
    private let value = Mutex<Data>(Data())
    func set(_ data: Data) { value.withLock { $0 = data } }
    func get() -> Data { value.withLock { $0 } }
}

struct HTTPToolResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs an external tool found on PATH (via /usr/bin/env). Fails clearly if it is missing.
func runHTTPTestTool(_ tool: String, _ arguments: [String], stdin: [UInt8]? = nil) async throws -> HTTPToolResult {
    let result: HTTPToolResult = try await runBlocking {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let errBox = HTTPTestDataBox()
        let errDone = DispatchSemaphore(value: 0)
        let errThread = Thread {
            errBox.set(err.fileHandleForReading.readDataToEndOfFile())
            errDone.signal()
        }
        errThread.start()
        if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errDone.wait()
        let stderrText = String(decoding: errBox.get(), as: UTF8.self)
        return HTTPToolResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: stderrText
        )
    }
    if result.status == 127 {
        throw HTTPTestFailure("required tool '\(tool)' was not found on PATH (env exit 127): \(result.stderr)")
    }
    return result
}

struct RawHTTPResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A plain blocking TCP client socket for protocol-level tests. Call only via `runBlocking`.
final class RawHTTPConnection: Sendable {
    let fd: Int32
    private let pending = Mutex<[UInt8]>([])

    private init(fd: Int32) { self.fd = fd }

    static func open(port: UInt16, receiveTimeout: Duration = .seconds(30)) throws -> RawHTTPConnection {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestFailure("socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            _ = Glibc.close(fd)
            throw HTTPTestFailure("connect to 127.0.0.1:\(port) failed: errno \(e)")
        }
        let (seconds, attoseconds) = receiveTimeout.components
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return RawHTTPConnection(fd: fd)
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPTestFailure("send failed: errno \(errno)") }
            offset += n
        }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Reads more bytes; returns false at EOF. Throws on timeout / error.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var n: Int
        repeat {
            n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        } while n < 0 && errno == EINTR
        if n > 0 {
            pending.withLock { $0.append(contentsOf: chunk[0..<n]) }
            return true
        }
        if n == 0 { return false }
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK { throw HTTPTestFailure("read timed out") }
        if e == ECONNRESET { return false }
        throw HTTPTestFailure("recv failed: errno \(e)")
    }

    /// Reads one Content-Length framed response (or up to EOF); nil at EOF before any byte.
    func readResponse() throws -> RawHTTPResponse? {
        while true {
            let buffered = pending.withLock { $0 }
            if let range = findHeadEnd(buffered) {
                let head = String(decoding: buffered[0..<range], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                let statusLine = lines.removeFirst()
                let parts = statusLine.split(separator: " ")
                guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPTestFailure("bad status line \(statusLine)") }
                let headers = lines.map { line -> (name: String, value: String) in
                    let idx = line.firstIndex(of: ":") ?? line.endIndex
                    return (String(line[..<idx]), line[idx...].dropFirst().trimmingCharacters(in: .whitespaces))
                }
                let response = RawHTTPResponse(status: status, headers: headers, body: [])
                if (100..<200).contains(status) || status == 204 {
                    pending.withLock { $0.removeFirst(range) }
                    return response
                }
                if let lengthText = response.header("Content-Length"), let length = Int(lengthText) {
                    while pending.withLock({ $0.count }) < range + length {
                        guard try fill() else { throw HTTPTestFailure("EOF inside body") }
                    }
                    return pending.withLock { p in
                        var r = response
                        r.body = Array(p[range..<(range + length)])
                        p.removeFirst(range + length)
                        return r
                    }
                }
                while try fill() {}
                return pending.withLock { p in
                    var r = response
                    r.body = Array(p[range...])
                    p.removeAll()
                    return r
                }
            }
            if try !fill() {
                if pending.withLock({ $0.isEmpty }) { return nil }
                throw HTTPTestFailure("EOF inside response head")
            }
        }
    }

    /// True if the peer closed (EOF or reset) with no further data.
    func readEOF() throws -> Bool {
        if !pending.withLock({ $0.isEmpty }) { return false }
        return try !fill()
    }

    func close() { _ = Glibc.close(fd) }

    private func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

/// A listening socket that never accepts (client-timeout tests) or a bound, non-listening
/// socket (connection-refused tests).
final class PassiveTestSocket: Sendable {
    let fd: Int32
    let port: UInt16

    init(listen: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw HTTPTestFailure("bind failed") }
        if listen { Glibc.listen(fd, 16) }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: bound.sin_port)
    }

    /// Accepts one connection, reads the request head, writes `reply`, closes (blocking; use runBlocking).
    func serveOnce(reply: [UInt8]) throws {
        let client = accept(fd, nil, nil)
        guard client >= 0 else { throw HTTPTestFailure("accept failed") }
        defer { Glibc.close(client) }
        var got: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: got, as: UTF8.self).contains("\r\n\r\n") {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got.append(contentsOf: chunk[0..<n])
        }
        _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func close() { _ = Glibc.close(fd) }
}

/// Echo handler used by HTTP tests.
let httpEchoHandler: @Sendable (HTTPRequest) async -> HTTPResponse = { request in
    switch request.path {
    case "/close":
        return HTTPResponse(status: 200, headers: [("Connection", "close")], body: Array("bye".utf8))
    default:
        return HTTPResponse(
            status: 200,
            headers: [("Content-Type", "application/octet-stream"), ("X-Method", request.method), ("X-Target", request.target)],
            body: request.body
        )
    }
}

/// Starts a server on 127.0.0.1:0, runs `body`, always shuts the server down. Idle keep-alive
/// connections are kept 10 min, so a loaded machine cannot close one a test still holds.
func withHTTPTestServer<T: Sendable>(
    limits: HTTPServer.Limits = .init(idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(1)),
    handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse = httpEchoHandler,
    _ body: (UInt16, HTTPServer) async throws -> T
) async throws -> T {
    let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: handler)
    let port = try server.start()
    do {
        let result = try await body(port, server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Asserts a normal request is still served.
func expectHTTPServerHealthy(_ port: UInt16, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let response = try await HTTPClient.send(
        HTTPRequest(method: "POST", target: "/health", body: Array("ping".utf8)),
        host: "127.0.0.1", port: port, timeout: .seconds(30)
    )
    #expect(response.status == 200, sourceLocation: sourceLocation)
    #expect(response.bodyText == "ping", sourceLocation: sourceLocation)
}

// MARK: - Parser unit tests

@Suite struct HTTPParserTests {
    @Test func pipelinedRequestsFedByteByByte() throws {
        var parser = HTTPRequestParser()
        let wire = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b?q=1 HTTP/1.1\r\nhost: x\r\nContent-Length: 3\r\n\r\nabc"
        var requests: [HTTPRequest] = []
        for byte in wire.utf8 {
            parser.append([byte])
            while case .request(let r) = try parser.next() { requests.append(r) }
        }
        #expect(requests.count == 2)
        #expect(requests[0].method == "GET" && requests[0].target == "/a" && requests[0].body.isEmpty)
        #expect(requests[1].path == "/b" && requests[1].target == "/b?q=1")
        #expect(requests[1].header("HOST") == "x")
        #expect(requests[1].body == Array("abc".utf8))
        #expect(!parser.hasPartialRequest)
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8))
        guard case .request(let r) = try parser.next() else { Issue.record("no request"); return }
        #expect(r.body == Array("hello world".utf8))
    }

    /// Wire bytes shown on one line in test output.
    struct Wire: Sendable, CustomTestStringConvertible, ExpressibleByStringLiteral {
        let text: String
        init(stringLiteral value: String) { text = value }
        var testDescription: String { text.debugDescription }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / FOO\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n folded\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7d1\r\n", 413),
        ("GET / HTTP/1.1\r\nExpect: something\r\n\r\n", 417),
        ("\u{16}\u{03}\u{01}\u{02}", 400),
    ] as [(Wire, Int)])
    func rejectsMalformed(wire: Wire, status: Int) throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 1000)
        parser.append(Array(wire.text.utf8))
        do throws(HTTPParseError) {
            _ = try parser.next()
            Issue.record("expected \(status) for \(wire.testDescription)")
        } catch {
            #expect(error.status == status, "\(wire.testDescription): \(error)")
        }
    }

    @Test func headerLimit() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 1000)
        parser.append(Array("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n".utf8))
        do {
            _ = try parser.next()
            Issue.record("expected 431")
        } catch {
            #expect(error.status == 431)
        }
    }

    @Test func expectContinueReportedOnce() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        guard case .expectContinue = try parser.next() else { Issue.record("expected 100-continue"); return }
        guard case .needMoreData = try parser.next() else { Issue.record("expected needMoreData"); return }
        parser.append(Array("ok".utf8))
        guard case .request(let r) = try parser.next() else { Issue.record("expected request"); return }
        #expect(r.body == Array("ok".utf8))
    }

    @Test func keepAliveRules() {
        #expect(HTTPRequest(version: "HTTP/1.1").keepAlive)
        #expect(!HTTPRequest(version: "HTTP/1.1", headers: [("connection", "Close")]).keepAlive)
        #expect(!HTTPRequest(version: "HTTP/1.0").keepAlive)
    }

    @Test func endpointParsing() {
        #expect(HTTPEndpoint(url: "http://127.0.0.1:1789/rpc/v0") == HTTPEndpoint(host: "127.0.0.1", port: 1789, path: "/rpc/v0"))
        #expect(HTTPEndpoint(url: "HTTP://example.com") == HTTPEndpoint(host: "example.com", port: 80, path: "/"))
        #expect(HTTPEndpoint(url: "http://[::1]:8080?x=1") == HTTPEndpoint(host: "::1", port: 8080, path: "/?x=1"))
        #expect(HTTPEndpoint(url: "http://h:1/p#frag")?.path == "/p")
        #expect(HTTPEndpoint(url: "https://h/p") == nil)
        #expect(HTTPEndpoint(url: "http://h:0/") == nil)
        #expect(HTTPEndpoint(url: "http://h:70000/") == nil)
        #expect(HTTPEndpoint(url: "http://u@h/") == nil)
        #expect(HTTPEndpoint(url: "http://:80/") == nil)
        #expect(HTTPEndpoint(url: "http://[::1]:8080/")?.description == "http://[::1]:8080/")
    }
}

// MARK: - Server tests

@Suite struct HTTPServerTests {
    @Test func clientRoundTrip() async throws {
        try await withHTTPTestServer { port, _ in
            let post = try await HTTPClient.send(
                HTTPRequest(method: "POST", target: "/echo?x=1", headers: [("Content-Type", "text/plain")], body: Array("hello".utf8)),
                host: "127.0.0.1", port: port, timeout: .seconds(30)
            )
            #expect(post.status == 200)
            #expect(post.reason == "OK")
            #expect(post.bodyText == "hello")
            #expect(post.header("x-method") == "POST")
            #expect(post.header("X-Target") == "/echo?x=1")

            let get = try await HTTPClient.send(HTTPRequest(), host: "localhost", port: port, timeout: .seconds(30))
            #expect(get.status == 200)
            #expect(get.body.isEmpty)

            let head = try await HTTPClient.send(HTTPRequest(method: "HEAD"), host: "127.0.0.1", port: port, timeout: .seconds(30))
            #expect(head.status == 200 && head.body.isEmpty)

            let large = [UInt8]((0..<900_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let big = try await HTTPClient.send(HTTPRequest(method: "PUT", target: "/big", body: large), host: "127.0.0.1", port: port, timeout: .seconds(60))
            #expect(big.body == large)
        }
    }

    @Test func keepAliveAndPipelining() async throws {
        try await withHTTPTestServer { port, _ in
            let conn = try await runBlocking { try RawHTTPConnection.open(port: port) }
            defer { conn.close() }
            let first = try await runBlocking { () -> RawHTTPResponse? in
                try conn.write("POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
                return try conn.readResponse()
            }
            #expect(first?.status == 200 && first?.text == "abc")
            #expect(first?.header("Connection") == nil)
            let second = try await runBlocking { () -> RawHTTPResponse? in
                try conn.write("GET /two HTTP/1.1\r\nHost: t\r\n\r\n")
                return try conn.readResponse()
            }
            #expect(second?.status == 200 && second?.header("X-Target") == "/two")
            // Two pipelined requests in one write.
            let pipelined = try await runBlocking { () -> [RawHTTPResponse?] in
                try conn.write("GET /p1 HTTP/1.1\r\nHost: t\r\n\r\nGET /p2 HTTP/1.1\r\nHost: t\r\n\r\n")
                return [try conn.readResponse(), try conn.readResponse()]
            }
            #expect(pipelined.map { $0?.header("X-Target") } == ["/p1", "/p2"])
            // Connection: close is honoured.
            let closing = try await runBlocking { () -> (RawHTTPResponse?, Bool) in
                try conn.write("GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                return (try conn.readResponse(), try conn.readEOF())
            }
            #expect(closing.0?.header("Connection") == "close")
            #expect(closing.1)
        }
    }

    @Test func http10AndHandlerRequestedClose() async throws {
        try await withHTTPTestServer { port, _ in
            let result = try await runBlocking { () -> (RawHTTPResponse?, Bool, RawHTTPResponse?, Bool) in
                let a = try RawHTTPConnection.open(port: port)
                defer { a.close() }
                try a.write("GET /old HTTP/1.0\r\n\r\n")
                let r1 = try a.readResponse()
                let eof1 = try a.readEOF()
                let b = try RawHTTPConnection.open(port: port)
                defer { b.close() }
                try b.write("GET /close HTTP/1.1\r\nHost: t\r\n\r\n")
                let r2 = try b.readResponse()
                let eof2 = try b.readEOF()
                return (r1, eof1, r2, eof2)
            }
            #expect(result.0?.status == 200)
            #expect(result.1)
            #expect(result.2?.text == "bye" && result.2?.header("Connection") == "close")
            #expect(result.3)
        }
    }

    @Test func chunkedRequestAndExpectContinue() async throws {
        try await withHTTPTestServer { port, _ in
            let chunked = try await runBlocking { () -> RawHTTPResponse? in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
                try c.write("6;x=y\r\n world\r\n0\r\n\r\n")
                return try c.readResponse()
            }
            #expect(chunked?.text == "hello world")

            let continued = try await runBlocking { () -> (RawHTTPResponse?, RawHTTPResponse?) in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                let interim = try c.readResponse()
                try c.write("body")
                return (interim, try c.readResponse())
            }
            #expect(continued.0?.status == 100)
            #expect(continued.1?.status == 200 && continued.1?.text == "body")
        }
    }

    @Test func oversizeBodyAndHeaders() async throws {
        let limits = HTTPServer.Limits(maxBodyBytes: 1024, idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(1))
        try await withHTTPTestServer(limits: limits) { port, _ in
            // Content-Length over the limit: 413 before the body is read.
            let big = try await HTTPClient.send(
                HTTPRequest(method: "POST", body: [UInt8](repeating: 65, count: 256 * 1024)),
                host: "127.0.0.1", port: port, timeout: .seconds(30)
            )
            #expect(big.status == 413)
            // Chunked body over the limit.
            let chunked = try await runBlocking { () -> RawHTTPResponse? in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + String(repeating: "x", count: 1024) + "\r\n1\r\ny\r\n0\r\n\r\n")
                return try c.readResponse()
            }
            #expect(chunked?.status == 413)
            // Header section over the default 16 KiB.
            let headers = try await HTTPClient.send(
                HTTPRequest(headers: [("X-Huge", String(repeating: "h", count: 20_000))]),
                host: "127.0.0.1", port: port, timeout: .seconds(30)
            )
            #expect(headers.status == 431)
            #expect(headers.header("Connection") == "close")
            try await expectHTTPServerHealthy(port)
        }
    }

    @Test func slowlorisIsCutOff() async throws {
        let limits = HTTPServer.Limits(requestTimeout: .milliseconds(200), shutdownGracePeriod: .seconds(1))
        try await withHTTPTestServer(limits: limits) { port, _ in
            // Half a request, then silence.
            let stalled = try await runBlocking { () -> (RawHTTPResponse?, Bool, Duration) in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                let start = ContinuousClock.now
                try c.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Le")
                let response = try c.readResponse()
                let eof = try c.readEOF()
                return (response, eof, ContinuousClock.now - start)
            }
            #expect(stalled.0?.status == 408)
            #expect(stalled.1)
            #expect(stalled.2 >= .milliseconds(150) && stalled.2 < .seconds(10), "closed after \(stalled.2)")

            // Dripping one byte every 40 ms does not extend the deadline.
            let dripped = try await runBlocking { () -> Duration in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                let start = ContinuousClock.now
                let head = Array("GET / HTTP/1.1\r\nHost: slow-client-that-never-finishes\r\n".utf8)
                // Header bytes forever (within the header limit), until the server cuts us off.
                for byte in head + Array(repeating: UInt8(ascii: "x"), count: 1000) {
                    if (try? c.write([byte])) == nil { break }
                    if ContinuousClock.now - start > .seconds(20) { break }  // a server that never cuts the client fails below
                    usleep(40_000)  // the slow client under test: one byte every 40 ms
                    var pfd = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                    if poll(&pfd, 1, 0) > 0 { break }  // server answered / closed
                }
                return ContinuousClock.now - start
            }
            #expect(dripped < .seconds(10), "drip-fed connection lasted \(dripped)")

            // Incomplete body also bounded.
            let body = try await runBlocking { () -> RawHTTPResponse? in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
                return try c.readResponse()
            }
            #expect(body?.status == 408)
            try await expectHTTPServerHealthy(port)
        }
    }

    @Test func strayCRLFAfterBodyDoesNotStartRequestClock() async throws {
        let limits = HTTPServer.Limits(requestTimeout: .milliseconds(100), shutdownGracePeriod: .seconds(1))
        try await withHTTPTestServer(limits: limits) { port, _ in
            let result = try await runBlocking { () -> (RawHTTPResponse?, Int32, RawHTTPResponse?) in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx\r\n")
                let first = try c.readResponse()
                var pfd = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, 350)  // nothing (no 408, no close) may arrive
                try c.write("GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
                return (first, ready, try c.readResponse())
            }
            #expect(result.0?.text == "x")
            #expect(result.1 == 0)
            #expect(result.2?.header("X-Target") == "/next")
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let limits = HTTPServer.Limits(idleTimeout: .milliseconds(150), shutdownGracePeriod: .seconds(1))
        try await withHTTPTestServer(limits: limits) { port, server in
            let result = try await runBlocking { () -> (RawHTTPResponse?, Bool, Duration) in
                let c = try RawHTTPConnection.open(port: port)
                defer { c.close() }
                try c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try c.readResponse()
                let start = ContinuousClock.now
                let eof = try c.readEOF()
                return (response, eof, ContinuousClock.now - start)
            }
            #expect(result.0?.status == 200)
            #expect(result.1, "idle connection got data instead of a silent close")
            #expect(result.2 >= .milliseconds(100) && result.2 < .seconds(10), "closed after \(result.2)")
            let deadline = ContinuousClock.now + .seconds(60)
            while server.openConnections > 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.openConnections == 0)
        }
    }

    @Test func connectionCap() async throws {
        let limits = HTTPServer.Limits(maxConnections: 3, idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(1))
        try await withHTTPTestServer(limits: limits) { port, server in
            var idle: [RawHTTPConnection] = []
            defer { idle.forEach { $0.close() } }
            for i in 0..<3 {
                let c = try await runBlocking { try RawHTTPConnection.open(port: port) }
                idle.append(c)
                let r = try await runBlocking { () -> RawHTTPResponse? in
                    try c.write("GET /warm\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
                    return try c.readResponse()
                }
                #expect(r?.status == 200)
            }
            #expect(server.openConnections == 3)
            let rejected = try await runBlocking { () -> (RawHTTPResponse?, Bool) in
                let extra = try RawHTTPConnection.open(port: port)
                defer { extra.close() }
                return (try extra.readResponse(), try extra.readEOF())
            }
            #expect(rejected.0?.status == 503)
            #expect(rejected.1)
            // Existing connections are still served.
            let first = idle[0]
            let stillServed = try await runBlocking { () -> RawHTTPResponse? in
                try first.write("GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
                return try first.readResponse()
            }
            #expect(stillServed?.status == 200)
            // Freeing a slot lets new clients in.
            idle[1].close()
            idle.remove(at: 1)
            let deadline = ContinuousClock.now + .seconds(60)
            while server.openConnections >= 3 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await expectHTTPServerHealthy(port)
        }
    }

    @Test func garbageGets400AndServerSurvives() async throws {
        try await withHTTPTestServer { port, _ in
            let inputs: [[UInt8]] = [
                [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03],
                Array("HELLO WORLD\r\n\r\n".utf8),
                [0x00, 0xFF, 0xFE, 0x0D, 0x0A, 0x0D, 0x0A],
                Array("GET /\u{7F} HTTP/1.1\r\n\r\n".utf8),
            ]
            for input in inputs {
                let result = try await runBlocking { () -> (RawHTTPResponse?, Bool) in
                    let c = try RawHTTPConnection.open(port: port)
                    defer { c.close() }
                    try c.write(input)
                    return (try c.readResponse(), try c.readEOF())
                }
                #expect(result.0?.status == 400, "input \(input)")
                #expect(result.1)
            }
            try await expectHTTPServerHealthy(port)
        }
    }

    @Test func clientTimesOutAgainstSilentServer() async throws {
        let silent = try PassiveTestSocket(listen: true)
        defer { silent.close() }
        let start = ContinuousClock.now
        do throws(HTTPClientError) {
            _ = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: silent.port, timeout: .milliseconds(200))
            Issue.record("expected a timeout")
        } catch {
            #expect(error == .timedOut(host: "127.0.0.1", port: silent.port, after: .milliseconds(200)))
            #expect(error.description == "http 127.0.0.1:\(silent.port): timed out after 200ms")
        }
        #expect(ContinuousClock.now - start < .seconds(90), "a timeout that fires late is still a timeout; a hang is not")
    }

    @Test func clientConnectionRefused() async throws {
        let bound = try PassiveTestSocket(listen: false)
        defer { bound.close() }
        do throws(HTTPClientError) {
            _ = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: bound.port, timeout: .seconds(2))
            Issue.record("expected connection refused")
        } catch {
            #expect(error == .connectFailed(host: "127.0.0.1", port: bound.port, reason: "connection refused"))
            #expect(error.description == "http 127.0.0.1:\(bound.port): connection refused")
        }
    }

    @Test func clientParsesChunkedAndCloseDelimitedResponses() async throws {
        let chunked = try PassiveTestSocket(listen: true)
        defer { chunked.close() }
        let served = BlockingWork {
            try chunked.serveOnce(reply: Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;e=1\r\nde\r\n0\r\n\r\n".utf8))
        }
        let r1 = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: chunked.port, timeout: .seconds(30))
        try await served.value
        #expect(r1.bodyText == "abcde")

        let untilClose = try PassiveTestSocket(listen: true)
        defer { untilClose.close() }
        let served2 = BlockingWork {
            try untilClose.serveOnce(reply: Array("HTTP/1.0 201 Created\r\nX-A: b\r\n\r\nall of it".utf8))
        }
        let r2 = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: untilClose.port, timeout: .seconds(30))
        try await served2.value
        #expect(r2.status == 201 && r2.bodyText == "all of it" && r2.header("x-a") == "b")

        let garbage = try PassiveTestSocket(listen: true)
        defer { garbage.close() }
        let served3 = BlockingWork { try garbage.serveOnce(reply: Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
        do throws(HTTPClientError) {
            _ = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: garbage.port, timeout: .seconds(30))
            Issue.record("expected malformed response")
        } catch {
            guard case .malformedResponse = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("malformed response: invalid status line"))
        }
        try await served3.value
    }

    @Test func curlAgainstServer() async throws {
        try await withHTTPTestServer { port, _ in
            let base = "http://127.0.0.1:\(port)"
            // Two URLs in one invocation: curl reuses the keep-alive connection.
            let reuse = try await runHTTPTestTool("curl", ["-sS", "--max-time", "60", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", "\(base)/a", "\(base)/b"])
            #expect(reuse.status == 0, "\(reuse.stderr)")
            #expect(reuse.stdout == "200 1\n200 0\n")
            let post = try await runHTTPTestTool("curl", ["-sS", "--max-time", "60", "-H", "Expect: 100-continue", "--data-binary", "@-", "\(base)/post"], stdin: Array("from curl".utf8))
            #expect(post.stdout == "from curl", "\(post.stderr)")
            let chunked = try await runHTTPTestTool("curl", ["-sS", "--max-time", "60", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "\(base)/chunked"], stdin: Array("chunky".utf8))
            #expect(chunked.stdout == "chunky", "\(chunked.stderr)")
            let old = try await runHTTPTestTool("curl", ["-sS", "--max-time", "60", "--http1.0", "-D", "-", "-o", "/dev/null", "\(base)/old"])
            #expect(old.stdout.contains("Connection: close"))
        }
    }

    @Test func pythonAgainstServer() async throws {
        try await withHTTPTestServer { port, _ in
            let script = """
                import http.client, json, sys, urllib.request
                port = int(sys.argv[1])
                out = {}
                with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/u", data=b"urllib body", method="POST"), timeout=60) as r:
                    out["urllib"] = [r.status, r.read().decode()]
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", "/k1", body=b"first")
                r1 = conn.getresponse(); b1 = r1.read().decode()
                conn.request("POST", "/k2", body=iter([b"chun", b"ked"]), encode_chunked=True)
                r2 = conn.getresponse(); b2 = r2.read().decode()
                out["keepalive"] = [b1, b2, r2.getheader("X-Target")]
                print(json.dumps(out))
                """
            let result = try await runHTTPTestTool("python3", ["-c", script, String(port)])
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONValue.parse(result.stdout)
            #expect(json["urllib"] == [200, "urllib body"])
            #expect(json["keepalive"] == ["first", "chunked", "/k2"])
        }
    }

    @Test func listenErrorNamesAddress() async throws {
        try await withHTTPTestServer { port, _ in
            let second = HTTPServer(host: "127.0.0.1", port: port, handler: httpEchoHandler)
            do throws(HTTPServerError) {
                _ = try second.start()
                Issue.record("expected bind failure")
                await second.shutdown()
            } catch {
                #expect(error.description == "cannot listen on 127.0.0.1:\(port): Address already in use")
            }
            let server = HTTPServer(host: "127.0.0.1", port: 0, handler: httpEchoHandler)
            _ = try server.start()
            #expect(throws: HTTPServerError.alreadyStarted) { _ = try server.start() }
            await server.shutdown()
            #expect(throws: HTTPServerError.shutDown) { _ = try server.start() }
        }
    }

    @Test(arguments: ["localhost", "0.0.0.0", "::1"])
    func bindsHostVariants(host: String) async throws {
        let server = HTTPServer(host: host, port: 0, handler: httpEchoHandler)
        let port: UInt16
        do {
            port = try server.start()
        } catch {
            // Hosts without IPv6 loopback cannot bind ::1; anything else is a failure.
            #expect(host == "::1" && error.description.contains("[::1]"), "\(error)")
            return
        }
        let connectHost = host == "::1" ? "::1" : "127.0.0.1"
        let response = try await HTTPClient.send(HTTPRequest(method: "POST", body: [1, 2, 3]), host: connectHost, port: port, timeout: .seconds(30))
        #expect(response.body == [1, 2, 3])
        await server.shutdown()
    }

    @Test func shutdownFinishesInFlightAndClosesIdle() async throws {
        // Ordered by events, not by the clock: the handler says when it holds the request and
        // finishes only when released, so a loaded machine cannot turn the in-flight request
        // into an idle connection (closed at once) or outlast the grace period.
        let (started, startedSink) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseSource) = AsyncStream.makeStream(of: Void.self)
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: .init(idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(120))) { request in
            guard request.path == "/held" else { return await httpEchoHandler(request) }
            startedSink.yield()
            for await _ in release { break }
            return .text(200, "held done")
        }
        let port = try server.start()
        let idle = try await runBlocking { () -> RawHTTPConnection in
            let c = try RawHTTPConnection.open(port: port)
            try c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try c.readResponse()
            return c
        }
        defer { idle.close() }
        let inFlight = Task { try await HTTPClient.send(HTTPRequest(target: "/held"), host: "127.0.0.1", port: port, timeout: .seconds(120)) }
        for await _ in started { break }
        let stopping = Task { await server.shutdown() }
        // The idle connection is closed while the in-flight request is still held.
        #expect(try await runBlocking { try idle.readEOF() })
        #expect(server.openConnections == 1)
        releaseSource.yield()
        let response = try await inFlight.value
        #expect(response.status == 200 && response.bodyText == "held done")
        #expect(response.header("Connection") == "close")
        await stopping.value
        #expect(server.openConnections == 0)
        do throws(HTTPClientError) {
            _ = try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: port, timeout: .seconds(1))
            Issue.record("server still accepting after shutdown")
        } catch {
            guard case .connectFailed = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func clientCancellation() async throws {
        let silent = try PassiveTestSocket(listen: true)
        defer { silent.close() }
        // A long timeout, so a cancellation that only ended with it would take far longer than
        // the bound below, however loaded the machine.
        let task = Task { try await HTTPClient.send(HTTPRequest(), host: "127.0.0.1", port: silent.port, timeout: .seconds(120)) }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("expected cancellation")
        } catch let error as HTTPClientError {
            #expect(error == .cancelled(host: "127.0.0.1", port: silent.port))
        }
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func abuseThenHealthy() async throws {
        let limits = HTTPServer.Limits(
            maxConnections: 4, maxHeaderBytes: 2048, maxBodyBytes: 4096,
            requestTimeout: .milliseconds(200), shutdownGracePeriod: .seconds(1)
        )
        try await withHTTPTestServer(limits: limits) { port, _ in
            let statuses = try await runBlocking { () -> [Int?] in
                var results: [Int?] = []
                let probes: [[UInt8]] = [
                    [0xDE, 0xAD, 0xBE, 0xEF],
                    Array("GET / HTTP/1.1\r\nX: \(String(repeating: "z", count: 4000))\r\n\r\n".utf8),
                    Array("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".utf8),
                    Array("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab".utf8),
                ]
                for probe in probes {
                    let c = try RawHTTPConnection.open(port: port)
                    defer { c.close() }
                    try c.write(probe)
                    results.append(try c.readResponse()?.status)
                }
                return results
            }
            #expect(statuses == [400, 431, 413, 408])
            try await expectHTTPServerHealthy(port)
        }
    }
}

/// What priority the handler saw.
private final class SeenPriority: Sendable {
    let value = Mutex<TaskPriority?>(nil)
}

@Suite struct HTTPHandlerPriorityTests {
    /// A handler task made at the connection thread's default priority would queue behind every
    /// default-priority job already waiting for the cooperative pool (a test run's whole backlog
    /// of test bodies, or a busy daemon's), long enough for a client to time out. Saturating the
    /// real pool to show it would stall every other test, so this checks the cause: the priority.
    @Test("a request's handler runs at high priority, ahead of the pool's default-priority backlog")
    func handlerRunsAtHighPriority() async throws {
        let seen = SeenPriority()
        try await withHTTPTestServer(handler: { request in
            seen.value.withLock { $0 = Task.currentPriority }
            return await httpEchoHandler(request)
        }) { port, _ in
            let response = try await HTTPClient.send(HTTPRequest(method: "POST", body: [7, 8]), host: "127.0.0.1", port: port, timeout: .seconds(60))
            #expect(response.body == [7, 8])
        }
        let priority = try #require(seen.value.withLock { $0 })
        #expect(priority >= .high, "handler ran at \(priority)")
    }
}
