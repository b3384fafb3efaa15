/* tests/nn/test_module_forward_outside_step.c — nb_module_forward with no active step, for every
 * module kind (the decoder layer through nb_transformer_decoder_forward, the one way it runs):
 * the result is a caller-owned tensor (never the input itself) equal, bit for bit, to what the
 * same forward gives inside a step, and nothing else is left behind (the sanitizer build runs
 * this with LeakSanitizer, which fails the test on any leaked intermediate). */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>

typedef nb_module *(*build_fn)(uint64_t seed);

typedef struct kind_case {
    const char *name;
    build_fn build;
    nb_dtype dtype; /* of the input */
    int ndim;
    int64_t shape[4];
    bool eval; /* run in eval mode (else training mode, the default) */
} kind_case;

/* ---- builders: same seed, same module ---- */

static nb_module *linear(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_linear_new(6, 4, true, &r);
}
static nb_module *linear_no_bias(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_linear_new(6, 4, false, &r);
}
static nb_module *relu(uint64_t seed)
{
    return (void)seed, nb_relu_new();
}
static nb_module *leaky(uint64_t seed)
{
    return (void)seed, nb_leaky_relu_new(0.1);
}
static nb_module *sigmoid(uint64_t seed)
{
    return (void)seed, nb_sigmoid_new();
}
static nb_module *tanh_m(uint64_t seed)
{
    return (void)seed, nb_tanh_new();
}
static nb_module *softplus(uint64_t seed)
{
    return (void)seed, nb_softplus_new();
}
static nb_module *softmax(uint64_t seed)
{
    return (void)seed, nb_softmax_new(-1);
}
static nb_module *log_softmax(uint64_t seed)
{
    return (void)seed, nb_log_softmax_new(-1);
}
static nb_module *identity(uint64_t seed)
{
    return (void)seed, nb_identity_new();
}
static nb_module *flatten(uint64_t seed)
{
    return (void)seed, nb_flatten_new();
}
static nb_module *dropout(uint64_t seed)
{
    return nb_dropout_new(0.5, seed);
}
static nb_module *dropout2d(uint64_t seed)
{
    return nb_dropout2d_new(0.5, seed);
}
static nb_module *sequential(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_sequential_new(4, (nb_module *[]){nb_linear_new(6, 5, true, &r), nb_tanh_new(),
                                                nb_dropout_new(0.3, seed),
                                                nb_linear_new(5, 3, true, &r)});
}
static nb_module *empty_sequential(uint64_t seed)
{
    return (void)seed, nb_sequential_new(0, NULL);
}
static nb_module *conv1d(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_conv1d_new(3, 4, 3, NULL, &r);
}
static nb_module *conv2d(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME}, &r);
}
static nb_module *max_pool2d(uint64_t seed)
{
    return (void)seed, nb_max_pool2d_new(2, 2, NULL);
}
static nb_module *avg_pool2d(uint64_t seed)
{
    return (void)seed, nb_avg_pool2d_new(2, 2, NULL);
}
static nb_module *max_pool1d(uint64_t seed)
{
    return (void)seed, nb_max_pool1d_new(2, NULL);
}
static nb_module *avg_pool1d(uint64_t seed)
{
    return (void)seed, nb_avg_pool1d_new(2, NULL);
}
static nb_module *gap(uint64_t seed)
{
    return (void)seed, nb_global_avg_pool_new();
}
static nb_module *gmp(uint64_t seed)
{
    return (void)seed, nb_global_max_pool_new();
}
static nb_module *bn1d(uint64_t seed)
{
    return (void)seed, nb_batch_norm1d_new(6, NULL);
}
static nb_module *bn2d(uint64_t seed)
{
    return (void)seed, nb_batch_norm2d_new(3, NULL);
}
static nb_module *layer_norm(uint64_t seed)
{
    return (void)seed, nb_layer_norm_new(1, (int64_t[]){6}, NULL);
}
static nb_module *group_norm(uint64_t seed)
{
    return (void)seed, nb_group_norm_new(2, 4, NULL);
}
static nb_module *instance_norm1d(uint64_t seed)
{
    return (void)seed, nb_instance_norm1d_new(3, &(nb_norm_layer_opts){.affine = true});
}
static nb_module *instance_norm2d(uint64_t seed)
{
    return (void)seed, nb_instance_norm2d_new(3, NULL);
}
static nb_module *rms_norm(uint64_t seed)
{
    return (void)seed, nb_rms_norm_new(6, 0, NB_F32);
}
static nb_module *rnn_layer(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    const nb_rnn_opts o = {
        .mode = NB_LSTM, .num_layers = 2, .bidirectional = true, .dropout = 0.25};
    return nb_rnn_layer_new(6, 5, &o, &r);
}
static nb_module *mha(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_mha_new(6, 2, true, &r, NB_F32);
}
static nb_module *position_embedding(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_position_embedding_new(8, 6, &r, NB_F32);
}
static nb_module *transformer_layer(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    const nb_transformer_opts o = {.d_model = 6, .heads = 2, .d_ff = 12, .dropout = 0.25};
    return nb_transformer_layer_new(&o, &r);
}
static nb_module *transformer_post_norm(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    const nb_transformer_opts o = {.d_model = 6,
                                   .heads = 3,
                                   .d_ff = 8,
                                   .causal = true,
                                   .post_norm = true,
                                   .activation = NB_FF_GELU};
    return nb_transformer_layer_new(&o, &r);
}
static nb_module *weight_normed(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_weight_norm(nb_conv2d_new(3, 4, 3, 3, NULL, &r), "weight", 0);
}
static nb_module *embedding(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_embedding_new(10, 4, &r);
}
static nb_module *one_hot(uint64_t seed)
{
    return (void)seed, nb_one_hot_new(10, NB_F32);
}
static nb_module *rnn_cell(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_rnn_cell_new(6, 5, &r);
}
static nb_module *lstm_cell(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_lstm_cell_new(6, 5, &r);
}
static nb_module *gru_cell(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_gru_cell_new(6, 5, &r);
}
static nb_module *rnn(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_rnn_new(6, 5, 2, &r);
}
static nb_module *lstm(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_lstm_new(6, 5, 2, &r);
}
static nb_module *gru(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_gru_new(6, 5, 1, &r);
}
static nb_module *autoencoder(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_autoencoder_new(3, (int64_t[]){6, 4, 2}, NULL, &r);
}
static nb_module *mlp(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_mlp_new(3, (int64_t[]){6, 5, 3}, NB_ACT_LEAKY_RELU, NB_ACT_SIGMOID, &r, NB_F32);
}
static nb_module *rbm(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_rbm_new(6, 4, NB_RBM_BERNOULLI, &r);
}
static nb_module *dbn_mlp(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *a = nb_rbm_new(6, 4, NB_RBM_BERNOULLI, &r);
    nb_module *m = a ? nb_dbn_to_mlp(1, (nb_module *[]){a}, 3, &r) : NULL;
    nb_module_free(a);
    return m;
}
static nb_module *cnn(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_sequential_new(7, (nb_module *[]){nb_conv2d_new(3, 4, 3, 3, NULL, &r),
                                                nb_batch_norm2d_new(4, NULL), nb_relu_new(),
                                                nb_dropout2d_new(0.25, seed),
                                                nb_max_pool2d_new(2, 2, NULL), nb_flatten_new(),
                                                nb_linear_new(4 * 2 * 2, 3, true, &r)});
}

