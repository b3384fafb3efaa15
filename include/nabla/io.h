/* nabla/io.h — checkpoints of named tensors, NumPy .npy files, 64-bit content digests.
 *
 * Checkpoints store a list of nb_named_tensor (parameters, optimizer state) in the little-endian
 * format described in docs/checkpoint-format.md, sealed by an XXH3-64 digest. Saving is atomic
 * (temp file in the same directory, fsync, rename, fsync of the directory): a crash or an error
 * during a save leaves the previous file as it was. Loading is all-or-nothing: the whole file,
 * its digest and every name, dtype and shape are checked before any destination is written.
 *
 * Every function reports failure as a status (or NULL) with nb_last_error() naming the function,
 * the file and the problem, e.g.
 *   "nb_checkpoint_load: net.ckpt: tensor 'fc1.weight' is f32 [10, 784] in the file but
 *    f32 [10, 100] in the destination". */
#ifndef NABLA_IO_H
#define NABLA_IO_H

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- digests (XXH3, 64 bit) ---- */

/* XXH3-64 of `size` bytes at `data` with `seed`. data may be NULL when size is 0. */
NB_API uint64_t nb_digest64(const void *data, size_t size, uint64_t seed);

/* Streaming form: feeding the same bytes in any number of pieces gives nb_digest64's value. */
typedef struct nb_digest nb_digest;
/* New digest state; NULL on NB_ERR_NOMEM. Free with nb_digest_free (NULL is a no-op). */
NB_API nb_digest *nb_digest_new(uint64_t seed);
NB_API void nb_digest_update(nb_digest *d, const void *data, size_t size);
/* Digest of everything fed so far (the state stays usable). */
NB_API uint64_t nb_digest_value(const nb_digest *d);
NB_API void nb_digest_free(nb_digest *d);

/* ---- checkpoints ---- */

/* Current format version written by nb_checkpoint_save. */
#define NB_CHECKPOINT_VERSION 1
/* Longest tensor name a checkpoint accepts, in bytes. */
#define NB_CHECKPOINT_MAX_NAME 1024

/* Write the n tensors of `src` (any dtype, any strides; names non-empty, at most
 * NB_CHECKPOINT_MAX_NAME bytes, all different) to `path`, atomically replacing an existing file.
 * Errors: NB_ERR_VALUE (NULL or duplicate names, NULL tensors, n < 0), NB_ERR_IO (cannot create
 * the temp file, write, sync or rename; the temp file is removed), NB_ERR_NOMEM. On any error an
 * existing file at `path` is left untouched. */
NB_API nb_status nb_checkpoint_save(const char *path, const nb_named_tensor *src, int n);

/* Read `path` into the n tensors of `dst`: the file must hold exactly these names (in any
 * order), each with the destination's dtype and shape. The file is read whole and checked
 * (magic, version, sizes, digest, names, dtypes, shapes) before any value is written; on error
 * no destination changes. Destinations may be non-contiguous views.
 * Errors: NB_ERR_IO (cannot open/read), NB_ERR_FORMAT (not a checkpoint, unsupported version,
 * truncated, digest mismatch, malformed entry), NB_ERR_SHAPE / NB_ERR_DTYPE (a tensor differs:
 * the message names it and gives both shapes), NB_ERR_VALUE (a name missing from the file, a
 * name in the file that dst does not list, duplicate or NULL names in dst), NB_ERR_NOMEM. */
NB_API nb_status nb_checkpoint_load(const char *path, const nb_named_tensor *dst, int n);

/* One entry of a checkpoint's table of contents. */
typedef struct nb_checkpoint_entry {
    char *name; /* NUL-terminated, owned by the nb_checkpoint_toc */
    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    int64_t numel;
    uint64_t offset; /* byte offset of the tensor's data in the file */
} nb_checkpoint_entry;

