import ProofsFFI

/// Signs node requests the way the Crynux relay verifies them (spec crynux.md 5.3, relay
/// `validate_signature.go`): Go-marshalled sorted compact JSON of the input, then the decimal
/// Unix timestamp, keccak256, secp256k1 with recovery byte 0/1, sent as `0x` + hex(r||s||v).
public struct RelaySigner: Sendable {
    public let key: Secp256k1PrivateKey
    /// The node's address as Ethereum derives it from the key.
    public let address: EthereumAddress

    public init(key: Secp256k1PrivateKey) {
        self.key = key
        self.address = key.publicKey.ethereumAddress
    }

    /// The exact bytes hashed for `input` at `timestamp`.
    public static func message(_ input: [String: JSONValue], timestamp: Int64) -> [UInt8] {
        GoJSON.marshal(.object(input)) + Array(String(timestamp).utf8)
    }

    /// `0x`-prefixed hex signature of `input` at `timestamp`.
    public func sign(_ input: [String: JSONValue], timestamp: Int64) throws(Secp256k1Error) -> String {
        let digest = Keccak256.hash(Self.message(input, timestamp: timestamp))
        return "0x" + Hex.encode(try key.sign(digest: digest).bytes)
    }

    /// The address that signed `input` at `timestamp`, or why none can be recovered.
    public static func recover(_ input: [String: JSONValue], timestamp: Int64, signature: String) -> Result<EthereumAddress, RelaySignatureError> {
        guard signature.hasPrefix("0x"), let bytes = Hex.decode(unprefixed: String(signature.dropFirst(2))) else { return .failure(.malformed) }
        let digest = Keccak256.hash(message(input, timestamp: timestamp))
        do {
            let sig = try RecoverableSignature(bytes: bytes)
            return .success(try sig.recoverPublicKey(digest: digest).ethereumAddress)
        } catch {
            return .failure(.unrecoverable)
        }
    }
}
