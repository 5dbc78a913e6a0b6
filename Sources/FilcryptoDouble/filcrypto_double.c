// The libfilcrypto test double; see include/filcrypto_double.h. Thread-safe: the counters, the
// response registry and the failure table sit behind one mutex; everything else is per call.
#define _GNU_SOURCE
#include "include/filcrypto_double.h"  // relative, so FilcryptoDoubleOld can compile this file too

#include "cfilcrypto.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// MARK: - Bookkeeping

struct entry {
    void *ptr;
    const char *destroy;  // the destroy_* this response must go back to
    int live;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries = NULL;
static size_t entry_count = 0, entry_capacity = 0;
static uint64_t stat_responses, stat_destroyed, stat_double_frees, stat_unknown_frees, stat_wrong_destroys, stat_calls;

struct failure {
    char call[96];
    int32_t status;
    char message[256];
};
static struct failure failures[32];

size_t filcrypto_double_stats(uint64_t *out, size_t count) {
    pthread_mutex_lock(&lock);
    uint64_t values[7] = {stat_responses, stat_destroyed, stat_responses - stat_destroyed, stat_double_frees,
                          stat_unknown_frees, stat_wrong_destroys, stat_calls};
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < count && i < 7; i++) out[i] = values[i];
    return 7;
}

