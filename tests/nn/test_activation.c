/* tests/nn/test_activation.c — nn/activation.c: each activation module against a direct
 * formula, softmax axes, Flatten and Identity. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static double relu(double x)
{
    return x > 0 ? x : 0;
}
static double leaky(double x)
{
    return x > 0 ? x : 0.1 * x;
}
static double sigm(double x)
{
    return 1 / (1 + exp(-x));
}
static double softplus(double x)
{
    return log1p(exp(x));
}

static void test_elementwise_activations_match_formulas(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    struct {
        nb_module *m;
        double (*f)(double);
        const char *kind;
    } cases[] = {{nb_relu_new(), relu, "ReLU"},
                 {nb_leaky_relu_new(0.1), leaky, "LeakyReLU"},
                 {nb_sigmoid_new(), sigm, "Sigmoid"},
                 {nb_tanh_new(), tanh, "Tanh"},
                 {nb_softplus_new(), softplus, "Softplus"}};
    nb_rng r = nb_rng_seed(1);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){3, 7}, &r, -4, 4);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        assert_string_equal(nb_module_kind(cases[c].m), cases[c].kind);
        assert_int_equal(nb_module_num_params(cases[c].m), 0);
        nb_tensor *y = nb_module_forward(cases[c].m, x);
        assert_non_null(y);
        for (int i = 0; i < 21; i++)
            assert_float_equal(nb_tensor_get(y, i), cases[c].f(nb_tensor_get(x, i)), 1e-12);
        nb_tensor_free(y);
        nb_module_free(cases[c].m);
    }
    nb_tensor_free(x);
    nb_step_free(step_);
}

static void test_softmax_modules_normalise_along_their_axis(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_rng r = nb_rng_seed(2);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){3, 4}, &r, -2, 2);
    nb_module *sm_rows = nb_softmax_new(-1), *sm_cols = nb_softmax_new(0);
    nb_module *lsm = nb_log_softmax_new(1);
    nb_tensor *a = nb_module_forward(sm_rows, x), *b = nb_module_forward(sm_cols, x);
    nb_tensor *c = nb_module_forward(lsm, x);
    for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int j = 0; j < 4; j++) {
            s += nb_tensor_get(a, i * 4 + j);
            assert_float_equal(exp(nb_tensor_get(c, i * 4 + j)), nb_tensor_get(a, i * 4 + j),
                               1e-12);
        }
        assert_float_equal(s, 1.0, 1e-12);
    }
    for (int j = 0; j < 4; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++)
            s += nb_tensor_get(b, i * 4 + j);
        assert_float_equal(s, 1.0, 1e-12);
    }
    assert_string_equal(nb_module_info(sm_cols), "axis=0");
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(c);
    nb_tensor_free(x);
    nb_module_free(sm_rows);
    nb_module_free(sm_cols);
    nb_module_free(lsm);
    nb_step_free(step_);
}

static void test_flatten_keeps_the_batch_dim(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_module *f = nb_flatten_new();
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, (int64_t[]){2, 3, 4, 5});
    nb_tensor *y = nb_module_forward(f, x);
    assert_int_equal(nb_tensor_ndim(y), 2);
    assert_int_equal(nb_tensor_dim(y, 0), 2);
    assert_int_equal(nb_tensor_dim(y, 1), 60);
    nb_tensor *s = nb_tensor_zeros(NB_F32, 0, NULL);
    assert_null(nb_module_forward(f, s));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Flatten: input is a scalar");
    nb_tensor_free(s);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(f);
    nb_step_free(step_);
}

static void test_identity_returns_its_input(void **state)
{
    (void)state;
    nb_module *id = nb_identity_new();
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (int64_t[]){3}, 2.5);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_ptr_equal(nb_module_forward(id, x), x);
    nb_step_end(step);
    nb_step_free(step);
    /* With no step the result is always the caller's own tensor, never x itself. */
    nb_tensor *y = nb_module_forward(id, x);
    assert_non_null(y);
    assert_ptr_not_equal(y, x);
    assert_true(nb_tensor_allclose(y, x, 0, 0));
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elementwise_activations_match_formulas),
        cmocka_unit_test(test_softmax_modules_normalise_along_their_axis),
        cmocka_unit_test(test_flatten_keeps_the_batch_dim),
        cmocka_unit_test(test_identity_returns_its_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
