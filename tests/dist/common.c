/* tests/dist/common.c — models, data and a training loop shared by the data-parallel tests. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dist_test.h"

void dt_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "%s:%d: check failed: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    nb_dist_abort(msg);
}

nb_module *dt_model(dt_kind kind, uint64_t seed, bool wider)
{
    nb_rng rng = nb_rng_seed(seed);
    int64_t hidden = wider ? 17 : 16;
    if (kind == DT_MLP)
        return nb_sequential_new(3, (nb_module *[]){nb_linear_new(12, hidden, true, &rng),
                                                    nb_relu_new(),
                                                    nb_linear_new(hidden, 3, true, &rng)});
    return nb_sequential_new(5, (nb_module *[]){nb_conv2d_new(1, wider ? 4 : 3, 3, 3, NULL, &rng),
                                                nb_relu_new(), nb_max_pool2d_new(2, 2, NULL),
                                                nb_flatten_new(),
                                                nb_linear_new(wider ? 16 : 12, 3, true, &rng)});
}

nb_status dt_data(dt_kind kind, int64_t n, uint64_t seed, nb_dataset *out)
{
    nb_rng rng = nb_rng_seed(seed);
    *out = (nb_dataset){0};
    out->x = kind == DT_MLP ? nb_tensor_uniform(NB_F32, 2, (int64_t[]){n, 12}, &rng, -1, 1)
                            : nb_tensor_uniform(NB_F32, 4, (int64_t[]){n, 1, 6, 6}, &rng, 0, 1);
    out->y = nb_tensor_new(NB_I64, 1, (int64_t[]){n});
    if (!out->x || !out->y) {
        nb_dataset_deinit(out);
        return nb_last_status();
    }
    for (int64_t i = 0; i < n; i++)
        nb_tensor_data_i64(out->y)[i] = (int64_t)nb_rng_below(&rng, 3);
    out->n_classes = 3;
    return NB_OK;
}

nb_optim *dt_optim(dt_kind kind, nb_module *net)
{
    if (kind == DT_MLP) {
        nb_sgd_opts so = nb_sgd_defaults();
        so.lr = 0.1;
        so.momentum = 0.9;
        return nb_sgd_new(net, &so);
    }
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = 0.01;
    return nb_adam_new(net, &ao);
}

nb_status dt_train(nb_module *net, nb_optim *opt, nb_ddp *ddp, const nb_dataset *ds,
                   nb_dist_sampler *smp, int steps)
{
    nb_step *step = nb_step_new();
    if (!step)
        return nb_last_status();
    nb_status st = NB_OK;
    for (int t = 0; t < steps && st == NB_OK;) {
        nb_dist_shard sh;
        if (!nb_dist_sampler_next(smp, &sh))
            continue; /* next epoch */
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *x = NULL, *y = NULL;
        st = nb_dist_shard_gather(ds, &sh, &x, &y);
        if (st == NB_OK && ddp) /* before backward: buckets start during it */
            st = nb_ddp_set_shard(ddp, sh.size, sh.global_size);
        if (st == NB_OK && sh.size > 0)
            st = nb_backward(nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN));
        if (st == NB_OK)
            st = ddp ? nb_ddp_update(ddp) : nb_optim_update(opt);
        nb_step_end(step);
        nb_tensor_free(x);
        nb_tensor_free(y);
        t++;
    }
    nb_step_free(step);
    return st;
}

double dt_max_diff(nb_module *a, nb_module *b)
{
    nb_tensor *pa = nb_module_param_buffer(a), *pb = nb_module_param_buffer(b);
    double worst = 0;
    for (int64_t i = 0; i < nb_tensor_numel(pa); i++) {
        double d = fabs(nb_tensor_get(pa, i) - nb_tensor_get(pb, i));
        worst = d > worst || isnan(d) ? d : worst;
    }
    return worst;
}

uint64_t dt_param_digest(nb_module *m)
{
    nb_tensor *p = nb_module_param_buffer(m);
    return nb_digest64(nb_tensor_data(p),
                       (size_t)nb_tensor_numel(p) * nb_dtype_size(nb_tensor_dtype(p)), 0);
}

const char *dt_tmpdir(void)
{
    const char *d = getenv("NB_TEST_TMPDIR");
    return d && *d ? d : "/tmp";
}