int filcrypto_double_fail(const char *call, int32_t status, const char *message) {
    if (call == NULL) return -1;
    int result = -1;
    pthread_mutex_lock(&lock);
    struct failure *slot = NULL, *empty = NULL;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        if (failures[i].call[0] == '\0') {
            if (empty == NULL) empty = &failures[i];
        } else if (strcmp(failures[i].call, call) == 0) {
            slot = &failures[i];
        }
    }
    if (status == 0) {
        if (slot != NULL) slot->call[0] = '\0';
        result = 0;
    } else if ((slot = slot ? slot : empty) != NULL) {
        snprintf(slot->call, sizeof slot->call, "%s", call);
        snprintf(slot->message, sizeof slot->message, "%s", message ? message : "");
        slot->status = status;
        result = 0;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/// Counts a call; 1 with `*status` and `message` filled when a failure is injected for it.
static int injected(const char *call, int32_t *status, char *message, size_t size) {
    int found = 0;
    pthread_mutex_lock(&lock);
    stat_calls++;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        if (failures[i].call[0] != '\0' && strcmp(failures[i].call, call) == 0) {
            *status = failures[i].status;
            snprintf(message, size, "%s", failures[i].message);
            found = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/// A zeroed response of `size` bytes, registered for `destroy`; NULL only when out of memory.
static void *response_new(size_t size, const char *destroy) {
    void *ptr = calloc(1, size);
    if (ptr == NULL) return NULL;
    pthread_mutex_lock(&lock);
    if (entry_count == entry_capacity) {
        size_t capacity = entry_capacity ? entry_capacity * 2 : 64;
        struct entry *grown = realloc(entries, capacity * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&lock);
            free(ptr);
            return NULL;
        }
        entries = grown;
        entry_capacity = capacity;
    }
    entries[entry_count++] = (struct entry){ptr, destroy, 1};
    stat_responses++;
    pthread_mutex_unlock(&lock);
    return ptr;
}

/// 1 when `ptr` is a live response (now marked destroyed: the caller frees what it holds, never
/// the block itself, so its address is not handed out again); 0 for a double or unknown free.
static int response_release(void *ptr, const char *destroy) {
    if (ptr == NULL) return 0;
    int ok = 0;
    pthread_mutex_lock(&lock);
    size_t i = entry_count;
    while (i > 0 && entries[i - 1].ptr != ptr) i--;
    if (i == 0) {
        stat_unknown_frees++;
    } else if (!entries[i - 1].live) {
        stat_double_frees++;
    } else {
        if (strcmp(entries[i - 1].destroy, destroy) != 0) stat_wrong_destroys++;
        entries[i - 1].live = 0;
        stat_destroyed++;
        ok = 1;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/// Every response starts with status_code and error_msg (safer_ffi's Result<T>).
static void set_error(void *response, int32_t status, const char *message) {
    Result_void_t *head = response;
    size_t len = strlen(message);
    head->status_code = status;
    head->error_msg.ptr = malloc(len ? len : 1);
    if (head->error_msg.ptr != NULL) memcpy(head->error_msg.ptr, message, len);
    head->error_msg.len = head->error_msg.ptr ? len : 0;
}

/// A response that failed with `status` and a printf-style message.
__attribute__((format(printf, 4, 5)))
static void *failed(size_t size, const char *destroy, int32_t status, const char *format, ...) {
    void *response = response_new(size, destroy);
    if (response == NULL) return NULL;
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    set_error(response, status, message);
    return response;
}

#define CALLER_ERROR FCP_RESPONSE_STATUS_CALLER_ERROR
#define RECEIVER_ERROR FCP_RESPONSE_STATUS_RECEIVER_ERROR

/// The prologue of every call: count it, and answer with the injected failure if one is set.
#define BEGIN(name, type, destroy)                                                   \
    static const char *const call_name = name;                                        \
    static const char *const destroy_name = destroy;                                  \
    typedef type response_t;                                                          \
    do {                                                                              \
        int32_t status_;                                                              \
        char message_[256];                                                           \
        if (injected(call_name, &status_, message_, sizeof message_))                 \
            return failed(sizeof(response_t), destroy_name, status_, "%s", message_); \
    } while (0)

#define FAIL(status, ...) return failed(sizeof(response_t), destroy_name, status, __VA_ARGS__)
#define NEW() ((response_t *)response_new(sizeof(response_t), destroy_name))

// MARK: - Digests

struct transcript {
    uint64_t hash;  // FNV-1a 64 so far
};

static void t_raw(struct transcript *t, const void *bytes, size_t len) {
    const uint8_t *p = bytes;
    for (size_t i = 0; i < len; i++) {
        t->hash ^= p[i];
        t->hash *= 0x100000001b3ULL;
    }
}

static void t_u64(struct transcript *t, uint64_t value) {
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(value >> (8 * i));
    t_raw(t, le, 8);
}

static void t_bytes(struct transcript *t, const void *bytes, size_t len) {
    t_u64(t, len);
    t_raw(t, bytes, len);
}

static void t_str(struct transcript *t, const char *s) { t_bytes(t, s, strlen(s)); }
static void t_slice(struct transcript *t, slice_ref_uint8_t s) { t_bytes(t, s.ptr, s.len); }
static void t_a32(struct transcript *t, const uint8_32_array_t *a) { t_bytes(t, a->idx, 32); }

static struct transcript t_begin(const char *label) {
    struct transcript t = {0xcbf29ce484222325ULL};
    t_str(&t, label);
    return t;
}

static void t_pieces(struct transcript *t, slice_ref_PublicPieceInfo_t pieces) {
    t_u64(t, pieces.len);
    for (size_t i = 0; i < pieces.len; i++) {
        t_u64(t, pieces.ptr[i].num_bytes);
        t_a32(t, &pieces.ptr[i].comm_p);
    }
}

/// `len` bytes of the splitmix64 stream seeded with the transcript's hash.
static void t_out(const struct transcript *t, uint8_t *out, size_t len) {
    uint64_t state = t->hash;
    for (size_t i = 0; i < len; i += 8) {
        state += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (size_t j = 0; j < 8 && i + j < len; j++) out[i + j] = (uint8_t)(z >> (8 * j));
    }
}

static void t_out32(const struct transcript *t, uint8_32_array_t *out) { t_out(t, out->idx, 32); }

/// A boxed slice of `len` digest bytes (NULL ptr when out of memory, which the caller reports).
static slice_boxed_uint8_t t_boxed(const struct transcript *t, size_t len) {
    slice_boxed_uint8_t s = {malloc(len), len};
    if (s.ptr == NULL) s.len = 0; else t_out(t, s.ptr, len);
    return s;
}

// MARK: - Argument checks

enum { PROOF_BYTES = 192 };

/// A path slice as a C string in `buf`; 0 when empty, too long or holding a NUL.
static int path_of(slice_ref_uint8_t s, char *buf, size_t size) {
    if (s.ptr == NULL || s.len == 0 || s.len >= size || memchr(s.ptr, 0, s.len) != NULL) return 0;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    return 1;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/// Checks a path argument; on failure fills `why` and returns 0.
static int check_path(slice_ref_uint8_t s, const char *what, int want_dir, char *why, size_t size) {
    char path[4096];
    if (!path_of(s, path, sizeof path)) {
        snprintf(why, size, "%s: not a usable path", what);
        return 0;
    }
    if (want_dir ? !is_dir(path) : !is_file(path)) {
        snprintf(why, size, "%s: %s is not an existing %s", what, path, want_dir ? "directory" : "file");
        return 0;
    }
    return 1;
}

#define CHECK_PATH(slice, what, dir)                                                  \
    do {                                                                              \
        char why_[4200];                                                              \
        if (!check_path(slice, what, dir, why_, sizeof why_)) FAIL(CALLER_ERROR, "%s", why_); \
    } while (0)

#define CHECK_ARRAY(ptr, what) \
    do { if ((ptr) == NULL) FAIL(CALLER_ERROR, "%s: null 32-byte array", what); } while (0)

#define CHECK_SEAL(p) \
    do { if ((p) < 0 || (p) >= REGISTERED_SEAL_PROOF_COUNT) FAIL(CALLER_ERROR, "invalid RegisteredSealProof %d", (int)(p)); } while (0)
#define CHECK_WINDOW(p) \
    do { if ((p) < REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_2KIB_V1 || (p) >= REGISTERED_POST_PROOF_COUNT) \
        FAIL(CALLER_ERROR, "invalid window RegisteredPoStProof %d", (int)(p)); } while (0)
#define CHECK_UPDATE(p) \
    do { if ((p) < 0 || (p) >= REGISTERED_UPDATE_PROOF_COUNT) FAIL(CALLER_ERROR, "invalid RegisteredUpdateProof %d", (int)(p)); } while (0)
#define CHECK_PIECES(pieces) \
    do { if ((pieces).len == 0 || (pieces).ptr == NULL) FAIL(CALLER_ERROR, "no pieces"); } while (0)
#define CHECK_ALLOC(ptr) \
    do { if ((ptr) == NULL) FAIL(RECEIVER_ERROR, "out of memory"); } while (0)

/// The unpadded size a piece of `unpadded` bytes takes once Fr32-padded to a power of two.
static uint64_t aligned_unpadded(uint64_t unpadded) {
    uint64_t padded = (unpadded * 128 + 126) / 127;
    uint64_t power = 128;
    while (power < padded) power <<= 1;
    return power / 128 * 127;
}

/// Reads exactly `len` bytes from `fd` into a new buffer; NULL (errno set) when it cannot.
static uint8_t *read_all(int fd, uint64_t len) {
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) return NULL;
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = ENODATA;
            free(buf);
            return NULL;
        }
        done += (uint64_t)n;
    }
    return buf;
}

static int write_all(int fd, const uint8_t *bytes, uint64_t len) {
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, bytes + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        done += (uint64_t)n;
    }
    return 1;
}

static int write_zeros(int fd, uint64_t len) {
    static const uint8_t zeros[4096];
    while (len > 0) {
        uint64_t chunk = len < sizeof zeros ? len : sizeof zeros;
        if (!write_all(fd, zeros, chunk)) return 0;
        len -= chunk;
    }
    return 1;
}

// MARK: - Pieces

// comm_p = D("commp", proof, file bytes); num_bytes_aligned = the padded-to-power-of-two size,
// unpadded.
Result_GeneratePieceCommitment_t *generate_piece_commitment(RegisteredSealProof_t registered_proof,
                                                            int32_t piece_fd_raw, uint64_t unpadded_piece_size) {
    BEGIN("generate_piece_commitment", Result_GeneratePieceCommitment_t, "destroy_generate_piece_commitment_response");
    CHECK_SEAL(registered_proof);
    if (unpadded_piece_size == 0) FAIL(CALLER_ERROR, "empty piece");
    uint8_t *data = read_all(piece_fd_raw, unpadded_piece_size);
    if (data == NULL) FAIL(CALLER_ERROR, "cannot read %llu bytes from fd %d: %s", (unsigned long long)unpadded_piece_size, piece_fd_raw, strerror(errno));
    struct transcript t = t_begin("commp");
    t_u64(&t, (uint64_t)registered_proof);
    t_bytes(&t, data, unpadded_piece_size);
    free(data);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    t_out32(&t, &r->value.comm_p);
    r->value.num_bytes_aligned = aligned_unpadded(unpadded_piece_size);
    return r;
}

// comm_d = D("commd", proof, count, each (num_bytes, comm_p)).
Result_uint8_32_array_t *generate_data_commitment(RegisteredSealProof_t registered_proof, slice_ref_PublicPieceInfo_t pieces) {
    BEGIN("generate_data_commitment", Result_uint8_32_array_t, "destroy_generate_data_commitment_response");
    CHECK_SEAL(registered_proof);
    CHECK_PIECES(pieces);
    struct transcript t = t_begin("commd");
    t_u64(&t, (uint64_t)registered_proof);
    t_pieces(&t, pieces);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    t_out32(&t, &r->value);
    return r;
}

/// write_with_alignment and write_without_alignment: zeros to align (when `existing` is given),
/// the piece, zeros up to its aligned size; comm_p as generate_piece_commitment's.
static int write_piece(RegisteredSealProof_t proof, int32_t src_fd, uint64_t src_size, int32_t dst_fd, uint64_t left,
                       uint8_32_array_t *comm_p, char *why, size_t size) {
    uint8_t *data = read_all(src_fd, src_size);
    if (data == NULL) {
        snprintf(why, size, "cannot read %llu bytes from fd %d: %s", (unsigned long long)src_size, src_fd, strerror(errno));
        return 0;
    }
    struct transcript t = t_begin("commp");
    t_u64(&t, (uint64_t)proof);
    t_bytes(&t, data, src_size);
    t_out32(&t, comm_p);
    int ok = write_zeros(dst_fd, left) && write_all(dst_fd, data, src_size)
        && write_zeros(dst_fd, aligned_unpadded(src_size) - src_size);
    if (!ok) snprintf(why, size, "cannot write to fd %d: %s", dst_fd, strerror(errno));
    free(data);
    return ok;
}

Result_WriteWithAlignment_t *write_with_alignment(RegisteredSealProof_t registered_proof, int32_t src_fd, uint64_t src_size,
                                                  int32_t dst_fd, slice_ref_uint64_t existing_piece_sizes) {
    BEGIN("write_with_alignment", Result_WriteWithAlignment_t, "destroy_write_with_alignment_response");
    CHECK_SEAL(registered_proof);
    if (src_size == 0) FAIL(CALLER_ERROR, "empty piece");
    if (existing_piece_sizes.len > 0 && existing_piece_sizes.ptr == NULL) FAIL(CALLER_ERROR, "null piece sizes");
    uint64_t used = 0;
    for (size_t i = 0; i < existing_piece_sizes.len; i++) used += existing_piece_sizes.ptr[i];
    uint64_t aligned = aligned_unpadded(src_size);
    uint64_t left = (aligned - used % aligned) % aligned;
    uint8_32_array_t comm_p;
    char why[512];
    if (!write_piece(registered_proof, src_fd, src_size, dst_fd, left, &comm_p, why, sizeof why)) FAIL(CALLER_ERROR, "%s", why);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value.comm_p = comm_p;
    r->value.left_alignment_unpadded = left;
    r->value.total_write_unpadded = left + aligned;
    return r;
}

Result_WriteWithoutAlignment_t *write_without_alignment(RegisteredSealProof_t registered_proof, int32_t src_fd,
                                                        uint64_t src_size, int32_t dst_fd) {
    BEGIN("write_without_alignment", Result_WriteWithoutAlignment_t, "destroy_write_without_alignment_response");
    CHECK_SEAL(registered_proof);
    if (src_size == 0) FAIL(CALLER_ERROR, "empty piece");
    uint8_32_array_t comm_p;
    char why[512];
    if (!write_piece(registered_proof, src_fd, src_size, dst_fd, 0, &comm_p, why, sizeof why)) FAIL(CALLER_ERROR, "%s", why);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value.comm_p = comm_p;
    r->value.total_write_unpadded = aligned_unpadded(src_size);
    return r;
}

// MARK: - Sealing

enum { PC1_BYTES = 4 + 4 + 32 + 32, C1_BYTES = 4 + 4 + 8 + 5 * 32 };

static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get_u32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

// PC1 output (72 bytes): "PC1\0", proof (u32 LE), comm_d (as generate_data_commitment's), then
// D("pc1", proof, cache, staged, sealed, sector_id, prover_id, ticket, comm_d).
Result_slice_boxed_uint8_t *seal_pre_commit_phase1(RegisteredSealProof_t registered_proof, slice_ref_uint8_t cache_dir_path,
                                                   slice_ref_uint8_t staged_sector_path, slice_ref_uint8_t sealed_sector_path,
                                                   uint64_t sector_id, uint8_32_array_t const *prover_id,
                                                   uint8_32_array_t const *ticket, slice_ref_PublicPieceInfo_t pieces) {
    BEGIN("seal_pre_commit_phase1", Result_slice_boxed_uint8_t, "destroy_seal_pre_commit_phase1_response");
    CHECK_SEAL(registered_proof);
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    CHECK_PATH(staged_sector_path, "staged_sector_path", 0);
    CHECK_PATH(sealed_sector_path, "sealed_sector_path", 0);
    CHECK_ARRAY(prover_id, "prover_id");
    CHECK_ARRAY(ticket, "ticket");
    CHECK_PIECES(pieces);
    uint8_32_array_t comm_d;
    struct transcript d = t_begin("commd");
    t_u64(&d, (uint64_t)registered_proof);
    t_pieces(&d, pieces);
    t_out32(&d, &comm_d);
    struct transcript t = t_begin("pc1");
    t_u64(&t, (uint64_t)registered_proof);
    t_slice(&t, cache_dir_path);
    t_slice(&t, staged_sector_path);
    t_slice(&t, sealed_sector_path);
    t_u64(&t, sector_id);
    t_a32(&t, prover_id);
    t_a32(&t, ticket);
    t_a32(&t, &comm_d);
    uint8_t *out = malloc(PC1_BYTES);
    CHECK_ALLOC(out);
    memcpy(out, "PC1", 4);
    put_u32(out + 4, (uint32_t)registered_proof);
    memcpy(out + 8, comm_d.idx, 32);
    t_out(&t, out + 40, 32);
    response_t *r = NEW();
    if (r == NULL) { free(out); return NULL; }
    r->value = (slice_boxed_uint8_t){out, PC1_BYTES};
    return r;
}

// comm_r = D("commr", PC1 output, cache, sealed); comm_d and the proof come from the PC1 output.
// Leaves what the real library leaves after PC2 or a snap encoding, so a worker can persist and
// prove from disk: the replica (32 bytes) and, in the cache dir, tree_r_last (one file, or 8 for
// 32GiB, 16 for 64GiB), p_aux and t_aux, each derived from `digest`. `ordinal` is the sector
// size's position (2KiB = 0 ... 64GiB = 4). Returns 0 on success.
static int write_sector_files(slice_ref_uint8_t replica_path, slice_ref_uint8_t cache_dir_path, int ordinal,
                              const uint8_t digest[32], char *why, size_t why_len) {
    char replica[4096], dir[4096], file[4300];
    path_of(replica_path, replica, sizeof replica);
    path_of(cache_dir_path, dir, sizeof dir);
    // The replica has the sector's size (sparse), its first bytes the digest; content a caller
    // already wrote there (a test's sector) is kept.
    static const uint64_t sector_bytes[5] = {2048ULL, 8ULL << 20, 512ULL << 20, 32ULL << 30, 64ULL << 30};
    int fd = open(replica, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open %s: %s", replica, strerror(errno));
        return -1;
    }
    struct stat st;
    int ok = fstat(fd, &st) == 0;
    if (ok && st.st_size == 0) {
        ok = pwrite(fd, digest, 32, 0) == 32 && ftruncate(fd, (off_t)sector_bytes[ordinal]) == 0;
    }
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(why, why_len, "cannot write %s: %s", replica, strerror(errno));
        return -1;
    }
    int trees = ordinal == 3 ? 8 : ordinal == 4 ? 16 : 1;
    for (int i = 0; i < trees + 2; i++) {
        if (i < trees) {
            if (trees == 1) snprintf(file, sizeof file, "%s/sc-02-data-tree-r-last.dat", dir);
            else snprintf(file, sizeof file, "%s/sc-02-data-tree-r-last-%d.dat", dir, i);
        } else {
            snprintf(file, sizeof file, "%s/%s", dir, i == trees ? "p_aux" : "t_aux");
        }
        FILE *f = fopen(file, "wb");
        if (f == NULL) {
            snprintf(why, why_len, "cannot create %s: %s", file, strerror(errno));
            return -1;
        }
        uint8_t byte = (uint8_t)(i + 1);
        ok = fwrite(digest, 1, 32, f) == 32 && fwrite(&byte, 1, 1, f) == 1;
        ok = fclose(f) == 0 && ok;
        if (!ok) {
            snprintf(why, why_len, "cannot write %s", file);
            return -1;
        }
    }
    return 0;
}

