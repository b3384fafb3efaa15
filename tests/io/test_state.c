/* tests/io/test_state.c — checkpoints (io/state.c) and digests (autograd/digest.c): bit-exact
 * round trips, every corruption and truncation detected, all-or-nothing loads, atomic saves. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* Three tensors of each dtype with awkward values; sets names. */
typedef struct fixture {
    nb_tensor *a, *b, *c;
    nb_named_tensor list[3];
} fixture;

static void fixture_make(fixture *f, uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    int64_t sa[2] = {3, 4}, sb[1] = {5}, sc[3] = {2, 1, 2};
    f->a = nb_tensor_normal(NB_F32, 2, sa, &r, 0, 1);
    f->b = nb_tensor_normal(NB_F64, 1, sb, &r, 0, 1e300);
    f->c = nb_tensor_new(NB_I64, 3, sc);
    float *a = nb_tensor_data_f32(f->a);
    a[0] = -0.0f;
    a[1] = INFINITY;
    a[2] = 1e-45f; /* denormal */
    a[3] = nanf("0x12345");
    double *b = nb_tensor_data_f64(f->b);
    b[0] = -INFINITY;
    int64_t *c = nb_tensor_data_i64(f->c);
    c[0] = INT64_MIN;
    c[1] = INT64_MAX;
    c[2] = -1;
    c[3] = (int64_t)nb_rng_u64(&r);
    f->list[0] = (nb_named_tensor){"layer.weight", f->a};
    f->list[1] = (nb_named_tensor){"layer.bias", f->b};
    f->list[2] = (nb_named_tensor){"optim.step", f->c};
}

static void fixture_free(fixture *f)
{
    nb_tensor_free(f->a);
    nb_tensor_free(f->b);
    nb_tensor_free(f->c);
}

static bool same_bits(nb_tensor *x, nb_tensor *y)
{
    size_t n = (size_t)nb_tensor_numel(x) * nb_dtype_size(nb_tensor_dtype(x));
    return nb_tensor_dtype(x) == nb_tensor_dtype(y) && nb_tensor_numel(x) == nb_tensor_numel(y) &&
           memcmp(nb_tensor_data(x), nb_tensor_data(y), n) == 0;
}

static bool fixture_equal(fixture *x, fixture *y)
{
    return same_bits(x->a, y->a) && same_bits(x->b, y->b) && same_bits(x->c, y->c);
}

/* Rewrite the digest at the end of b after an edit, so that only the edit is wrong. */
static void reseal(unsigned char *b, size_t size)
{
    uint64_t d = nb_digest64(b, size - 8, 0);
    for (int i = 0; i < 8; i++)
        b[size - 8 + (size_t)i] = (unsigned char)(d >> (8 * i));
}

static void test_digest_streaming_matches_one_shot(void **state)
{
    (void)state;
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (unsigned char)(i * 31 + 7);
    uint64_t whole = nb_digest64(buf, sizeof buf, 5);
    nb_digest *d = nb_digest_new(5);
    assert_non_null(d);
    for (size_t pos = 0, k = 1; pos < sizeof buf; pos += k, k = k * 2 + 1)
        nb_digest_update(d, buf + pos, pos + k > sizeof buf ? sizeof buf - pos : k);
    assert_true(nb_digest_value(d) == whole);
    nb_digest_free(d);
    /* the seed and every byte matter */
    assert_true(nb_digest64(buf, sizeof buf, 6) != whole);
    buf[999] ^= 1;
    assert_true(nb_digest64(buf, sizeof buf, 5) != whole);
    /* XXH3-64 reference value for the empty input with seed 0 (xxHash's test vectors) */
    assert_true(nb_digest64(NULL, 0, 0) == UINT64_C(0x2D06800538D394C2));
}

static void test_checkpoint_round_trip_is_bit_exact(void **state)
{
    (void)state;
    const char *path = nbt_tmp_path("rt.ckpt");
    fixture f, g;
    fixture_make(&f, 1);
    fixture_make(&g, 2);
    assert_false(fixture_equal(&f, &g));
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);
    /* destination listed in another order */
    nb_named_tensor dst[3] = {g.list[2], g.list[0], g.list[1]};
    assert_int_equal(nb_checkpoint_load(path, dst, 3), NB_OK);
    assert_true(fixture_equal(&f, &g));
    fixture_free(&f);
    fixture_free(&g);
    remove(path);
}

