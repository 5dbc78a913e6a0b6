import CFilcrypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// filecoin-ffi's libfilcrypto, loaded at run time. The C ABI is declared in CFilcrypto
// (cfilcrypto.h names the filecoin-ffi commit it was written from); this file opens the library
// and resolves its symbols, FilCryptoCalls.swift wraps each call.

/// A loaded `libfilcrypto.so` (filecoin-ffi >= v1.34.0) with every symbol sealer calls resolved.
///
/// Load it with `FilCrypto.load(path:)`; each wrapper then takes and returns Swift values, hands
/// every response back to its `destroy_*` exactly once, and turns a non-zero `status_code` into
/// a `FilCryptoError` carrying the library's `error_msg`.
///
/// The library is never unloaded: filecoin-ffi starts worker threads (rayon, GPU) that would run
/// unmapped code after a `dlclose`, so a loaded library stays for the life of the process.
public final class FilCrypto: Sendable {
    /// The environment variable naming the library when no path is given.
    public static let libraryVariable = "FIL_PROOFS_LIBRARY"
    /// The name handed to the dynamic loader's search path when neither a path nor the variable is set.
    public static let defaultLibraryName = "libfilcrypto.so"

    /// What was opened: the given path, `$FIL_PROOFS_LIBRARY`, or `libfilcrypto.so`.
    public let path: String
    let symbols: Symbols

    private init(path: String, symbols: Symbols) {
        self.path = path
        self.symbols = symbols
    }

    /// The path `load` opens: `path` when given, else `$FIL_PROOFS_LIBRARY` when set and not
    /// empty, else `libfilcrypto.so` (found by the loader's search path).
    public static func libraryPath(_ path: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path, !path.isEmpty { return path }
        if let named = environment[libraryVariable], !named.isEmpty { return named }
        return defaultLibraryName
    }

    /// Opens the library (see `libraryPath`) and resolves every symbol in `symbolNames`.
    ///
    /// Throws `FilCryptoLoadError` naming the path and either the loader's reason or every
    /// missing symbol (a filecoin-ffi older than the ABI bound here); it never crashes.
    public static func load(path: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(FilCryptoLoadError) -> FilCrypto {
        let resolved = libraryPath(path, environment: environment)
        guard let handle = dlopen(resolved, RTLD_NOW | RTLD_LOCAL) else {
            throw FilCryptoLoadError(path: resolved, reason: .cannotOpen(lastLoaderError() ?? "dlopen failed"))
        }
        var resolver = SymbolResolver(handle: handle)
        let symbols = Symbols(&resolver)
        guard resolver.missing.isEmpty else {
            // The handle stays open (see the type's comment); the resolver's placeholders are dropped with `symbols`.
            throw FilCryptoLoadError(path: resolved, reason: .missingSymbols(resolver.missing))
        }
        return FilCrypto(path: resolved, symbols: symbols)
    }

    /// Every libfilcrypto symbol the wrappers call, in the order `load` resolves them.
    public static var symbolNames: [String] { Symbols.names }

    private static func lastLoaderError() -> String? {
        guard let message = dlerror() else { return nil }
        return String(cString: message)
    }
}

/// Why `FilCrypto.load` could not give a usable library.
public struct FilCryptoLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// `dlopen` failed; the loader's message (no such file, wrong ELF class, missing dependency).
        case cannotOpen(String)
        /// The library opened but lacks these symbols: a filecoin-ffi older (or newer) than the ABI bound here.
        case missingSymbols([String])
    }

    /// The path (or bare name) that was opened.
    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .cannotOpen(let message):
            "cannot load filecoin-ffi library \(path): \(message)"
        case .missingSymbols(let names):
            "filecoin-ffi library \(path) lacks \(names.count == 1 ? "symbol" : "symbols") \(names.joined(separator: ", ")) "
                + "(sealer needs filecoin-ffi v1.34.0 or later)"
        }
    }
}

/// A libfilcrypto call that failed, or that sealer refused before calling.
///
/// `kind` is what a scheduler needs: `.permanent` when the library blamed its caller
/// (`FCPResponseStatus` 2, or an argument sealer rejected before the call), so retrying the same
/// call cannot help; `.temporary` for everything else (unclassified or receiver errors, a null
/// response), which may succeed on another try.
public struct FilCryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case permanent
        case temporary
    }

    /// The libfilcrypto function, e.g. `seal_pre_commit_phase1`.
    public var call: String
    public var kind: Kind
    /// The response's `status_code` (1 unclassified, 2 caller, 3 receiver); 2 for a local argument check.
    public var status: Int32
    /// The library's `error_msg`, or sealer's own reason.
    public var message: String
    /// Window PoSt only: the sectors the library reported faulty.
    public var faultySectors: [UInt64]

    /// `FCPResponseStatus` values.
    public static let unclassifiedError: Int32 = 1
    public static let callerError: Int32 = 2
    public static let receiverError: Int32 = 3

    public init(call: String, status: Int32, message: String, faultySectors: [UInt64] = []) {
        self.call = call
        self.status = status
        self.kind = status == Self.callerError ? .permanent : .temporary
        self.message = message
        self.faultySectors = faultySectors
    }

    public var description: String {
        var text = "\(call) failed (\(kind == .permanent ? "permanent" : "temporary"), status \(status)): \(message)"
        if !faultySectors.isEmpty { text += "; faulty sectors: " + faultySectors.map(String.init).joined(separator: ", ") }
        return text
    }
}

