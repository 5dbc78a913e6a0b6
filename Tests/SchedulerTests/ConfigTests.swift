import Foundation
import Testing
import ProofsFFI
@testable import Scheduler

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

private func decode(_ text: String, file: String = "test.toml") -> ConfigResult {
    ConfigDecoder.decode(bytes: Array(text.utf8), file: file)
}

/// A minimal valid config plus `extra`.
private func config(_ extra: String) -> String {
    "[sector_manager]\nrpc_client.addr = \"embedded\"\n[[sealing_thread]]\nlocation = \"/tmp/t0\"\n" + extra
        + "\n[[attached]]\nlocation = \"/tmp/persist\"\n"
}

@Suite("Config: [resources]")
struct ResourcesConfigTests {
    @Test("every [resources] key is read, and the cost overrides apply by size")
    func full() throws {
        let config = try #require(ConfigDecoder.load(path: fixtures + "/sealer/full.toml").config)
        let r = config.resources
        #expect(r.cpus == Set(0...47) && r.nodes == [0, 1])
        #expect(r.memoryReserve == 32 << 30 && r.gpuSlots == 2 && r.starvationLimit == 16)
        #expect(r.starvationWait == .seconds(3 * 3600) && r.postHeadroom == .seconds(600))
        #expect(r.box?.hugepagesPerNode == 64 && r.box?.gpus == 2)
        let table = r.costTable
        #expect(table.cost(.pc1, .gib32).hugepages == 64 && table.cost(.pc1, .gib64).hugepages == 64)
        #expect(table.cost(.c2, .gib64).memoryBytes == 256 << 30 && table.cost(.c2, .gib32).memoryBytes == 128 << 30)
        let capacity = try #require(r.describedCapacity)
        let perNode: UInt64 = (256 - 64 - 16) << 30
        #expect(capacity.nodes.map(\.memoryBytes) == [perNode, perNode])
        #expect(capacity.nodes[1].l3Groups == [Array(24..<30), Array(30..<36), Array(36..<42), Array(42..<48)])
        #expect(capacity.gpus.map(\.node) == [0, 1] && capacity.gpus.allSatisfy { $0.slots == 2 })
    }

    @Test("bad [resources] values are errors naming the key and line")
    func errors() {
        let result = decode(config("[resources]\ncpus = \"0-x\"\n[resources.costs.pc3]\ncores = 1\n[resources.costs.\"32GiB\".c9]\ncores = 1\n"))
        #expect(result.config == nil)
        let messages = result.errors.map(\.description)
        #expect(messages.contains { $0.contains(":6:1:") && $0.contains("resources.cpus") && $0.contains("0-x") })
        #expect(messages.contains { $0.contains("resources.costs.pc3") && $0.contains("neither a stage nor a sector size") })
        #expect(messages.contains { $0.contains("c9") && $0.contains("unknown stage") })
    }
}

@Suite("Config: real damocles files")
struct DamoclesConfigFileTests {
    @Test("damocles' own mock config loads; the only diagnostic is its deprecated [attached_selection]")
    func mockConfig() throws {
        let result = ConfigDecoder.load(path: fixtures + "/damocles/damocles-worker.mock.toml")
        let config = try #require(result.config, "\(result.diagnostics)")
        #expect(result.diagnostics.map(\.keyPath) == ["attached_selection"])
        #expect(result.diagnostics.first?.description.contains("damocles-worker.mock.toml:55:") == true)
        #expect(config.sectorManager.address.description == "http://127.0.0.1:1789/rpc/v0")
        #expect(config.sealingThreads.count == 3)
        #expect(config.sealing.enableDeals == true && config.sealing.maxRetries == 3)
        #expect(config.metrics.enable)
        #expect(config.processors.concurrent == ["add_pieces": 5, "pc1": 3, "pc2": 2, "c2": 1])
        #expect(config.processors.staggered["pc1"] == .seconds(60))
        let pc1 = try #require(config.processors.external["pc1"])
        #expect(pc1.map(\.numaPreferred) == [0, 1])
        #expect(pc1.map(\.cpuset) == ["0-11", "12-23"])
        #expect(pc1[0].envs == ["FIL_PROOFS_USE_MULTICORE_SDR": "1"])
        #expect(config.processors.external["tree_d"]?.count == 1)
        #expect(config.processors.external["transfer"]?.count == 1)
        #expect(config.attached.first?.location == "./mock-tmp/remote")
    }

