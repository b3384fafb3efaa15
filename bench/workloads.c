/* bench/workloads.c — nabla's reference workloads W1-W8 (docs/benchmarks.md), built from the
 * public API exactly as a user would: nn.h modules, optim.h SGD / Adam, ops.h convolution,
 * pooling and losses. Same definitions as bench/torch_workloads.py, the PyTorch baseline.
 *
 * One process runs one workload at one thread count and prints one JSON object: median / min /
 * max ms per training step (forward + loss + backward + update) after warm-up, GFLOP per step
 * (counted like the PyTorch script: the GEMM flops of forward, dX and dW), GFLOP/s, peak RSS,
 * and the rate of one large BLIS SGEMM (nb_matmul 1024^3) measured in the same process, with
 * the workload's share of it. Inputs are random tensors of the workload's shape: the step time
 * does not depend on the values.
 *
 *     bench_workloads --workload W1 --threads 1 --steps 50 --warmup 5
 *     bench_workloads --workload W1 --epoch          one Fashion-MNIST epoch + test accuracy
 *     bench_workloads --workload W1 --soak 10000     resident memory sampled over many steps
 *     mpirun -np 2 bench_workloads --workload W1 --dist   data-parallel, the batch per rank
 *                                                          (weak scaling; needs libnabla-dist) */
#include "nabla.h"
#ifdef NB_BENCH_DIST
#include "nabla/dist.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- timing and memory ---- */

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

/* Median of v[0..n-1] (sorts v). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* Resident set size now, from /proc/self/statm; -1 when unavailable. */
static double current_rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_resident = 0;
    if (!f)
        return -1;
    int got = fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    fclose(f);
    if (got != 2)
        return -1;
    return (double)pages_resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static double gemm_flops(double m, double n, double k)
{
    return 2.0 * m * n * k;
}

/* Forward + backward (dX and dW) GEMM flops of an MLP: 3 GEMMs per layer. */
static double linear_flops(double batch, int n, const int64_t *sizes)
{
    double f = 0;
    for (int i = 0; i + 1 < n; i++)
        f += 3 * gemm_flops(batch, (double)sizes[i + 1], (double)sizes[i]);
    return f;
}

/* 3x3 pad-1 stride-1 convolution: forward + dX + dW. */
static double conv_flops(double n, double c, double h, double w, double o)
{
    return 3 * gemm_flops(o, n * h * w, c * 9);
}

/* The conv layers of W2 / W3: conv_layers.h's Conv2d, 3x3 "same" (PyTorch's padding=1), with
 * the ReLU that follows each fused into it (PyTorch's Conv2d + ReLU), and 2x2 max-pooling. */
static nb_module *conv3x3_relu_new(int64_t c_in, int64_t c_out, nb_rng *rng)
{
    const nb_conv_layer_opts o = {.conv = {.padding = NB_PAD_SAME, .relu = true}};
    return nb_conv2d_new(c_in, c_out, 3, 3, &o, rng);
}

static nb_module *max_pool2_new(void)
{
    return nb_max_pool2d_new(2, 2, NULL);
}

/* ---- the recurrent character model of W5 / W6 ---- */

/* ids [B, T] NB_I64 -> logits [B * T, V]: embedding, the seq.h LSTM / GRU layer (batch-first,
 * composed from public ops), linear to the vocabulary. PyTorch's CharModel in
 * bench/torch_workloads.py. */
static nb_tensor *char_rnn_forward(nb_module *m, nb_tensor *ids)
{
    nb_module *rnn = nb_module_child(m, "rnn");
    nb_tensor *y = nb_rnn_forward(rnn, nb_module_forward(nb_module_child(m, "emb"), ids),
                                  (nb_rnn_state){0}, NULL); /* [B, T, H] */
    const int64_t flat[2] = {-1, nb_rnn_hidden_size(rnn)};
    return nb_module_forward(nb_module_child(m, "out"), nb_reshape(y, 2, flat));
}

