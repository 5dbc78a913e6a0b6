/// The score a Crynux node submits for a task (spec s3.4): per output file, the goimagehash
/// perceptual hash (Stable Diffusion) or SHA-256 (LLM), concatenated in file order.
public enum CrynuxScore {
    /// SD score of `0.png`, `1.png`, ... given in that order: each file's hash as 8 big-endian bytes.
    public static func stableDiffusion(pngFiles: [[UInt8]]) throws(PNGError) -> [UInt8] {
        var score: [UInt8] = []
        score.reserveCapacity(pngFiles.count * 8)
        for file in pngFiles {
            let hash = try PerceptionHash.hash(png: file)
            for shift in stride(from: 56, through: 0, by: -8) { score.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
        }
        return score
    }

    /// LLM score of `0.json`, `1.json`, ... given in that order: SHA-256 of each file's raw bytes.
    public static func llm(jsonFiles: [[UInt8]]) -> [UInt8] {
        jsonFiles.flatMap { SHA256.hash($0) }
    }

    /// Lowercase hex, the form the relay compares against its own re-hash at upload.
    public static func hex(_ score: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(score.count * 2)
        for byte in score {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The SD group-validation rule: same length, a non-zero multiple of 8 bytes, and every 8-byte
    /// block at Hamming distance below `distanceThreshold`. An empty score never matches (a
    /// submitted score is non-empty, spec s2).
    public static func matches(_ a: [UInt8], _ b: [UInt8], distanceThreshold: Int) -> Bool {
        guard a.count == b.count, !a.isEmpty, a.count % 8 == 0 else { return false }
        for block in stride(from: 0, to: a.count, by: 8) {
            var distance = 0
            for i in block..<(block + 8) { distance += (a[i] ^ b[i]).nonzeroBitCount }
            guard distance < distanceThreshold else { return false }
        }
        return true
    }
}
