import Foundation
import ProofsFFI
import Scheduler
#if canImport(Glibc)
import Glibc
#endif

/// Why the daemon could not start.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The running daemon: threads under a supervisor, the management server, signal handling.
public final class Daemon: Sendable {
    public let supervisor: Supervisor
    public let options: DaemonOptions
    public let manager: any SectorManager
    private let server: HTTPServer
    /// The resource pools (nil when the options run stages unmetered).
    public let broker: ResourceBroker?
    /// External processor children by stage, in config order.
    private let children: [ProofStage: [ExternalProcessor]]

    /// One child per `[[processors.<stage>]]` entry of a stage the daemon runs; by default the
    /// daemon's own executable (`sealer processor <stage>`), given the mock prover's settings.
    static func children(_ options: DaemonOptions, log: Log) -> [ProofStage: [ExternalProcessor]] {
        let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var mock = [
            "SEALER_MOCK_DURATIONS": options.prover.durations.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue)=\(HumanDuration.format($0.value).replacingOccurrences(of: " ", with: ""))" }.joined(separator: ","),
            "SEALER_MOCK_SEED": "\(options.prover.seed)",
        ]
        if options.prover.failureRate > 0 { mock["SEALER_MOCK_FAILURE_RATE"] = "\(options.prover.failureRate)" }
        var out: [ProofStage: [ExternalProcessor]] = [:]
        for (name, configs) in options.processors {
            guard let stage = ProofStage(rawValue: name), stage != .transfer else {
                log.info("processors.\(name): no stage of this daemon runs there; its children are not started")
                continue
            }
            out[stage] = configs.enumerated().map { index, config in
                let launch = ProcessorLaunch(
                    bin: config.bin ?? selfPath, args: config.args ?? ["processor", name], envs: mock.merging(config.envs) { $1 },
                    inheritEnvs: config.inheritEnvs, stableWait: config.stableWait, cpuset: config.cpuset, groupName: config.groupName,
                    numaNode: config.numaPreferred, autoRestart: config.autoRestart)
                let childLog = log.with("processor", "\(name)[\(index)]")
                // The child's own lifecycle lines: readiness is news, everything else (exits,
                // restarts, unparsable answers) is a warning.
                return ExternalProcessor(stage: name, index: index, config: launch) { line in
                    if line.contains(" ready, pid ") { childLog.info(line) } else { childLog.warn(line) }
                }
            }
        }
        return out
    }
    private let log: Log

    public init(options: DaemonOptions, log: Log = Log(), clock: any Clock<Duration> = ContinuousClock()) {
        self.options = options
        self.log = log
        let manager: any SectorManager
        switch options.manager {
        case let .embedded(mock): manager = MockManager(options: mock, clock: clock)
        case let .remote(endpoint, headers): manager = RemoteSectorManager(endpoint: endpoint, headers: headers)
        }
        self.manager = manager
        let prover = MockProver(options: options.prover, clock: clock)
        var gates: [ProofStage: StageGate] = [:]
        for (stage, limit) in options.stageLimits { gates[stage] = StageGate(limit: limit) }
        let broker = options.pools.map { ResourceBroker(capacity: $0.capacity, policy: $0.policy, costs: $0.costs) }
        self.broker = broker
        var staggers: [ProofStage: StaggerGate] = [:]
        for (stage, interval) in options.staggered { staggers[stage] = StaggerGate(interval: interval, clock: clock) }
        let slots = options.processors.isEmpty ? nil : ProcessorSlots(processors: options.processors, extLocks: options.extLocks)
        let children = Self.children(options, log: log)
        self.children = children
        let threads = options.threads.map {
            SealingThread(settings: $0, manager: manager, prover: prover, proverName: "mock", gates: gates, staggers: staggers,
                          processors: slots, children: children, broker: broker, clock: clock,
                          log: log, reloadSettings: options.reloadSettings)
        }
        let supervisor = Supervisor(threads: threads, manager: manager, log: log)
        self.supervisor = supervisor
        let rpc = JSONRPCServer(methods: ManagementAPI.methods(supervisor: supervisor), bearerToken: options.rpcToken)
        server = HTTPServer(host: options.rpcHost, port: options.rpcPort) { request in await rpc.handle(request) }
    }

    /// Starts serving and sealing; returns the bound management port.
    public func start() async throws(DaemonError) -> UInt16 {
        let port: UInt16
        do {
            port = try server.start()
        } catch {
            throw DaemonError("management server: \(error)")
        }
        try await checkPersistStores()
        // damocles refuses to start when a processor child does not come up; so do we.
        for (stage, list) in children.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for child in list {
                do {
                    try await child.start()
                } catch {
                    await stopChildren()
                    await server.shutdown()
                    throw DaemonError("processors.\(stage)[\(child.index)]: \(error)")
                }
            }
        }
        log.info("management RPC listening on \(options.rpcHost):\(port)" + (options.rpcToken == nil ? "" : " (bearer token required)"))
        await supervisor.start()
        let dest = "\(options.advertisedHost ?? options.rpcHost):\(port)"
        await supervisor.startPinging(name: options.workerName, dest: dest, version: SealerVersion.string, every: options.pingInterval)
        log.info("sealer \(SealerVersion.string) started: \(options.threads.count) sealing threads, manager \(managerDescription)")
        return port
    }

    private func stopChildren() async {
        for list in children.values {
            for child in list {
                await child.shutdown()
                if child.config.cpuset != nil {
                    let pid = ProcessInfo.processInfo.processIdentifier
                    CgroupCpuset.remove(name: "\(child.config.groupName)/sub-\(child.stage)-\(pid)-\(child.index)")
                }
            }
        }
    }

    /// damocles refuses to start when the manager does not know an attached store; so do we.
    /// An unreachable manager is only a warning: threads retry their calls anyway.
    private func checkPersistStores() async throws(DaemonError) {
        let names = Set(options.threads.flatMap(\.persistStores)).sorted()
        for name in names {
            do {
                guard try await manager.storeBasicInfo(name) != nil else {
                    await server.shutdown()
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

    /// Runs until SIGTERM or SIGINT, handling SIGUSR1 (pause all), SIGUSR2 (resume all) and
    /// SIGHUP (re-read hot configs). Returns true when every thread stopped within the bound.
    public func runUntilSignalled() async -> Bool {
        let stream = SignalStream([SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP])
        waiting: for await number in stream.signals {
            switch number {
            case SIGUSR1: await supervisor.pauseAll()
            case SIGUSR2: await supervisor.resumeAll()
            case SIGHUP: await supervisor.reloadHotConfig()
            default:
                log.info("received \(number == SIGTERM ? "SIGTERM" : "SIGINT"); stopping (send it again to exit at once)")
                break waiting
            }
        }
        // A second stop signal while stopping means the operator will not wait.
        let log = self.log
        let impatient = Task {
            for await again in stream.signals where again == SIGTERM || again == SIGINT {
                log.warn("second stop signal: exiting now; every thread's last persisted state stands")
                exit(1)
            }
        }
        let clean = await stop()
        impatient.cancel()
        return clean
    }

    /// Stops threads (their states are already persisted) and the server.
    public func stop() async -> Bool {
        let clean = await supervisor.shutdown(timeout: options.shutdownTimeout)
        await stopChildren()
        await server.shutdown()
        if clean {
            log.info("stopped cleanly")
        } else {
            log.warn("some threads did not stop within \(options.shutdownTimeout); their last persisted state stands")
        }
        return clean
    }
}
