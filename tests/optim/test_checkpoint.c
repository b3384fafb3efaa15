/* tests/optim/test_checkpoint.c — nb_checkpoint_save_model / nb_checkpoint_load_model: resuming
 * from a checkpoint into a fresh model and optimizer continues training bit for bit, and a
 * model of another shape is refused with a message naming the tensor and both shapes. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N_SAMPLES = 64, N_IN = 6, N_HIDDEN = 16, N_CLASSES = 3 };

/* A small MLP with a fixed initialisation (the seed), so two builds start identical. */
static nb_module *mlp(int hidden, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    return nb_sequential_new(3,
                             (nb_module *[]){nb_linear_new(N_IN, hidden, true, &rng), nb_relu_new(),
                                             nb_linear_new(hidden, N_CLASSES, true, &rng)});
}

/* Generated data: class = index of the largest of the first three features. */
typedef struct data {
    nb_tensor *x, *y;
} data;

static data make_data(void)
{
    nb_rng rng = nb_rng_seed(7);
    data d = {nb_tensor_uniform(NB_F32, 2, (int64_t[]){N_SAMPLES, N_IN}, &rng, -1, 1),
              nb_tensor_zeros(NB_I64, 1, (int64_t[]){N_SAMPLES})};
    assert_non_null(d.x);
    assert_non_null(d.y);
    const float *x = nb_tensor_data_f32(d.x);
    int64_t *y = nb_tensor_data_i64(d.y);
    for (int i = 0; i < N_SAMPLES; i++) {
        int best = 0;
        for (int k = 1; k < N_CLASSES; k++)
            if (x[i * N_IN + k] > x[i * N_IN + best])
                best = k;
        y[i] = best;
    }
    return d;
}

static void free_data(data *d)
{
    nb_tensor_free(d->x);
    nb_tensor_free(d->y);
}

/* `steps` full-batch steps of cross-entropy; returns the last loss. */
static double train(nb_module *net, nb_optim *opt, const data *d, int steps)
{
    nb_step *step = nb_step_new();
    assert_non_null(step);
    double loss_value = NAN;
    for (int t = 0; t < steps; t++) {
        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, d->x), d->y, NB_REDUCE_MEAN);
        assert_non_null(loss);
        loss_value = nb_tensor_item(loss);
        assert_int_equal(nb_backward(loss), NB_OK);
        assert_int_equal(nb_optim_update(opt), NB_OK);
        nb_step_end(step);
    }
    nb_step_free(step);
    return loss_value;
}

typedef nb_optim *(*make_optim_fn)(nb_module *net);

static nb_optim *sgd_momentum(nb_module *net)
{
    nb_sgd_opts o = nb_sgd_defaults();
    o.lr = 0.1;
    o.momentum = 0.9;
    o.weight_decay = 1e-3;
    return nb_sgd_new(net, &o);
}

static nb_optim *adam(nb_module *net)
{
    nb_adam_opts o = nb_adam_defaults();
    o.lr = 1e-2;
    return nb_adam_new(net, &o);
}

/* Two groups: the first layer at lr 1e-2 (group 0), the second at 3e-3 with weight decay 0.01
 * (group 1), rates then changed by hand as a schedule would. */
static nb_optim *adam_two_groups(nb_module *net)
{
    nb_adam_opts o = nb_adam_defaults();
    o.lr = 1e-2;
    nb_optim *opt = nb_adam_new(nb_module_child(net, "0"), &o);
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.lr = 3e-3;
    g.weight_decay = 0.01;
    g.beta1 = 0.8;
    if (nb_optim_add_group(opt, nb_module_child(net, "2"), "2", &g) != 1)
        return NULL;
    nb_optim_set_group_lr(opt, 1, 5e-3);
    return opt;
}

/* NAdam's momentum product is part of the saved group. */
static nb_optim *nadam_two_groups(nb_module *net)
{
    nb_nadam_opts o = nb_nadam_defaults();
    o.lr = 1e-2;
    nb_optim *opt = nb_nadam_new(nb_module_child(net, "0"), &o);
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.momentum_decay = 0.02;
    return nb_optim_add_group(opt, nb_module_child(net, "2"), "2", &g) == 1 ? opt : NULL;
}

