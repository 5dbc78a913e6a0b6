import ProofsFFI

/// `[sealing] mode = "batch"`: the sealer-plan threads seal in SupraSeal batches of `size`
/// sectors (16, 32, 64 or 128), grouped in thread order; each batch shares one batch PC1 and one
/// batch PC2, then its sectors go on alone (C1, C2, submissions).
public struct BatchMode: Sendable, Hashable {
    public var size: Int

    public init(size: Int) { self.size = size }

    /// The batches: consecutive runs of `size` thread indices (sealer-plan threads only, in
    /// order). nil when the count is not a multiple of `size`.
    public func groups(_ threads: [Int]) -> [[Int]]? {
        guard size > 0, !threads.isEmpty, threads.count % size == 0 else { return nil }
        return stride(from: 0, to: threads.count, by: size).map { Array(threads[$0..<$0 + size]) }
    }
}

extension ConfigDecoder {
    /// Reads `mode` and `batch_size` from the top-level `[sealing]` table (not a thread's: a
    /// batch spans threads). nil for the default single-sector mode.
    static func decodeBatchMode(_ t: inout TableReader, _ log: inout DiagnosticLog) -> BatchMode? {
        let mode = t.string("mode", &log)
        let size = t.int("batch_size", &log, range: 1...1024).map(Int.init)
        switch mode {
        case nil, "single":
            if size != nil { log.error(t.keyPath("batch_size"), t.position("batch_size"), "batch_size needs mode = \"batch\"") }
            return nil
        case "batch":
            let chosen = size ?? 64
            guard BatchSizing.sizes.contains(chosen) else {
                log.error(t.keyPath("batch_size"), t.position("batch_size"),
                          "SupraSeal seals batches of \(BatchSizing.sizes.map(String.init).joined(separator: ", ")) sectors, not \(chosen)")
                return nil
            }
            return BatchMode(size: chosen)
        case let other?:
            log.error(t.keyPath("mode"), t.position("mode"), "unknown sealing mode \"\(other)\" (single, batch)")
            return nil
        }
    }

    /// In batch mode the sealer threads must fill whole batches.
    static func validateBatch(_ config: SealerConfig, _ log: inout DiagnosticLog) {
        guard let batch = config.batch else { return }
        let sealers = config.sealingThreads.indices.filter { config.sealingThreads[$0].plan == .sealer }
        if batch.groups(sealers) == nil {
            log.error("sealing.batch_size", nil,
                      "\(sealers.count) sealer threads do not make whole batches of \(batch.size); batch mode needs a multiple of \(batch.size) [[sealing_thread]] with plan sealer")
        }
    }
}
