/* autograd/kernel.h — loop helpers for kernels: fixed-block parallel loops, strided walks, and
 * typed element access (the kernels themselves are written once for float and double as in
 * nabla/typed.h, which also gives NB_DISPATCH, the call of a kernel by dtype). */
#ifndef NABLA_AUTOGRAD_KERNEL_H
#define NABLA_AUTOGRAD_KERNEL_H

#include "tensor_impl.h"

#include "nabla/typed.h" /* NB_DISPATCH */

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

/* Visit every element of the (possibly strided) tensor T in row-major order. BODY sees `i`, the
 * flat index, and `off`, the element's storage offset relative to T's first element. */
#define NBI_FOR_STRIDED(T, i, off, ...)                                                            \
    do {                                                                                           \
        const nb_tensor *t_ = (T);                                                                 \
        const int nd_ = t_->ndim;                                                                  \
        const int64_t nin_ = nd_ ? t_->shape[nd_ - 1] : 1, sin_ = nd_ ? t_->strides[nd_ - 1] : 0;  \
        int64_t idx_[NB_MAX_DIMS] = {0}, base_ = 0, i = 0;                                         \
        if (t_->numel > 0)                                                                         \
            for (;;) {                                                                             \
                for (int64_t k_ = 0; k_ < nin_; k_++, i++) {                                       \
                    const int64_t off = base_ + k_ * sin_;                                         \
                    __VA_ARGS__                                                                    \
                }                                                                                  \
                int d_ = nd_ - 2;                                                                  \
                for (; d_ >= 0; d_--) {                                                            \
                    base_ += t_->strides[d_];                                                      \
                    if (++idx_[d_] < t_->shape[d_])                                                \
                        break;                                                                     \
                    base_ -= t_->strides[d_] * t_->shape[d_];                                      \
                    idx_[d_] = 0;                                                                  \
                }                                                                                  \
                if (d_ < 0)                                                                        \
                    break;                                                                         \
            }                                                                                      \
        (void)i;                                                                                   \
    } while (0)

/* Same over two tensors of one shape, A and B, with their own strides (offa, offb). */
#define NBI_FOR_STRIDED2(A, B, i, offa, offb, ...)                                                 \
    do {                                                                                           \
        const nb_tensor *ta_ = (A), *tb_ = (B);                                                    \
        const int nd_ = ta_->ndim;                                                                 \
        const int64_t nin_ = nd_ ? ta_->shape[nd_ - 1] : 1;                                        \
        const int64_t sa_ = nd_ ? ta_->strides[nd_ - 1] : 0,                                       \
                      sb_ = nd_ ? tb_->strides[nd_ - 1] : 0;                                       \
        int64_t idx_[NB_MAX_DIMS] = {0}, ba_ = 0, bb_ = 0, i = 0;                                  \
        if (ta_->numel > 0)                                                                        \
            for (;;) {                                                                             \
                for (int64_t k_ = 0; k_ < nin_; k_++, i++) {                                       \
                    const int64_t offa = ba_ + k_ * sa_, offb = bb_ + k_ * sb_;                    \
                    __VA_ARGS__                                                                    \
                }                                                                                  \
                int d_ = nd_ - 2;                                                                  \
                for (; d_ >= 0; d_--) {                                                            \
                    ba_ += ta_->strides[d_];                                                       \
                    bb_ += tb_->strides[d_];                                                       \
                    if (++idx_[d_] < ta_->shape[d_])                                               \
                        break;                                                                     \
                    ba_ -= ta_->strides[d_] * ta_->shape[d_];                                      \
                    bb_ -= tb_->strides[d_] * tb_->shape[d_];                                      \
                    idx_[d_] = 0;                                                                  \
                }                                                                                  \
                if (d_ < 0)                                                                        \
                    break;                                                                         \
            }                                                                                      \
        (void)i;                                                                                   \
    } while (0)

/* Typed element access for kernels written once for float and double. */
#define NBI_F32(t) ((float *)nbi_data(t))
#define NBI_F64(t) ((double *)nbi_data(t))

#endif