    @Test("the full example of damocles' config documentation loads without a diagnostic")
    func docsExample() throws {
        let result = ConfigDecoder.load(path: fixtures + "/damocles/docs-full-example.toml")
        #expect(result.config != nil)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test("the worked examples of damocles' docs load without an error", arguments: ["docs-example-1", "docs-example-3", "docs-example-4"])
    func docsWorkedExamples(name: String) {
        let result = ConfigDecoder.load(path: fixtures + "/damocles/\(name).toml")
        #expect(result.config != nil, "\(result.diagnostics)")
        #expect(result.errors.isEmpty, "\(result.diagnostics)")
    }

    @Test("the docs' minimal example is refused at its placeholder manager address, with the line")
    func docsMinimalPlaceholder() {
        let result = ConfigDecoder.load(path: fixtures + "/damocles/docs-en-03-minimal.toml")
        #expect(result.config == nil)
        let error = result.errors.first
        #expect(error?.keyPath == "sector_manager.rpc_client.addr", "\(result.diagnostics)")
        #expect(error?.position?.line == 2)
        #expect(error?.message.contains("{some_ip}") == true)
    }

    @Test("every key sealer knows loads as written")
    func fullExample() throws {
        let result = ConfigDecoder.load(path: fixtures + "/sealer/full.toml")
        let config = try #require(result.config, "\(result.diagnostics)")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(config.worker.rpcHost == "0.0.0.0" && config.worker.rpcToken == "s3cret")
        #expect(config.worker.shutdownTimeout == .seconds(20))
        #expect(config.sealing.allowedSizes == [.gib32])
        #expect(config.sealing.minDealSpace == ByteSize(bytes: 8 << 30))
        #expect(config.sealingThreads.map(\.plan) == [.sealer, .snapup, .wdpost])
        #expect(config.sealingOptions(forThread: 1).maxRetries == 10)
        #expect(config.sealingOptions(forThread: 0).maxRetries == 5)
        #expect(config.processors.extLocks == ["gpu0": 1])
        #expect(config.processors.staticTreeD == ["32GiB": "/var/tmp/32g/sc-02-data-tree-d.dat"])
        #expect(config.processors.external["c2"]?.first?.stableWait == .seconds(30))
        #expect(config.processors.external["c2"]?.first?.bin == "/usr/local/bin/my-c2")
        #expect(config.proofs.mockDurations[.pc1] == .seconds(2))
        #expect(config.proofs.mockFailureRate == 0.01)
    }

    @Test("the effective config reads back to the same effective settings")
    func effectiveRoundTrip() throws {
        for file in ["/sealer/full.toml", "/damocles/damocles-worker.mock.toml"] {
            let original = try #require(ConfigDecoder.load(path: fixtures + file).config)
            let text = EffectiveConfig.render(original)
            let again = decode(text, file: "effective.toml")
            let reread = try #require(again.config, "\(again.diagnostics)\n\(text)")
            #expect(again.diagnostics.isEmpty, "\(again.diagnostics)")
            for i in original.sealingThreads.indices {
                #expect(reread.sealingOptions(forThread: i) == original.sealingOptions(forThread: i))
            }
            #expect(reread.processors == original.processors)
            #expect(reread.attached.map(\.name) == original.attached.map(\.name))
            #expect(reread.sectorManager.address == original.sectorManager.address)
            #expect(reread.worker.pingInterval == original.worker.pingInterval)
            #expect(reread.proofs.resolvedMockDurations == original.proofs.resolvedMockDurations)
            #expect(reread.resources == original.resources)
        }
    }

    @Test("the effective config is a fixed point: rendering what it reads back to gives the same text, less the secrets it does not print")
    func effectiveFixedPoint() throws {
        for file in ["/sealer/full.toml", "/damocles/damocles-worker.mock.toml"] {
            let original = try #require(ConfigDecoder.load(path: fixtures + file).config)
            let text = EffectiveConfig.render(original)
            #expect(!text.contains(file), "the text names no source, so it does not change with the file it is read from")
            let reread = try #require(decode(text, file: "effective.toml").config)
            let withoutSecrets = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasSuffix("is set (not shown)") }.joined(separator: "\n")
            #expect(EffectiveConfig.render(reread) == withoutSecrets)
            let again = try #require(decode(withoutSecrets, file: "again.toml").config)
            #expect(EffectiveConfig.render(again) == withoutSecrets)
        }
    }
}

