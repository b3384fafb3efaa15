/* tests/ops/test_remap.c — forward values of ops/remap.c (flip, roll, repeat/tile, padding
 * modes) against PyTorch's results, in f32 and f64, and their error messages. The gradient
 * checks are in tests/ops/cases_gather.c (run by test_gather). */
#include "support/nbt.h"

static nb_tensor *tens(nb_dtype dt, int nd, const int64_t *shape, const double *v)
{
    nb_tensor *t = nb_tensor_new(dt, nd, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        assert_int_equal(nb_tensor_set(t, i, v[i]), NB_OK);
    return t;
}

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

static const int64_t s23[2] = {2, 3}, s3[1] = {3}, s5[1] = {5};
static const double v123456[6] = {1, 2, 3, 4, 5, 6};

static void test_flip_reverses_the_given_axes(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        nb_tensor *x = tens(k ? NB_F64 : NB_F32, 2, s23, v123456);
        expect(nb_flip(x, 2, (const int[]){0, 1}), 2, s23, (const double[]){6, 5, 4, 3, 2, 1});
        expect(nb_flip(x, 1, (const int[]){-1}), 2, s23, (const double[]){3, 2, 1, 6, 5, 4});
        expect(nb_flip(x, 0, NULL), 2, s23, v123456);
        nb_tensor_free(x);
    }
}

static void test_roll_wraps_around(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        nb_tensor *v = tens(dt, 1, s5, (const double[]){1, 2, 3, 4, 5});
        nb_tensor *x = tens(dt, 2, s23, v123456);
        const int zero = 0;
        expect(nb_roll(v, 1, (const int64_t[]){2}, &zero), 1, s5, (const double[]){4, 5, 1, 2, 3});
        expect(nb_roll(v, 1, (const int64_t[]){-1}, &zero), 1, s5, (const double[]){2, 3, 4, 5, 1});
        expect(nb_roll(v, 1, (const int64_t[]){12}, &zero), 1, s5, (const double[]){4, 5, 1, 2, 3});
        expect(nb_roll(x, 2, (const int64_t[]){1, 1}, (const int[]){0, 1}), 2, s23,
               (const double[]){6, 4, 5, 3, 1, 2});
        expect(nb_roll(x, 1, (const int64_t[]){1}, NULL), 2, s23,
               (const double[]){6, 1, 2, 3, 4, 5});
        nb_tensor_free(v);
        nb_tensor_free(x);
    }
}

static void test_repeat_and_tile_copy_whole_tensors(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        const int64_t s2[1] = {2}, s22[2] = {2, 2}, s24[2] = {2, 4}, s04[2] = {0, 4};
        nb_tensor *v = tens(dt, 1, s2, (const double[]){1, 2});
        nb_tensor *x = tens(dt, 2, s22, (const double[]){1, 2, 3, 4});
        /* torch.tensor([1, 2]).repeat(2, 2) */
        expect(nb_repeat(v, 2, (const int64_t[]){2, 2}), 2, s24,
               (const double[]){1, 2, 1, 2, 1, 2, 1, 2});
        expect(nb_repeat(x, 2, (const int64_t[]){1, 2}), 2, s24,
               (const double[]){1, 2, 1, 2, 3, 4, 3, 4});
        expect(nb_tile(x, 1, (const int64_t[]){2}), 2, s24,
               (const double[]){1, 2, 1, 2, 3, 4, 3, 4});
        expect(nb_repeat(x, 2, (const int64_t[]){0, 2}), 2, s04, NULL);
        nb_tensor_free(v);
        nb_tensor_free(x);
    }
}