Result_SealPreCommitPhase2_t *seal_pre_commit_phase2(slice_ref_uint8_t seal_pre_commit_phase1_output,
                                                     slice_ref_uint8_t cache_dir_path, slice_ref_uint8_t sealed_sector_path) {
    BEGIN("seal_pre_commit_phase2", Result_SealPreCommitPhase2_t, "destroy_seal_pre_commit_phase2_response");
    const uint8_t *pc1 = seal_pre_commit_phase1_output.ptr;
    if (pc1 == NULL || seal_pre_commit_phase1_output.len != PC1_BYTES || memcmp(pc1, "PC1", 4) != 0)
        FAIL(CALLER_ERROR, "not a PC1 output of this library (%zu bytes)", seal_pre_commit_phase1_output.len);
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    CHECK_PATH(sealed_sector_path, "sealed_sector_path", 0);
    struct transcript t = t_begin("commr");
    t_slice(&t, seal_pre_commit_phase1_output);
    t_slice(&t, cache_dir_path);
    t_slice(&t, sealed_sector_path);
    uint8_t comm_r[32];
    t_out(&t, comm_r, 32);
    RegisteredSealProof_t proof = (RegisteredSealProof_t)get_u32(pc1 + 4);
    char why[4400];
    if (write_sector_files(sealed_sector_path, cache_dir_path, (int)proof % 5, comm_r, why, sizeof why) != 0) FAIL(RECEIVER_ERROR, "%s", why);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value.registered_proof = proof;
    memcpy(r->value.comm_d.idx, pc1 + 8, 32);
    memcpy(r->value.comm_r.idx, comm_r, 32);
    return r;
}

