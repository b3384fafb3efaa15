/* tests/optim/test_optim.c — optim/optim.c: parameters and named state (checkpoint
 * round-trip), step count, learning rate, NaN gradients, gradient clipping by norm and value,
 * learning-rate schedules. */
#include "optim_problem.h"

#include <string.h>

static void test_named_state_lists_step_then_per_parameter_state(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_module *net = nb_sequential_new(
        2, (nb_module *[]){nb_linear_new(3, 2, true, &r), nb_linear_new(2, 1, false, &r)});
    nb_adam_opts h = nb_adam_defaults();
    h.amsgrad = true;
    nb_optim *o = nb_adam_new(net, &h);
    assert_int_equal(nb_optim_num_params(o), 3);
    nb_named_tensor st[16];
    const int n = nb_optim_named_state(o, st, 16);
    assert_int_equal(n, 1 + 3 * 3);
    assert_string_equal(st[0].name, "step");
    assert_int_equal(nb_tensor_dtype(st[0].tensor), NB_I64);
    assert_string_equal(st[1].name, "0.weight.exp_avg");
    assert_string_equal(st[2].name, "0.weight.exp_avg_sq");
    assert_string_equal(st[3].name, "0.weight.max_exp_avg_sq");
    assert_string_equal(st[4].name, "0.bias.exp_avg");
    assert_string_equal(st[9].name, "1.weight.max_exp_avg_sq");
    assert_int_equal(nb_tensor_dim(st[1].tensor, 0), 2);
    assert_int_equal(nb_tensor_dim(st[1].tensor, 1), 3);
    assert_int_equal(nb_optim_named_state(o, NULL, 0), n);
    nb_optim_free(o);
    /* Plain SGD has only the step. */
    nb_optim *s = nb_sgd_new(net, NULL);
    assert_int_equal(nb_optim_named_state(s, st, 16), 1);
    nb_optim_free(s);
    nb_module_free(net);
}

/* Copying parameters and optimizer state into a fresh optimizer continues the same run. */
static void test_restoring_named_state_resumes_the_trajectory(void **state)
{
    (void)state;
    nb_rmsprop_opts h = nb_rmsprop_defaults();
    h.momentum = 0.9;
    h.centered = true;
    quad a = quad_new(NB_F64), b = quad_new(NB_F64);
    nb_optim *oa = nb_rmsprop_new(a.m, &h), *ob = nb_rmsprop_new(b.m, &h);
    for (int s = 0; s < 5; s++)
        quad_step(&a, oa);
    /* "checkpoint": parameters and state of a into b */
    nb_tensor_copy_into(b.p, a.p);
    nb_named_tensor sa[8], sb[8];
    const int n = nb_optim_named_state(oa, sa, 8);
    assert_int_equal(nb_optim_named_state(ob, sb, 8), n);
    for (int i = 0; i < n; i++) {
        assert_string_equal(sa[i].name, sb[i].name);
        assert_int_equal(nb_tensor_copy_into(sb[i].tensor, sa[i].tensor), NB_OK);
    }
    assert_int_equal(nb_optim_update_count(ob), 5);
    for (int s = 0; s < 3; s++) {
        quad_step(&a, oa);
        quad_step(&b, ob);
    }
    assert_true(nb_tensor_allclose(a.p, b.p, 0, 0));
    nb_optim_free(oa);
    nb_optim_free(ob);
    quad_free(&a);
    quad_free(&b);
}

