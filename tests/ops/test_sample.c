/* tests/ops/test_sample.c — ops/sample.c: categorical sampling from logits (temperature, top-k,
 * top-p) and multinomial sampling with and without replacement. Every test uses a fixed seed,
 * so its draws are always the same; frequency bounds are several standard deviations wide. */
#include "support/nbt.h"

#include <math.h>

enum { DRAWS = 20000 };

/* Logits log(p[c]) for one row of probabilities p. */
static nb_tensor *log_probs(int64_t C, const double *p)
{
    nb_tensor *t = nb_tensor_new(NB_F64, 1, &C);
    for (int64_t c = 0; c < C; c++)
        nb_tensor_set(t, c, log(p[c]));
    return t;
}

/* Frequencies of ids 0..C-1 among the draws in ids (any shape); fails on an id outside. */
static void frequencies(nb_tensor *ids, int64_t C, double *freq)
{
    assert_non_null(ids);
    assert_int_equal(nb_tensor_dtype(ids), NB_I64);
    const int64_t n = nb_tensor_numel(ids), *v = nb_tensor_data_i64(ids);
    for (int64_t c = 0; c < C; c++)
        freq[c] = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_in_range(v[i], 0, C - 1);
        freq[v[i]] += 1.0 / (double)n;
    }
}

static void assert_frequencies(const double *freq, const double *want, int64_t C, double tol)
{
    for (int64_t c = 0; c < C; c++) {
        if (fabs(freq[c] - want[c]) > tol)
            print_error("class %lld: frequency %g, expected %g\n", (long long)c, freq[c], want[c]);
        assert_true(fabs(freq[c] - want[c]) <= tol);
    }
}

static void test_draws_follow_softmax_of_logits_and_temperature(void **state)
{
    (void)state;
    const double p[4] = {0.5, 0.25, 0.15, 0.1};
    nb_tensor *z = log_probs(4, p);
    nb_rng rng = nb_rng_seed(1);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.num_samples = DRAWS;
    nb_tensor *ids = nb_sample_logits(z, &o, &rng);
    assert_int_equal(nb_tensor_ndim(ids), 1);
    assert_int_equal(nb_tensor_shape(ids)[0], DRAWS);
    double f[4], want[4];
    frequencies(ids, 4, f);
    assert_frequencies(f, p, 4, 0.02);
    /* temperature 2: probabilities proportional to p^(1/2) */
    o.temperature = 2;
    double s = 0;
    for (int c = 0; c < 4; c++)
        s += want[c] = sqrt(p[c]);
    for (int c = 0; c < 4; c++)
        want[c] /= s;
    nb_tensor *hot = nb_sample_logits(z, &o, &rng);
    frequencies(hot, 4, f);
    assert_frequencies(f, want, 4, 0.02);
    nb_tensor_free(hot);
    nb_tensor_free(ids);
    nb_tensor_free(z);
}

