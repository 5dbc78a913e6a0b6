@testable import Actors
import ProofsFFI
import Scheduler
import Testing

private let gib: UInt64 = 1 << 30

private func box(memory: UInt64 = 100 * gib) -> BoxCapacity {
    BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: memory)],
                gpus: [GPUCapacity(index: 0, node: 0, vramBytes: 24 * gib)])
}

private func request(_ stage: ProofStage, cores: Int = 1, memory: UInt64, vram: UInt64 = 0) -> ResourceRequest {
    ResourceRequest(stage: stage, cores: cores, memoryBytes: memory, vramBytes: vram)
}

private struct Boom: Error {}

@Suite struct ResourceBrokerTests {
    @Test func grantsAtOnceWhenFreeAndHandsOverOnRelease() async throws {
        let broker = ResourceBroker(capacity: box())
        guard case let .granted(first) = try await broker.enqueue(request(.pc1, memory: 64 * gib)) else {
            Issue.record("an empty box grants at once")
            return
        }
        guard case let .waiting(id, refusal) = try await broker.enqueue(request(.pc1, memory: 64 * gib)) else {
            Issue.record("the second PC1 cannot fit")
            return
        }
        #expect(refusal.description == "memory: needs 64GiB on one node, most free 36GiB (node 0)")
        #expect(await broker.reason(id)?.pool == .memory)
        async let second = broker.wait(id)
        await first.release()
        let lease = try #require(await second)
        #expect(lease.grant.memoryBytes == 64 * gib)
        await lease.release()
        #expect(await broker.isBalanced)
        #expect(await broker.memoryPool.free()[0]?.bytes == 100 * gib)
    }

    @Test func aRequestThatCanNeverFitIsRefusedWithTheReason() async {
        let broker = ResourceBroker(capacity: box())
        await #expect(throws: ResourceError.self) { try await broker.enqueue(request(.c2, cores: 9, memory: gib)) }
    }

    @Test func withResourcesReleasesOnErrorAndCancellation() async throws {
        let broker = ResourceBroker(capacity: box())
        await #expect(throws: Boom.self) {
            try await broker.withResources(request(.c2, cores: 8, memory: 90 * gib, vram: 11 * gib)) { _ in throw Boom() }
        }
        #expect(await broker.usage.held.isEmpty)
        // A waiter cancelled while queued leaves nothing behind, and the holder is unaffected.
        let holder = try await broker.withResources(request(.pc1, memory: 90 * gib)) { lease in
            let waiter = Task { try await broker.withResources(request(.pc1, memory: 90 * gib)) { _ in 1 } }
            while await broker.usage.waiting == 0 { await Task.yield() }
            waiter.cancel()
            await #expect(throws: ResourceError.cancelled) { try await waiter.value }
            return lease.grant.memoryBytes
        }
        #expect(holder == 90 * gib)
        let usage = await broker.usage
        #expect(usage.held.isEmpty && usage.waiting == 0)
        #expect(await broker.isBalanced)
    }

    @Test func memoryCanBeReleasedInPart() async throws {
        let broker = ResourceBroker(capacity: box())
        guard case let .granted(big) = try await broker.enqueue(request(.c2, memory: 90 * gib)) else { return }
        guard case let .waiting(id, _) = try await broker.enqueue(request(.treeD, memory: 40 * gib)) else {
            Issue.record("no room for 40 GiB yet")
            return
        }
        async let small = broker.wait(id)
        await big.releaseMemory(50 * gib)
        let lease = try #require(await small)
        #expect(await broker.memoryPool.free()[0]?.bytes == 20 * gib)
        await lease.release()
        await big.release()
        #expect(await broker.isBalanced)
    }

    @Test func manyConcurrentStagesNeverOversubscribe() async throws {
        let broker = ResourceBroker(capacity: box())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let stage: ProofStage = [.pc1, .pc2, .c2, .treeD][i % 4]
                    try await broker.withResources(request(stage, cores: 1 + i % 3, memory: UInt64(10 + i % 50) * gib, vram: i % 2 == 0 ? 8 * gib : 0)) { _ in
                        let held = await broker.usage.held
                        #expect(held.reduce(0) { $0 + $1.memoryBytes } <= 100 * gib)
                        #expect(held.reduce(0) { $0 + $1.cpus.count } <= 8)
                        #expect(held.reduce(0) { $0 + $1.vramBytes } <= 24 * gib)
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await broker.usage.held.isEmpty)
        #expect(await broker.isBalanced)
    }

    @Test func leaseEnvironmentPinsTheWork() async throws {
        let broker = ResourceBroker(capacity: box())
        try await broker.withResources(request(.c2, cores: 4, memory: gib, vram: 11 * gib)) { lease in
            #expect(lease.environment == ["VC_CG_CPUSET": "0-3", "CUDA_VISIBLE_DEVICES": "0", "VENUS_WORKER_NUMA_PREFERRED": "0"])
            #expect(lease.summary == "node 0 cpus 0-3 1GiB gpu 0 11GiB")
        }
    }
}

