import ProofsFFI
@testable import Scheduler
import Testing

private let gib: UInt64 = 1 << 30

/// Two nodes of 16 CPUs in two L3 groups of 8, 256 GiB each, two GPUs of 24 GiB (one per node).
private func box(memory: UInt64 = 256 * gib, gpus: Int = 2) -> BoxCapacity {
    BoxCapacity(
        nodes: (0..<2).map { n in
            NodeCapacity(id: n, l3Groups: [Array(n * 16 ..< n * 16 + 8), Array(n * 16 + 8 ..< n * 16 + 16)], memoryBytes: memory, hugepages: 4)
        },
        gpus: (0..<gpus).map { GPUCapacity(index: $0, node: $0 % 2, vramBytes: 24 * gib) })
}

private func request(_ stage: ProofStage, cores: Int = 1, memory: UInt64 = gib, vram: UInt64 = 0, sameL3: Bool = false) -> ResourceRequest {
    ResourceRequest(stage: stage, cores: cores, sameL3: sameL3, memoryBytes: memory, vramBytes: vram)
}

@Suite struct LedgerTests {
    @Test func takeAndGiveAreInverses() throws {
        var ledger = ResourceLedger(box())
        let original = ledger
        let grant = try #require(ledger.place(request(.c2, cores: 8, memory: 128 * gib, vram: 11 * gib)))
        ledger.take(grant)
        #expect(ledger != original)
        ledger.give(grant)
        #expect(ledger == original)
    }

