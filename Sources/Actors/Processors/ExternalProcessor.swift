import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How to launch and supervise one external processor child.
public struct ProcessorLaunch: Sendable {
    /// Executable path (or a name looked up in `PATH`).
    public var bin: String
    /// Arguments after the executable name.
    public var args: [String]
    /// Extra environment variables (applied over the inherited environment).
    public var envs: [String: String]
    /// Whether the child starts from this process's environment.
    public var inheritEnvs: Bool
    /// How long the child may take to print `<stage> processor ready`.
    public var stableWait: Duration
    /// cpuset for the child's cgroup; sets `VC_CG_NAME` / `VC_CG_CPUSET`.
    public var cpuset: String?
    /// cgroup group name used in `VC_CG_NAME`.
    public var groupName: String
    /// Preferred NUMA node (`VENUS_WORKER_NUMA_PREFERRED`).
    public var numaNode: Int?
    /// GPU index (`CUDA_VISIBLE_DEVICES`).
    public var gpu: Int?
    /// Respawn the child after it exits unexpectedly.
    public var autoRestart: Bool
    /// Delay before a respawn.
    public var restartDelay: Duration
    /// The default bound of `shutdown()`: stdin closed, SIGTERM to the group at half, SIGKILL at the end.
    public var shutdownGrace: Duration

    public init(
        bin: String,
        args: [String] = [],
        envs: [String: String] = [:],
        inheritEnvs: Bool = true,
        stableWait: Duration = .seconds(5),
        cpuset: String? = nil,
        groupName: String = "",
        numaNode: Int? = nil,
        gpu: Int? = nil,
        autoRestart: Bool = false,
        restartDelay: Duration = .seconds(3),
        shutdownGrace: Duration = .seconds(5)
    ) {
        self.bin = bin
        self.args = args
        self.envs = envs
        self.inheritEnvs = inheritEnvs
        self.stableWait = stableWait
        self.cpuset = cpuset
        self.groupName = groupName
        self.numaNode = numaNode
        self.gpu = gpu
        self.autoRestart = autoRestart
        self.restartDelay = restartDelay
        self.shutdownGrace = shutdownGrace
    }
}

/// Errors of `ExternalProcessor`.
///
/// Cancellation of the calling task is reported as `.cancelled` (typed throws cannot carry
/// `CancellationError`).
public enum ProcessorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The ready line did not arrive within `stableWait` (the second value).
    case notReady(String, Duration)
    /// The first stdout line was not `<stage> processor ready`.
    case unexpectedReadyLine(String, String)
    /// The child exited (with this status) before printing the ready line.
    case exitedBeforeReady(String, Int32)
    /// fork/exec failed; the second value is the errno text.
    case spawnFailed(String, String)
    /// The child answered with a non-null `err_msg`.
    case taskFailed(String, String)
    /// The child exited while the call was in flight (status: exit code, or 128 + signal).
    case childExited(String, Int32)
    /// The processor is not running (not started, failed, gave up restarting, or shut down).
    case unavailable(String)
    /// The calling task was cancelled; a late response is dropped.
    case cancelled

    public var description: String {
        switch self {
        case .notReady(let stage, let waited):
            return "\(stage) processor not ready within \(waited)"
        case .unexpectedReadyLine(let stage, let line):
            return "\(stage) processor printed unexpected ready line: \(String(line.prefix(100)))"
        case .exitedBeforeReady(let stage, let status):
            return "\(stage) processor exited before ready with status \(status)"
        case .spawnFailed(let stage, let reason):
            return "failed to spawn \(stage) processor: \(reason)"
        case .taskFailed(let stage, let message):
            return "\(stage) processor task failed: \(message)"
        case .childExited(let stage, _):
            return "child process exited: \(stage)"
        case .unavailable(let stage):
            return "\(stage) processor unavailable"
        case .cancelled:
            return "cancelled"
        }
    }
}

