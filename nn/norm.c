/* nn/norm.c — BatchNorm1d/2d, GroupNorm and InstanceNorm1d/2d, composed from nb_mean_axes and
 * elementwise ops; LayerNorm, the Transformer's norm, calls the one op nb_layer_norm.
 *
 * BatchNorm (and InstanceNorm with track_running_stats) keeps its running statistics in module
 * buffers ("running_mean", "running_var"), not among the parameters: they are updated off the
 * tape from the statistics of each training forward, optimizers never see them, and checkpoints
 * save them. */
#include "nabla/conv_layers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool norm_opts_ok(const char *fn, const nb_norm_layer_opts *o)
{
    if (!(o->eps >= 0.0) || !(o->momentum >= 0.0 && o->momentum <= 1.0)) {
        nb_set_error(NB_ERR_VALUE, "%s: need eps >= 0 and momentum in [0, 1], got %g, %g", fn,
                     o->eps, o->momentum);
        return false;
    }
    if (o->dtype != NB_F32 && o->dtype != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "%s: parameters must be f32 or f64, got %s", fn,
                     nb_dtype_name(o->dtype));
        return false;
    }
    return true;
}

/* Config of LayerNorm, GroupNorm or InstanceNorm: checks the options (momentum only when the
 * layer keeps running statistics) and allocates size zeroed bytes; NULL with the error set. */
static void *norm_cfg_new(const char *fn, nb_norm_layer_opts o, bool running, size_t size)
{
    if (!running)
        o.momentum = 0;
    if (!norm_opts_ok(fn, &o))
        return NULL;
    void *c = nb_calloc(1, size);
    if (!c)
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    return c;
}

