/* tests/autograd/test_error.c — autograd/error.c: the first error is kept until cleared, NULL
 * propagates through whole expressions with the first message, status and dtype names, and the
 * allocation funnel: failing the n-th allocation at every n of a training step (with and
 * without a step, and in the gradient checker) gives NB_ERR_NOMEM, no crash and no leak. */
#include "support/nbt.h"

#include <string.h>

static void test_first_error_is_kept_until_cleared(void **state)
{
    (void)state;
    nb_clear_error();
    assert_int_equal(nb_last_status(), NB_OK);
    assert_string_equal(nb_last_error(), "");
    const int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_new(NB_F32, 1, s);
    assert_null(nb_clamp(x, 2, 1));
    assert_null(nb_sum(x, 4, false)); /* a second, different error */
    nbt_assert_error(NB_ERR_VALUE, "nb_clamp: lo (2) must be <= hi (1)");
    assert_int_equal(nb_last_status(), NB_OK);
    assert_string_equal(nb_last_error(), "");
    assert_null(nb_sum(x, 4, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_sum: axis 4 out of range");
    nb_tensor_free(x);
}

static void test_step_begin_clears_the_pending_error(void **state)
{
    (void)state;
    assert_null(nb_tensor_new(NB_F32, 9, NULL));
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    assert_int_equal(nb_last_status(), NB_OK);
    nb_step_end(step);
    nb_step_free(step);
}

/* One bad op deep in an expression: every op after it returns NULL and the message is the
 * first one, whichever ops follow (elementwise, reductions, views, matmul, losses, backward). */
static void test_null_propagates_keeping_the_first_message(void **state)
{
    (void)state;
    const int64_t sa[2] = {32, 784}, sb[2] = {100, 10}, sc[1] = {10}, st[1] = {32};
    const int64_t flat[1] = {-1};
    nb_tensor *a = nb_tensor_zeros(NB_F32, 2, sa), *b = nb_tensor_zeros(NB_F32, 2, sb);
    nb_tensor *c = nb_tensor_zeros(NB_F32, 1, sc), *t = nb_tensor_zeros(NB_I64, 1, st);
    nb_tensor_set_requires_grad(b, true);
    const char *first = "nb_matmul: inner dimensions differ: a is [32, 784], b is [100, 10]";
    nb_step *step = nb_step_new();
    for (int with_step = 0; with_step < 2; with_step++) {
        if (with_step)
            nb_step_begin(step);
        nb_tensor *h = nb_relu(nb_add(nb_matmul(a, b), c));
        nb_tensor *loss = nb_cross_entropy(nb_softmax(h, -1), t, NB_REDUCE_MEAN);
        assert_null(loss);
        loss = nb_mse(nb_reshape(nb_transpose(h, 0, 1), 1, flat), nb_sum_all(h), NB_REDUCE_MEAN);
        assert_null(loss);
        loss = nb_mean_all(nb_linear(nb_log_softmax(nb_exp(h), 1), b, c));
        assert_null(loss);
        nb_tensor *parts[2] = {h, nb_slice(h, 0, 0, 2, 1)};
        assert_null(nb_concat(2, parts, 0));
        assert_null(nb_stack(2, parts, 0));
        assert_null(nb_pick(h, t));
        assert_null(nb_gather_rows(h, t));
        assert_null(nb_one_hot(NULL, 3, NB_F32));
        assert_null(nb_detach(h));
        nb_tensor *sp[2];
        assert_int_equal(nb_split(h, 0, 2, sp), NB_ERR_SHAPE);
        assert_int_equal(nb_backward(loss), NB_ERR_SHAPE);
        nbt_assert_error(NB_ERR_SHAPE, first);
        if (with_step)
            nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(t);
    nb_tensor_free(c);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

static void test_status_and_dtype_names(void **state)
{
    (void)state;
    assert_string_equal(nb_status_name(NB_OK), "ok");
    assert_string_equal(nb_status_name(NB_ERR_SHAPE), "shape error");
    assert_string_equal(nb_status_name(NB_ERR_NOMEM), "out of memory");
    assert_string_equal(nb_status_name(NB_ERR_STATE), "state error");
    assert_string_equal(nb_status_name((nb_status)99), "unknown error");
    assert_string_equal(nb_dtype_name(NB_F32), "f32");
    assert_string_equal(nb_dtype_name(NB_I64), "i64");
    assert_string_equal(nb_dtype_name((nb_dtype)7), "?");
    assert_int_equal(nb_dtype_size(NB_F32), 4);
    assert_int_equal(nb_dtype_size(NB_F64), 8);
    assert_int_equal(nb_dtype_size((nb_dtype)7), 0);
}

/* ---- out of memory ---- */

/* Fails the n-th allocation from now, runs `scenario`, and returns its status; *reached says
 * whether the scenario made n allocations (so the failure really happened). */
static nb_status run_failing_at(nb_status (*scenario)(void), long n, bool *reached)
{
    nb_clear_error();
    long before = nb_debug_alloc_count();
    nb_debug_fail_alloc_after(n);
    nb_status st = scenario();
    nb_debug_fail_alloc_after(0);
    *reached = nb_debug_alloc_count() - before >= n;
    return st;
}

/* Sweeps n = 1, 2, ... until the scenario no longer reaches the n-th allocation: every run
 * with a failure must report NB_ERR_NOMEM with an "out of memory" message, except at most
 * `max_absorbed` runs where the library may absorb it (nb_step_end merging arena chunks falls
 * back to growing again); the last run must succeed. Leaks show up in the sanitizer build. */
static void sweep(nb_status (*scenario)(void), long min_allocs, int max_absorbed)
{
    bool reached = true;
    long n = 1;
    int absorbed = 0;
    for (; reached; n++) {
        nb_status st = run_failing_at(scenario, n, &reached);
        if (!reached) {
            assert_int_equal(st, NB_OK);
            break;
        }
        if (st == NB_OK && nb_last_status() == NB_OK) {
            absorbed++;
            continue;
        }
        if (st != NB_ERR_NOMEM)
            print_error("failing allocation %ld: got %s (%s)\n", n, nb_status_name(st),
                        nb_last_error());
        assert_int_equal(st, NB_ERR_NOMEM);
        assert_non_null(strstr(nb_last_error(), "out of memory"));
    }
    print_message("  swept %ld allocation points (%d absorbed)\n", n - 1, absorbed);
    assert_true(n - 1 >= min_allocs);
    assert_true(absorbed <= max_absorbed);
    nb_clear_error();
}

/* A two-layer network trained for three steps (the arena grows, then is reused). */
static nb_status train_steps(void)
{
    const int64_t sx[2] = {8, 5}, sw1[2] = {6, 5}, sb1[1] = {6}, sw2[2] = {3, 6}, sy[1] = {8};
    const int64_t labels[8] = {0, 1, 2, 0, 1, 2, 0, 1};
    nb_rng r = nb_rng_seed(1);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, sx, &r, -1, 1);
    nb_tensor *w1 = nb_tensor_uniform(NB_F32, 2, sw1, &r, -1, 1);
    nb_tensor *b1 = nb_tensor_zeros(NB_F32, 1, sb1);
    nb_tensor *w2 = nb_tensor_uniform(NB_F32, 2, sw2, &r, -1, 1);
    nb_tensor *y = nb_tensor_from_data(NB_I64, 1, sy, labels);
    nb_step *step = NULL;
    nb_status st = x && w1 && b1 && w2 && y ? NB_OK : nb_last_status();
    nb_tensor *params[3] = {w1, b1, w2};
    for (int i = 0; i < 3 && st == NB_OK; i++)
        st = nb_tensor_set_requires_grad(params[i], true);
    if (st == NB_OK && !(step = nb_step_new()))
        st = nb_last_status();
    for (int it = 0; it < 3 && st == NB_OK; it++) {
        st = nb_step_begin(step);
        nb_tensor *h = nb_relu(nb_linear(x, w1, b1));
        nb_tensor *loss = nb_cross_entropy(nb_matmul(h, nb_transpose(w2, 0, 1)), y, NB_REDUCE_MEAN);
        if (st == NB_OK)
            st = loss ? nb_backward(loss) : nb_last_status();
        nb_step_end(step);
        for (int i = 0; i < 3 && st == NB_OK; i++)
            nb_tensor_zero_grad(params[i]);
    }
    nb_step_free(step);
    nb_tensor *all[] = {x, w1, b1, w2, y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
    return st;
}

/* Tensors larger than an arena chunk: each op and each gradient grows the arena, so failures
 * hit inside the forward and backward passes, and the reset merges the chunks. */
static nb_status large_steps(void)
{
    const int64_t s[2] = {400, 700};
    nb_tensor *x = nb_tensor_full(NB_F32, 2, s, 0.5), *w = nb_tensor_full(NB_F32, 2, s, 0.25);
    nb_step *step = NULL;
    nb_status st = x && w ? nb_tensor_set_requires_grad(w, true) : nb_last_status();
    if (st == NB_OK && !(step = nb_step_new()))
        st = nb_last_status();
    for (int it = 0; it < 2 && st == NB_OK; it++) {
        st = nb_step_begin(step);
        nb_tensor *loss =
            nb_mean_all(nb_mul(nb_tanh(nb_mul(x, w)), nb_transpose(nb_sigmoid(w), 0, 0)));
        if (st == NB_OK)
            st = loss ? nb_backward(loss) : nb_last_status();
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(w);
    nb_tensor_free(x);
    return st;
}

/* The same kind of computation without a step: every result is a heap tensor. */
static nb_status eval_without_step(void)
{
    const int64_t sx[2] = {4, 3}, sw[2] = {2, 3}, sb[1] = {2};
    nb_rng r = nb_rng_seed(2);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, sx, &r, -1, 1);
    nb_tensor *w = nb_tensor_uniform(NB_F64, 2, sw, &r, -1, 1);
    nb_tensor *b = nb_tensor_uniform(NB_F64, 1, sb, &r, -1, 1);
    nb_tensor *y = nb_linear(x, w, b);
    nb_tensor *t = nb_transpose(x, 0, 1);
    nb_tensor *th = nb_tanh(t), *z = nb_sum(th, 1, false);
    nb_tensor *sm = nb_softmax(y, 1), *sg = nb_sigmoid(y), *loss = nb_mse(sm, sg, NB_REDUCE_MEAN);
    nb_status st = x && w && b && y && z && loss ? NB_OK : nb_last_status();
    nb_tensor *all[] = {x, w, b, y, t, th, z, sm, sg, loss};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
    return st;
}

static void test_every_failing_allocation_in_training_steps_is_reported(void **state)
{
    (void)state;
    sweep(train_steps, 20, 0);
}

static void test_every_failing_allocation_in_large_steps_is_reported(void **state)
{
    (void)state;
    sweep(large_steps, 15, 1);
}

static nb_tensor *f_small(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_sum(nb_mul(nb_tanh(in[0]), in[1]), 0, false);
}

static nb_status gradcheck_small(void)
{
    const int64_t s[2] = {2, 2};
    nb_rng r = nb_rng_seed(3);
    nb_tensor *in[2] = {nb_tensor_uniform(NB_F64, 2, s, &r, -1, 1),
                        nb_tensor_uniform(NB_F64, 2, s, &r, -1, 1)};
    nb_status st = in[0] && in[1] ? nb_tensor_set_requires_grad(in[0], true) : nb_last_status();
    if (st == NB_OK)
        st = nb_tensor_set_requires_grad(in[1], true);
    if (st == NB_OK)
        st = nb_gradcheck(f_small, NULL, in, 2, NULL, NULL);
    nb_tensor_free(in[0]);
    nb_tensor_free(in[1]);
    return st;
}

static void test_every_failing_allocation_without_a_step_is_reported(void **state)
{
    (void)state;
    sweep(eval_without_step, 10, 0);
}

static void test_every_failing_allocation_in_gradcheck_is_reported(void **state)
{
    (void)state;
    sweep(gradcheck_small, 10, 0);
}

static void test_fail_alloc_after_zero_disables(void **state)
{
    (void)state;
    nb_debug_fail_alloc_after(1);
    nb_debug_fail_alloc_after(0);
    const int64_t s[1] = {2};
    long before = nb_debug_alloc_count();
    nb_tensor *t = nb_tensor_new(NB_F32, 1, s);
    assert_non_null(t);
    assert_true(nb_debug_alloc_count() > before);
    nb_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_error_is_kept_until_cleared),
        cmocka_unit_test(test_step_begin_clears_the_pending_error),
        cmocka_unit_test(test_null_propagates_keeping_the_first_message),
        cmocka_unit_test(test_status_and_dtype_names),
        cmocka_unit_test(test_every_failing_allocation_in_training_steps_is_reported),
        cmocka_unit_test(test_every_failing_allocation_in_large_steps_is_reported),
        cmocka_unit_test(test_every_failing_allocation_without_a_step_is_reported),
        cmocka_unit_test(test_every_failing_allocation_in_gradcheck_is_reported),
        cmocka_unit_test(test_fail_alloc_after_zero_disables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
