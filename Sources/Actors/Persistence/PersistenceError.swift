/// Everything that can go wrong while reading or writing the daemon's persisted state.
///
/// Every case names the file it is about. `description` is written for an operator:
/// it says which file, what was being done, and what is wrong with it.
public enum PersistenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    ///
    /// - Parameters:
    ///   - path: the file or directory the call was about.
    ///   - operation: what was being done, e.g. `"fsync"`, `"rename to /x/state"`,
    ///     `"truncate to 4096 bytes"`.
    ///   - errno: the `errno` value the call reported.
    ///   - message: the system's text for `errno` (`strerror`).
    case io(path: String, operation: String, errno: Int32, message: String)

    /// The file exists but its content is not valid: torn, truncated, bit-flipped or foreign.
    /// The file was left in place, untouched, for inspection.
    case corrupt(path: String, reason: String)

    /// The file is larger than this module accepts (a document to write, a record to append,
    /// or a file found on disk).
    case tooLarge(path: String, size: Int, limit: Int)

    /// The journal can no longer be appended to: it was closed by its owner, or an earlier
    /// failure left its on-disk state unknown (see `reason`).
    case closed(path: String, reason: String)

    /// Another `Journal` (in this process or another one) already holds the journal open.
    case locked(path: String)

    /// A one-line explanation for an operator.
    public var description: String {
        switch self {
        case .io(let path, let operation, let errno, let message):
            return "I/O error on \(path): \(operation) failed: \(message) (errno \(errno))"
        case .corrupt(let path, let reason):
            return "state file \(path) is corrupt: \(reason); it was left in place for inspection"
        case .tooLarge(let path, let size, let limit):
            return "state file \(path) is too large: \(size) bytes, the limit is \(limit) bytes"
        case .closed(let path, let reason):
            return "journal \(path) cannot be appended to: \(reason)"
        case .locked(let path):
            return "journal \(path) is already open by another process (or another Journal in this process); "
                + "only one writer may own it"
        }
    }
}
