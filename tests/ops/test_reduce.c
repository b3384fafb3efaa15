/* tests/ops/test_reduce.c — forward references and gradient checks for ops/reduce.c: sum, mean,
 * max over every subset of axes of a 3-D tensor (keepdim or not) against a naive loop, argmax,
 * strided inputs, tie rules and the error paths (bad axes, empty max). */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

extern const nbt_case nbt_cases_reduce[];

enum { SUM, MEAN, MAX };

/* Naive reduction of x [2, 3, 4] over the axes in mask into ref (row-major over kept dims). */
static int64_t reference(const nb_tensor *x, unsigned mask, int kind, double *ref)
{
    const int64_t S[3] = {2, 3, 4};
    int64_t os[3], n_out = 1;
    for (int d = 0; d < 3; d++) {
        os[d] = (mask >> d) & 1 ? 1 : S[d];
        n_out *= os[d];
    }
    for (int64_t o = 0; o < n_out; o++)
        ref[o] = kind == MAX ? -INFINITY : 0;
    int64_t count = 24 / n_out;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) {
                int64_t oi = mask & 1 ? 0 : i, oj = mask & 2 ? 0 : j, ok = mask & 4 ? 0 : k;
                int64_t o = (oi * os[1] + oj) * os[2] + ok;
                double v = nb_tensor_get(x, (i * 3 + j) * 4 + k);
                if (kind == MAX)
                    ref[o] = v > ref[o] ? v : ref[o];
                else
                    ref[o] += kind == MEAN ? v / (double)count : v;
            }
    return n_out;
}

static void check_all_axis_subsets(nb_dtype dt, double tol)
{
    const int64_t shape[3] = {2, 3, 4};
    nb_tensor *x = nbt_uniform(dt, 3, shape, 5, -3, 3);
    for (unsigned mask = 1; mask < 8; mask++) {
        int axes[3], n = 0;
        for (int d = 0; d < 3; d++)
            if (mask & (1u << d))
                axes[n++] = d - (d == 2 ? 3 : 0); /* also use a negative axis */
        for (int kind = SUM; kind <= MAX; kind++) {
            for (int keep = 0; keep < 2; keep++) {
                nb_tensor *y = kind == SUM    ? nb_sum_axes(x, n, axes, keep)
                               : kind == MEAN ? nb_mean_axes(x, n, axes, keep)
                                              : nb_max_axes(x, n, axes, keep);
                assert_non_null(y);
                assert_int_equal(nb_tensor_ndim(y), keep ? 3 : 3 - n);
                for (int d = 0, od = 0; d < 3; d++) {
                    if (!(mask & (1u << d)))
                        assert_int_equal(nb_tensor_dim(y, od++), shape[d]);
                    else if (keep)
                        assert_int_equal(nb_tensor_dim(y, od++), 1);
                }
                double ref[24];
                int64_t n_out = reference(x, mask, kind, ref);
                assert_int_equal(nb_tensor_numel(y), n_out);
                nbt_assert_values(y, ref, tol);
                nb_tensor_free(y);
            }
        }
    }
    nb_tensor_free(x);
}

static void test_reductions_match_naive_loops_f64(void **state)
{
    (void)state;
    check_all_axis_subsets(NB_F64, 1e-14);
}

static void test_reductions_match_naive_loops_f32(void **state)
{
    (void)state;
    check_all_axis_subsets(NB_F32, 1e-6);
}

static void test_sum_all_and_mean_all_give_0_dim_scalars(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 5};
    nb_tensor *x = nbt_uniform(NB_F64, 2, shape, 9, -1, 1);
    double s = 0;
    for (int i = 0; i < 15; i++)
        s += nb_tensor_get(x, i);
    nb_tensor *sa = nb_sum_all(x), *ma = nb_mean_all(x);
    assert_int_equal(nb_tensor_ndim(sa), 0);
    assert_int_equal(nb_tensor_ndim(ma), 0);
    assert_float_equal(nb_tensor_item(sa), s, 1e-14);
    assert_float_equal(nb_tensor_item(ma), s / 15, 1e-14);
    /* Reducing a scalar again is a no-op. */
    nb_tensor *ss = nb_sum_all(sa);
    assert_int_equal(nb_tensor_ndim(ss), 0);
    assert_float_equal(nb_tensor_item(ss), s, 1e-14);
    nb_tensor_free(ss);
    nb_tensor_free(ma);
    nb_tensor_free(sa);
    nb_tensor_free(x);
}

