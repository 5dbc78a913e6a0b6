import Foundation
import Scheduler

/// How one inference run ended (spec 2.5 classes, plus the files on success).
public enum InferenceOutcome: Sendable, Hashable {
    case success(files: [String])
    case invalid(String)
    case failed(String)
    case cancelled(String)
}

/// Runs one inference in a child process speaking JSON lines, pinned to one GPU by
/// `CUDA_VISIBLE_DEVICES` = its UUID. Request (one stdin line): `{"task_id", "task_type",
/// "task_args", "model_ids", "output_dir", "model_dir"}`; the child downloads the non-base models
/// into `model_dir` before inference (spec 2.4); answer (last stdout line with "result"):
/// `{"result": "success", "files": [...]}`, `{"result": "invalid", "message"}` or
/// `{"result": "error", "message"}`. No answer, a crash or the deadline = failed/cancelled.
public struct InferenceExecutor: Sendable {
    public var bin: String
    public var args: [String]
    public var environment: [String: String]

    public init(bin: String, args: [String], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.bin = bin
        self.args = args
        self.environment = environment
    }

    /// The built-in mock: this executable's `crynux executor --mock`.
    public static func mock(environment: [String: String] = ProcessInfo.processInfo.environment) -> InferenceExecutor {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return InferenceExecutor(bin: me, args: ["crynux", "executor", "--mock"], environment: environment)
    }

    public func run(taskID: String, type: CrynuxTaskType, args taskArgs: String, modelIDs: [String] = [], outputDir: String, modelDir: String?,
                    gpuUUID: String?, deadline: Duration) async -> InferenceOutcome {
        var env = environment
        env["CUDA_VISIBLE_DEVICES"] = gpuUUID ?? ""
        let child: ProcessorChild
        do {
            child = try ProcessorChild.spawn(bin: bin, args: args, env: env)
        } catch {
            return .failed("cannot start the executor \(bin): \(error.message)")
        }
        let request: JSONValue = ["task_id": .string(taskID), "task_type": .int(Int64(type.rawValue)), "task_args": .string(taskArgs),
                                  "model_ids": .array(modelIDs.map(JSONValue.string)), "output_dir": .string(outputDir), "model_dir": modelDir.map(JSONValue.string) ?? .null]
        child.send(request.serialized() + [0x0A])
        child.closeStdin()
        let killer = Task {
            try? await Task.sleep(for: deadline)
            if !Task.isCancelled { child.signalGroup(SIGKILL) }
        }
        defer { killer.cancel() }
        var answer: JSONValue?
        var exitCode: Int32 = -1
        // A cancelled caller (daemon shutdown) kills the child; the caller persists nothing then.
        await withTaskCancellationHandler {
            for await event in child.events {
                switch event {
                case let .line(text):
                    if let v = try? JSONValue.parse(text), v["result"] != nil { answer = v }
                case let .exited(code):
                    exitCode = code
                }
            }
        } onCancel: {
            child.signalGroup(SIGKILL)
        }
        if Task.isCancelled { return .cancelled("shutdown") }
        guard let answer, let result = answer["result"]?.stringValue else {
            return exitCode == 128 + SIGKILL ? .cancelled("the executor passed its deadline and was killed") : .failed("the executor exited \(exitCode) without an answer")
        }
        let message = answer["message"]?.stringValue ?? ""
        switch result {
        case "success":
            guard let files = answer["files"]?.arrayValue?.compactMap(\.stringValue), !files.isEmpty else { return .failed("success without files") }
            return .success(files: files)
        case "invalid": return .invalid(message)
        default: return .failed(message.isEmpty ? "executor error" : message)
        }
    }
}