static const kind_case cases[] = {
    {"Linear", linear, NB_F32, 2, {3, 6}, false},
    {"Linear on [*, n_in]", linear, NB_F32, 3, {2, 3, 6}, false},
    {"Linear without bias", linear_no_bias, NB_F32, 2, {3, 6}, false},
    {"ReLU", relu, NB_F32, 2, {3, 6}, false},
    {"LeakyReLU", leaky, NB_F32, 2, {3, 6}, false},
    {"Sigmoid", sigmoid, NB_F32, 2, {3, 6}, false},
    {"Tanh", tanh_m, NB_F32, 2, {3, 6}, false},
    {"Softplus", softplus, NB_F32, 2, {3, 6}, false},
    {"Softmax", softmax, NB_F32, 2, {3, 6}, false},
    {"LogSoftmax", log_softmax, NB_F32, 2, {3, 6}, false},
    {"Identity", identity, NB_F32, 2, {3, 6}, false},
    {"Flatten", flatten, NB_F32, 4, {2, 3, 4, 4}, false},
    {"Dropout (training)", dropout, NB_F32, 2, {3, 6}, false},
    {"Dropout (eval)", dropout, NB_F32, 2, {3, 6}, true},
    {"Dropout2d (training)", dropout2d, NB_F32, 4, {2, 3, 4, 4}, false},
    {"Dropout2d (eval)", dropout2d, NB_F32, 4, {2, 3, 4, 4}, true},
    {"Sequential", sequential, NB_F32, 2, {3, 6}, false},
    {"Sequential (eval)", sequential, NB_F32, 2, {3, 6}, true},
    {"empty Sequential", empty_sequential, NB_F32, 2, {3, 6}, false},
    {"Conv1d", conv1d, NB_F32, 3, {2, 3, 8}, false},
    {"Conv2d", conv2d, NB_F32, 4, {2, 3, 5, 5}, false},
    {"MaxPool2d", max_pool2d, NB_F32, 4, {2, 3, 4, 4}, false},
    {"AvgPool2d", avg_pool2d, NB_F32, 4, {2, 3, 4, 4}, false},
    {"MaxPool1d", max_pool1d, NB_F32, 3, {2, 3, 8}, false},
    {"AvgPool1d", avg_pool1d, NB_F32, 3, {2, 3, 8}, false},
    {"GlobalAvgPool", gap, NB_F32, 4, {2, 3, 4, 4}, false},
    {"GlobalMaxPool", gmp, NB_F32, 4, {2, 3, 4, 4}, false},
    {"BatchNorm1d (training)", bn1d, NB_F32, 2, {4, 6}, false},
    {"BatchNorm1d (eval)", bn1d, NB_F32, 2, {4, 6}, true},
    {"BatchNorm2d (training)", bn2d, NB_F32, 4, {2, 3, 4, 4}, false},
    {"BatchNorm2d (eval)", bn2d, NB_F32, 4, {2, 3, 4, 4}, true},
    {"LayerNorm", layer_norm, NB_F32, 2, {3, 6}, false},
    {"GroupNorm", group_norm, NB_F32, 4, {2, 4, 3, 3}, false},
    {"InstanceNorm1d (affine)", instance_norm1d, NB_F32, 3, {2, 3, 8}, false},
    {"InstanceNorm2d", instance_norm2d, NB_F32, 4, {2, 3, 4, 4}, false},
    {"RMSNorm", rms_norm, NB_F32, 2, {3, 6}, false},
    {"Embedding", embedding, NB_I64, 2, {2, 3}, false},
    {"OneHot", one_hot, NB_I64, 2, {2, 3}, false},
    {"RNNCell", rnn_cell, NB_F32, 2, {3, 6}, false},
    {"LSTMCell", lstm_cell, NB_F32, 2, {3, 6}, false},
    {"GRUCell", gru_cell, NB_F32, 2, {3, 6}, false},
    {"RNN", rnn, NB_F32, 3, {2, 4, 6}, false},
    {"LSTM", lstm, NB_F32, 3, {2, 4, 6}, false},
    {"GRU", gru, NB_F32, 3, {2, 4, 6}, false},
    {"bidirectional 2-layer LSTM with dropout (training)", rnn_layer, NB_F32, 3, {2, 4, 6}, false},
    {"bidirectional 2-layer LSTM with dropout (eval)", rnn_layer, NB_F32, 3, {2, 4, 6}, true},
    {"MultiheadAttention (causal)", mha, NB_F32, 3, {2, 4, 6}, false},
    {"PositionEmbedding", position_embedding, NB_F32, 3, {2, 5, 6}, false},
    {"TransformerLayer (training)", transformer_layer, NB_F32, 3, {2, 4, 6}, false},
    {"TransformerLayer (eval)", transformer_layer, NB_F32, 3, {2, 4, 6}, true},
    {"TransformerLayer (post-norm, causal, GELU)",
     transformer_post_norm,
     NB_F32,
     3,
     {2, 4, 6},
     false},
    {"Conv2d with weight norm", weight_normed, NB_F32, 4, {2, 3, 5, 5}, false},
    {"Autoencoder", autoencoder, NB_F32, 2, {3, 6}, false},
    {"MLP", mlp, NB_F32, 2, {3, 6}, false},
    {"RBM", rbm, NB_F32, 2, {3, 6}, false},
    {"DBN MLP", dbn_mlp, NB_F32, 2, {3, 6}, false},
    {"CNN with BatchNorm and Dropout2d (training)", cnn, NB_F32, 4, {2, 3, 6, 6}, false},
    {"CNN with BatchNorm and Dropout2d (eval)", cnn, NB_F32, 4, {2, 3, 6, 6}, true},
};

