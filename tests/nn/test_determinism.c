/* tests/nn/test_determinism.c — what docs/threads.md promises about threads and bits:
 * - one thread count: training twice from the same seed with nb_set_num_threads(2) gives
 *   bit-identical parameters, for a small CNN (convolutions whose backward splits the batch among
 *   threads, pooling, linear) and an LSTM. Each is trained RUNS times; a split of the work that
 *   depended on which thread came first would make some runs differ;
 * - across thread counts: a model without matrix products (depthwise convolution, LayerNorm,
 *   tanh, pooling, MSE, Adam on parameters large enough for its threaded loop) trains to the
 *   same bits on one and on two threads. */
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

enum { RUNS = 5, STEPS = 20, THREADS = 2 };

/* ---- CNN: conv(1->16) relu maxpool conv(16->16) relu maxpool flatten linear ----
 * Batch and sizes are large enough for the threaded paths of ops/conv.c: both convolutions split
 * the batch among the threads (several chunks), the first forms its weight gradient by direct
 * dot products (fewer columns than filters), the second by the transposed GEMM. */
enum { CNN_BATCH = 32, CNN_SIDE = 16, CNN_CH = 16, CNN_CLASSES = 10 };

static nb_module *cnn_new(nb_rng *r)
{
    const nb_conv_layer_opts same = {.conv.padding = NB_PAD_SAME};
    const int64_t features = CNN_CH * (CNN_SIDE / 4) * (CNN_SIDE / 4);
    return nb_sequential_new(8, (nb_module *[]){nb_conv2d_new(1, CNN_CH, 3, 3, &same, r),
                                                nb_relu_new(), nb_max_pool2d_new(2, 2, NULL),
                                                nb_conv2d_new(CNN_CH, CNN_CH, 3, 3, &same, r),
                                                nb_relu_new(), nb_max_pool2d_new(2, 2, NULL),
                                                nb_flatten_new(),
                                                nb_linear_new(features, CNN_CLASSES, true, r)});
}

/* ---- LSTM: 1 layer over [B, T, F], a linear head on every hidden state, MSE ---- */
enum { LSTM_BATCH = 32, LSTM_T = 5, LSTM_IN = 16, LSTM_HIDDEN = 64, LSTM_OUT = 4 };

/* ---- no matrix products: depthwise conv, LayerNorm, tanh, max and average pooling, MSE ----
 * LayerNorm's weight and bias have LOCAL_CH * LOCAL_SIDE^2 = 65536 elements each: Adam updates
 * them in its threaded loop (NBI_OPTIM_PAR_MIN). */
enum { LOCAL_BATCH = 2, LOCAL_CH = 16, LOCAL_SIDE = 64 };

static nb_module *local_new(nb_rng *r)
{
    const nb_conv_layer_opts dw = {.conv = {.padding = NB_PAD_SAME, .groups = LOCAL_CH}};
    return nb_sequential_new(
        5, (nb_module *[]){
               nb_conv2d_new(LOCAL_CH, LOCAL_CH, 3, 3, &dw, r),
               nb_layer_norm_new(3, (const int64_t[]){LOCAL_CH, LOCAL_SIDE, LOCAL_SIDE}, NULL),
               nb_tanh_new(), nb_max_pool2d_new(2, 2, NULL), nb_avg_pool2d_new(2, 2, NULL)});
}

typedef enum { CNN, LSTM, LOCAL } kind;
static const char *const kind_name[] = {"CNN", "LSTM", "model without matrix products"};

typedef struct model {
    kind kind;
    nb_module *net;  /* the whole model (for the LSTM: the LSTM followed by the head) */
    nb_module *lstm; /* LSTM only */
    nb_module *head;
} model;

/* The model of kind k, initialised from r (net NULL on error). */
static model model_new(kind k, nb_rng *r)
{
    model m = {.kind = k};
    if (k == CNN) {
        m.net = cnn_new(r);
    } else if (k == LOCAL) {
        m.net = local_new(r);
    } else {
        m.lstm = nb_lstm_new(LSTM_IN, LSTM_HIDDEN, 1, r);
        m.head = nb_linear_new(LSTM_HIDDEN, LSTM_OUT, true, r);
        m.net = nb_sequential_new(2, (nb_module *[]){m.lstm, m.head});
    }
    return m;
}

/* Loss of one batch (inside the active step). */
static nb_tensor *model_loss(model *m, nb_tensor *x, nb_tensor *y)
{
    if (m->kind == CNN)
        return nb_cross_entropy(nb_module_forward(m->net, x), y, NB_REDUCE_MEAN);
    if (m->kind == LOCAL)
        return nb_mse(nb_module_forward(m->net, x), y, NB_REDUCE_MEAN);
    nb_tensor *h = nb_rnn_forward(m->lstm, x, (nb_rnn_state){0}, NULL);
    nb_tensor *flat =
        h ? nb_reshape(h, 2, (const int64_t[]){LSTM_BATCH * LSTM_T, LSTM_HIDDEN}) : NULL;
    return nb_mse(nb_module_forward(m->head, flat), y, NB_REDUCE_MEAN);
}

/* Train one model from `seed` for STEPS steps; returns every parameter's bytes (malloc, *bytes
 * set). Fails the test on any library error. */
