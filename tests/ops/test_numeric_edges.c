/* tests/ops/test_numeric_edges.c — ops at their numerical edges, against PyTorch's semantics:
 * pow's gradient at 0, BCE on confident predictions, NaN propagation through max-like ops,
 * float32 reductions over many elements (accumulated in double), slices with extreme
 * start/stop/step, and concat/stack of more inputs than one op application takes. */
#include "support/nbt.h"

#include <math.h>
#include <stdint.h>

/* |got - want| <= tol, failing on NaN too (cmocka's assert_float_equal lets NaN through). */
#define expect_near(got, want, tol) expect_near_at((got), (want), (tol), __LINE__)
static void expect_near_at(double got, double want, double tol, int line)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("line %d: got %.9g, expected %.9g (tol %g)", line, got, want, tol);
}

/* Caller-owned 1-D tensor of `dtype` holding v[0..n). */
static nb_tensor *vec(nb_dtype dtype, int64_t n, const double *v)
{
    nb_tensor *t = nb_tensor_new(dtype, 1, &n);
    for (int64_t i = 0; i < n; i++)
        nb_tensor_set(t, i, v[i]);
    return t;
}

/* d/dx sum(pow(x, p)) at x = 0 is p * 0^(p - 1) with PyTorch's convention 0 for p = 0 (so
 * x^0 = 1 has gradient 0 everywhere, NaN included). */
static void test_pow_scalar_gradient_at_zero_follows_pytorch(void **state)
{
    (void)state;
    const double p[5] = {0, 1, 2, 3, 0.5};
    const double want[5] = {0, 1, 0, 0, INFINITY};
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        for (int k = 0; k < 5; k++) {
            const double xv[2] = {0, NAN};
            nb_tensor *x = vec(dt, 2, xv);
            nb_tensor_set_requires_grad(x, true);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *y = nb_pow_scalar(x, p[k]);
            assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
            const double g = nb_tensor_get(nb_tensor_grad(x), 0);
            print_message("  pow(0, %g)' = %g (%s)\n", p[k], g, nb_dtype_name(dt));
            if (isinf(want[k]))
                assert_true(isinf(g) && g > 0);
            else
                expect_near(g, want[k], 0);
            if (p[k] == 0) { /* pow(NaN, 0) = 1 with gradient 0, as in PyTorch */
                expect_near(nb_tensor_get(y, 1), 1.0, 0);
                expect_near(nb_tensor_get(nb_tensor_grad(x), 1), 0.0, 0);
            }
            nb_step_end(step);
            nb_step_free(step);
            nb_tensor_free(x);
        }
    }
}

/* Confident correct predictions in float32 (p rounds to 1.0f, or to 0) cost ~0 with a finite
 * gradient; a confident wrong one costs at most 100 (PyTorch clamps log at -100). */
static void test_bce_is_finite_for_confident_f32_predictions(void **state)
{
    (void)state;
    const double pv[6] = {1 - 1e-9, 0.9999999, 1e-30, 0, 1, 0.25};
    const double tv[6] = {1, 1, 0, 0, 1, 1};
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *p = vec(dt, 6, pv), *t = vec(dt, 6, tv);
        nb_tensor_set_requires_grad(p, true);
        nb_step *step = nb_step_new();
        nb_step_begin(step);
        nb_tensor *l = nb_bce(p, t, NB_REDUCE_NONE);
        assert_non_null(l);
        nbt_assert_finite(l);
        for (int i = 0; i < 6; i++) {
            const double pi = nb_tensor_get(p, i); /* as rounded to dt */
            const double ref = tv[i] ? -log(pi) : -log1p(-pi);
            print_message("  %s bce(p=%.9g, t=%g) = %g\n", nb_dtype_name(dt), pi, tv[i],
                          nb_tensor_get(l, i));
            expect_near(nb_tensor_get(l, i), ref, 1e-6 * fmax(1, fabs(ref)));
        }
        assert_int_equal(nb_backward(nb_sum_all(l)), NB_OK);
        nbt_assert_finite(nb_tensor_grad(p));
        /* d/dp -log(p) = -1/p where p is inside (0, 1) */
        expect_near(nb_tensor_get(nb_tensor_grad(p), 5), -4.0, 1e-6);
        nb_step_end(step);
        nb_step_free(step);
        nb_tensor_free(t);
        nb_tensor_free(p);
    }
}

