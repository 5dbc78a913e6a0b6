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
/// "task_args", "output_dir", "model_dir"}`; answer (last stdout line with "result"):
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

    public func run(taskID: String, type: CrynuxTaskType, args taskArgs: String, outputDir: String, modelDir: String?,
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
                                  "output_dir": .string(outputDir), "model_dir": modelDir.map(JSONValue.string) ?? .null]
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

/// The mock executor's work: deterministic PNGs (SD) or JSON responses (LLM) from the task's
/// arguments; arguments containing `"invalid"` are refused as TaskInvalid.
public enum MockInference {
    /// Reads one request line from stdin, writes results, prints the answer line.
    public static func runOnce(input: String, environment: [String: String]) -> JSONValue {
        guard let request = try? JSONValue.parse(input), let dir = request["output_dir"]?.stringValue,
              let args = request["task_args"]?.stringValue, let type = request["task_type"]?.intValue.flatMap({ CrynuxTaskType(rawValue: Int($0)) })
        else { return ["result": "error", "message": "malformed request"] }
        if args.contains("invalid") { return ["result": "invalid", "message": "task arguments invalid (mock)"] }
        if let ms = environment["SEALER_CRYNUX_MOCK_MS"].flatMap(Int.init), ms > 0 { usleep(useconds_t(ms * 1000)) } // simulates inference time
        let parsed = try? JSONValue.parse(args)
        let outputs = Int(parsed?["outputs"]?.intValue ?? 1)
        let seed = UInt64(bitPattern: parsed?["seed"]?.intValue ?? 1)
        var files: [JSONValue] = []
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<max(1, outputs) {
                let name = type.isImage ? "\(i).png" : "\(i).json"
                let data: [UInt8] = type.isImage
                    ? MockPNG.deterministic(seed: seed &* 1000 &+ UInt64(i))
                    : (["choices": [["message": ["content": .string("mock answer \(seed)-\(i)")]]], "usage": ["completion_tokens": 5]] as JSONValue).serialized()
                try Data(data).write(to: URL(fileURLWithPath: dir + "/" + name))
                files.append(.string(name))
            }
        } catch {
            return ["result": "error", "message": .string("cannot write results: \(error)")]
        }
        return ["result": "success", "files": .array(files)]
    }
}
