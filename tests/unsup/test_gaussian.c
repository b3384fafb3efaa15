/* tests/unsup/test_gaussian.c — unsup/gaussian.c: the reparameterised sample (values against
 * mu + exp(logvar / 2) * eps with the same draws, gradients by central differences), the KL
 * divergence from N(0, 1) in each reduction (values against loops, zero at the prior, gradients),
 * use without a step, and the error paths. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>

static nb_tensor *normal(int64_t rows, int64_t cols, uint64_t seed, double lo, double hi)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_tensor_uniform(NB_F64, 2, (int64_t[]){rows, cols}, &r, lo, hi);
}

static void test_rsample_is_mu_plus_sigma_times_eps(void **state)
{
    (void)state;
    nb_tensor *mu = normal(4, 3, 1, -2, 2), *lv = normal(4, 3, 2, -3, 1);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_rng a = nb_rng_seed(7), b = nb_rng_seed(7);
    nb_tensor *z = nb_gaussian_rsample(mu, lv, &a);
    nb_tensor *eps = nb_randn_like(mu, &b);
    assert_non_null(z);
    assert_int_equal(nb_tensor_ndim(z), 2);
    assert_int_equal(nb_tensor_dim(z, 0), 4);
    assert_int_equal(nb_tensor_dim(z, 1), 3);
    for (int64_t i = 0; i < 12; i++) {
        const double want =
            nb_tensor_get(mu, i) + exp(0.5 * nb_tensor_get(lv, i)) * nb_tensor_get(eps, i);
        assert_float_equal(nb_tensor_get(z, i), want, 1e-12);
    }
    /* the rng advanced by one draw of mu's shape: the next sample uses new noise */
    assert_memory_equal(&a, &b, sizeof a);
    nb_tensor *z2 = nb_gaussian_rsample(mu, lv, &a);
    assert_true(fabs(nb_tensor_get(z2, 0) - nb_tensor_get(z, 0)) > 1e-9);
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(lv);
    nb_tensor_free(mu);
}

/* the KL terms of mu [rows, cols] and logvar by loops */
static double kl_entry(nb_tensor *mu, nb_tensor *lv, int64_t i)
{
    const double m = nb_tensor_get(mu, i), l = nb_tensor_get(lv, i);
    return -0.5 * (1.0 + l - m * m - exp(l));
}

static void test_kl_matches_formula_in_every_reduction(void **state)
{
    (void)state;
    nb_tensor *mu = normal(5, 3, 3, -1.5, 1.5), *lv = normal(5, 3, 4, -2, 1);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_tensor *none = nb_gaussian_kl(mu, lv, NB_REDUCE_NONE);
    assert_int_equal(nb_tensor_ndim(none), 2);
    assert_int_equal(nb_tensor_dim(none, 0), 5);
    assert_int_equal(nb_tensor_dim(none, 1), 3);
    double sum = 0;
    for (int64_t i = 0; i < 15; i++) {
        assert_float_equal(nb_tensor_get(none, i), kl_entry(mu, lv, i), 1e-12);
        assert_true(nb_tensor_get(none, i) > 0);
        sum += kl_entry(mu, lv, i);
    }
    nb_tensor *s = nb_gaussian_kl(mu, lv, NB_REDUCE_SUM);
    nb_tensor *bm = nb_gaussian_kl(mu, lv, NB_REDUCE_BATCHMEAN);
    nb_tensor *m = nb_gaussian_kl(mu, lv, NB_REDUCE_MEAN);
    assert_int_equal(nb_tensor_ndim(s), 0);
    assert_int_equal(nb_tensor_ndim(bm), 0);
    assert_float_equal(nb_tensor_item(s), sum, 1e-12);
    assert_float_equal(nb_tensor_item(bm), sum / 5, 1e-12);
    assert_float_equal(nb_tensor_item(m), sum / 15, 1e-12);
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(lv);
    nb_tensor_free(mu);
}

static void test_kl_vanishes_at_the_prior_and_works_without_a_step(void **state)
{
    (void)state;
    nb_tensor *zero = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 6});
    nb_tensor *kl = nb_gaussian_kl(zero, zero, NB_REDUCE_SUM); /* no step: caller-owned */
    assert_non_null(kl);
    assert_float_equal(nb_tensor_item(kl), 0.0, 0.0);
    nb_rng r = nb_rng_seed(5);
    nb_tensor *z = nb_gaussian_rsample(zero, zero, &r); /* sigma 1: z is eps itself */
    r = nb_rng_seed(5);
    nb_tensor *eps = nb_tensor_normal(NB_F32, 2, (int64_t[]){2, 6}, &r, 0, 1);
    assert_true(nb_tensor_allclose(z, eps, 0, 0));
    nb_tensor_free(eps);
    nb_tensor_free(z);
    nb_tensor_free(kl);
    nb_tensor_free(zero);
}

