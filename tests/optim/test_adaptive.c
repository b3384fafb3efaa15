/* tests/optim/test_adaptive.c — optim/adaptive.c: Adagrad, AdaDelta, RMSprop (plain, centered,
 * momentum), Adam (with L2 and AMSGrad) and AdamW against their update formulas computed
 * directly over three steps, convergence on a convex quadratic, option errors. */
#include "optim_problem.h"

#include <string.h>

/* ---- reference updates (PyTorch's formulas, in double) ---- */

static void adagrad_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    const nb_adagrad_opts *h = opts;
    const double clr = h->lr / (1 + (double)(t - 1) * h->lr_decay);
    for (int i = 0; i < QN; i++) {
        const double g = quad_grad(i, p[i]) + h->weight_decay * p[i];
        st[0][i] += g * g;
        p[i] -= clr * g / (sqrt(st[0][i]) + h->eps);
    }
}

static void adadelta_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    const nb_adadelta_opts *h = opts;
    (void)t;
    for (int i = 0; i < QN; i++) {
        const double g = quad_grad(i, p[i]) + h->weight_decay * p[i];
        double *v = &st[0][i], *u = &st[1][i];
        *v = h->rho * *v + (1 - h->rho) * g * g;
        const double d = sqrt(*u + h->eps) / sqrt(*v + h->eps) * g;
        *u = h->rho * *u + (1 - h->rho) * d * d;
        p[i] -= h->lr * d;
    }
}

static void rmsprop_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    const nb_rmsprop_opts *h = opts;
    (void)t;
    for (int i = 0; i < QN; i++) {
        const double g = quad_grad(i, p[i]) + h->weight_decay * p[i];
        double *v = &st[0][i], *m = &st[1][i], *b = &st[2][i];
        *v = h->alpha * *v + (1 - h->alpha) * g * g;
        double den;
        if (h->centered) {
            *m = h->alpha * *m + (1 - h->alpha) * g;
            den = sqrt(*v - *m * *m) + h->eps;
        } else {
            den = sqrt(*v) + h->eps;
        }
        if (h->momentum > 0) {
            *b = h->momentum * *b + g / den;
            p[i] -= h->lr * *b;
        } else {
            p[i] -= h->lr * g / den;
        }
    }
}

static void adam_ref_common(const nb_adam_opts *h, bool decoupled, double *p, double st[3][QN],
                            int64_t t)
{
    for (int i = 0; i < QN; i++) {
        double g = quad_grad(i, p[i]); /* at the parameter before decay, like autograd gives */
        if (decoupled)
            p[i] *= 1 - h->lr * h->weight_decay;
        else
            g += h->weight_decay * p[i];
        double *m = &st[0][i], *v = &st[1][i], *vmax = &st[2][i];
        *m = h->beta1 * *m + (1 - h->beta1) * g;
        *v = h->beta2 * *v + (1 - h->beta2) * g * g;
        double vv = *v;
        if (h->amsgrad) {
            *vmax = fmax(*vmax, *v);
            vv = *vmax;
        }
        const double bc1 = 1 - pow(h->beta1, (double)t), bc2 = 1 - pow(h->beta2, (double)t);
        p[i] -= h->lr / bc1 * *m / (sqrt(vv) / sqrt(bc2) + h->eps);
    }
}

static void adam_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    adam_ref_common(opts, false, p, st, t);
}

static void adamw_ref(const void *opts, double *p, double st[3][QN], int64_t t)
{
    adam_ref_common(opts, true, p, st, t);
}

/* ---- three steps against the formulas ---- */

static void test_adagrad_matches_formula(void **state)
{
    (void)state;
    nb_adagrad_opts h = {.lr = 0.1,
                         .lr_decay = 0.05,
                         .weight_decay = 0.02,
                         .initial_accumulator_value = 0.1,
                         .eps = 1e-10};
    quad q = quad_new(NB_F64);
    nb_optim *o = nb_adagrad_new(q.m, &h);
    expect_three_steps(o, &q, adagrad_ref, &h, h.initial_accumulator_value, 1e-14);
    nb_optim_free(o);
    quad_free(&q);
}

