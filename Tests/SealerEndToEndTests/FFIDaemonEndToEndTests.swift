import Foundation
import ProofsFFI
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `sealer daemon` with `[proofs] backend = "ffi"` on the libfilcrypto double and a box
/// with one GPU: GPU stages run in a `sealer processor` child that sees only that GPU and loads
/// the same library, CPU stages in the daemon; sectors finish with proofs the library verifies.
@Suite("filecoin-ffi daemon end to end")
struct FFIDaemonEndToEndTests {
    @Test("sectors seal on the double, PC2 and C2 in a child started with CUDA_VISIBLE_DEVICES=0")
    func gpuStagesInChildren() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let environment = try ProofsCheckEndToEndTests.cache(dir, ProofParameters.files(for: .kib2).map(\.name))
        let library = dir.path + "/libfilcrypto.so"
        try FileManager.default.copyItem(atPath: try ProofsCheckEndToEndTests.double("libFilcryptoDouble.so"), toPath: library)
        let config = try dir.write("sealer.toml", testConfig(dir: dir.path, threads: 1).replacingOccurrences(of: "backend = \"mock\"", with: """
            backend = "ffi"
            ffi_library = "\(library)"
            """) + """

            [resources.box]
            nodes = 1
            cores_per_node = 8
            cores_per_l3 = 8
            memory = "64GiB"
            gpus = 1
            gpu_vram = "24GiB"
            """)
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log", environment: environment)
        defer { daemon.signal(SIGKILL) }
        let log = try await daemon.waitForLog("sector finished", timeout: .seconds(90))
        #expect(log.contains("filecoin-ffi loaded from \(library)"), "\(log)")
        #expect(log.contains("processors.pc2: one child per GPU (0)"), "\(log)")
        #expect(log.contains("pc2 runs on processors.pc2[0]"), "the PC2 ran in its child: \(log)")
        #expect(log.contains("c2 runs on processors.c2[0]"), "the C2 ran in its child")
        #expect(log.contains("pc1 runs on ffi pc1"), "the PC1 ran in the daemon")
        #expect(!log.contains("does not verify") && !log.contains("mismatched"), "every proof verified with the library")
        // The children see only their GPU and load the daemon's library.
        let children = pids(after: "spawned, pid ", in: log)
        #expect(children.count == 5, "pc2, c2, snap_encode, snap_prove and window_post: \(children)")
        for pid in children {
            let env = try environ(of: pid)
            #expect(env.contains("CUDA_VISIBLE_DEVICES=0"), "\(pid): \(env)")
            #expect(env.contains("FIL_PROOFS_LIBRARY=\(library)") && env.contains("SEALER_PROOFS_BACKEND=ffi"), "\(pid)")
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }
}
