import Foundation
import TestSupport
import Testing

import Actors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func record(_ seq: Int) -> [UInt8] {
    Array("{\"seq\": \(seq), \"event\": \"PreCommit1Done\"}".utf8)
}

/// Writes a journal holding `records` at `path` and returns its bytes.
private func makeJournal(_ path: String, _ records: [[UInt8]]) throws -> [UInt8] {
    let journal = try Journal(path: path)
    for item in records { try journal.append(item) }
    journal.close()
    return try rawBytes(path)
}

/// Runs `body`, expecting `PersistenceError.corrupt` for `path`; returns the reason.
@discardableResult
private func expectCorrupt(
    path: String, _ body: () throws(PersistenceError) -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> String? {
    do {
        try body()
        Issue.record("expected a corrupt error for \(path), got success", sourceLocation: sourceLocation)
        return nil
    } catch {
        guard case .corrupt(let reportedPath, let reason) = error else {
            Issue.record("expected a corrupt error for \(path), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(reportedPath == path, sourceLocation: sourceLocation)
        return reason
    }
}

@Suite("Journal")
struct JournalTests {
    @Test("a new journal holds only its header; appended records read back in order")
    func roundTrip() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            let journal = try Journal(path: path)
            #expect(journal.recovered == nil)
            #expect(journal.tornBytesPath == nil)
            #expect(try rawBytes(path) == Array("SEALJRNL".utf8) + [1, 0, 0, 0])
            #expect(try Journal.read(path: path) == JournalContents(records: [], tornTail: nil))
            let records = (1...20).map(record) + [[]]
            for item in records { try journal.append(item) }
            #expect(try Journal.read(path: path) == JournalContents(records: records, tornTail: nil))
            journal.close()

            let reopened = try Journal(path: path)
            #expect(reopened.recovered == nil)
            try reopened.append(record(21))
            reopened.close()
            #expect(try Journal.read(path: path).records == records + [record(21)])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["history"])
        }
    }

    @Test("a torn final record at every cut point is recovered, preserved and appendable")
    func tornTailAtEveryCut() throws {
        try withTemporaryDirectory { (directory) throws in
            let records = [record(1), record(2), record(3)]
            let image = try makeJournal(directory + "/template", records)
            let lastFrame = 12 + records[2].count
            let lastOffset = image.count - lastFrame
            for cut in 1..<lastFrame {
                let path = directory + "/history-\(cut)"
                try writeRaw(Array(image[0..<(lastOffset + cut)]), to: path)

                let contents = try Journal.read(path: path)
                #expect(contents.records == [record(1), record(2)], "cut \(cut)")
                let tail = try #require(contents.tornTail, "cut \(cut)")
                #expect(tail.offset == lastOffset)
                #expect(tail.byteCount == cut)
                #expect(tail.reason.contains("cut short"), "cut \(cut): \(tail.reason)")

                let journal = try Journal(path: path)
                #expect(journal.recovered == tail)
                #expect(journal.tornBytesPath == "\(path).torn-\(lastOffset)")
                #expect(try rawBytes("\(path).torn-\(lastOffset)") == Array(image[lastOffset..<(lastOffset + cut)]))
                #expect(try rawBytes(path) == Array(image[0..<lastOffset]))
                try journal.append(record(4))
                journal.close()
                #expect(try Journal.read(path: path) == JournalContents(records: [record(1), record(2), record(4)], tornTail: nil))
            }
        }
    }

    @Test("a damaged or garbage-filled final record with nothing valid after it is a torn tail")
    func damagedFinalRecord() throws {
        try withTemporaryDirectory { (directory) throws in
            let records = [record(1), record(2)]
            let path = directory + "/history"
            let image = try makeJournal(path, records)
            let lastOffset = image.count - (12 + records[1].count)

            var flipped = image
            flipped[image.count - 2] ^= 0x10
            try writeRaw(flipped, to: path)
            let contents = try Journal.read(path: path)
            #expect(contents.records == [record(1)])
            #expect(contents.tornTail?.offset == lastOffset)
            #expect(contents.tornTail?.reason.contains("payload checksum mismatch") == true)

            // Zeros after the last record (a file extended but never written, as after power loss).
            try writeRaw(image + [UInt8](repeating: 0, count: 100), to: path)
            let zeros = try Journal.read(path: path)
            #expect(zeros.records == records)
            #expect(zeros.tornTail == TornTail(offset: image.count, byteCount: 100, reason: zeros.tornTail?.reason ?? ""))
            let journal = try Journal(path: path)
            #expect(journal.recovered?.byteCount == 100)
            journal.close()
            #expect(try Journal.read(path: path) == JournalContents(records: records, tornTail: nil))
        }
    }

    @Test("a damaged record followed by valid records is corruption, and the file is left untouched")
    func corruptionInTheMiddle() throws {
        try withTemporaryDirectory { (directory) throws in
            let records = [record(1), record(2), record(3)]
            let path = directory + "/history"
            let image = try makeJournal(path, records)
            let secondStart = 12 + 12 + records[0].count
            let secondEnd = secondStart + 12 + records[1].count
            for index in secondStart..<secondEnd {
                var damaged = image
                damaged[index] ^= UInt8(1 << (index % 8))
                try writeRaw(damaged, to: path)
                let reason = expectCorrupt(path: path) { () throws(PersistenceError) in
                    _ = try Journal.read(path: path)
                }
                #expect(reason?.contains("record #2 at offset \(secondStart)") == true, "byte \(index): \(reason ?? "-")")
                expectCorrupt(path: path) { () throws(PersistenceError) in _ = try Journal(path: path) }
                #expect(try rawBytes(path) == damaged, "byte \(index): the corrupt journal must not be modified")
            }
            // Bytes cut out of the middle.
            try writeRaw(Array(image[0..<(secondStart + 5)]) + Array(image[secondEnd...]), to: path)
            expectCorrupt(path: path) { () throws(PersistenceError) in _ = try Journal.read(path: path) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["history"])
        }
    }

    @Test("foreign, empty, headerless and future-version files are corrupt")
    func foreignFiles() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            let cases: [([UInt8], String)] = [
                (Array("sector 1 started\n".utf8), "not a sealer journal"),
                ([], "empty"),
                (Array("SEALJR".utf8), "header is incomplete"),
                (Array("SEALJRNL".utf8) + [2, 0, 0, 0], "unsupported journal format version 2"),
            ]
            for (bytes, expected) in cases {
                try writeRaw(bytes, to: path)
                let reason = expectCorrupt(path: path) { () throws(PersistenceError) in _ = try Journal.read(path: path) }
                #expect(reason?.contains(expected) == true, "\(reason ?? "-")")
                expectCorrupt(path: path) { () throws(PersistenceError) in _ = try Journal(path: path) }
                #expect(try rawBytes(path) == bytes)
            }
        }
    }

    @Test("a second recovery at the same offset does not overwrite the first preserved tail")
    func repeatedRecoveryKeepsBothTails() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            let image = try makeJournal(path, [record(1)])
            try writeRaw(image + [1, 2, 3], to: path)
            let first = try Journal(path: path)
            #expect(first.tornBytesPath == "\(path).torn-\(image.count)")
            first.close()
            try writeRaw(image + [4, 5], to: path)
            let second = try Journal(path: path)
            #expect(second.tornBytesPath == "\(path).torn-\(image.count)-2")
            second.close()
            #expect(try rawBytes("\(path).torn-\(image.count)") == [1, 2, 3])
            #expect(try rawBytes("\(path).torn-\(image.count)-2") == [4, 5])
        }
    }

    @Test("only one Journal may own a file; close releases it; appends after close fail")
    func ownership() async throws {
        // The refusal waits out brief holders for a second: keep that off the cooperative pool.
        try await runBlocking { try Self.ownershipBody() }
    }

    static func ownershipBody() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            let journal = try Journal(path: path)
            #expect(throws: PersistenceError.locked(path: path)) { _ = try Journal(path: path) }
            journal.close()
            journal.close()
            #expect(throws: PersistenceError.closed(path: path, reason: "it was closed")) {
                try journal.append(record(1))
            }
            let again = try Journal(path: path)
            try again.append(record(1))
            again.close()
            #expect(try Journal.read(path: path).records == [record(1)])
        }
    }

    @Test("reading a missing journal is an I/O error naming it; stale creation temporaries are removed")
    func missingAndTemporaries() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            #expect(throws: PersistenceError.io(path: path, operation: "open", errno: ENOENT,
                                                message: String(cString: strerror(ENOENT)))) {
                _ = try Journal.read(path: path)
            }
            try writeRaw(Array("SEALJ".utf8), to: path + ".tmp-77-0001")
            let journal = try Journal(path: path)
            journal.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["history"])
        }
    }

    @Test("concurrent appends all land intact")
    func concurrentAppends() async throws {
        let temporary = TempDir()
        defer { temporary.cleanup() }
        let directory = temporary.path
        let path = directory + "/history"
        let journal = try Journal(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<25 { try journal.append(record(writer * 1000 + index)) }
                }
            }
            try await group.waitForAll()
        }
        journal.close()
        let contents = try Journal.read(path: path)
        #expect(contents.tornTail == nil)
        #expect(Set(contents.records) == Set((0..<4).flatMap { writer in (0..<25).map { record(writer * 1000 + $0) } }))
        #expect(contents.records.count == 100)
    }

    @Test("oversized records are refused before touching the file")
    func tooLarge() throws {
        try withTemporaryDirectory { (directory) throws in
            let path = directory + "/history"
            let journal = try Journal(path: path)
            let size = Journal.maximumRecordSize + 1
            #expect(throws: PersistenceError.tooLarge(path: path, size: size, limit: Journal.maximumRecordSize)) {
                try journal.append([UInt8](repeating: 0x41, count: size))
            }
            try journal.append(record(1))
            journal.close()
            #expect(try Journal.read(path: path).records == [record(1)])
        }
    }
}
