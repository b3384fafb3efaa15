/* bench/allreduce.c — time of one gradient all-reduce through libnabla-dist, for the
 * communication term of the cost model in docs/distributed.md:
 *
 *     mpirun -np 4 bench_allreduce --floats 535818 --reps 50
 *
 * A model of one parameter of `floats` f32 values made data-parallel with one bucket
 * (nb_ddp_opts.no_overlap): each nb_ddp_sync with no backward before it all-reduces the whole
 * gradient buffer (MPI_Iallreduce and the library's watched wait), exactly the work of a step's
 * gradient averaging without the compute. Rank 0 prints one JSON line: the median, minimum and
 * mean time over the repetitions (each the slowest rank's, after a barrier). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nabla.h"
#include "nabla/dist.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long long floats = 0;
    int reps = 50, warmup = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--floats"))
            floats = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[i + 1]);
    }
    if (floats < 1 || reps < 1 || warmup < 0) {
        fprintf(stderr, "usage: bench_allreduce --floats N [--reps N] [--warmup N] "
                        "(under mpirun)\n");
        return 2;
    }
    if (nb_dist_init(&argc, &argv) != NB_OK) {
        fprintf(stderr, "bench_allreduce: %s\n", nb_last_error());
        return 1;
    }
    nb_module *m = nb_module_new("Buffer", NB_F32, NULL, NULL, NULL);
    nb_ddp *d = NULL;
    if (!m || !nb_module_add_param(m, "w", 1, (int64_t[]){floats}) ||
        !(d = nb_ddp_new(m, NULL, &(nb_ddp_opts){.no_overlap = true})))
        nb_dist_abort(nb_last_error());
    double *t = calloc((size_t)reps, sizeof *t), mean = 0;
    if (!t)
        nb_dist_abort("out of memory");
    for (int i = 0; i < warmup + reps; i++) {
        if (nb_dist_barrier() != NB_OK)
            nb_dist_abort(nb_last_error());
        double t0 = now_s();
        if (nb_ddp_sync(d) != NB_OK)
            nb_dist_abort(nb_last_error());
        double dt[1] = {now_s() - t0};
        if (nb_dist_allreduce_sum(dt, 1) != NB_OK) /* the mean over the ranks */
            nb_dist_abort(nb_last_error());
        if (i >= warmup) {
            t[i - warmup] = dt[0] / nb_dist_world_size();
            mean += t[i - warmup] / reps;
        }
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    if (nb_dist_is_main())
        printf("{\"bench\": \"allreduce\", \"ranks\": %d, \"floats\": %lld, \"bytes\": %lld, "
               "\"reps\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, \"mean_ms\": %.4f}\n",
               nb_dist_world_size(), floats, 4 * floats, reps, 1e3 * t[reps / 2], 1e3 * t[0],
               1e3 * mean);
    free(t);
    nb_ddp_free(d);
    nb_module_free(m);
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
