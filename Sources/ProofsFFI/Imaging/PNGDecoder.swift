/// Why a PNG could not be decoded, with where: the chunk, the row, the zlib detail.
public enum PNGError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not start with the 8-byte PNG signature.
    case notPNG
    /// The file ends inside the named structure.
    case truncated(String)
    /// The CRC-32 of the named chunk does not match its contents.
    case badCRC(chunk: String)
    /// A valid PNG feature Go's decoder does not take either (for example grey+alpha at depth 4).
    case unsupported(String)
    /// The structure is invalid: chunk order, lengths, zero size, pixel data amount, palette.
    case corrupt(String)
    /// The zlib/DEFLATE image data is invalid.
    case badZlib(String)
    /// A scanline names a filter type other than 0-4 (`row` counts within its Adam7 pass).
    case badFilter(type: UInt8, row: Int)

    public var description: String {
        switch self {
        case .notPNG: "png: not a PNG file (bad signature)"
        case .truncated(let what): "png: truncated: \(what)"
        case .badCRC(let chunk): "png: CRC mismatch in \(chunk) chunk"
        case .unsupported(let what): "png: unsupported: \(what)"
        case .corrupt(let what): "png: invalid: \(what)"
        case .badZlib(let what): "png: bad zlib image data: \(what)"
        case let .badFilter(type, row): "png: bad filter type \(type) in scanline \(row)"
        }
    }
}

/// A decoded PNG as Go's image/png sees it: size, header fields, and the concrete Go image value
/// (`pixels`) whose type and samples drive the bit-exact perceptual hash.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// IHDR bit depth (1, 2, 4, 8 or 16) and colour type (0, 2, 3, 4 or 6).
    public let bitDepth: Int
    public let colorType: Int
    public let interlaced: Bool
    /// What `png.Decode` returns, pixels row-major.
    public let pixels: GoImage

    /// Images above this many pixels are refused, so a hostile file cannot exhaust memory
    /// (64 Mpx; Crynux outputs are at most a few Mpx).
    public static let maxPixels = 1 << 26

    /// Go's `img.At(x, y).RGBA()`.
    public func rgba64(x: Int, y: Int) -> GoRGBA64 { pixels.rgba64(at: y * width + x) }

    /// Decodes a PNG file, following Go 1.19+ image/png: every colour type and bit depth, palette
    /// and tRNS, Adam7, all five filters, CRC-32 on every chunk, IDAT runs, Adler-32.
    public init(decoding bytes: [UInt8]) throws(PNGError) {
        let header = try PNGChunks(bytes)
        width = header.width
        height = header.height
        bitDepth = header.depth
        colorType = header.colorType
        interlaced = header.interlaced
        pixels = try PNGRaster(header).decode()
    }
}

/// Chunk-level parsing: signature, IHDR, PLTE, tRNS, the IDAT run, IEND, in Go's chunk order.
struct PNGChunks {
    var width = 0, height = 0, depth = 0, colorType = 0, interlaced = false
    /// Go's `d.palette`: PLTE entries, extended and given alpha by tRNS.
    var palette: [GoColor] = []
    /// The raw tRNS bytes for grey / truecolour images, or nil.
    var transparent: [UInt8]?
    /// Concatenated payloads of the first run of consecutive IDAT chunks, and where each ends.
    var idat: [UInt8] = []
    var idatEnds: [Int] = []

    var paletted: Bool { colorType == 3 }

    static let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    private enum Stage: Int, Comparable {
        case start, seenIHDR, seenPLTE, seentRNS, seenIDAT, seenIEND
        static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
    }

