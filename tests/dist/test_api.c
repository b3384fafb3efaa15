/* The small collectives, argument errors, gradient accumulation and the sampler's shards.
 * Run under mpirun with any number of ranks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dist_test.h"

static void collectives(void)
{
    int k = nb_dist_world_size(), r = nb_dist_rank();
    DT_CHECK(nb_dist_init(NULL, NULL) == NB_OK && nb_dist_initialized(), "second init");
    double v[2] = {r + 1.0, 1.0};
    DT_CHECK(nb_dist_allreduce_sum(v, 2) == NB_OK, "%s", nb_last_error());
    DT_CHECK(v[0] == k * (k + 1) / 2.0 && v[1] == k, "sums %g %g on %d ranks", v[0], v[1], k);
    int from = r * 10, root = k - 1;
    DT_CHECK(nb_dist_broadcast(&from, sizeof from, root) == NB_OK, "%s", nb_last_error());
    DT_CHECK(from == root * 10, "broadcast from %d gave %d", root, from);
    DT_CHECK(nb_dist_barrier() == NB_OK, "%s", nb_last_error());

    DT_CHECK(nb_dist_allreduce_sum(NULL, 2) == NB_ERR_VALUE, "NULL values accepted");
    nb_clear_error();
    DT_CHECK(nb_dist_broadcast(&from, sizeof from, k) == NB_ERR_VALUE, "root %d accepted", k);
    DT_CHECK(strstr(nb_last_error(), "nb_dist_broadcast: root"), "%s", nb_last_error());
    nb_clear_error();
    DT_CHECK(!nb_ddp_new(NULL, NULL, NULL) && nb_last_status() == NB_ERR_VALUE, "NULL model");
    nb_clear_error();
}

/* loss = c * sum(w) with c = rank + 1 on every rank: d loss / d w = c. */
static nb_status backward_once(nb_module *net, nb_step *step)
{
    nb_step_begin(step);
    nb_tensor *w = nb_module_param(net, "weight");
    nb_status st = nb_backward(nb_mul_scalar(nb_sum_all(w), nb_dist_rank() + 1.0));
    nb_step_end(step);
    return st;
}

static void accumulation(void)
{
    int k = nb_dist_world_size();
    nb_rng rng = nb_rng_seed(1);
    nb_module *net = nb_linear_new(3, 2, false, &rng);
    nb_ddp *ddp = net ? nb_ddp_new(net, NULL, NULL) : NULL;
    nb_step *step = nb_step_new();
    DT_CHECK(ddp && step, "%s", nb_last_error());
    nb_tensor *g = nb_module_grad_buffer(net);

    /* two backward passes accumulated locally, reduced once: mean over ranks of 2 c */
    nb_module_zero_grad(net);
    nb_ddp_set_accumulate(ddp, true);
    DT_CHECK(backward_once(net, step) == NB_OK && backward_once(net, step) == NB_OK, "%s",
             nb_last_error());
    DT_CHECK(nb_tensor_get(g, 0) == 2.0 * (nb_dist_rank() + 1), "not accumulated locally");
    nb_ddp_set_accumulate(ddp, false);
    DT_CHECK(nb_ddp_sync(ddp) == NB_OK, "%s", nb_last_error());
    double want = (k + 1.0); /* 2 * (1 + ... + k) / k */
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        DT_CHECK(nb_tensor_get(g, i) == want, "gradient %g, want %g", nb_tensor_get(g, i), want);

    /* two passes without accumulation: the second would miss the reduction -> an error */
    nb_module_zero_grad(net);
    DT_CHECK(backward_once(net, step) == NB_OK && backward_once(net, step) == NB_OK, "%s",
             nb_last_error());
    DT_CHECK(nb_ddp_sync(ddp) == NB_ERR_STATE, "double backward not reported");
    DT_CHECK(strstr(nb_last_error(), "nb_backward ran twice without nb_ddp_sync"), "%s",
             nb_last_error());
    nb_clear_error();
    DT_CHECK(nb_ddp_update(ddp) == NB_ERR_STATE, "step without an optimizer");
    nb_clear_error();

    /* weights by shard: rank r holds r + 1 of the samples */
    nb_module_zero_grad(net);
    int64_t global = (int64_t)k * (k + 1) / 2;
    DT_CHECK(nb_ddp_set_shard(ddp, nb_dist_rank() + 1, global) == NB_OK, "%s", nb_last_error());
    DT_CHECK(backward_once(net, step) == NB_OK, "%s", nb_last_error());
    DT_CHECK(nb_ddp_set_shard(ddp, 1, global) == NB_ERR_STATE, "set_shard after backward");
    DT_CHECK(strstr(nb_last_error(), "call it before nb_backward"), "%s", nb_last_error());
    nb_clear_error();
    DT_CHECK(nb_ddp_sync(ddp) == NB_OK, "%s", nb_last_error());
    double sumsq = 0;
    for (int r = 1; r <= k; r++)
        sumsq += (double)r * r;
    DT_CHECK(fabs(nb_tensor_get(g, 0) - sumsq / (double)global) < 1e-6, "weighted %g, want %g",
             nb_tensor_get(g, 0), sumsq / (double)global);
    DT_CHECK(nb_ddp_set_shard(ddp, 3, 2) == NB_ERR_VALUE, "local > global accepted");
    nb_clear_error();
    nb_ddp_stats stats = nb_ddp_get_stats(ddp);
    DT_CHECK(stats.syncs == 3, "%lld syncs", (long long)stats.syncs);
    nb_step_free(step);
    nb_ddp_free(ddp);
    nb_module_free(net);
}

