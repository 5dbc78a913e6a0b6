#ifndef SEALER_CFILCRYPTO_H
#define SEALER_CFILCRYPTO_H

// The C ABI of filecoin-ffi's libfilcrypto, as far as sealer calls it.
//
// Written from the facts of filecoin-ffi v1.36.1 (github.com/filecoin-project/filecoin-ffi,
// commit de13e6489d1b54ceda04b13574ef01f57bda1875: rust/src/proofs/api.rs, rust/src/proofs/types.rs,
// rust/src/util/api.rs, rust/src/util/types.rs) and checked against the safer_ffi-generated
// `filcrypto.h` committed in github.com/strahe/filecoin-ffi-panic (commit
// 9f5454c1ecbd266d6ea0313525d11845c1113a0d), which matches v1.36.1 except `clear_cache`: that
// lost its leading `sector_size` argument in filecoin-ffi v1.34.0 (commit d5fdfdb). So this ABI
// is the one of filecoin-ffi >= v1.34.0; an older library loads only if it has every symbol, and
// then `clear_cache` would be called with the wrong arguments (see README, "Real proofs").
//
// The layouts are safer_ffi's: `slice_*` is {pointer, length}, every response is a heap `Result_*`
// {status_code, error_msg, value} that the caller hands back to its `destroy_*` exactly once.
// sealer never links these symbols: it resolves them with dlsym into the `cfil_*_fn` pointers
// below. Only declarations live here (plus two inline helpers Swift cannot write as neatly).

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Enums (all with the ABI of int32_t)

/// FCPResponseStatus: 0 no error, 1 unclassified, 2 caller error, 3 receiver error.
typedef int32_t FCPResponseStatus_t;
enum {
    FCP_RESPONSE_STATUS_NO_ERROR = 0,
    FCP_RESPONSE_STATUS_UNCLASSIFIED_ERROR = 1,
    FCP_RESPONSE_STATUS_CALLER_ERROR = 2,
    FCP_RESPONSE_STATUS_RECEIVER_ERROR = 3,
};

/// RegisteredSealProof: sizes 2KiB, 8MiB, 512MiB, 32GiB, 64GiB in that order within each group
/// of five: 0-4 StackedDrg V1, 5-9 V1_1, 10-14 V1_1 + SyntheticPoRep, 15-19 V1_2 + NI-PoRep.
typedef int32_t RegisteredSealProof_t;
enum {
    REGISTERED_SEAL_PROOF_STACKED_DRG_2KIB_V1 = 0,
    REGISTERED_SEAL_PROOF_STACKED_DRG_8MIB_V1 = 1,
    REGISTERED_SEAL_PROOF_STACKED_DRG_512MIB_V1 = 2,
    REGISTERED_SEAL_PROOF_STACKED_DRG_32GIB_V1 = 3,
    REGISTERED_SEAL_PROOF_STACKED_DRG_64GIB_V1 = 4,
    REGISTERED_SEAL_PROOF_STACKED_DRG_2KIB_V1_1 = 5,
    REGISTERED_SEAL_PROOF_STACKED_DRG_8MIB_V1_1 = 6,
    REGISTERED_SEAL_PROOF_STACKED_DRG_512MIB_V1_1 = 7,
    REGISTERED_SEAL_PROOF_STACKED_DRG_32GIB_V1_1 = 8,
    REGISTERED_SEAL_PROOF_STACKED_DRG_64GIB_V1_1 = 9,
    REGISTERED_SEAL_PROOF_STACKED_DRG_2KIB_V1_1_SYNTHETIC_POREP = 10,
    REGISTERED_SEAL_PROOF_STACKED_DRG_8MIB_V1_1_SYNTHETIC_POREP = 11,
    REGISTERED_SEAL_PROOF_STACKED_DRG_512MIB_V1_1_SYNTHETIC_POREP = 12,
    REGISTERED_SEAL_PROOF_STACKED_DRG_32GIB_V1_1_SYNTHETIC_POREP = 13,
    REGISTERED_SEAL_PROOF_STACKED_DRG_64GIB_V1_1_SYNTHETIC_POREP = 14,
    REGISTERED_SEAL_PROOF_STACKED_DRG_2KIB_V1_2_NON_INTERACTIVE_POREP = 15,
    REGISTERED_SEAL_PROOF_STACKED_DRG_8MIB_V1_2_NON_INTERACTIVE_POREP = 16,
    REGISTERED_SEAL_PROOF_STACKED_DRG_512MIB_V1_2_NON_INTERACTIVE_POREP = 17,
    REGISTERED_SEAL_PROOF_STACKED_DRG_32GIB_V1_2_NON_INTERACTIVE_POREP = 18,
    REGISTERED_SEAL_PROOF_STACKED_DRG_64GIB_V1_2_NON_INTERACTIVE_POREP = 19,
    REGISTERED_SEAL_PROOF_COUNT = 20,
};

