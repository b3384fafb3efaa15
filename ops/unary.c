/* ops/unary.c — elementwise unary ops. Each is one table line: forward F(x) and derivative
 * D(x, y) with y = F(x), so backward is dx += dy * D. Scalar parameters come from the op's
 * attribute, read once before the loop as A and B. With <tgmath.h> one body serves float and
 * double.
 *
 * Every loop vectorises: the loops are `omp simd` (inputs, outputs and gradients never overlap),
 * the table's expressions are branch-free selects, the parameters are loop constants, and the
 * transcendental functions are the vector variants of glibc's libmvec (ops/vmath.h), so an
 * exp costs one _ZGVdN8v_expf call per 8 floats instead of 8 scalar calls. An expression that
 * calls a function without a vector variant, or reads the attribute inside the loop, turns the
 * whole loop scalar (softplus with a scalar log1p was 25x the cost of exp):
 * bench/elementwise_bench.c measures every op, docs/benchmarks.md has the table. */
#include "ops/op_def.h"

#include <tgmath.h>

#include "ops/vmath.h"
#include "ops/vpow.h"

typedef struct {
    double a, b;
} scalar_attr;

#define NB_2_SQRTPI   1.12837916709551257390 /* 2 / sqrt(pi) */
#define NB_SELU_ALPHA 1.6732632423543772848170429916717
#define NB_SELU_SCALE 1.0507009873554804934193349852946

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, and exact for x << 0. */
#define SOFTPLUS(x) (((x) > 0 ? (x) : (T)0) + log1p(exp(-fabs(x))))

/* d/dx x^a = a x^(a-1), and 0 for a = 0 (PyTorch's rule: x^0 = 1 has gradient 0 everywhere, so
 * at x = 0 it is not 0 * 0^-1 = NaN). */
#define POW_GRAD(x, a) ((a) == 0 ? (T)0 : (a)*pow(x, (a)-1))

/* Mish: x tanh(softplus(x)). With t = e^x, tanh(log(1 + t)) = n / (n + 2), n = t (t + 2): one
 * exp and one division instead of exp, log1p and tanh. Past x = 20, tanh(softplus(x)) is 1 to
 * double precision, so t is taken at min(x, 20) and never overflows (NaN still propagates
 * through the factor x). The derivative tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2) uses
 * 1 - (n / d)^2 = 4 (n + 1) / d^2, d = n + 2, free of cancellation. */
#define MISH_T(x) exp((x) < 20 ? (x) : (T)20)
#define MISH_N(x) (MISH_T(x) * (MISH_T(x) + 2))
#define MISH(x)   ((x)*MISH_N(x) / (MISH_N(x) + 2))
#define MISH_GRAD(x)                                                                               \
    (MISH_N(x) / (MISH_N(x) + 2) +                                                                 \
     (x)*MISH_T(x) / (1 + MISH_T(x)) * 4 * (MISH_N(x) + 1) / ((MISH_N(x) + 2) * (MISH_N(x) + 2)))

/* ELU family: scale * (x for x > 0, alpha (e^x - 1) otherwise); derivative scale, or
 * scale alpha e^x for x <= 0 (so at NaN the gradient is scale, as PyTorch's elu_backward). */
#define ELU(x, alpha, scale)      ((scale) * ((x) > 0 ? (x) : (alpha)*expm1(x)))
#define ELU_GRAD(x, alpha, scale) ((x) <= 0 ? (scale) * (alpha)*exp(x) : (scale))

/* NaN propagates as in PyTorch: relu(NaN) = leaky_relu(NaN) = clamp(NaN) = hardtanh(NaN) = NaN
 * (so the comparisons are written to pick x when they are false); their gradients at NaN are 0
 * for relu and clamp, the slope for leaky_relu, and 1 for hardtanh (every comparison with NaN is
 * false). sign(NaN) is 0 (PyTorch's (0 < x) - (x < 0)); floor, ceil and round keep NaN. round
 * is rint: half to even in the default rounding mode, as torch.round; floor and ceil are rint
 * stepped by one where it went the wrong way, since floor() and ceil() (and a short-circuit &&)
 * do not vectorise without -fno-trapping-math. The selects keep -0 (ceil(-0.5) = -0).
 * sym, ENUM, forward F, derivative D, flags */
