import ProofsFFI
import Scheduler

/// What one sealing thread needs to know, resolved from the config (defaults, `[sealing]`,
/// the thread's overrides, its hot file).
public struct ThreadSettings: Sendable, Hashable {
    public var index: Int
    public var location: String
    public var plan: PlanKind
    /// The worker's instance name reported to the manager.
    public var instance: String
    public var allowedMiners: [UInt64]?
    public var allowedSizes: [SectorSize]?
    public var enableDeals = false
    public var disableCC = false
    public var maxDeals: Int?
    public var minDealSpace: UInt64?
    public var maxRetries = 5
    public var sealInterval: Duration = .seconds(30)
    public var recoverInterval: Duration = .seconds(60)
    public var rpcPollingInterval: Duration = .seconds(180)
    public var ignoreProofCheck = false
    public var requestTaskMaxRetries = 3
    /// Names of attached persist stores offered to `StoreReserveSpace`.
    public var persistStores: [String] = []

    public init(index: Int, location: String, plan: PlanKind = .sealer, instance: String = "sealer") {
        self.index = index
        self.location = location
        self.plan = plan
        self.instance = instance
    }

    /// Proof types to ask the manager for (every variant of each allowed size).
    public var allowedProofTypes: [Int]? {
        allowedSizes.map { $0.flatMap { SealProof.all(for: $0).map(\.id) } }
    }
}
