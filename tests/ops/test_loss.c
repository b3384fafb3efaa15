/* tests/ops/test_loss.c — forward references and gradient checks for ops/loss.c: every loss
 * under every reduction against its formula in f32 and f64, extreme inputs (p at 0 and 1,
 * logits at +-100), and the error paths. */
#include "support/nbt.h"

#include <math.h>

extern const nbt_case nbt_cases_loss[];

enum { N = 4, C = 3 };

/* Checks a loss tensor against per-element values `per` (count n) for the given reduction. */
static void check_reduced(nb_tensor *loss, nb_reduction red, const double *per, int n, double tol)
{
    assert_non_null(loss);
    if (red == NB_REDUCE_NONE) {
        assert_int_equal(nb_tensor_numel(loss), n);
        nbt_assert_values(loss, per, tol);
        return;
    }
    double s = 0;
    for (int i = 0; i < n; i++)
        s += per[i];
    assert_int_equal(nb_tensor_ndim(loss), 0);
    double want = red == NB_REDUCE_MEAN ? s / n : s;
    assert_float_equal(nb_tensor_item(loss), want, tol * fmax(1, fabs(want)));
}

static const nb_reduction reductions[3] = {NB_REDUCE_MEAN, NB_REDUCE_SUM, NB_REDUCE_NONE};

static void test_mse_and_sse_match_formula(void **state)
{
    (void)state;
    const int64_t s[2] = {N, C};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        double tol = d ? 1e-14 : 1e-6;
        nb_tensor *p = nbt_uniform(dt, 2, s, 1, -2, 2), *t = nbt_uniform(dt, 2, s, 2, -2, 2);
        double per[N * C];
        for (int i = 0; i < N * C; i++) {
            double e = nb_tensor_get(p, i) - nb_tensor_get(t, i);
            per[i] = e * e;
        }
        for (int r = 0; r < 3; r++) {
            nb_tensor *l = nb_mse(p, t, reductions[r]);
            check_reduced(l, reductions[r], per, N * C, tol);
            nb_tensor_free(l);
        }
        nb_tensor *m = nb_mse(p, t, NB_REDUCE_MEAN), *ss = nb_mse(p, t, NB_REDUCE_SUM);
        check_reduced(m, NB_REDUCE_MEAN, per, N * C, tol);
        check_reduced(ss, NB_REDUCE_SUM, per, N * C, tol);
        nb_tensor *all[] = {ss, m, t, p};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_bce_matches_formula(void **state)
{
    (void)state;
    const int64_t s[2] = {N, C};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        double tol = d ? 1e-13 : 2e-6;
        nb_tensor *p = nbt_uniform(dt, 2, s, 3, 0.01, 0.99), *t = nbt_uniform(dt, 2, s, 4, 0, 1);
        double per[N * C];
        for (int i = 0; i < N * C; i++) {
            double pi = nb_tensor_get(p, i), ti = nb_tensor_get(t, i);
            per[i] = -(ti * log(pi) + (1 - ti) * log(1 - pi));
        }
        for (int r = 0; r < 3; r++) {
            nb_tensor *l = nb_bce(p, t, reductions[r]);
            check_reduced(l, reductions[r], per, N * C, tol);
            nb_tensor_free(l);
        }
        nb_tensor_free(t);
        nb_tensor_free(p);
    }
}

