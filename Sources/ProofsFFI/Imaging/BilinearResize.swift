/// nfnt/resize (commit 83c6a99, the one goimagehash v1.1.0 pins) `Resize(w, h, img, Bilinear)`,
/// reproduced for bit-exact hashes: fixed-point weights (8-bit images: coefficients x256 summed
/// in 32 bits; 16-bit and paletted: x65536 in 64 bits), a horizontal pass into a transposed
/// image clamped to the working depth, then the vertical pass. The result type follows Go's.
enum BilinearResize {
    /// The resized image (row-major, `toWidth` x `toHeight`); an image already that size comes
    /// back unchanged, as in Go.
    static func resize(_ image: GoImage, width: Int, height: Int, toWidth: Int, toHeight: Int) -> GoImage {
        if width == toWidth && height == toHeight { return image }
        let scaleX = Double(width) / Double(toWidth)
        let scaleY = Double(height) / Double(toHeight)
        let pixels = width * height
        // Working samples as Go reads them in the first pass (NRGBA forms premultiplied).
        var samples: [Int32]
        let channels: Int
        let narrow: Bool
        switch image {
        case .gray(let pix):
            (samples, channels, narrow) = (pix.map { Int32($0) }, 1, true)
        case .gray16(let pix):
            (samples, channels, narrow) = (pix.map { Int32($0) }, 1, false)
        case .rgba(let pix):
            (samples, channels, narrow) = (pix.map { Int32($0) }, 4, true)
        case .nrgba(let pix):
            samples = [Int32](repeating: 0, count: pixels * 4)
            for p in 0..<pixels {
                let a = Int32(pix[4 * p + 3])
                for c in 0..<3 { samples[4 * p + c] = Int32(pix[4 * p + c]) * a / 0xff }
                samples[4 * p + 3] = a
            }
            (channels, narrow) = (4, true)
        case .rgba64(let pix):
            (samples, channels, narrow) = (pix.map { Int32($0) }, 4, false)
        case .nrgba64(let pix):
            samples = [Int32](repeating: 0, count: pixels * 4)
            for p in 0..<pixels {
                let a = Int64(pix[4 * p + 3])
                for c in 0..<3 { samples[4 * p + c] = Int32(Int64(pix[4 * p + c]) * a / 0xffff) }
                samples[4 * p + 3] = Int32(a)
            }
            (channels, narrow) = (4, false)
        case .paletted:
            // Go's generic path: At(x, y).RGBA(), 16-bit.
            samples = [Int32](repeating: 0, count: pixels * 4)
            for p in 0..<pixels {
                let c = image.rgba64(at: p)
                samples[4 * p] = Int32(c.r)
                samples[4 * p + 1] = Int32(c.g)
                samples[4 * p + 2] = Int32(c.b)
                samples[4 * p + 3] = Int32(c.a)
            }
            (channels, narrow) = (4, false)
        }
        let horizontal = Weights(count: toWidth, scale: scaleX, narrow: narrow)
        let temp = pass(samples, rows: height, columns: width, channels: channels, weights: horizontal, narrow: narrow)
        let vertical = Weights(count: toHeight, scale: scaleY, narrow: narrow)
        let result = pass(temp, rows: toWidth, columns: height, channels: channels, weights: vertical, narrow: narrow)
        switch (channels, narrow) {
        case (1, true): return .gray(result.map { UInt8($0) })
        case (1, false): return .gray16(result.map { UInt16($0) })
        case (_, true): return .rgba(result.map { UInt8($0) })
        default: return .rgba64(result.map { UInt16($0) })
        }
    }

    /// Go's createWeights8/createWeights16 for the bilinear kernel (2 taps, blur 1).
    struct Weights {
        var coefficients: [Int64]
        var start: [Int]
        var filterLength: Int

        init(count: Int, scale: Double, narrow: Bool) {
            filterLength = 2 * Int(max(scale.rounded(.up), 1))
            let filterFactor = min(1.0 / scale, 1)
            coefficients = [Int64](repeating: 0, count: count * filterLength)
            start = [Int](repeating: 0, count: count)
            for y in 0..<count {
                var interpX = scale * (Double(y) + 0.5) - 0.5
                start[y] = Int(interpX) - filterLength / 2 + 1
                interpX -= Double(start[y])
                for i in 0..<filterLength {
                    var input = abs((interpX - Double(i)) * filterFactor)
                    input = input <= 1 ? 1 - input : 0
                    coefficients[y * filterLength + i] = narrow ? Int64(Int16(input * 256)) : Int64(Int32(input * 65536))
                }
            }
        }
    }

    /// One filter pass. Row `r` of the input (`columns` pixels) becomes column `r` of the output,
    /// whose row `y` holds the filtered value around source position `y * scale`. Sums wrap like
    /// Go's int32 (narrow) or int64 accumulators; results clamp to 0...255 or 0...65535.
    static func pass(_ input: [Int32], rows: Int, columns: Int, channels: Int, weights: Weights, narrow: Bool) -> [Int32] {
        let outRows = weights.start.count
        var output = [Int32](repeating: 0, count: outRows * rows * channels)
        let maxX = columns - 1
        let top: Int64 = narrow ? 255 : 65535
        var sums = [Int64](repeating: 0, count: channels)
        for x in 0..<rows {
            let rowBase = x * columns * channels
            for y in 0..<outRows {
                for c in 0..<channels { sums[c] = 0 }
                var weightSum: Int64 = 0
                let first = y * weights.filterLength
                for i in 0..<weights.filterLength {
                    let coefficient = weights.coefficients[first + i]
                    guard coefficient != 0 else { continue }
                    let xi = min(max(weights.start[y] + i, 0), maxX)
                    for c in 0..<channels {
                        sums[c] = sums[c] &+ coefficient &* Int64(input[rowBase + xi * channels + c])
                    }
                    weightSum = weightSum &+ coefficient
                }
                let outBase = (y * rows + x) * channels
                for c in 0..<channels {
                    output[outBase + c] = Int32(clamp(divide(sums[c], weightSum, narrow: narrow), top: top))
                }
            }
        }
        return output
    }

    /// Go's truncating division in the accumulator's width (never by zero: bilinear weights sum
    /// to at least 255 per output sample; zero is answered 0 rather than trapping).
    private static func divide(_ value: Int64, _ divisor: Int64, narrow: Bool) -> Int64 {
        if narrow {
            let v = Int32(truncatingIfNeeded: value), d = Int32(truncatingIfNeeded: divisor)
            guard d != 0 else { return 0 }
            return Int64(v.dividedReportingOverflow(by: d).partialValue)
        }
        guard divisor != 0 else { return 0 }
        return value.dividedReportingOverflow(by: divisor).partialValue
    }

    private static func clamp(_ value: Int64, top: Int64) -> Int64 { value < 0 ? 0 : (value > top ? top : value) }
}
