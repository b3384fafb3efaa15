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
 * b >= 0 (0^b is constant there), while for a = 0, b < 0 it is y log(a) = -inf. In float, pow
 * on a dense base (with a dense or single exponent) runs ops/vpow.h's kernels, forward and both
 * gradients from one log2; other layouts, and double, run the table's loops, whose pow and log
 * are libmvec's vector variants (ops/vmath.h). */
#include "ops/op_def.h"

#include <tgmath.h>

#include "ops/vmath.h"
#include "ops/vpow.h"

#define BINARY_OPS(X) ARITH_OPS(X) POW_OP(X)
#define ARITH_OPS(X)                                                                               \
    X(add, ADD, a + b, 1, 1)                                                                       \
    X(sub, SUB, a - b, 1, -1)                                                                      \
    X(mul, MUL, a *b, b, a)                                                                        \
    X(div, DIV, a / b, 1 / b, -y / b)                                                              \
    X(maximum, MAXIMUM, a >= b || a != a ? a : b, !(a < b), !(a >= b))                             \
    X(minimum, MINIMUM, a <= b || a != a ? a : b, !(a > b), !(a <= b))
#define POW_OP(X)                                                                                  \
    X(pow, POW, pow(a, b), b == 0 ? (T)0 : b * pow(a, b - 1), a == 0 && b >= 0 ? (T)0 : y * log(a))

static nb_status binary_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    *dtype = r->in[0]->dtype;
    return nbi_broadcast_shape(r->def->api, r->in[0], r->in[1], ndim, shape);
}

/* The row walk (autograd/kernel.h) of inputs a and b, of one shape with their own strides. */
static bool rows2_init(nbi_rows *r, const nb_tensor *a, const nb_tensor *b)
{
    return nbi_rows_init(r, 2, a->ndim, a->shape, (const int64_t *const[]){a->strides, b->strides});
}

#define NB_KERNELS "ops/binary_kernels.h"
#include "nabla/typed.h"

/* pow in float through ops/vpow.h when its base is dense and its exponent dense or one value
 * broadcast (stride_of 1 or 0); other layouts run the generated loops. */
static int64_t stride_of(const nb_tensor *t)
{
    if (nbi_is_contiguous(t))
        return 1;
    for (int d = 0; d < t->ndim; d++)
        if (t->strides[d] != 0 && t->shape[d] != 1)
            return -1;
    return 0;
}

static nb_status pow_vec_fwd_f32(nbi_record *r)
{
    const nb_tensor *A = r->in[0], *B = r->in[1];
    const int64_t sb = stride_of(B);
    if (!nbi_is_contiguous(A) || sb < 0)
        return pow_fwd_f32(r);
    const float *pa = nbi_data(A), *pb = nbi_data(B);
    float *py = nbi_data(r->out);
    const int64_t n = r->out->numel;
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi,
                        { nbi_vpow_f32(hi - lo, pa + lo, pb + lo * sb, sb, 0, py + lo); });
    return NB_OK;
}

static void pow_vec_bwd_f32(nbi_record *r)
{
    const nb_tensor *A = r->in[0], *B = r->in[1];
    const int64_t sb = stride_of(B);
    if (!nbi_is_contiguous(A) || sb < 0) {
        pow_bwd_f32(r);
        return;
    }
    const float *pa = nbi_data(A), *pb = nbi_data(B), *py = nbi_data(r->out);
    const float *pdy = nbi_data(r->out->grad);
    float *da = A->grad ? nbi_data(A->grad) : NULL, *db = B->grad ? nbi_data(B->grad) : NULL;
    const bool acc_a = da && nbi_grad_beta(A) != 0, acc_b = db && nbi_grad_beta(B) != 0;
    const int64_t n = r->out->numel;
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {
        nbi_vpow_grad_f32(hi - lo, pa + lo, pb + lo * sb, sb, py + lo, pdy + lo,
                          da ? da + lo : NULL, acc_a, db ? db + lo : NULL, acc_b);
    });
}

#define DEFINE_BINARY_AS(sym, E, fwd_f32, bwd_f32)                                                 \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 2,                                                                                \
        .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,       \
        .shape = binary_shape,                                                                     \
        .flops = nbi_flops_elementwise,                                                            \
        .forward_f32 = fwd_f32,                                                                    \
        .forward_f64 = sym##_fwd_f64,                                                              \
        .backward_f32 = bwd_f32,                                                                   \
        .backward_f64 = sym##_bwd_f64,                                                             \
    };                                                                                             \
    nb_tensor *nb_##sym(nb_tensor *a, nb_tensor *b)                                                \
    {                                                                                              \
        nb_tensor *in[2] = {a, b};                                                                 \
        return nbi_apply(NB_OP_##E, 2, in, NULL);                                                  \
    }

#define DEFINE_BINARY(sym, E, F, DA, DB) DEFINE_BINARY_AS(sym, E, sym##_fwd_f32, sym##_bwd_f32)
#define DEFINE_BINARY_VEC(sym, E, F, DA, DB)                                                       \
    DEFINE_BINARY_AS(sym, E, sym##_vec_fwd_f32, sym##_vec_bwd_f32)

ARITH_OPS(DEFINE_BINARY)
POW_OP(DEFINE_BINARY_VEC)