#ifndef FILCRYPTO_DOUBLE_WITHOUT_SYNTH_PROOFS  // defined by FilcryptoDoubleOld: a library missing one symbol
// Writes cache/syn-porep-vanilla-proofs.dat: 32 bytes D("synth", proof, comm_r, comm_d, sector_id,
// prover_id, ticket, pieces).
Result_void_t *generate_synth_proofs(RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r,
                                     uint8_32_array_t const *comm_d, slice_ref_uint8_t cache_dir_path,
                                     slice_ref_uint8_t replica_path, uint64_t sector_id, uint8_32_array_t const *prover_id,
                                     uint8_32_array_t const *ticket, slice_ref_PublicPieceInfo_t pieces) {
    BEGIN("generate_synth_proofs", Result_void_t, "destroy_generate_synth_proofs_response");
    CHECK_SEAL(registered_proof);
    CHECK_ARRAY(comm_r, "comm_r");
    CHECK_ARRAY(comm_d, "comm_d");
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    CHECK_PATH(replica_path, "replica_path", 0);
    CHECK_ARRAY(prover_id, "prover_id");
    CHECK_ARRAY(ticket, "ticket");
    CHECK_PIECES(pieces);
    struct transcript t = t_begin("synth");
    t_u64(&t, (uint64_t)registered_proof);
    t_a32(&t, comm_r);
    t_a32(&t, comm_d);
    t_u64(&t, sector_id);
    t_a32(&t, prover_id);
    t_a32(&t, ticket);
    t_pieces(&t, pieces);
    uint8_t digest[32];
    t_out(&t, digest, 32);
    char dir[4096], file[4200];
    path_of(cache_dir_path, dir, sizeof dir);
    snprintf(file, sizeof file, "%s/syn-porep-vanilla-proofs.dat", dir);
    FILE *f = fopen(file, "wb");
    if (f == NULL) FAIL(RECEIVER_ERROR, "cannot create %s: %s", file, strerror(errno));
    int ok = fwrite(digest, 1, 32, f) == 32;
    ok = fclose(f) == 0 && ok;
    if (!ok) FAIL(RECEIVER_ERROR, "cannot write %s", file);
    return NEW();
}

#endif

// C1 output (176 bytes): "C1\0\0", proof (u32), sector_id (u64), prover_id, comm_r, comm_d,
// ticket, seed. The pieces and paths are checked, not kept.
Result_slice_boxed_uint8_t *seal_commit_phase1(RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r,
                                               uint8_32_array_t const *comm_d, slice_ref_uint8_t cache_dir_path,
                                               slice_ref_uint8_t replica_path, uint64_t sector_id,
                                               uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket,
                                               uint8_32_array_t const *seed, slice_ref_PublicPieceInfo_t pieces) {
    BEGIN("seal_commit_phase1", Result_slice_boxed_uint8_t, "destroy_seal_commit_phase1_response");
    CHECK_SEAL(registered_proof);
    CHECK_ARRAY(comm_r, "comm_r");
    CHECK_ARRAY(comm_d, "comm_d");
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    CHECK_PATH(replica_path, "replica_path", 0);
    CHECK_ARRAY(prover_id, "prover_id");
    CHECK_ARRAY(ticket, "ticket");
    CHECK_ARRAY(seed, "seed");
    CHECK_PIECES(pieces);
    uint8_t *out = malloc(C1_BYTES);
    CHECK_ALLOC(out);
    memcpy(out, "C1\0", 4);
    put_u32(out + 4, (uint32_t)registered_proof);
    put_u64(out + 8, sector_id);
    memcpy(out + 16, prover_id->idx, 32);
    memcpy(out + 48, comm_r->idx, 32);
    memcpy(out + 80, comm_d->idx, 32);
    memcpy(out + 112, ticket->idx, 32);
    memcpy(out + 144, seed->idx, 32);
    response_t *r = NEW();
    if (r == NULL) { free(out); return NULL; }
    r->value = (slice_boxed_uint8_t){out, C1_BYTES};
    return r;
}

/// The seal proof: 192 bytes D("porep", proof, comm_r, comm_d, prover_id, ticket, seed, sector_id).
static struct transcript porep(int32_t proof, const uint8_t *comm_r, const uint8_t *comm_d, const uint8_t *prover_id,
                               const uint8_t *ticket, const uint8_t *seed, uint64_t sector_id) {
    struct transcript t = t_begin("porep");
    t_u64(&t, (uint64_t)proof);
    t_bytes(&t, comm_r, 32);
    t_bytes(&t, comm_d, 32);
    t_bytes(&t, prover_id, 32);
    t_bytes(&t, ticket, 32);
    t_bytes(&t, seed, 32);
    t_u64(&t, sector_id);
    return t;
}

Result_slice_boxed_uint8_t *seal_commit_phase2(slice_ref_uint8_t seal_commit_phase1_output, uint64_t sector_id,
                                               uint8_32_array_t const *prover_id) {
    BEGIN("seal_commit_phase2", Result_slice_boxed_uint8_t, "destroy_seal_commit_phase2_response");
    const uint8_t *c1 = seal_commit_phase1_output.ptr;
    if (c1 == NULL || seal_commit_phase1_output.len != C1_BYTES || memcmp(c1, "C1\0", 4) != 0)
        FAIL(CALLER_ERROR, "not a C1 output of this library (%zu bytes)", seal_commit_phase1_output.len);
    CHECK_ARRAY(prover_id, "prover_id");
    if (get_u64(c1 + 8) != sector_id) FAIL(CALLER_ERROR, "sector id %llu is not C1's", (unsigned long long)sector_id);
    if (memcmp(c1 + 16, prover_id->idx, 32) != 0) FAIL(CALLER_ERROR, "prover id is not C1's");
    struct transcript t = porep((int32_t)get_u32(c1 + 4), c1 + 48, c1 + 80, c1 + 16, c1 + 112, c1 + 144, sector_id);
    slice_boxed_uint8_t proof = t_boxed(&t, PROOF_BYTES);
    CHECK_ALLOC(proof.ptr);
    response_t *r = NEW();
    if (r == NULL) { free(proof.ptr); return NULL; }
    r->value = proof;
    return r;
}