static nb_tensor *make_input(const kind_case *c)
{
    nb_rng r = nb_rng_seed(77);
    if (c->dtype == NB_I64) {
        nb_tensor *ids = nb_tensor_zeros(NB_I64, c->ndim, c->shape);
        for (int64_t i = 0; ids && i < nb_tensor_numel(ids); i++)
            nb_tensor_set(ids, i, (double)((i * 7) % 10));
        return ids;
    }
    return nb_tensor_uniform(c->dtype, c->ndim, c->shape, &r, -1.0, 1.0);
}

/* Every buffer of a and b holds the same values (BatchNorm's running statistics after a
 * training forward). */
static void assert_same_buffers(nb_module *a, nb_module *b)
{
    nb_named_tensor na[16], nbuf[16];
    int n = nb_module_named_buffers(a, na, 16);
    assert_int_equal(nb_module_named_buffers(b, nbuf, 16), n);
    for (int i = 0; i < n && i < 16; i++)
        assert_true(nb_tensor_allclose(na[i].tensor, nbuf[i].tensor, 0, 0));
}

static void test_every_module_kind_forwards_outside_a_step_without_leaks(void **state)
{
    (void)state;
    nb_step *step = nb_step_new();
    assert_non_null(step);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const kind_case *c = &cases[k];
        nb_module *outside = c->build(11), *inside = c->build(11);
        nb_tensor *x = make_input(c);
        if (!outside || !inside || !x)
            fail_msg("%s: building failed: %s", c->name, nb_last_error());
        nb_module_train(outside, !c->eval);
        nb_module_train(inside, !c->eval);

        nb_clear_error();
        nb_tensor *y = nb_module_forward(outside, x);
        if (!y)
            fail_msg("%s: forward outside a step failed: %s", c->name, nb_last_error());
        assert_int_equal(nb_last_status(), NB_OK);
        assert_ptr_not_equal(y, x);
        assert_false(nb_tensor_requires_grad(y));

        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_tensor *want = nb_module_forward(inside, x);
        if (!want)
            fail_msg("%s: forward inside a step failed: %s", c->name, nb_last_error());
        if (!nb_tensor_allclose(y, want, 0, 0))
            fail_msg("%s: the forward outside a step differs from the one inside", c->name);
        nb_step_end(step);
        assert_same_buffers(outside, inside);

        nb_tensor_free(y);
        nb_tensor_free(x);
        nb_module_free(outside);
        nb_module_free(inside);
    }
    nb_step_free(step);
}

