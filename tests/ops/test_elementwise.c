/* tests/ops/test_elementwise.c — forward references and gradient checks for ops/unary.c and
 * ops/binary.c: every op against libm / a naive broadcasting loop in f32 and f64, strided
 * inputs, extreme inputs, and the error paths (shapes, dtypes, bad parameters). */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

extern const nbt_case nbt_cases_elementwise[];

/* ---- unary ops against libm ---- */
typedef struct {
    const char *name;
    nb_tensor *(*op)(nb_tensor *x);
    double (*ref)(double x);
    double lo, hi;
} unary_ref;

static double ref_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}
static double ref_softplus(double x)
{
    return log1p(exp(x));
}
static double ref_neg(double x)
{
    return -x;
}
static double ref_square(double x)
{
    return x * x;
}
static double ref_relu(double x)
{
    return x > 0 ? x : 0;
}
static double ref_leaky(double x)
{
    return x > 0 ? x : 0.2 * x;
}
static double ref_clamp(double x)
{
    return x < -0.5 ? -0.5 : x > 0.25 ? 0.25 : x;
}
static double ref_affine(double x)
{
    return 3.0 * x - 2.0;
}
static double ref_add_scalar(double x)
{
    return x + 0.75;
}
static double ref_mul_scalar(double x)
{
    return -4.0 * x;
}
static double ref_pow(double x)
{
    return pow(x, 1.7);
}
static double ref_step(double x)
{
    return x >= 0 ? 1.0 : 0.0;
}
static nb_tensor *op_leaky(nb_tensor *x)
{
    return nb_leaky_relu(x, 0.2);
}
static nb_tensor *op_clamp(nb_tensor *x)
{
    return nb_clamp(x, -0.5, 0.25);
}
static nb_tensor *op_affine(nb_tensor *x)
{
    return nb_affine(x, 3.0, -2.0);
}
static nb_tensor *op_add_scalar(nb_tensor *x)
{
    return nb_add_scalar(x, 0.75);
}
static nb_tensor *op_mul_scalar(nb_tensor *x)
{
    return nb_mul_scalar(x, -4.0);
}
static nb_tensor *op_pow(nb_tensor *x)
{
    return nb_pow_scalar(x, 1.7);
}

/* The research op set, each from a formula other than the kernel's where there is one. */
#define SQRT1_2    0.70710678118654752440
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
static double ref_gelu(double x)
{
    return 0.5 * x * erfc(-x * SQRT1_2);
}
static double ref_gelu_tanh(double x)
{
    return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}
static double ref_silu(double x)
{
    return x / (1 + exp(-x));
}
static double ref_mish(double x)
{
    return x * tanh(log1p(exp(x)));
}
static double ref_elu(double x)
{
    return x > 0 ? x : 0.7 * expm1(x);
}
static double ref_selu(double x)
{
    return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
}
static double ref_hardtanh(double x)
{
    return fmin(fmax(x, -0.5), 0.25);
}
static double ref_softsign(double x)
{
    return x / (1 + fabs(x));
}
static double ref_rsqrt(double x)
{
    return 1 / sqrt(x);
}
static double ref_reciprocal(double x)
{
    return 1 / x;
}
static double ref_sign(double x)
{
    return x > 0 ? 1 : x < 0 ? -1 : 0;
}
/* Round half to even, by its definition (no rint): the nearer integer, the even one on a tie. */
static double ref_round(double x)
{
    if (!isfinite(x))
        return x;
    double f = floor(x), d = x - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : fmod(f, 2) == 0 ? f : f + 1;
}
static nb_tensor *op_gelu(nb_tensor *x)
{
    return nb_gelu(x, NB_GELU_EXACT);
}
static nb_tensor *op_gelu_tanh(nb_tensor *x)
{
    return nb_gelu(x, NB_GELU_TANH);
}
static nb_tensor *op_elu(nb_tensor *x)
{
    return nb_elu(x, 0.7);
}
static nb_tensor *op_hardtanh(nb_tensor *x)
{
    return nb_hardtanh(x, -0.5, 0.25);
}

