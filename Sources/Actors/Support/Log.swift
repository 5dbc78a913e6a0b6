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

        /// The level named as `SEALER_LOG` and `--log-level` spell it (`debug`, `info`, `warn`,
        /// `error`); nil for anything else.
        public init?(name: String) {
            switch name {
            case "debug": self = .debug
            case "info": self = .info
            case "warn": self = .warn
            case "error": self = .error
            default: return nil
            }
        }

        /// The lowercase name (`info`), as JSON lines carry it.
        public var name: String { rawValue.lowercased() }
    }

    /// How a line is written.
    public enum Format: String, Sendable {
        /// `2026-01-02T03:04:05.678Z INFO  thread=3 message`: for people.
        case text
        /// One JSON object per line, `{"time":…,"level":"info","msg":…,"thread":"3"}`: for log
        /// collectors. Every field is a string.
        case json
    }

    /// A `SEALER_LOG` or `SEALER_LOG_FORMAT` value the logger does not understand.
    public struct SettingError: Error, Sendable, CustomStringConvertible {
        /// The environment variable.
        public var variable: String
        /// Its value.
        public var value: String
        /// What it accepts.
        public var expected: String
        public var description: String { "\(variable) expects \(expected), got '\(value)'" }
    }

    /// The variable naming the minimum level: `debug`, `info` (the default), `warn` or `error`.
    public static let levelVariable = "SEALER_LOG"
    /// The variable naming the format: `text` (the default) or `json`.
    public static let formatVariable = "SEALER_LOG_FORMAT"

    /// A logger to `fd` configured by `SEALER_LOG` and `SEALER_LOG_FORMAT` in `environment`
    /// (passed explicitly, usually `ProcessInfo.processInfo.environment`); an unset or empty
    /// variable keeps its default.
    public static func configured(by environment: [String: String], fd: Int32 = 2) throws(SettingError) -> Log {
        var log = Log(fd: fd)
        if let value = environment[levelVariable], !value.isEmpty {
            guard let level = Level(name: value) else {
                throw SettingError(variable: levelVariable, value: value, expected: "debug, info, warn or error")
            }
            log.minimum = level
        }
        if let value = environment[formatVariable], !value.isEmpty {
            guard let format = Format(rawValue: value) else {
                throw SettingError(variable: formatVariable, value: value, expected: "text or json")
            }
            log.format = format
        }
        return log
    }

    /// Lines below this level are dropped.
    public var minimum: Level
    /// The file descriptor each line is written to; 2 (stderr) by default, -1 drops every line.
    public var fd: Int32
    /// Fields every line of this logger carries (`thread=3`).
    public var fields: [(String, String)] = []
    /// Text (the default) or JSON lines.
    public var format: Format

    /// A logger writing lines at `minimum` and above to `fd` (stderr unless told otherwise).
    public init(minimum: Level = .info, fd: Int32 = 2, format: Format = .text) {
        self.minimum = minimum
        self.fd = fd
        self.format = format
    }

    /// A logger that adds `key=value` to each line.
    public func with(_ key: String, _ value: String) -> Log {
        var copy = self
        copy.fields.append((key, value))
        return copy
    }

    // Each level takes the message, `extra` fields for this line, and `structured` fields only
    // JSON lines carry: those the text message already spells out (a transition's
    // `from --event--> to`), so text lines stay as they read.

    /// Logs `message` at debug level.
    public func debug(_ message: @autoclosure () -> String, _ extra: [(String, String)] = [], structured: [(String, String)] = []) {
        emit(.debug, message, extra, structured)
    }
    /// Logs `message` at info level.
    public func info(_ message: @autoclosure () -> String, _ extra: [(String, String)] = [], structured: [(String, String)] = []) {
        emit(.info, message, extra, structured)
    }
    /// Logs `message` at warn level.
    public func warn(_ message: @autoclosure () -> String, _ extra: [(String, String)] = [], structured: [(String, String)] = []) {
        emit(.warn, message, extra, structured)
    }
    /// Logs `message` at error level.
    public func error(_ message: @autoclosure () -> String, _ extra: [(String, String)] = [], structured: [(String, String)] = []) {
        emit(.error, message, extra, structured)
    }

    private func emit(_ level: Level, _ message: () -> String, _ extra: [(String, String)], _ structured: [(String, String)]) {
        guard level >= minimum else { return }
        let line = switch format {
        case .text: textLine(level, message(), extra)
        case .json: jsonLine(level, message(), extra + structured)
        }
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

    private func textLine(_ level: Level, _ message: String, _ extra: [(String, String)]) -> String {
        var line = Self.timestamp() + " " + level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
        for (key, value) in fields + extra { line += " \(key)=\(Self.quote(value))" }
        return line + " " + message.replacingOccurrences(of: "\n", with: "\\n") + "\n"
    }

    /// `{"time":…,"level":…,"msg":…}` then each field in order; a field named like one of those
    /// three is written as `field.<name>` so it cannot hide them.
    private func jsonLine(_ level: Level, _ message: String, _ extra: [(String, String)]) -> String {
        var line = "{\"time\":\"" + Self.timestamp() + "\",\"level\":\"" + level.name + "\",\"msg\":" + Self.jsonString(message)
        for (key, value) in fields + extra {
            let name = ["time", "level", "msg"].contains(key) ? "field." + key : key
            line += "," + Self.jsonString(name) + ":" + Self.jsonString(value)
        }
        return line + "}\n"
    }

    /// `value` as a JSON string literal: quotes, backslashes and control characters escaped, so
    /// a line never breaks in two.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
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
