/* tests/autograd/test_gradcheck.c — autograd/gradcheck.c: nb_gradcheck passes correct
 * gradients, catches a wrong one (naming the input and index), works in directional mode on
 * large inputs, and rejects what it cannot check. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static nb_tensor *input(int ndim, const int64_t *shape, uint64_t seed, double lo, double hi)
{
    nb_tensor *t = nbt_uniform(NB_F64, ndim, shape, seed, lo, hi);
    assert_int_equal(nb_tensor_set_requires_grad(t, true), NB_OK);
    return t;
}

/* f(x, w) = sum over rows of tanh(x @ w) * x[:, :1]: several ops, both inputs matter. */
static nb_tensor *f_correct(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *h = nb_tanh(nb_matmul(in[0], in[1]));
    return nb_sum(nb_mul(h, nb_slice(in[0], 1, 0, 1, 1)), 0, false);
}

static void test_gradcheck_passes_a_correct_gradient(void **state)
{
    (void)state;
    const int64_t sx[2] = {4, 3}, sw[2] = {3, 2};
    nb_tensor *in[2] = {input(2, sx, 1, -1, 1), input(2, sw, 2, -1, 1)};
    nb_gradcheck_report rep;
    assert_int_equal(nb_gradcheck(f_correct, NULL, in, 2, NULL, &rep), NB_OK);
    assert_int_equal(rep.n_checked, 12 + 6);
    assert_int_equal(rep.n_failed, 0);
    assert_int_equal(rep.worst_input, -1);
    assert_true(rep.max_abs_err[0] < 1e-8 && rep.max_abs_err[1] < 1e-8);
    /* The inputs are restored exactly after being perturbed. */
    nb_tensor *fresh = nbt_uniform(NB_F64, 2, sx, 1, -1, 1);
    assert_memory_equal(nb_tensor_data(in[0]), nb_tensor_data(fresh), 12 * sizeof(double));
    nb_tensor_free(fresh);
    nb_tensor_free(in[0]);
    nb_tensor_free(in[1]);
}

/* f(x) = x * c with c = x^2 read out of x's current values through nb_tensor_get: numerically
 * f = x^3, but the recorded graph sees c as a constant, so the analytic gradient is x^2
 * instead of 3 x^2. */
static nb_tensor *f_wrong(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *x = in[0];
    nb_tensor *c = nb_constant(NB_F64, nb_tensor_ndim(x), nb_tensor_shape(x), 0.0);
    for (int64_t i = 0; i < nb_tensor_numel(x); i++) {
        double v = nb_tensor_get(x, i);
        nb_tensor_set(c, i, v * v);
    }
    return nb_mul(x, c);
}

static void test_gradcheck_fails_a_wrong_gradient_and_names_the_element(void **state)
{
    (void)state;
    const int64_t s[1] = {5};
    nb_tensor *x = input(1, s, 3, 0.5, 1.5);
    nb_gradcheck_report rep;
    nb_status st = nb_gradcheck(f_wrong, NULL, &x, 1, NULL, &rep);
    assert_int_equal(st, NB_ERR_VALUE);
    assert_int_equal(rep.n_checked, 5);
    assert_int_equal(rep.n_failed, 5);
    assert_int_equal(rep.worst_input, 0);
    assert_in_range(rep.worst_index, 0, 4);
    /* The worst element's numbers: numeric is three times analytic (up to rounding). */
    assert_float_equal(rep.worst_numeric, 3 * rep.worst_analytic, 1e-6);
    char want[64];
    snprintf(want, sizeof want, "worst: input 0 index %lld", (long long)rep.worst_index);
    assert_non_null(strstr(nb_last_error(), want));
    nbt_assert_error(NB_ERR_VALUE, "nb_gradcheck: 5 of 5 gradient values differ");
    nb_tensor_free(x);
}

/* With a correct input 0 and a wrong input 1, the report blames input 1. */
static nb_tensor *f_second_wrong(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *tmp[1] = {in[1]};
    return nb_add(nb_exp(in[0]), f_wrong(tmp, 1, NULL));
}

static void test_gradcheck_report_names_the_wrong_input(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_tensor *in[2] = {input(1, s, 4, -1, 1), input(1, s, 5, 0.5, 1.5)};
    nb_gradcheck_report rep;
    nb_gradcheck_opts o = {.verbose = false};
    assert_int_equal(nb_gradcheck(f_second_wrong, NULL, in, 2, &o, &rep), NB_ERR_VALUE);
    assert_int_equal(rep.worst_input, 1);
    assert_int_equal(rep.n_failed, 3);
    assert_true(rep.max_abs_err[0] < 1e-8);
    assert_true(rep.max_abs_err[1] > 0.1);
    nbt_assert_error(NB_ERR_VALUE, "worst: input 1 index");
    /* Input 0 alone (input 1 a constant) passes. */
    nb_tensor_set_requires_grad(in[1], false);
    assert_int_equal(nb_gradcheck(f_second_wrong, NULL, in, 2, NULL, &rep), NB_OK);
    assert_int_equal(rep.n_checked, 3);
    nb_tensor_free(in[0]);
    nb_tensor_free(in[1]);
}

/* Directional mode: a few random directions over a 10k-element input. */
static nb_tensor *f_large(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_sum(nb_mul(nb_tanh(in[0]), nb_sigmoid(in[0])), 1, false);
}

