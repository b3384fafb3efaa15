/* tests/optim/test_groups.c — parameter groups: per-group rate, weight decay and options, frozen
 * groups, groups added after some updates, the group API's errors, schedules acting on every
 * group (each on its own initial rate) and the one-cycle / plateau schedules' errors. */
#include "optim_problem.h"

#include <stdio.h>
#include <string.h>

/* Two f64 parameters of QN elements at QP0, in one module. */
typedef struct {
    nb_module *m;
    nb_tensor *w1, *w2;
} pair;

static pair pair_new(void)
{
    pair p = {nb_module_new("Pair", NB_F64, NULL, NULL, NULL), NULL, NULL};
    p.w1 = nb_module_add_param(p.m, "w1", 1, (int64_t[]){QN});
    p.w2 = nb_module_add_param(p.m, "w2", 1, (int64_t[]){QN});
    for (int i = 0; i < QN; i++) {
        nb_tensor_set(p.w1, i, QP0[i]);
        nb_tensor_set(p.w2, i, QP0[i]);
    }
    return p;
}

/* Gradients a w + b for both, then one update. */
static void pair_update(pair *p, nb_optim *o)
{
    nb_tensor *w[2] = {p->w1, p->w2};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < QN; i++)
            nb_tensor_set(nb_tensor_grad(w[k]), i, quad_grad(i, nb_tensor_get(w[k], i)));
    assert_int_equal(nb_optim_update(o), NB_OK);
}

/* o over w1 (group 0) and, with g, w2 in a new group 1. */
static nb_optim *with_group(nb_optim *o, pair *p, const nb_optim_group_opts *g)
{
    assert_non_null(o);
    assert_int_equal(nb_optim_add_param(o, "w1", p->w1), NB_OK);
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, g), 1);
    assert_int_equal(nb_optim_add_group_param(o, 1, "w2", p->w2), NB_OK);
    assert_int_equal(nb_optim_num_groups(o), 2);
    return o;
}

static void test_each_group_has_its_rate_and_weight_decay(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.lr = 0.01;
    g.weight_decay = 0.5;
    nb_optim *o = with_group(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1}), &p, &g);
    assert_float_equal(nb_optim_get_group_option(o, 1, "weight_decay"), 0.5, 0);
    assert_float_equal(nb_optim_get_group_option(o, 0, "weight_decay"), 0.0, 0);
    pair_update(&p, o);
    for (int i = 0; i < QN; i++) {
        const double g0 = quad_grad(i, QP0[i]);
        assert_float_equal(nb_tensor_get(p.w1, i), QP0[i] - 0.1 * g0, 1e-15);
        assert_float_equal(nb_tensor_get(p.w2, i), QP0[i] - 0.01 * (g0 + 0.5 * QP0[i]), 1e-15);
    }
    assert_int_equal(nb_optim_param_group(o, p.w2), 1);
    assert_int_equal(nb_optim_param_group(o, p.w1), 0);
    nb_optim_free(o);
    nb_module_free(p.m);
}

static void test_frozen_group_is_never_updated_and_has_no_state(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.frozen = true;
    nb_optim *o = with_group(nb_adam_new(NULL, NULL), &p, &g);
    nb_named_tensor st[8];
    assert_int_equal(nb_optim_named_state(o, st, 8), 1 + 2); /* step, w1's two moments */
    assert_string_equal(st[1].name, "w1.exp_avg");
    for (int s = 0; s < 3; s++)
        pair_update(&p, o);
    for (int i = 0; i < QN; i++) {
        assert_float_equal(nb_tensor_get(p.w2, i), QP0[i], 0);
        assert_true(nb_tensor_get(p.w1, i) != QP0[i]);
    }
    assert_float_equal(nb_optim_get_group_option(o, 1, "frozen"), 1, 0);
    /* clipping leaves a frozen group's gradients alone, as it does a frozen tensor's */
    const double g2 = nb_tensor_get(nb_tensor_grad(p.w2), 1);
    nb_optim_clip_grad_norm(o, 1e-3);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(p.w2), 1), g2, 0);
    nb_optim_free(o);
    nb_module_free(p.m);
}

