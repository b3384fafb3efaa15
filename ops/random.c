/* ops/random.c — constants, random tensors and detach: values that enter a graph without a
 * gradient. Randomness comes only from the caller's nb_rng. */
#include "ops/drop_rule.h"
#include "ops/op_def.h"

#include <math.h>
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
    /* random tensors are written whole, so their storage need not be zeroed first */
    return need_rng ? nbi_tensor_alloc_uninit(fn, dtype, ndim, shape)
                    : nbi_tensor_alloc(fn, dtype, ndim, shape);
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

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One xoshiro256** draw (autograd/rng.c's nb_rng_u64) on a local copy of the state, which the
 * compiler keeps in registers across a fill loop. */
static inline uint64_t xoshiro_next(uint64_t s[4])
{
    const uint64_t x = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return x;
}

#define NB_KERNELS "ops/random_kernels.h"
#include "nabla/typed.h"

nb_tensor *nb_rand_bernoulli(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng, double p)
{
    if (!(p >= 0.0 && p <= 1.0)) {
        nbi_error(NB_ERR_VALUE, "nb_rand_bernoulli: p must be in [0, 1], got %g", p);
        return NULL;
    }
    nb_tensor *t = make("nb_rand_bernoulli", dtype, ndim, shape, rng, true);
    if (!t)
        return NULL;
    NB_DISPATCH(dtype, bernoulli_fill, nbi_data(t), t->numel, rng, p);
    return t;
}

/* ---- dropout: y = x * (keep ? scale : 0), keep_i by ops/drop_rule.h with the seed drawn when
 * the op is applied; backward decides again from the seed, so nothing is saved ---- */
typedef struct {
    double p;
    nb_rng *rng;
    uint64_t seed;
} dropout_attr;

static nb_status dropout_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const dropout_attr *a = r->attr;
    if (!(a->p >= 0.0 && a->p < 1.0))
        return nbi_error(NB_ERR_VALUE, "nb_dropout: p must be in [0, 1), got %g", a->p);
    if (!a->rng)
        return nbi_error(NB_ERR_VALUE, "nb_dropout: rng is NULL");
    return nbi_shape_same(r, dtype, ndim, shape);
}

static nb_status dropout_forward(nbi_record *r)
{
    const dropout_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    NB_DISPATCH(x->dtype, dropout_fwd, nbi_data(r->out), nbi_data(x), x->numel, a->seed,
                nbi_drop_threshold(a->p), a->p);
    return NB_OK;
}

static void dropout_backward(nbi_record *r)
{
    const dropout_attr *a = r->attr;
    nb_tensor *x = r->in[0];
    if (!x->grad)
        return;
    NB_DISPATCH(x->dtype, dropout_bwd, nbi_data(x->grad), nbi_data(r->out->grad), x->numel, a->seed,
                nbi_drop_threshold(a->p), a->p, nbi_grad_beta(x) != 0);
}

const nbi_op_def nbi_op_dropout = {
    .name = "dropout",
    .api = "nb_dropout",
    .arity = 1,
    .flags = NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .attr_size = sizeof(dropout_attr),
    .shape = dropout_shape,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

nb_tensor *nb_dropout(nb_tensor *x, double p, nb_rng *rng)
{
    /* the seed is drawn as the fused attention draws its own: once, when p > 0 */
    dropout_attr a = {p, rng, rng && p > 0.0 && p < 1.0 ? nb_rng_u64(rng) : 0};
    return nbi_apply(NB_OP_DROPOUT, 1, &x, &a);
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
    if (nbi_is_float(probs->dtype) && nbi_is_contiguous(probs)) {
        int64_t bad = -1;
        NB_DISPATCH(probs->dtype, first_outside_unit, nbi_data(probs), probs->numel, &bad);
        if (bad >= 0) {
            nbi_error(NB_ERR_VALUE, "%s: probability %g at flat index %lld is outside [0, 1]", fn,
                      nb_tensor_get(probs, bad), (long long)bad);
            nb_tensor_free(t);
            return NULL;
        }
        NB_DISPATCH(probs->dtype, bernoulli_sample, nbi_data(t), nbi_data(probs), t->numel, rng);
        return t;
    }
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
