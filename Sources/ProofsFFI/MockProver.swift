import Foundation
import Synchronization

/// A deterministic stand-in for filecoin-ffi, for tests and demos.
///
/// Each stage sleeps its configured duration on the injected clock, and its outputs are digests
/// of its inputs, so a proof verifies only if every earlier output it depends on was right.
/// `failureRate` makes a fraction of calls fail, drawn from a seeded sequence.
public final class MockProver: Prover {
    public struct Options: Sendable, Hashable {
        public var durations: [ProofStage: Duration]
        public var failureRate: Double
        public var seed: UInt64
        /// Each run takes its stage's duration times a factor drawn uniformly in [1-jitter, 1+jitter].
        public var jitter: Double
        /// Stages that fail for these sector numbers, every time (a deterministic fault for tests).
        public var failSectors: [ProofStage: Set<UInt64>]

        public init(durations: [ProofStage: Duration] = [:], failureRate: Double = 0, seed: UInt64 = 1, jitter: Double = 0,
                    failSectors: [ProofStage: Set<UInt64>] = [:]) {
            self.durations = durations
            self.failureRate = failureRate
            self.seed = seed
            self.jitter = jitter
            self.failSectors = failSectors
        }
    }

    public let options: Options
    private let clock: any Clock<Duration>
    /// Counts calls so each one draws a fresh failure decision; the only mutable state.
    private let calls = Atomic<UInt64>(0)

    public init(options: Options = .init(), clock: any Clock<Duration> = ContinuousClock()) {
        self.options = options
        self.clock = clock
    }

    private func work(_ stage: ProofStage, _ sector: SectorID?) async throws(ProverError) {
        if var duration = options.durations[stage], duration > .zero {
            if options.jitter > 0 {
                let n = calls.add(1, ordering: .relaxed).newValue
                let draw = Double(MockDigest.mix(options.seed &+ n &* 0x2545_f491) >> 11) / Double(1 << 53)
                duration = duration * (1 + options.jitter * (2 * draw - 1))
            }
            do {
                try await clock.sleep(for: duration, tolerance: nil)
            } catch {
                throw ProverError(stage: stage, message: "cancelled")
            }
        }
        if Task.isCancelled { throw ProverError(stage: stage, message: "cancelled") }
        if let sector, options.failSectors[stage]?.contains(sector.number) == true {
            throw ProverError(stage: stage, message: "mock failure injected for \(sector)")
        }
        guard options.failureRate > 0 else { return }
        let n = calls.add(1, ordering: .relaxed).newValue
        let draw = Double(MockDigest.mix(options.seed &+ n &* 0x9e37_79b9) >> 11) / Double(1 << 53)
        if draw < options.failureRate {
            throw ProverError(stage: stage, message: "mock failure injected (call \(n)\(sector.map { ", \($0)" } ?? ""))")
        }
    }

    private static func bytes(_ id: SectorID) -> [UInt8] { Array("\(id)".utf8) }

    public func addPieces(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [PieceInfo] {
        try await work(.addPieces, sector.id)
        // A CC sector is one pledge piece of zeros filling the sector, with its real commitment.
        return pieces.isEmpty ? [ZeroCommitment.pledge(sector.proof.sectorSize)] : pieces
    }

    private static func commD(_ pieces: [PieceInfo]) -> [UInt8] {
        MockDigest.digest([Array("commD".utf8)] + pieces.map(\.commP))
    }

    public func buildTreeD(_ sector: SectorRef, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        try await work(.treeD, sector.id)
        return Self.commD(pieces)
    }

    public func pc1(_ sector: SectorRef, ticket: [UInt8], pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        try await work(.pc1, sector.id)
        // The PC1 output carries CommD forward, as the real labels depend on the data.
        return MockDigest.digest([Array("pc1".utf8), sector.proverID.bytes, Self.bytes(sector.id), ticket, Self.commD(pieces)]) + Self.commD(pieces)
    }

    public func pc2(_ sector: SectorRef, pc1Output: [UInt8]) async throws(ProverError) -> Commitments {
        try await work(.pc2, sector.id)
        guard pc1Output.count == 64 else {
            throw ProverError(stage: .pc2, message: "malformed pc1 output (\(pc1Output.count) bytes, want 64)")
        }
        let commitments = Commitments(
            commR: MockDigest.digest([Array("commR".utf8), Array(pc1Output.prefix(32))]),
            commD: Array(pc1Output.suffix(32)))
        try Self.writeStandIns(.pc2, sector, replica: sector.paths.sealed, cache: sector.paths.cache, content: commitments.commR)
        return commitments
    }

    /// Leaves the files a real PC2 (or snap encoding) leaves for persisting and window PoSt, as
    /// small stand-ins derived from the commitments: the replica and the cache files.
    static func writeStandIns(_ stage: ProofStage, _ sector: SectorRef, replica: String, cache: String, content: [UInt8]) throws(ProverError) {
        guard !replica.isEmpty, !cache.isEmpty else { return }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: cache, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: (replica as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content).write(to: URL(fileURLWithPath: replica))
            for name in sector.proof.sectorSize.persistedCacheFiles {
                try Data(MockDigest.digest([Array(name.utf8), content])).write(to: URL(fileURLWithPath: cache + "/" + name))
            }
        } catch {
            throw ProverError(stage: stage, message: "cannot write the mock replica's files: \(error.localizedDescription)")
        }
    }

