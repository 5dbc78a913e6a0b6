/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum used by every
/// persisted file in this module. Table-driven, one byte at a time.
///
/// Known vectors: `"123456789"` ⇒ `0xE3069283`, the empty input ⇒ `0`.
///
/// Use `CRC32C.checksum(_:)` for one-shot checksums, or create a value and call
/// `update(_:)` repeatedly for incremental checksums, then read `value`.
public struct CRC32C: Sendable, Equatable {
    /// The 256-entry lookup table for the reflected Castagnoli polynomial.
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
            table[index] = crc
        }
        return table
    }()

    /// The running register (pre-inverted).
    private var register: UInt32 = 0xFFFF_FFFF

    /// Starts a new checksum over no bytes.
    public init() {}

    /// The checksum of every byte passed to `update` so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// Feeds `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = register
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        register = crc
    }

    /// Feeds `bytes` into the checksum.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        var crc = register
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        register = crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }
}
