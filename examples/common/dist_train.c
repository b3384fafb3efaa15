/* examples/common/dist_train.c — the --dist mode of the classifier examples (see dist_train.h).
 * Built with NB_EXAMPLE_DIST and libnabla-dist when CMake found MPI; otherwise every entry
 * point reports that data-parallel training is unavailable in this build. */
#include "common/dist_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef NB_EXAMPLE_DIST
#include "nabla/dist.h"

struct ex_dist {
    nb_module *net;
    nb_optim *opt;
    const nb_dataset *train;
    nb_ddp *ddp;
    nb_dist_sampler *smp;
    int64_t steps;
    double step_seconds;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(nb_status st)
{
    if (st != NB_OK)
        nb_dist_abort(nb_last_error()); /* tells the other ranks, which stop too */
}

ex_dist *ex_dist_start(const char *prog)
{
    if (nb_dist_init(NULL, NULL) != NB_OK) {
        fprintf(stderr, "%s: --dist: %s\n", prog, nb_last_error());
        return NULL;
    }
    ex_dist *d = calloc(1, sizeof *d);
    if (!d)
        nb_dist_abort("out of memory");
    if (!nb_dist_is_main()) { /* rank 0 prints, also when $NB_PROGRESS asks for bars */
        if (!freopen("/dev/null", "w", stdout) || setenv("NB_PROGRESS", "quiet", 1) != 0)
            nb_dist_abort("cannot silence stdout and the progress bars");
    }
    printf("data-parallel over %d rank(s) (nabla/dist.h); rank 0 prints and writes files\n",
           nb_dist_world_size());
    return d;
}

int ex_dist_rank(const ex_dist *d)
{
    return d ? nb_dist_rank() : 0;
}

int ex_dist_world(const ex_dist *d)
{
    return d ? nb_dist_world_size() : 1;
}

void ex_dist_barrier(const ex_dist *d)
{
    (void)d;
    check(nb_dist_barrier());
}

void ex_dist_attach(ex_dist *d, nb_module *net, nb_optim *opt, const nb_dataset *train,
                    int64_t global_batch, uint64_t seed)
{
    d->net = net;
    d->opt = opt;
    d->train = train;
    d->ddp = nb_ddp_new(net, opt, NULL);
    if (!d->ddp)
        nb_dist_abort(nb_last_error());
    d->smp = nb_dist_sampler_new(
        nb_dataset_size(train),
        &(nb_dist_sampler_opts){.global_batch = global_batch, .shuffle = true, .seed = seed});
    if (!d->smp)
        nb_dist_abort(nb_last_error());
    printf("global batch %lld: %lld to %lld samples per rank\n", (long long)global_batch,
           (long long)(global_batch / nb_dist_world_size()),
           (long long)((global_batch + nb_dist_world_size() - 1) / nb_dist_world_size()));
}

int64_t ex_dist_num_batches(const ex_dist *d)
{
    return nb_dist_sampler_num_batches(d->smp);
}

/* Rows of logits [B, C] whose argmax is the label. */
static int64_t count_correct(nb_tensor *logits, nb_tensor *labels)
{
    nb_tensor *pred = nb_argmax(logits, 1);
    if (!pred)
        nb_dist_abort(nb_last_error());
    int64_t ok = 0;
    for (int64_t i = 0; i < nb_tensor_numel(labels); i++)
        ok += nb_tensor_data_i64(pred)[i] == nb_tensor_data_i64(labels)[i];
    return ok;
}

nb_loop_result ex_dist_train_epoch(ex_dist *d, nb_step *step, const char *label, int epoch,
                                   nb_curves *curves)
{
    nb_loop_result out = {.first_loss = NAN};
    const int64_t per_epoch = nb_dist_sampler_num_batches(d->smp);
    check(nb_dist_sampler_seek(d->smp, epoch, 0));
    nb_module_train(d->net, true);
    nb_progress *bar = nb_progress_new(label, per_epoch, NULL);
    const double t0 = now();
    double loss_sum = 0, correct = 0;
    nb_dist_shard sh;
    for (int64_t b = 0; nb_dist_sampler_next(d->smp, &sh); b++) {
        double ts = now();
        nb_tensor *x = NULL, *y = NULL;
        check(nb_dist_shard_gather(d->train, &sh, &x, &y));
        check(nb_step_begin(step));
        nb_optim_zero_grad(d->opt);
        check(nb_ddp_set_shard(d->ddp, sh.size, sh.global_size));
        /* {this rank's share of the global batch's mean loss, correct predictions} */
        double m[2] = {0, 0};
        if (sh.size > 0) { /* a rank with no samples in a small last batch only syncs */
            nb_tensor *logits = nb_module_forward(d->net, x);
            nb_tensor *loss = nb_cross_entropy(logits, y, NB_REDUCE_MEAN);
            check(loss ? nb_backward(loss) : nb_last_status());
            m[0] = nb_tensor_item(loss) * (double)sh.size / (double)sh.global_size;
            m[1] = (double)count_correct(logits, y);
        }
        check(nb_ddp_update(d->ddp));
        nb_step_end(step);
        nb_tensor_free(x);
        nb_tensor_free(y);
        d->step_seconds += now() - ts;
        d->steps++;
        check(nb_dist_allreduce_sum(m, 2));
        if (b == 0)
            out.first_loss = m[0];
        loss_sum += m[0];
        correct += m[1];
        out.samples += sh.global_size;
        out.batches++;
        if (curves)
            nb_curves_add(curves, "batch_loss", epoch + (double)(b + 1) / (double)per_epoch, m[0]);
        nb_progress_advance(bar, sh.global_size, m[0]);
    }
    nb_progress_finish(bar);
    nb_progress_free(bar);
    out.seconds = now() - t0;
    out.loss = per_epoch ? loss_sum / (double)per_epoch : NAN;
    out.accuracy = out.samples ? correct / (double)out.samples : NAN;
    return out;
}

void ex_dist_share(const ex_dist *d, double *values, int n)
{
    if (d) /* NULL: not data-parallel, nothing to share */
        check(nb_dist_broadcast(values, (size_t)n * sizeof *values, 0));
}

nb_status ex_dist_save(ex_dist *d, const char *path)
{
    return nb_ddp_save_checkpoint(d->ddp, path);
}

nb_status ex_dist_load(ex_dist *d, const char *path)
{
    return nb_ddp_load_checkpoint(d->ddp, path);
}

void ex_dist_report(const ex_dist *d)
{
    nb_ddp_stats s = nb_ddp_get_stats(d->ddp);
    /* {time per step, wait per step}, averaged over the ranks */
    double t[2] = {d->steps ? d->step_seconds / (double)d->steps : 0,
                   s.syncs ? s.wait_seconds / (double)s.syncs : 0};
    check(nb_dist_allreduce_sum(t, 2));
    int k = nb_dist_world_size();
    printf("data-parallel: %.2f ms per step, of which %.2f ms waiting for the gradient "
           "all-reduce after backward (mean over %d ranks; %.2f MiB in %lld bucket(s) per step)\n",
           1e3 * t[0] / k, 1e3 * t[1] / k, k, (double)s.bytes / (1 << 20), (long long)s.buckets);
}

int ex_dist_finish(ex_dist *d, int rc)
{
    if (d) {
        nb_dist_sampler_free(d->smp);
        nb_ddp_free(d->ddp);
        free(d);
    }
    if (rc != 0) /* tells the other ranks instead of leaving them waiting */
        nb_dist_abort("the program failed (see rank 0's messages)");
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}

#else /* a build without libnabla-dist */

ex_dist *ex_dist_start(const char *prog)
{
    fprintf(stderr,
            "%s: --dist: data-parallel training is unavailable: this build has no libnabla-dist "
            "(CMake did not find MPI; install libopenmpi-dev and openmpi-bin, e.g. with "
            "scripts/setup.sh, and configure again)\n",
            prog);
    return NULL;
}

/* Never reached: ex_dist_start returned NULL and the program stopped. */
static void unavailable(void)
{
    fprintf(stderr, "examples: --dist is unavailable in this build\n");
    abort();
}

int ex_dist_rank(const ex_dist *d)
{
    (void)d;
    return 0;
}
int ex_dist_world(const ex_dist *d)
{
    (void)d;
    return 1;
}
void ex_dist_barrier(const ex_dist *d)
{
    (void)d;
}
void ex_dist_attach(ex_dist *d, nb_module *net, nb_optim *opt, const nb_dataset *train,
                    int64_t global_batch, uint64_t seed)
{
    (void)d, (void)net, (void)opt, (void)train, (void)global_batch, (void)seed;
    unavailable();
}
int64_t ex_dist_num_batches(const ex_dist *d)
{
    (void)d;
    unavailable();
    return 0;
}
nb_loop_result ex_dist_train_epoch(ex_dist *d, nb_step *step, const char *label, int epoch,
                                   nb_curves *curves)
{
    (void)d, (void)step, (void)label, (void)epoch, (void)curves;
    unavailable();
    return (nb_loop_result){0};
}
void ex_dist_share(const ex_dist *d, double *values, int n)
{
    (void)d, (void)values, (void)n;
}
nb_status ex_dist_save(ex_dist *d, const char *path)
{
    (void)d, (void)path;
    unavailable();
    return NB_ERR_STATE;
}
nb_status ex_dist_load(ex_dist *d, const char *path)
{
    (void)d, (void)path;
    unavailable();
    return NB_ERR_STATE;
}
void ex_dist_report(const ex_dist *d)
{
    (void)d;
}
int ex_dist_finish(ex_dist *d, int rc)
{
    (void)d;
    return rc;
}
#endif
