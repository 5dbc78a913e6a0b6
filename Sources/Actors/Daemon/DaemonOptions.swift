import ProofsFFI
import Scheduler

/// Everything the daemon needs to start, resolved from the config file.
public struct DaemonOptions: Sendable {
    public enum ManagerChoice: Sendable {
        /// The mock manager runs in this process (`rpc_client.addr = "embedded"`).
        case embedded(MockManager.Options)
        case remote(HTTPEndpoint, headers: [(String, String)])
    }

    public var workerName: String
    public var threads: [ThreadSettings]
    public var manager: ManagerChoice
    public var prover: MockProver.Options
    /// `[proofs] backend = "ffi"`: the loaded libfilcrypto; nil runs the mock prover.
    public var ffi: FFIBackend?

    /// filecoin-ffi as the daemon runs it: the loaded library (every symbol resolved), its
    /// path (for the processor children), and where deal pieces are read from.
    public struct FFIBackend: Sendable {
        public var library: FilCrypto
        public var libraryPath: String
        public var localPiecesDirs: [String]

        public init(library: FilCrypto, libraryPath: String, localPiecesDirs: [String] = []) {
            self.library = library
            self.libraryPath = libraryPath
            self.localPiecesDirs = localPiecesDirs
        }
    }
    /// `limitation.concurrent`: the most tasks of a stage running at once.
    public var stageLimits: [ProofStage: Int]
    /// `limitation.staggered`: least spacing between starts of a stage.
    public var staggered: [ProofStage: Duration] = [:]
    /// `[[processors.<stage>]]` children and `[processors.ext_locks]`: slots, locks and pinning.
    public var processors: [String: [ExternalProcessorConfig]] = [:]
    public var extLocks: [String: Int] = [:]
    /// The resource pools: what the box offers, what stages cost, how admission orders them;
    /// nil runs stages unmetered (tests of the daemon core).
    public var pools: Pools?
    /// `[sealing] mode = "batch"`: sealer threads grouped into SupraSeal batches.
    public var batch: BatchMode?

    /// The pools' configuration, resolved.
    public struct Pools: Sendable {
        public var capacity: BoxCapacity
        public var costs: CostTable
        public var policy: AdmissionPolicy
        /// `[resources] pc1_spill_slowdown` is set: a PC1 that finds no node with room may take
        /// its memory from two nodes (preferring the node of its cores).
        public var pc1Spill: Bool

        public init(capacity: BoxCapacity, costs: CostTable = .defaults, policy: AdmissionPolicy = AdmissionPolicy(), pc1Spill: Bool = false) {
            self.capacity = capacity
            self.costs = costs
            self.policy = policy
            self.pc1Spill = pc1Spill
        }
    }
    public var rpcHost: String
    public var rpcPort: UInt16
    public var rpcToken: String?
    public var pingInterval: Duration
    public var shutdownTimeout: Duration
    /// The address the manager should use to reach the management server (ping `Dest`);
    /// nil means `rpcHost`.
    public var advertisedHost: String?
    /// `[metrics] http_listen` when `[metrics] enable = true`: where `/metrics` and `/healthz`
    /// are served; nil: no metrics listener.
    public var metricsListen: String?
    /// The box's Crynux node (`[crynux]` + its `plan = "crynux"` thread); nil when none.
    public var crynux: CrynuxOptions?
    /// Re-reads a thread's hot config; nil when the daemon has none.
    public var reloadSettings: (@Sendable (ThreadSettings, Bool) -> ThreadSettings?)?

    public init(
        workerName: String, threads: [ThreadSettings], manager: ManagerChoice, prover: MockProver.Options = .init(),
        stageLimits: [ProofStage: Int] = [:], pools: Pools? = nil, rpcHost: String = "127.0.0.1", rpcPort: UInt16 = 17890, rpcToken: String? = nil,
        pingInterval: Duration = .seconds(30), shutdownTimeout: Duration = .seconds(10), advertisedHost: String? = nil,
        reloadSettings: (@Sendable (ThreadSettings, Bool) -> ThreadSettings?)? = nil
    ) {
        self.workerName = workerName
        self.threads = threads
        self.manager = manager
        self.prover = prover
        self.stageLimits = stageLimits
        self.pools = pools
        self.rpcHost = rpcHost
        self.rpcPort = rpcPort
        self.rpcToken = rpcToken
        self.pingInterval = pingInterval
        self.shutdownTimeout = shutdownTimeout
        self.advertisedHost = advertisedHost
        self.reloadSettings = reloadSettings
    }
}
