import Foundation
import Testing
@testable import Actors
#if canImport(Glibc)
import Glibc
#endif

/// The operator log: stderr by default, one whole line per event.
@Suite("Operator log")
struct LogTests {
    @Test("a logger writes to stderr unless told otherwise, so stdout carries only a command's output")
    func defaultsToStderr() {
        #expect(Log().fd == 2)
        #expect(Log(minimum: .warn).fd == 2)
    }

    @Test("each event is one line with level, fields and an escaped message; lines below the minimum are dropped")
    func lines() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var log = Log(minimum: .info, fd: fds[1]).with("thread", "3")
        log.debug("not shown")
        log.info("first\nsecond", [("sector", "s-t01-1")])
        log.minimum = .error
        log.warn("not shown either")
        log.error("with \"quotes\"", [("note", "two words")])
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines[0].hasSuffix(" INFO  thread=3 sector=s-t01-1 first\\nsecond"), "\(lines[0])")
        #expect(lines[1].hasSuffix(" ERROR thread=3 note=\"two words\" with \"quotes\""), "\(lines[1])")
        #expect(lines[2].isEmpty)
    }

    /// Everything written to a pipe by `body`.
    func captured(_ body: (Int32) -> Void) -> [String] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        body(fds[1])
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("SEALER_LOG sets the minimum level and SEALER_LOG_FORMAT the format; unset or empty keeps the defaults")
    func configured() throws {
        #expect(try Log.configured(by: [:]).minimum == .info)
        #expect(try Log.configured(by: [:]).format == .text)
        #expect(try Log.configured(by: ["SEALER_LOG": "", "SEALER_LOG_FORMAT": ""]).minimum == .info)
        for (name, level) in [("debug", Log.Level.debug), ("info", .info), ("warn", .warn), ("error", .error)] {
            #expect(try Log.configured(by: ["SEALER_LOG": name]).minimum == level)
        }
        #expect(try Log.configured(by: ["SEALER_LOG_FORMAT": "json"]).format == .json)
        #expect(try Log.configured(by: ["SEALER_LOG_FORMAT": "text"]).format == .text)
        #expect(try Log.configured(by: [:], fd: 7).fd == 7)
    }

    @Test("an unknown SEALER_LOG or SEALER_LOG_FORMAT is an error naming the variable, its value and what it accepts")
    func badSettings() {
        do {
            _ = try Log.configured(by: ["SEALER_LOG": "loud"])
            Issue.record("accepted SEALER_LOG=loud")
        } catch {
            #expect(error.variable == "SEALER_LOG")
            #expect("\(error)" == "SEALER_LOG expects debug, info, warn or error, got 'loud'")
        }
        do {
            _ = try Log.configured(by: ["SEALER_LOG": "info", "SEALER_LOG_FORMAT": "xml"])
            Issue.record("accepted SEALER_LOG_FORMAT=xml")
        } catch {
            #expect("\(error)" == "SEALER_LOG_FORMAT expects text or json, got 'xml'")
        }
    }

    @Test("levels filter: each minimum keeps its own level and those above", arguments: [Log.Level.debug, .info, .warn, .error])
    func levelsFilter(minimum: Log.Level) {
        let lines = captured { fd in
            let log = Log(minimum: minimum, fd: fd)
            log.debug("d")
            log.info("i")
            log.warn("w")
            log.error("e")
        }
        let expected = [Log.Level.debug, .info, .warn, .error].filter { $0 >= minimum }.map(\.rawValue)
        #expect(lines.map { $0.split(separator: " ")[1] }.map(String.init) == expected, "\(lines)")
    }

    @Test("structured fields appear only in JSON lines: the text line reads as before")
    func textIgnoresStructured() {
        let lines = captured { fd in
            Log(fd: fd).with("thread", "1").info("Empty --Allocate--> Allocated", [("sector", "s-t01-1")], structured: [("event", "Allocate")])
        }
        #expect(lines.count == 1)
        #expect(lines[0].hasSuffix(" INFO  thread=1 sector=s-t01-1 Empty --Allocate--> Allocated"), "\(lines)")
    }

    @Test("JSON lines: one object per line with time, level, msg and every field; Python's json parses each")
    func jsonLines() async throws {
        let lines = captured { fd in
            var log = Log(minimum: .info, fd: fd, format: .json).with("thread", "3")
            log.debug("not shown")
            log.info("first\nsecond \"quoted\" back\\slash \u{1}ctl tab\t ünï", [("sector", "s-t01-1")])
            log.info("Empty --Allocate--> Allocated", [("plan", "sealer")], structured: [("event", "Allocate"), ("from", "Empty"), ("to", "Allocated")])
            log.minimum = .warn
            log.info("not shown either")
            log.warn("clash", [("msg", "a field named msg")])
        }
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.allSatisfy { $0.hasPrefix("{\"time\":\"") && $0.hasSuffix("}") }, "\(lines)")
        let script = """
        import json, sys
        out = []
        for line in sys.stdin.read().splitlines():
            obj = json.loads(line)
            assert isinstance(obj, dict), line
            out.append(obj)
        print(json.dumps(out, sort_keys=True))
        """
        let result = try await runHTTPTestTool("python3", ["-c", script], stdin: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
        #expect(objects.count == 3)
        guard objects.count == 3 else { return }
        #expect(objects[0]["level"] == "info")
        #expect(objects[0]["msg"] == "first\nsecond \"quoted\" back\\slash \u{1}ctl tab\t ünï")
        #expect(objects[0]["thread"] == "3")
        #expect(objects[0]["sector"] == "s-t01-1")
        #expect(objects[0]["time"]?.hasSuffix("Z") == true)
        #expect(objects[1]["event"] == "Allocate")
        #expect(objects[1]["from"] == "Empty")
        #expect(objects[1]["to"] == "Allocated")
        #expect(objects[1]["plan"] == "sealer")
        #expect(objects[1]["msg"] == "Empty --Allocate--> Allocated")
        #expect(objects[2]["level"] == "warn")
        #expect(objects[2]["msg"] == "clash")
        #expect(objects[2]["field.msg"] == "a field named msg")
    }
}