typedef struct nb_checkpoint_toc {
    uint32_t version;
    int64_t count;
    nb_checkpoint_entry *entries; /* count entries, in file order */
    uint64_t file_size;
    uint64_t digest; /* the verified XXH3-64 stored at the end of the file */
} nb_checkpoint_toc;

/* Read and verify `path` (like nb_checkpoint_load, digest included) and return its table of
 * contents, or NULL on error (same statuses as nb_checkpoint_load's file checks). The caller
 * frees it with nb_checkpoint_toc_free (NULL is a no-op). */
NB_API nb_checkpoint_toc *nb_checkpoint_read_toc(const char *path);
NB_API void nb_checkpoint_toc_free(nb_checkpoint_toc *toc);

/* Load one tensor by name from `path` as a new caller-owned contiguous tensor (the whole file is
 * verified first). NULL on error; NB_ERR_VALUE when the name is not in the file. */
NB_API nb_tensor *nb_checkpoint_load_tensor(const char *path, const char *name);

/* ---- training checkpoints: a module and its optimizer ----
 * One checkpoint file holding a module's parameters and buffers (nn.h; BatchNorm's running
 * statistics), named "model.<path>" ("model.0.weight", "model.1.running_mean", like PyTorch's
 * state_dict), and optionally an optimizer's state, named "optim.<state name>" ("optim.step",
 * "optim.0.weight.momentum_buffer"). Loading both into a freshly built model and optimizer of the
 * same configuration resumes training exactly: the following steps give bit-identical
 * parameters to an uninterrupted run. */
typedef struct nb_module nb_module;
typedef struct nb_optim nb_optim;
/* Save module's parameters and buffers and, when optim is not NULL, optim's state to `path`
 * (atomically, like nb_checkpoint_save). Errors: NB_ERR_VALUE (NULL path or module, a module
 * with neither parameters nor buffers), NB_ERR_IO, NB_ERR_NOMEM; an existing file is then left
 * untouched. */
NB_API nb_status nb_checkpoint_save_model(const char *path, nb_module *module, nb_optim *optim);
/* Load a file written by nb_checkpoint_save_model into module and, when optim is not NULL, into
 * optim's state (the file must then hold it). With optim NULL, optimizer entries in the file are
 * read, checked and ignored. All-or-nothing: on error neither the module nor the optimizer
 * changes. Errors: as nb_checkpoint_load, in particular NB_ERR_SHAPE when a parameter has
 * another shape in the file (the message names the tensor and both shapes, e.g. "tensor
 * 'model.0.weight' is f32 [10, 784] in the file but f32 [10, 100] in the destination") and
 * NB_ERR_VALUE when the file lacks a parameter or buffer or holds one the module does not have
 * (another architecture), or holds no optimizer state while optim is given. A file saved before
 * checkpoints held buffers (no "model.*.running_mean" for a module with BatchNorm) is refused
 * with NB_ERR_VALUE saying so; its parameters can still be read with nb_checkpoint_load_tensor
 * or with nb_checkpoint_load and the names of nb_module_named_params prefixed by "model.". */
NB_API nb_status nb_checkpoint_load_model(const char *path, nb_module *module, nb_optim *optim);

/* ---- NumPy .npy ---- */

/* Write t (f32, f64 or i64; any strides) as a NumPy format 1.0 file: '<f4' / '<f8' / '<i8',
 * C order, shape = t's shape (0-dim -> "()"). Written atomically like checkpoints.
 * Errors: NB_ERR_VALUE (NULL), NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_npy_save(const char *path, const nb_tensor *t);

/* Read a .npy file (format 1.0 or 2.0; dtype '<f4', '<f8' or '<i8'; C order; at most
 * NB_MAX_DIMS dims) as a new caller-owned tensor. NULL on error: NB_ERR_IO, NB_ERR_FORMAT (bad
 * magic or header, unsupported dtype, Fortran order, size that disagrees with the shape),
 * NB_ERR_NOMEM. */
NB_API nb_tensor *nb_npy_load(const char *path);

#ifdef __cplusplus
}
#endif
#endif
