/// `[crynux] gpu_share`: the share of GPU time Crynux may take ahead of sealing. With share 0
/// (the default) an inference lease waits behind every sealing GPU stage and takes only what
/// sealing leaves; with share s, while Crynux held a GPU for less than s of the last `window`
/// seconds its lease queues at C2's priority (still behind WindowPoSt; the pool never hands
/// out VRAM a running stage holds).
public struct CrynuxGPUShare: Sendable, Hashable {
    public var share: Double
    public var window: Double
    /// Lease intervals (Unix seconds) inside the window.
    public private(set) var intervals: [ClosedRange<Double>] = []

    public init(share: Double, window: Double = 3600) {
        self.share = share
        self.window = window
    }

    /// Records a lease held from `start` to `end`.
    public mutating func record(start: Double, end: Double) {
        guard end >= start else { return }
        intervals.append(start...end)
        intervals.removeAll { $0.upperBound < end - window }
    }

    /// Fraction of the last `window` seconds before `now` that Crynux held a GPU.
    public func usedFraction(now: Double) -> Double {
        let from = now - window
        let held = intervals.reduce(0.0) { sum, r in sum + max(0, min(r.upperBound, now) - max(r.lowerBound, from)) }
        return window > 0 ? held / window : 1
    }

    /// True when the next lease may queue at sealing's priority.
    public func aheadOfSealing(now: Double) -> Bool { share > 0 && usedFraction(now: now) < share }
}
