#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A final journal record that a crash cut short (or otherwise damaged) with nothing valid
/// after it.
public struct TornTail: Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the journal file where the damaged final record begins; every record
    /// before it is intact.
    public let offset: Int
    /// Number of bytes from `offset` to the end of the file.
    public let byteCount: Int
    /// What is wrong with the record, e.g. "payload cut short: 3 of 17 bytes present".
    public let reason: String

    /// Creates a description of a torn tail.
    public init(offset: Int, byteCount: Int, reason: String) {
        self.offset = offset
        self.byteCount = byteCount
        self.reason = reason
    }

    /// An operator-readable summary.
    public var description: String {
        "torn final record at offset \(offset) (\(byteCount) bytes): \(reason)"
    }
}

/// Everything `Journal.read(path:)` found in a journal file.
public struct JournalContents: Sendable, Equatable {
    /// The payloads of the intact records, oldest first.
    public let records: [[UInt8]]
    /// The damaged final record, if a crash interrupted the last append; `nil` when the
    /// file ends cleanly after the last record.
    public let tornTail: TornTail?

    /// Creates journal contents.
    public init(records: [[UInt8]], tornTail: TornTail?) {
        self.records = records
        self.tornTail = tornTail
    }
}

/// An append-only, crash-safe log of small records (per-sector event history for operators).
///
/// On-disk format (all integers little-endian): a 12-byte file header — magic `SEALJRNL`,
/// format version `UInt32` (`1`) — then frames, each a 12-byte frame header followed by the
/// payload:
///
/// | offset | size | field                                         |
/// |--------|------|-----------------------------------------------|
/// | 0      | 4    | payload length                                |
/// | 4      | 4    | CRC-32C of the payload                        |
/// | 8      | 4    | CRC-32C of the 8 bytes above (header check)   |
/// | 12     | n    | payload                                       |
///
/// The header check makes a frame's length trustworthy on its own, which lets a reader tell
/// a torn final record (nothing valid after the damage: reported as `TornTail`) from
/// corruption in the middle (a valid frame exists somewhere after the damage:
/// `PersistenceError.corrupt`).
///
/// The file is created atomically (header written to a temporary, fsynced, renamed into
/// place, directory fsynced). `append` writes one frame and `fdatasync`s before returning.
/// One `Journal` owns the file at a time: `init` takes an exclusive `flock` and throws
/// `PersistenceError.locked` if another `Journal` (in any process) holds it.
///
/// `append` blocks on disk I/O while holding an internal lock; call it from a context where
/// blocking is acceptable (not from a latency-critical task on the cooperative pool).
public final class Journal: Sendable {
    /// The journal file.
    public let path: String

    /// The torn final record found and repaired by `init`, if any, so the daemon can log it.
    /// Its bytes were moved to `tornBytesPath` before the journal was truncated.
    public let recovered: TornTail?

    /// Where `init` preserved the torn bytes (`<path>.torn-<offset>`, or with a `-2`, `-3`…
    /// suffix if that name was taken by an earlier recovery); `nil` when nothing was torn.
    public let tornBytesPath: String?

    /// The largest record `append` accepts (16 MiB).
    public static let maximumRecordSize = 16 * 1024 * 1024

    static let magic: [UInt8] = Array("SEALJRNL".utf8)
    static let formatVersion: UInt32 = 1
    static let fileHeaderSize = 12
    static let frameHeaderSize = 12

    private struct State {
        var fd: Int32?
        /// Offset just past the last intact record; the next frame is written here.
        var end: Int
        /// Why `fd` is nil.
        var closedReason: String
    }

    private let state: Mutex<State>

