import Foundation
@testable import ProofsFFI
import TestSupport
import Testing

/// The PNG corpus under Fixtures/png (made by make_corpus.py, real files copied from Debian
/// packages) and golden.txt, the Go reference's answers for every file (reference/README.md).
enum PNGFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/png")

    /// One golden.txt line: Go's hash, image type, size and pixel digest, or that Go refused it.
    struct Golden: Sendable, CustomStringConvertible {
        let path: String
        let hash: UInt64?
        let goType: String
        let size: String
        let pixelDigest: String
        var description: String { path }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(path)))
    }

    static let golden: [Golden] = {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("golden.txt"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map(String.init)
            if fields[1] == "error:" { return Golden(path: fields[0], hash: nil, goType: "", size: "", pixelDigest: "") }
            return Golden(path: fields[0], hash: UInt64(fields[1], radix: 16), goType: fields[2], size: fields[3], pixelDigest: fields[4])
        }
    }()

    static var valid: [Golden] { golden.filter { $0.hash != nil } }

    /// SHA-256 of every pixel's Go `At(x, y).RGBA()` as four big-endian uint16s, row by row.
    static func pixelDigest(_ image: PNGImage) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(image.width * image.height * 8)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let c = image.rgba64(x: x, y: y)
                for v in [c.r, c.g, c.b, c.a] { bytes += [UInt8(v >> 8), UInt8(v & 0xff)] }
            }
        }
        return CrynuxScore.hex(SHA256.hash(bytes))
    }
}

@Suite("PNG decoder against Go's image/png", .computeBound)
struct PNGDecoderTests {
    @Test("every valid fixture decodes to Go's image type, size and pixels")
    func decodesLikeGo() async {
        // One loop on a thread of its own (seconds of CPU in a debug build); every file that
        // differs is named.
        let mismatches = await offPool {
            PNGFixtures.valid.compactMap { golden -> String? in
                do {
                    let image = try PNGImage(decoding: try PNGFixtures.bytes(golden.path))
                    var wrong: [String] = []
                    if image.pixels.goTypeName != golden.goType { wrong.append("type \(image.pixels.goTypeName), Go \(golden.goType)") }
                    if "\(image.width)x\(image.height)" != golden.size { wrong.append("size \(image.width)x\(image.height), Go \(golden.size)") }
                    if PNGFixtures.pixelDigest(image) != golden.pixelDigest { wrong.append("pixels differ") }
                    return wrong.isEmpty ? nil : "\(golden.path): " + wrong.joined(separator: ", ")
                } catch {
                    return "\(golden.path): \(error)"
                }
            }
        }
        #expect(PNGFixtures.valid.count > 150)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("the corpus covers every colour type and bit depth, plain and Adam7, and every Go image type")
    func corpusCoverage() throws {
        var seen: Set<String> = []
        var types: Set<String> = []
        for golden in PNGFixtures.valid {
            let image = try PNGImage(decoding: try PNGFixtures.bytes(golden.path))
            seen.insert("\(image.colorType)/\(image.bitDepth)/\(image.interlaced)")
            types.insert(image.pixels.goTypeName)
        }
        let kinds = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)]
        for (colorType, depth) in kinds {
            for interlaced in [false, true] { #expect(seen.contains("\(colorType)/\(depth)/\(interlaced)")) }
        }
        #expect(types == ["*image.Gray", "*image.Gray16", "*image.RGBA", "*image.NRGBA", "*image.RGBA64", "*image.NRGBA64", "*image.Paletted"])
        #expect(PNGFixtures.valid.count >= 170)
    }