/// Resolves symbols by name, remembering the ones the library lacks.
struct SymbolResolver {
    let handle: UnsafeMutableRawPointer
    var missing: [String] = []

    /// The symbol as a C function pointer of type `T`. A missing one is recorded and answered with
    /// a placeholder that is never called: `FilCrypto.load` throws before any `Symbols` holding
    /// one escapes.
    mutating func get<T>(_ name: String, _ type: T.Type = T.self) -> T {
        if let address = dlsym(handle, name) { return unsafeBitCast(address, to: T.self) }
        missing.append(name)
        return unsafeBitCast(SymbolResolver.placeholder, to: T.self)
    }

    private static let placeholder: @convention(c) () -> Void = {}
}

/// Every function sealer calls, resolved once at load. Immutable C function pointers into a
/// library that stays loaded; filecoin-ffi's calls are safe from any thread (lotus and curio
/// call them concurrently from goroutines), so sharing these across tasks is sound.
struct Symbols: Sendable {
    let generatePieceCommitment: cfil_generate_piece_commitment_fn
    let destroyPieceCommitment: cfil_destroy_piece_commitment_fn
    let generateDataCommitment: cfil_generate_data_commitment_fn
    let destroyDataCommitment: cfil_destroy_array32_fn
    let writeWithAlignment: cfil_write_with_alignment_fn
    let destroyWriteWithAlignment: cfil_destroy_write_with_alignment_fn
    let writeWithoutAlignment: cfil_write_without_alignment_fn
    let destroyWriteWithoutAlignment: cfil_destroy_write_without_alignment_fn
    let sealPreCommitPhase1: cfil_seal_pre_commit_phase1_fn
    let destroySealPreCommitPhase1: cfil_destroy_bytes_fn
    let sealPreCommitPhase2: cfil_seal_pre_commit_phase2_fn
    let destroySealPreCommitPhase2: cfil_destroy_pre_commit_phase2_fn
    let generateSynthProofs: cfil_generate_synth_proofs_fn
    let destroyGenerateSynthProofs: cfil_destroy_void_fn
    let sealCommitPhase1: cfil_seal_commit_phase1_fn
    let destroySealCommitPhase1: cfil_destroy_bytes_fn
    let sealCommitPhase2: cfil_seal_commit_phase2_fn
    let destroySealCommitPhase2: cfil_destroy_bytes_fn
    let verifySeal: cfil_verify_seal_fn
    let destroyVerifySeal: cfil_destroy_bool_fn
    let unsealRange: cfil_unseal_range_fn
    let destroyUnsealRange: cfil_destroy_void_fn
    let clearCache: cfil_clear_cache_fn
    let destroyClearCache: cfil_destroy_void_fn
    let generateWindowPoSt: cfil_generate_window_post_fn
    let generateWindowPoStWithVanilla: cfil_generate_window_post_with_vanilla_fn
    let destroyGenerateWindowPoSt: cfil_destroy_window_post_fn
    let generateFallbackSectorChallenges: cfil_generate_fallback_sector_challenges_fn
    let destroyFallbackSectorChallenges: cfil_destroy_fallback_challenges_fn
    let generateSingleVanillaProof: cfil_generate_single_vanilla_proof_fn
    let destroySingleVanillaProof: cfil_destroy_bytes_fn
    let verifyWindowPoSt: cfil_verify_window_post_fn
    let destroyVerifyWindowPoSt: cfil_destroy_bool_fn
    let emptySectorUpdateEncodeInto: cfil_empty_sector_update_encode_into_fn
    let destroyEmptySectorUpdateEncodeInto: cfil_destroy_encode_into_fn
    let generateEmptySectorUpdatePartitionProofs: cfil_generate_empty_sector_update_partition_proofs_fn
    let destroyEmptySectorUpdatePartitionProofs: cfil_destroy_byte_lists_fn
    let generateEmptySectorUpdateProofWithVanilla: cfil_generate_empty_sector_update_proof_with_vanilla_fn
    let generateEmptySectorUpdateProof: cfil_generate_empty_sector_update_proof_fn
    let destroyEmptySectorUpdateGenerateProof: cfil_destroy_bytes_fn
    let verifyEmptySectorUpdateProof: cfil_verify_empty_sector_update_proof_fn
    let destroyEmptySectorUpdateVerifyProof: cfil_destroy_bool_fn
    let getGPUDevices: cfil_get_gpu_devices_fn
    let destroyGPUDevices: cfil_destroy_byte_lists_fn

