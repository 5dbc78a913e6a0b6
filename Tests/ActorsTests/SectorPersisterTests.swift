import Foundation
import ProofsFFI
import TestSupport
import Testing

@testable import Actors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fake sector's working files under `<root>/data` and an empty store at `<root>/store`.
private struct FakeSector {
    let root: String
    let sector: SectorID
    let size: SectorSize
    var data: String { root + "/data" }
    var store: String { root + "/store" }
    var paths: SectorPaths { SectorPaths(dataDirectory: data, sector: sector) }
    var persister: SectorPersister { SectorPersister(storeRoot: store, chunkSize: 1 << 20) }
    var routes: [PersistRoute] { persister.routes(sector: sector, size: size, replica: paths.sealed, cache: paths.cache) }

    /// Writes a sealed file of `sealedBytes`, the cache files damocles persists (tree-r-last files
    /// of `treeBytes`, small p_aux and t_aux) and cache files it does not persist (tree-c, a layer).
    init(root: String, sector: SectorID = SectorID(miner: 1000, number: 1), size: SectorSize = .gib32,
         sealedBytes: Int, treeBytes: Int, seed: UInt64 = 1) throws {
        self.root = root
        self.sector = sector
        self.size = size
        let fileManager = FileManager.default
        for directory in [data + "/sealed", data + "/unsealed", paths.cache, store] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try Self.write(patterned(sealedBytes, seed: seed), to: paths.sealed)
        try Self.write(patterned(4096, seed: seed &+ 1), to: paths.staged)
        for (index, name) in SectorPersister.cacheFileNames(for: size).enumerated() {
            let bytes = name.hasSuffix(".dat") ? treeBytes : (name == "p_aux" ? 64 : 1024)
            try Self.write(patterned(bytes, seed: seed &+ 10 &+ UInt64(index)), to: paths.cache + "/" + name)
        }
        try Self.write(patterned(4096, seed: seed &+ 99), to: paths.cache + "/sc-02-data-tree-c-0.dat")
        try Self.write(patterned(4096, seed: seed &+ 98), to: paths.cache + "/sc-02-data-layer-1.dat")
    }

    static func write(_ bytes: Data, to path: String) throws {
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// Every file under the store, relative to it, sorted.
    func storeFiles() throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: store) else { return [] }
        var files: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: store + "/" + next, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(next)
            }
        }
        return files.sorted()
    }

    /// Store files whose name marks them as a persister temporary.
    func temporaries() throws -> [String] {
        try storeFiles().filter { $0.contains(SectorPersister.temporaryInfix) }
    }
}

/// `count` bytes of deterministic pseudo-random data: blocks of 64 KiB, each stamped with its index.
private func patterned(_ count: Int, seed: UInt64) -> Data {
    var generator = SplitMix64(seed: seed)
    var block = [UInt8](repeating: 0, count: 64 * 1024)
    block.withUnsafeMutableBytes { raw in
        for index in 0..<(raw.count / 8) { raw.storeBytes(of: generator.next(), toByteOffset: index * 8, as: UInt64.self) }
    }
    var data = Data(capacity: count)
    var index: UInt64 = 0
    while data.count < count {
        withUnsafeBytes(of: index) { stamp in block.withUnsafeMutableBytes { $0.copyMemory(from: stamp) } }
        data.append(contentsOf: block.prefix(count - data.count))
        index += 1
    }
    return data
}

