/* tests/nn/test_recurrent_options.c — the options of nb_rnn_layer_new and nb_rnn_forward_ex
 * (nn/recurrent.c) beyond what the PyTorch fixtures check (tests/nn/test_golden_rnn.c): a
 * padded batch gives each sequence exactly what it gives alone, time-major is batch-first
 * transposed, dropout acts between layers only, in training mode only, from a seeded generator,
 * the default options are nb_rnn_new_ex's layer, and bad lengths and options are reported. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>

static nb_module *layer(nb_rnn_mode mode, int layers, bool bidir, bool time_major, double dropout,
                        uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    const nb_rnn_opts o = {.mode = mode,
                           .num_layers = layers,
                           .bidirectional = bidir,
                           .time_major = time_major,
                           .dropout = dropout,
                           .dtype = NB_F64};
    nb_module *m = nb_rnn_layer_new(3, 4, &o, &rng);
    assert_non_null(m);
    return m;
}

/* Value of t at [i, j, k] of a 3-D tensor. */
static double at3(const nb_tensor *t, int64_t i, int64_t j, int64_t k)
{
    return nb_tensor_get(t, (i * nb_tensor_dim(t, 1) + j) * nb_tensor_dim(t, 2) + k);
}

/* Sequence b of a padded batch, run alone over its own length, gives the batch's outputs at its
 * valid steps and the batch's final state; the padded steps are exactly 0. */
static void check_padded_batch(nb_rnn_mode mode, bool bidir)
{
    const int64_t B = 3, T = 5, F = 3, H = 4, lengths[3] = {2, 5, 3};
    const int D = bidir ? 2 : 1, LD = 2 * D;
    nb_module *m = layer(mode, 2, bidir, false, 0.0, 7);
    nb_tensor *x = nbt_uniform(NB_F64, 3, (int64_t[]){B, T, F}, 11, -1.0, 1.0);
    nb_tensor *h0 = nbt_uniform(NB_F64, 3, (int64_t[]){LD, B, H}, 12, -0.5, 0.5);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward_ex(m, x, lengths, (nb_rnn_state){h0, NULL}, &last);
    assert_non_null(y);
    for (int64_t b = 0; b < B; b++) {
        nb_tensor *xb = nb_slice(nb_slice(x, 0, b, b + 1, 1), 1, 0, lengths[b], 1);
        nb_tensor *hb = nb_slice(h0, 1, b, b + 1, 1);
        nb_rnn_state lb;
        nb_tensor *yb = nb_rnn_forward(m, xb, (nb_rnn_state){hb, NULL}, &lb);
        assert_non_null(yb);
        for (int64_t t = 0; t < T; t++)
            for (int64_t k = 0; k < D * H; k++) {
                const double want = t < lengths[b] ? at3(yb, 0, t, k) : 0.0;
                if (t >= lengths[b])
                    assert_true(at3(y, b, t, k) == 0.0);
                else
                    assert_true(fabs(at3(y, b, t, k) - want) < 1e-13);
            }
        for (int64_t k = 0; k < LD; k++)
            for (int64_t j = 0; j < H; j++)
                assert_true(fabs(at3(last.h, k, b, j) - at3(lb.h, k, 0, j)) < 1e-13);
        if (mode == NB_LSTM)
            for (int64_t k = 0; k < LD; k++)
                for (int64_t j = 0; j < H; j++)
                    assert_true(fabs(at3(last.c, k, b, j) - at3(lb.c, k, 0, j)) < 1e-13);
    }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(h0);
    nb_module_free(m);
}

static void test_padded_batch_is_each_sequence_alone(void **state)
{
    (void)state;
    for (int mode = NB_RNN_TANH; mode <= NB_GRU; mode++) {
        check_padded_batch((nb_rnn_mode)mode, false);
        check_padded_batch((nb_rnn_mode)mode, true);
    }
}

