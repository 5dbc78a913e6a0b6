// Copying a sealed sector's files into a persist store (`[[attached]]`), as damocles' worker does
// after PreCommit lands, before `SubmitPersistedEx(sector, instance)`.
//
// What damocles does (ipfs-force-community/damocles @ 4235a89, read with `git show HEAD:<path>`):
// - Working files under a sealing location's `data/` (damocles-worker/src/sealing/paths.rs,
//   src/sealing/sealing_thread/planner/common/task.rs): `unsealed/s-t0<miner>-<number>` (staged),
//   `sealed/s-t0…` (replica), `cache/s-t0…/` (cache dir), and for snap-up `update/s-t0…` (new
//   replica) and `update-cache/s-t0…/`; `prepared/s-t0…/` holds tree_d before PC1. Finalization
//   empties the whole `data/` directory (src/sealing/store/mod.rs, `Store::cleanup`).
// - What it copies (planner/common/sealing.rs, `persist_sector_files`, and vc-processors
//   src/fil_proofs/mod.rs, `cached_filenames_for_sector`): the replica file, then from the cache dir
//   `sc-02-data-tree-r-last.dat` (2KiB, 8MiB, 512MiB sectors), `sc-02-data-tree-r-last-0.dat` …
//   `-7.dat` (32GiB) or `-0` … `-15.dat` (64GiB), then `p_aux` and `t_aux`. No tree-c, tree-d or
//   layer files. A snap-upgraded sector (planner/snapup.rs, `persist`; planner/rebuild.rs,
//   `persist`, for a rebuilt snap-up sector) sends the same list with the update file as the
//   replica and the update cache dir as the cache dir.
// - When (planner/sealer.rs): PCLanded → `persist_sector_files` (after `StoreReserveSpace` picked
//   an instance among the writable `[[attached]]` names) → Persisted → `SubmitPersistedEx(sector,
//   instance, false)`. rebuild.rs passes `is_upgrade = true` for a snap-up sector; snapup.rs sends
//   the instance in `SubmitSnapUpProof`'s `access_instance` instead.
// - Where (infra/objstore/filestore.rs, `FileStore::uri`): each file keeps its path relative to
//   `data/`, joined to the store's `location`: `<location>/sealed/s-t0…`,
//   `<location>/cache/s-t0…/p_aux`, …; for snap-up `<location>/update/s-t0…` and
//   `<location>/update-cache/s-t0…/…`. The store's instance name is the `[[attached]]` name
//   (or the canonical location when unnamed).
// - How (vc-processors src/builtin/processors/transfer/mod.rs, `do_transfer`): for every file, remove
//   whatever is at the destination, create parent directories, open the destination with
//   truncate and copy into it in place; no temporary, no fsync, no size check. A retry redoes every
//   file. The manager then checks the files by proving the sector from them
//   (damocles-manager modules/sealer/sealer.go, `checkPersistedFiles` → `SingleProvable`).
//
// What this file adds: each copy goes to a temporary next to its final name, is fsynced and its
// size checked, and is renamed into place followed by a directory fsync. So a file under a final
// name is always complete, a rerun after SIGKILL skips what is done and redoes the rest.

import ProofsFFI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which replica of a sector is persisted: the sealed one (after PreCommit lands) or a
/// snap-upgraded one (after the update proof); they land under different store directories.
public enum SectorReplicaKind: Sendable, Hashable {
    /// `sealed/<sector>` and `cache/<sector>/…` in the store.
    case sealed
    /// `update/<sector>` and `update-cache/<sector>/…` in the store.
    case upgraded
}

/// One file to persist: where it is read from and where it lands in the store.
public struct PersistRoute: Sendable, Hashable {
    /// The working file, under the sealing location's `data/`.
    public var source: String
    /// The final name in the store.
    public var destination: String

    /// A route from `source` to `destination` (both absolute paths).
    public init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }
}

/// One file copied (or found already complete) by `SectorPersister`.
public struct PersistedFile: Sendable, Hashable {
    /// The working file read.
    public var source: String
    /// Its final name in the store.
    public var destination: String
    /// Its size in bytes.
    public var bytes: Int64
}

/// What a `persist` call did, for the log.
public struct PersistReport: Sendable, Hashable {
    /// Files copied by this call.
    public var copied: [PersistedFile] = []
    /// Files already complete at their final name (left untouched).
    public var alreadyComplete: [PersistedFile] = []
    /// Temporaries of an interrupted earlier run, removed by this call.
    public var removedTemporaries: [String] = []

