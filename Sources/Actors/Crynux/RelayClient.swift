import Foundation
import ProofsFFI
import Scheduler

/// The relay's node-facing API (spec 5.3) over `HTTPClient`, every request signed.
public struct RelayClient: Sendable {
    public let endpoint: HTTPEndpoint
    public let signer: RelaySigner
    public let timeout: Duration
    /// Unix seconds now (injectable so tests can sign with a skewed clock).
    public let now: @Sendable () -> Int64

    public init(endpoint: HTTPEndpoint, signer: RelaySigner, timeout: Duration = .seconds(30),
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.endpoint = endpoint
        self.signer = signer
        self.timeout = timeout
        self.now = now
    }

    static let zeroTask = "0x" + String(repeating: "0", count: 64)
    var address: String { signer.address.description }
    var base: String { endpoint.path == "/" ? "" : (endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path) }

    func signed(_ input: [String: JSONValue]) throws(RelayClientError) -> (Int64, String) {
        let t = now()
        do { return (t, try signer.sign(input, timestamp: t)) } catch { throw .signing("\(error)") }
    }

    func call(_ method: String, _ path: String, json body: JSONValue? = nil, raw: [UInt8]? = nil, contentType: String? = nil) async throws(RelayClientError) -> JSONValue {
        var headers: [(name: String, value: String)] = []
        var bytes: [UInt8] = []
        if let body { bytes = body.serialized(); headers.append(("Content-Type", "application/json")) }
        if let raw { bytes = raw; headers.append(("Content-Type", contentType ?? "application/octet-stream")) }
        let request = HTTPRequest(method: method, target: base + path, headers: headers, body: bytes)
        let response: HTTPResponse
        do {
            response = try await HTTPClient.send(request, host: endpoint.host, port: endpoint.port, timeout: timeout)
        } catch {
            throw .transport("\(error)")
        }
        let parsed = try? JSONValue.parse(response.body)
        guard response.status == 200 else {
            let detail = parsed?["data"]?["message"]?.stringValue ?? parsed?["message"]?.stringValue ?? String(response.bodyText.prefix(200))
            throw .rejected(status: response.status, message: detail)
        }
        guard let parsed, parsed.objectValue != nil else { throw .malformed("\(method) \(path): body is not a JSON object") }
        return parsed
    }

    /// `GET /v1/node/{addr}/task`: the node's current task, nil when none (all-zero commitment).
    public func currentTask() async throws(RelayClientError) -> String? {
        let answer = try await call("GET", "/v1/node/\(address)/task")
        guard let id = answer["data"]?.stringValue else { throw .malformed("node task: data is not a string") }
        guard id.hasPrefix("0x"), id.count == 66, Hex.decode(unprefixed: String(id.dropFirst(2))) != nil else { throw .malformed("node task: \"\(id.prefix(80))\" is not a 32-byte 0x commitment") }
        return id == Self.zeroTask ? nil : id
    }

    /// `GET /v1/inference_tasks/{id}` (signed).
    public func task(_ id: String) async throws(RelayClientError) -> RelayTaskRecord {
        let (t, sig) = try signed(["task_id_commitment": .string(id)])
        let answer = try await call("GET", "/v1/inference_tasks/\(id)?timestamp=\(t)&signature=\(sig)")
        guard let data = answer["data"], data.objectValue != nil else { throw .malformed("task \(id): data is not an object") }
        let record = try RelayTaskRecord(json: data)
        guard record.id == id else { throw .malformed("task \(id): the relay answered for task \(record.id)") }
        return record
    }

    /// `POST /v1/inference_tasks/{id}/score`.
    public func submitScore(_ id: String, score: [UInt8]) async throws(RelayClientError) {
        let hex = Hex.prefixed(score)
        let (t, sig) = try signed(["task_id_commitment": .string(id), "score": .string(hex)])
        _ = try await call("POST", "/v1/inference_tasks/\(id)/score", json: ["score": .string(hex), "timestamp": .int(t), "signature": .string(sig)])
    }

