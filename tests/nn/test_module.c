/* tests/nn/test_module.c — the module tree (nn/module.c) and Sequential (nn/sequential.c):
 * parameter counts, one contiguous buffer per tree, named parameters, children, freezing,
 * train/eval, custom module kinds, ownership on errors, summary. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 4 -> 3 -> ReLU -> 2 with f32 parameters. */
static nb_module *small_mlp(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *a = nb_linear_new(4, 3, true, &r);
    nb_module *b = nb_relu_new();
    nb_module *c = nb_linear_new(3, 2, true, &r);
    return nb_sequential_new(3, (nb_module *[]){a, b, c});
}

static void test_linear_counts_weights_and_biases(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_module *m = nb_linear_new(3, 2, true, &r);
    nb_module *nb = nb_linear_new(3, 2, false, &r);
    assert_int_equal(nb_module_num_params(m), 3 * 2 + 2);
    assert_int_equal(nb_module_num_params(nb), 3 * 2);
    assert_int_equal(nb_module_num_param_tensors(m), 2);
    assert_int_equal(nb_module_num_param_tensors(nb), 1);
    nb_tensor *w = nb_module_param(m, "weight"), *b = nb_module_param(m, "bias");
    assert_int_equal(nb_tensor_ndim(w), 2);
    assert_int_equal(nb_tensor_dim(w, 0), 2);
    assert_int_equal(nb_tensor_dim(w, 1), 3);
    assert_int_equal(nb_tensor_dim(b, 0), 2);
    assert_null(nb_module_param(nb, "bias"));
    assert_string_equal(nb_module_kind(m), "Linear");
    assert_string_equal(nb_module_info(m), "3 -> 2");
    nb_module_free(m);
    nb_module_free(nb);
}

static void test_sequential_params_are_views_of_one_buffer(void **state)
{
    (void)state;
    nb_module *net = small_mlp(2);
    assert_non_null(net);
    const int64_t total = (4 * 3 + 3) + (3 * 2 + 2);
    assert_int_equal(nb_module_num_params(net), total);
    nb_tensor *buf = nb_module_param_buffer(net), *gbuf = nb_module_grad_buffer(net);
    assert_int_equal(nb_tensor_numel(buf), total);
    assert_int_equal(nb_tensor_numel(gbuf), total);

    nb_named_tensor np[8];
    int n = nb_module_named_params(net, np, 8);
    assert_int_equal(n, 4);
    const char *names[4] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    const float *base = nb_tensor_data_f32(buf), *gbase = nb_tensor_data_f32(gbuf);
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        assert_string_equal(np[i].name, names[i]);
        assert_ptr_equal(nb_tensor_data_f32(np[i].tensor), base + off);
        assert_ptr_equal(nb_tensor_data_f32(nb_tensor_grad(np[i].tensor)), gbase + off);
        assert_ptr_equal(nb_module_param(net, names[i]), np[i].tensor);
        off += nb_tensor_numel(np[i].tensor);
    }
    assert_int_equal(off, total);
    /* Each child's buffer is its slice of the parent's. */
    nb_module *last = nb_module_child(net, "2");
    assert_ptr_equal(nb_tensor_data_f32(nb_module_param_buffer(last)), base + 15);
    assert_null(nb_module_param_buffer(nb_module_child(net, "1"))); /* ReLU: no parameters */
    /* Writing through the buffer changes the parameter. */
    nb_tensor_set(buf, 15, 0.25);
    assert_float_equal(nb_tensor_get(nb_module_param(net, "2.weight"), 0), 0.25, 0);
    nb_module_free(net);
}

static void test_adding_a_child_keeps_parameter_values_and_pointers(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    nb_module *lin = nb_linear_new(5, 4, true, &r);
    nb_tensor *w = nb_module_param(lin, "weight");
    nb_tensor *before = nb_tensor_copy(w);
    nb_module *seq = nb_sequential_new(0, NULL);
    assert_int_equal(nb_sequential_append(seq, nb_relu_new()), NB_OK);
    assert_int_equal(nb_sequential_append(seq, lin), NB_OK);
    assert_ptr_equal(nb_module_param(seq, "1.weight"), w); /* same tensor object */
    assert_true(nb_tensor_allclose(w, before, 0, 0));
    assert_ptr_equal(nb_module_parent(lin), seq);
    assert_string_equal(nb_module_name(lin), "1");
    nb_tensor_free(before);
    nb_module_free(lin); /* belongs to seq: ignored */
    nb_module_free(seq);
}

