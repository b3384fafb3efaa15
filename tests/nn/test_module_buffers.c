/* tests/nn/test_module_buffers.c — module buffers (non-trainable named state, nn.h): the API,
 * BatchNorm's running statistics as buffers that optimizers do not see, and checkpoints that
 * carry them, so a CNN with BatchNorm (or InstanceNorm with running statistics) evaluates bit
 * for bit the same after save and load. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static nb_tensor *counter_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *calls = nb_module_buffer(m, "calls");
    nb_tensor_set(calls, 0, nb_tensor_get(calls, 0) + 1);
    return x;
}

/* A module kind with one parameter and two buffers. */
static nb_module *counter_new(void)
{
    nb_module *m = nb_module_new("Counter", NB_F32, counter_forward, NULL, NULL);
    assert_non_null(m);
    assert_non_null(nb_module_add_param(m, "scale", 1, (int64_t[]){2}));
    nb_tensor *calls = nb_module_add_buffer(m, "calls", NB_I64, 1, (int64_t[]){1});
    nb_tensor *avg = nb_module_add_buffer(m, "avg", NB_F64, 2, (int64_t[]){2, 3});
    assert_non_null(calls);
    assert_non_null(avg);
    return m;
}

static void test_buffers_are_named_owned_and_not_parameters(void **state)
{
    (void)state;
    nb_module *c = counter_new();
    nb_tensor *avg = nb_module_buffer(c, "avg");
    assert_int_equal(nb_tensor_dtype(avg), NB_F64);
    assert_int_equal(nb_tensor_numel(avg), 6);
    assert_float_equal(nb_tensor_get(avg, 5), 0.0, 0);
    assert_false(nb_tensor_requires_grad(avg));
    assert_null(nb_tensor_grad(avg));
    assert_int_equal(nb_module_num_params(c), 2);
    assert_int_equal(nb_module_num_param_tensors(c), 1);
    nb_tensor_set(avg, 4, 1.5);

    /* names are unique among parameters, buffers and children */
    nb_clear_error();
    assert_null(nb_module_add_buffer(c, "scale", NB_F32, 0, NULL));
    nbt_assert_error(NB_ERR_VALUE, "buffer name \"scale\"");
    nb_clear_error();
    assert_null(nb_module_add_param(c, "avg", 0, NULL));
    nbt_assert_error(NB_ERR_VALUE, "parameter name \"avg\"");
    nb_clear_error();
    assert_null(nb_module_add_buffer(c, "b", (nb_dtype)7, 0, NULL));
    nbt_assert_error(NB_ERR_DTYPE, "nb_module_add_buffer: Counter.b: buffers are f32, f64 or i64");

    nb_rng r = nb_rng_seed(1);
    nb_module *net = nb_sequential_new(2, (nb_module *[]){nb_linear_new(2, 2, true, &r), c});
    assert_non_null(net);
    nb_clear_error();
    assert_null(nb_module_add_buffer(c, "late", NB_F32, 0, NULL));
    nbt_assert_error(NB_ERR_STATE, "add buffers before adding it as a child");

    nb_named_tensor nb[4];
    assert_int_equal(nb_module_named_buffers(net, NULL, 0), 2);
    assert_int_equal(nb_module_named_buffers(net, nb, 4), 2);
    assert_string_equal(nb[0].name, "1.calls");
    assert_string_equal(nb[1].name, "1.avg");
    assert_ptr_equal(nb[1].tensor, avg); /* buffers never move */
    assert_float_equal(nb_tensor_get(avg, 4), 1.5, 0);
    assert_ptr_equal(nb_module_buffer(net, "1.avg"), avg);
    assert_true(nb_module_has_buffer(net, "1.calls"));
    assert_false(nb_module_has_buffer(net, "1.scale"));
    assert_false(nb_module_has_param(net, "1.avg"));
    nb_named_tensor np[4];
    assert_int_equal(nb_module_named_params(net, np, 4), 3); /* 0.weight, 0.bias, 1.scale */
    for (int i = 0; i < 3; i++)
        assert_null(strstr(np[i].name, "avg"));

    /* the forward updates its buffer, inside or outside a step */
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){1, 2});
    nb_tensor *y = nb_module_forward(net, x);
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(nb_module_buffer(net, "1.calls"), 0), 1.0, 0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_batch_norm_statistics_are_buffers_optimizers_do_not_see(void **state)
{
    (void)state;
    nb_module *bn = nb_batch_norm2d_new(3, NULL);
    assert_non_null(bn);
    nb_named_tensor b[4];
    assert_int_equal(nb_module_named_buffers(bn, b, 4), 2);
    assert_string_equal(b[0].name, "running_mean");
    assert_string_equal(b[1].name, "running_var");
    assert_ptr_equal(b[0].tensor, nb_batch_norm_running_mean(bn));
    assert_ptr_equal(b[1].tensor, nb_batch_norm_running_var(bn));
    assert_float_equal(nb_tensor_get(b[1].tensor, 2), 1.0, 0);
    assert_int_equal(nb_module_num_params(bn), 6);

    nb_optim *opt = nb_adam_new(bn, NULL);
    assert_non_null(opt);
    assert_int_equal(nb_optim_num_params(opt), 2);
    nb_named_tensor s[16];
    int n = nb_optim_named_state(opt, s, 16);
    assert_true(n > 0 && n <= 16);
    for (int i = 0; i < n; i++)
        assert_null(strstr(s[i].name, "running"));
    nb_optim_free(opt);
    nb_module_free(bn);
}