    public func syntheticProofs(_ sector: SectorRef, ticket: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) {
        try await work(.synthProof, sector.id)
    }

    public func c1(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        try await work(.c1, sector.id)
        return Self.c1Digest(sector.id, ticket, seed, commitments)
    }

    public func c2(_ sector: SectorRef, c1Output: [UInt8]) async throws(ProverError) -> [UInt8] {
        try await work(.c2, sector.id)
        return MockDigest.digest([Array("c2".utf8), c1Output])
    }

    public func snapEncode(_ sector: SectorRef, old: ReplicaPaths, pieces: [PieceInfo]) async throws(ProverError) -> Commitments {
        try await work(.snapEncode, sector.id)
        let commD = Self.commD(pieces)
        let commitments = Commitments(commR: MockDigest.digest([Array("snap-commR".utf8), Self.bytes(sector.id), commD]), commD: commD)
        try Self.writeStandIns(.snapEncode, sector, replica: sector.paths.sealed, cache: sector.paths.cache, content: commitments.commR)
        return commitments
    }

    public func snapProve(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        try await work(.snapProve, sector.id)
        return Self.expectedSnapProof(sector.id, oldCommR: oldCommR, new: new)
    }

    /// The mock's vanilla proofs name the sector, since damocles' SnapProve task does not.
    public func snapVanillaProofs(_ sector: SectorRef, old: ReplicaPaths, oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [[UInt8]]? {
        [Array("mock-vanilla \(sector.id.miner) \(sector.id.number)".utf8)]
    }

    public func snapProve(_ sector: SectorRef, vanillaProofs: [[UInt8]], oldCommR: [UInt8], new: Commitments) async throws(ProverError) -> [UInt8] {
        try await work(.snapProve, sector.id)
        let fields = vanillaProofs.first.map { String(decoding: $0, as: UTF8.self).split(separator: " ") } ?? []
        guard fields.count == 3, fields[0] == "mock-vanilla", let miner = UInt64(fields[1]), let number = UInt64(fields[2]) else {
            throw ProverError(stage: .snapProve, message: "not the mock's vanilla proofs")
        }
        return Self.expectedSnapProof(SectorID(miner: miner, number: number), oldCommR: oldCommR, new: new)
    }

    /// The snap proof this prover produces; the mock manager checks upgrades with it.
    public static func expectedSnapProof(_ id: SectorID, oldCommR: [UInt8], new: Commitments) -> [UInt8] {
        MockDigest.digest([Array("snap-proof".utf8), bytes(id), oldCommR, new.commR, new.commD])
    }

    public func unseal(_ sector: SectorRef, ticket: [UInt8], commD: [UInt8], offset: UInt64, length: UInt64, output: String) async throws(ProverError) -> UInt64 {
        try await work(.unseal, sector.id)
        return length
    }

    public func windowPost(miner: UInt64, proof: PoStProof, replicas: [ReplicaInfo], randomness: [UInt8]) async throws(ProverError) -> WindowPoStResult {
        try await work(.windowPost, nil)
        let sectors = replicas.map { SectorID(miner: miner, number: $0.sector) }
        return WindowPoStResult(proofs: [Self.expectedWindowPoSt(miner: miner, sectors: sectors, randomness: randomness)])
    }

    /// The window PoSt this prover produces; the mock manager checks finished jobs with it.
    public static func expectedWindowPoSt(miner: UInt64, sectors: [SectorID], randomness: [UInt8]) -> [UInt8] {
        MockDigest.digest([Array("wdpost".utf8), Array("\(miner)".utf8), randomness] + sectors.map(bytes))
    }

    /// One run for the whole batch at the stage's duration; each sector's output is what `pc1`
    /// gives it, so the rest of its sealing is the same as a sector sealed alone.
    public func supraPC1(_ batch: SupraBatch, tickets: [[UInt8]], pieces: [[PieceInfo]]) async throws(ProverError) -> [[UInt8]] {
        guard tickets.count == batch.sectors.count, pieces.count == batch.sectors.count else {
            throw ProverError(stage: .supraPC1, message: "\(batch.sectors.count) sectors but \(tickets.count) tickets and \(pieces.count) piece lists")
        }
        try await work(.supraPC1, nil)
        for sector in batch.sectors where options.failSectors[.supraPC1]?.contains(sector.id.number) == true {
            throw ProverError(stage: .supraPC1, message: "mock failure injected for \(sector.id)")
        }
        return batch.sectors.indices.map { i in
            MockDigest.digest([Array("pc1".utf8), batch.sectors[i].proverID.bytes, Self.bytes(batch.sectors[i].id), tickets[i], Self.commD(pieces[i])])
                + Self.commD(pieces[i])
        }
    }

    /// One run for the whole batch; each sector's commitments (and stand-in files) as `pc2` makes them.
    public func supraPC2(_ batch: SupraBatch, pc1Outputs: [[UInt8]]) async throws(ProverError) -> [Commitments] {
        guard pc1Outputs.count == batch.sectors.count else {
            throw ProverError(stage: .supraPC2, message: "\(batch.sectors.count) sectors but \(pc1Outputs.count) PC1 outputs")
        }
        try await work(.supraPC2, nil)
        var out: [Commitments] = []
        for (sector, pc1) in zip(batch.sectors, pc1Outputs) {
            if options.failSectors[.supraPC2]?.contains(sector.id.number) == true {
                throw ProverError(stage: .supraPC2, message: "mock failure injected for \(sector.id)")
            }
            guard pc1.count == 64 else { throw ProverError(stage: .supraPC2, message: "malformed pc1 output of \(sector.id) (\(pc1.count) bytes, want 64)") }
            let commitments = Commitments(commR: MockDigest.digest([Array("commR".utf8), Array(pc1.prefix(32))]), commD: Array(pc1.suffix(32)))
            try Self.writeStandIns(.supraPC2, sector, replica: sector.paths.sealed, cache: sector.paths.cache, content: commitments.commR)
            out.append(commitments)
        }
        return out
    }

    public func supraC1(_ batch: SupraBatch, slot: Int, ticket: [UInt8], seed: [UInt8], commitments: Commitments,
                        pieces: [PieceInfo]) async throws(ProverError) -> [UInt8] {
        guard batch.sectors.indices.contains(slot) else {
            throw ProverError(stage: .supraC1, message: "slot \(slot) is outside the batch of \(batch.sectors.count)")
        }
        let id = batch.sectors[slot].id
        try await work(.supraC1, id)
        return Self.c1Digest(id, ticket, seed, commitments)
    }

    public func verifySeal(_ sector: SectorRef, ticket: [UInt8], seed: [UInt8], commitments: Commitments, proof: [UInt8]) -> Bool {
        Self.expectedProof(sector.id, ticket: ticket, seed: seed, commitments: commitments) == proof
    }

    /// The proof this prover produces for these inputs; the mock manager checks submissions with it.
    public static func expectedProof(_ id: SectorID, ticket: [UInt8], seed: [UInt8], commitments: Commitments) -> [UInt8] {
        MockDigest.digest([Array("c2".utf8), c1Digest(id, ticket, seed, commitments)])
    }

    private static func c1Digest(_ id: SectorID, _ ticket: [UInt8], _ seed: [UInt8], _ c: Commitments) -> [UInt8] {
        MockDigest.digest([Array("c1".utf8), bytes(id), ticket, seed, c.commR, c.commD])
    }
}

extension Collection<UInt8> {
    /// Lower-case hexadecimal, for logs and mock CIDs.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