@Suite("Config: defaults and errors")
struct ConfigErrorTests {
    @Test("defaults are damocles' code defaults")
    func defaults() throws {
        let config = try #require(decode(config("")).config)
        let o = config.sealingOptions(forThread: 0)
        #expect(o.maxRetries == 5)
        #expect(o.sealInterval == .seconds(30))
        #expect(o.recoverInterval == .seconds(60))
        #expect(o.rpcPollingInterval == .seconds(180))
        #expect(o.requestTaskMaxRetries == 3)
        #expect(!o.enableDeals && !o.disableCC && !o.ignoreProofCheck && !o.verifyAfterPC2)
        #expect(config.worker.rpcPort == 17890 && config.worker.rpcHost == "127.0.0.1")
        #expect(config.worker.pingInterval == .seconds(30))
        #expect(config.sealingThreads[0].plan == .sealer)
        #expect(config.processors.external.isEmpty)
    }

    @Test("each mistake is an error at its line, naming the key and what was expected", arguments: [
        ("[sealing]\nmax_retries = \"five\"\n", 6, "sealing.max_retries: expected an integer, found string \"five\""),
        ("[sealing]\nseal_interval = \"30 parsecs\"\n", 6, "invalid duration \"30 parsecs\""),
        ("[sealing]\nmin_deal_space = \"8 GB per\"\n", 6, "invalid size \"8 GB per\""),
        ("[sealing]\nallowed_sizes = [\"3GiB\"]\n", 6, "\"3GiB\" is not a Filecoin sector size"),
        ("[[sealing_thread]]\nlocation = \"/tmp/t1\"\nplan = \"seal\"\n", 7, "unknown plan \"seal\""),
        ("[[sealing_thread]]\nlocation = \"/tmp/t0\"\n", 5, "is also the location of sealing_thread[0] (line 3)"),
        ("[[processors.pc2]]\ncgroup.cpuset = \"0-x\"\n", 6, "invalid cpuset \"0-x\""),
        ("[worker]\nrpc_server.port = 70000\n", 6, "70000 is out of range"),
        ("[worker]\nping_interval = \"0s\"\n", 6, "worker.ping_interval: must be longer than 0s"),
        ("[processors.limitation.concurrent]\npc1 = 0\n", 6, "0 is out of range 1...1000000"),
        ("[sealing]\nenable_deals = yes\n", 6, "invalid TOML"),
    ])
    func errors(extra: String, line: Int, message: String) {
        let result = decode(config(extra))
        #expect(result.config == nil)
        let error = result.errors.first
        #expect(error?.position?.line == line, "\(result.diagnostics)")
        #expect(error?.description.contains(message) == true, "\(result.diagnostics)")
        #expect(error?.description.hasPrefix("test.toml:\(line):") == true, "\(result.diagnostics)")
    }

