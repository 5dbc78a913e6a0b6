import Foundation
import ProofsFFI
import Scheduler
import TestSupport
import Testing
@testable import Actors

private let gib: UInt64 = 1 << 30

/// One NUMA node, one GPU of `vramMiB`.
private func oneGPUBox(vramMiB: UInt64 = 24 * 1024) -> BoxCapacity {
    BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: 64 * gib)],
                gpus: [GPUCapacity(index: 0, node: 0, vramBytes: vramMiB << 20)])
}

/// The inference GPU lease (issue 10): scoped (released on success, shutdown while running and
/// shutdown while waiting), admitted under its own name, and the GPU identity the node reports.
@Suite struct CrynuxLeaseTests {
    @Test func leaseIsScopedAndCountedAsCrynuxInference() async throws {
        let rig = try CrynuxRig()
        let broker = ResourceBroker(capacity: oneGPUBox())
        let metrics = SealingMetrics()
        let id = await rig.mock.createTask(minVRAM: 8)
        let thread = rig.thread(try rig.executor(), broker: broker, metrics: metrics)
        await rig.drive(thread) { await rig.mock.status(id) == .endSuccess }
        #expect(await rig.mock.status(id) == .endSuccess)
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
        let admissions = metrics.snapshot().admissions
        #expect(admissions["crynux_inference"]?.count == 1)
        #expect(admissions["pc1"] == nil && admissions["c2"] == nil)
        await rig.cleanup()
    }

    @Test func shutdownWhileWaitingForTheGPULeavesNothingHeldOrQueued() async throws {
        let rig = try CrynuxRig()
        let broker = ResourceBroker(capacity: oneGPUBox())
        // A sealing stage holds the whole GPU.
        guard case let .granted(c2) = try await broker.enqueue(ResourceRequest(stage: .c2, cores: 1, memoryBytes: gib, vramBytes: 24 * gib)) else {
            Issue.record("an empty box grants at once")
            return
        }
        let id = await rig.mock.createTask(minVRAM: 8)
        await rig.mock.tick()
        let thread = rig.thread(try rig.executor(), broker: broker)
        let cycle = Task { await thread.cycle() }
        try await eventually("one waiter") { await broker.usage.waiting == 1 }
        #expect(await broker.waitingByStage == ["crynux_inference": 1])
        #expect(await thread.info().localAction.hasPrefix("waiting for a GPU lease (crynux_inference, below sealing)"))
        cycle.cancel()
        await cycle.value
        try await eventually("no waiter") { await broker.usage.waiting == 0 }
        await c2.release()
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
        #expect(rig.runs == 0)
        // Nothing was persisted: the next lifetime runs the task.
        let next = rig.thread(try rig.executor(), broker: broker)
        await rig.drive(next) { await rig.mock.status(id) == .endSuccess }
        #expect(rig.runs == 1)
        #expect(await rig.mock.status(id) == .endSuccess)
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
        await rig.cleanup()
    }

    @Test func shutdownWhileRunningReleasesTheLease() async throws {
        let rig = try CrynuxRig()
        let broker = ResourceBroker(capacity: oneGPUBox())
        _ = await rig.mock.createTask(minVRAM: 8)
        await rig.mock.tick()
        let thread = rig.thread(try rig.executor(sleep: 30), broker: broker)
        let cycle = Task { await thread.cycle() }
        try await eventually("one run") { rig.runs == 1 }
        #expect(await broker.usage.held.count == 1)
        #expect(await thread.info().localAction.hasPrefix("running on "))
        cycle.cancel()
        await cycle.value
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
        await rig.cleanup()
    }

    /// Spec 2.4: the executor's deadline is start + timeout + 10 s, however long the lease took;
    /// a task already past it (the relay has not aborted it yet) never starts the executor.
    @Test func aTaskPastItsDeadlineNeverStartsTheExecutor() async throws {
        let rig = try CrynuxRig()
        let thread = rig.thread(try rig.executor())
        let now = rig.clock.now()
        let late = RelayTaskRecord(id: "0x" + String(repeating: "ab", count: 32), status: .started, taskType: .sd, taskArgs: "{}", timeout: 60,
                                   minVRAM: 1, modelIDs: ["base:mock-model"], startUnix: now - 71)
        await thread.execute(late)
        #expect(rig.runs == 0)
        let inTime = RelayTaskRecord(id: late.id, status: .started, taskType: .sd, taskArgs: "{}", timeout: 60, minVRAM: 1,
                                     modelIDs: ["base:mock-model"], startUnix: now - 69)
        await thread.execute(inTime)
        #expect(rig.runs == 1)
        await rig.cleanup()
    }

    @Test func theNodeReportsTheBoxGPUAndGetsExactGPUTasks() async throws {
        let rig = try CrynuxRig()
        // NVML reports an RTX 4090 as 24564 MiB: reported VRAM = ceil(24564 / 1024) = 24.
        let broker = ResourceBroker(capacity: oneGPUBox(vramMiB: 24564))
        let thread = rig.thread(try rig.executor(), broker: broker, gpuNames: [0: "NVIDIA GeForce RTX 4090"])
        #expect(thread.identity == CrynuxGPUIdentity(name: "NVIDIA GeForce RTX 4090+Linux", vramGiB: 24, gpus: [0]))
        await thread.cycle() // joins
        let wrongVRAM = await rig.mock.createTask(requiredGPU: "NVIDIA GeForce RTX 4090+Linux", requiredGPUVRAM: 25)
        let wrongName = await rig.mock.createTask(requiredGPU: "NVIDIA GeForce RTX 4090", requiredGPUVRAM: 24)
        let tooBig = await rig.mock.createTask(minVRAM: 25)
        await rig.mock.tick()
        for id in [wrongVRAM, wrongName, tooBig] { #expect(await rig.mock.status(id) == .queued) }
        let exact = await rig.mock.createTask(requiredGPU: "NVIDIA GeForce RTX 4090+Linux", requiredGPUVRAM: 24)
        await rig.drive(thread) { await rig.mock.status(exact) == .endSuccess }
        #expect(await rig.mock.status(exact) == .endSuccess)
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
        await rig.cleanup()
    }
}