/* The decoder layer runs only through nb_transformer_decoder_forward (it needs a memory): outside
 * a step too, with masks, it gives a caller-owned result equal to the one inside a step. */
static void test_decoder_layer_forwards_outside_a_step_without_leaks(void **state)
{
    (void)state;
    const nb_transformer_opts o = {.d_model = 6, .heads = 2, .d_ff = 12, .dropout = 0.25};
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5), data = nb_rng_seed(6);
    nb_module *outside = nb_transformer_decoder_layer_new(&o, &r1);
    nb_module *inside = nb_transformer_decoder_layer_new(&o, &r2);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 3, (int64_t[]){2, 4, 6}, &data, -1, 1);
    nb_tensor *mem = nb_tensor_uniform(NB_F32, 3, (int64_t[]){2, 3, 6}, &data, -1, 1);
    nb_tensor *pad =
        nb_tensor_from_data(NB_I64, 2, (int64_t[]){2, 3}, (const int64_t[]){0, 0, 1, 0, 0, 0});
    assert_non_null(outside);
    assert_non_null(inside);
    const nb_attn_masks self = {.causal = true}, cross = {.key_padding = pad};
    for (int eval = 0; eval < 2; eval++) {
        nb_module_train(outside, !eval);
        nb_module_train(inside, !eval);
        nb_clear_error();
        nb_tensor *y = nb_transformer_decoder_forward(outside, x, mem, &self, &cross);
        if (!y)
            fail_msg("forward outside a step failed: %s", nb_last_error());
        assert_int_equal(nb_last_status(), NB_OK);
        assert_false(nb_tensor_requires_grad(y));
        nb_step *step = nb_step_new();
        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_tensor *want = nb_transformer_decoder_forward(inside, x, mem, &self, &cross);
        assert_non_null(want);
        assert_true(nb_tensor_allclose(y, want, 0, 0));
        nb_step_end(step);
        nb_step_free(step);
        nb_tensor_free(y);
    }
    nb_tensor_free(pad);
    nb_tensor_free(mem);
    nb_tensor_free(x);
    nb_module_free(outside);
    nb_module_free(inside);
}

