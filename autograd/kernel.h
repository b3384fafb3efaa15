/* autograd/kernel.h — loop helpers for kernels: fixed-block parallel loops, strided walks, and
 * typed element access (the kernels themselves are written once for float and double as in
 * nabla/typed.h, which also gives NB_DISPATCH, the call of a kernel by dtype). */
#ifndef NABLA_AUTOGRAD_KERNEL_H
#define NABLA_AUTOGRAD_KERNEL_H

#include "tensor_impl.h"

#include "nabla/typed.h" /* NB_DISPATCH */

#include <omp.h>

/* Elementwise loop over [0, n) split into fixed blocks of NBI_BLOCK elements, the blocks shared
 * among nt OpenMP threads: every element goes through the same code (vector body or scalar
 * remainder of its block) whatever the thread count, so results are bitwise the same on 1 or
 * many threads. BODY sees the block's bounds lo, hi (typically an `omp simd` loop). With one
 * thread the blocks run without an OpenMP region: `omp parallel if (false)` still sets up a
 * one-thread team, which cost more than the whole op on small tensors (bench/dispatch_bench.c). */
#define NBI_BLOCK 4096
#define NBI_PARALLEL_BLOCKS(n, nt, lo, hi, ...)                                                    \
    do {                                                                                           \
        const int64_t n_ = (n), nblk_ = (n_ + NBI_BLOCK - 1) / NBI_BLOCK;                          \
        if ((nt) > 1) {                                                                            \
            _Pragma("omp parallel for num_threads(nt) schedule(static)") for (int64_t b_ = 0;      \
                                                                              b_ < nblk_; b_++)    \
            {                                                                                      \
                const int64_t lo = b_ * NBI_BLOCK, hi = n_ - lo < NBI_BLOCK ? n_ : lo + NBI_BLOCK; \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t b_ = 0; b_ < nblk_; b_++) {                                               \
                const int64_t lo = b_ * NBI_BLOCK, hi = n_ - lo < NBI_BLOCK ? n_ : lo + NBI_BLOCK; \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* A loop over [0, n) whose indices are independent (each writes its own outputs), split among
 * nt OpenMP threads in contiguous static ranges: BODY runs once per thread with its range
 * [lo, hi). With one thread, or inside a parallel region already (conv's per-thread chunks), it
 * runs once over [0, n) on the calling thread with no region at all: entering one, even a
 * one-thread region (`omp parallel if (false)`), costs a futex system call. */
#define NBI_PARALLEL_RANGE(n, nt, lo, hi, ...)                                                     \
    do {                                                                                           \
        const int64_t n_ = (n);                                                                    \
        if ((nt) > 1 && n_ > 1 && !omp_in_parallel()) {                                            \
            _Pragma("omp parallel num_threads(nt)")                                                \
            {                                                                                      \
                const int64_t t_ = omp_get_thread_num(), k_ = omp_get_num_threads();               \
                const int64_t lo = n_ * t_ / k_, hi = n_ * (t_ + 1) / k_;                          \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            const int64_t lo = 0, hi = n_;                                                         \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    } while (0)

/* A walk over the rows of up to NBI_ROWS_MAX operands of one shape, each with its own strides
 * (broadcast views have stride 0): the last dim is the row, which the caller runs as a plain
 * inner loop (vectorised when its strides are 1 or 0); the walk steps the outer dims. After
 * nbi_rows_init, and after each nbi_rows_next that returned true, `off[k]` is the storage
 * offset of operand k's row (relative to its first element), `st[k]` its stride along the row,
 * `len` the row length and `i0` the row's flat (row-major) index. A shape of 0 dims is one row
 * of one element (strides 0).
 *
 *     nbi_rows r;
 *     const int64_t *const st[] = {a->strides, b->strides};
 *     for (bool more = nbi_rows_init(&r, 2, a->ndim, a->shape, st); more; more = nbi_rows_next(&r))
 *         for (int64_t k = 0; k < r.len; k++) ...pa[r.off[0] + k * r.st[0]]...
 *
 * The functions inline to the index arithmetic of a hand-written walk. */
#define NBI_ROWS_MAX 3
typedef struct {
    int nd, nops;                                /* dims (the last is the row), operands */
    const int64_t *shape;                        /* nd sizes */
    const int64_t *strides[NBI_ROWS_MAX];        /* each operand's nd strides */
    int64_t len, i0;                             /* row length, flat index of the row's start */
    int64_t st[NBI_ROWS_MAX], off[NBI_ROWS_MAX]; /* row stride, row offset of each operand */
    int64_t idx[NB_MAX_DIMS];                    /* position in the outer dims */
} nbi_rows;

/* Start walk r over nops operands of shape[0..nd) with strides[k][0..nd). Returns false (no row)
 * when the shape has no element. */
static inline bool nbi_rows_init(nbi_rows *r, int nops, int nd, const int64_t *shape,
                                 const int64_t *const *strides)
{
    bool any = true;
    r->nd = nd, r->nops = nops, r->shape = shape;
    r->len = nd ? shape[nd - 1] : 1, r->i0 = 0;
    for (int d = 0; d < nd; d++) {
        r->idx[d] = 0;
        any = any && shape[d] > 0;
    }
    for (int k = 0; k < nops; k++) {
        r->strides[k] = strides[k];
        r->st[k] = nd ? strides[k][nd - 1] : 0;
        r->off[k] = 0;
    }
    return any;
}

/* Step walk r to its next row; false after the last one. */
static inline bool nbi_rows_next(nbi_rows *r)
{
    r->i0 += r->len;
    for (int d = r->nd - 2; d >= 0; d--) {
        for (int k = 0; k < r->nops; k++)
            r->off[k] += r->strides[k][d];
        if (++r->idx[d] < r->shape[d])
            return true;
        for (int k = 0; k < r->nops; k++)
            r->off[k] -= r->strides[k][d] * r->shape[d];
        r->idx[d] = 0;
    }
    return false;
}

/* Visit every element of the (possibly strided) tensor T in row-major order (its row walk,
 * nbi_rows). BODY sees `i`, the flat index, and `off`, the element's storage offset relative to
 * T's first element. */
#define NBI_FOR_STRIDED(T, i, off, ...)                                                            \
    do {                                                                                           \
        const nb_tensor *t_ = (T);                                                                 \
        nbi_rows r_;                                                                               \
        for (bool more_ = nbi_rows_init(&r_, 1, t_->ndim, t_->shape,                               \
                                        (const int64_t *const[]){t_->strides});                    \
             more_; more_ = nbi_rows_next(&r_)) {                                                  \
            const int64_t len_ = r_.len, i0_ = r_.i0, o_ = r_.off[0], s_ = r_.st[0];               \
            for (int64_t k_ = 0; k_ < len_; k_++) {                                                \
                const int64_t i = i0_ + k_, off = o_ + k_ * s_;                                    \
                (void)i;                                                                           \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Same over two tensors of one shape, A and B, with their own strides (offa, offb). */
#define NBI_FOR_STRIDED2(A, B, i, offa, offb, ...)                                                 \
    do {                                                                                           \
        const nb_tensor *ta_ = (A), *tb_ = (B);                                                    \
        nbi_rows r_;                                                                               \
        for (bool more_ = nbi_rows_init(&r_, 2, ta_->ndim, ta_->shape,                             \
                                        (const int64_t *const[]){ta_->strides, tb_->strides});     \
             more_; more_ = nbi_rows_next(&r_)) {                                                  \
            const int64_t len_ = r_.len, i0_ = r_.i0, oa_ = r_.off[0], sa_ = r_.st[0];             \
            const int64_t ob_ = r_.off[1], sb_ = r_.st[1];                                         \
            for (int64_t k_ = 0; k_ < len_; k_++) {                                                \
                const int64_t i = i0_ + k_, offa = oa_ + k_ * sa_, offb = ob_ + k_ * sb_;          \
                (void)i;                                                                           \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Typed element access for kernels written once for float and double. */
#define NBI_F32(t) ((float *)nbi_data(t))
#define NBI_F64(t) ((double *)nbi_data(t))

#endif
