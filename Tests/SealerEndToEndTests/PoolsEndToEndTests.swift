import Foundation
import Testing

/// `sealer hwinfo` and `sealer simulate` as an operator runs them.
@Suite struct PoolsEndToEndTests {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    var fixtures: String { (package as NSString).deletingLastPathComponent + "/shared/fixtures" }

    @Test("hwinfo reads a captured H100 box: node, hugepages, and the GPU from its nvidia-smi XML")
    func hwinfoCapture() async throws {
        let text = try await runSealer(["hwinfo", "--sysfs-root", fixtures + "/h100-vm"])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("node 0: cpus 0-15 (16)"))
        #expect(text.output.contains("gpu 0: NVIDIA H100 80GB HBM3"))
        let json = try await runSealer(["hwinfo", "--sysfs-root", fixtures + "/h100-vm", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let gpus = try #require(object["gpus"] as? [[String: Any]])
        #expect(gpus.first?["uuid"] as? String == "GPU-b26acecd-588c-f34a-7891-c4040ebfb0bf")
        #expect((object["nodes"] as? [Any])?.count == 1)
    }

    @Test("hwinfo reads the DGX-2 hwloc export: 2 nodes, 16 GPUs")
    func hwinfoHwloc() async throws {
        let out = try await runSealer(["hwinfo", "--hwloc", fixtures + "/hwloc/nvidiaDGX2.xml", "--json"])
        #expect(out.status == 0, "\(out.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.output.utf8)) as? [String: Any])
        #expect((object["nodes"] as? [Any])?.count == 2)
        #expect((object["gpus"] as? [Any])?.count == 16)
    }

    @Test("hwinfo names the file it cannot read")
    func hwinfoErrors() async throws {
        let missing = try await runSealer(["hwinfo", "--hwloc", "/nonexistent/box.xml"])
        #expect(missing.status == 2)
        #expect(missing.output.contains("/nonexistent/box.xml"))
    }

    @Test("simulate prints one JSON object with the figures and never oversubscribes")
    func simulateJSON() async throws {
        let out = try await runSealer(["simulate", "--workload", package + "/config/workloads/mixed-32-64-snapup.toml", "--days", "2",
                                       "--json", "--compare"], timeout: .seconds(120))
        #expect(out.status == 0, "\(out.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.output.utf8)) as? [String: Any])
        for key in ["sectors_per_day", "bound", "ratio", "utilization", "oversubscriptions", "static"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["oversubscriptions"] as? Int == 0)
        let ratio = try #require(object["ratio"] as? Double)
        #expect(ratio > 0 && ratio <= 1)
        let utilization = try #require(object["utilization"] as? [String: Double])
        #expect(utilization["memory"] != nil && utilization["cpu"] != nil && utilization["gpu"] != nil)
    }

    @Test("simulate refuses a bad workload with the file and line, and an unknown policy")
    func simulateErrors() async throws {
        let scratch = Scratch("simulate")
        defer { scratch.cleanup() }
        let bad = try scratch.write("bad.toml", "name = \"bad\"\n[[sectors]]\nkind = \"pledge\"\n")
        let out = try await runSealer(["simulate", "--workload", bad])
        #expect(out.status == 2)
        #expect(out.output.contains("\(bad):3:"))
        #expect(out.output.contains("unknown kind \"pledge\""))
        let policy = try await runSealer(["simulate", "--workload", package + "/config/workloads/cc32.toml", "--policy", "greedy"])
        #expect(policy.status == 2)
        #expect(policy.output.contains("greedy"))
    }
}
