/* nn/init.c — parameter initialisers: uniform, normal, Xavier/Glorot, He/Kaiming, constants.
 * They write into the tensor's data directly (off the tape) from a seeded rng. */
#include "nabla/nn.h"

#include <math.h>

static nb_status check_target(const char *fn, nb_tensor *t)
{
    if (!t)
        return nb_set_error(NB_ERR_VALUE, "%s: tensor is NULL", fn);
    nb_dtype dt = nb_tensor_dtype(t);
    if (dt != NB_F32 && dt != NB_F64)
        return nb_set_error(NB_ERR_DTYPE, "%s: tensor must be f32 or f64, got %s", fn,
                            nb_dtype_name(dt));
    if (!nb_tensor_is_contiguous(t)) {
        char s[96];
        return nb_set_error(NB_ERR_SHAPE, "%s: tensor %s is not contiguous", fn,
                            nb_tensor_shape_str(t, s, sizeof s));
    }
    return NB_OK;
}

typedef enum { DIST_UNIFORM, DIST_NORMAL } dist;

/* Fill t with lo + (hi - lo) * U[0, 1) or a + b * N(0, 1). */
static nb_status fill_random(const char *fn, nb_tensor *t, nb_rng *rng, dist d, double a, double b)
{
    nb_status st = check_target(fn, t);
    if (st != NB_OK)
        return st;
    if (!rng)
        return nb_set_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
    if (!isfinite(a) || !isfinite(b) || (d == DIST_NORMAL && b < 0) || (d == DIST_UNIFORM && b < a))
        return nb_set_error(NB_ERR_VALUE, "%s: invalid range %g, %g", fn, a, b);
    const int64_t n = nb_tensor_numel(t);
    float *f = nb_tensor_data_f32(t);
    double *g = nb_tensor_data_f64(t);
    for (int64_t i = 0; i < n; i++) {
        double v =
            d == DIST_UNIFORM ? a + (b - a) * nb_rng_uniform(rng) : a + b * nb_rng_normal(rng);
        if (f)
            f[i] = (float)v;
        else
            g[i] = v;
    }
    return NB_OK;
}

nb_status nb_init_fans(const nb_tensor *t, int64_t *fan_in, int64_t *fan_out)
{
    if (!t)
        return nb_set_error(NB_ERR_VALUE, "nb_init_fans: tensor is NULL");
    const int nd = nb_tensor_ndim(t);
    if (nd < 2) {
        char s[96];
        return nb_set_error(NB_ERR_SHAPE,
                            "nb_init_fans: fan in/out need a tensor of at least 2 dims "
                            "[out, in, ...], got %s",
                            nb_tensor_shape_str(t, s, sizeof s));
    }
    int64_t receptive = 1;
    for (int d = 2; d < nd; d++)
        receptive *= nb_tensor_dim(t, d);
    if (fan_in)
        *fan_in = nb_tensor_dim(t, 1) * receptive;
    if (fan_out)
        *fan_out = nb_tensor_dim(t, 0) * receptive;
    return NB_OK;
}

nb_status nb_init_uniform(nb_tensor *t, nb_rng *rng, double lo, double hi)
{
    return fill_random("nb_init_uniform", t, rng, DIST_UNIFORM, lo, hi);
}

nb_status nb_init_normal(nb_tensor *t, nb_rng *rng, double mean, double std)
{
    return fill_random("nb_init_normal", t, rng, DIST_NORMAL, mean, std);
}

nb_status nb_init_constant(nb_tensor *t, double value)
{
    nb_status st = check_target("nb_init_constant", t);
    return st == NB_OK ? nb_tensor_fill(t, value) : st;
}

nb_status nb_init_zeros(nb_tensor *t)
{
    nb_status st = check_target("nb_init_zeros", t);
    return st == NB_OK ? nb_tensor_fill(t, 0.0) : st;
}

/* Fans of t, positive; reported as fn's error otherwise. */
static nb_status fans(const char *fn, nb_tensor *t, int64_t *fan_in, int64_t *fan_out)
{
    nb_status st = check_target(fn, t);
    if (st != NB_OK)
        return st;
    if (nb_tensor_ndim(t) < 2 || nb_init_fans(t, fan_in, fan_out) != NB_OK || *fan_in < 1 ||
        *fan_out < 1) {
        char s[96];
        return nb_set_error(
            NB_ERR_SHAPE, "%s: needs a tensor [out, in, ...] of at least 2 non-empty dims, got %s",
            fn, nb_tensor_shape_str(t, s, sizeof s));
    }
    return NB_OK;
}

nb_status nb_init_xavier_uniform(nb_tensor *t, nb_rng *rng, double gain)
{
    const char *fn = "nb_init_xavier_uniform";
    int64_t fi, fo;
    nb_status st = fans(fn, t, &fi, &fo);
    if (st != NB_OK)
        return st;
    const double a = gain * sqrt(6.0 / (double)(fi + fo));
    return fill_random(fn, t, rng, DIST_UNIFORM, -a, a);
}

nb_status nb_init_xavier_normal(nb_tensor *t, nb_rng *rng, double gain)
{
    const char *fn = "nb_init_xavier_normal";
    int64_t fi, fo;
    nb_status st = fans(fn, t, &fi, &fo);
    if (st != NB_OK)
        return st;
    return fill_random(fn, t, rng, DIST_NORMAL, 0.0, gain * sqrt(2.0 / (double)(fi + fo)));
}

nb_status nb_init_kaiming_uniform(nb_tensor *t, nb_rng *rng, double a, nb_fan_mode mode)
{
    const char *fn = "nb_init_kaiming_uniform";
    int64_t fi, fo;
    nb_status st = fans(fn, t, &fi, &fo);
    if (st != NB_OK)
        return st;
    const double fan = (double)(mode == NB_FAN_OUT ? fo : fi);
    const double bound = sqrt(2.0 / (1.0 + a * a)) * sqrt(3.0 / fan);
    return fill_random(fn, t, rng, DIST_UNIFORM, -bound, bound);
}

nb_status nb_init_kaiming_normal(nb_tensor *t, nb_rng *rng, double a, nb_fan_mode mode)
{
    const char *fn = "nb_init_kaiming_normal";
    int64_t fi, fo;
    nb_status st = fans(fn, t, &fi, &fo);
    if (st != NB_OK)
        return st;
    const double fan = (double)(mode == NB_FAN_OUT ? fo : fi);
    return fill_random(fn, t, rng, DIST_NORMAL, 0.0, sqrt(2.0 / (1.0 + a * a)) / sqrt(fan));
}
