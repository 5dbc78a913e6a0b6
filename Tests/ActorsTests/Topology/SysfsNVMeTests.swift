import Foundation
import Scheduler
import Testing
@testable import Actors

@Suite struct SysfsNVMeTests {
    /// Writes `files` (path under the root → contents) into a fresh directory.
    func tree(_ files: [String: String]) throws -> TempDir {
        let dir = TempDir()
        for (path, text) in files {
            let full = dir.path + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test("namespaces from sys/block: size in 512-byte sectors, NUMA node from the controller or the PCI function")
    func reads() throws {
        let dir = try tree([
            "sys/block/nvme10n1/size": "30001856512\n",           // 15.36 TB
            "sys/block/nvme10n1/device/numa_node": "1\n",
            "sys/block/nvme2n1/size": "15002931888\n",            // 7.68 TB
            "sys/block/nvme2n1/device/device/numa_node": "-1\n",  // no node
            "sys/block/nvme3n1/size": "0\n",                      // an empty namespace: left out
            "sys/block/sda/size": "1000\n",                       // not NVMe
            "sys/block/nvme0c0n1/size": "1000\n",                 // a multipath path, not a namespace
        ])
        defer { dir.cleanup() }
        let drives = try SysfsNVMe.read(root: dir.path)
        #expect(drives == [NVMeCapacity(index: 0, node: nil, bytes: 15_002_931_888 * 512, path: "/dev/nvme2n1"),
                           NVMeCapacity(index: 1, node: 1, bytes: 30_001_856_512 * 512, path: "/dev/nvme10n1")])
        #expect(try SysfsNVMe.read(root: dir.path + "/nowhere").isEmpty, "no sys/block: no drives")
    }

    @Test("a malformed size or node file is an error naming the file")
    func malformed() throws {
        let bad = try tree(["sys/block/nvme0n1/size": "lots\n"])
        defer { bad.cleanup() }
        #expect(throws: TopologyError.self) { try SysfsNVMe.read(root: bad.path) }
        do { _ = try SysfsNVMe.read(root: bad.path) } catch { #expect(error.path.hasSuffix("sys/block/nvme0n1/size")) }
        let node = try tree(["sys/block/nvme0n1/size": "8\n", "sys/block/nvme0n1/device/numa_node": "x\n"])
        defer { node.cleanup() }
        do {
            _ = try SysfsNVMe.read(root: node.path)
            Issue.record("a bad numa_node must be an error")
        } catch {
            #expect(error.path.hasSuffix("device/numa_node"))
        }
    }

    @Test("namespace names: nvme<c>n<n> only")
    func names() {
        #expect(SysfsNVMe.isNamespace("nvme0n1") && SysfsNVMe.isNamespace("nvme12n3"))
        #expect(!SysfsNVMe.isNamespace("nvme0") && !SysfsNVMe.isNamespace("nvme0n1p1") && !SysfsNVMe.isNamespace("nvme0c0n1") && !SysfsNVMe.isNamespace("sda"))
    }

    @Test("the daemon's pools: batch mode adds the NVMe sysfs lists to a discovered box; single mode leaves it out")
    func daemonDiscovers() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try FileManager.default.copyItem(atPath: Fixtures.h100 + "/sys", toPath: dir.path + "/sys")
        try FileManager.default.createDirectory(atPath: dir.path + "/sys/block/nvme0n1/device", withIntermediateDirectories: true)
        try "7501476528\n".write(toFile: dir.path + "/sys/block/nvme0n1/size", atomically: true, encoding: .utf8)
        try "0\n".write(toFile: dir.path + "/sys/block/nvme0n1/device/numa_node", atomically: true, encoding: .utf8)
        let batch = try DaemonOptions.pools(ResourcesSection(), threads: [], file: "t.toml", log: quietLog, sysfsRoot: dir.path, discoverNVMe: true)
        #expect(batch.capacity.nvme == [NVMeCapacity(index: 0, node: 0, bytes: 7_501_476_528 * 512, path: "/dev/nvme0n1")])
        #expect(batch.capacity.cpuCount > 0)
        let single = try DaemonOptions.pools(ResourcesSection(), threads: [], file: "t.toml", log: quietLog, sysfsRoot: dir.path)
        #expect(single.capacity.nvme.isEmpty)
    }
}
