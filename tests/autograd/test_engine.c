/* tests/autograd/test_engine.c — autograd/engine.c and autograd/arena.c: what gets recorded,
 * no-grad mode, gradient accumulation, memory reuse across steps (steady state allocates
 * nothing), detach, anomaly mode, and the state errors (backward misuse, nested steps, tensors
 * used after their step ended). */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static nb_tensor *vec(nb_dtype dt, int n, const double *v)
{
    const int64_t s[1] = {n};
    nb_tensor *t = nb_tensor_new(dt, 1, s);
    for (int i = 0; i < n; i++)
        nb_tensor_set(t, i, v[i]);
    return t;
}

static void test_tape_records_only_ops_whose_inputs_require_grad(void **state)
{
    (void)state;
    const double v[3] = {1, 2, 3};
    nb_tensor *x = vec(NB_F32, 3, v), *c = vec(NB_F32, 3, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    assert_ptr_equal(nb_step_active(), step);
    nb_tensor *k = nb_exp(nb_mul(c, c)); /* constants only: nothing recorded */
    assert_false(nb_tensor_requires_grad(k));
    assert_int_equal(nb_step_tape_length(step), 0);
    nb_tensor *y = nb_mul(x, k); /* one record */
    assert_true(nb_tensor_requires_grad(y));
    assert_int_equal(nb_step_tape_length(step), 1);
    nb_tensor *z = nb_tanh(y);
    assert_int_equal(nb_step_tape_length(step), 2);
    /* A broadcast input adds its expand record. */
    nb_tensor *s = nb_tensor_new(NB_F32, 0, NULL);
    nb_tensor *w = nb_add(z, s);
    assert_int_equal(nb_step_tape_length(step), 3); /* s needs no grad: its expand is not kept */
    nb_tensor_set_requires_grad(s, true);
    w = nb_add(w, s);
    assert_int_equal(nb_step_tape_length(step), 5);
    assert_int_equal(nb_backward(nb_sum_all(w)), NB_OK);
    nb_step_end(step);
    assert_null(nb_step_active());
    assert_int_equal(nb_step_tape_length(step), 0);
    /* Only the second add saw s requiring grad: d/ds = 3 (s broadcast over 3 elements). */
    assert_float_equal(nb_tensor_item(nb_tensor_grad(s)), 3.0, 0);
    nb_step_free(step);
    nb_tensor_free(s);
    nb_tensor_free(c);
    nb_tensor_free(x);
}

static void test_no_grad_mode_records_nothing(void **state)
{
    (void)state;
    const double v[2] = {1, 2};
    nb_tensor *x = vec(NB_F64, 2, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_true(nb_is_grad_enabled());
    assert_true(nb_set_grad_enabled(false));
    assert_false(nb_is_grad_enabled());
    nb_tensor *y = nb_sum_all(nb_square(x));
    assert_false(nb_tensor_requires_grad(y));
    assert_int_equal(nb_step_tape_length(step), 0);
    assert_float_equal(nb_tensor_item(y), 5.0, 0);
    assert_int_equal(nb_backward(y), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE,
                     "nb_backward: the loss does not depend on any tensor that requires grad");
    assert_false(nb_set_grad_enabled(true));
    y = nb_sum_all(nb_square(x));
    assert_true(nb_tensor_requires_grad(y));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* Without a step ops return caller-owned tensors and record nothing. */
static void test_ops_without_a_step_are_caller_owned_and_unrecorded(void **state)
{
    (void)state;
    const double v[3] = {1, 4, 9};
    nb_tensor *x = vec(NB_F64, 3, v);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_sqrt(x);
    assert_non_null(y);
    assert_false(nb_tensor_requires_grad(y));
    const double r[3] = {1, 2, 3};
    nbt_assert_values(y, r, 0);
    nb_tensor *s = nb_sum_all(y);
    assert_int_equal(nb_backward(s), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_backward: no active step");
    nb_tensor_free(s);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_backward_accumulates_across_calls_and_steps(void **state)
{
    (void)state;
    const double v[3] = {1, -2, 0.5};
    nb_tensor *x = vec(NB_F64, 3, v);
    nb_tensor_set_requires_grad(x, true);
    assert_null(nb_tensor_grad(x));
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *loss = nb_sum_all(nb_square(x)); /* d/dx = 2x */
    assert_int_equal(nb_backward(loss), NB_OK);
    const double g1[3] = {2, -4, 1}, g2[3] = {4, -8, 2}, g3[3] = {6, -12, 3};
    nbt_assert_values(nb_tensor_grad(x), g1, 0);
    assert_int_equal(nb_backward(loss), NB_OK); /* same loss again: adds */
    nbt_assert_values(nb_tensor_grad(x), g2, 0);
    nb_step_end(step);
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_square(x))), NB_OK); /* next step: adds */
    nbt_assert_values(nb_tensor_grad(x), g3, 0);
    nb_step_end(step);
    nb_tensor_zero_grad(x);
    const double z[3] = {0, 0, 0};
    nbt_assert_values(nb_tensor_grad(x), z, 0);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* A leaf used by several ops (and twice by one op) gets the sum of all contributions. */
static void test_leaf_used_twice_gets_summed_gradient(void **state)
{
    (void)state;
    const double xv[3] = {1, 2, 3}, wv[3] = {0.5, -1, 2};
    nb_tensor *x = vec(NB_F64, 3, xv), *w = vec(NB_F64, 3, wv);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(w, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    /* L = sum(x * w + x + x * x) -> dL/dx = w + 1 + 2x, dL/dw = x */
    nb_tensor *loss = nb_sum_all(nb_add(nb_add(nb_mul(x, w), x), nb_mul(x, x)));
    assert_int_equal(nb_backward(loss), NB_OK);
    nb_step_end(step);
    double gx[3];
    for (int i = 0; i < 3; i++)
        gx[i] = wv[i] + 1 + 2 * xv[i];
    nbt_assert_values(nb_tensor_grad(x), gx, 1e-15);
    nbt_assert_values(nb_tensor_grad(w), xv, 0);
    nb_step_free(step);
    nb_tensor_free(w);
    nb_tensor_free(x);
}

/* A reshape hands its output gradient over as its input's (no copy), except when that output
 * retains its gradient: then it keeps its own, and what later flows into the input (here from
 * z, recorded before the reshape) does not show in it. */
static void test_retained_reshape_keeps_its_own_gradient(void **state)
{
    (void)state;
    const double xv[4] = {0.5, -1, 2, 3};
    nb_tensor *x = vec(NB_F64, 4, xv);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    for (int retain = 0; retain < 2; retain++) {
        nb_tensor_zero_grad(x);
        nb_step_begin(step);
        nb_tensor *t = nb_mul_scalar(x, 2);
        nb_tensor *z = nb_mul_scalar(t, 3);
        nb_tensor *y = nb_reshape(t, 2, (const int64_t[]){2, 2});
        if (retain)
            assert_int_equal(nb_tensor_retain_grad(y), NB_OK);
        assert_int_equal(nb_backward(nb_add(nb_sum_all(nb_square(y)), nb_sum_all(z))), NB_OK);
        double gy[4], gx[4];
        for (int i = 0; i < 4; i++) {
            gy[i] = 2 * (2 * xv[i]); /* d/dy of sum(y^2) */
            gx[i] = 2 * (gy[i] + 3); /* through t = 2x, from y and from z = 3t */
        }
        nbt_assert_values(nb_tensor_grad(x), gx, 1e-14);
        if (retain)
            nbt_assert_values(nb_tensor_grad(y), gy, 0);
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(x);
}

/* Intermediate gradients are released to later ones during backward unless retained; the reused
 * buffers give the same gradients as fresh ones: a chain of same-shaped tanh layers. */
static void test_intermediate_gradients_are_reused_unless_retained(void **state)
{
    (void)state;
    const double xv[4] = {0.1, -0.4, 0.7, 0.25};
    nb_tensor *x = vec(NB_F64, 4, xv);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *h[6] = {x};
    for (int k = 1; k < 6; k++)
        h[k] = nb_tanh(nb_mul_scalar(h[k - 1], 1.5));
    assert_int_equal(nb_tensor_retain_grad(h[2]), NB_OK);
    assert_int_equal(nb_backward(nb_sum_all(h[5])), NB_OK);
    /* dL/dh[k-1] = dL/dh[k] * (1 - h[k]^2) * 1.5, from dL/dh[5] = 1 */
    double g[6][4];
    for (int i = 0; i < 4; i++) {
        g[5][i] = 1;
        for (int k = 5; k >= 1; k--) {
            double y = nb_tensor_get(h[k], i);
            g[k - 1][i] = g[k][i] * (1 - y * y) * 1.5;
        }
    }
    nbt_assert_values(nb_tensor_grad(x), g[0], 1e-14);
    nbt_assert_values(nb_tensor_grad(h[2]), g[2], 1e-14);
    assert_null(nb_tensor_grad(h[3]));
    nb_step_end(step);
    assert_int_equal(nb_tensor_retain_grad(NULL), NB_ERR_VALUE);
    nb_clear_error();
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_backward_ex_takes_a_seed_gradient(void **state)
{
    (void)state;
    const double xv[3] = {1, 2, 3}, sv[3] = {1, 10, 100};
    nb_tensor *x = vec(NB_F64, 3, xv), *seed = vec(NB_F64, 3, sv), *bad = vec(NB_F64, 2, sv);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_mul_scalar(x, 3);
    assert_int_equal(nb_backward_ex(y, bad), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_backward: seed is f64 [2], output is f64 [3]");
    assert_int_equal(nb_backward_ex(y, seed), NB_OK);
    const double g[3] = {3, 30, 300};
    nbt_assert_values(nb_tensor_grad(x), g, 0);
    /* A leaf as the output: its gradient is the seed. */
    assert_int_equal(nb_backward_ex(x, seed), NB_OK);
    const double g2[3] = {4, 40, 400};
    nbt_assert_values(nb_tensor_grad(x), g2, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(bad);
    nb_tensor_free(seed);
    nb_tensor_free(x);
}

static void test_detach_stops_gradients(void **state)
{
    (void)state;
    const double v[3] = {1, 2, 3};
    nb_tensor *x = vec(NB_F64, 3, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *d = nb_detach(x);
    assert_false(nb_tensor_requires_grad(d));
    assert_ptr_equal(nb_tensor_data(d), nb_tensor_data(x));
    /* L = sum(x * detach(x)): dL/dx = detach(x) = x, not 2x. */
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(x, d))), NB_OK);
    nbt_assert_values(nb_tensor_grad(x), v, 0);
    /* Detaching an intermediate cuts the graph there. */
    nb_tensor_zero_grad(x);
    nb_tensor *h = nb_detach(nb_exp(x));
    assert_int_equal(nb_backward(nb_sum_all(nb_add(h, x))), NB_OK);
    const double ones[3] = {1, 1, 1};
    nbt_assert_values(nb_tensor_grad(x), ones, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* One training step of a small MLP with an in-place SGD update (run between begin and end). */
static nb_status mlp_step(nb_step *step, nb_tensor *x, nb_tensor *y, nb_tensor *const *p, int np)
{
    nb_status st = nb_step_begin(step);
    nb_tensor *h = nb_relu(nb_linear(x, p[0], p[1]));
    nb_tensor *logits = nb_linear(h, p[2], p[3]);
    nb_tensor *loss = nb_add(nb_cross_entropy(logits, y, NB_REDUCE_MEAN),
                             nb_mul_scalar(nb_sum_all(nb_square(p[0])), 1e-4));
    if (st == NB_OK)
        st = loss ? nb_backward(loss) : nb_last_status();
    for (int i = 0; i < np && st == NB_OK; i++) {
        float *w = nb_tensor_data_f32(p[i]);
        const float *g = nb_tensor_data_f32(nb_tensor_grad(p[i]));
        for (int64_t j = 0; j < nb_tensor_numel(p[i]); j++)
            w[j] -= 0.1f * g[j];
        nb_tensor_zero_grad(p[i]);
    }
    nb_step_end(step);
    return st;
}

/* After a warm-up step the arena keeps its size and no step allocates anything: memory is
 * reused, not allocated per op. Run with a small and with a larger-than-a-chunk model. */
static void check_steady_state(int64_t batch, int64_t n_in, int64_t hidden)
{
    const int64_t sx[2] = {batch, n_in}, sy[1] = {batch};
    const int64_t shapes[4][2] = {{hidden, n_in}, {hidden, 0}, {3, hidden}, {3, 0}};
    nb_rng r = nb_rng_seed(4);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, sx, &r, -1, 1);
    nb_tensor *y = nb_tensor_new(NB_I64, 1, sy);
    for (int64_t i = 0; i < batch; i++)
        nb_tensor_set(y, i, (double)(i % 3));
    nb_tensor *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = nb_tensor_uniform(NB_F32, shapes[i][1] ? 2 : 1, shapes[i], &r, -0.3, 0.3);
        nb_tensor_set_requires_grad(p[i], true);
    }
    nb_step *step = nb_step_new();
    /* warm-up: arena and grads grow, and the ring of tensor headers reaches its size (a header
     * is reused only 8 runs after its step run) */
    for (int it = 0; it < 10; it++)
        assert_int_equal(mlp_step(step, x, y, p, 4), NB_OK);
    const size_t bytes = nb_step_arena_bytes(step);
    const long allocs = nb_debug_alloc_count();
    const int64_t slabs = nbi_step_header_slabs(step);
    assert_true(bytes > 0);
    for (int it = 0; it < 50; it++) {
        assert_int_equal(mlp_step(step, x, y, p, 4), NB_OK);
        assert_int_equal(nb_step_arena_bytes(step), bytes);
    }
#ifdef NB_DEBUG_POISON
    /* debug builds never reuse a tensor header: the only allocations are new header slabs */
    assert_true(nbi_step_header_slabs(step) > slabs);
    assert_int_equal(nb_debug_alloc_count() - allocs, nbi_step_header_slabs(step) - slabs);
#else
    assert_int_equal(nbi_step_header_slabs(step), slabs);
    assert_int_equal(nb_debug_alloc_count(), allocs);
#endif
    print_message("  batch %lld: arena %zu bytes, unchanged in 50 steps\n", (long long)batch,
                  bytes);
    nb_step_free(step);
    for (int i = 0; i < 4; i++)
        nb_tensor_free(p[i]);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_steady_state_steps_reuse_memory(void **state)
{
    (void)state;
    check_steady_state(8, 5, 16);
    check_steady_state(512, 32, 256); /* several MB of intermediates: chunks merged once */
}

/* The arena keeps its high-water mark: a smaller step after a big one allocates nothing. */
static void test_arena_keeps_high_water_mark(void **state)
{
    (void)state;
    const int64_t big[1] = {600000}, small[1] = {100};
    nb_tensor *xb = nb_tensor_full(NB_F32, 1, big, 1), *xs = nb_tensor_full(NB_F32, 1, small, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *yb = nb_exp(nb_exp(nb_exp(xb)));
    assert_non_null(yb);
    nb_step_end(step);
    size_t bytes = nb_step_arena_bytes(step);
    assert_true(bytes >= 3 * 600000 * sizeof(float));
    long allocs = nb_debug_alloc_count();
    for (int i = 0; i < 3; i++) {
        nb_step_begin(step);
        assert_non_null(nb_exp(xs));
        nb_step_end(step);
        nb_step_begin(step);
        assert_non_null(nb_exp(nb_exp(nb_exp(xb))));
        nb_step_end(step);
    }
    assert_int_equal(nb_debug_alloc_count(), allocs);
    assert_int_equal(nb_step_arena_bytes(step), bytes);
    nb_step_free(step);
    nb_tensor_free(xs);
    nb_tensor_free(xb);
}

/* ---- anomaly mode ---- */
static void test_anomaly_mode_names_the_op_that_made_nan_in_forward(void **state)
{
    (void)state;
    const double v[3] = {1, -1, 2};
    nb_tensor *x = vec(NB_F64, 3, v);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_log(x); /* off: NaN passes silently */
    assert_non_null(y);
    assert_true(isnan(nb_tensor_get(y, 1)));
    assert_false(nb_set_anomaly_mode(true));
    assert_null(nb_exp(nb_log(x)));
    assert_non_null(strstr(nb_last_error(), "nb_log: anomaly: forward produced "));
    nbt_assert_error(NB_ERR_VALUE, "nan at flat index 1");
    assert_true(nb_set_anomaly_mode(false));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_anomaly_mode_names_the_op_that_made_nan_in_backward(void **state)
{
    (void)state;
    const double v[3] = {4, 0, 1};
    nb_tensor *x = vec(NB_F64, 3, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_set_anomaly_mode(true);
    nb_step_begin(step);
    /* sqrt(0) = 0 is finite; its derivative 0.5/0 = inf times the upstream 0 is NaN. */
    nb_tensor *loss = nb_sum_all(nb_mul_scalar(nb_sqrt(x), 0.0));
    assert_non_null(loss);
    assert_int_equal(nb_backward(loss), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_backward: anomaly: backward of nb_sqrt");
    nb_step_end(step);
    nb_set_anomaly_mode(false);
    /* Off, the same backward succeeds and leaves the NaN in the gradient. */
    nb_tensor_zero_grad(x);
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_mul_scalar(nb_sqrt(x), 0.0))), NB_OK);
    assert_true(isnan(nb_tensor_get(nb_tensor_grad(x), 1)));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* ---- state errors ---- */
static void test_backward_rejects_non_scalar_loss(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    nb_tensor *x = nb_tensor_full(NB_F32, 2, s, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_exp(x);
    assert_int_equal(nb_backward(y), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_backward: loss must have one element, got [2, 3]");
    assert_null(nb_tensor_grad(x));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_backward_needs_a_step_and_a_loss_that_requires_grad(void **state)
{
    (void)state;
    const double v[2] = {1, 2};
    nb_tensor *x = vec(NB_F32, 2, v);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *loss = nb_sum_all(nb_exp(x)); /* x does not require grad */
    assert_int_equal(nb_backward(loss), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_backward: the loss does not depend on any tensor that "
                                   "requires grad (did you forget nb_tensor_set_requires_grad");
    assert_int_equal(nb_backward(NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_backward: loss is NULL");
    nb_step_end(step);
    nb_tensor_set_requires_grad(x, true);
    assert_int_equal(nb_backward(x), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_backward: no active step (call nb_step_begin");
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_steps_do_not_nest(void **state)
{
    (void)state;
    nb_step *a = nb_step_new(), *b = nb_step_new();
    assert_int_equal(nb_step_begin(a), NB_OK);
    assert_int_equal(nb_step_begin(b), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_step_begin: another step is active on this thread");
    assert_int_equal(nb_step_begin(a), NB_ERR_STATE);
    nb_clear_error();
    assert_ptr_equal(nb_step_active(), a);
    nb_step_end(a);
    assert_int_equal(nb_step_begin(b), NB_OK);
    nb_step_end(b);
    assert_int_equal(nb_step_begin(NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_step_begin: step is NULL");
    /* Freeing an active step ends it. */
    nb_step_begin(a);
    nb_step_free(a);
    assert_null(nb_step_active());
    nb_step_free(b);
    nb_step_free(NULL);
    nb_step_end(NULL);
}

/* Op results die with their step; using one afterwards is NB_ERR_STATE, whether another step
 * is active or not, for ops, views, reductions, losses and backward. */
static void test_arena_tensor_used_after_step_end_is_a_state_error(void **state)
{
    (void)state;
    const double v[3] = {1, 2, 3};
    nb_tensor *x = vec(NB_F32, 3, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_exp(x), *loss = nb_sum_all(y);
    nb_step_end(step);
    const char *msg = "a tensor from a step that has ended was used";
    assert_null(nb_tanh(y));
    nbt_assert_error(NB_ERR_STATE, "nb_tanh: a tensor from a step that has ended was used");
    assert_null(nb_add(x, y));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_sum(y, 0, false));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_reshape(y, 0, NULL));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_int_equal(nb_backward(loss), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_backward: a tensor from a step that has ended");
    nb_tensor_free(y); /* not ours: ignored */
    /* The next step has begun: still stale. */
    nb_step_begin(step);
    assert_null(nb_mul(x, y));
    nbt_assert_error(NB_ERR_STATE, "nb_mul: a tensor from a step that has ended was used");
    assert_null(nb_softmax(y, 0));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_matmul(y, x));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_mse(y, x, NB_REDUCE_MEAN));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_transpose(y, 0, 0));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_detach(y));
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_int_equal(nb_backward(loss), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, msg);
    /* Copying out of (or into) a stale tensor is refused too; a stale seed as well. */
    nb_tensor *keep = vec(NB_F32, 3, v);
    assert_int_equal(nb_tensor_copy_into(keep, y), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_tensor_copy_into: a tensor from a step that has ended");
    assert_int_equal(nb_tensor_copy_into(y, keep), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, msg);
    /* (Everything above ran before this step run allocated anything: once it does, the new
     * tensors may take the old ones' place, and a stale pointer then names a live tensor.) */
    /* Values kept with nb_tensor_copy_into survive. */
    assert_int_equal(nb_tensor_copy_into(keep, nb_exp(x)), NB_OK);
    nb_step_end(step);
    /* In another step's run (its own arena), the old tensors stay stale whatever happens. */
    nb_step *other = nb_step_new();
    nb_step_begin(other);
    assert_int_equal(nb_backward_ex(nb_exp(x), y), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, msg);
    assert_null(nb_add(nb_exp(x), y));
    nbt_assert_error(NB_ERR_STATE, msg);
    nb_step_end(other);
    nb_step_free(other);
    assert_float_equal(nb_tensor_get(keep, 2), expf(3), 1e-5);
    nb_tensor *ok = nb_exp(keep);
    assert_non_null(ok);
    nb_tensor_free(ok);
    nb_tensor_free(keep);
    nb_step_free(step);
    nb_tensor_free(x);
}

static void test_requires_grad_is_for_float_leaves_only(void **state)
{
    (void)state;
    const int64_t s[1] = {2};
    nb_tensor *i = nb_tensor_new(NB_I64, 1, s), *x = nb_tensor_new(NB_F32, 1, s);
    assert_int_equal(nb_tensor_set_requires_grad(i, true), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_tensor_set_requires_grad: i64 tensors have no gradient");
    assert_int_equal(nb_tensor_set_requires_grad(i, false), NB_OK);
    assert_int_equal(nb_tensor_set_requires_grad(NULL, true), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_exp(x);
    assert_int_equal(nb_tensor_set_requires_grad(y, false), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "nb_tensor_set_requires_grad: only leaves can be changed");
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(i);
}

static void test_num_threads_setting(void **state)
{
    (void)state;
    int prev = nb_get_num_threads();
    assert_true(prev >= 1);
    nb_set_num_threads(2);
    assert_int_equal(nb_get_num_threads(), 2);
    nb_set_num_threads(0);
    assert_int_equal(nb_get_num_threads(), 1);
    nb_set_num_threads(-5);
    assert_int_equal(nb_get_num_threads(), 1);
    nb_set_num_threads(prev);
}

/* After each test (also a failed one): no active step, default modes, no pending error. */
static int reset_engine(void **state)
{
    (void)state;
    nb_step_end(nb_step_active());
    nb_set_anomaly_mode(false);
    nb_set_grad_enabled(true);
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intermediate_gradients_are_reused_unless_retained),
        cmocka_unit_test(test_retained_reshape_keeps_its_own_gradient),
        cmocka_unit_test_teardown(test_tape_records_only_ops_whose_inputs_require_grad,
                                  reset_engine),
        cmocka_unit_test_teardown(test_no_grad_mode_records_nothing, reset_engine),
        cmocka_unit_test_teardown(test_ops_without_a_step_are_caller_owned_and_unrecorded,
                                  reset_engine),
        cmocka_unit_test_teardown(test_backward_accumulates_across_calls_and_steps, reset_engine),
        cmocka_unit_test_teardown(test_leaf_used_twice_gets_summed_gradient, reset_engine),
        cmocka_unit_test_teardown(test_backward_ex_takes_a_seed_gradient, reset_engine),
        cmocka_unit_test_teardown(test_detach_stops_gradients, reset_engine),
        cmocka_unit_test_teardown(test_steady_state_steps_reuse_memory, reset_engine),
        cmocka_unit_test_teardown(test_arena_keeps_high_water_mark, reset_engine),
        cmocka_unit_test_teardown(test_anomaly_mode_names_the_op_that_made_nan_in_forward,
                                  reset_engine),
        cmocka_unit_test_teardown(test_anomaly_mode_names_the_op_that_made_nan_in_backward,
                                  reset_engine),
        cmocka_unit_test_teardown(test_backward_rejects_non_scalar_loss, reset_engine),
        cmocka_unit_test_teardown(test_backward_needs_a_step_and_a_loss_that_requires_grad,
                                  reset_engine),
        cmocka_unit_test_teardown(test_steps_do_not_nest, reset_engine),
        cmocka_unit_test_teardown(test_arena_tensor_used_after_step_end_is_a_state_error,
                                  reset_engine),
        cmocka_unit_test_teardown(test_requires_grad_is_for_float_leaves_only, reset_engine),
        cmocka_unit_test_teardown(test_num_threads_setting, reset_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