/// Supervises one damocles-compatible external processor child process.
///
/// Requests are written as JSON lines `{"id":N,"task":...}` to the child's stdin; responses
/// `{"id":N,"err_msg":...,"output":...}` are read from its stdout in any order.
public actor ExternalProcessor {
    public nonisolated let stage: String
    public nonisolated let index: Int
    public nonisolated let config: ProcessorLaunch
    private nonisolated let log: @Sendable (String) -> Void
    /// This process's environment when the processor was made (the inherited part).
    private let baseEnvironment: [String: String]
    /// Run-time variables (`WorkerSetEnv`), read at every spawn.
    private nonisolated let overlay: EnvironmentOverlay
    private let readyLine: String

    private enum State {
        case idle, starting, running, restarting, failed, shutdown
    }

    private struct ReadyWaiter {
        let generation: UInt64
        let continuation: CheckedContinuation<Result<Void, ProcessorError>, Never>
    }

    private var state: State = .idle
    private var child: ProcessorChild?
    /// Generation of the current child; events of older children are ignored.
    private var generation: UInt64 = 0
    /// Generation of the child that printed its ready line and has not exited yet.
    private var liveGeneration: UInt64?
    private var lastExitStatus: Int32 = -1
    /// Calls written to the child and not yet answered; a ticket's id is the call's wire id.
    private let calls = WaitQueue<Void, Result<JSONValue, ProcessorError>>()
    /// Callers waiting for a start or restart to end (true), or for shutdown (true as well).
    private let stateWaiters = WaitQueue<Void, Bool>()
    private var readyWaiter: ReadyWaiter?
    private var readyTimer: Task<Void, Never>?
    private var restartTask: Task<Void, Never>?

    /// Number of successful respawns.
    public private(set) var restarts = 0

    /// Calls written to the child and not yet answered.
    public var inFlight: Int { calls.count }

    /// Pid of the running child, nil when none is running.
    public var pid: Int32? {
        guard liveGeneration != nil else { return nil }
        return child?.pid
    }

    /// `overlay` holds the variables set at run time; each spawn (respawns too) applies its
    /// current contents over the configured `envs`.
    public init(stage: String, index: Int, config: ProcessorLaunch, overlay: EnvironmentOverlay = EnvironmentOverlay(),
                log: @escaping @Sendable (String) -> Void) {
        self.stage = stage
        self.index = index
        self.config = config
        self.log = log
        self.overlay = overlay
        self.readyLine = "\(stage) processor ready"
        self.baseEnvironment = ProcessInfo.processInfo.environment
    }

    /// The environment a child spawned now gets: base, config `envs`, overlay, placement.
    private func currentEnvironment() -> [String: String] {
        ProcessorEnvironment.compose(
            parent: baseEnvironment,
            inherit: config.inheritEnvs,
            envs: config.envs,
            overlay: overlay.snapshot,
            stage: stage,
            index: index,
            parentPID: getpid(),
            groupName: config.groupName,
            cpuset: config.cpuset,
            numaNode: config.numaNode,
            gpu: config.gpu
        )
    }

    /// Spawns the child and waits for its ready line. Calling it again while running is a no-op.
    public func start() async throws(ProcessorError) {
        switch state {
        case .running:
            return
        case .idle:
            break
        case .starting, .restarting:
            guard await waitForStateChange() else { throw .cancelled }
            if state == .running { return }
            throw .unavailable(stage)
        case .failed, .shutdown:
            throw .unavailable(stage)
        }
        state = .starting
        let result = await launch()
        guard state == .starting else {
            // shut down meanwhile
            throw .unavailable(stage)
        }
        switch result {
        case .success:
            state = .running
            resumeStateWaiters()
        case .failure(let error):
            state = .failed
            resumeStateWaiters()
            throw error
        }
    }

    /// Sends `task` to the child and returns its `output`.
    public func process(_ task: JSONValue) async throws(ProcessorError) -> JSONValue {
        try await process(encodedTask: task.serialized())
    }

    /// Sends a task already serialized as one JSON value (written into the request line
    /// verbatim, so opaque outputs embedded in it keep their bytes) and returns its `output`.
    public func process(encodedTask task: [UInt8]) async throws(ProcessorError) -> JSONValue {
        var target: ProcessorChild
        while true {
            if Task.isCancelled { throw .cancelled }
            switch state {
            case .running:
                guard let child, liveGeneration != nil else { throw .unavailable(stage) }
                target = child
            case .starting, .restarting:
                guard await waitForStateChange() else { throw .cancelled }
                continue
            case .idle, .failed, .shutdown:
                throw .unavailable(stage)
            }
            break
        }

        let ticket = calls.enqueue(())
        var line = Array("{\"id\":\(ticket.id),\"task\":".utf8)
        // Raw newlines in valid JSON are only insignificant whitespace; the line must stay one.
        line.append(contentsOf: task.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 })
        line.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        target.send(line)
        // An answer that arrives before this task parks is kept for it; a cancelled call leaves
        // the line at once, and a late answer to it is logged as unknown.
        guard let result = await calls.wait(ticket) else { throw .cancelled }
        return try result.get()
    }

    /// Stops the processor within `grace` (default `shutdownGrace`): closes the child's stdin,
    /// after half the grace sends SIGTERM to its process group, and when the grace is spent
    /// SIGKILLs the group; always reaps. In-flight calls fail with `.childExited`.
    /// A second call while the first is under way waits for the child to be reaped.
    public func shutdown(grace: Duration? = nil) async {
        guard state != .shutdown else {
            if let current = child { _ = await current.waitExit() }
            return
        }
        state = .shutdown
        restartTask?.cancel()
        resumeStateWaiters()
        guard let current = child else { return }
        let grace = max(grace ?? config.shutdownGrace, .zero)
        current.closeStdin()
        var status = await current.waitExit(timeout: grace / 2)
        if status == nil {
            current.signalGroup(SIGTERM)
            status = await current.waitExit(timeout: grace - grace / 2)
        }
        if status == nil {
            log("\(stage) processor pid \(current.pid) did not exit within \(grace); killing")
            current.signalGroup(SIGKILL)
            status = await current.waitExit()
        }
        if child === current {
            child = nil
            liveGeneration = nil
        }
        failAllPending(.childExited(stage, status ?? -1))
    }

    // MARK: - Internals

    private func launch() async -> Result<Void, ProcessorError> {
        let newChild: ProcessorChild
        do {
            newChild = try ProcessorChild.spawn(bin: config.bin, args: config.args, env: currentEnvironment())
        } catch {
            return .failure(.spawnFailed(stage, error.message))
        }
        log("\(stage) processor #\(index) spawned, pid \(newChild.pid); waiting for its ready line")
        generation += 1
        let gen = generation
        child = newChild
        liveGeneration = nil
        let events = newChild.events
        Task {
            for await event in events {
                self.handle(event, generation: gen)
            }
        }

        let wait = config.stableWait
        let result = await withCheckedContinuation { (cont: CheckedContinuation<Result<Void, ProcessorError>, Never>) in
            readyWaiter = ReadyWaiter(generation: gen, continuation: cont)
            readyTimer = Task {
                try? await Task.sleep(for: wait)
                if !Task.isCancelled {
                    self.readyTimedOut(generation: gen)
                }
            }
        }
        if case .success = result, liveGeneration == gen {
            log("\(stage) processor #\(index) ready, pid \(newChild.pid)")
            return .success(())
        }
        // Not ready (or died right after the ready line): kill and reap.
        newChild.signalGroup(SIGKILL)
        let status = await newChild.waitExit()
        if child === newChild {
            child = nil
            liveGeneration = nil
        }
        if case .failure(let error) = result {
            log("\(stage) processor #\(index) failed to start: \(error)")
            return .failure(error)
        }
        return .failure(.exitedBeforeReady(stage, status ?? lastExitStatus))
    }

    private func readyTimedOut(generation gen: UInt64) {
        guard let waiter = readyWaiter, waiter.generation == gen else { return }
        readyWaiter = nil
        readyTimer = nil
        waiter.continuation.resume(returning: .failure(.notReady(stage, config.stableWait)))
    }

    private func handle(_ event: ChildEvent, generation gen: UInt64) {
        guard gen == generation else { return }
        switch event {
        case .line(let line):
            if let waiter = readyWaiter, waiter.generation == gen {
                readyWaiter = nil
                readyTimer?.cancel()
                readyTimer = nil
                if line == readyLine {
                    liveGeneration = gen
                    waiter.continuation.resume(returning: .success(()))
                } else {
                    waiter.continuation.resume(returning: .failure(.unexpectedReadyLine(stage, line)))
                }
                return
            }
            guard liveGeneration == gen else { return }
            handleResponse(line)
        case .exited(let status):
            lastExitStatus = status
            if let waiter = readyWaiter, waiter.generation == gen {
                readyWaiter = nil
                readyTimer?.cancel()
                readyTimer = nil
                waiter.continuation.resume(returning: .failure(.exitedBeforeReady(stage, status)))
                return
            }
            guard liveGeneration == gen else { return }
            childDied(status: status)
        }
    }

    private func handleResponse(_ line: String) {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(line)
        } catch {
            log("\(stage) processor: ignoring unparsable stdout line: \(String(line.prefix(100)))" + dump(line))
            return
        }
        guard let id = parsed["id"]?.uint64Value else {
            log("\(stage) processor: ignoring stdout line without id: \(String(line.prefix(100)))" + dump(line))
            return
        }
        let result: Result<JSONValue, ProcessorError>
        switch parsed["err_msg"] {
        case .string(let message)?: result = .failure(.taskFailed(stage, message))
        case .null?, nil: result = .success(parsed["output"] ?? .null)
        case let other?: result = .failure(.taskFailed(stage, other.serializedString))
        }
        guard calls.deliver(.init(id: id), result) else {
            log("\(stage) processor: ignoring response for unknown id \(id): \(String(line.prefix(100)))")
            return
        }
    }

    /// The variable that turns dumping on for the child `pid` (damocles' `DUMP_ERR_RESP_<pid>`,
    /// set by `worker enable-dump --child-pid <pid> --dump-dir <dir>`); its value is the dir.
    public static func dumpVariable(pid: Int32) -> String { "DUMP_ERR_RESP_\(pid)" }

    /// When the overlay asks for it, writes a response line the daemon could not use to
    /// `<dir>/ext-processor-err-resp-<pid>-<random>.json` (damocles' name) and says where, for the log.
    private func dump(_ line: String) -> String {
        guard let pid = child?.pid, let dir = overlay.value(Self.dumpVariable(pid: pid)) else { return "" }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        do {
            if !fm.fileExists(atPath: dir, isDirectory: &isDir) {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } else if !isDir.boolValue {
                return "; cannot dump it: '\(dir)' is not a directory"
            }
            let name = "ext-processor-err-resp-\(pid)-\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()).json"
            let path = (dir as NSString).appendingPathComponent(name)
            try Data(line.utf8).write(to: URL(fileURLWithPath: path))
            return "; dump file '\(path)' generated"
        } catch {
            return "; cannot dump it to '\(dir)': \(error)"
        }
    }

    private func childDied(status: Int32) {
        let diedPID = child?.pid ?? -1
        liveGeneration = nil
        failAllPending(.childExited(stage, status))
        log("\(stage) processor #\(index) pid \(diedPID) exited with status \(status)")
        guard state == .running else { return }
        if config.autoRestart {
            state = .restarting
            restartTask = Task { await self.restart() }
        } else {
            state = .failed
            child = nil
        }
    }

    private func restart() async {
        try? await Task.sleep(for: config.restartDelay)
        if let old = child {
            _ = await old.waitExit()
        }
        guard state == .restarting else { return }
        log("\(stage) processor #\(index) restarting")
        let result = await launch()
        guard state == .restarting else { return }
        switch result {
        case .success:
            restarts += 1
            state = .running
        case .failure(let error):
            log("\(stage) processor #\(index) restart failed, giving up: \(error)")
            state = .failed
            child = nil
        }
        resumeStateWaiters()
    }

    private func failAllPending(_ error: ProcessorError) {
        for (ticket, _) in calls.line { calls.deliver(ticket, .failure(error)) }
    }

    /// Waits until the state leaves starting/restarting; false when the caller was cancelled.
    private func waitForStateChange() async -> Bool {
        await stateWaiters.wait(stateWaiters.enqueue(())) ?? false
    }

    private func resumeStateWaiters() {
        for (ticket, _) in stateWaiters.line { stateWaiters.deliver(ticket, true) }
    }
}
