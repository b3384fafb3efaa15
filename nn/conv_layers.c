/* nn/conv_layers.c — Conv1d/Conv2d, pooling and global pooling modules, Dropout2d.
 *
 * Thin modules over the convolution and pooling ops: the constructor validates the settings
 * once, the forward checks the input's rank and channel count (so the error names the module)
 * and calls the op. */
#include "nabla/conv_layers.h"

#include <math.h>
#include <stdio.h>

/* ---- convolutions ---- */

typedef struct {
    int dims; /* 1 or 2 */
    int64_t in_ch, out_ch;
    nb_conv_opts conv;
} conv_cfg;

static nb_tensor *conv_forward(nb_module *m, nb_tensor *x)
{
    const conv_cfg *c = nb_module_user_data(m);
    const int want = c->dims + 2;
    if (nb_tensor_ndim(x) != want || nb_tensor_dim(x, 1) != c->in_ch) {
        char xs[96];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [N, %lld, %s]",
                        nb_tensor_shape_str(x, xs, sizeof xs), (long long)c->in_ch,
                        c->dims == 2 ? "H, W" : "L");
        return NULL;
    }
    nb_tensor *w = nb_module_param(m, "weight");
    nb_tensor *b = nb_module_has_param(m, "bias") ? nb_module_param(m, "bias") : NULL;
    return c->dims == 2 ? nb_conv2d(x, w, b, &c->conv) : nb_conv1d(x, w, b, &c->conv);
}

static bool conv_opts_ok(const char *fn, const nb_conv_opts *o, int dims)
{
    if (o->stride_h < 0 || o->stride_w < 0 || o->dilation_h < 0 || o->dilation_w < 0 ||
        o->groups < 0 || o->pad_top < 0 || o->pad_bottom < 0 || o->pad_left < 0 ||
        o->pad_right < 0) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: stride, dilation, groups and pads must be >= 0, got stride %lldx%lld, "
                     "dilation %lldx%lld, groups %lld, pads %lld %lld %lld %lld",
                     fn, (long long)o->stride_h, (long long)o->stride_w, (long long)o->dilation_h,
                     (long long)o->dilation_w, (long long)o->groups, (long long)o->pad_top,
                     (long long)o->pad_bottom, (long long)o->pad_left, (long long)o->pad_right);
        return false;
    }
    if (o->padding != NB_PAD_VALID && o->padding != NB_PAD_SAME && o->padding != NB_PAD_EXPLICIT) {
        nb_set_error(NB_ERR_VALUE, "%s: unknown padding mode %d", fn, (int)o->padding);
        return false;
    }
    if (o->output_padding_h != 0 || o->output_padding_w != 0) {
        nb_set_error(NB_ERR_VALUE, "%s: output_padding is for transposed convolutions only", fn);
        return false;
    }
    if (dims == 1 && (o->stride_h > 1 || o->dilation_h > 1 || o->pad_top || o->pad_bottom)) {
        nb_set_error(NB_ERR_VALUE, "%s: a 1-D convolution uses the width fields only", fn);
        return false;
    }
    return true;
}

