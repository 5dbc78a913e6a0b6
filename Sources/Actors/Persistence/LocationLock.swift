import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a location could not be taken.
public enum LocationLockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another thread (of this daemon or another process) owns the location.
    case held(location: String, owner: String?)
    case io(location: String, reason: String)

    public var description: String {
        switch self {
        case let .held(location, owner):
            "location \(location) is in use by another sealing thread" + (owner.map { " (\($0))" } ?? "")
                + "; two threads must never seal in one location"
        case let .io(location, reason): "cannot lock location \(location): \(reason)"
        }
    }
}

/// Exclusive ownership of a sealing location: an `flock` on `<location>/meta/lock`, taken before
/// anything of the location is read and held for the thread's life, so two threads (of one
/// daemon or of two daemons on one config) never run one location. The lock file names its
/// owner (pid and thread) for the refused one's message; the lock itself is the kernel's, and
/// goes with the process however it ends.
public final class LocationLock: Sendable {
    public let location: String
    private let fd: Int32

    private init(location: String, fd: Int32) {
        self.location = location
        self.fd = fd
    }

    /// Takes the location's lock; `patience` bounds how long a brief holder is waited out (a
    /// child forked elsewhere in this process shares the descriptor until it execs).
    public static func take(location: String, owner: String, patience: Duration = .zero) throws(LocationLockError) -> LocationLock {
        let meta = location + "/meta"
        do {
            try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
        } catch {
            throw .io(location: location, reason: "cannot create \(meta): \(error.localizedDescription)")
        }
        let path = meta + "/lock"
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(location: location, reason: "open \(path): \(String(cString: strerror(errno)))") }
        let deadline = ContinuousClock.now + patience
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK, ContinuousClock.now < deadline {
                // Callers with patience run this off the cooperative pool (`offload`); a forked
                // child lets go of the shared descriptor when it execs, within milliseconds.
                usleep(10_000)
                continue
            }
            let holder = Self.readOwner(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .held(location: location, owner: holder) }
            throw .io(location: location, reason: "flock \(path): \(String(cString: strerror(code)))")
        }
        let text = Array((owner + "\n").utf8)
        if ftruncate(fd, 0) == 0 {
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return LocationLock(location: location, fd: fd)
    }

    private static func readOwner(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    deinit { close(fd) }
}
