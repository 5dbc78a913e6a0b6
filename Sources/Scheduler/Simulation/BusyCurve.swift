/// How much of one resource (a node's cores or memory, a GPU's slots or VRAM) the running stages
/// held over a run, in equal time buckets: each bucket's time-weighted mean and its peak, to draw
/// against the capacity.
public struct BusyCurve: Sendable, Hashable {
    public enum Unit: Sendable, Hashable { case cores, bytes, hugepages, stages }

    public var name: String
    public var unit: Unit
    public var capacity: Double
    /// Allowed above the capacity: a GPU takes one WindowPoSt beside its slots' stages.
    public var headroom: Double = 0
    public var horizonSeconds: Double
    public var mean: [Double]
    public var peak: [Double]

    /// Sweeps the segments' start and end events once; `amount` is what a segment holds of this resource.
    public init(name: String, unit: Unit, capacity: Double, segments: [Segment], horizonSeconds: Double, buckets: Int,
                amount: (Segment) -> Double) {
        self.name = name
        self.unit = unit
        self.capacity = capacity
        let horizon = max(0, horizonSeconds)
        self.horizonSeconds = horizon
        let count = horizon > 0 ? max(1, buckets) : 0
        var mean = [Double](repeating: 0, count: count)
        var peak = [Double](repeating: 0, count: count)
        var events: [(time: Double, delta: Double)] = []
        for segment in segments {
            let held = amount(segment)
            guard held > 0 else { continue }
            events.append((segment.start.inSeconds, held))
            events.append((segment.end.inSeconds, -held))
        }
        events.sort { $0.time < $1.time }
        let width = count > 0 ? horizon / Double(count) : 0
        func fill(_ from: Double, _ to: Double, _ level: Double) {
            let from = max(0, from), to = min(horizon, to)
            guard to > from, count > 0, level > 0 else { return }
            let first = min(count - 1, Int(from / width)), last = min(count - 1, max(first, Int((to / width).rounded(.up)) - 1))
            for c in first...last {
                let overlap = min(to, Double(c + 1) * width) - max(from, Double(c) * width)
                guard overlap > 0 else { continue }
                mean[c] += level * overlap / width
                peak[c] = max(peak[c], level)
            }
        }
        var level = 0.0, time = 0.0
        for event in events {
            fill(time, event.time, level)
            level += event.delta
            time = event.time
        }
        fill(time, horizon, level)
        self.mean = mean
        self.peak = peak
    }

    /// The share of the capacity held on average over the whole run (0 when there is none).
    public var meanShare: Double {
        guard capacity > 0, !mean.isEmpty else { return 0 }
        return mean.reduce(0, +) / Double(mean.count) / capacity
    }

    public var highest: Double { peak.max() ?? 0 }

    /// The curves of a box: per node its cores, memory and (when it has any) hugepages; per GPU
    /// the stages on it against its slots, and its VRAM.
    public static func all(_ capacity: BoxCapacity, segments: [Segment], horizonSeconds: Double, buckets: Int = 300) -> [BusyCurve] {
        var curves: [BusyCurve] = []
        for node in capacity.nodes {
            let id = node.id
            curves.append(BusyCurve(name: "node \(id) cores", unit: .cores, capacity: Double(node.cpus.count), segments: segments,
                                    horizonSeconds: horizonSeconds, buckets: buckets) { $0.grant.node == id ? Double($0.grant.cpus.count) : 0 })
            curves.append(BusyCurve(name: "node \(id) memory", unit: .bytes, capacity: Double(node.memoryBytes), segments: segments,
                                    horizonSeconds: horizonSeconds, buckets: buckets) { Double($0.grant.memory[id] ?? 0) })
            if node.hugepages > 0 {
                curves.append(BusyCurve(name: "node \(id) hugepages", unit: .hugepages, capacity: Double(node.hugepages), segments: segments,
                                        horizonSeconds: horizonSeconds, buckets: buckets) { $0.grant.node == id ? Double($0.grant.hugepages) : 0 })
            }
        }
        for gpu in capacity.gpus {
            let index = gpu.index
            var stages = BusyCurve(name: "gpu \(index) stages", unit: .stages, capacity: Double(gpu.slots), segments: segments,
                                   horizonSeconds: horizonSeconds, buckets: buckets) { $0.grant.gpu == index ? 1 : 0 }
            // A WindowPoSt request carries one extra GPU slot (ResourceRequest.extraGPUSlots).
            stages.headroom = 1
            curves.append(stages)
            curves.append(BusyCurve(name: "gpu \(index) VRAM", unit: .bytes, capacity: Double(gpu.vramBytes), segments: segments,
                                    horizonSeconds: horizonSeconds, buckets: buckets) { $0.grant.gpu == index ? Double($0.grant.vramBytes) : 0 })
        }
        return curves
    }
}