/* Parameters "weight" (ones) and "bias" (zeros) of `shape`; frees m on failure. */
static nb_module *add_affine(nb_module *m, int ndim, const int64_t *shape)
{
    nb_tensor *g = nb_module_add_param(m, "weight", ndim, shape);
    nb_tensor *b = g ? nb_module_add_param(m, "bias", ndim, shape) : NULL;
    if (!b || nb_init_constant(g, 1.0) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- BatchNorm ---- */

static const char bn_tag[] = "BatchNorm"; /* identifies a BatchNorm user_data */

typedef struct {
    const char *tag;
    int dims; /* 1: [N, C] or [N, C, L]; 2: [N, C, H, W] */
    int64_t channels;
    double eps, momentum;
    nb_tensor *running_mean, *running_var; /* [C], the module's buffers */
    nb_norm_sum_fn sync;                   /* synchronised statistics: sums across processes */
    void *sync_user;
} bn_state;

/* Fold the batch statistics (mean and biased var, [1, C, 1...]) into the running ones. */
static void bn_update_running(bn_state *s, nb_tensor *mean, nb_tensor *var, int64_t n)
{
    const double mom = s->momentum, unbias = n > 1 ? (double)n / (double)(n - 1) : 1.0;
    for (int64_t c = 0; c < s->channels; c++) {
        const double rm = nb_tensor_get(s->running_mean, c), rv = nb_tensor_get(s->running_var, c);
        nb_tensor_set(s->running_mean, c, (1.0 - mom) * rm + mom * nb_tensor_get(mean, c));
        nb_tensor_set(s->running_var, c, (1.0 - mom) * rv + mom * nb_tensor_get(var, c) * unbias);
    }
}

static nb_tensor *bn_forward(nb_module *m, nb_tensor *x)
{
    bn_state *s = nb_module_user_data(m);
    const int nd = nb_tensor_ndim(x);
    const bool rank_ok = s->dims == 2 ? nd == 4 : (nd == 2 || nd == 3);
    if (!rank_ok || nb_tensor_dim(x, 1) != s->channels) {
        char xs[96];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected %s with C = %lld",
                        nb_tensor_shape_str(x, xs, sizeof xs),
                        s->dims == 2 ? "[N, C, H, W]" : "[N, C] or [N, C, L]",
                        (long long)s->channels);
        return NULL;
    }
    /* statistics over every axis but the channel axis; per-channel tensors shaped [1, C, 1...] */
    int axes[NB_MAX_DIMS], n_axes = 0;
    int64_t cshape[NB_MAX_DIMS], n = 1;
    for (int d = 0; d < nd; d++) {
        cshape[d] = d == 1 ? s->channels : 1;
        if (d != 1) {
            axes[n_axes++] = d;
            n *= nb_tensor_dim(x, d);
        }
    }
    nb_tensor *y;
    if (nb_module_is_training(m)) {
        if (n <= 1) {
            char xs[96];
            nb_module_error(m, NB_ERR_SHAPE,
                            "input is %s: training needs more than one value per channel",
                            nb_tensor_shape_str(x, xs, sizeof xs));
            return NULL;
        }
        nb_tensor *mean, *var, *xc;
        int64_t count = n;
        if (s->sync) {
            /* statistics of the whole batch across processes: sum x, sum x^2 and the count
             * summed by s->sync (differentiable, so gradients are summed back likewise) */
            nb_tensor *s1 = nb_sum_axes(x, n_axes, axes, true); /* [1, C, 1...] */
            nb_tensor *parts[3] = {s1, nb_sum_axes(nb_square(x), n_axes, axes, true),
                                   s1 ? nb_full_like(s1, (double)n) : NULL};
            nb_tensor *g = s->sync(nb_concat(3, parts, 0), s->sync_user); /* [3, C, 1...] */
            nb_tensor *ng = nb_slice(g, 0, 2, 3, 1);
            mean = nb_div(nb_slice(g, 0, 0, 1, 1), ng);
            var = nb_sub(nb_div(nb_slice(g, 0, 1, 2, 1), ng), nb_square(mean)); /* biased */
            if (!var)
                return NULL;
            count = (int64_t)llround(nb_tensor_get(ng, 0));
            xc = nb_sub(x, mean);
        } else {
            mean = nb_mean_axes(x, n_axes, axes, true);
            xc = nb_sub(x, mean);
            var = nb_mean_axes(nb_square(xc), n_axes, axes, true); /* biased */
            if (!var)
                return NULL;
        }
        bn_update_running(s, mean, var, count);
        y = nb_div(xc, nb_sqrt(nb_add_scalar(var, s->eps)));
    } else {
        nb_tensor *rm = nb_reshape(s->running_mean, nd, cshape);
        nb_tensor *rv = nb_reshape(s->running_var, nd, cshape);
        y = nb_div(nb_sub(x, rm), nb_sqrt(nb_add_scalar(rv, s->eps)));
    }
    if (nb_module_has_param(m, "weight"))
        y = nb_add(nb_mul(y, nb_reshape(nb_module_param(m, "weight"), nd, cshape)),
                   nb_reshape(nb_module_param(m, "bias"), nd, cshape));
    return y;
}

static nb_module *bn_new(const char *fn, int dims, int64_t channels, const nb_norm_layer_opts *opts)
{
    nb_norm_layer_opts o = opts ? *opts : (nb_norm_layer_opts){0};
    if (channels < 1) {
        nb_set_error(NB_ERR_VALUE, "%s: channels must be >= 1, got %lld", fn, (long long)channels);
        return NULL;
    }
    if (!norm_opts_ok(fn, &o))
        return NULL;
    bn_state *s = nb_calloc(1, sizeof *s);
    if (!s) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    s->tag = bn_tag;
    s->dims = dims;
    s->channels = channels;
    s->eps = o.eps > 0 ? o.eps : 1e-5;
    s->momentum = o.momentum > 0 ? o.momentum : 0.1;
    nb_module *m =
        nb_module_new(dims == 2 ? "BatchNorm2d" : "BatchNorm1d", o.dtype, bn_forward, s, nb_free);
    if (!m)
        return NULL;
    if (!o.no_affine && !add_affine(m, 1, &channels))
        return NULL;
    s->running_mean = nb_module_add_buffer(m, "running_mean", o.dtype, 1, &channels);
    s->running_var = nb_module_add_buffer(m, "running_var", o.dtype, 1, &channels);
    if (!s->running_mean || !s->running_var || nb_tensor_fill(s->running_var, 1.0) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld, eps %g, momentum %g%s", (long long)channels, s->eps, s->momentum,
                       o.no_affine ? ", no affine" : "");
    return m;
}

nb_module *nb_batch_norm1d_new(int64_t channels, const nb_norm_layer_opts *opts)
{
    return bn_new("nb_batch_norm1d_new", 1, channels, opts);
}

nb_module *nb_batch_norm2d_new(int64_t channels, const nb_norm_layer_opts *opts)
{
    return bn_new("nb_batch_norm2d_new", 2, channels, opts);
}

static bn_state *bn_of(nb_module *m, const char *fn)
{
    const char *kind = nb_module_kind(m);
    bn_state *s = (!strcmp(kind, "BatchNorm1d") || !strcmp(kind, "BatchNorm2d"))
                      ? nb_module_user_data(m)
                      : NULL;
    if (!s || s->tag != bn_tag) {
        nb_set_error(NB_ERR_VALUE, "%s: not a BatchNorm module (kind '%s')", fn, kind);
        return NULL;
    }
    return s;
}

nb_tensor *nb_batch_norm_running_mean(nb_module *m)
{
    bn_state *s = bn_of(m, "nb_batch_norm_running_mean");
    return s ? s->running_mean : NULL;
}

nb_tensor *nb_batch_norm_running_var(nb_module *m)
{
    bn_state *s = bn_of(m, "nb_batch_norm_running_var");
    return s ? s->running_var : NULL;
}

nb_status nb_batch_norm_set_sync(nb_module *m, nb_norm_sum_fn sum, void *user)
{
    const char *kind = m ? nb_module_kind(m) : "";
    if (strcmp(kind, "BatchNorm1d") != 0 && strcmp(kind, "BatchNorm2d") != 0)
        return nb_set_error(NB_ERR_VALUE, "nb_batch_norm_set_sync: module is not a BatchNorm1d/2d");
    bn_state *s = nb_module_user_data(m);
    s->sync = sum;
    s->sync_user = user;
    return NB_OK;
}

/* ---- LayerNorm ---- */

typedef struct {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    double eps;
} ln_cfg;

static nb_tensor *ln_forward(nb_module *m, nb_tensor *x)
{
    const ln_cfg *c = nb_module_user_data(m);
    const int nd = nb_tensor_ndim(x);
    bool ok = nd >= c->ndim;
    for (int d = 0; ok && d < c->ndim; d++)
        ok = nb_tensor_dim(x, nd - c->ndim + d) == c->shape[d];
    if (!ok) {
        char xs[96], want[96];
        int len = snprintf(want, sizeof want, "[*");
        for (int d = 0; d < c->ndim && len < (int)sizeof want; d++)
            len +=
                snprintf(want + len, sizeof want - (size_t)len, ", %lld", (long long)c->shape[d]);
        if (len < (int)sizeof want)
            snprintf(want + len, sizeof want - (size_t)len, "]");
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected %s",
                        nb_tensor_shape_str(x, xs, sizeof xs), want);
        return NULL;
    }
    const bool affine = nb_module_has_param(m, "weight");
    return nb_layer_norm(x, c->ndim, affine ? nb_module_param(m, "weight") : NULL,
                         affine ? nb_module_param(m, "bias") : NULL, c->eps);
}

