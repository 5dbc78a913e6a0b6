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