    /// Opens the journal at `path`, creating it (atomically, with its header) if it does not exist.
    ///
    /// If the last record was torn by a crash, its bytes are first copied to
    /// `<path>.torn-<offset>` (fsynced), then the journal is truncated to the last intact
    /// record and fsynced; `recovered` and `tornBytesPath` describe what happened.
    /// Stale `<name>.tmp-*` files from an interrupted creation are removed.
    ///
    /// - Throws: `PersistenceError.corrupt` when the file is not a journal or is damaged in
    ///   the middle (the file is left untouched); `.locked` when another `Journal` owns it;
    ///   `.io` on system-call failures.
    public init(path: String) throws(PersistenceError) {
        self.path = path
        let fd: Int32
        switch PersistenceIO.open(path, O_RDWR) {
        case .success(let opened):
            fd = opened
        case .failure(let code) where code == ENOENT:
            try Self.create(path)
            fd = try PersistenceIO.openOrThrow(path, O_RDWR)
        case .failure(let code):
            throw PersistenceIO.failure(path, "open", code)
        }

        var tail: TornTail?
        var preserved: String?
        var end = 0
        do throws(PersistenceError) {
            // A process forked elsewhere in this program shares the open file description (and
            // so the lock) until it execs, even with O_CLOEXEC: wait out such brief holders
            // for up to a second before calling the journal taken.
            var attempts = 0
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EWOULDBLOCK {
                    attempts += 1
                    if attempts > 100 { throw PersistenceError.locked(path: path) }
                    usleep(10_000)
                    continue
                }
                throw PersistenceIO.failure(path, "lock", code)
            }
            try Self.removeStaleTemporaries(of: path)
            let bytes = try PersistenceIO.readAll(fd, path: path, limit: Int.max)
            let parsed = try Self.parse(bytes, path: path, collect: false)
            end = parsed.end
            if let torn = parsed.tornTail {
                preserved = try Self.preserve(bytes[torn.offset...], of: path, offset: torn.offset)
                try PersistenceIO.truncate(fd, to: torn.offset, path: path)
                try PersistenceIO.fsync(fd, path: path)
                tail = torn
            }
        } catch {
            PersistenceIO.closeQuietly(fd)
            throw error
        }
        self.recovered = tail
        self.tornBytesPath = preserved
        self.state = Mutex(State(fd: fd, end: end, closedReason: ""))
    }

    deinit {
        close()
    }

    /// Appends one record and `fdatasync`s it before returning: once this returns, the record
    /// survives a crash at any later instant.
    ///
    /// If writing fails part-way, the partial frame is truncated away so the journal stays
    /// well-formed. If that rollback or the `fdatasync` fails, the on-disk state is unknown:
    /// the journal is closed and every later `append` throws `PersistenceError.closed`
    /// (reopen it with `init` to recover).
    public func append(_ record: [UInt8]) throws(PersistenceError) {
        guard record.count <= Self.maximumRecordSize else {
            throw .tooLarge(path: path, size: record.count, limit: Self.maximumRecordSize)
        }
        let frame = Self.frame(record)
        let path = self.path
        try state.withLock { (state) throws(PersistenceError) in
            guard let fd = state.fd else {
                throw .closed(path: path, reason: state.closedReason)
            }
            do throws(PersistenceError) {
                try PersistenceIO.writeAll(fd, frame, path: path, at: state.end)
            } catch {
                do throws(PersistenceError) {
                    try PersistenceIO.truncate(fd, to: state.end, path: path)
                } catch let rollback {
                    PersistenceIO.closeQuietly(fd)
                    state.fd = nil
                    state.closedReason =
                        "an append failed (\(error)) and the partial record could not be removed (\(rollback)); "
                        + "reopen the journal to recover"
                }
                throw error
            }
            do throws(PersistenceError) {
                try PersistenceIO.fdatasync(fd, path: path)
            } catch {
                PersistenceIO.closeQuietly(fd)
                state.fd = nil
                state.closedReason =
                    "an earlier fdatasync failed (\(error)), so what reached the disk is unknown; "
                    + "reopen the journal to recover"
                throw error
            }
            state.end += frame.count
        }
    }

    /// Closes the file. Idempotent; later `append`s throw `PersistenceError.closed`.
    /// Nothing is lost by closing: every `append` was already synced.
    public func close() {
        state.withLock { state in
            guard let fd = state.fd else { return }
            PersistenceIO.closeQuietly(fd)
            state.fd = nil
            state.closedReason = "it was closed"
        }
    }

    /// Reads every intact record of the journal at `path` without modifying it (no lock is
    /// taken; reading a journal that is being appended to may report the in-flight record
    /// as a torn tail).
    ///
    /// - Returns: the records and, if the final record is cut short or damaged with nothing
    ///   valid after it, a `TornTail` describing it.
    /// - Throws: `PersistenceError.corrupt` when the file is not a journal or a damaged
    ///   record is followed by valid data; `.io` when it cannot be read (including
    ///   `ENOENT` when it does not exist).
    public static func read(path: String) throws(PersistenceError) -> JournalContents {
        let fd = try PersistenceIO.openOrThrow(path, O_RDONLY)
        let bytes: [UInt8]
        do throws(PersistenceError) {
            bytes = try PersistenceIO.readAll(fd, path: path, limit: Int.max)
        } catch {
            PersistenceIO.closeQuietly(fd)
            throw error
        }
        PersistenceIO.closeQuietly(fd)
        let parsed = try parse(bytes, path: path, collect: true)
        return JournalContents(records: parsed.records, tornTail: parsed.tornTail)
    }

    // MARK: - Format

    /// The on-disk frame for `payload`.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(frameHeaderSize + payload.count)
        PersistenceIO.append(UInt32(payload.count), to: &frame)
        PersistenceIO.append(CRC32C.checksum(payload), to: &frame)
        let headerCheck = frame.withUnsafeBytes { CRC32C.checksum($0) }
        PersistenceIO.append(headerCheck, to: &frame)
        frame.append(contentsOf: payload)
        return frame
    }

    /// The 12-byte file header.
    static var fileHeader: [UInt8] {
        var header = magic
        PersistenceIO.append(formatVersion, to: &header)
        return header
    }

    private enum FrameCheck {
        case valid(payload: Range<Int>)
        case invalid(reason: String)
    }

    /// Checks the frame starting at `offset`.
    private static func checkFrame(_ raw: UnsafeRawBufferPointer, at offset: Int) -> FrameCheck {
        let available = raw.count - offset
        guard available >= frameHeaderSize else {
            return .invalid(reason: "record header cut short: \(available) of \(frameHeaderSize) bytes present")
        }
        let storedHeaderCheck = PersistenceIO.loadUInt32(raw, at: offset + 8)
        let computedHeaderCheck = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 8]))
        guard storedHeaderCheck == computedHeaderCheck else {
            return .invalid(
                reason: "record header checksum mismatch (stored \(PersistenceIO.hex(storedHeaderCheck)), "
                    + "computed \(PersistenceIO.hex(computedHeaderCheck)))")
        }
        let length = Int(PersistenceIO.loadUInt32(raw, at: offset))
        guard length <= maximumRecordSize else {
            return .invalid(reason: "record length \(length) exceeds the \(maximumRecordSize)-byte limit")
        }
        let start = offset + frameHeaderSize
        guard raw.count - start >= length else {
            return .invalid(reason: "payload cut short: \(raw.count - start) of \(length) bytes present")
        }
        let storedPayloadCheck = PersistenceIO.loadUInt32(raw, at: offset + 4)
        let computedPayloadCheck = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<start + length]))
        guard storedPayloadCheck == computedPayloadCheck else {
            return .invalid(
                reason: "payload checksum mismatch (stored \(PersistenceIO.hex(storedPayloadCheck)), "
                    + "computed \(PersistenceIO.hex(computedPayloadCheck)))")
        }
        return .valid(payload: start..<start + length)
    }

    private struct Parsed {
        var records: [[UInt8]] = []
        /// Offset just past the last intact record.
        var end: Int
        var tornTail: TornTail?
    }

    /// Validates a whole journal image.
    private static func parse(_ bytes: [UInt8], path: String, collect: Bool) throws(PersistenceError) -> Parsed {
        try checkFileHeader(bytes, path: path)
        let outcome = bytes.withUnsafeBytes { raw in
            do throws(PersistenceError) {
                return Result<Parsed, PersistenceError>.success(try parseFrames(raw, path: path, collect: collect))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Walks the frames after the file header.
    private static func parseFrames(
        _ raw: UnsafeRawBufferPointer, path: String, collect: Bool
    ) throws(PersistenceError) -> Parsed {
        var parsed = Parsed(end: fileHeaderSize)
        var offset = fileHeaderSize
        var index = 0
        while offset < raw.count {
            switch checkFrame(raw, at: offset) {
            case .valid(let payload):
                if collect { parsed.records.append(Array(UnsafeRawBufferPointer(rebasing: raw[payload]))) }
                offset = payload.upperBound
                parsed.end = offset
                index += 1
            case .invalid(let reason):
                if let later = firstValidFrame(in: raw, after: offset) {
                    throw .corrupt(
                        path: path,
                        reason: "record #\(index + 1) at offset \(offset) is damaged (\(reason)), but an intact "
                            + "record follows at offset \(later): the journal is damaged in the middle, "
                            + "not torn at its end")
                }
                parsed.tornTail = TornTail(offset: offset, byteCount: raw.count - offset, reason: reason)
                return parsed
            }
        }
        return parsed
    }

    /// Validates the 12-byte file header.
    private static func checkFileHeader(_ bytes: [UInt8], path: String) throws(PersistenceError) {
        if bytes.isEmpty {
            throw .corrupt(
                path: path, reason: "the file is empty (0 bytes); a journal starts with a \(fileHeaderSize)-byte header")
        }
        let magicPresent = min(bytes.count, magic.count)
        guard bytes[0..<magicPresent].elementsEqual(magic[0..<magicPresent]) else {
            throw .corrupt(path: path, reason: "not a sealer journal: it does not start with the SEALJRNL magic")
        }
        guard bytes.count >= fileHeaderSize else {
            throw .corrupt(
                path: path,
                reason: "the journal header is incomplete: \(bytes.count) of \(fileHeaderSize) bytes present")
        }
        let version = bytes.withUnsafeBytes { PersistenceIO.loadUInt32($0, at: magic.count) }
        guard version == formatVersion else {
            throw .corrupt(
                path: path,
                reason: "unsupported journal format version \(version) (this build reads version \(formatVersion))")
        }
    }

    /// The offset of the first intact frame strictly after `offset`, if any.
    private static func firstValidFrame(in raw: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + frameHeaderSize <= raw.count {
            if case .valid = checkFrame(raw, at: candidate) { return candidate }
            candidate += 1
        }
        return nil
    }

    // MARK: - File management

    /// Creates a journal holding only its header, atomically and durably.
    private static func create(_ path: String) throws(PersistenceError) {
        try PersistenceIO.replaceAtomically(path, with: fileHeader, temporaryPrefix: PersistenceIO.baseName(of: path) + ".tmp-")
    }

    /// Removes `<name>.tmp-*` left by a creation interrupted by a crash.
    private static func removeStaleTemporaries(of path: String) throws(PersistenceError) {
        let directory = PersistenceIO.directory(of: path)
        let prefix = PersistenceIO.baseName(of: path) + ".tmp-"
        for name in try PersistenceIO.listDirectory(directory) where name.hasPrefix(prefix) {
            try PersistenceIO.unlink(directory + "/" + name)
        }
    }

    /// Durably copies torn bytes to a new `<path>.torn-<offset>[-n]` file and returns its path.
    private static func preserve(_ torn: ArraySlice<UInt8>, of path: String, offset: Int) throws(PersistenceError)
        -> String
    {
        let base = "\(path).torn-\(offset)"
        var attempt = 1
        while true {
            let candidate = attempt == 1 ? base : "\(base)-\(attempt)"
            switch PersistenceIO.open(candidate, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644) {
            case .success(let fd):
                do throws(PersistenceError) {
                    try PersistenceIO.writeAll(fd, torn, path: candidate)
                    try PersistenceIO.fsync(fd, path: candidate)
                } catch {
                    PersistenceIO.closeQuietly(fd)
                    throw error
                }
                try PersistenceIO.close(fd, path: candidate)
                try PersistenceIO.fsyncDirectory(PersistenceIO.directory(of: path))
                return candidate
            case .failure(let code) where code == EEXIST && attempt < 10_000:
                attempt += 1
            case .failure(let code):
                throw PersistenceIO.failure(candidate, "create", code)
            }
        }
    }
}