nb_module *nb_layer_norm_new(int ndim, const int64_t *shape, const nb_norm_layer_opts *opts)
{
    const char *fn = "nb_layer_norm_new";
    nb_norm_layer_opts o = opts ? *opts : (nb_norm_layer_opts){0};
    if (ndim < 1 || ndim >= NB_MAX_DIMS || !shape) {
        nb_set_error(NB_ERR_VALUE, "%s: need 1 to %d normalised dims, got %d%s", fn,
                     NB_MAX_DIMS - 1, ndim, shape ? "" : " (shape NULL)");
        return NULL;
    }
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 1) {
            nb_set_error(NB_ERR_VALUE, "%s: dim %d of the normalised shape is %lld", fn, d,
                         (long long)shape[d]);
            return NULL;
        }
    ln_cfg *c = norm_cfg_new(fn, o, false, sizeof *c);
    if (!c)
        return NULL;
    c->ndim = ndim;
    memcpy(c->shape, shape, (size_t)ndim * sizeof *shape);
    c->eps = o.eps > 0 ? o.eps : 1e-5;
    nb_module *m = nb_module_new("LayerNorm", o.dtype, ln_forward, c, nb_free);
    if (!m || (!o.no_affine && !add_affine(m, ndim, shape)))
        return NULL;
    char dims[96];
    int len = 0;
    dims[0] = '\0';
    for (int d = 0; d < ndim && len < (int)sizeof dims; d++)
        len += snprintf(dims + len, sizeof dims - (size_t)len, "%s%lld", d ? "x" : "",
                        (long long)shape[d]);
    nb_module_set_info(m, "%s, eps %g%s", dims, c->eps, o.no_affine ? ", no affine" : "");
    return m;
}

