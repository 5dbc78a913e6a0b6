import Foundation
import Scheduler

/// The mock executor's work (`sealer crynux executor --mock`): the task's models first (spec
/// 2.4: the base model must be in `model_dir`, else "Task model not downloaded"; each non-base
/// model is "downloaded" by writing a placeholder into `model_dir`, failing for the ids listed in
/// `SEALER_CRYNUX_MOCK_DOWNLOAD_FAIL`, comma-separated or `*`), then deterministic PNGs (SD) or
/// JSON responses (LLM) from the task's arguments; arguments containing `"invalid"` are refused
/// as TaskInvalid. `SEALER_CRYNUX_MOCK_MS` simulates inference time.
public enum MockInference {
    /// Runs one request line, writes results, returns the answer line.
    public static func runOnce(input: String, environment: [String: String]) -> JSONValue {
        guard let request = try? JSONValue.parse(input), let dir = request["output_dir"]?.stringValue,
              let args = request["task_args"]?.stringValue, let type = request["task_type"]?.intValue.flatMap({ CrynuxTaskType(rawValue: Int($0)) })
        else { return ["result": "error", "message": "malformed request"] }
        let modelIDs = request["model_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !modelIDs.isEmpty, let failure = prepareModels(modelIDs, modelDir: request["model_dir"]?.stringValue, environment: environment) {
            return ["result": "error", "message": .string(failure)]
        }
        if args.contains("invalid") { return ["result": "invalid", "message": "task arguments invalid (mock)"] }
        // Stands in for GPU time. Runs only in the executor child (`sealer crynux executor --mock`,
        // synchronous, one request per process), never on the daemon's executors, so blocking is the point.
        if let ms = environment["SEALER_CRYNUX_MOCK_MS"].flatMap(Int.init), ms > 0 { usleep(useconds_t(ms * 1000)) }
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

    /// Checks the base model and downloads the others; the failure message, or nil when ready.
    static func prepareModels(_ modelIDs: [String], modelDir: String?, environment: [String: String]) -> String? {
        guard let modelDir else { return "Task model not downloaded: no model_dir" }
        let store = CrynuxModelStore(dir: modelDir)
        let failing = Set((environment["SEALER_CRYNUX_MOCK_DOWNLOAD_FAIL"] ?? "").split(separator: ",").map(String.init))
        switch CrynuxModelPlan.plan(modelIDs, onDisk: store.onDisk()) {
        case let .unusable(reason): return "Task model not downloaded: \(reason)"
        case let .baseMissing(base): return "Task model not downloaded: \(base)"
        case let .download(models):
            for model in models {
                if failing.contains("*") || failing.contains(model.description) { return "model download failed: \(model) (mock failure knob)" }
                do { try store.install(model, contents: Array("mock model \(model)\n".utf8)) } catch { return "model download failed: \(error)" }
            }
            return nil
        }
    }
}