static void test_adadelta_matches_formula(void **state)
{
    (void)state;
    nb_adadelta_opts h = {.lr = 1.0, .rho = 0.9, .eps = 1e-6, .weight_decay = 0.01};
    quad q = quad_new(NB_F64);
    nb_optim *o = nb_adadelta_new(q.m, &h);
    expect_three_steps(o, &q, adadelta_ref, &h, 0.0, 1e-14);
    nb_optim_free(o);
    quad_free(&q);
}

static void test_rmsprop_plain_centered_and_momentum_match_formula(void **state)
{
    (void)state;
    const nb_rmsprop_opts cases[] = {
        {.lr = 0.01, .alpha = 0.99, .eps = 1e-8},
        {.lr = 0.01, .alpha = 0.9, .eps = 1e-8, .centered = true, .weight_decay = 0.1},
        {.lr = 0.01, .alpha = 0.9, .eps = 1e-8, .momentum = 0.8},
        {.lr = 0.01, .alpha = 0.9, .eps = 1e-8, .momentum = 0.5, .centered = true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        quad q = quad_new(NB_F64);
        nb_optim *o = nb_rmsprop_new(q.m, &cases[c]);
        expect_three_steps(o, &q, rmsprop_ref, &cases[c], 0.0, 1e-13);
        nb_optim_free(o);
        quad_free(&q);
    }
}

static void test_adam_with_l2_and_amsgrad_matches_formula(void **state)
{
    (void)state;
    const nb_adam_opts cases[] = {
        {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
        {.lr = 0.1, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1, .amsgrad = true},
    };
    for (size_t c = 0; c < 2; c++) {
        quad q = quad_new(NB_F64);
        nb_optim *o = nb_adam_new(q.m, &cases[c]);
        expect_three_steps(o, &q, adam_ref, &cases[c], 0.0, 1e-14);
        nb_optim_free(o);
        quad_free(&q);
    }
}

static void test_adamw_decouples_weight_decay(void **state)
{
    (void)state;
    nb_adam_opts h = nb_adamw_defaults();
    h.lr = 0.1;
    h.weight_decay = 0.5;
    quad q = quad_new(NB_F64);
    nb_optim *o = nb_adamw_new(q.m, &h);
    assert_string_equal(nb_optim_name(o), "AdamW");
    expect_three_steps(o, &q, adamw_ref, &h, 0.0, 1e-14);
    nb_optim_free(o);
    quad_free(&q);
    /* The same settings with L2 decay (Adam) give a different trajectory. */
    quad q2 = quad_new(NB_F64);
    nb_optim *a = nb_adam_new(q2.m, &h);
    for (int s = 0; s < 3; s++)
        quad_step(&q2, a);
    double p[QN], st[3][QN] = {{0}};
    memcpy(p, QP0, sizeof p);
    for (int64_t t = 1; t <= 3; t++)
        adamw_ref(&h, p, st, t);
    assert_true(fabs(nb_tensor_get(q2.p, 0) - p[0]) > 1e-4);
    nb_optim_free(a);
    quad_free(&q2);
}

static void test_adam_in_f32_matches_formula(void **state)
{
    (void)state;
    nb_adam_opts h = nb_adam_defaults();
    h.lr = 0.05;
    quad q = quad_new(NB_F32);
    nb_optim *o = nb_adam_new(q.m, &h);
    expect_three_steps(o, &q, adam_ref, &h, 0.0, 2e-6);
    nb_optim_free(o);
    quad_free(&q);
}

/* ---- convergence ---- */

static void test_adaptive_methods_minimise_a_convex_quadratic(void **state)
{
    (void)state;
    nb_adagrad_opts ag = nb_adagrad_defaults();
    ag.lr = 0.5;
    nb_adadelta_opts ad = nb_adadelta_defaults();
    ad.eps = 1e-4;
    nb_rmsprop_opts rp = nb_rmsprop_defaults();
    rp.lr = 0.01;
    nb_rmsprop_opts rpc = rp;
    rpc.centered = true;
    rpc.momentum = 0.5;
    nb_adam_opts am = nb_adam_defaults();
    am.lr = 0.05;
    nb_adam_opts aw = nb_adamw_defaults();
    aw.lr = 0.05;
    aw.weight_decay = 0; /* with decay the minimum moves */
    for (int c = 0; c < 6; c++) {
        quad q = quad_new(NB_F64);
        nb_optim *o = c == 0   ? nb_adagrad_new(q.m, &ag)
                      : c == 1 ? nb_adadelta_new(q.m, &ad)
                      : c == 2 ? nb_rmsprop_new(q.m, &rp)
                      : c == 3 ? nb_rmsprop_new(q.m, &rpc)
                      : c == 4 ? nb_adam_new(q.m, &am)
                               : nb_adamw_new(q.m, &aw);
        assert_non_null(o);
        /* RMSprop and Adam hover within about lr of the minimum; the others settle. */
        expect_minimises(o, &q, 3000, c >= 2 ? 2e-2 : 1e-4);
        nb_optim_free(o);
        quad_free(&q);
    }
}

static void test_adaptive_constructors_reject_invalid_options(void **state)
{
    (void)state;
    nb_adam_opts a = nb_adam_defaults();
    a.beta1 = 1.0;
    assert_null(nb_adam_new(NULL, &a));
    nbt_assert_error(NB_ERR_VALUE, "nb_adam_new: beta1 must be in [0, 1), got 1");
    nb_adadelta_opts d = nb_adadelta_defaults();
    d.rho = 1.5;
    assert_null(nb_adadelta_new(NULL, &d));
    nbt_assert_error(NB_ERR_VALUE, "nb_adadelta_new: rho must be in [0, 1], got 1.5");
    nb_adagrad_opts g = nb_adagrad_defaults();
    g.eps = -1;
    assert_null(nb_adagrad_new(NULL, &g));
    nbt_assert_error(NB_ERR_VALUE, "nb_adagrad_new: eps must be > 0 and finite, got -1");
    nb_rmsprop_opts r = nb_rmsprop_defaults();
    r.lr = NAN;
    assert_null(nb_rmsprop_new(NULL, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_rmsprop_new: lr must be >= 0");
}

static void test_adaptive_defaults_are_pytorch_defaults(void **state)
{
    (void)state;
    assert_float_equal(nb_adam_defaults().beta2, 0.999, 0);
    assert_float_equal(nb_adam_defaults().weight_decay, 0, 0);
    assert_float_equal(nb_adamw_defaults().weight_decay, 1e-2, 0);
    assert_float_equal(nb_rmsprop_defaults().alpha, 0.99, 0);
    assert_float_equal(nb_adadelta_defaults().lr, 1.0, 0);
    assert_float_equal(nb_adagrad_defaults().eps, 1e-10, 0);
    nb_optim *o = nb_adamw_new(NULL, NULL);
    assert_float_equal(nb_optim_get_lr(o), 1e-3, 0);
    nb_optim_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adagrad_matches_formula),
        cmocka_unit_test(test_adadelta_matches_formula),
        cmocka_unit_test(test_rmsprop_plain_centered_and_momentum_match_formula),
        cmocka_unit_test(test_adam_with_l2_and_amsgrad_matches_formula),
        cmocka_unit_test(test_adamw_decouples_weight_decay),
        cmocka_unit_test(test_adam_in_f32_matches_formula),
        cmocka_unit_test(test_adaptive_methods_minimise_a_convex_quadratic),
        cmocka_unit_test(test_adaptive_constructors_reject_invalid_options),
        cmocka_unit_test(test_adaptive_defaults_are_pytorch_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