/* p exactly 0 or 1: PyTorch's loss (each log clamped at -100), finite gradient. */
static void test_bce_is_finite_at_probabilities_0_and_1(void **state)
{
    (void)state;
    const double pv[4] = {0, 1, 0, 1}, tv[4] = {1, 0, 0, 1};
    const int64_t s[1] = {4};
    nb_tensor *p = nb_tensor_from_data(NB_F64, 1, s, pv),
              *t = nb_tensor_from_data(NB_F64, 1, s, tv);
    nb_tensor_set_requires_grad(p, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *l = nb_bce(p, t, NB_REDUCE_NONE);
    nbt_assert_finite(l);
    assert_float_equal(nb_tensor_get(l, 0), 100.0, 1e-9);
    assert_float_equal(nb_tensor_get(l, 2), 0, 1e-11);
    assert_int_equal(nb_backward(nb_sum_all(l)), NB_OK);
    nbt_assert_finite(nb_tensor_grad(p));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(t);
    nb_tensor_free(p);
}

static void test_bce_with_logits_matches_formula_and_is_stable(void **state)
{
    (void)state;
    const double zv[6] = {-100, -3, -0.5, 0.7, 4, 100}, tv[6] = {1, 0, 0.3, 1, 0, 0};
    const int64_t s[1] = {6};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *z = nb_tensor_new(dt, 1, s), *t = nb_tensor_new(dt, 1, s);
        for (int i = 0; i < 6; i++) {
            nb_tensor_set(z, i, zv[i]);
            nb_tensor_set(t, i, tv[i]);
        }
        nb_tensor_set_requires_grad(z, true);
        double per[6];
        for (int i = 0; i < 6; i++) /* softplus(z) - z t, softplus written stably */
            per[i] = fmax(zv[i], 0) + log1p(exp(-fabs(zv[i]))) - zv[i] * tv[i];
        for (int r = 0; r < 3; r++) {
            nb_tensor *l = nb_bce_with_logits(z, t, reductions[r]);
            nbt_assert_finite(l);
            check_reduced(l, reductions[r], per, 6, d ? 1e-14 : 1e-6);
            nb_tensor_free(l);
        }
        /* The gradient sigmoid(z) - t is finite and exact at +-100. */
        nb_step *step = nb_step_new();
        nb_step_begin(step);
        assert_int_equal(nb_backward(nb_bce_with_logits(z, t, NB_REDUCE_SUM)), NB_OK);
        nb_step_end(step);
        nbt_assert_finite(nb_tensor_grad(z));
        assert_float_equal(nb_tensor_get(nb_tensor_grad(z), 0), -1.0, 1e-12);
        assert_float_equal(nb_tensor_get(nb_tensor_grad(z), 5), 1.0, 1e-12);
        nb_step_free(step);
        nb_tensor_free(t);
        nb_tensor_free(z);
    }
}

static void test_cross_entropy_matches_negative_log_softmax(void **state)
{
    (void)state;
    const int64_t ls[2] = {N, C}, ts[1] = {N}, targets[N] = {2, 0, 1, 2};
    nb_tensor *y = nbt_ids(1, ts, targets);
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *z = nbt_uniform(dt, 2, ls, 5, -5, 5);
        nb_tensor *onehot = nb_one_hot(y, C, dt);
        double per[N];
        for (int n = 0; n < N; n++) {
            double m = -INFINITY, s = 0;
            for (int c = 0; c < C; c++)
                m = fmax(m, nb_tensor_get(z, n * C + c));
            for (int c = 0; c < C; c++)
                s += exp(nb_tensor_get(z, n * C + c) - m);
            per[n] = -(nb_tensor_get(z, n * C + targets[n]) - m - log(s));
        }
        for (int r = 0; r < 3; r++) {
            nb_tensor *l = nb_cross_entropy(z, y, reductions[r]);
            nb_tensor *lo = nb_cross_entropy_onehot(z, onehot, reductions[r]);
            check_reduced(l, reductions[r], per, N, d ? 1e-14 : 2e-6);
            check_reduced(lo, reductions[r], per, N, d ? 1e-14 : 2e-6);
            nb_tensor_free(lo);
            nb_tensor_free(l);
        }
        nb_tensor_free(onehot);
        nb_tensor_free(z);
    }
    nb_tensor_free(y);
}

/* Soft targets: -sum_c t_c log softmax(z)_c. */
static void test_cross_entropy_onehot_accepts_probability_targets(void **state)
{
    (void)state;
    const double zv[4] = {1, 2, 0, -1}, tv[4] = {0.25, 0.75, 0.5, 0.5};
    const int64_t s[2] = {2, 2};
    nb_tensor *z = nb_tensor_from_data(NB_F64, 2, s, zv),
              *t = nb_tensor_from_data(NB_F64, 2, s, tv);
    nb_tensor *l = nb_cross_entropy_onehot(z, t, NB_REDUCE_NONE);
    double per[2];
    for (int n = 0; n < 2; n++) {
        double a = zv[2 * n], b = zv[2 * n + 1], lse = fmax(a, b) + log1p(exp(-fabs(a - b)));
        per[n] = -(tv[2 * n] * (a - lse) + tv[2 * n + 1] * (b - lse));
    }
    check_reduced(l, NB_REDUCE_NONE, per, 2, 1e-15);
    nb_tensor_free(l);
    nb_tensor_free(t);
    nb_tensor_free(z);
}