static nb_module *conv_new(const char *fn, int dims, int64_t in_ch, int64_t out_ch, int64_t kh,
                           int64_t kw, const nb_conv_layer_opts *opts, nb_rng *rng)
{
    nb_conv_layer_opts o = opts ? *opts : (nb_conv_layer_opts){0};
    const int64_t groups = o.conv.groups ? o.conv.groups : 1;
    if (o.pad < 0 || (o.pad > 0 && (o.conv.padding != NB_PAD_VALID || o.conv.pad_top ||
                                    o.conv.pad_bottom || o.conv.pad_left || o.conv.pad_right))) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: pad must be >= 0 and, when > 0, the only padding given (conv.padding "
                     "VALID, no explicit pads), got pad %lld",
                     fn, (long long)o.pad);
        return NULL;
    }
    if (o.stride < 0 || (o.stride > 0 && (o.conv.stride_h || o.conv.stride_w))) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: stride must be >= 0 and, when > 0, the only stride given (conv.stride_h "
                     "and conv.stride_w 0), got stride %lld",
                     fn, (long long)o.stride);
        return NULL;
    }
    if (o.stride > 0) {
        o.conv.stride_w = o.stride;
        o.conv.stride_h = dims == 2 ? o.stride : 0;
    }
    if (o.pad > 0) {
        o.conv.padding = NB_PAD_EXPLICIT;
        o.conv.pad_left = o.conv.pad_right = o.pad;
        if (dims == 2)
            o.conv.pad_top = o.conv.pad_bottom = o.pad;
    }
    if (in_ch < 1 || out_ch < 1 || kh < 1 || kw < 1 || !rng) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: need channels and kernel sizes >= 1 and an rng, got in %lld, out %lld, "
                     "kernel %lldx%lld%s",
                     fn, (long long)in_ch, (long long)out_ch, (long long)kh, (long long)kw,
                     rng ? "" : ", rng NULL");
        return NULL;
    }
    if (!conv_opts_ok(fn, &o.conv, dims))
        return NULL;
    if (in_ch % groups || out_ch % groups) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: in and out channels must divide by groups, got in %lld, out %lld, "
                     "groups %lld",
                     fn, (long long)in_ch, (long long)out_ch, (long long)groups);
        return NULL;
    }
    if (o.dtype != NB_F32 && o.dtype != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "%s: parameters must be f32 or f64, got %s", fn,
                     nb_dtype_name(o.dtype));
        return NULL;
    }
    conv_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *c = (conv_cfg){.dims = dims, .in_ch = in_ch, .out_ch = out_ch, .conv = o.conv};
    nb_module *m =
        nb_module_new(dims == 2 ? "Conv2d" : "Conv1d", o.dtype, conv_forward, c, nb_free);
    if (!m)
        return NULL;
    int64_t wshape[4] = {out_ch, in_ch / groups, kh, kw};
    if (dims == 1)
        wshape[2] = kw;
    nb_tensor *w = nb_module_add_param(m, "weight", dims + 2, wshape);
    nb_tensor *b = !o.no_bias && w ? nb_module_add_param(m, "bias", 1, &out_ch) : NULL;
    /* PyTorch's _ConvNd.reset_parameters: Kaiming-uniform with a = sqrt(5) (uniform in
     * +-1/sqrt(fan_in)), the bias uniform in the same range. */
    const double bound = 1.0 / sqrt((double)(in_ch / groups * kh * kw));
    if (!w || (!o.no_bias && !b) ||
        nb_init_kaiming_uniform(w, rng, sqrt(5.0), NB_FAN_IN) != NB_OK ||
        (b && nb_init_uniform(b, rng, -bound, bound) != NB_OK)) {
        nb_module_free(m);
        return NULL;
    }
    char extra[96] = "";
    int len = 0;
    const nb_conv_opts *k = &o.conv;
    if ((k->stride_h > 1 && dims == 2) || k->stride_w > 1)
        len += snprintf(extra + len, sizeof extra - (size_t)len, ", stride %lld",
                        (long long)(k->stride_w > 1 ? k->stride_w : k->stride_h));
    if (k->padding == NB_PAD_SAME)
        len += snprintf(extra + len, sizeof extra - (size_t)len, ", same");
    else if (k->padding == NB_PAD_EXPLICIT)
        len += snprintf(extra + len, sizeof extra - (size_t)len, ", pad %lld",
                        (long long)(k->pad_left ? k->pad_left : k->pad_top));
    if (k->dilation_h > 1 || k->dilation_w > 1)
        len += snprintf(extra + len, sizeof extra - (size_t)len, ", dilation %lld",
                        (long long)(k->dilation_w > 1 ? k->dilation_w : k->dilation_h));
    if (groups > 1)
        len +=
            snprintf(extra + len, sizeof extra - (size_t)len, ", groups %lld", (long long)groups);
    if (o.no_bias)
        len += snprintf(extra + len, sizeof extra - (size_t)len, ", no bias");
    if (k->relu)
        snprintf(extra + len, sizeof extra - (size_t)len, ", relu");
    if (dims == 2)
        nb_module_set_info(m, "%lld -> %lld, %lldx%lld%s", (long long)in_ch, (long long)out_ch,
                           (long long)kh, (long long)kw, extra);
    else
        nb_module_set_info(m, "%lld -> %lld, k %lld%s", (long long)in_ch, (long long)out_ch,
                           (long long)kw, extra);
    return m;
}

