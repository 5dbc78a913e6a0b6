import Foundation
import TestSupport
import Testing

/// Whether the caller runs on one of the compute executor's threads (a sync function, so that
/// async test code may ask too).
private func onComputeThread() -> Bool { ComputeExecutor.isCurrentThread }

/// The compute executor really takes heavy test bodies off the cooperative pool: the body, the
/// code after an await and child tasks all run on its threads.
@Suite(.computeBound) struct ComputeExecutorTests {
    @Test func aComputeBoundBodyRunsOnTheComputeThreads() async {
        #expect(onComputeThread())
        await Task.yield()
        #expect(onComputeThread())
        async let child = onComputeThread()
        #expect(await child)
    }

    @Test func syncBodiesMoveToo() {
        #expect(onComputeThread())
    }
}

@Suite struct PoolTestsStayOnThePool {
    @Test func anUnmarkedTestIsNotOnTheComputeThreads() {
        #expect(!onComputeThread())
    }
}
