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

/* The row walk (autograd/kernel.h) of inputs a and b, of one shape with their own strides. */
static bool rows2_init(nbi_rows *r, const nb_tensor *a, const nb_tensor *b)
{
    return nbi_rows_init(r, 2, a->ndim, a->shape, (const int64_t *const[]){a->strides, b->strides});
}

#define NB_KERNELS "ops/binary_kernels.h"
#include "nabla/typed.h"

#define DEFINE_BINARY(sym, E, F, DA, DB)                                                           \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 2,                                                                                \
        .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,       \
        .shape = binary_shape,                                                                     \
        .flops = nbi_flops_elementwise,                                                            \
        .forward_f32 = sym##_fwd_f32,                                                              \
        .forward_f64 = sym##_fwd_f64,                                                              \
        .backward_f32 = sym##_bwd_f32,                                                             \
        .backward_f64 = sym##_bwd_f64,                                                             \
    };                                                                                             \
    nb_tensor *nb_##sym(nb_tensor *a, nb_tensor *b)                                                \
    {                                                                                              \
        nb_tensor *in[2] = {a, b};                                                                 \
        return nbi_apply(NB_OP_##E, 2, in, NULL);                                                  \
    }

BINARY_OPS(DEFINE_BINARY)
