import Foundation
import ProofsFFI
import Scheduler
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the daemon could not start.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The startup was aborted by SIGTERM or SIGINT (an operator's request, not a fault).
    public var aborted = false
    public init(_ message: String, aborted: Bool = false) {
        self.message = message
        self.aborted = aborted
    }
    public var description: String { message }
}

/// The running daemon: threads under a supervisor, the management server, signal handling.
public final class Daemon: Sendable {
    public let supervisor: Supervisor
    public let options: DaemonOptions
    public let manager: any SectorManager
    private let server: HTTPServer
    /// `/metrics` and `/healthz` (nil unless `[metrics] enable = true`).
    private let metricsServer: MetricsServer?
    /// Manager calls by method, for `/metrics` (counted on a remote manager).
    public let rpcMetrics = RPCMetrics()
    /// Stage durations and sector outcomes, for `/metrics`.
    public let sealingMetrics = SealingMetrics()
    /// The resource pools (nil when the options run stages unmetered).
    public let broker: ResourceBroker?
    /// Batch mode's coordinator; nil seals sector by sector.
    public let batch: BatchCoordinator?
    /// The box's Crynux node (issue 10), when configured.
    public let crynux: CrynuxNode?
    /// External processor children by stage, in config order.
    let children: [ProofStage: [ExternalProcessor]]
    /// Variables set through `VenusWorker.WorkerSetEnv`; every child spawned afterwards gets them.
    public let environment: EnvironmentOverlay
    /// Where startup and shutdown stand, for the signal handler.
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle {
        enum Phase { case starting, running, stopping }
        var phase: Phase = .starting
        var signalsInstalled = false
        /// SIGTERM/SIGINT received before the daemon ran: startup is being aborted.
        var abortSignal: Int32?
        /// SIGUSR1/SIGUSR2/SIGHUP received during startup, applied once the threads run.
        var deferred: [Int32] = []
        /// The stop signal received while running, and whoever waits for it.
        var stopSignal: Int32?
        var stopWaiter: CheckedContinuation<Int32, Never>?
    }

