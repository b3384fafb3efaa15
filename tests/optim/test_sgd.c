/* tests/optim/test_sgd.c — optim/sgd.c: plain SGD, momentum with dampening, Nesterov and weight
 * decay against the update formula computed directly; convergence; skipping frozen parameters;
 * option errors. */
#include "optim_problem.h"

#include <string.h>

/* PyTorch's SGD, written out in double. */
static void sgd_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    const nb_sgd_opts *h = opts;
    for (int i = 0; i < QN; i++) {
        double g = quad_grad(i, p[i]) + h->weight_decay * p[i];
        if (h->momentum != 0) {
            double *b = &st[0][i];
            *b = t == 1 ? g : h->momentum * *b + (1 - h->dampening) * g;
            g = h->nesterov ? g + h->momentum * *b : *b;
        }
        p[i] -= h->lr * g;
    }
}

static void run_sgd_case(nb_sgd_opts h, nb_dtype dt, double tol)
{
    quad q = quad_new(dt);
    nb_optim *o = nb_sgd_new(q.m, &h);
    assert_non_null(o);
    expect_three_steps(o, &q, sgd_ref, &h, 0.0, tol);
    nb_optim_free(o);
    quad_free(&q);
}

static void test_sgd_plain_matches_formula(void **state)
{
    (void)state;
    run_sgd_case((nb_sgd_opts){.lr = 0.1}, NB_F64, 1e-14);
}

static void test_sgd_momentum_dampening_weight_decay_match_formula(void **state)
{
    (void)state;
    run_sgd_case((nb_sgd_opts){.lr = 0.05, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.01},
                 NB_F64, 1e-14);
}

static void test_sgd_nesterov_matches_formula(void **state)
{
    (void)state;
    run_sgd_case((nb_sgd_opts){.lr = 0.05, .momentum = 0.8, .nesterov = true, .weight_decay = 0.1},
                 NB_F64, 1e-14);
}

static void test_sgd_momentum_in_f32_matches_formula(void **state)
{
    (void)state;
    run_sgd_case((nb_sgd_opts){.lr = 0.05, .momentum = 0.9}, NB_F32, 1e-6);
}

static void test_sgd_variants_minimise_a_convex_quadratic(void **state)
{
    (void)state;
    const nb_sgd_opts cases[] = {{.lr = 0.3},
                                 {.lr = 0.05, .momentum = 0.9},
                                 {.lr = 0.05, .momentum = 0.9, .nesterov = true}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        quad q = quad_new(NB_F64);
        nb_optim *o = nb_sgd_new(q.m, &cases[c]);
        expect_minimises(o, &q, 400, 1e-6);
        nb_optim_free(o);
        quad_free(&q);
    }
}

static void test_sgd_skips_frozen_parameters(void **state)
{
    (void)state;
    quad q = quad_new(NB_F64);
    nb_sgd_opts h = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5};
    nb_optim *o = nb_sgd_new(q.m, &h);
    /* Frozen: the loss no longer requires grad, so step through the optimizer directly. */
    nb_module_set_requires_grad(q.m, false);
    nb_tensor_fill(nb_tensor_grad(q.p), 1.0); /* a stale gradient must not be applied */
    assert_int_equal(nb_optim_update(o), NB_OK);
    for (int i = 0; i < QN; i++)
        assert_float_equal(nb_tensor_get(q.p, i), QP0[i], 0);
    nb_optim_free(o);
    quad_free(&q);
}

static void test_sgd_updates_caller_tensors_added_by_hand(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, (int64_t[]){2}, (double[]){1.0, -2.0});
    nb_tensor_set_requires_grad(x, true);
    nb_sgd_opts h = {.lr = 0.25};
    nb_optim *o = nb_sgd_new(NULL, &h);
    assert_int_equal(nb_optim_add_param(o, "x", x), NB_OK);
    assert_int_equal(nb_optim_num_params(o), 1);
    /* No gradient yet: nothing moves. */
    assert_int_equal(nb_optim_update(o), NB_OK);
    assert_float_equal(nb_tensor_get(x, 0), 1.0, 0);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_square(x))), NB_OK); /* grad 2x */
    assert_int_equal(nb_optim_update(o), NB_OK);
    nb_step_end(step);
    assert_float_equal(nb_tensor_get(x, 0), 1.0 - 0.25 * 2.0, 1e-15);
    assert_float_equal(nb_tensor_get(x, 1), -2.0 + 0.25 * 4.0, 1e-15);
    nb_step_free(step);
    nb_optim_free(o);
    nb_tensor_free(x);
}

static void test_sgd_rejects_invalid_options(void **state)
{
    (void)state;
    assert_null(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_sgd_new: lr must be >= 0 and finite, got -1");
    assert_null(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1, .momentum = -0.5}));
    nbt_assert_error(NB_ERR_VALUE, "momentum must be >= 0 and finite, got -0.5");
    assert_null(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1, .nesterov = true}));
    nbt_assert_error(NB_ERR_VALUE, "Nesterov momentum needs momentum > 0 and dampening 0");
    assert_null(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1, .weight_decay = -1}));
    nbt_assert_error(NB_ERR_VALUE, "weight_decay must be >= 0");
}

static void test_sgd_defaults_are_pytorch_defaults(void **state)
{
    (void)state;
    nb_sgd_opts d = nb_sgd_defaults();
    assert_float_equal(d.lr, 1e-3, 0);
    assert_float_equal(d.momentum, 0, 0);
    nb_optim *o = nb_sgd_new(NULL, NULL);
    assert_float_equal(nb_optim_get_lr(o), 1e-3, 0);
    assert_string_equal(nb_optim_name(o), "SGD");
    nb_optim_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_plain_matches_formula),
        cmocka_unit_test(test_sgd_momentum_dampening_weight_decay_match_formula),
        cmocka_unit_test(test_sgd_nesterov_matches_formula),
        cmocka_unit_test(test_sgd_momentum_in_f32_matches_formula),
        cmocka_unit_test(test_sgd_variants_minimise_a_convex_quadratic),
        cmocka_unit_test(test_sgd_skips_frozen_parameters),
        cmocka_unit_test(test_sgd_updates_caller_tensors_added_by_hand),
        cmocka_unit_test(test_sgd_rejects_invalid_options),
        cmocka_unit_test(test_sgd_defaults_are_pytorch_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
