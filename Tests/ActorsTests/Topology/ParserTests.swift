import Foundation
import Scheduler
import Testing

@Suite struct CPUListTests {
    @Test func parseAndFormat() {
        #expect(CPUList.parse("0-7,32-39\n") == Array(0...7) + Array(32...39))
        #expect(CPUList.parse("3,1,2") == [1, 2, 3])
        #expect(CPUList.parse("\n") == [])
        #expect(CPUList.parse("abc") == nil)
        #expect(CPUList.parse("5-2") == nil)
        #expect(CPUList.parse("1,,2") == nil)
        #expect(CPUList.format([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(CPUList.format([]) == "")
    }

    @Test func busIDNormalisation() {
        #expect(GPUDevice.normalizedBusID("00000000:00:06.0") == "0000:00:06.0")
        #expect(GPUDevice.normalizedBusID("0000:3B:00.0") == "0000:3b:00.0")
    }
}

@Suite struct XMLScannerTests {
    @Test func elementsAttributesEntities() throws {
        let xml = """
            <?xml version="1.0" ?>
            <!DOCTYPE a SYSTEM "a.dtd">
            <!-- comment <b> -->
            <a x="1 &amp; 2" y='&lt;q&gt;'><b/>text &quot;&apos;&#65;&#x42;<c k="v">in</c><![CDATA[<raw>]]></a>
            """
        let root = try XMLScanner.parse(xml)
        #expect(root.name == "a")
        #expect(root.attributes == ["x": "1 & 2", "y": "<q>"])
        #expect(root.children.map(\.name) == ["b", "c"])
        #expect(root.text == "text \"'AB<raw>")
        #expect(root.child("c")?.text == "in")
        #expect(root.child("c")?.attributes["k"] == "v")
    }

    @Test func rejectsMismatchedTags() {
        #expect(throws: TopologyParseError.self) { try XMLScanner.parse("<a><b></a>") }
        #expect(throws: TopologyParseError.self) { try XMLScanner.parse("<a>") }
        #expect(throws: TopologyParseError.self) { try XMLScanner.parse("<a x=1/>") }
    }
}

@Suite struct NvidiaSMIXMLTests {
    @Test func parsesRealH100Report() throws {
        let gpus = try NvidiaSMIXML.parse(Fixtures.text("h100-vm/nvidia-smi-q.xml"))
        #expect(gpus.count == 1)
        let g = try #require(gpus.first)
        #expect(g.index == 0)
        #expect(g.name == "NVIDIA H100 80GB HBM3")
        #expect(g.uuid == "GPU-b26acecd-588c-f34a-7891-c4040ebfb0bf")
        #expect(g.vramBytes == 81559 << 20)
        #expect(g.pciBusID == "00000000:00:06.0")
        #expect(g.numaNode == nil)
    }

    @Test func rejectsOtherRoot() {
        #expect(throws: TopologyParseError.self) { try NvidiaSMIXML.parse("<topology/>") }
    }
}

@Suite struct HwlocXMLTests {
    private func load(_ name: String) throws -> Topology {
        try HwlocXML.parse(Fixtures.text("hwloc/\(name)"))
    }

    /// Every CPU appears in exactly one node, and cores / L3 groups partition each node.
    private func checkPartition(_ t: Topology, cpus expected: Int) {
        let all = t.nodes.flatMap(\.cpus)
        #expect(all.count == expected)
        #expect(Set(all).count == all.count)
        for n in t.nodes {
            #expect(n.cores.flatMap { $0 }.sorted() == n.cpus)
            #expect(n.l3Groups.flatMap { $0 }.sorted() == n.cpus)
        }
    }

    @Test func bitmap() {
        #expect(HwlocXML.parseBitmap("0x00000003") == [0, 1])
        #expect(HwlocXML.parseBitmap("0x00000001,,0x0") == [64])
        #expect(HwlocXML.parseBitmap("0xf...f,0x00000001") == [0])
        #expect(HwlocXML.parseBitmap("0xzz") == nil)
    }

