/* tests/io/test_npy.c — NumPy .npy export and import (io/npy.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* A .npy file as NumPy writes it: magic, version, header length, dict padded to 64, data. */
static size_t npy_bytes(unsigned char *out, int major, const char *dict, const void *data,
                        size_t data_len)
{
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
    size_t total = (pre + len + 1 + 63) / 64 * 64, hlen = total - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        out[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(out + pre, dict, len);
    memset(out + pre + len, ' ', hlen - len - 1);
    out[total - 1] = '\n';
    memcpy(out + total, data, data_len);
    return total + data_len;
}

static void test_npy_round_trip_every_dtype_and_rank(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    const int64_t shapes[4][3] = {{0}, {7}, {2, 3}, {2, 1, 4}};
    const int ranks[4] = {0, 1, 2, 3};
    const nb_dtype dtypes[3] = {NB_F32, NB_F64, NB_I64};
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("rt.npy"));
    for (int d = 0; d < 3; d++)
        for (int s = 0; s < 4; s++) {
            nb_tensor *t = nb_tensor_new(dtypes[d], ranks[s], shapes[s]);
            assert_non_null(t);
            for (int64_t i = 0; i < nb_tensor_numel(t); i++)
                nb_tensor_set(t, i,
                              dtypes[d] == NB_I64 ? (double)(int64_t)nb_rng_u64(&r)
                                                  : nb_rng_normal(&r) * 1e6);
            assert_int_equal(nb_npy_save(path, t), NB_OK);
            nb_tensor *u = nb_npy_load(path);
            assert_non_null(u);
            assert_int_equal(nb_tensor_dtype(u), dtypes[d]);
            assert_int_equal(nb_tensor_ndim(u), ranks[s]);
            for (int k = 0; k < ranks[s]; k++)
                assert_int_equal(nb_tensor_dim(u, k), shapes[s][k]);
            size_t n = (size_t)nb_tensor_numel(t) * nb_dtype_size(dtypes[d]);
            assert_memory_equal(nb_tensor_data(u), nb_tensor_data(t), n);
            nb_tensor_free(u);
            nb_tensor_free(t);
        }
    remove(path);
}

static void test_npy_header_is_numpy_format_1_0(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("hdr.npy"));
    int64_t s23[2] = {2, 3};
    nb_tensor *m = nb_tensor_new(NB_F32, 2, s23);
    for (int i = 0; i < 6; i++)
        nb_tensor_set(m, i, i);
    nb_tensor *mt = nb_transpose(m, 0, 1); /* written in C order of the [3, 2] view */
    assert_int_equal(nb_npy_save(path, mt), NB_OK);
    size_t size;
    unsigned char *b = nbt_read_all(path, &size);
    assert_non_null(b);
    assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
    size_t hlen = b[8] | (size_t)b[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(b[10 + hlen - 1], '\n');
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
    assert_memory_equal(b + 10, dict, strlen(dict));
    assert_int_equal(size, 10 + hlen + 6 * 4);
    const float expect[6] = {0, 3, 1, 4, 2, 5};
    assert_memory_equal(b + 10 + hlen, expect, sizeof expect);
    nbt_free(b);

    /* 1-dim shapes have the trailing comma, scalars an empty tuple */
    int64_t s5[1] = {5};
    nb_tensor *v = nb_tensor_new(NB_I64, 1, s5);
    assert_int_equal(nb_npy_save(path, v), NB_OK);
    b = nbt_read_all(path, &size);
    assert_non_null(strstr((const char *)b + 10, "'descr': '<i8'"));
    assert_non_null(strstr((const char *)b + 10, "'shape': (5,), }"));
    nbt_free(b);
    nb_tensor *sc = nb_tensor_full(NB_F64, 0, NULL, 1.5);
    assert_int_equal(nb_npy_save(path, sc), NB_OK);
    b = nbt_read_all(path, &size);
    assert_non_null(strstr((const char *)b + 10, "'descr': '<f8'"));
    assert_non_null(strstr((const char *)b + 10, "'shape': (), }"));
    nbt_free(b);
    nb_tensor_free(sc);
    nb_tensor_free(v);
    nb_tensor_free(mt);
    nb_tensor_free(m);
    remove(path);
}

