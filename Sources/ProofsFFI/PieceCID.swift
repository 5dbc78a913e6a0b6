/// A piece commitment as the manager and markets name it: a CIDv1 (`baga…`), codec
/// `fil-commitment-unsealed` (0xf101), multihash `sha2-256-trunc254-padded` (0x1012), 32-byte
/// digest, in multibase base32 lower case.
public enum PieceCID {
    /// CIDv1, codec 0xf101, multihash 0x1012, digest length 32 (each a varint).
    static let prefix: [UInt8] = [0x01, 0x81, 0xe2, 0x03, 0x92, 0x20, 0x20]
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// The CID string of a 32-byte commitment.
    public static func string(_ commP: [UInt8]) -> String {
        let bytes = prefix + commP
        var out: [UInt8] = [UInt8(ascii: "b")]
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[(buffer >> bits) & 31])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 32-byte commitment a piece CID names.
    public static func commitment(_ cid: String) throws(PieceCIDError) -> [UInt8] {
        let text = Array(cid.utf8)
        guard text.first == UInt8(ascii: "b") else { throw PieceCIDError(cid: cid, reason: "not a base32 (multibase 'b') CID") }
        var bytes: [UInt8] = []
        var buffer = 0, bits = 0
        for char in text.dropFirst() {
            guard let value = alphabet.firstIndex(of: char) else {
                throw PieceCIDError(cid: cid, reason: "'\(Character(UnicodeScalar(char)))' is not base32")
            }
            buffer = (buffer << 5 | value) & 0xffff
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> bits) & 0xff))
            }
        }
        guard bytes.count == prefix.count + 32, Array(bytes.prefix(prefix.count)) == prefix else {
            throw PieceCIDError(cid: cid, reason: "not a fil-commitment-unsealed sha2-256-trunc254-padded CID of 32 bytes")
        }
        return Array(bytes.suffix(32))
    }
}

/// A string that is not a piece commitment CID.
public struct PieceCIDError: Error, Sendable, Hashable, CustomStringConvertible {
    public var cid: String
    public var reason: String

    public var description: String { "piece CID \"\(cid)\": \(reason)" }
}
