/* Checkpoints of a data-parallel run resume on another number of ranks.
 *   test_resume save PREFIX    train STEPS steps, writing PREFIX.ckpt after SPLIT of them
 *                              (rank 0 writes), and PREFIX.final (the end state)
 *   test_resume resume PREFIX  load PREFIX.ckpt, train the remaining steps, and compare with
 *                              PREFIX.final: the uninterrupted run on the other rank count
 * The sampler continues at the global batch after the checkpoint, so both runs see the same
 * global batches; they may differ only by float rounding (other shard sums). */
#include <stdio.h>
#include <string.h>

#include "dist_test.h"

enum { N = 50, BATCH = 16, SPLIT = 6, STEPS = 14 };

int main(int argc, char **argv)
{
    if (nb_dist_init(&argc, &argv) != NB_OK)
        return fprintf(stderr, "%s\n", nb_last_error()), 1;
    DT_CHECK(argc == 3 && (!strcmp(argv[1], "save") || !strcmp(argv[1], "resume")),
             "usage: test_resume save|resume PREFIX");
    bool save = !strcmp(argv[1], "save");
    char ckpt[1024], final[1024];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", argv[2]);
    snprintf(final, sizeof final, "%s.final", argv[2]);

    nb_dataset ds;
    DT_CHECK(dt_data(DT_MLP, N, 5, &ds) == NB_OK, "%s", nb_last_error());
    /* the resumed run starts from other initial values: the checkpoint must replace them */
    nb_module *net = dt_model(DT_MLP, save ? 1 : 99, false);
    nb_optim *opt = net ? dt_optim(DT_MLP, net) : NULL;
    nb_ddp *ddp = opt ? nb_ddp_new(net, opt, NULL) : NULL;
    nb_dist_sampler *smp = nb_dist_sampler_new(
        N, &(nb_dist_sampler_opts){.global_batch = BATCH, .shuffle = true, .seed = 8});
    DT_CHECK(ddp && smp, "%s", nb_last_error());
    int64_t per_epoch = nb_dist_sampler_num_batches(smp);

    if (save) {
        DT_CHECK(dt_train(net, opt, ddp, &ds, smp, SPLIT) == NB_OK, "%s", nb_last_error());
        DT_CHECK(nb_ddp_save_checkpoint(ddp, ckpt) == NB_OK, "%s", nb_last_error());
        DT_CHECK(dt_train(net, opt, ddp, &ds, smp, STEPS - SPLIT) == NB_OK, "%s", nb_last_error());
        DT_CHECK(nb_ddp_save_checkpoint(ddp, final) == NB_OK, "%s", nb_last_error());
    } else {
        /* a file that is not there: every rank gets rank 0's error, nothing changes */
        char missing[1100];
        snprintf(missing, sizeof missing, "%s.missing", argv[2]);
        uint64_t before = dt_param_digest(net);
        DT_CHECK(nb_ddp_load_checkpoint(ddp, missing) == NB_ERR_IO, "loading %s: %s", missing,
                 nb_last_error());
        DT_CHECK(strstr(nb_last_error(), missing), "message: %s", nb_last_error());
        DT_CHECK(dt_param_digest(net) == before, "a failed load changed the parameters");
        nb_clear_error();

        DT_CHECK(nb_ddp_load_checkpoint(ddp, ckpt) == NB_OK, "%s", nb_last_error());
        DT_CHECK(nb_optim_update_count(opt) == SPLIT, "step count %lld after loading",
                 (long long)nb_optim_update_count(opt));
        /* the sampler goes on with the global batch after the checkpoint's */
        DT_CHECK(nb_dist_sampler_seek(smp, SPLIT / per_epoch, SPLIT % per_epoch) == NB_OK, "%s",
                 nb_last_error());
        DT_CHECK(dt_train(net, opt, ddp, &ds, smp, STEPS - SPLIT) == NB_OK, "%s", nb_last_error());
        nb_module *ref = dt_model(DT_MLP, 1, false);
        DT_CHECK(ref && nb_checkpoint_load_model(final, ref, NULL) == NB_OK, "%s", nb_last_error());
        double diff = dt_max_diff(net, ref);
        DT_CHECK(diff <= 1e-6, "resumed on %d ranks: max |diff| %g from the uninterrupted run",
                 nb_dist_world_size(), diff);
        if (nb_dist_is_main())
            printf("resumed %s on %d rank(s): max |diff| %.3g from the uninterrupted run\n", ckpt,
                   nb_dist_world_size(), diff);
        nb_module_free(ref);
    }
    nb_dist_sampler_free(smp);
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&ds);
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