    @Test("broken files fail with an error naming what is wrong, and Go refuses them too",
          arguments: [
            ("bad_signature.png", "notPNG"), ("bad_crc_ihdr.png", "badCRC IHDR"), ("truncated_in_idat.png", "truncated IDAT"),
            ("truncated_no_iend.png", "truncated IEND"), ("signature_only.png", "truncated IHDR"), ("zero_width.png", "corrupt zero size"),
            ("bad_zlib_checksum.png", "badZlib Adler-32"), ("bad_zlib_header.png", "badZlib header"), ("bad_filter_type.png", "badFilter"),
            ("not_enough_data.png", "corrupt not enough pixel data"), ("too_much_data.png", "corrupt too much pixel data"),
            ("too_much_junk_after_stream.png", "corrupt too much pixel data"),
            ("bad_depth_for_color.png", "unsupported bit depth 4, color type 4"), ("palette_missing.png", "corrupt before PLTE"),
          ])
    func invalidFiles(file: String, expected: String) throws {
        let path = "invalid/" + file
        #expect(PNGFixtures.golden.contains { $0.path == path && $0.hash == nil }, "Go decodes \(path)")
        let bytes = try PNGFixtures.bytes(path)
        #expect(throws: PNGError.self) { try PNGImage(decoding: bytes) }
        do {
            _ = try PNGImage(decoding: bytes)
        } catch {
            let words = expected.split(separator: " ", maxSplits: 1).map(String.init)
            let detail = words.count > 1 ? words[1] : ""
            switch error {
            case .notPNG: #expect(words[0] == "notPNG")
            case .badCRC(let chunk): #expect(words[0] == "badCRC" && chunk == detail)
            case .truncated(let what): #expect(words[0] == "truncated" && what.contains(detail), "\(what)")
            case .corrupt(let what): #expect(words[0] == "corrupt" && what.contains(detail), "\(what)")
            case .badZlib(let what): #expect(words[0] == "badZlib" && what.contains(detail), "\(what)")
            case .unsupported(let what): #expect(words[0] == "unsupported" && what.contains(detail), "\(what)")
            case let .badFilter(type, row): #expect(words[0] == "badFilter" && type == 7 && row == 2)
            }
            #expect(!error.description.isEmpty)
        }
    }

    @Test("a flipped bit in IDAT is caught by the chunk CRC; empty and foreign input are named")
    func mutations() throws {
        var bytes = try PNGFixtures.bytes("corpus/ct2_d8_65x63.png")
        #expect(throws: Never.self) { try PNGImage(decoding: bytes) }
        bytes[8 + 25 + 8 + 10] ^= 0x01  // Inside the IDAT data (IHDR chunk is 25 bytes).
        #expect(throws: PNGError.badCRC(chunk: "IDAT")) { try PNGImage(decoding: bytes) }
        #expect(throws: PNGError.truncated("signature")) { try PNGImage(decoding: []) }
        #expect(throws: PNGError.notPNG) { try PNGImage(decoding: Array("GIF89a, not a PNG".utf8)) }
    }

    @Test("Adam7 and plain encodings of the same pixels decode to the same Go image",
          arguments: ["same_ct3_d2", "same_ct0_d4", "same_ct6_d16"])
    func adam7MatchesPlain(stem: String) throws {
        let plain = try PNGImage(decoding: try PNGFixtures.bytes("corpus/\(stem)_plain.png"))
        let interlaced = try PNGImage(decoding: try PNGFixtures.bytes("corpus/\(stem)_adam7.png"))
        #expect(!plain.interlaced && interlaced.interlaced)
        #expect(plain.pixels == interlaced.pixels)
        #expect(PerceptionHash.hash(image: plain) == PerceptionHash.hash(image: interlaced))
    }

    @Test("junk after the zlib stream counts only where Go's 4096-byte reader has not buffered it")
    func junkAfterStream() {
        #expect(PNGRaster.unreadAfterStream(consumed: 100, chunkEnds: [110]) == 0)  // One fill took it all.
        #expect(PNGRaster.unreadAfterStream(consumed: 100, chunkEnds: [5000]) == 5000 - 4096)
        #expect(PNGRaster.unreadAfterStream(consumed: 100, chunkEnds: [50, 5000]) == 5000 - 4146)  // Fills stop at chunk ends.
        #expect(PNGRaster.unreadAfterStream(consumed: 100, chunkEnds: [100, 100, 300]) == 0)  // Later IDATs are never read.
    }

    @Test("Adler-32 and CRC-32 match their published check values")
    func checksums() {
        #expect(Inflate.adler32(Array("Wikipedia".utf8)) == 0x11e6_0398)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xcbf4_3926)
        #expect(Inflate.adler32([]) == 1)
    }

    /// Fixed, dynamic, RLE and Huffman-only streams are covered by the corpus (deflate_*.png).
    @Test("inflate decodes a stored block, checks Adler-32 and refuses output past its limit")
    func inflate() throws {
        // Python: list(zlib.compress(b"hello", 0)).
        let stored: [UInt8] = [0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x06, 0x2c, 0x02, 0x15]
        let (out, consumed) = try Inflate.zlib(stored, limit: 5)
        #expect(out == Array("hello".utf8))
        #expect(consumed == stored.count)
        #expect(throws: PNGError.corrupt("too much pixel data")) { try Inflate.zlib(stored, limit: 4) }
        var badAdler = stored
        badAdler[badAdler.count - 1] ^= 1
        #expect(throws: PNGError.self) { try Inflate.zlib(badAdler, limit: 5) }
        #expect(throws: PNGError.badZlib("preset dictionary not supported")) { try Inflate.zlib([0x78, 0xbb, 0, 0], limit: 5) }
    }
}
