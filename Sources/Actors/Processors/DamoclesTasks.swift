import ProofsFFI

// damocles' external processor payloads, field for field.
//
// Read from (facts only, no code taken):
// - ipfs-force-community/damocles 4235a89557219de436bba441e727af3a42f903f0
//   damocles-worker/vc-processors/src/builtin/tasks.rs (the tasks and their outputs),
//   vc-processors/src/fil_proofs/mod.rs (`SnapEncodeOutput`, `SnapProveOutput = Vec<u8>`,
//   `SnarkProof` = base64 `BytesVec`, `ActorID = u64`), vc-processors/src/b64serde.rs,
//   damocles-worker/src/sealing/processor/external/sub.rs (a child's default args are
//   `processor <stage>`), damocles-worker/src/sealing/sealing_thread/planner/common/sealing.rs
//   (C1 and synthetic proofs run in-process; snap prove sends vanilla proofs made in-process).
// - filecoin-project/rust-filecoin-proofs-api b44e7cecf2a120aa266b6886628e869ba67252af (release
//   18.1.0, what vc-processors builds with): `RegisteredSealProof`, `RegisteredPoStProof`,
//   `RegisteredUpdateProof` (serde: the variant name as a string), `SealPreCommitPhase1Output`,
//   `SealPreCommitPhase2Output`, `SealCommitPhase1Output`, `SealCommitPhase2Output`.
// - filecoin-project/rust-fil-proofs 87348a749d80447d00c595af834a8ed73c09e4d9: `PieceInfo`
//   (`commitment`, `size`), `UnpaddedBytesAmount` / `UnpaddedByteIndex` / `SectorId` (newtypes
//   over u64: JSON numbers), `compute_comm_d` (filecoin-proofs/src/pieces.rs).
//
// serde's encodings: `[u8; 32]` (`Commitment`, `ProverId`, `Ticket`, `ChallengeSeed`) and
// `Vec<u8>` are arrays of numbers, `PathBuf` is a string, unit enum variants are their names.

/// The commit of damocles' definitions these payloads follow.
public let damoclesPayloadCommit = "4235a89557219de436bba441e727af3a42f903f0"

/// A payload that is not damocles' shape, or that the `Prover` boundary cannot take.
public struct DamoclesPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field (dotted path) at fault.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "field \(field): \(message)" }
}

// MARK: - Registered proofs, by name

/// filecoin-proofs-api's `RegisteredSealProof`, serialized as its variant name
/// (`StackedDrg32GiBV1_1`, `StackedDrg32GiBV1_1_Feat_SyntheticPoRep`,
/// `StackedDrg32GiBV1_2_Feat_NonInteractivePoRep`).
public struct DamoclesSealProof: Codable, Sendable, Hashable {
    public var proof: SealProof

    public init(_ proof: SealProof) { self.proof = proof }

    /// The serde name of `proof`.
    public var name: String {
        switch proof.variant {
        case .v1_1: "StackedDrg\(proof.sectorSize)V1_1"
        case .v1_1SyntheticPoRep: "StackedDrg\(proof.sectorSize)V1_1_Feat_SyntheticPoRep"
        case .v1_2NonInteractive: "StackedDrg\(proof.sectorSize)V1_2_Feat_NonInteractivePoRep"
        }
    }

    /// The proof a serde name stands for; nil for names this daemon does not seal (V1 included).
    public init?(name: String) {
        for size in SectorSize.allCases {
            for variant in SealProof.Variant.allCases {
                let candidate = DamoclesSealProof(SealProof(sectorSize: size, variant: variant))
                if candidate.name == name {
                    self = candidate
                    return
                }
            }
        }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = DamoclesSealProof(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown RegisteredSealProof \"\(name)\""))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

/// filecoin-proofs-api's `RegisteredPoStProof` by variant name: `StackedDrgWinning32GiBV1`,
/// `StackedDrgWindow32GiBV1`, `StackedDrgWindow32GiBV1_2` (registered V1_1).
public struct DamoclesPoStProof: Codable, Sendable, Hashable {
    public var proof: PoStProof

