/* nabla/core.h — status codes, errors, dtypes, threads, seeded random numbers.
 *
 * Everything here is safe to call at any time. Errors are per thread: each thread has its own
 * "last error", and library calls never abort or exit on user input.
 *
 * Threads (docs/threads.md has the details): per thread are the last error, the active step,
 * grad mode, anomaly mode and the fault-injection counters. Objects owned by one thread — a step,
 * modules, an optimizer, tensors, a batcher, an nb_rng — may be used while other threads use
 * their own: two models trained on two threads give the same bits as trained one after the
 * other. Not safe: sharing one step, one module or one optimizer between threads that use it at
 * the same time (no locks; gradients accumulate with +=), and calling nb_set_num_threads while
 * other threads run ops (it is process-wide). Read-only sharing (a dataset, a model evaluated
 * with grad recording off, each thread in its own step) is fine.
 *
 * Bitwise reproducibility (docs/threads.md): with one thread count, the same inputs and seeds
 * give the same bits on every run, for every op and whole training runs (same build, same BLIS,
 * same kind of CPU). Across thread counts, elementwise ops, softmax, pooling, depthwise
 * convolution, reductions and optimizer updates give the same bits; matrix products (BLIS) and
 * the other convolutions agree only to rounding. */
#ifndef NABLA_CORE_H
#define NABLA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NB_BUILDING_LIBRARY) && defined(__GNUC__)
#define NB_API __attribute__((visibility("default")))
#else
#define NB_API
#endif

#define NB_VERSION_MAJOR 0
#define NB_VERSION_MINOR 1
#define NB_VERSION_PATCH 0

/* Maximum number of tensor dimensions. */
#define NB_MAX_DIMS 8

/* Result of a call that can fail. The message beside it comes from nb_last_error(). */
typedef enum nb_status {
    NB_OK = 0,
    NB_ERR_SHAPE,  /* shapes do not fit together */
    NB_ERR_DTYPE,  /* element types differ or are not accepted */
    NB_ERR_VALUE,  /* NaN/Inf, index or hyperparameter out of range, NULL argument */
    NB_ERR_NOMEM,  /* an allocation failed */
    NB_ERR_IO,     /* a file could not be opened, read or written */
    NB_ERR_FORMAT, /* truncated, corrupt or wrong-kind file, digest mismatch */
    NB_ERR_STATE,  /* call not allowed now (e.g. backward outside a step) */
} nb_status;

/* Element types. Float types are differentiable; NB_I64 holds class indices and token ids. */
typedef enum nb_dtype {
    NB_F32 = 0,
    NB_F64 = 1,
    NB_I64 = 2,
} nb_dtype;

/* Size in bytes of one element of `dtype` (0 for an unknown value). */
NB_API size_t nb_dtype_size(nb_dtype dtype);
/* "f32", "f64", "i64" or "?". */
NB_API const char *nb_dtype_name(nb_dtype dtype);
/* Short human name of a status ("ok", "shape error", ...). */
NB_API const char *nb_status_name(nb_status status);

/* First error not yet cleared on this thread, as "function: what: values"; "" when none.
 * The pointer stays valid until the next nb_clear_error() on this thread. */
NB_API const char *nb_last_error(void);
/* Status of the first error not yet cleared on this thread (NB_OK when none). */
NB_API nb_status nb_last_status(void);
/* Forget the pending error on this thread. nb_step_begin() also clears it. */
NB_API void nb_clear_error(void);

/* Threads used by BLIS and by the library's own parallel loops. The default comes from the
 * environment variable NB_NUM_THREADS, else 1. Values < 1 are treated as 1. Process-wide: set
 * it before starting threads that run ops, not while they run (nb_get_num_threads is safe from
 * any thread). Results depend on the count only through matrix products and non-depthwise
 * convolutions (rounding); with one count they are the same bits on every run. */
NB_API void nb_set_num_threads(int n);
NB_API int nb_get_num_threads(void);

/* Which GEMM library and kernels run every matrix product and convolution, e.g. "BLIS 0.9.0,
 * sub-configuration zen3 (chosen by nabla: ...)". BLIS picks its kernels from the CPU id, and
 * BLIS 0.9 does not know AMD's Zen 4 and Zen 5 models (it would run its portable fallback):
 * nabla selects BLIS's "zen3" kernels on AMD family 19h (Zen 3, Zen 4) and its AVX-512 "skx"
 * kernels on family 1Ah and later (Zen 5). Set NB_BLIS_ARCH to skx, zen3 or haswell to choose
 * one of those yourself, NB_BLIS_ARCH=blis to keep BLIS's own choice, or BLIS_ARCH_TYPE (a BLIS
 * arch id), which always wins. The string is static. */
NB_API const char *nb_blas_info(void);

/* ---- random numbers ----
 * An nb_rng is a small value type (xoshiro256** seeded through splitmix64): the same seed gives
 * the same sequence on every machine. Copy it to fork a stream; nothing here is global. */
typedef struct nb_rng {
    uint64_t s[4];
} nb_rng;

NB_API nb_rng nb_rng_seed(uint64_t seed);
/* Uniform 64-bit integer. */
NB_API uint64_t nb_rng_u64(nb_rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
NB_API double nb_rng_uniform(nb_rng *rng);
/* Standard normal (Box-Muller; each draw consumes two uniforms, nothing is cached). */
NB_API double nb_rng_normal(nb_rng *rng);
/* Uniform integer in [0, n) without modulo bias; 0 when n == 0. */
NB_API uint64_t nb_rng_below(nb_rng *rng, uint64_t n);
/* Fisher-Yates shuffle of n int64 values in place. */
NB_API void nb_rng_shuffle_i64(nb_rng *rng, int64_t *v, int64_t n);
/* Quantile of the standard normal distribution (the inverse of its CDF, scipy's ndtri, torch's
 * Normal(0, 1).icdf): the x with P(X <= x) = p. Accurate to a few units in the last place of a
 * double (Acklam's rational approximation refined by a Halley step on erfc). p = 0 gives
 * -INFINITY, p = 1 +INFINITY; p outside [0, 1] or NaN gives NaN with NB_ERR_VALUE set. */
NB_API double nb_normal_quantile(double p);

/* ---- for code built on the public API (nn/, optim/, your own modules) ----
 * Record an error the way library functions do: status and a printf-style message, by
 * convention "function: what: values". Like every nabla error it keeps the first pending message
 * (a later error never overwrites it). Returns status. */
NB_API nb_status nb_set_error(nb_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Allocation through the library's funnel (counted and fault-injectable like the library's own
 * allocations; see below). They set no error: on NULL report NB_ERR_NOMEM yourself. Memory from
 * them is released with nb_free (NULL is a no-op). */
NB_API void *nb_malloc(size_t size);
NB_API void *nb_calloc(size_t count, size_t size);
NB_API void *nb_realloc(void *p, size_t size);
NB_API void nb_free(void *p);

/* ---- fault injection (tests) ----
 * Make the n-th library allocation from now fail (1 = the next one); 0 disables. Every
 * allocation the library makes goes through one function, so out-of-memory paths are testable. */
NB_API void nb_debug_fail_alloc_after(long n);
/* Number of library allocations made so far on this thread (for sweeping fail points). */
NB_API long nb_debug_alloc_count(void);

#ifdef __cplusplus
}
#endif
#endif