static const unary_ref unary_refs[] = {
    {"tanh", nb_tanh, tanh, -4, 4},
    {"sigmoid", nb_sigmoid, ref_sigmoid, -8, 8},
    {"softplus", nb_softplus, ref_softplus, -8, 8},
    {"exp", nb_exp, exp, -3, 3},
    {"log", nb_log, log, 0.01, 5},
    {"sqrt", nb_sqrt, sqrt, 0, 5},
    {"square", nb_square, ref_square, -3, 3},
    {"neg", nb_neg, ref_neg, -3, 3},
    {"abs", nb_abs, fabs, -3, 3},
    {"relu", nb_relu, ref_relu, -3, 3},
    {"leaky_relu", op_leaky, ref_leaky, -3, 3},
    {"clamp", op_clamp, ref_clamp, -1, 1},
    {"affine", op_affine, ref_affine, -3, 3},
    {"add_scalar", op_add_scalar, ref_add_scalar, -3, 3},
    {"mul_scalar", op_mul_scalar, ref_mul_scalar, -3, 3},
    {"pow_scalar", op_pow, ref_pow, 0.1, 3},
    {"step_fn", nb_heaviside, ref_step, -3, 3},
    {"sin", nb_sin, sin, -6, 6},
    {"cos", nb_cos, cos, -6, 6},
    {"log1p", nb_log1p, log1p, -0.99, 5},
    {"expm1", nb_expm1, expm1, -3, 3},
    {"erf", nb_erf, erf, -3, 3},
    {"gelu", op_gelu, ref_gelu, -5, 5},
    {"gelu_tanh", op_gelu_tanh, ref_gelu_tanh, -5, 5},
    {"silu", nb_silu, ref_silu, -10, 10},
    {"mish", nb_mish, ref_mish, -10, 10},
    {"mish_saturated", nb_mish, ref_mish, 15, 40},
    {"elu", op_elu, ref_elu, -4, 3},
    {"selu", nb_selu, ref_selu, -4, 3},
    {"hardtanh", op_hardtanh, ref_hardtanh, -1, 1},
    {"softsign", nb_softsign, ref_softsign, -5, 5},
    {"rsqrt", nb_rsqrt, ref_rsqrt, 0.2, 5},
    {"reciprocal", nb_reciprocal, ref_reciprocal, 0.2, 5},
    {"reciprocal_negative", nb_reciprocal, ref_reciprocal, -5, -0.2},
    {"sign", nb_sign, ref_sign, -3, 3},
    {"floor", nb_floor, floor, -4, 4},
    {"ceil", nb_ceil, ceil, -4, 4},
    {"round", nb_round, ref_round, -4, 4},
};

static void check_unary(nb_dtype dtype, double tol)
{
    const int64_t shape[2] = {7, 9};
    for (size_t k = 0; k < sizeof unary_refs / sizeof unary_refs[0]; k++) {
        const unary_ref *u = &unary_refs[k];
        nb_tensor *x = nbt_uniform(dtype, 2, shape, 100 + k, u->lo, u->hi);
        nb_tensor *y = u->op(x);
        assert_non_null(y);
        assert_int_equal(nb_tensor_dtype(y), dtype);
        assert_int_equal(nb_tensor_ndim(y), 2);
        assert_int_equal(nb_tensor_dim(y, 0), 7);
        assert_int_equal(nb_tensor_dim(y, 1), 9);
        double ref[63];
        for (int i = 0; i < 63; i++)
            ref[i] = u->ref(nb_tensor_get(x, i));
        print_message("  %s %s\n", u->name, nb_dtype_name(dtype));
        nbt_assert_values(y, ref, tol);
        nb_tensor_free(y);
        nb_tensor_free(x);
    }
}

static void test_unary_ops_match_libm_f64(void **state)
{
    (void)state;
    check_unary(NB_F64, 1e-14);
}

static void test_unary_ops_match_libm_f32(void **state)
{
    (void)state;
    check_unary(NB_F32, 2e-6);
}

