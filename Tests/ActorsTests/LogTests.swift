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
}
