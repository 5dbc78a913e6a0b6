import Foundation
import Synchronization

/// A JSON-RPC 2.0 error object.
public struct JSONRPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Error code (negative values in -32768...-32000 are reserved by the spec).
    public var code: Int
    /// Short description.
    public var message: String
    /// Optional structured details.
    public var data: JSONValue?

    /// Creates an error object.
    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// -32700: the request body is not valid JSON.
    public static let parseError = JSONRPCError(code: -32700, message: "parse error")
    /// -32600: the JSON is not a valid request object.
    public static let invalidRequest = JSONRPCError(code: -32600, message: "invalid request")
    /// -32601: no such method.
    public static let methodNotFound = JSONRPCError(code: -32601, message: "method not found")
    /// -32602: invalid method parameters.
    public static let invalidParams = JSONRPCError(code: -32602, message: "invalid params")
    /// -32603: internal error.
    public static let internalError = JSONRPCError(code: -32603, message: "internal error")
    /// -32001 (server-defined): missing or wrong bearer token (sent with HTTP 401).
    public static let unauthorized = JSONRPCError(code: -32001, message: "unauthorized")

    /// A copy with another message (and optionally data), e.g.
    /// `JSONRPCError.invalidParams.with(message: "expected 2 parameters")`.
    public func with(message: String, data: JSONValue? = nil) -> JSONRPCError {
        JSONRPCError(code: code, message: message, data: data ?? self.data)
    }

    /// The `{"code":…,"message":…,"data":…}` object.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    /// Parses an error object; nil if `value` is not one.
    public init?(jsonValue value: JSONValue) {
        guard let code = value["code"]?.intValue, let message = value["message"]?.stringValue,
            let intCode = Int(exactly: code)
        else { return nil }
        self.init(code: intCode, message: message, data: value["data"])
    }

    /// e.g. `JSON-RPC error -32601: method not found: Foo.Bar`.
    public var description: String { "JSON-RPC error \(code): \(message)" }
}

// MARK: - Server

/// JSON-RPC 2.0 over HTTP POST: plug `handle(_:)` into `HTTPServer`.
///
/// Behaviour: POST only (405 otherwise), any path; optional bearer-token check
/// (`Authorization: Bearer <token>`, constant-time; 401 with a JSON-RPC error body);
/// single and batch requests (batch elements run concurrently, responses keep request
/// order); notifications (no `id`) produce no response entry, and a request consisting
/// only of notifications yields HTTP 204. The `id` is echoed exactly. JSON-RPC level
/// errors are returned with HTTP 200 and `Content-Type: application/json`.
public struct JSONRPCServer: Sendable {
    /// A method implementation. Positional params; an object `params` arrives as the single
    /// element of the array; absent or null `params` arrive as `[]`.
    public typealias Method = @Sendable (_ params: [JSONValue]) async throws(JSONRPCError) -> JSONValue

    private let methods: [String: Method]
    private let bearerToken: [UInt8]?

    /// Creates a server with a method table and an optional required bearer token.
    public init(methods: [String: Method], bearerToken: String? = nil) {
        self.methods = methods
        self.bearerToken = bearerToken.map { Array($0.utf8) }
    }

