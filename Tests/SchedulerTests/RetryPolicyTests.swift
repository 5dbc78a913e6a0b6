import Testing
@testable import Scheduler

@Suite("Failure handling")
struct RetryPolicyTests {
    @Test("temporary failures retry until max_retries, then pause as permanent with a fresh budget")
    func temporaryEscalates() {
        let f = SealingFailure.temporary("rpc: connection refused")
        #expect(RetryPolicy.decide(f, retry: 0, maxRetries: 2, recoverInterval: .seconds(60)) == .retry(after: .seconds(60), retry: 1))
        #expect(RetryPolicy.decide(f, retry: 1, maxRetries: 2, recoverInterval: .seconds(60)) == .retry(after: .seconds(60), retry: 2))
        guard case let .pause(lastError, retry) = RetryPolicy.decide(f, retry: 2, maxRetries: 2, recoverInterval: .seconds(60)) else {
            Issue.record("expected pause")
            return
        }
        #expect(retry == 0)
        #expect(lastError.hasPrefix("permanent: rpc: connection refused"))
    }

    @Test("permanent and critical pause, abort aborts", arguments: [FailureLevel.permanent, .critical, .abort])
    func otherLevels(level: FailureLevel) {
        let decision = RetryPolicy.decide(.init(level, "boom"), retry: 3, maxRetries: 5, recoverInterval: .seconds(1))
        switch level {
        case .abort: #expect(decision == .abort(reason: "boom"))
        default: #expect(decision == .pause(lastError: "\(level): boom", retry: 3))
        }
    }

    @Test("exhausted retries give a window PoSt job back instead of pausing")
    func exhaustedAbort() {
        let f = SealingFailure.temporary("manager unreachable")
        #expect(RetryPolicy.decide(f, retry: 1, maxRetries: 2, recoverInterval: .seconds(1), exhausted: .abort) == .retry(after: .seconds(1), retry: 2))
        #expect(RetryPolicy.decide(f, retry: 2, maxRetries: 2, recoverInterval: .seconds(1), exhausted: .abort)
                == .abort(reason: "manager unreachable (gave up after 2 retries)"))
    }
}