Result_bool_t *verify_seal(RegisteredSealProof_t registered_proof, uint8_32_array_t const *comm_r,
                           uint8_32_array_t const *comm_d, uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket,
                           uint8_32_array_t const *seed, uint64_t sector_id, slice_ref_uint8_t proof) {
    BEGIN("verify_seal", Result_bool_t, "destroy_verify_seal_response");
    CHECK_SEAL(registered_proof);
    CHECK_ARRAY(comm_r, "comm_r");
    CHECK_ARRAY(comm_d, "comm_d");
    CHECK_ARRAY(prover_id, "prover_id");
    CHECK_ARRAY(ticket, "ticket");
    CHECK_ARRAY(seed, "seed");
    if (proof.len > 0 && proof.ptr == NULL) FAIL(CALLER_ERROR, "null proof");
    uint8_t expected[PROOF_BYTES];
    struct transcript t = porep(registered_proof, comm_r->idx, comm_d->idx, prover_id->idx, ticket->idx, seed->idx, sector_id);
    t_out(&t, expected, sizeof expected);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value = proof.len == PROOF_BYTES && memcmp(proof.ptr, expected, PROOF_BYTES) == 0;
    return r;
}

// Copies `amount` bytes at `index` of the sealed fd to the output fd (the double does not encode).
Result_void_t *unseal_range(RegisteredSealProof_t registered_proof, slice_ref_uint8_t cache_dir_path,
                            int32_t sealed_sector_fd_raw, int32_t unseal_output_fd_raw, uint64_t sector_id,
                            uint8_32_array_t const *prover_id, uint8_32_array_t const *ticket,
                            uint8_32_array_t const *comm_d, uint64_t unpadded_byte_index, uint64_t unpadded_bytes_amount) {
    BEGIN("unseal_range", Result_void_t, "destroy_unseal_range_response");
    (void)sector_id;
    CHECK_SEAL(registered_proof);
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    CHECK_ARRAY(prover_id, "prover_id");
    CHECK_ARRAY(ticket, "ticket");
    CHECK_ARRAY(comm_d, "comm_d");
    if (unpadded_bytes_amount == 0) FAIL(CALLER_ERROR, "nothing to unseal");
    uint8_t *buf = malloc(unpadded_bytes_amount);
    CHECK_ALLOC(buf);
    uint64_t done = 0;
    while (done < unpadded_bytes_amount) {
        ssize_t n = pread(sealed_sector_fd_raw, buf + done, unpadded_bytes_amount - done, (off_t)(unpadded_byte_index + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            free(buf);
            FAIL(CALLER_ERROR, "cannot read %llu bytes at %llu of the sealed sector (fd %d)",
                 (unsigned long long)unpadded_bytes_amount, (unsigned long long)unpadded_byte_index, sealed_sector_fd_raw);
        }
        done += (uint64_t)n;
    }
    int ok = write_all(unseal_output_fd_raw, buf, unpadded_bytes_amount);
    free(buf);
    if (!ok) FAIL(CALLER_ERROR, "cannot write to the output (fd %d): %s", unseal_output_fd_raw, strerror(errno));
    return NEW();
}

// Removes the cache's layer, tree-c and tree-d files (names starting sc-02-data-layer-,
// sc-02-data-tree-c, sc-02-data-tree-d) and keeps everything else.
Result_void_t *clear_cache(slice_ref_uint8_t cache_dir_path) {
    BEGIN("clear_cache", Result_void_t, "destroy_clear_cache_response");
    CHECK_PATH(cache_dir_path, "cache_dir_path", 1);
    char dir[4096];
    path_of(cache_dir_path, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (d == NULL) FAIL(RECEIVER_ERROR, "cannot open %s: %s", dir, strerror(errno));
    static const char *const prefixes[] = {"sc-02-data-layer-", "sc-02-data-tree-c", "sc-02-data-tree-d"};
    struct dirent *e;
    int failed_removes = 0;
    while ((e = readdir(d)) != NULL) {
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
            if (strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) == 0) {
                if (unlinkat(dirfd(d), e->d_name, 0) != 0) failed_removes++;
                break;
            }
        }
    }
    closedir(d);
    if (failed_removes) FAIL(RECEIVER_ERROR, "%d cache files could not be removed", failed_removes);
    return NEW();
}

// MARK: - Window PoSt

/// D("wpost", randomness, prover_id, count, each (sector_id, comm_r)), 192 bytes.
static struct transcript wpost_begin(const uint8_32_array_t *randomness, const uint8_32_array_t *prover_id, size_t count) {
    struct transcript t = t_begin("wpost");
    t_a32(&t, randomness);
    t_a32(&t, prover_id);
    t_u64(&t, count);
    return t;
}

// A replica whose cache directory or replica file is missing is faulty; any faulty replica fails
// the call with UnclassifiedError and faulty_sectors set, as filecoin-ffi does. Otherwise one proof,
// of the first replica's proof type.
Result_GenerateWindowPoSt_t *generate_window_post(uint8_32_array_t const *randomness, slice_ref_PrivateReplicaInfo_t replicas,
                                                  uint8_32_array_t const *prover_id) {
    BEGIN("generate_window_post", Result_GenerateWindowPoSt_t, "destroy_generate_window_post_response");
    CHECK_ARRAY(randomness, "randomness");
    CHECK_ARRAY(prover_id, "prover_id");
    if (replicas.len == 0 || replicas.ptr == NULL) FAIL(CALLER_ERROR, "no replicas");
    uint64_t *faulty = calloc(replicas.len, sizeof *faulty);
    CHECK_ALLOC(faulty);
    size_t faulty_count = 0;
    struct transcript t = wpost_begin(randomness, prover_id, replicas.len);
    for (size_t i = 0; i < replicas.len; i++) {
        const PrivateReplicaInfo_t *replica = &replicas.ptr[i];
        if (replica->registered_proof != replicas.ptr[0].registered_proof) { free(faulty); FAIL(CALLER_ERROR, "mixed proof types"); }
        int32_t proof_type = replica->registered_proof;
        if (proof_type < REGISTERED_POST_PROOF_STACKED_DRG_WINDOW_2KIB_V1 || proof_type >= REGISTERED_POST_PROOF_COUNT) {
            free(faulty);
            FAIL(CALLER_ERROR, "invalid window RegisteredPoStProof %d", (int)proof_type);
        }
        char cache[4096], path[4096];
        slice_ref_uint8_t c = {replica->cache_dir_path.ptr, replica->cache_dir_path.len};
        slice_ref_uint8_t p = {replica->replica_path.ptr, replica->replica_path.len};
        if (!path_of(c, cache, sizeof cache) || !path_of(p, path, sizeof path) || !is_dir(cache) || !is_file(path))
            faulty[faulty_count++] = replica->sector_id;
        t_u64(&t, replica->sector_id);
        t_a32(&t, &replica->comm_r);
    }
    response_t *r = NEW();
    if (r == NULL) { free(faulty); return NULL; }
    if (faulty_count > 0) {
        char message[128];
        snprintf(message, sizeof message, "%zu faulty sectors", faulty_count);
        set_error(r, FCP_RESPONSE_STATUS_UNCLASSIFIED_ERROR, message);
        r->value.faulty_sectors = (slice_boxed_uint64_t){faulty, faulty_count};
        return r;
    }
    free(faulty);
    PoStProof_t *proofs = malloc(sizeof *proofs);
    slice_boxed_uint8_t bytes = t_boxed(&t, PROOF_BYTES);
    if (proofs == NULL || bytes.ptr == NULL) {
        free(proofs);
        free(bytes.ptr);
        set_error(r, RECEIVER_ERROR, "out of memory");
        return r;
    }
    proofs[0] = (PoStProof_t){replicas.ptr[0].registered_proof, bytes};
    r->value.proofs = (slice_boxed_PoStProof_t){proofs, 1};
    return r;
}

