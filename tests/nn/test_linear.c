/* tests/nn/test_linear.c — nn/linear.c: forward against a direct loop, PyTorch's default
 * initialisation, f64 parameters, a gradient check of an MLP built from modules, errors. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static void test_linear_matches_direct_loop(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_rng r = nb_rng_seed(1);
    nb_module *lin = nb_linear_new(5, 3, true, &r);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){4, 5}, &r, -2, 2);
    nb_tensor *y = nb_module_forward(lin, x);
    nb_tensor *w = nb_module_param(lin, "weight"), *b = nb_module_param(lin, "bias");
    assert_non_null(y);
    for (int i = 0; i < 4; i++)
        for (int o = 0; o < 3; o++) {
            double ref = nb_tensor_get(b, o);
            for (int k = 0; k < 5; k++)
                ref += nb_tensor_get(x, i * 5 + k) * nb_tensor_get(w, o * 5 + k);
            assert_float_equal(nb_tensor_get(y, i * 3 + o), ref, 1e-5);
        }
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(lin);
    nb_step_free(step_);
}

static void test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(2);
    const int64_t n_in = 400, n_out = 50;
    nb_module *lin = nb_linear_new(n_in, n_out, true, &r);
    const double bound = 1.0 / sqrt((double)n_in);
    const char *names[2] = {"weight", "bias"};
    for (int k = 0; k < 2; k++) {
        nb_tensor *t = nb_module_param(lin, names[k]);
        const int64_t n = nb_tensor_numel(t);
        double mx = 0, sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = nb_tensor_get(t, i);
            mx = fmax(mx, fabs(v));
            sum += v;
            sq += v * v;
        }
        assert_true(mx <= bound);
        /* Uniform(-a, a): variance a^2 / 3. Both tensors are large enough for 15 % slack. */
        const double var = sq / (double)n - (sum / (double)n) * (sum / (double)n);
        assert_true(fabs(var / (bound * bound / 3.0) - 1.0) < (k == 0 ? 0.05 : 0.5));
        if (k == 0)
            assert_true(mx > 0.98 * bound); /* the range is used up to its edge */
    }
    nb_module_free(lin);
}

static void test_linear_same_seed_gives_same_parameters(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(3), r2 = nb_rng_seed(3), r3 = nb_rng_seed(4);
    nb_module *a = nb_linear_new(7, 4, true, &r1), *b = nb_linear_new(7, 4, true, &r2);
    nb_module *c = nb_linear_new(7, 4, true, &r3);
    assert_true(nb_tensor_allclose(nb_module_param_buffer(a), nb_module_param_buffer(b), 0, 0));
    assert_false(nb_tensor_allclose(nb_module_param_buffer(a), nb_module_param_buffer(c), 0, 0));
    nb_module_free(a);
    nb_module_free(b);
    nb_module_free(c);
}

static void test_linear_rejects_bad_sizes_and_missing_rng(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    assert_null(nb_linear_new(0, 3, true, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_linear_new: need n_in, n_out >= 1 and an rng, got 0, 3");
    assert_null(nb_linear_new(2, 3, true, NULL));
    nbt_assert_error(NB_ERR_VALUE, "rng NULL");
    assert_null(nb_linear_new_ex(2, 3, true, &r, NB_I64));
    nbt_assert_error(NB_ERR_DTYPE, "parameters must be f32 or f64, got i64");
}

static void test_linear_rejects_input_of_other_dtype(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_rng r = nb_rng_seed(6);
    nb_module *lin = nb_linear_new(3, 2, true, &r);
    nb_tensor *x = nb_tensor_zeros(NB_F64, 2, (int64_t[]){4, 3});
    assert_null(nb_module_forward(lin, x));
    assert_int_equal(nb_last_status(), NB_ERR_DTYPE);
    nb_clear_error();
    nb_tensor_free(x);
    nb_module_free(lin);
    nb_step_free(step_);
}

/* ---- gradient check of an MLP made of modules, in float64 ---- */

static nb_tensor *mlp_forward(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_module_forward(user, in[0]);
}

static void test_mlp_from_modules_passes_gradient_check_in_f64(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(7);
    nb_module *net = nb_sequential_new(
        7, (nb_module *[]){nb_linear_new_ex(4, 5, true, &r, NB_F64), nb_tanh_new(),
                           nb_linear_new_ex(5, 4, true, &r, NB_F64), nb_sigmoid_new(),
                           nb_linear_new_ex(4, 3, false, &r, NB_F64), nb_softplus_new(),
                           nb_log_softmax_new(-1)});
    assert_non_null(net);
    assert_int_equal(nb_module_dtype(net), NB_F64);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){3, 4}, &r, -1, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *in[8] = {x};
    nb_named_tensor np[8];
    int n = nb_module_named_params(net, np, 7);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        in[1 + i] = np[i].tensor;
    assert_int_equal(nbt_check_tensors(mlp_forward, net, in, 1 + n), NB_OK);
    nb_tensor_free(x);
    nb_module_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_matches_direct_loop),
        cmocka_unit_test(test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in),
        cmocka_unit_test(test_linear_same_seed_gives_same_parameters),
        cmocka_unit_test(test_linear_rejects_bad_sizes_and_missing_rng),
        cmocka_unit_test(test_linear_rejects_input_of_other_dtype),
        cmocka_unit_test(test_mlp_from_modules_passes_gradient_check_in_f64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