    /// One line for the log: counts and bytes.
    public var summary: String {
        let bytes = copied.reduce(Int64(0)) { $0 + $1.bytes }
        var text = "copied \(copied.count) file(s), \(bytes) bytes; \(alreadyComplete.count) already complete"
        if !removedTemporaries.isEmpty { text += "; removed \(removedTemporaries.count) stale temporary file(s)" }
        return text
    }
}

/// Progress of one file's copy, reported after each chunk (and once at 0 before the first).
public struct PersistProgress: Sendable, Hashable {
    /// The final name being written.
    public var destination: String
    /// Bytes written to the temporary so far.
    public var copied: Int64
    /// The source's size.
    public var total: Int64
}

/// Why persisting (or removing) a sector's files failed. Every case names the file concerned.
public enum SectorPersistError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Working files that damocles persists are not there (the sector's working files are
    /// incomplete: PC2 did not produce them, or something removed them). Nothing was copied.
    case missingSources(paths: [String])
    /// A source or destination exists but is not a regular file (a directory, a device…).
    case notARegularFile(path: String, role: String)
    /// The copy did not end with the source's size: the source changed while it was copied.
    /// The temporary was removed; nothing was put under the final name.
    case sizeMismatch(source: String, destination: String, expected: Int64, copied: Int64)
    /// The task was cancelled while copying `path`; its temporary was removed.
    case cancelled(path: String)
    /// A system call failed: `PersistenceError.io` names the path and the operation.
    case io(PersistenceError)

    /// A one-line explanation for an operator.
    public var description: String {
        switch self {
        case .missingSources(let paths):
            let list = paths.joined(separator: ", ")
            return "sector file\(paths.count == 1 ? "" : "s") \(list) missing: \(paths.count == 1 ? "it" : "they") must exist "
                + "before the sector can be persisted; nothing was copied"
        case .notARegularFile(let path, let role):
            return "\(role) \(path) is not a regular file"
        case .sizeMismatch(let source, let destination, let expected, let copied):
            return "copying \(source) to \(destination): copied \(copied) bytes but the source had \(expected) when the copy began "
                + "(it changed during the copy); nothing was put under \(destination)"
        case .cancelled(let path):
            return "copying to \(path) was cancelled; nothing was put under that name"
        case .io(let error):
            return error.description
        }
    }
}

/// Copies a sector's files from its working paths into a persist store, durably and resumably.
///
/// A file is *complete* at its final name when it is a regular file whose size equals the
/// source's and, for files up to `contentCheckLimit` bytes, whose bytes equal the source's.
/// This type only ever creates a final name by renaming a temporary that was fsynced and had
/// the source's size, so its own files are complete by construction; the check is there for
/// files another writer left (damocles' own transfer truncates and writes in place, so a crash
/// leaves a short file) and for a source regenerated since. damocles itself checks nothing and
/// recopies everything on every retry; size is what a crashed in-place copy gets wrong. Comparing
/// the bytes of the replica (32 or 64 GiB) would double the I/O, so big files are checked by
/// size only; the small ones (`p_aux`, `t_aux`, tree-r-last files) are compared in full.
///
/// One persister per store; one `persist` per sector at a time (a rerun removes the temporaries
/// of the same file names, including those of a copy still running).
public struct SectorPersister: Sendable {
    /// The store's `location` (the `[[attached]]` directory). Must exist.
    public let storeRoot: String
    /// Bytes read and written per step, between cancellation checks and progress reports.
    public let chunkSize: Int
    /// Files at their final name up to this size are compared byte for byte with the source.
    public let contentCheckLimit: Int64

    /// The infix between a final name and the random suffix of its temporaries.
    static let temporaryInfix = ".persist-tmp-"

    /// A persister for the store at `storeRoot`. Touches nothing on disk.
    public init(storeRoot: String, chunkSize: Int = 8 << 20, contentCheckLimit: Int64 = 64 << 20) {
        self.storeRoot = storeRoot.count > 1 && storeRoot.hasSuffix("/") ? String(storeRoot.dropLast()) : storeRoot
        self.chunkSize = max(4096, chunkSize)
        self.contentCheckLimit = contentCheckLimit
    }

    /// The cache files damocles persists for a sector of `size`, in its order.
    public static func cacheFileNames(for size: SectorSize) -> [String] { size.persistedCacheFiles }