/* A group added after 3 updates follows the trajectory of a fresh optimizer (bias corrections
 * from t = 1, as PyTorch's per-parameter step). */
static void test_group_added_later_counts_its_steps_from_one(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim *o =
        nb_adam_new(NULL, &(nb_adam_opts){.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
    assert_int_equal(nb_optim_add_param(o, "w1", p.w1), NB_OK);
    for (int s = 0; s < 3; s++)
        pair_update(&p, o);
    nb_optim_group_opts g = nb_optim_group_defaults();
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &g), 1);
    assert_int_equal(nb_optim_add_group_param(o, 1, "w2", p.w2), NB_OK);
    quad q = quad_new(NB_F64);
    nb_optim *fresh =
        nb_adam_new(q.m, &(nb_adam_opts){.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
    for (int s = 0; s < 4; s++) {
        pair_update(&p, o);
        assert_int_equal(quad_step(&q, fresh), NB_OK);
        for (int i = 0; i < QN; i++)
            assert_float_equal(nb_tensor_get(p.w2, i), nb_tensor_get(q.p, i), 1e-14);
    }
    assert_int_equal(nb_optim_update_count(o), 7);
    nb_optim_free(fresh);
    quad_free(&q);
    nb_optim_free(o);
    nb_module_free(p.m);
}

static void test_group_option_can_change_the_state_it_carries(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.momentum = 0.9;
    nb_optim *o = with_group(nb_sgd_new(NULL, NULL), &p, &g);
    nb_named_tensor st[8];
    assert_int_equal(nb_optim_named_state(o, st, 8), 2);
    assert_string_equal(st[1].name, "w2.momentum_buffer");
    nb_optim_free(o);
    nb_module_free(p.m);
}

static void test_group_named_by_prefix_and_module_paths(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_module *net = nb_sequential_new(
        2, (nb_module *[]){nb_linear_new(3, 2, true, &r), nb_linear_new(2, 1, true, &r)});
    nb_optim *o = nb_sgd_new(nb_module_child(net, "0"), &(nb_sgd_opts){.lr = 0.1});
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.lr = 0.01;
    assert_int_equal(nb_optim_add_group(o, nb_module_child(net, "1"), "1", &g), 1);
    assert_int_equal(nb_optim_num_params(o), 4);
    assert_int_equal(nb_optim_param_group(o, nb_module_param(net, "1.bias")), 1);
    assert_int_equal(nb_optim_param_group(o, nb_module_param(net, "0.bias")), 0);
    /* without a prefix the names of the second layer would repeat the first's */
    assert_int_equal(nb_optim_add_group(o, nb_module_child(net, "1"), "x", &g), -1);
    nbt_assert_error(NB_ERR_VALUE, "is already in group 1");
    nb_optim_free(o);
    nb_module_free(net);
}

static void test_group_errors_are_clear_and_change_nothing(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim *o = nb_adam_new(p.m, NULL);
    assert_int_equal(nb_optim_num_params(o), 2);
    /* a parameter in two groups */
    assert_int_equal(nb_optim_add_group(o, p.m, "again", NULL), -1);
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_optim_add_group: Adam: parameter \"again.w1\" is already in group 0 (as "
                     "\"w1\"); a parameter belongs to one group, cannot add it to group 1");
    assert_int_equal(nb_optim_num_groups(o), 1);
    assert_int_equal(nb_optim_num_params(o), 2);
    /* an option the family does not have */
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.momentum = 0.9;
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &g), -1);
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_optim_add_group: Adam has no per-group option momentum (got 0.9; leave "
                     "it NaN); its options are lr, weight_decay, eps, beta1, beta2");
    /* negative and NaN rates */
    g = nb_optim_group_defaults();
    g.lr = -0.1;
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &g), -1);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_add_group: lr must be >= 0 and finite, got -0.1");
    g = nb_optim_group_defaults();
    g.beta1 = 1;
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &g), -1);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_add_group: beta1 must be in [0, 1), got 1");
    assert_int_equal(nb_optim_num_groups(o), 1);
    assert_int_equal(nb_optim_set_group_lr(o, 0, -1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_set_group_lr: lr must be >= 0 and finite, got -1");
    assert_float_equal(nb_optim_get_lr(o), 1e-3, 0);
    /* unknown group index */
    assert_int_equal(nb_optim_set_group_lr(o, 3, 0.1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_set_group_lr: Adam has no group 3 (it has 1: 0 to 0)");
    assert_int_equal(nb_optim_set_group_lr(o, -1, 0.1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "has no group -1");
    nb_tensor *x = nb_tensor_zeros(NB_F64, 1, (int64_t[]){2});
    assert_int_equal(nb_optim_add_group_param(o, 1, "x", x), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_add_group_param: Adam has no group 1");
    assert_true(isnan(nb_optim_get_group_option(o, 2, "lr")));
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_get_group_option: Adam has no group 2");
    assert_true(isnan(nb_optim_get_group_option(o, 0, "momentum")));
    nbt_assert_error(NB_ERR_VALUE, "Adam has no group option \"momentum\"");
    assert_int_equal(nb_optim_add_group(NULL, NULL, NULL, NULL), -1);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_add_group: optimizer is NULL");
    assert_int_equal(nb_optim_param_group(o, x), -1);
    nb_tensor_free(x);
    nb_optim_free(o);
    nb_module_free(p.m);
}

static void test_set_lr_sets_every_group(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.lr = 0.5;
    nb_optim *o = with_group(nb_sgd_new(NULL, NULL), &p, &g);
    assert_int_equal(nb_optim_set_lr(o, 0.25), NB_OK);
    assert_float_equal(nb_optim_get_group_option(o, 0, "lr"), 0.25, 0);
    assert_float_equal(nb_optim_get_group_option(o, 1, "lr"), 0.25, 0);
    assert_float_equal(nb_optim_get_group_option(o, 1, "initial_lr"), 0.5, 0);
    assert_int_equal(nb_optim_set_group_lr(o, 1, 0.125), NB_OK);
    assert_float_equal(nb_optim_get_group_option(o, 1, "lr"), 0.125, 0);
    assert_float_equal(nb_optim_get_lr(o), 0.25, 0);
    nb_optim_free(o);
    nb_module_free(p.m);
}

/* PyTorch's schedulers scale each group's initial rate: StepLR and CosineAnnealingLR (eta_min
 * shared) over groups of 0.1 and 0.02. */
static void test_schedules_run_on_each_groups_initial_rate(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim_group_opts g = nb_optim_group_defaults();
    g.lr = 0.02;
    nb_optim *o = with_group(nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1}), &p, &g);
    const nb_lr_schedule stair = nb_lr_staircase(0.1, 2, 0.5);
    const nb_lr_schedule cosine = nb_lr_cosine(0.1, 10, 0.001);
    const double pi = 3.14159265358979323846;
    for (int t = 0; t < 12; t++) {
        assert_int_equal(nb_optim_apply_schedule(o, &stair, t), NB_OK);
        assert_float_equal(nb_optim_get_group_option(o, 0, "lr"), 0.1 * pow(0.5, t / 2), 1e-15);
        assert_float_equal(nb_optim_get_group_option(o, 1, "lr"), 0.02 * pow(0.5, t / 2), 1e-15);
        assert_int_equal(nb_optim_apply_schedule(o, &cosine, t), NB_OK);
        const double c = (1 + cos(pi * (t < 10 ? t : 10) / 10)) / 2;
        assert_float_equal(nb_optim_get_group_option(o, 1, "lr"), 0.001 + (0.02 - 0.001) * c,
                           1e-15);
    }
    nb_optim_free(o);
    nb_module_free(p.m);
}

static void test_apply_schedule_errors_change_nothing(void **state)
{
    (void)state;
    pair p = pair_new();
    nb_optim *ada = nb_adagrad_new(p.m, NULL);
    const nb_lr_schedule cyc = nb_lr_one_cycle(0.1, 10);
    assert_int_equal(nb_optim_apply_schedule(ada, &cyc, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_optim_apply_schedule: Adagrad has no momentum or beta1 for the one-cycle "
                     "schedule to cycle; set cycle_momentum to false");
    nb_lr_schedule plain = cyc;
    plain.cycle_momentum = false;
    assert_int_equal(nb_optim_apply_schedule(ada, &plain, 0), NB_OK);
    assert_float_equal(nb_optim_get_lr(ada), 1e-2 / 25, 1e-18);
    nb_optim_free(ada);

    nb_optim *sgd = nb_sgd_new(NULL, &(nb_sgd_opts){.lr = 0.1, .momentum = 0.9});
    assert_int_equal(nb_optim_add_param(sgd, "w1", p.w1), NB_OK);
    nb_optim_group_opts still = nb_optim_group_defaults();
    still.lr = 0.2;
    still.momentum = 0;
    assert_int_equal(nb_optim_add_group(sgd, NULL, NULL, &still), 1);
    assert_int_equal(nb_optim_apply_schedule(sgd, &cyc, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "SGD group 1 has momentum 0, so no momentum buffers to cycle");
    assert_float_equal(nb_optim_get_group_option(sgd, 0, "lr"), 0.1, 0); /* unchanged */
    assert_float_equal(nb_optim_get_group_option(sgd, 0, "momentum"), 0.9, 0);
    nb_lr_schedule bad = cyc;
    bad.total_steps = 0;
    assert_int_equal(nb_optim_apply_schedule(sgd, &bad, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_at: total_steps must be >= 1, got 0");
    assert_int_equal(nb_optim_apply_schedule(NULL, &cyc, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_apply_schedule: optimizer is NULL");
    nb_optim_free(sgd);
    nb_module_free(p.m);
}

static void test_one_cycle_checks_its_numbers(void **state)
{
    (void)state;
    /* pct_start * total_steps = 1: the first phase ends at step 0 and has no length */
    nb_lr_schedule s = nb_lr_one_cycle(0.1, 10);
    s.pct_start = 0.1;
    assert_true(isnan(nb_lr_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "the phase holding step 0 has no length (total_steps 10");
    assert_true(isnan(nb_lr_momentum_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "the phase holding step 0 has no length");
    /* later steps are in the second phase and fine */
    assert_false(isnan(nb_lr_at(&s, 5)));
    s = nb_lr_one_cycle(0.1, 10);
    s.div_factor = 0;
    assert_true(isnan(nb_lr_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_at: div_factor must be > 0 and finite, got 0");
    s = nb_lr_one_cycle(0.1, 10);
    s.max_momentum = 1;
    assert_true(isnan(nb_lr_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_at: max_momentum must be in [0, 1), got 1");
    s = nb_lr_one_cycle(0.1, 10);
    s.pct_start = 1.5;
    assert_true(isnan(nb_lr_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_at: pct_start must be in [0, 1], got 1.5");
    /* after the last step the rate stays at the minimum */
    s = nb_lr_one_cycle(0.1, 10);
    assert_float_equal(nb_lr_at(&s, 9), 0.1 / 25 / 1e4, 1e-18);
    assert_float_equal(nb_lr_at(&s, 50), nb_lr_at(&s, 9), 0);
    s.cycle_momentum = false;
    assert_true(isnan(nb_lr_momentum_at(&s, 0)));
    nbt_assert_error(NB_ERR_VALUE, "only a one-cycle schedule with cycle_momentum");
}

static void test_plateau_checks_its_options(void **state)
{
    (void)state;
    nb_optim *o = nb_sgd_new(NULL, NULL);
    nb_lr_plateau p = nb_lr_plateau_defaults();
    p.factor = 1;
    assert_int_equal(nb_lr_plateau_observe(&p, o, 1.0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_plateau_observe: factor must be in [0, 1), got 1");
    assert_int_equal(p.observations, 0);
    p = nb_lr_plateau_defaults();
    p.patience = -2;
    assert_int_equal(nb_lr_plateau_observe(&p, o, 1.0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_plateau_observe: patience must be >= 0, got -2");
    p = nb_lr_plateau_defaults();
    p.min_lr = -1;
    assert_int_equal(nb_lr_plateau_observe(&p, o, 1.0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "min_lr must be >= 0 and finite, got -1");
    assert_int_equal(nb_lr_plateau_observe(NULL, o, 1.0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_plateau_observe: plateau is NULL");
    /* patience 0: the second non-improving value lowers the rate */
    p = nb_lr_plateau_defaults();
    p.patience = 0;
    assert_int_equal(nb_lr_plateau_observe(&p, o, 1.0), NB_OK);
    assert_float_equal(nb_optim_get_lr(o), 1e-3, 0);
    assert_int_equal(nb_lr_plateau_observe(&p, o, 1.0), NB_OK);
    assert_float_equal(nb_optim_get_lr(o), 1e-4, 1e-19);
    nb_optim_free(o);
}

/* Every optimizer takes groups: its per-group options listed in the header are accepted. */
static void test_every_family_accepts_its_group_options(void **state)
{
    (void)state;
    nb_optim *all[] = {
        nb_sgd_new(NULL, NULL),     nb_adagrad_new(NULL, NULL), nb_adadelta_new(NULL, NULL),
        nb_rmsprop_new(NULL, NULL), nb_adam_new(NULL, NULL),    nb_adamw_new(NULL, NULL),
        nb_nadam_new(NULL, NULL),   nb_radam_new(NULL, NULL),   nb_adamax_new(NULL, NULL)};
    const char *opts[] = {"weight_decay momentum dampening",
                          "weight_decay eps lr_decay",
                          "weight_decay eps rho",
                          "weight_decay eps momentum alpha",
                          "weight_decay eps beta1 beta2",
                          "weight_decay eps beta1 beta2",
                          "weight_decay eps beta1 beta2 momentum_decay",
                          "weight_decay eps beta1 beta2",
                          "weight_decay eps beta1 beta2"};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        nb_optim_group_opts g = nb_optim_group_defaults();
        g.lr = 0.03;
        double *field[] = {&g.weight_decay, &g.momentum,      &g.dampening, &g.eps,
                           &g.beta1,        &g.beta2,         &g.alpha,     &g.rho,
                           &g.lr_decay,     &g.momentum_decay};
        const char *names[] = {"weight_decay", "momentum",      "dampening", "eps",
                               "beta1",        "beta2",         "alpha",     "rho",
                               "lr_decay",     "momentum_decay"};
        bool has[10];
        for (int f = 0; f < 10; f++) { /* whole words: momentum is not momentum_decay */
            char word[32], list[80];
            snprintf(word, sizeof word, " %s ", names[f]);
            snprintf(list, sizeof list, " %s ", opts[k]);
            has[f] = strstr(list, word) != NULL;
            if (has[f])
                *field[f] = 0.25;
        }
        if (nb_optim_add_group(all[k], NULL, NULL, &g) != 1)
            fprintf(stderr, "%s: %s\n", nb_optim_name(all[k]), nb_last_error());
        assert_int_equal(nb_optim_num_groups(all[k]), 2);
        for (int f = 0; f < 10; f++)
            if (has[f])
                assert_float_equal(nb_optim_get_group_option(all[k], 1, names[f]), 0.25, 0);
        assert_float_equal(nb_optim_get_group_option(all[k], 1, "lr"), 0.03, 0);
        nb_optim_free(all[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_group_has_its_rate_and_weight_decay),
        cmocka_unit_test(test_frozen_group_is_never_updated_and_has_no_state),
        cmocka_unit_test(test_group_added_later_counts_its_steps_from_one),
        cmocka_unit_test(test_group_option_can_change_the_state_it_carries),
        cmocka_unit_test(test_group_named_by_prefix_and_module_paths),
        cmocka_unit_test(test_group_errors_are_clear_and_change_nothing),
        cmocka_unit_test(test_set_lr_sets_every_group),
        cmocka_unit_test(test_schedules_run_on_each_groups_initial_rate),
        cmocka_unit_test(test_apply_schedule_errors_change_nothing),
        cmocka_unit_test(test_one_cycle_checks_its_numbers),
        cmocka_unit_test(test_plateau_checks_its_options),
        cmocka_unit_test(test_every_family_accepts_its_group_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
