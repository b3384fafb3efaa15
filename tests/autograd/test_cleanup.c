/* tests/autograd/test_cleanup.c — autograd/cleanup.c and nabla/cleanup.h: functions run last
 * registered first, the list empties and grows, NULL objects are skipped, an object that cannot
 * be registered is freed at once (bad arguments, a failed allocation), nb_cleanup_add picks each
 * library type's free function (the sanitizer build checks that nothing leaks). */
#include "support/nbt.h"

/* what the recording cleanup function saw, in order */
static int seen[64], n_seen;

static void record(void *p)
{
    seen[n_seen++] = *(int *)p;
}

static void test_run_calls_the_last_registered_first_and_empties(void **state)
{
    (void)state;
    int v[3] = {1, 2, 3};
    nb_cleanup cl = {0};
    n_seen = 0;
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(nb_cleanup_push(&cl, record, &v[i]), &v[i]);
    assert_int_equal(cl.n, 3);
    assert_int_equal(n_seen, 0);
    nb_cleanup_run(&cl);
    assert_int_equal(n_seen, 3);
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[2], 1);
    assert_int_equal(cl.n, 0);
    assert_null(cl.entries);
    /* used again: nb_cleanup_return runs it and passes the status through */
    assert_ptr_equal(nb_cleanup_push(&cl, record, &v[0]), &v[0]);
    assert_int_equal(nb_cleanup_return(&cl, 7), 7);
    assert_int_equal(n_seen, 4);
    assert_int_equal(seen[3], 1);
    nb_cleanup_run(&cl); /* empty: nothing runs */
    nb_cleanup_run(NULL);
    assert_int_equal(n_seen, 4);
}

static void test_the_list_grows_past_its_first_block(void **state)
{
    (void)state;
    int v[40];
    nb_cleanup cl = {0};
    n_seen = 0;
    for (int i = 0; i < 40; i++) {
        v[i] = i;
        assert_non_null(nb_cleanup_push(&cl, record, &v[i]));
    }
    nb_cleanup_run(&cl);
    assert_int_equal(n_seen, 40);
    for (int i = 0; i < 40; i++)
        assert_int_equal(seen[i], 39 - i);
}

static void test_null_objects_and_bad_arguments(void **state)
{
    (void)state;
    int v = 5;
    nb_cleanup cl = {0};
    n_seen = 0;
    /* a failed constructor's NULL: nothing registered, its error left alone */
    nb_set_error(NB_ERR_SHAPE, "nb_linear_new: earlier failure");
    assert_null(nb_cleanup_push(&cl, record, NULL));
    assert_int_equal(cl.n, 0);
    nbt_assert_error(NB_ERR_SHAPE, "nb_linear_new: earlier failure");
    /* no list: the object is freed at once */
    assert_null(nb_cleanup_push(NULL, record, &v));
    nbt_assert_error(NB_ERR_VALUE, "nb_cleanup_push: the list is NULL (the object was freed)");
    assert_int_equal(n_seen, 1);
    assert_int_equal(seen[0], 5);
    assert_null(nb_cleanup_push(&cl, NULL, &v));
    nbt_assert_error(NB_ERR_VALUE, "nb_cleanup_push: fn is NULL");
    assert_int_equal(cl.n, 0);
    assert_int_equal(n_seen, 1);
}

