/* nn/transformer.c — multi-head attention, RMSNorm, Transformer encoder layers and position
 * encodings, composed only of public ops: projections are nb_linear, heads are nb_reshape +
 * nb_permute views (read in place by the fused nb_scaled_dot_product_attention), the MLP is
 * nb_linear + GELU (tanh form) + nb_linear. */
#include "nabla/transformer.h"
#include "module_impl.h"
#include "nabla/conv_layers.h"
#include "nabla/nn.h"
#include "nabla/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */
/* y = linear(x) over the last dim of x [..., in] (nb_linear takes 2-D input). */
static nb_tensor *linear_last(nb_module *lin, nb_tensor *x)
{
    const int nd = nb_tensor_ndim(x);
    if (nd == 2 || !x)
        return nb_module_forward(lin, x);
    const int64_t *s = nb_tensor_shape(x);
    int64_t rows = 1, out[NB_MAX_DIMS];
    for (int d = 0; d < nd - 1; d++) {
        rows *= s[d];
        out[d] = s[d];
    }
    nb_tensor *y = nb_module_forward(lin, nb_reshape(x, 2, (const int64_t[]){rows, s[nd - 1]}));
    out[nd - 1] = nb_tensor_dim(y, 1);
    return y ? nb_reshape(y, nd, out) : NULL;
}

static nb_tensor *gelu_composed(nb_module *m, nb_tensor *x, const void *ctx)
{
    (void)m, (void)ctx;
    /* 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) */
    nb_tensor *inner = nb_add(x, nb_mul_scalar(nb_mul(x, nb_square(x)), 0.044715));
    nb_tensor *t = nb_tanh(nb_mul_scalar(inner, 0.7978845608028654 /* sqrt(2 / pi) */));
    return nb_mul(nb_mul_scalar(x, 0.5), nb_add_scalar(t, 1.0));
}

nb_tensor *nb_gelu_tanh_composed(nb_tensor *x)
{
    return nbi_module_call(gelu_composed, NULL, x, NULL); /* outside a step: a private one */
}

/* ---- multi-head attention ---- */
typedef struct {
    int64_t d_model, heads;
    bool causal;
} mha_cfg;

/* [B, T, D] -> [B, H, T, D/H] view */
static nb_tensor *split_heads(nb_tensor *x, int64_t heads)
{
    if (!x)
        return NULL;
    const int64_t B = nb_tensor_dim(x, 0), T = nb_tensor_dim(x, 1), D = nb_tensor_dim(x, 2);
    const int perm[4] = {0, 2, 1, 3};
    return nb_permute(nb_reshape(x, 4, (const int64_t[]){B, T, heads, D / heads}), perm);
}

typedef struct {
    nb_tensor *xkv, *mask;
    bool causal;
} attend_args;

static nb_tensor *attend(nb_module *m, nb_tensor *xq, const void *ctx)
{
    const attend_args *args = ctx;
    nb_tensor *xkv = args->xkv, *mask = args->mask;
    const bool causal = args->causal;
    const mha_cfg *c = nb_module_user_data(m);
    if (xq && (nb_tensor_ndim(xq) != 3 || nb_tensor_dim(xq, 2) != c->d_model)) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "query input is %s, expected [B, T, %lld]",
                        nb_tensor_shape_str(xq, got, sizeof got), (long long)c->d_model);
        return NULL;
    }
    if (!xkv)
        xkv = xq;
    nb_tensor *q = split_heads(linear_last(nb_module_child(m, "q"), xq), c->heads);
    nb_tensor *k = split_heads(linear_last(nb_module_child(m, "k"), xkv), c->heads);
    nb_tensor *v = split_heads(linear_last(nb_module_child(m, "v"), xkv), c->heads);
    nb_sdpa_opts o = {.causal = causal};
    nb_tensor *a = nb_scaled_dot_product_attention(q, k, v, mask, &o); /* [B, H, T, dh] */
    if (!a)
        return NULL;
    const int perm[4] = {0, 2, 1, 3};
    const int64_t B = nb_tensor_dim(a, 0), T = nb_tensor_dim(a, 2);
    nb_tensor *merged =
        nb_reshape(nb_contiguous(nb_permute(a, perm)), 3, (const int64_t[]){B, T, c->d_model});
    return linear_last(nb_module_child(m, "out"), merged);
}

