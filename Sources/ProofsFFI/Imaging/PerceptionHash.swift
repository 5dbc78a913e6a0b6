/// goimagehash v1.1.0 `PerceptionHash`: nfnt/resize bilinear to 64x64, grey by Go's luminance
/// formula, a 2-D DCT-II (Byeong Gi Lee's recursion with Go's `math.Cos` constants), the top-left
/// 8x8 block against its median, bit 63 first. Bit-exact with Go (tests: PerceptionHashTests).
public enum PerceptionHash {
    /// The hash of a PNG file, as the Crynux relay computes it on uploaded images.
    public static func hash(png bytes: [UInt8]) throws(PNGError) -> UInt64 {
        hash(image: try PNGImage(decoding: bytes))
    }

    /// The hash of a decoded image.
    public static func hash(image: PNGImage) -> UInt64 {
        let resized = BilinearResize.resize(image.pixels, width: image.width, height: image.height, toWidth: 64, toHeight: 64)
        var pixels = [Double](repeating: 0, count: 4096)
        for i in 0..<4096 { pixels[i] = gray(resized.rgba64(at: i)) }
        dct2D(&pixels)
        var block = [Double](repeating: 0, count: 64)
        for i in 0..<8 {
            for j in 0..<8 { block[8 * i + j] = pixels[64 * i + j] }
        }
        let median = quickSelectMedian(block)
        var hash: UInt64 = 0
        for (index, value) in block.enumerated() where value > median { hash |= 1 << UInt64(63 - index) }
        return hash
    }

    /// goimagehash `pixel2Gray`, with its integer divisions (note 256 for blue) and Go's
    /// left-to-right evaluation.
    static func gray(_ c: GoRGBA64) -> Double {
        0.299 * Double(c.r / 257) + 0.587 * Double(c.g / 257) + 0.114 * Double(c.b / 256)
    }

    /// Rows, then columns, each a 64-point DCT-II.
    static func dct2D(_ pixels: inout [Double]) {
        var line = [Double](repeating: 0, count: 64)
        var scratch = [Double](repeating: 0, count: 64)
        for row in 0..<64 {
            for j in 0..<64 { line[j] = pixels[row * 64 + j] }
            dct1D(&line, &scratch)
            for j in 0..<64 { pixels[row * 64 + j] = line[j] }
        }
        for column in 0..<64 {
            for j in 0..<64 { line[j] = pixels[column + j * 64] }
            dct1D(&line, &scratch)
            for j in 0..<64 { pixels[column + j * 64] = line[j] }
        }
    }

    /// Unscaled DCT-II of 64 values in place (Byeong Gi Lee, 1984), operation for operation as
    /// goimagehash's DCT1DFast64 and its static 32/16/8/4 stages.
    static func dct1D(_ values: inout [Double], _ scratch: inout [Double]) {
        values.withUnsafeMutableBufferPointer { v in
            scratch.withUnsafeMutableBufferPointer { t in
                forward(v.baseAddress!, t.baseAddress!, 64)
            }
        }
    }

    private static func forward(_ input: UnsafeMutablePointer<Double>, _ temp: UnsafeMutablePointer<Double>, _ length: Int) {
        guard length > 1 else { return }
        let half = length / 2
        let table = cosineTable(length)
        for i in 0..<half {
            let x = input[i], y = input[length - 1 - i]
            temp[i] = x + y
            temp[i + half] = (x - y) / table[i]
        }
        forward(temp, input, half)
        forward(temp + half, input, half)
        for i in 0..<(half - 1) {
            input[i * 2] = temp[i]
            input[i * 2 + 1] = temp[i + half] + temp[i + half + 1]
        }
        input[length - 2] = temp[half - 1]
        input[length - 1] = temp[length - 1]
    }

    static func cosineTable(_ length: Int) -> [Double] {
        switch length {
        case 64: cos64
        case 32: cos32
        case 16: cos16
        case 8: cos8
        case 4: cos4
        default: cos2
        }
    }