    init(_ bytes: [UInt8]) throws(PNGError) {
        guard bytes.count >= 8 else {
            throw bytes.elementsEqual(Self.signature.prefix(bytes.count)) ? .truncated("signature") : .notPNG
        }
        guard bytes[0..<8].elementsEqual(Self.signature) else { throw .notPNG }
        var offset = 8
        var stage = Stage.start
        var previousWasIDAT = false
        while stage != .seenIEND {
            guard bytes.count - offset >= 8 else {
                throw .truncated(stage == .start ? "no IHDR chunk" : "chunk header at byte \(offset) (no IEND chunk)")
            }
            let length = Int(bigEndian32(bytes, offset))
            let typeBytes = Array(bytes[(offset + 4)..<(offset + 8)])
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= 0x7fff_ffff else { throw .corrupt("\(type) chunk length \(length) too large") }
            let dataStart = offset + 8
            guard bytes.count - dataStart >= length + 4 else {
                throw .truncated("\(type) chunk at byte \(offset) declares \(length) bytes")
            }
            let data = Array(bytes[dataStart..<(dataStart + length)])
            let stored = bigEndian32(bytes, dataStart + length)
            guard CRC32.checksum(typeBytes + data) == stored else { throw .badCRC(chunk: type) }
            offset = dataStart + length + 4
            let isIDAT = type == "IDAT"
            defer { previousWasIDAT = isIDAT }
            switch type {
            case "IHDR":
                guard stage == .start else { throw .corrupt("IHDR chunk out of order") }
                stage = .seenIHDR
                try parseIHDR(data)
            case "PLTE":
                guard stage == .seenIHDR else { throw .corrupt("PLTE chunk out of order") }
                stage = .seenPLTE
                try parsePLTE(data)
            case "tRNS":
                guard stage == (paletted ? .seenPLTE : .seenIHDR) else { throw .corrupt("tRNS chunk out of order") }
                stage = .seentRNS
                try parsetRNS(data)
            case "IDAT":
                guard stage >= .seenIHDR, !(stage == .seenIHDR && paletted) else {
                    throw .corrupt(paletted && stage == .seenIHDR ? "IDAT before PLTE in a paletted image" : "IDAT chunk out of order")
                }
                // Go reads image data from the first run of consecutive IDATs; later ones are skipped.
                if stage == .seenIDAT && !previousWasIDAT { continue }
                stage = .seenIDAT
                idat += data
                idatEnds.append(idat.count)
            case "IEND":
                guard stage == .seenIDAT else { throw .corrupt(stage < .seenIHDR ? "IEND before IHDR" : "IEND before any IDAT") }
                guard length == 0 else { throw .corrupt("IEND chunk has \(length) data bytes") }
                stage = .seenIEND
            default:
                continue  // Ancillary or unknown chunks are skipped after their CRC check, as Go does.
            }
        }
    }

    private mutating func parseIHDR(_ data: [UInt8]) throws(PNGError) {
        guard data.count == 13 else { throw .corrupt("IHDR length \(data.count), want 13") }
        guard data[10] == 0 else { throw .unsupported("IHDR compression method \(data[10])") }
        guard data[11] == 0 else { throw .unsupported("IHDR filter method \(data[11])") }
        guard data[12] <= 1 else { throw .corrupt("IHDR interlace method \(data[12])") }
        let w = bigEndian32(data, 0), h = bigEndian32(data, 4)
        guard w <= 0x7fff_ffff, h <= 0x7fff_ffff else { throw .corrupt("IHDR negative dimension") }
        guard w > 0, h > 0 else { throw .corrupt("IHDR zero size \(w)x\(h)") }
        guard UInt64(w) * UInt64(h) <= UInt64(PNGImage.maxPixels) else {
            throw .unsupported("image \(w)x\(h) above \(PNGImage.maxPixels) pixels")
        }
        width = Int(w)
        height = Int(h)
        depth = Int(data[8])
        colorType = Int(data[9])
        interlaced = data[12] == 1
        let valid: Bool = switch colorType {
        case 0: [1, 2, 4, 8, 16].contains(depth)
        case 3: [1, 2, 4, 8].contains(depth)
        case 2, 4, 6: depth == 8 || depth == 16
        default: false
        }
        guard valid else { throw .unsupported("bit depth \(depth), color type \(colorType)") }
    }

