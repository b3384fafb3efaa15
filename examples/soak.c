/* examples/soak.c — a long training run that watches its own memory.
 *
 * Trains an MLP (64-128-10, ReLU, cross-entropy, Adam) on a fixed synthetic dataset of 2048
 * samples in shuffled minibatches of 64, for --steps steps, and reads the process's resident set
 * size (VmRSS in /proc/self/status) every --every steps. Every --save-every steps it also saves
 * and reloads a checkpoint of the model and the optimizer (to --checkpoint, default a file in
 * /tmp). After a warm-up (--warmup steps) the RSS must not grow by more than --tolerance percent
 * over the value at the end of the warm-up; the program exits with status 1 if it does.
 * scripts/soak.sh runs 10,000 steps of it in a Release build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { N_SAMPLES = 2048, N_IN = 64, HIDDEN = 128, N_OUT = 10, MAX_STATE = 32 };

/* Resident set size in kB, or -1 when /proc is not there. */
static long rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(fp);
    return kb;
}

int main(int argc, char **argv)
{
    int steps = 10000, every = 500, warmup = 1000, save_every = 2000;
    double tolerance = 2.0;
    uint64_t seed = 1;
    char default_ckpt[64];
    snprintf(default_ckpt, sizeof default_ckpt, "/tmp/nabla-soak-%ld.ckpt", (long)getpid());
    ex_opt opts[] = {
        {"steps", EX_OPT_INT, &steps, "training steps"},
        {"every", EX_OPT_INT, &every, "sample the RSS every this many steps"},
        {"warmup", EX_OPT_INT, &warmup, "steps before the RSS baseline is taken"},
        {"save-every", EX_OPT_INT, &save_every, "save + reload a checkpoint every this many steps"},
        {"tolerance", EX_OPT_DOUBLE, &tolerance, "allowed RSS growth after warm-up, percent"},
        {"seed", EX_OPT_U64, &seed, "seed of the data, the weights and the batch order"},
    };
    const ex_program prog = {
        "soak",
        "long training run checking that memory stays flat",
        "Exits 1 if the RSS grows more than --tolerance percent after the "
        "warm-up.\n",
        NULL,
        0,
        "no exercise of the notes: a library check (memory stays flat over a long run)"};
    ex_args_result pr = ex_parse_args(&prog, opts, 6, argc, argv, NULL, NULL);
    if (pr != EX_ARGS_RUN)
        return pr == EX_ARGS_HELP ? 0 : 2;
    if (steps < 1 || every < 1 || warmup < 0 || warmup >= steps || save_every < 1 ||
        !(tolerance >= 0))
        return ex_usage_error(&prog, "need steps >= 1, every >= 1, 0 <= warmup < steps, "
                                     "save-every >= 1, tolerance >= 0");
    const char *ckpt = default_ckpt;

    /* data: class c has mean vector c-dependent, plus noise */
    nb_rng rng = nb_rng_seed(seed);
    nb_dataset ds = {0};
    ds.x = nb_tensor_normal(NB_F32, 2, (const int64_t[]){N_SAMPLES, N_IN}, &rng, 0, 1);
    ds.y = nb_tensor_new(NB_I64, 1, (const int64_t[]){N_SAMPLES});
    ds.n_classes = N_OUT;
    if (!ds.x || !ds.y)
        return ex_fail("soak", "data");
    for (int64_t i = 0; i < N_SAMPLES; i++) {
        int64_t c = (int64_t)nb_rng_below(&rng, N_OUT);
        nb_tensor_data_i64(ds.y)[i] = c;
        nb_tensor_data_f32(ds.x)[i * N_IN + c] += 3.0f;
    }
    nb_module *layers[3] = {nb_linear_new(N_IN, HIDDEN, true, &rng), nb_relu_new(),
                            nb_linear_new(HIDDEN, N_OUT, true, &rng)};
    nb_module *net = nb_sequential_new(3, layers);
    nb_adam_opts ao = nb_adam_defaults();
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_batch_opts bo = {.batch_size = 64, .shuffle = true, .seed = seed, .last = NB_LAST_DROP};
    nb_batcher *it = nb_batcher_new(&ds, &bo);
    nb_step *step = nb_step_new();
    if (!net || !opt || !it || !step)
        return ex_fail("soak", "setup");
    nb_named_tensor state[MAX_STATE];
    int n_state = nb_module_named_params(net, state, MAX_STATE);
    n_state += nb_optim_named_state(opt, state + n_state, MAX_STATE - n_state);
    if (n_state > MAX_STATE)
        return ex_fail("soak", "too many state tensors");

    printf("soak: %d steps of MLP %d-%d-%d (Adam, batch 64), RSS every %d steps, checkpoint "
           "every %d\n",
           steps, N_IN, HIDDEN, N_OUT, every, save_every);
    long baseline = -1, peak_after = -1, first = rss_kb();
    int rc = 0;
    double loss_first = 0, loss_last = 0;
    for (int s = 1; s <= steps; s++) {
        nb_batch b;
        if (!nb_batcher_next(it, &b) && !nb_batcher_next(it, &b))
            return ex_fail("soak", "batcher");
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, b.x), b.y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        double l = loss ? nb_tensor_item(loss) : 0;
        nb_step_end(step);
        if (st != NB_OK)
            return ex_fail("soak", "training step");
        if (s == 1)
            loss_first = l;
        loss_last = l;
        if (s % save_every == 0 && (nb_checkpoint_save(ckpt, state, n_state) != NB_OK ||
                                    nb_checkpoint_load(ckpt, state, n_state) != NB_OK))
            return ex_fail("soak", "checkpoint");
        if (s % every == 0) {
            long kb = rss_kb();
            const char *note = "";
            if (s == warmup || (baseline < 0 && s > warmup)) {
                baseline = kb;
                note = "  (baseline)";
            } else if (s > warmup && kb > peak_after) {
                peak_after = kb;
            }
            printf("step %6d  loss %.4f  rss %ld kB  arena %zu kB%s\n", s, l, kb,
                   nb_step_arena_bytes(step) / 1024, note);
            fflush(stdout);
        }
    }
    remove(ckpt);
    if (baseline <= 0) {
        printf("soak: RSS not available (no /proc/self/status or no sample after the warm-up)\n");
    } else {
        if (peak_after < 0)
            peak_after = baseline;
        double growth = 100.0 * (double)(peak_after - baseline) / (double)baseline;
        printf("soak: loss %.4f -> %.4f; RSS at start %ld kB, after warm-up %ld kB, peak after "
               "%ld kB: growth %.2f%% (limit %.2f%%) %s\n",
               loss_first, loss_last, first, baseline, peak_after, growth, tolerance,
               growth <= tolerance ? "ok" : "FAILED");
        rc = growth <= tolerance ? 0 : 1;
    }
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&ds);
    return rc;
}
