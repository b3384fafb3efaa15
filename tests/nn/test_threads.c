/* tests/nn/test_threads.c — what docs/threads.md promises: separate steps, modules and optimizers
 * on separate threads train at the same time with results bit-identical to training them one
 * after the other; errors, the active step, grad mode and anomaly mode are per thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

enum { STEPS = 60, BATCH = 32, N_IN = 20, HIDDEN = 48, N_OUT = 5 };

typedef struct job {
    uint64_t seed;
    bool adam;
    /* results */
    nb_status status;
    char error[256];
    double last_loss;
    size_t n_bytes;
    unsigned char *params; /* every parameter's bytes, in order (malloc) */
} job;

/* Train a small MLP from `seed` and keep its final parameters. Everything it uses is its own. */
static void *train(void *arg)
{
    job *j = arg;
    nb_rng r = nb_rng_seed(j->seed);
    nb_module *layers[3] = {nb_linear_new(N_IN, HIDDEN, true, &r), nb_relu_new(),
                            nb_linear_new(HIDDEN, N_OUT, true, &r)};
    nb_module *net = nb_sequential_new(3, layers);
    nb_optim *opt = NULL;
    if (net && j->adam) {
        nb_adam_opts o = nb_adam_defaults();
        o.lr = 1e-2;
        opt = nb_adam_new(net, &o);
    } else if (net) {
        nb_sgd_opts o = nb_sgd_defaults();
        o.lr = 0.1;
        o.momentum = 0.9;
        opt = nb_sgd_new(net, &o);
    }
    nb_step *step = nb_step_new();
    nb_tensor *x = nb_tensor_normal(NB_F32, 2, (const int64_t[]){BATCH, N_IN}, &r, 0, 1);
    nb_tensor *y = nb_tensor_new(NB_I64, 1, (const int64_t[]){BATCH});
    j->status = (net && opt && step && x && y) ? NB_OK : nb_last_status();
    if (y)
        for (int i = 0; i < BATCH; i++)
            nb_tensor_data_i64(y)[i] = (int64_t)nb_rng_below(&r, N_OUT);
    for (int it = 0; it < STEPS && j->status == NB_OK; it++) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        if (st == NB_OK)
            j->last_loss = nb_tensor_item(loss);
        j->status = st;
        nb_step_end(step);
    }
    snprintf(j->error, sizeof j->error, "%s", nb_last_error());
    if (j->status == NB_OK) {
        nb_tensor *flat = nb_module_param_buffer(net);
        j->n_bytes = (size_t)nb_tensor_numel(flat) * sizeof(float);
        j->params = malloc(j->n_bytes);
        memcpy(j->params, nb_tensor_data(flat), j->n_bytes);
    }
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    return NULL;
}

static void test_two_models_on_two_threads_match_sequential_training_bit_for_bit(void **state)
{
    (void)state;
    job seq[2] = {{.seed = 11, .adam = false}, {.seed = 22, .adam = true}};
    job par[2] = {{.seed = 11, .adam = false}, {.seed = 22, .adam = true}};
    train(&seq[0]);
    train(&seq[1]);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, train, &par[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (seq[i].status != NB_OK || par[i].status != NB_OK)
            fail_msg("model %d: %s / %s", i, seq[i].error, par[i].error);
        assert_true(seq[i].n_bytes > 0);
        assert_int_equal(seq[i].n_bytes, par[i].n_bytes);
        assert_memory_equal(seq[i].params, par[i].params, seq[i].n_bytes);
        assert_true(seq[i].last_loss == par[i].last_loss);
    }
    /* the two models really differ (different seeds and optimizers) */
    assert_memory_not_equal(seq[0].params, seq[1].params, seq[0].n_bytes);
    for (int i = 0; i < 2; i++) {
        free(seq[i].params);
        free(par[i].params);
    }
}

/* ---- per-thread state ---- */
typedef struct probe {
    nb_status status_seen;
    bool step_seen, grad_seen, anomaly_seen;
} probe;

static void *look(void *arg)
{
    probe *p = arg;
    p->status_seen = nb_last_status();
    p->step_seen = nb_step_active() != NULL;
    p->grad_seen = nb_is_grad_enabled();
    p->anomaly_seen = nb_set_anomaly_mode(false);
    /* an error here stays here */
    nb_set_error(NB_ERR_VALUE, "look: a thread's own error");
    return NULL;
}

static void test_errors_active_step_and_modes_are_per_thread(void **state)
{
    (void)state;
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_set_grad_enabled(false);
    nb_set_anomaly_mode(true);
    nb_set_error(NB_ERR_SHAPE, "main: the main thread's error");
    probe p;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, look, &p), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(p.status_seen, NB_OK);
    assert_false(p.step_seen);
    assert_true(p.grad_seen);
    assert_false(p.anomaly_seen);
    /* this thread's state is untouched by the other's */
    nbt_assert_error(NB_ERR_SHAPE, "main: the main thread's error");
    assert_ptr_equal(nb_step_active(), s);
    assert_false(nb_is_grad_enabled());
    assert_true(nb_set_anomaly_mode(false));
    nb_set_grad_enabled(true);
    nb_step_end(s);
    nb_step_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_models_on_two_threads_match_sequential_training_bit_for_bit),
        cmocka_unit_test(test_errors_active_step_and_modes_are_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
