/* tests/data/test_datasets.c — dataset files (data/datasets.c): IDX raw and gzip, Fashion-MNIST and
 * MNIST directories, CIFAR-10 batches, and every kind of bad file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

enum { N = 13, H = 5, W = 4 };

/* Paths of an image and a label file in a fresh directory. */
typedef struct pair {
    char dir[512], img[600], lab[600];
} pair;

static void pair_make(pair *p, const char *tag, bool gz)
{
    snprintf(p->dir, sizeof p->dir, "%s", nbt_tmp_dir(tag));
    snprintf(p->img, sizeof p->img, "%s/img%s", p->dir, gz ? ".gz" : "");
    snprintf(p->lab, sizeof p->lab, "%s/lab%s", p->dir, gz ? ".gz" : "");
}

static void check_mnist_like(const nb_dataset *ds, int n, bool raw_values)
{
    nb_tensor *x = ds->x, *y = ds->y;
    assert_int_equal(nb_dataset_size(ds), n);
    assert_int_equal(nb_tensor_dtype(x), NB_F32);
    assert_int_equal(nb_tensor_numel(x), (int64_t)n * H * W);
    assert_int_equal(nb_tensor_dtype(y), NB_I64);
    const float *px = nb_tensor_data_f32(x);
    const int64_t *py = nb_tensor_data_i64(y);
    for (int i = 0; i < n; i++) {
        assert_int_equal(py[i], i % 10);
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++) {
                double want = nbt_mnist_pixel(i, r, c) / (raw_values ? 1.0 : 255.0);
                assert_float_equal(px[(i * H + r) * W + c], want, 1e-6);
            }
    }
}

static void test_idx_reads_raw_and_gzip_files_alike(void **state)
{
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        pair p;
        pair_make(&p, "idx-ok", gz);
        assert_true(nbt_write_mnist_like(p.img, p.lab, N, H, W, 10, gz));
        nb_dataset ds;
        assert_int_equal(nb_idx_load_dataset(p.img, p.lab, 10, NULL, &ds), NB_OK);
        check_mnist_like(&ds, N, false);
        assert_int_equal(nb_tensor_ndim(ds.x), 3);
        assert_int_equal(nb_tensor_dim(ds.x, 1), H);
        assert_int_equal(ds.n_classes, 10);
        nb_dataset_deinit(&ds);
        assert_null(ds.x);

        nb_load_opts o = {.layout = NB_LAYOUT_NCHW, .raw_values = true, .max_samples = 6};
        assert_int_equal(nb_idx_load_dataset(p.img, p.lab, 10, &o, &ds), NB_OK);
        check_mnist_like(&ds, 6, true);
        assert_int_equal(nb_tensor_ndim(ds.x), 4);
        assert_int_equal(nb_tensor_dim(ds.x, 1), 1);
        assert_int_equal(nb_tensor_dim(ds.x, 3), W);
        nb_dataset_deinit(&ds);

        o = (nb_load_opts){.layout = NB_LAYOUT_FLAT};
        assert_int_equal(nb_idx_load_dataset(p.img, p.lab, 10, &o, &ds), NB_OK);
        assert_int_equal(nb_tensor_ndim(ds.x), 2);
        assert_int_equal(nb_tensor_dim(ds.x, 1), H * W);
        check_mnist_like(&ds, N, false);
        nb_dataset_deinit(&ds);

        nb_tensor *lab = nb_idx_load(p.lab, NB_I64, 1);
        assert_non_null(lab);
        assert_int_equal(nb_tensor_numel(lab), N);
        assert_int_equal(nb_tensor_get(lab, 12), 2);
        nb_tensor_free(lab);
        nbt_remove_dir(p.dir);
    }
}