    @Test("every error is reported, not only the first")
    func allErrors() {
        let result = decode(config("[sealing]\nmax_retries = \"x\"\nseal_interval = \"y\"\n[[sealing_thread]]\nplan = \"bogus\"\n"))
        #expect(result.errors.count >= 3, "\(result.diagnostics)")
    }

    @Test("unknown keys are warnings with file:line, and the config still loads")
    func unknownKeys() throws {
        let result = decode(config("[sealing]\nmax_retries = 2\nmax_retires = 3\n[worker]\nnmae = \"x\"\n"))
        #expect(result.config != nil)
        #expect(result.warnings.map(\.description) == [
            "test.toml:7:1: warning: sealing.max_retires: unknown key (ignored)",
            "test.toml:9:1: warning: worker.nmae: unknown key (ignored)",
        ])
    }

    @Test("a config without a persist store is warned about")
    func noPersistStore() {
        let result = decode("[sector_manager]\nrpc_client.addr = \"embedded\"\n[[sealing_thread]]\nlocation = \"/tmp/t0\"\n")
        #expect(result.config != nil)
        #expect(result.warnings.map(\.keyPath) == ["attached"])
    }

    @Test("missing sections, missing locations and undeclared locks are errors")
    func structuralErrors() {
        let none = decode("[sealing]\nmax_retries = 1\n")
        #expect(none.errors.map(\.keyPath).contains("sector_manager"))
        #expect(none.errors.map(\.keyPath).contains("sealing_thread"))
        let noLocation = decode("[sector_manager]\nrpc_client.addr = \"embedded\"\n[[sealing_thread]]\nplan = \"sealer\"\n")
        #expect(noLocation.errors.first?.message.contains("needs a location") == true)
        let wdpost = decode("[sector_manager]\nrpc_client.addr = \"embedded\"\n[[sealing_thread]]\nplan = \"wdpost\"\n")
        #expect(wdpost.config != nil, "\(wdpost.diagnostics)")
        let lock = decode(config("[[processors.c2]]\nlocks = [\"gpu9\"]\n"))
        #expect(lock.errors.first?.message.contains("lock \"gpu9\" is not declared") == true)
    }

    @Test("manager addresses: multiaddrs, URLs and embedded", arguments: [
        ("/ip4/10.0.0.2/tcp/1789", "http://10.0.0.2:1789/rpc/v0"),
        ("/ip4/10.0.0.2/tcp/1789/https", "https://10.0.0.2:1789/rpc/v0"),
        ("/dns/manager.local/tcp/1789", "http://manager.local:1789/rpc/v0"),
        ("http://10.0.0.2:1789", "http://10.0.0.2:1789/rpc/v0"),
        ("http://10.0.0.2:1789/rpc/v1", "http://10.0.0.2:1789/rpc/v1"),
        ("embedded", "embedded"),
        ("/ip6/::1/tcp/1789", "http://[::1]:1789/rpc/v0"),
        ("http://[::1]:1789", "http://[::1]:1789/rpc/v0"),
    ])
    func addresses(text: String, expected: String) {
        #expect(ManagerAddress(parsing: text)?.description == expected)
    }

    @Test("bad manager addresses are refused", arguments: [
        "10.0.0.2:1789", "/ip4/10.0.0.2/udp/1789", "ftp://x:1", "", "/ip4/{some_ip}/tcp/1789", "/ip4/10.0.0.256/tcp/1789",
        "/ip4/10.0.0/tcp/1789", "http://{host}:1789", "/dns/bad host/tcp/1",
    ])
    func badAddresses(text: String) {
        #expect(ManagerAddress(parsing: text) == nil)
    }

    @Test("hot config: plan and sealing.* apply over the thread's settings; other keys are reported")
    func hotConfig() throws {
        let base = try #require(decode(config("[sealing]\nmax_retries = 2\nseal_interval = \"5s\"\n")).config)
        let hot = ConfigDecoder.decodeHot(bytes: Array("plan = \"snapup\"\nsealing.max_retries = 9\nbogus = 1\n".utf8), file: "/tmp/t0/config.toml")
        #expect(hot.plan == .snapup)
        let merged = base.sealingOptions(forThread: 0).merged(with: hot.sealing)
        #expect(merged.maxRetries == 9)
        #expect(merged.sealInterval == .seconds(5), "global [sealing] still applies under the hot file")
        #expect(hot.diagnostics.map(\.description) == ["/tmp/t0/config.toml:3:1: warning: bogus: unknown key (ignored)"])
    }
}