/* Group 1 frozen: the second layer is never updated. */
static nb_optim *sgd_frozen_head(nb_module *net)
{
    nb_sgd_opts o = {.lr = 0.1, .momentum = 0.9};
    nb_optim *opt = nb_sgd_new(nb_module_child(net, "0"), &o);
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.frozen = true;
    return nb_optim_add_group(opt, nb_module_child(net, "2"), "2", &g) == 1 ? opt : NULL;
}

static bool buffers_identical(nb_module *a, nb_module *b)
{
    nb_tensor *pa = nb_module_param_buffer(a), *pb = nb_module_param_buffer(b);
    int64_t n = nb_tensor_numel(pa);
    return n == nb_tensor_numel(pb) &&
           memcmp(nb_tensor_data_f32(pa), nb_tensor_data_f32(pb), (size_t)n * sizeof(float)) == 0;
}

/* N steps, save, load into a fresh model + optimizer, M more steps == N + M steps in one go. */
static void check_resume(make_optim_fn make_optim)
{
    enum { N = 7, M = 9 };
    data d = make_data();
    const char *path = nbt_tmp_path("resume");

    nb_module *ref = mlp(N_HIDDEN, 3);
    nb_optim *ref_opt = make_optim(ref);
    assert_non_null(ref_opt);
    double first = train(ref, ref_opt, &d, 1);
    double last = train(ref, ref_opt, &d, N + M - 1);
    assert_true(last < first); /* the runs below do train */

    nb_module *a = mlp(N_HIDDEN, 3);
    nb_optim *a_opt = make_optim(a);
    train(a, a_opt, &d, N);
    assert_int_equal(nb_checkpoint_save_model(path, a, a_opt), NB_OK);
    /* the rates and options come back from the file too */
    const double saved_lr = nb_optim_get_group_option(a_opt, nb_optim_num_groups(a_opt) - 1, "lr");

    /* a fresh model with another initialisation: everything must come from the file */
    nb_module *b = mlp(N_HIDDEN, 99);
    nb_optim *b_opt = make_optim(b);
    assert_false(buffers_identical(a, b));
    nb_optim_set_lr(b_opt, 0.5);
    assert_int_equal(nb_checkpoint_load_model(path, b, b_opt), NB_OK);
    assert_float_equal(nb_optim_get_group_option(b_opt, nb_optim_num_groups(b_opt) - 1, "lr"),
                       saved_lr, 0);
    assert_true(buffers_identical(a, b));
    assert_int_equal(nb_optim_update_count(b_opt), N);
    train(b, b_opt, &d, M);
    assert_true(buffers_identical(ref, b));

    /* without the optimizer state the continuation differs (the state matters) */
    nb_module *c = mlp(N_HIDDEN, 99);
    nb_optim *c_opt = make_optim(c);
    assert_int_equal(nb_checkpoint_load_model(path, c, NULL), NB_OK);
    assert_true(buffers_identical(a, c));
    train(c, c_opt, &d, M);
    assert_false(buffers_identical(ref, c));

    remove(path);
    nb_optim_free(ref_opt);
    nb_optim_free(a_opt);
    nb_optim_free(b_opt);
    nb_optim_free(c_opt);
    nb_module_free(ref);
    nb_module_free(a);
    nb_module_free(b);
    nb_module_free(c);
    free_data(&d);
}

static void test_resume_sgd_momentum_is_bit_identical(void **state)
{
    (void)state;
    check_resume(sgd_momentum);
}

static void test_resume_adam_is_bit_identical(void **state)
{
    (void)state;
    check_resume(adam);
}

static void test_resume_with_groups_is_bit_identical(void **state)
{
    (void)state;
    check_resume(adam_two_groups);
    check_resume(nadam_two_groups);
    check_resume(sgd_frozen_head);
}

/* A file as checkpoints were written before they held groups: the model's and the optimizer's
 * named tensors only. It loads; the groups keep the options they were built with. */