/* A transposed view is reduced through its strides (the result follows the view's layout). */
static void test_reductions_of_transposed_view(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 4};
    nb_tensor *x = nbt_uniform(NB_F32, 2, shape, 4, -2, 2);
    nb_tensor *xt = nb_transpose(x, 0, 1); /* [4, 3] */
    nb_tensor *s = nb_sum(xt, 1, false), *m = nb_max(xt, 0, false);
    double rs[4] = {0}, rm[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            double v = nb_tensor_get(x, i * 4 + j);
            rs[j] += v;
            rm[i] = v > rm[i] ? v : rm[i];
        }
    nbt_assert_values(s, rs, 1e-6);
    nbt_assert_values(m, rm, 0);
    nb_tensor_free(m);
    nb_tensor_free(s);
    nb_tensor_free(xt);
    nb_tensor_free(x);
}

static void test_argmax_picks_first_maximum(void **state)
{
    (void)state;
    const double v[12] = {1, 5, 5, 2, /**/ 7, 0, 7, 7, /**/ -1, -3, -2, -1};
    const int64_t shape[2] = {3, 4};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, shape, v);
    nb_tensor *a1 = nb_argmax(x, 1), *a0 = nb_argmax(x, -2);
    assert_int_equal(nb_tensor_dtype(a1), NB_I64);
    assert_int_equal(nb_tensor_ndim(a1), 1);
    const double r1[3] = {1, 0, 0}, r0[4] = {1, 0, 1, 1};
    nbt_assert_values(a1, r1, 0);
    nbt_assert_values(a0, r0, 0);
    nb_tensor_free(a0);
    nb_tensor_free(a1);
    nb_tensor_free(x);
}

static void test_argmax_of_f32_transposed_view(void **state)
{
    (void)state;
    const int64_t shape[2] = {4, 6};
    nb_tensor *x = nbt_uniform(NB_F32, 2, shape, 8, -1, 1);
    nb_tensor *xt = nb_transpose(x, 0, 1); /* [6, 4] */
    nb_tensor *a = nb_argmax(xt, 1);
    for (int i = 0; i < 6; i++) {
        int best = 0;
        for (int j = 1; j < 4; j++)
            if (nb_tensor_get(x, j * 6 + i) > nb_tensor_get(x, best * 6 + i))
                best = j;
        assert_int_equal((int)nb_tensor_get(a, i), best);
    }
    nb_tensor_free(a);
    nb_tensor_free(xt);
    nb_tensor_free(x);
}

