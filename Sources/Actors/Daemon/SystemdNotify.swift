import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the systemd notification socket cannot be used.
public struct SystemdNotifyError: Error, Sendable, CustomStringConvertible {
    /// The `NOTIFY_SOCKET` value.
    public var socket: String
    /// What went wrong.
    public var reason: String
    public var description: String { "NOTIFY_SOCKET=\(socket): \(reason)" }
}

/// The sd_notify protocol without libsystemd: datagrams such as `READY=1` sent to the Unix
/// socket named by `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket), and a watchdog
/// that sends `WATCHDOG=1` every `$WATCHDOG_USEC`/2 while the daemon answers.
///
/// The environment is passed in, never read from the process, so tests inject their own socket.
/// Sends never block: a full or missing socket costs a message, never the daemon.
public final class SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET` as given.
    public let socketName: String
    /// How often the watchdog beats (half of `$WATCHDOG_USEC`); nil when systemd expects none
    /// (unset, zero, or `$WATCHDOG_PID` names another process).
    public let watchdogInterval: Duration?
    private let fd: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t
    private let log: Log
    private let state = Mutex(State())

    private struct State {
        var readySent = false
        var watchdog: Task<Void, Never>?
        var closed = false
    }

    /// A notifier for the socket `environment["NOTIFY_SOCKET"]` names; nil when it is unset or
    /// empty (not under systemd, or `Type=` other than `notify`).
    public static func from(environment: [String: String], log: Log) throws(SystemdNotifyError) -> SystemdNotifier? {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let pid = environment["WATCHDOG_PID"].flatMap { Int32($0) }
            if pid == nil || pid == getpid() { interval = .microseconds(usec / 2) }
        }
        return try SystemdNotifier(socket: name, watchdogInterval: interval, log: log)
    }

    init(socket name: String, watchdogInterval: Duration?, log: Log) throws(SystemdNotifyError) {
        var bytes = Array(name.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        guard abstract || bytes.first == UInt8(ascii: "/") else {
            throw SystemdNotifyError(socket: name, reason: "not an absolute path or @abstract name")
        }
        if abstract { bytes[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its terminating NUL; an abstract name is exactly its bytes.
        guard bytes.count < capacity || (abstract && bytes.count == capacity) else {
            throw SystemdNotifyError(socket: name, reason: "longer than a Unix socket address (\(capacity - 1) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        addressLength = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        self.address = address
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            throw SystemdNotifyError(socket: name, reason: "socket(): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        socketName = name
        self.watchdogInterval = watchdogInterval
        self.log = log
    }

    deinit {
        close(fd)
    }

    /// Sends one notification (`READY=1`, or several `KEY=value` lines); false when it was not
    /// delivered (logged at debug level: systemd may simply not be listening).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        let bytes = Array(message.utf8)
        var address = self.address
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, addressLength) }
            }
        }
        if sent != bytes.count {
            let reason = sent < 0 ? String(cString: strerror(errno)) : "short send"
            log.debug("systemd notification not sent to \(socketName): \(reason)", [("notify", message.replacingOccurrences(of: "\n", with: " "))])
            return false
        }
        return true
    }

    /// `READY=1` (once; later calls do nothing) with a `STATUS=` line.
    public func ready(status: String) {
        let first = state.withLock { state in
            defer { state.readySent = true }
            return !state.readySent
        }
        guard first else { return }
        send("READY=1\nSTATUS=\(status)")
    }

    /// `STOPPING=1` with a `STATUS=` line.
    public func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(status)")
    }

    /// Beats `WATCHDOG=1` every `watchdogInterval` for as long as `probe` answers within half
    /// of it; a beat whose probe is late is skipped (logged), and no new probe starts while a
    /// late one is still out, so a wedged daemon stops beating and systemd restarts it. Does
    /// nothing without a watchdog interval, or when already started.
    public func startWatchdog(probe: @escaping @Sendable () async -> Void) {
        guard let interval = watchdogInterval else { return }
        state.withLock { state in
            guard state.watchdog == nil, !state.closed else { return }
            // `.high`, with the probe and its timer inheriting it: the beat should say whether
            // the supervisor answers, not how long default-priority work queues for the pool; a
            // busy but healthy daemon that systemd restarted would lose its stages in flight.
            state.watchdog = Task(priority: .high) { [weak self] in
                let outstanding = Flag()
                let clock = ContinuousClock()
                var next = clock.now
                while !Task.isCancelled {
                    guard let self else { return }
                    if outstanding.value.withLock({ $0 }) {
                        self.log.warn("watchdog: the supervisor has not answered the previous probe; beat skipped")
                    } else if await Self.answers(within: interval / 2, outstanding: outstanding, probe) {
                        self.send("WATCHDOG=1")
                    } else {
                        self.log.warn("watchdog: the supervisor did not answer within \(interval / 2); beat skipped")
                    }
                    next = next + interval
                    do { try await Task.sleep(until: max(next, clock.now), clock: clock) } catch { return }
                }
            }
        }
    }

    /// Stops the watchdog; later sends do nothing.
    public func shutdown() {
        let task = state.withLock { state in
            state.closed = true
            defer { state.watchdog = nil }
            return state.watchdog
        }
        task?.cancel()
    }

    /// Whether `probe` returns within `bound`. The probe runs in its own task and `outstanding`
    /// stays true until it returns, however late.
    private static func answers(within bound: Duration, outstanding: Flag, _ probe: @escaping @Sendable () async -> Void) async -> Bool {
        outstanding.value.withLock { $0 = true }
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            once.set(continuation)
            Task {
                await probe()
                outstanding.value.withLock { $0 = false }
                once.resume(true)
            }
            Task {
                try? await Task.sleep(for: bound)
                once.resume(false)
            }
        }
    }

    /// Whether a probe is out.
    private final class Flag: Sendable {
        let value = Mutex(false)
    }

    /// A continuation resumed by whichever of two tasks comes first.
    private final class Once: Sendable {
        private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        func set(_ value: CheckedContinuation<Bool, Never>) { continuation.withLock { $0 = value } }
        func resume(_ value: Bool) { continuation.withLock { $0.take() }?.resume(returning: value) }
    }
}