static void test_nested_containers_have_dotted_paths(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(4);
    nb_module *inner =
        nb_sequential_new(2, (nb_module *[]){nb_linear_new(2, 2, true, &r), nb_tanh_new()});
    nb_module *net = nb_sequential_new(
        3, (nb_module *[]){nb_linear_new(3, 2, false, &r), inner, nb_linear_new(2, 1, true, &r)});
    assert_non_null(net);
    nb_named_tensor np[8];
    assert_int_equal(nb_module_named_params(net, np, 8), 5);
    assert_string_equal(np[0].name, "0.weight");
    assert_string_equal(np[1].name, "1.0.weight");
    assert_string_equal(np[2].name, "1.0.bias");
    assert_string_equal(np[3].name, "2.weight");
    assert_ptr_equal(nb_module_child(net, "1.0"), nb_module_child_at(inner, 0));
    char path[64];
    assert_string_equal(nb_module_path(nb_module_child(net, "1.0"), path, sizeof path), "1.0");
    /* Names relative to a sub-module. */
    assert_int_equal(nb_module_named_params(inner, np, 8), 2);
    assert_string_equal(np[0].name, "0.weight");
    assert_null(nb_module_child(net, "1.5"));
    assert_null(nb_module_param(net, "1.0.nothing"));
    /* The whole tree is still one buffer. */
    const float *base = nb_tensor_data_f32(nb_module_param_buffer(net));
    assert_ptr_equal(nb_tensor_data_f32(nb_module_param(net, "1.0.weight")), base + 6);
    nb_module_free(net);
}

static void test_named_params_with_small_capacity_reports_total(void **state)
{
    (void)state;
    nb_module *net = small_mlp(5);
    nb_named_tensor one[1];
    assert_int_equal(nb_module_named_params(net, NULL, 0), 4);
    assert_int_equal(nb_module_named_params(net, one, 1), 4);
    assert_string_equal(one[0].name, "0.weight");
    nb_module_free(net);
}

static void test_sequential_forward_equals_manual_composition(void **state)
{
    (void)state;
    nb_module *net = small_mlp(6);
    nb_rng r = nb_rng_seed(7);
    int64_t xs[2] = {5, 4};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, xs, &r, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(net, x);
    nb_tensor *manual = nb_linear(
        nb_relu(nb_linear(x, nb_module_param(net, "0.weight"), nb_module_param(net, "0.bias"))),
        nb_module_param(net, "2.weight"), nb_module_param(net, "2.bias"));
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 0), 5);
    assert_int_equal(nb_tensor_dim(y, 1), 2);
    assert_true(nb_tensor_allclose(y, manual, 0, 0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_linear_rejects_wrong_input_width_naming_module_and_shapes(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_rng r = nb_rng_seed(8);
    nb_module *net = nb_sequential_new(
        2, (nb_module *[]){nb_linear_new(3, 2, true, &r), nb_linear_new(2, 1, true, &r)});
    int64_t xs[2] = {4, 5};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, xs);
    assert_null(nb_module_forward(net, x));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Linear '0' (3 -> 2): input is [4, 5], "
                                   "expected [*, 3] (weight is [2, 3])");
    /* A standalone layer has no path. */
    nb_module *lin = nb_linear_new(3, 2, true, &r);
    assert_null(nb_module_forward(lin, x));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Linear (3 -> 2): input is [4, 5]");
    nb_tensor_free(x);
    nb_module_free(lin);
    nb_module_free(net);
    nb_step_free(step_);
}