/* On ties, max sends the whole gradient to the first maximal element. */
static void test_max_gradient_goes_to_first_maximum(void **state)
{
    (void)state;
    const double v[6] = {3, 1, 3, /**/ 2, 2, 0};
    const int64_t shape[2] = {2, 3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, shape, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *m = nb_max(x, 1, false);
    const double rm[2] = {3, 2};
    nbt_assert_values(m, rm, 0);
    assert_int_equal(nb_backward(nb_sum_all(m)), NB_OK);
    nb_step_end(step);
    const double g[6] = {1, 0, 0, 1, 0, 0};
    nbt_assert_values(nb_tensor_grad(x), g, 0);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* max of a row holding NaN is NaN (not silently skipped). */
static void test_max_propagates_nan(void **state)
{
    (void)state;
    const double v[3] = {1, NAN, 2};
    const int64_t shape[1] = {3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, shape, v);
    nb_tensor *m = nb_max(x, 0, false);
    assert_true(isnan(nb_tensor_item(m)));
    nb_tensor_free(m);
    nb_tensor_free(x);
}

/* Sum over an empty axis is 0, mean NaN (as NumPy). */
static void test_sum_over_empty_axis_is_zero(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 0};
    nb_tensor *x = nb_tensor_new(NB_F64, 2, shape);
    nb_tensor *s = nb_sum(x, 1, false);
    assert_int_equal(nb_tensor_numel(s), 3);
    const double z[3] = {0, 0, 0};
    nbt_assert_values(s, z, 0);
    nb_tensor_free(s);
    nb_tensor_free(x);
}

/* ---- errors ---- */
static void test_reductions_reject_bad_axes(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 4};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, shape);
    assert_null(nb_sum(x, 2, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_sum: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_mean(x, -3, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_mean: axis -3 out of range for a 2-dim tensor");
    const int twice[2] = {1, -1};
    assert_null(nb_max_axes(x, 2, twice, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_max: axis -1 given twice");
    const int three[3] = {0, 1, 0};
    assert_null(nb_sum_axes(x, 3, three, true));
    nbt_assert_error(NB_ERR_VALUE, "nb_sum: 3 axes given for a 2-dim tensor [3, 4]");
    assert_null(nb_sum_axes(x, 0, three, true));
    nbt_assert_error(NB_ERR_VALUE, "nb_sum: 0 axes given");
    assert_null(nb_argmax(x, 5));
    nbt_assert_error(NB_ERR_VALUE, "nb_argmax: axis 5 out of range");
    nb_tensor_free(x);
}

static void test_max_and_argmax_reject_empty_axis(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 0};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, shape);
    assert_null(nb_max(x, 1, false));
    nbt_assert_error(NB_ERR_SHAPE, "nb_max: cannot take the max over an empty axis of [3, 0]");
    assert_null(nb_argmax(x, -1));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_argmax: cannot take the argmax over an empty axis of [3, 0]");
    nb_tensor *m = nb_max(x, 0, false); /* the empty axis is not reduced: fine */
    assert_non_null(m);
    assert_int_equal(nb_tensor_numel(m), 0);
    nb_tensor_free(m);
    nb_tensor_free(x);
}

/* A scalar is its own sum and mean over every axis; the gradient flows through. */
static void test_sum_all_and_mean_all_of_a_scalar(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 2.5);
    nb_tensor_set_requires_grad(x, true);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *a = nb_sum_all(x), *m = nb_mean_all(x);
    assert_non_null(a);
    assert_non_null(m);
    assert_int_equal(nb_tensor_ndim(a), 0);
    assert_float_equal(nb_tensor_item(a), 2.5, 0);
    assert_float_equal(nb_tensor_item(m), 2.5, 0);
    assert_int_equal(nb_backward(nb_add(nb_mul_scalar(a, 3.0), m)), NB_OK);
    assert_float_equal(nb_tensor_item(nb_tensor_grad(x)), 4.0, 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static void test_reductions_reject_i64(void **state)
{
    (void)state;
    const int64_t shape[1] = {3};
    nb_tensor *x = nb_tensor_new(NB_I64, 1, shape);
    assert_null(nb_sum_all(x));
    nbt_assert_error(NB_ERR_DTYPE, "nb_sum: input 0 must be f32 or f64, got i64");
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reductions_match_naive_loops_f64),
        cmocka_unit_test(test_reductions_match_naive_loops_f32),
        cmocka_unit_test(test_sum_all_and_mean_all_give_0_dim_scalars),
        cmocka_unit_test(test_reductions_of_transposed_view),
        cmocka_unit_test(test_argmax_picks_first_maximum),
        cmocka_unit_test(test_argmax_of_f32_transposed_view),
        cmocka_unit_test(test_max_gradient_goes_to_first_maximum),
        cmocka_unit_test(test_max_propagates_nan),
        cmocka_unit_test(test_sum_over_empty_axis_is_zero),
        cmocka_unit_test(test_reductions_reject_bad_axes),
        cmocka_unit_test(test_max_and_argmax_reject_empty_axis),
        cmocka_unit_test(test_reductions_reject_i64),
        cmocka_unit_test(test_sum_all_and_mean_all_of_a_scalar),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("reduce gradient checks", nbt_cases_reduce);
}