/* conv -> BatchNorm2d -> ReLU -> max pool -> flatten -> linear; the seed sets the weights. */
static nb_module *cnn(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_sequential_new(6, (nb_module *[]){nb_conv2d_new(2, 4, 3, 3, NULL, &r),
                                                nb_batch_norm2d_new(4, NULL), nb_relu_new(),
                                                nb_max_pool2d_new(2, 2, NULL), nb_flatten_new(),
                                                nb_linear_new(4 * 2 * 2, 3, true, &r)});
}

static void test_cnn_with_batch_norm_evaluates_the_same_after_save_and_load(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 4, (int64_t[]){8, 2, 6, 6}, &r, -1, 2);
    nb_tensor *labels = nb_tensor_zeros(NB_I64, 1, (int64_t[]){8});
    for (int i = 0; i < 8; i++)
        nb_tensor_set(labels, i, i % 3);
    nb_module *net = cnn(1);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = 0.1;
    so.momentum = 0.9;
    nb_optim *opt = nb_sgd_new(net, &so);
    assert_non_null(opt);
    nb_step *step = nb_step_new();
    for (int t = 0; t < 5; t++) {
        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), labels, NB_REDUCE_MEAN);
        assert_non_null(loss);
        assert_int_equal(nb_backward(loss), NB_OK);
        assert_int_equal(nb_optim_update(opt), NB_OK);
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_module_train(net, false);
    nb_tensor *before = nb_module_forward(net, x);
    assert_non_null(before);
    /* training moved the running statistics away from their initial 0 / 1 */
    assert_true(fabs(nb_tensor_get(nb_module_buffer(net, "1.running_mean"), 0)) > 1e-3);

    const char *path = nbt_tmp_path("bn_cnn");
    assert_int_equal(nb_checkpoint_save_model(path, net, opt), NB_OK);
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert_non_null(toc);
    bool has_mean = false, has_var = false;
    for (int64_t i = 0; i < toc->count; i++) {
        has_mean |= !strcmp(toc->entries[i].name, "model.1.running_mean");
        has_var |= !strcmp(toc->entries[i].name, "model.1.running_var");
    }
    assert_true(has_mean && has_var);
    nb_checkpoint_toc_free(toc);

    nb_module *fresh = cnn(2); /* other weights, initial statistics */
    nb_optim *fresh_opt = nb_sgd_new(fresh, &so);
    assert_int_equal(nb_checkpoint_load_model(path, fresh, fresh_opt), NB_OK);
    nb_module_train(fresh, false);
    nb_tensor *after = nb_module_forward(fresh, x);
    assert_non_null(after);
    assert_true(nb_tensor_allclose(after, before, 0, 0));
    assert_true(nb_tensor_allclose(nb_module_buffer(fresh, "1.running_var"),
                                   nb_module_buffer(net, "1.running_var"), 0, 0));

    nb_tensor_free(after);
    nb_tensor_free(before);
    nb_optim_free(fresh_opt);
    nb_module_free(fresh);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_tensor_free(labels);
    nb_tensor_free(x);
    remove(path);
}

/* conv -> InstanceNorm2d (affine, running statistics) -> ReLU; the seed sets the conv. */
static nb_module *cnn_instance_norm(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    const nb_norm_layer_opts in = {.affine = true, .track_running_stats = true, .momentum = 0.2};
    return nb_sequential_new(3, (nb_module *[]){nb_conv2d_new(2, 3, 3, 3, NULL, &r),
                                                nb_instance_norm2d_new(3, &in), nb_relu_new()});
}