    /// A snap-up sector's working replica and cache dir under a sealing location's `data/`.
    public static func upgradeWorkingPaths(dataDirectory: String, sector: SectorID) -> (replica: String, cache: String) {
        ("\(dataDirectory)/update/\(sector)", "\(dataDirectory)/update-cache/\(sector)")
    }

    /// The files damocles persists for `sector`: the replica, then its cache files.
    public func routes(
        sector: SectorID, size: SectorSize, replica: String, cache: String, kind: SectorReplicaKind = .sealed
    ) -> [PersistRoute] {
        let (replicaDirectory, cacheDirectory) = kind == .sealed ? ("sealed", "cache") : ("update", "update-cache")
        var routes = [PersistRoute(source: replica, destination: "\(storeRoot)/\(replicaDirectory)/\(sector)")]
        for name in Self.cacheFileNames(for: size) {
            routes.append(PersistRoute(source: "\(cache)/\(name)", destination: "\(storeRoot)/\(cacheDirectory)/\(sector)/\(name)"))
        }
        return routes
    }

    /// Persists a sealed sector (`paths.sealed` and `paths.cache`) into the store, off the
    /// cooperative pool. Idempotent; after a crash, call it again.
    public func persist(
        sector: SectorID, size: SectorSize, paths: SectorPaths,
        progress: (@Sendable (PersistProgress) -> Void)? = nil
    ) async throws(SectorPersistError) -> PersistReport {
        try await persist(routes(sector: sector, size: size, replica: paths.sealed, cache: paths.cache), progress: progress)
    }

