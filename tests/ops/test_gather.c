/* tests/ops/test_gather.c — forward values of ops/gather.c (gather, scatter, scatter_add,
 * index_select, index_add, masked_select, split by sizes) against PyTorch's documented
 * results, in f32 and f64; their error messages (out-of-range indices by position and value,
 * shapes, dtypes, masks); and the gradient checks of tests/ops/cases_gather.c (which also cover
 * ops/remap.c). */
#include "support/nbt.h"

#include <math.h>

extern const nbt_case nbt_cases_gather[];

static nb_tensor *tens(nb_dtype dt, int nd, const int64_t *shape, const double *v)
{
    nb_tensor *t = nb_tensor_new(dt, nd, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        assert_int_equal(nb_tensor_set(t, i, v[i]), NB_OK);
    return t;
}

/* Assert y's shape and values, then free it. */
static void expect(nb_tensor *y, int nd, const int64_t *shape, const double *ref)
{
    if (!y)
        fail_msg("%s", nb_last_error());
    assert_int_equal(nb_tensor_ndim(y), nd);
    for (int d = 0; d < nd; d++)
        assert_int_equal(nb_tensor_dim(y, d), shape[d]);
    nbt_assert_values(y, ref, 0);
    nb_tensor_free(y);
}

static const double v123456[6] = {1, 2, 3, 4, 5, 6};

static void test_gather_picks_along_either_axis(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const int64_t s23[2] = {2, 3}, s22[2] = {2, 2}, s13[2] = {1, 3};
        nb_tensor *x = tens(k ? NB_F64 : NB_F32, 2, s23, v123456);
        nb_tensor *i1 = nbt_ids(2, s22, (const int64_t[]){2, 0, 1, 1});
        nb_tensor *i0 = nbt_ids(2, s13, (const int64_t[]){1, 0, 1});
        expect(nb_gather(x, 1, i1), 2, s22, (const double[]){3, 1, 5, 5});
        expect(nb_gather(x, -2, i0), 2, s13, (const double[]){4, 2, 6});
        nb_tensor_free(i0);
        nb_tensor_free(i1);
        nb_tensor_free(x);
    }
}

