import Foundation
import Scheduler

/// Owns the sealing threads: starts them, routes pause/resume (CLI, RPC, signals), reports
/// health to the manager, and stops them within a bound.
public actor Supervisor {
    public nonisolated let threads: [SealingThread]
    private let manager: any SectorManager
    private let log: Log
    private var running: [Task<Void, Never>] = []
    /// `worker drain --exit`: stop the daemon once every thread is drained.
    private var exitWhenDrained = false
    private var onAllDrained: (@Sendable () -> Void)?
    private var pinger: Task<Void, Never>?
    /// How the manager answered our `WorkerPing`s, for `/healthz`.
    public private(set) var pingStatus: ManagerPingStatus?

    public init(threads: [SealingThread], manager: any SectorManager, log: Log = Log()) {
        self.threads = threads
        self.manager = manager
        self.log = log
    }

    /// What to do once every thread is drained after a `drain --exit` (the daemon stops).
    public func setOnAllDrained(_ action: @escaping @Sendable () -> Void) { onAllDrained = action }

    /// Starts every thread.
    public func start() async {
        guard running.isEmpty else { return }
        for thread in threads {
            await thread.onDrained { [weak self] in await self?.threadDrained() }
        }
        running = threads.map { thread in Task { await thread.run() } }
    }

    /// Pings the manager every `interval` (first after one interval), like damocles.
    public func startPinging(name: String, dest: String, version: String, every interval: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        pinger?.cancel()
        pingStatus = ManagerPingStatus(interval: interval, since: .now)
        pinger = Task { [weak self] in
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval, tolerance: nil) } catch { return }
                guard let self else { return }
                await self.ping(name: name, dest: dest, version: version)
            }
        }
    }

    private func ping(name: String, dest: String, version: String) async {
        let infos = await list()
        let summary = WorkerPingInfo.Summary(
            Threads: infos.count,
            Empty: infos.filter { $0.jobID == nil }.count,
            Paused: infos.filter { $0.activity.name == "Paused" }.count,
            Running: infos.filter { $0.activity.name == "Running" }.count,
            Waiting: infos.filter { $0.activity.name == "Waiting" }.count,
            Errors: infos.filter { $0.lastError != nil }.count)
        do {
            try await manager.workerPing(WorkerPingInfo(Name: name, Dest: dest, Version: version, Summary: summary))
            pingStatus?.lastSuccess = .now
            pingStatus?.lastError = nil
        } catch {
            pingStatus?.lastError = "\(error)"
            log.warn("ping failed: \(error)")
        }
    }

    public func list() async -> [ThreadInfo] {
        var infos: [ThreadInfo] = []
        for thread in threads { infos.append(await thread.info()) }
        return infos
    }

    private func thread(_ index: Int) throws(ControlError) -> SealingThread {
        guard threads.indices.contains(index) else { throw .noSuchThread(index: index, count: threads.count) }
        return threads[index]
    }

    /// Registers a pause of thread `index`: true when this call registered it, false when the
    /// thread was already paused or pausing (damocles' `WorkerPause` answer).
    public func pause(_ index: Int) throws(ControlError) -> Bool {
        let thread = try thread(index)
        let outcome = thread.requestPause()
        log.info(outcome == .requested ? "pause requested" : outcome == .alreadyPaused ? "pause requested: already paused" : "pause requested: already pausing",
                 [("thread", "\(index)")])
        return outcome == .requested
    }

    public func resume(_ index: Int, state: String?) async throws(ControlError) {
        let thread = try thread(index)
        log.info("resume requested", [("thread", "\(index)")] + (state.map { [("to_state", $0)] } ?? []))
        try await thread.resume(state: state)
    }

    /// SIGUSR1: every thread pauses at its next checkpoint.
    public func pauseAll() {
        log.info("pausing all threads (SIGUSR1)")
        for thread in threads { _ = thread.requestPause() }
    }

    /// SIGUSR2: every paused (or pausing) thread resumes from its current state.
    public func resumeAll() async {
        log.info("resuming all threads (SIGUSR2)")
        for thread in threads where thread.controller.control != .running {
            try? await thread.resume(state: nil)
        }
    }

    /// Drains thread `index`, or every thread (`nil`): each finishes its sector and takes no new
    /// one. With `exit`, the daemon stops once every thread is drained. True when this call
    /// registered a drain on at least one thread.
    public func drain(_ index: Int?, exit: Bool) throws(ControlError) -> Bool {
        let targets: [SealingThread]
        if let index { targets = [try thread(index)] } else { targets = threads }
        if exit { exitWhenDrained = true }
        var registered = false
        for thread in targets where thread.requestDrain() == .requested { registered = true }
        log.info("drain requested" + (exit ? "; the daemon stops once every thread is drained" : ""),
                 index.map { [("thread", "\($0)")] } ?? [("threads", "all")])
        checkAllDrained()
        return registered
    }

    /// SIGQUIT: every thread drains (damocles #301).
    public func drainAll() {
        _ = try? drain(nil, exit: false)
    }

    private func threadDrained() {
        checkAllDrained()
    }

    private func checkAllDrained() {
        guard exitWhenDrained, threads.allSatisfy({ $0.controller.control == .drained }) else { return }
        exitWhenDrained = false
        log.info("every thread is drained; stopping as asked (drain --exit)")
        onAllDrained?()
    }

    /// SIGHUP: threads re-read their hot config at the next sector boundary.
    public func reloadHotConfig() async {
        log.info("re-reading hot configs (SIGHUP)")
        for thread in threads { await thread.requestReload() }
    }

    /// Cancels every thread and waits up to `timeout`; true when all stopped in time.
    public func shutdown(timeout: Duration) async -> Bool {
        pinger?.cancel()
        for task in running { task.cancel() }
        let tasks = running
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for task in tasks { await task.value }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        running = []
        return finished
    }
}

/// How the manager answered the daemon's `WorkerPing`s.
public struct ManagerPingStatus: Sendable, Hashable {
    /// The ping interval.
    public var interval: Duration
    /// When pinging started.
    public var since: ContinuousClock.Instant
    /// When the manager last answered a ping.
    public var lastSuccess: ContinuousClock.Instant?
    /// Why the latest ping failed; nil when it succeeded (or none was sent yet).
    public var lastError: String?

    /// Why the manager does not count as answering at `now`, or nil when it does: the latest
    /// ping failed, or no ping succeeded within two intervals (the next ping is due one interval
    /// after the last, and may take a while to answer).
    public func problem(now: ContinuousClock.Instant = .now) -> String? {
        if let lastError { return "the manager did not answer the last ping: \(lastError)" }
        let reference = lastSuccess ?? since
        guard now - reference > interval * 2 else { return nil }
        return lastSuccess == nil ? "the manager has not answered a ping since startup" : "the manager has not answered a ping for \(now - reference)"
    }
}
