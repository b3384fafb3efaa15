/* bench/elementwise_bench.c — ns per element of every elementwise op, forward and backward,
 * float32 (or float64) on one large tensor.
 *
 * Forward is the op call inside a step (the arena is warm, so it allocates nothing); backward is
 * nb_backward_ex from the op's output with a fixed upstream gradient (every input requires
 * grad). The ops are timed interleaved: each round times every op once, in turn, so a change
 * in the machine's load hits all of them alike; the table shows the median over rounds, the
 * spread (interquartile range / median) and the forward cost relative to exp.
 *
 *   bench_elementwise_bench [--n N] [--rounds R] [--threads T] [--f64] [--md] [--only a,b,..]
 *
 * --md prints a Markdown table (docs/benchmarks.md); --only times exp and the named ops. Inputs lie
 * inside each op's domain (log, sqrt, rsqrt on positive values). */
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static nb_tensor *op_affine(nb_tensor *x)
{
    return nb_affine(x, 1.5, -0.25);
}
static nb_tensor *op_pow_scalar(nb_tensor *x)
{
    return nb_pow_scalar(x, 1.7);
}
static nb_tensor *op_clamp(nb_tensor *x)
{
    return nb_clamp(x, -0.5, 0.5);
}
static nb_tensor *op_leaky_relu(nb_tensor *x)
{
    return nb_leaky_relu(x, 0.01);
}
static nb_tensor *op_gelu(nb_tensor *x)
{
    return nb_gelu(x, NB_GELU_EXACT);
}
static nb_tensor *op_gelu_tanh(nb_tensor *x)
{
    return nb_gelu(x, NB_GELU_TANH);
}
static nb_tensor *op_elu(nb_tensor *x)
{
    return nb_elu(x, 1.0);
}
static nb_tensor *op_hardtanh(nb_tensor *x)
{
    return nb_hardtanh(x, -1.0, 1.0);
}

typedef struct {
    const char *name;
    nb_tensor *(*unary)(nb_tensor *x);
    nb_tensor *(*binary)(nb_tensor *a, nb_tensor *b);
    double lo, hi; /* input range (both inputs of a binary op) */
    bool nondiff;
} bench_op;

#define U(name, fn, lo, hi)                                                                        \
    {                                                                                              \
        name, fn, NULL, lo, hi, false                                                              \
    }
#define B(name, fn, lo, hi)                                                                        \
    {                                                                                              \
        name, NULL, fn, lo, hi, false                                                              \
    }
#define N(name, fn, lo, hi)                                                                        \
    {                                                                                              \
        name, fn, NULL, lo, hi, true                                                               \
    }

static const bench_op ops[] = {
    U("exp", nb_exp, -5, 5),
    U("neg", nb_neg, -5, 5),
    U("affine", op_affine, -5, 5),
    U("square", nb_square, -5, 5),
    U("abs", nb_abs, -5, 5),
    U("relu", nb_relu, -5, 5),
    U("leaky_relu", op_leaky_relu, -5, 5),
    U("clamp", op_clamp, -1, 1),
    U("log", nb_log, 0.01, 5),
    U("sqrt", nb_sqrt, 0.01, 5),
    U("pow_scalar", op_pow_scalar, 0.01, 5),
    U("sigmoid", nb_sigmoid, -10, 10),
    U("tanh", nb_tanh, -5, 5),
    U("softplus", nb_softplus, -10, 10),
    N("step_fn", nb_heaviside, -5, 5),
    U("sin", nb_sin, -5, 5),
    U("cos", nb_cos, -5, 5),
    U("log1p", nb_log1p, -0.5, 5),
    U("expm1", nb_expm1, -5, 5),
    U("erf", nb_erf, -3, 3),
    U("gelu", op_gelu, -5, 5),
    U("gelu_tanh", op_gelu_tanh, -5, 5),
    U("silu", nb_silu, -10, 10),
    U("mish", nb_mish, -10, 10),
    U("elu", op_elu, -5, 5),
    U("selu", nb_selu, -5, 5),
    U("hardtanh", op_hardtanh, -2, 2),
    U("softsign", nb_softsign, -5, 5),
    U("rsqrt", nb_rsqrt, 0.01, 5),
    U("reciprocal", nb_reciprocal, 0.5, 5),
    N("sign", nb_sign, -5, 5),
    N("floor", nb_floor, -5, 5),
    N("ceil", nb_ceil, -5, 5),
    N("round", nb_round, -5, 5),
    B("add", nb_add, -5, 5),
    B("sub", nb_sub, -5, 5),
    B("mul", nb_mul, -5, 5),
    B("div", nb_div, 0.5, 5),
    B("maximum", nb_maximum, -5, 5),
    B("minimum", nb_minimum, -5, 5),
    B("pow", nb_pow, 0.5, 2),
};
enum { N_OPS = sizeof ops / sizeof ops[0] };

/* With one thread the clock is the thread's CPU time, which does not run while the scheduler
 * has the thread off the CPU: on a busy machine that removes most of the noise (what remains is
 * the other processes' use of the caches and memory bus). With more threads it is wall time. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of v[0..n) (sorted in place), by linear interpolation. */
static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

typedef struct {
    double med, spread;
} stat;

static stat summarise(double *v, int n)
{
    stat s;
    s.med = quantile(v, n, 0.5);
    s.spread = s.med > 0 ? (quantile(v, n, 0.75) - quantile(v, n, 0.25)) / s.med : 0;
    return s;
}

/* One forward and one backward of op k; times in ns per element (backward < 0 when the op
 * has none). */