    public init(_ proof: PoStProof) { self.proof = proof }

    public var name: String { proof.name }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let proof = PoStProof.allProofs.first(where: { $0.name == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown RegisteredPoStProof \"\(name)\""))
        }
        self.proof = proof
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

extension PoStProof {
    /// Every registered PoSt proof (ids 0-14).
    static var allProofs: [PoStProof] { (0...14).compactMap { PoStProof(id: $0) } }
}

/// filecoin-proofs-api's `RegisteredUpdateProof` by variant name: `StackedDrg32GiBV1`.
public struct DamoclesUpdateProof: Codable, Sendable, Hashable {
    public var proof: UpdateProof

    public init(_ proof: UpdateProof) { self.proof = proof }

    public var name: String { "StackedDrg\(proof.sectorSize)V1" }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let size = SectorSize.allCases.first(where: { "StackedDrg\($0)V1" == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown RegisteredUpdateProof \"\(name)\""))
        }
        proof = UpdateProof(sectorSize: size)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

// MARK: - Embedded filecoin types

/// filecoin-proofs' `PieceInfo`: `commitment` (32 numbers) and `size` (unpadded bytes).
public struct DamoclesPieceInfo: Codable, Sendable, Hashable {
    public var commitment: [UInt8]
    public var size: UInt64

    public init(commitment: [UInt8], size: UInt64) {
        self.commitment = commitment
        self.size = size
    }

    public init(_ piece: PieceInfo) { self.init(commitment: piece.commP, size: piece.size) }

    /// The boundary's piece.
    public var piece: PieceInfo { PieceInfo(commP: commitment, size: size) }
}

/// A JSON value carried opaquely: damocles' `SealPreCommitPhase1Output` (`pc1out`) and
/// `SealCommitPhase1Output` (`c1out`), which this daemon persists as bytes.
///
/// `bytes` is the value's JSON text. Encoding it as part of a `Codable` task writes the parsed
/// value; `ExternalProver` splices `bytes` into the request line verbatim instead.
public struct DamoclesOpaque: Codable, Sendable, Hashable {
    /// The JSON text.
    public var bytes: [UInt8]

    public init(json bytes: [UInt8]) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        bytes = try JSONValue(from: decoder).serialized()
    }

    public func encode(to encoder: any Encoder) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw EncodingError.invalidValue(bytes, .init(codingPath: encoder.codingPath, debugDescription: "\(error)"))
        }
        try value.encode(to: encoder)
    }

    /// A persisted opaque output as it goes into a task: the bytes themselves when they are a
    /// JSON object (a PC1 / C1 output from filecoin-ffi or a damocles processor), else (a mock
    /// prover's digest bytes) `{"mock":[…],"registered_proof":"<name>"}`, the shape
    /// `sealer processor` answers for the mock prover.
    public static func embedding(_ stored: [UInt8], proof: SealProof) -> DamoclesOpaque {
        if case .object? = try? JSONValue.parse(stored) { return DamoclesOpaque(json: stored) }
        let wrapped: JSONValue = .object(["mock": .array(stored.map { .int(Int64($0)) }),
                                          "registered_proof": .string(DamoclesSealProof(proof).name)])
        return DamoclesOpaque(json: wrapped.serialized())
    }

    /// What the daemon persists for this output: the mock prover's bytes for a
    /// `{"mock":[…]}` value (so a record is the same whether the mock ran in-process or in a
    /// `sealer processor` child), else the JSON text as received.
    public var stored: [UInt8] { mockBytes ?? bytes }

    /// The mock prover's bytes inside a `{"mock":[…]}` value, nil for anything else.
    public var mockBytes: [UInt8]? {
        guard let items = (try? JSONValue.parse(bytes))?["mock"]?.arrayValue else { return nil }
        var out: [UInt8] = []
        for item in items {
            guard let n = item.intValue, (0...255).contains(n) else { return nil }
            out.append(UInt8(n))
        }
        return out
    }

    /// The `registered_proof` the value names, if any.
    public var registeredProof: SealProof? {
        (try? JSONValue.parse(bytes))?["registered_proof"]?.stringValue.flatMap(DamoclesSealProof.init(name:))?.proof
    }
}

