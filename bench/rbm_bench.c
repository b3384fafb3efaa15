/* bench/rbm_bench.c — reference workload W7: Bernoulli RBM 784-500, CD-1, batch 64.
 *
 * One training step is nb_rbm_trainer_update on a random binary batch (fixed seed; the timing
 * does not depend on the values): up pass, h0 sample, down pass, v1 sample, up pass, the two
 * statistics products, momentum update (lr 0.01, momentum 0.5, no weight decay, as in
 * bench/torch_workloads.py). For each thread count: median / min / max ms per step after
 * warm-up, GFLOP per step (the five 64x784x500 matrix products), achieved GFLOP/s, peak RSS.
 *
 *   bench_rbm_bench [--threads N|all] [--steps N] [--warmup N] [--json]
 *
 * Prints a table, or one JSON object per line with --json. */
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { V = 784, H = 500, B = 64 };

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

typedef struct result {
    double median_ms, min_ms, max_ms, gflop, peak_rss_mb;
} result;

static int run(int threads, int steps, int warmup, result *out)
{
    nb_set_num_threads(threads);
    nb_rng rng = nb_rng_seed(0);
    nb_module *rbm = nb_rbm_new(V, H, NB_RBM_BERNOULLI, &rng);
    nb_tensor *v0 = nb_rand_bernoulli(NB_F32, 2, (int64_t[]){B, V}, &rng, 0.5);
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.lr = 0.01;
    o.momentum = 0.5;
    o.weight_decay = 0.0;
    nb_rbm_trainer *tr = rbm && v0 ? nb_rbm_trainer_new(rbm, &o) : NULL;
    double *ms = malloc((size_t)steps * sizeof *ms);
    int rc = 0;
    if (!tr || !ms) {
        fprintf(stderr, "rbm_bench: setup: %s\n", nb_last_error());
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < warmup + steps; i++) {
        double t0 = now_ms();
        if (nb_rbm_trainer_update(tr, v0, NULL) != NB_OK) {
            fprintf(stderr, "rbm_bench: step %d: %s\n", i, nb_last_error());
            rc = 1;
        }
        if (i >= warmup)
            ms[i - warmup] = now_ms() - t0;
    }
    if (rc == 0) {
        qsort(ms, (size_t)steps, sizeof *ms, cmp_double);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        out->median_ms = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
        out->min_ms = ms[0];
        out->max_ms = ms[steps - 1];
        out->gflop = 5.0 * 2.0 * B * V * H / 1e9;
        out->peak_rss_mb = (double)ru.ru_maxrss / 1024.0;
    }
    free(ms);
    nb_rbm_trainer_free(tr);
    nb_tensor_free(v0);
    nb_module_free(rbm);
    return rc;
}

int main(int argc, char **argv)
{
    int steps = 100, warmup = 10, threads = 0; /* 0: 1 and 2 */
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--threads") && val) {
            threads = strcmp(val, "all") ? atoi(val) : 0;
            i++;
        } else if (!strcmp(a, "--steps") && val) {
            steps = atoi(val);
            i++;
        } else if (!strcmp(a, "--warmup") && val) {
            warmup = atoi(val);
            i++;
        } else {
            printf("usage: bench_rbm_bench [--threads N|all] [--steps N] [--warmup N] [--json]\n"
                   "W7: Bernoulli RBM 784-500, CD-1, batch 64; median ms per step after "
                   "warm-up.\n");
            return strcmp(a, "--help") && strcmp(a, "-h") ? 2 : 0;
        }
    }
    if (steps < 1 || warmup < 0 || threads < 0) {
        fprintf(stderr, "rbm_bench: need --steps >= 1, --warmup >= 0, --threads >= 1\n");
        return 2;
    }
    if (!json)
        printf("W7 Bernoulli RBM %d-%d, CD-1, batch %d (%d steps after %d warm-up)\n"
               "threads  median ms  min ms  max ms  GFLOP/step  GFLOP/s  peak RSS MB\n",
               V, H, B, steps, warmup);
    for (int t = threads ? threads : 1; t <= (threads ? threads : 2); t++) {
        result r;
        if (run(t, steps, warmup, &r) != 0)
            return 1;
        double gflops = r.gflop / (r.median_ms / 1e3);
        if (json)
            printf("{\"framework\": \"nabla\", \"workload\": \"W7\", \"threads\": %d, "
                   "\"steps\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, "
                   "\"gflop_per_step\": %.4f, \"gflops\": %.2f, \"peak_rss_mb\": %.1f}\n",
                   t, steps, r.median_ms, r.min_ms, r.max_ms, r.gflop, gflops, r.peak_rss_mb);
        else
            printf("%7d  %9.3f  %6.3f  %6.3f  %10.4f  %7.2f  %11.1f\n", t, r.median_ms, r.min_ms,
                   r.max_ms, r.gflop, gflops, r.peak_rss_mb);
    }
    return 0;
}
