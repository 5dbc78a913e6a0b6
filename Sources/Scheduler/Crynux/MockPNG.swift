/// A tiny PNG encoder (8-bit RGB, filter 0, zlib "stored" deflate blocks) for the mock
/// inference executor's deterministic images. Not compressed; correctness over size.
public enum MockPNG {
    /// PNG bytes of a `width` x `height` RGB image; `pixel(x, y)` gives (r, g, b).
    public static func encode(width: Int, height: Int, pixel: (Int, Int) -> (UInt8, UInt8, UInt8)) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0) // filter type None
            for x in 0..<width {
                let (r, g, b) = pixel(x, y)
                raw += [r, g, b]
            }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr = be32(UInt32(width)) + be32(UInt32(height))
        ihdr += [8, 2, 0, 0, 0]
        out += chunk("IHDR", ihdr)
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    /// A deterministic image for `seed`: smooth gradients whose directions and colours depend on it.
    public static func deterministic(seed: UInt64, width: Int = 64, height: Int = 64) -> [UInt8] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        let a = Int(next() % 7) + 1, b = Int(next() % 7) + 1, c = Int(next() % 256), d = Int(next() % 5) + 1
        return encode(width: width, height: height) { x, y in
            (UInt8(truncatingIfNeeded: x * a + c), UInt8(truncatingIfNeeded: y * b + c / 2), UInt8(truncatingIfNeeded: (x + y) * d))
        }
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return be32(UInt32(data.count)) + typed + be32(crc32(typed))
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        return out + be32(adler32(data))
    }

    /// zlib's Adler-32.
    public static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }

    /// The CRC-32 of PNG and zlib (polynomial 0xEDB88320, reflected).
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