/* Huge logits do not overflow cross-entropy. */
static void test_cross_entropy_is_stable_for_huge_logits(void **state)
{
    (void)state;
    const float zv[4] = {1000, 0, -1000, 1000};
    const int64_t s[2] = {2, 2}, ts[1] = {2}, targets[2] = {1, 1};
    nb_tensor *z = nb_tensor_from_data(NB_F32, 2, s, zv), *y = nbt_ids(1, ts, targets);
    nb_tensor *l = nb_cross_entropy(z, y, NB_REDUCE_NONE);
    nbt_assert_finite(l);
    assert_float_equal(nb_tensor_get(l, 0), 1000, 1e-3);
    assert_float_equal(nb_tensor_get(l, 1), 0, 1e-6);
    nb_tensor_free(l);
    nb_tensor_free(y);
    nb_tensor_free(z);
}

/* ---- errors ---- */
static void test_losses_reject_mismatched_shapes(void **state)
{
    (void)state;
    const int64_t sa[2] = {4, 3}, sb[2] = {3, 4};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, sa), *b = nb_tensor_new(NB_F32, 2, sb);
    assert_null(nb_mse(a, b, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_mse: prediction is [4, 3], target is [3, 4]");
    assert_null(nb_mse(a, b, NB_REDUCE_SUM));
    nbt_assert_error(NB_ERR_SHAPE, "nb_mse: prediction is [4, 3], target is [3, 4]");
    assert_null(nb_bce(a, b, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_bce: prediction is [4, 3]");
    assert_null(nb_bce_with_logits(b, a, NB_REDUCE_SUM));
    nbt_assert_error(NB_ERR_SHAPE, "nb_bce_with_logits: prediction is [3, 4], target is [4, 3]");
    assert_null(nb_cross_entropy_onehot(a, b, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_cross_entropy_onehot: prediction is [4, 3]");
    nb_tensor_free(b);
    nb_tensor_free(a);
}

static void test_cross_entropy_rejects_bad_targets(void **state)
{
    (void)state;
    const int64_t ls[2] = {2, 3}, ts[1] = {2}, t3[1] = {3}, bad[2] = {0, 3}, ok3[3] = {0, 1, 2};
    nb_tensor *z = nb_tensor_new(NB_F32, 2, ls), *yb = nbt_ids(1, ts, bad);
    nb_tensor *y3 = nbt_ids(1, t3, ok3), *yf = nb_tensor_new(NB_F32, 1, ts);
    assert_null(nb_cross_entropy(z, yb, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_cross_entropy: target[1] = 3 is outside [0, 3)");
    assert_null(nb_cross_entropy(z, y3, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_cross_entropy: logits must be [N, C, d1, ...] (or [C]) and "
                                   "target [N, d1, ...] (or []): logits is [2, 3], target is [3]");
    assert_null(nb_cross_entropy(z, yf, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_DTYPE, "nb_cross_entropy: target must be i64 (indices), got f32");
    nb_tensor *all[] = {yf, y3, yb, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_losses_reject_unknown_reduction_and_dtype_mix(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_tensor *a = nb_tensor_new(NB_F32, 1, s), *b = nb_tensor_new(NB_F64, 1, s);
    nb_tensor *c = nb_tensor_new(NB_F32, 1, s);
    assert_null(nb_mse(a, c, (nb_reduction)7));
    nbt_assert_error(NB_ERR_VALUE, "nb_mse: unknown reduction 7");
    assert_null(nb_bce_with_logits(a, c, (nb_reduction)-1));
    nbt_assert_error(NB_ERR_VALUE, "nb_bce_with_logits: unknown reduction -1");
    assert_null(nb_mse(a, b, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_DTYPE, "nb_sub: dtypes differ: input 0 is f32, input 1 is f64");
    nb_tensor_free(c);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse_and_sse_match_formula),
        cmocka_unit_test(test_bce_matches_formula),
        cmocka_unit_test(test_bce_is_finite_at_probabilities_0_and_1),
        cmocka_unit_test(test_bce_with_logits_matches_formula_and_is_stable),
        cmocka_unit_test(test_cross_entropy_matches_negative_log_softmax),
        cmocka_unit_test(test_cross_entropy_onehot_accepts_probability_targets),
        cmocka_unit_test(test_cross_entropy_is_stable_for_huge_logits),
        cmocka_unit_test(test_losses_reject_mismatched_shapes),
        cmocka_unit_test(test_cross_entropy_rejects_bad_targets),
        cmocka_unit_test(test_losses_reject_unknown_reduction_and_dtype_mix),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("loss gradient checks", nbt_cases_loss);
}