// One proof: 192 bytes D("wpost-vanilla", proof, randomness, prover_id, count, each vanilla proof).
Result_GenerateWindowPoSt_t *generate_window_post_with_vanilla(RegisteredPoStProof_t registered_proof,
                                                               uint8_32_array_t const *randomness,
                                                               uint8_32_array_t const *prover_id,
                                                               slice_ref_slice_boxed_uint8_t vanilla_proofs) {
    BEGIN("generate_window_post_with_vanilla", Result_GenerateWindowPoSt_t, "destroy_generate_window_post_response");
    CHECK_WINDOW(registered_proof);
    CHECK_ARRAY(randomness, "randomness");
    CHECK_ARRAY(prover_id, "prover_id");
    if (vanilla_proofs.len == 0 || vanilla_proofs.ptr == NULL) FAIL(CALLER_ERROR, "no vanilla proofs");
    struct transcript t = t_begin("wpost-vanilla");
    t_u64(&t, (uint64_t)registered_proof);
    t_a32(&t, randomness);
    t_a32(&t, prover_id);
    t_u64(&t, vanilla_proofs.len);
    for (size_t i = 0; i < vanilla_proofs.len; i++) t_bytes(&t, vanilla_proofs.ptr[i].ptr, vanilla_proofs.ptr[i].len);
    PoStProof_t *proofs = malloc(sizeof *proofs);
    CHECK_ALLOC(proofs);
    slice_boxed_uint8_t bytes = t_boxed(&t, PROOF_BYTES);
    if (bytes.ptr == NULL) { free(proofs); FAIL(RECEIVER_ERROR, "out of memory"); }
    response_t *r = NEW();
    if (r == NULL) { free(proofs); free(bytes.ptr); return NULL; }
    proofs[0] = (PoStProof_t){registered_proof, bytes};
    r->value.proofs = (slice_boxed_PoStProof_t){proofs, 1};
    return r;
}

// ids: the sector ids, ascending (as filecoin-ffi's BTreeMap gives them); each sector's 10
// challenges: the u64 LE words of 80 bytes D("challenges", proof, randomness, prover_id, sector_id).
Result_GenerateFallbackSectorChallenges_t *generate_fallback_sector_challenges(RegisteredPoStProof_t registered_proof,
                                                                              uint8_32_array_t const *randomness,
                                                                              slice_ref_uint64_t sector_ids,
                                                                              uint8_32_array_t const *prover_id) {
    BEGIN("generate_fallback_sector_challenges", Result_GenerateFallbackSectorChallenges_t,
          "destroy_generate_fallback_sector_challenges_response");
    CHECK_WINDOW(registered_proof);
    CHECK_ARRAY(randomness, "randomness");
    CHECK_ARRAY(prover_id, "prover_id");
    if (sector_ids.len == 0 || sector_ids.ptr == NULL) FAIL(CALLER_ERROR, "no sectors");
    enum { CHALLENGES = 10 };
    size_t n = sector_ids.len;
    uint64_t *ids = malloc(n * sizeof *ids);
    slice_boxed_uint64_t *lists = calloc(n, sizeof *lists);
    if (ids == NULL || lists == NULL) { free(ids); free(lists); FAIL(RECEIVER_ERROR, "out of memory"); }
    memcpy(ids, sector_ids.ptr, n * sizeof *ids);
    for (size_t i = 1; i < n; i++) {  // insertion sort: the double's inputs are small
        uint64_t v = ids[i];
        size_t j = i;
        while (j > 0 && ids[j - 1] > v) { ids[j] = ids[j - 1]; j--; }
        ids[j] = v;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t raw[CHALLENGES * 8];
        struct transcript t = t_begin("challenges");
        t_u64(&t, (uint64_t)registered_proof);
        t_a32(&t, randomness);
        t_a32(&t, prover_id);
        t_u64(&t, ids[i]);
        t_out(&t, raw, sizeof raw);
        lists[i].ptr = malloc(CHALLENGES * sizeof(uint64_t));
        if (lists[i].ptr == NULL) {
            for (size_t j = 0; j < i; j++) free(lists[j].ptr);
            free(ids);
            free(lists);
            FAIL(RECEIVER_ERROR, "out of memory");
        }
        for (size_t c = 0; c < CHALLENGES; c++) lists[i].ptr[c] = get_u64(raw + 8 * c);
        lists[i].len = CHALLENGES;
    }
    response_t *r = NEW();
    if (r == NULL) {
        for (size_t i = 0; i < n; i++) free(lists[i].ptr);
        free(ids);
        free(lists);
        return NULL;
    }
    r->value.ids = (slice_boxed_uint64_t){ids, n};
    r->value.challenges = (slice_boxed_slice_boxed_uint64_t){lists, n};
    return r;
}

// 64 bytes D("vanilla", proof, sector_id, comm_r, count, each challenge); the replica's cache
// directory and file must exist.
Result_slice_boxed_uint8_t *generate_single_vanilla_proof(PrivateReplicaInfo_t replica, slice_ref_uint64_t challenges) {
    BEGIN("generate_single_vanilla_proof", Result_slice_boxed_uint8_t, "destroy_generate_single_vanilla_proof_response");
    CHECK_WINDOW(replica.registered_proof);
    CHECK_PATH(((slice_ref_uint8_t){replica.cache_dir_path.ptr, replica.cache_dir_path.len}), "cache_dir_path", 1);
    CHECK_PATH(((slice_ref_uint8_t){replica.replica_path.ptr, replica.replica_path.len}), "replica_path", 0);
    if (challenges.len == 0 || challenges.ptr == NULL) FAIL(CALLER_ERROR, "no challenges");
    struct transcript t = t_begin("vanilla");
    t_u64(&t, (uint64_t)replica.registered_proof);
    t_u64(&t, replica.sector_id);
    t_a32(&t, &replica.comm_r);
    t_u64(&t, challenges.len);
    for (size_t i = 0; i < challenges.len; i++) t_u64(&t, challenges.ptr[i]);
    slice_boxed_uint8_t proof = t_boxed(&t, 64);
    CHECK_ALLOC(proof.ptr);
    response_t *r = NEW();
    if (r == NULL) { free(proof.ptr); return NULL; }
    r->value = proof;
    return r;
}

