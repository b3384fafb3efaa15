/* tests/nn/test_init.c — nn/init.c: fans, distribution statistics of every initialiser,
 * reproducibility, errors. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

typedef struct {
    double mean, std, maxabs;
} stats;

static stats stats_of(const nb_tensor *t)
{
    const int64_t n = nb_tensor_numel(t);
    double s = 0, sq = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(t, i);
        s += v;
        sq += v * v;
        mx = fmax(mx, fabs(v));
    }
    const double mean = s / (double)n;
    return (stats){mean, sqrt(sq / (double)n - mean * mean), mx};
}

/* [out, in, kh, kw] = [64, 32, 3, 3]: fan_in 288, fan_out 576; 18432 elements. */
static nb_tensor *conv_like(nb_dtype dt)
{
    return nb_tensor_zeros(dt, 4, (int64_t[]){64, 32, 3, 3});
}

static void test_fans_follow_out_in_receptive_field(void **state)
{
    (void)state;
    nb_tensor *t = conv_like(NB_F32);
    int64_t fi, fo;
    assert_int_equal(nb_init_fans(t, &fi, &fo), NB_OK);
    assert_int_equal(fi, 32 * 9);
    assert_int_equal(fo, 64 * 9);
    nb_tensor *v = nb_tensor_zeros(NB_F32, 1, (int64_t[]){5});
    assert_int_equal(nb_init_fans(v, &fi, &fo), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "at least 2 dims [out, in, ...], got [5]");
    nb_tensor_free(v);
    nb_tensor_free(t);
}

static void test_uniform_and_normal_have_requested_moments(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_tensor *t = conv_like(NB_F64);
    assert_int_equal(nb_init_uniform(t, &r, -0.5, 1.5), NB_OK);
    stats s = stats_of(t);
    /* U(-0.5, 1.5): mean 0.5, std 2/sqrt(12) = 0.577; n = 18432. */
    assert_true(fabs(s.mean - 0.5) < 0.02);
    assert_true(fabs(s.std - 2.0 / sqrt(12.0)) < 0.01);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++) {
        assert_true(nb_tensor_get(t, i) >= -0.5);
        assert_true(nb_tensor_get(t, i) < 1.5);
    }
    assert_int_equal(nb_init_normal(t, &r, 2.0, 0.1), NB_OK);
    s = stats_of(t);
    assert_true(fabs(s.mean - 2.0) < 0.005);
    assert_true(fabs(s.std - 0.1) < 0.003);
    nb_tensor_free(t);
}

static void test_xavier_uses_fan_in_plus_fan_out(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(2);
    nb_tensor *t = conv_like(NB_F32);
    const double gain = 1.5, a = gain * sqrt(6.0 / (288 + 576));
    assert_int_equal(nb_init_xavier_uniform(t, &r, gain), NB_OK);
    stats s = stats_of(t);
    assert_true(s.maxabs <= a);
    assert_true(s.maxabs > 0.99 * a);
    assert_true(fabs(s.std / (a / sqrt(3.0)) - 1) < 0.03);
    assert_int_equal(nb_init_xavier_normal(t, &r, gain), NB_OK);
    s = stats_of(t);
    assert_true(fabs(s.std / (gain * sqrt(2.0 / (288 + 576))) - 1) < 0.03);
    assert_true(fabs(s.mean) < 0.003);
    nb_tensor_free(t);
}

static void test_kaiming_uses_relu_gain_and_chosen_fan(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    nb_tensor *t = conv_like(NB_F32);
    assert_int_equal(nb_init_kaiming_normal(t, &r, 0.0, NB_FAN_IN), NB_OK);
    assert_true(fabs(stats_of(t).std / sqrt(2.0 / 288) - 1) < 0.03);
    assert_int_equal(nb_init_kaiming_normal(t, &r, 0.0, NB_FAN_OUT), NB_OK);
    assert_true(fabs(stats_of(t).std / sqrt(2.0 / 576) - 1) < 0.03);
    /* Leaky ReLU slope a: gain sqrt(2 / (1 + a^2)); uniform bound gain * sqrt(3 / fan). */
    const double a = 0.2, bound = sqrt(2.0 / (1 + a * a)) * sqrt(3.0 / 288);
    assert_int_equal(nb_init_kaiming_uniform(t, &r, a, NB_FAN_IN), NB_OK);
    stats s = stats_of(t);
    assert_true(s.maxabs <= bound);
    assert_true(s.maxabs > 0.99 * bound);
    assert_true(fabs(s.std / (bound / sqrt(3.0)) - 1) < 0.03);
    nb_tensor_free(t);
}

static void test_zeros_and_constant_fill_every_element(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(4);
    nb_tensor *t = nb_tensor_uniform(NB_F32, 2, (int64_t[]){3, 4}, &r, 1, 2);
    assert_int_equal(nb_init_zeros(t), NB_OK);
    for (int i = 0; i < 12; i++)
        assert_float_equal(nb_tensor_get(t, i), 0.0, 0);
    assert_int_equal(nb_init_constant(t, -0.75), NB_OK);
    for (int i = 0; i < 12; i++)
        assert_float_equal(nb_tensor_get(t, i), -0.75, 0);
    nb_tensor_free(t);
}

static void test_initialisers_are_reproducible_from_the_seed(void **state)
{
    (void)state;
    nb_tensor *a = conv_like(NB_F32), *b = conv_like(NB_F32);
    nb_rng r1 = nb_rng_seed(9), r2 = nb_rng_seed(9);
    nb_init_kaiming_uniform(a, &r1, 0, NB_FAN_IN);
    nb_init_kaiming_uniform(b, &r2, 0, NB_FAN_IN);
    assert_true(nb_tensor_allclose(a, b, 0, 0));
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_initialisers_reject_bad_targets(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, (int64_t[]){2, 2});
    assert_int_equal(nb_init_normal(ids, &r, 0, 1), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_init_normal: tensor must be f32 or f64, got i64");
    nb_tensor *v = nb_tensor_zeros(NB_F32, 1, (int64_t[]){4});
    assert_int_equal(nb_init_kaiming_uniform(v, &r, 0, NB_FAN_IN), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_init_kaiming_uniform: needs a tensor [out, in, ...]");
    assert_int_equal(nb_init_uniform(v, &r, 1, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_init_uniform: invalid range 1, 0");
    assert_int_equal(nb_init_uniform(v, NULL, 0, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "rng is NULL");
    nb_tensor *m = nb_tensor_zeros(NB_F32, 2, (int64_t[]){3, 4});
    nb_tensor *mt = nb_transpose(m, 0, 1);
    assert_int_equal(nb_init_zeros(mt), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_init_zeros: tensor [4, 3] is not contiguous");
    nb_tensor_free(mt);
    nb_tensor_free(m);
    nb_tensor_free(v);
    nb_tensor_free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fans_follow_out_in_receptive_field),
        cmocka_unit_test(test_uniform_and_normal_have_requested_moments),
        cmocka_unit_test(test_xavier_uses_fan_in_plus_fan_out),
        cmocka_unit_test(test_kaiming_uses_relu_gain_and_chosen_fan),
        cmocka_unit_test(test_zeros_and_constant_fill_every_element),
        cmocka_unit_test(test_initialisers_are_reproducible_from_the_seed),
        cmocka_unit_test(test_initialisers_reject_bad_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