static void test_pad_modes_match_torch(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        nb_tensor *v = tens(dt, 1, s3, (const double[]){1, 2, 3});
        const int64_t s6[1] = {6}, s44[2] = {4, 4}, s22[2] = {2, 2};
        const int64_t p21[2] = {2, 1}, p12[2] = {1, 2};
        expect(nb_pad(v, 1, p21, NB_PAD_REFLECT, 0), 1, s6, (const double[]){3, 2, 1, 2, 3, 2});
        expect(nb_pad(v, 1, p21, NB_PAD_REPLICATE, 0), 1, s6, (const double[]){1, 1, 1, 2, 3, 3});
        expect(nb_pad(v, 1, p21, NB_PAD_CIRCULAR, 0), 1, s6, (const double[]){2, 3, 1, 2, 3, 1});
        expect(nb_pad(v, 1, p12, NB_PAD_CONSTANT, 9), 1, s6, (const double[]){9, 1, 2, 3, 9, 9});
        /* F.pad(x[None, None], (1, 1, 1, 1), mode='reflect') */
        nb_tensor *x = tens(dt, 2, s22, (const double[]){1, 2, 3, 4});
        expect(nb_pad(x, 2, (const int64_t[]){1, 1, 1, 1}, NB_PAD_REFLECT, 0), 2, s44,
               (const double[]){4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1});
        /* only the last axis of a 2-D x, circular by the whole size */
        const int64_t s26[2] = {2, 6};
        expect(nb_pad(x, 1, (const int64_t[]){2, 2}, NB_PAD_CIRCULAR, 0), 2, s26,
               (const double[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
        nb_tensor_free(v);
        nb_tensor_free(x);
    }
}

static void test_remap_errors_name_the_arguments(void **state)
{
    (void)state;
    nb_tensor *x = tens(NB_F32, 2, s23, v123456), *v = tens(NB_F32, 1, s3, v123456);
    assert_null(nb_flip(x, 2, (const int[]){1, -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_flip: axis 1 is given twice (as 1 and -1)");
    assert_null(nb_flip(x, 1, (const int[]){2}));
    nbt_assert_error(NB_ERR_VALUE, "nb_flip: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_roll(x, 2, (const int64_t[]){1, 1}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_roll: without axes exactly one shift is taken, got 2");
    assert_null(nb_repeat(x, 1, (const int64_t[]){2}));
    nbt_assert_error(NB_ERR_VALUE, "nb_repeat: 1 repeats for x [2, 3] (from its ndim to 8; "
                                   "nb_tile accepts fewer)");
    assert_null(nb_tile(x, 2, (const int64_t[]){2, -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_tile: repeats[1] = -1 is negative");
    assert_null(nb_repeat(x, 2, (const int64_t[]){INT64_MAX / 2 + 1, 3}));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_repeat: axis 0 of 2 repeated 4611686018427387904 times overflows");
    assert_null(nb_pad(v, 1, (const int64_t[]){3, 0}, NB_PAD_REFLECT, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad: reflect padding needs each pad smaller than the size "
                                   "of axis 0: pads 3 and 0, x is [3]");
    assert_null(nb_pad(v, 1, (const int64_t[]){0, 4}, NB_PAD_CIRCULAR, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad: circular padding needs each pad at most the size");
    assert_null(nb_pad(v, 1, (const int64_t[]){-1, 0}, NB_PAD_CONSTANT, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad: pads must be in [0, 2^31), got -1 and 0 on axis 0");
    assert_null(nb_pad(v, 2, (const int64_t[]){0, 0, 0, 0}, NB_PAD_CONSTANT, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_pad: pads for 2 axes given, x is [3] (1 to ndim axes)");
    assert_null(nb_pad(v, 1, (const int64_t[]){1, 1}, (nb_pad_mode)7, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad: unknown padding mode 7");
    assert_null(nb_pad(v, 1, NULL, NB_PAD_CONSTANT, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad: bad count 1 (0 to 8) or NULL array");
    nb_tensor_free(x);
    nb_tensor_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flip_reverses_the_given_axes),
        cmocka_unit_test(test_roll_wraps_around),
        cmocka_unit_test(test_repeat_and_tile_copy_whole_tensors),
        cmocka_unit_test(test_pad_modes_match_torch),
        cmocka_unit_test(test_remap_errors_name_the_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