static void test_instance_norm_running_stats_survive_save_and_load(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(9);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 4, (int64_t[]){4, 2, 6, 6}, &r, -1, 2);
    nb_module *net = cnn_instance_norm(1);
    assert_non_null(net);
    nb_tensor_fill(nb_module_param(net, "1.weight"), 1.5);
    nb_tensor_fill(nb_module_param(net, "1.bias"), -0.25);
    for (int t = 0; t < 3; t++) { /* training forwards move the running statistics */
        nb_tensor *y = nb_module_forward(net, x);
        assert_non_null(y);
        nb_tensor_free(y);
    }
    assert_true(fabs(nb_tensor_get(nb_module_buffer(net, "1.running_mean"), 0)) > 1e-3);
    assert_true(fabs(nb_tensor_get(nb_module_buffer(net, "1.running_var"), 1) - 1) > 1e-3);
    nb_module_train(net, false);
    nb_tensor *before = nb_module_forward(net, x);
    assert_non_null(before);

    const char *path = nbt_tmp_path("in_cnn");
    assert_int_equal(nb_checkpoint_save_model(path, net, NULL), NB_OK);
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert_non_null(toc);
    bool has_mean = false, has_var = false;
    for (int64_t i = 0; i < toc->count; i++) {
        has_mean |= !strcmp(toc->entries[i].name, "model.1.running_mean");
        has_var |= !strcmp(toc->entries[i].name, "model.1.running_var");
    }
    assert_true(has_mean && has_var);
    nb_checkpoint_toc_free(toc);

    nb_module *fresh = cnn_instance_norm(2); /* other weights, initial statistics */
    assert_int_equal(nb_checkpoint_load_model(path, fresh, NULL), NB_OK);
    nb_module_train(fresh, false);
    nb_tensor *after = nb_module_forward(fresh, x);
    assert_non_null(after);
    assert_true(nb_tensor_allclose(after, before, 0, 0));
    assert_true(nb_tensor_allclose(nb_module_buffer(fresh, "1.running_mean"),
                                   nb_module_buffer(net, "1.running_mean"), 0, 0));
    assert_true(nb_tensor_allclose(nb_module_buffer(fresh, "1.running_var"),
                                   nb_module_buffer(net, "1.running_var"), 0, 0));

    nb_tensor_free(after), nb_tensor_free(before), nb_tensor_free(x);
    nb_module_free(fresh), nb_module_free(net);
    remove(path);
}

static void test_checkpoint_without_buffers_is_refused_saying_why(void **state)
{
    (void)state;
    /* A file as written before checkpoints held buffers: the parameters only. */
    nb_module *net = cnn(3);
    nb_named_tensor np[8], old[8];
    char names[8][64];
    int n = nb_module_named_params(net, np, 8);
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "model.%s", np[i].name);
        old[i] = (nb_named_tensor){.name = names[i], .tensor = np[i].tensor};
    }
    const char *path = nbt_tmp_path("bn_old");
    assert_int_equal(nb_checkpoint_save(path, old, n), NB_OK);

    nb_module *fresh = cnn(4);
    nb_tensor *w = nb_tensor_copy(nb_module_param(fresh, "0.weight"));
    nb_clear_error();
    assert_int_equal(nb_checkpoint_load_model(path, fresh, NULL), NB_ERR_VALUE);
    const char *msg = nb_last_error();
    assert_non_null(strstr(msg, "nb_checkpoint_load_model: "));
    assert_non_null(strstr(msg, "holds none of the module's 2 buffers (such as "
                                "'model.1.running_mean'): it was saved before checkpoints "
                                "included buffers"));
    assert_non_null(strstr(msg, "tensor 'model.1.running_mean' is not in the file"));
    nb_clear_error();
    /* nothing changed */
    assert_true(nb_tensor_allclose(nb_module_param(fresh, "0.weight"), w, 0, 0));
    /* the parameters are still readable the documented way */
    assert_int_equal(nb_checkpoint_load(path, old, n), NB_OK);

    nb_tensor_free(w);
    nb_module_free(fresh);
    nb_module_free(net);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffers_are_named_owned_and_not_parameters),
        cmocka_unit_test(test_batch_norm_statistics_are_buffers_optimizers_do_not_see),
        cmocka_unit_test(test_cnn_with_batch_norm_evaluates_the_same_after_save_and_load),
        cmocka_unit_test(test_instance_norm_running_stats_survive_save_and_load),
        cmocka_unit_test(test_checkpoint_without_buffers_is_refused_saying_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