/// vc-processors' `SnarkProof`: bytes as a standard base64 string (`b64serde::BytesVec`).
public struct DamoclesBase64Bytes: Codable, Sendable, Hashable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let bytes = Base64.decode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not standard base64"))
        }
        self.bytes = bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Base64.encode(bytes))
    }
}

/// RFC 4648 standard base64 with padding (base64's `STANDARD` engine).
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var table = [Int](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = i }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            let quad = chars[i..<i + 4]
            let pad = quad.reversed().prefix { $0 == UInt8(ascii: "=") }.count
            guard pad <= 2, pad == 0 || i + 4 == chars.count else { return nil }
            var v: UInt32 = 0
            for (k, c) in quad.enumerated() {
                let d: Int = k >= 4 - pad ? 0 : table[Int(c)]
                guard d >= 0 else { return nil }
                v = v << 6 | UInt32(d)
            }
            out.append(UInt8(v >> 16 & 0xff))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xff)) }
            if pad < 1 { out.append(UInt8(v & 0xff)) }
            i += 4
        }
        return out
    }
}

// MARK: - Tasks and outputs (tasks.rs)

/// vc-processors' `PieceFile`, `rename_all = "camelCase"`: `"pledge"`, `{"url":…}`, `{"local":…}`.
public enum DamoclesPieceFile: Codable, Sendable, Hashable {
    case url(String)
    case local(String)
    case pledge

    enum CodingKeys: String, CodingKey { case url, local }

    public init(from decoder: any Decoder) throws {
        if let unit = try? decoder.singleValueContainer().decode(String.self) {
            guard unit == "pledge" else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown PieceFile \"\(unit)\""))
            }
            self = .pledge
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "PieceFile needs exactly one of url, local"))
        }
        if let url = try c.decodeIfPresent(String.self, forKey: .url) { self = .url(url) } else { self = .local(try c.decode(String.self, forKey: .local)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .pledge:
            var c = encoder.singleValueContainer()
            try c.encode("pledge")
        case .url(let url):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(url, forKey: .url)
        case .local(let path):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .local)
        }
    }
}

/// vc-processors' `Piece`.
public struct DamoclesPiece: Codable, Sendable, Hashable {
    public var piece_file: DamoclesPieceFile
    public var payload_size: UInt64
    /// Unpadded bytes.
    public var piece_size: UInt64

    public init(piece_file: DamoclesPieceFile, payload_size: UInt64, piece_size: UInt64) {
        self.piece_file = piece_file
        self.payload_size = payload_size
        self.piece_size = piece_size
    }
}

/// `AddPieces` (stage `add_pieces`); its output is `[DamoclesPieceInfo]`. No pieces: a CC
/// sector, which the processor fills with one pledge piece.
public struct DamoclesAddPieces: Codable, Sendable, Hashable {
    public var seal_proof_type: DamoclesSealProof
    public var pieces: [DamoclesPiece]
    public var staged_filepath: String

    public init(seal_proof_type: DamoclesSealProof, pieces: [DamoclesPiece], staged_filepath: String) {
        self.seal_proof_type = seal_proof_type
        self.pieces = pieces
        self.staged_filepath = staged_filepath
    }
}

/// `TreeD` (stage `tree_d`); its output is `true`.
public struct DamoclesTreeD: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var staged_file: String
    public var cache_dir: String

    public init(registered_proof: DamoclesSealProof, staged_file: String, cache_dir: String) {
        self.registered_proof = registered_proof
        self.staged_file = staged_file
        self.cache_dir = cache_dir
    }
}

/// `PC1` (stage `pc1`); its output is a `SealPreCommitPhase1Output` (`DamoclesOpaque`).
public struct DamoclesPC1: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var cache_path: String
    public var in_path: String
    public var out_path: String
    public var prover_id: [UInt8]
    public var sector_id: UInt64
    public var ticket: [UInt8]
    public var piece_infos: [DamoclesPieceInfo]

    public init(registered_proof: DamoclesSealProof, cache_path: String, in_path: String, out_path: String, prover_id: [UInt8],
                sector_id: UInt64, ticket: [UInt8], piece_infos: [DamoclesPieceInfo]) {
        self.registered_proof = registered_proof
        self.cache_path = cache_path
        self.in_path = in_path
        self.out_path = out_path
        self.prover_id = prover_id
        self.sector_id = sector_id
        self.ticket = ticket
        self.piece_infos = piece_infos
    }
}

