import Foundation
import Scheduler
import Synchronization
import Testing
@testable import Actors

#if canImport(Glibc)
import Glibc
#endif

/// A `/proc/<pid>/status` field, e.g. `SigIgn`.
func procStatus(_ pid: Int32, _ field: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

/// Gone or a zombie: no longer running.
func processGone(_ pid: Int32) -> Bool {
    guard let state = procStatus(pid, "State") else { return true }
    return state.hasPrefix("Z")
}

/// The first line `child` prints, or nil when it exits first.
func firstLine(_ child: ProcessorChild) async -> String? {
    for await event in child.events {
        if case let .line(line) = event { return line }
        return nil
    }
    return nil
}

private final class SpawnResult: Sendable {
    let value = Mutex<Result<ProcessorChild, SpawnError>?>(nil)
}

@Suite("Processor children: signals, process group, parent death")
struct ChildLifecycleTests {
    @Test("a child starts with no ignored or blocked signal, in its own process group, with only fds 0-2")
    func cleanSignalStateAndOwnGroup() async throws {
        // An ignored signal this process would hand down through exec (harmless to ignore here).
        _ = signal(SIGTTOU, SIG_IGN)
        let child = try ProcessorChild.spawn(bin: "cat", args: [], env: [:])
        defer { child.signal(SIGKILL) }
        #expect(procStatus(child.pid, "SigIgn") == "0000000000000000")
        #expect(procStatus(child.pid, "SigBlk") == "0000000000000000")
        #expect(getpgid(child.pid) == child.pid)
        #expect(getpgid(child.pid) != getpgrp())
        // Only stdin, stdout and stderr: none of this process's other descriptors. Echo a line
        // first, so `cat` is past the dynamic loader (which holds fd 3 while it maps libraries).
        child.send(Array("ready\n".utf8))
        #expect(await firstLine(child) == "ready")
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").sorted()
        #expect(fds == ["0", "1", "2"], "\(fds)")
        child.closeStdin()
        #expect(await child.waitExit(timeout: .seconds(30)) == 0)
    }

    @Test("a child outlives the thread that asked for it (the parent-death signal follows the forking thread)")
    func survivesSpawningThreadExit() async throws {
        let result = SpawnResult()
        var thread = pthread_t()
        let context = Unmanaged.passRetained(result).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let result = Unmanaged<SpawnResult>.fromOpaque(raw).takeRetainedValue()
            let spawned = Result { () throws(SpawnError) -> ProcessorChild in try ProcessorChild.spawn(bin: "cat", args: [], env: [:]) }
            result.value.withLock { $0 = spawned }
            return nil
        }, context)
        try #require(rc == 0)
        pthread_join(thread, nil)  // the asking thread is gone now
        let child = try #require(try result.value.withLock { $0 }?.get())
        defer { child.signal(SIGKILL) }
        child.send(Array("still here\n".utf8))
        #expect(await firstLine(child) == "still here")
        child.closeStdin()
        #expect(await child.waitExit(timeout: .seconds(30)) == 0)
    }
}