    /// `POST /v1/inference_tasks/{id}/task_error` (ParametersValidationFailed).
    public func reportError(_ id: String) async throws(RelayClientError) {
        let code = Int64(CrynuxTaskError.parametersValidationFailed.rawValue)
        let (t, sig) = try signed(["task_id_commitment": .string(id), "task_error": .int(code)])
        _ = try await call("POST", "/v1/inference_tasks/\(id)/task_error", json: ["task_error": .int(code), "timestamp": .int(t), "signature": .string(sig)])
    }

    /// `POST /v1/inference_tasks/{id}/results`: multipart `files` in index order.
    public func uploadResults(_ id: String, files: [(name: String, data: [UInt8])]) async throws(RelayClientError) {
        let (t, sig) = try signed(["task_id_commitment": .string(id)])
        let boundary = "sealer-\(UInt64.random(in: 0...UInt64.max))"
        var parts = [Multipart.Part(name: "timestamp", data: Array("\(t)".utf8)), Multipart.Part(name: "signature", data: Array(sig.utf8))]
        parts += files.map { Multipart.Part(name: "files", filename: $0.name, data: $0.data) }
        let answer = try await call("POST", "/v1/inference_tasks/\(id)/results", raw: Multipart.encode(parts, boundary: boundary),
                                    contentType: "multipart/form-data; boundary=\(boundary)")
        guard answer["message"]?.stringValue == "success" else { throw .malformed("upload: message is not \"success\"") }
    }

    /// Legacy flow only: `POST /v1/inference_tasks/{id}/abort_task` (reason Timeout).
    public func abort(_ id: String) async throws(RelayClientError) {
        let reason = Int64(CrynuxAbortReason.timeout.rawValue)
        let (t, sig) = try signed(["task_id_commitment": .string(id), "abort_reason": .int(reason)])
        _ = try await call("POST", "/v1/inference_tasks/\(id)/abort_task", json: ["abort_reason": .int(reason), "timestamp": .int(t), "signature": .string(sig)])
    }

    /// `POST /v2/node/{addr}/join` with the reported GPU (spec 3.3).
    /// Fields as the Crynux node sends them (`web_impl.py` `node_join`): `staking` as a decimal
    /// string. (The relay's `models.BigInt` marshals as a bare number, so whether the relay
    /// re-marshals it as the node signed it is not verified here.)
    public func join(gpuName: String, gpuVRAM: Int, modelIDs: [String], version: String, network: String = "crynux-on-base",
                     staking: String = "0") async throws(RelayClientError) {
        let input: [String: JSONValue] = ["address": .string(address), "gpu_name": .string(gpuName), "gpu_vram": .int(Int64(gpuVRAM)),
                                          "model_ids": .array(modelIDs.map(JSONValue.string)), "version": .string(version),
                                          "network": .string(network), "staking": .string(staking)]
        let (t, sig) = try signed(input)
        var body = input
        body["timestamp"] = .int(t)
        body["signature"] = .string(sig)
        _ = try await call("POST", "/v2/node/\(address)/join", json: .object(body))
    }

    /// `POST /v1/node/{addr}/{pause,resume,quit}`.
    public func nodeControl(_ verb: String) async throws(RelayClientError) {
        let (t, sig) = try signed(["address": .string(address)])
        _ = try await call("POST", "/v1/node/\(address)/\(verb)", json: ["timestamp": .int(t), "signature": .string(sig)])
    }

    /// `GET /v2/node/{addr}` (signed): the relay's node status.
    public func nodeStatus() async throws(RelayClientError) -> CrynuxNodeStatus {
        let (t, sig) = try signed(["address": .string(address)])
        let answer = try await call("GET", "/v2/node/\(address)?timestamp=\(t)&signature=\(sig)")
        guard let s = answer["data"]?["status"]?.intValue, let status = CrynuxNodeStatus(rawValue: Int(s)) else { throw .malformed("node: data.status missing or not a node status") }
        return status
    }
}