/* A transposed (non-contiguous) view fed to unary ops reads through its strides. */
static void test_unary_ops_read_transposed_views(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 5};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *x = nbt_uniform(dt, 2, shape, 7, -2, 2);
        nb_tensor *xt = nb_transpose(x, 0, 1);
        assert_false(nb_tensor_is_contiguous(xt));
        nb_tensor *y = nb_exp(xt), *z = nb_abs(xt);
        assert_non_null(y);
        assert_non_null(z);
        assert_int_equal(nb_tensor_dim(y, 0), 5);
        double ry[15], rz[15];
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++) {
                double v = nb_tensor_get(x, j * 5 + i);
                ry[i * 3 + j] = exp(v);
                rz[i * 3 + j] = fabs(v);
            }
        nbt_assert_values(y, ry, dt == NB_F32 ? 1e-6 : 1e-15);
        nbt_assert_values(z, rz, 0);
        nb_tensor_free(z);
        nb_tensor_free(y);
        nb_tensor_free(xt);
        nb_tensor_free(x);
    }
}

/* sigmoid/softplus/tanh at +-100 (and beyond) stay finite and exact in both precisions. */
static void test_unary_ops_are_stable_at_extreme_inputs(void **state)
{
    (void)state;
    const double v[6] = {-1000, -100, -30, 30, 100, 1000};
    const int64_t shape[1] = {6};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *x = nb_tensor_new(dt, 1, shape);
        for (int i = 0; i < 6; i++)
            nb_tensor_set(x, i, v[i]);
        nb_tensor *s = nb_sigmoid(x), *sp = nb_softplus(x), *t = nb_tanh(x);
        nbt_assert_finite(s);
        nbt_assert_finite(sp);
        nbt_assert_finite(t);
        assert_true(nb_tensor_get(s, 0) == 0.0 || nb_tensor_get(s, 0) < 1e-300);
        assert_true(nb_tensor_get(s, 1) < 1e-40);
        assert_float_equal(nb_tensor_get(s, 4), 1.0, 0);
        assert_float_equal(nb_tensor_get(sp, 5), 1000.0, 0);
        assert_float_equal(nb_tensor_get(sp, 4), 100.0, 1e-12);
        assert_true(nb_tensor_get(sp, 0) >= 0 && nb_tensor_get(sp, 0) < 1e-300);
        assert_float_equal(nb_tensor_get(t, 0), -1.0, 0);
        nb_tensor_free(t);
        nb_tensor_free(sp);
        nb_tensor_free(s);
        nb_tensor_free(x);
    }
}