private func contents(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

private func inode(_ path: String) -> UInt64 {
    var status = stat()
    return stat(path, &status) == 0 ? UInt64(status.st_ino) : 0
}

/// Checks that every route's final name, where present, holds exactly the source's bytes.
private func expectFinalNamesComplete(_ routes: [PersistRoute], requireAll: Bool, _ context: String) throws {
    for route in routes {
        guard FileManager.default.fileExists(atPath: route.destination) else {
            #expect(!requireAll, "\(context): \(route.destination) is missing")
            continue
        }
        let copied = try contents(route.destination)
        let source = try contents(route.source)
        #expect(copied.count == source.count, "\(context): \(route.destination) has \(copied.count) bytes, the source \(source.count)")
        #expect(copied == source, "\(context): \(route.destination) differs from its source")
    }
}

@Suite("Sector persister", .computeBound)
struct SectorPersisterTests {
    @Test("damocles' cache file lists per sector size, and the store layouts")
    func layouts() {
        #expect(SectorPersister.cacheFileNames(for: .kib2) == ["sc-02-data-tree-r-last.dat", "p_aux", "t_aux"])
        #expect(SectorPersister.cacheFileNames(for: .mib512) == ["sc-02-data-tree-r-last.dat", "p_aux", "t_aux"])
        let gib32 = SectorPersister.cacheFileNames(for: .gib32)
        #expect(gib32.count == 10 && gib32.first == "sc-02-data-tree-r-last-0.dat" && gib32[7] == "sc-02-data-tree-r-last-7.dat")
        let gib64 = SectorPersister.cacheFileNames(for: .gib64)
        #expect(gib64.count == 18 && gib64[15] == "sc-02-data-tree-r-last-15.dat" && gib64.suffix(2) == ["p_aux", "t_aux"])

        let persister = SectorPersister(storeRoot: "/mnt/store/")
        let sector = SectorID(miner: 1000, number: 7)
        let sealed = persister.routes(sector: sector, size: .kib2, replica: "/loc/data/sealed/s-t01000-7", cache: "/loc/data/cache/s-t01000-7")
        #expect(sealed.map(\.destination) == [
            "/mnt/store/sealed/s-t01000-7", "/mnt/store/cache/s-t01000-7/sc-02-data-tree-r-last.dat",
            "/mnt/store/cache/s-t01000-7/p_aux", "/mnt/store/cache/s-t01000-7/t_aux",
        ])
        #expect(sealed.map(\.source).last == "/loc/data/cache/s-t01000-7/t_aux")
        let working = SectorPersister.upgradeWorkingPaths(dataDirectory: "/loc/data", sector: sector)
        #expect(working.replica == "/loc/data/update/s-t01000-7" && working.cache == "/loc/data/update-cache/s-t01000-7")
        let upgraded = persister.routes(sector: sector, size: .kib2, replica: working.replica, cache: working.cache, kind: .upgraded)
        #expect(upgraded.map(\.destination) == [
            "/mnt/store/update/s-t01000-7", "/mnt/store/update-cache/s-t01000-7/sc-02-data-tree-r-last.dat",
            "/mnt/store/update-cache/s-t01000-7/p_aux", "/mnt/store/update-cache/s-t01000-7/t_aux",
        ])
    }

    @Test("a fake sector is copied into the store with damocles' layout; a rerun is a no-op")
    func copiesThenRerunIsNoOp() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 3 << 20 + 12345, treeBytes: 200_000)

        let first = try await fake.persister.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
        #expect(first.copied.count == 11 && first.alreadyComplete.isEmpty && first.removedTemporaries.isEmpty)
        #expect(first.copied.first?.bytes == Int64(3 << 20 + 12345))
        let expected = (["sealed/s-t01000-1"] + SectorPersister.cacheFileNames(for: .gib32).map { "cache/s-t01000-1/" + $0 }).sorted()
        #expect(try fake.storeFiles() == expected)  // no tree-c, no layers, no temporaries
        try expectFinalNamesComplete(fake.routes, requireAll: true, "first run")

        let inodes = fake.routes.map { inode($0.destination) }
        let second = try await fake.persister.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
        #expect(second.copied.isEmpty && second.alreadyComplete.count == 11, "\(second.summary)")
        #expect(fake.routes.map { inode($0.destination) } == inodes, "a rerun replaced a complete file")
        #expect(try fake.storeFiles() == expected)
    }

    @Test("a crash's leftovers are redone: a truncated temporary, a short or foreign file under a final name")
    func leftoversAreRedone() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 2 << 20, treeBytes: 100_000)
        let routes = fake.routes
        let sealed = routes[0].destination, pAux = routes[9].destination, tree0 = routes[1].destination
        try FileManager.default.createDirectory(atPath: fake.store + "/sealed", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fake.store + "/cache/s-t01000-1", withIntermediateDirectories: true)
        // A temporary cut short by a kill, the short file damocles' in-place copy leaves, and a
        // file of the right size with other bytes (small, so compared in full).
        let staleTemporary = sealed + SectorPersister.temporaryInfix + "4242-00000000deadbeef"
        try FakeSector.write(try contents(routes[0].source).prefix(1 << 20), to: staleTemporary)
        try FakeSector.write(try contents(routes[1].source).prefix(5000), to: tree0)
        try FakeSector.write(Data(repeating: 7, count: 64), to: pAux)
        let unrelated = fake.store + "/sealed/s-t01000-2" + SectorPersister.temporaryInfix + "1-0000000000000001"
        try FakeSector.write(Data([1, 2, 3]), to: unrelated)

        let report = try await fake.persister.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
        #expect(report.removedTemporaries == [staleTemporary])
        #expect(report.copied.count == 11, "\(report.summary)")
        try expectFinalNamesComplete(routes, requireAll: true, "after leftovers")
        #expect(FileManager.default.fileExists(atPath: unrelated), "another sector's temporary was removed")
    }

    @Test("missing working files are one error naming each of them, and nothing is copied")
    func missingSources() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 100_000, treeBytes: 1000)
        try FileManager.default.removeItem(atPath: fake.paths.sealed)
        try FileManager.default.removeItem(atPath: fake.paths.cache + "/t_aux")
        await #expect(throws: SectorPersistError.missingSources(paths: [fake.paths.sealed, fake.paths.cache + "/t_aux"])) {
            try await fake.persister.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
        }
        #expect(try fake.storeFiles().isEmpty)
        let message = SectorPersistError.missingSources(paths: [fake.paths.sealed]).description
        #expect(message.contains(fake.paths.sealed) && message.contains("missing"))

        let noStore = SectorPersister(storeRoot: temp.path + "/absent")
        do {
            _ = try await noStore.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
            Issue.record("persisting into a missing store succeeded")
        } catch {
            guard case .io(.io(let path, let operation, let code, _)) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == temp.path + "/absent" && operation.contains("persist store") && code == ENOENT)
        }
    }

    @Test("a directory where a file belongs is an error naming it")
    func directoryAtFinalName() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 10_000, treeBytes: 1000)
        try FileManager.default.createDirectory(atPath: fake.routes[0].destination, withIntermediateDirectories: true)
        await #expect(throws: SectorPersistError.notARegularFile(path: fake.routes[0].destination, role: "persist destination")) {
            try await fake.persister.persist(sector: fake.sector, size: fake.size, paths: fake.paths)
        }
    }

    @Test("cancelling the task stops the copy and leaves no temporary")
    func cancellation() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 2 << 20, treeBytes: 1000)
        let persister = fake.persister, sector = fake.sector, size = fake.size, paths = fake.paths
        let task = Task { () async throws(SectorPersistError) -> PersistReport in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await persister.persist(sector: sector, size: size, paths: paths)
        }
        let result = await task.result
        #expect(throws: SectorPersistError.cancelled(path: fake.routes[0].destination)) { try result.get() }
        #expect(try fake.storeFiles().isEmpty)
    }

    @Test("removeWorkingFiles removes the cache dir, sealed and staged files; symlinks are not followed")
    func removeWorkingFiles() async throws {
        let temp = TempDir()
        defer { temp.cleanup() }
        let fake = try FakeSector(root: temp.path, sealedBytes: 10_000, treeBytes: 1000)
        let outside = temp.path + "/outside"
        try FakeSector.write(Data([9]), to: outside)
        try FileManager.default.createDirectory(atPath: fake.paths.cache + "/nested/deeper", withIntermediateDirectories: true)
        try FakeSector.write(Data([1]), to: fake.paths.cache + "/nested/deeper/file")
        try FileManager.default.createSymbolicLink(atPath: fake.paths.cache + "/link", withDestinationPath: outside)

        let removed = try await SectorPersister.removeWorkingFiles(fake.paths)
        #expect(removed == [fake.paths.cache, fake.paths.sealed, fake.paths.staged])
        for path in removed { #expect(!FileManager.default.fileExists(atPath: path)) }
        #expect(FileManager.default.fileExists(atPath: outside))
        #expect(FileManager.default.fileExists(atPath: fake.data + "/sealed"), "the shared sealed/ directory was removed")
        #expect(try await SectorPersister.removeWorkingFiles(fake.paths).isEmpty)
    }

    @Test("kill -9 during persist: every final name is complete after each kill, a rerun finishes")
    func killDuringPersist() async throws {
        try await runBlocking { try Self.killRepeatedly() }
    }

    /// Blocks on child processes: call through `runBlocking`.
    static func killRepeatedly() throws {
        guard let binary = tortureBinary() else {
            Issue.record("persist-torture binary not found; build it first with `swift build` (or set PERSIST_TORTURE_BIN)")
            return
        }
        let temp = TempDir()
        defer { temp.cleanup() }
        // 64 MiB replica, 8 × 1 MiB tree-r-last files: a full run prints 85 progress lines.
        let fake = try FakeSector(root: temp.path, sector: SectorID(miner: 1000, number: 9), sealedBytes: 64 << 20, treeBytes: 1 << 20)
        var generator = SplitMix64(seed: 0x9E25_1575)  // the same kill points every run
        var killedWithTemporary = 0
        var kills = 0
        for round in 0..<12 {
            // Aim the kill anywhere in what is left: the child prints one line per 1 MiB chunk plus
            // one per file, and skips the files already complete at their final name.
            var remainingLines = 0
            for route in fake.routes where !FileManager.default.fileExists(atPath: route.destination) {
                let size = (try FileManager.default.attributesOfItem(atPath: route.source)[.size] as? NSNumber)?.intValue ?? 0
                remainingLines += (size + (1 << 20) - 1) >> 20 + 1
            }
            let killAfterLines = Int(generator.next() % UInt64(remainingLines + 2))
            let delayMicroseconds = UInt32(generator.next() % 400)
            let context = "round \(round): kill after \(killAfterLines) lines + \(delayMicroseconds) µs"
            let stderrPath = temp.path + "/stderr-\(round)"
            // 10 ms after each chunk's line (under a second a run): the kill lands inside the copy
            // even when this thread runs late on a loaded machine.
            let child = try spawn(binary, ["sector", fake.data, fake.store, "1000", "9", "10000"], stderrPath: stderrPath)
            var reader = LineReader(fd: child.stdout)
            var reaped = false
            defer {
                close(child.stdout)
                if !reaped { kill(child.pid, SIGKILL); var status: Int32 = 0; waitpid(child.pid, &status, 0) }
            }
            var finished = false
            var seen = 0
            while seen < killAfterLines, let line = try reader.nextLine() {
                if line.hasPrefix("done") { finished = true; break }
                seen += 1
            }
            // A seeded delay moves the kill inside the chunk being written, not always at a chunk
            // boundary; this runs on a blocking thread of its own, never the cooperative pool.
            if !finished, delayMicroseconds > 0 { usleep(delayMicroseconds) }
            kill(child.pid, SIGKILL)
            while let line = try reader.nextLine() { if line.hasPrefix("done") { finished = true } }
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
            let stderrText = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            if !finished {
                kills += 1
                #expect(status & 0x7F == SIGKILL, "\(context): the child did not die from SIGKILL (status \(status)): \(stderrText)")
            }
            try expectFinalNamesComplete(fake.routes, requireAll: finished, context)
            if try !fake.temporaries().isEmpty { killedWithTemporary += 1 }
            if finished { break }
        }
        #expect(kills >= 3 && killedWithTemporary > 0, "\(kills) kills, \(killedWithTemporary) during a copy")

        let report = try fake.persister.persistBlocking(fake.routes)
        #expect(report.copied.count + report.alreadyComplete.count == 11, "\(report.summary)")
        try expectFinalNamesComplete(fake.routes, requireAll: true, "final run")
        #expect(try fake.temporaries().isEmpty)
    }
}

