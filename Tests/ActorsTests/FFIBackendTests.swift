import Foundation
import ProofsFFI
import Scheduler
import TestSupport
import Testing
@testable import Actors

/// `[proofs] backend = "ffi"` end to end against the C test double of libfilcrypto: the daemon
/// loads it from the config, seals, unseals and proves window PoSt with it, and the embedded
/// manager verifies every proof with the same library.
@Suite("filecoin-ffi backend against the C double")
struct FFIBackendTests {
    /// The built double (`swift build --build-tests` builds it beside the test bundle).
    static func builtDouble(_ name: String = "libFilcryptoDouble.so") throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["FILCRYPTO_DOUBLE_DIR"], !dir.isEmpty { candidates.append(dir + "/" + name) }
        var directory = URL(fileURLWithPath: (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent(name).path)
            directory = directory.deletingLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/\(name)").path)
        guard let found = candidates.first(where: { fm.fileExists(atPath: $0) }) else {
            throw TestSetupError("\(name) not found (built by swift build --build-tests); looked in \(candidates)")
        }
        return found
    }

    /// A private copy of the double named as a provider's library, the 2KiB parameter files it
    /// needs, and the config that names them.
    func setUp(_ dir: TempDir, library: String = "libFilcryptoDouble.so", withParameters: Bool = true, threads: String) throws
        -> (config: SealerConfig, environment: [String: String]) {
        let lib = dir.path + "/lib/libfilcrypto.so"
        try FileManager.default.createDirectory(atPath: dir.path + "/lib", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try Self.builtDouble(library), toPath: lib)
        let params = dir.path + "/params"
        try FileManager.default.createDirectory(atPath: params, withIntermediateDirectories: true)
        if withParameters {
            for file in ProofParameters.files(for: .kib2) {
                _ = FileManager.default.createFile(atPath: params + "/" + file.name, contents: Data("params".utf8))
            }
        }
        try FileManager.default.createDirectory(atPath: dir.path + "/persist", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/pieces", withIntermediateDirectories: true)
        let text = """
        [worker]
        name = "ffi"
        local_pieces_dirs = ["\(dir.path)/pieces"]
        rpc_server = { host = "127.0.0.1", port = 0 }
        [sector_manager]
        rpc_client.addr = "embedded"
        [proofs]
        backend = "ffi"
        ffi_library = "\(lib)"
        [sealing]
        allowed_sizes = ["2KiB"]
        max_retries = 3
        seal_interval = "10ms"
        recover_interval = "50ms"
        rpc_polling_interval = "10ms"
        [[attached]]
        name = "persist"
        location = "\(dir.path)/persist"
        \(threads)
        """
        let decoded = ConfigDecoder.decode(bytes: Array(text.utf8), file: "ffi.toml")
        let config = try #require(decoded.config, "\(decoded.diagnostics)")
        return (config, ["FIL_PROOFS_PARAMETER_CACHE": params])
    }

    @Test("sealer, snapup, unseal and wdpost plans seal, upgrade, unseal and prove with the double; the manager verifies each proof with it")
    func plansRunOnTheDouble() async throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (config, environment) = try setUp(dir, threads: """
            [[sealing_thread]]
            location = "\(dir.path)/sealer"
            [[sealing_thread]]
            location = "\(dir.path)/snapup"
            plan = "snapup"
            [[sealing_thread]]
            location = "\(dir.path)/unseal"
            plan = "unseal"
            [[sealing_thread]]
            plan = "wdpost"
            """)
        var options = try DaemonOptions(config: config, file: "ffi.toml", log: quietLog, environment: environment)
        #expect(options.ffi != nil)
        // The manager's market writes each deal's piece where the worker's local_pieces_dirs looks.
        if case var .embedded(mock) = options.manager {
            mock.piecesDirectory = dir.path + "/pieces"
            options.manager = .embedded(mock)
        }
        let daemon = Daemon(options: options, log: quietLog)
        _ = try await daemon.start()
        var stopped = false
        defer { if !stopped { Task { _ = await daemon.stop() } } }
        let manager = try #require(daemon.manager as? MockManager)
        #expect(manager.checker is FFIProofChecker)
        try await eventually("a sealed, an upgraded, an unsealed and a proven sector") {
            let sealed = await manager.sectors.values.contains { $0.finalized > 0 }
            let upgraded = await manager.sectors.values.contains { $0.snapProof != nil }
            let unsealed = await manager.sectors.values.contains { $0.unsealAchieved == "" }
            let proven = await manager.postJobs.values.contains { $0.verified == true }
            return sealed && upgraded && unsealed && proven
        }
        #expect(await manager.mismatchedProofs.isEmpty, "every seal proof verified with the library")
        #expect(await manager.postJobs.values.allSatisfy { $0.verified != false })
        // What the library wrote is where damocles keeps it, and was persisted.
        let id = try #require(await manager.sectors.first { $0.value.finalized > 0 }?.key)
        #expect(FileManager.default.fileExists(atPath: "\(dir.path)/persist/sealed/\(id)"))
        _ = await daemon.stop()
        stopped = true
    }

