import Dispatch
import Foundation
import Synchronization
import CSpawn

#if canImport(Glibc)
import Glibc
#endif

/// Something that happened to a child process, delivered in order on `ProcessorChild.events`.
enum ChildEvent: Sendable, Equatable {
    /// One stdout line, without the trailing newline (and without a trailing `\r`).
    case line(String)
    /// The child was reaped; the value is its exit code, or 128 + signal number when it was
    /// killed by a signal. Always the last event; the stream finishes after it.
    case exited(Int32)
}

/// Why `ProcessorChild.spawn` failed.
struct SpawnError: Error, Sendable {
    let message: String
}

/// One spawned child process with piped stdin/stdout and inherited stderr.
///
/// Threading: a dedicated `Thread` performs the blocking stdout reads and then reaps the
/// child with blocking `waitid`/`waitpid`; a per-child serial `DispatchQueue` performs the
/// (possibly blocking) writes to stdin. Nothing here blocks a Swift concurrency thread.
///
/// Reaping and signalling are race free: the reader thread first waits for the exit with
/// `WNOWAIT` (the pid stays a zombie and cannot be reused), then, under `exitState`'s lock,
/// marks the child exited and reaps it. `signal(_:)` sends only under the same lock and only
/// while the child is not marked exited, so a signal can never hit a recycled pid.
final class ProcessorChild: Sendable {
    let pid: pid_t
    let events: AsyncStream<ChildEvent>

    private let sink: AsyncStream<ChildEvent>.Continuation
    /// Parent's write end of the child's stdin; -1 once closed. Only closed on `writer`.
    private let stdinFD: Mutex<Int32>
    private let writer: DispatchQueue
    private let exitState = Mutex(ExitState())

    private struct ExitState {
        var status: Int32?
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
    }

    /// How long the child may live on after closing its stdout before it is SIGKILLed.
    static let eofGrace: DispatchTimeInterval = .seconds(1)

    private static let sigpipeIgnored: Bool = {
        // Writing to a dead child's stdin must yield EPIPE, not kill this process.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        return true
    }()

    private init(pid: pid_t, stdinFD: Int32) {
        self.pid = pid
        self.stdinFD = Mutex(stdinFD)
        self.writer = DispatchQueue(label: "processor-child-\(pid)-stdin")
        (self.events, self.sink) = AsyncStream<ChildEvent>.makeStream(bufferingPolicy: .unbounded)
    }

    /// Spawns `bin args...` with exactly `env` as its environment, in its own process group
    /// (pgid = pid), with default signal dispositions, an empty signal mask, and a parent-death
    /// SIGKILL so that a killed daemon leaves no orphans (see `cspawn_spawn`).
    static func spawn(bin: String, args: [String], env: [String: String]) throws(SpawnError) -> ProcessorChild {
        _ = sigpipeIgnored

        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard makeCloexecPipe(&inPipe) == 0 else {
            throw SpawnError(message: errnoText(errno))
        }
        guard makeCloexecPipe(&outPipe) == 0 else {
            let e = errno
            close(inPipe[0]); close(inPipe[1])
            throw SpawnError(message: errnoText(e))
        }
        // dup2 onto 0/1 clears FD_CLOEXEC only when source != target; keep sources >= 3.
        let childIn = aboveStdio(inPipe[0])
        let childOut = aboveStdio(outPipe[1])

        var argv: [UnsafeMutablePointer<CChar>?] = ([bin] + args).map { strdup($0) }
        argv.append(nil)
        var envp: [UnsafeMutablePointer<CChar>?] = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }

        var rc: Int32 = 0
        let pid = cspawn_spawn(bin, argv, envp, childIn, childOut, &rc)
        close(childIn)
        close(childOut)
        if childIn != inPipe[0] { close(inPipe[0]) }
        if childOut != outPipe[1] { close(outPipe[1]) }
        guard pid > 0 else {
            close(inPipe[1])
            close(outPipe[0])
            throw SpawnError(message: errnoText(rc))
        }

