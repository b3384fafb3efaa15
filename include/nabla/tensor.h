/* nabla/tensor.h — creating tensors, reading their shape and data, gradients.
 *
 * A tensor is a shape + strides + offset over a shared storage. Who owns a tensor:
 *   - tensors from nb_tensor_new / _zeros / _from_data / _copy / _view_new are the caller's:
 *     free them with nb_tensor_free (NULL is a no-op);
 *   - tensors returned by ops while a step is active live in that step's arena and are freed
 *     all at once by nb_step_end (nb_tensor_free on them does nothing);
 *   - ops called with no active step return caller-owned tensors and record nothing.
 * A caller-owned tensor's gradient (nb_tensor_grad) is owned by the tensor.
 *
 * Stale handles. An op result is valid until the nb_step_end of its step run; using it later is
 * a bug, and nabla reports it: every function that takes a tensor (ops, the accessors below,
 * nb_npy_save, nb_checkpoint_save, ...) fails with NB_ERR_STATE ("a tensor from a step that has
 * ended was used") and reads nothing but the handle's header, which the step keeps until
 * nb_step_free. Guarantee: a stale handle from one of the last 7 runs of its step is always
 * reported, never confused with a live tensor; in Debug and sanitizer builds headers are never
 * reused, so every stale handle is reported (memory: about 200 bytes per tensor an op makes,
 * released by nb_step_free). In Release an older stale handle may point at a header the step
 * has reused for a new tensor. A handle used after nb_step_free, or a caller-owned tensor used
 * after nb_tensor_free, is undefined behaviour as in any C API. */
#ifndef NABLA_TENSOR_H
#define NABLA_TENSOR_H

#include "nabla/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_tensor nb_tensor;

/* Shape literal: NB_SHAPE(d0, d1, ...) expands to the two arguments `ndim, shape` that every
 * function taking a shape expects, so a tensor is made in one line:
 *     nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(32, 784));
 *     nb_tensor *y = nb_reshape(x, NB_SHAPE(-1, 28, 28));
 * It is `2, (const int64_t[]){32, 784}`: a C99/C11 compound literal (not valid C++), which lives
 * until the end of the enclosing block. The dims may be any integer expressions and are
 * evaluated once. It needs at least one dim; the 0-dim (scalar) shape is NB_SHAPE_SCALAR. More
 * than NB_MAX_DIMS dims are reported by the function called (NB_ERR_SHAPE). */
#define NB_SHAPE(...)                                                                              \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[])                   \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
/* The shape of a 0-dim (scalar) tensor: `0, NULL`. */
#define NB_SHAPE_SCALAR 0, (const int64_t *)NULL

/* New contiguous tensor with uninitialised (but defined: zero) elements. ndim in [0, 8]
 * (0 = scalar), every dim >= 0. Errors: NB_ERR_SHAPE, NB_ERR_VALUE, NB_ERR_NOMEM -> NULL. */
NB_API nb_tensor *nb_tensor_new(nb_dtype dtype, int ndim, const int64_t *shape);
/* Same as nb_tensor_new; the elements are zero. */
NB_API nb_tensor *nb_tensor_zeros(nb_dtype dtype, int ndim, const int64_t *shape);
/* New tensor filled with `value`. */
NB_API nb_tensor *nb_tensor_full(nb_dtype dtype, int ndim, const int64_t *shape, double value);
/* New tensor holding a copy of `data` (numel elements of `dtype`, row-major). */
NB_API nb_tensor *nb_tensor_from_data(nb_dtype dtype, int ndim, const int64_t *shape,
                                      const void *data);
/* New tensor with elements uniform in [lo, hi) / normal(mean, std), drawn from rng. */
NB_API nb_tensor *nb_tensor_uniform(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                                    double lo, double hi);
NB_API nb_tensor *nb_tensor_normal(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                                   double mean, double std);
/* Caller-owned contiguous copy of t (same dtype), detached from any graph. */
NB_API nb_tensor *nb_tensor_copy(const nb_tensor *t);
/* Caller-owned copy of t converted to `dtype` (float <-> float, i64 <-> float). */
NB_API nb_tensor *nb_tensor_to_dtype(const nb_tensor *t, nb_dtype dtype);
/* Caller-owned contiguous tensor of `shape` that shares base's storage, starting `offset`
 * elements after base's first element. base must be contiguous and the view must fit inside
 * it. Used by modules that keep all parameters in one buffer. */
NB_API nb_tensor *nb_tensor_view_new(nb_tensor *base, int64_t offset, int ndim,
                                     const int64_t *shape);
/* Move caller-owned tensor t into base's storage: t's values are copied to the `offset`-th
 * element of base onward and t becomes a contiguous view there. The nb_tensor pointer stays
 * valid (with its gradient, requires_grad flag and shape); raw data pointers taken from it
 * before do not. t must be a contiguous leaf (not an op result, not in an arena) of base's dtype
 * and fit inside contiguous base. Used by containers to gather the parameters of a module tree
 * into one buffer. Errors: NB_ERR_VALUE (NULL), NB_ERR_DTYPE, NB_ERR_SHAPE, NB_ERR_STATE. */
NB_API nb_status nb_tensor_rebase(nb_tensor *t, nb_tensor *base, int64_t offset);
/* Copy src's values into dst (same numel and dtype; any strides). Detaches: nothing is recorded.
 * Use it to keep values past nb_step_end (e.g. RNN state). */
