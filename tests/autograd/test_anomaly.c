/* tests/autograd/test_anomaly.c — anomaly mode (autograd/engine.c): with nb_set_anomaly_mode(true)
 * the first op whose forward result holds a NaN/Inf fails with NB_ERR_VALUE naming the op, the
 * element and its tape record; in backward, the first gradient with a NaN/Inf names the op whose
 * backward made it. Off (the default), the same computations run through silently. */
#include <math.h>

#include "support/nbt.h"

static nb_tensor *leaf(const float *v, int64_t n)
{
    nb_tensor *t = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){n}, v);
    assert_non_null(t);
    assert_int_equal(nb_tensor_set_requires_grad(t, true), NB_OK);
    return t;
}

static void test_anomaly_mode_is_off_by_default_and_returns_the_previous_setting(void **state)
{
    (void)state;
    assert_false(nb_set_anomaly_mode(true));
    assert_true(nb_set_anomaly_mode(false));
    assert_false(nb_set_anomaly_mode(false));
}

static void test_forward_names_the_first_op_producing_inf(void **state)
{
    (void)state;
    nb_tensor *x = leaf((const float[]){1, 2, 3}, 3);
    nb_tensor *c = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){3}, (const float[]){1, 0, 2});
    nb_step *s = nb_step_new();
    nb_set_anomaly_mode(true);
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *a = nb_mul(x, x);            /* record 0: finite */
    nb_tensor *b = nb_sub(a, nb_mul(x, x)); /* records 1, 2: all zeros, finite */
    assert_non_null(b);
    assert_int_equal(nb_last_status(), NB_OK);
    nb_tensor *bad = nb_log(nb_mul(b, c)); /* record 3 finite; log(0) = -inf at record 4 */
    assert_null(bad);
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    const char *msg = nb_last_error();
    assert_non_null(strstr(msg, "nb_log: anomaly: forward produced -inf at flat index 0"));
    assert_non_null(strstr(msg, "tape record 4"));
    /* later ops on the NULL result keep the first message */
    assert_null(nb_exp(bad));
    assert_non_null(strstr(nb_last_error(), "nb_log: anomaly"));
    nb_step_end(s);

    /* off: the same computation runs and yields -inf */
    nb_set_anomaly_mode(false);
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_log(nb_mul(nb_sub(nb_mul(x, x), nb_mul(x, x)), c));
    assert_non_null(y);
    assert_true(isinf(nb_tensor_get(y, 0)) && nb_tensor_get(y, 0) < 0);
    assert_int_equal(nb_last_status(), NB_OK);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
    nb_tensor_free(c);
}

static void test_forward_names_nan_from_zero_over_zero(void **state)
{
    (void)state;
    nb_tensor *x = leaf((const float[]){0, 1}, 2);
    nb_step *s = nb_step_new();
    nb_set_anomaly_mode(true);
    assert_int_equal(nb_step_begin(s), NB_OK);
    assert_null(nb_div(x, x));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    /* 0 / 0 prints as "nan" or "-nan" */
    assert_non_null(strstr(nb_last_error(), "nb_div: anomaly: forward produced "));
    assert_non_null(strstr(nb_last_error(), "nan at flat index 0 of output [2]"));
    assert_non_null(strstr(nb_last_error(), "tape record 0"));
    nb_step_end(s);
    nb_set_anomaly_mode(false);
    nb_step_free(s);
    nb_tensor_free(x);
}

static void test_backward_names_the_op_whose_gradient_is_inf(void **state)
{
    (void)state;
    /* sqrt(0) = 0 is finite, but d sqrt / dx = 1 / (2 sqrt(x)) is +inf at 0 */
    nb_tensor *x = leaf((const float[]){4, 0, 1}, 3);
    nb_step *s = nb_step_new();
    nb_set_anomaly_mode(true);
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *r = nb_sqrt(x);              /* record 0 */
    nb_tensor *loss = nb_sum(r, -1, false); /* record 1 */
    assert_non_null(loss);
    assert_int_equal(nb_backward(loss), NB_ERR_VALUE);
    const char *msg = nb_last_error();
    assert_non_null(strstr(msg, "nb_backward: anomaly: backward of nb_sqrt (tape record 0)"));
    assert_non_null(strstr(msg, "inf in the gradient of input 0 at flat index 1"));
    nb_step_end(s);

    /* off: backward completes and the gradient holds the inf */
    nb_set_anomaly_mode(false);
    assert_int_equal(nb_step_begin(s), NB_OK);
    r = nb_sqrt(x);
    assert_int_equal(nb_backward(nb_sum(r, -1, false)), NB_OK);
    assert_true(isinf(nb_tensor_get(nb_tensor_grad(x), 1)));
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static void test_finite_training_is_unchanged_by_anomaly_mode(void **state)
{
    (void)state;
    double out[2];
    for (int mode = 0; mode < 2; mode++) {
        nb_tensor *x = leaf((const float[]){0.5f, -1.5f, 2}, 3);
        nb_step *s = nb_step_new();
        nb_set_anomaly_mode(mode == 1);
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *loss = nb_sum(nb_tanh(nb_mul(x, x)), -1, false);
        assert_int_equal(nb_backward(loss), NB_OK);
        out[mode] = nb_tensor_item(loss) + nb_tensor_get(nb_tensor_grad(x), 1);
        nb_step_end(s);
        nb_set_anomaly_mode(false);
        nb_step_free(s);
        nb_tensor_free(x);
    }
    assert_true(out[0] == out[1]);
}

static int reset(void **state)
{
    (void)state;
    nb_set_anomaly_mode(false);
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_anomaly_mode_is_off_by_default_and_returns_the_previous_setting,
                               reset),
        cmocka_unit_test_setup(test_forward_names_the_first_op_producing_inf, reset),
        cmocka_unit_test_setup(test_forward_names_nan_from_zero_over_zero, reset),
        cmocka_unit_test_setup(test_backward_names_the_op_whose_gradient_is_inf, reset),
        cmocka_unit_test_setup(test_finite_training_is_unchanged_by_anomaly_mode, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
