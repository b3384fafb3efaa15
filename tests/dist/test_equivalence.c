/* K ranks, each reading its shard of every global batch, end with the parameters one process
 * gets from the whole batches: 20 steps of an MLP (SGD with momentum) and of a CNN (Adam), over
 * a data set whose last batch is uneven (50 samples, batches of 16: 16, 16, 16, 2, ...; with 3
 * ranks the last batch leaves one rank without a sample). Every rank also checks that all ranks
 * hold bit-identical parameters, and that a second data-parallel run repeats the first bit for
 * bit. Run under mpirun with any number of ranks. */
#include <stdio.h>
#include <string.h>

#include "dist_test.h"

enum { N = 50, BATCH = 16, STEPS = 20 };

/* Train a fresh model data-parallel; returns it. */
static nb_module *train_ddp(dt_kind kind, const nb_dataset *ds, nb_ddp_stats *stats)
{
    nb_module *net = dt_model(kind, 7 + (uint64_t)nb_dist_rank(), false); /* rank 0's wins */
    nb_optim *opt = net ? dt_optim(kind, net) : NULL;
    DT_CHECK(opt, "%s", nb_last_error());
    nb_ddp *ddp = nb_ddp_new(net, opt, &(nb_ddp_opts){.bucket_bytes = 64}); /* several buckets */
    DT_CHECK(ddp, "%s", nb_last_error());
    nb_dist_sampler *smp = nb_dist_sampler_new(
        N, &(nb_dist_sampler_opts){.global_batch = BATCH, .shuffle = true, .seed = 3});
    DT_CHECK(smp, "%s", nb_last_error());
    DT_CHECK(dt_train(net, opt, ddp, ds, smp, STEPS) == NB_OK, "%s", nb_last_error());
    *stats = nb_ddp_get_stats(ddp);
    nb_dist_sampler_free(smp);
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    return net;
}

static void check_kind(dt_kind kind, const char *name)
{
    nb_dataset ds;
    DT_CHECK(dt_data(kind, N, 11, &ds) == NB_OK, "%s", nb_last_error());
    nb_ddp_stats stats;
    nb_module *a = train_ddp(kind, &ds, &stats);
    nb_module *b = train_ddp(kind, &ds, &stats);

    /* the reference: one process, whole batches, plain optimizer step */
    nb_module *ref = dt_model(kind, 7, false);
    nb_optim *opt = ref ? dt_optim(kind, ref) : NULL;
    nb_dist_sampler *smp = nb_dist_sampler_new(
        N, &(nb_dist_sampler_opts){
               .global_batch = BATCH, .shuffle = true, .seed = 3, .rank = 0, .world = 1});
    DT_CHECK(opt && smp, "%s", nb_last_error());
    DT_CHECK(dt_train(ref, opt, NULL, &ds, smp, STEPS) == NB_OK, "%s", nb_last_error());

    double diff = dt_max_diff(a, ref);
    DT_CHECK(diff <= 1e-6, "%s: %d ranks differ from one process by %g", name, nb_dist_world_size(),
             diff);
    DT_CHECK(dt_max_diff(a, b) == 0, "%s: two runs on %d ranks differ by %g", name,
             nb_dist_world_size(), dt_max_diff(a, b));
    /* every rank holds the same bits as rank 0 */
    uint64_t mine = dt_param_digest(a), root = mine;
    DT_CHECK(nb_dist_broadcast(&root, sizeof root, 0) == NB_OK, "%s", nb_last_error());
    DT_CHECK(mine == root, "%s: parameters on rank %d differ from rank 0's", name, nb_dist_rank());
    int k = nb_dist_world_size();
    DT_CHECK(stats.syncs == STEPS && stats.buckets > 1, "%s: %lld syncs, %lld buckets", name,
             (long long)stats.syncs, (long long)stats.buckets);
    if (nb_dist_is_main())
        printf("%s: %d ranks vs one process after %d steps: max |diff| %.3g; %lld buckets, "
               "%lld of %lld started during backward\n",
               name, k, STEPS, diff, (long long)stats.buckets, (long long)stats.started_in_backward,
               (long long)(stats.buckets * stats.syncs));
    nb_dist_sampler_free(smp);
    nb_optim_free(opt);
    nb_module_free(ref);
    nb_module_free(a);
    nb_module_free(b);
    nb_dataset_deinit(&ds);
}

int main(int argc, char **argv)
{
    if (nb_dist_init(&argc, &argv) != NB_OK) {
        fprintf(stderr, "%s\n", nb_last_error());
        return 1;
    }
    check_kind(DT_MLP, "MLP");
    check_kind(DT_CNN, "CNN");
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
