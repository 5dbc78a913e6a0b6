import Foundation
import Testing
import Scheduler
@testable import Actors

@Suite("Hot config")
struct HotConfigTests {
    @Test("creation, change, bad content and deletion of <location>/config.toml")
    func lifecycle() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let text = "[sector_manager]\nrpc_client.addr = \"embedded\"\n[sealing]\nmax_retries = 2\n[[sealing_thread]]\nlocation = \"\(dir.path)\"\n"
        let config = try #require(ConfigDecoder.decode(bytes: Array(text.utf8), file: "x.toml").config)
        let hot = HotConfig(location: dir.path, base: config, index: 0, log: quietLog)
        var settings = ThreadSettings(index: 0, location: dir.path)
        settings.sealing.maxRetries = 2
        #expect(hot.reload(settings, force: false) == nil, "no file, nothing changed")
        #expect(hot.reload(settings, force: true)?.sealing.maxRetries == 2, "SIGHUP without a file: the main config's settings")

        try "plan = \"snapup\"\nsealing.max_retries = 7\n".write(toFile: hot.path, atomically: false, encoding: .utf8)
        let changed = try #require(hot.reload(settings, force: false))
        #expect(changed.plan == .snapup && changed.sealing.maxRetries == 7)
        #expect(hot.reload(changed, force: false) == nil)
        #expect(hot.reload(changed, force: true)?.sealing.maxRetries == 7, "SIGHUP re-reads even when unchanged")

        try "sealing.max_retries = \"many\"\n".write(toFile: hot.path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: hot.path)
        #expect(hot.reload(changed, force: false) == nil, "a broken hot file keeps the current settings")

        try FileManager.default.removeItem(atPath: hot.path)
        let reverted = try #require(hot.reload(changed, force: false))
        #expect(reverted.plan == .sealer && reverted.sealing.maxRetries == 2, "deleting the file returns to the main config")
    }
}

@Suite("PC1 spill in the daemon's pools")
struct PC1SpillConfigTests {
    @Test("[resources] pc1_spill_slowdown turns spilling on in the daemon's pools, and only then")
    func spillReachesThePools() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        for (line, expected) in [("", false), ("pc1_spill_slowdown = 0.3\n", true)] {
            let text = """
                [sector_manager]
                rpc_client.addr = "embedded"
                [resources]
                \(line)[resources.box]
                nodes = 2
                cores_per_node = 8
                memory = "256GiB"
                [[sealing_thread]]
                location = "\(dir.path)/t0"

                """
            let config = try #require(ConfigDecoder.decode(bytes: Array(text.utf8), file: "spill.toml").config)
            let options = try DaemonOptions(config: config, file: "spill.toml", log: quietLog)
            let pools = try #require(options.pools)
            #expect(pools.pc1Spill == expected, "\(line)")
        }
    }
}
