#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An atomically replaced snapshot of one small document (a few KiB of JSON) that survives
/// `kill -9` or power loss at any instant: a reader sees either the previous complete
/// document or the new complete document, never a mix.
///
/// On-disk format (all integers little-endian), 23-byte header then the payload:
///
/// | offset | size | field                                   |
/// |--------|------|-----------------------------------------|
/// | 0      | 9    | magic `SEALSTATE`                       |
/// | 9      | 2    | format version (`1`)                    |
/// | 11     | 8    | payload length in bytes                 |
/// | 19     | 4    | CRC-32C of the payload                  |
/// | 23     | n    | payload                                 |
///
/// `write` puts the new document in `<path>.tmp-<pid>-<random>`, fsyncs it, renames it over
/// `path` and fsyncs the containing directory. `read` validates everything and reports any
/// damage as `PersistenceError.corrupt`, leaving the file untouched.
///
/// Concurrent `write`s to the same path from one process are safe (each uses its own
/// temporary; the last rename wins), but the daemon should have a single writer per path.
public struct DurableFile: Sendable {
    /// The file this value reads and replaces.
    public let path: String

    /// The magic bytes every state file starts with.
    static let magic: [UInt8] = Array("SEALSTATE".utf8)
    /// The format version this build writes and reads.
    static let formatVersion: UInt16 = 1
    /// Header size: magic, version, payload length, payload checksum.
    static let headerSize = 9 + 2 + 8 + 4

    /// The largest payload `write` accepts and `read` returns (64 MiB).
    public static let maximumPayloadSize = 64 * 1024 * 1024

    /// The prefix (within the directory) of temporaries written by `write`.
    var temporaryPrefix: String { PersistenceIO.baseName(of: path) + ".tmp-" }

    /// A handle on the state file at `path`. Touches nothing on disk.
    public init(path: String) {
        self.path = path
    }

    /// Atomically and durably replaces the file's content with `payload`.
    ///
    /// When this returns, the new document is on stable storage and a crash at any later
    /// instant reads it back. When it throws, the file holds either the old or (if the
    /// failure came after the rename, while syncing the directory) the new document.
    public func write(_ payload: [UInt8]) throws(PersistenceError) {
        guard payload.count <= Self.maximumPayloadSize else {
            throw .tooLarge(path: path, size: payload.count, limit: Self.maximumPayloadSize)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + payload.count)
        bytes.append(contentsOf: Self.magic)
        PersistenceIO.append(Self.formatVersion, to: &bytes)
        PersistenceIO.append(UInt64(payload.count), to: &bytes)
        PersistenceIO.append(CRC32C.checksum(payload), to: &bytes)
        bytes.append(contentsOf: payload)

        try PersistenceIO.replaceAtomically(path, with: bytes, temporaryPrefix: temporaryPrefix)
    }

    /// Reads and validates the document.
    ///
    /// - Returns: the payload of the last completed `write`, or `nil` when the file does not exist.
    /// - Throws: `PersistenceError.corrupt` when the file is torn, truncated, bit-flipped,
    ///   empty or not a state file (the file is left untouched); `PersistenceError.io` when it
    ///   cannot be read. Never returns partial data.
    public func read() throws(PersistenceError) -> [UInt8]? {
        let fd: Int32
        switch PersistenceIO.open(path, O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let code):
            if code == ENOENT { return nil }
            throw PersistenceIO.failure(path, "open", code)
        }
        let bytes: [UInt8]
        do throws(PersistenceError) {
            bytes = try PersistenceIO.readAll(fd, path: path, limit: Self.headerSize + Self.maximumPayloadSize)
        } catch {
            PersistenceIO.closeQuietly(fd)
            throw error
        }
        PersistenceIO.closeQuietly(fd)  // read-only descriptor: nothing to lose on close
        return try Self.decode(bytes, path: path)
    }

    /// Removes temporaries (`<name>.tmp-*` next to the file) left behind by a `write` that was
    /// interrupted by a crash. Call it at startup, before any `write` to this path begins:
    /// it would also remove the temporary of a `write` running concurrently.
    ///
    /// - Returns: the full paths of the files removed, for the daemon to log.
    @discardableResult
    public func removeStaleTemporaries() throws(PersistenceError) -> [String] {
        let directory = PersistenceIO.directory(of: path)
        let prefix = temporaryPrefix
        var removed: [String] = []
        for name in try PersistenceIO.listDirectory(directory) where name.hasPrefix(prefix) {
            let stale = directory + "/" + name
            try PersistenceIO.unlink(stale)
            removed.append(stale)
        }
        if !removed.isEmpty {
            try PersistenceIO.fsyncDirectory(directory)
        }
        return removed
    }

    /// Validates a whole state file image and returns its payload.
    static func decode(_ bytes: [UInt8], path: String) throws(PersistenceError) -> [UInt8] {
        if bytes.isEmpty {
            throw .corrupt(
                path: path, reason: "the file is empty (0 bytes); a state file has at least a \(headerSize)-byte header")
        }
        let magicPresent = min(bytes.count, magic.count)
        guard bytes[0..<magicPresent].elementsEqual(magic[0..<magicPresent]) else {
            let shown = bytes.prefix(16).map { byte in
                let digits = String(byte, radix: 16, uppercase: true)
                return digits.count == 1 ? "0" + digits : digits
            }.joined(separator: " ")
            throw .corrupt(
                path: path,
                reason: "not a sealer state file: it does not start with the SEALSTATE magic (first bytes: \(shown))")
        }
        guard bytes.count >= headerSize else {
            throw .corrupt(
                path: path,
                reason: "truncated: only \(bytes.count) bytes, less than the \(headerSize)-byte header")
        }
        let outcome = bytes.withUnsafeBytes { raw in
            do throws(PersistenceError) {
                return Result<[UInt8], PersistenceError>.success(try decodeValidatedHeader(raw, path: path))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Validates version, length and checksum of an image whose magic and size were checked.
    private static func decodeValidatedHeader(
        _ raw: UnsafeRawBufferPointer, path: String
    ) throws(PersistenceError) -> [UInt8] {
        let version = PersistenceIO.loadUInt16(raw, at: 9)
        guard version == formatVersion else {
            throw .corrupt(
                path: path,
                reason: "unsupported format version \(version) (this build reads version \(formatVersion))")
        }
        let declared = PersistenceIO.loadUInt64(raw, at: 11)
        let present = raw.count - headerSize
        if declared > UInt64(present) {
            throw .corrupt(
                path: path,
                reason: "truncated: the header declares a \(declared)-byte payload but only \(present) bytes follow it")
        }
        if declared < UInt64(present) {
            throw .corrupt(
                path: path,
                reason: "\(present - Int(declared)) unexpected bytes after the declared \(declared)-byte payload")
        }
        let stored = PersistenceIO.loadUInt32(raw, at: 19)
        let payload = UnsafeRawBufferPointer(rebasing: raw[headerSize...])
        let computed = CRC32C.checksum(payload)
        guard stored == computed else {
            throw .corrupt(
                path: path,
                reason: "checksum mismatch (stored \(PersistenceIO.hex(stored)), computed \(PersistenceIO.hex(computed)))"
            )
        }
        return Array(payload)
    }
}