/* One rank reads the batches nb_batcher reads with the same seed, batch size and last-batch
 * rule, epoch after epoch and after a seek back, so a data-parallel run sees the batches of the
 * single-process program it replaces. */
static void sampler_matches_batcher(void)
{
    enum { N = 23, B = 6 };
    nb_dataset ds;
    DT_CHECK(dt_data(DT_MLP, N, 5, &ds) == NB_OK, "%s", nb_last_error());
    for (int last = 0; last < 2; last++) {
        nb_batcher *it = nb_batcher_new(
            &ds, &(nb_batch_opts){
                     .batch_size = B, .shuffle = true, .seed = 9, .last = (nb_last_batch)last});
        nb_dist_sampler *s =
            nb_dist_sampler_new(N, &(nb_dist_sampler_opts){.global_batch = B,
                                                           .shuffle = true,
                                                           .seed = 9,
                                                           .last = (nb_last_batch)last,
                                                           .world = 1});
        DT_CHECK(it && s, "%s", nb_last_error());
        for (int e = 0; e < 4; e++) {
            if (e == 3) { /* back to epoch 1 */
                nb_batcher_reset(it);
                for (nb_batch b; nb_batcher_next(it, &b);)
                    ;
                nb_dist_sampler_seek(s, 1, 0);
            }
            nb_batch b;
            nb_dist_shard sh;
            while (nb_batcher_next(it, &b)) {
                DT_CHECK(nb_dist_sampler_next(s, &sh), "sampler ended early in epoch %d", e);
                DT_CHECK(sh.size == b.size &&
                             !memcmp(sh.indices, b.indices, (size_t)b.size * sizeof *b.indices),
                         "epoch %d batch %lld differs from nb_batcher's", e, (long long)b.index);
            }
            DT_CHECK(!nb_dist_sampler_next(s, &sh), "sampler has more batches in epoch %d", e);
        }
        nb_dist_sampler_free(s);
        nb_batcher_free(it);
    }
    nb_dataset_deinit(&ds);
}

/* For 1..5 ranks: the shards of each global batch are disjoint, ordered pieces of the batch
 * one process reads, sizes within one; NB_LAST_DROP drops the short batch; seek resumes. */