/* Their gradients at extreme inputs are finite too (sigmoid' -> 0, softplus' -> 0 or 1). */
static void test_unary_gradients_are_finite_at_extreme_inputs(void **state)
{
    (void)state;
    const double v[4] = {-100, -30, 30, 100};
    const int64_t shape[1] = {4};
    nb_tensor *x = nb_tensor_new(NB_F32, 1, shape);
    for (int i = 0; i < 4; i++)
        nb_tensor_set(x, i, v[i]);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *loss = nb_sum_all(nb_add(nb_add(nb_sigmoid(x), nb_softplus(x)), nb_tanh(x)));
    assert_int_equal(nb_backward(loss), NB_OK);
    nbt_assert_finite(nb_tensor_grad(x));
    assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 3), 1.0, 1e-6);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 0), 0.0, 1e-6);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_step_fn_is_not_differentiable(void **state)
{
    (void)state;
    const int64_t shape[1] = {4};
    nb_tensor *x = nbt_uniform(NB_F64, 1, shape, 3, -1, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_heaviside(x);
    assert_non_null(y);
    assert_false(nb_tensor_requires_grad(y));
    assert_int_equal(nb_step_tape_length(step), 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* nbt_assert_values, also taking an infinity equal to itself. */
static void assert_values_with_inf(const nb_tensor *t, const double *ref, double tol)
{
    for (int64_t i = 0; i < nb_tensor_numel(t); i++) {
        double v = nb_tensor_get(t, i);
        if (!(v == ref[i] || (isnan(v) && isnan(ref[i])) ||
              fabs(v - ref[i]) <= tol * fmax(1.0, fabs(ref[i])))) {
            print_error("element %lld: got %.17g, expected %.17g\n", (long long)i, v, ref[i]);
            fail();
        }
    }
}

/* Halves round to even, signed zeros are kept, NaN and infinities pass, values past 2^24 (f32)
 * are already integers; sign(NaN) = sign(-0) = 0 (torch.round/floor/ceil/sign). */
static void test_rounding_ops_at_halves_zeros_and_specials(void **state)
{
    (void)state;
    const double v[] = {-2.5, -1.5, -0.5, -0.0, 0.0,  0.5,      1.5, 2.5,      3.5,
                        -3.5, 0.25, -0.7, 1e7,  -1e7, 16777219, NAN, INFINITY, -INFINITY};
    const int n = sizeof v / sizeof v[0];
    const int64_t shape[1] = {n};
    nb_tensor *(*const ops[4])(nb_tensor *) = {nb_round, nb_floor, nb_ceil, nb_sign};
    double (*const refs[4])(double) = {ref_round, floor, ceil, ref_sign};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *x = nb_tensor_new(dt, 1, shape);
        for (int i = 0; i < n; i++)
            nb_tensor_set(x, i, v[i]);
        for (int k = 0; k < 4; k++) {
            nb_tensor *y = ops[k](x);
            double ref[sizeof v / sizeof v[0]];
            for (int i = 0; i < n; i++)
                ref[i] = k == 3 && isnan(v[i]) ? 0 : refs[k](nb_tensor_get(x, i));
            print_message("  op %d %s\n", k, nb_dtype_name(dt));
            assert_values_with_inf(y, ref, 0);
            /* The sign of zero: round(-0.5) = ceil(-0.5) = floor(-0) = -0, round(0.25) = +0. */
            if (k < 3) {
                assert_true(signbit(nb_tensor_get(y, 3)));
                assert_false(signbit(nb_tensor_get(y, 10)) && k != 1);
            }
            if (k != 1)
                assert_true(signbit(nb_tensor_get(y, 2)) || k == 3);
            nb_tensor_free(y);
        }
        nb_tensor_free(x);
    }
}

/* NaN in: NaN out (sign gives 0), and the gradient at NaN is PyTorch's: NaN from the smooth
 * activations and functions, 1 from hardtanh and elu, selu's scale. */
static void test_unary_ops_propagate_nan_like_pytorch(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        nb_tensor *(*op)(nb_tensor *x);
        double y, dy; /* values at NaN */
    } cases[] = {
        {"sin", nb_sin, NAN, NAN},
        {"cos", nb_cos, NAN, NAN},
        {"log1p", nb_log1p, NAN, NAN},
        {"expm1", nb_expm1, NAN, NAN},
        {"erf", nb_erf, NAN, NAN},
        {"gelu", op_gelu, NAN, NAN},
        {"gelu_tanh", op_gelu_tanh, NAN, NAN},
        {"silu", nb_silu, NAN, NAN},
        {"mish", nb_mish, NAN, NAN},
        {"softplus", nb_softplus, NAN, NAN},
        {"softsign", nb_softsign, NAN, NAN},
        {"rsqrt", nb_rsqrt, NAN, NAN},
        {"reciprocal", nb_reciprocal, NAN, NAN},
        {"hardtanh", op_hardtanh, NAN, 1},
        {"elu", op_elu, NAN, 1},
        {"selu", nb_selu, NAN, SELU_SCALE},
        {"sign", nb_sign, 0, -1},
        {"floor", nb_floor, NAN, -1},
        {"ceil", nb_ceil, NAN, -1},
        {"round", nb_round, NAN, -1},
    };
    const int64_t shape[1] = {3};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            nb_tensor *x = nb_tensor_full(dt, 1, shape, NAN);
            nb_tensor_set(x, 1, 0.5);
            nb_tensor_set_requires_grad(x, true);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *y = cases[k].op(x);
            print_message("  %s %s\n", cases[k].name, nb_dtype_name(dt));
            assert_non_null(y);
            const double ry[1] = {cases[k].y};
            nbt_assert_values(nb_slice(y, 0, 0, 1, 1), ry, 0);
            if (cases[k].dy != -1) {
                assert_int_equal(nb_backward_ex(y, nb_constant(dt, 1, shape, 1.0)), NB_OK);
                const double rg[1] = {cases[k].dy};
                nbt_assert_values(nb_slice(nb_tensor_grad(x), 0, 0, 1, 1), rg, 1e-6);
                assert_true(isfinite(nb_tensor_get(nb_tensor_grad(x), 1)));
            }
            nb_step_end(step);
            nb_step_free(step);
            nb_tensor_free(x);
        }
    }
}