/// RegisteredPoStProof: 0-4 Winning V1, 5-9 Window V1, 10-14 Window V1_1 (sizes as above).
typedef int32_t RegisteredPoStProof_t;
enum {
    REGISTERED_POST_PROOF_STACKED_DRG_WINNING_2KIB_V1 = 0,
    REGISTERED_POST_PROOF_STACKED_DRG_WINNING_8MIB_V1 = 1,
    REGISTERED_POST_PROOF_STACKED_DRG_WINNING_512MIB_V1 = 2,
    REGISTERED_POST_PROOF_STACKED_DRG_WINNING_32GIB_V1 = 3,
    REGISTERED_POST_PROOF_STACKED_DRG_WINNING_64GIB_V1 = 4,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_2KIB_V1 = 5,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_8MIB_V1 = 6,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_512MIB_V1 = 7,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_32GIB_V1 = 8,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_64GIB_V1 = 9,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_2KIB_V1_1 = 10,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_8MIB_V1_1 = 11,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_512MIB_V1_1 = 12,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_32GIB_V1_1 = 13,
    REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_64GIB_V1_1 = 14,
    REGISTERED_POST_PROOF_COUNT = 15,
};

/// RegisteredUpdateProof (SnapDeals): 0-4 StackedDrg V1, sizes as above.
typedef int32_t RegisteredUpdateProof_t;
enum {
    REGISTERED_UPDATE_PROOF_STACKED_DRG_2KIB_V1 = 0,
    REGISTERED_UPDATE_PROOF_STACKED_DRG_8MIB_V1 = 1,
    REGISTERED_UPDATE_PROOF_STACKED_DRG_512MIB_V1 = 2,
    REGISTERED_UPDATE_PROOF_STACKED_DRG_32GIB_V1 = 3,
    REGISTERED_UPDATE_PROOF_STACKED_DRG_64GIB_V1 = 4,
    REGISTERED_UPDATE_PROOF_COUNT = 5,
};

// MARK: - Slices and fixed arrays

typedef struct { uint8_t idx[32]; } uint8_32_array_t;

/// `&[u8]`: borrowed bytes (paths are UTF-8 bytes without a terminating NUL).
typedef struct slice_ref_uint8 { uint8_t const *ptr; size_t len; } slice_ref_uint8_t;
/// `Box<[u8]>`: owned bytes, freed with the response that holds them.
typedef struct slice_boxed_uint8 { uint8_t *ptr; size_t len; } slice_boxed_uint8_t;
typedef struct slice_ref_uint64 { uint64_t const *ptr; size_t len; } slice_ref_uint64_t;
typedef struct slice_boxed_uint64 { uint64_t *ptr; size_t len; } slice_boxed_uint64_t;
typedef struct slice_boxed_slice_boxed_uint64 { slice_boxed_uint64_t *ptr; size_t len; } slice_boxed_slice_boxed_uint64_t;
typedef struct slice_boxed_slice_boxed_uint8 { slice_boxed_uint8_t *ptr; size_t len; } slice_boxed_slice_boxed_uint8_t;
typedef struct slice_ref_slice_boxed_uint8 { slice_boxed_uint8_t const *ptr; size_t len; } slice_ref_slice_boxed_uint8_t;

// MARK: - Argument structs

typedef struct PublicPieceInfo {
    uint64_t num_bytes;        // unpadded piece size
    uint8_32_array_t comm_p;
} PublicPieceInfo_t;
typedef struct slice_ref_PublicPieceInfo { PublicPieceInfo_t const *ptr; size_t len; } slice_ref_PublicPieceInfo_t;

typedef struct PrivateReplicaInfo {
    RegisteredPoStProof_t registered_proof;
    slice_boxed_uint8_t cache_dir_path;
    uint8_32_array_t comm_r;
    slice_boxed_uint8_t replica_path;
    uint64_t sector_id;
} PrivateReplicaInfo_t;
typedef struct slice_ref_PrivateReplicaInfo { PrivateReplicaInfo_t const *ptr; size_t len; } slice_ref_PrivateReplicaInfo_t;

