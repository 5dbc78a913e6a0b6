#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, typed-throwing wrappers over the POSIX calls `DurableFile` and `Journal` need.
/// Every wrapper retries `EINTR` and turns failures into `PersistenceError.io` naming the path.
enum PersistenceIO {
    /// The outcome of `open`: a descriptor, or the `errno` value of the failure.
    enum OpenResult {
        case success(Int32)
        case failure(Int32)
    }

    /// The system's text for an `errno` value. (glibc's `strerror` returns constant strings
    /// for known codes and a thread-local buffer for unknown ones, so this is thread-safe there.)
    static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }

    /// A `PersistenceError.io` for the current `errno`.
    static func failure(_ path: String, _ operation: String, _ code: Int32 = errno) -> PersistenceError {
        .io(path: path, operation: operation, errno: code, message: message(for: code))
    }

    /// Opens `path`; on failure returns the `errno` value instead of throwing, so callers can
    /// treat `ENOENT` specially.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) -> OpenResult {
        while true {
            let fd = posixOpen(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return .success(fd) }
            let code = errno
            if code != EINTR { return .failure(code) }
        }
    }

    /// Opens `path` or throws.
    static func openOrThrow(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(PersistenceError) -> Int32 {
        switch open(path, flags, mode: mode) {
        case .success(let fd): return fd
        case .failure(let code): throw failure(path, "open", code)
        }
    }

    /// Writes every byte of `bytes` (at `offset` with `pwrite` when given, else at the file position).
    static func writeAll(
        _ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, at offset: Int? = nil
    ) throws(PersistenceError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        var position = offset
        while remaining > 0 {
            let written: Int
            if let at = position {
                written = pwrite(fd, base, remaining, off_t(at))
            } else {
                written = write(fd, base, remaining)
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw failure(path, "write", code)
            }
            if written == 0 {
                throw failure(path, "write", EIO)
            }
            base += written
            remaining -= written
            if let at = position { position = at + written }
        }
    }

    /// Writes every byte of `bytes` (see the raw-buffer overload).
    static func writeAll(
        _ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String, at offset: Int? = nil
    ) throws(PersistenceError) {
        let outcome: PersistenceError? = bytes.withUnsafeBytes { buffer in
            do throws(PersistenceError) {
                try writeAll(fd, buffer, path: path, at: offset)
                return nil
            } catch {
                return error
            }
        }
        if let outcome { throw outcome }
    }

    /// Writes every byte of `bytes` (see the raw-buffer overload).
    static func writeAll(
        _ fd: Int32, _ bytes: [UInt8], path: String, at offset: Int? = nil
    ) throws(PersistenceError) {
        try writeAll(fd, bytes[...], path: path, at: offset)
    }

    /// Reads `fd` from its current position to end of file, refusing more than `limit` bytes.
    static func readAll(_ fd: Int32, path: String, limit: Int) throws(PersistenceError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress, buffer.count)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw failure(path, "read", code)
            }
            if count == 0 { return result }
            if result.count + count > limit {
                throw PersistenceError.tooLarge(path: path, size: result.count + count, limit: limit)
            }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Flushes data and metadata of `fd` to stable storage.
    static func fsync(_ fd: Int32, path: String) throws(PersistenceError) {
        while posixFsync(fd) != 0 {
            let code = errno
            if code != EINTR { throw failure(path, "fsync", code) }
        }
    }

    /// Flushes data (and the metadata needed to read it back, such as the size) of `fd`.
    static func fdatasync(_ fd: Int32, path: String) throws(PersistenceError) {
        #if os(Linux)
            while posixFdatasync(fd) != 0 {
                let code = errno
                if code != EINTR { throw failure(path, "fdatasync", code) }
            }
        #else
            try fsync(fd, path: path)
        #endif
    }

    /// Closes `fd`. Never retried on `EINTR` (on Linux the descriptor is gone either way).
    static func close(_ fd: Int32, path: String) throws(PersistenceError) {
        if posixClose(fd) != 0 {
            let code = errno
            if code != EINTR { throw failure(path, "close", code) }
        }
    }

    /// Closes `fd`, ignoring errors (used on paths that are already failing).
    static func closeQuietly(_ fd: Int32) {
        _ = posixClose(fd)
    }

    /// Renames `from` over `to` atomically.
    static func rename(_ from: String, to: String) throws(PersistenceError) {
        while posixRename(from, to) != 0 {
            let code = errno
            if code != EINTR { throw failure(from, "rename to \(to)", code) }
        }
    }

    /// Removes `path`; a file that is already gone is not an error.
    static func unlink(_ path: String) throws(PersistenceError) {
        while posixUnlink(path) != 0 {
            let code = errno
            if code == ENOENT { return }
            if code != EINTR { throw failure(path, "remove", code) }
        }
    }

    /// Truncates `fd` to `length` bytes.
    static func truncate(_ fd: Int32, to length: Int, path: String) throws(PersistenceError) {
        while ftruncate(fd, off_t(length)) != 0 {
            let code = errno
            if code != EINTR { throw failure(path, "truncate to \(length) bytes", code) }
        }
    }

    /// Makes a rename, creation or removal inside `directory` durable.
    static func fsyncDirectory(_ directory: String) throws(PersistenceError) {
        let fd = try openOrThrow(directory, O_RDONLY | O_DIRECTORY)
        do throws(PersistenceError) {
            try fsync(fd, path: directory)
        } catch {
            closeQuietly(fd)
            throw error
        }
        try close(fd, path: directory)
    }

    /// Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never a
    /// mix: written and fsync'd under `<directory>/<temporaryPrefix><random>`, renamed over
    /// `path`, the directory fsync'd. The temporary is removed when a step fails.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], temporaryPrefix: String) throws(PersistenceError) {
        let directory = directory(of: path)
        let temporary = directory + "/" + temporaryPrefix + temporarySuffix()
        let fd = try openOrThrow(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        do throws(PersistenceError) {
            try writeAll(fd, bytes, path: temporary)
            try fsync(fd, path: temporary)
        } catch {
            closeQuietly(fd)
            try? unlink(temporary)
            throw error
        }
        do throws(PersistenceError) {
            try close(fd, path: temporary)
            try rename(temporary, to: path)
        } catch {
            try? unlink(temporary)
            throw error
        }
        try fsyncDirectory(directory)
    }

    /// The directory holding `path` (`"."` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The names in `directory`, without `.` and `..`.
    static func listDirectory(_ directory: String) throws(PersistenceError) -> [String] {
        guard let stream = opendir(directory) else {
            throw failure(directory, "list directory")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                let code = errno
                if code != 0 { throw failure(directory, "list directory", code) }
                return names
            }
            // Read the name in place: a record is only `d_reclen` bytes long, so copying the
            // whole `dirent` (`entry.pointee`) can read past the end of readdir's buffer.
            let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// A unique-enough suffix for temporary file names: `<pid>-<16 random hex digits>`.
    static func temporarySuffix() -> String {
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        return "\(getpid())-\(String(repeating: "0", count: 16 - random.count))\(random)"
    }

    /// Reads a little-endian `UInt32` at `offset` of `bytes` (caller checks bounds).
    static func loadUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Reads a little-endian `UInt16` at `offset` of `bytes` (caller checks bounds).
    static func loadUInt16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// Reads a little-endian `UInt64` at `offset` of `bytes` (caller checks bounds).
    static func loadUInt64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Appends `value` little-endian to `bytes`.
    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Formats a checksum as `0x` followed by 8 hex digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

// Module-qualified aliases so the wrappers above can share the POSIX names.
#if canImport(Glibc)
    private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
    private func posixFsync(_ fd: Int32) -> Int32 { Glibc.fsync(fd) }
    private func posixFdatasync(_ fd: Int32) -> Int32 { Glibc.fdatasync(fd) }
    private func posixClose(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    private func posixRename(_ from: String, _ to: String) -> Int32 { Glibc.rename(from, to) }
    private func posixUnlink(_ path: String) -> Int32 { Glibc.unlink(path) }
#elseif canImport(Darwin)
    private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Darwin.open(path, flags, mode) }
    private func posixFsync(_ fd: Int32) -> Int32 { Darwin.fsync(fd) }
    private func posixClose(_ fd: Int32) -> Int32 { Darwin.close(fd) }
    private func posixRename(_ from: String, _ to: String) -> Int32 { Darwin.rename(from, to) }
    private func posixUnlink(_ path: String) -> Int32 { Darwin.unlink(path) }
#endif
