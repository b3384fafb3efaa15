/* tests/io/test_size_limits.c — a small file that claims a huge size is refused before anything
 * is allocated for it (IDX raw and gzip, CIFAR-10, checkpoints, .npy), and shapes whose element
 * count or strides overflow are refused by every tensor constructor with NB_ERR_SHAPE. */
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* 100 bytes: an IDX header claiming `dims`, padded with data bytes. */
static void write_idx_claim(const char *path, int nd, const uint32_t *dims, bool gz)
{
    unsigned char b[100];
    memset(b, 0x55, sizeof b);
    b[0] = 0;
    b[1] = 0;
    b[2] = 0x08;
    b[3] = (unsigned char)nd;
    for (int i = 0; i < nd; i++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    assert_true(gz ? nbt_write_gz(path, b, sizeof b) : nbt_write_all(path, b, sizeof b));
}

/* Run load() with every library allocation failing: the refusal must come first (a format
 * error, not out-of-memory), and no allocation may have been attempted. */
#define EXPECT_REFUSED_BEFORE_ALLOCATING(call, part)                                               \
    do {                                                                                           \
        long before_ = nb_debug_alloc_count();                                                     \
        nb_debug_fail_alloc_after(1);                                                              \
        call;                                                                                      \
        nb_debug_fail_alloc_after(0);                                                              \
        assert_int_equal(nb_debug_alloc_count() - before_, 0);                                     \
        nbt_assert_error(NB_ERR_FORMAT, part);                                                     \
    } while (0)

static void test_raw_idx_claiming_huge_dims_is_refused_before_allocation(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("huge.idx"));
    write_idx_claim(path, 3, (const uint32_t[]){60000, 28, 28}, false);
    EXPECT_REFUSED_BEFORE_ALLOCATING(assert_null(nb_idx_load(path, NB_F32, 1)), "truncated");
    write_idx_claim(path, 4, (const uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu, 2}, false);
    EXPECT_REFUSED_BEFORE_ALLOCATING(assert_null(nb_idx_load(path, NB_F32, 1)), "too large");
    remove(path);
}

static void test_gzip_idx_claiming_more_than_it_can_hold_is_refused_before_allocation(void **s)
{
    (void)s;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("huge-idx.gz"));
    write_idx_claim(path, 3, (const uint32_t[]){1000000, 28, 28}, true);
    EXPECT_REFUSED_BEFORE_ALLOCATING(assert_null(nb_idx_load(path, NB_F32, 1)), "gzip");
    char labels[512];
    snprintf(labels, sizeof labels, "%s", nbt_tmp_path("huge-labels.gz"));
    write_idx_claim(labels, 1, (const uint32_t[]){1000000}, true);
    nb_dataset ds;
    EXPECT_REFUSED_BEFORE_ALLOCATING(
        assert_int_not_equal(nb_idx_load_dataset(path, labels, 10, NULL, &ds), NB_OK), "gzip");
    remove(path);
    remove(labels);
}

static void test_cifar_file_of_the_wrong_size_is_refused_before_allocation(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("small.bin"));
    unsigned char b[100] = {0};
    assert_true(nbt_write_all(path, b, sizeof b));
    nb_dataset ds;
    EXPECT_REFUSED_BEFORE_ALLOCATING(
        assert_int_not_equal(nb_cifar10_load_file(path, NULL, &ds), NB_OK), "3073");
    remove(path);
}

/* A checkpoint of about 100 bytes, digest correct, whose one tensor claims 2^40 elements. */
static void test_checkpoint_claiming_huge_tensor_is_refused_after_reading_only_the_file(void **s)
{
    (void)s;
    unsigned char b[100];
    memset(b, 0, sizeof b);
    memcpy(b, "\x89NBCKPT\n", 8);
    b[8] = 1;  /* version */
    b[16] = 1; /* count */
    b[24] = 1; /* name length */
    b[28] = 'w';
    b[29] = 0;     /* dtype f32 (u32 at 29) */
    b[33] = 1;     /* ndim (u32 at 33) */
    b[37 + 5] = 1; /* dim 0 = 2^40 (u64 at 37) */
    uint64_t d = nb_digest64(b, 92, 0);
    for (int i = 0; i < 8; i++)
        b[92 + i] = (unsigned char)(d >> (8 * i));
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("huge.ckpt"));
    assert_true(nbt_write_all(path, b, sizeof b));
    /* the reader holds the (100-byte) file in memory and sizes its entry table and name set by
     * the count the file can hold: nothing sized by the claimed shape */
    long before = nb_debug_alloc_count();
    assert_null(nb_checkpoint_read_toc(path));
    assert_true(nb_debug_alloc_count() - before <= 3);
    nbt_assert_error(NB_ERR_FORMAT, "claims more data than the file holds");
    assert_null(nb_checkpoint_load_tensor(path, "w"));
    nbt_assert_error(NB_ERR_FORMAT, "claims more data than the file holds");
    remove(path);
}

