import Foundation
import Scheduler

/// The fields of the relay's task record the node uses (relay `task_response.go`).
public struct RelayTaskRecord: Sendable, Hashable {
    public var id: String
    public var status: CrynuxTaskStatus
    public var taskType: CrynuxTaskType
    public var taskArgs: String
    public var timeout: UInt64
    public var minVRAM: UInt64
    public var requiredGPU: String
    public var requiredGPUVRAM: UInt64
    public var modelIDs: [String]
    public var selectedNode: String
    public var score: String
    /// Unix seconds of `start_time` (RFC 3339 from the relay; the mock also sends `start_unix`).
    public var startUnix: Double?

    /// Decodes `data` of `GET /v1/inference_tasks/{id}`; throws naming the bad field.
    public init(json: JSONValue) throws(RelayClientError) {
        func field<T>(_ key: String, _ get: (JSONValue) -> T?) throws(RelayClientError) -> T {
            guard let v = json[key], let t = get(v) else { throw .malformed("task record: field \(key) missing or of the wrong type") }
            return t
        }
        id = try field("task_id_commitment") { $0.stringValue }
        let s = try field("status") { $0.intValue }
        guard let status = CrynuxTaskStatus(rawValue: Int(s)) else { throw .malformed("task record: status \(s) is not a task status (0...11)") }
        self.status = status
        let t = try field("task_type") { $0.intValue }
        guard let type = CrynuxTaskType(rawValue: Int(t)) else { throw .malformed("task record: task_type \(t) is not 0, 1 or 2") }
        taskType = type
        taskArgs = try field("task_args") { $0.stringValue }
        timeout = try field("timeout") { $0.uint64Value }
        minVRAM = json["min_vram"]?.uint64Value ?? 0
        requiredGPU = json["required_gpu"]?.stringValue ?? ""
        requiredGPUVRAM = json["required_gpu_vram"]?.uint64Value ?? 0
        modelIDs = json["model_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        selectedNode = json["selected_node"]?.stringValue ?? ""
        score = json["score"]?.stringValue ?? ""
        startUnix = json["start_unix"]?.doubleValue ?? json["start_time"]?.stringValue.flatMap(Self.rfc3339)
    }

    /// Go's `time.Time` JSON form (RFC 3339, optional fractional seconds) as Unix seconds.
    static func rfc3339(_ text: String) -> Double? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (fractional.date(from: text) ?? plain.date(from: text))?.timeIntervalSince1970
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "task_id_commitment": .string(id), "status": .int(Int64(status.rawValue)), "task_type": .int(Int64(taskType.rawValue)),
            "task_args": .string(taskArgs), "timeout": .int(Int64(timeout)), "min_vram": .int(Int64(minVRAM)),
            "required_gpu": .string(requiredGPU), "required_gpu_vram": .int(Int64(requiredGPUVRAM)),
            "model_ids": .array(modelIDs.map(JSONValue.string)), "selected_node": .string(selectedNode), "score": .string(score),
        ]
        if let startUnix { o["start_unix"] = .double(startUnix) }
        return .object(o)
    }

    public init(id: String, status: CrynuxTaskStatus, taskType: CrynuxTaskType, taskArgs: String, timeout: UInt64, minVRAM: UInt64 = 0,
                requiredGPU: String = "", requiredGPUVRAM: UInt64 = 0, modelIDs: [String] = [], selectedNode: String = "", score: String = "", startUnix: Double? = nil) {
        self.id = id; self.status = status; self.taskType = taskType; self.taskArgs = taskArgs; self.timeout = timeout
        self.minVRAM = minVRAM; self.requiredGPU = requiredGPU; self.requiredGPUVRAM = requiredGPUVRAM; self.modelIDs = modelIDs
        self.selectedNode = selectedNode; self.score = score; self.startUnix = startUnix
    }
}
