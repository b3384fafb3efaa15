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

/* PyTorch's weighted mean: sum of -w[t] logp[t] over the positions not ignored, divided by
 * the sum of their w[t]; NONE has 0 at ignored positions. */
static void test_cross_entropy_weights_and_ignore_index_follow_pytorch(void **state)
{
    (void)state;
    enum { n = 5, c = 3 };
    const int64_t ls[2] = {n, c}, ts[1] = {n}, cs[1] = {c}, targets[n] = {2, -100, 0, 2, 1};
    const double wv[c] = {0.5, 2.0, 1.5};
    nb_tensor *y = nbt_ids(1, ts, targets);
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *z = nbt_uniform(dt, 2, ls, 8, -3, 3), *w = nb_tensor_new(dt, 1, cs);
        for (int k = 0; k < c; k++)
            nb_tensor_set(w, k, wv[k]);
        double per[n], num = 0, den = 0;
        for (int i = 0; i < n; i++) {
            double m = -INFINITY, s = 0;
            for (int k = 0; k < c; k++)
                m = fmax(m, nb_tensor_get(z, i * c + k));
            for (int k = 0; k < c; k++)
                s += exp(nb_tensor_get(z, i * c + k) - m);
            per[i] = targets[i] < 0
                         ? 0
                         : -wv[targets[i]] * (nb_tensor_get(z, i * c + targets[i]) - m - log(s));
            num += per[i];
            den += targets[i] < 0 ? 0 : wv[targets[i]];
        }
        const nb_cross_entropy_opts o = {
            .weight = w, .use_ignore_index = true, .ignore_index = -100};
        const double tol = d ? 1e-14 : 2e-6;
        nb_tensor *none = nb_cross_entropy_ex(z, y, NB_REDUCE_NONE, &o);
        nb_tensor *sum = nb_cross_entropy_ex(z, y, NB_REDUCE_SUM, &o);
        nb_tensor *mean = nb_cross_entropy_ex(z, y, NB_REDUCE_MEAN, &o);
        nbt_assert_values(none, per, tol);
        assert_float_equal(nb_tensor_item(sum), num, tol * fabs(num));
        assert_float_equal(nb_tensor_item(mean), num / den, tol * fabs(num / den));
        /* nll of log_softmax is the same loss */
        nb_tensor *logp = nb_log_softmax(z, 1), *nll = nb_nll_ex(logp, y, NB_REDUCE_MEAN, &o);
        assert_float_equal(nb_tensor_item(nll), num / den, tol * fabs(num / den));
        nb_tensor *all[] = {nll, logp, mean, sum, none, w, z};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
    nb_tensor_free(y);
}

/* [N, C, d] logits with [N, d] targets equal [N * d, C] rows with [N * d] targets, in every
 * reduction and with label smoothing. */
