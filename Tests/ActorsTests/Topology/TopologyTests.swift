import Actors
import Foundation
import Scheduler
import Testing

@Suite struct TopologyReportTests {
    private func h100() throws -> Topology {
        var t = try SysfsTopology.read(root: Fixtures.h100)
        t.gpus = try NvidiaSMIXML.parse(Fixtures.text("h100-vm/nvidia-smi-q.xml"))
        return t
    }

    @Test func textOnH100Capture() throws {
        #expect(try TopologyReport.text(h100()) == """
            node 0: cpus 0-15 (16), l3 groups 1, memory 4.3 GiB (free 3.1 GiB), hugepages 1GiB 0/0 2MiB 0/0
            gpu 0: NVIDIA H100 80GB HBM3, 79.6 GiB VRAM, node -, pci 00000000:00:06.0, uuid GPU-b26acecd-588c-f34a-7891-c4040ebfb0bf

            """)
    }

    @Test func jsonOnH100CaptureRoundTrips() throws {
        let t = try h100()
        let json = TopologyReport.json(t)
        #expect(json.contains("\"free_memory_bytes\" : 3339984896"))
        #expect(json.contains("\"memory_bytes\" : 4659331072"))
        #expect(json.contains("\"l3_groups\""))
        #expect(json.contains("\"page_bytes\" : 1073741824"))
        #expect(json.contains("\"pci_bus_id\" : \"00000000:00:06.0\""))
        #expect(json.contains("\"vram_bytes\" : 85520809984"))
        #expect(!json.contains("numa_node"))  // nil is omitted
        #expect(json.hasPrefix("{\n  \"gpus\""))  // sorted keys
        let decoded = try JSONDecoder().decode(Topology.self, from: Data(json.utf8))
        #expect(decoded == t)
    }
}

@Suite struct RestrictTests {
    private let base = Topology(
        nodes: [
            NUMANode(id: 0, cpus: [0, 1, 2, 3], l3Groups: [[0, 1], [2, 3]], cores: [[0, 2], [1, 3]], memoryBytes: 100),
            NUMANode(id: 1, cpus: [4, 5, 6, 7], memoryBytes: 200),
            NUMANode(id: 2, cpus: [], memoryBytes: 300),
        ],
        gpus: [
            GPUDevice(index: 0, name: "a", uuid: "u0", vramBytes: 1, pciBusID: "0000:01:00.0", numaNode: 0),
            GPUDevice(index: 1, name: "b", uuid: "u1", vramBytes: 1, pciBusID: "0000:02:00.0", numaNode: 1),
        ])

    @Test func noOverridesKeepsEverything() {
        #expect(base.restricted(toCPUs: nil, nodes: nil, gpus: nil) == base)
        #expect(base.cpuCount == 8)
        #expect(base.totalMemoryBytes == 600)
    }

    @Test func cpuOverrideTrimsGroupsAndDropsEmptiedNodes() {
        let t = base.restricted(toCPUs: [0, 2, 3], nodes: nil, gpus: nil)
        #expect(t.nodes.map(\.id) == [0, 2])  // node 1 lost all CPUs; CPU-less memory node 2 stays
        #expect(t.nodes[0].cpus == [0, 2, 3])
        #expect(t.nodes[0].l3Groups == [[0], [2, 3]])
        #expect(t.nodes[0].cores == [[0, 2], [3]])
        #expect(t.gpus.count == 2)
    }

    @Test func nodeAndGPUOverrides() {
        let t = base.restricted(toCPUs: nil, nodes: [1], gpus: [1])
        #expect(t.nodes.map(\.id) == [1])
        #expect(t.gpus.map(\.index) == [1])
        #expect(t.node(ofCPU: 0) == nil)
        #expect(t.node(ofCPU: 5)?.id == 1)
    }
}
