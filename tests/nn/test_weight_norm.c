/* tests/nn/test_weight_norm.c — nb_weight_norm (nn/weight_norm.c): values and gradients
 * against PyTorch's torch.nn.utils.weight_norm (fixtures from scripts/golden_weight_norm.py in
 * tests/nn/golden/), float64 gradient checks of g and v through a layer, the reparameterised
 * weight outside a step, parameter names, training, and errors. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nabla/conv_layers.h"
#include "nabla/io.h"

/* tests/nn/golden/weight_norm_<c>_<a>.npy, next to this file. */
static nb_tensor *golden(const char *c, const char *a)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(path, sizeof path, "%s/golden/weight_norm_%s_%s.npy", slash ? dir : ".", c, a);
    nb_tensor *t = nb_npy_load(path);
    if (!t)
        fail_msg("%s: %s", path, nb_last_error());
    return t;
}

static void copy_values(nb_tensor *dst, const nb_tensor *src)
{
    assert_int_equal(nb_tensor_numel(dst), nb_tensor_numel(src));
    for (int64_t i = 0; i < nb_tensor_numel(src); i++)
        nb_tensor_set(dst, i, nb_tensor_get(src, i));
}

static void assert_close(const nb_tensor *t, const nb_tensor *ref, double tol)
{
    assert_int_equal(nb_tensor_numel(t), nb_tensor_numel(ref));
    for (int64_t i = 0; i < nb_tensor_numel(ref); i++) {
        const double a = nb_tensor_get(t, i), b = nb_tensor_get(ref, i);
        if (!(fabs(a - b) <= tol * fmax(1.0, fabs(b))))
            fail_msg("element %lld: %.17g, expected %.17g", (long long)i, a, b);
    }
}

/* A float64 layer for case c: Linear 3 -> 4 or Conv2d 2 -> 3, 3x3, pad 1. */
static nb_module *golden_layer(const char *c)
{
    nb_rng r = nb_rng_seed(1);
    if (!strncmp(c, "conv", 4))
        return nb_conv2d_new(2, 3, 3, 3,
                             &(nb_conv_layer_opts){.conv = {.padding = NB_PAD_EXPLICIT,
                                                            .pad_top = 1,
                                                            .pad_bottom = 1,
                                                            .pad_left = 1,
                                                            .pad_right = 1},
                                                   .dtype = NB_F64},
                             &r);
    return nb_linear_new_ex(3, 4, true, &r, NB_F64);
}

static void check_against_pytorch(const char *c, int dim)
{
    nb_module *m = golden_layer(c);
    assert_non_null(m);
    nb_tensor *w = golden(c, "w"), *b = golden(c, "b");
    copy_values(nb_module_param(m, "weight"), w);
    copy_values(nb_module_param(m, "bias"), b);
    m = nb_weight_norm(m, "weight", dim);
    assert_non_null(m);
    nb_tensor *g = nb_module_param(m, "weight_g"), *v = nb_module_param(m, "weight_v");
    nb_tensor *gref = golden(c, "g");
    assert_int_equal(nb_tensor_ndim(g), nb_tensor_ndim(gref));
    for (int d = 0; d < nb_tensor_ndim(g); d++)
        assert_int_equal(nb_tensor_dim(g, d), nb_tensor_dim(gref, d));
    assert_close(g, gref, 1e-12);
    assert_close(v, w, 0.0);
    /* the recomputed weight equals the original one */
    assert_close(nb_module_param(m, "weight"), w, 1e-12);
    /* the same move away from the initial point as the script */
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        nb_tensor_set(g, i, 1.5 * nb_tensor_get(g, i));
    for (int64_t i = 0; i < nb_tensor_numel(v); i++)
        nb_tensor_set(v, i, nb_tensor_get(v, i) + 0.25);

    nb_tensor *x = golden(c, "x"), *dy = golden(c, "dy");
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    nb_module_zero_grad(m);
    nb_tensor *y = nb_module_forward(m, x);
    assert_non_null(y);
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, dy))), NB_OK);
    nb_tensor *yref = golden(c, "y"), *dg = golden(c, "dg"), *dv = golden(c, "dv"),
              *db = golden(c, "db"), *dx = golden(c, "dx");
    assert_close(y, yref, 1e-10);
    assert_close(nb_tensor_grad(g), dg, 1e-10);
    assert_close(nb_tensor_grad(v), dv, 1e-10);
    assert_close(nb_tensor_grad(nb_module_param(m, "bias")), db, 1e-10);
    assert_close(nb_tensor_grad(x), dx, 1e-10);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor *all[] = {w, b, gref, x, dy, yref, dg, dv, db, dx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
    nb_module_free(m);
}

