/* tests/autograd/test_rng.c — autograd/rng.c: xoshiro256** seeded through splitmix64. The
 * golden values for seed 42 are checked against an independent implementation written here
 * from the published algorithm (Blackman & Vigna), so neither can drift alone; then the
 * distributions (uniform, normal, below) and the shuffle. */
#include "support/nbt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- independent reference implementation ---- */
typedef struct {
    uint64_t s[4];
} ref_rng;

static uint64_t ref_splitmix64(uint64_t *state)
{
    *state += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static ref_rng ref_seed(uint64_t seed)
{
    ref_rng r;
    for (int i = 0; i < 4; i++)
        r.s[i] = ref_splitmix64(&seed);
    return r;
}

static uint64_t ref_rotl(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t ref_next(ref_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return result;
}

/* First outputs for seed 42, computed once from the algorithm. */
static const uint64_t golden_42[8] = {
    UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e), UINT64_C(0xae17533239e499a1),
    UINT64_C(0xecb8ad4703b360a1), UINT64_C(0xfde6dc7fe2ec5e64), UINT64_C(0xc50da53101795238),
    UINT64_C(0xb82154855a65ddb2), UINT64_C(0xd99a2743ebe60087),
};

static void test_reference_implementation_reproduces_golden_values(void **state)
{
    (void)state;
    ref_rng r = ref_seed(42);
    for (int i = 0; i < 8; i++)
        assert_true(ref_next(&r) == golden_42[i]);
}

static void test_u64_matches_golden_values_for_seed_42(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(42);
    for (int i = 0; i < 8; i++)
        assert_true(nb_rng_u64(&r) == golden_42[i]);
}

static void test_u64_matches_reference_for_many_seeds_and_draws(void **state)
{
    (void)state;
    const uint64_t seeds[5] = {0, 1, 42, UINT64_C(0xdeadbeef), UINT64_MAX};
    for (int k = 0; k < 5; k++) {
        nb_rng r = nb_rng_seed(seeds[k]);
        ref_rng q = ref_seed(seeds[k]);
        for (int i = 0; i < 4; i++)
            assert_true(r.s[i] == q.s[i]);
        for (int i = 0; i < 10000; i++)
            assert_true(nb_rng_u64(&r) == ref_next(&q));
    }
}

static void test_same_seed_same_sequence_and_copies_fork(void **state)
{
    (void)state;
    nb_rng a = nb_rng_seed(7), b = nb_rng_seed(7), c = nb_rng_seed(8);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = nb_rng_u64(&a);
        assert_true(x == nb_rng_u64(&b));
        differ += x != nb_rng_u64(&c);
    }
    assert_true(differ > 95);
    nb_rng fork = a; /* a copy continues the same stream independently */
    for (int i = 0; i < 10; i++)
        assert_true(nb_rng_uniform(&fork) == nb_rng_uniform(&a));
    /* The same holds for every derived draw. */
    nb_rng p = nb_rng_seed(99), q = nb_rng_seed(99);
    for (int i = 0; i < 100; i++) {
        assert_true(nb_rng_normal(&p) == nb_rng_normal(&q));
        assert_true(nb_rng_below(&p, 1000) == nb_rng_below(&q, 1000));
    }
}

static void test_uniform_is_in_unit_interval_with_53_bits(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    ref_rng q = ref_seed(3);
    double mean = 0, lo = 1, hi = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = nb_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(u == (double)(ref_next(&q) >> 11) / 9007199254740992.0);
        mean += u / n;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    assert_float_equal(mean, 0.5, 0.005); /* std error 0.0009 */
    assert_true(lo < 1e-3 && hi > 1 - 1e-3);
}

static void test_normal_has_zero_mean_unit_variance(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(11);
    const int n = 100000;
    double s = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
        double z = nb_rng_normal(&r);
        assert_true(isfinite(z));
        s += z;
        s2 += z * z;
        s4 += z * z * z * z;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    /* std errors: mean 0.0032, variance 0.0045, fourth moment (3) 0.04 */
    assert_float_equal(mean, 0.0, 0.02);
    assert_float_equal(var, 1.0, 0.03);
    assert_float_equal(s4 / n, 3.0, 0.25);
}

