import Foundation

// MARK: - Small byte/header helpers (internal)

let httpCR: UInt8 = 0x0D
let httpLF: UInt8 = 0x0A
let httpSP: UInt8 = 0x20
let httpHT: UInt8 = 0x09

@inline(__always)
func httpASCIILower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

/// ASCII case-insensitive comparison, as used for header names and tokens.
func httpNameEquals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
    let x = a.utf8
    let y = b.utf8
    guard x.count == y.count else { return false }
    for (p, q) in zip(x, y) where httpASCIILower(p) != httpASCIILower(q) { return false }
    return true
}

/// Trims optional whitespace (SP / HTAB) from both ends.
func httpTrimOWS(_ s: Substring) -> Substring {
    var r = s
    while let f = r.first, f == " " || f == "\t" { r = r.dropFirst() }
    while let l = r.last, l == " " || l == "\t" { r = r.dropLast() }
    return r
}

/// Whether the comma-separated header value contains `token` (case-insensitive).
func httpHeaderValueContainsToken(_ value: String, _ token: String) -> Bool {
    value.split(separator: ",").contains { httpNameEquals(httpTrimOWS($0), token) }
}

/// RFC 9110 `tchar`.
@inline(__always)
func httpIsTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// Replaces CR / LF / NUL so a value cannot split a header line.
func httpSanitizeHeaderText(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 == httpCR || $0 == httpLF || $0 == 0 }) else { return s }
    return String(decoding: s.utf8.map { ($0 == httpCR || $0 == httpLF || $0 == 0) ? httpSP : $0 }, as: UTF8.self)
}

/// Index of the first LF at or after `from`, if any.
func httpIndexOfLF(_ buffer: [UInt8], from: Int) -> Int? {
    var i = from
    while i < buffer.count {
        if buffer[i] == httpLF { return i }
        i += 1
    }
    return nil
}

// MARK: - Messages

/// An HTTP/1.x request as received by `HTTPServer` or sent by `HTTPClient`.
public struct HTTPRequest: Sendable {
    /// Request method, e.g. `POST` (case-sensitive per RFC 9110).
    public var method: String
    /// Request target as sent on the request line (path plus optional query).
    public var target: String
    /// Protocol version from the request line, `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// Header fields in arrival order; names keep their original case.
    public var headers: [(name: String, value: String)]
    /// Decoded body (chunked transfer coding already removed).
    public var body: [UInt8]

    /// Creates a request.
    public init(
        method: String = "GET",
        target: String = "/",
        version: String = "HTTP/1.1",
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// First value of the header `name` (case-insensitive), if present.
    public func header(_ name: String) -> String? {
        headers.first { httpNameEquals($0.name, name) }?.value
    }

    /// All values of the header `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { httpNameEquals($0.name, name) }.map(\.value)
    }

    /// The target without its query string.
    public var path: String {
        if let q = target.firstIndex(of: "?") { return String(target[..<q]) }
        return target
    }

    /// Whether the connection may be reused after this request: HTTP/1.1 without
    /// `Connection: close`. HTTP/1.0 connections are always closed.
    public var keepAlive: Bool {
        guard version == "HTTP/1.1" else { return false }
        return !headerValues("Connection").contains { httpHeaderValueContainsToken($0, "close") }
    }
}

/// An HTTP/1.x response.
public struct HTTPResponse: Sendable {
    /// Status code, e.g. 200.
    public var status: Int
    /// Reason phrase, e.g. `OK`.
    public var reason: String
    /// Header fields. When sent by `HTTPServer`, `Content-Length`, `Transfer-Encoding`
    /// and `Connection` are managed by the server and any values here are ignored.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]

    /// Creates a response; `reason` defaults to the standard phrase for `status`.
    public init(
        status: Int,
        reason: String? = nil,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.status = status
        self.reason = reason ?? HTTPResponse.reasonPhrase(for: status)
        self.headers = headers
        self.body = body
    }

    /// First value of the header `name` (case-insensitive), if present.
    public func header(_ name: String) -> String? {
        headers.first { httpNameEquals($0.name, name) }?.value
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// An `application/json` response.
    public static func json(_ status: Int = 200, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serialized())
    }

