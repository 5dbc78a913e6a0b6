// TEMPORARY shim to type-check until the HTTP helper lands. Not committed.
import Foundation
public enum JSONValue: Sendable, Hashable, Codable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])
    public init(encoding: some Encodable) throws { self = .null }
    public func decode<T: Decodable>(_: T.Type) throws -> T { throw CancellationError() }
    public var intValue: Int64? { nil }
    public var stringValue: String? { nil }
    public var boolValue: Bool? { nil }
    public func serialized() -> [UInt8] { [] }
}
public struct JSONRPCError: Error, Sendable, Hashable {
    public var code: Int; public var message: String; public var data: JSONValue?
    public init(code: Int, message: String, data: JSONValue?) { self.code = code; self.message = message; self.data = data }
    public static let invalidParams = JSONRPCError(code: -32602, message: "", data: nil)
    public static let internalError = JSONRPCError(code: -32603, message: "", data: nil)
}
public struct HTTPRequest: Sendable {}
public struct HTTPResponse: Sendable {}
public struct HTTPEndpoint: Sendable, Hashable { public var host: String; public var port: UInt16; public var path: String
    public init(host: String, port: UInt16, path: String) { self.host = host; self.port = port; self.path = path } }
public struct JSONRPCServer: Sendable {
    public typealias Method = @Sendable (_ params: [JSONValue]) async throws(JSONRPCError) -> JSONValue
    public init(methods: [String: Method], bearerToken: String? = nil) {}
    public func handle(_ request: HTTPRequest) async -> HTTPResponse { HTTPResponse() }
}
public enum JSONRPCClientError: Error { case rpc(JSONRPCError), transport(String) }
public struct JSONRPCClient: Sendable {
    public init(endpoint: HTTPEndpoint, headers: [(String, String)] = [], timeout: Duration = .seconds(30)) {}
    public func call(_ method: String, _ params: [JSONValue]) async throws(JSONRPCClientError) -> JSONValue { .null }
}
public final class HTTPServer: Sendable {
    public init(host: String, port: UInt16, handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {}
    public func start() throws -> UInt16 { 0 }
    public func shutdown() async {}
}