typedef struct PublicReplicaInfo {
    RegisteredPoStProof_t registered_proof;
    uint8_32_array_t comm_r;
    uint64_t sector_id;
} PublicReplicaInfo_t;
typedef struct slice_ref_PublicReplicaInfo { PublicReplicaInfo_t const *ptr; size_t len; } slice_ref_PublicReplicaInfo_t;

typedef struct PoStProof {
    RegisteredPoStProof_t registered_proof;
    slice_boxed_uint8_t proof;
} PoStProof_t;
typedef struct slice_boxed_PoStProof { PoStProof_t *ptr; size_t len; } slice_boxed_PoStProof_t;
typedef struct slice_ref_PoStProof { PoStProof_t const *ptr; size_t len; } slice_ref_PoStProof_t;

// MARK: - Response values

typedef struct GeneratePieceCommitment {
    uint8_32_array_t comm_p;
    uint64_t num_bytes_aligned;
} GeneratePieceCommitment_t;

typedef struct WriteWithAlignment {
    uint8_32_array_t comm_p;
    uint64_t left_alignment_unpadded;
    uint64_t total_write_unpadded;
} WriteWithAlignment_t;

typedef struct WriteWithoutAlignment {
    uint8_32_array_t comm_p;
    uint64_t total_write_unpadded;
} WriteWithoutAlignment_t;

typedef struct SealPreCommitPhase2 {
    RegisteredSealProof_t registered_proof;
    uint8_32_array_t comm_d;
    uint8_32_array_t comm_r;
} SealPreCommitPhase2_t;

typedef struct GenerateWindowPoSt {
    slice_boxed_PoStProof_t proofs;
    slice_boxed_uint64_t faulty_sectors;
} GenerateWindowPoSt_t;

/// Sector ids (ascending: the library collects them in a BTreeMap) and, at the same index, each
/// sector's challenges.
typedef struct GenerateFallbackSectorChallenges {
    slice_boxed_uint64_t ids;
    slice_boxed_slice_boxed_uint64_t challenges;
} GenerateFallbackSectorChallenges_t;

typedef struct EmptySectorUpdateEncodeInto {
    uint8_32_array_t comm_r_new;
    uint8_32_array_t comm_r_last_new;
    uint8_32_array_t comm_d_new;
} EmptySectorUpdateEncodeInto_t;

// MARK: - Responses (safer_ffi's Result<T>)

typedef struct Result_void {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
} Result_void_t;

typedef struct Result_bool {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    bool value;
} Result_bool_t;

typedef struct Result_uint8_32_array {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    uint8_32_array_t value;
} Result_uint8_32_array_t;

typedef struct Result_slice_boxed_uint8 {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    slice_boxed_uint8_t value;
} Result_slice_boxed_uint8_t;

typedef struct Result_slice_boxed_slice_boxed_uint8 {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    slice_boxed_slice_boxed_uint8_t value;
} Result_slice_boxed_slice_boxed_uint8_t;

typedef struct Result_GeneratePieceCommitment {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    GeneratePieceCommitment_t value;
} Result_GeneratePieceCommitment_t;

typedef struct Result_WriteWithAlignment {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    WriteWithAlignment_t value;
} Result_WriteWithAlignment_t;

typedef struct Result_WriteWithoutAlignment {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    WriteWithoutAlignment_t value;
} Result_WriteWithoutAlignment_t;

typedef struct Result_SealPreCommitPhase2 {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    SealPreCommitPhase2_t value;
} Result_SealPreCommitPhase2_t;

typedef struct Result_GenerateWindowPoSt {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    GenerateWindowPoSt_t value;
} Result_GenerateWindowPoSt_t;

typedef struct Result_GenerateFallbackSectorChallenges {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    GenerateFallbackSectorChallenges_t value;
} Result_GenerateFallbackSectorChallenges_t;

typedef struct Result_EmptySectorUpdateEncodeInto {
    FCPResponseStatus_t status_code;
    slice_boxed_uint8_t error_msg;
    EmptySectorUpdateEncodeInto_t value;
} Result_EmptySectorUpdateEncodeInto_t;

// MARK: - The calls sealer uses, as function-pointer types (name in libfilcrypto = after `cfil_`)

// Pieces. The fds stay the caller's: the library neither closes nor (for the piece fd) rewinds them.
typedef Result_GeneratePieceCommitment_t *(*cfil_generate_piece_commitment_fn)(
    RegisteredSealProof_t registered_proof, int32_t piece_fd_raw, uint64_t unpadded_piece_size);
typedef Result_uint8_32_array_t *(*cfil_generate_data_commitment_fn)(
    RegisteredSealProof_t registered_proof, slice_ref_PublicPieceInfo_t pieces);
