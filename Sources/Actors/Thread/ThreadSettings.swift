import ProofsFFI
import Scheduler

/// What one sealing thread needs to know, resolved from the config: its identity and the
/// `[sealing]` options it runs with (defaults ← `[sealing]` ← its `sealing.*` ← its hot file).
public struct ThreadSettings: Sendable, Hashable {
    public var index: Int
    public var location: String
    public var plan: PlanKind
    /// The worker's instance name reported to the manager.
    public var instance: String
    public var sealing = SealingOptions()
    /// Names of attached persist stores offered to `StoreReserveSpace`.
    public var persistStores: [String] = []
    /// Every `[[attached]]` store's location by name (read-only ones too): where a persisted
    /// sector's files are, for snap upgrades and window PoSt.
    public var storeLocations: [String: String] = [:]
    /// `[processors.static_tree_d]`: a pre-built tree_d per sector size that CC sectors use
    /// instead of building their own (damocles' option).
    public var staticTreeD: [SectorSize: String] = [:]

    public init(index: Int, location: String, plan: PlanKind = .sealer, instance: String = "sealer") {
        self.index = index
        self.location = location
        self.plan = plan
        self.instance = instance
    }

    /// A persisted sector's files in the store the manager names (`<location>/sealed/<sector>`,
    /// `<location>/cache/<sector>`, damocles' layout); a store this worker has no `[[attached]]`
    /// entry for is taken as a path itself.
    public func replica(of sector: SectorID, sealedIn sealedStore: String, cacheIn cacheStore: String) -> ReplicaPaths {
        ReplicaPaths(sealed: (storeLocations[sealedStore] ?? sealedStore) + "/sealed/\(sector)",
                     cache: (storeLocations[cacheStore] ?? cacheStore) + "/cache/\(sector)")
    }

    /// What to ask the manager for: the allowed miners, and the interactive proof types (V1_1 and
    /// V1_1 synthetic PoRep) of each allowed size. NI-PoRep ids are left out: this plan waits for
    /// a seed and submits an interactive proof, which a NI-PoRep sector cannot use.
    public var sectorSpec: AllocateSectorSpec {
        AllocateSectorSpec(
            AllowedMiners: sealing.allowedMiners,
            AllowedProofTypes: sealing.allowedSizes.map { $0.flatMap { SealProof.interactive(for: $0).map(\.id) } })
    }

    /// Which deals to ask for (`max_deals`, `min_deal_space`).
    public var dealsSpec: AcquireDealsSpec {
        AcquireDealsSpec(MaxDeals: sealing.maxDeals, MinUsedSpace: sealing.minDealSpace?.bytes)
    }
}