    /// Handles one HTTP request carrying a JSON-RPC call or batch.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "POST" else {
            var response = HTTPResponse.json(405, errorResponse(id: .null, JSONRPCError.invalidRequest.with(message: "HTTP method \(request.method) not allowed; use POST")))
            response.headers.append((name: "Allow", value: "POST"))
            return response
        }
        if let bearerToken {
            if let problem = JSONRPCServer.authorizationProblem(request.header("Authorization"), expected: bearerToken) {
                var response = HTTPResponse.json(401, errorResponse(id: .null, JSONRPCError.unauthorized.with(message: "unauthorized: \(problem)")))
                response.headers.append((name: "WWW-Authenticate", value: "Bearer"))
                return response
            }
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(request.body)
        } catch {
            return .json(200, errorResponse(id: .null, JSONRPCError.parseError.with(message: "parse error: \(error.description)")))
        }
        switch document {
        case .array(let items):
            if items.isEmpty {
                return .json(200, errorResponse(id: .null, JSONRPCError.invalidRequest.with(message: "invalid request: empty batch")))
            }
            let responses = await withTaskGroup(of: (Int, JSONValue?).self) { group in
                for (index, item) in items.enumerated() {
                    group.addTask { (index, await self.process(item)) }
                }
                var collected = [JSONValue?](repeating: nil, count: items.count)
                for await (index, response) in group { collected[index] = response }
                return collected.compactMap { $0 }
            }
            if responses.isEmpty { return HTTPResponse(status: 204) }
            return .json(200, .array(responses))
        default:
            guard let response = await process(document) else { return HTTPResponse(status: 204) }
            return .json(200, response)
        }
    }

    /// Processes one request object; nil for notifications.
    private func process(_ value: JSONValue) async -> JSONValue? {
        guard case .object(let object) = value else {
            return errorResponse(id: .null, JSONRPCError.invalidRequest.with(message: "invalid request: expected an object"))
        }
        let rawID = object["id"]
        var id: JSONValue = .null
        if let rawID {
            switch rawID {
            case .string, .int, .double, .null: id = rawID
            default:
                return errorResponse(id: .null, JSONRPCError.invalidRequest.with(message: "invalid request: id must be a string, number or null"))
            }
        }
        guard object["jsonrpc"] == .string("2.0") else {
            return errorResponse(id: id, JSONRPCError.invalidRequest.with(message: "invalid request: \"jsonrpc\" must be \"2.0\""))
        }
        guard case .string(let name)? = object["method"] else {
            return errorResponse(id: id, JSONRPCError.invalidRequest.with(message: "invalid request: \"method\" must be a string"))
        }
        let params: [JSONValue]
        switch object["params"] {
        case nil, .null?: params = []
        case .array(let list)?: params = list
        case .object(let members)?: params = [.object(members)]
        default:
            return errorResponse(id: id, JSONRPCError.invalidRequest.with(message: "invalid request: \"params\" must be an array or object"))
        }
        let isNotification = rawID == nil
        guard let method = methods[name] else {
            if isNotification { return nil }
            return errorResponse(id: id, JSONRPCError.methodNotFound.with(message: "method not found: \(name)"))
        }
        do {
            let result = try await method(params)
            if isNotification { return nil }
            return .object(["jsonrpc": "2.0", "id": id, "result": result])
        } catch {
            if isNotification { return nil }
            return errorResponse(id: id, error)
        }
    }

    private func errorResponse(id: JSONValue, _ error: JSONRPCError) -> JSONValue {
        .object(["jsonrpc": "2.0", "id": id, "error": error.jsonValue])
    }

    /// nil if authorized, else the reason.
    static func authorizationProblem(_ header: String?, expected: [UInt8]) -> String? {
        guard let header else { return "missing Authorization header" }
        let trimmed = httpTrimOWS(Substring(header))
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
            httpNameEquals(trimmed[..<space], "Bearer")
        else {
            return "Authorization must use the Bearer scheme"
        }
        let token = httpTrimOWS(trimmed[space...])
        guard constantTimeEquals(Array(token.utf8), expected) else { return "invalid bearer token" }
        return nil
    }

    /// Compares in time that depends only on `expected.count`.
    static func constantTimeEquals(_ provided: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = provided.count == expected.count ? 0 : 1
        for index in 0..<expected.count {
            let p = index < provided.count ? provided[index] : 0
            difference |= p ^ expected[index]
        }
        return difference == 0
    }
}

// MARK: - Client

