import Foundation
import ProofsFFI
import Testing

/// `sealer proofs check` against a temporary parameter cache and the libfilcrypto doubles the
/// package builds next to the sealer binary.
@Suite("sealer proofs check end to end")
struct ProofsCheckEndToEndTests {
    /// A config whose only size is the embedded manager's 2KiB, plus `proofs`.
    static func config(_ proofs: String = "") -> String {
        """
        [sector_manager]
        rpc_client.addr = "embedded"
        [sector_manager.mock]
        sector_size = "2KiB"
        [[sealing_thread]]
        location = "/tmp/proofs-check-t0"
        [[attached]]
        location = "/tmp/proofs-check-persist"
        [proofs]
        \(proofs)
        """
    }

    /// A built double next to the sealer binary.
    static func double(_ name: String) throws -> String {
        URL(fileURLWithPath: try sealerBinary()).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A parameter cache under `dir` holding `files` (non-empty), and the environment naming it.
    static func cache(_ dir: Scratch, _ files: [String]) throws -> [String: String] {
        let cache = dir.path + "/params"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for file in files where !FileManager.default.createFile(atPath: cache + "/" + file, contents: Data("params".utf8)) {
            throw HarnessError("cannot create \(cache)/\(file)")
        }
        return ["FIL_PROOFS_PARAMETER_CACHE": cache, "FIL_PROOFS_LIBRARY": ""]
    }

    @Test("some files present, some missing: each is listed, exit 1, and stderr says how many are missing")
    func someMissing() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let needed = ProofParameters.files(for: .kib2).map(\.name)
        #expect(needed.count == 8)
        let environment = try Self.cache(dir, Array(needed.prefix(3)))
        try "".write(toFile: environment["FIL_PROOFS_PARAMETER_CACHE"]! + "/" + needed[3], atomically: true, encoding: .utf8)
        let run = try await runSealer(["proofs", "check", "-c", try dir.write("c.toml", Self.config())], environment: environment)
        #expect(run.status == 1, "\(run.output)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for name in needed.prefix(3) { #expect(lines.contains { $0.hasPrefix("  present ") && $0.hasSuffix(name) }, "\(name): \(run.stdout)") }
        #expect(lines.contains { $0.hasPrefix("  EMPTY ") && $0.hasSuffix(needed[3]) }, "\(run.stdout)")
        for name in needed.dropFirst(4) { #expect(lines.contains { $0.hasPrefix("  MISSING ") && $0.hasSuffix(name) }, "\(name): \(run.stdout)") }
        #expect(run.stdout.contains("sector sizes: 2KiB (the embedded manager's sector_size)"))
        #expect(run.stdout.contains("3 of 8 parameter files present"))
        #expect(run.stdout.contains("library: not checked"))
        #expect(run.stderr.contains("5 parameter file(s) missing; fetch them into \(environment["FIL_PROOFS_PARAMETER_CACHE"]!)"), "\(run.stderr)")

        // --size checks that size instead of the config's.
        let sized = try await runSealer(["proofs", "check", "--size", "32GiB"], environment: environment)
        #expect(sized.status == 1 && sized.stdout.contains("0 of 10 parameter files present"), "\(sized.output)")
    }

    @Test("everything present and [proofs] ffi_library loading with every symbol: exit 0")
    func allPresent() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let environment = try Self.cache(dir, ProofParameters.files(for: .kib2).map(\.name))
        let library = try Self.double("libFilcryptoDouble.so")
        let config = try dir.write("c.toml", Self.config("ffi_library = \"\(library)\""))
        let run = try await runSealer(["proofs", "check", "-c", config], environment: environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("8 of 8 parameter files present"))
        #expect(run.stdout.contains("library: \(library) loads with all \(FilCrypto.symbolNames.count) symbols sealer calls"), "\(run.stdout)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
    }

    @Test("a library from $FIL_PROOFS_LIBRARY that lacks a symbol, or is not there, fails the check and names why")
    func badLibrary() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        var environment = try Self.cache(dir, ProofParameters.files(for: .kib2).map(\.name))
        let config = try dir.write("c.toml", Self.config())
        let old = try Self.double("libFilcryptoDoubleOld.so")
        environment["FIL_PROOFS_LIBRARY"] = old
        let run = try await runSealer(["proofs", "check", "-c", config], environment: environment)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stdout.contains("library: filecoin-ffi library \(old) lacks symbol generate_synth_proofs"), "\(run.stdout)")
        #expect(run.stderr.contains("the filecoin-ffi library does not load"), "\(run.stderr)")

        environment["FIL_PROOFS_LIBRARY"] = dir.path + "/nowhere/libfilcrypto.so"
        let missing = try await runSealer(["proofs", "check", "-c", config], environment: environment)
        #expect(missing.status == 1, "\(missing.output)")
        #expect(missing.stdout.contains("library: cannot load filecoin-ffi library \(dir.path)/nowhere/libfilcrypto.so"), "\(missing.stdout)")
    }

    @Test("sizes come from allowed_sizes; a thread without them under a real manager may get any size")
    func sizesFromConfig() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let environment = try Self.cache(dir, [])
        let base = """
        [sector_manager]
        rpc_client.addr = "/ip4/127.0.0.1/tcp/1789"
        [[sealing_thread]]
        location = "/tmp/proofs-check-t0"
        [[attached]]
        location = "/tmp/proofs-check-persist"

        """
        let restricted = try dir.write("r.toml", base + "[sealing]\nallowed_sizes = [\"32GiB\", \"64GiB\"]\n")
        let run = try await runSealer(["proofs", "check", "-c", restricted], environment: environment)
        #expect(run.stdout.contains("sector sizes: 32GiB, 64GiB (allowed_sizes)"), "\(run.output)")
        #expect(run.stdout.contains("0 of 20 parameter files present"), "\(run.stdout)")
        let open = try await runSealer(["proofs", "check", "-c", try dir.write("o.toml", base)], environment: environment)
        #expect(open.stdout.contains("sector sizes: 2KiB, 8MiB, 512MiB, 32GiB, 64GiB (a thread without allowed_sizes may get any size)"),
                "\(open.output)")
    }

    @Test("command-line mistakes exit 2 with the reason on stderr", arguments: [
        (["proofs"], "missing subcommand: proofs check"),
        (["proofs", "verify"], "unknown proofs subcommand 'verify'"),
        (["proofs", "check"], "proofs check needs -c FILE"),
        (["proofs", "check", "--size", "3GiB"], "'3GiB' is not a Filecoin sector size"),
        (["proofs", "check", "--bogus"], "unknown option '--bogus'"),
    ])
    func mistakes(arguments: [String], message: String) async throws {
        let run = try await runSealer(arguments)
        #expect(run.status == 2, "\(arguments): \(run.output)")
        #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("proofs --help prints the usage on stdout")
    func help() async throws {
        let run = try await runSealer(["proofs", "--help"])
        #expect(run.status == 0 && run.stdout.contains("usage: sealer proofs check"), "\(run.output)")
    }

    @Test("a config that does not load is a runtime failure with nothing on stdout")
    func badConfig() async throws {
        let run = try await runSealer(["proofs", "check", "-c", "/nonexistent/sealer.toml"])
        #expect(run.status == 1 && run.stdout.isEmpty, "\(run.output)")
        #expect(run.stderr.contains("/nonexistent/sealer.toml"), "\(run.stderr)")
    }
}