static void test_set_lr_changes_the_next_step(void **state)
{
    (void)state;
    quad q = quad_new(NB_F64);
    nb_optim *o = nb_sgd_new(q.m, &(nb_sgd_opts){.lr = 0.1});
    assert_int_equal(nb_optim_set_lr(o, 0.5), NB_OK);
    assert_float_equal(nb_optim_get_lr(o), 0.5, 0);
    quad_step(&q, o);
    assert_float_equal(nb_tensor_get(q.p, 0), QP0[0] - 0.5 * quad_grad(0, QP0[0]), 1e-15);
    assert_int_equal(nb_optim_set_lr(o, -1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_set_lr: lr must be >= 0 and finite, got -1");
    nb_optim_free(o);
    quad_free(&q);
}

static void test_step_refuses_non_finite_gradients_and_updates_nothing(void **state)
{
    (void)state;
    quad q = quad_new(NB_F32);
    nb_optim *o = nb_adam_new(q.m, NULL);
    nb_tensor_fill(nb_tensor_grad(q.p), 1.0);
    nb_tensor_set(nb_tensor_grad(q.p), 2, NAN);
    assert_int_equal(nb_optim_update(o), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_optim_update: Adam: the gradient of \"w\" holds NaN or Inf");
    assert_int_equal(nb_optim_update_count(o), 0);
    for (int i = 0; i < QN; i++)
        assert_float_equal(nb_tensor_get(q.p, i), QP0[i], 0);
    nb_tensor_set(nb_tensor_grad(q.p), 2, INFINITY);
    assert_int_equal(nb_optim_update(o), NB_ERR_VALUE);
    nb_clear_error();
    nb_optim_free(o);
    quad_free(&q);
}

static void test_add_param_rejects_bad_tensors(void **state)
{
    (void)state;
    nb_optim *o = nb_sgd_new(NULL, NULL);
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 1, (int64_t[]){3});
    assert_int_equal(nb_optim_add_param(o, "ids", ids), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_optim_add_param: SGD: \"ids\" must be f32 or f64, got i64");
    nb_tensor *m = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 3});
    nb_tensor *mt = nb_transpose(m, 0, 1);
    assert_int_equal(nb_optim_add_param(o, "mt", mt), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "\"mt\" [3, 2] is not contiguous");
    assert_int_equal(nb_optim_add_param(o, "m", m), NB_OK);
    assert_int_equal(nb_optim_add_param(o, "m2", m), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "already added");
    assert_int_equal(nb_optim_add_param(o, "", m), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_free(mt);
    nb_tensor_free(m);
    nb_tensor_free(ids);
    nb_optim_free(o);
}

static void test_optim_zero_grad_clears_its_parameters(void **state)
{
    (void)state;
    quad q = quad_new(NB_F64);
    nb_optim *o = nb_sgd_new(q.m, NULL);
    nb_tensor_fill(nb_tensor_grad(q.p), 3.0);
    nb_optim_zero_grad(o);
    for (int i = 0; i < QN; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(q.p), i), 0.0, 0);
    nb_optim_free(o);
    quad_free(&q);
}

/* ---- clipping ---- */

static void set_grads(nb_module *m, const double *g, int64_t n)
{
    nb_tensor *gb = nb_module_grad_buffer(m);
    for (int64_t i = 0; i < n; i++)
        nb_tensor_set(gb, i, g[i]);
}

static void test_clip_grad_norm_returns_norm_and_rescales_to_max(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(2);
    nb_module *net =
        nb_sequential_new(2, (nb_module *[]){nb_linear_new_ex(2, 2, true, &r, NB_F64),
                                             nb_linear_new_ex(2, 1, false, &r, NB_F64)});
    const int64_t n = nb_module_num_params(net); /* 6 + 2 = 8 */
    assert_int_equal(n, 8);
    double g[8], sq = 0;
    for (int i = 0; i < 8; i++) {
        g[i] = (i % 3) - 0.7 * i;
        sq += g[i] * g[i];
    }
    set_grads(net, g, n);
    const double norm = nb_clip_grad_norm(net, 1.0);
    assert_float_equal(norm, sqrt(sq), 1e-12);
    double after = 0;
    for (int i = 0; i < 8; i++) {
        const double v = nb_tensor_get(nb_module_grad_buffer(net), i);
        assert_float_equal(v, g[i] * 1.0 / (sqrt(sq) + 1e-6), 1e-12); /* direction kept */
        after += v * v;
    }
    assert_float_equal(sqrt(after), 1.0, 1e-5);
    /* Below the threshold nothing changes. */
    set_grads(net, g, n);
    assert_float_equal(nb_clip_grad_norm(net, 100.0), sqrt(sq), 1e-12);
    assert_float_equal(nb_tensor_get(nb_module_grad_buffer(net), 7), g[7], 0);
    /* The optimizer form gives the same result over the same gradients. */
    nb_optim *o = nb_sgd_new(net, NULL);
    assert_float_equal(nb_optim_clip_grad_norm(o, 1.0), sqrt(sq), 1e-12);
    assert_float_equal(nb_tensor_get(nb_module_grad_buffer(net), 7), g[7] / (sqrt(sq) + 1e-6),
                       1e-12);
    assert_true(isnan(nb_clip_grad_norm(net, 0.0)));
    nbt_assert_error(NB_ERR_VALUE, "nb_clip_grad_norm: max_norm must be > 0, got 0");
    nb_optim_free(o);
    nb_module_free(net);
}

