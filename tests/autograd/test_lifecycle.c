/* tests/autograd/test_lifecycle.c — the step lifecycle at its edges: index tensors changed
 * between forward and backward, stale op results after nb_step_end (several arena chunks, a
 * header address the next step could reuse), stale handles given to readers and writers, nested
 * steps, int64 stores, anomaly mode on leaves and gradcheck with nothing to compare. */
#include <math.h>
#include <stdio.h>

#include "autograd/tensor_impl.h"
#include "support/nbt.h"
#include "support/nbt_files.h"

static nb_tensor *leaf_f32(int ndim, const int64_t *shape, double v)
{
    nb_tensor *t = nb_tensor_full(NB_F32, ndim, shape, v);
    assert_non_null(t);
    assert_int_equal(nb_tensor_set_requires_grad(t, true), NB_OK);
    return t;
}

/* ---- index tensors ---- */
static void test_gather_rows_backward_uses_the_ids_forward_validated(void **state)
{
    (void)state;
    nb_tensor *table = leaf_f32(2, (const int64_t[]){4, 3}, 1.0);
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (const int64_t[]){2}, (const int64_t[]){0, 2});
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *loss = nb_sum_all(nb_gather_rows(table, ids));
    assert_non_null(loss);
    /* the caller reuses its id buffer before backward: out of range, far away */
    nb_tensor_data_i64(ids)[0] = 1000000;
    nb_tensor_data_i64(ids)[1] = -7;
    assert_int_equal(nb_backward(loss), NB_OK);
    const float *g = nb_tensor_data_f32(nb_tensor_grad(table));
    const float want[12] = {1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0};
    for (int i = 0; i < 12; i++)
        assert_float_equal(g[i], want[i], 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(ids);
    nb_tensor_free(table);
}

static void test_cross_entropy_backward_uses_the_targets_of_forward(void **state)
{
    (void)state;
    nb_tensor *logits = leaf_f32(2, (const int64_t[]){2, 3}, 0.0);
    nb_tensor *y = nb_tensor_from_data(NB_I64, 1, (const int64_t[]){2}, (const int64_t[]){0, 1});
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *loss = nb_cross_entropy(logits, y, NB_REDUCE_SUM);
    assert_non_null(loss);
    nb_tensor_data_i64(y)[0] = 2; /* still in range: would silently move the gradient */
    nb_tensor_data_i64(y)[1] = 1 << 20;
    assert_int_equal(nb_backward(loss), NB_OK);
    /* softmax of zeros is 1/3 each; minus one at the forward targets 0 and 1 */
    const float *g = nb_tensor_data_f32(nb_tensor_grad(logits));
    const float want[6] = {1.f / 3 - 1, 1.f / 3, 1.f / 3, 1.f / 3, 1.f / 3 - 1, 1.f / 3};
    for (int i = 0; i < 6; i++)
        assert_float_equal(g[i], want[i], 1e-6);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(y);
    nb_tensor_free(logits);
}

/* The indices reach nb_pick through a strided view of the caller's buffer, changed before
 * backward: the gradient still lands where forward read. */
