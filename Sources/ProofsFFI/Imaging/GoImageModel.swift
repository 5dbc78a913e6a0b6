/// A palette entry as Go's image/png stores it: `color.RGBA` for plain PLTE entries (and the
/// opaque black it pads with), `color.NRGBA` for entries a tRNS chunk gave an alpha.
public enum GoColor: Sendable, Equatable {
    case rgba(r: UInt8, g: UInt8, b: UInt8, a: UInt8)
    case nrgba(r: UInt8, g: UInt8, b: UInt8, a: UInt8)

    /// Go's `Color.RGBA()`: 16-bit alpha-premultiplied components, with Go's integer rounding.
    public var rgba64: GoRGBA64 {
        switch self {
        case let .rgba(r, g, b, a):
            return GoRGBA64(r: UInt32(r) * 0x101, g: UInt32(g) * 0x101, b: UInt32(b) * 0x101, a: UInt32(a) * 0x101)
        case let .nrgba(r, g, b, a):
            return GoRGBA64.premultiplying8(r: r, g: g, b: b, a: a)
        }
    }
}

/// The four values Go's `Color.RGBA()` returns (each 0...0xffff, alpha-premultiplied).
public struct GoRGBA64: Sendable, Equatable {
    public var r: UInt32
    public var g: UInt32
    public var b: UInt32
    public var a: UInt32

    public init(r: UInt32, g: UInt32, b: UInt32, a: UInt32) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    /// `color.NRGBA{r, g, b, a}.RGBA()`.
    static func premultiplying8(r: UInt8, g: UInt8, b: UInt8, a: UInt8) -> GoRGBA64 {
        let alpha = UInt32(a)
        return GoRGBA64(r: UInt32(r) * 0x101 * alpha / 0xff, g: UInt32(g) * 0x101 * alpha / 0xff,
                        b: UInt32(b) * 0x101 * alpha / 0xff, a: alpha * 0x101)
    }

    /// `color.NRGBA64{r, g, b, a}.RGBA()`.
    static func premultiplying16(r: UInt16, g: UInt16, b: UInt16, a: UInt16) -> GoRGBA64 {
        let alpha = UInt32(a)
        return GoRGBA64(r: UInt32(r) * alpha / 0xffff, g: UInt32(g) * alpha / 0xffff,
                        b: UInt32(b) * alpha / 0xffff, a: alpha)
    }
}

/// The concrete `image.Image` Go's image/png returns for a PNG, with its pixels in row-major
/// order. nfnt/resize picks its arithmetic (8- or 16-bit, premultiplied or not) by this type, so
/// the perceptual hash is only bit-exact if we keep the same one.
public enum GoImage: Sendable, Equatable {
    /// `*image.Gray`: one byte per pixel (grey without tRNS, depth 1-8).
    case gray([UInt8])
    /// `*image.Gray16`: 16-bit grey without tRNS.
    case gray16([UInt16])
    /// `*image.RGBA`: R, G, B, A bytes per pixel (8-bit truecolour without tRNS, A = 0xff).
    case rgba([UInt8])
    /// `*image.NRGBA`: non-premultiplied R, G, B, A bytes (grey+alpha, RGBA, or 8-bit-or-less
    /// grey and 8-bit truecolour with tRNS).
    case nrgba([UInt8])
    /// `*image.RGBA64`: R, G, B, A 16-bit values per pixel (16-bit truecolour without tRNS).
    case rgba64([UInt16])
    /// `*image.NRGBA64`: non-premultiplied 16-bit R, G, B, A (16-bit grey+alpha, RGBA, or 16-bit
    /// grey and truecolour with tRNS).
    case nrgba64([UInt16])
    /// `*image.Paletted`: one palette index per pixel and the palette slice Go ends up with.
    case paletted([UInt8], palette: [GoColor])

    /// Go's `img.At(x, y).RGBA()` for the pixel at row-major `index`. An index past the palette
    /// (Go would panic; the decoder never produces one) reads as opaque black.
    public func rgba64(at index: Int) -> GoRGBA64 {
        switch self {
        case .gray(let pix):
            let y = UInt32(pix[index]) * 0x101
            return GoRGBA64(r: y, g: y, b: y, a: 0xffff)
        case .gray16(let pix):
            let y = UInt32(pix[index])
            return GoRGBA64(r: y, g: y, b: y, a: 0xffff)
        case .rgba(let pix):
            let i = index * 4
            return GoRGBA64(r: UInt32(pix[i]) * 0x101, g: UInt32(pix[i + 1]) * 0x101,
                            b: UInt32(pix[i + 2]) * 0x101, a: UInt32(pix[i + 3]) * 0x101)
        case .nrgba(let pix):
            let i = index * 4
            return .premultiplying8(r: pix[i], g: pix[i + 1], b: pix[i + 2], a: pix[i + 3])
        case .rgba64(let pix):
            let i = index * 4
            return GoRGBA64(r: UInt32(pix[i]), g: UInt32(pix[i + 1]), b: UInt32(pix[i + 2]), a: UInt32(pix[i + 3]))
        case .nrgba64(let pix):
            let i = index * 4
            return .premultiplying16(r: pix[i], g: pix[i + 1], b: pix[i + 2], a: pix[i + 3])
        case let .paletted(pix, palette):
            let entry = Int(pix[index])
            return entry < palette.count ? palette[entry].rgba64 : GoRGBA64(r: 0, g: 0, b: 0, a: 0xffff)
        }
    }

    /// The Go type name, for logs and test messages.
    public var goTypeName: String {
        switch self {
        case .gray: "*image.Gray"
        case .gray16: "*image.Gray16"
        case .rgba: "*image.RGBA"
        case .nrgba: "*image.NRGBA"
        case .rgba64: "*image.RGBA64"
        case .nrgba64: "*image.NRGBA64"
        case .paletted: "*image.Paletted"
        }
    }
}
