/* tests/ops/test_create.c — ops/create.c: arange, linspace, full, eye and the _like
 * constructors against direct formulas; where their results live (arena in a step,
 * caller-owned without); the error messages. */
#include "support/nbt.h"

#include <math.h>

static void test_arange_counts_and_values(void **state)
{
    (void)state;
    const struct {
        double start, end, step;
    } cases[] = {{0, 5, 1}, {0, 5, 1.5}, {2, -3, -0.5}, {1, 1, 1}, {-1, 0.95, 0.1}, {3, 10, 7}};
    const nb_dtype dts[2] = {NB_F32, NB_F64};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int d = 0; d < 2; d++) {
            nb_tensor *t = nb_arange(dts[d], cases[c].start, cases[c].end, cases[c].step);
            assert_non_null(t);
            const int64_t n = (int64_t)ceil((cases[c].end - cases[c].start) / cases[c].step);
            assert_int_equal(nb_tensor_ndim(t), 1);
            assert_int_equal(nb_tensor_numel(t), n);
            for (int64_t i = 0; i < n; i++) {
                const double v = cases[c].start + (double)i * cases[c].step;
                assert_float_equal(nb_tensor_get(t, i), dts[d] == NB_F32 ? (double)(float)v : v, 0);
            }
            nb_tensor_free(t);
        }
    nb_tensor *ti = nb_arange(NB_I64, -3, 8.5, 4); /* -3, 1, 5 (end need not be an integer) */
    const double want[3] = {-3, 1, 5};
    assert_int_equal(nb_tensor_numel(ti), 3);
    nbt_assert_values(ti, want, 0);
    nb_tensor_free(ti);
}

static void test_linspace_hits_both_ends(void **state)
{
    (void)state;
    const int64_t steps[] = {0, 1, 2, 5, 8};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        nb_tensor *t = nb_linspace(NB_F64, -1.5, 2.25, steps[s]);
        const int64_t n = steps[s];
        assert_int_equal(nb_tensor_numel(t), n);
        const double dlt = n > 1 ? 3.75 / (double)(n - 1) : 0;
        for (int64_t i = 0; i < n; i++) {
            const double v = n == 1      ? -1.5
                             : i < n / 2 ? -1.5 + dlt * (double)i
                                         : 2.25 - dlt * (double)(n - 1 - i);
            assert_float_equal(nb_tensor_get(t, i), v, 0);
        }
        if (n > 1)
            assert_float_equal(nb_tensor_get(t, n - 1), 2.25, 0);
        if (n > 0)
            assert_float_equal(nb_tensor_get(t, 0), -1.5, 0);
        nb_tensor_free(t);
    }
    nb_tensor *f = nb_linspace(NB_F32, 0, 1, 3);
    const double want[3] = {0, 0.5, 1};
    nbt_assert_values(f, want, 0);
    nb_tensor_free(f);
}

static void test_full_eye_and_like(void **state)
{
    (void)state;
    nb_tensor *f = nb_full(NB_I64, NB_SHAPE(2, 3), -7);
    assert_int_equal(nb_tensor_dtype(f), NB_I64);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(f, i), -7, 0);
    nb_tensor *e = nb_eye(NB_F64, 3, 4);
    assert_int_equal(nb_tensor_dim(e, 0), 3);
    assert_int_equal(nb_tensor_dim(e, 1), 4);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            assert_float_equal(nb_tensor_get(e, i * 4 + j), i == j, 0);
    /* _like of a transposed view: its shape, contiguous */
    nb_tensor *x = nbt_uniform(NB_F32, NB_SHAPE(2, 5), 1, -1, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *xt = nb_transpose(x, 0, 1);
    nb_tensor *z = nb_zeros_like(xt), *o = nb_ones_like(xt), *v = nb_full_like(xt, 2.5);
    nb_tensor *made[] = {z, o, v};
    const double want[] = {0, 1, 2.5};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(nb_tensor_dtype(made[k]), NB_F32);
        assert_int_equal(nb_tensor_dim(made[k], 0), 5);
        assert_int_equal(nb_tensor_dim(made[k], 1), 2);
        assert_true(nb_tensor_is_contiguous(made[k]));
        assert_false(nb_tensor_requires_grad(made[k]));
        for (int i = 0; i < 10; i++)
            assert_float_equal(nb_tensor_get(made[k], i), want[k], 0);
    }
    /* rand_like / randn_like draw what nb_rand_uniform / nb_rand_normal draw */
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5);
    nb_tensor *ru = nb_rand_like(xt, &r1), *rn = nb_randn_like(xt, &r1);
    nb_tensor *eu = nb_rand_uniform(NB_F32, NB_SHAPE(5, 2), &r2, 0, 1);
    nb_tensor *en = nb_rand_normal(NB_F32, NB_SHAPE(5, 2), &r2, 0, 1);
    assert_true(nb_tensor_allclose(ru, eu, 0, 0));
    assert_true(nb_tensor_allclose(rn, en, 0, 0));
    nb_tensor *all[] = {f, e, x, xt, z, o, v, ru, rn, eu, en};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* In a step the results are the arena's (stale after nb_step_end); without one the caller's. */