static nb_module *char_rnn_new(bool lstm, int64_t vocab, int64_t embed, int64_t hidden, nb_rng *rng)
{
    nb_module *m =
        nb_module_new(lstm ? "CharLSTM" : "CharGRU", NB_F32, char_rnn_forward, NULL, NULL);
    nb_module *rnn = lstm ? nb_lstm_new(embed, hidden, 1, rng) : nb_gru_new(embed, hidden, 1, rng);
    /* nb_module_add_child takes each child in every case (freeing it on error). */
    nb_status st[3] = {nb_module_add_child(m, "emb", nb_embedding_new(vocab, embed, rng)),
                       nb_module_add_child(m, "rnn", rnn),
                       nb_module_add_child(m, "out", nb_linear_new(hidden, vocab, true, rng))};
    if (st[0] != NB_OK || st[1] != NB_OK || st[2] != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- the decoder-only Transformer of W8 (examples/gpt_chars.c) ---- */

enum { GPT_LAYERS = 4 };

/* ids [B, T] NB_I64 -> logits [B * T, V]: token embedding + learned positions, 4 causal
 * pre-norm layers, LayerNorm, output projection tied to the token table. PyTorch's GPT in
 * bench/torch_workloads.py (nn.TransformerEncoder with a causal mask). */
static nb_tensor *gpt_forward(nb_module *m, nb_tensor *ids)
{
    nb_module *tok = nb_module_child(m, "tok");
    nb_tensor *h = nb_module_forward(nb_module_child(m, "pos"), nb_module_forward(tok, ids));
    for (int l = 0; l < GPT_LAYERS; l++)
        h = nb_module_forward(nb_module_child_at(m, 2 + l), h);
    h = nb_module_forward(nb_module_child(m, "ln"), h);
    const int64_t flat[2] = {-1, nb_tensor_dim(h, -1)};
    return nb_tied_logits(tok, nb_reshape(h, 2, flat));
}

static nb_module *gpt_new(int64_t vocab, int64_t d, int64_t heads, int64_t ctx, nb_rng *rng)
{
    nb_module *m = nb_module_new("GPT", NB_F32, gpt_forward, NULL, NULL);
    const nb_transformer_opts to = {.d_model = d, .heads = heads, .d_ff = 4 * d, .causal = true};
    nb_status st = nb_module_add_child(m, "tok", nb_embedding_new(vocab, d, rng));
    if (st == NB_OK)
        st = nb_module_add_child(m, "pos", nb_position_embedding_new(ctx, d, rng, NB_F32));
    for (int l = 0; st == NB_OK && l < GPT_LAYERS; l++) {
        char name[8];
        snprintf(name, sizeof name, "%d", l);
        st = nb_module_add_child(m, name, nb_transformer_layer_new(&to, rng));
    }
    if (st == NB_OK)
        st = nb_module_add_child(m, "ln", nb_layer_norm_new(1, &d, NULL));
    if (st == NB_OK)
        st = nb_init_normal(nb_module_param(m, "tok.weight"), rng, 0.0, 0.02);
    if (st != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- workloads ---- */

typedef struct {
    const char *name;
    nb_module *net;
    nb_optim *opt;
    nb_tensor *x, *y;  /* input and target (caller-owned) */
    bool mse;          /* W4: MSE against the input; else cross-entropy against class ids */
    double flops;      /* per step */
    nb_rng rng;        /* W7's Gibbs sampling */
    nb_tensor *rbm[6]; /* W7: W, bv, bh and their velocities */
#ifdef NB_BENCH_DIST
    nb_ddp *ddp; /* --dist: gradients averaged over the ranks */
#endif
} workload;

static nb_optim *sgd_momentum(nb_module *net, double lr)
{
    nb_sgd_opts o = nb_sgd_defaults();
    o.lr = lr;
    o.momentum = 0.9;
    return nb_sgd_new(net, &o);
}

static nb_tensor *random_ids(nb_rng *rng, int ndim, const int64_t *shape, int64_t n_classes)
{
    nb_tensor *t = nb_tensor_new(NB_I64, ndim, shape);
    if (!t)
        return NULL;
    int64_t *d = nb_tensor_data_i64(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        d[i] = (int64_t)nb_rng_below(rng, (uint64_t)n_classes);
    return t;
}

static bool setup(workload *w, const char *name)
{
    nb_rng rng = nb_rng_seed(0);
    w->name = name;
    w->rng = nb_rng_seed(1);
    if (!strcmp(name, "W1")) {
        const int64_t sizes[4] = {784, 512, 256, 10}, xs[2] = {128, 784}, ys[1] = {128};
        nb_module *layers[5] = {nb_linear_new(784, 512, true, &rng), nb_relu_new(),
                                nb_linear_new(512, 256, true, &rng), nb_relu_new(),
                                nb_linear_new(256, 10, true, &rng)};
        w->net = nb_sequential_new(5, layers);
        w->opt = w->net ? sgd_momentum(w->net, 0.01) : NULL;
        w->x = nb_tensor_uniform(NB_F32, 2, xs, &rng, 0, 1);
        w->y = random_ids(&rng, 1, ys, 10);
        w->flops = linear_flops(128, 4, sizes);
    } else if (!strcmp(name, "W2")) {
        const int64_t fc[3] = {3136, 128, 10}, xs[4] = {64, 1, 28, 28}, ys[1] = {64};
        nb_module *layers[8] = {conv3x3_relu_new(1, 32, &rng),
                                max_pool2_new(),
                                conv3x3_relu_new(32, 64, &rng),
                                max_pool2_new(),
                                nb_flatten_new(),
                                nb_linear_new(3136, 128, true, &rng),
                                nb_relu_new(),
                                nb_linear_new(128, 10, true, &rng)};
        w->net = nb_sequential_new(8, layers);
        w->opt = w->net ? sgd_momentum(w->net, 0.01) : NULL;
        w->x = nb_tensor_uniform(NB_F32, 4, xs, &rng, 0, 1);
        w->y = random_ids(&rng, 1, ys, 10);
        w->flops = conv_flops(64, 1, 28, 28, 32) + conv_flops(64, 32, 14, 14, 64) +
                   linear_flops(64, 3, fc);
    } else if (!strcmp(name, "W3")) {
        const int64_t fc[3] = {8192, 512, 10}, xs[4] = {32, 3, 32, 32}, ys[1] = {32};
        nb_module *layers[9] = {conv3x3_relu_new(3, 32, &rng),
                                nb_dropout_new(0.3, 11),
                                conv3x3_relu_new(32, 32, &rng),
                                max_pool2_new(),
                                nb_flatten_new(),
                                nb_linear_new(8192, 512, true, &rng),
                                nb_relu_new(),
                                nb_dropout_new(0.5, 12),
                                nb_linear_new(512, 10, true, &rng)};
        w->net = nb_sequential_new(9, layers);
        w->opt = w->net ? sgd_momentum(w->net, 0.001) : NULL;
        w->x = nb_tensor_uniform(NB_F32, 4, xs, &rng, 0, 1);
        w->y = random_ids(&rng, 1, ys, 10);
        w->flops = conv_flops(32, 3, 32, 32, 32) + conv_flops(32, 32, 32, 32, 32) +
                   linear_flops(32, 3, fc);
    } else if (!strcmp(name, "W4")) {
        const int64_t sizes[11] = {784, 128, 64, 36, 18, 9, 18, 36, 64, 128, 784};
        const int64_t xs[2] = {32, 784};
        w->net = nb_sequential_new(0, NULL);
        for (int i = 0; w->net && i < 10; i++) {
            nb_sequential_append(w->net, nb_linear_new(sizes[i], sizes[i + 1], true, &rng));
            nb_sequential_append(w->net, i == 9 ? nb_sigmoid_new() : nb_relu_new());
        }
        nb_adam_opts o = nb_adam_defaults();
        o.lr = 1e-3;
        w->opt = w->net ? nb_adam_new(w->net, &o) : NULL;
        w->x = nb_tensor_uniform(NB_F32, 2, xs, &rng, 0, 1);
        w->mse = true;
        w->flops = linear_flops(32, 11, sizes);
    } else if (!strcmp(name, "W5") || !strcmp(name, "W6")) {
        const int64_t V = 65, E = 64, H = 256, T = 64, B = 32, G = name[1] == '5' ? 4 : 3;
        const int64_t ids[2] = {B, T}, tgt[1] = {B * T};
        w->net = char_rnn_new(name[1] == '5', V, E, H, &rng);
        nb_adam_opts o = nb_adam_defaults();
        o.lr = 2e-3;
        w->opt = w->net ? nb_adam_new(w->net, &o) : NULL;
        w->x = random_ids(&rng, 2, ids, V);
        w->y = random_ids(&rng, 1, tgt, V);
        w->flops = (double)T * (3 * gemm_flops(B, G * H, E) + 3 * gemm_flops(B, G * H, H)) +
                   3 * gemm_flops(B * T, V, H);
    } else if (!strcmp(name, "W7")) {
        const int64_t V = 784, H = 500, B = 64, ws[2] = {V, H}, vs[1] = {V}, hs[1] = {H};
        const int64_t xs[2] = {B, V};
        w->rbm[0] = nb_tensor_normal(NB_F32, 2, ws, &rng, 0, 0.01);
        w->rbm[1] = nb_tensor_zeros(NB_F32, 1, vs);
        w->rbm[2] = nb_tensor_zeros(NB_F32, 1, hs);
        w->rbm[3] = nb_tensor_zeros(NB_F32, 2, ws);
        w->rbm[4] = nb_tensor_zeros(NB_F32, 1, vs);
        w->rbm[5] = nb_tensor_zeros(NB_F32, 1, hs);
        w->x = nb_rand_bernoulli(NB_F32, 2, xs, &rng, 0.5);
        /* CD-1: 3 forward-sized GEMMs (up, down, up) + 2 for the statistics. */
        w->flops = 5 * gemm_flops(B, H, V);
        for (int i = 0; i < 6; i++)
            if (!w->rbm[i])
                return false;
        return w->x != NULL;
    } else if (!strcmp(name, "W8")) {
        const int64_t V = 65, d = 128, heads = 4, T = 128, B = 16, BT = B * T;
        const int64_t ids[2] = {B, T}, tgt[1] = {BT};
        w->net = gpt_new(V, d, heads, T, &rng);
        nb_adam_opts o = nb_adamw_defaults();
        o.lr = 3e-3;
        o.weight_decay = 0.01;
        w->opt = w->net ? nb_adamw_new(w->net, &o) : NULL;
        w->x = random_ids(&rng, 2, ids, V);
        w->y = random_ids(&rng, 1, tgt, V);
        /* per layer: q, k, v, out and the two MLP projections, and q k^T and (weights) v over
         * all T x T pairs (the causal half is not subtracted); then the tied logits */
        const double layer = gemm_flops(BT, 4 * d, d) + 2 * gemm_flops(BT, 4 * d, d) +
                             2 * gemm_flops(B * heads * T, T, d / heads);
        w->flops = 3 * (GPT_LAYERS * layer + gemm_flops(BT, V, d));
    } else {
        nb_set_error(NB_ERR_VALUE, "bench_workloads: unknown workload: %s (W1..W8)", name);
        return false;
    }
    return w->net && w->opt && w->x && (w->mse || w->y);
}

static void teardown(workload *w)
{
    nb_optim_free(w->opt);
    nb_module_free(w->net);
    nb_tensor_free(w->x);
    nb_tensor_free(w->y);
    for (int i = 0; i < 6; i++)
        nb_tensor_free(w->rbm[i]);
}

/* W7: one CD-1 update in no-grad mode, momentum 0.5, lr 0.01 (inside an active step). The up
 * passes are nb_linear on W's transposed view (bias and product in one op, no copy of W) and
 * the weight's velocity takes both statistics' products in place (nb_tensor_addmm, beta = mom,
 * then 1), as the twin's addmm / addmm_. */
static nb_status rbm_cd1(workload *w)
{
    const double lr = 0.01, mom = 0.5;
    nb_tensor *W = w->rbm[0], *bv = w->rbm[1], *bh = w->rbm[2], *v0 = w->x;
    bool prev = nb_set_grad_enabled(false);
    const double inv_b = 1.0 / (double)nb_tensor_dim(v0, 0);
    nb_tensor *Wt = nb_transpose(W, 0, 1); /* [H, V] view: x @ W = nb_linear(x, Wt) */
    nb_tensor *ph0 = nb_sigmoid(nb_linear(v0, Wt, bh));
    nb_tensor *h0 = nb_sample_bernoulli(ph0, &w->rng);
    nb_tensor *pv1 = nb_sigmoid(nb_linear(h0, W, bv));
    nb_tensor *v1 = nb_sample_bernoulli(pv1, &w->rng);
    nb_tensor *ph1 = nb_sigmoid(nb_linear(v1, Wt, bh));
    nb_tensor *gb[2] = {nb_mean(nb_sub(v0, v1), 0, false), nb_mean(nb_sub(ph0, ph1), 0, false)};
    nb_status st = gb[0] && gb[1] ? NB_OK : nb_last_status();
    /* vel_W = mom vel_W + lr (v0^T ph0 - v1^T ph1) / B; vel_b = mom vel_b + lr g_b; p += vel */
    if (st == NB_OK)
        st = nb_tensor_addmm(w->rbm[3], lr * inv_b, nb_transpose(v0, 0, 1), ph0, mom);
    if (st == NB_OK)
        st = nb_tensor_addmm(w->rbm[3], -lr * inv_b, nb_transpose(v1, 0, 1), ph1, 1.0);
    for (int i = 0; i < 2 && st == NB_OK; i++)
        st = nb_tensor_axpby(w->rbm[4 + i], lr, gb[i], mom);
    for (int i = 0; i < 3 && st == NB_OK; i++)
        st = nb_tensor_axpby(w->rbm[i], 1.0, w->rbm[3 + i], 1.0);
    nb_set_grad_enabled(prev);
    return st;
}

/* One training step of w. */
static nb_status train_step(workload *w, nb_step *step)
{
    nb_status st = nb_step_begin(step);
    if (st != NB_OK)
        return st;
    if (w->rbm[0]) {
        st = rbm_cd1(w);
    } else {
        nb_optim_zero_grad(w->opt);
        nb_tensor *out = nb_module_forward(w->net, w->x);
        nb_tensor *loss = w->mse ? nb_mse(out, w->x, NB_REDUCE_MEAN)
                                 : nb_cross_entropy(out, w->y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
#ifdef NB_BENCH_DIST
        if (st == NB_OK && w->ddp)
            st = nb_ddp_update(w->ddp);
        else
#endif
            if (st == NB_OK)
            st = nb_optim_update(w->opt);
    }
    nb_step_end(step);
    return st;
}

/* GFLOP/s of one n x n x n float32 nb_matmul (median of 5 after one warm-up). */
static double sgemm_rate(int64_t n)
{
    nb_rng rng = nb_rng_seed(7);
    const int64_t s[2] = {n, n};
    nb_tensor *a = nb_tensor_uniform(NB_F32, 2, s, &rng, -1, 1);
    nb_tensor *b = nb_tensor_uniform(NB_F32, 2, s, &rng, -1, 1);
    double t[5];
    bool ok = a && b;
    for (int i = -1; ok && i < 5; i++) {
        double t0 = now_ms();
        nb_tensor *c = nb_matmul(a, b);
        double t1 = now_ms();
        ok = c != NULL;
        nb_tensor_free(c);
        if (i >= 0)
            t[i] = t1 - t0;
    }
    nb_tensor_free(a);
    nb_tensor_free(b);
    return ok ? gemm_flops((double)n, (double)n, (double)n) / 1e9 / (median(t, 5) / 1e3) : 0;
}

/* ---- modes ---- */

/* trace file of --profile: the timed steps run under the profiler (nabla/profile.h) */
static const char *profile_path;

/* --startup T0: the runner's wall clock (ns since the epoch, CLOCK_REALTIME) just before it
 * started this process; the first training step's end minus T0 is the start-up time (process
 * start, loading, model and data set-up, first step), reported as startup_ms. */
static double startup_t0_ns = -1, startup_ms = -1;

static double realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int run_timed(workload *w, int threads, int steps, int warmup)
{
    nb_step *step = nb_step_new();
    double *t = calloc((size_t)steps, sizeof *t);
    if (!step || !t) {
        fprintf(stderr, "bench_workloads: out of memory\n");
        nb_step_free(step);
        free(t);
        return 1;
    }
    nb_status st = NB_OK;
    double wait_s = 0; /* --dist: time waiting for the all-reduce after backward, timed steps */
    for (int i = 0; i < warmup + steps && st == NB_OK; i++) {
#ifdef NB_BENCH_DIST
        if (w->ddp && i == warmup)
            wait_s = -nb_ddp_get_stats(w->ddp).wait_seconds;
#endif
        if (profile_path && i == warmup && nb_profile_start(NULL) != NB_OK)
            break;
        double t0 = now_ms();
        st = train_step(w, step);
        if (i == 0 && startup_t0_ns >= 0)
            startup_ms = (realtime_ns() - startup_t0_ns) / 1e6;
        if (i >= warmup)
            t[i - warmup] = now_ms() - t0;
    }
    nb_step_free(step);
    if (profile_path && st == NB_OK) { /* the table to stderr: stdout is the JSON line */
        if (nb_profile_stop() != NB_OK || nb_profile_print(stderr) != NB_OK ||
            nb_profile_write_trace(profile_path) != NB_OK)
            st = nb_last_status();
        nb_profile_clear();
    }
    if (st != NB_OK) {
        fprintf(stderr, "bench_workloads: %s step failed: %s\n", w->name, nb_last_error());
        free(t);
        return 1;
    }
    double rss = peak_rss_mb(); /* before the SGEMM probe allocates its 12 MB */
    double lo = t[0], hi = t[0];
    for (int i = 0; i < steps; i++) {
        lo = t[i] < lo ? t[i] : lo;
        hi = t[i] > hi ? t[i] : hi;
    }
    double med = median(t, steps), gflops = w->flops / 1e9 / (med / 1e3);
#ifdef NB_BENCH_DIST
    if (w->ddp) { /* weak scaling: every rank runs the workload's batch */
        nb_ddp_stats s = nb_ddp_get_stats(w->ddp);
        wait_s += s.wait_seconds;
        double mean = 0, r[3];
        for (int i = 0; i < steps; i++)
            mean += t[i] / steps;
        r[0] = med, r[1] = mean, r[2] = 1e3 * wait_s / steps; /* summed over the ranks below */
        int k = nb_dist_world_size();
        if (nb_dist_allreduce_sum(r, 3) != NB_OK)
            nb_dist_abort(nb_last_error());
        double batch = (double)nb_tensor_dim(w->x, 0);
        if (nb_dist_is_main())
            printf("{\"framework\": \"nabla\", \"mode\": \"dist\", \"workload\": \"%s\", "
                   "\"ranks\": %d, \"threads\": %d, \"steps\": %d, \"batch_per_rank\": %.0f, "
                   "\"median_ms\": %.4f, \"mean_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, "
                   "\"wait_ms\": %.4f, \"wait_share\": %.4f, \"samples_per_s\": %.1f, "
                   "\"grad_mib\": %.3f, \"buckets\": %lld}\n",
                   w->name, k, threads, steps, batch, r[0] / k, r[1] / k, lo, hi, r[2] / k,
                   r[2] / r[1], k * batch / (r[0] / k / 1e3), (double)s.bytes / (1 << 20),
                   (long long)s.buckets);
        free(t);
        return 0;
    }
#endif
    double peak = sgemm_rate(1024);
    printf("{\"framework\": \"nabla\", \"workload\": \"%s\", \"threads\": %d, \"steps\": %d, "
           "\"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, \"gflop_per_step\": %.6f, "
           "\"gflops\": %.3f, \"peak_rss_mb\": %.2f, \"sgemm_gflops\": %.3f, "
           "\"sgemm_share\": %.4f, \"startup_ms\": %.3f, \"blas\": \"%s\"}\n",
           w->name, threads, steps, med, lo, hi, w->flops / 1e9, gflops, rss, peak,
           peak > 0 ? gflops / peak : 0.0, startup_ms, nb_blas_info());
    free(t);
    return 0;
}

/* Resident memory sampled every steps/20 steps over `steps` training steps. Flat means the
 * last sample is within 1 MB of the sample taken after the first tenth of the run. */
static int run_soak(workload *w, int threads, int steps)
{
    nb_step *step = nb_step_new();
    if (!step) {
        fprintf(stderr, "bench_workloads: out of memory\n");
        return 1;
    }
    const int every = steps >= 20 ? steps / 20 : 1;
    double samples[64];
    int n = 0;
    double ref = -1, t0 = now_ms();
    nb_status st = NB_OK;
    for (int i = 1; i <= steps && st == NB_OK; i++) {
        st = train_step(w, step);
        if (i % every == 0 && n < 64)
            samples[n++] = current_rss_mb();
        if (ref < 0 && i >= steps / 10)
            ref = current_rss_mb();
    }
    double secs = (now_ms() - t0) / 1e3;
    nb_step_free(step);
    if (st != NB_OK) {
        fprintf(stderr, "bench_workloads: %s step failed: %s\n", w->name, nb_last_error());
        return 1;
    }
    double last = n ? samples[n - 1] : -1;
    printf("{\"framework\": \"nabla\", \"mode\": \"soak\", \"workload\": \"%s\", \"threads\": %d, "
           "\"steps\": %d, \"seconds\": %.2f, \"sample_every\": %d, \"rss_mb\": [",
           w->name, threads, steps, secs, every);
    for (int i = 0; i < n; i++)
        printf("%s%.2f", i ? ", " : "", samples[i]);
    printf("], \"rss_after_first_tenth_mb\": %.2f, \"rss_last_mb\": %.2f, \"growth_mb\": %.2f, "
           "\"flat\": %s, \"peak_rss_mb\": %.2f}\n",
           ref, last, last - ref, last - ref <= 1.0 ? "true" : "false", peak_rss_mb());
    return 0;
}

/* W1 for one epoch on Fashion-MNIST (60k, batch 128, shuffled), then test accuracy. */
static int run_epoch(workload *w, int threads, const char *dir)
{
    nb_dataset train = {0}, test = {0};
    const nb_load_opts lo = {.layout = NB_LAYOUT_FLAT};
    if (nb_fashion_mnist_load(dir, NB_SPLIT_TRAIN, &lo, &train) != NB_OK ||
        nb_fashion_mnist_load(dir, NB_SPLIT_TEST, &lo, &test) != NB_OK) {
        fprintf(stderr, "bench_workloads: %s\n", nb_last_error());
        nb_dataset_deinit(&train);
        return 1;
    }
    nb_batcher *it =
        nb_batcher_new(&train, &(nb_batch_opts){.batch_size = 128, .shuffle = true, .seed = 1});
    nb_batcher *tit = nb_batcher_new(&test, &(nb_batch_opts){.batch_size = 1000});
    nb_step *step = nb_step_new();
    int rc = 1;
    if (!it || !tit || !step) {
        fprintf(stderr, "bench_workloads: %s\n", nb_last_error());
        goto done;
    }
    nb_batch b;
    nb_status st = NB_OK;
    int64_t n_steps = 0;
    double t0 = now_ms();
    while (st == NB_OK && nb_batcher_next(it, &b)) {
        st = nb_step_begin(step);
        nb_optim_zero_grad(w->opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(w->net, b.x), b.y, NB_REDUCE_MEAN);
        st = st == NB_OK && loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(w->opt);
        nb_step_end(step);
        n_steps++;
    }
    double secs = (now_ms() - t0) / 1e3;
    int64_t correct = 0;
    nb_module_train(w->net, false);
    bool prev = nb_set_grad_enabled(false);
    while (st == NB_OK && nb_batcher_next(tit, &b)) {
        st = nb_step_begin(step);
        nb_tensor *pred = nb_argmax(nb_module_forward(w->net, b.x), 1);
        if (!pred) {
            st = nb_last_status();
        } else {
            const int64_t *p = nb_tensor_data_i64(pred), *y = nb_tensor_data_i64(b.y);
            for (int64_t i = 0; i < b.size; i++)
                correct += p[i] == y[i];
        }
        nb_step_end(step);
    }
    nb_set_grad_enabled(prev);
    if (st != NB_OK) {
        fprintf(stderr, "bench_workloads: epoch failed: %s\n", nb_last_error());
        goto done;
    }
    printf("{\"framework\": \"nabla\", \"mode\": \"epoch\", \"workload\": \"W1\", \"threads\": %d, "
           "\"train_samples\": %lld, \"steps\": %lld, \"epoch_s\": %.3f, \"ms_per_step\": %.4f, "
           "\"test_accuracy\": %.4f, \"peak_rss_mb\": %.2f}\n",
           threads, (long long)nb_dataset_size(&train), (long long)n_steps, secs,
           secs * 1e3 / (double)n_steps, (double)correct / (double)nb_dataset_size(&test),
           peak_rss_mb());
    rc = 0;
done:
    nb_step_free(step);
    nb_batcher_free(it);
    nb_batcher_free(tit);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    return rc;
}

/* --latency: batch-1 inference of W1's MLP or W2's CNN (no autograd, eval mode): `runs` single
 * forward passes, each in its own step, timed one by one; median and 99th percentile in us. */
static int run_latency(workload *w, int threads, int runs, int warmup)
{
    const bool mlp = !strcmp(w->name, "W1");
    const int64_t xs_mlp[2] = {1, 784}, xs_cnn[4] = {1, 1, 28, 28};
    nb_rng rng = nb_rng_seed(3);
    nb_tensor *x = nb_tensor_uniform(NB_F32, mlp ? 2 : 4, mlp ? xs_mlp : xs_cnn, &rng, 0, 1);
    nb_step *step = nb_step_new();
    double *t = calloc((size_t)runs, sizeof *t);
    nb_status st = x && step && t ? NB_OK : NB_ERR_NOMEM;
    nb_module_train(w->net, false);
    const bool prev = nb_set_grad_enabled(false);
    for (int i = 0; i < warmup + runs && st == NB_OK; i++) {
        const double t0 = now_ms();
        st = nb_step_begin(step);
        nb_tensor *y = st == NB_OK ? nb_module_forward(w->net, x) : NULL;
        st = y ? st : nb_last_status();
        nb_step_end(step);
        if (i >= warmup)
            t[i - warmup] = (now_ms() - t0) * 1e3;
    }
    nb_set_grad_enabled(prev);
    int rc = 1;
    if (st != NB_OK) {
        fprintf(stderr, "bench_workloads: %s latency failed: %s\n", w->name, nb_last_error());
    } else {
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        const double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        const int i99 = (int)((runs - 1) * 0.99 + 0.5);
        printf("{\"framework\": \"nabla\", \"mode\": \"latency\", \"workload\": \"%s\", "
               "\"threads\": %d, \"runs\": %d, \"median_us\": %.3f, \"p99_us\": %.3f, "
               "\"min_us\": %.3f, \"blas\": \"%s\"}\n",
               w->name, threads, runs, med, t[i99], t[0], nb_blas_info());
        rc = 0;
    }
    free(t);
    nb_step_free(step);
    nb_tensor_free(x);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_workloads --workload W1..W8 [--threads N] [--steps N] [--warmup N]\n"
            "                       [--epoch [--data DIR]] [--soak STEPS] [--profile FILE]\n"
            "       bench_workloads --blas-info\n"
            "Runs one of nabla's reference workloads (docs/benchmarks.md) and prints one JSON\n"
            "object: median/min/max ms per training step, GFLOP per step, GFLOP/s, peak RSS and\n"
            "the share of a 1024^3 SGEMM's rate measured in the same run.\n"
            "  --threads N   BLIS and OpenMP threads (default 1)\n"
            "  --steps N     timed steps (default 50)    --warmup N  untimed steps (default 5)\n"
            "  --epoch       W1 only: time one Fashion-MNIST epoch (60k) and report test\n"
            "                accuracy; --data DIR overrides $NB_FASHION_MNIST_DIR / the default\n"
            "  --soak STEPS  sample resident memory over STEPS steps and say whether it is flat\n"
            "  --startup T0  T0: the runner's clock (date +%%s%%N) just before starting this\n"
            "                process; startup_ms = end of the first step - T0 (-1 without)\n"
            "  --latency     W1, W2: batch-1 inference (no grad, eval mode), --steps single\n"
            "                forward passes: median and 99th percentile in microseconds\n"
            "  --blas-info   print which BLIS kernels nabla uses (nb_blas_info) and exit\n"
            "  --profile FILE  run the timed steps under the profiler: its table to stderr,\n"
            "                the Chrome trace (Perfetto) to FILE\n"
            "  --dist        under mpirun: data-parallel over the ranks, each running the\n"
            "                workload's batch (weak scaling); prints the median step time over\n"
            "                the ranks and the wait for the gradient all-reduce after backward\n");
}

int main(int argc, char **argv)
{
    const char *name = NULL, *dir = NULL;
    int threads = 1, steps = 50, warmup = 5, soak = 0;
    bool epoch = false, dist = false, latency = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--blas-info")) {
            printf("%s\n", nb_blas_info());
            return 0;
        } else if (!strcmp(a, "--epoch")) {
            epoch = true;
        } else if (!strcmp(a, "--latency")) {
            latency = true;
        } else if (!strcmp(a, "--dist")) {
            dist = true;
        } else if (v && !strcmp(a, "--workload")) {
            name = v, i++;
        } else if (v && !strcmp(a, "--data")) {
            dir = v, i++;
        } else if (v && !strcmp(a, "--threads")) {
            threads = atoi(v), i++;
        } else if (v && !strcmp(a, "--steps")) {
            steps = atoi(v), i++;
        } else if (v && !strcmp(a, "--warmup")) {
            warmup = atoi(v), i++;
        } else if (v && !strcmp(a, "--startup")) {
            startup_t0_ns = atof(v), i++;
        } else if (v && !strcmp(a, "--soak")) {
            soak = atoi(v), i++;
        } else if (v && !strcmp(a, "--profile")) {
            profile_path = v, i++;
        } else {
            fprintf(stderr, "bench_workloads: unknown or incomplete option: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!name || threads < 1 || steps < 1 || warmup < 0 || soak < 0 ||
        (epoch && strcmp(name, "W1")) || (latency && strcmp(name, "W1") && strcmp(name, "W2"))) {
        fprintf(stderr, "bench_workloads: need --workload W1..W8 (--epoch: W1 only; --latency: "
                        "W1, W2), threads and "
                        "steps >= 1, warmup >= 0\n");
        usage(stderr);
        return 2;
    }
    nb_set_num_threads(threads);
    workload w = {0};
    if (!setup(&w, name)) {
        fprintf(stderr, "bench_workloads: setting up %s failed: %s\n", name, nb_last_error());
        teardown(&w);
        return 1;
    }
    if (dist) {
#ifdef NB_BENCH_DIST
        if (epoch || soak || w.rbm[0] || nb_dist_init(&argc, &argv) != NB_OK ||
            !(w.ddp = nb_ddp_new(w.net, w.opt, NULL))) {
            fprintf(stderr, "bench_workloads: --dist (not with --epoch, --soak or W7): %s\n",
                    nb_last_error());
            return 1;
        }
        int rc = run_timed(&w, threads, steps, warmup);
        nb_ddp_free(w.ddp);
        teardown(&w);
        return nb_dist_finalize() == NB_OK ? rc : 1;
#else
        fprintf(stderr, "bench_workloads: --dist: this build has no libnabla-dist (MPI)\n");
        teardown(&w);
        return 1;
#endif
    }
    if (latency) {
        int rc = run_latency(&w, threads, steps, warmup);
        teardown(&w);
        return rc;
    }
    int rc = epoch  ? run_epoch(&w, threads, dir)
             : soak ? run_soak(&w, threads, soak)
                    : run_timed(&w, threads, steps, warmup);
    teardown(&w);
    return rc;
}