static void test_linear_accepts_leading_dims(void **state)
{
    (void)state;
    nb_step *step_ = nb_step_new();
    nb_step_begin(step_);
    nb_rng r = nb_rng_seed(9);
    nb_module *lin = nb_linear_new(4, 3, true, &r);
    int64_t xs[3] = {2, 5, 4};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 3, xs, &r, -1, 1);
    nb_tensor *y = nb_module_forward(lin, x);
    assert_non_null(y);
    assert_int_equal(nb_tensor_ndim(y), 3);
    assert_int_equal(nb_tensor_dim(y, 2), 3);
    /* Row (1, 2) equals the layer applied to that row alone (1-D input). */
    nb_tensor *row =
        nb_tensor_from_data(NB_F32, 1, (int64_t[]){4}, nb_tensor_data_f32(x) + (1 * 5 + 2) * 4);
    nb_tensor *yr = nb_module_forward(lin, row);
    assert_int_equal(nb_tensor_ndim(yr), 1);
    for (int j = 0; j < 3; j++)
        assert_float_equal(nb_tensor_get(yr, j), nb_tensor_get(y, (1 * 5 + 2) * 3 + j), 1e-6);
    nb_tensor_free(yr);
    nb_tensor_free(row);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(lin);
    nb_step_free(step_);
}

static void test_forward_propagates_null_input(void **state)
{
    (void)state;
    nb_module *net = small_mlp(10);
    nb_clear_error();
    assert_null(nb_module_forward(net, NULL));
    assert_int_equal(nb_last_status(), NB_OK); /* nothing new reported */
    nb_module_free(net);
}

static void test_sequential_new_reports_failed_constructor_and_frees_the_rest(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(11);
    nb_module *net =
        nb_sequential_new(3, (nb_module *[]){nb_linear_new(3, 2, true, &r), nb_dropout_new(1.5, 1),
                                             nb_linear_new(2, 1, true, &r)});
    assert_null(net); /* the two Linears were freed: ASan's leak check fails otherwise */
    nbt_assert_error(NB_ERR_VALUE, "nb_dropout_new: p must be in [0, 1), got 1.5");
}

static void test_add_child_rejects_a_module_that_already_has_a_parent(void **state)
{
    (void)state;
    nb_module *a = nb_sequential_new(1, (nb_module *[]){nb_relu_new()});
    nb_module *b = nb_sequential_new(0, NULL);
    nb_module *relu = nb_module_child_at(a, 0);
    assert_int_equal(nb_module_add_child(b, "x", relu), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "already belongs to a container");
    assert_ptr_equal(nb_module_parent(relu), a); /* still a's */
    nb_module_free(a);
    nb_module_free(b);
}

static void test_add_child_rejects_duplicate_names_and_frees_the_child(void **state)
{
    (void)state;
    nb_module *m = nb_module_new("Block", NB_F32, NULL, NULL, NULL);
    assert_int_equal(nb_module_add_child(m, "act", nb_relu_new()), NB_OK);
    assert_int_equal(nb_module_add_child(m, "act", nb_tanh_new()), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "child name \"act\"");
    assert_int_equal(nb_module_add_child(m, "a.b", nb_tanh_new()), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "contains '.'");
    assert_int_equal(nb_module_num_children(m), 1);
    nb_module_free(m);
}

static void test_add_param_is_refused_once_the_module_has_a_parent(void **state)
{
    (void)state;
    nb_module *m = nb_module_new("Holder", NB_F32, NULL, NULL, NULL);
    nb_module *seq = nb_sequential_new(1, (nb_module *[]){m});
    assert_null(nb_module_add_param(m, "w", 1, (int64_t[]){3}));
    nbt_assert_error(NB_ERR_STATE, "already belongs to a container");
    nb_module_free(seq);
}

static void test_add_child_rejects_mixed_parameter_dtypes(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(12);
    nb_module *seq = nb_sequential_new(1, (nb_module *[]){nb_linear_new(2, 2, true, &r)});
    assert_int_equal(nb_sequential_append(seq, nb_linear_new_ex(2, 2, true, &r, NB_F64)),
                     NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "Sequential has f32 parameters, child Linear \"1\" has f64");
    /* A container of f64 layers is f64. */
    nb_module *s64 =
        nb_sequential_new(1, (nb_module *[]){nb_linear_new_ex(2, 2, true, &r, NB_F64)});
    assert_int_equal(nb_module_dtype(s64), NB_F64);
    assert_non_null(nb_tensor_data_f64(nb_module_param_buffer(s64)));
    nb_module_free(s64);
    nb_module_free(seq);
}

static void test_module_new_rejects_bad_kind_and_dtype_and_frees_user_data(void **state)
{
    (void)state;
    assert_null(nb_module_new("", NB_F32, NULL, nb_malloc(8), nb_free));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_new: kind must be");
    assert_null(nb_module_new("Ids", NB_I64, NULL, nb_malloc(8), nb_free));
    nbt_assert_error(NB_ERR_DTYPE, "parameters must be f32 or f64, got i64");
}