/// `PC2` (stage `pc2`); its output is `DamoclesPC2Output`.
public struct DamoclesPC2: Codable, Sendable, Hashable {
    public var pc1out: DamoclesOpaque
    public var cache_dir: String
    public var sealed_file: String

    public init(pc1out: DamoclesOpaque, cache_dir: String, sealed_file: String) {
        self.pc1out = pc1out
        self.cache_dir = cache_dir
        self.sealed_file = sealed_file
    }
}

/// filecoin-proofs-api's `SealPreCommitPhase2Output`.
public struct DamoclesPC2Output: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var comm_r: [UInt8]
    public var comm_d: [UInt8]

    public init(registered_proof: DamoclesSealProof, comm_r: [UInt8], comm_d: [UInt8]) {
        self.registered_proof = registered_proof
        self.comm_r = comm_r
        self.comm_d = comm_d
    }
}

/// `C2` (stage `c2`); its output is `DamoclesC2Output`. `miner_id` is the actor id.
public struct DamoclesC2: Codable, Sendable, Hashable {
    public var c1out: DamoclesOpaque
    public var prover_id: [UInt8]
    public var sector_id: UInt64
    public var miner_id: UInt64

    public init(c1out: DamoclesOpaque, prover_id: [UInt8], sector_id: UInt64, miner_id: UInt64) {
        self.c1out = c1out
        self.prover_id = prover_id
        self.sector_id = sector_id
        self.miner_id = miner_id
    }
}

/// filecoin-proofs-api's `SealCommitPhase2Output`.
public struct DamoclesC2Output: Codable, Sendable, Hashable {
    public var proof: [UInt8]

    public init(proof: [UInt8]) { self.proof = proof }
}

/// `SnapEncode` (stage `snap_encode`); its output is `DamoclesSnapEncodeOutput`. `sector_path`
/// and `sector_cache_path` are the old replica (the sector key).
public struct DamoclesSnapEncode: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesUpdateProof
    public var new_replica_path: String
    public var new_cache_path: String
    public var sector_path: String
    public var sector_cache_path: String
    public var staged_data_path: String
    public var piece_infos: [DamoclesPieceInfo]

    public init(registered_proof: DamoclesUpdateProof, new_replica_path: String, new_cache_path: String, sector_path: String,
                sector_cache_path: String, staged_data_path: String, piece_infos: [DamoclesPieceInfo]) {
        self.registered_proof = registered_proof
        self.new_replica_path = new_replica_path
        self.new_cache_path = new_cache_path
        self.sector_path = sector_path
        self.sector_cache_path = sector_cache_path
        self.staged_data_path = staged_data_path
        self.piece_infos = piece_infos
    }
}

/// vc-processors' `SnapEncodeOutput`.
public struct DamoclesSnapEncodeOutput: Codable, Sendable, Hashable {
    public var comm_r_new: [UInt8]
    public var comm_r_last_new: [UInt8]
    public var comm_d_new: [UInt8]

    public init(comm_r_new: [UInt8], comm_r_last_new: [UInt8], comm_d_new: [UInt8]) {
        self.comm_r_new = comm_r_new
        self.comm_r_last_new = comm_r_last_new
        self.comm_d_new = comm_d_new
    }
}