NB_API nb_status nb_tensor_copy_into(nb_tensor *dst, const nb_tensor *src);
/* In place, y = a * x + b * y (BLAS's axpby; PyTorch's y.mul_(b).add_(x, alpha=a)): y and x of
 * one shape and one float dtype, any strides (x may be y itself). With b = 0, y's old values are
 * not read (NaN or Inf there do not survive). Like nb_tensor_copy_into it records nothing: use
 * it on tensors no graph of the active step still reads, e.g. optimizer state and parameters in
 * a hand-written update under no-grad. In f32 the arithmetic is in float.
 * Errors: NB_ERR_VALUE (NULL, a or b not finite), NB_ERR_DTYPE, NB_ERR_SHAPE, NB_ERR_STATE. */
NB_API nb_status nb_tensor_axpby(nb_tensor *y, double a, const nb_tensor *x, double b);
/* Free a caller-owned tensor and its gradient. NULL and arena tensors: no-op. */
NB_API void nb_tensor_free(nb_tensor *t);
/* False for NULL and for an op result whose step run has ended (see "Stale handles" above); sets
 * no error. Everything else is live: caller-owned tensors and results of the active run. */
NB_API bool nb_tensor_is_live(const nb_tensor *t);

/* ---- shape and data ----
 * Each accessor given a stale op result sets NB_ERR_STATE and returns its neutral value (NULL,
 * -1, 0, NaN or false). */
NB_API nb_dtype nb_tensor_dtype(const nb_tensor *t);
NB_API int nb_tensor_ndim(const nb_tensor *t);
/* Size of dimension `dim` (negative counts from the end); -1 when out of range. */
NB_API int64_t nb_tensor_dim(const nb_tensor *t, int dim);
NB_API const int64_t *nb_tensor_shape(const nb_tensor *t);
NB_API const int64_t *nb_tensor_strides(const nb_tensor *t);
NB_API int64_t nb_tensor_numel(const nb_tensor *t);
NB_API bool nb_tensor_is_contiguous(const nb_tensor *t);
/* Pointer to the first element (offset applied). NULL if the dtype differs or t is NULL.
 * Element i of a contiguous tensor is data[i]; otherwise use the strides. */
NB_API float *nb_tensor_data_f32(nb_tensor *t);
NB_API double *nb_tensor_data_f64(nb_tensor *t);
NB_API int64_t *nb_tensor_data_i64(nb_tensor *t);
NB_API void *nb_tensor_data(nb_tensor *t);
/* Element at flat row-major index i (any strides, any dtype) as double; NaN when out of range. */
NB_API double nb_tensor_get(const nb_tensor *t, int64_t i);
/* Set element at flat row-major index i. An i64 tensor refuses NaN, Inf and values outside the
 * int64 range (NB_ERR_VALUE); the same holds for nb_tensor_fill and nb_tensor_to_dtype. */
NB_API nb_status nb_tensor_set(nb_tensor *t, int64_t i, double value);
/* Fill every element with value. */
NB_API nb_status nb_tensor_fill(nb_tensor *t, double value);
/* Scalar value of a one-element tensor (NaN otherwise). */
NB_API double nb_tensor_item(const nb_tensor *t);
/* Writes "[2, 3, 5]" into buf (always NUL-terminated); returns buf. */
NB_API char *nb_tensor_shape_str(const nb_tensor *t, char *buf, size_t size);
/* Print shape, dtype and up to `max_elems` values to stdout (debugging aid). */
NB_API void nb_tensor_print(const nb_tensor *t, const char *name, int max_elems);
/* True when both have the same shape and every |a - b| <= atol + rtol * |b|. */
NB_API bool nb_tensor_allclose(const nb_tensor *a, const nb_tensor *b, double rtol, double atol);

/* A tensor with a name (parameters and optimizer state listed for checkpoints). The name is
 * borrowed: it must outlive the use of the struct. */
typedef struct nb_named_tensor {
    const char *name;
    nb_tensor *tensor;
} nb_named_tensor;

/* ---- gradients ----
 * Only float tensors can require a gradient. A leaf (caller- or module-owned tensor) that
 * requires grad gets a gradient tensor of its own shape the first time backward reaches it;
 * nb_backward accumulates (+=) into it. */
NB_API nb_status nb_tensor_set_requires_grad(nb_tensor *t, bool requires_grad);
NB_API bool nb_tensor_requires_grad(const nb_tensor *t);
/* The gradient of t, or NULL if none has been computed yet. Owned by t. For an op result (an
 * intermediate of the graph) the gradient is kept only if nb_tensor_retain_grad(t) was called
 * before nb_backward: backward hands the memory of consumed intermediate gradients to later
 * ones, so without it nb_tensor_grad returns NULL for them. */
NB_API nb_tensor *nb_tensor_grad(nb_tensor *t);
/* Keep the gradient of op result t after nb_backward (like PyTorch's retain_grad), so that
 * nb_tensor_grad(t) can read it. Leaves keep theirs anyway. NB_ERR_VALUE if t is NULL. */
NB_API nb_status nb_tensor_retain_grad(nb_tensor *t);
/* Give leaf t the gradient tensor `grad` (same shape and dtype, contiguous; typically a view
 * into a module's gradient buffer). t takes ownership of `grad`. */
NB_API nb_status nb_tensor_attach_grad(nb_tensor *t, nb_tensor *grad);
/* Set t's gradient to zero (no-op if it has none). */
NB_API void nb_tensor_zero_grad(nb_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
