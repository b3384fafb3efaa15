/* tests/optim/test_hyperparams.c — every optimizer option, the learning-rate setter, the clipping
 * bounds and the schedules' numbers reject NaN, Inf and out-of-range values with a message
 * naming the function, the option and the value (instead of writing NaN weights later). */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *field; /* the option's name, as the message spells it */
    double value;
    const char *rule;
} bad_option;

/* The message expected for b from function fn. */
static const char *expected(const char *fn, const bad_option *b)
{
    static char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be %s, got %g", fn, b->field, b->rule, b->value);
    return msg;
}

#define NONNEG    ">= 0 and finite"
#define POS       "> 0 and finite"
#define UNIT      "in [0, 1]"
#define UNIT_OPEN "in [0, 1)"

/* Sets `field` of the options struct *o (type T) to v when its name matches. */
#define SET(o, name, v)                                                                            \
    if (!strcmp(field, #name))                                                                     \
    (o)->name = (v)

static void test_sgd_rejects_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", NAN, NONNEG},          {"lr", -1, NONNEG},
        {"lr", INFINITY, NONNEG},     {"momentum", INFINITY, NONNEG},
        {"momentum", NAN, NONNEG},    {"dampening", NAN, UNIT},
        {"dampening", -0.5, UNIT},    {"dampening", 2, UNIT},
        {"weight_decay", -1, NONNEG}, {"weight_decay", NAN, NONNEG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nb_sgd_opts o = nb_sgd_defaults();
        const char *field = bad[i].field;
        o.momentum = 0.9;
        SET(&o, lr, bad[i].value);
        SET(&o, momentum, bad[i].value);
        SET(&o, dampening, bad[i].value);
        SET(&o, weight_decay, bad[i].value);
        assert_null(nb_sgd_new(NULL, &o));
        nbt_assert_error(NB_ERR_VALUE, expected("nb_sgd_new", &bad[i]));
    }
}

static void test_adagrad_rejects_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", NAN, NONNEG},
        {"lr_decay", INFINITY, NONNEG},
        {"weight_decay", -1, NONNEG},
        {"initial_accumulator_value", NAN, NONNEG},
        {"eps", 0, POS},
        {"eps", NAN, POS},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nb_adagrad_opts o = nb_adagrad_defaults();
        const char *field = bad[i].field;
        SET(&o, lr, bad[i].value);
        SET(&o, lr_decay, bad[i].value);
        SET(&o, weight_decay, bad[i].value);
        SET(&o, initial_accumulator_value, bad[i].value);
        SET(&o, eps, bad[i].value);
        assert_null(nb_adagrad_new(NULL, &o));
        nbt_assert_error(NB_ERR_VALUE, expected("nb_adagrad_new", &bad[i]));
    }
}

static void test_adadelta_rejects_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", -1, NONNEG}, {"eps", 0, POS},     {"eps", INFINITY, POS},
        {"rho", NAN, UNIT}, {"rho", -0.1, UNIT}, {"weight_decay", NAN, NONNEG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nb_adadelta_opts o = nb_adadelta_defaults();
        const char *field = bad[i].field;
        SET(&o, lr, bad[i].value);
        SET(&o, eps, bad[i].value);
        SET(&o, rho, bad[i].value);
        SET(&o, weight_decay, bad[i].value);
        assert_null(nb_adadelta_new(NULL, &o));
        nbt_assert_error(NB_ERR_VALUE, expected("nb_adadelta_new", &bad[i]));
    }
}