/* ---- GroupNorm and InstanceNorm ---- */

typedef struct {
    int64_t groups, channels;
    int rank; /* InstanceNorm1d / 2d: the input rank required (3 / 4); GroupNorm: 0 (any >= 2) */
    double eps;
    double momentum;                       /* InstanceNorm with running statistics */
    nb_tensor *running_mean, *running_var; /* [C] buffers of the module, or NULL (untracked) */
} gn_cfg;

/* InstanceNorm's running statistics from the per-instance mean and biased variance [N, C, 1] of
 * a training forward with l values per instance, as PyTorch's instance_norm does it (batch_norm
 * over [1, N*C, l] on the running statistics repeated N times, then their mean over N): each
 * copy r <- (1 - momentum) * r + momentum * stat[n, c] (the variance unbiased by l / (l - 1)),
 * and the buffer becomes the mean of the N copies. */
static void in_update_running(const gn_cfg *c, nb_tensor *mean, nb_tensor *var, int64_t n,
                              int64_t l)
{
    const double mom = c->momentum, unbias = (double)l / (double)(l - 1);
    for (int64_t ch = 0; ch < c->channels; ch++) {
        const double rm = nb_tensor_get(c->running_mean, ch);
        const double rv = nb_tensor_get(c->running_var, ch);
        double sm = 0, sv = 0;
        for (int64_t i = 0; i < n; i++) {
            sm += (1.0 - mom) * rm + mom * nb_tensor_get(mean, i * c->channels + ch);
            sv += (1.0 - mom) * rv + mom * nb_tensor_get(var, i * c->channels + ch) * unbias;
        }
        nb_tensor_set(c->running_mean, ch, sm / (double)n);
        nb_tensor_set(c->running_var, ch, sv / (double)n);
    }
}

/* x [N, C, *] viewed as [N, G, C/G * prod(*)]: mean and biased variance over the last axis of
 * each group, then the per-channel affine map. InstanceNorm is the case G = C; with running
 * statistics it also updates them in training mode and normalises with them in eval mode. */
static nb_tensor *gn_forward(nb_module *m, nb_tensor *x)
{
    const gn_cfg *c = nb_module_user_data(m);
    const int nd = nb_tensor_ndim(x);
    const bool rank_ok = c->rank ? nd == c->rank : nd >= 2;
    if (!x || !rank_ok || nb_tensor_dim(x, 1) != c->channels) {
        char xs[96];
        const char *want = c->rank == 3 ? "[N, C, L]" : c->rank == 4 ? "[N, C, H, W]" : "[N, C, *]";
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected %s with C = %lld",
                        x ? nb_tensor_shape_str(x, xs, sizeof xs) : "NULL", want,
                        (long long)c->channels);
        return NULL;
    }
    const int64_t n = nb_tensor_dim(x, 0);
    int64_t cshape[NB_MAX_DIMS];
    for (int d = 0; d < nd; d++)
        cshape[d] = d == 1 ? c->channels : 1;
    nb_tensor *y;
    if (c->running_mean && !nb_module_is_training(m)) {
        nb_tensor *rm = nb_reshape(c->running_mean, nd, cshape);
        nb_tensor *rv = nb_reshape(c->running_var, nd, cshape);
        y = nb_div(nb_sub(x, rm), nb_sqrt(nb_add_scalar(rv, c->eps)));
    } else {
        const int64_t per = n > 0 ? nb_tensor_numel(x) / (n * c->groups) : 0;
        if (c->running_mean && per <= 1) {
            char xs[96];
            nb_module_error(m, NB_ERR_SHAPE,
                            "input is %s: training with running statistics needs more than one "
                            "value per instance",
                            nb_tensor_shape_str(x, xs, sizeof xs));
            return NULL;
        }
        const int axis = 2;
        nb_tensor *g = nb_reshape(x, 3, (const int64_t[]){n, c->groups, -1});
        nb_tensor *mean = nb_mean_axes(g, 1, &axis, true);
        nb_tensor *gc = nb_sub(g, mean);
        nb_tensor *var = nb_mean_axes(nb_square(gc), 1, &axis, true);
        if (!var)
            return NULL;
        if (c->running_mean)
            in_update_running(c, mean, var, n, per);
        y = nb_reshape(nb_div(gc, nb_sqrt(nb_add_scalar(var, c->eps))), nd, nb_tensor_shape(x));
    }
    if (nb_module_has_param(m, "weight"))
        y = nb_add(nb_mul(y, nb_reshape(nb_module_param(m, "weight"), nd, cshape)),
                   nb_reshape(nb_module_param(m, "bias"), nd, cshape));
    return y;
}

