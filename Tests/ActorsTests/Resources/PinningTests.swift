@testable import Actors
import Foundation
import Scheduler
import TestSupport
import Testing
import ProofsFFI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

@Suite struct PinningTests {
    @Test func affinityRoundTripsAndBadCPUsAreRefused() async throws {
        let available = Pinning.affinity()
        try #require(!available.isEmpty)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<[Int], Never>) in
            Thread {
                _ = Pinning.setAffinity([available[0]])
                continuation.resume(returning: Pinning.affinity())
            }.start()
        }
        #expect(result == [available[0]])
        #expect(Pinning.affinity() == available, "only the pinned thread changed")
        guard case .failure = Pinning.setAffinity([1 << 20]) else {
            Issue.record("a CPU beyond cpu_set_t must be refused")
            return
        }
    }
}

/// Nonisolated async work, as a prover's is: where does it run?
private func whereAmI() async -> [Int] {
    await Task.yield()
    return Pinning.affinity()
}

/// Where a PC1 ran.
private final class Seen: Sendable {
    let cpus = Mutex<[Int]?>(nil)
}

/// A mock prover that notes the CPUs its PC1 ran on.
private struct RecordingProver: Prover {
    let inner = MockProver()
    let seen = Seen()

    func addPieces(_ s: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] { try await inner.addPieces(s, pieces: pieces) }
    func buildTreeD(_ s: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] { try await inner.buildTreeD(s, pieces: pieces) }
    func pc1(_ s: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        let cpus = Pinning.affinity()
        seen.cpus.withLock { $0 = cpus }
        return try await inner.pc1(s, ticket: ticket, pieces: pieces)
    }
    func pc2(_ s: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments { try await inner.pc2(s, pc1Output: pc1Output) }
    func syntheticProofs(_ s: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {
        try await inner.syntheticProofs(s, ticket: ticket, commitments: commitments, pieces: pieces)
    }
    func c1(_ s: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        try await inner.c1(s, ticket: ticket, seed: seed, commitments: commitments, pieces: pieces)
    }
    func c2(_ s: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] { try await inner.c2(s, c1Output: c1Output) }
    func snapEncode(_ s: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        try await inner.snapEncode(s, old: old, pieces: pieces)
    }
    func snapProve(_ s: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        try await inner.snapProve(s, old: old, oldCommR: oldCommR, new: new)
    }
    func unseal(_ s: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 {
        try await inner.unseal(s, ticket: ticket, commD: commD, offset: offset, length: length, output: output)
    }
    func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
        try await inner.windowPost(miner: miner, proof: proof, replicas: replicas, randomness: randomness)
    }
    func verifySeal(_ s: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        inner.verifySeal(s, ticket: ticket, seed: seed, commitments: commitments, proof: proof)
    }
}

@Suite struct PinnedExecutorTests {
    @Test("nonisolated async work under a pinned executor runs on the pinned CPUs")
    func executorPins() async throws {
        let cpu = try #require(Pinning.affinity().last)
        let executor = try #require(PinnedExecutor.forLease(cpus: [cpu], node: nil))
        #expect(PinnedExecutor.forLease(cpus: [cpu], node: nil) === executor, "one executor per CPU set")
        let seen = await withTaskExecutorPreference(executor) { await whereAmI() }
        #expect(seen == [cpu])
        #expect(PinnedExecutor.forLease(cpus: [], node: nil) == nil)
    }

    @Test("a sealing thread's in-process PC1 runs on the cores its lease names")
    func stageRunsOnLeasedCores() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let cpu = try #require(Pinning.affinity().last)
        var costs = CostTable.defaults
        var pc1 = CostTable.defaultCost(.pc1, .kib2)
        pc1.cores = 1
        costs.set(.pc1, .kib2, pc1)
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[cpu]], memoryBytes: 1 << 30)], gpus: [])
        let broker = ResourceBroker(capacity: box, costs: costs)
        let prover = RecordingProver()
        let thread = SealingThread(settings: fastSettings(0, dir.path + "/t0"), manager: MockManager(), prover: prover, broker: broker, log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("PC1 ran") { prover.seen.cpus.withLock { $0 != nil } }
        task.cancel()
        await task.value
        #expect(prover.seen.cpus.withLock { $0 } == [cpu])
    }
}