nb_module *nb_conv2d_new(int64_t in_ch, int64_t out_ch, int64_t kh, int64_t kw,
                         const nb_conv_layer_opts *opts, nb_rng *rng)
{
    return conv_new("nb_conv2d_new", 2, in_ch, out_ch, kh, kw, opts, rng);
}

nb_module *nb_conv1d_new(int64_t in_ch, int64_t out_ch, int64_t k, const nb_conv_layer_opts *opts,
                         nb_rng *rng)
{
    return conv_new("nb_conv1d_new", 1, in_ch, out_ch, 1, k, opts, rng);
}

/* ---- pooling ---- */

typedef enum { POOL_MAX2, POOL_AVG2, POOL_MAX1, POOL_AVG1, POOL_GAVG, POOL_GMAX } pool_kind;

typedef struct {
    pool_kind kind;
    int64_t kh, kw;
    nb_pool_opts opts;
} pool_cfg;

static nb_tensor *pool_forward(nb_module *m, nb_tensor *x)
{
    const pool_cfg *c = nb_module_user_data(m);
    const int nd = nb_tensor_ndim(x);
    const int want = c->kind == POOL_MAX2 || c->kind == POOL_AVG2   ? 4
                     : c->kind == POOL_MAX1 || c->kind == POOL_AVG1 ? 3
                                                                    : 0;
    if ((want && nd != want) || (!want && nd < 3)) {
        char xs[96];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected %s",
                        nb_tensor_shape_str(x, xs, sizeof xs),
                        want == 4   ? "[N, C, H, W]"
                        : want == 3 ? "[N, C, L]"
                                    : "[N, C, ...] with at least 3 dims");
        return NULL;
    }
    switch (c->kind) {
    case POOL_MAX2:
        return nb_max_pool2d(x, c->kh, c->kw, &c->opts);
    case POOL_AVG2:
        return nb_avg_pool2d(x, c->kh, c->kw, &c->opts);
    case POOL_MAX1:
        return nb_max_pool1d(x, c->kw, &c->opts);
    case POOL_AVG1:
        return nb_avg_pool1d(x, c->kw, &c->opts);
    case POOL_GAVG:
        return nb_global_avg_pool(x);
    case POOL_GMAX:
        return nb_global_max_pool(x);
    }
    return NULL;
}

static nb_module *pool_new(const char *fn, const char *kind, pool_kind pk, int64_t kh, int64_t kw,
                           const nb_pool_opts *opts)
{
    const nb_pool_opts o = opts ? *opts : (nb_pool_opts){0};
    const bool one_d = pk == POOL_MAX1 || pk == POOL_AVG1;
    if (pk != POOL_GAVG && pk != POOL_GMAX) {
        if (kh < 1 || kw < 1) {
            nb_set_error(NB_ERR_VALUE, "%s: kernel must be >= 1, got %lldx%lld", fn, (long long)kh,
                         (long long)kw);
            return NULL;
        }
        if (o.stride_h < 0 || o.stride_w < 0 || o.pad_top < 0 || o.pad_bottom < 0 ||
            o.pad_left < 0 || o.pad_right < 0 || o.pad_top >= kh || o.pad_bottom >= kh ||
            o.pad_left >= kw || o.pad_right >= kw) {
            nb_set_error(NB_ERR_VALUE,
                         "%s: strides and pads must be >= 0 and pads smaller than the kernel "
                         "%lldx%lld, got stride %lldx%lld, pads %lld %lld %lld %lld",
                         fn, (long long)kh, (long long)kw, (long long)o.stride_h,
                         (long long)o.stride_w, (long long)o.pad_top, (long long)o.pad_bottom,
                         (long long)o.pad_left, (long long)o.pad_right);
            return NULL;
        }
        if (o.padding != NB_PAD_VALID && o.padding != NB_PAD_SAME && o.padding != NB_PAD_EXPLICIT) {
            nb_set_error(NB_ERR_VALUE, "%s: unknown padding mode %d", fn, (int)o.padding);
            return NULL;
        }
    }
    pool_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *c = (pool_cfg){.kind = pk, .kh = kh, .kw = kw, .opts = o};
    nb_module *m = nb_module_new(kind, NB_F32, pool_forward, c, nb_free);
    if (!m || pk == POOL_GAVG || pk == POOL_GMAX)
        return m;
    const int64_t sh = o.stride_h ? o.stride_h : kh, sw = o.stride_w ? o.stride_w : kw;
    const char *pad = o.padding == NB_PAD_SAME       ? ", same"
                      : o.padding == NB_PAD_EXPLICIT ? ", pad"
                                                     : "";
    if (one_d)
        nb_module_set_info(m, "k %lld, stride %lld%s", (long long)kw, (long long)sw, pad);
    else
        nb_module_set_info(m, "%lldx%lld, stride %lldx%lld%s", (long long)kh, (long long)kw,
                           (long long)sh, (long long)sw, pad);
    return m;
}

