/* tests/data/test_augment.c — random shifts and flips of images (data/augment.c) against a
 * direct reference, the rng's order of draws, and the errors. */
#include <string.h>

#include "support/nbt.h"

/* Reference: image [C, H, W] at (c, r, k) after a shift (dy, dx) and an optional flip. */
static double expected(const nb_tensor *x, int64_t i, int64_t c, int64_t r, int64_t k, int64_t dy,
                       int64_t dx, bool flip)
{
    const int64_t C = nb_tensor_dim(x, 1), H = nb_tensor_dim(x, 2), W = nb_tensor_dim(x, 3);
    const int64_t sr = r - dy, sk = k - dx;
    if (sr < 0 || sr >= H || sk < 0 || sk >= W)
        return 0;
    return nb_tensor_get(x, ((i * C + c) * H + sr) * W + (flip ? W - 1 - sk : sk));
}

static void test_augment_shifts_and_flips_each_image_by_its_draws(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(9);
    enum { N = 6, C = 2, H = 5, W = 7 };
    nb_tensor *x = nb_rand_uniform(NB_F64, NB_SHAPE(N, C, H, W), &rng, 0.5, 1);
    nb_augment_opts o = {.shift = 2, .hflip = true, .rng = nb_rng_seed(3)};
    nb_rng draws = nb_rng_seed(3);
    nb_tensor *y = nb_augment_images(x, &o);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dtype(y), NB_F64);
    int flips = 0, moved = 0;
    for (int64_t i = 0; i < N; i++) {
        const int64_t dy = (int64_t)nb_rng_below(&draws, 5) - 2;
        const int64_t dx = (int64_t)nb_rng_below(&draws, 5) - 2;
        const bool flip = nb_rng_below(&draws, 2) == 1;
        flips += flip, moved += dy != 0 || dx != 0;
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < H; r++)
                for (int64_t k = 0; k < W; k++)
                    assert_float_equal(nb_tensor_get(y, ((i * C + c) * H + r) * W + k),
                                       expected(x, i, c, r, k, dy, dx, flip), 0);
    }
    assert_true(flips > 0 && flips < N && moved > 0);  /* the draws exercised both branches */
    assert_memory_equal(&o.rng, &draws, sizeof draws); /* the caller's rng advanced */
    nb_tensor_free(y);
    /* shift 0 without flips: the images themselves; [N, H, W] and float32 */
    nb_tensor *x3 = nb_rand_uniform(NB_F32, NB_SHAPE(3, 4, 4), &rng, 0, 1);
    nb_augment_opts id = {.rng = nb_rng_seed(1)};
    y = nb_augment_images(x3, &id);
    assert_non_null(y);
    for (int64_t j = 0; j < 48; j++)
        assert_float_equal(nb_tensor_get(y, j), nb_tensor_get(x3, j), 0);
    nb_tensor_free(y), nb_tensor_free(x3), nb_tensor_free(x);
}

static void test_augment_reads_strided_images_and_lives_in_the_step(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(2);
    nb_tensor *x = nb_rand_uniform(NB_F32, NB_SHAPE(4, 6, 6), &rng, 0, 1);
    nb_tensor *xt = nb_transpose(x, 1, 2); /* a strided view (caller-owned, no step) */
    nb_tensor *dense = nb_tensor_copy(xt);
    nb_augment_opts a = {.shift = 1, .hflip = true, .rng = nb_rng_seed(5)}, b = a;
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    const size_t before = nb_step_arena_bytes(step);
    nb_tensor *ya = nb_augment_images(xt, &a), *yb = nb_augment_images(dense, &b);
    assert_true(nb_step_arena_bytes(step) > before);
    for (int64_t j = 0; j < 4 * 36; j++)
        assert_float_equal(nb_tensor_get(ya, j), nb_tensor_get(yb, j), 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(dense), nb_tensor_free(xt), nb_tensor_free(x);
}

static void test_augment_reports_errors(void **state)
{
    (void)state;
    nb_augment_opts o = {.shift = 65, .rng = nb_rng_seed(1)};
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 4, 4));
    assert_null(nb_augment_images(x, &o));
    nbt_assert_error(NB_ERR_VALUE, "shift in 0..64 (shift 65)");
    o.shift = 1;
    assert_null(nb_augment_images(x, NULL));
    nbt_assert_error(NB_ERR_VALUE, "need images, opts");
    nb_tensor *flat = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 16));
    assert_null(nb_augment_images(flat, &o));
    nbt_assert_error(NB_ERR_SHAPE, "got 2 dims");
    nb_tensor *ids = nb_tensor_zeros(NB_I64, NB_SHAPE(2, 4, 4));
    assert_null(nb_augment_images(ids, &o));
    nbt_assert_error(NB_ERR_DTYPE, "f32 or f64");
    /* a failed op's NULL keeps its error */
    assert_null(nb_augment_images(nb_matmul(flat, flat), &o));
    nbt_assert_error(NB_ERR_SHAPE, "nb_matmul");
    nb_tensor_free(x), nb_tensor_free(flat), nb_tensor_free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment_shifts_and_flips_each_image_by_its_draws),
        cmocka_unit_test(test_augment_reads_strided_images_and_lives_in_the_step),
        cmocka_unit_test(test_augment_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