/* A confident wrong prediction: PyTorch's loss is -max(log(0), -100) = 100 in float64; float32
 * keeps log(p) >= log(FLT_MIN) = -87.3 so that 1/p stays finite. */
static void test_bce_clamps_log_like_pytorch(void **state)
{
    (void)state;
    const double pv[2] = {0, 1}, tv[2] = {1, 0};
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *p = vec(dt, 2, pv), *t = vec(dt, 2, tv);
        nb_tensor *l = nb_bce(p, t, NB_REDUCE_NONE);
        const double want = d ? 100.0 : -log(1.17549435082228750797e-38);
        expect_near(nb_tensor_get(l, 0), want, 1e-4);
        expect_near(nb_tensor_get(l, 1), want, 1e-4);
        nb_tensor_free(l);
        nb_tensor_free(t);
        nb_tensor_free(p);
    }
}

/* ---- NaN propagation ---- */
static void assert_nan(const nb_tensor *t, int64_t i, const char *what)
{
    const double v = nb_tensor_get(t, i);
    if (!isnan(v))
        fail_msg("%s: element %lld is %g, expected NaN", what, (long long)i, v);
}

static void test_max_like_ops_propagate_nan(void **state)
{
    (void)state;
    const double xv[3] = {NAN, -1, 2}, ov[3] = {1, 1, 1};
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *x = vec(dt, 3, xv), *one = vec(dt, 3, ov);
        nb_tensor *r[8] = {nb_relu(x),         nb_leaky_relu(x, 0.1), nb_clamp(x, -0.5, 0.5),
                           nb_maximum(x, one), nb_maximum(one, x),    nb_minimum(x, one),
                           nb_minimum(one, x), nb_max(x, 0, false)};
        const char *names[8] = {"relu",          "leaky_relu",    "clamp",         "maximum(x, 1)",
                                "maximum(1, x)", "minimum(x, 1)", "minimum(1, x)", "max"};
        for (int k = 0; k < 8; k++) {
            assert_non_null(r[k]);
            assert_nan(r[k], 0, names[k]);
            nb_tensor_free(r[k]);
        }
        nb_tensor *am = nb_argmax(x, 0); /* NaN counts as the maximum, as in PyTorch */
        expect_near(nb_tensor_get(am, 0), 0, 0);
        nb_tensor_free(am);
        nb_tensor_free(one);
        nb_tensor_free(x);
    }
}

/* Gradients at NaN follow PyTorch: relu and clamp pass 0; maximum/minimum pass the gradient to
 * both operands (neither compares below the other). */