typedef Result_WriteWithAlignment_t *(*cfil_write_with_alignment_fn)(
    RegisteredSealProof_t registered_proof, int32_t src_fd, uint64_t src_size, int32_t dst_fd,
    slice_ref_uint64_t existing_piece_sizes);
typedef Result_WriteWithoutAlignment_t *(*cfil_write_without_alignment_fn)(
    RegisteredSealProof_t registered_proof, int32_t src_fd, uint64_t src_size, int32_t dst_fd);

// Sealing. PC1 and C1 outputs are opaque bytes (serde JSON in the real library).
typedef Result_slice_boxed_uint8_t *(*cfil_seal_pre_commit_phase1_fn)(
    RegisteredSealProof_t registered_proof, slice_ref_uint8_t cache_dir_path,
    slice_ref_uint8_t staged_sector_path, slice_ref_uint8_t sealed_sector_path, uint64_t sector_id,
    uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket, slice_ref_PublicPieceInfo_t pieces);
typedef Result_SealPreCommitPhase2_t *(*cfil_seal_pre_commit_phase2_fn)(
    slice_ref_uint8_t seal_pre_commit_phase1_output, slice_ref_uint8_t cache_dir_path,
    slice_ref_uint8_t sealed_sector_path);
typedef Result_void_t *(*cfil_generate_synth_proofs_fn)(
    RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r, uint8_32_array_t const *comm_d,
    slice_ref_uint8_t cache_dir_path, slice_ref_uint8_t replica_path, uint64_t sector_id,
    uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket, slice_ref_PublicPieceInfo_t pieces);
typedef Result_slice_boxed_uint8_t *(*cfil_seal_commit_phase1_fn)(
    RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r, uint8_32_array_t const *comm_d,
    slice_ref_uint8_t cache_dir_path, slice_ref_uint8_t replica_path, uint64_t sector_id,
    uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket, uint8_32_array_t const *seed,
    slice_ref_PublicPieceInfo_t pieces);
typedef Result_slice_boxed_uint8_t *(*cfil_seal_commit_phase2_fn)(
    slice_ref_uint8_t seal_commit_phase1_output, uint64_t sector_id, uint8_32_array_t const *prover_id);
typedef Result_bool_t *(*cfil_verify_seal_fn)(
    RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r, uint8_32_array_t const *comm_d,
    uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket, uint8_32_array_t const *seed,
    uint64_t sector_id, slice_ref_uint8_t proof);
typedef Result_void_t *(*cfil_unseal_range_fn)(
    RegisteredSealProof_t registered_proof, slice_ref_uint8_t cache_dir_path, int32_t sealed_sector_fd_raw,
    int32_t unseal_output_fd_raw, uint64_t sector_id, uint8_32_array_t const *prover_id,
    uint8_32_array_t const *ticket, uint8_32_array_t const *comm_d, uint64_t unpadded_byte_index,
    uint64_t unpadded_bytes_amount);
typedef Result_void_t *(*cfil_clear_cache_fn)(slice_ref_uint8_t cache_dir_path);

// Window PoSt. On failure `faulty_sectors` may name the sectors that made it fail.
typedef Result_GenerateWindowPoSt_t *(*cfil_generate_window_post_fn)(
    uint8_32_array_t const *randomness, slice_ref_PrivateReplicaInfo_t replicas,
    uint8_32_array_t const *prover_id);
typedef Result_GenerateWindowPoSt_t *(*cfil_generate_window_post_with_vanilla_fn)(
    RegisteredPoStProof_t registered_proof, uint8_32_array_t const *randomness,
    uint8_32_array_t const *prover_id, slice_ref_slice_boxed_uint8_t vanilla_proofs);
// The vanilla proofs generate_window_post_with_vanilla takes: challenges per sector, then one
// vanilla proof per sector (the replica goes by value).
typedef Result_GenerateFallbackSectorChallenges_t *(*cfil_generate_fallback_sector_challenges_fn)(
    RegisteredPoStProof_t registered_proof, uint8_32_array_t const *randomness, slice_ref_uint64_t sector_ids,
    uint8_32_array_t const *prover_id);
typedef Result_slice_boxed_uint8_t *(*cfil_generate_single_vanilla_proof_fn)(
    PrivateReplicaInfo_t replica, slice_ref_uint64_t challenges);
typedef Result_bool_t *(*cfil_verify_window_post_fn)(
    uint8_32_array_t const *randomness, slice_ref_PublicReplicaInfo_t replicas, slice_ref_PoStProof_t proofs,
    uint8_32_array_t const *prover_id);