    private mutating func parsePLTE(_ data: [UInt8]) throws(PNGError) {
        let entries = data.count / 3
        guard data.count % 3 == 0, entries > 0, entries <= 256, entries <= 1 << depth else {
            throw .corrupt("PLTE length \(data.count)")
        }
        switch colorType {
        case 3:
            palette = (0..<entries).map { .rgba(r: data[3 * $0], g: data[3 * $0 + 1], b: data[3 * $0 + 2], a: 0xff) }
        case 2, 6:
            break  // A suggested palette for truecolour: ignored.
        default:
            throw .corrupt("PLTE chunk in a color type \(colorType) image")
        }
    }

    private mutating func parsetRNS(_ data: [UInt8]) throws(PNGError) {
        switch colorType {
        case 0:
            guard data.count == 2 else { throw .corrupt("tRNS length \(data.count) for grey, want 2") }
            transparent = data
        case 2:
            guard data.count == 6 else { throw .corrupt("tRNS length \(data.count) for truecolor, want 6") }
            transparent = data
        case 3:
            guard data.count <= 256 else { throw .corrupt("tRNS length \(data.count) above 256") }
            // Go extends the palette with its opaque-black padding when tRNS is longer.
            while palette.count < data.count { palette.append(.rgba(r: 0, g: 0, b: 0, a: 0xff)) }
            for (i, alpha) in data.enumerated() {
                if case let .rgba(r, g, b, _) = palette[i] { palette[i] = .nrgba(r: r, g: g, b: b, a: alpha) }
            }
        default:
            throw .corrupt("tRNS chunk in a color type \(colorType) image")
        }
    }
}

func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
}

/// CRC-32 (ISO 3309, as PNG uses it) over a chunk's type and data.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }
}

/// Scanline decoding: inflate, unfilter, Adam7 placement, conversion to Go's image type.
struct PNGRaster {
    let chunks: PNGChunks

    init(_ chunks: PNGChunks) { self.chunks = chunks }

    /// Adam7 passes as (xOffset, yOffset, xStep, yStep); a plain image is one pass (0, 0, 1, 1).
    static let adam7: [(Int, Int, Int, Int)] = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

    var bitsPerPixel: Int {
        let channels = switch chunks.colorType {
        case 2: 3
        case 4: 2
        case 6: 4
        default: 1
        }
        return channels * chunks.depth
    }

    func decode() throws(PNGError) -> GoImage {
        let passes = chunks.interlaced ? Self.adam7 : [(0, 0, 1, 1)]
        let bpp = bitsPerPixel
        var passSizes: [(width: Int, height: Int)] = []
        var expected = 0
        for (x0, y0, dx, dy) in passes {
            let w = (chunks.width - x0 + dx - 1) / dx, h = (chunks.height - y0 + dy - 1) / dy
            passSizes.append((w, h))
            // Go reads no filter byte at all for an empty pass.
            if w > 0 && h > 0 { expected += h * (1 + (bpp * w + 7) / 8) }
        }
        guard !chunks.idat.isEmpty else { throw .corrupt("no IDAT data") }
        let (data, consumed) = try Inflate.zlib(chunks.idat, limit: expected)
        guard data.count == expected else { throw .corrupt("not enough pixel data (\(data.count) of \(expected) bytes)") }
        // Go rejects bytes left after the zlib stream in the IDAT chunk where it ends.
        if let end = chunks.idatEnds.first(where: { $0 >= consumed }), end > consumed {
            throw .corrupt("too much pixel data (\(end - consumed) bytes after the zlib stream)")
        }
        var sink = PixelSink(chunks: chunks)
        var offset = 0
        for (index, (x0, y0, dx, dy)) in passes.enumerated() {
            let (w, h) = passSizes[index]
            guard w > 0 && h > 0 else { continue }
            let rowBytes = (bpp * w + 7) / 8
            let stride = rowBytes + 1
            var rows = Array(data[offset..<(offset + h * stride)])
            offset += h * stride
            try Self.unfilter(&rows, rows: h, rowBytes: rowBytes, bytesPerPixel: max(1, bpp / 8))
            for y in 0..<h {
                sink.store(row: rows, at: y * stride + 1, count: w, y: y0 + y * dy, x0: x0, dx: dx)
            }
        }
        return try sink.image(interlaced: chunks.interlaced)
    }

