@testable import Actors
import Foundation
import Scheduler
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct PinningTests {
    @Test("work run under a lease is pinned to the leased cores")
    func pinnedToTheLease() async throws {
        let available = Pinning.affinity()
        try #require(!available.isEmpty)
        let cpu = available[0]
        let box = BoxCapacity(nodes: [NodeCapacity(id: 0, l3Groups: [[cpu]], memoryBytes: 1 << 30)], gpus: [])
        let broker = ResourceBroker(capacity: box)
        let seen = try await broker.withResources(ResourceRequest(stage: .pc1, cores: 1, memoryBytes: 1 << 20)) { lease in
            try await lease.runPinned { (Pinning.affinity(), Pinning.currentCPU()) }
        }
        #expect(seen.0 == [cpu])
        #expect(seen.1 == cpu)
        #expect(Pinning.affinity() == available, "the caller's own thread is untouched")
    }

    @Test func aCPUBeyondTheSetIsRefused() async {
        await #expect(throws: Pinning.Failure.self) { try await Pinning.run(cpus: [1 << 20], node: nil) { 1 } }
    }
}