static void test_checkpoint_handles_scalars_empty_and_strided_tensors(void **state)
{
    (void)state;
    const char *p = nbt_tmp_path("shapes.ckpt");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    int64_t s23[2] = {2, 3}, s0[2] = {0, 7};
    nb_tensor *scalar = nb_tensor_full(NB_F64, 0, NULL, 2.5);
    nb_tensor *empty = nb_tensor_new(NB_F32, 2, s0);
    nb_tensor *m = nb_tensor_new(NB_F32, 2, s23);
    for (int i = 0; i < 6; i++)
        nb_tensor_set(m, i, i + 1);
    nb_tensor *mt = nb_transpose(m, 0, 1); /* [3, 2] view, non-contiguous */
    assert_false(nb_tensor_is_contiguous(mt));
    nb_named_tensor src[3] = {{"s", scalar}, {"e", empty}, {"t", mt}};
    assert_int_equal(nb_checkpoint_save(path, src, 3), NB_OK);

    /* load the transposed values into a fresh contiguous tensor ... */
    int64_t s32[2] = {3, 2};
    nb_tensor *scalar2 = nb_tensor_new(NB_F64, 0, NULL), *empty2 = nb_tensor_new(NB_F32, 2, s0);
    nb_tensor *t2 = nb_tensor_new(NB_F32, 2, s32);
    nb_named_tensor dst[3] = {{"s", scalar2}, {"e", empty2}, {"t", t2}};
    assert_int_equal(nb_checkpoint_load(path, dst, 3), NB_OK);
    assert_float_equal(nb_tensor_item(scalar2), 2.5, 0);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(t2, i), nb_tensor_get(mt, i), 0);
    /* ... and into a non-contiguous view of another buffer */
    nb_tensor *base = nb_tensor_new(NB_F32, 2, s23);
    nb_tensor *view = nb_transpose(base, 0, 1);
    dst[2].tensor = view;
    assert_int_equal(nb_checkpoint_load(path, dst, 3), NB_OK);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(base, i), nb_tensor_get(m, i), 0);

    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert_non_null(toc);
    assert_int_equal(toc->count, 3);
    assert_int_equal(toc->version, NB_CHECKPOINT_VERSION);
    assert_string_equal(toc->entries[0].name, "s");
    assert_int_equal(toc->entries[0].ndim, 0);
    assert_int_equal(toc->entries[0].dtype, NB_F64);
    assert_string_equal(toc->entries[1].name, "e");
    assert_int_equal(toc->entries[1].numel, 0);
    assert_int_equal(toc->entries[2].shape[0], 3);
    assert_int_equal(toc->entries[2].shape[1], 2);
    /* the data offset points at the values */
    size_t size;
    unsigned char *bytes = nbt_read_all(path, &size);
    assert_int_equal(toc->file_size, size);
    float first;
    memcpy(&first, bytes + toc->entries[2].offset, 4);
    assert_float_equal(first, nb_tensor_get(mt, 0), 0);
    nbt_free(bytes);
    nb_checkpoint_toc_free(toc);

    nb_tensor *one = nb_checkpoint_load_tensor(path, "t");
    assert_non_null(one);
    assert_true(nb_tensor_allclose(one, t2, 0, 0));
    nb_tensor_free(one);
    assert_null(nb_checkpoint_load_tensor(path, "nope"));
    nbt_assert_error(NB_ERR_VALUE, "tensor 'nope' is not in the file");

    nb_tensor *all[] = {scalar, empty, m, mt, scalar2, empty2, t2, base, view};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        nb_tensor_free(all[i]);
    remove(path);
}

/* Load a damaged file; it must fail with NB_ERR_FORMAT naming the file, and change nothing. */
static void expect_rejected(const char *path, fixture *dst, fixture *before, const char *what,
                            size_t where)
{
    nb_status st = nb_checkpoint_load(path, dst->list, 3);
    if (st != NB_ERR_FORMAT || !strstr(nb_last_error(), path))
        fail_msg("%s at %zu: status %d, message '%s'", what, where, st, nb_last_error());
    nb_clear_error();
    if (!fixture_equal(dst, before))
        fail_msg("%s at %zu: a failed load changed the destination", what, where);
    assert_null(nb_checkpoint_read_toc(path));
    nb_clear_error();
}

