import ProofsFFI

/// The JSON shape of one value in damocles' task payloads, as serde reads it (damocles
/// 4235a895 `vc-processors/src/builtin/tasks.rs`, filecoin-proofs-api 18.1.0). Used by the
/// validating fake processor to check, field by field, what the daemon sends.
public indirect enum DamoclesShape: Sendable {
    /// An unsigned 64-bit number (`u64`, `SectorId`, `ActorID`, `UnpaddedBytesAmount`, …).
    case u64
    /// `[u8; 32]`: an array of exactly 32 numbers 0-255.
    case bytes32
    /// `Vec<u8>`: an array of numbers 0-255.
    case bytes
    /// A string (`String`, `PathBuf`).
    case string
    case bool
    /// `RegisteredSealProof` / `RegisteredPoStProof` / `RegisteredUpdateProof` by variant name.
    case sealProof, postProof, updateProof
    /// vc-processors' `PieceFile`: `"pledge"`, `{"url":…}` or `{"local":…}`.
    case pieceFile
    /// Any JSON value (nested proof internals this schema does not spell out).
    case any
    case array(DamoclesShape)
    /// `Option<T>`: null or the value.
    case optional(DamoclesShape)
    /// `HashMap<String, T>`.
    case map(DamoclesShape)
    /// A struct: exactly these fields.
    case object([(String, DamoclesShape)])

    static let pieceInfo = DamoclesShape.object([("commitment", .bytes32), ("size", .u64)])

    /// filecoin-proofs-api's `SealPreCommitPhase1Output` (`labels` and `config` unchecked inside).
    static let pc1Output = DamoclesShape.object([("registered_proof", .sealProof), ("labels", .any), ("config", .any), ("comm_d", .bytes32)])

    /// filecoin-proofs-api's `SealCommitPhase1Output` (`vanilla_proofs`, `replica_id` unchecked inside).
    static let c1Output = DamoclesShape.object([
        ("registered_proof", .sealProof), ("vanilla_proofs", .any), ("comm_r", .bytes32), ("comm_d", .bytes32),
        ("replica_id", .any), ("seed", .bytes32), ("ticket", .bytes32),
    ])

    /// The task a damocles processor for `stage` (`add_pieces`, `tree_d`, `pc1`, `pc2`, `c2`,
    /// `snap_encode`, `snap_prove`, `transfer`, `window_post`, `unseal`) reads; nil for others.
    public static func task(stage: String) -> DamoclesShape? {
        switch stage {
        case "add_pieces":
            return .object([("seal_proof_type", .sealProof),
                            ("pieces", .array(.object([("piece_file", .pieceFile), ("payload_size", .u64), ("piece_size", .u64)]))),
                            ("staged_filepath", .string)])
        case "tree_d":
            return .object([("registered_proof", .sealProof), ("staged_file", .string), ("cache_dir", .string)])
        case "pc1":
            return .object([("registered_proof", .sealProof), ("cache_path", .string), ("in_path", .string), ("out_path", .string),
                            ("prover_id", .bytes32), ("sector_id", .u64), ("ticket", .bytes32), ("piece_infos", .array(pieceInfo))])
        case "pc2":
            return .object([("pc1out", pc1Output), ("cache_dir", .string), ("sealed_file", .string)])
        case "c2":
            return .object([("c1out", c1Output), ("prover_id", .bytes32), ("sector_id", .u64), ("miner_id", .u64)])
        case "snap_encode":
            return .object([("registered_proof", .updateProof), ("new_replica_path", .string), ("new_cache_path", .string),
                            ("sector_path", .string), ("sector_cache_path", .string), ("staged_data_path", .string),
                            ("piece_infos", .array(pieceInfo))])
        case "snap_prove":
            return .object([("registered_proof", .updateProof), ("vannilla_proofs", .array(.bytes)), ("comm_r_old", .bytes32),
                            ("comm_r_new", .bytes32), ("comm_d_new", .bytes32)])
        case "transfer":
            let item = DamoclesShape.object([("store_name", .optional(.string)), ("uri", .string)])
            return .object([("stores", .map(.object([("name", .string), ("meta", .optional(.map(.string)))]))),
                            ("routes", .array(.object([("src", item), ("dest", item),
                                                       ("opt", .optional(.object([("is_dir", .bool), ("allow_link", .bool)])))])))])
        case "window_post":
            return .object([("miner_id", .u64), ("proof_type", .postProof),
                            ("replicas", .array(.object([("sector_id", .u64), ("comm_r", .bytes32), ("cache_dir", .string), ("sealed_file", .string)]))),
                            ("seed", .bytes32)])
        case "unseal":
            return .object([("registered_proof", .sealProof), ("prover_id", .bytes32), ("sector_id", .u64), ("comm_d", .bytes32),
                            ("ticket", .bytes32), ("cache_dir", .string), ("sealed_file", .string), ("unsealed_output", .string),
                            ("offset", .u64), ("num_bytes", .u64)])
        default:
            return supraTask(stage: stage)
        }
    }

    /// The first way `value` (at `path`, e.g. `task`) differs from this shape: a missing,
    /// unexpected or mistyped field, named by its dotted path. nil when it conforms.
    public func mismatch(_ value: JSONValue, at path: String) -> DamoclesPayloadError? {
        func wrong(_ want: String) -> DamoclesPayloadError {
            DamoclesPayloadError(field: path, message: "expected \(want), got \(String(value.serializedString.prefix(60)))")
        }
        // serde's u64 takes integer literals only (no `1.0`); above Int64.max the parser keeps a double.
        func unsigned(_ value: JSONValue) -> UInt64? {
            switch value {
            case .int(let i): return i >= 0 ? UInt64(i) : nil
            case .double(let d): return d >= 9_223_372_036_854_775_808 ? UInt64(exactly: d) : nil
            default: return nil
            }
        }
        func byteArray(count: Int?) -> DamoclesPayloadError? {
            guard let items = value.arrayValue else { return wrong(count.map { "an array of \($0) numbers 0-255" } ?? "an array of numbers 0-255") }
            if let count, items.count != count {
                return DamoclesPayloadError(field: path, message: "expected \(count) bytes, got \(items.count)")
            }
            for (i, item) in items.enumerated() {
                guard let n = unsigned(item), n <= 255 else {
                    return DamoclesPayloadError(field: "\(path)[\(i)]", message: "expected a number 0-255, got \(item.serializedString.prefix(30))")
                }
            }
            return nil
        }
        switch self {
        case .u64:
            guard unsigned(value) != nil else { return wrong("an unsigned 64-bit number") }
            return nil
        case .bytes32:
            return byteArray(count: 32)
        case .bytes:
            return byteArray(count: nil)
        case .string:
            return value.stringValue == nil ? wrong("a string") : nil
        case .bool:
            return value.boolValue == nil ? wrong("true or false") : nil
        case .sealProof:
            guard let name = value.stringValue, DamoclesSealProof(name: name) != nil else { return wrong("a RegisteredSealProof name") }
            return nil
        case .postProof:
            guard let name = value.stringValue, PoStProof.allProofs.contains(where: { $0.name == name }) else {
                return wrong("a RegisteredPoStProof name")
            }
            return nil
        case .updateProof:
            guard let name = value.stringValue, SectorSize.allCases.contains(where: { "StackedDrg\($0)V1" == name }) else {
                return wrong("a RegisteredUpdateProof name")
            }
            return nil
        case .pieceFile:
            if value.stringValue == "pledge" { return nil }
            guard let fields = value.objectValue, fields.count == 1, let (key, inner) = fields.first, key == "url" || key == "local" else {
                return wrong("\"pledge\", {\"url\":…} or {\"local\":…}")
            }
            return DamoclesShape.string.mismatch(inner, at: "\(path).\(key)")
        case .any:
            return nil
        case .array(let element):
            guard let items = value.arrayValue else { return wrong("an array") }
            for (i, item) in items.enumerated() {
                if let error = element.mismatch(item, at: "\(path)[\(i)]") { return error }
            }
            return nil
        case .optional(let inner):
            return value.isNull ? nil : inner.mismatch(value, at: path)
        case .map(let inner):
            guard let fields = value.objectValue else { return wrong("an object") }
            for key in fields.keys.sorted() {
                if let error = inner.mismatch(fields[key] ?? .null, at: "\(path).\(key)") { return error }
            }
            return nil
        case .object(let spec):
            guard let fields = value.objectValue else { return wrong("an object") }
            for (name, shape) in spec {
                guard let field = fields[name] else {
                    // serde reads a missing `Option` field as None.
                    if case .optional = shape { continue }
                    return DamoclesPayloadError(field: "\(path).\(name)", message: "missing")
                }
                if let error = shape.mismatch(field, at: "\(path).\(name)") { return error }
            }
            let known = Set(spec.map(\.0))
            if let extra = fields.keys.sorted().first(where: { !known.contains($0) }) {
                return DamoclesPayloadError(field: "\(path).\(extra)", message: "unexpected (damocles' \(path) has no such field)")
            }
            return nil
        }
    }
}