static nb_tensor *rsample_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    nb_rng r = *(const nb_rng *)user; /* the same eps in every evaluation */
    return nb_gaussian_rsample(in[0], in[1], &r);
}

static nb_tensor *kl_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_gaussian_kl(in[0], in[1], *(const nb_reduction *)user);
}

static void test_gradients_pass_numerical_checks(void **state)
{
    (void)state;
    const nbt_input in[2] = {NBT_IN(-1.5, 1.5, 4, 3), NBT_IN(-2, 1, 4, 3)};
    nb_rng r = nb_rng_seed(11);
    assert_int_equal(nbt_check(rsample_fn, &r, in, 2, 21), NB_OK);
    nb_reduction reds[4] = {NB_REDUCE_NONE, NB_REDUCE_SUM, NB_REDUCE_MEAN, NB_REDUCE_BATCHMEAN};
    for (int k = 0; k < 4; k++)
        assert_int_equal(nbt_check(kl_fn, &reds[k], in, 2, 22 + (uint64_t)k), NB_OK);
}

static void test_bad_arguments_are_reported(void **state)
{
    (void)state;
    nb_tensor *mu = nb_tensor_zeros(NB_F32, 2, (int64_t[]){4, 3});
    nb_tensor *lv3 = nb_tensor_zeros(NB_F32, 2, (int64_t[]){4, 2});
    nb_tensor *lv64 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){4, 3});
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, (int64_t[]){4, 3});
    nb_tensor *scalar = nb_tensor_zeros(NB_F32, 0, NULL);
    nb_rng r = nb_rng_seed(1);
    /* each case through both functions (rng: nb_gaussian_rsample only; reduction: kl only) */
    const struct {
        nb_tensor *mu, *logvar;
        nb_rng *rng;
        nb_reduction reduction;
        nb_status status;
        const char *message; /* after the function's name */
    } bad[] = {
        {mu, mu, NULL, NB_REDUCE_SUM, NB_ERR_VALUE, "rng is NULL"},
        {NULL, mu, &r, NB_REDUCE_SUM, NB_ERR_VALUE, "mu is NULL"},
        {mu, NULL, &r, NB_REDUCE_SUM, NB_ERR_VALUE, "logvar is NULL"},
        {mu, lv3, &r, NB_REDUCE_SUM, NB_ERR_SHAPE, "mu is [4, 3] but logvar is [4, 2]"},
        {mu, lv64, &r, NB_REDUCE_SUM, NB_ERR_DTYPE,
         "mu and logvar must be both f32 or both f64, got f32 and f64"},
        {ids, ids, &r, NB_REDUCE_SUM, NB_ERR_DTYPE,
         "mu and logvar must be both f32 or both f64, got i64 and i64"},
        {mu, mu, &r, (nb_reduction)9, NB_ERR_VALUE, "unknown reduction 9"},
        {scalar, scalar, &r, NB_REDUCE_BATCHMEAN, NB_ERR_SHAPE,
         "NB_REDUCE_BATCHMEAN needs a batch dim of size >= 1, mu is []"},
    };
    char want[160];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bool for_kl = bad[i].rng, for_rsample = bad[i].reduction == NB_REDUCE_SUM;
        if (for_kl) {
            assert_null(nb_gaussian_kl(bad[i].mu, bad[i].logvar, bad[i].reduction));
            snprintf(want, sizeof want, "nb_gaussian_kl: %s", bad[i].message);
            nbt_assert_error(bad[i].status, want);
        }
        if (for_rsample) {
            assert_null(nb_gaussian_rsample(bad[i].mu, bad[i].logvar, bad[i].rng));
            snprintf(want, sizeof want, "nb_gaussian_rsample: %s", bad[i].message);
            nbt_assert_error(bad[i].status, want);
        }
    }
    /* a failed op's NULL keeps that op's message */
    nb_set_error(NB_ERR_SHAPE, "nb_matmul: earlier failure");
    assert_null(nb_gaussian_kl(NULL, mu, NB_REDUCE_SUM));
    nbt_assert_error(NB_ERR_SHAPE, "nb_matmul: earlier failure");
    nb_tensor *all[] = {scalar, ids, lv64, lv3, mu};
    for (int i = 0; i < 5; i++)
        nb_tensor_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsample_is_mu_plus_sigma_times_eps),
        cmocka_unit_test(test_kl_matches_formula_in_every_reduction),
        cmocka_unit_test(test_kl_vanishes_at_the_prior_and_works_without_a_step),
        cmocka_unit_test(test_gradients_pass_numerical_checks),
        cmocka_unit_test(test_bad_arguments_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
