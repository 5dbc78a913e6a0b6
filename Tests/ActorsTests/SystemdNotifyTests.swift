import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Actors
#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket standing in for systemd's notification socket: bound to a fresh path
/// (or an abstract name), read without blocking.
final class NotifyListener: Sendable {
    /// What `NOTIFY_SOCKET` should say: the path, or `@name` for an abstract socket.
    let name: String
    private let fd: Int32
    private let path: String?

    init(abstract: Bool = false) throws {
        let unique = "sealer-notify-\(UUID().uuidString.prefix(8))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket(): errno \(errno)") }
        var bytes: [UInt8]
        if abstract {
            name = "@" + unique
            path = nil
            bytes = [0] + Array(unique.utf8)
        } else {
            // /tmp keeps the path well under sun_path's 108 bytes.
            let file = "/tmp/\(unique).sock"
            name = file
            path = file
            bytes = Array(file.utf8) + [0]
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count - (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestSetupError("bind(\(name)): errno \(errno)") }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, waiting up to `timeout`; nil when none came.
    func next(timeout: Duration = .seconds(30)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            if ContinuousClock.now > deadline { return nil }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Datagrams until one contains `text` (returned last); throws after `timeout`.
    func wait(for text: String, timeout: Duration = .seconds(30)) async throws -> [String] {
        var seen: [String] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = try await next(timeout: deadline - ContinuousClock.now) else { break }
            seen.append(message)
            if message.contains(text) { return seen }
        }
        throw TimedOut(what: "'\(text)' on \(name) (got \(seen))")
    }
}

@Suite("systemd notify")
struct SystemdNotifyTests {
    @Test("no NOTIFY_SOCKET, no notifier; a bad one is an error naming it")
    func environment() throws {
        #expect(try SystemdNotifier.from(environment: [:], log: quietLog) == nil)
        #expect(try SystemdNotifier.from(environment: ["NOTIFY_SOCKET": ""], log: quietLog) == nil)
        #expect(throws: SystemdNotifyError.self) { try SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "relative/path"], log: quietLog) }
        let long = "/" + String(repeating: "x", count: 200)
        do {
            _ = try SystemdNotifier.from(environment: ["NOTIFY_SOCKET": long], log: quietLog)
            Issue.record("accepted a 201-byte path")
        } catch {
            #expect("\(error)".hasPrefix("NOTIFY_SOCKET=\(long): longer than"))
        }
    }

    @Test("WATCHDOG_USEC sets a beat at half of it, unless WATCHDOG_PID names another process")
    func watchdogInterval() throws {
        let socket = ["NOTIFY_SOCKET": "/tmp/none.sock"]
        #expect(try SystemdNotifier.from(environment: socket, log: quietLog)?.watchdogInterval == nil)
        #expect(try SystemdNotifier.from(environment: socket.merging(["WATCHDOG_USEC": "30000000"]) { $1 }, log: quietLog)?.watchdogInterval == .seconds(15))
        #expect(try SystemdNotifier.from(environment: socket.merging(["WATCHDOG_USEC": "0"]) { $1 }, log: quietLog)?.watchdogInterval == nil)
        let mine = socket.merging(["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "\(getpid())"]) { $1 }
        #expect(try SystemdNotifier.from(environment: mine, log: quietLog)?.watchdogInterval == .microseconds(500))
        let other = socket.merging(["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "\(getpid() + 1)"]) { $1 }
        #expect(try SystemdNotifier.from(environment: other, log: quietLog)?.watchdogInterval == nil)
    }

    @Test("READY=1 (once) and STOPPING=1 reach a socket named by a path or an @abstract name", arguments: [false, true])
    func readyAndStopping(abstract: Bool) async throws {
        let listener = try NotifyListener(abstract: abstract)
        let notifier = try #require(try SystemdNotifier.from(environment: ["NOTIFY_SOCKET": listener.name], log: quietLog))
        notifier.ready(status: "sealing with 2 threads")
        notifier.ready(status: "again")
        notifier.stopping(status: "stopping")
        #expect(try await listener.next() == "READY=1\nSTATUS=sealing with 2 threads")
        #expect(try await listener.next() == "STOPPING=1\nSTATUS=stopping")
        #expect(try await listener.next(timeout: .milliseconds(50)) == nil)
        notifier.shutdown()
        #expect(!notifier.send("READY=1"))
    }

    @Test("a send to a socket nobody listens on fails quietly")
    func nobodyListening() throws {
        let notifier = try #require(try SystemdNotifier.from(environment: ["NOTIFY_SOCKET": "/tmp/sealer-nobody-\(UUID().uuidString.prefix(8))"], log: quietLog))
        #expect(!notifier.send("READY=1"))
    }

    @Test("the watchdog beats while the probe answers, skips while it hangs, and resumes after")
    func watchdog() async throws {
        let listener = try NotifyListener()
        let environment = ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "40000"]
        let notifier = try #require(try SystemdNotifier.from(environment: environment, log: quietLog))
        let gate = ProbeGate()
        let lowest = Mutex<UInt8>(.max)
        notifier.startWatchdog {
            lowest.withLock { $0 = min($0, Task.currentPriority.rawValue) }
            await gate.pass()
        }
        for _ in 0..<3 { #expect(try await listener.next() == "WATCHDOG=1") }
        // Probes run at high priority, ahead of default-priority work queued for the pool.
        #expect(lowest.withLock { $0 } >= TaskPriority.high.rawValue)
        gate.close()
        // Beats already probed may still land; then none while the probe hangs.
        try await Task.sleep(for: .milliseconds(100))
        while try await listener.next(timeout: .zero) != nil {}
        #expect(try await listener.next(timeout: .milliseconds(200)) == nil, "a beat while the probe hangs")
        gate.open()
        #expect(try await listener.next() == "WATCHDOG=1")
        notifier.shutdown()
        try await Task.sleep(for: .milliseconds(100))
        while try await listener.next(timeout: .zero) != nil {}
        #expect(try await listener.next(timeout: .milliseconds(100)) == nil, "a beat after shutdown")
    }
}

/// A probe that answers at once while open and hangs while closed, until opened again.
final class ProbeGate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((true, []))

    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func close() { state.withLock { $0.open = false } }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
