/* bench/conv_bench.c — forward vs backward time of the convolution layers of the reference
 * workloads W2 (Fashion-MNIST CNN) and W3 (CIFAR CNN), float32.
 *
 * For each layer: the median time of nb_conv2d (forward) and of nb_backward_ex from the layer's
 * output (backward: dW and db, plus dX when the layer's input needs a gradient, i.e. every
 * layer but the first of a network), after warm-up, and their ratio. The first layer of each
 * network is also timed with dX, for comparison. */
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *name;
    int64_t n, c, h, w, o;
    bool first; /* first layer of its network: its input needs no gradient in training */
} layer;

static const layer layers[] = {
    {"W2 conv1 1->32 on 64x1x28x28", 64, 1, 28, 28, 32, true},
    {"W2 conv2 32->64 on 64x32x14x14", 64, 32, 14, 14, 64, false},
    {"W3 conv1 3->32 on 32x3x32x32", 32, 3, 32, 32, 32, true},
    {"W3 conv2 32->32 on 32x32x32x32", 32, 32, 32, 32, 32, false},
};

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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    double fwd_ms, bwd_ms;
} timing;

/* Median forward and backward times of one 3x3 pad-1 convolution. */
static int time_layer(const layer *l, bool input_grad, int reps, timing *t)
{
    nb_rng rng = nb_rng_seed(1);
    const int64_t xs[4] = {l->n, l->c, l->h, l->w}, ws[4] = {l->o, l->c, 3, 3}, bs[1] = {l->o};
    const int64_t ys[4] = {l->n, l->o, l->h, l->w};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 4, xs, &rng, -1, 1);
    nb_tensor *w = nb_tensor_uniform(NB_F32, 4, ws, &rng, -0.1, 0.1);
    nb_tensor *b = nb_tensor_uniform(NB_F32, 1, bs, &rng, -0.1, 0.1);
    nb_tensor *seed = nb_tensor_uniform(NB_F32, 4, ys, &rng, -1, 1);
    nb_step *step = nb_step_new();
    double *fwd = calloc((size_t)reps, sizeof *fwd), *bwd = calloc((size_t)reps, sizeof *bwd);
    int rc = 0;
    if (!x || !w || !b || !seed || !step || !fwd || !bwd) {
        fprintf(stderr, "conv_bench: setup failed: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    nb_tensor_set_requires_grad(x, input_grad);
    nb_tensor_set_requires_grad(w, true);
    nb_tensor_set_requires_grad(b, true);
    const nb_conv_opts opts = {.padding = NB_PAD_SAME};
    const int warmup = 3;
    for (int it = 0; it < warmup + reps; it++) {
        nb_step_begin(step);
        double t0 = now_ms();
        nb_tensor *y = nb_conv2d(x, w, b, &opts);
        double t1 = now_ms();
        nb_status st = y ? nb_backward_ex(y, seed) : nb_last_status();
        double t2 = now_ms();
        nb_step_end(step);
        if (st != NB_OK) {
            fprintf(stderr, "conv_bench: %s: %s\n", l->name, nb_last_error());
            rc = 1;
            goto done;
        }
        if (it >= warmup) {
            fwd[it - warmup] = t1 - t0;
            bwd[it - warmup] = t2 - t1;
        }
    }
    t->fwd_ms = median(fwd, reps);
    t->bwd_ms = median(bwd, reps);
done:
    free(fwd);
    free(bwd);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(b);
    nb_tensor_free(seed);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_conv_bench [--reps N] [--threads N] [--json]\n"
               "Times forward and backward of the W2/W3 3x3 pad-1 convolution layers (float32)\n"
               "and prints the ratio backward / forward.\n"
               "  --reps N      timed repetitions per layer after 3 warm-up ones (default 20)\n"
               "  --threads N   threads for BLIS and the library's loops (default: "
               "NB_NUM_THREADS or 1)\n"
               "  --json        one JSON object per measurement instead of the table\n");
}

int main(int argc, char **argv)
{
    int reps = 20, threads = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (reps < 1) {
        fprintf(stderr, "conv_bench: --reps must be >= 1\n");
        return 2;
    }
    if (threads > 0)
        nb_set_num_threads(threads);
    if (!json)
        printf("threads %d, %d reps, median ms\n%-34s %-12s %8s %8s %7s %9s %9s\n",
               nb_get_num_threads(), reps, "layer", "backward", "fwd", "bwd", "bwd/fwd", "fwd GF/s",
               "bwd GF/s");
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const layer *l = &layers[i];
        /* forward GEMM flops: 2 * N * O * H * W * C * 9 (SAME keeps H x W) */
        const double gflop = 2.0 * (double)(l->n * l->o * l->h * l->w * l->c * 9) * 1e-9;
        for (int with_dx = l->first ? 0 : 1; with_dx <= 1; with_dx++) {
            timing t;
            if (time_layer(l, with_dx, reps, &t))
                return 1;
            const double bwd_gflop = gflop * (with_dx ? 2 : 1);
            const char *what = with_dx ? "dX,dW,db" : "dW,db";
            if (json)
                printf("{\"layer\": \"%s\", \"backward\": \"%s\", \"threads\": %d, \"fwd_ms\": "
                       "%.4f, \"bwd_ms\": %.4f, \"ratio\": %.3f, \"fwd_gflops\": %.2f, "
                       "\"bwd_gflops\": %.2f}\n",
                       l->name, what, nb_get_num_threads(), t.fwd_ms, t.bwd_ms, t.bwd_ms / t.fwd_ms,
                       gflop / t.fwd_ms * 1e3, bwd_gflop / t.bwd_ms * 1e3);
            else
                printf("%-34s %-12s %8.3f %8.3f %7.2f %9.2f %9.2f\n", l->name, what, t.fwd_ms,
                       t.bwd_ms, t.bwd_ms / t.fwd_ms, gflop / t.fwd_ms * 1e3,
                       bwd_gflop / t.bwd_ms * 1e3);
        }
    }
    return 0;
}
