/* tests/ops/test_index.c — forward references and gradient checks for ops/index.c: pick,
 * gather_rows (repeated and multi-dim ids, strided tables and ids), one_hot, and their error
 * paths (shapes, dtypes, every out-of-range index). */
#include "support/nbt.h"

#include <string.h>

extern const nbt_case nbt_cases_index[];

static void test_pick_selects_one_entry_per_row(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        const int64_t xs[2] = {4, 3}, is[1] = {4}, ids[4] = {2, 0, 0, 1};
        nb_tensor *x = nbt_uniform(dt, 2, xs, 5, -1, 1), *idx = nbt_ids(1, is, ids);
        nb_tensor *y = nb_pick(x, idx);
        assert_non_null(y);
        assert_int_equal(nb_tensor_dtype(y), dt);
        assert_int_equal(nb_tensor_ndim(y), 1);
        double ref[4];
        for (int n = 0; n < 4; n++)
            ref[n] = nb_tensor_get(x, n * 3 + ids[n]);
        nbt_assert_values(y, ref, 0);
        nb_tensor_free(y);
        nb_tensor_free(idx);
        nb_tensor_free(x);
    }
}

/* Strided x (a transposed view) and strided ids (every other element). */
static void test_pick_reads_strided_inputs(void **state)
{
    (void)state;
    const int64_t xs[2] = {3, 4}, is[1] = {8}, ids[8] = {1, 9, 2, 9, 0, 9, 2, 9};
    nb_tensor *x = nbt_uniform(NB_F64, 2, xs, 6, -1, 1), *all_ids = nbt_ids(1, is, ids);
    nb_tensor *xt = nb_transpose(x, 0, 1), *idx = nb_slice(all_ids, 0, 0, 8, 2);
    nb_tensor *y = nb_pick(xt, idx);
    assert_non_null(y);
    for (int n = 0; n < 4; n++)
        assert_float_equal(nb_tensor_get(y, n), nb_tensor_get(x, ids[2 * n] * 4 + n), 0);
    nb_tensor *all[] = {y, idx, xt, all_ids, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_gather_rows_copies_rows_for_any_id_shape(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        const int64_t ts[2] = {5, 3}, is[2] = {2, 3}, ids[6] = {4, 0, 4, 2, 2, 1};
        nb_tensor *t = nbt_uniform(dt, 2, ts, 7, -1, 1), *id = nbt_ids(2, is, ids);
        nb_tensor *y = nb_gather_rows(t, id);
        assert_non_null(y);
        assert_int_equal(nb_tensor_ndim(y), 3);
        assert_int_equal(nb_tensor_dim(y, 0), 2);
        assert_int_equal(nb_tensor_dim(y, 1), 3);
        assert_int_equal(nb_tensor_dim(y, 2), 3);
        double ref[18];
        for (int s = 0; s < 6; s++)
            for (int c = 0; c < 3; c++)
                ref[s * 3 + c] = nb_tensor_get(t, ids[s] * 3 + c);
        nbt_assert_values(y, ref, 0);
        nb_tensor_free(y);
        nb_tensor_free(id);
        nb_tensor_free(t);
    }
}

/* A transposed table is copied to dense rows first; a 0-dim id gives one row. */
static void test_gather_rows_of_transposed_table_and_scalar_id(void **state)
{
    (void)state;
    const int64_t ts[2] = {3, 5}, is[1] = {2}, ids[2] = {4, 1}, one = 3;
    nb_tensor *t = nbt_uniform(NB_F64, 2, ts, 8, -1, 1), *id = nbt_ids(1, is, ids);
    nb_tensor *tt = nb_transpose(t, 0, 1); /* [5, 3] */
    nb_tensor *y = nb_gather_rows(tt, id);
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 3; c++)
            assert_float_equal(nb_tensor_get(y, s * 3 + c), nb_tensor_get(t, c * 5 + ids[s]), 0);
    nb_tensor *sid = nb_tensor_from_data(NB_I64, 0, NULL, &one);
    nb_tensor *row = nb_gather_rows(tt, sid);
    assert_int_equal(nb_tensor_ndim(row), 1);
    assert_int_equal(nb_tensor_dim(row, 0), 3);
    assert_float_equal(nb_tensor_get(row, 2), nb_tensor_get(t, 2 * 5 + 3), 0);
    nb_tensor *all[] = {row, sid, y, tt, id, t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Repeated ids accumulate their gradients; unused rows get zero. */
static void test_gather_rows_gradient_scatter_adds(void **state)
{
    (void)state;
    const int64_t ts[2] = {4, 2}, is[1] = {5}, ids[5] = {1, 3, 1, 1, 0};
    nb_tensor *t = nb_tensor_zeros(NB_F64, 2, ts), *id = nbt_ids(1, is, ids);
    nb_tensor_set_requires_grad(t, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_backward(nb_sum_all(nb_gather_rows(t, id))), NB_OK);
    nb_step_end(step);
    const double g[8] = {1, 1, 3, 3, 0, 0, 1, 1};
    nbt_assert_values(nb_tensor_grad(t), g, 0);
    nb_step_free(step);
    nb_tensor_free(id);
    nb_tensor_free(t);
}

static void test_one_hot_encodes_ids(void **state)
{
    (void)state;
    const int64_t is[2] = {2, 2}, ids[4] = {3, 0, 1, 3};
    nb_tensor *id = nbt_ids(2, is, ids);
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *y = nb_one_hot(id, 4, dt);
        assert_non_null(y);
        assert_int_equal(nb_tensor_dtype(y), dt);
        assert_int_equal(nb_tensor_ndim(y), 3);
        assert_int_equal(nb_tensor_dim(y, 2), 4);
        double ref[16] = {0};
        for (int s = 0; s < 4; s++)
            ref[s * 4 + ids[s]] = 1;
        nbt_assert_values(y, ref, 0);
        assert_false(nb_tensor_requires_grad(y));
        nb_tensor_free(y);
    }
    nb_tensor_free(id);
}

/* ---- errors ---- */
static void test_pick_rejects_out_of_range_indices(void **state)
{
    (void)state;
    const int64_t xs[2] = {3, 4}, is[1] = {3}, hi[3] = {0, 4, 1}, lo[3] = {0, 1, -1};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, xs);
    nb_tensor *ih = nbt_ids(1, is, hi), *il = nbt_ids(1, is, lo);
    assert_null(nb_pick(x, ih));
    nbt_assert_error(NB_ERR_VALUE, "nb_pick: idx[1] = 4 is outside [0, 4)");
    assert_null(nb_pick(x, il));
    nbt_assert_error(NB_ERR_VALUE, "nb_pick: idx[2] = -1 is outside [0, 4)");
    nb_tensor *all[] = {il, ih, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_pick_rejects_bad_shapes_and_dtypes(void **state)
{
    (void)state;
    const int64_t xs[2] = {3, 4}, is[1] = {2}, ids[2] = {0, 1}, x3[3] = {3, 4, 1};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, xs), *idx = nbt_ids(1, is, ids);
    nb_tensor *fidx = nb_tensor_new(NB_F32, 1, is), *xx = nb_tensor_new(NB_F32, 3, x3);
    assert_null(nb_pick(x, idx));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_pick: x must be [N, C] and idx [N]: x is [3, 4], idx is [2]");
    assert_null(nb_pick(xx, idx));
    nbt_assert_error(NB_ERR_SHAPE, "nb_pick: x must be [N, C] and idx [N]: x is [3, 4, 1]");
    assert_null(nb_pick(x, fidx));
    nbt_assert_error(NB_ERR_DTYPE, "nb_pick: input 1 must be i64 (indices), got f32");
    assert_null(nb_pick(idx, idx));
    nbt_assert_error(NB_ERR_DTYPE, "nb_pick: input 0 must be f32 or f64, got i64");
    nb_tensor *all[] = {xx, fidx, idx, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_gather_rows_rejects_out_of_range_ids_and_bad_table(void **state)
{
    (void)state;
    const int64_t ts[2] = {5, 3}, is[1] = {3}, hi[3] = {4, 5, 0}, lo[3] = {-2, 0, 0}, t3[1] = {5};
    nb_tensor *t = nb_tensor_new(NB_F64, 2, ts), *t1 = nb_tensor_new(NB_F64, 1, t3);
    nb_tensor *ih = nbt_ids(1, is, hi), *il = nbt_ids(1, is, lo);
    assert_null(nb_gather_rows(t, ih));
    nbt_assert_error(NB_ERR_VALUE, "nb_gather_rows: ids[1] = 5 is outside [0, 5)");
    assert_null(nb_gather_rows(t, il));
    nbt_assert_error(NB_ERR_VALUE, "nb_gather_rows: ids[0] = -2 is outside [0, 5)");
    assert_null(nb_gather_rows(t1, il));
    nbt_assert_error(NB_ERR_SHAPE, "nb_gather_rows: table must be [V, D]");
    nb_tensor *all[] = {il, ih, t1, t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_one_hot_rejects_out_of_range_ids_and_bad_args(void **state)
{
    (void)state;
    const int64_t is[1] = {3}, ids[3] = {0, 2, 3}, neg[3] = {-1, 0, 0};
    nb_tensor *id = nbt_ids(1, is, ids), *in = nbt_ids(1, is, neg);
    nb_tensor *f = nb_tensor_new(NB_F32, 1, is);
    assert_null(nb_one_hot(id, 3, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_one_hot: ids[2] = 3 is outside [0, 3)");
    assert_null(nb_one_hot(in, 3, NB_F64));
    nbt_assert_error(NB_ERR_VALUE, "nb_one_hot: ids[0] = -1 is outside [0, 3)");
    assert_null(nb_one_hot(id, 0, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_one_hot: n_classes must be >= 1 (got 0)");
    assert_null(nb_one_hot(f, 4, NB_F32));
    nbt_assert_error(NB_ERR_DTYPE, "nb_one_hot: ids must be i64 and the result f32/f64, got f32");
    assert_null(nb_one_hot(id, 4, NB_I64));
    nbt_assert_error(NB_ERR_DTYPE, "got i64 -> i64");
    nb_tensor_free(f);
    nb_tensor_free(in);
    nb_tensor_free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_selects_one_entry_per_row),
        cmocka_unit_test(test_pick_reads_strided_inputs),
        cmocka_unit_test(test_gather_rows_copies_rows_for_any_id_shape),
        cmocka_unit_test(test_gather_rows_of_transposed_table_and_scalar_id),
        cmocka_unit_test(test_gather_rows_gradient_scatter_adds),
        cmocka_unit_test(test_one_hot_encodes_ids),
        cmocka_unit_test(test_pick_rejects_out_of_range_indices),
        cmocka_unit_test(test_pick_rejects_bad_shapes_and_dtypes),
        cmocka_unit_test(test_gather_rows_rejects_out_of_range_ids_and_bad_table),
        cmocka_unit_test(test_one_hot_rejects_out_of_range_ids_and_bad_args),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("index gradient checks", nbt_cases_index);
}
