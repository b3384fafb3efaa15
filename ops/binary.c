/* ops/binary.c — broadcasting elementwise ops: add, sub, mul, div, maximum, minimum.
 *
 * The engine hands these ops inputs already expanded to the output shape (stride-0 views where
 * broadcast), so each kernel reads a and b through their strides and never reduces: the
 * gradient of a broadcast input is summed back by expand's backward. Each op is one line of
 * the table below: forward F(a, b), and the partial derivatives DA, DB (may use y = F(a, b)):
 *   da += dy * DA,  db += dy * DB. */
#include "ops/op_def.h"

#include <tgmath.h>

#define BINARY_OPS(X)                                                                              \
    X(add, ADD, a + b, 1, 1)                                                                       \
    X(sub, SUB, a - b, 1, -1)                                                                      \
    X(mul, MUL, a *b, b, a)                                                                        \
    X(div, DIV, a / b, 1 / b, -y / b)                                                              \
    X(maximum, MAXIMUM, a >= b ? a : b, a >= b, a < b)                                             \
    X(minimum, MINIMUM, a <= b ? a : b, a <= b, a > b)

static nb_status binary_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    *dtype = r->in[0]->dtype;
    return nbi_broadcast_shape(r->def->api, r->in[0], r->in[1], ndim, shape);
}

#define DEFINE_BINARY(sym, E, F, DA, DB)                                                           \
    NBI_TYPED(sym##_fwd, (nbi_record * r), {                                                       \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *pa = nbi_data(A), *pb = nbi_data(B);                                              \
        T *py = nbi_data(r->out);                                                                  \
        if (nbi_is_contiguous(A) && nbi_is_contiguous(B)) {                                        \
            const int64_t n = r->out->numel;                                                       \
            const int nt = nbi_threads_for(n);                                                     \
            _Pragma(                                                                               \
                "omp parallel for num_threads(nt) if (nt > 1) schedule(static)") for (int64_t i =  \
                                                                                          0;       \
                                                                                      i < n; i++)  \
            {                                                                                      \
                const T a = pa[i], b = pb[i];                                                      \
                py[i] = (T)(F);                                                                    \
            }                                                                                      \
        } else {                                                                                   \
            NBI_FOR_STRIDED2(A, B, i, oa, ob, {                                                    \
                const T a = pa[oa], b = pb[ob];                                                    \
                py[i] = (T)(F);                                                                    \
            });                                                                                    \
        }                                                                                          \
    })                                                                                             \
    NBI_TYPED(sym##_bwd, (nbi_record * r), {                                                       \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *pa = nbi_data(A), *pb = nbi_data(B), *py = nbi_data(r->out);                      \
        const T *pdy = nbi_data(r->out->grad);                                                     \
        T *ga = A->grad ? (T *)nbi_data(A->grad) : NULL;                                           \
        T *gb = B->grad ? (T *)nbi_data(B->grad) : NULL;                                           \
        NBI_FOR_STRIDED2(A, B, i, oa, ob, {                                                        \
            const T a = pa[oa], b = pb[ob], y = py[i], dy = pdy[i];                                \
            (void)a;                                                                               \
            (void)b;                                                                               \
            (void)y;                                                                               \
            if (ga)                                                                                \
                ga[i] += dy * (T)(DA);                                                             \
            if (gb)                                                                                \
                gb[i] += dy * (T)(DB);                                                             \
        });                                                                                        \
    })                                                                                             \
    static nb_status sym##_forward(nbi_record *r)                                                  \
    {                                                                                              \
        NBI_DISPATCH(r->out->dtype, sym##_fwd, r);                                                 \
        return NB_OK;                                                                              \
    }                                                                                              \
    static void sym##_backward(nbi_record *r)                                                      \
    {                                                                                              \
        NBI_DISPATCH(r->out->dtype, sym##_bwd, r);                                                 \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 2,                                                                                \
        .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_WRITES_ALL,                            \
        .shape = binary_shape,                                                                     \
        .forward = sym##_forward,                                                                  \
        .backward = sym##_backward,                                                                \
    };                                                                                             \
    nb_tensor *nb_##sym(nb_tensor *a, nb_tensor *b)                                                \
    {                                                                                              \
        nb_tensor *in[2] = {a, b};                                                                 \
        return nbi_apply(NB_OP_##E, 2, in, NULL);                                                  \
    }

BINARY_OPS(DEFINE_BINARY)