static void test_below_stays_in_range_and_covers_it(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = nb_rng_below(&r, 7);
        assert_true(v < 7);
        counts[v]++;
    }
    for (int k = 0; k < 7; k++) /* expected 10000, std dev ~93 */
        assert_in_range(counts[k], 9500, 10500);
    assert_true(nb_rng_below(&r, 0) == 0);
    for (int i = 0; i < 100; i++) {
        assert_true(nb_rng_below(&r, 1) == 0);
        const uint64_t big = (UINT64_C(1) << 63) + 12345;
        assert_true(nb_rng_below(&r, big) < big);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_shuffle_is_a_reproducible_permutation(void **state)
{
    (void)state;
    enum { N = 1000 };
    int64_t *v = test_malloc(N * sizeof *v), *w = test_malloc(N * sizeof *w);
    for (int i = 0; i < N; i++)
        v[i] = w[i] = 3 * i - 500;
    nb_rng a = nb_rng_seed(21), b = nb_rng_seed(21);
    nb_rng_shuffle_i64(&a, v, N);
    nb_rng_shuffle_i64(&b, w, N);
    assert_memory_equal(v, w, N * sizeof *v);
    int moved = 0;
    for (int i = 0; i < N; i++)
        moved += v[i] != 3 * i - 500;
    assert_true(moved > N / 2);
    qsort(v, N, sizeof *v, cmp_i64);
    for (int i = 0; i < N; i++)
        assert_int_equal(v[i], 3 * i - 500);
    int64_t one = 9;
    nb_rng_shuffle_i64(&a, &one, 1);
    assert_int_equal(one, 9);
    nb_rng_shuffle_i64(&a, NULL, 0);
    test_free(w);
    test_free(v);
}

/* Every position of a 4-element shuffle sees every value about equally often. */
static void test_shuffle_is_unbiased(void **state)
{
    (void)state;
    int counts[4][4] = {{0}};
    nb_rng r = nb_rng_seed(77);
    for (int t = 0; t < 40000; t++) {
        int64_t v[4] = {0, 1, 2, 3};
        nb_rng_shuffle_i64(&r, v, 4);
        for (int p = 0; p < 4; p++)
            counts[p][v[p]]++;
    }
    for (int p = 0; p < 4; p++)
        for (int k = 0; k < 4; k++) /* expected 10000, std dev ~87 */
            assert_in_range(counts[p][k], 9500, 10500);
}

/* Random tensors draw from the caller's rng, in order. */
static void test_random_tensors_use_the_given_rng(void **state)
{
    (void)state;
    const int64_t s[2] = {3, 4};
    nb_rng r = nb_rng_seed(1), q = nb_rng_seed(1);
    nb_tensor *u = nb_tensor_uniform(NB_F64, 2, s, &r, -2, 3);
    for (int i = 0; i < 12; i++) {
        double v = nb_tensor_get(u, i);
        assert_true(v >= -2 && v < 3);
        assert_float_equal(v, -2 + 5 * nb_rng_uniform(&q), 1e-15);
    }
    nb_tensor *n = nb_tensor_normal(NB_F32, 2, s, &r, 10, 0.5);
    for (int i = 0; i < 12; i++)
        assert_float_equal(nb_tensor_get(n, i), (float)(10 + 0.5 * nb_rng_normal(&q)), 1e-5);
    assert_null(nb_tensor_uniform(NB_F32, 2, s, NULL, 0, 1));
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_uniform: rng is NULL");
    assert_null(nb_tensor_normal(NB_I64, 2, s, &r, 0, 1));
    nbt_assert_error(NB_ERR_DTYPE, "nb_tensor_normal: dtype must be f32 or f64, got i64");
    nb_tensor_free(n);
    nb_tensor_free(u);
}

static void test_normal_quantile_inverts_the_normal_cdf(void **state)
{
    (void)state;
    /* reference values: scipy.special.ndtri */
    assert_float_equal(nb_normal_quantile(0.975), 1.959963984540054, 1e-14);
    assert_float_equal(nb_normal_quantile(0.05), -1.6448536269514729, 1e-14);
    assert_float_equal(nb_normal_quantile(0.5), 0.0, 1e-15);
    assert_float_equal(nb_normal_quantile(1e-10), -6.361340902404056, 1e-12);
    assert_float_equal(nb_normal_quantile(1 - 1e-10), 6.361340889697422, 1e-7);
    for (int i = 1; i < 1000; i++) { /* the CDF of the quantile is p again */
        const double p = i / 1000.0, x = nb_normal_quantile(p);
        assert_float_equal(0.5 * erfc(-x / sqrt(2.0)), p, 1e-15);
        assert_float_equal(x, -nb_normal_quantile(1 - p), 1e-12);
    }
    assert_true(isfinite(nb_normal_quantile(1e-300)) && nb_normal_quantile(1e-300) < -37);
    assert_true(isinf(nb_normal_quantile(0)) && nb_normal_quantile(0) < 0);
    assert_true(isinf(nb_normal_quantile(1)) && nb_normal_quantile(1) > 0);
    assert_int_equal(nb_last_status(), NB_OK);
    assert_true(isnan(nb_normal_quantile(1.5)));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "p must be in [0, 1], got 1.5"));
    nb_clear_error();
    assert_true(isnan(nb_normal_quantile(NAN)));
    nb_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_implementation_reproduces_golden_values),
        cmocka_unit_test(test_u64_matches_golden_values_for_seed_42),
        cmocka_unit_test(test_u64_matches_reference_for_many_seeds_and_draws),
        cmocka_unit_test(test_same_seed_same_sequence_and_copies_fork),
        cmocka_unit_test(test_uniform_is_in_unit_interval_with_53_bits),
        cmocka_unit_test(test_normal_has_zero_mean_unit_variance),
        cmocka_unit_test(test_below_stays_in_range_and_covers_it),
        cmocka_unit_test(test_shuffle_is_a_reproducible_permutation),
        cmocka_unit_test(test_shuffle_is_unbiased),
        cmocka_unit_test(test_random_tensors_use_the_given_rng),
        cmocka_unit_test(test_normal_quantile_inverts_the_normal_cdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
