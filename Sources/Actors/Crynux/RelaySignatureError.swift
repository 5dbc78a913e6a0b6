/// Why a relay signature is refused.
public enum RelaySignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed, unrecoverable, expired(skew: Int64), wrongSigner(String)
    public var description: String {
        switch self {
        case .malformed: "signature is not 0x-prefixed hex"
        case .unrecoverable: "no public key recovers from the signature"
        case let .expired(skew): "timestamp is \(skew) s from the relay's clock (limit 60 s)"
        case let .wrongSigner(a): "signed by \(a), not the node"
        }
    }
}
