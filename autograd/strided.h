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

/* Zeroed work memory for a kernel: from the active step's arena (released by nb_step_end, so
 * steady-state steps allocate nothing), else from the heap, and then *heap is set: release it
 * with nbi_free. NULL with NB_ERR_NOMEM (naming fn) when neither has room. */
NBI_FUNC void *nbi_work_alloc(const char *fn, size_t bytes, bool *heap);

#endif