static void test_npy_reads_files_written_by_numpy_conventions(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("np.npy"));
    unsigned char buf[512];
    /* format 2.0, big-endian doubles, key order as older NumPy versions wrote it */
    unsigned char be[16] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, /* pi */
                            0xc0, 0x00, 0,    0,    0,    0,    0,    0};   /* -2 */
    size_t n = npy_bytes(buf, 2, "{'fortran_order': False, 'shape': (2,), 'descr': '>f8', }", be,
                         sizeof be);
    assert_true(nbt_write_all(path, buf, n));
    nb_tensor *t = nb_npy_load(path);
    assert_non_null(t);
    assert_int_equal(nb_tensor_dtype(t), NB_F64);
    assert_float_equal(nb_tensor_get(t, 0), 3.141592653589793, 0);
    assert_float_equal(nb_tensor_get(t, 1), -2.0, 0);
    nb_tensor_free(t);
    remove(path);
}

static void expect_npy_error(const char *path, nb_status st, const char *part)
{
    assert_null(nb_npy_load(path));
    assert_int_equal(nb_last_status(), st);
    if (!strstr(nb_last_error(), part) || !strstr(nb_last_error(), path))
        fail_msg("message '%s' lacks '%s' or the path", nb_last_error(), part);
    nb_clear_error();
}

static void test_npy_load_rejects_bad_files(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("bad.npy"));
    unsigned char buf[512];
    float data[6] = {1, 2, 3, 4, 5, 6};
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t n = npy_bytes(buf, 1, ok, data, sizeof data);

    assert_true(nbt_write_all(path, buf, n - 1));
    expect_npy_error(path, NB_ERR_FORMAT, "shape (2, 3) needs 24 data bytes but the file has 23");
    assert_true(nbt_write_all(path, buf, 30));
    expect_npy_error(path, NB_ERR_FORMAT, "truncated header");
    buf[n] = 0;
    assert_true(nbt_write_all(path, buf, n + 1));
    expect_npy_error(path, NB_ERR_FORMAT, "but the file has 25");
    buf[1] = 'X';
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "not a .npy file (bad magic)");

    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data,
                  sizeof data);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "Fortran-order arrays are not supported");
    n = npy_bytes(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data,
                  sizeof data);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "dtype '<i4' is not supported");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data,
                  sizeof data);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "shape");
    n = npy_bytes(buf, 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", data,
                  sizeof data);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "at most 8 dims");
    /* empty, but no tensor can have this shape (its strides would overflow): a format error
     * naming the file, not a failure further down */
    n = npy_bytes(buf, 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776, "
                  "1099511627776), }",
                  data, 0);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "shape (0, 1099511627776, 1099511627776) is too large");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'shape': (2, 3), }", data, sizeof data);
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "no valid 'fortran_order'");
    buf[6] = 9;
    assert_true(nbt_write_all(path, buf, n));
    expect_npy_error(path, NB_ERR_FORMAT, "format version 9.0 is not supported");

    remove(path);
    expect_npy_error(path, NB_ERR_IO, "cannot open");
    assert_int_equal(nb_npy_save(path, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_npy_save: tensor is NULL");
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
        cmocka_unit_test_setup(test_npy_round_trip_every_dtype_and_rank, clear_error),
        cmocka_unit_test_setup(test_npy_header_is_numpy_format_1_0, clear_error),
        cmocka_unit_test_setup(test_npy_reads_files_written_by_numpy_conventions, clear_error),
        cmocka_unit_test_setup(test_npy_load_rejects_bad_files, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
