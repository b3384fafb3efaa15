/* tests/report/test_image_rows.c — grids built row by row (report/image_rows.c): the same PNG as
 * nb_png_write_grid on the rows joined, copies taken at add time, and the errors; the same for
 * nb_png_write_rows, the one-call form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

/* The bytes of the file at path (size in *n); caller frees. */
static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)*n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return buf;
}

/* The files at a and b hold the same bytes. */
static void assert_same_bytes(const char *a, const char *b)
{
    long na, nb;
    unsigned char *fa = slurp(a, &na), *fb = slurp(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(fa, fb, (size_t)na);
    free(fa), free(fb);
}

static void test_image_rows_write_the_grid_of_the_rows_joined(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(4);
    nb_tensor *a = nb_rand_uniform(NB_F32, NB_SHAPE(3, 6, 6), &rng, 0, 1);
    nb_tensor *b = nb_rand_uniform(NB_F32, NB_SHAPE(3, 6, 6), &rng, 0, 1);
    nb_image_rows *rows = nb_image_rows_new();
    assert_int_equal(nb_image_rows_add(rows, a, "start"), NB_OK);
    assert_int_equal(nb_image_rows_add(rows, b, "epoch %d", 1), NB_OK);
    nb_tensor *joined = nb_concat(2, (nb_tensor *[]){a, b}, 0);
    nb_tensor_fill(a, 0.0); /* the rows hold copies */
    assert_int_equal(nb_image_rows_count(rows), 2);
    const nb_grid_opts o = {.scale = 2, .title = "rows", .caption = "below", .cols = 99};
    char path1[512];
    snprintf(path1, sizeof path1, "%s", nbt_tmp_path("rows"));
    const char *p2 = nbt_tmp_path("grid");
    assert_string_not_equal(path1, p2);
    assert_int_equal(nb_image_rows_write_png(rows, path1, &o), NB_OK);
    nb_grid_opts direct = o;
    direct.cols = 3;
    direct.row_labels = (const char *[]){"start", "epoch 1"};
    direct.n_row_labels = 2;
    assert_int_equal(nb_png_write_grid(p2, joined, &direct), NB_OK);
    assert_same_bytes(path1, p2);
    remove(path1), remove(p2);
    nb_tensor_free(a), nb_tensor_free(b), nb_tensor_free(joined);
    nb_image_rows_free(rows);
    nb_image_rows_free(NULL);
}

static void test_image_rows_report_errors(void **state)
{
    (void)state;
    nb_image_rows *rows = nb_image_rows_new();
    nb_tensor *a = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 4, 4));
    nb_tensor *wide = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 4, 4));
    nb_tensor *f64 = nb_tensor_zeros(NB_F64, NB_SHAPE(2, 4, 4));
    assert_int_equal(nb_image_rows_write_png(rows, nbt_tmp_path("none"), NULL), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "no rows to write"));
    nb_clear_error();
    assert_int_equal(nb_image_rows_add(rows, a, NULL), NB_OK);
    assert_int_equal(nb_image_rows_add(rows, wide, "x"), NB_ERR_SHAPE);
    assert_non_null(strstr(nb_last_error(), "row 1 is [3, 4, 4], row 0 [2, 4, 4]"));
    nb_clear_error();
    assert_int_equal(nb_image_rows_add(rows, f64, "x"), NB_ERR_DTYPE);
    nb_clear_error();
    assert_int_equal(nb_image_rows_add(NULL, a, "x"), NB_ERR_VALUE);
    nb_clear_error();
    /* a failed op keeps its own error */
    nb_tensor *bad = nb_matmul(a, wide);
    assert_null(bad);
    const nb_status op_status = nb_last_status();
    assert_int_equal(nb_image_rows_add(rows, bad, "x"), op_status);
    nb_clear_error();
    assert_int_equal(nb_image_rows_add(rows, NULL, "x"), NB_ERR_VALUE);
    nb_clear_error();
    assert_int_equal(nb_image_rows_count(rows), 1);
    /* unlabelled rows: a bare grid */
    assert_int_equal(nb_image_rows_write_png(rows, nbt_tmp_path("bare"), NULL), NB_OK);
    nb_tensor_free(a), nb_tensor_free(wide), nb_tensor_free(f64);
    nb_image_rows_free(rows);
}

static void test_png_write_rows_is_the_grid_of_the_rows_joined(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    nb_tensor *a = nb_rand_uniform(NB_F32, NB_SHAPE(4, 5, 5), &rng, 0, 1);
    nb_tensor *b = nb_rand_uniform(NB_F32, NB_SHAPE(4, 5, 5), &rng, 0, 1);
    nb_tensor *joined = nb_concat(2, (nb_tensor *[]){a, b}, 0);
    const nb_grid_opts o = {.scale = 3, .title = "pairs", .caption = "below"};
    char path1[512];
    snprintf(path1, sizeof path1, "%s", nbt_tmp_path("rows1"));
    const char *p2 = nbt_tmp_path("grid1");
    assert_int_equal(nb_png_write_rows(path1, 2, (const nb_tensor *[]){a, b},
                                       (const char *[]){"input", NULL}, &o),
                     NB_OK);
    nb_grid_opts direct = o;
    direct.cols = 4;
    direct.row_labels = (const char *[]){"input", NULL};
    direct.n_row_labels = 2;
    assert_int_equal(nb_png_write_grid(p2, joined, &direct), NB_OK);
    assert_same_bytes(path1, p2);
    /* no labels at all: the bare grid */
    assert_int_equal(nb_png_write_rows(path1, 2, (const nb_tensor *[]){a, b}, NULL, NULL), NB_OK);
    assert_int_equal(nb_png_write_grid(p2, joined, &(nb_grid_opts){.cols = 4}), NB_OK);
    assert_same_bytes(path1, p2);
    remove(path1), remove(p2);
    nb_tensor_free(a), nb_tensor_free(b), nb_tensor_free(joined);
}

static void test_png_write_rows_reports_errors(void **state)
{
    (void)state;
    nb_tensor *a = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 4, 4));
    nb_tensor *wide = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 4, 4));
    const char *path = nbt_tmp_path("rows_err");
    assert_int_equal(nb_png_write_rows(path, 0, (const nb_tensor *[]){a}, NULL, NULL),
                     NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_png_write_rows: need a path and n >= 1 rows (n = 0)");
    assert_int_equal(nb_png_write_rows(NULL, 1, (const nb_tensor *[]){a}, NULL, NULL),
                     NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "need a path");
    assert_int_equal(nb_png_write_rows(path, 1, NULL, NULL, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "need a path");
    assert_int_equal(nb_png_write_rows(path, 2, (const nb_tensor *[]){a, wide}, NULL, NULL),
                     NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "row 1 is [3, 4, 4], row 0 [2, 4, 4]");
    nb_tensor *bad = nb_matmul(a, wide); /* a failed op keeps its own error */
    const nb_status op_status = nb_last_status();
    assert_int_equal(nb_png_write_rows(path, 2, (const nb_tensor *[]){a, bad}, NULL, NULL),
                     op_status);
    nb_clear_error();
    nb_tensor_free(a), nb_tensor_free(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_rows_write_the_grid_of_the_rows_joined),
        cmocka_unit_test(test_image_rows_report_errors),
        cmocka_unit_test(test_png_write_rows_is_the_grid_of_the_rows_joined),
        cmocka_unit_test(test_png_write_rows_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