static void test_gradients_at_nan_follow_pytorch(void **state)
{
    (void)state;
    const double xv[1] = {NAN}, ov[1] = {1};
    nb_tensor *x = vec(NB_F64, 1, xv), *o = vec(NB_F64, 1, ov);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(o, true);
    nb_step *step = nb_step_new();
    struct {
        int kind;
        double gx, go;
    } cases[6] = {{0, 0, 0}, {1, 0, 0}, {2, 1, 1}, {3, 1, 1}, {4, 1, 1}, {5, 1, 1}};
    for (int k = 0; k < 6; k++) {
        nb_step_begin(step);
        nb_tensor_zero_grad(x);
        nb_tensor_zero_grad(o);
        nb_tensor *y = cases[k].kind == 0   ? nb_mul(nb_relu(x), o)
                       : cases[k].kind == 1 ? nb_mul(nb_clamp(x, -1, 1), o)
                       : cases[k].kind == 2 ? nb_maximum(x, o)
                       : cases[k].kind == 3 ? nb_maximum(o, x)
                       : cases[k].kind == 4 ? nb_minimum(x, o)
                                            : nb_minimum(o, x);
        /* seed dy = 1 without multiplying NaN into the check: backward of y itself */
        assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
        expect_near(nb_tensor_get(nb_tensor_grad(x), 0), cases[k].gx, 0);
        if (cases[k].kind >= 2)
            expect_near(nb_tensor_get(nb_tensor_grad(o), 0), cases[k].go, 0);
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(o);
    nb_tensor_free(x);
}

/* ---- float32 reductions over many elements ---- */

/* mean over axis 0 of [20M, 2] ones is exactly 1 (a float accumulator stalls at 2^24). */
static void test_f32_mean_along_axis_of_20m_ones_is_exact(void **state)
{
    (void)state;
    const int64_t s[2] = {20000000, 2};
    nb_tensor *x = nb_tensor_full(NB_F32, 2, s, 1.0);
    nb_tensor *m = nb_mean(x, 0, false), *sum = nb_sum(x, 0, false);
    assert_non_null(m);
    expect_near(nb_tensor_get(m, 0), 1.0, 0);
    expect_near(nb_tensor_get(m, 1), 1.0, 0);
    expect_near(nb_tensor_get(sum, 1), 20000000.0, 0);
    nb_tensor_free(sum);
    nb_tensor_free(m);
    nb_tensor_free(x);
}

/* Sums along each axis of offset data (1000 + U(-1, 1)) match a double-precision sum of the same
 * float values to float rounding: both the forward sum and the broadcast gradient of a [C]
 * weight (the expand backward, summing over N). */
static void test_f32_axis_sums_of_offset_data_match_double(void **state)
{
    (void)state;
    const int64_t N = 1 << 20, C = 3, s[2] = {N, C}, sw[1] = {C};
    nb_tensor *x = nbt_uniform(NB_F32, 2, s, 5, 999, 1001);
    const float *px = nb_tensor_data_f32(x);
    double ref[3] = {0, 0, 0};
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            ref[c] += px[n * C + c];
    nb_tensor *sum0 = nb_sum(x, 0, false);
    print_message("  sum over %lld rows: %.9g (double: %.9g)\n", (long long)N,
                  nb_tensor_get(sum0, 0), ref[0]);
    nbt_assert_values(sum0, ref, 1e-7);
    nb_tensor *xt = nb_transpose(x, 0, 1); /* [C, N] strided: reduce the last axis */
    nb_tensor *sum1 = nb_sum(xt, 1, false);
    nbt_assert_values(sum1, ref, 1e-7);

    nb_tensor *w = nb_tensor_full(NB_F32, 1, sw, 1.0);
    nb_tensor_set_requires_grad(w, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(x, w))), NB_OK);
    nbt_assert_values(nb_tensor_grad(w), ref, 1e-7);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(w);
    nb_tensor_free(sum1);
    nb_tensor_free(xt);
    nb_tensor_free(sum0);
    nb_tensor_free(x);
}

/* softmax over 4M float32 logits: the normaliser is summed in double, so every output matches
 * the double-precision formula to float rounding. */
static void test_f32_softmax_over_a_long_axis_matches_double(void **state)
{
    (void)state;
    const int64_t n = 1 << 22;
    nb_tensor *x = nbt_uniform(NB_F32, 1, &n, 9, 0, 1);
    const float *px = nb_tensor_data_f32(x);
    double m = -INFINITY, s = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, px[i]);
    for (int64_t i = 0; i < n; i++)
        s += exp((double)px[i] - m);
    nb_tensor *y = nb_softmax(x, 0), *ly = nb_log_softmax(x, 0);
    for (int64_t i = 0; i < n; i += n / 8) {
        const double want = exp((double)px[i] - m) / s;
        expect_near(nb_tensor_get(y, i) / want, 1.0, 1e-6);
        expect_near(nb_tensor_get(ly, i), log(want), 1e-6);
    }
    nb_tensor_free(ly);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