    /// Standard reason phrase for common status codes; `Unknown` otherwise.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Unknown"
        }
    }

    /// Whether a response with this status never carries a body.
    static func statusHasNoBody(_ status: Int) -> Bool {
        (100..<200).contains(status) || status == 204 || status == 304
    }

    /// Wire form for the server side. The server owns framing headers.
    func serialize(keepAlive: Bool, includeBody: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(httpSanitizeHeaderText(reason))\r\n"
        for (name, value) in headers {
            if httpNameEquals(name, "Content-Length") || httpNameEquals(name, "Transfer-Encoding")
                || httpNameEquals(name, "Connection")
            {
                continue
            }
            guard !name.isEmpty, name.utf8.allSatisfy(httpIsTokenByte) else { continue }
            head += "\(name): \(httpSanitizeHeaderText(value))\r\n"
        }
        let noBody = HTTPResponse.statusHasNoBody(status)
        if !noBody { head += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        var out = Array(head.utf8)
        if includeBody && !noBody { out.append(contentsOf: body) }
        return out
    }
}

// MARK: - Parsing

/// A protocol error detected while parsing a request; `status` is the response to send.
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// HTTP status code to answer with (400, 413, 417, 431, 501, 505).
    public var status: Int
    /// Explanation, suitable for the response body.
    public var reason: String

    /// Creates a parse error.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// e.g. `431 Request Header Fields Too Large: header section exceeds 16384 bytes`.
    public var description: String { "\(status) \(HTTPResponse.reasonPhrase(for: status)): \(reason)" }
}

/// Incremental decoder for the `chunked` transfer coding (shared by server and client).
struct HTTPChunkedDecoder: Sendable {
    private enum Phase: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
    }

    private var phase: Phase = .size
    private var trailerBytes = 0
    private(set) var body: [UInt8] = []
    let maxBody: Int
    let maxTrailer: Int

    init(maxBody: Int, maxTrailer: Int) {
        self.maxBody = maxBody
        self.maxTrailer = maxTrailer
    }

    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Consumes bytes from `buffer` starting at `pos`. Returns true once the last chunk
    /// and trailer section have been consumed; `pos` then points just past them.
    mutating func consume(_ buffer: [UInt8], _ pos: inout Int) throws(HTTPParseError) -> Bool {
        while true {
            switch phase {
            case .size:
                guard let lf = httpIndexOfLF(buffer, from: pos) else {
                    if buffer.count - pos > 1024 { throw HTTPParseError(status: 400, reason: "chunk size line too long") }
                    return false
                }
                var end = lf
                if end > pos && buffer[end - 1] == httpCR { end -= 1 }
                var idx = pos
                var size = 0
                var digits = 0
                while idx < end, let h = HTTPChunkedDecoder.hexValue(buffer[idx]) {
                    digits += 1
                    guard digits <= 15 else { throw HTTPParseError(status: 413, reason: "chunk size too large") }
                    size = size << 4 | h
                    idx += 1
                }
                guard digits > 0 else { throw HTTPParseError(status: 400, reason: "invalid chunk size") }
                while idx < end && (buffer[idx] == httpSP || buffer[idx] == httpHT) { idx += 1 }
                guard idx == end || buffer[idx] == UInt8(ascii: ";") else {
                    throw HTTPParseError(status: 400, reason: "invalid chunk size line")
                }
                for k in idx..<end where buffer[k] < 0x20 && buffer[k] != httpHT {
                    throw HTTPParseError(status: 400, reason: "control character in chunk extension")
                }
                pos = lf + 1
                if size == 0 {
                    phase = .trailer
                } else {
                    guard size <= maxBody - body.count else {
                        throw HTTPParseError(status: 413, reason: "body exceeds \(maxBody) bytes")
                    }
                    phase = .data(remaining: size)
                }
            case .data(let remaining):
                let available = buffer.count - pos
                if available == 0 { return false }
                let take = min(available, remaining)
                body.append(contentsOf: buffer[pos..<(pos + take)])
                pos += take
                phase = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                guard pos < buffer.count else { return false }
                if buffer[pos] == httpLF {
                    pos += 1
                } else if buffer[pos] == httpCR {
                    guard pos + 1 < buffer.count else { return false }
                    guard buffer[pos + 1] == httpLF else {
                        throw HTTPParseError(status: 400, reason: "missing CRLF after chunk data")
                    }
                    pos += 2
                } else {
                    throw HTTPParseError(status: 400, reason: "missing CRLF after chunk data")
                }
                phase = .size
            case .trailer:
                guard let lf = httpIndexOfLF(buffer, from: pos) else {
                    if trailerBytes + (buffer.count - pos) > maxTrailer {
                        throw HTTPParseError(status: 431, reason: "trailer section exceeds \(maxTrailer) bytes")
                    }
                    return false
                }
                trailerBytes += lf + 1 - pos
                guard trailerBytes <= maxTrailer else {
                    throw HTTPParseError(status: 431, reason: "trailer section exceeds \(maxTrailer) bytes")
                }
                let empty = lf == pos || (lf == pos + 1 && buffer[pos] == httpCR)
                pos = lf + 1
                if empty { return true }
            }
        }
    }
}

