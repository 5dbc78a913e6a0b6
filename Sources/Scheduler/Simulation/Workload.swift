import Foundation
import ProofsFFI

/// What a box is asked to seal, for `sealer simulate`: a sector mix, the seed wait, WindowPoSt
/// bursts, and (unless the config gives them) the box and its thread count.
public struct Workload: Sendable, Hashable {
    /// One kind of sector in the mix.
    public struct Sectors: Sendable, Hashable {
        public var kind: Kind
        public var size: SectorSize
        public var weight: Int
    }

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Committed-capacity sealing (the sealer plan).
        case cc
        /// SnapDeals upgrade of an existing sector (the snapup plan).
        case snapup
        /// Committed capacity sealed in SupraSeal batches of `batchSize` (`[sealing] mode = "batch"`).
        case batch
    }

    /// A burst of WindowPoSt partitions every `every`.
    public struct PostBursts: Sendable, Hashable {
        public var every: Duration
        public var partitions: Int
        public var size: SectorSize
    }

    /// Crynux inference tasks sharing the GPUs (issue 10): the relay offers tasks at random
    /// (Poisson), each holding one GPU slot and `vramBytes` for `duration`, admitted by the
    /// daemon's rule (`CrynuxAdmission`): below sealing (only what sealing leaves), or ahead of
    /// sealing but behind C2 and WindowPoSt when `priority = "like_c2"` or while under `gpuShare`
    /// of the last hour's GPU time; a task not started within `maxWait` goes to another node.
    public struct CrynuxTasks: Sendable, Hashable {
        public var perHour: Int
        public var duration: Duration
        public var vramBytes: UInt64
        /// `gpu_share`: the share of the box's GPU time Crynux may take ahead of sealing, as
        /// `[crynux] gpu_share`; nil or 0: only what sealing leaves.
        public var gpuShare: Double?
        /// `max_wait`: how long an offered task may wait for a GPU here (0: now or never).
        public var maxWait: Duration = .zero
        /// `priority`: as `[crynux] priority` (below_sealing or like_c2).
        public var priority: CrynuxSection.Priority = .belowSealing
    }

    public var name: String
    public var crynux: CrynuxTasks?
    public var days: Double = 7
    public var threads = 32
    public var seedWait: Duration = .seconds(75 * 60)
    /// Each run's duration varies uniformly within ±jitter of the cost table's (real stage times
    /// spread: PC1 2h57m-3h04m on one CPU model); 0 makes every run identical.
    public var jitter = 0.05
    /// Seeds the jitter so a run is reproducible.
    public var seed: UInt64 = 1
    public var sectors: [Sectors] = []
    public var windowPost: PostBursts?
    /// `limitation.staggered`: least spacing between starts of a stage.
    public var staggered: [ProofStage: Duration] = [:]
    public var resources = ResourcesSection()
    /// Sectors per SupraSeal batch (`batch_size`), for `batch` sectors.
    public var batchSize = 64

    /// The steps one sector of `kind` takes, as the daemon's plans run them: stages that hold
    /// resources, and waits that hold none (persisting is a manager call, not a stage).
    public func flow(_ kind: Kind) -> [FlowStep] {
        switch kind {
        case .cc: [.stage(.addPieces), .stage(.treeD), .stage(.pc1), .stage(.pc2), .wait(seedWait), .stage(.c1), .stage(.c2)]
        case .snapup: [.stage(.addPieces), .stage(.treeD), .stage(.snapEncode), .stage(.snapProve)]
        // Each thread seals one sector; its batch's threads meet at the batch stages. A CC batch
        // has no pieces to add and a static tree D (zeros): SupraSeal's PC1 starts from nothing.
        case .batch: [.stage(.supraPC1), .stage(.supraPC2), .wait(seedWait), .stage(.supraC1), .stage(.c2)]
        }
    }

    public enum FlowStep: Sendable, Hashable {
        case stage(ProofStage)
        case wait(Duration)
    }

    /// Reads a workload file; errors name the file, line and key.
    public static func load(path: String) -> Result<Workload, WorkloadError> {
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(WorkloadError("\(path): cannot read the file")) }
        let root: TOMLTable
        do { root = try TOML.parse(bytes: Array(data)) } catch {
            return .failure(WorkloadError("\(path):\(error.position.line):\(error.position.column): invalid TOML: \(error.message)"))
        }
        var log = DiagnosticLog(file: path)
        var r = TableReader(root, path: "")
        var w = Workload(name: r.string("name", &log) ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
        w.days = r.int("days", &log, range: 1...3650).map(Double.init) ?? w.days
        w.threads = r.int("threads", &log, range: 1...100_000).map(Int.init) ?? w.threads
        w.seedWait = r.duration("seed_wait", &log) ?? w.seedWait
        w.jitter = r.fraction("jitter", &log) ?? w.jitter
        w.seed = r.int("seed", &log).map(UInt64.init) ?? w.seed
        if let size = r.int("batch_size", &log, range: 1...1024).map(Int.init) {
            if BatchSizing.sizes.contains(size) { w.batchSize = size } else {
                log.error(r.keyPath("batch_size"), r.position("batch_size"), "SupraSeal seals batches of 16, 32, 64 or 128 sectors, not \(size)")
            }
        }
        for var s in r.tables("sectors", &log) ?? [] {
            let kindName = s.string("kind", &log) ?? "cc"
            let sizeText = s.string("size", &log) ?? "32GiB"
            guard let kind = Kind(rawValue: kindName) else {
                log.error(s.keyPath("kind"), s.position("kind"), "unknown kind \"\(kindName)\" (cc, snapup, batch)")
                continue
            }
            guard let bytes = ByteSize(parsing: sizeText), let size = SectorSize(rawValue: bytes.bytes) else {
                log.error(s.keyPath("size"), s.position("size"), "\"\(sizeText)\" is not a Filecoin sector size")
                continue
            }
            w.sectors.append(Sectors(kind: kind, size: size, weight: s.int("weight", &log, range: 1...1_000_000).map(Int.init) ?? 1))
            s.reportUnknown(&log)
        }
        if var p = r.table("window_post", &log) {
            let sizeText = p.string("size", &log) ?? "32GiB"
            let size = ByteSize(parsing: sizeText).flatMap { SectorSize(rawValue: $0.bytes) } ?? .gib32
            w.windowPost = PostBursts(every: p.positiveDuration("every", &log) ?? .seconds(1800),
                                      partitions: p.int("partitions", &log, range: 1...1000).map(Int.init) ?? 1, size: size)
            p.reportUnknown(&log)
        }
        if var stagger = r.table("staggered", &log) {
            for entry in stagger.table.entries {
                guard let stage = ProofStage(rawValue: entry.key) else {
                    log.error(stagger.keyPath(entry.key), entry.position, ConfigDecoder.unknownStage(entry.key))
                    continue
                }
                if let d = stagger.positiveDuration(entry.key, &log) { w.staggered[stage] = d }
            }
        }
        if var c = r.table("crynux", &log) {
            w.crynux = CrynuxTasks(perHour: c.int("tasks_per_hour", &log, range: 1...100_000).map(Int.init) ?? 10,
                                   duration: c.positiveDuration("duration", &log) ?? .seconds(120),
                                   vramBytes: c.byteSize("vram", &log)?.bytes ?? 8 << 30, gpuShare: c.fraction("gpu_share", &log),
                                   maxWait: c.duration("max_wait", &log) ?? .zero)
            if let text = c.string("priority", &log) {
                if let priority = CrynuxSection.Priority(rawValue: text) { w.crynux?.priority = priority } else {
                    log.error(c.keyPath("priority"), c.position("priority"),
                              "unknown priority \"\(text)\" (\(CrynuxSection.Priority.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
            }
            c.reportUnknown(&log)
        }
        if var res = r.table("resources", &log) { w.resources = ConfigDecoder.decodeResources(&res, &log) }
        r.reportUnknown(&log)
        if w.sectors.isEmpty { log.error("sectors", nil, "no [[sectors]]: nothing to seal") }
        if w.sectors.contains(where: { $0.kind == .batch }) {
            if w.sectors.count != 1 { log.error("sectors", nil, "a batch workload seals one kind of sector: one [[sectors]] of kind batch") }
            if w.threads % w.batchSize != 0 { log.error("threads", r.position("threads"), "\(w.threads) threads do not make whole batches of \(w.batchSize)") }
        }
        if let error = log.diagnostics.first(where: \.isError) { return .failure(WorkloadError(error.description)) }
        return .success(w)
    }
}

/// A workload file that cannot be used, with where and why.
public struct WorkloadError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
