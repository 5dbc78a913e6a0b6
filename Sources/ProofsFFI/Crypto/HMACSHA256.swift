/// HMAC-SHA256 (RFC 2104) over the project's SHA256, for RFC 6979 nonce derivation.
enum HMACSHA256 {
    static let blockSize = 64

    /// The 32-byte MAC of `message` under `key`.
    static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? SHA256.hash(key) : key
        block.append(contentsOf: [UInt8](repeating: 0, count: blockSize - block.count))
        let inner = SHA256.hash(block.map { $0 ^ 0x36 } + message)
        return SHA256.hash(block.map { $0 ^ 0x5C } + inner)
    }
}