/* The same seed gives the same ids; one draw per row gives [N] (and [] for a 1-D row). */
static void test_same_seed_same_draws_and_result_shapes(void **state)
{
    (void)state;
    const int64_t s[2] = {50, 7};
    nb_tensor *z = nbt_uniform(NB_F32, 2, s, 3, -2, 2);
    nb_rng a = nb_rng_seed(9), b = nb_rng_seed(9);
    nb_tensor *x = nb_sample_logits(z, NULL, &a), *y = nb_sample_logits(z, NULL, &b);
    assert_int_equal(nb_tensor_ndim(x), 1);
    assert_int_equal(nb_tensor_shape(x)[0], 50);
    assert_memory_equal(nb_tensor_data_i64(x), nb_tensor_data_i64(y), 50 * sizeof(int64_t));
    nb_tensor *row = nb_tensor_new(NB_F64, 1, (const int64_t[]){3});
    nb_tensor *one = nb_sample_logits(row, NULL, &a);
    assert_int_equal(nb_tensor_ndim(one), 0);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.num_samples = 5;
    nb_tensor *many = nb_sample_logits(z, &o, &a);
    assert_int_equal(nb_tensor_ndim(many), 2);
    assert_int_equal(nb_tensor_shape(many)[1], 5);
    nb_tensor *all[] = {many, one, row, y, x, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Top-k: never an id outside the k largest logits of its row; within them, the renormalised
 * probabilities. */
static void test_top_k_never_draws_outside_the_k_largest(void **state)
{
    (void)state;
    enum { N = 200, C = 10, K = 3 };
    const int64_t s[2] = {N, C};
    nb_tensor *z = nbt_uniform(NB_F64, 2, s, 4, -3, 3);
    nb_rng rng = nb_rng_seed(2);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.top_k = K;
    o.num_samples = 50;
    nb_tensor *ids = nb_sample_logits(z, &o, &rng);
    const int64_t *v = nb_tensor_data_i64(ids);
    for (int n = 0; n < N; n++)
        for (int d = 0; d < 50; d++) {
            const double mine = nb_tensor_get(z, n * C + v[n * 50 + d]);
            int larger = 0;
            for (int c = 0; c < C; c++)
                larger += nb_tensor_get(z, n * C + c) > mine;
            assert_true(larger < K);
        }
    /* one row, known probabilities: top-2 of {0.5, 0.25, 0.15, 0.1} is {2/3, 1/3} */
    const double p[4] = {0.1, 0.5, 0.15, 0.25}, want[4] = {0, 2.0 / 3, 0, 1.0 / 3};
    nb_tensor *row = log_probs(4, p);
    o.top_k = 2;
    o.num_samples = DRAWS;
    nb_tensor *r = nb_sample_logits(row, &o, &rng);
    double f[4];
    frequencies(r, 4, f);
    assert_frequencies(f, want, 4, 0.02);
    nb_tensor *all[] = {r, row, ids, z};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Top-p keeps the smallest set of most likely classes whose mass reaches p. */
static void test_top_p_keeps_the_smallest_set_reaching_p(void **state)
{
    (void)state;
    const double p[5] = {0.1, 0.4, 0.05, 0.3, 0.15}; /* sorted: 0.4 0.3 0.15 0.1 0.05 */
    nb_tensor *z = log_probs(5, p);
    nb_rng rng = nb_rng_seed(3);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.num_samples = DRAWS;
    const struct {
        double top_p;
        double want[5];
    } cases[] = {
        {0.3, {0, 1, 0, 0, 0}},                             /* 0.4 alone reaches 0.3 */
        {0.65, {0, 4.0 / 7, 0, 3.0 / 7, 0}},                /* 0.4 + 0.3 = 0.7 */
        {0.8, {0, 0.4 / 0.85, 0, 0.3 / 0.85, 0.15 / 0.85}}, /* + 0.15 = 0.85 */
        {0.9999, {0.1, 0.4, 0.05, 0.3, 0.15}},              /* needs every class */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        o.top_p = cases[k].top_p;
        nb_tensor *ids = nb_sample_logits(z, &o, &rng);
        double f[5];
        frequencies(ids, 5, f);
        for (int c = 0; c < 5; c++)
            if (cases[k].want[c] == 0)
                assert_float_equal(f[c], 0, 0); /* a class outside the set: never drawn */
        assert_frequencies(f, cases[k].want, 5, 0.02);
        nb_tensor_free(ids);
    }
    nb_tensor_free(z);
}

/* Temperature towards 0 is the argmax of each row (also at 1e-300, with no overflow). */
static void test_tiny_temperature_is_argmax(void **state)
{
    (void)state;
    const int64_t s[2] = {100, 8};
    nb_tensor *z = nbt_uniform(NB_F32, 2, s, 5, -4, 4);
    nb_tensor *best = nb_argmax(z, 1);
    nb_rng rng = nb_rng_seed(4);
    const double temps[2] = {1e-6, 1e-300};
    for (int t = 0; t < 2; t++) {
        nb_sample_opts o = NB_SAMPLE_DEFAULTS;
        o.temperature = temps[t];
        o.num_samples = 20;
        nb_tensor *ids = nb_sample_logits(z, &o, &rng);
        assert_non_null(ids);
        for (int n = 0; n < 100; n++)
            for (int d = 0; d < 20; d++)
                assert_int_equal(nb_tensor_data_i64(ids)[n * 20 + d], nb_tensor_data_i64(best)[n]);
        nb_tensor_free(ids);
    }
    nb_tensor_free(best);
    nb_tensor_free(z);
}

/* -inf logits (masked classes) are never drawn. */
static void test_masked_logits_are_never_drawn(void **state)
{
    (void)state;
    const double zv[4] = {-INFINITY, 0.5, -INFINITY, -1};
    nb_tensor *z = nb_tensor_from_data(NB_F64, 1, (const int64_t[]){4}, zv);
    nb_rng rng = nb_rng_seed(6);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.num_samples = 5000;
    nb_tensor *ids = nb_sample_logits(z, &o, &rng);
    double f[4];
    frequencies(ids, 4, f);
    assert_float_equal(f[0] + f[2], 0, 0);
    assert_true(f[1] > 0.7 && f[3] > 0.1);
    nb_tensor_free(ids);
    nb_tensor_free(z);
}

static void test_multinomial_with_replacement_follows_weights(void **state)
{
    (void)state;
    const double w[4] = {2, 0, 1, 5}, want[4] = {0.25, 0, 0.125, 0.625};
    nb_tensor *t = nb_tensor_from_data(NB_F64, 1, (const int64_t[]){4}, w);
    nb_rng rng = nb_rng_seed(7);
    nb_tensor *ids = nb_multinomial(t, DRAWS, true, &rng);
    assert_int_equal(nb_tensor_shape(ids)[0], DRAWS);
    double f[4];
    frequencies(ids, 4, f);
    assert_float_equal(f[1], 0, 0);
    assert_frequencies(f, want, 4, 0.02);
    nb_tensor_free(ids);
    nb_tensor_free(t);
}

/* Without replacement: no id repeats within a row, zero weights are never drawn, and the first
 * draw follows the weights. */
static void test_multinomial_without_replacement_never_repeats(void **state)
{
    (void)state;
    enum { N = 4000, C = 6, K = 5 };
    const double w[C] = {1, 2, 3, 4, 0, 5};
    nb_tensor *t = nb_tensor_new(NB_F32, 2, (const int64_t[]){N, C});
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            nb_tensor_set(t, n * C + c, w[c]);
    nb_rng rng = nb_rng_seed(8);
    nb_tensor *ids = nb_multinomial(t, K, false, &rng);
    assert_int_equal(nb_tensor_ndim(ids), 2);
    const int64_t *v = nb_tensor_data_i64(ids);
    double first[C] = {0};
    for (int n = 0; n < N; n++) {
        bool seen[C] = {false};
        for (int k = 0; k < K; k++) {
            const int64_t c = v[n * K + k];
            assert_in_range(c, 0, C - 1);
            assert_int_not_equal(c, 4);
            assert_false(seen[c]);
            seen[c] = true;
        }
        first[v[n * K]] += 1.0 / N;
    }
    const double want[C] = {1 / 15.0, 2 / 15.0, 3 / 15.0, 4 / 15.0, 0, 5 / 15.0};
    assert_frequencies(first, want, C, 0.03);
    nb_tensor_free(ids);
    nb_tensor_free(t);
}

/* ---- errors ---- */
static void test_sampling_rejects_bad_options_and_values(void **state)
{
    (void)state;
    nb_tensor *z = nb_tensor_new(NB_F64, 2, (const int64_t[]){2, 3});
    nb_rng rng = nb_rng_seed(1);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.top_k = 0;
    assert_null(nb_sample_logits(z, &o, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: top_k must be >= 1, got 0");
    o.top_k = -3;
    assert_null(nb_sample_logits(z, &o, &rng));
    nbt_assert_error(NB_ERR_VALUE, "top_k must be >= 1, got -3");
    const double bad_p[3] = {0, 1.5, NAN};
    for (int i = 0; i < 3; i++) {
        nb_sample_opts q = NB_SAMPLE_DEFAULTS;
        q.top_p = bad_p[i];
        assert_null(nb_sample_logits(z, &q, &rng));
        nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: top_p must be in (0, 1], got");
    }
    const double bad_t[3] = {0, -1, INFINITY};
    for (int i = 0; i < 3; i++) {
        nb_sample_opts q = NB_SAMPLE_DEFAULTS;
        q.temperature = bad_t[i];
        assert_null(nb_sample_logits(z, &q, &rng));
        nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: temperature must be finite and > 0");
    }
    nb_sample_opts zero = {0};
    assert_null(nb_sample_logits(z, &zero, &rng));
    nbt_assert_error(NB_ERR_VALUE, "temperature must be finite and > 0, got 0");
    assert_null(nb_sample_logits(z, NULL, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: rng is NULL");
    nb_tensor_set(z, 4, NAN);
    assert_null(nb_sample_logits(z, NULL, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: logit nan at [1, 1] (row, class)");
    nb_tensor_set(z, 4, INFINITY);
    assert_null(nb_sample_logits(z, NULL, &rng));
    nbt_assert_error(NB_ERR_VALUE, "logit inf at [1, 1]");
    for (int c = 3; c < 6; c++)
        nb_tensor_set(z, c, -INFINITY);
    assert_null(nb_sample_logits(z, NULL, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_sample_logits: every logit of row 1 is -inf");
    nb_tensor *z3 = nb_tensor_new(NB_F64, 3, (const int64_t[]){1, 2, 3});
    nb_tensor *zi = nb_tensor_new(NB_I64, 1, (const int64_t[]){3});
    assert_null(nb_sample_logits(z3, NULL, &rng));
    nbt_assert_error(NB_ERR_SHAPE, "nb_sample_logits: logits must be [N, C] or [C] with C >= 1, "
                                   "got [1, 2, 3]");
    assert_null(nb_sample_logits(zi, NULL, &rng));
    nbt_assert_error(NB_ERR_DTYPE, "nb_sample_logits: logits must be f32 or f64, got i64");
    nb_tensor_free(zi);
    nb_tensor_free(z3);
    nb_tensor_free(z);
}

static void test_multinomial_rejects_bad_weights_and_counts(void **state)
{
    (void)state;
    const double w[6] = {1, 0, 2, 0, 0, 0};
    nb_tensor *t = nb_tensor_from_data(NB_F64, 2, (const int64_t[]){2, 3}, w);
    nb_rng rng = nb_rng_seed(1);
    assert_null(nb_multinomial(t, 1, true, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_multinomial: row 1 has no positive weight");
    nb_tensor_set(t, 4, 1);
    assert_null(nb_multinomial(t, 2, false, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_multinomial: cannot draw 2 without replacement from row 1, "
                                   "which has 1 positive weights");
    nb_tensor *ok = nb_multinomial(t, 1, false, &rng);
    assert_non_null(ok);
    assert_int_equal(nb_tensor_data_i64(ok)[1], 1);
    nb_tensor_set(t, 2, -0.5);
    assert_null(nb_multinomial(t, 1, true, &rng));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_multinomial: weight -0.5 at [0, 2] (row, class) must be finite and >= 0");
    assert_null(nb_multinomial(t, 0, true, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_multinomial: num_samples must be >= 1, got 0");
    assert_null(nb_multinomial(t, 1, true, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_multinomial: rng is NULL");
    assert_null(nb_multinomial(NULL, 1, true, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_multinomial: weights is NULL");
    nb_tensor_free(ok);
    nb_tensor_free(t);
}

/* In a step the ids live in the arena and nothing is recorded. */
static void test_sampling_in_a_step_records_nothing(void **state)
{
    (void)state;
    nb_tensor *z = nbt_uniform(NB_F64, 2, (const int64_t[]){3, 4}, 11, -1, 1);
    nb_tensor_set_requires_grad(z, true);
    nb_rng rng = nb_rng_seed(12);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *ids = nb_sample_logits(nb_mul_scalar(z, 2), NULL, &rng);
    assert_non_null(ids);
    assert_false(nb_tensor_requires_grad(ids));
    assert_int_equal(nb_tensor_numel(ids), 3);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_follow_softmax_of_logits_and_temperature),
        cmocka_unit_test(test_same_seed_same_draws_and_result_shapes),
        cmocka_unit_test(test_top_k_never_draws_outside_the_k_largest),
        cmocka_unit_test(test_top_p_keeps_the_smallest_set_reaching_p),
        cmocka_unit_test(test_tiny_temperature_is_argmax),
        cmocka_unit_test(test_masked_logits_are_never_drawn),
        cmocka_unit_test(test_multinomial_with_replacement_follows_weights),
        cmocka_unit_test(test_multinomial_without_replacement_never_repeats),
        cmocka_unit_test(test_sampling_rejects_bad_options_and_values),
        cmocka_unit_test(test_multinomial_rejects_bad_weights_and_counts),
        cmocka_unit_test(test_sampling_in_a_step_records_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
