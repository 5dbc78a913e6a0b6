@testable import Actors
import Foundation
import Testing

/// Against a fake cgroupfs in a temp directory: the files a v2 and a v1 hierarchy expect.
@Suite struct CgroupCpusetTests {
    func tree(unified: Bool) throws -> String {
        let root = NSTemporaryDirectory() + "cgroup-\(UUID().uuidString)"
        let fm = FileManager.default
        if unified {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
            try "cpuset cpu memory".write(toFile: root + "/cgroup.controllers", atomically: true, encoding: .utf8)
        } else {
            try fm.createDirectory(atPath: root + "/cpuset", withIntermediateDirectories: true)
            try "0-1".write(toFile: root + "/cpuset/cpuset.mems", atomically: true, encoding: .utf8)
            try "0-63".write(toFile: root + "/cpuset/cpuset.cpus", atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func joinsAV2Group() throws {
        let root = try tree(unified: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try CgroupCpuset.join(name: "vc-worker/sub-pc1-42-0", cpus: "0-7,32-39", pid: 42, root: root).get()
        #expect(directory == root + "/vc-worker/sub-pc1-42-0")
        #expect(try String(contentsOfFile: directory + "/cpuset.cpus", encoding: .utf8) == "0-7,32-39")
        #expect(try String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8) == "42")
        #expect(try String(contentsOfFile: root + "/vc-worker/cgroup.subtree_control", encoding: .utf8) == "+cpuset")
    }

    @Test func joinsAV1GroupWithItsMemoryNodes() throws {
        let root = try tree(unified: false)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try CgroupCpuset.join(name: "vc-worker/sub-c2-7-1", cpus: "16-31", pid: 7, root: root).get()
        #expect(try String(contentsOfFile: directory + "/cpuset.mems", encoding: .utf8) == "0-1")
        #expect(try String(contentsOfFile: directory + "/cpuset.cpus", encoding: .utf8) == "16-31")
        #expect(try String(contentsOfFile: root + "/cpuset/vc-worker/cpuset.cpus", encoding: .utf8) == "0-63", "the parent level got the root's CPUs")
        #expect(try String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8) == "7")
    }

    @Test func refusesPathsAndCpusetsThatAreNotWhatTheyClaim() {
        #expect(throws: Pinning.Failure.self) { try CgroupCpuset.join(name: "../../etc", cpus: "0", pid: 1, root: "/tmp").get() }
        #expect(throws: Pinning.Failure.self) { try CgroupCpuset.join(name: "vc", cpus: "0;rm", pid: 1, root: "/tmp").get() }
    }
}