/* GroupNorm (rank 0) or InstanceNorm1d/2d (rank 3/4, groups = channels); running: InstanceNorm
 * with track_running_stats. */
static nb_module *gn_new(const char *fn, const char *kind, int rank, int64_t groups,
                         int64_t channels, bool affine, bool running,
                         const nb_norm_layer_opts *opts)
{
    nb_norm_layer_opts o = opts ? *opts : (nb_norm_layer_opts){0};
    if (channels < 1 || groups < 1 || channels % groups) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: need channels >= 1 divisible by groups >= 1, got %lld, %lld", fn,
                     (long long)channels, (long long)groups);
        return NULL;
    }
    gn_cfg *c = norm_cfg_new(fn, o, running, sizeof *c);
    if (!c)
        return NULL;
    *c = (gn_cfg){.groups = groups,
                  .channels = channels,
                  .rank = rank,
                  .eps = o.eps > 0 ? o.eps : 1e-5,
                  .momentum = o.momentum > 0 ? o.momentum : 0.1};
    nb_module *m = nb_module_new(kind, o.dtype, gn_forward, c, nb_free);
    if (!m || (affine && !add_affine(m, 1, &channels)))
        return NULL;
    if (running) {
        c->running_mean = nb_module_add_buffer(m, "running_mean", o.dtype, 1, &channels);
        c->running_var = nb_module_add_buffer(m, "running_var", o.dtype, 1, &channels);
        if (!c->running_mean || !c->running_var || nb_tensor_fill(c->running_var, 1.0) != NB_OK) {
            nb_module_free(m);
            return NULL;
        }
    }
    char track[64] = "";
    if (running)
        snprintf(track, sizeof track, ", running stats, momentum %g", c->momentum);
    if (rank)
        nb_module_set_info(m, "%lld, eps %g%s%s", (long long)channels, c->eps,
                           affine ? ", affine" : "", track);
    else
        nb_module_set_info(m, "%lld groups, %lld channels, eps %g%s", (long long)groups,
                           (long long)channels, c->eps, affine ? "" : ", no affine");
    return m;
}

nb_module *nb_group_norm_new(int64_t groups, int64_t channels, const nb_norm_layer_opts *opts)
{
    return gn_new("nb_group_norm_new", "GroupNorm", 0, groups, channels, !(opts && opts->no_affine),
                  false, opts);
}

nb_module *nb_instance_norm1d_new(int64_t channels, const nb_norm_layer_opts *opts)
{
    return gn_new("nb_instance_norm1d_new", "InstanceNorm1d", 3, channels, channels,
                  opts && opts->affine, opts && opts->track_running_stats, opts);
}

nb_module *nb_instance_norm2d_new(int64_t channels, const nb_norm_layer_opts *opts)
{
    return gn_new("nb_instance_norm2d_new", "InstanceNorm2d", 4, channels, channels,
                  opts && opts->affine, opts && opts->track_running_stats, opts);
}
