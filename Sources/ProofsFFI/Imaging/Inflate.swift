/// zlib (RFC 1950) and DEFLATE (RFC 1951) decompression for PNG image data, written here because
/// the package takes no dependencies. Like Go's compress/zlib it checks the header and the
/// Adler-32 trailer and accepts only complete Huffman codes (or a single one-bit code).
enum Inflate {
    /// The decompressed bytes of the zlib stream at the start of `data` and how many input bytes
    /// the stream took (header and trailer included). Producing more than `limit` bytes throws
    /// `corrupt("too much pixel data")`, so a hostile stream cannot make us allocate more.
    static func zlib(_ data: [UInt8], limit: Int) throws(PNGError) -> (output: [UInt8], consumed: Int) {
        guard data.count >= 2 else { throw .badZlib("stream shorter than its 2-byte header") }
        let cmf = data[0], flg = data[1]
        guard cmf & 0x0f == 8 else { throw .badZlib("compression method \(cmf & 0x0f), want 8 (deflate)") }
        guard cmf >> 4 <= 7 else { throw .badZlib("window size exponent \(cmf >> 4) above 7") }
        guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else { throw .badZlib("header check bits wrong") }
        guard flg & 0x20 == 0 else { throw .badZlib("preset dictionary not supported") }
        var state = Inflater(input: data, position: 2, limit: limit)
        try state.run()
        let checksum = try state.alignedTrailer()
        let output = Array(state.output[0..<state.count])
        let computed = adler32(output)
        guard checksum == computed else {
            throw .badZlib("Adler-32 mismatch: stream says \(hex32(checksum)), data gives \(hex32(computed))")
        }
        return (output, state.consumed)
    }