static void test_cross_entropy_of_nd_logits_equals_rows(void **state)
{
    (void)state;
    const int64_t ls[3] = {2, 4, 3}, ts[2] = {2, 3}, rs[2] = {6, 4}, r1[1] = {6};
    const int64_t targets[6] = {3, 0, 1, 1, 2, 3};
    nb_tensor *z = nbt_uniform(NB_F64, 3, ls, 9, -3, 3), *y = nbt_ids(2, ts, targets);
    nb_tensor *perm = nb_permute(z, (const int[]){0, 2, 1}), *rows = nb_reshape(perm, 2, rs);
    nb_tensor *yr = nb_reshape(y, 1, r1);
    const nb_cross_entropy_opts o = {.label_smoothing = 0.25};
    for (int r = 0; r < 3; r++) {
        nb_tensor *a = nb_cross_entropy_ex(z, y, reductions[r], &o);
        nb_tensor *b = nb_cross_entropy_ex(rows, yr, reductions[r], &o);
        assert_non_null(a);
        assert_int_equal(nb_tensor_numel(a), nb_tensor_numel(b));
        if (reductions[r] == NB_REDUCE_NONE)
            assert_int_equal(nb_tensor_ndim(a), 2);
        for (int64_t i = 0; i < nb_tensor_numel(a); i++)
            assert_float_equal(nb_tensor_get(a, i), nb_tensor_get(b, i), 1e-14);
        nb_tensor_free(b);
        nb_tensor_free(a);
    }
    nb_tensor *all[] = {yr, rows, perm, y, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Every position ignored: the mean is 0 / 0 = NaN as in PyTorch; SUM is 0. */
static void test_cross_entropy_with_every_target_ignored(void **state)
{
    (void)state;
    const int64_t ls[2] = {2, 3}, ts[1] = {2}, targets[2] = {-1, -1};
    nb_tensor *z = nbt_uniform(NB_F64, 2, ls, 10, -1, 1), *y = nbt_ids(1, ts, targets);
    const nb_cross_entropy_opts o = {.use_ignore_index = true, .ignore_index = -1};
    nb_tensor *m = nb_cross_entropy_ex(z, y, NB_REDUCE_MEAN, &o);
    nb_tensor *s = nb_cross_entropy_ex(z, y, NB_REDUCE_SUM, &o);
    assert_true(isnan(nb_tensor_item(m)));
    assert_float_equal(nb_tensor_item(s), 0, 0);
    nb_tensor *all[] = {s, m, y, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Smooth L1 and Huber on both sides of their threshold, against the branchy formula. */
static void test_smooth_l1_and_huber_match_formula(void **state)
{
    (void)state;
    const double pv[6] = {0, 0.2, -0.3, 1.5, -2, 0.7}, tv[6] = {0, -0.1, 0.3, 0, 1, 0.7};
    const int64_t s[1] = {6};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *p = nb_tensor_new(dt, 1, s), *t = nb_tensor_new(dt, 1, s);
        for (int i = 0; i < 6; i++) {
            nb_tensor_set(p, i, pv[i]);
            nb_tensor_set(t, i, tv[i]);
        }
        const double beta = 0.5, delta = 0.8;
        double sl[6], hu[6], l1[6];
        for (int i = 0; i < 6; i++) {
            const double e = fabs(nb_tensor_get(p, i) - nb_tensor_get(t, i));
            sl[i] = e < beta ? 0.5 * e * e / beta : e - 0.5 * beta;
            hu[i] = e < delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
            l1[i] = e;
        }
        const double tol = d ? 1e-15 : 1e-6;
        for (int r = 0; r < 3; r++) {
            nb_tensor *a = nb_smooth_l1(p, t, reductions[r], beta);
            nb_tensor *b = nb_huber(p, t, reductions[r], delta);
            nb_tensor *c = nb_smooth_l1(p, t, reductions[r], 0.0), *e = nb_l1(p, t, reductions[r]);
            check_reduced(a, reductions[r], sl, 6, tol);
            check_reduced(b, reductions[r], hu, 6, tol);
            check_reduced(c, reductions[r], l1, 6, tol);
            check_reduced(e, reductions[r], l1, 6, tol);
            nb_tensor *all[] = {e, c, b, a};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                nb_tensor_free(all[i]);
        }
        nb_tensor_free(t);
        nb_tensor_free(p);
    }
}

/* Zero target probabilities add 0 (0 log 0 = 0) and leave every gradient finite. */
static void test_kl_div_with_zero_targets_is_finite(void **state)
{
    (void)state;
    const double xv[4] = {-1.2, -0.4, -2.0, -0.7}, tv[4] = {0, 1, 0.25, 0};
    const int64_t s[2] = {2, 2};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, s, xv),
              *t = nb_tensor_from_data(NB_F64, 2, s, tv);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(t, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *l = nb_kl_div(x, t, NB_REDUCE_NONE, false);
    const double want[4] = {0, 1 * (0 - xv[1]), 0.25 * (log(0.25) - xv[2]), 0};
    nbt_assert_values(l, want, 1e-15);
    nb_tensor *bm = nb_kl_div(x, t, NB_REDUCE_BATCHMEAN, false);
    assert_float_equal(nb_tensor_item(bm), (want[1] + want[2]) / 2, 1e-15);
    assert_int_equal(nb_backward(bm), NB_OK);
    nbt_assert_finite(nb_tensor_grad(x));
    nbt_assert_finite(nb_tensor_grad(t));
    assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 0), 0, 0);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(x), 1), -0.5, 1e-15);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(t);
    nb_tensor_free(x);
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

