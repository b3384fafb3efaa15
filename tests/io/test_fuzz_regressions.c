/* tests/io/test_fuzz_regressions.c — every input the fuzz targets (tests/fuzz) ever crashed on,
 * replayed through the same calls as the target, which must now fail cleanly with a status and
 * a message (the ASan + UBSan build turns any relapse into a failure). */
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* Write bytes + their XXH3-64 digest (as fuzz_checkpoint does) and return the path. */
static const char *write_with_digest(const char *tag, const unsigned char *b, size_t n)
{
    const char *path = nbt_tmp_path(tag);
    unsigned char *file = malloc(n + 8);
    assert_non_null(file);
    memcpy(file, b, n);
    uint64_t d = nb_digest64(b, n, 0);
    for (int i = 0; i < 8; i++)
        file[n + (size_t)i] = (unsigned char)(d >> (8 * i));
    assert_true(nbt_write_all(path, file, n + 8));
    free(file);
    return path;
}

/* fuzz_checkpoint, crash-185592599741ecedc22c1dd201fa2de32dca5e4b: a tensor 'w' of shape
 * [0x600000000, 0x200000000000000... ] that holds zero elements (one dimension is 0), so the
 * sizes agree, but the contiguous strides of the other dimensions overflowed int64 in
 * nb_tensor_new (signed overflow, caught by UBSan). Fixed in nbi_check_shape; the reader now
 * also refuses such a shape itself, as malformed, naming the file and the tensor. */
static const unsigned char crash_ckpt_empty_huge_dims[] = {
    0x89, 0x4e, 0x42, 0x43, 0x4b, 0x50, 0x54, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x77, 0x00,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
};

static void test_checkpoint_with_empty_tensor_of_huge_dims_fails_cleanly(void **state)
{
    (void)state;
    const char *path = write_with_digest("crash-ckpt.ckpt", crash_ckpt_empty_huge_dims,
                                         sizeof crash_ckpt_empty_huge_dims);
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    assert_null(nb_checkpoint_read_toc(p));
    nbt_assert_error(NB_ERR_FORMAT, "tensor 'w' has a shape no tensor can have");
    assert_null(nb_checkpoint_load_tensor(p, "w"));
    nbt_assert_error(NB_ERR_FORMAT, "nb_checkpoint_load_tensor: ");
    remove(p);
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_checkpoint_with_empty_tensor_of_huge_dims_fails_cleanly,
                               clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