nb_tensor *nb_mha_attend(nb_module *m, nb_tensor *xq, nb_tensor *xkv, nb_tensor *mask, bool causal)
{
    if (!m || strcmp(nb_module_kind(m), "MultiheadAttention") != 0) {
        nb_set_error(NB_ERR_VALUE, "nb_mha_attend: module is not a MultiheadAttention");
        return NULL;
    }
    const attend_args a = {xkv, mask, causal};
    return nbi_module_call(attend, m, xq, &a); /* outside a step: a private one */
}

static nb_tensor *mha_forward(nb_module *m, nb_tensor *x)
{
    const mha_cfg *c = nb_module_user_data(m);
    return nb_mha_attend(m, x, NULL, NULL, c->causal);
}

nb_module *nb_mha_new(int64_t d_model, int64_t heads, bool causal, nb_rng *rng, nb_dtype dtype)
{
    if (d_model < 1 || heads < 1 || d_model % heads) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_mha_new: d_model %lld must be a positive multiple of heads %lld",
                     (long long)d_model, (long long)heads);
        return NULL;
    }
    mha_cfg *c = malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "nb_mha_new: out of memory");
        return NULL;
    }
    *c = (mha_cfg){d_model, heads, causal};
    nb_module *m = nb_module_new("MultiheadAttention", dtype, mha_forward, c, free);
    const char *names[4] = {"q", "k", "v", "out"};
    for (int i = 0; m && i < 4; i++)
        if (nb_module_add_child(m, names[i],
                                nb_linear_new_ex(d_model, d_model, true, rng, dtype)) != NB_OK) {
            nb_module_free(m);
            return NULL;
        }
    if (m)
        nb_module_set_info(m, "d_model %lld, %lld heads%s", (long long)d_model, (long long)heads,
                           causal ? ", causal" : "");
    return m;
}

/* ---- RMSNorm: x / sqrt(mean(x^2, last dim) + eps) * weight ---- */
typedef struct {
    double eps;
} rms_cfg;

static nb_tensor *rms_forward(nb_module *m, nb_tensor *x)
{
    const rms_cfg *c = nb_module_user_data(m);
    nb_tensor *w = nb_module_param(m, "weight");
    if (x && nb_tensor_dim(x, -1) != nb_tensor_dim(w, 0)) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [*, %lld]",
                        nb_tensor_shape_str(x, got, sizeof got), (long long)nb_tensor_dim(w, 0));
        return NULL;
    }
    const int axis = -1;
    nb_tensor *ms = nb_mean_axes(nb_square(x), 1, &axis, true);
    return nb_mul(nb_div(x, nb_sqrt(nb_add_scalar(ms, c->eps))), w);
}