static void sampler(void)
{
    enum { N = 23, B = 6 };
    for (int last = 0; last < 2; last++) {
        nb_dist_sampler_opts o = {
            .global_batch = B, .shuffle = true, .seed = 4, .last = (nb_last_batch)last, .world = 1};
        nb_dist_sampler *one = nb_dist_sampler_new(N, &o);
        DT_CHECK(one, "%s", nb_last_error());
        DT_CHECK(nb_dist_sampler_num_batches(one) == (last ? 3 : 4), "batches");
        for (int world = 1; world <= 5; world++) {
            nb_dist_sampler *s[5];
            for (int r = 0; r < world; r++) {
                o.rank = r;
                o.world = world;
                s[r] = nb_dist_sampler_new(N, &o);
                DT_CHECK(s[r], "%s", nb_last_error());
            }
            nb_dist_sampler_seek(one, 0, 0);
            for (int e = 0; e < 2; e++) {
                nb_dist_shard full, sh;
                while (nb_dist_sampler_next(one, &full)) {
                    int64_t at = 0;
                    for (int r = 0; r < world; r++) {
                        DT_CHECK(nb_dist_sampler_next(s[r], &sh), "rank %d ran out", r);
                        DT_CHECK(sh.offset == at && sh.global_size == full.size &&
                                     sh.epoch == full.epoch && sh.index == full.index,
                                 "shard %d of %d", r, world);
                        DT_CHECK(sh.size * world >= full.size - world &&
                                     sh.size * world <= full.size + world,
                                 "uneven shard %lld of %lld", (long long)sh.size,
                                 (long long)full.size);
                        DT_CHECK(sh.size == 0 || !memcmp(sh.indices, full.indices + at,
                                                         (size_t)sh.size * sizeof *sh.indices),
                                 "shard %d of %d is not its piece of the batch", r, world);
                        at += sh.size;
                    }
                    DT_CHECK(at == full.size, "shards cover %lld of %lld", (long long)at,
                             (long long)full.size);
                }
                for (int r = 0; r < world; r++)
                    DT_CHECK(!nb_dist_sampler_next(s[r], &(nb_dist_shard){0}), "epoch end");
            }
            for (int r = 0; r < world; r++)
                nb_dist_sampler_free(s[r]);
        }
        /* seek: batch 2 of epoch 1 again */
        nb_dist_shard a, b;
        nb_dist_sampler_seek(one, 1, 2);
        DT_CHECK(nb_dist_sampler_next(one, &a) && a.epoch == 1 && a.index == 2, "seek");
        int64_t first = a.indices[0];
        nb_dist_sampler_seek(one, 1, 2);
        DT_CHECK(nb_dist_sampler_next(one, &b) && b.indices[0] == first, "seek repeats");
        DT_CHECK(nb_dist_sampler_seek(one, 0, 9) == NB_ERR_VALUE, "seek past the epoch");
        nb_clear_error();
        nb_dist_sampler_free(one);
    }
    DT_CHECK(!nb_dist_sampler_new(0, &(nb_dist_sampler_opts){.global_batch = 1}), "n = 0");
    DT_CHECK(
        !nb_dist_sampler_new(5, &(nb_dist_sampler_opts){.global_batch = 2, .rank = 3, .world = 2}),
        "rank 3 of 2");
    DT_CHECK(strstr(nb_last_error(), "nb_dist_sampler_new"), "%s", nb_last_error());
    nb_clear_error();

    /* gather: the shard's rows and labels */
    nb_dataset ds;
    DT_CHECK(dt_data(DT_CNN, 10, 2, &ds) == NB_OK, "%s", nb_last_error());
    int64_t idx[2] = {7, 2};
    nb_tensor *x, *y;
    nb_dist_shard sh = {.indices = idx, .size = 2, .global_size = 2};
    DT_CHECK(nb_dist_shard_gather(&ds, &sh, &x, &y) == NB_OK, "%s", nb_last_error());
    DT_CHECK(nb_tensor_dim(x, 0) == 2 && nb_tensor_ndim(x) == 4 &&
                 nb_tensor_get(x, 36 + 5) == nb_tensor_get(ds.x, 2 * 36 + 5) &&
                 nb_tensor_get(y, 0) == nb_tensor_get(ds.y, 7),
             "gathered rows");
    nb_tensor_free(x);
    nb_tensor_free(y);
    idx[1] = 10;
    DT_CHECK(nb_dist_shard_gather(&ds, &sh, &x, &y) == NB_ERR_VALUE && !x && !y, "index 10");
    nb_clear_error();
    nb_dataset_deinit(&ds);
}

int main(int argc, char **argv)
{
    DT_CHECK(nb_dist_rank() == 0 && nb_dist_world_size() == 1, "before init");
    DT_CHECK(nb_dist_barrier() == NB_ERR_STATE, "barrier before init");
    nb_clear_error();
    if (nb_dist_init(&argc, &argv) != NB_OK)
        return fprintf(stderr, "%s\n", nb_last_error()), 1;
    collectives();
    accumulation();
    sampler();
    sampler_matches_batcher();
    if (nb_dist_is_main())
        printf("api: %d ranks ok\n", nb_dist_world_size());
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
