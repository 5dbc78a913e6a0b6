import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Operator log: one line per event, written with a single `write(2)` so lines are never
/// interleaved or held in a buffer, also when the output is a file or a pipe.
///
/// Lines go to stderr (fd 2) unless told otherwise, as damocles-worker's do: stdout carries
/// only a command's output (the effective config, `worker list`, JSON), so it can be redirected
/// to a file or piped into another tool without log lines mixed in.
public struct Log: Sendable {
    public enum Level: String, Sendable, Comparable {
        case debug = "DEBUG", info = "INFO", warn = "WARN", error = "ERROR"
        var rank: Int {
            switch self {
            case .debug: 0
            case .info: 1
            case .warn: 2
            case .error: 3
            }
        }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    /// Lines below this level are dropped.
    public var minimum: Level
    /// The file descriptor each line is written to; 2 (stderr) by default, -1 drops every line.
    public var fd: Int32
    /// Fields every line of this logger carries (`thread=3`).
    public var fields: [(String, String)] = []

    /// A logger writing lines at `minimum` and above to `fd` (stderr unless told otherwise).
    public init(minimum: Level = .info, fd: Int32 = 2) {
        self.minimum = minimum
        self.fd = fd
    }

    /// A logger that adds `key=value` to each line.
    public func with(_ key: String, _ value: String) -> Log {
        var copy = self
        copy.fields.append((key, value))
        return copy
    }

    public func debug(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) { emit(.debug, message, extra) }
    public func info(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) { emit(.info, message, extra) }
    public func warn(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) { emit(.warn, message, extra) }
    public func error(_ message: @autoclosure () -> String, _ extra: [(String, String)] = []) { emit(.error, message, extra) }

    private func emit(_ level: Level, _ message: () -> String, _ extra: [(String, String)]) {
        guard level >= minimum else { return }
        var line = Self.timestamp() + " " + level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
        for (key, value) in fields + extra { line += " \(key)=\(Self.quote(value))" }
        line += " " + message().replacingOccurrences(of: "\n", with: "\\n") + "\n"
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                if n < 0, errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    static func quote(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : value
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