    @Test func sameL3KeepsCoresInOneCacheGroup() throws {
        var ledger = ResourceLedger(box())
        // Use 6 of the first group so 2 remain there: a 4-core PC1 must go to another group.
        ledger.take(try #require(ledger.place(request(.pc1, cores: 6, memory: 0, sameL3: true))))
        let grant = try #require(ledger.place(request(.pc1, cores: 4, memory: 0, sameL3: true)))
        let group = ledger.capacity.nodes[grant.node].l3Groups.first { $0.contains(grant.cpus[0]) }!
        #expect(grant.cpus.allSatisfy(group.contains))
        #expect(grant.cpus.count == 4)
    }

    @Test func gpuOnTheSameNodeIsPreferredAndVRAMBounds() throws {
        var ledger = ResourceLedger(box())
        let first = try #require(ledger.place(request(.c2, cores: 2, memory: gib, vram: 20 * gib)))
        #expect(first.gpu == ledger.capacity.gpus.first { $0.node == first.node }?.index)
        ledger.take(first)
        let second = try #require(ledger.place(request(.c2, cores: 2, memory: gib, vram: 20 * gib)))
        #expect(second.gpu != first.gpu)
        ledger.take(second)
        #expect(ledger.place(request(.pc2, cores: 1, memory: gib, vram: 5 * gib)) == nil, "both GPUs hold their one slot")
    }

    @Test func noGPUBoxRunsGPUStagesOnCPU() throws {
        let ledger = ResourceLedger(box(gpus: 0))
        let grant = try #require(ledger.place(request(.c2, cores: 8, memory: 128 * gib, vram: 11 * gib)))
        #expect(grant.gpu == nil && grant.vramBytes == 0)
    }

    @Test func memoryIsPackedBestFit() throws {
        var ledger = ResourceLedger(box())
        ledger.take(try #require(ledger.place(request(.pc1, memory: 200 * gib))))
        let small = try #require(ledger.place(request(.treeD, memory: 40 * gib)))
        ledger.take(small)
        // The small one went to the fuller node, so a 250 GiB request still fits on the other.
        #expect(ledger.place(request(.c2, memory: 250 * gib)) != nil)
    }
}

@Suite struct AdmissionPolicyTests {
    @Test func higherPriorityGoesFirst() {
        var ledger = ResourceLedger(box(memory: 100 * gib))
        var waiters = [
            Waiter(id: 1, request: request(.pc1, memory: 100 * gib), sequence: 1),
            Waiter(id: 2, request: request(.c2, memory: 100 * gib), sequence: 2),
            Waiter(id: 3, request: request(.pc2, memory: 100 * gib), sequence: 3),
        ]
        let granted = AdmissionPolicy().admit(&waiters, &ledger).map(\.id)
        #expect(granted == [2, 3], "two nodes: C2 then PC2, the PC1 waits")
        #expect(waiters.map(\.id) == [1])
    }

    @Test func allOrNothing() {
        var ledger = ResourceLedger(box())
        var waiters = [Waiter(id: 1, request: request(.c2, cores: 17, memory: gib), sequence: 1)]
        #expect(AdmissionPolicy().admit(&waiters, &ledger).isEmpty, "17 cores never fit one 16-core node")
        #expect(ledger == ResourceLedger(box()), "nothing was taken")
    }

    @Test func smallRequestsBackfillButCannotStarveALargeOne() {
        // One node with 100 GiB; a 64 GiB PC1 (a 64GiB-sector's half) waits behind a stream of
        // smaller PC1s of the same priority.
        let single = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<64)], memoryBytes: 100 * gib)], gpus: [])
        var ledger = ResourceLedger(single)
        let policy = AdmissionPolicy(starvationLimit: 3)
        var running: [Grant] = []
        // Fill 60 GiB, then the large one arrives and does not fit.
        var waiters = (0..<3).map { Waiter(id: 100 + UInt64($0), request: request(.pc1, memory: 20 * gib), sequence: 100 + UInt64($0)) }
        running += policy.admit(&waiters, &ledger).map(\.grant)
        waiters.append(Waiter(id: 1, request: request(.pc1, memory: 64 * gib), sequence: 150))
        var sequence: UInt64 = 200
        var admittedPC1 = false
        for _ in 0..<50 where !admittedPC1 {
            // One small finishes, two new ones arrive: without reservation the PC1 would wait forever.
            if !running.isEmpty { ledger.give(running.removeFirst()) }
            for _ in 0..<2 {
                sequence += 1
                waiters.append(Waiter(id: sequence, request: request(.pc1, memory: 20 * gib), sequence: sequence))
            }
            let granted = policy.admit(&waiters, &ledger)
            admittedPC1 = granted.contains { $0.id == 1 }
            running += granted.map(\.grant)
        }
        #expect(admittedPC1)
    }

    @Test func higherPrioritiesGoingFirstIsNotOvertaking() {
        var ledger = ResourceLedger(box(memory: 10 * gib))
        var waiters = [Waiter(id: 1, request: request(.pc1, memory: 20 * gib), sequence: 1),
                       Waiter(id: 2, request: request(.c2, memory: 5 * gib), sequence: 2),
                       Waiter(id: 3, request: request(.pc1, memory: 5 * gib), sequence: 3)]
        _ = AdmissionPolicy().admit(&waiters, &ledger)
        #expect(waiters.map(\.id) == [1])
        #expect(waiters[0].bypassed == 1, "the later PC1 counts, the C2 does not")
    }

    @Test func withoutAStarvationLimitTheLargeOneWouldStarve() {
        // The same stream with an unreachable limit proves the test above can fail.
        let single = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [Array(0..<64)], memoryBytes: 100 * gib)], gpus: [])
        var ledger = ResourceLedger(single)
        let policy = AdmissionPolicy(starvationLimit: .max, starvationWait: .seconds(1 << 40))
        var running: [Grant] = []
        var waiters = (0..<3).map { Waiter(id: 100 + UInt64($0), request: request(.pc1, memory: 20 * gib), sequence: 100 + UInt64($0)) }
        running += policy.admit(&waiters, &ledger).map(\.grant)
        waiters.append(Waiter(id: 1, request: request(.pc1, memory: 64 * gib), sequence: 150))
        var sequence: UInt64 = 200
        for _ in 0..<50 {
            if !running.isEmpty { ledger.give(running.removeFirst()) }
            for _ in 0..<2 {
                sequence += 1
                waiters.append(Waiter(id: sequence, request: request(.pc1, memory: 20 * gib), sequence: sequence))
            }
            running += policy.admit(&waiters, &ledger).map(\.grant)
        }
        #expect(waiters.contains { $0.id == 1 })
    }

    @Test func windowPoStHeadroomIsKeptFromSealing() {
        var ledger = ResourceLedger(box())
        let post = ResourceRequest(stage: .windowPost, cost: CostTable.defaultCost(.windowPost, .gib32))
        let policy = AdmissionPolicy(headroom: [post])
        let c2s = (1...4).map { Waiter(id: UInt64($0), request: request(.c2, cores: 4, memory: 100 * gib), sequence: UInt64($0)) }
        var unguarded = ResourceLedger(box()), all = c2s
        #expect(AdmissionPolicy().admit(&all, &unguarded).count == 4, "without headroom sealing takes every node")
        var waiters = c2s
        let granted = policy.admit(&waiters, &ledger)
        #expect(granted.count == 3, "the 4th C2 would leave no node with 120 GiB for the PoSt")
        var postWaiters = [Waiter(id: 9, request: post, sequence: 9)]
        #expect(policy.admit(&postWaiters, &ledger).count == 1)
    }

    @Test func refusalNamesThePoolAndTheAmounts() {
        var ledger = ResourceLedger(box(memory: 100 * gib))
        ledger.take(ledger.place(request(.pc1, memory: 90 * gib))!)
        ledger.take(ledger.place(request(.pc1, memory: 88 * gib))!)
        let refusal = Refusal.explain(request(.pc1, cores: 4, memory: 64 * gib), in: ledger)
        #expect(refusal.pool == .memory)
        #expect(refusal.description == "memory: needs 64GiB on one node, most free 12GiB (node 1)")
        let gpu = Refusal.explain(request(.c2, cores: 1, memory: gib, vram: 30 * gib), in: ledger)
        #expect(gpu.description == "gpu: needs 30GiB VRAM, most free 24GiB (gpu 0)")
    }
}
