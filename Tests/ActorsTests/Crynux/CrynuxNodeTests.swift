import Foundation
import ProofsFFI
import Scheduler
import Synchronization
import Testing
@testable import Actors

/// A settable Unix clock shared by the relay mock and the node's signer.
final class UnixClock: Sendable {
    let value = Mutex(1_800_000_000.0)
    func now() -> Double { value.withLock { $0 } }
    func advance(_ s: Double) { value.withLock { $0 += s } }
}

/// A relay mock on an ephemeral port, a node key, a scratch directory and a scripted executor.
struct CrynuxRig {
    let dir: String
    let clock = UnixClock()
    let mock: RelayMock
    let server: HTTPServer
    let endpoint: HTTPEndpoint
    let key: Secp256k1PrivateKey

    init(mode: CrynuxFlowMode = .relay, type: CrynuxTaskType = .sd, name: String = #function) throws {
        dir = NSTemporaryDirectory() + "crynux-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/fixture", withIntermediateDirectories: true)
        var settings = CrynuxMockSettings()
        settings.mode = mode
        settings.taskType = type
        settings.taskInterval = .zero
        settings.executionTimeout = .seconds(60)
        let clock = clock
        let mock = RelayMock(settings: settings, log: Log(minimum: .error), clock: { clock.now() })
        self.mock = mock
        server = HTTPServer(host: "127.0.0.1", port: 0) { request in await mock.handle(request) }
        endpoint = HTTPEndpoint(host: "127.0.0.1", port: try server.start())
        key = try Secp256k1PrivateKey(hex: "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        try Data(MockPNG.deterministic(seed: 1)).write(to: URL(fileURLWithPath: dir + "/fixture/0.png"))
        try Data(MockPNG.deterministic(seed: 2)).write(to: URL(fileURLWithPath: dir + "/fixture/1.png"))
        // The mock tasks' base model is on disk, so the relay's base-model gate lets them through.
        try CrynuxModelStore(dir: dir + "/models").install(CrynuxModelID(kind: .base, name: "mock-model"), contents: [1])
    }

    func client(key: Secp256k1PrivateKey? = nil, skew: Int64 = 0) -> RelayClient {
        let clock = clock
        return RelayClient(endpoint: endpoint, signer: RelaySigner(key: key ?? self.key), timeout: .seconds(60), now: { Int64(clock.now()) + skew })
    }

    /// An executor script: answers `answer` after copying the fixture PNGs (for success); counts runs.
    func executor(_ answer: String = #"{"result":"success","files":["0.png","1.png"]}"#, exit: Int = 0, sleep: Int = 0) throws -> InferenceExecutor {
        let script = dir + "/executor.sh"
        let body = """
        #!/bin/sh
        read -r line
        echo run >> \(dir)/runs
        printf '%s\\n' "$line" >> \(dir)/requests
        sleep \(sleep)
        out=$(printf '%s' "$line" | sed 's/.*"output_dir":"\\([^"]*\\)".*/\\1/')
        mkdir -p "$out" && cp \(dir)/fixture/*.png "$out/"
        echo '\(answer)'
        exit \(exit)
        """
        try body.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return InferenceExecutor(bin: script, args: [], environment: ["PATH": "/usr/bin:/bin"])
    }

    var runs: Int { ((try? String(contentsOfFile: dir + "/runs", encoding: .utf8)) ?? "").split(separator: "\n").count }

    func thread(_ executor: InferenceExecutor, mode: CrynuxFlowMode = .relay, hold: Duration? = nil, broker: ResourceBroker? = nil,
                gpuNames: [Int: String] = [:], metrics: SealingMetrics? = nil) -> CrynuxThread {
        var section = CrynuxSection()
        section.mock.mode = mode
        section.modelDir = dir + "/models"
        return CrynuxThread(index: 2, location: dir + "/node", client: client(), executor: executor, broker: broker, gpuUUIDs: [:],
                            settings: section, log: Log(minimum: .error), holdBeforeSubmit: hold, gpuNames: gpuNames, metrics: metrics)
    }

