@testable import Actors
import ProofsFFI
import Scheduler
import TestSupport
import Testing

@Suite struct ProcessorChoiceTests {
    @Test func picksTheChildWithMostRoomWhoseLocksAreFree() {
        let slots = [ProcessorSlot(index: 0, concurrent: 2, locks: ["gpu0"]), ProcessorSlot(index: 1, concurrent: 4, locks: ["gpu1"])]
        #expect(ProcessorChoice.pick(slots, inFlight: [0, 0], freeLocks: ["gpu0": 1, "gpu1": 1]) == 1)
        #expect(ProcessorChoice.pick(slots, inFlight: [0, 0], freeLocks: ["gpu0": 1, "gpu1": 0]) == 0)
        #expect(ProcessorChoice.pick(slots, inFlight: [2, 4], freeLocks: ["gpu0": 1, "gpu1": 1]) == nil)
        #expect(ProcessorChoice.pick([ProcessorSlot(index: 0)], inFlight: [63], freeLocks: [:]) == 0, "unbounded counts as 64")
        #expect(ProcessorChoice.pick([ProcessorSlot(index: 0)], inFlight: [64], freeLocks: [:]) == nil)
    }

    @Test func aChildsPinningNarrowsTheRequest() {
        var processor = ExternalProcessorConfig()
        processor.cpuset = "4-7"
        processor.numaPreferred = 1
        processor.envs = ["CUDA_VISIBLE_DEVICES": "2"]
        let slot = ProcessorSlot(index: 0, processor)
        let request = slot.restrict(ResourceRequest(stage: .c2, cores: 2, memoryBytes: 1, vramBytes: 1))
        #expect(request.allowedCPUs == [4, 5, 6, 7] && request.node == 1 && request.allowedGPUs == [2])
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<4)], memoryBytes: 1 << 30),
                                      NodeCapacity(id: 1, l3Groups: [Array(4..<8)], memoryBytes: 1 << 30)],
                              gpus: (0..<4).map { GPUCapacity(index: $0, node: $0 / 2, vramBytes: 1 << 30) })
        let grant = ResourceLedger(box).place(request)
        #expect(grant?.node == 1 && grant?.gpu == 2 && grant?.cpus == [4, 5])
    }
}

@Suite struct ProcessorSlotsTests {
    @Test("pc2 and c2 sharing one ext_lock never run together (damocles #572)")
    func sharedLockSerialises() async throws {
        var pc2 = ExternalProcessorConfig(), c2 = ExternalProcessorConfig()
        pc2.locks = ["gpu"]
        c2.locks = ["gpu"]
        let slots = ProcessorSlots(processors: ["pc2": [pc2], "c2": [c2]], extLocks: ["gpu": 1])
        let first = try #require(await slots.acquire(.pc2))
        let waiting = Task { await slots.acquire(.c2) }
        while slots.usage(.c2).waiting == 0 { await Task.yield() }
        #expect(slots.usage(.c2).inFlight == [0])
        slots.release(.pc2, first)
        let second = try #require(await waiting.value)
        #expect(slots.usage(.c2).inFlight == [1])
        #expect(slots.usage(.pc2).freeLocks["gpu"] == 0)
        slots.release(.c2, second)
        #expect(slots.usage(.c2).freeLocks["gpu"] == 1)
    }

    @Test func aCancelledWaiterLeavesTheQueue() async {
        var one = ExternalProcessorConfig()
        one.concurrent = 1
        let slots = ProcessorSlots(processors: ["pc1": [one]], extLocks: [:])
        let held = await slots.acquire(.pc1)
        let waiter = Task { await slots.acquire(.pc1) }
        while slots.usage(.pc1).waiting == 0 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == nil)
        #expect(slots.usage(.pc1).waiting == 0)
        if let held { slots.release(.pc1, held) }
        #expect(slots.usage(.pc1).inFlight == [0])
    }
}

@Suite struct StaggerGateTests {
    @Test func aFinishingTaskLetsTheNextStartAtOnce() async {
        let gate = StaggerGate(interval: .seconds(3600))
        #expect(await gate.start())
        let second = Task { await gate.start() }
        while gate.waiting == 0 { await Task.yield() }
        gate.finished()
        #expect(await second.value)
    }

    @Test func startsAreSpacedByTheInterval() async {
        let gate = StaggerGate(interval: .milliseconds(50))
        let begin = ContinuousClock.now
        #expect(await gate.start())
        #expect(await gate.start())
        #expect(ContinuousClock.now - begin >= .milliseconds(50))
    }

    @Test func aCancelledStartLeavesTheQueue() async {
        let gate = StaggerGate(interval: .seconds(3600))
        #expect(await gate.start())
        let waiter = Task { await gate.start() }
        while gate.waiting == 0 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(gate.waiting == 0)
    }
}

@Suite("Processor slots queue per stage")
struct ProcessorSlotsPerStageTests {
    @Test("4. a queued PC2 does not hold back a PC1 whose children are idle")
    func otherStageGoesPast() async throws {
        var one = ExternalProcessorConfig()
        one.concurrent = 1
        let slots = ProcessorSlots(processors: ["pc1": [one, one], "pc2": [one]], extLocks: [:])
        let pc2 = try #require(await slots.acquire(.pc2))
        let queued = Task { await slots.acquire(.pc2) }
        try await eventually("pc2 queued") { slots.usage(.pc2).waiting == 1 }
        // Both PC1 children are free: both PC1s start at once, past the queued PC2.
        guard case .taken = slots.take(.pc1), case .taken = slots.take(.pc1) else {
            Issue.record("a PC1 waited behind a PC2 with PC1 children idle")
            return
        }
        #expect(slots.usage(.pc1).inFlight == [1, 1])
        slots.release(.pc2, pc2)
        #expect(await queued.value != nil)
    }

    @Test("a cancelled waiter leaves its stage's line at once, and the next one is served")
    func cancelledWaiterServesNobody() async throws {
        var one = ExternalProcessorConfig()
        one.concurrent = 1
        let slots = ProcessorSlots(processors: ["pc2": [one]], extLocks: [:])
        let held = try #require(await slots.acquire(.pc2))
        guard case let .queued(first)? = slots.take(.pc2), case let .queued(second)? = slots.take(.pc2) else {
            Issue.record("expected two waiters")
            return
        }
        #expect(slots.line.cancel(first))
        #expect(slots.usage(.pc2).waiting == 1, "gone at once, with no task hop")
        slots.release(.pc2, held)
        #expect(await slots.line.wait(second) != nil, "the slot went to the next waiter, not the cancelled one")
        #expect(await slots.line.wait(first) == nil)
        #expect(slots.usage(.pc2).inFlight == [1])
    }
}