static void test_clip_grad_value_clamps_each_element(void **state)
{
    (void)state;
    quad q = quad_new(NB_F32);
    const double g[QN] = {-3.0, 0.2, 0.6, -0.1};
    set_grads(q.m, g, QN);
    assert_int_equal(nb_clip_grad_value(q.m, 0.5), NB_OK);
    const double want[QN] = {-0.5, 0.2, 0.5, -0.1};
    for (int i = 0; i < QN; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(q.p), i), want[i], 1e-7);
    nb_optim *o = nb_sgd_new(q.m, NULL);
    assert_int_equal(nb_optim_clip_grad_value(o, 0.15), NB_OK);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(q.p), 0), -0.15, 1e-7);
    assert_float_equal(nb_tensor_get(nb_tensor_grad(q.p), 3), -0.1, 1e-7);
    assert_int_equal(nb_clip_grad_value(q.m, -1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "clip must be > 0");
    nb_optim_free(o);
    quad_free(&q);
}

static void test_clip_grad_norm_reports_non_finite_norm(void **state)
{
    (void)state;
    quad q = quad_new(NB_F64);
    const double g[QN] = {1.0, INFINITY, 0.0, 2.0};
    set_grads(q.m, g, QN);
    assert_true(isinf(nb_clip_grad_norm(q.m, 1.0)));
    nbt_assert_error(NB_ERR_VALUE, "the gradient norm is inf; gradients left unchanged");
    assert_float_equal(nb_tensor_get(nb_tensor_grad(q.p), 0), 1.0, 0);
    quad_free(&q);
}

/* ---- schedules ---- */

static void test_step_and_exponential_schedules(void **state)
{
    (void)state;
    nb_lr_schedule s = nb_lr_staircase(0.1, 3, 0.5);
    const double want[8] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
    for (int t = 0; t < 8; t++)
        assert_float_equal(nb_lr_at(&s, t), want[t], 1e-15);
    nb_lr_schedule e = nb_lr_exponential(0.2, 0.9);
    for (int t = 0; t < 8; t++)
        assert_float_equal(nb_lr_at(&e, t), 0.2 * pow(0.9, t), 1e-15);
    nb_lr_schedule c = nb_lr_constant(0.3);
    assert_float_equal(nb_lr_at(&c, 1000), 0.3, 0);
}

static void test_cosine_schedule_anneals_to_eta_min_and_stays(void **state)
{
    (void)state;
    const double pi = 3.14159265358979323846;
    nb_lr_schedule s = nb_lr_cosine(1.0, 10, 0.1);
    assert_float_equal(nb_lr_at(&s, 0), 1.0, 1e-15);
    assert_float_equal(nb_lr_at(&s, 5), 0.55, 1e-15);
    assert_float_equal(nb_lr_at(&s, 3), 0.1 + 0.9 * (1 + cos(pi * 0.3)) / 2, 1e-15);
    assert_float_equal(nb_lr_at(&s, 10), 0.1, 1e-15);
    assert_float_equal(nb_lr_at(&s, 25), 0.1, 1e-15);
    for (int t = 1; t <= 10; t++)
        assert_true(nb_lr_at(&s, t) < nb_lr_at(&s, t - 1));
}