/// Failure of `JSONRPCClient.call`; every case carries the method name.
public enum JSONRPCClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP exchange failed (connect, timeout, broken connection…).
    case transport(method: String, HTTPClientError)
    /// The server answered with a non-2xx HTTP status.
    case http(method: String, status: Int, body: String)
    /// The server returned a JSON-RPC error object.
    case rpc(method: String, JSONRPCError)
    /// The response is not a valid JSON-RPC response.
    case malformed(method: String, String)

    /// The called method.
    public var method: String {
        switch self {
        case .transport(let m, _), .http(let m, _, _), .rpc(let m, _), .malformed(let m, _): return m
        }
    }

    /// The JSON-RPC error, for `.rpc`.
    public var rpcError: JSONRPCError? {
        if case .rpc(_, let e) = self { return e }
        return nil
    }

    /// Operator-readable text, e.g.
    /// `JSON-RPC call Sealer.Foo failed: http 127.0.0.1:1234: connection refused`.
    public var description: String {
        switch self {
        case .transport(let m, let e):
            return "JSON-RPC call \(m) failed: \(e.description)"
        case .http(let m, let status, let body):
            let snippet = body.count > 200 ? String(body.prefix(200)) + "…" : body
            let phrase = HTTPResponse.reasonPhrase(for: status)
            return "JSON-RPC call \(m) failed: HTTP \(status) \(phrase)" + (snippet.isEmpty ? "" : ": \(snippet)")
        case .rpc(let m, let e):
            return "JSON-RPC call \(m) returned error \(e.code): \(e.message)"
        case .malformed(let m, let reason):
            return "JSON-RPC call \(m) failed: malformed response: \(reason)"
        }
    }
}

/// Monotonic request-id source shared by copies of a client.
private final class RequestIDCounter: Sendable {
    private let next = Atomic<Int64>(1)

    func take() -> Int64 {
        next.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}

/// JSON-RPC 2.0 client over HTTP POST (one connection per call).
public struct JSONRPCClient: Sendable {
    /// Where calls are POSTed.
    public let endpoint: HTTPEndpoint
    /// Extra headers sent with every call (e.g. `("Authorization", "Bearer …")`).
    public let headers: [(name: String, value: String)]
    /// Timeout for each call.
    public let timeout: Duration
    private let ids = RequestIDCounter()

    /// Creates a client.
    public init(endpoint: HTTPEndpoint, headers: [(String, String)] = [], timeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.headers = headers.map { (name: $0.0, value: $0.1) }
        self.timeout = timeout
    }

    private func makeRequest(_ body: JSONValue) -> HTTPRequest {
        var all = headers
        if !all.contains(where: { httpNameEquals($0.name, "Content-Type") }) {
            all.append((name: "Content-Type", value: "application/json"))
        }
        if !all.contains(where: { httpNameEquals($0.name, "Accept") }) {
            all.append((name: "Accept", value: "application/json"))
        }
        return HTTPRequest(method: "POST", target: endpoint.path, headers: all, body: body.serialized())
    }

    /// Calls `method` with positional `params` and returns its `result`
    /// (`.null` when the server omits `result`, as go-jsonrpc does for empty results).
    public func call(_ method: String, _ params: [JSONValue]) async throws(JSONRPCClientError) -> JSONValue {
        let id = ids.take()
        let body: JSONValue = .object(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .array(params)])
        let response = try await post(method, body)
        let document: JSONValue
        do {
            document = try JSONValue.parse(response.body)
        } catch {
            throw .malformed(method: method, "\(error.description) (HTTP \(response.status), \(response.body.count) bytes)")
        }
        guard case .object(let object) = document else {
            throw .malformed(method: method, "expected a JSON object")
        }
        if let errorValue = object["error"], errorValue != .null {
            guard let rpcError = JSONRPCError(jsonValue: errorValue) else {
                throw .malformed(method: method, "invalid error object \(errorValue)")
            }
            throw .rpc(method: method, rpcError)
        }
        guard let echoed = object["id"], echoed.intValue == id else {
            throw .malformed(method: method, "response id \(object["id"]?.description ?? "missing") does not match request id \(id)")
        }
        return object["result"] ?? .null
    }

    /// Sends a notification (no `id`, no result expected). Succeeds on any 2xx status.
    public func notify(_ method: String, _ params: [JSONValue]) async throws(JSONRPCClientError) {
        let body: JSONValue = .object(["jsonrpc": "2.0", "method": .string(method), "params": .array(params)])
        _ = try await post(method, body)
    }

    /// POSTs one JSON-RPC document; a transport failure or non-2xx status is an error naming `method`.
    private func post(_ method: String, _ body: JSONValue) async throws(JSONRPCClientError) -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await HTTPClient.send(makeRequest(body), host: endpoint.host, port: endpoint.port, timeout: timeout)
        } catch {
            throw .transport(method: method, error)
        }
        guard (200..<300).contains(response.status) else {
            throw .http(method: method, status: response.status, body: String(decoding: response.body.prefix(4096), as: UTF8.self))
        }
        return response
    }
}