static void test_idx_save_writes_the_format_byte_for_byte(void **state)
{
    (void)state;
    pair p;
    pair_make(&p, "idx-save", false);
    int64_t shape[2] = {2, 3};
    const double v[6] = {0, 0.5, 1, 1.2, -0.1, 0.25};
    nb_tensor *t = nb_tensor_new(NB_F64, 2, shape);
    for (int i = 0; i < 6; i++)
        nb_tensor_set(t, i, v[i]);
    assert_int_equal(nb_idx_save(p.img, t, 255), NB_OK);
    const uint8_t bytes[6] = {0, 128, 255, 255, 0, 64}; /* rounded and clamped */
    const uint32_t dims[2] = {2, 3};
    size_t size;
    unsigned char *want = nbt_idx_bytes(0x08, 2, dims, bytes, 6, &size);
    assert_true(nbt_file_equals(p.img, want, size));
    nbt_free(want);
    /* .gz: compressed, and reads back to the same values */
    char gz[700];
    snprintf(gz, sizeof gz, "%s/x.gz", p.dir);
    assert_int_equal(nb_idx_save(gz, t, 255), NB_OK);
    unsigned char *head = nbt_read_all(gz, &size);
    assert_int_equal(head[0], 0x1f);
    assert_int_equal(head[1], 0x8b);
    nbt_free(head);
    nb_tensor *back = nb_idx_load(gz, NB_F64, 1);
    assert_non_null(back);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(back, i), bytes[i], 0);
    nb_tensor_free(back);
    nb_tensor_free(t);
    nbt_remove_dir(p.dir);
}

/* Write `bytes` to path (gz or raw), then loading must fail with status and message parts. */
static void expect_load_error(const char *images, const char *labels, nb_status st,
                              const char *named, const char *part)
{
    nb_dataset ds = {.n_classes = 99};
    nb_status got = nb_idx_load_dataset(images, labels, 10, NULL, &ds);
    if (got != st || !strstr(nb_last_error(), named) || !strstr(nb_last_error(), part))
        fail_msg("want status %d naming %s with '%s'; got %d: %s", st, named, part, got,
                 nb_last_error());
    nb_clear_error();
    assert_null(ds.x);
    assert_null(ds.y);
    assert_int_equal(ds.n_classes, 0);
}

static void write_idx(const char *path, bool gz, uint8_t type, int nd, const uint32_t *dims,
                      size_t data_len)
{
    uint8_t *data = calloc(data_len ? data_len : 1, 1);
    size_t size;
    unsigned char *b = nbt_idx_bytes(type, nd, dims, data, data_len, &size);
    assert_true(gz ? nbt_write_gz(path, b, size) : nbt_write_all(path, b, size));
    nbt_free(b);
    free(data);
}

static void test_idx_rejects_bad_headers_and_sizes(void **state)
{
    (void)state;
    pair p;
    pair_make(&p, "idx-bad", false);
    assert_true(nbt_write_mnist_like(p.img, p.lab, N, H, W, 10, false));
    uint32_t dims3[3] = {N, H, W}, dims1[1] = {N};
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad", p.dir);

    expect_load_error(p.img, "/nonexistent/labels", NB_ERR_IO, "/nonexistent/labels",
                      "cannot open");
    const unsigned char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_true(nbt_write_all(bad, junk, 8));
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "bad magic 0x01020304");
    assert_true(nbt_write_all(bad, junk, 0));
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "too short for an IDX header");
    write_idx(bad, false, 0x0D, 3, dims3, N * H * W * 4);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "data type 0x0d (float) is not supported");
    write_idx(bad, false, 0x42, 3, dims3, N * H * W);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "unknown IDX data type code 0x42");
    write_idx(bad, false, 0x08, 3, dims3, N * H * W);
    expect_load_error(p.img, bad, NB_ERR_FORMAT, bad, "has 3 dimensions, expected 1");
    write_idx(bad, false, 0x08, 1, dims1, N);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "has 1 dimensions, expected 2 to 4");
    uint32_t zero[3] = {N, 0, W};
    write_idx(bad, false, 0x08, 3, zero, 0);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "dimension 1 is 0");
    unsigned char cut[10] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0};
    assert_true(nbt_write_all(bad, cut, sizeof cut));
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "truncated in the header");
    write_idx(bad, false, 0x08, 3, dims3, N * H * W - 1);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad,
                      "truncated: header says 13 x 5 x 4 (260 data bytes), file has 259");
    write_idx(bad, false, 0x08, 3, dims3, N * H * W + 2);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "2 bytes after the data");

    /* a header claiming a huge array is refused before anything that size is allocated */
    uint32_t huge[3] = {4000000000u, 60000, 600};
    write_idx(bad, false, 0x08, 3, huge, 100);
    long before = nb_debug_alloc_count();
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "truncated: header says 4000000000 x");
    assert_true(nb_debug_alloc_count() - before < 10);
    nb_tensor *t = nb_idx_load(bad, NB_F32, 1);
    assert_null(t);
    nbt_assert_error(NB_ERR_FORMAT, "nb_idx_load");
    huge[2] = 60000; /* the product no longer fits in 60 bits */
    write_idx(bad, false, 0x08, 3, huge, 100);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad,
                      "dimensions 4000000000 x 60000 x 60000... are too large");

    /* labels that disagree with the images */
    write_idx(bad, false, 0x08, 1, (uint32_t[1]){N - 1}, N - 1);
    expect_load_error(p.img, bad, NB_ERR_FORMAT, bad, "has 12 labels but");
    uint8_t labels[N] = {0, 1, 2, 10, 4};
    size_t size;
    unsigned char *b = nbt_idx_bytes(0x08, 1, dims1, labels, N, &size);
    assert_true(nbt_write_all(bad, b, size));
    nbt_free(b);
    expect_load_error(p.img, bad, NB_ERR_FORMAT, bad,
                      "label 10 at index 3 is out of range [0, 10)");
    nbt_remove_dir(p.dir);
}

