import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Unix signals as an async sequence: the default action of each listed signal is replaced, so
/// SIGTERM and friends arrive here instead of killing the process.
/// Not Sendable: one task owns it and iterates `signals`.
public final class SignalStream {
    public let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    public init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        signals = stream
        sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
