/* ops/random.c — constants, random tensors and detach: values that enter a graph without a
 * gradient. Randomness comes only from the caller's nb_rng. */
#include "ops/op_def.h"

#include <string.h>

static nb_tensor *make(const char *fn, nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                       bool need_rng)
{
    if (!nbi_is_float(dtype)) {
        nbi_error(NB_ERR_DTYPE, "%s: dtype must be f32 or f64, got %s", fn, nb_dtype_name(dtype));
        return NULL;
    }
    if (need_rng && !rng) {
        nbi_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    return nbi_tensor_alloc(fn, dtype, ndim, shape);
}

/* Fill contiguous t with values from gen(rng, a, b). */
#define FILL(t, EXPR)                                                                              \
    do {                                                                                           \
        if ((t)->dtype == NB_F32) {                                                                \
            float *p_ = nbi_data(t);                                                               \
            for (int64_t i_ = 0; i_ < (t)->numel; i_++)                                            \
                p_[i_] = (float)(EXPR);                                                            \
        } else {                                                                                   \
            double *p_ = nbi_data(t);                                                              \
            for (int64_t i_ = 0; i_ < (t)->numel; i_++)                                            \
                p_[i_] = (EXPR);                                                                   \
        }                                                                                          \
    } while (0)

nb_tensor *nb_constant(nb_dtype dtype, int ndim, const int64_t *shape, double value)
{
    nb_tensor *t = make("nb_constant", dtype, ndim, shape, NULL, false);
    if (t && value != 0.0)
        FILL(t, value);
    return t;
}

nb_tensor *nb_rand_uniform(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng, double lo,
                           double hi)
{
    nb_tensor *t = make("nb_rand_uniform", dtype, ndim, shape, rng, true);
    if (t)
        FILL(t, lo + (hi - lo) * nb_rng_uniform(rng));
    return t;
}

nb_tensor *nb_rand_normal(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng, double mean,
                          double std)
{
    nb_tensor *t = make("nb_rand_normal", dtype, ndim, shape, rng, true);
    if (t)
        FILL(t, mean + std * nb_rng_normal(rng));
    return t;
}

nb_tensor *nb_rand_bernoulli(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng, double p)
{
    if (!(p >= 0.0 && p <= 1.0)) {
        nbi_error(NB_ERR_VALUE, "nb_rand_bernoulli: p must be in [0, 1], got %g", p);
        return NULL;
    }
    nb_tensor *t = make("nb_rand_bernoulli", dtype, ndim, shape, rng, true);
    if (t)
        FILL(t, nb_rng_uniform(rng) < p ? 1.0 : 0.0);
    return t;
}

nb_tensor *nb_sample_bernoulli(nb_tensor *probs, nb_rng *rng)
{
    const char *fn = "nb_sample_bernoulli";
    if (!probs) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: probs is NULL", fn);
        return NULL;
    }
    if (!nbi_check_live(fn, probs))
        return NULL;
    nb_tensor *t = make(fn, probs->dtype, probs->ndim, probs->shape, rng, true);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        double p = nb_tensor_get(probs, i);
        if (!(p >= 0.0 && p <= 1.0)) {
            nbi_error(NB_ERR_VALUE, "%s: probability %g at flat index %lld is outside [0, 1]", fn,
                      p, (long long)i);
            nb_tensor_free(t);
            return NULL;
        }
        nb_tensor_set(t, i, nb_rng_uniform(rng) < p ? 1.0 : 0.0);
    }
    return t;
}

nb_tensor *nb_detach(nb_tensor *x)
{
    if (!x) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "nb_detach: input is NULL");
        return NULL;
    }
    if (!nbi_check_live("nb_detach", x))
        return NULL;
    return nbi_tensor_view("nb_detach", x, x->ndim, x->shape, x->strides, x->offset);
}
