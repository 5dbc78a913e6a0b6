import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Actors

/// The names of this process's threads as the kernel has them (what `top -H` and gdb show).
private func kernelThreadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        .map { $0.trimmingCharacters(in: .newlines) }
}

@Suite("Thread names reach the kernel")
struct NamedThreadTests {
    @Test("a started thread carries its name, cut to the 15 bytes Linux keeps; so does the HTTP accept thread")
    func namesAreVisible() async throws {
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let unique = "nt-\(UInt16.random(in: 1000...9999))-and-a-long-tail"
        Thread.start(named: unique) {
            started.signal()
            release.wait()
        }
        defer { release.signal() }
        started.wait()
        #expect(kernelThreadNames().contains(String(unique.prefix(15))), "\(kernelThreadNames())")

        let server = HTTPServer(host: "127.0.0.1", port: 0) { _ in HTTPResponse(status: 200) }
        let port = try server.start()
        // The accept thread names itself as it starts: wait for it.
        try await eventually("the accept thread's name", timeout: .seconds(30)) { kernelThreadNames().contains("http-acc-\(port)") }
        await server.shutdown()
    }
}
