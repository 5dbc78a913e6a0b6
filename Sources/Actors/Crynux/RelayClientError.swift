/// Why a relay call did not succeed. None of these is acted on: the next cycle re-reads.
public enum RelayClientError: Error, Sendable, Hashable, CustomStringConvertible {
    case transport(String)
    case rejected(status: Int, message: String)
    case malformed(String)
    case signing(String)
    public var description: String {
        switch self {
        case let .transport(m): "relay unreachable: \(m)"
        case let .rejected(status, message): "relay answered \(status): \(message)"
        case let .malformed(m): "malformed relay answer: \(m)"
        case let .signing(m): "cannot sign: \(m)"
        }
    }
}