/* ---- slices with extreme arguments ---- */
static void test_slice_with_extreme_step_start_stop(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    const double v[6] = {0, 1, 2, 3, 4, 5};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, s, v);
    nb_tensor_set_requires_grad(x, true);
    struct {
        int axis;
        int64_t start, stop, step, d0, d1;
        double first;
    } c[5] = {
        {0, 0, 2, INT64_MAX / 2, 1, 3, 0},
        {0, 0, INT64_MAX, INT64_MAX, 1, 3, 0},
        {1, INT64_MIN, INT64_MAX, INT64_MAX, 2, 1, 0},
        {1, 1, INT64_MAX, INT64_MAX / 2 + 1, 2, 1, 1},
        {1, -INT64_MAX, -1, 2, 2, 1, 0},
    };
    for (int k = 0; k < 5; k++) {
        nb_step *step = nb_step_new();
        nb_step_begin(step);
        nb_tensor_zero_grad(x);
        nb_tensor *y = nb_slice(x, c[k].axis, c[k].start, c[k].stop, c[k].step);
        assert_non_null(y);
        assert_int_equal(nb_tensor_dim(y, 0), c[k].d0);
        assert_int_equal(nb_tensor_dim(y, 1), c[k].d1);
        expect_near(nb_tensor_get(y, 0), c[k].first, 0);
        assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
        double total = 0;
        for (int i = 0; i < 6; i++)
            total += nb_tensor_get(nb_tensor_grad(x), i);
        expect_near(total, (double)(c[k].d0 * c[k].d1), 0);
        nb_step_end(step);
        nb_step_free(step);
    }
    nb_tensor_free(x);
}

/* ---- concat / stack of many inputs ---- */
#define MANY 100

/* x [MANY, 2, 2] split into MANY views [1, 2, 2], joined again: the gradient check covers every
 * one of the MANY inputs through the views. */
static nb_tensor *join_many(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    nb_tensor *xs[MANY];
    if (nb_split(in[0], 0, MANY, xs) != NB_OK)
        return NULL;
    return *(const int *)user ? nb_stack(MANY, xs, 1) : nb_concat(MANY, xs, 2);
}

static void test_concat_and_stack_take_100_inputs(void **state)
{
    (void)state;
    const nbt_input spec[1] = {NBT_IN(-1, 1, MANY, 2, 2)};
    for (int stack = 0; stack < 2; stack++)
        assert_int_equal(nbt_check(join_many, &stack, spec, 1, 11), NB_OK);

    /* values land in order */
    nb_tensor *xs[MANY];
    const int64_t one = 1;
    for (int i = 0; i < MANY; i++)
        xs[i] = nb_tensor_full(NB_F32, 1, &one, i);
    nb_tensor *y = nb_concat(MANY, xs, 0), *z = nb_stack(MANY, xs, 1);
    assert_int_equal(nb_tensor_dim(y, 0), MANY);
    assert_int_equal(nb_tensor_dim(z, 0), 1);
    assert_int_equal(nb_tensor_dim(z, 1), MANY);
    for (int i = 0; i < MANY; i++) {
        expect_near(nb_tensor_get(y, i), i, 0);
        expect_near(nb_tensor_get(z, i), i, 0);
    }
    nb_tensor_free(z);
    nb_tensor_free(y);
    for (int i = 0; i < MANY; i++)
        nb_tensor_free(xs[i]);
}

/* Sizes that add up past INT64_MAX (stride-0 views of 2^59 elements each) are a clear error. */
static void test_concat_reports_size_overflow(void **state)
{
    (void)state;
    const int64_t one = 1, big = (int64_t)1 << 59;
    nb_tensor *x = nb_tensor_zeros(NB_F32, 1, &one);
    nb_tensor *e = nb_expand(x, 1, &big);
    assert_non_null(e);
    nb_tensor *xs[16];
    for (int i = 0; i < 16; i++)
        xs[i] = e;
    assert_null(nb_concat(16, xs, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_concat: the sizes along axis 0 add up past INT64_MAX");
    nb_tensor_free(e);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pow_scalar_gradient_at_zero_follows_pytorch),
        cmocka_unit_test(test_bce_is_finite_for_confident_f32_predictions),
        cmocka_unit_test(test_bce_clamps_log_like_pytorch),
        cmocka_unit_test(test_max_like_ops_propagate_nan),
        cmocka_unit_test(test_gradients_at_nan_follow_pytorch),
        cmocka_unit_test(test_f32_mean_along_axis_of_20m_ones_is_exact),
        cmocka_unit_test(test_f32_axis_sums_of_offset_data_match_double),
        cmocka_unit_test(test_f32_softmax_over_a_long_axis_matches_double),
        cmocka_unit_test(test_slice_with_extreme_step_start_stop),
        cmocka_unit_test(test_concat_and_stack_take_100_inputs),
        cmocka_unit_test(test_concat_reports_size_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