    /// Persists the given routes, off the cooperative pool. Cancelling the calling task stops the
    /// copy at the next chunk with `.cancelled` (what is complete stays; the partial file is removed).
    public func persist(
        _ routes: [PersistRoute], progress: (@Sendable (PersistProgress) -> Void)? = nil
    ) async throws(SectorPersistError) -> PersistReport {
        let flag = CancelFlag()
        let persister = self
        let result: Result<PersistReport, SectorPersistError> = await withTaskCancellationHandler {
            await offload { () -> Result<PersistReport, SectorPersistError> in
                do throws(SectorPersistError) {
                    return .success(try persister.persistBlocking(routes, cancelled: { flag.isSet }, progress: progress))
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            flag.set()
        }
        return try result.get()
    }

    /// Persists the given routes on the calling thread (blocking). For programs without a
    /// cooperative pool to protect (the crash-test helper); the daemon uses `persist`.
    public func persistBlocking(
        _ routes: [PersistRoute], cancelled: () -> Bool = { false },
        progress: ((PersistProgress) -> Void)? = nil
    ) throws(SectorPersistError) -> PersistReport {
        var report = PersistReport()
        try requireDirectory(storeRoot, role: "persist store")
        var sizes: [Int64] = []
        var missing: [String] = []
        for route in routes {
            if let size = try sourceSize(route.source) { sizes.append(size) } else { missing.append(route.source) }
        }
        if !missing.isEmpty { throw .missingSources(paths: missing) }
        report.removedTemporaries = try removeStaleTemporaries(for: routes.map(\.destination))
        for (route, size) in zip(routes, sizes) {
            if try isComplete(route, size: size) {
                report.alreadyComplete.append(PersistedFile(source: route.source, destination: route.destination, bytes: size))
                continue
            }
            try ensureDirectory(PersistenceIO.directory(of: route.destination))
            try copy(route, size: size, cancelled: cancelled, progress: progress)
            report.copied.append(PersistedFile(source: route.source, destination: route.destination, bytes: size))
        }
        return report
    }

    /// Removes a finished or aborted sector's working files: the cache dir (recursively), the
    /// sealed file and the staged file, off the cooperative pool. Missing ones are not an error.
    ///
    /// - Returns: the paths that existed and were removed.
    @discardableResult
    public static func removeWorkingFiles(_ paths: SectorPaths) async throws(SectorPersistError) -> [String] {
        try await removeWorkingFiles(at: [paths.cache, paths.sealed, paths.staged])
    }

    /// Removes each path (a file, or a directory with everything in it; symlinks are removed,
    /// not followed), off the cooperative pool. Missing ones are not an error.
    @discardableResult
    public static func removeWorkingFiles(at paths: [String]) async throws(SectorPersistError) -> [String] {
        try await offload { () throws(SectorPersistError) -> [String] in
            var removed: [String] = []
            for path in paths where try removeTree(path) {
                removed.append(path)
            }
            return removed
        }
    }

    // MARK: - Steps

    /// The size of the regular file at `path`, nil when it is missing; an error when it is not a file.
    func sourceSize(_ path: String) throws(SectorPersistError) -> Int64? {
        guard let status = try Self.status(path, follow: true) else { return nil }
        guard Self.isRegular(status) else { throw .notARegularFile(path: path, role: "sector file") }
        return Int64(status.st_size)
    }

    /// Whether the route's final name already holds a complete copy (see the type's comment).
    func isComplete(_ route: PersistRoute, size: Int64) throws(SectorPersistError) -> Bool {
        guard let status = try Self.status(route.destination, follow: false) else { return false }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw .notARegularFile(path: route.destination, role: "persist destination")
        }
        guard Self.isRegular(status), Int64(status.st_size) == size else { return false }
        if size > contentCheckLimit { return true }
        return try sameContent(route.source, route.destination)
    }

    /// Copies `route.source` to a temporary beside `route.destination`, fsyncs it, checks its
    /// size, renames it into place and fsyncs the directory. On any failure the temporary is removed.
    func copy(
        _ route: PersistRoute, size: Int64, cancelled: () -> Bool, progress: ((PersistProgress) -> Void)?
    ) throws(SectorPersistError) {
        let directory = PersistenceIO.directory(of: route.destination)
        let temporary = route.destination + Self.temporaryInfix + PersistenceIO.temporarySuffix()
        let input = try Self.open(route.source, O_RDONLY)
        defer { PersistenceIO.closeQuietly(input) }
        let output = try Self.open(temporary, O_WRONLY | O_CREAT | O_EXCL)
        do throws(SectorPersistError) {
            let copied = try pump(from: input, source: route.source, to: output, temporary: temporary,
                                  destination: route.destination, total: size, cancelled: cancelled, progress: progress)
            guard copied == size else {
                throw .sizeMismatch(source: route.source, destination: route.destination, expected: size, copied: copied)
            }
            do throws(PersistenceError) {
                try PersistenceIO.fsync(output, path: temporary)
            } catch {
                throw .io(error)
            }
            var written = stat()
            guard fstat(output, &written) == 0 else { throw .io(PersistenceIO.failure(temporary, "stat")) }
            guard Int64(written.st_size) == size else {
                throw .sizeMismatch(source: route.source, destination: route.destination, expected: size, copied: Int64(written.st_size))
            }
        } catch {
            PersistenceIO.closeQuietly(output)
            try? PersistenceIO.unlink(temporary)
            throw error
        }
        do throws(PersistenceError) {
            try PersistenceIO.close(output, path: temporary)
            try PersistenceIO.rename(temporary, to: route.destination)
        } catch {
            try? PersistenceIO.unlink(temporary)
            throw .io(error)
        }
        do throws(PersistenceError) {
            try PersistenceIO.fsyncDirectory(directory)
        } catch {
            throw .io(error)
        }
    }

    /// Copies `input` to `output` until end of file; returns the bytes copied.
    private func pump(
        from input: Int32, source: String, to output: Int32, temporary: String, destination: String,
        total: Int64, cancelled: () -> Bool, progress: ((PersistProgress) -> Void)?
    ) throws(SectorPersistError) -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var copied: Int64 = 0
        progress?(PersistProgress(destination: destination, copied: 0, total: total))
        while true {
            if cancelled() { throw .cancelled(path: destination) }
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw .io(PersistenceIO.failure(source, "read", code))
            }
            if count == 0 { return copied }
            do throws(PersistenceError) {
                try PersistenceIO.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: temporary)
            } catch {
                throw .io(error)
            }
            copied += Int64(count)
            progress?(PersistProgress(destination: destination, copied: copied, total: total))
        }
    }

    /// Removes `<final name>.persist-tmp-*` next to every destination; returns what it removed.
    func removeStaleTemporaries(for destinations: [String]) throws(SectorPersistError) -> [String] {
        var byDirectory: [String: Set<String>] = [:]
        for destination in destinations {
            byDirectory[PersistenceIO.directory(of: destination), default: []]
                .insert(PersistenceIO.baseName(of: destination) + Self.temporaryInfix)
        }
        var removed: [String] = []
        for (directory, prefixes) in byDirectory.sorted(by: { $0.key < $1.key }) {
            guard try Self.status(directory, follow: true) != nil else { continue }
            do throws(PersistenceError) {
                var any = false
                for name in try PersistenceIO.listDirectory(directory).sorted()
                where prefixes.contains(where: { name.hasPrefix($0) }) {
                    try PersistenceIO.unlink(directory + "/" + name)
                    removed.append(directory + "/" + name)
                    any = true
                }
                if any { try PersistenceIO.fsyncDirectory(directory) }
            } catch {
                throw .io(error)
            }
        }
        return removed
    }

    /// Creates `directory` and its missing parents inside the store, making each creation durable.
    func ensureDirectory(_ directory: String) throws(SectorPersistError) {
        if let status = try Self.status(directory, follow: true) {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw .notARegularFile(path: directory, role: "persist store directory (expected a directory)")
            }
            return
        }
        let parent = PersistenceIO.directory(of: directory)
        if parent != directory { try ensureDirectory(parent) }
        if mkdir(directory, 0o755) != 0 {
            let code = errno
            if code != EEXIST { throw .io(PersistenceIO.failure(directory, "create directory", code)) }
            return
        }
        do throws(PersistenceError) {
            try PersistenceIO.fsyncDirectory(parent)
        } catch {
            throw .io(error)
        }
    }

    /// Throws unless `path` is an existing directory.
    private func requireDirectory(_ path: String, role: String) throws(SectorPersistError) {
        guard let status = try Self.status(path, follow: true) else {
            throw .io(PersistenceIO.failure(path, "open \(role)", ENOENT))
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw .notARegularFile(path: path, role: "\(role) (expected a directory)")
        }
    }

    /// Whether two files hold the same bytes (their sizes were already found equal).
    private func sameContent(_ first: String, _ second: String) throws(SectorPersistError) -> Bool {
        let a = try Self.open(first, O_RDONLY)
        defer { PersistenceIO.closeQuietly(a) }
        let b = try Self.open(second, O_RDONLY)
        defer { PersistenceIO.closeQuietly(b) }
        let size = min(chunkSize, 1 << 20)
        let left = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { left.deallocate() }
        let right = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { right.deallocate() }
        while true {
            let countA = try Self.readFully(a, into: left, path: first)
            let countB = try Self.readFully(b, into: right, path: second)
            if countA != countB { return false }
            if countA == 0 { return true }
            if memcmp(left.baseAddress!, right.baseAddress!, countA) != 0 { return false }
        }
    }

    // MARK: - POSIX helpers

    /// Reads until `buffer` is full or end of file; returns the bytes read.
    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(SectorPersistError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw .io(PersistenceIO.failure(path, "read", code))
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// `stat` (or `lstat`) of `path`; nil when it does not exist.
    static func status(_ path: String, follow: Bool) throws(SectorPersistError) -> stat? {
        var result = stat()
        let code = follow ? stat(path, &result) : lstat(path, &result)
        if code == 0 { return result }
        let error = errno
        if error == ENOENT { return nil }
        throw .io(PersistenceIO.failure(path, "stat", error))
    }

    static func isRegular(_ status: stat) -> Bool { (status.st_mode & S_IFMT) == S_IFREG }

    /// Opens `path` with `flags` (mode 0644 when creating).
    private static func open(_ path: String, _ flags: Int32) throws(SectorPersistError) -> Int32 {
        do throws(PersistenceError) {
            return try PersistenceIO.openOrThrow(path, flags, mode: 0o644)
        } catch {
            throw .io(error)
        }
    }

    /// Removes a file, symlink or directory tree; false when nothing was there.
    static func removeTree(_ path: String) throws(SectorPersistError) -> Bool {
        do throws(PersistenceError) {
            return try removeTreeRaw(path)
        } catch {
            throw .io(error)
        }
    }

    private static func removeTreeRaw(_ path: String) throws(PersistenceError) -> Bool {
        var status = stat()
        if lstat(path, &status) != 0 {
            let code = errno
            if code == ENOENT { return false }
            throw PersistenceIO.failure(path, "stat", code)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            for name in try PersistenceIO.listDirectory(path) {
                _ = try removeTreeRaw(path + "/" + name)
            }
            if rmdir(path) != 0 {
                let code = errno
                if code != ENOENT { throw PersistenceIO.failure(path, "remove directory", code) }
            }
        } else {
            try PersistenceIO.unlink(path)
        }
        return true
    }
}

/// A flag set once from a cancellation handler and polled by the copying thread.
private final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
