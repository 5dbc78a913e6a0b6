import Actors
import Foundation
import Synchronization
import TestSupport
import Testing

/// Counts notifications received by the test server.
final class RPCNotificationCounter: Sendable {
    let value = Atomic<Int>(0)
}

func makeTestRPCServer(token: String? = nil, counter: RPCNotificationCounter = RPCNotificationCounter()) -> JSONRPCServer {
    let methods: [String: JSONRPCServer.Method] = [
        "Test.Echo": { (params: [JSONValue]) async throws(JSONRPCError) -> JSONValue in
            .array(params)
        },
        "Test.Add": { (params: [JSONValue]) async throws(JSONRPCError) -> JSONValue in
            guard params.count == 2, let a = params[0].intValue, let b = params[1].intValue else {
                throw JSONRPCError.invalidParams.with(message: "Test.Add expects two integers", data: .array(params))
            }
            return .int(a &+ b)
        },
        "Test.Slow": { (_: [JSONValue]) async throws(JSONRPCError) -> JSONValue in
            try? await Task.sleep(for: .milliseconds(50))
            return "slow"
        },
        "Test.Notify": { (_: [JSONValue]) async throws(JSONRPCError) -> JSONValue in
            counter.value.add(1, ordering: .relaxed)
            return .null
        },
        "Test.Void": { (_: [JSONValue]) async throws(JSONRPCError) -> JSONValue in
            .null
        },
    ]
    return JSONRPCServer(methods: methods, bearerToken: token)
}

/// Starts an HTTP server hosting `rpc` and runs `body` with its port.
func withTestRPCServer<T: Sendable>(
    _ rpc: JSONRPCServer,
    limits: HTTPServer.Limits = .init(idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(1)),
    _ body: (UInt16) async throws -> T
) async throws -> T {
    try await withHTTPTestServer(limits: limits, handler: { await rpc.handle($0) }) { port, _ in try await body(port) }
}

/// POSTs raw bytes with our HTTP client.
func postRPC(_ port: UInt16, _ body: String, headers: [(name: String, value: String)] = [("Content-Type", "application/json")]) async throws -> HTTPResponse {
    try await HTTPClient.send(
        HTTPRequest(method: "POST", target: "/rpc/v0", headers: headers, body: Array(body.utf8)),
        host: "127.0.0.1", port: port, timeout: .seconds(30)
    )
}

@Suite struct JSONRPCTests {
    @Test func clientCalls() async throws {
        try await withTestRPCServer(makeTestRPCServer()) { port in
            let client = JSONRPCClient(endpoint: try #require(HTTPEndpoint(url: "http://127.0.0.1:\(port)/rpc/v0")))
            #expect(try await client.call("Test.Echo", ["a", 1, ["k": 9_007_199_254_740_993]]) == ["a", 1, ["k": 9_007_199_254_740_993]])
            #expect(try await client.call("Test.Add", [2, 3]) == 5)
            #expect(try await client.call("Test.Void", []) == .null)

            do throws(JSONRPCClientError) {
                _ = try await client.call("Test.Add", ["x"])
                Issue.record("expected invalid params")
            } catch {
                #expect(error.rpcError?.code == -32602)
                #expect(error.rpcError?.data == ["x"])
                #expect(error.description == "JSON-RPC call Test.Add returned error -32602: Test.Add expects two integers")
            }
            do throws(JSONRPCClientError) {
                _ = try await client.call("Test.Nope", [])
                Issue.record("expected method not found")
            } catch {
                #expect(error.rpcError?.code == -32601)
                #expect(error.rpcError?.message.contains("Test.Nope") == true)
                #expect(error.method == "Test.Nope")
            }
            try await client.notify("Test.Notify", [])

            // Concurrent calls from copies of one client share the id counter.
            let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for i in 0..<16 {
                    let copy = client
                    group.addTask { try await copy.call("Test.Add", [.int(Int64(i)), 1]) }
                }
                var all: [Int64] = []
                for try await r in group { all.append(r.intValue ?? -1) }
                return all.sorted()
            }
            #expect(results == (1...16).map { Int64($0) })
        }
    }

