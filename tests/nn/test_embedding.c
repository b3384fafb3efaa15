/* tests/nn/test_embedding.c — the Embedding and OneHot modules (nn/embedding.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/nbt.h"

static int end_active_step(void **state)
{
    (void)state;
    if (nb_step_active())
        nb_step_end(nb_step_active());
    nb_clear_error();
    return 0;
}

static void test_embedding_forward_selects_rows(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(1);
    nb_module *emb = nb_embedding_new(10, 4, &rng);
    assert_non_null(emb);
    assert_string_equal(nb_module_kind(emb), "Embedding");
    nb_tensor *w = nb_module_param(emb, "weight");
    const int64_t d[] = {3, 0, 9, 3, 7, 1};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 2, (int64_t[]){2, 3}, d);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(emb, ids);
    assert_non_null(y);
    char s[64];
    assert_string_equal(nb_tensor_shape_str(y, s, sizeof s), "[2, 3, 4]");
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            assert_float_equal(nb_tensor_get(y, i * 4 + k), nb_tensor_get(w, d[i] * 4 + k), 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(ids);
    nb_module_free(emb);
}

static void test_embedding_gradient_adds_up_repeated_ids(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(2);
    nb_module *emb = nb_embedding_new(5, 3, &rng);
    const int64_t d[] = {2, 4, 2, 2};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){4}, d);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(emb, ids); /* [4, 3] */
    /* L = sum_i (i + 1) * sum_k y[i, k]  ->  dL/dw[r] = sum of (i + 1) over i with id r */
    nb_tensor *wts = nb_constant(NB_F32, 2, (int64_t[]){4, 1}, 0);
    for (int i = 0; i < 4; i++)
        nb_tensor_set(wts, i, i + 1);
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, wts))), NB_OK);
    nb_tensor *g = nb_tensor_grad(nb_module_param(emb, "weight"));
    const double want[5] = {0, 0, 1 + 3 + 4, 0, 2};
    for (int r = 0; r < 5; r++)
        for (int k = 0; k < 3; k++)
            assert_float_equal(nb_tensor_get(g, r * 3 + k), want[r], 1e-6);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(ids);
    nb_module_free(emb);
}

static void test_embedding_init_is_standard_normal(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(3);
    nb_module *emb = nb_embedding_new(200, 50, &rng);
    nb_tensor *w = nb_module_param(emb, "weight");
    double mean = 0, sq = 0;
    const int64_t n = nb_tensor_numel(w);
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(w, i);
        mean += v / (double)n;
        sq += v * v / (double)n;
    }
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(sq - mean * mean - 1.0) < 0.05);
    nb_module_free(emb);
}

static void test_embedding_padding_row_is_zero_and_gets_no_gradient(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(4);
    nb_module *emb = nb_embedding_new_ex(6, 2, 0, &rng, NB_F64);
    assert_non_null(emb);
    assert_string_equal(nb_module_info(emb), "6 x 2, padding_idx=0");
    nb_tensor *w = nb_module_param(emb, "weight");
    assert_float_equal(nb_tensor_get(w, 0), 0, 0);
    assert_float_equal(nb_tensor_get(w, 1), 0, 0);
    nb_tensor_fill(w, 1.0); /* even a non-zero padding row gives zero output */
    const int64_t d[] = {0, 5, 0};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){3}, d);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(emb, ids);
    assert_float_equal(nb_tensor_get(y, 0), 0, 0);
    assert_float_equal(nb_tensor_get(y, 2), 1, 0);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    nb_tensor *g = nb_tensor_grad(w);
    assert_float_equal(nb_tensor_get(g, 0), 0, 0);
    assert_float_equal(nb_tensor_get(g, 10), 1, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(ids);
    nb_module_free(emb);
}

static nb_module *gc_emb;

static nb_tensor *emb_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    (void)user;
    return nb_tanh(nb_module_forward(gc_emb, in[0]));
}