static void test_checkpoint_without_groups_still_loads(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("nogroups");
    data d = make_data();
    nb_module *a = mlp(N_HIDDEN, 3);
    nb_optim *a_opt = adam_two_groups(a);
    train(a, a_opt, &d, 3);
    nb_named_tensor list[32];
    char names[32][96];
    const int n = nb_module_named_params(a, list, 32);
    const int ns = nb_optim_named_state(a_opt, list + n, 32 - n);
    assert_true(n + ns <= 32);
    for (int i = 0; i < n + ns; i++) {
        snprintf(names[i], sizeof names[i], "%s%s", i < n ? "model." : "optim.", list[i].name);
        list[i].name = names[i];
    }
    assert_int_equal(nb_checkpoint_save(path, list, n + ns), NB_OK);

    nb_module *b = mlp(N_HIDDEN, 99);
    nb_optim *b_opt = adam_two_groups(b);
    nb_optim_set_group_lr(b_opt, 0, 0.125);
    assert_int_equal(nb_checkpoint_load_model(path, b, b_opt), NB_OK);
    assert_true(buffers_identical(a, b));
    assert_int_equal(nb_optim_update_count(b_opt), 3);
    assert_float_equal(nb_optim_get_group_option(b_opt, 0, "lr"), 0.125, 0); /* kept */
    assert_float_equal(nb_optim_get_group_option(b_opt, 1, "weight_decay"), 0.01, 0);
    /* and it continues as the saved run */
    train(a, a_opt, &d, 2);
    nb_optim_set_group_lr(b_opt, 0, 1e-2);
    train(b, b_opt, &d, 2);
    assert_true(buffers_identical(a, b));

    remove(path);
    nb_optim_free(a_opt);
    nb_optim_free(b_opt);
    nb_module_free(a);
    nb_module_free(b);
    free_data(&d);
}

/* Loading into groups of other members, or of another number, is refused and changes nothing. */
static void test_load_refuses_other_groups(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("groups");
    data d = make_data();
    nb_module *a = mlp(N_HIDDEN, 3);
    nb_optim *a_opt = adam_two_groups(a);
    train(a, a_opt, &d, 2);
    assert_int_equal(nb_checkpoint_save_model(path, a, a_opt), NB_OK);

    /* the same names and group sizes, other members: group 0 = {weight, 2.bias} (the first
     * layer's weight and the second's bias), group 1 = {bias, 2.weight} */
    nb_module *b = mlp(N_HIDDEN, 99);
    nb_optim *b_opt = nb_adam_new(NULL, NULL);
    nb_optim_add_param(b_opt, "weight", nb_module_param(b, "0.weight"));
    nb_optim_add_param(b_opt, "2.bias", nb_module_param(b, "2.bias"));
    assert_int_equal(nb_optim_add_group(b_opt, NULL, NULL, NULL), 1);
    nb_optim_add_group_param(b_opt, 1, "bias", nb_module_param(b, "0.bias"));
    nb_optim_add_group_param(b_opt, 1, "2.weight", nb_module_param(b, "2.weight"));
    nb_tensor *before = nb_tensor_copy(nb_module_param_buffer(b));
    assert_int_equal(nb_checkpoint_load_model(path, b, b_opt), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "parameter \"2.bias\" is in group 1 in the file but in group 0 "
                                   "of the Adam optimizer");
    assert_true(nb_tensor_allclose(before, nb_module_param_buffer(b), 0, 0));
    assert_int_equal(nb_optim_update_count(b_opt), 0);

    /* one group only: the second layer was in group 1 */
    nb_optim *c_opt = nb_adam_new(b, NULL);
    assert_int_equal(nb_checkpoint_load_model(path, b, c_opt), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE,
                     "parameter \"2.weight\" is in group 1 in the file but in group 0");
    assert_true(nb_tensor_allclose(before, nb_module_param_buffer(b), 0, 0));

    nb_tensor_free(before);
    remove(path);
    nb_optim_free(a_opt);
    nb_optim_free(b_opt);
    nb_optim_free(c_opt);
    nb_module_free(a);
    nb_module_free(b);
    free_data(&d);
}