@Suite("Persisting in the sealing plans")
struct PersistFlowTests {
    @Test("a sealed sector's replica and PoSt cache files land in the reserved store, in damocles' layout")
    func sealedSectorIsPersisted() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let manager = MockManager()
        let settings = fastSettings(0, dir.path + "/t0")
        let thread = SealingThread(settings: settings, manager: manager, prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("a finished sector") { (await manager.sectors[SectorID(miner: 10000, number: 1)]?.finalized ?? 0) >= 1 }
        task.cancel()
        await task.value
        let store = try #require(settings.storeLocations["persist-a"])
        let id = SectorID(miner: 10000, number: 1)
        #expect(FileManager.default.fileExists(atPath: "\(store)/sealed/\(id)"))
        for name in SectorSize.kib2.persistedCacheFiles {
            #expect(FileManager.default.fileExists(atPath: "\(store)/cache/\(id)/\(name)"), "\(name)")
        }
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: store).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "no temporaries left: \(leftovers)")
    }

    @Test("a store the manager reserves that this worker has no location for pauses the thread, naming it")
    func unknownStorePauses() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var settings = fastSettings(0, dir.path + "/t0")
        settings.storeLocations = [:]
        let thread = SealingThread(settings: settings, manager: MockManager(), prover: fastProver(), log: quietLog)
        let task = Task { await thread.run() }
        try await eventually("paused") { thread.isPaused }
        let info = await thread.info()
        #expect(info.jobState == "PreCommitLanded" || info.jobState == "PCLanded" || info.jobState.contains("Landed"), "\(info)")
        #expect(info.lastError?.contains("persist store persist-a, reserved by the manager, has no [[attached]] location") == true, "\(info)")
        task.cancel()
        await task.value
    }
}