static void test_checkpoint_detects_every_single_bit_flip(void **state)
{
    (void)state;
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s", nbt_tmp_path("flip-good.ckpt"));
    snprintf(bad, sizeof bad, "%s", nbt_tmp_path("flip-bad.ckpt"));
    fixture f, dst, before;
    fixture_make(&f, 3);
    fixture_make(&dst, 4);
    fixture_make(&before, 4);
    assert_int_equal(nb_checkpoint_save(good, f.list, 3), NB_OK);
    size_t size;
    unsigned char *bytes = nbt_read_all(good, &size);
    assert_non_null(bytes);
    assert_true(size > 100);
    for (size_t i = 0; i < size; i++)
        for (int bit = 0; bit < 8; bit++) {
            bytes[i] ^= (unsigned char)(1u << bit);
            assert_true(nbt_write_all(bad, bytes, size));
            expect_rejected(bad, &dst, &before, "bit flip", i * 8 + (size_t)bit);
            bytes[i] ^= (unsigned char)(1u << bit);
        }
    /* the untouched file still loads */
    assert_int_equal(nb_checkpoint_load(good, dst.list, 3), NB_OK);
    assert_true(fixture_equal(&dst, &f));
    nbt_free(bytes);
    fixture_free(&f);
    fixture_free(&dst);
    fixture_free(&before);
    remove(good);
    remove(bad);
}

static void test_checkpoint_detects_every_truncation(void **state)
{
    (void)state;
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s", nbt_tmp_path("trunc-good.ckpt"));
    snprintf(bad, sizeof bad, "%s", nbt_tmp_path("trunc-bad.ckpt"));
    fixture f, dst, before;
    fixture_make(&f, 5);
    fixture_make(&dst, 6);
    fixture_make(&before, 6);
    assert_int_equal(nb_checkpoint_save(good, f.list, 3), NB_OK);
    size_t size;
    unsigned char *bytes = nbt_read_all(good, &size);
    for (size_t len = 0; len < size; len++) {
        assert_true(nbt_write_all(bad, bytes, len));
        expect_rejected(bad, &dst, &before, "truncation", len);
    }
    /* one byte too many is as wrong as one too few */
    unsigned char *longer = malloc(size + 1);
    memcpy(longer, bytes, size);
    longer[size] = 0;
    assert_true(nbt_write_all(bad, longer, size + 1));
    expect_rejected(bad, &dst, &before, "extra byte", size);
    free(longer);
    nbt_free(bytes);
    fixture_free(&f);
    fixture_free(&dst);
    fixture_free(&before);
    remove(good);
    remove(bad);
}