/// `[resources] pc1_spill_slowdown` reaches the live pools: a PC1 that finds no node with room
/// takes memory from two nodes when (and only when) spilling is configured.
@Suite struct PC1SpillBrokerTests {
    private func twoNodes() -> BoxCapacity {
        BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<8)], memoryBytes: 100 * gib),
                            NodeCapacity(id: 1, l3Groups: [Array(8..<16)], memoryBytes: 100 * gib)],
                    gpus: [])
    }

    private func costs() -> CostTable {
        var table = CostTable.defaults
        table.set(.pc1, .gib32, StageCost(cores: 2, memoryBytes: 64 * gib, duration: .seconds(60)))
        return table
    }

    @Test(arguments: [false, true]) func aPC1SpillsOnlyWhenConfigured(spill: Bool) async throws {
        let broker = ResourceBroker(capacity: twoNodes(), costs: costs(), pc1Spill: spill)
        // 50 GiB held on each node: 50 + 50 free, no node with 64 GiB.
        for node in 0..<2 {
            guard case .granted = try await broker.enqueue(ResourceRequest(stage: .c2, cores: 1, memoryBytes: 50 * gib, node: node)) else {
                Issue.record("an empty node grants 50 GiB at once")
                return
            }
        }
        let pc1 = broker.request(.pc1, size: .gib32)
        #expect(pc1.spillable == spill)
        switch try await broker.enqueue(pc1) {
        case let .granted(lease):
            #expect(spill, "without spilling a 64 GiB PC1 cannot fit in 50 + 50 GiB")
            #expect(lease.grant.memory.count == 2)
            #expect(lease.grant.memory.values.reduce(0, +) == 64 * gib)
        case .waiting:
            #expect(!spill, "with spilling the PC1 takes memory from both nodes")
        }
        #expect(await broker.isBalanced)
    }
}

/// The broker counts the long stages it holds against the policy's long-stage share: the same
/// queue goes to the PC1 first under a share and to the C2 first without one.
@Suite struct BrokerLongStageShareTests {
    private func longPC1() -> ResourceRequest {
        ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 20 * gib, expectedDuration: .seconds(3 * 3600))
    }

    private func shortC2() -> ResourceRequest {
        ResourceRequest(stage: .c2, cores: 1, memoryBytes: 40 * gib, expectedDuration: .seconds(600))
    }

    /// Holds three long PC1s (60 of 100 GiB) and a short PC2 (40 GiB); a C2 and a PC1 queue.
    /// When the PC2 ends, its 40 GiB takes the C2 or the PC1, not both. Returns which got it.
    private func firstAfterRelease(share: LongStageShare.Resolved) async throws -> ProofStage? {
        var policy = AdmissionPolicy()
        policy.longStageShare = share
        let broker = ResourceBroker(capacity: box(), policy: policy)
        var held: [ResourceLease] = []
        for _ in 0..<3 {
            guard case let .granted(lease) = try await broker.enqueue(longPC1()) else { return nil }
            held.append(lease)
        }
        guard case let .granted(pc2) = try await broker.enqueue(ResourceRequest(stage: .pc2, cores: 1, memoryBytes: 40 * gib,
                                                                                expectedDuration: .seconds(600))),
              case let .waiting(c2, _) = try await broker.enqueue(shortC2()),
              case let .waiting(pc1, _) = try await broker.enqueue(longPC1()) else { return nil }
        async let c2Lease = broker.wait(c2)
        async let pc1Lease = broker.wait(pc1)
        await pc2.release()
        let winner: ProofStage = await broker.memoryPool.free()[0]?.bytes == 20 * gib ? .pc1 : .c2
        // Free the rest so the other one is granted too and everything comes back.
        for lease in held { await lease.release() }
        if let lease = await c2Lease { await lease.release() }
        if let lease = await pc1Lease { await lease.release() }
        #expect(await broker.isBalanced)
        return winner
    }

    @Test func aPC1BelowItsShareGoesAheadOfAC2() async throws {
        #expect(try await firstAfterRelease(share: .off) == .c2)
        #expect(try await firstAfterRelease(share: .init(target: 80 * gib, limit: 80 * gib)) == .pc1)
        // The three held PC1s count: 60 + 10 is past a 60 GiB share, so the C2 goes first.
        #expect(try await firstAfterRelease(share: .init(target: 60 * gib, limit: 80 * gib)) == .c2)
    }
}