/// Incremental HTTP/1.1 request parser.
///
/// Feed received bytes with `append(_:)` and call `next()` until it returns
/// `.needMoreData`. Supports pipelining (bytes after a request stay buffered),
/// `Content-Length` and `Transfer-Encoding: chunked` bodies, and reports
/// `Expect: 100-continue` once per request via `.expectContinue`.
///
/// Limits: the request line plus header section may not exceed `maxHeaderBytes` (431),
/// the decoded body may not exceed `maxBodyBytes` (413). Malformed input yields 400,
/// unsupported transfer codings 501, unsupported versions 505. After an error the
/// parser must not be used again (the connection should be closed).
public struct HTTPRequestParser: Sendable {
    /// Result of `next()`.
    public enum Event: Sendable {
        /// More bytes are required.
        case needMoreData
        /// The client sent `Expect: 100-continue` and the body has not arrived yet:
        /// send `HTTP/1.1 100 Continue` and keep reading.
        case expectContinue
        /// A complete request.
        case request(HTTPRequest)
    }

    private struct Head: Sendable {
        var method: String
        var target: String
        var version: String
        var headers: [(name: String, value: String)]
    }

    private enum State: Sendable {
        case head
        case fixedBody(Head, length: Int)
        case chunkedBody(Head, HTTPChunkedDecoder)
    }

    /// Maximum size of request line plus header section (and of a chunked trailer section).
    public let maxHeaderBytes: Int
    /// Maximum decoded body size.
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    private var start = 0
    private var scan = 0
    private var lineStart = 0
    private var lineNumber = 0
    private var methodDone = false
    private var state: State = .head
    private var pendingContinue = false

    /// Creates a parser with the given limits.
    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// True when bytes of an unfinished request are buffered (used for request deadlines).
    public var hasPartialRequest: Bool {
        if case .head = state { return start < buffer.count }
        return true
    }

    /// Advances the parser.
    public mutating func next() throws(HTTPParseError) -> Event {
        switch state {
        case .head:
            guard let head = try parseHead() else { return .needMoreData }
            try beginBody(head)
            return try next()
        case .fixedBody(let head, let length):
            if buffer.count - start >= length {
                let body = Array(buffer[start..<(start + length)])
                start += length
                state = .head
                return .request(makeRequest(head, body: body))
            }
            return continueOrWait()
        case .chunkedBody(let head, var decoder):
            state = .head  // release the enum's copy so the decoder's body is not copied on write
            var pos = start
            let done = try decoder.consume(buffer, &pos)
            start = pos
            if done {
                return .request(makeRequest(head, body: decoder.body))
            }
            state = .chunkedBody(head, decoder)
            return continueOrWait()
        }
    }

    private mutating func continueOrWait() -> Event {
        if pendingContinue {
            pendingContinue = false
            return .expectContinue
        }
        return .needMoreData
    }