/* Activations at +-1000 (f32 and f64): finite values and gradients, the right limits. */
static void test_activations_are_stable_at_extreme_inputs(void **state)
{
    (void)state;
    nb_tensor *(*const ops[7])(nb_tensor *) = {op_gelu, op_gelu_tanh, nb_silu,    nb_mish,
                                               op_elu,  nb_selu,      nb_softsign};
    const double v[6] = {-1000, -100, -30, 30, 100, 1000};
    const int64_t shape[1] = {6};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        for (int k = 0; k < 7; k++) {
            nb_tensor *x = nb_tensor_new(dt, 1, shape);
            for (int i = 0; i < 6; i++)
                nb_tensor_set(x, i, v[i]);
            nb_tensor_set_requires_grad(x, true);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *y = ops[k](x);
            print_message("  op %d %s\n", k, nb_dtype_name(dt));
            nbt_assert_finite(y);
            assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
            nbt_assert_finite(nb_tensor_grad(x));
            if (k < 4) { /* gelu, silu, mish: x for x >> 0, 0 for x << 0 */
                assert_float_equal(nb_tensor_get(y, 5), 1000.0, 0);
                assert_float_equal(nb_tensor_get(y, 0), 0.0, 0);
                assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 5), 1.0, 1e-6);
                assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 0), 0.0, 0);
            }
            nb_step_end(step);
            nb_step_free(step);
            nb_tensor_free(x);
        }
    }
}

/* torch.pow's values and gradients at the special points (torch 1.13, float64): 0^0 = 1 with
 * both gradients 0; d/db = 0 at a = 0, b >= 0 but -inf at 0^-1; NaN^0 = 1 and 1^NaN = 1. */
static void test_pow_special_points_match_torch(void **state)
{
    (void)state;
    const double a[10] = {0, 0, 0, 0, 2, -2, -2, NAN, 1, 0};
    const double b[10] = {0, 1, 2, -1, 0, 2, 0.5, 0, NAN, 0.5};
    const double y[10] = {1, 0, 0, INFINITY, 1, 4, NAN, 1, 1, 0};
    const double da[10] = {0, 1, 0, -INFINITY, 0, -4, NAN, 0, NAN, INFINITY};
    const double db[10] = {0, 0, 0, -INFINITY, log(2.0), NAN, NAN, NAN, 0, 0};
    const int64_t shape[1] = {10};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *ta = nb_tensor_new(dt, 1, shape), *tb = nb_tensor_new(dt, 1, shape);
        for (int i = 0; i < 10; i++) {
            nb_tensor_set(ta, i, a[i]);
            nb_tensor_set(tb, i, b[i]);
        }
        nb_tensor_set_requires_grad(ta, true);
        nb_tensor_set_requires_grad(tb, true);
        nb_step *step = nb_step_new();
        nb_step_begin(step);
        nb_tensor *out = nb_pow(ta, tb);
        print_message("  %s\n", nb_dtype_name(dt));
        assert_values_with_inf(out, y, 1e-7);
        assert_int_equal(nb_backward(nb_sum_all(out)), NB_OK);
        for (int i = 0; i < 10; i++) {
            double ga = nb_tensor_get(nb_tensor_grad(ta), i),
                   gb = nb_tensor_get(nb_tensor_grad(tb), i);
            assert_true(isnan(da[i]) ? isnan(ga) : ga == da[i] || fabs(ga - da[i]) < 1e-6);
            assert_true(isnan(db[i]) ? isnan(gb) : gb == db[i] || fabs(gb - db[i]) < 1e-6);
        }
        nb_step_end(step);
        nb_step_free(step);
        nb_tensor_free(tb);
        nb_tensor_free(ta);
    }
}

/* ---- binary ops against a naive broadcasting loop ---- */
typedef struct {
    const char *name;
    nb_tensor *(*op)(nb_tensor *a, nb_tensor *b);
    double (*ref)(double a, double b);
} binary_ref;

static double ref_add(double a, double b)
{
    return a + b;
}
static double ref_sub(double a, double b)
{
    return a - b;
}
static double ref_mul(double a, double b)
{
    return a * b;
}
static double ref_div(double a, double b)
{
    return a / b;
}
static double ref_max(double a, double b)
{
    return a >= b ? a : b;
}
static double ref_min(double a, double b)
{
    return a <= b ? a : b;
}