static void test_module_without_forward_reports_state_error(void **state)
{
    (void)state;
    nb_module *m = nb_module_new("Holder", NB_F32, NULL, NULL, NULL);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 1, (int64_t[]){2});
    assert_null(nb_module_forward(m, x));
    nbt_assert_error(NB_ERR_STATE, "nb_module_forward: Holder: this module has no forward");
    nb_tensor_free(x);
    nb_module_free(m);
}

static void test_zero_grad_clears_every_gradient(void **state)
{
    (void)state;
    nb_module *net = small_mlp(13);
    nb_rng r = nb_rng_seed(14);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){6, 4}, &r, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_module_forward(net, x))), NB_OK);
    nb_step_end(step);
    nb_tensor *g = nb_module_grad_buffer(net);
    double norm = 0;
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        norm += fabs(nb_tensor_get(g, i));
    assert_true(norm > 0);
    nb_module_zero_grad(net);
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        assert_float_equal(nb_tensor_get(g, i), 0.0, 0);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_frozen_layers_get_no_gradient(void **state)
{
    (void)state;
    nb_module *net = small_mlp(15);
    nb_module *body = nb_module_child(net, "0");
    assert_int_equal(nb_module_set_requires_grad(body, false), NB_OK);
    assert_int_equal(nb_module_num_trainable_params(net), 3 * 2 + 2);
    assert_int_equal(nb_module_num_params(net), 23);
    nb_rng r = nb_rng_seed(16);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){6, 4}, &r, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_module_forward(net, x))), NB_OK);
    nb_step_end(step);
    nb_tensor *gb = nb_tensor_grad(nb_module_param(net, "0.weight"));
    nb_tensor *gh = nb_tensor_grad(nb_module_param(net, "2.bias"));
    for (int64_t i = 0; i < nb_tensor_numel(gb); i++)
        assert_float_equal(nb_tensor_get(gb, i), 0.0, 0);
    /* d sum(y) / d bias = batch size for every output. */
    assert_float_equal(nb_tensor_get(gh, 0), 6.0, 1e-6);
    assert_float_equal(nb_tensor_get(gh, 1), 6.0, 1e-6);
    /* Unfreezing restores training. */
    assert_int_equal(nb_module_set_requires_grad(net, true), NB_OK);
    assert_int_equal(nb_module_num_trainable_params(net), 23);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_train_and_eval_reach_every_descendant(void **state)
{
    (void)state;
    nb_module *inner = nb_sequential_new(1, (nb_module *[]){nb_dropout_new(0.5, 1)});
    nb_module *net = nb_sequential_new(2, (nb_module *[]){nb_relu_new(), inner});
    nb_module *drop = nb_module_child(net, "1.0");
    assert_true(nb_module_is_training(drop));
    nb_module_train(net, false);
    assert_false(nb_module_is_training(net));
    assert_false(nb_module_is_training(drop));
    nb_module_train(net, true);
    assert_true(nb_module_is_training(drop));
    nb_module_free(net);
}

/* The custom kind from nn.h's header comment: y = scale * x * w + b. */
typedef struct {
    double scale;
} affine_cfg;

static nb_tensor *affine_forward(nb_module *m, nb_tensor *x)
{
    const affine_cfg *cfg = nb_module_user_data(m);
    nb_tensor *w = nb_module_param(m, "weight"), *b = nb_module_param(m, "bias");
    if (nb_tensor_dim(x, -1) != nb_tensor_dim(w, 0)) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [*, %lld]",
                        nb_tensor_shape_str(x, got, sizeof got), (long long)nb_tensor_dim(w, 0));
        return NULL;
    }
    return nb_add(nb_mul_scalar(nb_mul(x, w), cfg->scale), b);
}

static nb_module *affine_new(int64_t n, double scale, nb_dtype dtype)
{
    affine_cfg *cfg = nb_malloc(sizeof *cfg);
    if (!cfg)
        return NULL;
    cfg->scale = scale;
    nb_module *m = nb_module_new("Affine", dtype, affine_forward, cfg, nb_free);
    if (!m)
        return NULL;
    nb_tensor *w = nb_module_add_param(m, "weight", 1, (int64_t[]){n});
    nb_tensor *b = nb_module_add_param(m, "bias", 1, (int64_t[]){n});
    if (!w || !b || nb_init_constant(w, 1.0) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "n=%lld", (long long)n);
    return m;
}