    private func makeRequest(_ head: Head, body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: head.method, target: head.target, version: head.version, headers: head.headers, body: body)
    }

    private mutating func compact() {
        guard start > 0 else { return }
        if start >= buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scan = 0
            lineStart = 0
        } else if start >= 4096 || start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            scan = max(0, scan - start)
            lineStart = max(0, lineStart - start)
            start = 0
        }
    }

    private mutating func parseHead() throws(HTTPParseError) -> Head? {
        if scan <= start {
            // Tolerate empty lines before a request line (RFC 9112 §2.2).
            while start < buffer.count && (buffer[start] == httpCR || buffer[start] == httpLF) { start += 1 }
            compact()
            scan = start
            lineStart = start
            lineNumber = 0
            methodDone = false
        }
        var end: Int? = nil
        var i = scan
        while i < buffer.count {
            let b = buffer[i]
            if i - start >= maxHeaderBytes {
                throw HTTPParseError(status: 431, reason: "request line and headers exceed \(maxHeaderBytes) bytes")
            }
            if lineNumber == 0 && b != httpLF {
                // Validate the request line as it arrives so garbage is rejected at once.
                if !methodDone {
                    if b == httpSP {
                        guard i > start else { throw HTTPParseError(status: 400, reason: "malformed request line") }
                        methodDone = true
                    } else if !httpIsTokenByte(b) {
                        throw HTTPParseError(status: 400, reason: "malformed request line: invalid method byte 0x\(String(b, radix: 16))")
                    }
                } else if b >= 0x7F || (b < 0x20 && b != httpCR) {
                    throw HTTPParseError(status: 400, reason: "malformed request line: invalid byte 0x\(String(b, radix: 16))")
                }
            }
            if b == httpLF {
                let lineLength = i - lineStart - ((i > lineStart && buffer[i - 1] == httpCR) ? 1 : 0)
                if lineNumber > 0 && lineLength == 0 {
                    end = i + 1
                    i += 1
                    break
                }
                lineNumber += 1
                lineStart = i + 1
            }
            i += 1
        }
        scan = i
        guard let headEnd = end else { return nil }
        let head = try parseHeadBytes(buffer[start..<headEnd])
        start = headEnd
        scan = headEnd
        lineStart = headEnd
        lineNumber = 0
        methodDone = false
        return head
    }

    private func parseHeadBytes(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Head {
        var lines = httpLines(bytes)
        // Last line is the empty terminator.
        if let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPParseError(status: 400, reason: "missing request line") }

        let parts = requestLine.split(separator: httpSP, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw HTTPParseError(status: 400, reason: "malformed request line")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(status: 400, reason: "malformed request target")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        if version != "HTTP/1.1" && version != "HTTP/1.0" {
            let v = Array(parts[2])
            if v.count == 8, version.hasPrefix("HTTP/"), v[5] >= 0x30, v[5] <= 0x39, v[6] == UInt8(ascii: "."), v[7] >= 0x30, v[7] <= 0x39 {
                throw HTTPParseError(status: 505, reason: "unsupported protocol version \(version)")
            }
            throw HTTPParseError(status: 400, reason: "malformed request line: bad protocol version")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let first = line.first else { continue }
            if first == httpSP || first == httpHT {
                throw HTTPParseError(status: 400, reason: "obsolete header line folding is not supported")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw HTTPParseError(status: 400, reason: "malformed header line (no colon)")
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(httpIsTokenByte) else {
                throw HTTPParseError(status: 400, reason: "malformed header name")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd && (line[valueStart] == httpSP || line[valueStart] == httpHT) { valueStart += 1 }
            while valueEnd > valueStart && (line[valueEnd - 1] == httpSP || line[valueEnd - 1] == httpHT) { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            guard value.allSatisfy({ $0 >= 0x20 || $0 == httpHT }), !value.contains(0x7F) else {
                throw HTTPParseError(status: 400, reason: "invalid character in header value")
            }
            headers.append((name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        return Head(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            version: version,
            headers: headers
        )
    }

    private mutating func beginBody(_ head: Head) throws(HTTPParseError) {
        let transferEncodings = head.headers.filter { httpNameEquals($0.name, "Transfer-Encoding") }.map(\.value)
        let contentLengths = head.headers.filter { httpNameEquals($0.name, "Content-Length") }.map(\.value)
        let expect = head.headers.first { httpNameEquals($0.name, "Expect") }?.value
        var bodyPending = false
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                throw HTTPParseError(status: 400, reason: "both Transfer-Encoding and Content-Length present")
            }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { httpTrimOWS($0) }.filter { !$0.isEmpty }
            guard codings.count == 1, httpNameEquals(codings[0], "chunked") else {
                throw HTTPParseError(status: 501, reason: "unsupported transfer coding (only chunked is supported)")
            }
            state = .chunkedBody(head, HTTPChunkedDecoder(maxBody: maxBodyBytes, maxTrailer: maxHeaderBytes))
            bodyPending = true
        } else if !contentLengths.isEmpty {
            let values = contentLengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { httpTrimOWS($0) }
            guard let firstValue = values.first, values.allSatisfy({ $0 == firstValue }), !firstValue.isEmpty,
                firstValue.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else {
                throw HTTPParseError(status: 400, reason: "invalid Content-Length")
            }
            guard firstValue.utf8.count <= 18, let length = Int(firstValue), length <= maxBodyBytes else {
                throw HTTPParseError(status: 413, reason: "body of \(firstValue) bytes exceeds the limit of \(maxBodyBytes) bytes")
            }
            if length > 0 {
                state = .fixedBody(head, length: length)
                bodyPending = true
            } else {
                state = .fixedBody(head, length: 0)
            }
        } else {
            state = .fixedBody(head, length: 0)
        }
        pendingContinue = false
        if let expect {
            guard httpNameEquals(httpTrimOWS(Substring(expect)), "100-continue") else {
                throw HTTPParseError(status: 417, reason: "unsupported expectation '\(expect)'")
            }
            pendingContinue = bodyPending && head.version == "HTTP/1.1"
        }
    }
}

/// The LF-terminated lines of a message head, each without its line ending (CRLF or bare LF).
func httpLines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var lineBegin = bytes.startIndex
    for idx in bytes.indices where bytes[idx] == httpLF {
        var lineEnd = idx
        if lineEnd > lineBegin && bytes[lineEnd - 1] == httpCR { lineEnd -= 1 }
        lines.append(bytes[lineBegin..<lineEnd])
        lineBegin = idx + 1
    }
    return lines
}