static void test_pick_backward_uses_the_indices_of_forward_through_a_view(void **state)
{
    (void)state;
    nb_tensor *x = leaf_f32(2, (const int64_t[]){2, 3}, 1.0);
    nb_tensor *buf =
        nb_tensor_from_data(NB_I64, 1, (const int64_t[]){4}, (const int64_t[]){2, 7, 0, 7});
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *idx = nb_slice(buf, 0, 0, 4, 2); /* [2, 0], a view of buf */
    assert_non_null(idx);
    nb_tensor *loss = nb_sum_all(nb_pick(x, idx));
    assert_non_null(loss);
    nb_tensor_data_i64(buf)[0] = 1 << 30;
    nb_tensor_data_i64(buf)[2] = 1;
    assert_int_equal(nb_backward(loss), NB_OK);
    const float *g = nb_tensor_data_f32(nb_tensor_grad(x));
    const float want[6] = {0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++)
        assert_float_equal(g[i], want[i], 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(buf);
    nb_tensor_free(x);
}

static void test_pick_with_a_strided_index_view_is_still_validated(void **state)
{
    (void)state;
    nb_tensor *x = leaf_f32(2, (const int64_t[]){2, 2}, 1.0);
    nb_tensor *idx =
        nb_tensor_from_data(NB_I64, 1, (const int64_t[]){2}, (const int64_t[]){1, 5}); /* bad */
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    assert_null(nb_pick(x, idx));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_pick: idx[1] = 5 is outside [0, 2)"));
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(idx);
    nb_tensor_free(x);
}

/* ---- stale results ---- */
/* A step run whose arena needs more than one chunk (the first is 1 MiB): y depends on w. */
static nb_tensor *big_graph(nb_tensor *w)
{
    nb_tensor *acc = NULL;
    for (int i = 0; i < 6; i++) {
        /* each product is [256, 256] f32 = 256 KiB */
        nb_tensor *p = nb_matmul(w, w);
        acc = acc ? nb_add(acc, p) : p;
    }
    return nb_mean_all(acc);
}

static void test_stale_result_of_a_multi_chunk_step_is_reported_not_read(void **state)
{
    (void)state;
    nb_tensor *w = leaf_f32(2, (const int64_t[]){256, 256}, 0.01);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *loss = big_graph(w);
    assert_non_null(loss);
    assert_true(nb_step_arena_bytes(s) > ((size_t)1 << 20)); /* several chunks */
    nb_step_end(s);                                          /* frees the chunks */
    assert_false(nb_tensor_is_live(loss));
    assert_int_equal(nb_backward(loss), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "step that has ended"));
    nb_clear_error();
    assert_true(isnan(nb_tensor_item(loss)));
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    nb_clear_error();
    assert_null(nb_add(loss, loss));
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    nb_step_free(s);
    nb_tensor_free(w);
}

/* loss = sum(k * w) for a [1] leaf w: dloss/dw = k */
static nb_tensor *scaled(nb_tensor *w, double k)
{
    return nb_sum_all(nb_mul_scalar(w, k));
}

static void test_stale_loss_is_never_the_next_steps_tensor(void **state)
{
    (void)state;
    nb_tensor *w = leaf_f32(1, (const int64_t[]){1}, 1.0);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *old = scaled(w, 2.0);
    assert_non_null(old);
    nb_step_end(s);
    /* later runs build graphs of the same shape: their headers must not take old's address */
    int runs = 7;
#ifdef NB_DEBUG_POISON
    runs = 300; /* debug and sanitizer builds never reuse a header */
#endif
    for (int run = 0; run < runs; run++) {
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *now = scaled(w, 100.0);
        assert_non_null(now);
        assert_true(now != old);
        nb_tensor_zero_grad(w);
        assert_int_equal(nb_backward(old), NB_ERR_STATE);
        nb_clear_error();
        assert_float_equal(nb_tensor_get(nb_tensor_grad(w), 0), 0.0, 0);
        assert_int_equal(nb_backward(now), NB_OK);
        assert_float_equal(nb_tensor_get(nb_tensor_grad(w), 0), 100.0, 0);
        nb_step_end(s);
    }
    nb_step_free(s);
    nb_tensor_free(w);
}

static void test_header_ring_stays_bounded_in_release_builds(void **state)
{
    (void)state;
#ifdef NB_DEBUG_POISON
    skip(); /* headers are never reused there */
#else
    nb_tensor *w = leaf_f32(1, (const int64_t[]){1}, 1.0);
    nb_step *s = nb_step_new();
    int64_t after_warmup = 0;
    for (int run = 0; run < 2000; run++) {
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *x = w;
        for (int k = 0; k < 100; k++) /* 100 op results a run: 2 slabs */
            x = nb_mul_scalar(x, 1.0);
        assert_int_equal(nb_backward(nb_sum_all(x)), NB_OK);
        nb_step_end(s);
        if (run == 50)
            after_warmup = nbi_step_header_slabs(s);
    }
    assert_true(after_warmup > 0);
    assert_int_equal(nbi_step_header_slabs(s), after_warmup);
    nb_step_free(s);
    nb_tensor_free(w);
#endif
}

