#ifndef SEALER_FILCRYPTO_DOUBLE_H
#define SEALER_FILCRYPTO_DOUBLE_H

// A test double of filecoin-ffi's libfilcrypto, built as the dynamic library
// `libFilcryptoDouble.so` (product `FilcryptoDouble`) and dlopen'ed by the tests exactly as sealer
// opens the real one. It exports the symbols of cfilcrypto.h with the same layouts, computes
// deterministic outputs from its inputs, checks its arguments (proof ids in range, non-null
// 32-byte arrays, paths that must exist), counts responses against destroy_* calls, and fails any
// call on demand. It proves nothing: it only lets the Swift bindings be tested without Rust.
//
// Outputs: D(t, n) is n bytes of the splitmix64 stream seeded with FNV-1a-64 of the transcript t;
// a transcript appends integers as 8 bytes little-endian and byte strings (paths, labels, files)
// as their length (8 bytes LE) then their bytes. What each call digests is in
// filcrypto_double.c above the call. Its "replicas" are not encoded: unseal_range copies bytes.
//
// Besides libfilcrypto's symbols it exports these control functions (C linkage, for dlsym):

#include <stddef.h>
#include <stdint.h>

/// Writes up to `count` counters to `out`, in this order: responses handed out, responses
/// destroyed, responses still live, double frees (a destroy_* of an already destroyed response),
/// unknown frees (a pointer the double never handed out), wrong destroys (a response given to
/// another call's destroy_*), calls made. Response blocks are never reused, so a double free is
/// always seen. Returns the number of counters the double has (7).
size_t filcrypto_double_stats(uint64_t *out, size_t count);

/// From now on every call to `call` (a libfilcrypto function name) returns `status` with
/// `message` as error_msg and a zero value; `status` 0 stops it. Returns 0, or -1 when the table
/// of failures (32 calls) is full.
int filcrypto_double_fail(const char *call, int32_t status, const char *message);

#endif