static void test_a_failed_allocation_frees_the_object_and_keeps_the_list(void **state)
{
    (void)state;
    int v[17];
    nb_cleanup cl = {0};
    n_seen = 0;
    nb_debug_fail_alloc_after(1); /* the first block */
    assert_null(nb_cleanup_push(&cl, record, &v[0]));
    nb_debug_fail_alloc_after(0);
    nbt_assert_error(NB_ERR_NOMEM, "nb_cleanup_push: no memory for entry 1");
    assert_int_equal(n_seen, 1);
    for (int i = 0; i < 17; i++)
        v[i] = 100 + i;
    for (int i = 0; i < 16; i++)
        assert_non_null(nb_cleanup_push(&cl, record, &v[i]));
    nb_debug_fail_alloc_after(1); /* the second block */
    assert_null(nb_cleanup_push(&cl, record, &v[16]));
    nb_debug_fail_alloc_after(0);
    nbt_assert_error(NB_ERR_NOMEM, "nb_cleanup_push: no memory for entry 17");
    assert_int_equal(n_seen, 2);
    assert_int_equal(seen[1], 116);
    assert_int_equal(cl.n, 16);
    nb_cleanup_run(&cl);
    assert_int_equal(n_seen, 18);
    assert_int_equal(seen[2], 115);
    assert_int_equal(seen[17], 100);
}

/* Every library type nb_cleanup_add knows, registered and freed: under the sanitizer a wrong
 * free function or a missed object fails the run. */
static void test_add_frees_library_objects_by_type(void **state)
{
    (void)state;
    nb_cleanup cl = {0};
    nb_rng r = nb_rng_seed(1);
    nb_tensor *x = nb_cleanup_add(&cl, nb_tensor_uniform(NB_F32, NB_SHAPE(8, 4), &r, 0, 1));
    nb_module *net = nb_cleanup_add(&cl, nb_linear_new(4, 2, true, &r));
    nb_optim *opt = nb_cleanup_add(&cl, nb_adam_new(net, NULL));
    nb_step *step = nb_cleanup_add(&cl, nb_step_new());
    nb_dataset *ds = nb_cleanup_add(
        &cl, (&(nb_dataset){.x = nb_tensor_copy(x), .y = nb_tensor_zeros(NB_I64, NB_SHAPE(8))}));
    nb_batcher *it = nb_cleanup_add(&cl, nb_batcher_new(ds, &(nb_batch_opts){.batch_size = 4}));
    nb_curves *curves = nb_cleanup_add(&cl, nb_curves_new());
    nb_image_rows *rows = nb_cleanup_add(&cl, nb_image_rows_new());
    nb_progress *bar = nb_cleanup_add(
        &cl, nb_progress_new("t", 1, &(nb_progress_opts){.mode = NB_PROGRESS_QUIET}));
    nb_rnn_state hs = {.h = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 4))};
    nb_rnn_state *h = nb_cleanup_add(&cl, &hs);
    nb_digest *dg = nb_cleanup_add(&cl, nb_digest_new(0));
    nb_tokenizer *tok = nb_cleanup_add(&cl, nb_tokenizer_new(NULL));
    nb_module *rbm = nb_cleanup_add(&cl, nb_rbm_new(4, 3, NB_RBM_BERNOULLI, &r));
    nb_rbm_trainer *tr = nb_cleanup_add(&cl, nb_rbm_trainer_new(rbm, NULL));
    assert_non_null(x);
    assert_non_null(opt);
    assert_non_null(step);
    assert_non_null(it);
    assert_non_null(curves);
    assert_non_null(rows);
    assert_non_null(bar);
    assert_non_null(h);
    assert_non_null(dg);
    assert_non_null(tok);
    assert_non_null(tr);
    assert_int_equal(cl.n, 14);
    assert_int_equal(nb_curves_add(curves, "loss", 1, 0.5), NB_OK);
    assert_int_equal(nb_image_rows_add(rows, x, "row"), NB_OK);
    nb_cleanup_run(&cl);
    assert_int_equal(cl.n, 0);
    assert_null(hs.h); /* nb_rnn_state_free cleared the state */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_calls_the_last_registered_first_and_empties),
        cmocka_unit_test(test_the_list_grows_past_its_first_block),
        cmocka_unit_test(test_null_objects_and_bad_arguments),
        cmocka_unit_test(test_a_failed_allocation_frees_the_object_and_keeps_the_list),
        cmocka_unit_test(test_add_frees_library_objects_by_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
