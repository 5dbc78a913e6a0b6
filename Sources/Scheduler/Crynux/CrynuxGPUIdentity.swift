/// The GPU a Crynux node reports to the relay (spec 3.3): name `<gpu name>+<platform>` and VRAM
/// = ceil(total MiB / 1024). The relay's hard filter compares them exactly when a task requires
/// a GPU, so the node reports one card of the largest group of identical selected cards (each
/// task leases one GPU here; the spec's `Nx` multi-card names are for one task over many cards)
/// and leases only cards of that group.
public struct CrynuxGPUIdentity: Sendable, Hashable {
    public var name: String
    public var vramGiB: Int
    /// The box GPU indices matching the reported identity (where the lease may go).
    public var gpus: [Int]

    public init(name: String, vramGiB: Int, gpus: [Int]) {
        self.name = name
        self.vramGiB = vramGiB
        self.gpus = gpus
    }

    /// One card of the box as the identity sees it.
    public struct Card: Sendable, Hashable {
        public var index: Int
        /// The model name (NVML's or the config's); nil when unknown.
        public var name: String?
        public var vramBytes: UInt64
        public init(index: Int, name: String?, vramBytes: UInt64) {
            self.index = index
            self.name = name
            self.vramBytes = vramBytes
        }
    }

    /// VRAM as the node reports it: ceil(MiB / 1024).
    public static func gib(_ bytes: UInt64) -> Int { Int(((bytes >> 20) + 1023) / 1024) }

    /// The identity for `cards` restricted to `selected` (empty: all); `configuredName`
    /// (`[crynux] gpu_name`) overrides the discovered name. No card: "GPU" with `fallbackVRAM`.
    public static func report(cards: [Card], selected: [Int], configuredName: String?, platform: String, fallbackVRAM: Int = 0) -> CrynuxGPUIdentity {
        let usable = cards.filter { selected.isEmpty || selected.contains($0.index) }.sorted { $0.index < $1.index }
        var groups: [(key: Card, members: [Int])] = []
        for card in usable {
            let key = Card(index: 0, name: card.name, vramBytes: UInt64(gib(card.vramBytes)))
            if let i = groups.firstIndex(where: { $0.key == key }) { groups[i].members.append(card.index) } else { groups.append((key, [card.index])) }
        }
        // The largest group; among equals, the one with the most VRAM, then the lowest index.
        guard let best = groups.enumerated().max(by: { a, b in
            (a.element.members.count, a.element.key.vramBytes, -a.offset) < (b.element.members.count, b.element.key.vramBytes, -b.offset)
        })?.element else {
            return CrynuxGPUIdentity(name: "\(configuredName ?? "GPU")+\(platform)", vramGiB: fallbackVRAM, gpus: [])
        }
        return CrynuxGPUIdentity(name: "\(configuredName ?? best.key.name ?? "GPU")+\(platform)", vramGiB: Int(best.key.vramBytes), gpus: best.members)
    }
}