static void test_embedding_gradcheck(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    gc_emb = nb_embedding_new_ex(7, 3, 6, &rng, NB_F64);
    const int64_t d[] = {1, 6, 1, 0, 4, 1};
    nb_tensor *in[2] = {nb_tensor_from_data(NB_I64, 2, (int64_t[]){3, 2}, d),
                        nb_module_param(gc_emb, "weight")};
    assert_int_equal(nbt_check_tensors(emb_fn, NULL, in, 2), NB_OK);
    nb_tensor_free(in[0]);
    nb_module_free(gc_emb);
}

static void test_embedding_rejects_bad_ids(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(6);
    nb_module *emb = nb_embedding_new(5, 2, &rng);
    nb_tensor *f = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 3});
    const int64_t d[] = {1, 5};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){2}, d);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_module_forward(emb, f));
    nbt_assert_error(NB_ERR_DTYPE,
                     "nb_module_forward: Embedding (5 x 2): ids must be i64 token ids, got f32 "
                     "[2, 3]");
    assert_null(nb_module_forward(emb, ids));
    nbt_assert_error(NB_ERR_VALUE, "ids[1] = 5 is outside [0, 5)");
    nb_step_end(step);
    assert_null(nb_embedding_new(0, 3, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_embedding_new: need num_embeddings, dim >= 1");
    assert_null(nb_embedding_new_ex(4, 3, 4, &rng, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "padding_idx must be -1 (none) or in [0, 4), got 4");
    nb_step_free(step);
    nb_tensor_free(f);
    nb_tensor_free(ids);
    nb_module_free(emb);
}

static void test_one_hot_module(void **state)
{
    (void)state;
    nb_module *oh = nb_one_hot_new(4, NB_F32);
    assert_non_null(oh);
    const int64_t d[] = {3, 0, 2};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){3}, d);
    nb_tensor *y = nb_module_forward(oh, ids); /* no step: caller-owned */
    assert_non_null(y);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            assert_float_equal(nb_tensor_get(y, i * 4 + k), k == d[i], 0);
    assert_int_equal(nb_module_num_params(oh), 0);
    nb_tensor_free(y);
    assert_null(nb_one_hot_new(0, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_one_hot_new: n_classes must be >= 1");
    assert_null(nb_one_hot_new(3, NB_I64));
    nbt_assert_error(NB_ERR_DTYPE, "nb_one_hot_new: dtype must be f32 or f64");
    nb_tensor_free(ids);
    nb_module_free(oh);
}

static void test_embedding_feeds_an_lstm(void **state)
{
    (void)state;
    /* ids [B, T] -> embedding [B, T, D] -> LSTM [B, T, H]: the char-model pipeline */
    nb_rng rng = nb_rng_seed(7);
    nb_module *emb = nb_embedding_new(11, 5, &rng);
    nb_module *lstm = nb_lstm_new(5, 6, 1, &rng);
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, (int64_t[]){3, 4});
    for (int i = 0; i < 12; i++)
        nb_tensor_set(ids, i, i % 11);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(lstm, nb_module_forward(emb, ids));
    assert_non_null(y);
    assert_int_equal(nb_backward(nb_mean_all(y)), NB_OK);
    assert_non_null(nb_tensor_grad(nb_module_param(emb, "weight")));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(ids);
    nb_module_free(lstm);
    nb_module_free(emb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_embedding_forward_selects_rows, end_active_step),
        cmocka_unit_test_teardown(test_embedding_gradient_adds_up_repeated_ids, end_active_step),
        cmocka_unit_test_teardown(test_embedding_init_is_standard_normal, end_active_step),
        cmocka_unit_test_teardown(test_embedding_padding_row_is_zero_and_gets_no_gradient,
                                  end_active_step),
        cmocka_unit_test_teardown(test_embedding_gradcheck, end_active_step),
        cmocka_unit_test_teardown(test_embedding_rejects_bad_ids, end_active_step),
        cmocka_unit_test_teardown(test_one_hot_module, end_active_step),
        cmocka_unit_test_teardown(test_embedding_feeds_an_lstm, end_active_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