static void test_npy_claiming_huge_shape_is_refused(void **state)
{
    (void)state;
    const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 4), }";
    unsigned char b[128];
    memset(b, ' ', sizeof b);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = 128 - 10;
    b[9] = 0;
    memcpy(b + 10, hdr, sizeof hdr - 1);
    b[127] = '\n';
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("huge.npy"));
    assert_true(nbt_write_all(path, b, sizeof b));
    long before = nb_debug_alloc_count();
    assert_null(nb_npy_load(path));
    assert_true(nb_debug_alloc_count() - before <= 2);
    assert_int_equal(nb_last_status(), NB_ERR_FORMAT);
    nb_clear_error();
    remove(path);
}

/* ---- tensors made through the API ---- */
static void expect_shape_refused(int ndim, const int64_t *shape)
{
    nb_rng r = nb_rng_seed(1);
    for (int dt = NB_F32; dt <= NB_I64; dt++) {
        assert_null(nb_tensor_new((nb_dtype)dt, ndim, shape));
        nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new");
        assert_null(nb_tensor_zeros((nb_dtype)dt, ndim, shape));
        assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
        nb_clear_error();
        assert_null(nb_tensor_full((nb_dtype)dt, ndim, shape, 1.0));
        assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
        nb_clear_error();
    }
    assert_null(nb_tensor_uniform(NB_F32, ndim, shape, &r, 0, 1));
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    nb_clear_error();
    assert_null(nb_tensor_normal(NB_F64, ndim, shape, &r, 0, 1));
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    nb_clear_error();
    float one = 1;
    assert_null(nb_tensor_from_data(NB_F32, ndim, shape, &one));
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    nb_clear_error();
}

static void test_tensor_new_rejects_shapes_whose_element_count_overflows(void **state)
{
    (void)state;
    expect_shape_refused(2, (const int64_t[]){INT64_MAX, 2});
    expect_shape_refused(2, (const int64_t[]){(int64_t)1 << 32, (int64_t)1 << 32});
    expect_shape_refused(3, (const int64_t[]){(int64_t)1 << 31, (int64_t)1 << 31, 4});
    expect_shape_refused(8, (const int64_t[]){256, 256, 256, 256, 256, 256, 256, 256});
    /* just above the 2^60-element limit */
    expect_shape_refused(2, (const int64_t[]){((int64_t)1 << 59) + 1, 2});
}

static void test_tensor_new_rejects_empty_shapes_whose_strides_overflow(void **state)
{
    (void)state;
    /* no element, but contiguous strides of the nonzero dims would overflow int64 */
    expect_shape_refused(3, (const int64_t[]){0, (int64_t)1 << 62, 4});
    expect_shape_refused(3, (const int64_t[]){(int64_t)1 << 40, 0, (int64_t)1 << 40});
    /* an empty tensor with modest dims is fine */
    nb_tensor *t = nb_tensor_new(NB_F32, 3, (const int64_t[]){0, 1 << 20, 4});
    assert_non_null(t);
    assert_int_equal(nb_tensor_numel(t), 0);
    nb_tensor_free(t);
}

static void test_ops_on_empty_tensors_with_large_dims_stay_in_range(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_new(NB_F32, 2, (const int64_t[]){0, (int64_t)1 << 30});
    assert_non_null(x);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_mul(x, x);
    assert_non_null(y);
    assert_int_equal(nb_tensor_numel(y), 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    nb_debug_fail_alloc_after(0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_raw_idx_claiming_huge_dims_is_refused_before_allocation,
                               clear_error),
        cmocka_unit_test_setup(
            test_gzip_idx_claiming_more_than_it_can_hold_is_refused_before_allocation, clear_error),
        cmocka_unit_test_setup(test_cifar_file_of_the_wrong_size_is_refused_before_allocation,
                               clear_error),
        cmocka_unit_test_setup(
            test_checkpoint_claiming_huge_tensor_is_refused_after_reading_only_the_file,
            clear_error),
        cmocka_unit_test_setup(test_npy_claiming_huge_shape_is_refused, clear_error),
        cmocka_unit_test_setup(test_tensor_new_rejects_shapes_whose_element_count_overflows,
                               clear_error),
        cmocka_unit_test_setup(test_tensor_new_rejects_empty_shapes_whose_strides_overflow,
                               clear_error),
        cmocka_unit_test_setup(test_ops_on_empty_tensors_with_large_dims_stay_in_range,
                               clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