    /// Alternates relay ticks and node cycles until `done` or `limit` rounds.
    func drive(_ thread: CrynuxThread, limit: Int = 12, until done: () async -> Bool) async {
        for _ in 0..<limit {
            await mock.tick()
            await thread.cycle()
            if await done() { return }
        }
    }

    func cleanup() async {
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite struct CrynuxNodeTests {
    @Test func goJSONMatchesGoEncoding() throws {
        let v = try JSONValue.parse(#"{"b":"<a href=\"x\">&</a>\u2028","a":[1,1.5,1e21,1e-7,0.000001,123456789012,-0.25,100],"c":{"z":null,"y":true}}"#)
        let go = String(decoding: GoJSON.marshal(v), as: UTF8.self)
        #expect(go == #"{"a":[1,1.5,1e+21,1e-7,0.000001,123456789012,-0.25,100],"b":"\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e\u2028","c":{"y":true,"z":null}}"#)
        #expect(String(decoding: GoJSON.marshal(.int(9_007_199_254_740_993)), as: UTF8.self) == "9007199254740992") // numbers travel as float64
        #expect(GoJSON.formatFloat(1.2345e-10) == "1.2345e-10")
        #expect(GoJSON.formatFloat(123e20) == "1.23e+22")
        #expect(String(decoding: GoJSON.marshal("\u{08}\u{0C}\u{01}\t"), as: UTF8.self) == #""\b\f\u0001\t""#)
    }

    @Test func taskRecordDecodesTheRelaysShapeAndRefusesBadFields() throws {
        let json = try JSONValue.parse(#"{"sequence":7,"task_args":"{}","task_id_commitment":"0x01","creator":"0xabc","sampling_seed":"","nonce":"","status":4,"task_type":1,"task_version":"2.5.0","timeout":600,"min_vram":8,"required_gpu":"NVIDIA A100+Linux","required_gpu_vram":80,"task_fee":"1","task_size":1,"model_ids":["base:m"],"abort_reason":0,"task_error":0,"score":"0xab","qos_score":0,"selected_node":"0xD1","start_time":"2025-05-17T10:00:00.5Z"}"#)
        let r = try RelayTaskRecord(json: json)
        #expect(r.status == .scoreReady && r.taskType == .llm && r.timeout == 600 && r.requiredGPU == "NVIDIA A100+Linux" && r.requiredGPUVRAM == 80)
        #expect(r.startUnix == 1_747_476_000.5)
        var bad = json.objectValue!
        bad["status"] = 12
        #expect(throws: RelayClientError.self) { try RelayTaskRecord(json: .object(bad)) }
        bad["status"] = "4"
        #expect(throws: RelayClientError.self) { try RelayTaskRecord(json: .object(bad)) }
    }

    @Test func signaturesRecoverTheSigner() throws {
        let key = try Secp256k1PrivateKey(hex: "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let signer = RelaySigner(key: key)
        // The web3.js documentation's example key and its address.
        #expect(signer.address.description == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
        let input: [String: JSONValue] = ["task_id_commitment": "0x01", "score": "0xab"]
        #expect(RelaySigner.message(input, timestamp: 1700000000) == Array(#"{"score":"0xab","task_id_commitment":"0x01"}1700000000"#.utf8))
        let sig = try signer.sign(input, timestamp: 1700000000)
        #expect(sig.hasPrefix("0x") && sig.count == 132)
        #expect(["00", "01"].contains(sig.suffix(2)))
        #expect(try RelaySigner.recover(input, timestamp: 1700000000, signature: sig).get() == signer.address)
        #expect((try? RelaySigner.recover(input, timestamp: 1700000001, signature: sig).get()) != signer.address)
        #expect(RelaySigner.recover(input, timestamp: 1, signature: "abc") == .failure(.malformed))
    }

    @Test func taskRunsToEndSuccessWithOneExecution() async throws {
        let rig = try CrynuxRig()
        let thread = rig.thread(try rig.executor())
        let id = await rig.mock.createTask()
        await rig.drive(thread) { await rig.mock.status(id) == .endSuccess }
        #expect(await rig.mock.status(id) == .endSuccess)
        #expect(await rig.mock.uploads(id) == 1)
        #expect(rig.runs == 1)
        await thread.cycle() // closes locally
        #expect(await thread.info().taskID == nil)
        #expect(await rig.mock.nodeStatus(thread.address) == .available)
        #expect(await rig.mock.refusals.isEmpty)
        await rig.cleanup()
    }

    /// A restart after the score is persisted (a SIGKILL between persist and submit) submits the
    /// stored score without running the executor again.
    @Test func persistedScoreIsSubmittedAfterRestartWithoutReexecution() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask()
        let first = rig.thread(try rig.executor())
        await rig.mock.tick()
        await first.cycle() // join + execute + persist (no submit in the same cycle)
        #expect(rig.runs == 1)
        #expect(await rig.mock.status(id) == .started)
        let second = rig.thread(try rig.executor()) // new lifetime, same location
        await rig.drive(second) { await rig.mock.status(id) == .endSuccess }
        #expect(await rig.mock.status(id) == .endSuccess)
        #expect(rig.runs == 1)
        await rig.cleanup()
    }

    @Test func invalidArgumentsAreReportedAndNothingElseIs() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask()
        let thread = rig.thread(try rig.executor(#"{"result":"invalid","message":"sdxl lora on sd15"}"#))
        await rig.drive(thread) { await rig.mock.status(id)?.isTerminal == true }
        #expect(await rig.mock.status(id) == .endAborted)
        #expect(await rig.mock.abortReason(id) == .errorReported)

        // An execution failure (no answer, exit 1) makes no protocol write: the relay times it out.
        let id2 = await rig.mock.createTask()
        let failing = rig.thread(try rig.executor("", exit: 1))
        await rig.drive(failing, limit: 4) { false }
        #expect(await rig.mock.status(id2) == .started)
        rig.clock.advance(61)
        await rig.mock.tick()
        #expect(await rig.mock.status(id2) == .endAborted)
        #expect(await rig.mock.abortReason(id2) == .timeout)
        #expect(await rig.mock.events.contains { $0.contains("ErrorReported") && $0.contains(id2.prefix(10)) } == false)
        await rig.cleanup()
    }

    @Test func vssGroupOutcomesReachTheNode() async throws {
        for (peers, final) in [([RelayMock.Peer.agree, .agree], CrynuxTaskStatus.endGroupSuccess), ([.differ, .differ], .endInvalidated), ([.agree, .differ], .endGroupSuccess)] {
            let rig = try CrynuxRig()
            await rig.mock.setPeers(peers)
            let id = await rig.mock.createTask(grouped: true)
            let thread = rig.thread(try rig.executor())
            await rig.drive(thread) { await rig.mock.uploads(id) == 1 }
            #expect(await rig.mock.status(id) == final, "\(peers)")
            #expect(await rig.mock.uploads(id) == 1, "\(peers): results uploaded, also when invalidated")
            await rig.cleanup()
        }
    }

    @Test func legacyFlowWaitsForParametersAndAbortsOnTimeout() async throws {
        let rig = try CrynuxRig(mode: .legacy)
        let id = await rig.mock.createTask()
        let thread = rig.thread(try rig.executor(), mode: .legacy)
        await rig.drive(thread) { await rig.mock.status(id) == .endSuccess }
        let events = await rig.mock.events.filter { $0.contains(id.prefix(10)) }
        #expect(events.contains { $0.hasSuffix("Started -> ParametersUploaded") })
        #expect(events.contains { $0.hasSuffix("ParametersUploaded -> ScoreReady") })
        #expect(await rig.mock.status(id) == .endSuccess)

        // A failing execution: in the legacy flow the node itself aborts after start + timeout + 5 s.
        let id2 = await rig.mock.createTask()
        let failing = rig.thread(try rig.executor("", exit: 1), mode: .legacy)
        await rig.drive(failing, limit: 3) { false }
        #expect(await rig.mock.status(id2) == .parametersUploaded)
        rig.clock.advance(66)
        await failing.cycle()
        #expect(await rig.mock.status(id2) == .endAborted)
        #expect(await rig.mock.abortReason(id2) == .timeout)
        await rig.cleanup()
    }

    /// Bad input: a wrong signer, an expired timestamp and files that do not hash to the score
    /// are refused with a reason; nothing moves.
    @Test func relayRefusesWrongSignatureExpiredTimestampAndWrongFiles() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask()
        let thread = rig.thread(try rig.executor())
        await rig.mock.tick()
        await thread.cycle() // executed, score persisted
        let other = rig.client(key: try Secp256k1PrivateKey(hex: "0000000000000000000000000000000000000000000000000000000000000001"))
        await #expect(throws: RelayClientError.self) { try await other.submitScore(id, score: [1, 2, 3, 4, 5, 6, 7, 8]) }
        let expired = rig.client(skew: -61)
        await #expect(throws: RelayClientError.self) { try await expired.submitScore(id, score: [1, 2, 3, 4, 5, 6, 7, 8]) }
        #expect(await rig.mock.status(id) == .started)
        let refusals = await rig.mock.refusals
        #expect(refusals.contains { $0.contains("Signer not allowed") })
        #expect(refusals.contains { $0.contains("limit 60 s") })
        // Submit a score that the files will not hash to, then upload the real files.
        try await rig.client().submitScore(id, score: [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])
        await rig.mock.tick()
        #expect(await rig.mock.status(id) == .validated)
        let files = try ["0.png", "1.png"].map { (name: $0, data: Array(try Data(contentsOf: URL(fileURLWithPath: rig.dir + "/fixture/" + $0)))) }
        await #expect(throws: RelayClientError.self) { try await rig.client().uploadResults(id, files: files) }
        #expect(await rig.mock.status(id) == .validated)
        #expect(await rig.mock.refusals.contains { $0.contains("Wrong result files uploaded") })
        await rig.cleanup()
    }

    /// A malformed relay answer is logged and acted on by nothing: no protocol write is sent.
    @Test func malformedRelayAnswersCauseNoAction() async throws {
        let writes = Mutex(0)
        let server = HTTPServer(host: "127.0.0.1", port: 0) { request in
            if request.method == "POST", !request.path.hasSuffix("/join") { writes.withLock { $0 += 1 } }
            if request.path.hasSuffix("/task") { return .json(200, ["message": "success", "data": .string("0x" + String(repeating: "ab", count: 32))]) }
            if request.path.hasPrefix("/v1/inference_tasks/") { return .json(200, ["message": "success", "data": ["task_id_commitment": 5, "status": 99]]) }
            return .json(200, ["message": "success", "data": ["status": 1]])
        }
        let port = try server.start()
        let rig = try CrynuxRig()
        var section = CrynuxSection()
        section.mock.mode = .relay
        let thread = CrynuxThread(index: 0, location: rig.dir + "/node", client: RelayClient(endpoint: HTTPEndpoint(host: "127.0.0.1", port: port), signer: RelaySigner(key: rig.key)),
                                  executor: try rig.executor(), broker: nil, gpuUUIDs: [:], settings: section, log: Log(minimum: .error))
        for _ in 0..<3 { await thread.cycle() }
        let info = await thread.info()
        #expect(info.lastError?.contains("malformed relay answer") == true)
        #expect(writes.withLock { $0 } == 0)
        #expect(rig.runs == 0)
        await server.shutdown()
        await rig.cleanup()
    }

    /// A shutdown (cancellation) during inference kills the executor and persists nothing, so
    /// the next lifetime runs the task again instead of closing it.
    @Test func shutdownDuringInferencePersistsNothing() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask()
        await rig.mock.tick()
        let first = rig.thread(try rig.executor(sleep: 600))
        let running = Task { await first.cycle() }
        // Generous: a loaded 2-core machine can take a while to start the executor child.
        let deadline = ContinuousClock.now + .seconds(120)
        while rig.runs == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(rig.runs == 1, "the executor never started")
        running.cancel()
        await running.value
        let second = rig.thread(try rig.executor())
        await rig.drive(second) { await rig.mock.status(id) == .endSuccess }
        #expect(rig.runs == 2)
        #expect(await rig.mock.status(id) == .endSuccess)
        await rig.cleanup()
    }

    /// Dispatch by GPU requirement and the per-status deadlines of spec 1.5, on the mock's clock.
    @Test func dispatchByRequirementAndDeadlines() async throws {
        let rig = try CrynuxRig()
        let node = rig.client()
        try await node.join(gpuName: "RTX 4090+Linux", gpuVRAM: 24, modelIDs: ["base:mock-model"], version: "2.5.0")
        let otherGPU = await rig.mock.createTask(requiredGPU: "A100+Linux", requiredGPUVRAM: 80)
        let tooBig = await rig.mock.createTask(minVRAM: 25)
        let wrongVRAM = await rig.mock.createTask(requiredGPU: "RTX 4090+Linux", requiredGPUVRAM: 16)
        await rig.mock.tick()
        for id in [otherGPU, tooBig, wrongVRAM] { #expect(await rig.mock.status(id) == .queued) }
        let exact = await rig.mock.createTask(requiredGPU: "RTX 4090+Linux", requiredGPUVRAM: 24)
        await rig.mock.tick()
        #expect(await rig.mock.status(exact) == .started)
        #expect(try await node.currentTask() == exact)
        // Started: aborted (Timeout) after start + execution timeout.
        rig.clock.advance(59)
        await rig.mock.tick()
        #expect(await rig.mock.status(exact) == .started)
        rig.clock.advance(2)
        await rig.mock.tick()
        #expect(await rig.mock.status(exact) == .endAborted)
        #expect(await rig.mock.abortReason(exact) == .timeout)
        #expect(try await node.currentTask() == nil)
        // ScoreReady without validation: CreatorValidationTimeout after 600 s.
        await rig.mock.setAppValidates(false)
        let scored = await rig.mock.createTask(minVRAM: 8)
        await rig.mock.tick()
        try await node.submitScore(scored, score: [1, 2, 3, 4, 5, 6, 7, 8])
        rig.clock.advance(601)
        await rig.mock.tick()
        #expect(await rig.mock.abortReason(scored) == .creatorValidationTimeout)
        // Validated without upload: ResultUploadTimeout after 600 s.
        await rig.mock.setAppValidates(true)
        let validated = await rig.mock.createTask(minVRAM: 8)
        await rig.mock.tick()
        try await node.submitScore(validated, score: [1, 2, 3, 4, 5, 6, 7, 8])
        await rig.mock.tick()
        #expect(await rig.mock.status(validated) == .validated)
        rig.clock.advance(601)
        await rig.mock.tick()
        #expect(await rig.mock.abortReason(validated) == .resultUploadTimeout)
        // Queued: Timeout after the queue timeout (the three that never matched).
        rig.clock.advance(21_600)
        await rig.mock.tick()
        for id in [otherGPU, tooBig, wrongVRAM] { #expect(await rig.mock.abortReason(id) == .timeout) }
        await rig.cleanup()
    }

    /// Pause while Busy is PendingPause at the relay; it becomes Paused when the task ends.
    @Test func pauseWhileBusyBecomesPendingPause() async throws {
        let rig = try CrynuxRig()
        let id = await rig.mock.createTask()
        let thread = rig.thread(try rig.executor())
        await rig.mock.tick()
        await thread.cycle()
        try await thread.control("pause")
        #expect(await rig.mock.nodeStatus(thread.address) == .pendingPause)
        await rig.drive(thread) { await rig.mock.status(id) == .endSuccess }
        #expect(await rig.mock.nodeStatus(thread.address) == .paused)
        let next = await rig.mock.createTask()
        await rig.mock.tick()
        #expect(await rig.mock.status(next) == .queued) // a paused node gets nothing
        try await thread.control("resume")
        await rig.mock.tick()
        #expect(await rig.mock.status(next) == .started)
        await rig.cleanup()
    }
}
