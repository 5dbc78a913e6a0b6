/// A 20-byte Ethereum account address, printed with the EIP-55 mixed-case checksum as
/// go-ethereum's `Address.Hex()` does.
public struct EthereumAddress: Sendable, Hashable, CustomStringConvertible {
    /// The 20 address bytes.
    public let bytes: [UInt8]

    /// Exactly 20 bytes.
    public init(bytes: [UInt8]) throws(Secp256k1Error) {
        guard bytes.count == 20 else { throw .invalidPublicKey }
        self.bytes = bytes
    }

    /// 40 hex digits, 0x-prefixed or not, any case (the checksum casing is not enforced, as
    /// go-ethereum's HexToAddress does not; unlike it, shorter or longer text is refused).
    public init(hex: String) throws(Secp256k1Error) {
        guard let bytes = Hex.decode(Substring(hex)), bytes.count == 20 else { throw .invalidPublicKey }
        self.bytes = bytes
    }

    init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// 0x followed by 40 lowercase hex digits.
    public var lowercaseHex: String { "0x" + bytes.hex }

    /// EIP-55: hex digit i is uppercased when it is a letter and nibble i of
    /// Keccak-256(lowercase hex, as ASCII) is 8 or more.
    public var description: String {
        let lower = Array(bytes.hex.utf8)
        let hash = Keccak256.hash(lower)
        var out = Array("0x".utf8)
        for (i, c) in lower.enumerated() {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0xF
            out.append(c >= UInt8(ascii: "a") && nibble >= 8 ? c - 0x20 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
