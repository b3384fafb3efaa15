/* Rank 1 fails at step 3 of a data-parallel run; rank 0 must not wait for it forever.
 *   error: rank 1 gets an error and returns from main without nb_dist_finalize
 *   hang:  rank 1 stops taking part (sleeps for a minute): rank 0's watchdog fires
 *   kill:  rank 1 is killed (SIGKILL)
 * tests/dist/fault.sh runs it and checks the exit status, the message and the time taken. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dist_test.h"

int main(int argc, char **argv)
{
    if (nb_dist_init(&argc, &argv) != NB_OK)
        return fprintf(stderr, "%s\n", nb_last_error()), 1;
    const char *mode = argc > 1 ? argv[1] : "";
    nb_dataset ds;
    DT_CHECK(dt_data(DT_MLP, 64, 5, &ds) == NB_OK, "%s", nb_last_error());
    nb_module *net = dt_model(DT_MLP, 1, false);
    nb_optim *opt = net ? dt_optim(DT_MLP, net) : NULL;
    nb_ddp *ddp = opt ? nb_ddp_new(net, opt, NULL) : NULL;
    nb_dist_sampler *smp = nb_dist_sampler_new(
        64, &(nb_dist_sampler_opts){.global_batch = 8, .shuffle = true, .seed = 8});
    DT_CHECK(ddp && smp, "%s", nb_last_error());
    for (int t = 0; t < 6; t++) {
        if (t == 3 && nb_dist_rank() == 1) {
            if (!strcmp(mode, "error")) {
                nb_set_error(NB_ERR_IO, "train: injected read error on rank 1");
                return 1;
            }
            if (!strcmp(mode, "hang"))
                sleep(60);
            if (!strcmp(mode, "kill"))
                raise(SIGKILL);
        }
        DT_CHECK(dt_train(net, opt, ddp, &ds, smp, 1) == NB_OK, "%s", nb_last_error());
    }
    printf("rank %d: no failure injected (mode '%s')\n", nb_dist_rank(), mode);
    nb_dist_sampler_free(smp);
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&ds);
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