nb_module *nb_max_pool2d_new(int64_t kh, int64_t kw, const nb_pool_opts *opts)
{
    return pool_new("nb_max_pool2d_new", "MaxPool2d", POOL_MAX2, kh, kw, opts);
}

nb_module *nb_avg_pool2d_new(int64_t kh, int64_t kw, const nb_pool_opts *opts)
{
    return pool_new("nb_avg_pool2d_new", "AvgPool2d", POOL_AVG2, kh, kw, opts);
}

nb_module *nb_max_pool1d_new(int64_t k, const nb_pool_opts *opts)
{
    return pool_new("nb_max_pool1d_new", "MaxPool1d", POOL_MAX1, 1, k, opts);
}

nb_module *nb_avg_pool1d_new(int64_t k, const nb_pool_opts *opts)
{
    return pool_new("nb_avg_pool1d_new", "AvgPool1d", POOL_AVG1, 1, k, opts);
}

nb_module *nb_global_avg_pool_new(void)
{
    return pool_new("nb_global_avg_pool_new", "GlobalAvgPool", POOL_GAVG, 0, 0, NULL);
}

nb_module *nb_global_max_pool_new(void)
{
    return pool_new("nb_global_max_pool_new", "GlobalMaxPool", POOL_GMAX, 0, 0, NULL);
}

/* ---- Dropout2d ---- */

typedef struct {
    double p;
    nb_rng rng;
} dropout2d_cfg;

/* Training: y = x * mask / (1 - p) with mask [N, C, 1, ...] ~ Bernoulli(1 - p) broadcast over
 * each channel map; the mask is a constant, so the gradient is dy * mask / (1 - p). */
static nb_tensor *dropout2d_forward(nb_module *m, nb_tensor *x)
{
    dropout2d_cfg *c = nb_module_user_data(m);
    const int nd = nb_tensor_ndim(x);
    if (nd < 3) {
        char xs[96];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [N, C, ...] with at least 3 dims",
                        nb_tensor_shape_str(x, xs, sizeof xs));
        return NULL;
    }
    if (!nb_module_is_training(m) || c->p == 0.0)
        return x;
    int64_t shape[NB_MAX_DIMS];
    for (int d = 0; d < nd; d++)
        shape[d] = d < 2 ? nb_tensor_dim(x, d) : 1;
    nb_tensor *mask = nb_rand_bernoulli(nb_tensor_dtype(x), nd, shape, &c->rng, 1.0 - c->p);
    return nb_mul(x, nb_mul_scalar(mask, 1.0 / (1.0 - c->p)));
}

nb_module *nb_dropout2d_new(double p, uint64_t seed)
{
    if (!(p >= 0.0 && p < 1.0)) {
        nb_set_error(NB_ERR_VALUE, "nb_dropout2d_new: p must be in [0, 1), got %g", p);
        return NULL;
    }
    dropout2d_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "nb_dropout2d_new: out of memory");
        return NULL;
    }
    c->p = p;
    c->rng = nb_rng_seed(seed);
    nb_module *m = nb_module_new("Dropout2d", NB_F32, dropout2d_forward, c, nb_free);
    if (m)
        nb_module_set_info(m, "p=%g", p);
    return m;
}