static void test_linear_dim0_matches_pytorch(void **state)
{
    (void)state;
    check_against_pytorch("linear_dim0", 0);
}

static void test_linear_dim1_matches_pytorch(void **state)
{
    (void)state;
    check_against_pytorch("linear_dim1", 1);
}

static void test_whole_tensor_norm_matches_pytorch_dim_none(void **state)
{
    (void)state;
    check_against_pytorch("linear_all", -1);
}

static void test_conv2d_dim0_matches_pytorch(void **state)
{
    (void)state;
    check_against_pytorch("conv_dim0", 0);
}

/* Gradient check: the module's parameters are the inputs (in[0] = g, in[1] = v, in[2] = x). */
static nb_tensor *through_module(nb_tensor *const *in, int n_in, void *user)
{
    (void)n_in;
    (void)in;
    nb_module *m = user;
    return nb_module_forward(m, in[2]);
}

/* The same function written out: x @ (g * v / ||v||_rows)^T + b. */
static nb_tensor *composition(nb_tensor *const *in, int n_in, void *user)
{
    (void)n_in;
    nb_tensor *b = user;
    nb_tensor *norm = nb_sqrt(nb_sum_axes(nb_mul(in[1], in[1]), 1, (int[]){1}, true));
    return nb_linear(in[2], nb_mul(in[0], nb_div(in[1], norm)), b);
}

static void test_gradcheck_float64_through_the_layer_and_as_composition(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    nb_module *m = nb_weight_norm(nb_linear_new_ex(3, 4, true, &r, NB_F64), "weight", 0);
    assert_non_null(m);
    nb_tensor *g = nb_module_param(m, "weight_g"), *v = nb_module_param(m, "weight_v");
    for (int64_t i = 0; i < 4; i++) /* g away from ||v||, so both paths matter */
        nb_tensor_set(g, i, 0.5 + 0.3 * (double)i);
    nb_tensor *x = nbt_uniform(NB_F64, NB_SHAPE(5, 3), 6, -1.0, 1.0);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *in[3] = {g, v, x};
    assert_int_equal(nbt_check_tensors(through_module, m, in, 3), NB_OK);
    assert_int_equal(nbt_check_tensors(composition, nb_module_param(m, "bias"), in, 3), NB_OK);

    /* and the module's gradients equal the written-out composition's */
    nb_step *step = nb_step_new();
    double grads[2][12 + 4];
    for (int k = 0; k < 2; k++) {
        nb_step_begin(step);
        nb_module_zero_grad(m);
        nb_tensor *y =
            k == 0 ? through_module(in, 3, m) : composition(in, 3, nb_module_param(m, "bias"));
        assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, y))), NB_OK);
        for (int i = 0; i < 4; i++)
            grads[k][i] = nb_tensor_get(nb_tensor_grad(g), i);
        for (int i = 0; i < 12; i++)
            grads[k][4 + i] = nb_tensor_get(nb_tensor_grad(v), i);
        nb_step_end(step);
    }
    for (int i = 0; i < 16; i++)
        assert_true(fabs(grads[0][i] - grads[1][i]) <= 1e-12 * fmax(1.0, fabs(grads[1][i])));
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(m);
}

static void test_parameters_are_renamed_and_the_weight_stays_readable(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(7);
    nb_module *m = nb_weight_norm(nb_linear_new(3, 2, true, &r), "weight", 0);
    assert_non_null(m);
    nb_named_tensor np[4];
    assert_int_equal(nb_module_named_params(m, np, 4), 3);
    assert_string_equal(np[0].name, "weight_v");
    assert_string_equal(np[1].name, "bias");
    assert_string_equal(np[2].name, "weight_g");
    assert_int_equal(nb_tensor_dim(np[2].tensor, 0), 2);
    assert_int_equal(nb_tensor_dim(np[2].tensor, 1), 1);
    assert_int_equal(nb_module_num_params(m), 6 + 2 + 2);
    assert_true(nb_module_has_param(m, "weight"));
    /* outside a step: a module-owned snapshot that follows g */
    nb_tensor *w = nb_module_param(m, "weight");
    assert_non_null(w);
    const double w00 = nb_tensor_get(w, 0);
    nb_tensor_set(np[2].tensor, 0, 2.0 * nb_tensor_get(np[2].tensor, 0));
    assert_ptr_equal(nb_module_param(m, "weight"), w);
    assert_true(fabs(nb_tensor_get(w, 0) - 2.0 * w00) <= 1e-6 * fabs(w00));
    assert_false(nb_tensor_requires_grad(w));
    /* inside a container, by path */
    nb_module *net = nb_sequential_new(2, (nb_module *[]){m, nb_relu_new()});
    assert_non_null(net);
    assert_true(nb_module_has_param(net, "0.weight"));
    assert_non_null(nb_module_param(net, "0.weight"));
    nb_module_free(net);
}