static void test_checkpoint_load_rejects_other_shapes_names_and_dtypes(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("mismatch.ckpt"));
    fixture f, dst, before;
    fixture_make(&f, 7);
    fixture_make(&dst, 8);
    fixture_make(&before, 8);
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);

    /* other shape: the message names the tensor and both shapes */
    int64_t s43[2] = {4, 3};
    nb_tensor *wrong = nb_tensor_new(NB_F32, 2, s43);
    nb_named_tensor list[3] = {dst.list[0], dst.list[1], dst.list[2]};
    list[0].tensor = wrong;
    assert_int_equal(nb_checkpoint_load(path, list, 3), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "tensor 'layer.weight' is f32 [3, 4] in the file but f32 [4, "
                                   "3] in the destination");
    nb_tensor_free(wrong);

    /* other dtype */
    int64_t s34[2] = {3, 4};
    wrong = nb_tensor_new(NB_F64, 2, s34);
    list[0].tensor = wrong;
    assert_int_equal(nb_checkpoint_load(path, list, 3), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "'layer.weight' is f32 [3, 4] in the file but f64 [3, 4]");
    nb_tensor_free(wrong);
    list[0].tensor = dst.a;

    /* a name the file does not have */
    list[1].name = "layer.bias_renamed";
    assert_int_equal(nb_checkpoint_load(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "tensor 'layer.bias_renamed' is not in the file");
    list[1].name = "layer.bias";

    /* a tensor in the file the destination does not list */
    assert_int_equal(nb_checkpoint_load(path, list, 2), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "the file has tensor 'optim.step' that the destination does "
                                   "not list");

    /* duplicate and NULL names in the destination */
    list[1].name = "layer.weight";
    assert_int_equal(nb_checkpoint_load(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "lists the name 'layer.weight' twice");
    list[1].name = NULL;
    assert_int_equal(nb_checkpoint_load(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "has a NULL name");

    /* nothing was written by any of the refused loads */
    assert_true(fixture_equal(&dst, &before));

    /* missing file and a file that is not a checkpoint */
    assert_int_equal(nb_checkpoint_load("/nonexistent/dir/x.ckpt", dst.list, 3), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "cannot open /nonexistent/dir/x.ckpt");
    const char *text = "this is a text file, not a checkpoint at all....";
    assert_true(nbt_write_all(path, text, strlen(text)));
    assert_int_equal(nb_checkpoint_load(path, dst.list, 3), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "not a nabla checkpoint (bad magic)");
    assert_true(fixture_equal(&dst, &before));

    fixture_free(&f);
    fixture_free(&dst);
    fixture_free(&before);
    remove(path);
}

static void test_checkpoint_rejects_unknown_version_with_a_valid_digest(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("version.ckpt"));
    fixture f;
    fixture_make(&f, 9);
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);
    size_t size;
    unsigned char *b = nbt_read_all(path, &size);
    b[8] = 2; /* version 2, digest recomputed so only the version is wrong */
    reseal(b, size);
    assert_true(nbt_write_all(path, b, size));
    assert_int_equal(nb_checkpoint_load(path, f.list, 3), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT, "format version 2 is not supported");
    nbt_free(b);
    fixture_free(&f);
    remove(path);
}

