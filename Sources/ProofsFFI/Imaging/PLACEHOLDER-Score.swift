// TEMPORARY PLACEHOLDER (helper "crynux"): NOT a perceptual hash. Stands in for helper "phash"'s
// PNG decoder + goimagehash pHash + Crynux score functions (branch h-phash) with the same API so
// the Crynux code compiles and its tests run. SD "hash" = first 8 bytes of SHA-256 of the file.
// The integrator deletes this file when h-phash is merged.

public enum PNGError: Error, Equatable, Sendable { case notPNG(index: Int) }

public enum CrynuxScore {
    public static func stableDiffusion(pngFiles: [[UInt8]]) throws(PNGError) -> [UInt8] {
        var out: [UInt8] = []
        for (i, f) in pngFiles.enumerated() {
            guard f.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw .notPNG(index: i) }
            out += SHA256.hash(f).prefix(8)
        }
        return out
    }
    public static func llm(jsonFiles: [[UInt8]]) -> [UInt8] { jsonFiles.flatMap { SHA256.hash($0) } }
    public static func hex(_ score: [UInt8]) -> String {
        let d = Array("0123456789abcdef")
        return "0x" + String(score.flatMap { [d[Int($0 >> 4)], d[Int($0 & 15)]] })
    }
    public static func matches(_ a: [UInt8], _ b: [UInt8], distanceThreshold: Int) -> Bool {
        guard a.count == b.count, a.count % 8 == 0, !a.isEmpty else { return false }
        for block in stride(from: 0, to: a.count, by: 8) {
            var d = 0
            for i in block..<block + 8 { d += (a[i] ^ b[i]).nonzeroBitCount }
            if d >= distanceThreshold { return false }
        }
        return true
    }
}