static void test_warmup_ramps_linearly_then_hands_over(void **state)
{
    (void)state;
    nb_lr_schedule s = nb_lr_with_warmup(nb_lr_cosine(1.0, 10, 0.0), 4, 0.2);
    /* 0.2, 0.4, 0.6, 0.8 of schedule(0) = 1, then the cosine from its step 0. */
    for (int t = 0; t < 4; t++)
        assert_float_equal(nb_lr_at(&s, t), 0.2 + 0.8 * t / 4.0, 1e-15);
    assert_float_equal(nb_lr_at(&s, 4), 1.0, 1e-15);
    assert_float_equal(nb_lr_at(&s, 9), 0.5, 1e-15);
    assert_float_equal(nb_lr_at(&s, 14), 0.0, 1e-15);
    nb_lr_schedule st = nb_lr_with_warmup(nb_lr_staircase(0.1, 2, 0.1), 2, 0.0);
    assert_float_equal(nb_lr_at(&st, 0), 0.0, 0);
    assert_float_equal(nb_lr_at(&st, 1), 0.05, 1e-15);
    assert_float_equal(nb_lr_at(&st, 2), 0.1, 1e-15);
    assert_float_equal(nb_lr_at(&st, 4), 0.01, 1e-15);
}

static void test_invalid_schedule_gives_nan_with_message(void **state)
{
    (void)state;
    nb_lr_schedule s = nb_lr_staircase(0.1, 0, 0.5);
    assert_true(isnan(nb_lr_at(&s, 3)));
    nbt_assert_error(NB_ERR_VALUE, "nb_lr_at: invalid schedule");
    assert_true(isnan(nb_lr_at(NULL, 0)));
    nbt_assert_error(NB_ERR_VALUE, "schedule is NULL");
}

static void test_schedule_drives_the_optimizer(void **state)
{
    (void)state;
    quad q = quad_new(NB_F64);
    nb_lr_schedule s = nb_lr_staircase(0.1, 1, 0.5);
    nb_optim *o = nb_sgd_new(q.m, NULL);
    double p[QN];
    memcpy(p, QP0, sizeof p);
    for (int t = 0; t < 3; t++) {
        nb_optim_set_lr(o, nb_lr_at(&s, t));
        quad_step(&q, o);
        for (int i = 0; i < QN; i++)
            p[i] -= 0.1 * pow(0.5, t) * quad_grad(i, p[i]);
    }
    for (int i = 0; i < QN; i++)
        assert_float_equal(nb_tensor_get(q.p, i), p[i], 1e-15);
    nb_optim_free(o);
    quad_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_state_lists_step_then_per_parameter_state),
        cmocka_unit_test(test_restoring_named_state_resumes_the_trajectory),
        cmocka_unit_test(test_set_lr_changes_the_next_step),
        cmocka_unit_test(test_step_refuses_non_finite_gradients_and_updates_nothing),
        cmocka_unit_test(test_add_param_rejects_bad_tensors),
        cmocka_unit_test(test_optim_zero_grad_clears_its_parameters),
        cmocka_unit_test(test_clip_grad_norm_returns_norm_and_rescales_to_max),
        cmocka_unit_test(test_clip_grad_value_clamps_each_element),
        cmocka_unit_test(test_clip_grad_norm_reports_non_finite_norm),
        cmocka_unit_test(test_step_and_exponential_schedules),
        cmocka_unit_test(test_cosine_schedule_anneals_to_eta_min_and_stays),
        cmocka_unit_test(test_warmup_ramps_linearly_then_hands_over),
        cmocka_unit_test(test_invalid_schedule_gives_nan_with_message),
        cmocka_unit_test(test_schedule_drives_the_optimizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
