import Foundation
import ProofsFFI
import Synchronization
import TestSupport
import Testing

import Actors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Crash tests: spawn the built `persist-torture` child, SIGKILL it at a pseudo-random point,
// then check that everything it acknowledged on stdout is durable and readable.
//
// The child is found next to the test executable (`.build/<triple>/<config>/`), then under
// the package's `.build/debug` / `.build/release` (located from `#filePath`); the environment
// variable PERSIST_TORTURE_BIN overrides both. `swift build` builds it before `swift test`.
// SectorPersisterTests shares `tortureBinary`, `spawn` and `LineReader`.

/// Failure with a message, for the crash harness.
struct TortureFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Identical copy of `torturePad(seq:)` in Sources/persist-torture/main.swift.
private func torturePad(seq: Int) -> String {
    var state = UInt64(truncatingIfNeeded: seq) &* 0x9E37_79B9_7F4A_7C15
    let digits = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(4096)
    for _ in 0..<256 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(digits[Int((z >> UInt64(shift)) & 0xF)])
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The path of the built child program, or nil.
func tortureBinary() -> String? {
    let fileManager = FileManager.default
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["PERSIST_TORTURE_BIN"], !explicit.isEmpty {
        candidates.append(explicit)
    }
    let executable =
        (try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    for _ in 0..<4 {  // Linux: <config>/X.xctest; macOS: <config>/X.xctest/Contents/MacOS/X
        candidates.append(directory.appendingPathComponent("persist-torture").path)
        directory = directory.deletingLastPathComponent()
    }
    let package = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for configuration in ["debug", "release"] {
        candidates.append(package.appendingPathComponent(".build/\(configuration)/persist-torture").path)
    }
    return candidates.first { fileManager.isExecutableFile(atPath: $0) }
}

/// A running child whose stdout is a pipe.
struct Child {
    let pid: pid_t
    let stdout: Int32
}

/// Serializes pipe creation and spawning: between `pipe` and `fcntl(FD_CLOEXEC)` a child
/// spawned by a concurrently running test would inherit the write end and keep our pipe open.
private let spawnLock = Mutex(())

func spawn(_ binary: String, _ arguments: [String], stderrPath: String) throws -> Child {
    try spawnLock.withLock { _ in try spawnLocked(binary, arguments, stderrPath: stderrPath) }
}

private func spawnLocked(_ binary: String, _ arguments: [String], stderrPath: String) throws -> Child {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw TortureFailure("pipe failed: errno \(errno)") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, binary, &actions, nil, argv, envp)
    close(fds[1])
    guard result == 0 else {
        close(fds[0])
        throw TortureFailure("posix_spawn \(binary) failed: \(String(cString: strerror(result)))")
    }
    return Child(pid: pid, stdout: fds[0])
}

/// Reads newline-terminated lines from a pipe, with a timeout per wait.
struct LineReader {
    let fd: Int32
    var pending: [UInt8] = []
    var atEnd = false

    /// The next complete line, or nil at end of file. A partial last line is dropped.
    mutating func nextLine(timeoutMilliseconds: Int32 = 20_000) throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            if atEnd { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw TortureFailure("poll failed: errno \(errno)")
            }
            if ready == 0 { throw TortureFailure("the child wrote nothing for \(timeoutMilliseconds) ms") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TortureFailure("read from the child failed: errno \(errno)")
            }
            if count == 0 { atEnd = true } else { pending.append(contentsOf: chunk[0..<count]) }
        }
    }
}

private struct StateDocument: Decodable {
    let seq: Int
    let pad: String
}

private struct JournalRecord: Decodable {
    let seq: Int
}

/// What the child acknowledged before it died.
private struct Acknowledged {
    var lastState = 0
    var lastOk = 0

    mutating func take(_ line: String) throws {
        let parts = line.split(separator: " ")
        guard parts.count == 2, let value = Int(parts[1]) else { throw TortureFailure("unexpected line \(line)") }
        switch parts[0] {
        case "state":
            guard value == lastState + 1, lastOk == lastState else { throw TortureFailure("out of order: \(line)") }
            lastState = value
        case "ok":
            guard value == lastOk + 1, value == lastState else { throw TortureFailure("out of order: \(line)") }
            lastOk = value
        default:
            throw TortureFailure("unexpected line \(line)")
        }
    }
}

@Suite("Crash torture (kill -9)")
struct CrashTortureTests {
    @Test("state and journal survive SIGKILL at pseudo-random points", arguments: 0..<30)
    func killAndVerify(seed: Int) async throws {
        try await runBlocking { try Self.verifyKill(seed: seed) }
    }