static const binary_ref binary_refs[] = {
    {"add", nb_add, ref_add}, {"sub", nb_sub, ref_sub},         {"mul", nb_mul, ref_mul},
    {"div", nb_div, ref_div}, {"maximum", nb_maximum, ref_max}, {"minimum", nb_minimum, ref_min},
    {"pow", nb_pow, pow},
};

/* Flat index into a tensor of shape xs (nx dims) for output multi-index idx (n dims), NumPy
 * broadcasting: dims right-aligned, size-1 dims repeat. */
static int64_t bcast_index(const int64_t *idx, int n, const int64_t *xs, int nx)
{
    int64_t f = 0;
    for (int d = 0; d < nx; d++) {
        int od = d + (n - nx);
        f = f * xs[d] + (xs[d] == 1 ? 0 : idx[od]);
    }
    return f;
}

static void check_binary(nb_dtype dt, int na, const int64_t *sa, int nb, const int64_t *sb, int n,
                         const int64_t *sy, double tol)
{
    for (size_t k = 0; k < sizeof binary_refs / sizeof binary_refs[0]; k++) {
        const binary_ref *o = &binary_refs[k];
        nb_tensor *a = nbt_uniform(dt, na, sa, 10 + k, -2, 2);
        nb_tensor *b = nbt_uniform(dt, nb, sb, 20 + k, 0.5, 2);
        nb_tensor *y = o->op(a, b);
        assert_non_null(y);
        assert_int_equal(nb_tensor_ndim(y), n);
        for (int d = 0; d < n; d++)
            assert_int_equal(nb_tensor_dim(y, d), sy[d]);
        int64_t numel = nb_tensor_numel(y), idx[NB_MAX_DIMS] = {0};
        double *ref = test_malloc((size_t)numel * sizeof *ref);
        for (int64_t i = 0; i < numel; i++) {
            ref[i] = o->ref(nb_tensor_get(a, bcast_index(idx, n, sa, na)),
                            nb_tensor_get(b, bcast_index(idx, n, sb, nb)));
            for (int d = n - 1; d >= 0 && ++idx[d] == sy[d]; d--)
                idx[d] = 0;
        }
        print_message("  %s %s\n", o->name, nb_dtype_name(dt));
        nbt_assert_values(y, ref, tol);
        test_free(ref);
        nb_tensor_free(y);
        nb_tensor_free(b);
        nb_tensor_free(a);
    }
}

static void test_binary_ops_match_reference_same_shape(void **state)
{
    (void)state;
    const int64_t s[2] = {5, 6};
    check_binary(NB_F64, 2, s, 2, s, 2, s, 1e-15);
    check_binary(NB_F32, 2, s, 2, s, 2, s, 1e-6);
}

static void test_binary_ops_broadcast_right_operand(void **state)
{
    (void)state;
    const int64_t sa[3] = {2, 3, 4}, sb[1] = {4};
    check_binary(NB_F64, 3, sa, 1, sb, 3, sa, 1e-15);
    check_binary(NB_F32, 3, sa, 1, sb, 3, sa, 1e-6);
}

static void test_binary_ops_broadcast_left_operand(void **state)
{
    (void)state;
    const int64_t sa[2] = {3, 1}, sb[3] = {2, 3, 4};
    check_binary(NB_F64, 2, sa, 3, sb, 3, sb, 1e-15);
}

static void test_binary_ops_broadcast_both_operands(void **state)
{
    (void)state;
    const int64_t sa[3] = {2, 1, 4}, sb[2] = {3, 1}, sy[3] = {2, 3, 4};
    check_binary(NB_F64, 3, sa, 2, sb, 3, sy, 1e-15);
    check_binary(NB_F32, 3, sa, 2, sb, 3, sy, 1e-6);
}

static void test_binary_ops_broadcast_scalar(void **state)
{
    (void)state;
    const int64_t sa[2] = {3, 4};
    check_binary(NB_F64, 2, sa, 0, NULL, 2, sa, 1e-15);
    check_binary(NB_F64, 0, NULL, 2, sa, 2, sa, 1e-15);
}

