/// A problem found in a config file, pointing at `file:line:column` and the key path.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case warning, error
    }

    public var severity: Severity
    public var file: String
    public var position: TOMLPosition?
    /// Where in the document, e.g. `sealing_thread[2].sealing.max_retries`.
    public var keyPath: String
    public var message: String

    public init(_ severity: Severity, file: String, position: TOMLPosition?, keyPath: String, message: String) {
        self.severity = severity
        self.file = file
        self.position = position
        self.keyPath = keyPath
        self.message = message
    }

    public var isError: Bool { severity == .error }

    /// `damocles.toml:12:1: warning: sealing_thread[2].sealng: unknown key (ignored)`.
    public var description: String {
        let place = position.map { "\(file):\($0.line):\($0.column)" } ?? file
        return "\(place): \(severity): \(keyPath.isEmpty ? "" : keyPath + ": ")\(message)"
    }
}