    @Test func bearerToken() async throws {
        try await withTestRPCServer(makeTestRPCServer(token: "s3cret-token")) { port in
            let endpoint = HTTPEndpoint(host: "127.0.0.1", port: port, path: "/rpc/v0")
            for headers in [[], [("Authorization", "Bearer wrong")], [("Authorization", "Basic s3cret-token")], [("Authorization", "Bearer s3cret-toke")]] {
                let client = JSONRPCClient(endpoint: endpoint, headers: headers, timeout: .seconds(30))
                let failure: JSONRPCClientError
                do throws(JSONRPCClientError) {
                    _ = try await client.call("Test.Echo", [])
                    Issue.record("accepted \(headers)")
                    continue
                } catch {
                    failure = error
                }
                do {
                    let error = failure
                    guard case .http(let method, let status, let body) = error else {
                        Issue.record("unexpected \(error)")
                        continue
                    }
                    #expect(method == "Test.Echo")
                    #expect(status == 401)
                    let json = try JSONValue.parse(body)
                    #expect(json["error"]?["code"] == -32001)
                    #expect(json["id"] == .null)
                    #expect(error.description.hasPrefix("JSON-RPC call Test.Echo failed: HTTP 401 Unauthorized: "))
                }
            }
            let good = JSONRPCClient(endpoint: endpoint, headers: [("Authorization", "bearer s3cret-token")])
            #expect(try await good.call("Test.Echo", [true]) == [true])
        }
    }