static void test_idx_rejects_bad_gzip_files(void **state)
{
    (void)state;
    pair p;
    pair_make(&p, "idx-badgz", true);
    assert_true(nbt_write_mnist_like(p.img, p.lab, N, H, W, 10, true));
    uint32_t dims3[3] = {N, H, W};
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.gz", p.dir);

    /* named .gz but raw */
    write_idx(bad, false, 0x08, 3, dims3, N * H * W);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "named .gz but is not gzip-compressed");
    /* data shorter / longer than the header says, inside a valid gzip stream */
    write_idx(bad, true, 0x08, 3, dims3, N * H * W - 1);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "data ends after 259");
    write_idx(bad, true, 0x08, 3, dims3, N * H * W + 1);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "more data than the header's 260 bytes");
    /* a header no gzip file of this size could hold */
    uint32_t huge[3] = {4000000000u, 60000, 600};
    write_idx(bad, true, 0x08, 3, huge, 10);
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "gzip file can hold");

    /* the compressed stream itself damaged: every truncation and a flipped CRC byte */
    size_t size;
    unsigned char *good = nbt_read_all(p.img, &size);
    assert_non_null(good);
    for (size_t len = 2; len < size; len++) {
        assert_true(nbt_write_all(bad, good, len));
        nb_dataset ds;
        nb_status st = nb_idx_load_dataset(bad, p.lab, 10, NULL, &ds);
        if (st != NB_ERR_FORMAT || !strstr(nb_last_error(), bad))
            fail_msg("truncated gzip at %zu: status %d: %s", len, st, nb_last_error());
        nb_clear_error();
    }
    good[size - 6] ^= 0x40; /* inside the CRC-32 */
    assert_true(nbt_write_all(bad, good, size));
    expect_load_error(bad, p.lab, NB_ERR_FORMAT, bad, "corrupt gzip data");
    nbt_free(good);
    nbt_remove_dir(p.dir);
}

static void test_idx_load_out_of_memory_is_clean(void **state)
{
    (void)state;
    pair p;
    pair_make(&p, "idx-oom", true);
    assert_true(nbt_write_mnist_like(p.img, p.lab, N, H, W, 10, true));
    int failures = 0;
    for (long k = 1; k < 100; k++) {
        nb_dataset ds;
        nb_debug_fail_alloc_after(k);
        nb_status st = nb_idx_load_dataset(p.img, p.lab, 10, NULL, &ds);
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK) {
            check_mnist_like(&ds, N, false);
            nb_dataset_deinit(&ds);
            break;
        }
        failures++;
        assert_int_equal(st, NB_ERR_NOMEM);
        assert_null(ds.x);
        nb_clear_error();
    }
    assert_true(failures >= 4);
    nbt_remove_dir(p.dir);
}

static void write_mnist_dir(const char *dir, bool dotted_test_names)
{
    char img[700], lab[700];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    assert_true(nbt_write_mnist_like(img, lab, N, H, W, 10, true));
    snprintf(img, sizeof img, "%s/t10k-images%sidx3-ubyte", dir, dotted_test_names ? "." : "-");
    snprintf(lab, sizeof lab, "%s/t10k-labels%sidx1-ubyte", dir, dotted_test_names ? "." : "-");
    assert_true(nbt_write_mnist_like(img, lab, 7, H, W, 10, false));
}

