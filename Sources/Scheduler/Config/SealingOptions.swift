import ProofsFFI

/// `[sealing]` keys as written in one place (global, a thread's `sealing.*`, a hot file):
/// nil means "not set here".
public struct SealingOverrides: Sendable, Hashable {
    public var allowedMiners: [UInt64]?
    public var allowedSizes: [SectorSize]?
    public var enableDeals: Bool?
    public var disableCC: Bool?
    public var maxDeals: Int?
    public var minDealSpace: ByteSize?
    public var maxRetries: Int?
    public var sealInterval: Duration?
    public var recoverInterval: Duration?
    public var rpcPollingInterval: Duration?
    public var ignoreProofCheck: Bool?
    public var requestTaskMaxRetries: Int?
    public var verifyAfterPC2: Bool?

    public init() {}
}

/// The resolved `[sealing]` options of one thread. Defaults are damocles' code defaults
/// (its docs say 30s for recover_interval; the code uses 60s).
public struct SealingOptions: Sendable, Hashable {
    public var allowedMiners: [UInt64]?
    public var allowedSizes: [SectorSize]?
    public var enableDeals = false
    public var disableCC = false
    public var maxDeals: Int?
    public var minDealSpace: ByteSize?
    public var maxRetries = 5
    public var sealInterval: Duration = .seconds(30)
    public var recoverInterval: Duration = .seconds(60)
    public var rpcPollingInterval: Duration = .seconds(180)
    public var ignoreProofCheck = false
    public var requestTaskMaxRetries = 3
    public var verifyAfterPC2 = false

    public init() {}

    /// Applies `overrides` on top (merge order: defaults ← [sealing] ← thread ← hot file).
    public func merged(with o: SealingOverrides) -> SealingOptions {
        var r = self
        if let v = o.allowedMiners { r.allowedMiners = v }
        if let v = o.allowedSizes { r.allowedSizes = v }
        if let v = o.enableDeals { r.enableDeals = v }
        if let v = o.disableCC { r.disableCC = v }
        if let v = o.maxDeals { r.maxDeals = v }
        if let v = o.minDealSpace { r.minDealSpace = v }
        if let v = o.maxRetries { r.maxRetries = v }
        if let v = o.sealInterval { r.sealInterval = v }
        if let v = o.recoverInterval { r.recoverInterval = v }
        if let v = o.rpcPollingInterval { r.rpcPollingInterval = v }
        if let v = o.ignoreProofCheck { r.ignoreProofCheck = v }
        if let v = o.requestTaskMaxRetries { r.requestTaskMaxRetries = v }
        if let v = o.verifyAfterPC2 { r.verifyAfterPC2 = v }
        return r
    }
}