static void test_rmsprop_rejects_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", INFINITY, NONNEG}, {"alpha", 1.5, UNIT},          {"alpha", NAN, UNIT},
        {"eps", -1e-8, POS},      {"weight_decay", NAN, NONNEG}, {"momentum", INFINITY, NONNEG},
        {"momentum", -1, NONNEG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nb_rmsprop_opts o = nb_rmsprop_defaults();
        const char *field = bad[i].field;
        SET(&o, lr, bad[i].value);
        SET(&o, alpha, bad[i].value);
        SET(&o, eps, bad[i].value);
        SET(&o, weight_decay, bad[i].value);
        SET(&o, momentum, bad[i].value);
        assert_null(nb_rmsprop_new(NULL, &o));
        nbt_assert_error(NB_ERR_VALUE, expected("nb_rmsprop_new", &bad[i]));
    }
}

static void test_adam_and_adamw_reject_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", NAN, NONNEG},
        {"beta1", NAN, UNIT_OPEN},
        {"beta1", 1, UNIT_OPEN},
        {"beta2", -0.1, UNIT_OPEN},
        {"beta2", NAN, UNIT_OPEN},
        {"eps", 0, POS},
        {"eps", NAN, POS},
        {"weight_decay", -1, NONNEG},
        {"weight_decay", INFINITY, NONNEG},
    };
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            nb_adam_opts o = w ? nb_adamw_defaults() : nb_adam_defaults();
            const char *field = bad[i].field;
            SET(&o, lr, bad[i].value);
            SET(&o, beta1, bad[i].value);
            SET(&o, beta2, bad[i].value);
            SET(&o, eps, bad[i].value);
            SET(&o, weight_decay, bad[i].value);
            assert_null(w ? nb_adamw_new(NULL, &o) : nb_adam_new(NULL, &o));
            nbt_assert_error(NB_ERR_VALUE, expected(w ? "nb_adamw_new" : "nb_adam_new", &bad[i]));
        }
}

/* NAdam, RAdam and Adamax share Adam's ranges; NAdam adds momentum_decay. */
#define SET_ADAM_LIKE(o, v)                                                                        \
    SET(o, lr, v);                                                                                 \
    SET(o, beta1, v);                                                                              \
    SET(o, beta2, v);                                                                              \
    SET(o, eps, v);                                                                                \
    SET(o, weight_decay, v)

static void test_nadam_radam_adamax_reject_every_bad_option(void **state)
{
    (void)state;
    const bad_option bad[] = {
        {"lr", -1, NONNEG}, {"beta1", 1, UNIT_OPEN},       {"beta2", NAN, UNIT_OPEN},
        {"eps", 0, POS},    {"weight_decay", NAN, NONNEG}, {"momentum_decay", -1, NONNEG},
    };
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            const char *field = bad[i].field;
            const char *fn = k == 0 ? "nb_nadam_new" : k == 1 ? "nb_radam_new" : "nb_adamax_new";
            nb_optim *o = NULL;
            if (k == 0) {
                nb_nadam_opts h = nb_nadam_defaults();
                SET_ADAM_LIKE(&h, bad[i].value);
                SET(&h, momentum_decay, bad[i].value);
                o = nb_nadam_new(NULL, &h);
            } else if (!strcmp(field, "momentum_decay")) {
                continue; /* NAdam's only */
            } else if (k == 1) {
                nb_radam_opts h = nb_radam_defaults();
                SET_ADAM_LIKE(&h, bad[i].value);
                o = nb_radam_new(NULL, &h);
            } else {
                nb_adamax_opts h = nb_adamax_defaults();
                SET_ADAM_LIKE(&h, bad[i].value);
                o = nb_adamax_new(NULL, &h);
            }
            assert_null(o);
            nbt_assert_error(NB_ERR_VALUE, expected(fn, &bad[i]));
        }
    /* the defaults are PyTorch's */
    assert_true(nb_nadam_defaults().lr == 2e-3 && nb_nadam_defaults().momentum_decay == 4e-3);
    assert_true(nb_radam_defaults().lr == 1e-3 && nb_adamax_defaults().lr == 2e-3);
    nb_optim *o = nb_adamax_new(NULL, NULL);
    assert_string_equal(nb_optim_name(o), "Adamax");
    nb_optim_free(o);
}