static void test_result_outside_a_step_outlives_the_module(void **state)
{
    (void)state;
    /* The caller's result is a copy: freeing the module first leaves it intact. */
    nb_module *bn = nb_batch_norm1d_new(4, NULL);
    nb_tensor *x = nb_tensor_full(NB_F32, 2, (int64_t[]){3, 4}, 0.5);
    nb_module_train(bn, false);
    nb_tensor *y = nb_module_forward(bn, x);
    assert_non_null(y);
    nb_module_free(bn);
    /* eval: (0.5 - 0) / sqrt(1 + 1e-5) */
    assert_float_equal(nb_tensor_get(y, 5), 0.5 / sqrt(1.0 + 1e-5), 1e-6);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_forward_outside_a_step_keeps_errors(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_module *lin = nb_linear_new(3, 2, true, &r);
    nb_tensor *bad = nb_tensor_zeros(NB_F32, 2, (int64_t[]){4, 5});
    nb_clear_error();
    assert_null(nb_module_forward(lin, bad));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Linear (3 -> 2): input is [4, 5]");
    /* An error pending before the call survives the private step. */
    nb_clear_error();
    nb_set_error(NB_ERR_IO, "earlier: disk full");
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){4, 3});
    nb_tensor *y = nb_module_forward(lin, x);
    assert_non_null(y);
    nbt_assert_error(NB_ERR_IO, "earlier: disk full");
    nb_clear_error();
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(bad);
    nb_module_free(lin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_module_kind_forwards_outside_a_step_without_leaks),
        cmocka_unit_test(test_decoder_layer_forwards_outside_a_step_without_leaks),
        cmocka_unit_test(test_result_outside_a_step_outlives_the_module),
        cmocka_unit_test(test_forward_outside_a_step_keeps_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
