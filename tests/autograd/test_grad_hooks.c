/* tests/autograd/test_grad_hooks.c — gradient hooks (nb_grad_hook_add): a leaf is announced
 * once, as soon as its gradient is final (what data-parallel training needs to overlap the
 * all-reduce with the rest of backward), the last layer first; done comes after every ready. */
#include "support/nbt.h"

#define MAX_EVENTS 16

typedef struct {
    int n;
    nb_tensor *leaf[MAX_EVENTS];
    double grad_at_ready[MAX_EVENTS]; /* first element of the leaf's gradient when announced */
    int done;
    nb_status done_status;
    int ready_before_done;
} log_t;

static void on_ready(nb_tensor *leaf, void *user)
{
    log_t *l = user;
    assert_true(l->n < MAX_EVENTS);
    l->leaf[l->n] = leaf;
    nb_tensor *g = nb_tensor_grad(leaf);
    l->grad_at_ready[l->n] = g ? nb_tensor_get(g, 0) : 0.0;
    l->n++;
}

static void on_done(nb_status st, void *user)
{
    log_t *l = user;
    l->done++;
    l->done_status = st;
    l->ready_before_done = l->n;
}

static nb_tensor *param(int64_t r, int64_t c, double v)
{
    nb_tensor *t = nb_tensor_full(NB_F64, 2, (const int64_t[]){r, c}, v);
    nb_tensor_set_requires_grad(t, true);
    return t;
}

static int index_of(const log_t *l, const nb_tensor *t)
{
    for (int i = 0; i < l->n; i++)
        if (l->leaf[i] == t)
            return i;
    return -1;
}

static void test_leaves_are_announced_last_layer_first_with_final_gradients(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F64, 2, (const int64_t[]){4, 3}, 0.5);
    nb_tensor *w1 = param(5, 3, 0.1), *w2 = param(2, 5, -0.2), *w3 = param(1, 2, 0.3);
    log_t l = {0};
    int h = nb_grad_hook_add(&(nb_grad_hook){on_ready, on_done, &l});
    assert_true(h >= 0);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *a = nb_tanh(nb_linear(x, w1, NULL));
    nb_tensor *b = nb_tanh(nb_linear(a, w2, NULL));
    /* w3 is used twice: its gradient is final only after its first use */
    nb_tensor *c = nb_add(nb_linear(b, w3, NULL), nb_linear(nb_mul_scalar(b, 2.0), w3, NULL));
    assert_int_equal(nb_backward(nb_sum_all(c)), NB_OK);
    assert_int_equal(l.n, 3);
    int i1 = index_of(&l, w1), i2 = index_of(&l, w2), i3 = index_of(&l, w3);
    assert_true(i3 >= 0 && i2 > i3 && i1 > i2); /* last layer first */
    nb_tensor *ws[3] = {w1, w2, w3};
    for (int k = 0; k < 3; k++) /* the gradient did not change after it was announced */
        assert_float_equal(l.grad_at_ready[index_of(&l, ws[k])],
                           nb_tensor_get(nb_tensor_grad(ws[k]), 0), 0);
    assert_int_equal(l.done, 1);
    assert_int_equal(l.done_status, NB_OK);
    assert_int_equal(l.ready_before_done, 3);
    nb_step_end(s);

    /* removed: nothing is called any more */
    nb_grad_hook_remove(h);
    assert_int_equal(nb_step_begin(s), NB_OK);
    assert_int_equal(nb_backward(nb_sum_all(nb_linear(x, w1, NULL))), NB_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.done, 1);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x), nb_tensor_free(w1), nb_tensor_free(w2), nb_tensor_free(w3);
}

static void test_leaf_without_gradient_flow_is_announced_and_errors_reach_done(void **state)
{
    (void)state;
    nb_tensor *w = param(1, 2, 1.0), *v = param(1, 2, 1.0);
    log_t l = {0};
    int h = nb_grad_hook_add(&(nb_grad_hook){on_ready, on_done, &l});
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    /* v's only use feeds a detached branch: no gradient flows, but v is still announced */
    nb_tensor *dead = nb_detach(nb_mul(v, v));
    nb_tensor *loss = nb_sum_all(nb_mul(w, dead));
    assert_int_equal(nb_backward(loss), NB_OK);
    assert_true(index_of(&l, w) >= 0);
    assert_true(index_of(&l, v) >= 0);
    assert_int_equal(nb_backward(NULL), NB_ERR_VALUE);
    assert_int_equal(l.done, 2);
    assert_int_equal(l.done_status, NB_ERR_VALUE);
    nb_clear_error();
    nb_step_end(s);
    nb_grad_hook_remove(h);
    assert_int_equal(nb_grad_hook_add(NULL), -1);
    nbt_assert_error(NB_ERR_VALUE, "nb_grad_hook_add");
    nb_step_free(s);
    nb_tensor_free(w), nb_tensor_free(v);
}

static int reset(void **state)
{
    (void)state;
    nb_step_end(nb_step_active());
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_leaves_are_announced_last_layer_first_with_final_gradients,
                               reset),
        cmocka_unit_test_setup(test_leaf_without_gradient_flow_is_announced_and_errors_reach_done,
                               reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