#define UNARY_OPS(X)     POW_SCALAR_OP(X) MATH_OPS(X)
#define POW_SCALAR_OP(X) X(pow_scalar, POW_SCALAR, pow(x, A), POW_GRAD(x, A), 0)
#define MATH_OPS(X)                                                                                \
    X(affine, AFFINE, A *x + B, A, 0)                                                              \
    X(neg, NEG, -x, -1, 0)                                                                         \
    X(exp, EXP, exp(x), y, 0)                                                                      \
    X(log, LOG, log(x), 1 / x, 0)                                                                  \
    X(sqrt, SQRT, sqrt(x), (T)0.5 / y, 0)                                                          \
    X(square, SQUARE, x *x, 2 * x, 0)                                                              \
    X(abs, ABS, fabs(x), (T)((x > 0) - (x < 0)), 0)                                                \
    X(clamp, CLAMP, x<A ? A : x> B ? B : x, (x > A) & (x < B), 0)                                  \
    X(relu, RELU, x <= 0 ? 0 : x, x > 0 ? (T)1 : (T)0, 0)                                          \
    X(leaky_relu, LEAKY_RELU, x > 0 ? x : A * x, x > 0 ? 1 : A, 0)                                 \
    X(sigmoid, SIGMOID, SIGMOID(x), y *(1 - y), 0)                                                 \
    X(tanh, TANH, tanh(x), 1 - y * y, 0)                                                           \
    X(softplus, SOFTPLUS, SOFTPLUS(x), SIGMOID(x), 0)                                              \
    X(heaviside, HEAVISIDE, x >= 0 ? 1 : 0, 0, NBI_OP_NONDIFF)                                     \
    X(sin, SIN, sin(x), cos(x), 0)                                                                 \
    X(cos, COS, cos(x), -sin(x), 0)                                                                \
    X(log1p, LOG1P, log1p(x), 1 / (1 + x), 0)                                                      \
    X(expm1, EXPM1, expm1(x), y + 1, 0)                                                            \
    X(erf, ERF, erf(x), (T)NB_2_SQRTPI *exp(-x *x), 0)                                             \
    X(gelu, GELU, GELU(x), GELU_GRAD(x), 0)                                                        \
    X(gelu_tanh, GELU_TANH, GELU_TANH(x), GELU_TANH_GRAD(x), 0)                                    \
    X(silu, SILU, x *SIGMOID(x), SIGMOID(x) * (1 + x * (1 - SIGMOID(x))), 0)                       \
    X(mish, MISH, MISH(x), MISH_GRAD(x), 0)                                                        \
    X(elu, ELU, ELU(x, A, 1), ELU_GRAD(x, A, 1), 0)                                                \
    X(selu, SELU, ELU(x, (T)NB_SELU_ALPHA, (T)NB_SELU_SCALE),                                      \
      ELU_GRAD(x, (T)NB_SELU_ALPHA, (T)NB_SELU_SCALE), 0)                                          \
    X(hardtanh, HARDTANH, x<A ? A : x> B ? B : x, x <= A || x >= B ? 0 : 1, 0)                     \
    X(softsign, SOFTSIGN, x / (1 + fabs(x)), 1 / ((1 + fabs(x)) * (1 + fabs(x))), 0)               \
    X(rsqrt, RSQRT, 1 / sqrt(x), (T)-0.5 * y * y * y, 0)                                           \
    X(reciprocal, RECIPROCAL, 1 / x, -y * y, 0)                                                    \
    X(sign, SIGN, (T)((x > 0) - (x < 0)), 0, NBI_OP_NONDIFF)                                       \
    X(floor, FLOOR, rint(x) > x ? rint(x) - 1 : rint(x), 0, NBI_OP_NONDIFF)                        \
    X(ceil, CEIL, rint(x) < x ? rint(x) + 1 : rint(x), 0, NBI_OP_NONDIFF)                          \
    X(round, ROUND, rint(x), 0, NBI_OP_NONDIFF)

#define NB_KERNELS "ops/unary_kernels.h"
#include "nabla/typed.h"

/* pow_scalar in float: ops/vpow.h's kernels (forward, and backward's a x^(a - 1) = a y / x). */
static nb_status pow_scalar_vec_fwd_f32(nbi_record *r)
{
    const float a = (float)((const scalar_attr *)r->attr)->a;
    const float *px = nbi_data(r->in[0]);
    float *py = nbi_data(r->out);
    const int64_t n = r->out->numel;
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi, { nbi_vpow_f32(hi - lo, px + lo, &a, 0, 0, py + lo); });
    return NB_OK;
}

