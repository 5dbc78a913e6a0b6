import Foundation
import ProofsFFI
#if canImport(Glibc)
import Glibc
#endif

// Test support for FilCryptoTests: finds the libfilcrypto double the package builds
// (libFilcryptoDouble.so, product FilcryptoDouble), gives each test its own copy (a distinct file
// is a distinct dlopen, so counters and injected failures never cross tests running in
// parallel), drives its control functions, and recomputes its deterministic outputs.

struct DoubleError: Error, CustomStringConvertible {
    var description: String
}

/// The built double named `name`: `$FILCRYPTO_DOUBLE_DIR/name`, else next to the test bundle or
/// up to four directories above it (`.build/debug`), else under `.build/{debug,release}`.
func builtDouble(_ name: String = "libFilcryptoDouble.so") throws -> String {
    let fm = FileManager.default
    var candidates: [String] = []
    if let dir = ProcessInfo.processInfo.environment["FILCRYPTO_DOUBLE_DIR"], !dir.isEmpty { candidates.append(dir + "/" + name) }
    let executable = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent(name).path)
        directory = directory.deletingLastPathComponent()
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for configuration in ["debug", "release"] { candidates.append(package.appendingPathComponent(".build/\(configuration)/\(name)").path) }
    guard let found = candidates.first(where: { fm.fileExists(atPath: $0) }) else {
        throw DoubleError(description: "\(name) not built (swift build --build-tests builds it); looked in \(candidates)")
    }
    return found
}

/// One test's private copy of the double, in its own temporary directory with its own files.
final class DoubleLibrary {
    let directory: String
    /// The copy of the library, named libfilcrypto.so as a provider's would be.
    let path: String
    private let handle: UnsafeMutableRawPointer
    private let statsFunction: @convention(c) (UnsafeMutablePointer<UInt64>?, Int) -> Int
    private let failFunction: @convention(c) (UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?) -> Int32

    init(_ built: String = "libFilcryptoDouble.so", name: String = #function) throws {
        directory = NSTemporaryDirectory() + "filcrypto-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/libfilcrypto.so"
        try FileManager.default.copyItem(atPath: try builtDouble(built), toPath: path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw DoubleError(description: "dlopen \(path): \(String(cString: dlerror()))")
        }
        self.handle = handle
        guard let stats = dlsym(handle, "filcrypto_double_stats"), let fail = dlsym(handle, "filcrypto_double_fail") else {
            throw DoubleError(description: "\(path) has no control functions")
        }
        statsFunction = unsafeBitCast(stats, to: (@convention(c) (UnsafeMutablePointer<UInt64>?, Int) -> Int).self)
        failFunction = unsafeBitCast(fail, to: (@convention(c) (UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?) -> Int32).self)
    }

    /// Removes the files; the library stays mapped (FilCrypto never unloads), which Linux allows.
    func cleanup() { try? FileManager.default.removeItem(atPath: directory) }

    struct Stats: Equatable, CustomStringConvertible {
        var responses: UInt64, destroyed: UInt64, live: UInt64, doubleFrees: UInt64, unknownFrees: UInt64, wrongDestroys: UInt64, calls: UInt64
        var description: String {
            "responses \(responses), destroyed \(destroyed), live \(live), double frees \(doubleFrees), unknown frees \(unknownFrees), "
                + "wrong destroys \(wrongDestroys), calls \(calls)"
        }
        /// Every response went back to its own destroy_* exactly once.
        var clean: Bool { live == 0 && doubleFrees == 0 && unknownFrees == 0 && wrongDestroys == 0 }
    }

    var stats: Stats {
        var values = [UInt64](repeating: 0, count: 7)
        _ = values.withUnsafeMutableBufferPointer { statsFunction($0.baseAddress, 7) }
        return Stats(responses: values[0], destroyed: values[1], live: values[2], doubleFrees: values[3], unknownFrees: values[4],
                     wrongDestroys: values[5], calls: values[6])
    }

    /// Makes every later call to `call` fail with `status` and `message` (status 0 stops it).
    func fail(_ call: String, status: Int32, message: String) {
        _ = failFunction(call, status, message)
    }

    /// A file under the directory with `contents`; its path.
    @discardableResult
    func file(_ name: String, _ contents: [UInt8] = []) throws -> String {
        let file = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: file, contents: Data(contents)) else { throw DoubleError(description: "cannot create \(file)") }
        return file
    }

    /// A directory under the directory; its path.
    func dir(_ name: String) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// The double's digest (filcrypto_double.h): FNV-1a-64 over a transcript seeds a splitmix64 stream.
struct Transcript {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    init(_ label: String) { string(label) }

    private mutating func raw(_ bytes: [UInt8]) {
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
    }

    mutating func u64(_ value: UInt64) { raw((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }) }
    mutating func bytes(_ bytes: [UInt8]) {
        u64(UInt64(bytes.count))
        raw(bytes)
    }
    mutating func string(_ text: String) { bytes(Array(text.utf8)) }
    mutating func pieces(_ pieces: [FilCrypto.Piece]) {
        u64(UInt64(pieces.count))
        for piece in pieces {
            u64(piece.size)
            bytes(piece.commP)
        }
    }

    func output(_ count: Int = 32) -> [UInt8] {
        var state = hash
        var out: [UInt8] = []
        while out.count < count {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            for j in 0..<8 where out.count < count { out.append(UInt8(truncatingIfNeeded: z >> (8 * UInt64(j)))) }
        }
        return out
    }

    /// A transcript built by `build`, digested to `count` bytes.
    static func digest(_ label: String, _ count: Int = 32, _ build: (inout Transcript) -> Void = { _ in }) -> [UInt8] {
        var t = Transcript(label)
        build(&t)
        return t.output(count)
    }
}

/// 32 bytes all `value`.
func bytes32(_ value: UInt8) -> [UInt8] { [UInt8](repeating: value, count: 32) }

/// The unpadded size of a piece once padded to a power of two (the double's and filecoin's rule).
func alignedUnpadded(_ unpadded: UInt64) -> UInt64 {
    let padded = (unpadded * 128 + 126) / 127
    var power: UInt64 = 128
    while power < padded { power <<= 1 }
    return power / 128 * 127
}