static void test_readers_and_writers_reject_stale_results(void **state)
{
    (void)state;
    nb_tensor *w = leaf_f32(2, (const int64_t[]){2, 2}, 1.0);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_mul_scalar(w, 3.0);
    assert_non_null(y);
    assert_true(nb_tensor_is_live(y));
    nb_step_end(s);

    const char *dir = nbt_tmp_dir("lifecycle");
    char path[512];
    snprintf(path, sizeof path, "%s/stale.npy", dir);
    remove(path);
    nb_clear_error();
    assert_int_equal(nb_npy_save(path, y), NB_ERR_STATE);
    FILE *f = fopen(path, "rb");
    assert_null(f); /* nothing written */
    nb_clear_error();
    snprintf(path, sizeof path, "%s/stale.ckpt", dir);
    nb_named_tensor list[2] = {{"w", w}, {"y", y}};
    assert_int_equal(nb_checkpoint_save(path, list, 2), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "'y'"));
    nb_clear_error();

    assert_true(isnan(nb_tensor_get(y, 0)));
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    nb_clear_error();
    assert_null(nb_tensor_data(y));
    assert_null(nb_tensor_data_f32(y));
    assert_null(nb_tensor_shape(y));
    assert_int_equal(nb_tensor_ndim(y), -1);
    assert_int_equal(nb_tensor_numel(y), 0);
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    nb_clear_error();
    assert_int_equal(nb_tensor_set(y, 0, 1.0), NB_ERR_STATE);
    nb_clear_error();
    assert_int_equal(nb_tensor_fill(y, 1.0), NB_ERR_STATE);
    nb_clear_error();
    assert_null(nb_tensor_copy(y));
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    nb_clear_error();
    nb_tensor *dst = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){2, 2});
    assert_int_equal(nb_tensor_copy_into(dst, y), NB_ERR_STATE);
    nb_clear_error();
    nb_tensor_free(dst);
    nb_tensor_free(y); /* a no-op on op results, stale or not */
    nb_step_free(s);
    nb_tensor_free(w);
}

/* ---- nested steps ---- */
static void test_nested_step_begin_keeps_the_pending_error(void **state)
{
    (void)state;
    nb_step *a = nb_step_new(), *b = nb_step_new();
    assert_int_equal(nb_step_begin(a), NB_OK);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 1, (const int64_t[]){2});
    nb_tensor *z = nb_tensor_zeros(NB_F32, 1, (const int64_t[]){3});
    assert_null(nb_add(x, z)); /* the caller's error */
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    assert_int_equal(nb_step_begin(b), NB_ERR_STATE);
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    assert_non_null(strstr(nb_last_error(), "nb_add"));
    nb_clear_error();
    assert_int_equal(nb_step_begin(b), NB_ERR_STATE); /* without one, the nesting is reported */
    assert_non_null(strstr(nb_last_error(), "another step is active"));
    nb_clear_error();
    nb_step_end(a);
    nb_step_free(a);
    nb_step_free(b);
    nb_tensor_free(x);
    nb_tensor_free(z);
}

/* ---- int64 stores ---- */
static void test_i64_tensors_refuse_nan_inf_and_out_of_range_values(void **state)
{
    (void)state;
    nb_tensor *t = nb_tensor_zeros(NB_I64, 1, (const int64_t[]){2});
    const double bad[] = {NAN, INFINITY, -INFINITY, 0x1p63, -0x1p64, 1e300};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nb_clear_error();
        assert_int_equal(nb_tensor_set(t, 0, bad[i]), NB_ERR_VALUE);
        assert_non_null(strstr(nb_last_error(), "cannot be stored in an i64 tensor"));
        nb_clear_error();
        assert_int_equal(nb_tensor_fill(t, bad[i]), NB_ERR_VALUE);
    }
    nb_clear_error();
    assert_int_equal(nb_tensor_get(t, 0), 0); /* untouched */
    assert_int_equal(nb_tensor_set(t, 0, -0x1p63), NB_OK);
    assert_int_equal(nb_tensor_data_i64(t)[0], INT64_MIN);
    assert_int_equal(nb_tensor_set(t, 1, 42.9), NB_OK); /* truncates like a C cast */
    assert_int_equal(nb_tensor_data_i64(t)[1], 42);
    nb_tensor *f = nb_tensor_from_data(NB_F64, 1, (const int64_t[]){2}, (const double[]){3, NAN});
    assert_null(nb_tensor_to_dtype(f, NB_I64));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_free(f);
    nb_tensor_free(t);
}

