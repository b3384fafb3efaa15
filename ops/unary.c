/* ops/unary.c — elementwise unary ops. Each is one table line: forward F(x) and derivative
 * D(x, y) with y = F(x), so backward is dx += dy * D. Scalar parameters come from the op's
 * attribute p (p->a, p->b). With <tgmath.h> one body serves float and double.
 *
 * The loops are `omp simd` (inputs, outputs and gradients never overlap), and the table's
 * expressions are branch-free selects, so they vectorise. With glibc's vector math library
 * (libmvec, NB_HAVE_LIBMVEC) exp and tanh are declared `omp declare simd`, so sigmoid and tanh
 * call the vector variants (_ZGV..._expf) instead of one scalar call per element. */
#include "ops/op_def.h"

#include <tgmath.h>

#if defined(NB_HAVE_LIBMVEC) && defined(__GNUC__) && !defined(__clang__)
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
double(exp)(double);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
double(tanh)(double);
#endif

typedef struct {
    double a, b;
} scalar_attr;

/* Numerically stable logistic function, branch-free: with e = exp(-|x|) <= 1,
 * sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. */
#define SIGMOID(x) ((x) >= 0 ? (T)1 / (1 + exp(-fabs(x))) : exp(-fabs(x)) / (1 + exp(-fabs(x))))

/* d/dx x^a = a x^(a-1), and 0 for a = 0 (PyTorch's rule: x^0 = 1 has gradient 0 everywhere, so
 * at x = 0 it is not 0 * 0^-1 = NaN). */
#define POW_GRAD(x, a) ((a) == 0 ? (T)0 : (a)*pow(x, (a)-1))

/* NaN propagates as in PyTorch: relu(NaN) = leaky_relu(NaN) = clamp(NaN) = NaN (so the
 * comparisons are written to pick x when they are false); their gradients at NaN are 0 for relu
 * and clamp and the slope for leaky_relu (every comparison with NaN is false).
 * sym, ENUM, forward F, derivative D, flags */
#define UNARY_OPS(X)                                                                               \
    X(affine, AFFINE, (T)p->a *x + (T)p->b, (T)p->a, 0)                                            \
    X(pow_scalar, POW_SCALAR, pow(x, (T)p->a), POW_GRAD(x, (T)p->a), 0)                            \
    X(neg, NEG, -x, -1, 0)                                                                         \
    X(exp, EXP, exp(x), y, 0)                                                                      \
    X(log, LOG, log(x), 1 / x, 0)                                                                  \
    X(sqrt, SQRT, sqrt(x), (T)0.5 / y, 0)                                                          \
    X(square, SQUARE, x *x, 2 * x, 0)                                                              \
    X(abs, ABS, fabs(x), (T)((x > 0) - (x < 0)), 0)                                                \
    X(clamp, CLAMP, x<(T)p->a ? (T)p->a : x>(T) p->b ? (T)p->b : x, x > (T)p->a && x < (T)p->b, 0) \
    X(relu, RELU, x <= 0 ? 0 : x, x > 0 ? (T)1 : (T)0, 0)                                          \
    X(leaky_relu, LEAKY_RELU, x > 0 ? x : (T)p->a * x, x > 0 ? 1 : (T)p->a, 0)                     \
    X(sigmoid, SIGMOID, SIGMOID(x), y *(1 - y), 0)                                                 \
    X(tanh, TANH, tanh(x), 1 - y * y, 0)                                                           \
    X(softplus, SOFTPLUS, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)), SIGMOID(x), 0)               \
    X(heaviside, HEAVISIDE, x >= 0 ? 1 : 0, 0, NBI_OP_NONDIFF)