    /// Blocks on the child's pipe: call through `runBlocking`.
    static func verifyKill(seed: Int) throws {
        guard let binary = tortureBinary() else {
            let message =
                "persist-torture binary not found next to the test executable or under .build/; "
                + "build it first with `swift build` (or set PERSIST_TORTURE_BIN)"
            Issue.record(Comment(rawValue: message))
            return
        }
        var generator = SplitMix64(seed: 0x5EA1_E500 &+ UInt64(seed))  // the same kill points every run
        // Lines to wait for before the kill (each iteration prints "state i" then "ok i"),
        // then a further random delay so the kill lands anywhere inside an iteration.
        // Every sixth run kills within the first 15 ms instead: during start-up, journal
        // creation or the first iterations.
        let early = seed % 6 == 0
        let killAfterLines = early ? 0 : Int(generator.next() % 121)
        let delayMicroseconds = UInt32(generator.next() % (early ? 15_000 : 1500))

        var template = Array((FileManager.default.temporaryDirectory.path + "/persist-torture-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw TortureFailure("mkdtemp failed: errno \(errno)") }
        let directory = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The child's stderr goes outside its state directory.
        let stderrPath = directory + ".stderr"
        defer { try? FileManager.default.removeItem(atPath: stderrPath) }
        let work = directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)

        let child = try spawn(binary, [work, "100000000"], stderrPath: stderrPath)
        var reader = LineReader(fd: child.stdout)
        defer { close(child.stdout) }
        var acknowledged = Acknowledged()
        var killed = false
        defer { if !killed { kill(child.pid, SIGKILL); var status: Int32 = 0; waitpid(child.pid, &status, 0) } }

        var seen = 0
        while seen < killAfterLines, let line = try reader.nextLine() {
            try acknowledged.take(line)
            seen += 1
        }
        // A sub-line delay so the kill lands mid-write rather than just after an acknowledgement.
        if delayMicroseconds > 0 { usleep(delayMicroseconds) }
        kill(child.pid, SIGKILL)
        killed = true
        // Lines the child printed before dying are still in the pipe: they count too.
        while let line = try reader.nextLine() { try acknowledged.take(line) }
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        let stderrText = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let signal = status & 0x7F
        #expect(signal == SIGKILL, "child did not die from SIGKILL (status \(status)); stderr: \(stderrText)")

        let context = "seed \(seed): killed after \(killAfterLines) lines + \(delayMicroseconds) µs; "
            + "last acknowledged state \(acknowledged.lastState), ok \(acknowledged.lastOk)"

        // The state file: the last completed write, whole, at least as new as acknowledged.
        let stateFile = DurableFile(path: work + "/state")
        let stateSeq: Int
        if let payload = try stateFile.read() {
            let document = try JSONDecoder().decode(StateDocument.self, from: Data(payload))
            #expect(document.pad == torturePad(seq: document.seq), "\(context): pad does not match seq")
            #expect(document.seq >= acknowledged.lastState, "\(context): state seq \(document.seq) lost an acknowledged write")
            stateSeq = document.seq
        } else {
            #expect(acknowledged.lastState == 0, "\(context): acknowledged state file is missing")
            stateSeq = 0
        }

        // The journal: records 1...k contiguous, k ≥ last acknowledged append, torn tail allowed.
        let historyPath = work + "/history"
        guard FileManager.default.fileExists(atPath: historyPath) else {
            #expect(acknowledged.lastOk == 0 && stateSeq == 0, "\(context): journal missing")
            return
        }
        let contents = try Journal.read(path: historyPath)
        let seqs = try contents.records.map { try JSONDecoder().decode(JournalRecord.self, from: Data($0)).seq }
        let count = seqs.count
        #expect(seqs == Array(1..<(count + 1)), "\(context): journal not contiguous: \(seqs.suffix(5))")
        #expect(count >= acknowledged.lastOk, "\(context): journal has \(count) records, lost an acknowledged append")
        // Record i is appended only after state write i completed, and state write i+1 only
        // after append i: so the state is exactly k or k + 1.
        #expect(stateSeq == count || stateSeq == count + 1, "\(context): state \(stateSeq) vs journal \(count)")

        // Recovery: a torn tail is moved aside, and the journal accepts appends again.
        let journal = try Journal(path: historyPath)
        #expect(journal.recovered == contents.tornTail, "\(context)")
        if let torn = contents.tornTail {
            let preserved = try #require(journal.tornBytesPath)
            let attributes = try FileManager.default.attributesOfItem(atPath: preserved)
            #expect((attributes[.size] as? NSNumber)?.intValue == torn.byteCount, "\(context)")
        }
        try journal.append(Array("{\"seq\": \(count + 1)}".utf8))
        journal.close()
        let after = try Journal.read(path: historyPath)
        #expect(after.tornTail == nil && after.records.count == count + 1, "\(context)")

        // Stray temporaries from an interrupted state write are removable and the state still reads.
        try stateFile.removeStaleTemporaries()
        let names = try FileManager.default.contentsOfDirectory(atPath: work)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(context): \(names)")
        if stateSeq > 0 {
            let payload = try #require(try stateFile.read())
            #expect(try JSONDecoder().decode(StateDocument.self, from: Data(payload)).seq == stateSeq)
        }
    }
}