static void test_custom_module_kind_works_like_a_builtin(void **state)
{
    (void)state;
    nb_module *aff = affine_new(3, 2.0, NB_F32);
    assert_non_null(aff);
    /* Parameters added one after another stay in one buffer with their values. */
    nb_tensor *w = nb_module_param(aff, "weight"), *b = nb_module_param(aff, "bias");
    assert_ptr_equal(nb_tensor_data_f32(b), nb_tensor_data_f32(w) + 3);
    assert_float_equal(nb_tensor_get(w, 2), 1.0, 0);
    nb_tensor_fill(b, 0.5);
    nb_module *net = nb_sequential_new(2, (nb_module *[]){aff, nb_relu_new()});
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){1, 3}, (float[]){1, -2, 3});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(net, x);
    assert_float_equal(nb_tensor_get(y, 0), 2.5, 1e-6);
    assert_float_equal(nb_tensor_get(y, 1), 0.0, 1e-6);
    assert_float_equal(nb_tensor_get(y, 2), 6.5, 1e-6);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    /* dy/dw = 2x where relu passes, 0 elsewhere. */
    assert_float_equal(nb_tensor_get(nb_tensor_grad(w), 0), 2.0, 1e-6);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(w), 1), 0.0, 1e-6);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(w), 2), 6.0, 1e-6);
    nb_step_end(step);
    nb_tensor *bad = nb_tensor_zeros(NB_F32, 2, (int64_t[]){1, 4});
    assert_null(nb_module_forward(net, bad));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Affine '0' (n=3): input is [1, 4], "
                                   "expected [*, 3]");
    nb_tensor_free(bad);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_add_param_rejects_duplicates_and_bad_shapes(void **state)
{
    (void)state;
    nb_module *m = nb_module_new("Holder", NB_F64, NULL, NULL, NULL);
    assert_non_null(nb_module_add_param(m, "w", 2, (int64_t[]){2, 3}));
    assert_null(nb_module_add_param(m, "w", 1, (int64_t[]){3}));
    nbt_assert_error(NB_ERR_VALUE, "parameter name \"w\"");
    assert_null(nb_module_add_param(m, "v", 1, (int64_t[]){-3}));
    nbt_assert_error(NB_ERR_SHAPE, "Holder.v: dim 0 is -3");
    assert_null(nb_module_add_param(m, "u", NB_MAX_DIMS + 1, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "ndim must be in [0, 8]");
    assert_int_equal(nb_module_num_params(m), 6);
    nb_module_free(m);
}

/* Every allocation made while building a network can fail: the constructors must report it and
 * leak nothing (the sanitizer build checks leaks). */
static void test_building_a_network_survives_every_failing_allocation(void **state)
{
    (void)state;
    long before = nb_debug_alloc_count();
    nb_module *ok = small_mlp(17);
    long needed = nb_debug_alloc_count() - before;
    nb_module_free(ok);
    assert_true(needed > 10);
    for (long k = 1; k <= needed; k++) {
        nb_clear_error();
        nb_debug_fail_alloc_after(k);
        nb_module *net = small_mlp(17);
        nb_debug_fail_alloc_after(0);
        if (net) {
            assert_int_equal(nb_module_num_params(net), 23);
            nb_module_free(net);
        } else {
            assert_int_equal(nb_last_status(), NB_ERR_NOMEM);
        }
    }
    nb_clear_error();
}

static void test_summary_lists_layers_and_total(void **state)
{
    (void)state;
    nb_module *net = small_mlp(18);
    nb_module_set_requires_grad(nb_module_child(net, "0"), false);
    static char text[4096];
    FILE *f = tmpfile();
    assert_non_null(f);
    nb_module_summary(net, f);
    rewind(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "Linear(4 -> 3)"));
    assert_non_null(strstr(text, "ReLU"));
    assert_non_null(strstr(text, "weight [2, 3], bias [2]"));
    assert_non_null(strstr(text, "weight [3, 4] (frozen)"));
    assert_non_null(strstr(text, "total parameters: 23 (trainable: 8, f32)"));
    nb_module_free(net);
}