/* ---- anomaly mode and leaves ---- */
static void test_anomaly_mode_names_a_leaf_holding_nan(void **state)
{
    (void)state;
    nb_tensor *w = leaf_f32(1, (const int64_t[]){3}, 1.0);
    nb_tensor *x = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){3},
                                       (const float[]){1, NAN, 2}); /* bad data */
    nb_step *s = nb_step_new();
    bool prev = nb_set_anomaly_mode(true);
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *h = nb_mul(w, w); /* finite */
    assert_non_null(h);
    assert_null(nb_mul(h, x));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    const char *msg = nb_last_error();
    assert_non_null(strstr(msg, "nb_mul: anomaly: input 1 (a caller-owned leaf [3]) already "
                                "holds nan at flat index 1"));
    nb_step_end(s);
    nb_set_anomaly_mode(prev);
    nb_step_free(s);
    nb_tensor_free(x);
    nb_tensor_free(w);
}

/* ---- gradcheck ---- */
static nb_tensor *f_identity_sum(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_sum_all(in[0]);
}

static void test_gradcheck_with_nothing_compared_is_an_error(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F64, 2, (const int64_t[]){2, 3}, 1.0);
    assert_int_equal(nb_tensor_set_requires_grad(x, true), NB_OK);
    nb_tensor *v = nb_reshape(x, 1, (const int64_t[]){6}); /* a view made outside a step */
    assert_non_null(v);
    nb_gradcheck_report rep;
    nb_clear_error();
    assert_int_equal(nb_gradcheck(f_identity_sum, NULL, &v, 1, NULL, &rep), NB_ERR_VALUE);
    assert_int_equal(rep.n_checked, 0);
    assert_non_null(strstr(nb_last_error(), "compared no gradient value"));
    nb_clear_error();
    assert_int_equal(nb_gradcheck(f_identity_sum, NULL, &x, 1, NULL, &rep), NB_OK);
    assert_int_equal(rep.n_checked, 6);
    nb_tensor_free(v);
    nb_tensor_free(x);
}

static int reset(void **state)
{
    (void)state;
    nb_step_end(nb_step_active()); /* left active by a failed test */
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_gather_rows_backward_uses_the_ids_forward_validated, reset),
        cmocka_unit_test_setup(test_cross_entropy_backward_uses_the_targets_of_forward, reset),
        cmocka_unit_test_setup(test_pick_backward_uses_the_indices_of_forward_through_a_view,
                               reset),
        cmocka_unit_test_setup(test_pick_with_a_strided_index_view_is_still_validated, reset),
        cmocka_unit_test_setup(test_stale_result_of_a_multi_chunk_step_is_reported_not_read, reset),
        cmocka_unit_test_setup(test_stale_loss_is_never_the_next_steps_tensor, reset),
        cmocka_unit_test_setup(test_header_ring_stays_bounded_in_release_builds, reset),
        cmocka_unit_test_setup(test_readers_and_writers_reject_stale_results, reset),
        cmocka_unit_test_setup(test_nested_step_begin_keeps_the_pending_error, reset),
        cmocka_unit_test_setup(test_i64_tensors_refuse_nan_inf_and_out_of_range_values, reset),
        cmocka_unit_test_setup(test_anomaly_mode_names_a_leaf_holding_nan, reset),
        cmocka_unit_test_setup(test_gradcheck_with_nothing_compared_is_an_error, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