static void pow_scalar_vec_bwd_f32(nbi_record *r)
{
    const nb_tensor *X = r->in[0];
    if (!X->grad)
        return;
    const float a = (float)((const scalar_attr *)r->attr)->a;
    const float *px = nbi_data(X), *py = nbi_data(r->out), *pdy = nbi_data(r->out->grad);
    float *dx = nbi_data(X->grad);
    const bool acc = nbi_grad_beta(X) != 0;
    const int64_t n = r->out->numel;
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {
        nbi_vpow_grad_f32(hi - lo, px + lo, &a, 0, py + lo, pdy + lo, dx + lo, acc, NULL, false);
    });
}

#define DEFINE_UNARY_AS(sym, E, FLAGS, fwd_f32, bwd_f32)                                           \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = (FLAGS) | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,                                 \
        .attr_size = sizeof(scalar_attr),                                                          \
        .shape = nbi_shape_same,                                                                   \
        .flops = nbi_flops_elementwise,                                                            \
        .forward_f32 = fwd_f32,                                                                    \
        .forward_f64 = sym##_fwd_f64,                                                              \
        .backward_f32 = bwd_f32,                                                                   \
        .backward_f64 = sym##_bwd_f64,                                                             \
    };

#define DEFINE_UNARY(sym, E, F, D, FLAGS)                                                          \
    DEFINE_UNARY_AS(sym, E, FLAGS, sym##_fwd_f32, sym##_bwd_f32)
#define DEFINE_UNARY_VEC(sym, E, F, D, FLAGS)                                                      \
    DEFINE_UNARY_AS(sym, E, FLAGS, sym##_vec_fwd_f32, sym##_vec_bwd_f32)

POW_SCALAR_OP(DEFINE_UNARY_VEC)
MATH_OPS(DEFINE_UNARY)

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

/* A range [lo, hi] of clamp or hardtanh: lo <= hi (NaN is rejected). */
static nb_tensor *unary_range(nb_op_id id, nb_tensor *x, double lo, double hi, const char *lo_name,
                              const char *hi_name)
{
    if (!(lo <= hi)) {
        nbi_error(NB_ERR_VALUE, "%s: %s (%g) must be <= %s (%g)", nbi_op_table[id]->api, lo_name,
                  lo, hi_name, hi);
        return NULL;
    }
    return unary(id, x, lo, hi);
}

nb_tensor *nb_clamp(nb_tensor *x, double lo, double hi)
{
    return unary_range(NB_OP_CLAMP, x, lo, hi, "lo", "hi");
}

nb_tensor *nb_hardtanh(nb_tensor *x, double min_val, double max_val)
{
    return unary_range(NB_OP_HARDTANH, x, min_val, max_val, "min_val", "max_val");
}

nb_tensor *nb_elu(nb_tensor *x, double alpha)
{
    if (!isfinite(alpha)) {
        nbi_error(NB_ERR_VALUE, "nb_elu: alpha (%g) must be finite", alpha);
        return NULL;
    }
    return unary(NB_OP_ELU, x, alpha, 0.0);
}

nb_tensor *nb_gelu(nb_tensor *x, nb_gelu_approx approximate)
{
    switch (approximate) {
    case NB_GELU_EXACT:
        return unary(NB_OP_GELU, x, 0.0, 0.0);
    case NB_GELU_TANH:
        return unary(NB_OP_GELU_TANH, x, 0.0, 0.0);
    }
    nbi_error(NB_ERR_VALUE,
              "nb_gelu: approximate must be NB_GELU_EXACT (0) or NB_GELU_TANH (1), got %d",
              (int)approximate);
    return NULL;
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
UNARY_API(sin, SIN)
UNARY_API(cos, COS)
UNARY_API(log1p, LOG1P)
UNARY_API(expm1, EXPM1)
UNARY_API(erf, ERF)
UNARY_API(silu, SILU)
UNARY_API(mish, MISH)
UNARY_API(selu, SELU)
UNARY_API(softsign, SOFTSIGN)
UNARY_API(rsqrt, RSQRT)
UNARY_API(reciprocal, RECIPROCAL)
UNARY_API(sign, SIGN)
UNARY_API(floor, FLOOR)
UNARY_API(ceil, CEIL)
UNARY_API(round, ROUND)

nb_tensor *nb_heaviside(nb_tensor *x)
{
    return unary(NB_OP_HEAVISIDE, x, 0.0, 0.0);
}