static void test_training_with_weight_norm_lowers_the_loss(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(8);
    nb_module *net = nb_sequential_new(
        3,
        (nb_module *[]){nb_weight_norm(nb_linear_new(2, 8, true, &r), "weight", 0), nb_tanh_new(),
                        nb_weight_norm(nb_linear_new(8, 1, true, &r), "weight", 0)});
    assert_non_null(net);
    nb_tensor *x = nbt_uniform(NB_F32, NB_SHAPE(16, 2), 9, -1.0, 1.0);
    nb_tensor *y = nb_tensor_new(NB_F32, NB_SHAPE(16, 1));
    for (int i = 0; i < 16; i++)
        nb_tensor_set(y, i, nb_tensor_get(x, 2 * i) * nb_tensor_get(x, 2 * i + 1));
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = 0.02;
    nb_optim *o = nb_adam_new(net, &ao);
    nb_step *step = nb_step_new();
    double first = 0, last = 0;
    for (int t = 0; t < 300; t++) {
        nb_step_begin(step);
        nb_optim_zero_grad(o);
        nb_tensor *l = nb_mse(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
        assert_non_null(l);
        last = nb_tensor_get(l, 0);
        first = t == 0 ? last : first;
        assert_int_equal(nb_backward(l), NB_OK);
        assert_int_equal(nb_optim_update(o), NB_OK);
        nb_step_end(step);
    }
    assert_true(last < 0.1 * first);
    nb_step_free(step);
    nb_optim_free(o);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_module_free(net);
}

static void test_errors_name_the_function_and_values(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(10);
    assert_null(nb_weight_norm(NULL, "weight", 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_weight_norm: module is NULL");
    assert_null(nb_weight_norm(nb_linear_new(3, 2, true, &r), "wieght", 0));
    nbt_assert_error(NB_ERR_VALUE, "has no parameter \"wieght\"; it has parameters weight, bias");
    assert_null(nb_weight_norm(nb_linear_new(3, 2, true, &r), "weight", 2));
    nbt_assert_error(NB_ERR_VALUE, "nb_weight_norm: Linear.weight is 2-D: dim must be in [-1, 1], "
                                   "got 2");
    assert_null(nb_weight_norm(nb_linear_new(3, 2, true, &r), NULL, 0));
    nbt_assert_error(NB_ERR_VALUE, "parameter name \"(NULL)\"");
    /* twice on the same name: the weight is computed now */
    assert_null(
        nb_weight_norm(nb_weight_norm(nb_linear_new(3, 2, true, &r), "weight", 0), "weight", 0));
    nbt_assert_error(NB_ERR_VALUE, "\"weight\" is not a parameter of the module itself");
    /* a layer already inside a container is not freed */
    nb_module *net = nb_sequential_new(1, (nb_module *[]){nb_linear_new(3, 2, true, &r)});
    assert_null(nb_weight_norm(nb_module_child(net, "0"), "weight", 0));
    nbt_assert_error(NB_ERR_STATE, "Linear '0' already belongs to a container");
    assert_null(nb_weight_norm(net, "0.weight", 0));
    nbt_assert_error(NB_ERR_VALUE, "\"0.weight\" is not a parameter of the module itself");
    /* a failed constructor's message is kept */
    assert_null(nb_weight_norm(nb_linear_new(0, 2, true, &r), "weight", 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_linear_new: need n_in, n_out >= 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_dim0_matches_pytorch),
        cmocka_unit_test(test_linear_dim1_matches_pytorch),
        cmocka_unit_test(test_whole_tensor_norm_matches_pytorch_dim_none),
        cmocka_unit_test(test_conv2d_dim0_matches_pytorch),
        cmocka_unit_test(test_gradcheck_float64_through_the_layer_and_as_composition),
        cmocka_unit_test(test_parameters_are_renamed_and_the_weight_stays_readable),
        cmocka_unit_test(test_training_with_weight_norm_lowers_the_loss),
        cmocka_unit_test(test_errors_name_the_function_and_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