static void test_creation_results_are_placed_like_op_results(void **state)
{
    (void)state;
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rng rng = nb_rng_seed(1);
    nb_tensor *in_step[] = {nb_arange(NB_F32, 0, 4, 1), nb_linspace(NB_F64, 0, 1, 3),
                            nb_full(NB_F32, NB_SHAPE(2), 1), nb_eye(NB_F32, 2, 2)};
    nb_tensor *like[] = {nb_zeros_like(in_step[0]), nb_ones_like(in_step[0]),
                         nb_full_like(in_step[0], 3), nb_rand_like(in_step[0], &rng),
                         nb_randn_like(in_step[0], &rng)};
    for (size_t i = 0; i < 4; i++)
        assert_true(nb_tensor_is_live(in_step[i]));
    for (size_t i = 0; i < 5; i++)
        assert_true(nb_tensor_is_live(like[i]));
    assert_true(nb_step_arena_bytes(step) > 0);
    nb_step_end(step);
    for (size_t i = 0; i < 4; i++)
        assert_false(nb_tensor_is_live(in_step[i]));
    for (size_t i = 0; i < 5; i++)
        assert_false(nb_tensor_is_live(like[i]));
    nb_step_free(step);
    /* without a step: caller-owned, alive until freed (ASan checks the frees) */
    nb_tensor *t = nb_arange(NB_F32, 0, 4, 1);
    assert_true(nb_tensor_is_live(t));
    nb_tensor_free(t);
}

static void test_creation_errors(void **state)
{
    (void)state;
    assert_null(nb_arange(NB_F32, 0, 5, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_arange: start, end and step must be finite and step "
                                   "nonzero: start 0, end 5, step 0");
    assert_null(nb_arange(NB_F32, 0, 5, -1));
    nbt_assert_error(NB_ERR_VALUE, "nb_arange: step -1 goes away from end: start 0, end 5");
    assert_null(nb_arange(NB_F64, 0, INFINITY, 1));
    nbt_assert_error(NB_ERR_VALUE, "end inf");
    assert_null(nb_arange(NB_I64, 0, 5, 1.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_arange: step 1.5 is not an integer an i64 tensor can hold");
    assert_null(nb_arange(NB_F32, 0, 1e300, 1e-300));
    nbt_assert_error(NB_ERR_SHAPE, "nb_arange: too many elements");
    assert_null(nb_arange((nb_dtype)9, 0, 1, 1));
    nbt_assert_error(NB_ERR_DTYPE, "nb_arange: dtype must be f32, f64 or i64, got ?");
    assert_null(nb_linspace(NB_F32, 0, 1, -1));
    nbt_assert_error(NB_ERR_VALUE, "nb_linspace: start and end must be finite and steps >= 0: "
                                   "start 0, end 1, steps -1");
    assert_null(nb_linspace(NB_I64, 0, 1, 3));
    nbt_assert_error(NB_ERR_DTYPE, "nb_linspace: dtype must be f32, f64, got i64");
    assert_null(nb_full(NB_I64, NB_SHAPE(2), 0.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_full: value 0.5 is not an integer");
    assert_null(nb_full(NB_F32, NB_SHAPE(2, -1), 1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_full: negative dimension in shape [2, -1]");
    assert_null(nb_eye(NB_F32, 2, -3));
    nbt_assert_error(NB_ERR_VALUE, "nb_eye: n and m must be >= 0, got n 2, m -3");
    assert_null(nb_zeros_like(NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_zeros_like: x is NULL");
    const int64_t ids[2] = {1, 2};
    nb_tensor *i = nbt_ids(NB_SHAPE(2), ids);
    nb_rng rng = nb_rng_seed(1);
    assert_null(nb_randn_like(i, &rng));
    nbt_assert_error(NB_ERR_DTYPE, "nb_randn_like: dtype must be f32, f64, got i64");
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2));
    assert_null(nb_rand_like(x, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_rand_like: rng is NULL");
    assert_null(nb_full_like(i, 0.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_full_like: value 0.5 is not an integer");
    /* a stale x */
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *s = nb_neg(x);
    nb_step_end(step);
    assert_null(nb_ones_like(s));
    nbt_assert_error(NB_ERR_STATE, "nb_ones_like");
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arange_counts_and_values),
        cmocka_unit_test(test_linspace_hits_both_ends),
        cmocka_unit_test(test_full_eye_and_like),
        cmocka_unit_test(test_creation_results_are_placed_like_op_results),
        cmocka_unit_test(test_creation_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