static unsigned char *train(kind k, uint64_t seed, size_t *bytes)
{
    nb_rng r = nb_rng_seed(seed);
    model m = model_new(k, &r);
    nb_tensor *x, *y;
    if (k == LOCAL) {
        const int64_t s = LOCAL_SIDE;
        x = nb_tensor_normal(NB_F32, 4, (const int64_t[]){LOCAL_BATCH, LOCAL_CH, s, s}, &r, 0, 1);
        y = nb_tensor_normal(NB_F32, 4, (const int64_t[]){LOCAL_BATCH, LOCAL_CH, s / 4, s / 4}, &r,
                             0, 0.5);
    } else if (k == LSTM) {
        x = nb_tensor_normal(NB_F32, 3, (const int64_t[]){LSTM_BATCH, LSTM_T, LSTM_IN}, &r, 0, 1);
        y = nb_tensor_normal(NB_F32, 2, (const int64_t[]){LSTM_BATCH * LSTM_T, LSTM_OUT}, &r, 0, 1);
    } else {
        x = nb_tensor_normal(NB_F32, 4, (const int64_t[]){CNN_BATCH, 1, CNN_SIDE, CNN_SIDE}, &r, 0,
                             1);
        y = nb_tensor_new(NB_I64, 1, (const int64_t[]){CNN_BATCH});
        if (y)
            for (int i = 0; i < CNN_BATCH; i++)
                nb_tensor_data_i64(y)[i] = (int64_t)nb_rng_below(&r, CNN_CLASSES);
    }
    nb_optim *opt = NULL;
    if (m.net && k == LSTM) {
        nb_sgd_opts o = nb_sgd_defaults();
        o.lr = 0.05;
        o.momentum = 0.9;
        opt = nb_sgd_new(m.net, &o);
    } else if (m.net) {
        nb_adam_opts o = nb_adam_defaults();
        o.lr = 1e-2;
        opt = nb_adam_new(m.net, &o);
    }
    nb_step *step = nb_step_new();
    if (!m.net || !opt || !step || !x || !y)
        fail_msg("setup: %s", nb_last_error());
    for (int it = 0; it < STEPS; it++) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = model_loss(&m, x, y);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        if (st != NB_OK)
            fail_msg("step %d: %s", it, nb_last_error());
        nb_step_end(step);
    }
    nb_tensor *flat = nb_module_param_buffer(m.net);
    *bytes = (size_t)nb_tensor_numel(flat) * sizeof(float);
    unsigned char *params = malloc(*bytes);
    assert_non_null(params);
    memcpy(params, nb_tensor_data(flat), *bytes);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(m.net);
    return params;
}

/* Training moved the parameters away from their initial values (so equal parameters are not
 * merely untouched ones). */
static void assert_trained(kind k, const unsigned char *params, size_t bytes)
{
    nb_rng r = nb_rng_seed(2024);
    model init = model_new(k, &r);
    assert_non_null(init.net);
    assert_int_equal((size_t)nb_module_num_params(init.net) * sizeof(float), bytes);
    assert_memory_not_equal(nb_tensor_data(nb_module_param_buffer(init.net)), params, bytes);
    nb_module_free(init.net);
}

/* RUNS trainings from one seed on THREADS threads: every run's parameters equal the first's,
 * bit for bit. */
static void check_runs_bitwise_equal(kind k)
{
    const int prev = nb_get_num_threads();
    nb_set_num_threads(THREADS);
    size_t n0 = 0;
    unsigned char *first = train(k, 2024, &n0), *runs[RUNS - 1];
    int differ = 0;
    for (int i = 0; i < RUNS - 1; i++) {
        size_t n = 0;
        runs[i] = train(k, 2024, &n);
        assert_int_equal(n, n0);
        differ += memcmp(runs[i], first, n0) != 0;
    }
    nb_set_num_threads(prev);
    assert_trained(k, first, n0);
    if (differ)
        fail_msg("%s: %d of %d reruns on %d threads gave different parameters", kind_name[k],
                 differ, RUNS - 1, THREADS);
    free(first);
    for (int i = 0; i < RUNS - 1; i++)
        free(runs[i]);
}

static void test_cnn_same_seed_two_threads_bitwise_equal(void **state)
{
    (void)state;
    check_runs_bitwise_equal(CNN);
}

static void test_lstm_same_seed_two_threads_bitwise_equal(void **state)
{
    (void)state;
    check_runs_bitwise_equal(LSTM);
}

/* Without matrix products (whose BLIS results may depend on the thread count), one and two
 * threads train to the same bits. */
static void test_model_without_matrix_products_same_bits_on_one_and_two_threads(void **state)
{
    (void)state;
    const int prev = nb_get_num_threads();
    size_t n1 = 0, n2 = 0;
    nb_set_num_threads(1);
    unsigned char *one = train(LOCAL, 2024, &n1);
    nb_set_num_threads(2);
    unsigned char *two = train(LOCAL, 2024, &n2);
    nb_set_num_threads(prev);
    assert_int_equal(n1, n2);
    assert_trained(LOCAL, one, n1);
    size_t differ = 0;
    for (size_t i = 0; i < n1; i += sizeof(float))
        differ += memcmp(one + i, two + i, sizeof(float)) != 0;
    if (differ)
        fail_msg("%zu of %zu parameters differ between one and two threads", differ,
                 n1 / sizeof(float));
    free(one);
    free(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cnn_same_seed_two_threads_bitwise_equal),
        cmocka_unit_test(test_lstm_same_seed_two_threads_bitwise_equal),
        cmocka_unit_test(test_model_without_matrix_products_same_bits_on_one_and_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
