/* unsup/gaussian.c — the Gaussian codes of variational autoencoders (Kingma & Welling 2014): the
 * reparameterised sample and the KL divergence from the standard normal, compositions of public
 * ops. */
#include "unsup_impl.h"

typedef struct gaussian_ctx {
    nb_tensor *logvar;
    nb_rng *rng;
    nb_reduction reduction;
} gaussian_ctx;

/* mu and logvar present, float, of one dtype and shape; the error is set otherwise (a NULL input
 * keeps a pending error). */
static bool check_pair(const char *fn, nb_tensor *mu, nb_tensor *logvar)
{
    if (!mu || !logvar) {
        nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, mu ? "logvar" : "mu");
        return false;
    }
    const nb_dtype dt = nb_tensor_dtype(mu);
    if ((dt != NB_F32 && dt != NB_F64) || nb_tensor_dtype(logvar) != dt) {
        nb_set_error(NB_ERR_DTYPE, "%s: mu and logvar must be both f32 or both f64, got %s and %s",
                     fn, nb_dtype_name(dt), nb_dtype_name(nb_tensor_dtype(logvar)));
        return false;
    }
    bool same = nb_tensor_ndim(mu) == nb_tensor_ndim(logvar);
    for (int d = 0; same && d < nb_tensor_ndim(mu); d++)
        same = nb_tensor_dim(mu, d) == nb_tensor_dim(logvar, d);
    if (!same) {
        char a[96], b[96];
        nb_set_error(NB_ERR_SHAPE, "%s: mu is %s but logvar is %s (the same shape is needed)", fn,
                     nb_tensor_shape_str(mu, a, sizeof a),
                     nb_tensor_shape_str(logvar, b, sizeof b));
        return false;
    }
    return true;
}

static nb_tensor *rsample(nb_module *m, nb_tensor *mu, const void *ctx)
{
    (void)m;
    const gaussian_ctx *c = ctx;
    nb_tensor *eps = nb_randn_like(mu, c->rng);
    return nb_add(mu, nb_mul(nb_exp(nb_mul_scalar(c->logvar, 0.5)), eps));
}

nb_tensor *nb_gaussian_rsample(nb_tensor *mu, nb_tensor *logvar, nb_rng *rng)
{
    if (!check_pair("nb_gaussian_rsample", mu, logvar))
        return NULL;
    if (!rng) {
        nb_set_error(NB_ERR_VALUE, "nb_gaussian_rsample: rng is NULL");
        return NULL;
    }
    const gaussian_ctx c = {.logvar = logvar, .rng = rng};
    return nbi_unsup_call(rsample, NULL, mu, &c);
}

static nb_tensor *kl(nb_module *m, nb_tensor *mu, const void *ctx)
{
    (void)m;
    const gaussian_ctx *c = ctx;
    /* 1 + logvar - (mu^2 + exp(logvar)); the sums scale by -1/2 once, after reducing */
    nb_tensor *t = nb_sub(nb_add_scalar(c->logvar, 1.0), nb_add(nb_square(mu), nb_exp(c->logvar)));
    switch (c->reduction) {
    case NB_REDUCE_NONE:
        return nb_mul_scalar(t, -0.5);
    case NB_REDUCE_SUM:
        return nb_mul_scalar(nb_sum_all(t), -0.5);
    case NB_REDUCE_MEAN:
        return nb_mul_scalar(nb_mean_all(t), -0.5);
    case NB_REDUCE_BATCHMEAN:
        return nb_mul_scalar(nb_sum_all(t), -0.5 / (double)nb_tensor_dim(mu, 0));
    }
    return NULL; /* not reached: the reduction was checked */
}

nb_tensor *nb_gaussian_kl(nb_tensor *mu, nb_tensor *logvar, nb_reduction reduction)
{
    const char *fn = "nb_gaussian_kl";
    if (!check_pair(fn, mu, logvar))
        return NULL;
    if (reduction != NB_REDUCE_NONE && reduction != NB_REDUCE_SUM && reduction != NB_REDUCE_MEAN &&
        reduction != NB_REDUCE_BATCHMEAN) {
        nb_set_error(NB_ERR_VALUE, "%s: unknown reduction %d", fn, (int)reduction);
        return NULL;
    }
    if (reduction == NB_REDUCE_BATCHMEAN && (nb_tensor_ndim(mu) == 0 || nb_tensor_dim(mu, 0) < 1)) {
        char a[96];
        nb_set_error(NB_ERR_SHAPE,
                     "%s: NB_REDUCE_BATCHMEAN needs a batch dim of size >= 1, mu is %s", fn,
                     nb_tensor_shape_str(mu, a, sizeof a));
        return NULL;
    }
    const gaussian_ctx c = {.logvar = logvar, .reduction = reduction};
    return nbi_unsup_call(kl, NULL, mu, &c);
}