/* Padded steps send no gradient back: x's gradient is 0 there, whatever the upstream. */
static void test_padded_steps_get_no_gradient(void **state)
{
    (void)state;
    const int64_t lengths[2] = {4, 1};
    nb_module *m = layer(NB_LSTM, 2, true, false, 0.0, 3);
    nb_tensor *x = nbt_uniform(NB_F64, 3, (int64_t[]){2, 4, 3}, 5, -1.0, 1.0);
    assert_int_equal(nb_tensor_set_requires_grad(x, true), NB_OK);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward_ex(m, x, lengths, (nb_rnn_state){0}, &last);
    assert_int_equal(nb_backward(nb_add(nb_sum_all(nb_mul(y, y)), nb_sum_all(last.c))), NB_OK);
    nb_tensor *dx = nb_tensor_grad(x);
    for (int64_t t = 0; t < 4; t++)
        for (int64_t k = 0; k < 3; k++) {
            assert_true(at3(dx, 0, t, k) != 0.0);
            if (t >= 1)
                assert_true(at3(dx, 1, t, k) == 0.0);
        }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(m);
}

static void test_time_major_is_batch_first_transposed(void **state)
{
    (void)state;
    const int64_t lengths[3] = {3, 1, 2};
    nb_module *bf = layer(NB_GRU, 2, true, false, 0.0, 9);
    nb_module *tm = layer(NB_GRU, 2, true, true, 0.0, 9); /* same draws, same parameters */
    nb_tensor *x = nbt_uniform(NB_F64, 3, (int64_t[]){3, 3, 3}, 4, -1.0, 1.0);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state lb, lt;
    nb_tensor *yb = nb_rnn_forward_ex(bf, x, lengths, (nb_rnn_state){0}, &lb);
    nb_tensor *yt = nb_rnn_forward_ex(tm, nb_transpose(x, 0, 1), lengths, (nb_rnn_state){0}, &lt);
    assert_non_null(yt);
    assert_int_equal(nb_tensor_dim(yt, 0), 3);
    assert_int_equal(nb_tensor_dim(yt, 2), 8);
    assert_true(nb_tensor_allclose(nb_transpose(yt, 0, 1), yb, 0.0, 0.0));
    assert_true(nb_tensor_allclose(lt.h, lb.h, 0.0, 0.0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(bf);
    nb_module_free(tm);
}

static void test_default_options_are_the_plain_layer(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5);
    nb_module *a = nb_rnn_new_ex(NB_LSTM, 3, 4, 2, true, &r1, NB_F64);
    nb_module *b = nb_rnn_layer_new(
        3, 4, &(nb_rnn_opts){.mode = NB_LSTM, .num_layers = 2, .dtype = NB_F64}, &r2);
    assert_non_null(b);
    assert_int_equal(nb_rnn_num_directions(b), 1);
    assert_true(nb_tensor_allclose(nb_module_param_buffer(a), nb_module_param_buffer(b), 0, 0));
    nb_module *c = nb_rnn_layer_new(3, 4, NULL, &r2);
    assert_int_equal(nb_rnn_mode_of(c), NB_RNN_TANH);
    assert_int_equal(nb_rnn_num_layers(c), 1);
    nb_module_free(a);
    nb_module_free(b);
    nb_module_free(c);
}

static void test_bidirectional_names_and_shapes(void **state)
{
    (void)state;
    nb_module *m = layer(NB_GRU, 2, true, false, 0.0, 1);
    assert_int_equal(nb_rnn_num_directions(m), 2);
    assert_int_equal(nb_module_num_param_tensors(m), 16);
    nb_tensor *w = nb_module_param(m, "weight_ih_l1_reverse");
    assert_non_null(w);
    assert_int_equal(nb_tensor_dim(w, 0), 12);
    assert_int_equal(nb_tensor_dim(w, 1), 8); /* layer 1 reads both directions of layer 0 */
    nb_rnn_state s = nb_rnn_state_zeros(m, 5);
    assert_int_equal(nb_tensor_dim(s.h, 0), 4);
    nb_rnn_state_free(&s);
    assert_string_equal(nb_module_info(m), "3 -> 4, 2 layers, bidirectional");
    nb_module_free(m);
}

/* y of a 2-layer (or 1-layer) layer in training or eval mode, as a caller-owned copy. */
static nb_tensor *run(nb_module *m, nb_tensor *x, bool training)
{
    nb_module_train(m, training);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_tensor_copy(nb_rnn_forward(m, x, (nb_rnn_state){0}, NULL));
    nb_step_end(step);
    nb_step_free(step);
    assert_non_null(y);
    return y;
}

static void test_dropout_between_layers_in_training_only(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F64, 3, (int64_t[]){2, 4, 3}, 8, -1.0, 1.0);
    nb_module *plain = layer(NB_LSTM, 2, true, false, 0.0, 21);
    nb_module *drop = layer(NB_LSTM, 2, true, false, 0.5, 21);
    nb_module *drop2 = layer(NB_LSTM, 2, true, false, 0.5, 21);
    assert_true(
        nb_tensor_allclose(nb_module_param_buffer(plain), nb_module_param_buffer(drop), 0, 0));
    nb_tensor *y0 = run(plain, x, true), *ye = run(drop, x, false), *yt = run(drop, x, true);
    nb_tensor *yt2 = run(drop2, x, true), *yt3 = run(drop, x, true);
    assert_true(nb_tensor_allclose(ye, y0, 0, 0));   /* eval: no dropout */
    assert_false(nb_tensor_allclose(yt, y0, 0, 0));  /* training: dropout between layers */
    assert_true(nb_tensor_allclose(yt2, yt, 0, 0));  /* seeded: the same draws */
    assert_false(nb_tensor_allclose(yt3, yt, 0, 0)); /* the generator advances */
    /* one layer: nothing between layers, so no dropout even in training */
    nb_module *one = layer(NB_GRU, 1, false, false, 0.5, 2);
    nb_tensor *a = run(one, x, true), *b = run(one, x, false);
    assert_true(nb_tensor_allclose(a, b, 0, 0));
    nb_tensor *all[] = {x, y0, ye, yt, yt2, yt3, a, b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
    nb_module_free(plain);
    nb_module_free(drop);
    nb_module_free(drop2);
    nb_module_free(one);
}

static void test_errors_name_lengths_and_options(void **state)
{
    (void)state;
    nb_module *m = layer(NB_LSTM, 2, true, true, 0.0, 1);
    nb_tensor *x = nb_tensor_zeros(NB_F64, 3, (int64_t[]){5, 2, 3}); /* [T, B, F] */
    nb_tensor *h = nb_tensor_zeros(NB_F64, 3, (int64_t[]){2, 2, 4});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_rnn_forward_ex(m, x, (int64_t[]){5, 0}, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_forward_ex: LSTM (3 -> 4, 2 layers, bidirectional, "
                                   "time-major): lengths[1] is 0, expected 1 .. T = 5");
    assert_null(nb_rnn_forward_ex(m, x, (int64_t[]){6, 1}, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "lengths[0] is 6, expected 1 .. T = 5");
    assert_null(nb_rnn_forward(m, nb_transpose(x, 1, 2), (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "x is [5, 3, 2], expected [T, B, 3] (time-major, T >= 1)");
    assert_null(nb_rnn_forward_ex(m, nb_transpose(x, 1, 2), NULL, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_rnn_forward_ex: LSTM (3 -> 4, 2 layers");
    assert_null(nb_rnn_forward(m, x, (nb_rnn_state){h, NULL}, NULL));
    nbt_assert_error(NB_ERR_SHAPE,
                     "h is [2, 2, 4], expected [4, 2, 4] ([layers * 2 directions, B, H])");
    nb_step_end(step);
    nb_step_free(step);
    nb_rng rng = nb_rng_seed(1);
    assert_null(nb_rnn_layer_new(3, 4, &(nb_rnn_opts){.dropout = 1.0}, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_layer_new: RNN: dropout must be in [0, 1), got 1");
    assert_null(nb_rnn_layer_new(3, 4, &(nb_rnn_opts){.num_layers = -1}, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_layer_new: RNN: need input_size, hidden_size, "
                                   "num_layers >= 1 and an rng, got 3, 4, -1");
    nb_tensor_free(x);
    nb_tensor_free(h);
    nb_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_padded_batch_is_each_sequence_alone, nbt_end_active_step),
        cmocka_unit_test_teardown(test_padded_steps_get_no_gradient, nbt_end_active_step),
        cmocka_unit_test_teardown(test_time_major_is_batch_first_transposed, nbt_end_active_step),
        cmocka_unit_test_teardown(test_default_options_are_the_plain_layer, nbt_end_active_step),
        cmocka_unit_test_teardown(test_bidirectional_names_and_shapes, nbt_end_active_step),
        cmocka_unit_test_teardown(test_dropout_between_layers_in_training_only,
                                  nbt_end_active_step),
        cmocka_unit_test_teardown(test_errors_name_lengths_and_options, nbt_end_active_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