static void test_fashion_mnist_and_mnist_directories(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("fmnist"));
    write_mnist_dir(dir, true);
    nb_dataset tr, te;
    assert_int_equal(nb_fashion_mnist_load(dir, NB_SPLIT_TRAIN, NULL, &tr), NB_OK);
    check_mnist_like(&tr, N, false);
    assert_string_equal(tr.class_names[9], "Ankle boot");
    assert_int_equal(nb_fashion_mnist_load(dir, NB_SPLIT_TEST, NULL, &te), NB_OK);
    assert_int_equal(nb_dataset_size(&te), 7);
    nb_dataset_deinit(&tr);
    nb_dataset_deinit(&te);

    /* the environment variable is used when no directory is given */
    setenv("NB_FASHION_MNIST_DIR", dir, 1);
    assert_int_equal(nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, NULL, &tr), NB_OK);
    assert_int_equal(nb_dataset_size(&tr), N);
    nb_dataset_deinit(&tr);
    setenv("NB_FASHION_MNIST_DIR", "/nonexistent/fm", 1);
    assert_int_equal(nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, NULL, &tr), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "no Fashion-MNIST train images in /nonexistent/fm (from "
                                "$NB_FASHION_MNIST_DIR) (looked for train-images-idx3-ubyte.gz, "
                                "train-images-idx3-ubyte");
    unsetenv("NB_FASHION_MNIST_DIR");
    assert_int_equal(nb_fashion_mnist_load("/nonexistent/fm2", NB_SPLIT_TEST, NULL, &tr),
                     NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "apt-get install dataset-fashion-mnist");

    /* MNIST: same files, digits as class names; no default directory */
    assert_int_equal(nb_mnist_load(dir, NB_SPLIT_TEST, NULL, &te), NB_OK);
    assert_string_equal(te.class_names[3], "3");
    nb_dataset_deinit(&te);
    unsetenv("NB_MNIST_DIR");
    assert_int_equal(nb_mnist_load(NULL, NB_SPLIT_TRAIN, NULL, &te), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "no directory given and $NB_MNIST_DIR is not set");
    /* only the label file missing: the message says which */
    char lab[700];
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    remove(lab);
    assert_int_equal(nb_mnist_load(dir, NB_SPLIT_TRAIN, NULL, &te), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "no MNIST train labels in");
    nbt_remove_dir(dir);
}

