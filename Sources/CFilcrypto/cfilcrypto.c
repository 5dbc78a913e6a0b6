// See include/cfilcrypto.h. Nothing here runs: the checks pin the layouts we declared to the ones
// safer_ffi generates for filecoin-ffi on LP64 Linux, so a slip in the header fails the build.
#include "cfilcrypto.h"

_Static_assert(sizeof(slice_ref_uint8_t) == 16, "slice layout");
_Static_assert(sizeof(uint8_32_array_t) == 32, "32-byte array");
_Static_assert(sizeof(Result_void_t) == 24, "Result<()>");
_Static_assert(offsetof(Result_slice_boxed_uint8_t, value) == 24, "Result<T>.value follows error_msg");
_Static_assert(sizeof(PublicPieceInfo_t) == 40, "PublicPieceInfo");
_Static_assert(offsetof(PrivateReplicaInfo_t, cache_dir_path) == 8, "PrivateReplicaInfo.cache_dir_path");
_Static_assert(offsetof(PrivateReplicaInfo_t, comm_r) == 24, "PrivateReplicaInfo.comm_r");
_Static_assert(offsetof(PrivateReplicaInfo_t, replica_path) == 56, "PrivateReplicaInfo.replica_path");
_Static_assert(sizeof(PrivateReplicaInfo_t) == 80, "PrivateReplicaInfo");
_Static_assert(offsetof(PublicReplicaInfo_t, sector_id) == 40, "PublicReplicaInfo.sector_id");
_Static_assert(sizeof(PoStProof_t) == 24, "PoStProof");
_Static_assert(offsetof(SealPreCommitPhase2_t, comm_r) == 36, "SealPreCommitPhase2.comm_r");
_Static_assert(sizeof(WriteWithAlignment_t) == 48, "WriteWithAlignment");
_Static_assert(offsetof(Result_GenerateFallbackSectorChallenges_t, value) == 24, "Result<GenerateFallbackSectorChallenges>");
_Static_assert(sizeof(GenerateFallbackSectorChallenges_t) == 32, "GenerateFallbackSectorChallenges");

/// The number of layout checks above; exported so the target has a symbol of its own.
int cfil_layout_checks(void) { return 15; }