static int time_once(const bench_op *o, nb_tensor *a, nb_tensor *b, nb_tensor *seed, int64_t n,
                     nb_step *step, double *fwd, double *bwd)
{
    nb_step_begin(step);
    double t0 = now_ns();
    nb_tensor *y = o->unary ? o->unary(a) : o->binary(a, b);
    double t1 = now_ns();
    int rc = y ? 0 : 1;
    *bwd = -1;
    if (y && !o->nondiff) {
        double t2 = now_ns();
        rc = nb_backward_ex(y, seed) != NB_OK;
        *bwd = (now_ns() - t2) / (double)n;
    }
    *fwd = (t1 - t0) / (double)n;
    if (rc)
        fprintf(stderr, "elementwise_bench: %s: %s\n", o->name, nb_last_error());
    nb_step_end(step);
    return rc;
}

int main(int argc, char **argv)
{
    int64_t n = 1 << 20;
    int rounds = 21, threads = 1;
    bool md = false, on[N_OPS];
    nb_dtype dt = NB_F32;
    for (int k = 0; k < N_OPS; k++)
        on[k] = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--f64"))
            dt = NB_F64;
        else if (!strcmp(argv[i], "--md"))
            md = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            const char *list = argv[++i];
            for (int k = 1; k < N_OPS; k++) {
                /* a whole item of the list: "pow" must not stop at "pow_scalar,pow"'s first */
                const size_t len = strlen(ops[k].name);
                on[k] = false;
                for (const char *hit = strstr(list, ops[k].name); hit && !on[k];
                     hit = strstr(hit + 1, ops[k].name))
                    on[k] = (hit == list || hit[-1] == ',') && (hit[len] == ',' || !hit[len]);
            }
        } else {
            fprintf(stderr,
                    "usage: %s [--n N] [--rounds R] [--threads T] [--f64] [--md] [--only a,b]\n"
                    "  N elements per tensor (default 1048576), R interleaved rounds (21)\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < 1 || rounds < 1 || threads < 1) {
        fprintf(stderr, "elementwise_bench: n, rounds and threads must be >= 1\n");
        return 2;
    }
    nb_set_num_threads(threads);
    if (threads == 1)
        bench_clock = CLOCK_THREAD_CPUTIME_ID;
    nb_rng rng = nb_rng_seed(7);
    nb_tensor *a[N_OPS], *b[N_OPS];
    nb_tensor *seed = nb_tensor_uniform(dt, 1, &n, &rng, -1, 1);
    for (int k = 0; k < N_OPS; k++) {
        a[k] = nb_tensor_uniform(dt, 1, &n, &rng, ops[k].lo, ops[k].hi);
        b[k] = ops[k].binary ? nb_tensor_uniform(dt, 1, &n, &rng, ops[k].lo, ops[k].hi) : NULL;
        if (!a[k] || (ops[k].binary && !b[k]) || !seed) {
            fprintf(stderr, "elementwise_bench: setup: %s\n", nb_last_error());
            return 1;
        }
        nb_tensor_set_requires_grad(a[k], !ops[k].nondiff);
        if (b[k])
            nb_tensor_set_requires_grad(b[k], true);
    }
    double *fwd = malloc(sizeof(double) * N_OPS * (size_t)rounds);
    double *bwd = malloc(sizeof(double) * N_OPS * (size_t)rounds);
    nb_step *step = nb_step_new();
    if (!fwd || !bwd || !step) {
        fprintf(stderr, "elementwise_bench: out of memory\n");
        return 1;
    }
    int rc = 0;
    /* Round 0 warms the arena, the gradient buffers and the caches; it is not counted. */
    for (int r = -1; r < rounds && !rc; r++)
        for (int k = 0; k < N_OPS && !rc; k++) {
            if (!on[k])
                continue;
            double f, g;
            rc = time_once(&ops[k], a[k], b[k], seed, n, step, &f, &g);
            if (r >= 0) {
                fwd[k * rounds + r] = f;
                bwd[k * rounds + r] = g;
            }
        }
    if (!rc) {
        stat sf[N_OPS], sb[N_OPS];
        for (int k = 0; k < N_OPS; k++) {
            if (!on[k])
                continue;
            sf[k] = summarise(fwd + k * rounds, rounds);
            sb[k] = summarise(bwd + k * rounds, rounds);
        }
        const double exp_ns = sf[0].med;
        printf(md ? "| op | forward ns/elem | spread | x exp | backward ns/elem | spread |\n"
                    "|---|---:|---:|---:|---:|---:|\n"
                  : "%-12s %10s %7s %6s %10s %7s\n",
               "op", "fwd ns/el", "spread", "x exp", "bwd ns/el", "spread");
        for (int k = 0; k < N_OPS; k++) {
            if (!on[k])
                continue;
            char bs[32] = "—", bsp[32] = "";
            if (!ops[k].nondiff) {
                snprintf(bs, sizeof bs, "%.3f", sb[k].med);
                snprintf(bsp, sizeof bsp, "%.0f%%", 100 * sb[k].spread);
            }
            printf(md ? "| %s | %.3f | %.0f%% | %.2f | %s | %s |\n"
                      : "%-12s %10.3f %6.0f%% %6.2f %10s %7s\n",
                   ops[k].name, sf[k].med, 100 * sf[k].spread, sf[k].med / exp_ns, bs, bsp);
        }
        printf("%s%lld elements, %s, %d thread(s) (%s), %d rounds; spread = interquartile "
               "range / median\n",
               md ? "\n" : "", (long long)n, nb_dtype_name(dt), threads,
               threads == 1 ? "thread CPU time" : "wall time", rounds);
    }
    nb_step_free(step);
    for (int k = 0; k < N_OPS; k++) {
        nb_tensor_free(a[k]);
        nb_tensor_free(b[k]);
    }
    nb_tensor_free(seed);
    free(fwd);
    free(bwd);
    return rc;
}