    /// Undoes the per-row filters in place; the filter byte leads each row.
    static func unfilter(_ data: inout [UInt8], rows: Int, rowBytes: Int, bytesPerPixel bpp: Int) throws(PNGError) {
        let stride = rowBytes + 1
        for y in 0..<rows {
            let start = y * stride + 1
            let previous = start - stride  // Only read when y > 0.
            let filter = data[start - 1]
            switch filter {
            case 0:
                break
            case 1:
                for i in bpp..<max(bpp, rowBytes) { data[start + i] &+= data[start + i - bpp] }
            case 2:
                if y > 0 { for i in 0..<rowBytes { data[start + i] &+= data[previous + i] } }
            case 3:
                for i in 0..<rowBytes {
                    let left = i >= bpp ? Int(data[start + i - bpp]) : 0
                    let up = y > 0 ? Int(data[previous + i]) : 0
                    data[start + i] &+= UInt8((left + up) / 2)
                }
            case 4:
                for i in 0..<rowBytes {
                    let a = i >= bpp ? Int(data[start + i - bpp]) : 0
                    let b = y > 0 ? Int(data[previous + i]) : 0
                    let c = i >= bpp && y > 0 ? Int(data[previous + i - bpp]) : 0
                    let pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c)
                    let predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                    data[start + i] &+= UInt8(predictor)
                }
            default:
                throw .badFilter(type: filter, row: y)
            }
        }
    }
}

/// Collects pixels into the storage of the Go image type image/png would allocate.
private struct PixelSink {
    let chunks: PNGChunks
    var bytes: [UInt8] = []
    var words: [UInt16] = []
    var palette: [GoColor]
    var maxIndex = -1

    enum Kind { case gray, gray16, rgba, nrgba, rgba64, nrgba64, paletted }
    let kind: Kind

    init(chunks: PNGChunks) {
        self.chunks = chunks
        palette = chunks.palette
        let transparent = chunks.transparent != nil
        switch (chunks.colorType, chunks.depth) {
        case (0, 16): kind = transparent ? .nrgba64 : .gray16
        case (0, _): kind = transparent ? .nrgba : .gray
        case (2, 8): kind = transparent ? .nrgba : .rgba
        case (2, _): kind = transparent ? .nrgba64 : .rgba64
        case (3, _): kind = .paletted
        case (4, 8), (6, 8): kind = .nrgba
        default: kind = .nrgba64
        }
        let pixels = chunks.width * chunks.height
        switch kind {
        case .gray, .paletted: bytes = [UInt8](repeating: 0, count: pixels)
        case .rgba, .nrgba: bytes = [UInt8](repeating: 0, count: pixels * 4)
        case .gray16: words = [UInt16](repeating: 0, count: pixels)
        case .rgba64, .nrgba64: words = [UInt16](repeating: 0, count: pixels * 4)
        }
    }