// SnapDeals (empty sector update).
typedef Result_EmptySectorUpdateEncodeInto_t *(*cfil_empty_sector_update_encode_into_fn)(
    RegisteredUpdateProof_t registered_proof, slice_ref_uint8_t new_replica_path,
    slice_ref_uint8_t new_cache_dir_path, slice_ref_uint8_t sector_key_path,
    slice_ref_uint8_t sector_key_cache_dir_path, slice_ref_uint8_t staged_data_path,
    slice_ref_PublicPieceInfo_t pieces);
// The vanilla (partition) proofs generate_empty_sector_update_proof_with_vanilla takes.
typedef Result_slice_boxed_slice_boxed_uint8_t *(*cfil_generate_empty_sector_update_partition_proofs_fn)(
    RegisteredUpdateProof_t registered_proof, uint8_32_array_t const *comm_r_old,
    uint8_32_array_t const *comm_r_new, uint8_32_array_t const *comm_d_new, slice_ref_uint8_t sector_key_path,
    slice_ref_uint8_t sector_key_cache_dir_path, slice_ref_uint8_t replica_path,
    slice_ref_uint8_t replica_cache_path);
typedef Result_slice_boxed_uint8_t *(*cfil_generate_empty_sector_update_proof_with_vanilla_fn)(
    RegisteredUpdateProof_t registered_proof, slice_ref_slice_boxed_uint8_t vanilla_proofs,
    uint8_32_array_t const *comm_r_old, uint8_32_array_t const *comm_r_new, uint8_32_array_t const *comm_d_new);
typedef Result_slice_boxed_uint8_t *(*cfil_generate_empty_sector_update_proof_fn)(
    RegisteredUpdateProof_t registered_proof, uint8_32_array_t const *comm_r_old,
    uint8_32_array_t const *comm_r_new, uint8_32_array_t const *comm_d_new, slice_ref_uint8_t sector_key_path,
    slice_ref_uint8_t sector_key_cache_dir_path, slice_ref_uint8_t replica_path,
    slice_ref_uint8_t replica_cache_path);
typedef Result_bool_t *(*cfil_verify_empty_sector_update_proof_fn)(
    RegisteredUpdateProof_t registered_proof, slice_ref_uint8_t proof, uint8_32_array_t const *comm_r_old,
    uint8_32_array_t const *comm_r_new, uint8_32_array_t const *comm_d_new);

// Devices.
typedef Result_slice_boxed_slice_boxed_uint8_t *(*cfil_get_gpu_devices_fn)(void);

// MARK: - Destructors (each response goes back to exactly one of these, once)

typedef void (*cfil_destroy_void_fn)(Result_void_t *ptr);
typedef void (*cfil_destroy_bool_fn)(Result_bool_t *ptr);
typedef void (*cfil_destroy_array32_fn)(Result_uint8_32_array_t *ptr);
typedef void (*cfil_destroy_bytes_fn)(Result_slice_boxed_uint8_t *ptr);
typedef void (*cfil_destroy_byte_lists_fn)(Result_slice_boxed_slice_boxed_uint8_t *ptr);
typedef void (*cfil_destroy_piece_commitment_fn)(Result_GeneratePieceCommitment_t *ptr);
typedef void (*cfil_destroy_write_with_alignment_fn)(Result_WriteWithAlignment_t *ptr);
typedef void (*cfil_destroy_write_without_alignment_fn)(Result_WriteWithoutAlignment_t *ptr);
typedef void (*cfil_destroy_pre_commit_phase2_fn)(Result_SealPreCommitPhase2_t *ptr);
typedef void (*cfil_destroy_window_post_fn)(Result_GenerateWindowPoSt_t *ptr);
typedef void (*cfil_destroy_encode_into_fn)(Result_EmptySectorUpdateEncodeInto_t *ptr);
typedef void (*cfil_destroy_fallback_challenges_fn)(Result_GenerateFallbackSectorChallenges_t *ptr);

// MARK: - Helpers for Swift

/// A 32-byte array value from 32 bytes at `bytes`.
static inline uint8_32_array_t cfil_array32(const uint8_t *bytes) {
    uint8_32_array_t a;
    memcpy(a.idx, bytes, sizeof a.idx);
    return a;
}

/// Copies a 32-byte array's bytes to `out` (32 bytes).
static inline void cfil_array32_copy(const uint8_32_array_t *a, uint8_t *out) {
    memcpy(out, a->idx, sizeof a->idx);
}

/// The number of layout checks cfilcrypto.c makes at compile time.
int cfil_layout_checks(void);

#ifdef __cplusplus
}
#endif

#endif
