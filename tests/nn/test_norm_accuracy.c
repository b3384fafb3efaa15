/* tests/nn/test_norm_accuracy.c — BatchNorm in float32 on offset data over a large batch: its
 * statistics and parameter gradients (built from nb_mean_axes and broadcast-gradient sums) match
 * the same module run in float64 on the same values, because every reduction accumulates in
 * double. A float accumulator is off by ~1% here (sums near 1e9). What remains is float32
 * rounding of x - mean (ulp(1000) / 2 = 3e-5 per element), hence the 1e-4 tolerances. */
#include "support/nbt.h"

#include <math.h>

enum { N = 1 << 20, C = 4 };

/* 0.5 * sum(bn(x)^2) backward; returns the module (caller frees) with its gradients set. */
static nb_module *run_batch_norm(nb_dtype dt, const nb_tensor *x64)
{
    nb_module *bn = nb_batch_norm1d_new(C, &(nb_norm_layer_opts){.dtype = dt});
    assert_non_null(bn);
    for (int c = 0; c < C; c++) {
        nb_tensor_set(nb_module_param(bn, "weight"), c, 0.5 + 0.25 * c);
        nb_tensor_set(nb_module_param(bn, "bias"), c, 0.5 - 0.125 * c);
    }
    nb_tensor *x = nb_tensor_to_dtype(x64, dt);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(bn, x);
    assert_non_null(y);
    assert_int_equal(nb_backward(nb_mul_scalar(nb_sum_all(nb_mul(y, y)), 0.5)), NB_OK);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    return bn;
}

static void assert_close(nb_tensor *a, nb_tensor *b, double rtol, const char *what)
{
    for (int c = 0; c < C; c++) {
        const double u = nb_tensor_get(a, c), v = nb_tensor_get(b, c);
        print_message("  %s[%d]: f32 %.9g, f64 %.9g\n", what, c, u, v);
        if (!(fabs(u - v) <= rtol * fabs(v)))
            fail_msg("%s[%d]: f32 %.9g vs f64 %.9g (rel err %.3g > %.3g)", what, c, u, v,
                     fabs(u - v) / fabs(v), rtol);
    }
}

static void test_batch_norm_f32_gradients_on_offset_data_match_f64(void **state)
{
    (void)state;
    const int64_t s[2] = {N, C};
    nb_rng rng = nb_rng_seed(3);
    nb_tensor *x32 = nb_tensor_normal(NB_F32, 2, s, &rng, 1000.0, 1.0);
    nb_tensor *x64 = nb_tensor_to_dtype(x32, NB_F64); /* the same values in both precisions */
    nb_module *b32 = run_batch_norm(NB_F32, x64), *b64 = run_batch_norm(NB_F64, x64);
    assert_close(nb_tensor_grad(nb_module_param(b32, "weight")),
                 nb_tensor_grad(nb_module_param(b64, "weight")), 1e-4, "dweight");
    assert_close(nb_tensor_grad(nb_module_param(b32, "bias")),
                 nb_tensor_grad(nb_module_param(b64, "bias")), 1e-4, "dbias");
    assert_close(nb_batch_norm_running_mean(b32), nb_batch_norm_running_mean(b64), 1e-6,
                 "running_mean");
    assert_close(nb_batch_norm_running_var(b32), nb_batch_norm_running_var(b64), 1e-4,
                 "running_var");
    nb_module_free(b64);
    nb_module_free(b32);
    nb_tensor_free(x64);
    nb_tensor_free(x32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_norm_f32_gradients_on_offset_data_match_f64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