/* Strided operands: a transposed view and a sliced view. */
static void test_binary_ops_read_strided_operands(void **state)
{
    (void)state;
    const int64_t sa[2] = {4, 3}, sb[2] = {3, 8};
    nb_tensor *a = nbt_uniform(NB_F32, 2, sa, 1, -1, 1), *b = nbt_uniform(NB_F32, 2, sb, 2, -1, 1);
    nb_tensor *at = nb_transpose(a, 0, 1), *bs = nb_slice(b, 1, 1, 8, 2);
    nb_tensor *y = nb_sub(at, bs);
    assert_non_null(y);
    double ref[12];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            ref[i * 4 + j] = (double)((float)nb_tensor_get(a, j * 3 + i) -
                                      (float)nb_tensor_get(b, i * 8 + 1 + 2 * j));
    nbt_assert_values(y, ref, 0);
    nb_tensor_free(y);
    nb_tensor_free(bs);
    nb_tensor_free(at);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

/* Ties: maximum/minimum send the gradient to a (the documented rule), never to both. */
static void test_maximum_tie_sends_gradient_to_a(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_tensor *a = nb_tensor_full(NB_F64, 1, s, 1.0), *b = nb_tensor_full(NB_F64, 1, s, 1.0);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_maximum(a, b))), NB_OK);
    assert_int_equal(nb_backward(nb_sum_all(nb_minimum(a, b))), NB_OK);
    nb_step_end(step);
    const double two[3] = {2, 2, 2}, zero[3] = {0, 0, 0};
    nbt_assert_values(nb_tensor_grad(a), two, 0);
    nbt_assert_values(nb_tensor_grad(b), zero, 0);
    nb_step_free(step);
    nb_tensor_free(a);
    nb_tensor_free(b);
}

/* Large tensors take the OpenMP paths when threads are allowed: same numbers as one thread. */
static void test_parallel_elementwise_matches_serial(void **state)
{
    (void)state;
    const int64_t s[2] = {300, 400};
    nb_tensor *a = nbt_uniform(NB_F32, 2, s, 1, -3, 3), *b = nbt_uniform(NB_F32, 2, s, 2, 0.5, 2);
    int prev = nb_get_num_threads();
    nb_tensor *y[2][4];
    for (int t = 0; t < 2; t++) {
        nb_set_num_threads(t + 1);
        y[t][0] = nb_tanh(a);
        y[t][1] = nb_div(a, b);
        y[t][2] = nb_softmax(a, 1);
        y[t][3] = nb_log_softmax(a, 0);
    }
    nb_set_num_threads(prev);
    for (int k = 0; k < 4; k++) {
        assert_true(nb_tensor_allclose(y[0][k], y[1][k], 0, 0));
        nb_tensor_free(y[0][k]);
        nb_tensor_free(y[1][k]);
    }
    nb_tensor_free(b);
    nb_tensor_free(a);
}