/* Out-of-range targets name the position (as a multi-index) and the value. */
static void test_class_losses_reject_bad_targets_weights_and_options(void **state)
{
    (void)state;
    const int64_t ls[3] = {2, 4, 3}, ts[2] = {2, 3}, bad[6] = {0, 1, 2, 3, 5, 0};
    const int64_t neg[6] = {0, 1, -1, 3, 3, 0}, ws[1] = {3}, ys[2] = {3, 2};
    nb_tensor *z = nb_tensor_new(NB_F32, 3, ls), *yb = nbt_ids(2, ts, bad);
    nb_tensor *yn = nbt_ids(2, ts, neg), *w3 = nb_tensor_new(NB_F32, 1, ws);
    nb_tensor *w64 = nb_tensor_new(NB_F64, 1, (const int64_t[]){4});
    nb_tensor *y32 = nb_tensor_new(NB_I64, 2, ys);
    assert_null(nb_cross_entropy(z, yb, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_cross_entropy: target[1, 1] = 5 is outside [0, 4)");
    assert_null(
        nb_nll_ex(z, yn, NB_REDUCE_SUM,
                  &(nb_cross_entropy_opts){.use_ignore_index = true, .ignore_index = -100}));
    nbt_assert_error(NB_ERR_VALUE, "nb_nll_ex: target[0, 2] = -1 is outside [0, 4) and is not the "
                                   "ignore_index");
    assert_null(nb_cross_entropy_ex(z, yn, NB_REDUCE_MEAN, &(nb_cross_entropy_opts){.weight = w3}));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_cross_entropy_ex: weight must be [C] = [4] for logits [2, 4, 3], got [3]");
    assert_null(
        nb_cross_entropy_ex(z, yb, NB_REDUCE_MEAN, &(nb_cross_entropy_opts){.weight = w64}));
    nbt_assert_error(NB_ERR_DTYPE, "nb_cross_entropy_ex: input, target and weight must share");
    assert_null(nb_cross_entropy(z, y32, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "logits is [2, 4, 3], target is [3, 2]");
    assert_null(nb_cross_entropy_ex(z, yn, NB_REDUCE_MEAN,
                                    &(nb_cross_entropy_opts){.label_smoothing = 1.5}));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_cross_entropy_ex: label_smoothing must be in [0, 1], got 1.5");
    assert_null(nb_cross_entropy_ex(z, yn, NB_REDUCE_MEAN,
                                    &(nb_cross_entropy_opts){.label_smoothing = NAN}));
    nbt_assert_error(NB_ERR_VALUE, "label_smoothing must be in [0, 1], got nan");
    assert_null(nb_nll_ex(z, yn, NB_REDUCE_MEAN, &(nb_cross_entropy_opts){.label_smoothing = 0.1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_nll_ex: label_smoothing applies to cross-entropy only");
    assert_null(nb_nll(z, yn, NB_REDUCE_BATCHMEAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_nll: NB_REDUCE_BATCHMEAN is a reduction of nb_kl_div only");
    nb_tensor *x0 = nb_tensor_new(NB_F32, 0, NULL);
    assert_null(nb_nll(x0, y32, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_nll: input must be [N, C, d1, ...] (or [C])");
    nb_tensor *all[] = {x0, y32, w64, w3, yn, yb, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_losses_reject_bad_parameters_and_shapes(void **state)
{
    (void)state;
    const int64_t s[2] = {4, 3}, s5[1] = {5}, s4[1] = {4}, s0[1] = {3};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, s), *b = nb_tensor_new(NB_F32, 2, s);
    nb_tensor *v5 = nb_tensor_new(NB_F32, 1, s5), *v4 = nb_tensor_new(NB_F32, 1, s4);
    nb_tensor *v3 = nb_tensor_new(NB_F32, 1, s0), *x0 = nb_tensor_new(NB_F32, 0, NULL);
    assert_null(nb_smooth_l1(a, b, NB_REDUCE_MEAN, -0.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_smooth_l1: beta must be finite and >= 0, got -0.5");
    assert_null(nb_huber(a, b, NB_REDUCE_MEAN, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_huber: delta must be finite and > 0, got 0");
    assert_null(nb_l1(a, v4, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_SHAPE, "nb_l1: prediction is [4, 3], target is [4]");
    assert_null(nb_mse(a, b, NB_REDUCE_BATCHMEAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_mse: NB_REDUCE_BATCHMEAN is a reduction of nb_kl_div only");
    assert_null(nb_kl_div(x0, x0, NB_REDUCE_BATCHMEAN, false));
    nbt_assert_error(NB_ERR_SHAPE, "nb_kl_div: NB_REDUCE_BATCHMEAN needs a batch axis");
    assert_null(nb_bce_with_logits_ex(a, b, NB_REDUCE_MEAN, &(nb_bce_opts){.pos_weight = v4}));
    nbt_assert_error(NB_ERR_SHAPE, "nb_bce_with_logits_ex: pos_weight [4] does not broadcast to "
                                   "the logits' shape [4, 3]");
    assert_null(nb_margin_ranking(v4, v4, v5, NB_REDUCE_MEAN, 0));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_margin_ranking: x1, x2 and target must have one shape: [4], [4] and [5]");
    assert_null(nb_cosine_embedding(a, b, v3, NB_REDUCE_MEAN, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_cosine_embedding: x1 and x2 must be [N, D] (or [D]) and "
                                   "target [N] (or []): x1 is [4, 3], x2 is [4, 3], target is [3]");
    assert_null(nb_hinge_embedding(a, v3, NB_REDUCE_SUM, 1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_hinge_embedding: prediction is [4, 3], target is [3]");
    nb_tensor *all[] = {x0, v3, v4, v5, b, a};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
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
        cmocka_unit_test(test_cross_entropy_weights_and_ignore_index_follow_pytorch),
        cmocka_unit_test(test_cross_entropy_of_nd_logits_equals_rows),
        cmocka_unit_test(test_cross_entropy_with_every_target_ignored),
        cmocka_unit_test(test_smooth_l1_and_huber_match_formula),
        cmocka_unit_test(test_kl_div_with_zero_targets_is_finite),
        cmocka_unit_test(test_class_losses_reject_bad_targets_weights_and_options),
        cmocka_unit_test(test_losses_reject_bad_parameters_and_shapes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("loss gradient checks", nbt_cases_loss);
}
