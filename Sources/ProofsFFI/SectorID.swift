/// A Filecoin sector: the miner actor that owns it and its number, as the manager allocates it.
public struct SectorID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var miner: UInt64
    public var number: UInt64

    public init(miner: UInt64, number: UInt64) {
        self.miner = miner
        self.number = number
    }

    /// The name damocles uses on disk and in `worker list`: `s-t0<miner>-<number>`.
    public var description: String { "s-t0\(miner)-\(number)" }

    public static func < (a: SectorID, b: SectorID) -> Bool {
        (a.miner, a.number) < (b.miner, b.number)
    }

    enum CodingKeys: String, CodingKey {
        case miner = "Miner"
        case number = "Number"
    }
}