// True when there is exactly one proof and it is generate_window_post's for these replicas.
Result_bool_t *verify_window_post(uint8_32_array_t const *randomness, slice_ref_PublicReplicaInfo_t replicas,
                                  slice_ref_PoStProof_t proofs, uint8_32_array_t const *prover_id) {
    BEGIN("verify_window_post", Result_bool_t, "destroy_verify_window_post_response");
    CHECK_ARRAY(randomness, "randomness");
    CHECK_ARRAY(prover_id, "prover_id");
    if (replicas.len == 0 || replicas.ptr == NULL) FAIL(CALLER_ERROR, "no replicas");
    struct transcript t = wpost_begin(randomness, prover_id, replicas.len);
    for (size_t i = 0; i < replicas.len; i++) {
        CHECK_WINDOW(replicas.ptr[i].registered_proof);
        t_u64(&t, replicas.ptr[i].sector_id);
        t_a32(&t, &replicas.ptr[i].comm_r);
    }
    uint8_t expected[PROOF_BYTES];
    t_out(&t, expected, sizeof expected);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value = proofs.len == 1 && proofs.ptr != NULL && proofs.ptr[0].proof.len == PROOF_BYTES
        && memcmp(proofs.ptr[0].proof.ptr, expected, PROOF_BYTES) == 0;
    return r;
}

// MARK: - SnapDeals

// comm_d_new = D("commd", update proof, pieces); comm_r_new = D("snap-commr", update proof,
// sector_key_path, staged_data_path, comm_d_new); comm_r_last_new = D("snap-commr-last", comm_r_new).
Result_EmptySectorUpdateEncodeInto_t *empty_sector_update_encode_into(
    RegisteredUpdateProof_t registered_proof, slice_ref_uint8_t new_replica_path, slice_ref_uint8_t new_cache_dir_path,
    slice_ref_uint8_t sector_key_path, slice_ref_uint8_t sector_key_cache_dir_path, slice_ref_uint8_t staged_data_path,
    slice_ref_PublicPieceInfo_t pieces) {
    BEGIN("empty_sector_update_encode_into", Result_EmptySectorUpdateEncodeInto_t, "destroy_empty_sector_update_encode_into_response");
    CHECK_UPDATE(registered_proof);
    CHECK_PATH(new_replica_path, "new_replica_path", 0);
    CHECK_PATH(new_cache_dir_path, "new_cache_dir_path", 1);
    CHECK_PATH(sector_key_path, "sector_key_path", 0);
    CHECK_PATH(sector_key_cache_dir_path, "sector_key_cache_dir_path", 1);
    CHECK_PATH(staged_data_path, "staged_data_path", 0);
    CHECK_PIECES(pieces);
    uint8_32_array_t comm_d_new, comm_r_new, comm_r_last_new;
    struct transcript d = t_begin("commd");
    t_u64(&d, (uint64_t)registered_proof);
    t_pieces(&d, pieces);
    t_out32(&d, &comm_d_new);
    struct transcript c = t_begin("snap-commr");
    t_u64(&c, (uint64_t)registered_proof);
    t_slice(&c, sector_key_path);
    t_slice(&c, staged_data_path);
    t_a32(&c, &comm_d_new);
    t_out32(&c, &comm_r_new);
    struct transcript l = t_begin("snap-commr-last");
    t_a32(&l, &comm_r_new);
    t_out32(&l, &comm_r_last_new);
    char why[4400];
    if (write_sector_files(new_replica_path, new_cache_dir_path, (int)registered_proof, comm_r_new.idx, why, sizeof why) != 0) FAIL(RECEIVER_ERROR, "%s", why);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value.comm_d_new = comm_d_new;
    r->value.comm_r_new = comm_r_new;
    r->value.comm_r_last_new = comm_r_last_new;
    return r;
}

/// The update proof: 192 bytes D("snap-proof", update proof, comm_r_old, comm_r_new, comm_d_new).
static struct transcript snap_proof(int32_t proof, const uint8_32_array_t *old, const uint8_32_array_t *new_r,
                                    const uint8_32_array_t *new_d) {
    struct transcript t = t_begin("snap-proof");
    t_u64(&t, (uint64_t)proof);
    t_a32(&t, old);
    t_a32(&t, new_r);
    t_a32(&t, new_d);
    return t;
}

// Two partition proofs, 64 bytes each: D("snap-partition", update proof, comm_r_old, comm_r_new,
// comm_d_new, index); the four paths must exist.
Result_slice_boxed_slice_boxed_uint8_t *generate_empty_sector_update_partition_proofs(
    RegisteredUpdateProof_t registered_proof, uint8_32_array_t const *comm_r_old, uint8_32_array_t const *comm_r_new,
    uint8_32_array_t const *comm_d_new, slice_ref_uint8_t sector_key_path, slice_ref_uint8_t sector_key_cache_dir_path,
    slice_ref_uint8_t replica_path, slice_ref_uint8_t replica_cache_path) {
    BEGIN("generate_empty_sector_update_partition_proofs", Result_slice_boxed_slice_boxed_uint8_t,
          "destroy_generate_empty_sector_update_partition_proof_response");
    CHECK_UPDATE(registered_proof);
    CHECK_ARRAY(comm_r_old, "comm_r_old");
    CHECK_ARRAY(comm_r_new, "comm_r_new");
    CHECK_ARRAY(comm_d_new, "comm_d_new");
    CHECK_PATH(sector_key_path, "sector_key_path", 0);
    CHECK_PATH(sector_key_cache_dir_path, "sector_key_cache_dir_path", 1);
    CHECK_PATH(replica_path, "replica_path", 0);
    CHECK_PATH(replica_cache_path, "replica_cache_path", 1);
    enum { PARTITIONS = 2 };
    slice_boxed_uint8_t *proofs = calloc(PARTITIONS, sizeof *proofs);
    CHECK_ALLOC(proofs);
    for (size_t i = 0; i < PARTITIONS; i++) {
        struct transcript t = t_begin("snap-partition");
        t_u64(&t, (uint64_t)registered_proof);
        t_a32(&t, comm_r_old);
        t_a32(&t, comm_r_new);
        t_a32(&t, comm_d_new);
        t_u64(&t, i);
        proofs[i] = t_boxed(&t, 64);
        if (proofs[i].ptr == NULL) {
            for (size_t j = 0; j < i; j++) free(proofs[j].ptr);
            free(proofs);
            FAIL(RECEIVER_ERROR, "out of memory");
        }
    }
    response_t *r = NEW();
    if (r == NULL) {
        for (size_t i = 0; i < PARTITIONS; i++) free(proofs[i].ptr);
        free(proofs);
        return NULL;
    }
    r->value = (slice_boxed_slice_boxed_uint8_t){proofs, PARTITIONS};
    return r;
}

Result_slice_boxed_uint8_t *generate_empty_sector_update_proof_with_vanilla(
    RegisteredUpdateProof_t registered_proof, slice_ref_slice_boxed_uint8_t vanilla_proofs, uint8_32_array_t const *comm_r_old,
    uint8_32_array_t const *comm_r_new, uint8_32_array_t const *comm_d_new) {
    BEGIN("generate_empty_sector_update_proof_with_vanilla", Result_slice_boxed_uint8_t, "destroy_empty_sector_update_generate_proof_response");
    CHECK_UPDATE(registered_proof);
    if (vanilla_proofs.len == 0 || vanilla_proofs.ptr == NULL) FAIL(CALLER_ERROR, "no vanilla proofs");
    CHECK_ARRAY(comm_r_old, "comm_r_old");
    CHECK_ARRAY(comm_r_new, "comm_r_new");
    CHECK_ARRAY(comm_d_new, "comm_d_new");
    struct transcript t = snap_proof(registered_proof, comm_r_old, comm_r_new, comm_d_new);
    slice_boxed_uint8_t proof = t_boxed(&t, PROOF_BYTES);
    CHECK_ALLOC(proof.ptr);
    response_t *r = NEW();
    if (r == NULL) { free(proof.ptr); return NULL; }
    r->value = proof;
    return r;
}

