import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Unix signals as an async sequence, taken with `sigwait` on a thread of its own: a signal
/// blocked in every thread stays pending until that thread takes it, so none is lost, however
/// early it comes (a dispatch signal source, armed after `SIG_IGN`, drops what arrives between).
///
/// Call `SignalStream.block(_:)` first thing in `main`, before any other thread exists, so every
/// thread inherits the block; children get an empty mask back when they are spawned (CSpawn).
/// Not Sendable: one task owns it and iterates `signals`.
public final class SignalStream {
    public let signals: AsyncStream<Int32>

    /// Blocks `numbers` in the calling thread (and every thread it starts afterwards).
    public static func block(_ numbers: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in numbers { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    public init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        signals = stream
        // Also blocked here, for a process whose `main` did not: then a signal can still reach a
        // thread that does not block it, with its default action.
        Self.block(numbers)
        // The waiting thread lives as long as the process (sigwait cannot be interrupted cleanly);
        // one stream per process is what the commands create.
        Thread.start(named: "signals") {
            var set = sigset_t()
            sigemptyset(&set)
            for number in numbers { sigaddset(&set, number) }
            while true {
                var number: Int32 = 0
                if sigwait(&set, &number) == 0 { continuation.yield(number) }
            }
        }
    }
}
