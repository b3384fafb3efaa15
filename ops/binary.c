/* ops/binary.c — broadcasting elementwise ops: add, sub, mul, div, maximum, minimum, pow.
 *
 * The engine hands these ops inputs already expanded to the output shape (stride-0 views where
 * broadcast), so each kernel reads a and b through their strides and never reduces: the
 * gradient of a broadcast input is summed back by expand's backward. Each op is one line of
 * the table below: forward F(a, b), and the partial derivatives DA, DB (may use y = F(a, b)):
 *   da += dy * DA,  db += dy * DB.
 * maximum/minimum propagate NaN from either operand (PyTorch's torch.maximum); on a tie the
 * gradient goes to a; at NaN it goes to both operands, as neither compares below the other
 * (PyTorch's rule). pow follows torch.pow's gradient conventions at 0: d/da is 0 where b = 0
 * (so 0^0 = 1 has gradient 0, not 0 * 0^-1 = NaN), and d/db = y log(a) is 0 where a = 0 and
 * b >= 0 (0^b is constant there), while for a = 0, b < 0 it is y log(a) = -inf. pow and log
 * are libmvec's vector variants (ops/vmath.h), so pow vectorises like the others. */
#include "ops/op_def.h"

#include <tgmath.h>

#include "ops/vmath.h"

#define BINARY_OPS(X)                                                                              \
    X(add, ADD, a + b, 1, 1)                                                                       \
    X(sub, SUB, a - b, 1, -1)                                                                      \
    X(mul, MUL, a *b, b, a)                                                                        \
    X(div, DIV, a / b, 1 / b, -y / b)                                                              \
    X(maximum, MAXIMUM, a >= b || a != a ? a : b, !(a < b), !(a >= b))                             \
    X(minimum, MINIMUM, a <= b || a != a ? a : b, !(a > b), !(a <= b))                             \
    X(pow, POW, pow(a, b), b == 0 ? (T)0 : b * pow(a, b - 1), a == 0 && b >= 0 ? (T)0 : y * log(a))

static nb_status binary_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    *dtype = r->in[0]->dtype;
    return nbi_broadcast_shape(r->def->api, r->in[0], r->in[1], ndim, shape);
}

/* Visit tensors A and B (one shape, own strides) row by row: BODY sees the row's storage
 * offsets ra, rb, its flat start i0, and the row length n_ and strides sa_, sb_ of the last dim. */
#define FOR_ROWS2(A, B, ra, rb, i0, ...)                                                           \
    do {                                                                                           \
        const nb_tensor *ta_ = (A), *tb_ = (B);                                                    \
        const int nd_ = ta_->ndim;                                                                 \
        const int64_t n_ = nd_ ? ta_->shape[nd_ - 1] : 1;                                          \
        const int64_t sa_ = nd_ ? ta_->strides[nd_ - 1] : 0,                                       \
                      sb_ = nd_ ? tb_->strides[nd_ - 1] : 0;                                       \
        int64_t idx_[NB_MAX_DIMS] = {0}, ra = 0, rb = 0, i0 = 0;                                   \
        if (ta_->numel > 0)                                                                        \
            for (;; i0 += n_) {                                                                    \
                __VA_ARGS__                                                                        \
                int d_ = nd_ - 2;                                                                  \
                for (; d_ >= 0; d_--) {                                                            \
                    ra += ta_->strides[d_];                                                        \
                    rb += tb_->strides[d_];                                                        \
                    if (++idx_[d_] < ta_->shape[d_])                                               \
                        break;                                                                     \
                    ra -= ta_->strides[d_] * ta_->shape[d_];                                       \
                    rb -= tb_->strides[d_] * tb_->shape[d_];                                       \
                    idx_[d_] = 0;                                                                  \
                }                                                                                  \
                if (d_ < 0)                                                                        \
                    break;                                                                         \
            }                                                                                      \
    } while (0)

/* One row of n_ elements: STMT for k in [0, n_), with a = pa[k * sa_], b = pb[k * sb_], flat
 * index i = i0 + k. The common stride pairs (dense rows, one operand broadcast along the row)
 * get loops the compiler vectorises. */
