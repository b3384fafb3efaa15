/* autograd/strided.h — copies, accumulations and reductions over strided tensors, the
 * kernels below every op that moves data between views. */
#ifndef NABLA_AUTOGRAD_STRIDED_H
#define NABLA_AUTOGRAD_STRIDED_H

#include "tensor_impl.h"

/* Gradient reduction used by expand's backward: dst (shape D, contiguous) += sum of src (shape
 * S, contiguous, S broadcast from D) over the broadcast dims. */
NBI_FUNC void nbi_reduce_into(nb_tensor *dst, const nb_tensor *src);

/* dst (contiguous, x's shape) += src, where src may be any strided view. */
NBI_FUNC void nbi_accumulate(nb_tensor *dst, const nb_tensor *src);
/* Contiguous copy of strided src into dst buffer (same numel, same dtype). */
NBI_FUNC void nbi_copy_strided(void *dst, const nb_tensor *src);
/* dst (strided view) += src (contiguous) — scatter a view's gradient back into its base. */
NBI_FUNC void nbi_add_to_strided(nb_tensor *dst_view, const void *src);

/* dst (strided view) = src (contiguous, dst's shape); any dtype (copied by element size). */
NBI_FUNC void nbi_copy_to_strided(nb_tensor *dst, const void *src);
/* dst (strided view) = src (strided view of the same shape); any dtype. */
NBI_FUNC void nbi_copy_strided_to_strided(nb_tensor *dst, const nb_tensor *src);

/* d[i * drs + j * dcs] = s[i * srs + j * scs] for i < rows, j < cols, 4-byte elements (f32 data
 * copied as bits): in tiles, with 8 x 8 register transposes when one side is dense along i and
 * the other along j (e.g. packing row-major blocks into column panels for a GEMM kernel). */
NBI_FUNC void nbi_copy_2d_u32(uint32_t *d, int64_t drs, int64_t dcs, const uint32_t *s, int64_t srs,
                              int64_t scs, int64_t rows, int64_t cols);

/* Zeroed work memory for a kernel: from the active step's arena (released by nb_step_end, so
 * steady-state steps allocate nothing), else from the heap, and then *heap is set: release it
 * with nbi_free. NULL with NB_ERR_NOMEM (naming fn) when neither has room. */
NBI_FUNC void *nbi_work_alloc(const char *fn, size_t bytes, bool *heap);

#endif
