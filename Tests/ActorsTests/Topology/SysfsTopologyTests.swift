import Actors
import Foundation
import Scheduler
import Testing

@Suite struct SysfsTopologyTests {
    @Test func readsRealH100Capture() throws {
        let t = try SysfsTopology.read(root: Fixtures.h100)
        #expect(t.nodes.count == 1)
        let n = try #require(t.nodes.first)
        #expect(n.id == 0)
        #expect(n.cpus == Array(0...15))
        #expect(n.memoryBytes == 4_550_128 * 1024)
        #expect(n.freeMemoryBytes == 3_261_704 * 1024)
        #expect(n.hugepages == [
            HugepagePool(pageBytes: 2 << 20, total: 0, free: 0),
            HugepagePool(pageBytes: 1 << 30, total: 0, free: 0),
        ])
        // No cache dirs in the capture: one L3 group of all CPUs.
        #expect(n.l3Groups == [Array(0...15)])
        // Only cpu0/cpu1 have topology files (each its own core); the rest fall back to singletons.
        #expect(n.cores == (0...15).map { [$0] })
        #expect(t.gpus.isEmpty)
        #expect(t.cpuCount == 16)
        #expect(t.node(ofCPU: 7)?.id == 0)
        #expect(t.node(ofCPU: 16) == nil)
    }

    /// Two nodes, 2 cores x 2 threads each, one L3 per node, 2 MiB and 1 GiB hugepages.
    private func twoNodeTree() throws -> TempTree {
        let tree = try TempTree()
        let nodes: [(id: Int, cpus: [Int])] = [(0, [0, 1, 4, 5]), (1, [2, 3, 6, 7])]
        for (id, cpus) in nodes {
            let d = "sys/devices/system/node/node\(id)"
            try tree.write("\(d)/cpulist", CPUList.format(cpus))
            try tree.write("\(d)/meminfo", """
                Node \(id) MemTotal:       \(8_388_608 * (id + 1)) kB
                Node \(id) MemFree:        \(4_194_304) kB
                Node \(id) MemUsed:        1 kB
                """)
            try tree.write("\(d)/hugepages/hugepages-2048kB/nr_hugepages", "\(512 * (id + 1))")
            try tree.write("\(d)/hugepages/hugepages-2048kB/free_hugepages", "\(500 * (id + 1))")
            try tree.write("\(d)/hugepages/hugepages-1048576kB/nr_hugepages", "\(id)")
            try tree.write("\(d)/hugepages/hugepages-1048576kB/free_hugepages", "0")
            for cpu in cpus {
                let c = "sys/devices/system/cpu/cpu\(cpu)"
                try tree.write("\(c)/topology/thread_siblings_list", "\(cpu % 4),\(cpu % 4 + 4)")
                try tree.write("\(c)/cache/index0/level", "1")
                try tree.write("\(c)/cache/index0/shared_cpu_list", "\(cpu % 4),\(cpu % 4 + 4)")
                try tree.write("\(c)/cache/index3/level", "3")
                try tree.write("\(c)/cache/index3/shared_cpu_list", CPUList.format(cpus))
            }
        }
        return tree
    }

    @Test func readsSyntheticTwoNodeTree() throws {
        let tree = try twoNodeTree()
        let t = try SysfsTopology.read(root: tree.root)
        #expect(t.nodes.map(\.id) == [0, 1])
        #expect(t.nodes[0].cpus == [0, 1, 4, 5])
        #expect(t.nodes[1].cpus == [2, 3, 6, 7])
        #expect(t.nodes[0].cores == [[0, 4], [1, 5]])
        #expect(t.nodes[1].cores == [[2, 6], [3, 7]])
        #expect(t.nodes[0].l3Groups == [[0, 1, 4, 5]])
        #expect(t.nodes[1].l3Groups == [[2, 3, 6, 7]])
        #expect(t.nodes[1].memoryBytes == 16 << 30)
        #expect(t.nodes[1].freeMemoryBytes == 4 << 30)
        #expect(t.nodes[1].hugepages == [
            HugepagePool(pageBytes: 2 << 20, total: 1024, free: 1000),
            HugepagePool(pageBytes: 1 << 30, total: 1, free: 0),
        ])
        #expect(t.totalMemoryBytes == 24 << 30)
        #expect(t.node(ofCPU: 6)?.id == 1)
    }

    @Test func malformedCPUListNamesThePath() throws {
        let tree = try twoNodeTree()
        try tree.write("sys/devices/system/node/node1/cpulist", "abc")
        let path = tree.root + "/sys/devices/system/node/node1/cpulist"
        let error = #expect(throws: TopologyError.self) { try SysfsTopology.read(root: tree.root) }
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("abc") == true)
    }

    @Test func malformedHugepageCountNamesThePath() throws {
        let tree = try twoNodeTree()
        try tree.write("sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "x1")
        let error = #expect(throws: TopologyError.self) { try SysfsTopology.read(root: tree.root) }
        #expect(error?.path.hasSuffix("node0/hugepages/hugepages-2048kB/free_hugepages") == true)
    }

    @Test func withoutNodeDirectoryFallsBackToOnlineAndProcMeminfo() throws {
        let tree = try TempTree()
        try tree.write("sys/devices/system/cpu/online", "0-3")
        try tree.write("proc/meminfo", "MemTotal:        1024 kB\nMemFree:          512 kB\nHugePages_Total:       0")
        let t = try SysfsTopology.read(root: tree.root)
        #expect(t.nodes == [NUMANode(id: 0, cpus: [0, 1, 2, 3], memoryBytes: 1 << 20, freeMemoryBytes: 512 << 10)])
    }

    @Test func gpuNUMANodeFromPCISysfs() throws {
        // The H100 VM's GPU reports numa_node -1 (gpu0_numa_node): unknown, so nil.
        let tree = try TempTree()
        let numa = try Fixtures.text("h100-vm/gpu0_numa_node").trimmingCharacters(in: .whitespacesAndNewlines)
        try tree.write("sys/bus/pci/devices/0000:00:06.0/class", "0x030200")
        try tree.write("sys/bus/pci/devices/0000:00:06.0/vendor", "0x10de")
        try tree.write("sys/bus/pci/devices/0000:00:06.0/numa_node", numa)
        try tree.write("sys/bus/pci/devices/0000:81:00.0/class", "0x030200")
        try tree.write("sys/bus/pci/devices/0000:81:00.0/vendor", "0x10de")
        try tree.write("sys/bus/pci/devices/0000:81:00.0/numa_node", "1")
        try tree.write("sys/bus/pci/devices/0000:82:00.0/class", "0x020000")
        try tree.write("sys/bus/pci/devices/0000:82:00.0/vendor", "0x10de")
        let devices = SysfsTopology.nvidiaPCIDevices(root: tree.root)
        #expect(devices.count == 2)
        #expect(devices["0000:81:00.0"] == .some(1))

        let smi = try NvidiaSMIXML.parse(Fixtures.text("h100-vm/nvidia-smi-q.xml"))
        let far = GPUDevice(index: 1, name: "x", uuid: "", vramBytes: 0, pciBusID: "00000000:81:00.0")
        let attached = SysfsTopology.attachNUMANodes(smi + [far], root: tree.root)
        #expect(numa == "-1")
        #expect(attached[0].numaNode == nil)
        #expect(attached[1].numaNode == 1)
    }
}

@Suite struct NVMLTests {
    @Test func bogusLibraryMeansNoGPUs() {
        let result = NVML.probe(libraryName: "/nonexistent/libnvidia-ml.so.1")
        #expect((try? result.get()) == [])
    }

    @Test func defaultProbeDoesNotFailWithoutDriver() throws {
        // On this machine the library is absent (→ []); on a GPU host it must list GPUs.
        let gpus = try NVML.probe().get()
        for g in gpus { #expect(!g.uuid.isEmpty && g.vramBytes > 0) }
    }
}