/* The setter keeps the old rate when it refuses a new one. */
static void test_set_lr_rejects_nan_inf_negative(void **state)
{
    (void)state;
    nb_optim *o = nb_sgd_new(NULL, NULL);
    const double bad[3] = {NAN, INFINITY, -1e-3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nb_optim_set_lr(o, bad[i]), NB_ERR_VALUE);
        const bad_option b = {"lr", bad[i], NONNEG};
        nbt_assert_error(NB_ERR_VALUE, expected("nb_optim_set_lr", &b));
        assert_true(nb_optim_get_lr(o) == 1e-3);
    }
    nb_optim_free(o);
}

static void test_clipping_rejects_nan_and_nonpositive_bounds(void **state)
{
    (void)state;
    nb_optim *o = nb_sgd_new(NULL, NULL);
    const double bad[3] = {NAN, 0, -1};
    for (int i = 0; i < 3; i++) {
        assert_true(isnan(nb_optim_clip_grad_norm(o, bad[i])));
        nbt_assert_error(NB_ERR_VALUE, "nb_optim_clip_grad_norm: max_norm must be > 0");
        assert_int_equal(nb_optim_clip_grad_value(o, bad[i]), NB_ERR_VALUE);
        nbt_assert_error(NB_ERR_VALUE, "nb_optim_clip_grad_value: clip must be > 0");
    }
    nb_optim_free(o);
}

static void test_schedules_reject_bad_numbers(void **state)
{
    (void)state;
    const struct {
        nb_lr_schedule s;
        const char *msg;
    } bad[] = {
        {nb_lr_constant(NAN), "nb_lr_at: base_lr must be >= 0 and finite, got nan"},
        {nb_lr_constant(-0.1), "nb_lr_at: base_lr must be >= 0 and finite, got -0.1"},
        {nb_lr_staircase(0.1, 10, NAN), "nb_lr_at: gamma must be >= 0 and finite, got nan"},
        {nb_lr_exponential(0.1, -0.5), "nb_lr_at: gamma must be >= 0 and finite, got -0.5"},
        {nb_lr_cosine(0.1, 100, INFINITY), "nb_lr_at: eta_min must be >= 0 and finite, got inf"},
        {nb_lr_with_warmup(nb_lr_constant(0.1), 10, 1.5),
         "nb_lr_at: warmup_start must be in [0, 1], got 1.5"},
        {nb_lr_with_warmup(nb_lr_constant(0.1), 10, NAN),
         "nb_lr_at: warmup_start must be in [0, 1], got nan"},
        {nb_lr_with_warmup(nb_lr_constant(0.1), -5, 0.1),
         "nb_lr_at: warmup_steps must be >= 0, got -5"},
        {{.kind = (nb_lr_kind)42, .base_lr = 0.1}, "nb_lr_at: invalid schedule (kind 42)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_true(isnan(nb_lr_at(&bad[i].s, 3)));
        nbt_assert_error(NB_ERR_VALUE, bad[i].msg);
    }
    /* valid edge values still work */
    nb_lr_schedule ok = nb_lr_with_warmup(nb_lr_exponential(0.1, 0), 2, 0);
    assert_true(nb_lr_at(&ok, 0) == 0);
    assert_true(nb_lr_at(&ok, 2) == 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_rejects_every_bad_option),
        cmocka_unit_test(test_adagrad_rejects_every_bad_option),
        cmocka_unit_test(test_adadelta_rejects_every_bad_option),
        cmocka_unit_test(test_rmsprop_rejects_every_bad_option),
        cmocka_unit_test(test_adam_and_adamw_reject_every_bad_option),
        cmocka_unit_test(test_nadam_radam_adamax_reject_every_bad_option),
        cmocka_unit_test(test_set_lr_rejects_nan_inf_negative),
        cmocka_unit_test(test_clipping_rejects_nan_and_nonpositive_bounds),
        cmocka_unit_test(test_schedules_reject_bad_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