static void test_checkpoint_save_rejects_bad_lists_without_creating_a_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("badlist.ckpt"));
    fixture f;
    fixture_make(&f, 10);
    nb_named_tensor list[3] = {f.list[0], f.list[1], f.list[0]};
    assert_int_equal(nb_checkpoint_save(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_checkpoint_save: source lists the name 'layer.weight' twice");
    list[2] = (nb_named_tensor){"x", NULL};
    assert_int_equal(nb_checkpoint_save(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "source tensor 'x' is NULL");
    list[2] = (nb_named_tensor){"", f.c};
    assert_int_equal(nb_checkpoint_save(path, list, 3), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "has an empty name");
    assert_false(nbt_file_equals(path, "", 0));
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    fixture_free(&f);
}

/* Save `next` over a file holding `old_bytes`, expecting failure `expect` and no trace. */
static void expect_failed_save_keeps_old(const char *dir, const char *path, fixture *next,
                                         const unsigned char *old_bytes, size_t old_size,
                                         nb_status got, nb_status expect)
{
    assert_int_equal(got, expect);
    assert_non_null(strstr(nb_last_error(), "nb_"));
    nb_clear_error();
    assert_true(nbt_file_equals(path, old_bytes, old_size));
    assert_int_equal(nbt_count_files(dir, ".tmp-"), 0);
    (void)next;
}

static void test_failed_saves_leave_the_old_checkpoint_intact(void **state)
{
    (void)state;
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("atomic"));
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    fixture old, next;
    fixture_make(&old, 11);
    fixture_make(&next, 12);
    /* a non-contiguous source makes the save allocate a contiguous copy too */
    nb_tensor *at = nb_transpose(next.a, 0, 1);
    next.list[0].tensor = at;
    assert_int_equal(nb_checkpoint_save(path, old.list, 3), NB_OK);
    size_t old_size;
    unsigned char *old_bytes = nbt_read_all(path, &old_size);

    /* 1. every allocation the save makes, failing in turn */
    int failures = 0;
    for (long k = 1; k < 100; k++) {
        nb_debug_fail_alloc_after(k);
        nb_status st = nb_checkpoint_save(path, next.list, 3);
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK)
            break;
        failures++;
        expect_failed_save_keeps_old(dir, path, &next, old_bytes, old_size, st, NB_ERR_NOMEM);
    }
    assert_true(failures >= 3); /* digest state, temp name, contiguous copy */

    /* 2. the disk "fills up" in the middle of the data (file size limit) */
    assert_int_equal(nb_checkpoint_save(path, old.list, 3), NB_OK);
    int64_t big_shape[1] = {4096};
    nb_tensor *big = nb_tensor_zeros(NB_F64, 1, big_shape);
    nb_named_tensor big_list[1] = {{"big", big}};
    struct rlimit saved, lim;
    getrlimit(RLIMIT_FSIZE, &saved);
    lim = saved;
    lim.rlim_cur = 8192;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nb_status st = nb_checkpoint_save(path, big_list, 1);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    expect_failed_save_keeps_old(dir, path, &next, old_bytes, old_size, st, NB_ERR_IO);

    /* 3. the rename fails (the target is a directory) */
    char target[700];
    snprintf(target, sizeof target, "%s/subdir", dir);
    assert_int_equal(mkdir(target, 0777), 0);
    assert_int_equal(nb_checkpoint_save(target, old.list, 3), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "cannot rename");
    assert_int_equal(nbt_count_files(dir, ".tmp-"), 0);
    rmdir(target);

    /* 4. the directory does not exist */
    snprintf(target, sizeof target, "%s/missing/model.ckpt", dir);
    assert_int_equal(nb_checkpoint_save(target, old.list, 3), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "cannot create a temp file next to");

    /* the old checkpoint still loads, and a successful save replaces it */
    fixture check;
    fixture_make(&check, 13);
    assert_int_equal(nb_checkpoint_load(path, check.list, 3), NB_OK);
    assert_true(fixture_equal(&check, &old));
    next.list[0].tensor = next.a;
    assert_int_equal(nb_checkpoint_save(path, next.list, 3), NB_OK);
    assert_int_equal(nb_checkpoint_load(path, check.list, 3), NB_OK);
    assert_true(fixture_equal(&check, &next));
    assert_int_equal(nbt_count_files(dir, ".tmp-"), 0);

    nbt_free(old_bytes);
    nb_tensor_free(big);
    nb_tensor_free(at);
    fixture_free(&old);
    fixture_free(&next);
    fixture_free(&check);
    nbt_remove_dir(dir);
}

static void test_checkpoint_load_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("oom-load.ckpt"));
    fixture f, dst, before;
    fixture_make(&f, 14);
    fixture_make(&dst, 15);
    fixture_make(&before, 15);
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);
    int64_t s43[2] = {4, 3};
    nb_tensor *base = nb_tensor_new(NB_F32, 2, s43);
    nb_tensor *view = nb_transpose(base, 0, 1); /* needs a staging copy */
    nb_named_tensor list[3] = {{"layer.weight", view}, dst.list[1], dst.list[2]};
    int failures = 0;
    for (long k = 1; k < 50; k++) {
        nb_debug_fail_alloc_after(k);
        nb_status st = nb_checkpoint_load(path, list, 3);
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK)
            break;
        failures++;
        assert_int_equal(st, NB_ERR_NOMEM);
        nb_clear_error();
        assert_true(fixture_equal(&dst, &before));
        for (int i = 0; i < 12; i++)
            assert_float_equal(nb_tensor_get(base, i), 0, 0);
    }
    assert_true(failures >= 2);
    for (int i = 0; i < 12; i++)
        assert_memory_equal(&(float){(float)nb_tensor_get(view, i)}, &nb_tensor_data_f32(f.a)[i],
                            4);
    nb_tensor_free(view);
    nb_tensor_free(base);
    fixture_free(&f);
    fixture_free(&dst);
    fixture_free(&before);
    remove(path);
}

enum { MANY = 100000 };
static char many_names[MANY][12];
static nb_named_tensor many_list[MANY];

/* Checking names used to compare every pair (a 100000-tensor file took minutes to load): the
 * test only has to finish. */