    /// The Adler-32 checksum of `bytes` (RFC 1950 section 8).
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < bytes.count {
            // 5552 bytes is the most that cannot overflow 32 bits before the reduction.
            let end = min(index + 5552, bytes.count)
            while index < end {
                a &+= UInt32(bytes[index])
                b &+= a
                index += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    private static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// A canonical Huffman decoding table: `table[reversed code bits]` = symbol << 4 | code length.
private struct HuffmanTable {
    var table: [UInt16] = []
    var maxBits = 0

    /// Builds the table for per-symbol code lengths after Go's checks: no over-subscription, and
    /// complete unless it is a single one-bit code. `what` names the code in errors.
    init(lengths: [UInt8], what: String) throws(PNGError) {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { counts[Int(length)] += 1 }
        var left = 1
        var maxBits = 0
        for bits in 1...15 {
            left <<= 1
            left -= counts[bits]
            guard left >= 0 else { throw .badZlib("\(what) Huffman code is over-subscribed") }
            if counts[bits] > 0 { maxBits = bits }
        }
        guard maxBits > 0 else {  // No codes: valid until a symbol is decoded with it.
            self.init(unchecked: [])
            return
        }
        let codes = counts.reduce(0, +)
        guard left == 0 || (codes == 1 && maxBits == 1) else {
            throw .badZlib("\(what) Huffman code is incomplete")
        }
        self.init(unchecked: lengths)
    }

    /// Builds the table without checks, for the fixed codes (complete by construction).
    init(unchecked lengths: [UInt8]) {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { counts[Int(length)] += 1 }
        for bits in 1...15 where counts[bits] > 0 { maxBits = bits }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for bits in 1...15 {
            code = (code + (bits > 1 ? counts[bits - 1] : 0)) << 1
            next[bits] = code
        }
        table = [UInt16](repeating: 0, count: 1 << maxBits)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let bits = Int(length)
            let value = next[bits]
            next[bits] += 1
            var reversed = 0
            for i in 0..<bits where value & (1 << i) != 0 { reversed |= 1 << (bits - 1 - i) }
            let entry = UInt16(symbol << 4 | bits)
            var slot = reversed
            while slot < table.count {
                table[slot] = entry
                slot += 1 << bits
            }
        }
    }
}

/// The decoder's running state: input bit reader and output window.
private struct Inflater {
    let input: [UInt8]
    var position: Int
    let limit: Int
    var bitBuffer: UInt64 = 0
    var bitCount = 0
    var output: [UInt8]
    var count = 0

    init(input: [UInt8], position: Int, limit: Int) {
        self.input = input
        self.position = position
        self.limit = limit
        output = [UInt8](repeating: 0, count: limit)
    }

    /// Input bytes taken so far, not counting whole bytes still buffered.
    var consumed: Int { position - bitCount / 8 }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    mutating func bits(_ n: Int) throws(PNGError) -> Int {
        while bitCount < n {
            guard position < input.count else { throw .badZlib("stream truncated") }
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
        let value = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return value
    }

    mutating func decode(_ code: HuffmanTable, _ what: String) throws(PNGError) -> Int {
        guard code.maxBits > 0 else { throw .badZlib("\(what) symbol read with an empty code") }
        while bitCount < code.maxBits && position < input.count {
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
        let entry = Int(code.table[Int(bitBuffer & ((1 << UInt64(code.maxBits)) - 1))])
        let length = entry & 15
        guard length > 0 else { throw .badZlib("invalid \(what) code") }
        guard length <= bitCount else { throw .badZlib("stream truncated") }
        bitBuffer >>= UInt64(length)
        bitCount -= length
        return entry >> 4
    }

    mutating func emit(_ byte: UInt8) throws(PNGError) {
        guard count < limit else { throw .corrupt("too much pixel data") }
        output[count] = byte
        count += 1
    }

    mutating func run() throws(PNGError) {
        var final = false
        while !final {
            final = try bits(1) == 1
            switch try bits(2) {
            case 0: try stored()
            case 1: try compressed(literal: Self.fixedLiteral, distance: Self.fixedDistance)
            case 2:
                let (literal, distance) = try dynamicTables()
                try compressed(literal: literal, distance: distance)
            default: throw .badZlib("reserved block type 3")
            }
        }
    }

    static let fixedLiteral: HuffmanTable = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return HuffmanTable(unchecked: lengths)
    }()

    static let fixedDistance = HuffmanTable(unchecked: [UInt8](repeating: 5, count: 32))

    mutating func stored() throws(PNGError) {
        _ = try bits(bitCount % 8)
        let length = try bits(16)
        let complement = try bits(16)
        guard length ^ complement == 0xffff else { throw .badZlib("stored block length check fails") }
        var remaining = length
        while remaining > 0 && bitCount >= 8 {
            try emit(UInt8(try bits(8)))
            remaining -= 1
        }
        guard input.count - position >= remaining else { throw .badZlib("stream truncated") }
        guard limit - count >= remaining else { throw .corrupt("too much pixel data") }
        for i in 0..<remaining { output[count + i] = input[position + i] }
        count += remaining
        position += remaining
    }

    mutating func dynamicTables() throws(PNGError) -> (HuffmanTable, HuffmanTable) {
        let literals = try bits(5) + 257
        let distances = try bits(5) + 1
        let codeLengthCodes = try bits(4) + 4
        guard literals <= 286 else { throw .badZlib("\(literals) literal/length codes, at most 286") }
        guard distances <= 30 else { throw .badZlib("\(distances) distance codes, at most 30") }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<codeLengthCodes { codeLengthLengths[Self.codeLengthOrder[i]] = UInt8(try bits(3)) }
        let codeLengthCode = try HuffmanTable(lengths: codeLengthLengths, what: "code length")
        var lengths = [UInt8]()
        lengths.reserveCapacity(literals + distances)
        while lengths.count < literals + distances {
            let symbol = try decode(codeLengthCode, "code length")
            var repeatValue: UInt8 = 0
            var repeatCount = 0
            switch symbol {
            case 0..<16:
                lengths.append(UInt8(symbol))
                continue
            case 16:
                guard let previous = lengths.last else { throw .badZlib("repeat code with no previous length") }
                repeatValue = previous
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard lengths.count + repeatCount <= literals + distances else {
                throw .badZlib("code lengths run past the declared count")
            }
            lengths.append(contentsOf: repeatElement(repeatValue, count: repeatCount))
        }
        let literal = try HuffmanTable(lengths: Array(lengths[0..<literals]), what: "literal/length")
        let distance = try HuffmanTable(lengths: Array(lengths[literals...]), what: "distance")
        return (literal, distance)
    }

    mutating func compressed(literal: HuffmanTable, distance: HuffmanTable) throws(PNGError) {
        while true {
            let symbol = try decode(literal, "literal/length")
            if symbol < 256 {
                try emit(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < 29 else { throw .badZlib("invalid length symbol \(symbol)") }
            let length = Self.lengthBase[lengthIndex] + (try bits(Self.lengthExtra[lengthIndex]))
            let distanceSymbol = try decode(distance, "distance")
            guard distanceSymbol < 30 else { throw .badZlib("invalid distance symbol \(distanceSymbol)") }
            let back = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
            guard back <= count else { throw .badZlib("distance \(back) reaches before the start of the data") }
            guard limit - count >= length else { throw .corrupt("too much pixel data") }
            var from = count - back
            for _ in 0..<length {
                output[count] = output[from]
                count += 1
                from += 1
            }
        }
    }

    /// Skips to the byte boundary after the last block and reads the big-endian Adler-32.
    mutating func alignedTrailer() throws(PNGError) -> UInt32 {
        _ = try bits(bitCount % 8)
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard bitCount >= 8 || position < input.count else { throw .badZlib("Adler-32 trailer truncated") }
            value = value << 8 | UInt32(try bits(8))
        }
        return value
    }
}