    /// 2 cos((i + 0.5) pi / n) for n = 64, 32, 16, 8, 4, 2 and i < n / 2, as the IEEE bit patterns
    /// Go's `math.Cos` yields (printed by the reference program's -dct mode). glibc's cos differs
    /// in the last bit for 21 of these 63 values, and that flips hash bits.
    private static let bits: [Int: [UInt64]] = [
        64: [
            0x3fff_fd88_6084_cd0c, 0x3fff_e9cd_ad01_883a, 0x3fff_c264_70e1_9fd4, 0x3fff_8764_fa71_4ba9,
            0x3fff_38f3_ac64_e589, 0x3ffe_d740_e768_4963, 0x3ffe_6288_ec48_e112, 0x3ffd_db13_b6cc_c23c,
            0x3ffd_4134_d14d_c93a, 0x3ffc_954b_2134_11f5, 0x3ffb_d7c0_ac6f_9529, 0x3ffb_090a_5815_0200,
            0x3ffa_29a7_a046_2782, 0x3ff9_3a22_4992_63fc, 0x3ff8_3b0e_0bff_976e, 0x3ff7_2d08_37ef_ff97,
            0x3ff6_10b7_551d_2cdf, 0x3ff4_e6ca_bbe3_e5ea, 0x3ff3_affa_2920_50ba, 0x3ff2_6d05_4cdd_12e0,
            0x3ff1_1eb3_541b_4b24, 0x3fef_8ba4_dbf8_9abc, 0x3fec_c66e_9931_c45e, 0x3fe9_ef79_43a8_ed89,
            0x3fe7_0885_30fa_45a1, 0x3fe4_135c_9417_6602, 0x3fe1_11d2_62b1_f678, 0x3fdc_0b82_6a7e_4f62,
            0x3fd5_e214_448b_3fcb, 0x3fcf_564e_56a9_7314, 0x3fc2_d520_92ce_19f8, 0x3fa9_2155_f7a3_6678,
        ],
        32: [
            0x3fff_f621_e379_6d7e, 0x3fff_a755_7f08_a517, 0x3fff_0a7e_fb92_30d8, 0x3ffe_2121_04f6_86e5,
            0x3ffc_ed7a_f43c_c773, 0x3ffb_7283_4519_6e3e, 0x3ff9_b3e0_47f3_8741, 0x3ff7_b5df_226a_afaf,
            0x3ff5_7d69_348c_eca0, 0x3ff3_0ff7_fce1_7036, 0x3ff0_7387_9922_ffee, 0x3feb_5d10_09e1_5cc2,
            0x3fe5_8f9a_75ab_1fdd, 0x3fdf_19f9_7b21_5f1e, 0x3fd2_c810_6e8e_613a, 0x3fb9_1f65_f10d_d825,
        ],
        16: [
            0x3fff_d88d_a3d1_2525, 0x3ffe_9f41_56c6_2dda, 0x3ffc_38b2_f180_bdb1, 0x3ff8_bc80_6b15_1741,
            0x3ff4_4cf3_2509_1dd7, 0x3fee_2b5d_3806_f63e, 0x3fe2_9406_2ed5_9f04, 0x3fc9_17a6_bc29_b438,
        ],
        8: [
            0x3fff_6297_cff7_5cb0, 0x3ffa_9b66_290e_a1a4, 0x3ff1_c73b_39ae_68c9, 0x3fd8_f8b8_3c69_a60c,
        ],
        4: [
            0x3ffd_906b_cf32_8d46, 0x3fe8_7de2_a6ae_a964,
        ],
        2: [
            0x3ff6_a09e_667f_3bcd,
        ],
    ]
    private static let cos64 = (bits[64] ?? []).map(Double.init(bitPattern:))
    private static let cos32 = (bits[32] ?? []).map(Double.init(bitPattern:))
    private static let cos16 = (bits[16] ?? []).map(Double.init(bitPattern:))
    private static let cos8 = (bits[8] ?? []).map(Double.init(bitPattern:))
    private static let cos4 = (bits[4] ?? []).map(Double.init(bitPattern:))
    private static let cos2 = (bits[2] ?? []).map(Double.init(bitPattern:))

    /// goimagehash `MedianOfPixelsFast64`: its quickselect for position 32, then the mean of the
    /// values left at 31 and 32 (the 32nd and 33rd smallest), halved before adding as Go does.
    static func quickSelectMedian(_ values: [Double]) -> Double {
        var sequence = values
        let k = sequence.count / 2
        var low = 0, high = sequence.count - 1
        if low == high { return sequence[k] }
        while low < high {
            let pivot = low / 2 + high / 2
            let pivotValue = sequence[pivot]
            var store = low
            sequence.swapAt(pivot, high)
            for i in low..<high where sequence[i] < pivotValue {
                sequence.swapAt(store, i)
                store += 1
            }
            sequence.swapAt(high, store)
            if k <= store { high = store } else { low = store + 1 }
        }
        if sequence.count % 2 == 0 { return sequence[k - 1] / 2 + sequence[k] / 2 }
        return sequence[k]
    }
}