static void test_checkpoint_with_100000_tensors_saves_and_loads(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("many.ckpt"));
    for (int i = 0; i < MANY; i++) {
        snprintf(many_names[i], sizeof many_names[i], "t%d", i);
        many_list[i].name = many_names[i];
        many_list[i].tensor = nb_tensor_full(NB_F32, 1, (int64_t[]){1}, i);
        assert_non_null(many_list[i].tensor);
    }
    assert_int_equal(nb_checkpoint_save(path, many_list, MANY), NB_OK);
    for (int i = 0; i < MANY; i++)
        nb_tensor_set(many_list[i].tensor, 0, -1);
    /* the destination lists the names in another order than the file */
    for (int i = 0; i < MANY / 2; i++) {
        nb_named_tensor t = many_list[i];
        many_list[i] = many_list[MANY - 1 - i];
        many_list[MANY - 1 - i] = t;
    }
    assert_int_equal(nb_checkpoint_load(path, many_list, MANY), NB_OK);
    for (int i = 0; i < MANY; i++)
        assert_float_equal(nb_tensor_get(many_list[i].tensor, 0), MANY - 1 - i, 0);
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert_non_null(toc);
    assert_int_equal(toc->count, MANY);
    assert_string_equal(toc->entries[MANY - 1].name, "t99999");
    nb_checkpoint_toc_free(toc);
    nb_tensor *last = nb_checkpoint_load_tensor(path, "t99999");
    assert_non_null(last);
    assert_float_equal(nb_tensor_get(last, 0), MANY - 1, 0);
    nb_tensor_free(last);
    /* a repeated name is still found, now in a long file */
    many_list[MANY - 1].name = many_list[0].name;
    assert_int_equal(nb_checkpoint_load(path, many_list, MANY), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_checkpoint_load: destination lists the name 't99999' twice");
    for (int i = 0; i < MANY; i++)
        nb_tensor_free(many_list[i].tensor);
    remove(path);
}

static void test_checkpoint_tensor_count_is_bounded(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("bound.ckpt"));
    /* a list one longer than the bound: refused before any entry is looked at */
    int n = NB_CHECKPOINT_MAX_TENSORS + 1;
    nb_named_tensor *list = calloc((size_t)n, sizeof *list);
    assert_non_null(list);
    assert_int_equal(nb_checkpoint_save(path, list, n), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_checkpoint_save: source list has 1048577 tensors, a "
                                   "checkpoint holds at most 1048576");
    assert_int_equal(nb_checkpoint_load(path, list, n), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "destination list has 1048577 tensors");
    free(list);
    /* a file whose header claims one more (digest valid): refused by the bound itself */
    fixture f;
    fixture_make(&f, 16);
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);
    size_t size;
    unsigned char *b = nbt_read_all(path, &size);
    assert_non_null(b);
    uint64_t count = (uint64_t)NB_CHECKPOINT_MAX_TENSORS + 1;
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)(count >> (8 * i));
    reseal(b, size);
    assert_true(nbt_write_all(path, b, size));
    assert_int_equal(nb_checkpoint_load(path, f.list, 3), NB_ERR_FORMAT);
    nbt_assert_error(NB_ERR_FORMAT,
                     "holds 1048577 tensors, more than the 1048576 a checkpoint may hold");
    nbt_free(b);
    fixture_free(&f);
    remove(path);
}

static void test_checkpoint_file_with_a_repeated_name_is_refused(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("dupname.ckpt"));
    fixture f;
    fixture_make(&f, 17);
    nb_named_tensor list[3] = {{"tensor.aa", f.a}, {"tensor.bb", f.b}, {"tensor.cc", f.c}};
    assert_int_equal(nb_checkpoint_save(path, list, 3), NB_OK);
    size_t size;
    unsigned char *b = nbt_read_all(path, &size);
    assert_non_null(b);
    size_t at = 0;
    while (at + 9 <= size && memcmp(b + at, "tensor.cc", 9) != 0)
        at++;
    assert_true(at + 9 <= size);
    memcpy(b + at, "tensor.aa", 9);
    reseal(b, size);
    assert_true(nbt_write_all(path, b, size));
    assert_null(nb_checkpoint_read_toc(path));
    nbt_assert_error(NB_ERR_FORMAT, "the name 'tensor.aa' appears twice");
    nbt_free(b);
    fixture_free(&f);
    remove(path);
}

