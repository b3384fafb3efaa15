/* Ranks whose models differ (a shape, a missing parameter, the optimizer state) are stopped at
 * nb_ddp_new with the first differing parameter named on every rank, instead of hanging or
 * training garbage; matching models then still set up. Run with 2 or more ranks: the last rank
 * differs. */
#include <stdio.h>
#include <string.h>

#include "dist_test.h"

static void expect_mismatch(nb_module *net, nb_optim *opt, const char *want)
{
    nb_clear_error();
    nb_ddp *ddp = nb_ddp_new(net, opt, NULL);
    DT_CHECK(!ddp, "nb_ddp_new accepted models that differ");
    DT_CHECK(nb_last_status() == NB_ERR_VALUE, "status %s", nb_status_name(nb_last_status()));
    DT_CHECK(strstr(nb_last_error(), want), "message \"%s\" lacks \"%s\"", nb_last_error(), want);
    if (nb_dist_is_main())
        printf("%s\n", nb_last_error());
    nb_clear_error();
}

int main(int argc, char **argv)
{
    if (nb_dist_init(&argc, &argv) != NB_OK)
        return fprintf(stderr, "%s\n", nb_last_error()), 1;
    int last = nb_dist_world_size() - 1;
    DT_CHECK(last >= 1, "run with at least 2 ranks (got %d)", last + 1);
    bool odd = nb_dist_rank() == last;
    char want[200];

    /* a shape */
    nb_module *net = dt_model(DT_MLP, 1, odd);
    snprintf(want, sizeof want,
             "parameter 0 is '0.weight' f32 [16, 12] on rank 0 but '0.weight' f32 [17, 12] on "
             "rank %d",
             last);
    expect_mismatch(net, NULL, want);
    nb_module_free(net);

    /* a parameter missing (no bias on the last rank) */
    nb_rng rng = nb_rng_seed(1);
    net = nb_sequential_new(1, (nb_module *[]){nb_linear_new(4, 2, !odd, &rng)});
    snprintf(want, sizeof want, "parameter 1 is '0.bias' f32 [2] on rank 0 but nothing on rank %d",
             last);
    expect_mismatch(net, NULL, want);
    nb_module_free(net);

    /* the optimizer: momentum on rank 0, none on the last rank */
    net = dt_model(DT_MLP, 1, false);
    nb_sgd_opts so = nb_sgd_defaults();
    so.momentum = odd ? 0 : 0.9;
    nb_optim *opt = nb_sgd_new(net, &so);
    expect_mismatch(net, opt, "optimizer state '0.weight.momentum_buffer'");
    nb_optim_free(opt);

    /* the same model on every rank still works */
    opt = dt_optim(DT_MLP, net);
    nb_ddp *ddp = nb_ddp_new(net, opt, NULL);
    DT_CHECK(ddp, "%s", nb_last_error());
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    nb_module_free(net);
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