    /// Stores `count` pixels of the unfiltered scanline starting at `row[at]` into image row `y`,
    /// columns x0, x0 + dx, ...
    mutating func store(row: [UInt8], at: Int, count: Int, y: Int, x0: Int, dx: Int) {
        let depth = chunks.depth
        let base = y * chunks.width + x0
        let t = chunks.transparent
        func sample16(_ i: Int) -> UInt16 { UInt16(row[at + 2 * i]) << 8 | UInt16(row[at + 2 * i + 1]) }
        switch chunks.colorType {
        case 0, 3:
            let low = depth < 8
            let scale: UInt8 = depth == 1 ? 0xff : depth == 2 ? 0x55 : depth == 4 ? 0x11 : 1
            for x in 0..<count {
                let pixel = base + x * dx
                if depth == 16 {
                    let value = sample16(x)
                    if let t {
                        let alpha: UInt16 = value == UInt16(t[0]) << 8 | UInt16(t[1]) ? 0 : 0xffff
                        setWords(pixel, value, value, value, alpha)
                    } else {
                        words[pixel] = value
                    }
                    continue
                }
                let value: UInt8
                if low {
                    let perByte = 8 / depth
                    let shift = 8 - depth * (x % perByte + 1)
                    value = (row[at + x / perByte] >> UInt8(shift)) & UInt8((1 << depth) - 1)
                } else {
                    value = row[at + x]
                }
                if chunks.colorType == 3 {
                    bytes[pixel] = value
                    maxIndex = max(maxIndex, Int(value))
                } else if let t {
                    let grey = value &* scale
                    // Go scales only the low tRNS byte, with 8-bit wrap-around.
                    let alpha: UInt8 = grey == t[1] &* scale ? 0 : 0xff
                    setBytes(pixel, grey, grey, grey, alpha)
                } else {
                    bytes[pixel] = value &* scale
                }
            }
        case 2:
            for x in 0..<count {
                let pixel = base + x * dx
                if depth == 8 {
                    let r = row[at + 3 * x], g = row[at + 3 * x + 1], b = row[at + 3 * x + 2]
                    let alpha: UInt8 = if let t, r == t[1], g == t[3], b == t[5] { 0 } else { 0xff }
                    setBytes(pixel, r, g, b, alpha)
                } else {
                    let r = sample16(3 * x), g = sample16(3 * x + 1), b = sample16(3 * x + 2)
                    var alpha: UInt16 = 0xffff
                    if let t, r == UInt16(t[0]) << 8 | UInt16(t[1]), g == UInt16(t[2]) << 8 | UInt16(t[3]),
                       b == UInt16(t[4]) << 8 | UInt16(t[5]) {
                        alpha = 0
                    }
                    setWords(pixel, r, g, b, alpha)
                }
            }
        case 4:
            for x in 0..<count {
                let pixel = base + x * dx
                if depth == 8 {
                    let grey = row[at + 2 * x]
                    setBytes(pixel, grey, grey, grey, row[at + 2 * x + 1])
                } else {
                    let grey = sample16(2 * x)
                    setWords(pixel, grey, grey, grey, sample16(2 * x + 1))
                }
            }
        default:
            for x in 0..<count {
                let pixel = base + x * dx
                if depth == 8 {
                    setBytes(pixel, row[at + 4 * x], row[at + 4 * x + 1], row[at + 4 * x + 2], row[at + 4 * x + 3])
                } else {
                    setWords(pixel, sample16(4 * x), sample16(4 * x + 1), sample16(4 * x + 2), sample16(4 * x + 3))
                }
            }
        }
    }

    private mutating func setBytes(_ pixel: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8) {
        let i = pixel * 4
        bytes[i] = r
        bytes[i + 1] = g
        bytes[i + 2] = b
        bytes[i + 3] = a
    }

    private mutating func setWords(_ pixel: Int, _ r: UInt16, _ g: UInt16, _ b: UInt16, _ a: UInt16) {
        let i = pixel * 4
        words[i] = r
        words[i + 1] = g
        words[i + 2] = b
        words[i + 3] = a
    }

    func image(interlaced: Bool) throws(PNGError) -> GoImage {
        switch kind {
        case .gray: return .gray(bytes)
        case .gray16: return .gray16(words)
        case .rgba: return .rgba(bytes)
        case .nrgba: return .nrgba(bytes)
        case .rgba64: return .rgba64(words)
        case .nrgba64: return .nrgba64(words)
        case .paletted:
            var palette = self.palette
            if maxIndex >= palette.count {
                // Go pads a plain image's palette with opaque black up to the largest index; for
                // Adam7 the padding stays on the pass images and reading the pixel panics.
                guard !interlaced else {
                    throw .corrupt("palette index \(maxIndex) out of range (\(palette.count) entries) in an interlaced image")
                }
                while palette.count <= maxIndex { palette.append(.rgba(r: 0, g: 0, b: 0, a: 0xff)) }
            }
            return .paletted(bytes, palette: palette)
        }
    }
}