    @Test func dgx2() throws {
        let t = try load("nvidiaDGX2.xml")
        #expect(t.nodes.map(\.id) == [0, 1])
        // The capture was taken with a 4-PU cpuset (0x03000003): PUs 0,1 and 24,25.
        #expect(t.nodes[0].cpus == [0, 1])
        #expect(t.nodes[1].cpus == [24, 25])
        #expect(t.nodes[0].memoryBytes == 810_234_351_616)
        #expect(t.nodes[1].memoryBytes == 811_737_923_584)
        #expect(t.nodes[0].l3Groups == [[0, 1]])
        #expect(t.nodes[0].cores == [[0], [1]])
        #expect(t.gpus.count == 16)
        #expect(t.gpus.filter { $0.numaNode == 0 }.count == 8)
        #expect(t.gpus.filter { $0.numaNode == 1 }.count == 8)
        #expect(t.gpus.map(\.index) == Array(0..<16))
        #expect(Set(t.gpus.map(\.pciBusID)).count == 16)
        let g0 = t.gpus[0]
        #expect(g0.pciBusID == "0000:34:00.0")
        #expect(g0.name == "Tesla V100-SXM3-32GB-H")
        #expect(g0.uuid == "GPU-d3977428-7a30-086b-2e20-5c1eeed647c6")
        #expect(g0.numaNode == 0)
        checkPartition(t, cpus: 4)
    }

    @Test func fourNodeBox() throws {
        let t = try load("96em64t-4n4d3ca2co-pci.xml")
        #expect(t.nodes.map(\.id) == [0, 1, 2, 3])
        #expect(t.nodes.allSatisfy { $0.cpus.count == 24 })
        #expect(t.nodes.allSatisfy { $0.l3Groups.count == 4 })
        #expect(t.nodes[0].memoryBytes == 51_269_931_008)
        #expect(t.gpus.isEmpty)
        checkPartition(t, cpus: 96)
    }

    @Test func twoNodeBoxes() throws {
        let a = try load("24em64t-2n6c2t-pci.xml")
        #expect(a.nodes.map(\.id) == [0, 1])
        #expect(a.nodes[0].cpus == stride(from: 0, to: 24, by: 2).map { $0 })
        #expect(a.nodes[0].cores.count == 6)
        #expect(a.nodes.allSatisfy { $0.cores.allSatisfy { $0.count == 2 } })
        #expect(a.nodes.allSatisfy { $0.l3Groups.count == 1 })
        // Three NVIDIA 0302 devices without OSDevs; the AMD card is not counted.
        #expect(a.gpus.map(\.pciBusID) == ["0000:06:00.0", "0000:11:00.0", "0000:14:00.0"])
        checkPartition(a, cpus: 24)

        let b = try load("32em64t-2n8c2t-pci-normalio.xml")
        #expect(b.nodes.map(\.id) == [0, 1])
        #expect(b.nodes[1].cpus == Array(8...15) + Array(24...31))
        #expect(b.nodes[1].memoryBytes == 34_359_738_368)
        checkPartition(b, cpus: 32)
        let cuda = try #require(b.gpus.first { $0.pciBusID == "0000:84:00.0" })
        #expect(cuda.name == "Tesla K40m")
        #expect(cuda.vramBytes == 11_796_032 * 1024)
        #expect(cuda.numaNode == 1)
        #expect(b.gpus.count == 3)
    }

    @Test func twelveGroupBox() throws {
        let t = try load("192em64t-12gr2n8c2t.xml")
        #expect(t.nodes.count == 24)
        #expect(t.nodes.allSatisfy { $0.cpus.count == 16 && $0.cores.count == 8 })
        checkPartition(t, cpus: 384)
    }

    @Test func hugepagesFromPageTypes() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <topology version="2.0">
              <object type="Machine" os_index="0" cpuset="0x3" nodeset="0x1">
                <object type="Package" os_index="0" cpuset="0x3" nodeset="0x1">
                  <object type="NUMANode" os_index="0" cpuset="0x3" nodeset="0x1">
                    <page_type size="4096" count="1024"/>
                    <page_type size="2097152" count="16"/>
                  </object>
                  <object type="Core" os_index="0" cpuset="0x3">
                    <object type="PU" os_index="0" cpuset="0x1"/>
                    <object type="PU" os_index="1" cpuset="0x2"/>
                  </object>
                </object>
              </object>
            </topology>
            """
        let t = try HwlocXML.parse(xml)
        #expect(t.nodes.count == 1)
        #expect(t.nodes[0].memoryBytes == 4096 * 1024 + 2_097_152 * 16)
        #expect(t.nodes[0].hugepages == [HugepagePool(pageBytes: 2 << 20, total: 16, free: 16)])
        #expect(t.nodes[0].cores == [[0, 1]])
    }
}
