/* tests/ops/test_random.c — ops/random.c: constants, random tensors from the caller's rng,
 * Bernoulli sampling and detach; none of them requires grad; placed in the step's arena when
 * a step is active. */
#include "support/nbt.h"

#include <math.h>

static void test_constant_fills_and_never_requires_grad(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    nb_tensor *c = nb_constant(NB_F64, 2, s, -1.25), *z = nb_constant(NB_F32, 2, s, 0);
    for (int i = 0; i < 6; i++) {
        assert_float_equal(nb_tensor_get(c, i), -1.25, 0);
        assert_float_equal(nb_tensor_get(z, i), 0, 0);
    }
    assert_false(nb_tensor_requires_grad(c));
    assert_null(nb_constant(NB_I64, 2, s, 1));
    nbt_assert_error(NB_ERR_DTYPE, "nb_constant: dtype must be f32 or f64, got i64");
    nb_tensor_free(z);
    nb_tensor_free(c);
}

static void test_random_tensors_follow_the_rng(void **state)
{
    (void)state;
    const int64_t s[1] = {20000};
    nb_rng r = nb_rng_seed(5), q = nb_rng_seed(5);
    nb_tensor *u = nb_rand_uniform(NB_F64, 1, s, &r, 2, 4);
    double mean = 0;
    for (int i = 0; i < 20000; i++) {
        double v = nb_tensor_get(u, i);
        assert_true(v >= 2 && v < 4);
        assert_true(v == 2 + 2 * nb_rng_uniform(&q));
        mean += v / 20000;
    }
    assert_float_equal(mean, 3, 0.03);
    nb_tensor *n = nb_rand_normal(NB_F32, 1, s, &r, -1, 3);
    double m = 0, v2 = 0;
    for (int i = 0; i < 20000; i++) {
        double v = nb_tensor_get(n, i);
        assert_float_equal(v, (float)(-1 + 3 * nb_rng_normal(&q)), 1e-5);
        m += v / 20000;
        v2 += v * v / 20000;
    }
    assert_float_equal(m, -1, 0.1);
    assert_float_equal(v2 - m * m, 9, 0.4);
    nb_tensor *b = nb_rand_bernoulli(NB_F32, 1, s, &r, 0.25);
    double ones = 0;
    for (int i = 0; i < 20000; i++) {
        double v = nb_tensor_get(b, i);
        assert_true(v == 0 || v == 1);
        ones += v;
    }
    assert_float_equal(ones / 20000, 0.25, 0.02);
    nb_tensor *all[] = {b, n, u};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Element i of nb_rand_bernoulli is nb_rng_uniform(rng) < p for the i-th draw of the stream,
 * exactly, and the rng advances by one draw per element; p at and next to the 2^-53 grid. */
static void test_rand_bernoulli_is_uniform_below_p_draw_by_draw(void **state)
{
    (void)state;
    const double ps[] = {0,         1,         0.25,          0.3, 1.0 / 3,
                         0x1.0p-53, 0x1.8p-53, 1 - 0x1.0p-53, 0.5, 0.5 + 0x1.0p-53};
    const int64_t s[1] = {5001};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
        for (int d = 0; d < 2; d++) {
            nb_rng r = nb_rng_seed(40 + k), q = r;
            nb_tensor *b = nb_rand_bernoulli(d ? NB_F32 : NB_F64, 1, s, &r, ps[k]);
            assert_non_null(b);
            for (int64_t i = 0; i < s[0]; i++)
                if (nb_tensor_get(b, i) != (nb_rng_uniform(&q) < ps[k] ? 1.0 : 0.0))
                    fail_msg("p %a element %lld: %g", ps[k], (long long)i, nb_tensor_get(b, i));
            assert_true(nb_rng_u64(&r) == nb_rng_u64(&q));
            nb_tensor_free(b);
        }
    /* draws right at the threshold: a stream whose uniforms straddle p = u exactly */
    nb_rng r = nb_rng_seed(7), q = r;
    const double u = nb_rng_uniform(&q);
    nb_tensor *at = nb_rand_bernoulli(NB_F64, 1, (const int64_t[]){1}, &r, u);
    assert_float_equal(nb_tensor_get(at, 0), 0, 0); /* u < u is false */
    r = nb_rng_seed(7);
    nb_tensor *above = nb_rand_bernoulli(NB_F64, 1, (const int64_t[]){1}, &r, u + 0x1.0p-53);
    assert_float_equal(nb_tensor_get(above, 0), 1, 0);
    nb_tensor_free(above);
    nb_tensor_free(at);
}

static void test_sample_bernoulli_uses_each_probability(void **state)
{
    (void)state;
    const int64_t s[1] = {4};
    const double p[4] = {0, 1, 0.5, 1};
    nb_tensor *probs = nb_tensor_from_data(NB_F64, 1, s, p);
    nb_rng r = nb_rng_seed(3);
    double count = 0;
    for (int t = 0; t < 2000; t++) {
        nb_tensor *x = nb_sample_bernoulli(probs, &r);
        assert_float_equal(nb_tensor_get(x, 0), 0, 0);
        assert_float_equal(nb_tensor_get(x, 1), 1, 0);
        assert_float_equal(nb_tensor_get(x, 3), 1, 0);
        count += nb_tensor_get(x, 2);
        nb_tensor_free(x);
    }
    assert_float_equal(count / 2000, 0.5, 0.05);
    nb_tensor_set(probs, 2, 1.5);
    assert_null(nb_sample_bernoulli(probs, &r));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_sample_bernoulli: probability 1.5 at flat index 2 is outside [0, 1]");
    nb_tensor_set(probs, 2, NAN);
    assert_null(nb_sample_bernoulli(probs, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_bernoulli: probability nan at flat index 2");
    nb_tensor_free(probs);
}

/* Every element is the test nb_rng_uniform(rng) < p[i], in order, on the contiguous f32/f64
 * path and through a strided view; the generator ends in the same state. */
static void test_sample_bernoulli_matches_uniform_draws(void **state)
{
    (void)state;
    for (int f = 0; f < 2; f++) {
        const nb_dtype dt = f ? NB_F64 : NB_F32;
        const int64_t s[2] = {37, 29};
        nb_rng init = nb_rng_seed(11);
        nb_tensor *probs = nb_rand_uniform(dt, 2, s, &init, 0, 1);
        nb_tensor *pt = nb_transpose(probs, 0, 1);
        nb_tensor *views[2] = {probs, pt};
        for (int v = 0; v < 2; v++) {
            nb_rng r = nb_rng_seed(5 + v), ref = r;
            nb_tensor *x = nb_sample_bernoulli(views[v], &r);
            assert_non_null(x);
            nb_tensor *dense = nb_contiguous(views[v]);
            for (int64_t i = 0; i < nb_tensor_numel(x); i++)
                assert_float_equal(nb_tensor_get(x, i),
                                   nb_rng_uniform(&ref) < nb_tensor_get(dense, i) ? 1 : 0, 0);
            assert_memory_equal(&r, &ref, sizeof r);
            nb_tensor_free(dense);
            nb_tensor_free(x);
        }
        nb_tensor_free(pt);
        nb_tensor_free(probs);
    }
}

/* The rule of ops/drop_rule.h, written out again: splitmix64's output for counter i + 1 from
 * the seed, against p 2^64. */
static bool rule_keeps(uint64_t seed, uint64_t i, double p)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z >= (uint64_t)(p * 18446744073709551616.0);
}

/* nb_dropout follows its documented rule: one seed drawn from the generator (which advances by
 * exactly that draw), element i (row-major, also of a transposed view) kept by the rule, kept
 * values scaled by 1 / (1 - p); its gradient is the same scale on the same elements. On one
 * thread and on two (the tensor is large enough to be split), in f32 and f64. p = 0 draws
 * nothing and copies x; eval-style use without a step works too. */
static void test_dropout_follows_its_rule(void **state)
{
    (void)state;
    const double p = 0.3;
    for (int f = 0; f < 4; f++) {
        const nb_dtype dt = f & 1 ? NB_F64 : NB_F32;
        nb_set_num_threads(f & 2 ? 2 : 1);
        const int64_t s[2] = {90, 70}; /* x is its transpose, [70, 90] */
        nb_rng init = nb_rng_seed(9);
        nb_tensor *xs = nb_rand_normal(dt, 2, s, &init, 0, 1);
        nb_tensor_set_requires_grad(xs, true);
        nb_step *step = nb_step_new();
        nb_step_begin(step);
        nb_tensor *x = nb_transpose(xs, 0, 1);
        nb_rng r = nb_rng_seed(3), r_seed = r;
        const uint64_t seed = nb_rng_u64(&r_seed);
        nb_tensor *y = nb_dropout(x, p, &r);
        assert_non_null(y);
        assert_memory_equal(&r, &r_seed, sizeof r); /* one draw */
        const double scale = dt == NB_F32 ? (double)(float)(1.0 / (1.0 - p)) : 1.0 / (1.0 - p);
        int64_t kept = 0;
        for (int64_t i = 0; i < 70 * 90; i++) {
            const bool keep = rule_keeps(seed, (uint64_t)i, p);
            kept += keep;
            const double xv = nb_tensor_get(x, i);
            const double want =
                keep ? (dt == NB_F32 ? (double)((float)xv * (float)scale) : xv * scale) : 0.0;
            if (nb_tensor_get(y, i) != want)
                fail_msg("%s, %d threads: y[%ld] = %g, want %g", nb_dtype_name(dt), f & 2 ? 2 : 1,
                         (long)i, nb_tensor_get(y, i), want);
        }
        assert_true(kept > 0.65 * 6300 && kept < 0.75 * 6300);
        assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
        const nb_tensor *g = nb_tensor_grad(xs); /* [90, 70]: element (i, j) is x's (j, i) */
        for (int64_t a = 0; a < 90; a++)
            for (int64_t b = 0; b < 70; b++) {
                const bool keep = rule_keeps(seed, (uint64_t)(b * 90 + a), p);
                assert_true(nb_tensor_get(g, a * 70 + b) == (keep ? scale : 0.0));
            }
        nb_step_end(step);
        nb_step_free(step);
        nb_rng r0 = r;
        nb_tensor *z = nb_dropout(xs, 0.0, &r); /* no step: caller-owned; p = 0 draws nothing */
        assert_non_null(z);
        assert_memory_equal(&r, &r0, sizeof r);
        assert_true(nb_tensor_allclose(z, xs, 0, 0));
        nb_tensor_free(z);
        nb_tensor_free(xs);
    }
    nb_set_num_threads(1);
    nb_rng r = nb_rng_seed(1);
    const int64_t s1[1] = {3};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 1, s1);
    assert_null(nb_dropout(x, 1.0, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_dropout: p must be in [0, 1), got 1");
    assert_null(nb_dropout(x, 0.5, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_dropout: rng is NULL");
    nb_tensor_free(x);
}

static void test_random_ops_reject_bad_arguments(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_rng r = nb_rng_seed(1);
    assert_null(nb_rand_uniform(NB_F32, 1, s, NULL, 0, 1));
    nbt_assert_error(NB_ERR_VALUE, "nb_rand_uniform: rng is NULL");
    assert_null(nb_rand_bernoulli(NB_F32, 1, s, &r, 1.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_rand_bernoulli: p must be in [0, 1], got 1.5");
    assert_null(nb_rand_bernoulli(NB_F32, 1, s, &r, NAN));
    nbt_assert_error(NB_ERR_VALUE, "nb_rand_bernoulli: p must be in [0, 1]");
    assert_null(nb_rand_normal(NB_I64, 1, s, &r, 0, 1));
    nbt_assert_error(NB_ERR_DTYPE, "nb_rand_normal: dtype must be f32 or f64, got i64");
    assert_null(nb_sample_bernoulli(NULL, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_bernoulli: probs is NULL");
    assert_null(nb_detach(NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_detach: input is NULL");
}

/* In a step, constants and samples live in the arena and are never recorded. */
static void test_random_results_live_in_the_step(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_rng r = nb_rng_seed(2);
    nb_tensor *x = nb_tensor_full(NB_F64, 1, s, 0.5);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *c = nb_constant(NB_F64, 1, s, 2), *m = nb_rand_bernoulli(NB_F64, 1, s, &r, 1);
    nb_tensor *d = nb_detach(x), *smp = nb_sample_bernoulli(x, &r);
    assert_int_equal(nb_step_tape_length(step), 0);
    assert_false(nb_tensor_requires_grad(smp));
    nb_tensor *loss = nb_sum_all(nb_mul(nb_mul(nb_mul(x, c), m), d)); /* sum(2 x d), d constant */
    assert_int_equal(nb_backward(loss), NB_OK);
    nb_step_end(step);
    const double g[3] = {1, 1, 1}; /* 2 * d = 1 */
    nbt_assert_values(nb_tensor_grad(x), g, 0);
    nb_step_free(step);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_fills_and_never_requires_grad),
        cmocka_unit_test(test_random_tensors_follow_the_rng),
        cmocka_unit_test(test_rand_bernoulli_is_uniform_below_p_draw_by_draw),
        cmocka_unit_test(test_sample_bernoulli_uses_each_probability),
        cmocka_unit_test(test_sample_bernoulli_matches_uniform_draws),
        cmocka_unit_test(test_dropout_follows_its_rule),
        cmocka_unit_test(test_random_ops_reject_bad_arguments),
        cmocka_unit_test(test_random_results_live_in_the_step),
    };
    extern const nbt_case nbt_cases_random[];
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("random gradient checks", nbt_cases_random);
}
