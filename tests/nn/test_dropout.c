/* tests/nn/test_dropout.c — nn/dropout.c: train/eval behaviour, drop rate, 1/(1-p) scaling,
 * its gradient, reproducibility from the seed. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

#define N 20000

static nb_tensor *ones(void)
{
    return nb_tensor_full(NB_F32, 2, (int64_t[]){N / 100, 100}, 1.0);
}

static void test_dropout_in_eval_mode_is_the_identity(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_module *d = nb_dropout_new(0.5, 1);
    nb_module_train(d, false);
    nb_tensor *x = ones();
    assert_ptr_equal(nb_module_forward(d, x), x);
    nb_tensor_free(x);
    nb_module_free(d);
    nb_step_free(step_);
}

static void test_dropout_in_training_drops_about_p_and_scales_survivors(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    const double p = 0.3;
    nb_module *d = nb_dropout_new(p, 2);
    nb_tensor *x = ones();
    nb_tensor *y = nb_module_forward(d, x);
    assert_non_null(y);
    int64_t zeros = 0;
    double sum = 0;
    for (int64_t i = 0; i < N; i++) {
        double v = nb_tensor_get(y, i);
        if (v == 0)
            zeros++;
        else
            assert_float_equal(v, 1.0 / (1.0 - p), 1e-6);
        sum += v;
    }
    /* Binomial(N, p): std of the rate is sqrt(p(1-p)/N) = 0.0032; allow 5 std. */
    assert_true(fabs((double)zeros / N - p) < 0.016);
    /* Inverted dropout keeps the expected value: mean of y close to 1. */
    assert_true(fabs(sum / N - 1.0) < 0.025);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(d);
    nb_step_free(step_);
}

static void test_dropout_masks_come_from_the_seed(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_module *a = nb_dropout_new(0.5, 7), *b = nb_dropout_new(0.5, 7), *c = nb_dropout_new(0.5, 8);
    nb_tensor *x = ones();
    nb_tensor *ya = nb_module_forward(a, x), *yb = nb_module_forward(b, x);
    nb_tensor *yc = nb_module_forward(c, x);
    assert_true(nb_tensor_allclose(ya, yb, 0, 0));
    assert_false(nb_tensor_allclose(ya, yc, 0, 0));
    /* The module's rng advances: the next mask differs from the first. */
    nb_tensor *ya2 = nb_module_forward(a, x);
    assert_false(nb_tensor_allclose(ya, ya2, 0, 0));
    nb_tensor_free(ya);
    nb_tensor_free(ya2);
    nb_tensor_free(yb);
    nb_tensor_free(yc);
    nb_tensor_free(x);
    nb_module_free(a);
    nb_module_free(b);
    nb_module_free(c);
    nb_step_free(step_);
}

static void test_dropout_gradient_is_mask_over_keep_probability(void **state)
{
    (void)state;
    const double p = 0.25;
    nb_module *d = nb_dropout_new(p, 3);
    nb_rng r = nb_rng_seed(4);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 1, (int64_t[]){200}, &r, 0.5, 1.5);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(d, x);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    nb_tensor *g = nb_tensor_grad(x);
    for (int i = 0; i < 200; i++) {
        const bool kept = nb_tensor_get(y, i) != 0;
        assert_float_equal(nb_tensor_get(g, i), kept ? 1.0 / (1.0 - p) : 0.0, 1e-12);
        if (kept)
            assert_float_equal(nb_tensor_get(y, i), nb_tensor_get(x, i) / (1.0 - p), 1e-12);
    }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(d);
}

static void test_dropout_with_p_zero_is_the_identity_in_training(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_module *d = nb_dropout_new(0.0, 5);
    nb_tensor *x = ones();
    assert_ptr_equal(nb_module_forward(d, x), x);
    nb_tensor_free(x);
    nb_module_free(d);
    nb_step_free(step_);
}

static void test_dropout_rejects_p_outside_zero_one(void **state)
{
    (void)state;
    assert_null(nb_dropout_new(1.0, 1));
    nbt_assert_error(NB_ERR_VALUE, "nb_dropout_new: p must be in [0, 1), got 1");
    assert_null(nb_dropout_new(-0.1, 1));
    nbt_assert_error(NB_ERR_VALUE, "got -0.1");
    assert_null(nb_dropout_new(NAN, 1));
    nbt_assert_error(NB_ERR_VALUE, "got nan");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_in_eval_mode_is_the_identity),
        cmocka_unit_test(test_dropout_in_training_drops_about_p_and_scales_survivors),
        cmocka_unit_test(test_dropout_masks_come_from_the_seed),
        cmocka_unit_test(test_dropout_gradient_is_mask_over_keep_probability),
        cmocka_unit_test(test_dropout_with_p_zero_is_the_identity_in_training),
        cmocka_unit_test(test_dropout_rejects_p_outside_zero_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