static void test_real_fashion_mnist_test_split_when_installed(void **state)
{
    (void)state;
    if (access(NB_FASHION_MNIST_DEFAULT_DIR "/t10k-labels-idx1-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "dataset-fashion-mnist is not installed: skipped\n");
        skip();
    }
    nb_dataset te;
    assert_int_equal(nb_fashion_mnist_load(NB_FASHION_MNIST_DEFAULT_DIR, NB_SPLIT_TEST, NULL, &te),
                     NB_OK);
    assert_int_equal(nb_dataset_size(&te), 10000);
    assert_int_equal(nb_tensor_dim(te.x, 1), 28);
    assert_int_equal(nb_tensor_dim(te.x, 2), 28);
    int64_t counts[10];
    assert_int_equal(nb_dataset_class_counts(&te, counts), NB_OK);
    for (int c = 0; c < 10; c++)
        assert_int_equal(counts[c], 1000); /* the test set is balanced */
    const float *x = nb_tensor_data_f32(te.x);
    float mn = 1, mx = 0;
    for (int64_t i = 0; i < nb_tensor_numel(te.x); i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    assert_float_equal(mn, 0.0, 0);
    assert_float_equal(mx, 1.0, 0);
    nb_dataset_deinit(&te);
}

static void test_cifar10_files_and_directories(void **state)
{
    (void)state;
    char dir[512], sub[600], path[700];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("cifar"));
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    for (int b = 1; b <= 5; b++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", sub, b);
        assert_true(nbt_write_cifar(path, 3, b));
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", sub);
    assert_true(nbt_write_cifar(path, 4, 0));

    nb_dataset ds;
    assert_int_equal(nb_cifar10_load_file(path, NULL, &ds), NB_OK);
    assert_int_equal(nb_dataset_size(&ds), 4);
    assert_int_equal(nb_tensor_ndim(ds.x), 4);
    assert_int_equal(nb_tensor_dim(ds.x, 1), 3);
    assert_int_equal(nb_tensor_dim(ds.x, 3), 32);
    const float *x = nb_tensor_data_f32(ds.x);
    for (int i = 0; i < 4; i++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p += 97)
                assert_float_equal(x[(i * 3 + ch) * 1024 + p], nbt_cifar_pixel(i, ch, p) / 255.0,
                                   1e-6);
    assert_int_equal(nb_tensor_get(ds.y, 3), 3);
    assert_string_equal(ds.class_names[1], "automobile");
    nb_dataset_deinit(&ds);

    /* the directory, or its cifar-10-batches-bin subdirectory */
    nb_load_opts o = {.layout = NB_LAYOUT_FLAT, .raw_values = true};
    assert_int_equal(nb_cifar10_load(dir, NB_SPLIT_TRAIN, &o, &ds), NB_OK);
    assert_int_equal(nb_dataset_size(&ds), 15);
    assert_int_equal(nb_tensor_dim(ds.x, 1), 3072);
    for (int b = 0; b < 5; b++)
        for (int i = 0; i < 3; i++)
            assert_int_equal(nb_tensor_get(ds.y, b * 3 + i), (i + b + 1) % 10);
    assert_float_equal(nb_tensor_get(ds.x, 3072 * 4 + 1024 + 5), nbt_cifar_pixel(1, 1, 5), 0);
    nb_dataset_deinit(&ds);
    o = (nb_load_opts){.max_samples = 5};
    assert_int_equal(nb_cifar10_load(sub, NB_SPLIT_TRAIN, &o, &ds), NB_OK);
    assert_int_equal(nb_dataset_size(&ds), 5);
    assert_int_equal(nb_tensor_get(ds.y, 4), (1 + 2) % 10);
    nb_dataset_deinit(&ds);

    /* bad files */
    snprintf(path, sizeof path, "%s/data_batch_3.bin", sub);
    size_t size;
    unsigned char *b = nbt_read_all(path, &size);
    assert_true(nbt_write_all(path, b, size - 1));
    assert_int_equal(nb_cifar10_load(dir, NB_SPLIT_TRAIN, NULL, &ds), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "data_batch_3.bin: size 9218 is not a positive multiple of "
                                    "the 3073-byte CIFAR-10 record");
    assert_null(ds.x);
    b[3073] = 10;
    assert_true(nbt_write_all(path, b, size));
    assert_int_equal(nb_cifar10_load(dir, NB_SPLIT_TRAIN, NULL, &ds), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "data_batch_3.bin: label 10 of record 1 is out of range");
    assert_true(nbt_write_all(path, b, 0));
    assert_int_equal(nb_cifar10_load_file(path, NULL, &ds), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "size 0 is not a positive multiple");
    assert_true(nbt_write_gz(path, b, size));
    assert_int_equal(nb_cifar10_load_file(path, NULL, &ds), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "data_batch_3.bin: is gzip-compressed");
    remove(path);
    assert_int_equal(nb_cifar10_load(dir, NB_SPLIT_TRAIN, NULL, &ds), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "cannot open");
    nbt_free(b);
    assert_int_equal(nb_cifar10_load("/nonexistent/c10", NB_SPLIT_TEST, NULL, &ds), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "no CIFAR-10 test files in /nonexistent/c10");
    nbt_remove_dir(sub);
    nbt_remove_dir(dir);
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
        cmocka_unit_test_setup(test_idx_reads_raw_and_gzip_files_alike, clear_error),
        cmocka_unit_test_setup(test_idx_save_writes_the_format_byte_for_byte, clear_error),
        cmocka_unit_test_setup(test_idx_rejects_bad_headers_and_sizes, clear_error),
        cmocka_unit_test_setup(test_idx_rejects_bad_gzip_files, clear_error),
        cmocka_unit_test_setup(test_idx_load_out_of_memory_is_clean, clear_error),
        cmocka_unit_test_setup(test_fashion_mnist_and_mnist_directories, clear_error),
        cmocka_unit_test_setup(test_real_fashion_mnist_test_split_when_installed, clear_error),
        cmocka_unit_test_setup(test_cifar10_files_and_directories, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
