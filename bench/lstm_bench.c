/* bench/lstm_bench.c — reference workloads W5 (char LSTM) and W6 (the same with a GRU).
 *
 *   ids [32, 64] -> Embedding 65 -> 64 -> LSTM/GRU 64 -> 256 (1 layer, batch-first) -> Linear
 *   256 -> 65 -> cross-entropy over all 64 * 32 positions -> backward -> Adam (lr 2e-3).
 *
 * Random ids and targets from a fixed seed (the timing does not depend on the text). For each
 * workload and thread count: median / min / max ms per training step after warm-up, GFLOP per
 * step (the matrix products, as bench/torch_workloads.py counts them), achieved GFLOP/s, peak
 * RSS, and the graph overhead: tape records per step and ms per recorded op.
 *
 *   bench_lstm_bench [--workload W5|W6|all] [--threads N|all] [--steps N] [--warmup N] [--json]
 *
 * Prints a table, or one JSON object per line with --json. */
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { V = 65, E = 64, H = 256, T = 64, B = 32 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double gemm_flops(double m, double n, double k)
{
    return 2.0 * m * n * k;
}

typedef struct result {
    double median_ms, min_ms, max_ms, gflop, peak_rss_mb;
    int64_t tape;
} result;

static nb_module *model_new(bool gru, nb_rng *rng)
{
    nb_module *m = nb_module_new("CharModel", NB_F32, NULL, NULL, NULL);
    if (!m)
        return NULL;
    nb_module *rnn = gru ? nb_gru_new(E, H, 1, rng) : nb_lstm_new(E, H, 1, rng);
    if (nb_module_add_child(m, "emb", nb_embedding_new(V, E, rng)) != NB_OK ||
        nb_module_add_child(m, "rnn", rnn) != NB_OK ||
        nb_module_add_child(m, "out", nb_linear_new(H, V, true, rng)) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

static int run(bool gru, int steps, int warmup, result *r)
{
    nb_rng rng = nb_rng_seed(1);
    nb_module *net = model_new(gru, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = 2e-3;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, (int64_t[]){B, T});
    nb_tensor *tgt = nb_tensor_zeros(NB_I64, 1, (int64_t[]){B * T});
    nb_step *step = nb_step_new();
    double *times = malloc((size_t)steps * sizeof *times);
    if (!opt || !ids || !tgt || !step || !times) {
        fprintf(stderr, "lstm_bench: setup failed: %s\n", nb_last_error());
        return 1;
    }
    for (int i = 0; i < B * T; i++) {
        nb_tensor_set(ids, i, (double)nb_rng_below(&rng, V));
        nb_tensor_set(tgt, i, (double)nb_rng_below(&rng, V));
    }
    nb_module *emb = nb_module_child(net, "emb"), *rnn = nb_module_child(net, "rnn");
    nb_module *out = nb_module_child(net, "out");
    int rc = 0;
    for (int it = 0; it < warmup + steps; it++) {
        double t0 = now_ms();
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *y = nb_rnn_forward(rnn, nb_module_forward(emb, ids), (nb_rnn_state){0}, NULL);
        nb_tensor *logits = nb_module_forward(out, nb_reshape(y, 2, (int64_t[]){B * T, H}));
        nb_tensor *loss = nb_cross_entropy(logits, tgt, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        r->tape = nb_step_tape_length(step);
        nb_step_end(step);
        if (st != NB_OK) {
            fprintf(stderr, "lstm_bench: %s\n", nb_last_error());
            rc = 1;
            break;
        }
        if (it >= warmup)
            times[it - warmup] = now_ms() - t0;
    }
    if (!rc) {
        qsort(times, (size_t)steps, sizeof *times, cmp_double);
        r->median_ms =
            steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
        r->min_ms = times[0];
        r->max_ms = times[steps - 1];
        const int gates = gru ? 3 : 4;
        r->gflop = (T * (3 * gemm_flops(B, gates * H, E) + 3 * gemm_flops(B, gates * H, H)) +
                    3 * gemm_flops(B * T, V, H)) /
                   1e9;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        r->peak_rss_mb = (double)ru.ru_maxrss / 1024.0;
    }
    free(times);
    nb_step_free(step);
    nb_tensor_free(ids);
    nb_tensor_free(tgt);
    nb_optim_free(opt);
    nb_module_free(net);
    return rc;
}

int main(int argc, char **argv)
{
    const char *workload = "all", *threads = "all";
    int steps = 20, warmup = 3;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--workload") && v) {
            workload = argv[++i];
        } else if (!strcmp(a, "--threads") && v) {
            threads = argv[++i];
        } else if (!strcmp(a, "--steps") && v) {
            steps = atoi(argv[++i]);
        } else if (!strcmp(a, "--warmup") && v) {
            warmup = atoi(argv[++i]);
        } else {
            printf("usage: %s [--workload W5|W6|all] [--threads N|all] [--steps N] [--warmup N] "
                   "[--json]\n",
                   argv[0]);
            return strcmp(a, "--help") && strcmp(a, "-h") ? 2 : 0;
        }
    }
    if (steps < 1 || warmup < 0) {
        fprintf(stderr, "lstm_bench: --steps must be >= 1 and --warmup >= 0\n");
        return 2;
    }
    int th_list[2] = {1, 2}, n_th = 2;
    if (strcmp(threads, "all")) {
        th_list[0] = atoi(threads);
        n_th = 1;
    }
    if (!json)
        printf("%-4s %-4s %7s %10s %8s %8s %8s %10s %8s %10s\n", "work", "cell", "threads",
               "median ms", "min ms", "GFLOP", "GFLOP/s", "tape ops", "us/op", "RSS MB");
    for (int w = 5; w <= 6; w++) {
        char name[4];
        snprintf(name, sizeof name, "W%d", w);
        if (strcmp(workload, "all") && strcmp(workload, name))
            continue;
        for (int k = 0; k < n_th; k++) {
            nb_set_num_threads(th_list[k]);
            result r = {0};
            if (run(w == 6, steps, warmup, &r))
                return 1;
            const double us_per_op = 1e3 * r.median_ms / (double)r.tape;
            if (json)
                printf("{\"framework\": \"nabla\", \"workload\": \"%s\", \"threads\": %d, "
                       "\"steps\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, "
                       "\"gflop_per_step\": %.4f, \"gflops\": %.2f, \"peak_rss_mb\": %.1f, "
                       "\"tape_length\": %lld, \"ms_per_recorded_op\": %.5f}\n",
                       name, th_list[k], steps, r.median_ms, r.min_ms, r.max_ms, r.gflop,
                       r.gflop / (r.median_ms / 1e3), r.peak_rss_mb, (long long)r.tape,
                       r.median_ms / (double)r.tape);
            else
                printf("%-4s %-4s %7d %10.2f %8.2f %8.3f %8.2f %10lld %8.2f %10.1f\n", name,
                       w == 5 ? "LSTM" : "GRU", th_list[k], r.median_ms, r.min_ms, r.gflop,
                       r.gflop / (r.median_ms / 1e3), (long long)r.tape, us_per_op, r.peak_rss_mb);
            fflush(stdout);
        }
    }
    return 0;
}