    static let names = [
        "generate_piece_commitment", "destroy_generate_piece_commitment_response",
        "generate_data_commitment", "destroy_generate_data_commitment_response",
        "write_with_alignment", "destroy_write_with_alignment_response",
        "write_without_alignment", "destroy_write_without_alignment_response",
        "seal_pre_commit_phase1", "destroy_seal_pre_commit_phase1_response",
        "seal_pre_commit_phase2", "destroy_seal_pre_commit_phase2_response",
        "generate_synth_proofs", "destroy_generate_synth_proofs_response",
        "seal_commit_phase1", "destroy_seal_commit_phase1_response",
        "seal_commit_phase2", "destroy_seal_commit_phase2_response",
        "verify_seal", "destroy_verify_seal_response",
        "unseal_range", "destroy_unseal_range_response",
        "clear_cache", "destroy_clear_cache_response",
        "generate_window_post", "generate_window_post_with_vanilla", "destroy_generate_window_post_response",
        "generate_fallback_sector_challenges", "destroy_generate_fallback_sector_challenges_response",
        "generate_single_vanilla_proof", "destroy_generate_single_vanilla_proof_response",
        "verify_window_post", "destroy_verify_window_post_response",
        "empty_sector_update_encode_into", "destroy_empty_sector_update_encode_into_response",
        "generate_empty_sector_update_partition_proofs", "destroy_generate_empty_sector_update_partition_proof_response",
        "generate_empty_sector_update_proof_with_vanilla", "generate_empty_sector_update_proof",
        "destroy_empty_sector_update_generate_proof_response",
        "verify_empty_sector_update_proof", "destroy_empty_sector_update_verify_proof_response",
        "get_gpu_devices", "destroy_gpu_device_response",
    ]

    /// Resolves `names`, in that order (the initializer below must follow the same list).
    init(_ r: inout SymbolResolver) {
        generatePieceCommitment = r.get("generate_piece_commitment")
        destroyPieceCommitment = r.get("destroy_generate_piece_commitment_response")
        generateDataCommitment = r.get("generate_data_commitment")
        destroyDataCommitment = r.get("destroy_generate_data_commitment_response")
        writeWithAlignment = r.get("write_with_alignment")
        destroyWriteWithAlignment = r.get("destroy_write_with_alignment_response")
        writeWithoutAlignment = r.get("write_without_alignment")
        destroyWriteWithoutAlignment = r.get("destroy_write_without_alignment_response")
        sealPreCommitPhase1 = r.get("seal_pre_commit_phase1")
        destroySealPreCommitPhase1 = r.get("destroy_seal_pre_commit_phase1_response")
        sealPreCommitPhase2 = r.get("seal_pre_commit_phase2")
        destroySealPreCommitPhase2 = r.get("destroy_seal_pre_commit_phase2_response")
        generateSynthProofs = r.get("generate_synth_proofs")
        destroyGenerateSynthProofs = r.get("destroy_generate_synth_proofs_response")
        sealCommitPhase1 = r.get("seal_commit_phase1")
        destroySealCommitPhase1 = r.get("destroy_seal_commit_phase1_response")
        sealCommitPhase2 = r.get("seal_commit_phase2")
        destroySealCommitPhase2 = r.get("destroy_seal_commit_phase2_response")
        verifySeal = r.get("verify_seal")
        destroyVerifySeal = r.get("destroy_verify_seal_response")
        unsealRange = r.get("unseal_range")
        destroyUnsealRange = r.get("destroy_unseal_range_response")
        clearCache = r.get("clear_cache")
        destroyClearCache = r.get("destroy_clear_cache_response")
        generateWindowPoSt = r.get("generate_window_post")
        generateWindowPoStWithVanilla = r.get("generate_window_post_with_vanilla")
        destroyGenerateWindowPoSt = r.get("destroy_generate_window_post_response")
        generateFallbackSectorChallenges = r.get("generate_fallback_sector_challenges")
        destroyFallbackSectorChallenges = r.get("destroy_generate_fallback_sector_challenges_response")
        generateSingleVanillaProof = r.get("generate_single_vanilla_proof")
        destroySingleVanillaProof = r.get("destroy_generate_single_vanilla_proof_response")
        verifyWindowPoSt = r.get("verify_window_post")
        destroyVerifyWindowPoSt = r.get("destroy_verify_window_post_response")
        emptySectorUpdateEncodeInto = r.get("empty_sector_update_encode_into")
        destroyEmptySectorUpdateEncodeInto = r.get("destroy_empty_sector_update_encode_into_response")
        generateEmptySectorUpdatePartitionProofs = r.get("generate_empty_sector_update_partition_proofs")
        destroyEmptySectorUpdatePartitionProofs = r.get("destroy_generate_empty_sector_update_partition_proof_response")
        generateEmptySectorUpdateProofWithVanilla = r.get("generate_empty_sector_update_proof_with_vanilla")
        generateEmptySectorUpdateProof = r.get("generate_empty_sector_update_proof")
        destroyEmptySectorUpdateGenerateProof = r.get("destroy_empty_sector_update_generate_proof_response")
        verifyEmptySectorUpdateProof = r.get("verify_empty_sector_update_proof")
        destroyEmptySectorUpdateVerifyProof = r.get("destroy_empty_sector_update_verify_proof_response")
        getGPUDevices = r.get("get_gpu_devices")
        destroyGPUDevices = r.get("destroy_gpu_device_response")
    }
}