nb_module *nb_rms_norm_new(int64_t dim, double eps, nb_dtype dtype)
{
    rms_cfg *c = malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "nb_rms_norm_new: out of memory");
        return NULL;
    }
    c->eps = eps > 0 ? eps : 1e-6;
    nb_module *m = nb_module_new("RMSNorm", dtype, rms_forward, c, free);
    nb_tensor *w = m ? nb_module_add_param(m, "weight", 1, (const int64_t[]){dim}) : NULL;
    if (!w || nb_init_constant(w, 1.0) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- encoder layer ---- */
typedef struct {
    bool pre_norm, causal;
    double dropout;
    nb_rng rng; /* dropout draws */
} layer_cfg;

static nb_tensor *drop(nb_module *m, layer_cfg *c, nb_tensor *x)
{
    if (!nb_module_is_training(m) || c->dropout == 0)
        return x;
    return nb_dropout(x, c->dropout, &c->rng);
}

static nb_tensor *layer_forward(nb_module *m, nb_tensor *x)
{
    layer_cfg *c = nb_module_user_data(m);
    nb_module *ln1 = nb_module_child(m, "ln1"), *ln2 = nb_module_child(m, "ln2");
    nb_module *attn = nb_module_child(m, "attn");
    nb_module *ff1 = nb_module_child(m, "ff1"), *ff2 = nb_module_child(m, "ff2");
    if (c->pre_norm) {
        x = nb_add(
            x, drop(m, c, nb_mha_attend(attn, nb_module_forward(ln1, x), NULL, NULL, c->causal)));
        nb_tensor *h = nb_gelu(linear_last(ff1, nb_module_forward(ln2, x)), NB_GELU_TANH);
        return nb_add(x, drop(m, c, linear_last(ff2, h)));
    }
    x = nb_module_forward(ln1,
                          nb_add(x, drop(m, c, nb_mha_attend(attn, x, NULL, NULL, c->causal))));
    nb_tensor *h = nb_gelu(linear_last(ff1, x), NB_GELU_TANH);
    return nb_module_forward(ln2, nb_add(x, drop(m, c, linear_last(ff2, h))));
}

nb_module *nb_transformer_layer_new(const nb_transformer_opts *opts, nb_rng *rng)
{
    const char *fn = "nb_transformer_layer_new";
    if (!opts || !rng) {
        nb_set_error(NB_ERR_VALUE, "%s: opts and rng must not be NULL", fn);
        return NULL;
    }
    const nb_transformer_opts o = *opts;
    if (o.d_model < 1 || o.heads < 1 || o.d_model % o.heads || o.d_ff < 1 ||
        !(o.dropout >= 0 && o.dropout < 1)) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: need d_model a positive multiple of heads, d_ff >= 1, dropout in [0, 1): "
                     "got d_model %lld, heads %lld, d_ff %lld, dropout %g",
                     fn, (long long)o.d_model, (long long)o.heads, (long long)o.d_ff, o.dropout);
        return NULL;
    }
    layer_cfg *c = malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *c = (layer_cfg){.pre_norm = !o.post_norm,
                     .causal = o.causal,
                     .dropout = o.dropout,
                     .rng = nb_rng_seed(nb_rng_u64(rng))};
    const nb_dtype dt = o.dtype;
    nb_module *m = nb_module_new("TransformerLayer", dt, layer_forward, c, free);
    const nb_norm_layer_opts lo = {.dtype = dt};
    const int64_t dm[1] = {o.d_model};
    nb_status st = m ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK)
        st = nb_module_add_child(m, "ln1", nb_layer_norm_new(1, dm, &lo));
    if (st == NB_OK)
        st = nb_module_add_child(m, "attn", nb_mha_new(o.d_model, o.heads, o.causal, rng, dt));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ln2", nb_layer_norm_new(1, dm, &lo));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ff1", nb_linear_new_ex(o.d_model, o.d_ff, true, rng, dt));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ff2", nb_linear_new_ex(o.d_ff, o.d_model, true, rng, dt));
    if (st != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "d_model %lld, %lld heads, d_ff %lld, %s-norm%s", (long long)o.d_model,
                       (long long)o.heads, (long long)o.d_ff, o.post_norm ? "post" : "pre",
                       o.causal ? ", causal" : "");
    return m;
}

/* ---- position encodings ---- */
nb_tensor *nb_sinusoidal_positions(int64_t len, int64_t dim, nb_dtype dtype)
{
    if (len < 1 || dim < 2 || dim % 2) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_sinusoidal_positions: need len >= 1 and an even dim >= 2, got %lld, %lld",
                     (long long)len, (long long)dim);
        return NULL;
    }
    nb_tensor *p = nb_tensor_new(dtype, 2, (const int64_t[]){len, dim});
    for (int64_t t = 0; p && t < len; t++)
        for (int64_t i = 0; i < dim / 2; i++) {
            double a = (double)t / pow(10000.0, 2.0 * (double)i / (double)dim);
            nb_tensor_set(p, t * dim + 2 * i, sin(a));
            nb_tensor_set(p, t * dim + 2 * i + 1, cos(a));
        }
    return p;
}