    /// One child per `[[processors.<stage>]]` entry of a stage the daemon runs; by default the
    /// daemon's own executable (`sealer processor <stage>`), given the mock prover's settings.
    static func children(_ options: DaemonOptions, overlay: EnvironmentOverlay, log: Log) -> [ProofStage: [ExternalProcessor]] {
        let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var mock = [
            "SEALER_MOCK_DURATIONS": options.prover.durations.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue)=\(HumanDuration.format($0.value).replacingOccurrences(of: " ", with: ""))" }.joined(separator: ","),
            "SEALER_MOCK_SEED": "\(options.prover.seed)",
        ]
        if options.prover.failureRate > 0 { mock["SEALER_MOCK_FAILURE_RATE"] = "\(options.prover.failureRate)" }
        var prover = mock
        if let ffi = options.ffi {
            // The children prove with the same library (each sees only its own GPU).
            prover = ["SEALER_PROOFS_BACKEND": "ffi", "FIL_PROOFS_LIBRARY": ffi.libraryPath,
                      "SEALER_LOCAL_PIECES_DIRS": ffi.localPiecesDirs.joined(separator: ":")]
        }
        var out: [ProofStage: [ExternalProcessor]] = [:]
        for (name, configs) in options.processors {
            guard let stage = ProofStage(rawValue: name), stage != .transfer else {
                log.info("processors.\(name): no stage of this daemon runs there; its children are not started")
                continue
            }
            out[stage] = configs.enumerated().map { index, config in
                let launch = ProcessorLaunch(
                    bin: config.bin ?? selfPath, args: config.args ?? ["processor", name], envs: prover.merging(config.envs) { $1 },
                    inheritEnvs: config.inheritEnvs, stableWait: config.stableWait, cpuset: config.cpuset, groupName: config.groupName,
                    numaNode: config.numaPreferred, autoRestart: config.autoRestart)
                let childLog = log.with("processor", "\(name)[\(index)]")
                // The child's own lifecycle lines: readiness is news, everything else (exits,
                // restarts, unparsable answers) is a warning.
                return ExternalProcessor(stage: name, index: index, config: launch, overlay: overlay) { line in
                    if line.contains(" ready, pid ") || line.contains(" spawned, pid ") { childLog.info(line) } else { childLog.warn(line) }
                }
            }
        }
        return out
    }
    private let log: Log
    /// Tells systemd when the daemon is ready and stopping, and beats its watchdog.
    private let notifier: SystemdNotifier?

    /// A daemon for `options`; `notifier` (from `SystemdNotifier.from(environment:log:)`) is
    /// told READY=1 once the threads run and STOPPING=1 when stopping starts.
    public init(options: DaemonOptions, log: Log = Log(), clock: any Clock<Duration> = ContinuousClock(), notifier: SystemdNotifier? = nil) {
        self.options = options
        self.log = log
        self.notifier = notifier
        let manager: any SectorManager
        switch options.manager {
        case let .embedded(mock):
            // The embedded manager verifies proofs with the backend that made them.
            let checker: any ProofChecker = options.ffi.map { FFIProofChecker(library: $0.library) } ?? MockProofChecker()
            manager = MockManager(options: mock, clock: clock, checker: checker)
        case let .remote(endpoint, headers): manager = RemoteSectorManager(endpoint: endpoint, headers: headers, metrics: rpcMetrics)
        }
        self.manager = manager
        let prover: any Prover = options.ffi.map { FFIProver(library: $0.library, localPiecesDirs: $0.localPiecesDirs) }
            ?? MockProver(options: options.prover, clock: clock)
        var gates: [ProofStage: StageGate] = [:]
        for (stage, limit) in options.stageLimits { gates[stage] = StageGate(limit: limit) }
        let broker = options.pools.map { ResourceBroker(capacity: $0.capacity, policy: $0.policy, costs: $0.costs, pc1Spill: $0.pc1Spill) }
        self.broker = broker
        var staggers: [ProofStage: StaggerGate] = [:]
        for (stage, interval) in options.staggered { staggers[stage] = StaggerGate(interval: interval, clock: clock) }
        let slots = options.processors.isEmpty ? nil : ProcessorSlots(processors: options.processors, extLocks: options.extLocks)
        let environment = EnvironmentOverlay()
        self.environment = environment
        let children = Self.children(options, overlay: environment, log: log)
        self.children = children
        let sealing = sealingMetrics
        // Batch mode: the sealer threads meet at one coordinator, which forms batches as they come.
        let batch = options.batch.map { mode in
            BatchCoordinator(size: mode.size, prover: prover, broker: broker, log: log,
                             processors: Dictionary(uniqueKeysWithValues: [ProofStage.supraPC1, .supraPC2].compactMap { stage in children[stage]?.first.map { (stage, $0) } }))
        }
        self.batch = batch
        let threads = options.threads.map {
            SealingThread(settings: $0, manager: manager, prover: prover, proverName: options.ffi == nil ? "mock" : "ffi", gates: gates, staggers: staggers,
                          processors: slots, children: children, broker: broker, clock: clock,
                          log: log, reloadSettings: options.reloadSettings, metrics: sealing, batch: batch)
        }
        let supervisor = Supervisor(threads: threads, manager: manager, log: log)
        self.supervisor = supervisor
        let crynux = options.crynux.map { CrynuxNode(options: $0, broker: broker, log: log, metrics: sealing) }
        self.crynux = crynux
        let methods = ManagementAPI.methods(supervisor: supervisor, environment: environment, broker: broker, sealing: sealingMetrics)
        let rpc = JSONRPCServer(methods: crynux?.methods(wrapping: methods) ?? methods, bearerToken: options.rpcToken)
        server = HTTPServer(host: options.rpcHost, port: options.rpcPort) { request in
            if let crynux, let answer = await crynux.handle(request) { return answer }
            return await rpc.handle(request)
        }
        metricsServer = Self.metricsServer(options, supervisor: supervisor, broker: broker, children: children,
                                           rpc: rpcMetrics, sealing: sealingMetrics)
    }

    /// Batch mode: re-forms the batches the sealer threads' records name (a restart after batch
    /// PC1), before any thread runs. An unreadable record is the thread's own to report.
    private func restoreBatches() async {
        guard let batch else { return }
        let locations = options.threads.filter { $0.plan == .sealer && !$0.location.isEmpty }.map(\.location)
        let records = await offload { locations.compactMap { try? ThreadStore(location: $0).load() } }
        let reformed = await batch.restore(records)
        if reformed > 0 { log.info("\(reformed) batch(es) re-formed from the sealer threads' records") }
    }

    /// The metrics listener for `options.metricsListen`; each request snapshots the daemon.
    private static func metricsServer(_ options: DaemonOptions, supervisor: Supervisor, broker: ResourceBroker?,
                                      children: [ProofStage: [ExternalProcessor]], rpc: RPCMetrics, sealing: SealingMetrics) -> MetricsServer? {
        guard let listen = options.metricsListen else { return nil }
        // A bad address is reported by start(); port 0 then never binds anything unexpected.
        let (host, port) = (try? MetricsServer.parse(listen: listen)) ?? ("", 0)
        let ordered = children.sorted { $0.key.rawValue < $1.key.rawValue }
        var plans: [Int: PlanKind] = [:]
        for settings in options.threads { plans[settings.index] = settings.plan }
        return MetricsServer(host: host, port: port, workerName: options.workerName, workerIP: options.advertisedHost ?? options.rpcHost) { [plans] forHealth in
            var snapshot = MetricsSnapshot()
            if forHealth {
                snapshot.threads = await supervisor.list()
                snapshot.ping = await supervisor.pingStatus
            } else {
                // A scrape reads each thread's controller (a lock), not the thread's actor: no
                // hop and no copy of its sector record per thread.
                snapshot.threads = supervisor.threads.map { thread in
                    ThreadInfo(index: thread.index, location: "", plan: plans[thread.index] ?? .sealer, jobID: nil, jobState: "", jobStage: nil,
                               activity: thread.controller.activity, lastError: nil, draining: thread.controller.drainRequested)
                }
                // Only a paused thread is asked for its last error (one hop each), which tells an
                // error pause from an operator's (`sealer_threads_paused_by_error`).
                for (position, thread) in supervisor.threads.enumerated() {
                    if case .paused = snapshot.threads[position].activity { snapshot.threads[position].lastError = await thread.info().lastError }
                }
            }
            if let broker {
                snapshot.capacity = broker.capacity
                (snapshot.held, snapshot.waiting) = await broker.usage
                snapshot.waitingByPool = await broker.waitingByPool
                snapshot.waitingByStage = await broker.waitingByStage
            }
            for (stage, list) in ordered {
                for child in list {
                    snapshot.processors.append(.init(stage: stage.rawValue, index: child.index, up: await child.pid != nil, restarts: await child.restarts))
                }
            }
            snapshot.rpc = rpc.snapshot()
            snapshot.sealing = sealing.snapshot()
            return snapshot
        }
    }

    /// Closes the management and metrics listeners.
    private func closeServers() async {
        await server.shutdown()
        await metricsServer?.shutdown()
    }

    /// Starts serving and sealing; returns the bound management port.
    ///
    /// Call `installSignalHandling()` first: then a SIGTERM/SIGINT during startup aborts it
    /// (children stopped, server closed, `DaemonError.aborted`), and SIGUSR1/SIGUSR2/SIGHUP are
    /// applied once the threads run.
    public func start() async throws(DaemonError) -> UInt16 {
        try checkAborted()
        let port: UInt16
        do {
            port = try server.start()
        } catch {
            throw DaemonError("management server: \(error)")
        }
        if let metricsServer, let listen = options.metricsListen {
            do {
                _ = try MetricsServer.parse(listen: listen)
                let metricsPort = try metricsServer.start()
                log.info("metrics listening on \(metricsServer.host):\(metricsPort)")
            } catch {
                await server.shutdown()
                throw DaemonError("\(error)")
            }
        }
        do {
            try checkAborted()
            try await checkPersistStores()
            try checkAborted()
        } catch {
            await closeServers()
            throw error
        }
        // damocles refuses to start when a processor child does not come up; so do we.
        for (stage, list) in children.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for child in list {
                do {
                    try await child.start()
                    try checkAborted()
                } catch {
                    await stopChildren(grace: options.shutdownTimeout)
                    await closeServers()
                    if let aborted = abortedError() { throw aborted }
                    throw DaemonError("processors.\(stage)[\(child.index)]: \(error)")
                }
            }
        }
        log.info("management RPC listening on \(options.rpcHost):\(port)" + (options.rpcToken == nil ? "" : " (bearer token required)"))
        await supervisor.setOnAllDrained { [weak self] in self?.requestStop("every thread is drained (drain --exit)") }
        await restoreBatches()
        await supervisor.start()
        if let crynux {
            do { try await crynux.start() } catch {
                _ = await supervisor.shutdown(timeout: options.shutdownTimeout)
                await stopChildren(grace: options.shutdownTimeout)
                await closeServers()
                throw error
            }
        }
        let dest = "\(options.advertisedHost ?? options.rpcHost):\(port)"
        await supervisor.startPinging(name: options.workerName, dest: dest, version: SealerVersion.string, every: options.pingInterval)
        // From here on signals act at once; those that came during startup act now, in order.
        let deferred: [Int32]? = lifecycle.withLock { state in
            guard state.abortSignal == nil else { return nil }
            state.phase = .running
            defer { state.deferred = [] }
            return state.deferred
        }
        guard let deferred else {
            // Aborted after the threads started: the caller's stop() stops them.
            throw abortedError() ?? DaemonError("startup aborted", aborted: true)
        }
        log.info("sealer \(SealerVersion.string) started: \(options.threads.count) sealing threads, manager \(managerDescription)")
        if let notifier {
            notifier.ready(status: "sealing with \(options.threads.count) threads")
            let supervisor = supervisor
            notifier.startWatchdog { _ = await supervisor.list() }
        }
        for number in deferred { await apply(number) }
        return port
    }

    /// Stops every child at once, all within `grace`; removes their cgroups.
    private func stopChildren(grace: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for child in children.values.joined() {
                group.addTask {
                    await child.shutdown(grace: grace)
                    if child.config.cpuset != nil {
                        let pid = ProcessInfo.processInfo.processIdentifier
                        CgroupCpuset.remove(name: "\(child.config.groupName)/sub-\(child.stage)-\(pid)-\(child.index)")
                    }
                }
            }
        }
    }

    private func abortedError() -> DaemonError? {
        lifecycle.withLock { $0.abortSignal }.map { DaemonError("startup aborted by \(Self.name($0))", aborted: true) }
    }

    private func checkAborted() throws(DaemonError) {
        if let error = abortedError() { throw error }
    }

    private static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(number)"
        }
    }

    /// damocles refuses to start when the manager does not know an attached store; so do we.
    /// An unreachable manager is only a warning: threads retry their calls anyway.
    /// Each writable store's directory must exist: a missing one is usually a disk that is not
    /// mounted, and sealed sectors must not land on the root filesystem instead. With the embedded
    /// mock manager (a demo) a missing directory is created.
    private func checkPersistStores() async throws(DaemonError) {
        let names = Set(options.threads.flatMap(\.persistStores)).sorted()
        let locations = options.threads.first?.storeLocations ?? [:]
        for name in names {
            guard let location = locations[name] else { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory), isDirectory.boolValue { continue }
            if case .embedded = options.manager, (try? FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)) != nil {
                log.info("created persist store \"\(name)\" at \(location) (embedded mock manager)")
                continue
            }
            await closeServers()
            throw DaemonError("persist store \"\(name)\" ([[attached]]): location \(location) is not a directory; mount it or fix the path")
        }
        for name in names {
            do {
                guard try await manager.storeBasicInfo(name) != nil else {
                    await closeServers()
                    throw DaemonError("persist store \"\(name)\" ([[attached]] name) is unknown to the manager; add it to the manager's persist stores or fix the name")
                }
            } catch let error as DaemonError {
                throw error
            } catch {
                log.warn("cannot check persist store \"\(name)\" with the manager: \(error)")
            }
        }
    }

    private var managerDescription: String {
        switch options.manager {
        case .embedded: "embedded mock"
        case let .remote(endpoint, _): "http://\(endpoint.host):\(endpoint.port)\(endpoint.path)"
        }
    }

    /// Takes over SIGTERM, SIGINT, SIGUSR1, SIGUSR2 and SIGHUP for the rest of the process's
    /// life. Call it before `start()`, so no signal during startup kills the daemon or orphans
    /// a child: SIGTERM/SIGINT abort the startup, the others are applied once the threads run.
    /// While running, SIGUSR1 pauses all threads, SIGUSR2 resumes them, SIGHUP re-reads hot
    /// configs and SIGTERM/SIGINT end `runUntilSignalled()`; a second one while stopping exits.
    public func installSignalHandling() {
        let first = lifecycle.withLock { state in
            defer { state.signalsInstalled = true }
            return !state.signalsInstalled
        }
        guard first else { return }
        let stream = SignalStream([SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT])
        Task {
            // The stream lives as long as this task, which lives as long as the process.
            for await number in stream.signals { await self.handle(number) }
        }
    }

    private enum SignalAction {
        case apply, postpone, abortStartup, stop(CheckedContinuation<Int32, Never>?), exitNow, ignore
    }

    private func handle(_ number: Int32) async {
        let isStop = number == SIGTERM || number == SIGINT
        let action: SignalAction = lifecycle.withLock { state in
            switch state.phase {
            case .starting where isStop:
                if state.abortSignal != nil { return .exitNow }
                state.abortSignal = number
                return .abortStartup
            case .starting:
                state.deferred.append(number)
                return .postpone
            case .running where isStop:
                state.phase = .stopping
                state.stopSignal = number
                defer { state.stopWaiter = nil }
                return .stop(state.stopWaiter)
            case .running:
                return .apply
            case .stopping:
                return isStop ? .exitNow : .ignore
            }
        }
        let name = Self.name(number)
        switch action {
        case .apply:
            await apply(number)
        case .postpone:
            log.info("received \(name) during startup; it applies once the threads run")
        case .abortStartup:
            log.info("received \(name) during startup; aborting it (send it again to exit at once)")
            // Off this loop, so a second stop signal is still heard while children stop.
            Task { await self.stopChildren(grace: self.options.shutdownTimeout) }
        case let .stop(waiter):
            log.info("received \(name); stopping (send it again to exit at once)")
            waiter?.resume(returning: number)
        case .exitNow:
            log.warn("second stop signal: exiting now; every thread's last persisted state stands")
            exit(1)
        case .ignore:
            log.info("received \(name) while stopping; ignored")
        }
    }

    private func apply(_ number: Int32) async {
        switch number {
        case SIGUSR1: await supervisor.pauseAll()
        case SIGUSR2: await supervisor.resumeAll()
        case SIGHUP: await supervisor.reloadHotConfig()
        case SIGQUIT: await supervisor.drainAll()
        default: break
        }
    }

    /// Runs until SIGTERM or SIGINT (installing the signal handling if `installSignalHandling()`
    /// was not called), then stops. Returns true when every thread stopped within the bound.
    public func runUntilSignalled() async -> Bool {
        installSignalHandling()
        _ = await withCheckedContinuation { (waiter: CheckedContinuation<Int32, Never>) in
            let received = lifecycle.withLock { state -> Int32? in
                if let number = state.stopSignal { return number }
                state.stopWaiter = waiter
                return nil
            }
            if let received { waiter.resume(returning: received) }
        }
        return await stop()
    }

    /// Stops the daemon as a stop signal would, for `reason` (`worker drain --exit`): the wait in
    /// `runUntilSignalled` ends and the daemon stops within `shutdown_timeout`.
    public func requestStop(_ reason: String) {
        let (stopping, waiter) = lifecycle.withLock { state -> (Bool, CheckedContinuation<Int32, Never>?) in
            guard state.phase == .running else { return (false, nil) }
            state.phase = .stopping
            state.stopSignal = SIGTERM
            defer { state.stopWaiter = nil }
            return (true, state.stopWaiter)
        }
        guard stopping else { return }
        log.info("\(reason); stopping")
        waiter?.resume(returning: SIGTERM)
    }

    /// Stops threads (their states are already persisted), then every processor child at once,
    /// all within `shutdownTimeout`, then the server.
    public func stop() async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + options.shutdownTimeout
        lifecycle.withLock { state in
            if state.phase == .running { state.phase = .stopping }
        }
        notifier?.stopping(status: "stopping within \(options.shutdownTimeout)")
        let clean = await supervisor.shutdown(timeout: options.shutdownTimeout)
        await crynux?.stop()
        await stopChildren(grace: max(deadline - clock.now, .zero))
        await closeServers()
        notifier?.shutdown()
        if clean {
            log.info("stopped cleanly")
        } else {
            log.warn("some threads did not stop within \(options.shutdownTimeout); their last persisted state stands")
        }
        return clean
    }
}