@Suite("Config: sizes and durations")
struct UnitsTests {
    @Test("sizes as damocles writes them", arguments: [
        ("2KiB", UInt64(2048)), ("32GiB", 32 << 30), ("64GiB", 64 << 30), ("512MiB", 512 << 20), ("8GB", 8_000_000_000),
        ("1024", 1024), ("1.5KiB", 1536), ("32 GiB", 32 << 30), ("32gib", 32 << 30),
    ])
    func sizes(text: String, bytes: UInt64) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test("bad sizes", arguments: ["", "GiB", "-1KiB", "1.3B", "12 parsecs"])
    func badSizes(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }

    @Test("durations as humantime writes them", arguments: [
        ("30s", Duration.seconds(30)), ("1min", .seconds(60)), ("5min", .seconds(300)), ("1h 30m", .seconds(5400)),
        ("100ms", .milliseconds(100)), ("2days", .seconds(172_800)), ("1m", .seconds(60)), ("0s", .zero), ("1h30m", .seconds(5400)),
    ])
    func durations(text: String, duration: Duration) {
        #expect(HumanDuration.parse(text) == duration)
    }

    @Test("bad durations", arguments: ["", "30", "s", "1 parsec", "-5s", "1.5s"])
    func badDurations(text: String) {
        #expect(HumanDuration.parse(text) == nil)
    }

    @Test("durations format back to what parses", arguments: [Duration.seconds(90), .milliseconds(150), .zero, .seconds(86_461)])
    func formatRoundTrip(duration: Duration) {
        #expect(HumanDuration.parse(HumanDuration.format(duration)) == duration)
    }

    @Test("cpusets")
    func cpusets() {
        #expect(CPUList.parse("0-3,8") == [0, 1, 2, 3, 8])
        #expect(CPUList.parse("3-1") == nil)
        #expect(CPUList.parse("") == [])
        #expect(CPUList.parse("0-4294967295") == nil, "a typo must not expand to billions of CPUs")
    }
}

@Suite("Config: [proofs] ffi_library")
struct ProofsLibraryConfigTests {
    @Test("ffi_library is read, rendered in the effective config and read back; left out it is nil")
    func readAndRendered() throws {
        let result = decode(config("[proofs]\nbackend = \"ffi\"\nffi_library = \"/opt/lotus/libfilcrypto.so\"\n"))
        let loaded = try #require(result.config, "\(result.diagnostics)")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(loaded.proofs.backend == .ffi && loaded.proofs.ffiLibrary == "/opt/lotus/libfilcrypto.so")
        let text = EffectiveConfig.render(loaded)
        #expect(text.contains("ffi_library = \"/opt/lotus/libfilcrypto.so\"\n"))
        #expect(decode(text).config?.proofs.ffiLibrary == "/opt/lotus/libfilcrypto.so")
        #expect(decode(config("")).config?.proofs.ffiLibrary == nil)
        #expect(!EffectiveConfig.render(try #require(decode(config("")).config)).contains("ffi_library"))
    }

    @Test("an empty or non-string ffi_library is an error at its key")
    func invalid() {
        for value in ["\"\"", "3"] {
            let result = decode(config("[proofs]\nffi_library = \(value)\n"))
            #expect(result.errors.first?.keyPath == "proofs.ffi_library", "\(result.diagnostics)")
        }
    }
}