/* A file whose group holds an option out of range (written by hand) is refused before loading. */
static void test_load_refuses_bad_group_options(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("badgroup");
    nb_module *a = mlp(N_HIDDEN, 3);
    nb_optim *a_opt = adam_two_groups(a);
    assert_int_equal(nb_checkpoint_save_model(path, a, a_opt), NB_OK);
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert_non_null(toc);
    nb_named_tensor list[64];
    assert_true(toc->count <= 64);
    for (int64_t i = 0; i < toc->count; i++) {
        list[i].name = toc->entries[i].name;
        list[i].tensor = nb_checkpoint_load_tensor(path, list[i].name);
        if (!strcmp(list[i].name, "optim.group.1.beta2"))
            nb_tensor_set(list[i].tensor, 0, 1.5);
    }
    assert_int_equal(nb_checkpoint_save(path, list, (int)toc->count), NB_OK);

    nb_module *b = mlp(N_HIDDEN, 99);
    nb_optim *b_opt = adam_two_groups(b);
    nb_tensor *before = nb_tensor_copy(nb_module_param_buffer(b));
    assert_int_equal(nb_checkpoint_load_model(path, b, b_opt), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_checkpoint_load_model: beta2 must be in [0, 1), got 1.5");
    assert_true(nb_tensor_allclose(before, nb_module_param_buffer(b), 0, 0));
    assert_float_equal(nb_optim_get_group_option(b_opt, 1, "beta2"), 0.999, 0);

    for (int64_t i = 0; i < toc->count; i++)
        nb_tensor_free(list[i].tensor);
    nb_checkpoint_toc_free(toc);
    nb_tensor_free(before);
    remove(path);
    nb_optim_free(a_opt);
    nb_optim_free(b_opt);
    nb_module_free(a);
    nb_module_free(b);
}

static void test_load_rejects_another_shape_naming_tensor_and_shapes(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("shape");
    nb_module *a = mlp(N_HIDDEN, 1);
    assert_int_equal(nb_checkpoint_save_model(path, a, NULL), NB_OK);

    nb_module *b = mlp(N_HIDDEN + 4, 2);
    nb_tensor *before = nb_tensor_copy(nb_module_param_buffer(b));
    assert_int_equal(nb_checkpoint_load_model(path, b, NULL), NB_ERR_SHAPE);
    const char *msg = nb_last_error();
    assert_non_null(strstr(msg, "'model.0.weight'"));
    assert_non_null(strstr(msg, "[16, 6]"));
    assert_non_null(strstr(msg, "[20, 6]"));
    /* nothing was written */
    assert_true(nb_tensor_allclose(before, nb_module_param_buffer(b), 0, 0));

    nb_tensor_free(before);
    remove(path);
    nb_module_free(a);
    nb_module_free(b);
}

static void test_load_requires_optimizer_state_when_asked(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("noopt");
    nb_module *a = mlp(N_HIDDEN, 1);
    assert_int_equal(nb_checkpoint_save_model(path, a, NULL), NB_OK);
    nb_optim *opt = sgd_momentum(a);
    assert_int_equal(nb_checkpoint_load_model(path, a, opt), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "optim.step"));
    remove(path);
    nb_optim_free(opt);
    nb_module_free(a);
}

static void test_save_and_load_reject_null_arguments(void **state)
{
    (void)state;
    nb_module *a = mlp(N_HIDDEN, 1);
    assert_int_equal(nb_checkpoint_save_model(NULL, a, NULL), NB_ERR_VALUE);
    nb_clear_error();
    assert_int_equal(nb_checkpoint_save_model("x.ckpt", NULL, NULL), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_checkpoint_save_model: module is NULL"));
    nb_clear_error();
    assert_int_equal(nb_checkpoint_load_model(NULL, a, NULL), NB_ERR_VALUE);
    nb_clear_error();
    nb_module *relu = nb_relu_new();
    assert_int_equal(nb_checkpoint_save_model("x.ckpt", relu, NULL), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "no parameters"));
    nb_module_free(relu);
    nb_module_free(a);
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_resume_sgd_momentum_is_bit_identical, clear_error),
        cmocka_unit_test_setup(test_resume_adam_is_bit_identical, clear_error),
        cmocka_unit_test_setup(test_resume_with_groups_is_bit_identical, clear_error),
        cmocka_unit_test_setup(test_checkpoint_without_groups_still_loads, clear_error),
        cmocka_unit_test_setup(test_load_refuses_other_groups, clear_error),
        cmocka_unit_test_setup(test_load_refuses_bad_group_options, clear_error),
        cmocka_unit_test_setup(test_load_rejects_another_shape_naming_tensor_and_shapes,
                               clear_error),
        cmocka_unit_test_setup(test_load_requires_optimizer_state_when_asked, clear_error),
        cmocka_unit_test_setup(test_save_and_load_reject_null_arguments, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
