import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `[sealing] mode = "batch"` through the real binary and the embedded mock manager.
@Suite struct BatchEndToEndTests {
    @Test("16 threads seal as one batch of 16: one supra_pc1 lease with an NVMe slot, each sector finished on its own, the slot released, the next batch formed")
    func batchOf16() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let box = """
        [resources.box]
        nodes = 1
        cores_per_node = 4
        memory = "16GiB"
        nvme = ["1MiB"]

        """
        let text = testConfig(dir: dir.path, threads: 16, extra: box)
            .replacingOccurrences(of: "[sealing]\n", with: "[sealing]\nmode = \"batch\"\nbatch_size = 16\n")
        let config = try dir.write("sealer.toml", text)
        let daemon = try Child(["daemon", "-c", config], log: dir.path + "/daemon.log")
        defer { daemon.signal(SIGKILL) }
        // 11 layers × 2 KiB × 16 sectors = 352 KiB of the 1 MiB drive.
        try await daemon.waitForLog("1 NVMe drive(s) with 1MiB of layer space")
        try await daemon.waitForLog("batch 1 formed")
        try await daemon.waitForLog("batch 1 supra_pc1 runs on [node 0")
        try await daemon.waitForLog("nvme 0 352KiB]")
        try await daemon.waitForLog("batch 1 supra_pc2 done")
        try await daemon.waitForLog("batch 1 finalized: NVMe slot released")
        // Every sector finished before its thread took the next one, which formed batch 2.
        let log = try await daemon.waitForLog("batch 2 formed")
        let finished = log.split(separator: "\n").filter { $0.contains("--Finish--> Finished") }
        #expect(Set(finished.compactMap { $0.split(separator: " ").first { $0.hasPrefix("sector=") } }).count >= 16)
        #expect(!log.contains("pc1 runs on mock pc1"), "no sector ran the stock PC1")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
    }

    @Test("batch mode config mistakes are refused at start with the key")
    func badBatchConfig() async throws {
        let dir = Scratch()
        defer { dir.cleanup() }
        let text = testConfig(dir: dir.path, threads: 3)
            .replacingOccurrences(of: "[sealing]\n", with: "[sealing]\nmode = \"batch\"\nbatch_size = 16\n")
        let config = try dir.write("sealer.toml", text)
        let out = try await runSealer(["config", "check", "-c", config])
        #expect(out.status != 0)
        #expect(out.output.contains("sealing.batch_size"), "\(out.output)")
    }
}
