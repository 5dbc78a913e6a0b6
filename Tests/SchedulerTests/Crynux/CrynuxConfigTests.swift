import Testing
@testable import Scheduler

@Suite struct CrynuxConfigTests {
    static let base = """
    [sector_manager]
    rpc_client.addr = "embedded"
    [[attached]]
    name = "p"
    location = "/tmp/p"
    [[sealing_thread]]
    location = "/tmp/s1"

    """

    func decode(_ text: String) -> ConfigResult { ConfigDecoder.decode(bytes: Array((Self.base + text).utf8), file: "c.toml") }

    @Test func decodesTheSection() throws {
        let r = decode("""
        [crynux]
        relay_url = "http://10.0.0.1:8080"
        node_key_file = "/etc/key"
        gpus = [0, 1]
        gpu_name = "RTX 4090"
        distance_threshold = 20
        gpu_share = 0.5
        priority = "like_c2"
        [crynux.mock]
        mode = "legacy"
        task_type = "llm"
        [[sealing_thread]]
        plan = "crynux"
        location = "/tmp/c"
        """)
        #expect(r.errors.isEmpty, "\(r.errors)")
        let c = try #require(r.config?.crynux)
        #expect(c.relay == .url("http://10.0.0.1:8080"))
        #expect(c.gpus == [0, 1] && c.distanceThreshold == 20 && c.gpuShare == 0.5 && c.priority == .likeC2)
        #expect(c.reportedGPUName == "RTX 4090+Linux")
        #expect(c.mock.mode == .legacy && c.mock.taskType == .llm)
        #expect(r.config?.sealingThreads.map(\.crynux) == [false, true])
    }

    @Test func effectiveConfigKeepsTheCrynuxThreadAndSection() throws {
        let r = decode("[crynux]\nrelay_url = \"http://h:1\"\nnode_key_file = \"/k\"\ngpu_share = 0.25\n[crynux.mock]\nmode = \"legacy\"\ntask_interval = \"5s\"\n[[sealing_thread]]\nplan = \"crynux\"\nlocation = \"/tmp/c\"\n")
        let config = try #require(r.config)
        let text = EffectiveConfig.render(config)
        #expect(text.contains("plan = \"crynux\""))
        let again = ConfigDecoder.decode(bytes: Array(text.utf8), file: "effective.toml")
        #expect(again.errors.isEmpty, "\(again.errors)\n\(text)")
        #expect(again.config?.crynux == config.crynux)
        #expect(again.config?.sealingThreads.map(\.crynux) == [false, true])
        #expect(again.config.map(EffectiveConfig.render) == text)
    }

    @Test func badInputNamesTheKey() {
        let cases: [(String, String)] = [
            ("[crynux]\nrelay_url = \"ftp://x\"\nnode_key_file = \"k\"\n", "crynux.relay_url"),
            ("[crynux]\nrelay_url = \"embedded\"\n", "crynux.node_key_file"),
            ("[crynux]\nnode_key_file = \"k\"\ndistance_threshold = 65\n", "crynux.distance_threshold"),
            ("[crynux]\nnode_key_file = \"k\"\ngpu_share = 2.0\n", "crynux.gpu_share"),
            ("[crynux]\nnode_key_file = \"k\"\npriority = \"first\"\n", "crynux.priority"),
            ("[crynux]\nnode_key_file = \"k\"\n[crynux.mock]\nmode = \"chain\"\n", "crynux.mock.mode"),
            ("[crynux]\nnode_key_file = \"k\"\nbogus = 1\n", "crynux.bogus"),
            ("[crynux]\nnode_key_file = \"k\"\n[crynux.mock]\nmodel_ids = [\"base:sd15\", \"sd15-lora\"]\n", "crynux.mock.model_ids"),
            ("[[sealing_thread]]\nplan = \"crynux\"\nlocation = \"/tmp/c\"\n", "crynux"),
            ("[crynux]\nnode_key_file = \"k\"\n[[sealing_thread]]\nplan = \"crynux\"\nlocation = \"/tmp/c\"\n[[sealing_thread]]\nplan = \"crynux\"\nlocation = \"/tmp/d\"\n", "sealing_thread[2].plan"),
            ("[crynux]\nnode_key_file = \"k\"\n[[sealing_thread]]\nplan = \"crynux\"\nlocation = \"/tmp/c\"\n[[sealing_thread]]\nlocation = \"/tmp/d\"\n", "sealing_thread[1].plan"),
        ]
        for (text, key) in cases {
            let r = decode(text)
            #expect(r.diagnostics.contains { $0.keyPath == key }, "expected a diagnostic at \(key) for:\n\(text)\ngot \(r.diagnostics)")
        }
        #expect(decode("[crynux]\nnode_key_file = \"k\"\n[crynux.mock]\nmode = \"chain\"\n").config == nil)
    }
}
