import Foundation
import Testing

import Actors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

@Suite("CRC32C")
struct CRC32CTests {
    @Test("known vectors (RFC 3720 B.4 and the check value)")
    func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    }

    @Test("incremental updates equal the one-shot checksum")
    func incremental() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        for split in 0...bytes.count {
            var crc = CRC32C()
            crc.update(bytes[..<split])
            bytes[split...].withUnsafeBytes { crc.update($0) }
            #expect(crc.value == CRC32C.checksum(bytes))
        }
        #expect(CRC32C.checksum(bytes) == 0x2262_0404)
    }
}

@Suite("DurableFile")
struct DurableFileTests {
    let document = Array(#"{"seq": 7, "sectors": [1, 2, 3]}"#.utf8)

    @Test("a written document reads back, and a rewrite replaces it")
    func roundTrip() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try file.write(document)
            #expect(try file.read() == document)
            let second = Array(#"{"seq": 8}"#.utf8)
            try file.write(second)
            #expect(try file.read() == second)
            try file.write([])
            #expect(try file.read() == [])
            let big = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try file.write(big)
            #expect(try file.read() == big)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["state"])
        }
    }

    @Test("the on-disk header is magic, version, length, CRC-32C")
    func headerLayout() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try file.write(document)
            let bytes = try rawBytes(file.path)
            #expect(bytes.count == 23 + document.count)
            #expect(Array(bytes[0..<9]) == Array("SEALSTATE".utf8))
            #expect(Array(bytes[9..<11]) == [1, 0])
            #expect(bytes[11..<19].reversed().reduce(0) { $0 << 8 | UInt64($1) } == UInt64(document.count))
            #expect(bytes[19..<23].reversed().reduce(0) { $0 << 8 | UInt32($1) } == CRC32C.checksum(document))
        }
    }

    @Test("a missing file reads as nil")
    func missing() throws {
        try withTemporaryDirectory { (directory) throws in
            #expect(try DurableFile(path: directory + "/state").read() == nil)
        }
    }

    @Test("truncation at every byte offset is reported as corrupt and the file is left in place")
    func truncatedEverywhere() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try file.write(document)
            let image = try rawBytes(file.path)
            for cut in 0..<image.count {
                let torn = Array(image[0..<cut])
                try writeRaw(torn, to: file.path)
                let reason = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
                if cut == 0 {
                    #expect(reason?.contains("empty") == true)
                } else {
                    #expect(reason?.contains("truncated") == true, "cut \(cut): \(reason ?? "-")")
                }
                #expect(try rawBytes(file.path) == torn, "the corrupt file must not be modified")
            }
        }
    }

    @Test("a flipped bit anywhere in header or payload is reported as corrupt")
    func bitFlipsEverywhere() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try file.write(document)
            let image = try rawBytes(file.path)
            for index in image.indices {
                for bit in 0..<8 {
                    var damaged = image
                    damaged[index] ^= UInt8(1 << bit)
                    try writeRaw(damaged, to: file.path)
                    let reason = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
                    #expect(reason != nil, "byte \(index) bit \(bit)")
                    #expect(try rawBytes(file.path) == damaged)
                }
            }
            // The reasons name what is wrong.
            var payloadFlip = image
            payloadFlip[30] ^= 0x04
            try writeRaw(payloadFlip, to: file.path)
            let checksum = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
            #expect(checksum?.contains("checksum mismatch (stored 0x") == true)
            var versionFlip = image
            versionFlip[9] ^= 0x02
            try writeRaw(versionFlip, to: file.path)
            let version = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
            #expect(version?.contains("unsupported format version 3") == true)
        }
    }

    @Test("foreign content, an empty file and trailing garbage are corrupt")
    func foreignContent() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try writeRaw(Array(#"{"seq": 1}"#.utf8), to: file.path)
            let foreign = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
            #expect(foreign?.contains("not a sealer state file") == true)

            try writeRaw(Array("SEAL".utf8) + [0, 0], to: file.path)
            expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }

            try writeRaw([], to: file.path)
            let empty = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
            #expect(empty?.contains("empty") == true)

            try file.write(document)
            try writeRaw(try rawBytes(file.path) + [0, 0, 0], to: file.path)
            let trailing = expectCorrupt(path: file.path) { () throws(PersistenceError) in _ = try file.read() }
            #expect(trailing?.contains("3 unexpected bytes") == true)
        }
    }

    @Test("stray temporaries are ignored by read and removed by removeStaleTemporaries")
    func staleTemporaries() throws {
        try withTemporaryDirectory { (directory) throws in
            let file = DurableFile(path: directory + "/state")
            try file.write(document)
            try writeRaw(Array("SEALSTATE half-written".utf8), to: directory + "/state.tmp-123-00ff")
            try writeRaw([], to: directory + "/state.tmp-9-abc")
            try writeRaw([1], to: directory + "/other.tmp-1-2")
            try writeRaw([2], to: directory + "/statex")
            #expect(try file.read() == document)
            let removed = try file.removeStaleTemporaries().sorted()
            #expect(removed == [directory + "/state.tmp-123-00ff", directory + "/state.tmp-9-abc"])
            let left = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(left == ["other.tmp-1-2", "state", "statex"])
            #expect(try file.removeStaleTemporaries() == [])
            #expect(try file.read() == document)
        }
    }

    @Test("I/O failures name the path and the operation")
    func ioErrors() throws {
        try withTemporaryDirectory { (directory) throws in
            let missingDirectory = DurableFile(path: directory + "/nope/state")
            do throws(PersistenceError) {
                try missingDirectory.write(document)
                Issue.record("write into a missing directory succeeded")
            } catch {
                guard case .io(let path, let operation, let code, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(path.hasPrefix(directory + "/nope/state.tmp-"))
                #expect(operation == "open")
                #expect(code == ENOENT)
                #expect(error.description.contains(directory + "/nope/state.tmp-"))
                #expect(error.description.contains("No such file or directory"))
            }
            try writeRaw([1], to: directory + "/plain")
            do throws(PersistenceError) {
                _ = try DurableFile(path: directory + "/plain/state").read()
                Issue.record("read below a regular file succeeded")
            } catch {
                #expect(error == .io(path: directory + "/plain/state", operation: "open", errno: ENOTDIR,
                                     message: String(cString: strerror(ENOTDIR))))
            }
        }
    }

    @Test("the corrupt description speaks to an operator")
    func corruptDescription() {
        let error = PersistenceError.corrupt(path: "/x/meta/state", reason: "checksum mismatch (stored 0x1, computed 0x2)")
        #expect(
            error.description
                == "state file /x/meta/state is corrupt: checksum mismatch (stored 0x1, computed 0x2); "
                + "it was left in place for inspection")
    }

    @Test("concurrent writers leave one complete document and no temporaries")
    func concurrentWriters() async throws {
        let temporary = TempDir()
        defer { temporary.cleanup() }
        let directory = temporary.path
        let file = DurableFile(path: directory + "/state")
        let payloads = (0..<8).map { index in Array("{\"writer\": \(index)}".utf8) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for payload in payloads {
                group.addTask {
                    for _ in 0..<5 { try file.write(payload) }
                }
            }
            try await group.waitForAll()
        }
        let final = try #require(try file.read())
        #expect(payloads.contains(final))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["state"])
    }
}