/* ---- errors ---- */
static void test_add_rejects_shapes_that_do_not_broadcast(void **state)
{
    (void)state;
    int64_t sa[2] = {2, 3}, sb[2] = {4, 3};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, sa), *b = nb_tensor_new(NB_F32, 2, sb);
    assert_null(nb_add(a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_add: shapes do not broadcast: a is [2, 3], b is [4, 3]");
    assert_null(nb_maximum(b, a));
    nbt_assert_error(NB_ERR_SHAPE, "nb_maximum: shapes do not broadcast: a is [4, 3], b is [2, 3]");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_binary_ops_reject_f32_with_f64(void **state)
{
    (void)state;
    int64_t s[1] = {3};
    nb_tensor *a = nb_tensor_new(NB_F32, 1, s), *b = nb_tensor_new(NB_F64, 1, s);
    assert_null(nb_mul(a, b));
    nbt_assert_error(NB_ERR_DTYPE, "nb_mul: dtypes differ: input 0 is f32, input 1 is f64");
    assert_null(nb_div(b, a));
    nbt_assert_error(NB_ERR_DTYPE, "nb_div: dtypes differ: input 0 is f64, input 1 is f32");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_float_ops_reject_i64_input(void **state)
{
    (void)state;
    int64_t s[1] = {3};
    nb_tensor *i = nb_tensor_new(NB_I64, 1, s), *f = nb_tensor_new(NB_F32, 1, s);
    assert_null(nb_exp(i));
    nbt_assert_error(NB_ERR_DTYPE, "nb_exp: input 0 must be f32 or f64, got i64");
    assert_null(nb_add(f, i));
    nbt_assert_error(NB_ERR_DTYPE, "nb_add: input 1 must be f32 or f64, got i64");
    nb_tensor_free(i);
    nb_tensor_free(f);
}

static void test_clamp_rejects_lo_above_hi(void **state)
{
    (void)state;
    int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_new(NB_F32, 1, s);
    assert_null(nb_clamp(x, 1.0, -1.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_clamp: lo (1) must be <= hi (-1)");
    assert_null(nb_clamp(x, NAN, 1.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_clamp: lo (nan)");
    nb_tensor_free(x);
}

static void test_activations_reject_bad_parameters(void **state)
{
    (void)state;
    int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_new(NB_F32, 1, s);
    assert_null(nb_hardtanh(x, 1.0, -1.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_hardtanh: min_val (1) must be <= max_val (-1)");
    assert_null(nb_hardtanh(x, -1.0, NAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_hardtanh: min_val (-1) must be <= max_val (nan)");
    assert_null(nb_elu(x, INFINITY));
    nbt_assert_error(NB_ERR_VALUE, "nb_elu: alpha (inf) must be finite");
    assert_null(nb_gelu(x, (nb_gelu_approx)2));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_gelu: approximate must be NB_GELU_EXACT (0) or NB_GELU_TANH (1), got 2");
    nb_tensor_free(x);
}

static void test_pow_rejects_shapes_that_do_not_broadcast(void **state)
{
    (void)state;
    int64_t sa[2] = {2, 3}, sb[1] = {2};
    nb_tensor *a = nb_tensor_new(NB_F64, 2, sa), *b = nb_tensor_new(NB_F64, 1, sb);
    assert_null(nb_pow(a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_pow: shapes do not broadcast: a is [2, 3], b is [2]");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_unary_op_reports_null_input_when_no_error_pending(void **state)
{
    (void)state;
    nb_clear_error();
    assert_null(nb_tanh(NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_tanh: input 0 is NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_ops_match_libm_f64),
        cmocka_unit_test(test_unary_ops_match_libm_f32),
        cmocka_unit_test(test_unary_ops_read_transposed_views),
        cmocka_unit_test(test_unary_ops_are_stable_at_extreme_inputs),
        cmocka_unit_test(test_unary_gradients_are_finite_at_extreme_inputs),
        cmocka_unit_test(test_step_fn_is_not_differentiable),
        cmocka_unit_test(test_rounding_ops_at_halves_zeros_and_specials),
        cmocka_unit_test(test_unary_ops_propagate_nan_like_pytorch),
        cmocka_unit_test(test_activations_are_stable_at_extreme_inputs),
        cmocka_unit_test(test_pow_special_points_match_torch),
        cmocka_unit_test(test_binary_ops_match_reference_same_shape),
        cmocka_unit_test(test_binary_ops_broadcast_right_operand),
        cmocka_unit_test(test_binary_ops_broadcast_left_operand),
        cmocka_unit_test(test_binary_ops_broadcast_both_operands),
        cmocka_unit_test(test_binary_ops_broadcast_scalar),
        cmocka_unit_test(test_binary_ops_read_strided_operands),
        cmocka_unit_test(test_maximum_tie_sends_gradient_to_a),
        cmocka_unit_test(test_parallel_elementwise_matches_serial),
        cmocka_unit_test(test_add_rejects_shapes_that_do_not_broadcast),
        cmocka_unit_test(test_binary_ops_reject_f32_with_f64),
        cmocka_unit_test(test_float_ops_reject_i64_input),
        cmocka_unit_test(test_clamp_rejects_lo_above_hi),
        cmocka_unit_test(test_activations_reject_bad_parameters),
        cmocka_unit_test(test_pow_rejects_shapes_that_do_not_broadcast),
        cmocka_unit_test(test_unary_op_reports_null_input_when_no_error_pending),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("elementwise gradient checks", nbt_cases_elementwise);
}
