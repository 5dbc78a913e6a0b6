import Foundation
import ProofsFFI
import Scheduler
import Testing
@testable import Actors

/// Spec 2.4 and 3.2: the task's models reach the executor, the base model gates dispatch and
/// execution, and every model failure is silent (TaskExecutionError), never an error report.
@Suite struct CrynuxModelsTests {
    /// The requests the rig's executor script received, parsed.
    func requests(_ rig: CrynuxRig) throws -> [JSONValue] {
        let text = (try? String(contentsOfFile: rig.dir + "/requests", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func reported(_ rig: CrynuxRig, _ id: String) async -> Bool {
        await rig.mock.events.contains { $0.contains("ErrorReported") && $0.contains(id.prefix(10)) }
    }

    @Test func modelIDsReachTheExecutorWithTheModelDir() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask(modelIDs: ["base:mock-model", "lora:https://example.com/x.safetensors", "controlnet:lllyasviel/canny"])
        let thread = rig.thread(try rig.executor())
        await rig.drive(thread) { await rig.mock.status(id) == .endSuccess }
        #expect(await rig.mock.status(id) == .endSuccess)
        let request = try #require(try requests(rig).first)
        #expect(request["model_ids"]?.arrayValue?.compactMap(\.stringValue) == ["base:mock-model", "lora:https://example.com/x.safetensors", "controlnet:lllyasviel/canny"])
        #expect(request["model_dir"]?.stringValue == rig.dir + "/models")
        await rig.cleanup()
    }

    @Test func relayDispatchesOnlyToNodesReportingTheBaseModel() async throws {
        let rig = try CrynuxRig()
        let node = rig.client()
        try await node.join(gpuName: "RTX 4090+Linux", gpuVRAM: 24, modelIDs: ["base:runwayml/stable-diffusion-v1-5"], version: "2.5.0")
        let other = await rig.mock.createTask(minVRAM: 8, modelIDs: ["base:stabilityai/sdxl", "lora:x"])
        await rig.mock.tick()
        #expect(await rig.mock.status(other) == .queued)
        #expect(try await node.currentTask() == nil)
        // Joining again with the model (capabilities refresh) opens the gate.
        try await node.join(gpuName: "RTX 4090+Linux", gpuVRAM: 24, modelIDs: ["base:runwayml/stable-diffusion-v1-5", "base:stabilityai/sdxl"], version: "2.5.0")
        await rig.mock.tick()
        #expect(await rig.mock.status(other) == .started)
        #expect(try await node.currentTask() == other)
        await rig.cleanup()
    }

    @Test func theNodeReportsItsOnDiskModelsAndRejoinsWhenTheyChange() async throws {
        let rig = try CrynuxRig()
        let thread = rig.thread(try rig.executor())
        await thread.cycle()
        let sdxl = await rig.mock.createTask(modelIDs: ["base:stabilityai/sdxl"])
        await rig.mock.tick()
        #expect(await rig.mock.status(sdxl) == .queued)
        try CrynuxModelStore(dir: rig.dir + "/models").install(CrynuxModelID(kind: .base, name: "stabilityai/sdxl"), contents: [1])
        await thread.cycle() // idle: the new model is reported
        await rig.mock.tick()
        #expect(await rig.mock.status(sdxl) == .started)
        await rig.cleanup()
    }

    @Test func missingBaseModelIsSilentAndNeverRunsTheExecutor() async throws {
        let rig = try CrynuxRig()
        let thread = rig.thread(try rig.executor())
        await thread.cycle() // joins, reporting base:mock-model
        let id = await rig.mock.createTask()
        await rig.mock.tick()
        #expect(await rig.mock.status(id) == .started)
        // The model vanished after the join: "Task model not downloaded", a TaskExecutionError.
        try FileManager.default.removeItem(atPath: rig.dir + "/models/base")
        for _ in 0..<3 { await thread.cycle() }
        #expect(rig.runs == 0)
        #expect(await rig.mock.status(id) == .started)
        rig.clock.advance(61)
        await rig.mock.tick()
        #expect(await rig.mock.abortReason(id) == .timeout)
        #expect(await reported(rig, id) == false)
        await rig.cleanup()
    }

    @Test func downloadFailureIsSilent() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask(modelIDs: ["base:mock-model", "lora:unreachable"])
        let thread = rig.thread(try rig.executor(#"{"result":"error","message":"model download failed: lora:unreachable"}"#, exit: 1))
        await rig.drive(thread, limit: 4) { false }
        #expect(rig.runs == 1)
        #expect(await rig.mock.status(id) == .started)
        rig.clock.advance(61)
        await rig.mock.tick()
        #expect(await rig.mock.abortReason(id) == .timeout)
        #expect(await reported(rig, id) == false)
        await rig.cleanup()
    }

    @Test func invalidArgumentsAfterModelsAreReported() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask(modelIDs: ["base:mock-model", "lora:style"])
        let thread = rig.thread(try rig.executor(#"{"result":"invalid","message":"lora does not fit the base model"}"#))
        await rig.drive(thread) { await rig.mock.status(id)?.isTerminal == true }
        #expect(await rig.mock.abortReason(id) == .errorReported)
        await rig.cleanup()
    }

    /// The mock executor's model step: the base model must be there, non-base models are
    /// installed into model_dir, and the failure knob fails a download.
    @Test func mockExecutorChecksTheBaseAndDownloadsTheRest() throws {
        let dir = NSTemporaryDirectory() + "crynux-models-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func request(_ ids: [String]) -> String {
            (["task_id": "t", "task_type": 0, "task_args": #"{"outputs":1,"seed":3}"#, "model_ids": .array(ids.map(JSONValue.string)),
              "output_dir": .string(dir + "/out"), "model_dir": .string(dir + "/models")] as JSONValue).serializedString
        }
        let missing = MockInference.runOnce(input: request(["base:sd15", "lora:a/b"]), environment: [:])
        #expect(missing["result"]?.stringValue == "error")
        #expect(missing["message"]?.stringValue?.contains("Task model not downloaded: base:sd15") == true)
        let store = CrynuxModelStore(dir: dir + "/models")
        try store.install(CrynuxModelID(kind: .base, name: "sd15"), contents: [1])
        let failed = MockInference.runOnce(input: request(["base:sd15", "lora:a/b"]), environment: ["SEALER_CRYNUX_MOCK_DOWNLOAD_FAIL": "lora:a/b"])
        #expect(failed["result"]?.stringValue == "error")
        #expect(failed["message"]?.stringValue?.contains("model download failed: lora:a/b") == true)
        #expect(!store.onDisk().contains(CrynuxModelID(kind: .lora, name: "a/b")))
        let ok = MockInference.runOnce(input: request(["base:sd15", "lora:a/b"]), environment: [:])
        #expect(ok["result"]?.stringValue == "success")
        #expect(store.reported() == ["base:sd15", "lora:a/b"])
    }
}
