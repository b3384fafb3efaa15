/* With synchronised BatchNorm statistics (nb_ddp_sync_batch_norm), K ranks that each see their
 * slice of every batch train to the parameters and running statistics one process reaches on
 * the whole batches; with local statistics (the default) they do not (the control). float64,
 * Linear -> BatchNorm1d -> ReLU -> Linear, SGD, 8 steps of a 12-sample batch. */
#include <math.h>
#include <stdio.h>

#include "dist_test.h"

enum { BATCH = 12, STEPS = 8, IN = 5 };

static nb_module *model(void)
{
    nb_rng rng = nb_rng_seed(21); /* the same start on every rank and in the reference */
    nb_norm_layer_opts bo = {.dtype = NB_F64};
    return nb_sequential_new(4, (nb_module *[]){nb_linear_new_ex(IN, 6, true, &rng, NB_F64),
                                                nb_batch_norm1d_new(6, &bo), nb_relu_new(),
                                                nb_linear_new_ex(6, 1, true, &rng, NB_F64)});
}

/* rows [lo, hi) of step `it`'s batch: x [hi - lo, IN], y [hi - lo, 1] */
static void batch(int it, int64_t lo, int64_t hi, nb_tensor **x, nb_tensor **y)
{
    *x = nb_tensor_new(NB_F64, 2, (const int64_t[]){hi - lo, IN});
    *y = nb_tensor_new(NB_F64, 2, (const int64_t[]){hi - lo, 1});
    for (int64_t r = lo; r < hi; r++) {
        double t = 0;
        for (int c = 0; c < IN; c++) {
            double v = sin(0.37 * (double)(it * BATCH + r) + 1.3 * c) * (1 + c);
            nb_tensor_set(*x, (r - lo) * IN + c, v);
            t += v * (c % 2 ? 1 : -0.5);
        }
        nb_tensor_set(*y, r - lo, tanh(t));
    }
}

static nb_module *train(bool distributed, bool sync)
{
    nb_module *net = model();
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = 0.1;
    nb_optim *opt = nb_sgd_new(net, &so);
    DT_CHECK(net && opt, "%s", nb_last_error());
    nb_ddp *ddp = NULL;
    int64_t lo = 0, hi = BATCH;
    if (distributed) {
        ddp = nb_ddp_new(net, opt, NULL);
        DT_CHECK(ddp, "%s", nb_last_error());
        DT_CHECK(nb_ddp_sync_batch_norm(net, sync) == 1, "%s", nb_last_error());
        const int k = nb_dist_world_size(), r = nb_dist_rank();
        lo = BATCH * r / k, hi = BATCH * (r + 1) / k;
    }
    nb_step *step = nb_step_new();
    for (int it = 0; it < STEPS; it++) {
        nb_tensor *x, *y;
        batch(it, lo, hi, &x, &y);
        if (ddp)
            DT_CHECK(nb_ddp_set_shard(ddp, hi - lo, BATCH) == NB_OK, "%s", nb_last_error());
        nb_optim_zero_grad(opt);
        nb_step_begin(step);
        nb_tensor *loss = nb_mse(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
        DT_CHECK(loss && nb_backward(loss) == NB_OK, "%s", nb_last_error());
        DT_CHECK((ddp ? nb_ddp_update(ddp) : nb_optim_update(opt)) == NB_OK, "%s", nb_last_error());
        nb_step_end(step);
        nb_tensor_free(x), nb_tensor_free(y);
    }
    nb_step_free(step);
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    return net;
}

static double stats_diff(nb_module *a, nb_module *b)
{
    nb_module *ba = nb_module_child(a, "1"), *bb = nb_module_child(b, "1");
    double d = 0;
    for (int64_t c = 0; c < 6; c++) {
        d = fmax(d, fabs(nb_tensor_get(nb_batch_norm_running_mean(ba), c) -
                         nb_tensor_get(nb_batch_norm_running_mean(bb), c)));
        d = fmax(d, fabs(nb_tensor_get(nb_batch_norm_running_var(ba), c) -
                         nb_tensor_get(nb_batch_norm_running_var(bb), c)));
    }
    return d;
}

int main(int argc, char **argv)
{
    if (nb_dist_init(&argc, &argv) != NB_OK) {
        fprintf(stderr, "%s\n", nb_last_error());
        return 1;
    }
    nb_module *ref = train(false, false);
    nb_module *synced = train(true, true), *local = train(true, false);
    const double dp = dt_max_diff(synced, ref), ds = stats_diff(synced, ref);
    const double lp = dt_max_diff(local, ref);
    if (nb_dist_is_main())
        printf("sync BatchNorm on %d ranks vs one process: parameters %.3g, running statistics "
               "%.3g apart; local statistics: parameters %.3g apart\n",
               nb_dist_world_size(), dp, ds, lp);
    DT_CHECK(dp <= 1e-12 && ds <= 1e-12, "synchronised: parameters %g, statistics %g apart", dp,
             ds);
    if (nb_dist_world_size() > 1) /* the control: without sync the batch statistics differ */
        DT_CHECK(lp > 1e-6,
                 "local statistics matched the whole batch (%g): the test proves nothing", lp);
    nb_module_free(ref), nb_module_free(synced), nb_module_free(local);
    return nb_dist_finalize() == NB_OK ? 0 : 1;
}