/// `SnapProve` (stage `snap_prove`; damocles' spelling `vannilla_proofs`); its output is the
/// proof bytes (`Vec<u8>`, an array of numbers).
public struct DamoclesSnapProve: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesUpdateProof
    public var vannilla_proofs: [[UInt8]]
    public var comm_r_old: [UInt8]
    public var comm_r_new: [UInt8]
    public var comm_d_new: [UInt8]

    public init(registered_proof: DamoclesUpdateProof, vannilla_proofs: [[UInt8]], comm_r_old: [UInt8], comm_r_new: [UInt8], comm_d_new: [UInt8]) {
        self.registered_proof = registered_proof
        self.vannilla_proofs = vannilla_proofs
        self.comm_r_old = comm_r_old
        self.comm_r_new = comm_r_new
        self.comm_d_new = comm_d_new
    }
}

/// vc-processors' `TransferStoreInfo`.
public struct DamoclesTransferStoreInfo: Codable, Sendable, Hashable {
    public var name: String
    public var meta: [String: String]?

    public init(name: String, meta: [String: String]?) {
        self.name = name
        self.meta = meta
    }

    enum CodingKeys: String, CodingKey { case name, meta }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(meta, forKey: .meta)  // serde writes None as null
    }
}

/// vc-processors' `TransferItem`.
public struct DamoclesTransferItem: Codable, Sendable, Hashable {
    public var store_name: String?
    public var uri: String

    public init(store_name: String?, uri: String) {
        self.store_name = store_name
        self.uri = uri
    }

    enum CodingKeys: String, CodingKey { case store_name, uri }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(store_name, forKey: .store_name)
        try c.encode(uri, forKey: .uri)
    }
}

/// vc-processors' `TransferOption`.
public struct DamoclesTransferOption: Codable, Sendable, Hashable {
    public var is_dir: Bool
    public var allow_link: Bool

    public init(is_dir: Bool, allow_link: Bool) {
        self.is_dir = is_dir
        self.allow_link = allow_link
    }
}

/// vc-processors' `TransferRoute`.
public struct DamoclesTransferRoute: Codable, Sendable, Hashable {
    public var src: DamoclesTransferItem
    public var dest: DamoclesTransferItem
    public var opt: DamoclesTransferOption?

    public init(src: DamoclesTransferItem, dest: DamoclesTransferItem, opt: DamoclesTransferOption?) {
        self.src = src
        self.dest = dest
        self.opt = opt
    }

    enum CodingKeys: String, CodingKey { case src, dest, opt }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(src, forKey: .src)
        try c.encode(dest, forKey: .dest)
        try c.encode(opt, forKey: .opt)
    }
}

/// `Transfer` (stage `transfer`); its output is `true`. The `Prover` boundary has no transfer
/// call, so this daemon never sends one; the type is here for `sealer processor transfer` and
/// the schema.
public struct DamoclesTransfer: Codable, Sendable, Hashable {
    public var stores: [String: DamoclesTransferStoreInfo]
    public var routes: [DamoclesTransferRoute]

    public init(stores: [String: DamoclesTransferStoreInfo], routes: [DamoclesTransferRoute]) {
        self.stores = stores
        self.routes = routes
    }
}

/// vc-processors' `PoStReplicaInfo`.
public struct DamoclesPoStReplicaInfo: Codable, Sendable, Hashable {
    public var sector_id: UInt64
    public var comm_r: [UInt8]
    public var cache_dir: String
    public var sealed_file: String

    public init(sector_id: UInt64, comm_r: [UInt8], cache_dir: String, sealed_file: String) {
        self.sector_id = sector_id
        self.comm_r = comm_r
        self.cache_dir = cache_dir
        self.sealed_file = sealed_file
    }

    public init(_ replica: ReplicaInfo) {
        self.init(sector_id: replica.sector, comm_r: replica.commR, cache_dir: replica.cacheDir, sealed_file: replica.sealedFile)
    }

    /// The boundary's replica info.
    public var replica: ReplicaInfo { ReplicaInfo(sector: sector_id, commR: comm_r, cacheDir: cache_dir, sealedFile: sealed_file) }
}

/// `WindowPoSt` (stage `window_post`); its output is `DamoclesWindowPoStOutput`. `miner_id` is
/// the actor id, `seed` the 32-byte randomness.
public struct DamoclesWindowPoSt: Codable, Sendable, Hashable {
    public var miner_id: UInt64
    public var proof_type: DamoclesPoStProof
    public var replicas: [DamoclesPoStReplicaInfo]
    public var seed: [UInt8]