    @Test func idsEchoedExactly() async throws {
        try await withTestRPCServer(makeTestRPCServer()) { port in
            for id in [#""abc""#, "null", "9007199254740993", "1.5", "-7", #""""#] {
                let response = try await postRPC(port, #"{"jsonrpc":"2.0","id":\#(id),"method":"Test.Echo","params":[]}"#)
                #expect(response.status == 200)
                #expect(response.header("Content-Type") == "application/json")
                let json = try JSONValue.parse(response.body)
                #expect(json["id"] == (try JSONValue.parse(id)), "id \(id)")
                #expect(json["jsonrpc"] == "2.0")
                #expect(json["result"] == [])
            }
        }
    }

    @Test func batchesAndNotifications() async throws {
        let counter = RPCNotificationCounter()
        try await withTestRPCServer(makeTestRPCServer(counter: counter)) { port in
            let batch = try await postRPC(port, """
                [{"jsonrpc":"2.0","id":1,"method":"Test.Slow"},
                 {"jsonrpc":"2.0","method":"Test.Notify"},
                 1,
                 {"jsonrpc":"2.0","id":"u","method":"Nope"},
                 {"jsonrpc":"2.0","id":3,"method":"Test.Add","params":[40,2]}]
                """)
            #expect(batch.status == 200)
            let items = try #require(try JSONValue.parse(batch.body).arrayValue)
            #expect(items.count == 4)
            #expect(items[0]["id"] == 1 && items[0]["result"] == "slow")
            #expect(items[1]["id"] == .null && items[1]["error"]?["code"] == -32600)
            #expect(items[2]["id"] == "u" && items[2]["error"]?["code"] == -32601)
            #expect(items[3]["id"] == 3 && items[3]["result"] == 42)

            let onlyNotifications = try await postRPC(port, #"[{"jsonrpc":"2.0","method":"Test.Notify"},{"jsonrpc":"2.0","method":"Unknown"}]"#)
            #expect(onlyNotifications.status == 204 && onlyNotifications.body.isEmpty)
            let single = try await postRPC(port, #"{"jsonrpc":"2.0","method":"Test.Notify","params":[1]}"#)
            #expect(single.status == 204 && single.body.isEmpty)
            #expect(counter.value.load(ordering: .relaxed) == 3)

            let empty = try await postRPC(port, "[]")
            #expect(try JSONValue.parse(empty.body)["error"]?["code"] == -32600)
        }
    }

    @Test func protocolErrors() async throws {
        try await withTestRPCServer(makeTestRPCServer()) { port in
            let parse = try JSONValue.parse(try await postRPC(port, #"{"jsonrpc":"2.0","id":1,"method":"#).body)
            #expect(parse["error"]?["code"] == -32700)
            #expect(parse["id"] == .null)
            #expect(parse["error"]?["message"]?.stringValue?.contains("invalid JSON at byte 33") == true)

            let cases: [(String, JSONValue)] = [
                (#"{"jsonrpc":"1.0","id":1,"method":"Test.Echo"}"#, 1),
                (#"{"jsonrpc":"2.0","id":2}"#, 2),
                (#"{"jsonrpc":"2.0","id":3,"method":5}"#, 3),
                (#"{"jsonrpc":"2.0","id":4,"method":"Test.Echo","params":7}"#, 4),
                (#"{"jsonrpc":"2.0","id":[1],"method":"Test.Echo"}"#, .null),
                (#""just a string""#, .null),
            ]
            for (body, id) in cases {
                let json = try JSONValue.parse(try await postRPC(port, body).body)
                #expect(json["error"]?["code"] == -32600, "\(body)")
                #expect(json["id"] == id, "\(body)")
            }
            // Object params arrive as a single positional element.
            let named = try JSONValue.parse(try await postRPC(port, #"{"jsonrpc":"2.0","id":5,"method":"Test.Echo","params":{"a":1}}"#).body)
            #expect(named["result"] == [["a": 1]])

            let get = try await HTTPClient.send(HTTPRequest(method: "GET", target: "/rpc/v0"), host: "127.0.0.1", port: port, timeout: .seconds(30))
            #expect(get.status == 405)
            #expect(get.header("Allow") == "POST")
        }
    }

    @Test func curlJSONRPC() async throws {
        try await withTestRPCServer(makeTestRPCServer(token: "tok")) { port in
            let url = "http://127.0.0.1:\(port)/rpc/v0"
            func curl(_ body: String, token: String? = "tok") async throws -> (Int, String) {
                var args = ["-sS", "--max-time", "60", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-", "-w", "\\n%{http_code}", url]
                if let token { args += ["-H", "Authorization: Bearer \(token)"] }
                let result = try await runHTTPTestTool("curl", args, stdin: Array(body.utf8))
                #expect(result.status == 0, "curl failed: \(result.stderr)")
                let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
            }
            let ok = try await curl(#"{"jsonrpc":"2.0","id":1,"method":"Test.Add","params":[1,2]}"#)
            #expect(ok.0 == 200)
            #expect(ok.1 == #"{"id":1,"jsonrpc":"2.0","result":3}"#)

            let batch = try await curl(#"[{"jsonrpc":"2.0","id":1,"method":"Test.Echo","params":["x"]},{"jsonrpc":"2.0","method":"Test.Notify"}]"#)
            #expect(batch.1 == #"[{"id":1,"jsonrpc":"2.0","result":["x"]}]"#)

            let notification = try await curl(#"{"jsonrpc":"2.0","method":"Test.Notify"}"#)
            #expect(notification == (204, ""))

            let parse = try await curl("{nope")
            #expect(try JSONValue.parse(parse.1)["error"]?["code"] == -32700)

            let invalid = try await curl(#"{"id":9,"method":"Test.Echo"}"#)
            #expect(try JSONValue.parse(invalid.1)["error"]?["code"] == -32600)

            let unknown = try await curl(#"{"jsonrpc":"2.0","id":"q","method":"Filecoin.Nope"}"#)
            let unknownJSON = try JSONValue.parse(unknown.1)
            #expect(unknownJSON["error"]?["code"] == -32601)
            #expect(unknownJSON["error"]?["message"] == "method not found: Filecoin.Nope")
            #expect(unknownJSON["id"] == "q")

            let invalidParams = try await curl(#"{"jsonrpc":"2.0","id":2,"method":"Test.Add","params":[1]}"#)
            #expect(try JSONValue.parse(invalidParams.1)["error"]?["code"] == -32602)

            #expect(try await curl(#"{"jsonrpc":"2.0","id":1,"method":"Test.Echo"}"#, token: nil).0 == 401)
            #expect(try await curl(#"{"jsonrpc":"2.0","id":1,"method":"Test.Echo"}"#, token: "bad").0 == 401)
        }
    }

    @Test func pythonJSONRPC() async throws {
        let limits = HTTPServer.Limits(maxBodyBytes: 4096, idleTimeout: .seconds(600), shutdownGracePeriod: .seconds(1))
        try await withTestRPCServer(makeTestRPCServer(token: "py-token"), limits: limits) { port in
            let script = """
                import json, sys, urllib.request, urllib.error
                url = f"http://127.0.0.1:{sys.argv[1]}/rpc/v0"
                def post(body, token):
                    headers = {"Content-Type": "application/json"}
                    if token is not None:
                        headers["Authorization"] = "Bearer " + token
                    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
                    try:
                        with urllib.request.urlopen(req, timeout=60) as r:
                            return [r.status, r.read().decode()]
                    except urllib.error.HTTPError as e:
                        return [e.code, e.read().decode()]
                call = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "Test.Add", "params": [20, 22]}).encode()
                out = {
                    "ok": post(call, "py-token"),
                    "missing": post(call, None),
                    "wrong": post(call, "nope"),
                    "big": post(b"[" + b"1," * 40000 + b"1]", "py-token"),
                    "parse": post(b"{]", "py-token"),
                    "unknown": post(json.dumps({"jsonrpc": "2.0", "id": 8, "method": "X.Y"}).encode(), "py-token"),
                }
                print(json.dumps(out))
                """
            let result = try await runHTTPTestTool("python3", ["-c", script, String(port)])
            #expect(result.status == 0, "\(result.stderr)")
            let out = try JSONValue.parse(result.stdout)
            #expect(out["ok"]?[0] == 200)
            #expect(try JSONValue.parse(out["ok"]?[1]?.stringValue ?? "") == ["id": 7, "jsonrpc": "2.0", "result": 42])
            #expect(out["missing"]?[0] == 401)
            #expect(out["wrong"]?[0] == 401)
            #expect(out["big"]?[0] == 413)
            #expect(try JSONValue.parse(out["parse"]?[1]?.stringValue ?? "")["error"]?["code"] == -32700)
            #expect(try JSONValue.parse(out["unknown"]?[1]?.stringValue ?? "")["error"]?["code"] == -32601)

            let client = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port, path: "/rpc/v0"), headers: [("Authorization", "Bearer py-token")])
            #expect(try await client.call("Test.Add", [1, 1]) == 2)
        }
    }

    @Test func clientTransportAndMalformedErrors() async throws {
        let bound = try PassiveTestSocket(listen: false)
        defer { bound.close() }
        let refused = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: bound.port, path: "/rpc/v0"), timeout: .seconds(2))
        do throws(JSONRPCClientError) {
            _ = try await refused.call("Sealer.Poll", [])
            Issue.record("expected transport error")
        } catch {
            guard case .transport(let method, let underlying) = error else { Issue.record("unexpected \(error)"); return }
            #expect(method == "Sealer.Poll")
            #expect(underlying == .connectFailed(host: "127.0.0.1", port: bound.port, reason: "connection refused"))
            #expect(error.description == "JSON-RPC call Sealer.Poll failed: http 127.0.0.1:\(bound.port): connection refused")
        }

        let fake = try PassiveTestSocket(listen: true)
        defer { fake.close() }
        let served = BlockingWork {
            try fake.serveOnce(reply: Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!".utf8))
        }
        let client = JSONRPCClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: fake.port), timeout: .seconds(30))
        do throws(JSONRPCClientError) {
            _ = try await client.call("Sealer.Poll", [])
            Issue.record("expected malformed")
        } catch {
            guard case .malformed(let method, let reason) = error else { Issue.record("unexpected \(error)"); return }
            #expect(method == "Sealer.Poll")
            #expect(reason.contains("invalid JSON at byte 0"))
            #expect(error.description.hasPrefix("JSON-RPC call Sealer.Poll failed: malformed response: "))
        }
        try await served.value
    }

    @Test func errorModel() {
        #expect(JSONRPCError.parseError.code == -32700)
        #expect(JSONRPCError.invalidRequest.code == -32600)
        #expect(JSONRPCError.methodNotFound.code == -32601)
        #expect(JSONRPCError.invalidParams.code == -32602)
        #expect(JSONRPCError.internalError.code == -32603)
        let e = JSONRPCError(code: 1, message: "boom", data: ["x": 1])
        #expect(JSONRPCError(jsonValue: e.jsonValue) == e)
        #expect(JSONRPCError(jsonValue: "nope") == nil)
    }
}