static void test_scatter_writes_and_scatter_add_sums(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        /* torch.zeros(3, 5).scatter_(0, tensor([[0, 1, 2, 0]]), arange(1, 11).view(2, 5)) */
        const int64_t s35[2] = {3, 5}, s14[2] = {1, 4}, s25[2] = {2, 5};
        const double src10[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        nb_tensor *x = nb_tensor_zeros(dt, 2, s35), *src = tens(dt, 2, s25, src10);
        nb_tensor *idx = nbt_ids(2, s14, (const int64_t[]){0, 1, 2, 0});
        expect(nb_scatter(x, 0, idx, src), 2, s35,
               (const double[]){1, 0, 0, 4, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0});
        /* repeated index 0 along axis 1: scatter keeps the last write, scatter_add sums */
        const int64_t s13[2] = {1, 3};
        nb_tensor *x2 = tens(dt, 2, s13, (const double[]){10, 20, 30});
        nb_tensor *s2 = tens(dt, 2, s13, (const double[]){1, 2, 3});
        nb_tensor *i2 = nbt_ids(2, s13, (const int64_t[]){0, 0, 2});
        expect(nb_scatter(x2, 1, i2, s2), 2, s13, (const double[]){2, 20, 3});
        expect(nb_scatter_add(x2, 1, i2, s2), 2, s13, (const double[]){13, 20, 33});
        nb_tensor *all[] = {x, src, idx, x2, s2, i2};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_index_select_and_index_add(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        const int64_t s32[2] = {3, 2}, s3[1] = {3}, s1[1] = {1}, s31[2] = {3, 1};
        nb_tensor *x = tens(dt, 2, s32, v123456), *i3 = nbt_ids(1, s3, (const int64_t[]){2, 0, 2});
        nb_tensor *i1 = nbt_ids(1, s1, (const int64_t[]){1});
        expect(nb_index_select(x, 0, i3), 2, s32, (const double[]){5, 6, 1, 2, 5, 6});
        expect(nb_index_select(x, 1, i1), 2, s31, (const double[]){2, 4, 6});
        nb_tensor *ones = nb_tensor_full(dt, 2, s32, 1.0);
        nb_tensor *ia = nbt_ids(1, s3, (const int64_t[]){0, 2, 0});
        expect(nb_index_add(ones, 0, ia, x, 2.0), 2, s32, (const double[]){13, 17, 1, 1, 7, 9});
        nb_tensor *all[] = {x, i3, i1, ones, ia};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_masked_select_takes_i64_and_float_masks(void **state)
{
    (void)state;
    const int64_t s23[2] = {2, 3}, s3[1] = {3}, n3[1] = {3}, n4[1] = {4}, n0[1] = {0};
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        nb_tensor *x = tens(dt, 2, s23, v123456);
        nb_tensor *mi = nbt_ids(2, s23, (const int64_t[]){1, 0, 1, 0, 0, 1});
        nb_tensor *row = tens(dt, 1, s3, (const double[]){0, 1, 1});
        nb_tensor *none = nb_tensor_zeros(NB_I64, 2, s23);
        /* nonzero is true, as for every op that reads a mask */
        nb_tensor *odd = tens(NB_F64, 2, s23, (const double[]){2, 0, -1, 0, 0, NAN});
        expect(nb_masked_select(x, mi), 1, n3, (const double[]){1, 3, 6});
        expect(nb_masked_select(x, odd), 1, n3, (const double[]){1, 3, 6});
        expect(nb_masked_select(x, row), 1, n4, (const double[]){2, 3, 5, 6});
        expect(nb_masked_select(x, none), 1, n0, NULL);
        nb_tensor *all[] = {x, mi, row, none, odd};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_split_sizes_makes_views_of_each_size(void **state)
{
    (void)state;
    const int64_t s5[1] = {5}, s2[1] = {2}, s3[1] = {3}, s0[1] = {0};
    nb_tensor *x = tens(NB_F64, 1, s5, (const double[]){1, 2, 3, 4, 5}), *p[3];
    const int64_t sizes[3] = {2, 0, 3};
    assert_int_equal(nb_split_sizes(x, 0, 3, sizes, p), NB_OK);
    expect(p[0], 1, s2, (const double[]){1, 2});
    expect(p[1], 1, s0, NULL);
    expect(p[2], 1, s3, (const double[]){3, 4, 5});
    const int64_t short_sizes[2] = {2, 2}, negative[2] = {6, -1};
    assert_int_equal(nb_split_sizes(x, 0, 2, short_sizes, p), NB_ERR_SHAPE);
    assert_null(p[0]);
    nbt_assert_error(NB_ERR_SHAPE, "nb_split_sizes: sizes add up to 4, axis 0 of [5] has 5");
    assert_int_equal(nb_split_sizes(x, 0, 2, negative, p), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_split_sizes: sizes[0] = 6 runs past the axis (axis 0 of [5] has 5");
    assert_int_equal(nb_split_sizes(x, 1, 1, sizes, p), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_split_sizes: axis 1 out of range for a 1-dim tensor");
    nb_tensor_free(x);
}

/* ---- errors ---- */
static void test_indices_out_of_range_are_named(void **state)
{
    (void)state;
    const int64_t s23[2] = {2, 3}, s12[2] = {1, 2}, s2[1] = {2};
    nb_tensor *x = tens(NB_F32, 2, s23, v123456);
    nb_tensor *big = nbt_ids(2, s12, (const int64_t[]){0, 3});
    nb_tensor *neg = nbt_ids(2, s12, (const int64_t[]){-1, 0});
    nb_tensor *v = nbt_ids(1, s2, (const int64_t[]){0, 2});
    nb_tensor *src = nb_tensor_zeros(NB_F32, 2, s12);
    assert_null(nb_gather(x, 1, big));
    nbt_assert_error(NB_ERR_VALUE, "nb_gather: index[0, 1] = 3 is outside [0, 3) (size of axis 1)");
    assert_null(nb_gather(x, 1, neg));
    nbt_assert_error(NB_ERR_VALUE, "nb_gather: index[0, 0] = -1 is outside [0, 3)");
    assert_null(nb_scatter(x, 0, big, src));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_scatter: index[0, 1] = 3 is outside [0, 2) (size of axis 0)");
    assert_null(nb_scatter_add(x, 1, neg, src));
    nbt_assert_error(NB_ERR_VALUE, "nb_scatter_add: index[0, 0] = -1 is outside [0, 3)");
    assert_null(nb_index_select(x, 0, v));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_index_select: index[1] = 2 is outside [0, 2) (size of axis 0)");
    assert_null(nb_index_add(x, 0, v, x, 1.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_index_add: index[1] = 2 is outside [0, 2)");
    nb_tensor *all[] = {x, big, neg, v, src};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_bad_shapes_dtypes_and_masks_are_refused(void **state)
{
    (void)state;
    const int64_t s23[2] = {2, 3}, s3[1] = {3}, s33[2] = {3, 3}, s12[2] = {1, 2}, s22[2] = {2, 2};
    nb_tensor *x = tens(NB_F32, 2, s23, v123456);
    nb_tensor *i1 = nbt_ids(1, s3, (const int64_t[]){0, 1, 0});
    nb_tensor *i33 = nb_tensor_zeros(NB_I64, 2, s33), *i12 = nb_tensor_zeros(NB_I64, 2, s12);
    nb_tensor *f12 = nb_tensor_zeros(NB_F32, 2, s12), *src22 = nb_tensor_zeros(NB_F32, 2, s22);
    assert_null(nb_gather(x, 0, i1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_gather: index must have x's number of dims and be no larger "
                                   "than x off axis 0: x is [2, 3], index is [3]");
    assert_null(nb_gather(x, 1, i33)); /* larger than x off the axis (along it is fine) */
    nbt_assert_error(NB_ERR_SHAPE, "x off axis 1: x is [2, 3], index is [3, 3]");
    assert_null(nb_gather(x, 2, i12));
    nbt_assert_error(NB_ERR_VALUE, "nb_gather: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_gather(x, 0, f12));
    nbt_assert_error(NB_ERR_DTYPE, "nb_gather: input 1 must be i64 (indices), got f32");
    nb_tensor *src3 = nb_tensor_zeros(NB_F32, 1, s3);
    assert_null(nb_scatter(x, 0, i12, src3));
    nbt_assert_error(NB_ERR_SHAPE, "nb_scatter: index must have x's and src's number of dims");
    assert_null(nb_index_select(x, 0, i12));
    nbt_assert_error(NB_ERR_SHAPE, "nb_index_select: index must be 1-D, got [1, 2]");
    assert_null(nb_index_add(x, 1, i1, src22, 1.0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_index_add: src must be [2, 3] (x [2, 3] with axis 1 sized "
                                   "like index [3]), got [2, 2]");
    assert_null(nb_masked_select(x, i33));
    nbt_assert_error(NB_ERR_SHAPE, "nb_masked_select: mask [3, 3] does not broadcast to x's shape "
                                   "[2, 3]");
    assert_null(nb_masked_select(NULL, i33));
    nbt_assert_error(NB_ERR_VALUE, "nb_masked_select: x is NULL");
    nb_tensor *all[] = {x, i1, i33, i12, f12, src22, src3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The index tensor is snapshotted when recorded: changing it after the op leaves backward
 * unchanged. */
static void test_gather_backward_uses_indices_of_forward(void **state)
{
    (void)state;
    const int64_t s3[1] = {3}, s2[1] = {2};
    nb_tensor *x = tens(NB_F64, 1, s3, (const double[]){1, 2, 3});
    nb_tensor *idx = nbt_ids(1, s2, (const int64_t[]){2, 2});
    assert_int_equal(nb_tensor_set_requires_grad(x, true), NB_OK);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    nb_tensor *y = nb_sum_all(nb_gather(x, 0, idx));
    nb_tensor_data_i64(idx)[0] = 0;
    assert_int_equal(nb_backward(y), NB_OK);
    nbt_assert_values(nb_tensor_grad(x), (const double[]){0, 0, 2}, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(idx);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_picks_along_either_axis),
        cmocka_unit_test(test_scatter_writes_and_scatter_add_sums),
        cmocka_unit_test(test_index_select_and_index_add),
        cmocka_unit_test(test_masked_select_takes_i64_and_float_masks),
        cmocka_unit_test(test_split_sizes_makes_views_of_each_size),
        cmocka_unit_test(test_indices_out_of_range_are_named),
        cmocka_unit_test(test_bad_shapes_dtypes_and_masks_are_refused),
        cmocka_unit_test(test_gather_backward_uses_indices_of_forward),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("gather and remap gradient checks", nbt_cases_gather);
}