Result_slice_boxed_uint8_t *generate_empty_sector_update_proof(
    RegisteredUpdateProof_t registered_proof, uint8_32_array_t const *comm_r_old, uint8_32_array_t const *comm_r_new,
    uint8_32_array_t const *comm_d_new, slice_ref_uint8_t sector_key_path, slice_ref_uint8_t sector_key_cache_dir_path,
    slice_ref_uint8_t replica_path, slice_ref_uint8_t replica_cache_path) {
    BEGIN("generate_empty_sector_update_proof", Result_slice_boxed_uint8_t, "destroy_empty_sector_update_generate_proof_response");
    CHECK_UPDATE(registered_proof);
    CHECK_ARRAY(comm_r_old, "comm_r_old");
    CHECK_ARRAY(comm_r_new, "comm_r_new");
    CHECK_ARRAY(comm_d_new, "comm_d_new");
    CHECK_PATH(sector_key_path, "sector_key_path", 0);
    CHECK_PATH(sector_key_cache_dir_path, "sector_key_cache_dir_path", 1);
    CHECK_PATH(replica_path, "replica_path", 0);
    CHECK_PATH(replica_cache_path, "replica_cache_path", 1);
    struct transcript t = snap_proof(registered_proof, comm_r_old, comm_r_new, comm_d_new);
    slice_boxed_uint8_t proof = t_boxed(&t, PROOF_BYTES);
    CHECK_ALLOC(proof.ptr);
    response_t *r = NEW();
    if (r == NULL) { free(proof.ptr); return NULL; }
    r->value = proof;
    return r;
}

Result_bool_t *verify_empty_sector_update_proof(RegisteredUpdateProof_t registered_proof, slice_ref_uint8_t proof,
                                                uint8_32_array_t const *comm_r_old, uint8_32_array_t const *comm_r_new,
                                                uint8_32_array_t const *comm_d_new) {
    BEGIN("verify_empty_sector_update_proof", Result_bool_t, "destroy_empty_sector_update_verify_proof_response");
    CHECK_UPDATE(registered_proof);
    CHECK_ARRAY(comm_r_old, "comm_r_old");
    CHECK_ARRAY(comm_r_new, "comm_r_new");
    CHECK_ARRAY(comm_d_new, "comm_d_new");
    if (proof.len > 0 && proof.ptr == NULL) FAIL(CALLER_ERROR, "null proof");
    uint8_t expected[PROOF_BYTES];
    struct transcript t = snap_proof(registered_proof, comm_r_old, comm_r_new, comm_d_new);
    t_out(&t, expected, sizeof expected);
    response_t *r = NEW();
    if (r == NULL) return NULL;
    r->value = proof.len == PROOF_BYTES && memcmp(proof.ptr, expected, PROOF_BYTES) == 0;
    return r;
}

// MARK: - Devices

// Two devices, "Double GPU 0" and "Double GPU 1".
Result_slice_boxed_slice_boxed_uint8_t *get_gpu_devices(void) {
    BEGIN("get_gpu_devices", Result_slice_boxed_slice_boxed_uint8_t, "destroy_gpu_device_response");
    enum { COUNT = 2 };
    slice_boxed_uint8_t *names = calloc(COUNT, sizeof *names);
    CHECK_ALLOC(names);
    for (size_t i = 0; i < COUNT; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "Double GPU %zu", i);
        names[i].ptr = malloc((size_t)len);
        if (names[i].ptr == NULL) {
            for (size_t j = 0; j < i; j++) free(names[j].ptr);
            free(names);
            FAIL(RECEIVER_ERROR, "out of memory");
        }
        memcpy(names[i].ptr, name, (size_t)len);
        names[i].len = (size_t)len;
    }
    response_t *r = NEW();
    if (r == NULL) {
        for (size_t i = 0; i < COUNT; i++) free(names[i].ptr);
        free(names);
        return NULL;
    }
    r->value = (slice_boxed_slice_boxed_uint8_t){names, COUNT};
    return r;
}

// MARK: - Destructors

#define RELEASE(name, type, free_value)                  \
    void name(type *ptr) {                               \
        if (!response_release(ptr, #name)) return;       \
        free(ptr->error_msg.ptr);                        \
        free_value;                                      \
    }

RELEASE(destroy_generate_piece_commitment_response, Result_GeneratePieceCommitment_t, (void)0)
RELEASE(destroy_generate_data_commitment_response, Result_uint8_32_array_t, (void)0)
RELEASE(destroy_write_with_alignment_response, Result_WriteWithAlignment_t, (void)0)
RELEASE(destroy_write_without_alignment_response, Result_WriteWithoutAlignment_t, (void)0)
RELEASE(destroy_seal_pre_commit_phase1_response, Result_slice_boxed_uint8_t, free(ptr->value.ptr))
RELEASE(destroy_seal_pre_commit_phase2_response, Result_SealPreCommitPhase2_t, (void)0)
RELEASE(destroy_generate_synth_proofs_response, Result_void_t, (void)0)
RELEASE(destroy_seal_commit_phase1_response, Result_slice_boxed_uint8_t, free(ptr->value.ptr))
RELEASE(destroy_seal_commit_phase2_response, Result_slice_boxed_uint8_t, free(ptr->value.ptr))
RELEASE(destroy_verify_seal_response, Result_bool_t, (void)0)
RELEASE(destroy_unseal_range_response, Result_void_t, (void)0)
RELEASE(destroy_clear_cache_response, Result_void_t, (void)0)
RELEASE(destroy_generate_window_post_response, Result_GenerateWindowPoSt_t, {
    for (size_t i = 0; i < ptr->value.proofs.len; i++) free(ptr->value.proofs.ptr[i].proof.ptr);
    free(ptr->value.proofs.ptr);
    free(ptr->value.faulty_sectors.ptr);
})
RELEASE(destroy_verify_window_post_response, Result_bool_t, (void)0)
RELEASE(destroy_generate_fallback_sector_challenges_response, Result_GenerateFallbackSectorChallenges_t, {
    for (size_t i = 0; i < ptr->value.challenges.len; i++) free(ptr->value.challenges.ptr[i].ptr);
    free(ptr->value.challenges.ptr);
    free(ptr->value.ids.ptr);
})
RELEASE(destroy_generate_single_vanilla_proof_response, Result_slice_boxed_uint8_t, free(ptr->value.ptr))
RELEASE(destroy_generate_empty_sector_update_partition_proof_response, Result_slice_boxed_slice_boxed_uint8_t, {
    for (size_t i = 0; i < ptr->value.len; i++) free(ptr->value.ptr[i].ptr);
    free(ptr->value.ptr);
})
RELEASE(destroy_empty_sector_update_encode_into_response, Result_EmptySectorUpdateEncodeInto_t, (void)0)
RELEASE(destroy_empty_sector_update_generate_proof_response, Result_slice_boxed_uint8_t, free(ptr->value.ptr))
RELEASE(destroy_empty_sector_update_verify_proof_response, Result_bool_t, (void)0)
RELEASE(destroy_gpu_device_response, Result_slice_boxed_slice_boxed_uint8_t, {
    for (size_t i = 0; i < ptr->value.len; i++) free(ptr->value.ptr[i].ptr);
    free(ptr->value.ptr);
})