        let child = ProcessorChild(pid: pid, stdinFD: inPipe[1])
        let readFD = outPipe[0]
        Thread.start(named: "proc-\(pid)") { child.readAndReap(fd: readFD) }
        return child
    }

    /// Queues `bytes` for writing to the child's stdin. Write errors (EPIPE after the child
    /// died) are ignored; the exit is reported through `events`.
    func send(_ bytes: [UInt8]) {
        writer.async { [self] in
            let fd = stdinFD.withLock { $0 }
            guard fd >= 0 else { return }
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, base + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += n
                }
            }
        }
    }

    /// Closes the child's stdin after all queued writes (the child sees EOF).
    func closeStdin() {
        writer.async { [self] in
            stdinFD.withLock { fd in
                if fd >= 0 {
                    close(fd)
                    fd = -1
                }
            }
        }
    }

    /// Sends `sig` unless the child has already been reaped (or is being reaped).
    func signal(_ sig: Int32) {
        exitState.withLock { state in
            if state.status == nil {
                _ = kill(pid, sig)
            }
        }
    }

    /// Sends `sig` to the child's whole process group (the child and whatever it started that
    /// stayed in its group), unless the child has already been reaped: while the leader is an
    /// unreaped process its pid, and so the group id, cannot be recycled.
    func signalGroup(_ sig: Int32) {
        exitState.withLock { state in
            if state.status == nil {
                _ = kill(-pid, sig)
            }
        }
    }

    /// The exit status once reaped, nil while the child has not been reaped.
    var exitStatus: Int32? { exitState.withLock { $0.status } }

    /// Waits until the child has been reaped and returns its status, or nil after `timeout`.
    func waitExit(timeout: Duration? = nil) async -> Int32? {
        await withCheckedContinuation { (cont: CheckedContinuation<Int32?, Never>) in
            let outcome: (UInt64?, Int32?) = exitState.withLock { state in
                if let status = state.status { return (nil, status) }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = cont
                return (state.nextWaiter, nil)
            }
            switch outcome {
            case (nil, let status):
                cont.resume(returning: status)
            case (let id?, _):
                if let timeout {
                    DispatchQueue.global().asyncAfter(deadline: .now() + dispatchInterval(timeout)) { [self] in
                        let waiter = exitState.withLock { $0.waiters.removeValue(forKey: id) }
                        waiter?.resume(returning: nil)
                    }
                }
            }
        }
    }

    // MARK: - Reader thread

    private func readAndReap(fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var buffer: [UInt8] = []
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            var start = buffer.startIndex
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                emitLine(buffer[start..<newline])
                start = newline + 1
            }
            if start > buffer.startIndex {
                buffer.removeSubrange(buffer.startIndex..<start)
            }
        }
        if !buffer.isEmpty {
            emitLine(buffer[...])
        }
        close(fd)

        // stdout is closed: a well-behaved child is exiting. Give it a moment, then make sure.
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.eofGrace) { [self] in
            signalGroup(SIGKILL)
        }

        // Wait for the exit without reaping, so the pid cannot be recycled under `signal`.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            if errno != EINTR { break }
        }
        let (status, waiters) = exitState.withLock { state -> (Int32, [CheckedContinuation<Int32?, Never>]) in
            var raw: Int32 = 0
            var r: pid_t
            repeat {
                r = waitpid(pid, &raw, 0)
            } while r < 0 && errno == EINTR
            let status = r == pid ? Self.decodeWaitStatus(raw) : -1
            state.status = status
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            return (status, waiters)
        }
        closeStdin()
        for waiter in waiters {
            waiter.resume(returning: status)
        }
        sink.yield(.exited(status))
        sink.finish()
    }

    private func emitLine(_ bytes: ArraySlice<UInt8>) {
        var slice = bytes
        if slice.last == 0x0D { slice = slice.dropLast() }
        sink.yield(.line(String(decoding: slice, as: UTF8.self)))
    }

    /// Exit code for a normal exit, 128 + signal for a signal death.
    static func decodeWaitStatus(_ raw: Int32) -> Int32 {
        let sig = raw & 0x7F
        if sig == 0 { return (raw >> 8) & 0xFF }
        return 128 + sig
    }

    private static func aboveStdio(_ fd: Int32) -> Int32 {
        guard fd <= 2 else { return fd }
        let dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        return dup >= 0 ? dup : fd
    }
}

/// `pipe2` is not exported by the Glibc module (it needs `_GNU_SOURCE`), so it is looked up
/// dynamically. It creates both ends with `FD_CLOEXEC` atomically, so a child spawned
/// concurrently by another thread can never inherit them (which would keep a pipe open and
/// hide EOF). The fallback (`pipe` + `fcntl`) is only used if the symbol is missing.
private typealias Pipe2Function = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32

private let pipe2Function: Pipe2Function? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
    return unsafeBitCast(symbol, to: Pipe2Function.self)
}()

private func makeCloexecPipe(_ fds: inout [Int32]) -> Int32 {
    if let pipe2Function {
        return fds.withUnsafeMutableBufferPointer { pipe2Function($0.baseAddress, O_CLOEXEC) }
    }
    let rc = pipe(&fds)
    guard rc == 0 else { return rc }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return 0
}

func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

func dispatchInterval(_ d: Duration) -> DispatchTimeInterval {
    let (seconds, attoseconds) = d.components
    let nanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    return .nanoseconds(Int(max(0, nanos)))
}