static void test_gradcheck_directional_mode_on_10k_elements(void **state)
{
    (void)state;
    const int64_t s[2] = {100, 100};
    nb_tensor *x = input(2, s, 6, -2, 2);
    nb_gradcheck_opts o = {.directions = 4, .seed = 9};
    nb_gradcheck_report rep;
    assert_int_equal(nb_gradcheck(f_large, NULL, &x, 1, &o, &rep), NB_OK);
    assert_int_equal(rep.n_checked, 4);
    assert_int_equal(rep.n_failed, 0);
    /* ... and it still catches a wrong gradient. */
    assert_int_equal(nb_gradcheck(f_wrong, NULL, &x, 1, &o, &rep), NB_ERR_VALUE);
    assert_int_equal(rep.n_failed, 4);
    assert_int_equal(rep.worst_input, 0);
    nbt_assert_error(NB_ERR_VALUE, "nb_gradcheck: 4 of 4 gradient values differ");
    nb_tensor_free(x);
}

static nb_tensor *f_identity(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return in[0];
}

/* The output may be the input itself (a leaf). */
static void test_gradcheck_accepts_identity(void **state)
{
    (void)state;
    const int64_t s[1] = {4};
    nb_tensor *x = input(1, s, 7, -1, 1);
    assert_int_equal(nb_gradcheck(f_identity, NULL, &x, 1, NULL, NULL), NB_OK);
    nb_tensor_free(x);
}

static nb_tensor *f_fails(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    const int64_t s[1] = {7};
    nb_tensor *other = nb_constant(NB_F64, 1, s, 1.0);
    return nb_add(in[0], other); /* [4] + [7]: shape error */
}

static void test_gradcheck_rejects_what_it_cannot_check(void **state)
{
    (void)state;
    const int64_t s[1] = {4};
    nb_tensor *f32 = nbt_uniform(NB_F32, 1, s, 1, -1, 1);
    nb_tensor_set_requires_grad(f32, true);
    assert_int_equal(nb_gradcheck(f_identity, NULL, &f32, 1, NULL, NULL), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE,
                     "nb_gradcheck: input 0 must be a caller-owned tensor; checked inputs must "
                     "be contiguous f64");
    nb_tensor *x = input(1, s, 2, -1, 1);
    assert_int_equal(nb_gradcheck(NULL, NULL, &x, 1, NULL, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_gradcheck: need f and 1 to 16 inputs");
    assert_int_equal(nb_gradcheck(f_identity, NULL, &x, 0, NULL, NULL), NB_ERR_VALUE);
    nb_clear_error();
    /* f's own error comes back. */
    assert_int_equal(nb_gradcheck(f_fails, NULL, &x, 1, NULL, NULL), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_add: shapes do not broadcast: a is [4], b is [7]");
    /* A non-contiguous checked input. */
    const int64_t s2[2] = {3, 2};
    nb_tensor *m = nbt_uniform(NB_F64, 2, s2, 3, -1, 1), *mt = nb_transpose(m, 0, 1);
    nb_tensor_set_requires_grad(mt, true);
    assert_int_equal(nb_gradcheck(f_identity, NULL, &mt, 1, NULL, NULL), NB_ERR_DTYPE);
    nb_clear_error();
    /* Not inside a step: it runs its own. */
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_gradcheck(f_identity, NULL, &x, 1, NULL, NULL), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_gradcheck: must be called outside a step");
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor *all[] = {mt, m, x, f32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Tolerances are honoured: a tiny relative error fails a strict check and passes a loose one. */
static nb_tensor *f_slightly_off(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    /* c = 1 + 1e-4 x, read as a constant: the numeric gradient is 1 + 2e-4 x, the analytic
     * one 1 + 1e-4 x, a relative error of about 1e-4. */
    nb_tensor *x = in[0];
    nb_tensor *c = nb_constant(NB_F64, nb_tensor_ndim(x), nb_tensor_shape(x), 0.0);
    for (int64_t i = 0; i < nb_tensor_numel(x); i++)
        nb_tensor_set(c, i, 1 + 1e-4 * nb_tensor_get(x, i));
    return nb_mul(x, c);
}

static void test_gradcheck_honours_tolerances(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_tensor *x = input(1, s, 8, 1, 2);
    nb_gradcheck_opts strict = {0}, loose = {.rtol = 1e-3, .atol = 1e-3};
    assert_int_equal(nb_gradcheck(f_slightly_off, NULL, &x, 1, &strict, NULL), NB_ERR_VALUE);
    nb_clear_error();
    assert_int_equal(nb_gradcheck(f_slightly_off, NULL, &x, 1, &loose, NULL), NB_OK);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_passes_a_correct_gradient),
        cmocka_unit_test(test_gradcheck_fails_a_wrong_gradient_and_names_the_element),
        cmocka_unit_test(test_gradcheck_report_names_the_wrong_input),
        cmocka_unit_test(test_gradcheck_directional_mode_on_10k_elements),
        cmocka_unit_test(test_gradcheck_accepts_identity),
        cmocka_unit_test(test_gradcheck_rejects_what_it_cannot_check),
        cmocka_unit_test(test_gradcheck_honours_tolerances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
