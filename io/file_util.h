/* io/file_util.h — file helpers shared by the nn/ readers and writers (checkpoints, npy, IDX,
 * CIFAR, CSV, PNG): atomic replacement of a file, whole-file reads, little-endian fields.
 * Internal to nn/: built on the public API only. */
#ifndef NABLA_NN_FILE_UTIL_H
#define NABLA_NN_FILE_UTIL_H

#include "nabla/core.h"

#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define NBI_FUNC __attribute__((visibility("hidden")))
#else
#define NBI_FUNC
#endif

/* A file being written in place of `path`: the bytes go to a fresh temp file
 * "<path>.tmp-<pid>-<n>" in the same directory; nbi_atomic_commit syncs it and renames it over
 * `path` (then syncs the directory), nbi_atomic_abort removes it. Until the commit, an existing
 * file at `path` is untouched. A writer killed mid-write leaves its temp file behind: each
 * nbi_atomic_open first removes the temp files of `path` whose pid names no running process, so
 * they stay bounded by the number of writers running (one per save in progress). */
typedef struct nbi_atomic_file {
    FILE *fp;
    char *tmp;        /* temp path (nb_malloc'd) */
    const char *path; /* borrowed */
    const char *fn;   /* function name for messages */
    bool failed;      /* a write failed: the error is set, commit refuses */
} nbi_atomic_file;

/* Create the temp file. Errors: NB_ERR_VALUE (NULL/empty path), NB_ERR_IO, NB_ERR_NOMEM. */
NBI_FUNC nb_status nbi_atomic_open(nbi_atomic_file *af, const char *fn, const char *path);
/* Write n bytes; on failure sets NB_ERR_IO naming the file (once) and marks af failed. */
NBI_FUNC nb_status nbi_atomic_write(nbi_atomic_file *af, const void *data, size_t n);
/* Flush, fsync, close, rename over path, fsync the directory. On failure the temp file is
 * removed and the error set. Either way af is finished (no abort needed). */
NBI_FUNC nb_status nbi_atomic_commit(nbi_atomic_file *af);
/* Close and remove the temp file (after an error). Safe on a finished or zeroed af. */
NBI_FUNC void nbi_atomic_abort(nbi_atomic_file *af);

/* Every reader opens a user path through these. Only a regular file is opened: a FIFO, a
 * device, a directory or a socket is refused by stat before any open (opening a FIFO for
 * reading waits for a writer; opening a device can have effects), and again by fstat after an
 * open with O_NONBLOCK (in case the path changed in between), so a reader never blocks in open.
 * The message names fn, the path and what it is: "nb_npy_load: x.npy is a FIFO, not a regular
 * file". */

/* Open the regular file `path` for reading: a blocking, close-on-exec descriptor, its size in
 * *size; -1 on error. Errors: NB_ERR_VALUE (NULL path), NB_ERR_IO (cannot open, not a regular
 * file). */
NBI_FUNC int nbi_open_regular(const char *fn, const char *path, uint64_t *size);

/* The same as a stdio stream ("rb"); NULL on error (NB_ERR_NOMEM too). */
NBI_FUNC FILE *nbi_fopen_regular(const char *fn, const char *path, uint64_t *size);

/* Read the whole regular file `path` into a new nb_malloc'd buffer (*size bytes; one extra NUL
 * byte is appended and not counted). Errors: NB_ERR_VALUE (NULL path), NB_ERR_IO (cannot open,
 * not a regular file, read error), NB_ERR_NOMEM. */
NBI_FUNC nb_status nbi_read_file(const char *fn, const char *path, unsigned char **data,
                                 size_t *size);

/* A set of names (pointer and length, not copied, not NUL-terminated) each with a value, for
 * duplicate checks and lookups in expected linear time: open addressing over XXH3-64 hashes with
 * a per-set seed that a crafted file cannot predict (no input makes it quadratic). Sized once
 * for at most `n` names. */
typedef struct nbi_name_slot {
    const char *name; /* NULL: empty */
    size_t len;
    int64_t value;
} nbi_name_slot;

typedef struct nbi_name_set {
    nbi_name_slot *slots;
    size_t mask;
    uint64_t seed;
} nbi_name_set;

/* Room for n names. Returns NB_ERR_NOMEM without setting a message (the caller names it). */
NBI_FUNC nb_status nbi_name_set_init(nbi_name_set *s, size_t n);
/* Add name -> value (value >= 0) unless the name is there: returns the value already stored
 * under it, or -1 when it was added. */
NBI_FUNC int64_t nbi_name_set_add(nbi_name_set *s, const char *name, size_t len, int64_t value);
/* The value stored under name, -1 when absent. */
NBI_FUNC int64_t nbi_name_set_find(const nbi_name_set *s, const char *name, size_t len);
/* Free the slots (safe on a zeroed set). */
NBI_FUNC void nbi_name_set_free(nbi_name_set *s);

/* True when `path` names an existing regular file. */
NBI_FUNC bool nbi_file_exists(const char *path);

/* True when `s` ends with `suffix`. */
NBI_FUNC bool nbi_ends_with(const char *s, const char *suffix);

/* Last path component (pointer into path), for short messages. */
NBI_FUNC const char *nbi_basename(const char *path);

/* True on a little-endian host. */
static inline bool nbi_host_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static inline void nbi_put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void nbi_put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t nbi_get_u32le(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t nbi_get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint32_t nbi_get_u32be(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Copy n elements of `size` bytes from src to dst, reversing each element's bytes (host order
 * <-> little-endian on a big-endian host). */
static inline void nbi_swap_copy(void *dst, const void *src, size_t n, size_t size)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < size; b++)
            d[i * size + b] = s[i * size + size - 1 - b];
}

#endif