    @Test("a missing library, a library without a symbol we call, and missing parameter files each stop the start naming what")
    func startupErrors() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let thread = "[[sealing_thread]]\nlocation = \"\(dir.path)/t0\""

        var (config, environment) = try setUp(dir, threads: thread)
        config.proofs.ffiLibrary = dir.path + "/nowhere/libfilcrypto.so"
        do {
            _ = try DaemonOptions(config: config, file: "ffi.toml", log: quietLog, environment: environment)
            Issue.record("started without a library")
        } catch {
            #expect(error.description.contains("\(dir.path)/nowhere/libfilcrypto.so"), "\(error)")
        }

        let old = TempDir()
        defer { old.cleanup() }
        let (oldConfig, oldEnvironment) = try setUp(old, library: "libFilcryptoDoubleOld.so", threads: thread)
        do {
            _ = try DaemonOptions(config: oldConfig, file: "ffi.toml", log: quietLog, environment: oldEnvironment)
            Issue.record("started with a library that lacks generate_synth_proofs")
        } catch {
            #expect(error.description.contains("generate_synth_proofs"), "\(error)")
        }

        let bare = TempDir()
        defer { bare.cleanup() }
        let (bareConfig, bareEnvironment) = try setUp(bare, withParameters: false, threads: thread)
        do {
            _ = try DaemonOptions(config: bareConfig, file: "ffi.toml", log: quietLog, environment: bareEnvironment)
            Issue.record("started without parameter files")
        } catch {
            #expect(error.description.contains("proof parameters missing or empty in \(bare.path)/params"), "\(error)")
            #expect(error.description.contains(".params"), "names the files: \(error)")
        }
    }

    @Test("with GPUs on the box, each GPU stage runs in one child per GPU that sees only its GPU")
    func oneChildPerGPU() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var (config, environment) = try setUp(dir, threads: "[[sealing_thread]]\nlocation = \"\(dir.path)/t0\"")
        var box = BoxSpec()
        box.gpus = 2
        config.resources.box = box
        let options = try DaemonOptions(config: config, file: "ffi.toml", log: quietLog, environment: environment)
        for stage in ["pc2", "c2", "snap_encode", "snap_prove", "window_post"] {
            let children = try #require(options.processors[stage], "\(stage)")
            #expect(children.map { $0.envs["CUDA_VISIBLE_DEVICES"] } == ["0", "1"], "\(stage)")
        }
        let slots = ProcessorSlots(processors: options.processors, extLocks: [:])
        guard case let .taken(slot)? = slots.take(.c2) else {
            Issue.record("no c2 slot")
            return
        }
        #expect(slot.gpu != nil && slot.restrict(ResourceRequest(stage: .c2, cores: 1, memoryBytes: 1, vramBytes: 1)).allowedGPUs == [slot.gpu!],
                "the lease is narrowed to the child's GPU")
    }
}