#define ROW_LOOP(pa, pb, ...)                                                                      \
    do {                                                                                           \
        if (sa_ == 1 && sb_ == 1) {                                                                \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k], b = (pb)[k];                                                  \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else if (sa_ == 1 && sb_ == 0) {                                                         \
            const T b = (pb)[0];                                                                   \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k];                                                               \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else if (sa_ == 0 && sb_ == 1) {                                                         \
            const T a = (pa)[0];                                                                   \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T b = (pb)[k];                                                               \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t k = 0; k < n_; k++) {                                                     \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k * sa_], b = (pb)[k * sb_];                                      \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Gradients: g (contiguous, the input's gradient) is written when the engine handed it over
 * fresh (beta 0), else accumulated. */
#define DEFINE_BINARY(sym, E, F, DA, DB)                                                           \
    NBI_TYPED(sym##_fwd, (nbi_record * r), {                                                       \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *restrict pa = nbi_data(A), *restrict pb = nbi_data(B);                            \
        T *restrict py = nbi_data(r->out);                                                         \
        if (nbi_is_contiguous(A) && nbi_is_contiguous(B)) {                                        \
            const int64_t n = r->out->numel;                                                       \
            const int nt = nbi_threads_for(n);                                                     \
            NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                   \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T a = pa[i], b = pb[i];                                                  \
                    py[i] = (T)(F);                                                                \
                }                                                                                  \
            });                                                                                    \
        } else {                                                                                   \
            FOR_ROWS2(A, B, ra, rb, i0, { ROW_LOOP(pa + ra, pb + rb, py[i] = (T)(F);); });         \
        }                                                                                          \
    })                                                                                             \
    NBI_TYPED(sym##_bwd_one, (nbi_record * r, int which), {                                        \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *restrict pa = nbi_data(A), *restrict pb = nbi_data(B);                            \
        const T *restrict py = nbi_data(r->out), *restrict pdy = nbi_data(r->out->grad);           \
        const nb_tensor *X = which ? B : A;                                                        \
        T *restrict g = nbi_data(X->grad);                                                         \
        const bool acc = nbi_grad_beta(X) != 0;                                                    \
        if (nbi_is_contiguous(A) && nbi_is_contiguous(B)) {                                        \
            const int64_t n = r->out->numel;                                                       \
            const int nt = nbi_threads_for(n);                                                     \
            NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                   \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T a = pa[i], b = pb[i], y = py[i];                                       \
                    (void)a;                                                                       \
                    (void)b;                                                                       \
                    (void)y;                                                                       \
                    const T v = pdy[i] * (T)(which ? (DB) : (DA));                                 \
                    g[i] = acc ? g[i] + v : v;                                                     \
                }                                                                                  \
            });                                                                                    \
        } else {                                                                                   \
            FOR_ROWS2(A, B, ra, rb, i0, {                                                          \
                ROW_LOOP(pa + ra, pb + rb, {                                                       \
                    const T y = py[i];                                                             \
                    (void)a;                                                                       \
                    (void)b;                                                                       \
                    (void)y;                                                                       \
                    const T v = pdy[i] * (T)(which ? (DB) : (DA));                                 \
                    g[i] = acc ? g[i] + v : v;                                                     \
                });                                                                                \
            });                                                                                    \
        }                                                                                          \
    })                                                                                             \
    static nb_status sym##_forward(nbi_record *r)                                                  \
    {                                                                                              \
        NBI_DISPATCH(r->out->dtype, sym##_fwd, r);                                                 \
        return NB_OK;                                                                              \
    }                                                                                              \
    static void sym##_backward(nbi_record *r)                                                      \
    {                                                                                              \
        for (int w = 0; w < 2; w++)                                                                \
            if (r->in[w]->grad)                                                                    \
                NBI_DISPATCH(r->out->dtype, sym##_bwd_one, r, w);                                  \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 2,                                                                                \
        .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,       \
        .shape = binary_shape,                                                                     \
        .forward = sym##_forward,                                                                  \
        .backward = sym##_backward,                                                                \
        .flops = nbi_flops_elementwise,                                                            \
    };                                                                                             \
    nb_tensor *nb_##sym(nb_tensor *a, nb_tensor *b)                                                \
    {                                                                                              \
        nb_tensor *in[2] = {a, b};                                                                 \
        return nbi_apply(NB_OP_##E, 2, in, NULL);                                                  \
    }

BINARY_OPS(DEFINE_BINARY)
