import Foundation
import ProofsFFI
import Scheduler

extension DaemonOptions {
    /// Resolves a validated config into what the daemon runs with; refuses what this build
    /// cannot do (the ffi prover, TLS managers) with a message naming the key.
    public init(config: SealerConfig, file: String, log: Log = Log()) throws(DaemonError) {
        // damocles names a worker after its local address toward the manager.
        var towardManager: String?
        if case let .url(_, host, port, _) = config.sectorManager.address { towardManager = LocalAddress.toward(host: host, port: port) }
        let name = config.worker.name ?? towardManager ?? ProcessInfo.processInfo.hostName
        var threads: [ThreadSettings] = []
        var reloaders: [String: HotConfig] = [:]
        let persistStores = config.attached.filter { !$0.readonly }.map(\.name)
        for (index, thread) in config.sealingThreads.enumerated() {
            let location = thread.location.map(Self.absolute) ?? ""
            var settings = ThreadSettings(index: index, location: location, plan: thread.plan, instance: name)
            settings.sealing = config.sealingOptions(forThread: index)
            settings.persistStores = persistStores
            threads.append(settings)
            if !location.isEmpty {
                reloaders[location] = HotConfig(location: location, base: config, index: index, log: log)
            }
        }
        let manager: ManagerChoice
        switch config.sectorManager.address {
        case .embedded:
            let m = config.sectorManager.mock
            var options = MockManager.Options()
            options.miner = m.miner
            options.sectorSize = m.sectorSize
            options.rejectSubmitRate = m.rejectSubmitRate
            options.pollFailedRate = m.pollFailedRate
            options.transportErrorRate = m.transportErrorRate
            options.delay = m.delay
            options.seed = m.seed
            manager = .embedded(options)
        case let .url(scheme, host, port, path):
            guard scheme == "http" else {
                throw DaemonError("\(file): sector_manager.rpc_client.addr: \(scheme) is not supported by this build; use http")
            }
            manager = .remote(HTTPEndpoint(host: host, port: port, path: path),
                              headers: config.sectorManager.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        guard config.proofs.backend == .mock else {
            throw DaemonError("\(file): proofs.backend = \"ffi\": filecoin-ffi is not available in this build; use backend = \"mock\"")
        }
        var limits: [ProofStage: Int] = [:]
        for (stage, limit) in config.processors.concurrent {
            if let stage = ProofStage(rawValue: stage) { limits[stage] = limit }
        }
        let hot = reloaders
        self.init(
            workerName: name, threads: threads, manager: manager,
            prover: MockProver.Options(durations: config.proofs.resolvedMockDurations, failureRate: config.proofs.mockFailureRate),
            stageLimits: limits, rpcHost: config.worker.rpcHost, rpcPort: config.worker.rpcPort, rpcToken: config.worker.rpcToken,
            pingInterval: config.worker.pingInterval, shutdownTimeout: config.worker.shutdownTimeout,
            advertisedHost: ["0.0.0.0", "::"].contains(config.worker.rpcHost) ? towardManager : nil,
            reloadSettings: { settings, force in hot[settings.location]?.reload(settings, force: force) })
    }

    static func absolute(_ path: String) -> String {
        ((path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path) as NSString).standardizingPath
    }
}