static void test_lookups_of_missing_names_say_what_exists(void **state)
{
    (void)state;
    nb_module *net = small_mlp(9);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 4});
    nb_clear_error();
    assert_null(nb_module_child(net, "nope"));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_module_child: Sequential has no child \"nope\"; it has children 0, 1, 2");
    /* forwarding the NULL keeps the lookup's message, with or without a step */
    assert_null(nb_module_forward(nb_module_child(net, "nope"), x));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_child: Sequential has no child \"nope\"");
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_module_forward(nb_module_child(net, "3"), x));
    nbt_assert_error(NB_ERR_VALUE, "has no child \"3\"; it has children 0, 1, 2");
    nb_step_end(step);
    nb_step_free(step);

    assert_null(nb_module_child(net, "0.weight"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_child: Sequential has no child \"0.weight\"; "
                                   "Linear '0' (4 -> 3) has parameters weight, bias");
    assert_null(nb_module_param(net, "0.bia"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_param: Sequential has no parameter \"0.bia\"; "
                                   "Linear '0' (4 -> 3) has parameters weight, bias");
    assert_null(nb_module_param(net, "7.weight"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_param: Sequential has no parameter \"7.weight\"; "
                                   "it has children 0, 1, 2");
    assert_null(nb_module_param(nb_module_child(net, "1"), "weight"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_param: ReLU '1' has no parameter \"weight\"; it "
                                   "has no parameters, buffers or children");
    nb_module *bn = nb_batch_norm1d_new(2, &(nb_norm_layer_opts){.no_affine = true});
    assert_null(nb_module_buffer(bn, "running_men"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_buffer: BatchNorm1d (2, eps 1e-05, momentum 0.1, "
                                   "no affine) has no buffer \"running_men\"; it has buffers "
                                   "running_mean, running_var");
    assert_null(nb_module_param(NULL, "weight"));
    nbt_assert_error(NB_ERR_VALUE, "nb_module_param: module is NULL");

    /* probes set no error; "" is the module itself */
    assert_false(nb_module_has_child(net, "nope"));
    assert_false(nb_module_has_param(net, "1.weight"));
    assert_true(nb_module_has_param(net, "2.bias"));
    assert_true(nb_module_has_child(net, "2"));
    assert_ptr_equal(nb_module_child(net, ""), net);
    assert_int_equal(nb_last_status(), NB_OK);
    nb_module_free(bn);
    nb_tensor_free(x);
    nb_module_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_counts_weights_and_biases),
        cmocka_unit_test(test_sequential_params_are_views_of_one_buffer),
        cmocka_unit_test(test_adding_a_child_keeps_parameter_values_and_pointers),
        cmocka_unit_test(test_nested_containers_have_dotted_paths),
        cmocka_unit_test(test_named_params_with_small_capacity_reports_total),
        cmocka_unit_test(test_sequential_forward_equals_manual_composition),
        cmocka_unit_test(test_linear_rejects_wrong_input_width_naming_module_and_shapes),
        cmocka_unit_test(test_linear_accepts_leading_dims),
        cmocka_unit_test(test_forward_propagates_null_input),
        cmocka_unit_test(test_sequential_new_reports_failed_constructor_and_frees_the_rest),
        cmocka_unit_test(test_add_child_rejects_a_module_that_already_has_a_parent),
        cmocka_unit_test(test_add_child_rejects_duplicate_names_and_frees_the_child),
        cmocka_unit_test(test_add_param_is_refused_once_the_module_has_a_parent),
        cmocka_unit_test(test_add_child_rejects_mixed_parameter_dtypes),
        cmocka_unit_test(test_module_new_rejects_bad_kind_and_dtype_and_frees_user_data),
        cmocka_unit_test(test_module_without_forward_reports_state_error),
        cmocka_unit_test(test_zero_grad_clears_every_gradient),
        cmocka_unit_test(test_frozen_layers_get_no_gradient),
        cmocka_unit_test(test_train_and_eval_reach_every_descendant),
        cmocka_unit_test(test_custom_module_kind_works_like_a_builtin),
        cmocka_unit_test(test_add_param_rejects_duplicates_and_bad_shapes),
        cmocka_unit_test(test_building_a_network_survives_every_failing_allocation),
        cmocka_unit_test(test_summary_lists_layers_and_total),
        cmocka_unit_test(test_lookups_of_missing_names_say_what_exists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