/* Create path with a few bytes in it. */
static void touch(const char *path)
{
    assert_true(nbt_write_all(path, "partial", 7));
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A save killed mid-write leaves "<path>.tmp-<pid>-<n>"; the next save of the same path removes
 * those of writers that no longer run, and nothing else. */
static void test_save_removes_temp_files_of_dead_writers_only(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("leftovers"));
    /* a pid that no longer runs: a child that has exited and been reaped */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    int dead = (int)child, self = (int)getpid();

    enum { N_KEPT = 6 };
    char gone[3][700], kept[N_KEPT][700], path[600], npy[600];
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    snprintf(npy, sizeof npy, "%s/array.npy", dir);
    snprintf(gone[0], sizeof gone[0], "%s.tmp-%d-0", path, dead);
    snprintf(gone[1], sizeof gone[1], "%s.tmp-%d-4294967295", path, dead);
    snprintf(gone[2], sizeof gone[2], "%s.tmp-%d-3", npy, dead);
    snprintf(kept[0], sizeof kept[0], "%s.tmp-%d-999999", path, self);      /* a live writer */
    snprintf(kept[1], sizeof kept[1], "%s.tmp-1-0", path);                  /* init: always runs */
    snprintf(kept[2], sizeof kept[2], "%s/other.ckpt.tmp-%d-0", dir, dead); /* another target */
    snprintf(kept[3], sizeof kept[3], "%s.old.tmp-%d-0", path, dead);       /* another target */
    snprintf(kept[4], sizeof kept[4], "%s.tmp-%d-0x", path, dead);          /* not a temp name */
    snprintf(kept[5], sizeof kept[5], "%s.tmp-0-0", path); /* pid 0 is no process */
    for (int i = 0; i < 3; i++)
        touch(gone[i]);
    for (int i = 0; i < N_KEPT; i++)
        touch(kept[i]);

    fixture f;
    fixture_make(&f, 18);
    assert_int_equal(nb_checkpoint_save(path, f.list, 3), NB_OK);
    assert_false(exists(gone[0]));
    assert_false(exists(gone[1]));
    assert_true(exists(gone[2])); /* another target's: left for its own next save */
    assert_int_equal(nb_npy_save(npy, f.a), NB_OK);
    assert_false(exists(gone[2]));
    for (int i = 0; i < N_KEPT; i++)
        if (!exists(kept[i]))
            fail_msg("%s was removed", kept[i]);
    /* the saves themselves left nothing: the kept files and the two targets */
    assert_int_equal(nbt_count_files(dir, ".tmp-"), N_KEPT);
    fixture_free(&f);
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
        cmocka_unit_test_setup(test_digest_streaming_matches_one_shot, clear_error),
        cmocka_unit_test_setup(test_checkpoint_round_trip_is_bit_exact, clear_error),
        cmocka_unit_test_setup(test_checkpoint_handles_scalars_empty_and_strided_tensors,
                               clear_error),
        cmocka_unit_test_setup(test_checkpoint_detects_every_single_bit_flip, clear_error),
        cmocka_unit_test_setup(test_checkpoint_detects_every_truncation, clear_error),
        cmocka_unit_test_setup(test_checkpoint_load_rejects_other_shapes_names_and_dtypes,
                               clear_error),
        cmocka_unit_test_setup(test_checkpoint_rejects_unknown_version_with_a_valid_digest,
                               clear_error),
        cmocka_unit_test_setup(test_checkpoint_save_rejects_bad_lists_without_creating_a_file,
                               clear_error),
        cmocka_unit_test_setup(test_failed_saves_leave_the_old_checkpoint_intact, clear_error),
        cmocka_unit_test_setup(test_checkpoint_load_out_of_memory_changes_nothing, clear_error),
        cmocka_unit_test_setup(test_checkpoint_with_100000_tensors_saves_and_loads, clear_error),
        cmocka_unit_test_setup(test_checkpoint_tensor_count_is_bounded, clear_error),
        cmocka_unit_test_setup(test_checkpoint_file_with_a_repeated_name_is_refused, clear_error),
        cmocka_unit_test_setup(test_save_removes_temp_files_of_dead_writers_only, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