#define DEFINE_UNARY(sym, E, F, D, FLAGS)                                                          \
    NBI_TYPED(sym##_fwd, (nbi_record * r), {                                                       \
        const scalar_attr *p = r->attr;                                                            \
        const T *restrict px = nbi_data(r->in[0]);                                                 \
        T *restrict py = nbi_data(r->out);                                                         \
        const int64_t n = r->out->numel;                                                           \
        const int nt = nbi_threads_for(n * 8);                                                     \
        (void)p;                                                                                   \
        NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                       \
            _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                                  \
            {                                                                                      \
                const T x = px[i];                                                                 \
                py[i] = (T)(F);                                                                    \
            }                                                                                      \
        });                                                                                        \
    })                                                                                             \
    NBI_TYPED(sym##_bwd, (nbi_record * r), {                                                       \
        const scalar_attr *p = r->attr;                                                            \
        const T *restrict px = nbi_data(r->in[0]), *restrict py = nbi_data(r->out);                \
        const T *restrict pdy = nbi_data(r->out->grad);                                            \
        T *restrict dx = nbi_data(r->in[0]->grad);                                                 \
        const int64_t n = r->out->numel;                                                           \
        const int nt = nbi_threads_for(n * 8);                                                     \
        const T beta = (T)nbi_grad_beta(r->in[0]);                                                 \
        (void)p;                                                                                   \
        NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                       \
            if (beta == 0) {                                                                       \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T x = px[i], y = py[i];                                                  \
                    (void)x;                                                                       \
                    (void)y;                                                                       \
                    dx[i] = pdy[i] * (T)(D);                                                       \
                }                                                                                  \
            } else {                                                                               \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T x = px[i], y = py[i];                                                  \
                    (void)x;                                                                       \
                    (void)y;                                                                       \
                    dx[i] += pdy[i] * (T)(D);                                                      \
                }                                                                                  \
            }                                                                                      \
        });                                                                                        \
    })                                                                                             \
    static nb_status sym##_forward(nbi_record *r)                                                  \
    {                                                                                              \
        NBI_DISPATCH(r->out->dtype, sym##_fwd, r);                                                 \
        return NB_OK;                                                                              \
    }                                                                                              \
    static void sym##_backward(nbi_record *r)                                                      \
    {                                                                                              \
        if (r->in[0]->grad)                                                                        \
            NBI_DISPATCH(r->out->dtype, sym##_bwd, r);                                             \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = (FLAGS) | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,                                 \
        .attr_size = sizeof(scalar_attr),                                                          \
        .shape = nbi_shape_same,                                                                   \
        .forward = sym##_forward,                                                                  \
        .backward = sym##_backward,                                                                \
    };

UNARY_OPS(DEFINE_UNARY)

static nb_tensor *unary(nb_op_id id, nb_tensor *x, double a, double b)
{
    scalar_attr p = {a, b};
    return nbi_apply(id, 1, &x, &p);
}

nb_tensor *nb_affine(nb_tensor *x, double alpha, double beta)
{
    return unary(NB_OP_AFFINE, x, alpha, beta);
}

nb_tensor *nb_add_scalar(nb_tensor *x, double s)
{
    return unary(NB_OP_AFFINE, x, 1.0, s);
}

nb_tensor *nb_mul_scalar(nb_tensor *x, double s)
{
    return unary(NB_OP_AFFINE, x, s, 0.0);
}

nb_tensor *nb_pow_scalar(nb_tensor *x, double p)
{
    return unary(NB_OP_POW_SCALAR, x, p, 0.0);
}

nb_tensor *nb_clamp(nb_tensor *x, double lo, double hi)
{
    if (!(lo <= hi)) {
        nbi_error(NB_ERR_VALUE, "nb_clamp: lo (%g) must be <= hi (%g)", lo, hi);
        return NULL;
    }
    return unary(NB_OP_CLAMP, x, lo, hi);
}

nb_tensor *nb_leaky_relu(nb_tensor *x, double slope)
{
    return unary(NB_OP_LEAKY_RELU, x, slope, 0.0);
}

#define UNARY_API(sym, E)                                                                          \
    nb_tensor *nb_##sym(nb_tensor *x)                                                              \
    {                                                                                              \
        return unary(NB_OP_##E, x, 0.0, 0.0);                                                      \
    }
UNARY_API(neg, NEG)
UNARY_API(exp, EXP)
UNARY_API(log, LOG)
UNARY_API(sqrt, SQRT)
UNARY_API(square, SQUARE)
UNARY_API(abs, ABS)
UNARY_API(relu, RELU)
UNARY_API(sigmoid, SIGMOID)
UNARY_API(tanh, TANH)
UNARY_API(softplus, SOFTPLUS)

nb_tensor *nb_heaviside(nb_tensor *x)
{
    return unary(NB_OP_HEAVISIDE, x, 0.0, 0.0);
}
