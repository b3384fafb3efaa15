/* bench/dispatch_bench.c — per-op dispatch overhead: ns per op application on a 1-element
 * float32 tensor, where the kernel's own work is negligible and what is left is the front door
 * (input checks, shape rule, output allocation in the arena, tape record) and the engine's walk.
 *
 * For each op kind, a step applies it CHAIN times in a row (y = op(y)) and is timed three ways:
 *   no grad      the input does not require grad: nothing is taped
 *   forward      the input requires grad: every application is taped
 *   fwd+bwd      the same, then nb_backward through the chain
 * ns per op = (step time - time of the same step without the chain) / CHAIN; the step without
 * the chain (begin and end; with fwd+bwd also the loss sum and nb_backward) is printed too. Kinds
 * are interleaved round by round; the table is the median over rounds. With one thread the clock is
 * the thread's CPU time, so other processes on a shared machine disturb it little
 * (docs/benchmarks.md, "Elementwise ops").
 *
 *   bench_dispatch_bench [--rounds R] [--reps N] [--md] [--profile]
 *
 * --profile runs every step with the profiler on (its cost per op, for docs/benchmarks.md). */
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAIN 64

static nb_tensor *one; /* a 1-element constant (second operand) */

static nb_tensor *op_add(nb_tensor *x)
{
    return nb_add(x, one);
}
static nb_tensor *op_mul(nb_tensor *x)
{
    return nb_mul(x, one);
}
static nb_tensor *op_relu(nb_tensor *x)
{
    return nb_relu(x);
}
static nb_tensor *op_tanh(nb_tensor *x)
{
    return nb_tanh(x);
}
static nb_tensor *op_matmul(nb_tensor *x)
{
    return nb_matmul(x, one);
}
static nb_tensor *op_linear(nb_tensor *x)
{
    return nb_linear(x, one, NULL);
}
static nb_tensor *op_sum(nb_tensor *x)
{
    return nb_sum(x, 1, true);
}
static nb_tensor *op_reshape(nb_tensor *x)
{
    return nb_reshape(x, 2, (const int64_t[]){1, 1});
}
static nb_tensor *op_add_bcast(nb_tensor *x) /* [1, 1] + [1]: one expand view per add */
{
    static nb_tensor *v;
    if (!v)
        v = nb_tensor_full(NB_F32, 1, (const int64_t[]){1}, 0.5);
    return nb_add(x, v);
}

typedef struct {
    const char *name;
    nb_tensor *(*fn)(nb_tensor *x);
} kind;

static const kind kinds[] = {
    {"add", op_add},
    {"mul", op_mul},
    {"relu", op_relu},
    {"tanh", op_tanh},
    {"matmul", op_matmul},
    {"linear", op_linear},
    {"sum (dim 1)", op_sum},
    {"reshape (view)", op_reshape},
    {"add, broadcast", op_add_bcast},
};
#define NK (int)(sizeof kinds / sizeof kinds[0])

enum { NOGRAD, FWD, FWDBWD, MODES };

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per step of reps steps; k < 0: the empty step (with fwd+bwd: the loss sum and backward) */
static double time_steps(nb_step *step, nb_tensor *x, int k, int mode, int reps)
{
    nb_tensor_set_requires_grad(x, mode != NOGRAD);
    double t0 = now_ns();
    for (int r = 0; r < reps; r++) {
        if (nb_step_begin(step) != NB_OK)
            return -1;
        nb_tensor *y = x;
        for (int i = 0; k >= 0 && i < CHAIN; i++)
            y = kinds[k].fn(y);
        if (!y || (mode == FWDBWD && nb_backward(nb_sum_all(y)) != NB_OK)) {
            fprintf(stderr, "dispatch_bench: %s failed: %s\n", k >= 0 ? kinds[k].name : "step",
                    nb_last_error());
            exit(1);
        }
        nb_step_end(step);
    }
    return (now_ns() - t0) / reps;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    int rounds = 15, reps = 2000;
    bool md = false, prof = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--md"))
            md = true;
        else if (!strcmp(argv[i], "--profile"))
            prof = true;
        else {
            fprintf(stderr, "usage: bench_dispatch_bench [--rounds R] [--reps N] [--md] "
                            "[--profile]\n");
            return 2;
        }
    }
    if (rounds < 1 || reps < 1) {
        fprintf(stderr, "dispatch_bench: rounds and reps must be >= 1\n");
        return 2;
    }
    nb_set_num_threads(1);
    one = nb_tensor_full(NB_F32, 2, (const int64_t[]){1, 1}, 0.5);
    nb_tensor *x = nb_tensor_full(NB_F32, 2, (const int64_t[]){1, 1}, 0.25);
    nb_step *step = nb_step_new();
    double *t = calloc((size_t)((NK + 1) * MODES) * (size_t)rounds, sizeof *t);
    if (!one || !x || !step || !t ||
        (prof && nb_profile_start(&(nb_profile_options){.max_events = 1}) != NB_OK))
        return 1;
    for (int m = 0; m < MODES; m++) /* warm the arena and the tape */
        for (int k = -1; k < NK; k++)
            time_steps(step, x, k, m, 50);
    for (int r = 0; r < rounds; r++)
        for (int k = -1; k < NK; k++)
            for (int m = 0; m < MODES; m++)
                t[((k + 1) * MODES + m) * rounds + r] = time_steps(step, x, k, m, reps);
    double empty[MODES];
    for (int m = 0; m < MODES; m++)
        empty[m] = median(&t[m * rounds], rounds);
    if (prof) {
        nb_profile_stop();
        nb_profile_clear();
    }
    printf(md ? "| op | no grad ns/op | forward (taped) ns/op | forward+backward ns/op | backward "
                "ns/op |\n|---|---|---|---|---|\n"
              : "%-16s %14s %14s %14s %14s\n",
           "op", "no grad", "forward", "fwd+bwd", "backward");
    for (int k = 0; k < NK; k++) {
        double v[MODES];
        for (int m = 0; m < MODES; m++)
            v[m] = (median(&t[((k + 1) * MODES + m) * rounds], rounds) - empty[m]) / CHAIN;
        printf(md ? "| %s | %.0f | %.0f | %.0f | %.0f |\n" : "%-16s %14.0f %14.0f %14.0f %14.0f\n",
               kinds[k].name, v[NOGRAD], v[FWD], v[FWDBWD], v[FWDBWD] - v[FWD]);
    }
    printf("%sstep without the chain: %.0f ns (no grad), %.0f ns (forward), %.0f ns (loss sum and "
           "backward); chain of %d ops per step, %d steps x %d rounds%s\n",
           md ? "\n" : "", empty[NOGRAD], empty[FWD], empty[FWDBWD], CHAIN, reps, rounds,
           prof ? ", profiler on" : "");
    free(t);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(one);
    return 0;
}