    public init(miner_id: UInt64, proof_type: DamoclesPoStProof, replicas: [DamoclesPoStReplicaInfo], seed: [UInt8]) {
        self.miner_id = miner_id
        self.proof_type = proof_type
        self.replicas = replicas
        self.seed = seed
    }
}

/// vc-processors' `WindowPoStOutput`: proofs as base64 strings, faulty sector numbers.
public struct DamoclesWindowPoStOutput: Codable, Sendable, Hashable {
    public var proofs: [DamoclesBase64Bytes]
    public var faults: [UInt64]

    public init(proofs: [DamoclesBase64Bytes], faults: [UInt64]) {
        self.proofs = proofs
        self.faults = faults
    }
}

/// `Unseal` (stage `unseal`); its output is the number of unpadded bytes written.
public struct DamoclesUnseal: Codable, Sendable, Hashable {
    public var registered_proof: DamoclesSealProof
    public var prover_id: [UInt8]
    public var sector_id: UInt64
    public var comm_d: [UInt8]
    public var ticket: [UInt8]
    public var cache_dir: String
    public var sealed_file: String
    public var unsealed_output: String
    public var offset: UInt64
    public var num_bytes: UInt64

    public init(registered_proof: DamoclesSealProof, prover_id: [UInt8], sector_id: UInt64, comm_d: [UInt8], ticket: [UInt8],
                cache_dir: String, sealed_file: String, unsealed_output: String, offset: UInt64, num_bytes: UInt64) {
        self.registered_proof = registered_proof
        self.prover_id = prover_id
        self.sector_id = sector_id
        self.comm_d = comm_d
        self.ticket = ticket
        self.cache_dir = cache_dir
        self.sealed_file = sealed_file
        self.unsealed_output = unsealed_output
        self.offset = offset
        self.num_bytes = num_bytes
    }
}

// MARK: - Data commitment

/// filecoin-proofs' `compute_comm_d`: the data commitment of pieces laid out in order, each
/// aligned by zero padding (read at rust-fil-proofs 87348a74, filecoin-proofs/src/pieces.rs).
/// damocles' `tree_d` processor answers only `true`; this is the root its tree has.
public enum DataCommitment {
    /// The commitment, or an error for sizes that are not powers of two when padded.
    public static func compute(sectorSize: SectorSize, pieces: [PieceInfo]) throws(DamoclesPayloadError) -> [UInt8] {
        if pieces.isEmpty { return ZeroCommitment.of(padded: sectorSize.bytes) }
        var stack: [(commitment: [UInt8], padded: UInt64)] = []
        func reduce() {
            while stack.count >= 2, stack[stack.count - 1].padded == stack[stack.count - 2].padded {
                let right = stack.removeLast(), left = stack.removeLast()
                stack.append((ZeroCommitment.node(left.commitment, right.commitment), left.padded * 2))
            }
        }
        var total: UInt64 = 0
        for (index, piece) in pieces.enumerated() {
            let padded = piece.paddedSize
            guard padded >= 128, padded & (padded - 1) == 0 else {
                throw DamoclesPayloadError(field: "piece_infos[\(index)].size", message: "padded size \(padded) is not a power of two")
            }
            total += padded
            guard piece.commP.count == 32 else {
                throw DamoclesPayloadError(field: "piece_infos[\(index)].commitment", message: "\(piece.commP.count) bytes, want 32")
            }
            if !stack.isEmpty {
                while let top = stack.last, top.padded < padded {
                    stack.append((ZeroCommitment.of(padded: top.padded), top.padded))
                    reduce()
                }
            }
            stack.append((piece.commP, padded))
            reduce()
        }
        guard total <= sectorSize.bytes else {
            throw DamoclesPayloadError(field: "piece_infos", message: "pieces (\(total) padded bytes) exceed the \(sectorSize) sector")
        }
        while stack.count > 1, let top = stack.last {
            stack.append((ZeroCommitment.of(padded: top.padded), top.padded))
            reduce()
        }
        return stack[0].commitment
    }
}
