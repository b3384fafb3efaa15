/* nn/transformer.c — multi-head attention, RMSNorm, Transformer encoder and decoder layers,
 * position encodings and tied output projections, composed only of public ops: projections are
 * nb_linear, heads are nb_reshape views [B, T, H, D/H] (read in place by the fused
 * nb_scaled_dot_product_attention with heads_last, whose result the output projection reads as
 * [B, T, D]), the MLP is nb_linear + an activation + nb_linear (the second one nb_linear_ex with
 * the activation recomputed in backward). */
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

typedef struct {
    nb_tensor *residual; /* [..., out] or NULL */
    nb_linear_act act;
} linear_ex_args;

static nb_tensor *linear_ex_fn(nb_module *lin, nb_tensor *x, const void *ctx)
{
    const linear_ex_args *a = ctx;
    nb_tensor *w = nb_module_param(lin, "weight");
    nb_tensor *b = nb_module_has_param(lin, "bias") ? nb_module_param(lin, "bias") : NULL;
    nb_tensor *r = a->residual;
    if (r && nb_tensor_ndim(r) != 2 && w)
        r = nb_reshape(r, 2, (const int64_t[]){-1, nb_tensor_dim(w, 0)});
    return nb_linear_ex(x, w, b, r, a->act);
}

/* linear(act(x)) + residual over the last dim of x [..., in] (residual: [..., out], may be
 * NULL): one nb_linear_ex when lin is a plain Linear, which then stores neither act(x) nor the
 * product (docs/transformer.md, "Memory"); composed otherwise. */
static nb_tensor *linear_last_ex(nb_module *lin, nb_tensor *x, nb_tensor *residual,
                                 nb_linear_act act)
{
    if (!x || !lin)
        return linear_last(lin, x);
    if (strcmp(nb_module_kind(lin), "Linear") != 0) {
        nb_tensor *a = act == NB_LINEAR_ACT_RELU        ? nb_relu(x)
                       : act == NB_LINEAR_ACT_GELU      ? nb_gelu(x, NB_GELU_EXACT)
                       : act == NB_LINEAR_ACT_GELU_TANH ? nb_gelu(x, NB_GELU_TANH)
                                                        : x;
        nb_tensor *y = linear_last(lin, a);
        return residual ? nb_add(residual, y) : y;
    }
    const int nd = nb_tensor_ndim(x);
    const int64_t *s = nb_tensor_shape(x);
    int64_t rows = 1, out[NB_MAX_DIMS];
    for (int d = 0; d < nd - 1; d++) {
        rows *= s[d];
        out[d] = s[d];
    }
    const linear_ex_args a = {residual, act};
    nb_tensor *y = nbi_module_forward_as(
        linear_ex_fn, lin, nd == 2 ? x : nb_reshape(x, 2, (const int64_t[]){rows, s[nd - 1]}), &a);
    if (!y || nd == 2)
        return y;
    out[nd - 1] = nb_tensor_dim(y, 1);
    return nb_reshape(y, nd, out);
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

/* [B, T, D] -> [B, T, H, D/H] view, the layout attention reads with opts.heads_last */
static nb_tensor *split_heads(nb_tensor *x, int64_t heads)
{
    if (!x)
        return NULL;
    const int64_t B = nb_tensor_dim(x, 0), T = nb_tensor_dim(x, 1), D = nb_tensor_dim(x, 2);
    return nb_reshape(x, 4, (const int64_t[]){B, T, heads, D / heads});
}

typedef struct {
    nb_tensor *xkv;
    nb_attn_masks masks;
    nb_tensor *residual; /* added to the output projection (a layer's skip connection), or NULL */
} attend_args;

/* The additive mask of one call: masks->mask (if any) plus -inf at the padded keys of
 * masks->key_padding [B, S] (as [B, 1, 1, S]); NULL when neither is given. */
static nb_tensor *attention_mask(nb_module *m, const nb_attn_masks *mk, nb_tensor *xq,
                                 nb_tensor *xkv)
{
    nb_tensor *kp = mk->key_padding;
    if (!kp)
        return mk->mask;
    const int64_t B = nb_tensor_dim(xq, 0), S = nb_tensor_dim(xkv, 1);
    if (nb_tensor_ndim(kp) != 2 || nb_tensor_dim(kp, 0) != B || nb_tensor_dim(kp, 1) != S) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "key padding mask is %s, expected [%lld, %lld]",
                        nb_tensor_shape_str(kp, got, sizeof got), (long long)B, (long long)S);
        return NULL;
    }
    const int64_t shape[4] = {B, 1, 1, S};
    nb_tensor *add = nb_masked_fill(nb_constant(nb_tensor_dtype(xq), 4, shape, 0.0),
                                    nb_reshape(kp, 4, shape), -INFINITY);
    return mk->mask ? nb_add(mk->mask, add) : add;
}

static nb_tensor *attend(nb_module *m, nb_tensor *xq, const void *ctx)
{
    const attend_args *args = ctx;
    nb_tensor *xkv = args->xkv ? args->xkv : xq;
    const mha_cfg *c = nb_module_user_data(m);
    if (!xq || !xkv)
        return NULL;
    if (nb_tensor_ndim(xq) != 3 || nb_tensor_dim(xq, 2) != c->d_model) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "query input is %s, expected [B, T, %lld]",
                        nb_tensor_shape_str(xq, got, sizeof got), (long long)c->d_model);
        return NULL;
    }
    if (nb_tensor_ndim(xkv) != 3 || nb_tensor_dim(xkv, 0) != nb_tensor_dim(xq, 0) ||
        nb_tensor_dim(xkv, 2) != c->d_model) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "key/value input is %s, expected [%lld, S, %lld]",
                        nb_tensor_shape_str(xkv, got, sizeof got), (long long)nb_tensor_dim(xq, 0),
                        (long long)c->d_model);
        return NULL;
    }
    nb_tensor *mask = attention_mask(m, &args->masks, xq, xkv);
    if (args->masks.key_padding && !mask)
        return NULL;
    nb_tensor *q = split_heads(linear_last(nb_module_child(m, "q"), xq), c->heads);
    nb_tensor *k = split_heads(linear_last(nb_module_child(m, "k"), xkv), c->heads);
    nb_tensor *v = split_heads(linear_last(nb_module_child(m, "v"), xkv), c->heads);
    nb_sdpa_opts o = {.causal = args->masks.causal, .heads_last = true};
    nb_tensor *a = nb_scaled_dot_product_attention(q, k, v, mask, &o); /* [B, T, H, dh] */
    if (!a)
        return NULL;
    const int64_t B = nb_tensor_dim(a, 0), T = nb_tensor_dim(a, 1);
    nb_tensor *merged = nb_reshape(a, 3, (const int64_t[]){B, T, c->d_model}); /* a view */
    return linear_last_ex(nb_module_child(m, "out"), merged, args->residual, NB_LINEAR_ACT_NONE);
}

/* nb_mha_attend_masked plus residual, added by the output projection's op (NULL: none). */
static nb_tensor *mha_attend(nb_module *m, nb_tensor *xq, nb_tensor *xkv,
                             const nb_attn_masks *masks, nb_tensor *residual)
{
    if (!m || strcmp(nb_module_kind(m), "MultiheadAttention") != 0) {
        nb_set_error(NB_ERR_VALUE, "nb_mha_attend: module is not a MultiheadAttention");
        return NULL;
    }
    const attend_args a = {xkv, masks ? *masks : (nb_attn_masks){0}, residual};
    return nbi_module_call(attend, m, xq, &a); /* outside a step: a private one */
}

nb_tensor *nb_mha_attend_masked(nb_module *m, nb_tensor *xq, nb_tensor *xkv,
                                const nb_attn_masks *masks)
{
    return mha_attend(m, xq, xkv, masks, NULL);
}

nb_tensor *nb_mha_attend(nb_module *m, nb_tensor *xq, nb_tensor *xkv, nb_tensor *mask, bool causal)
{
    const nb_attn_masks mk = {.mask = mask, .causal = causal};
    return nb_mha_attend_masked(m, xq, xkv, &mk);
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

/* ---- encoder and decoder layers ---- */
typedef struct {
    bool pre_norm, causal, decoder;
    nb_ff_activation act;
    double dropout;
    nb_rng rng; /* dropout draws */
} layer_cfg;

static nb_tensor *drop(nb_module *m, layer_cfg *c, nb_tensor *x)
{
    if (!nb_module_is_training(m) || c->dropout == 0)
        return x;
    return nb_dropout(x, c->dropout, &c->rng);
}

typedef struct {
    nb_tensor *memory;                        /* decoder: the encoder output cross-attended to */
    const nb_attn_masks *self, *memory_masks; /* may be NULL */
} layer_args;

/* Sublayer i of a layer: self-attention, (decoder) cross-attention, then the MLP, with the
 * skip connection's residual (or NULL) added by the sublayer's last projection. */
static nb_tensor *sublayer(nb_module *m, layer_cfg *c, int i, nb_tensor *x, const layer_args *a,
                           nb_tensor *residual)
{
    const int n = c->decoder ? 3 : 2;
    if (i == n - 1) {
        nb_tensor *h = linear_last(nb_module_child(m, "ff1"), x);
        const nb_linear_act act = c->act == NB_FF_RELU   ? NB_LINEAR_ACT_RELU
                                  : c->act == NB_FF_GELU ? NB_LINEAR_ACT_GELU
                                                         : NB_LINEAR_ACT_GELU_TANH;
        return linear_last_ex(nb_module_child(m, "ff2"), h, residual, act);
    }
    nb_attn_masks mk = {0};
    const nb_attn_masks *given = i == 0 ? a->self : a->memory_masks;
    if (given)
        mk = *given;
    if (i == 0) {
        mk.causal = mk.causal || c->causal;
        return mha_attend(nb_module_child(m, "attn"), x, NULL, &mk, residual);
    }
    return mha_attend(nb_module_child(m, "cross"), x, a->memory, &mk, residual);
}

/* pre-norm: x <- x + f(LN(x)); post-norm: x <- LN(x + f(x)), for each sublayer f. Without
 * dropout the sum is f's last op (nb_linear_ex's residual): the layer stores no separate f. */
static nb_tensor *layer_run(nb_module *m, nb_tensor *x, const void *ctx)
{
    layer_cfg *c = nb_module_user_data(m);
    const char *norms[3] = {"ln1", "ln2", "ln3"};
    const bool dropout = nb_module_is_training(m) && c->dropout > 0;
    for (int i = 0; i < (c->decoder ? 3 : 2); i++) {
        nb_module *ln = nb_module_child(m, norms[i]);
        nb_tensor *in = c->pre_norm ? nb_module_forward(ln, x) : x;
        x = dropout ? nb_add(x, drop(m, c, sublayer(m, c, i, in, ctx, NULL)))
                    : sublayer(m, c, i, in, ctx, x);
        if (!c->pre_norm)
            x = nb_module_forward(ln, x);
    }
    return x;
}

static nb_tensor *layer_forward(nb_module *m, nb_tensor *x)
{
    const layer_cfg *c = nb_module_user_data(m);
    if (c->decoder) {
        nb_module_error(m, NB_ERR_VALUE,
                        "a decoder layer attends to a memory: call nb_transformer_decoder_forward");
        return NULL;
    }
    return layer_run(m, x, &(layer_args){0});
}

static nb_module *layer_new(const char *fn, bool decoder, const nb_transformer_opts *opts,
                            nb_rng *rng)
{
    if (!opts || !rng) {
        nb_set_error(NB_ERR_VALUE, "%s: opts and rng must not be NULL", fn);
        return NULL;
    }
    const nb_transformer_opts o = *opts;
    if (o.d_model < 1 || o.heads < 1 || o.d_model % o.heads || o.d_ff < 1 ||
        !(o.dropout >= 0 && o.dropout < 1) || o.activation < NB_FF_GELU_TANH ||
        o.activation > NB_FF_RELU) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: need d_model a positive multiple of heads, d_ff >= 1, dropout in [0, 1), "
                     "a known activation: got d_model %lld, heads %lld, d_ff %lld, dropout %g, "
                     "activation %d",
                     fn, (long long)o.d_model, (long long)o.heads, (long long)o.d_ff, o.dropout,
                     (int)o.activation);
        return NULL;
    }
    layer_cfg *c = malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *c = (layer_cfg){.pre_norm = !o.post_norm,
                     .causal = o.causal,
                     .decoder = decoder,
                     .act = o.activation,
                     .dropout = o.dropout,
                     .rng = nb_rng_seed(nb_rng_u64(rng))};
    const nb_dtype dt = o.dtype;
    nb_module *m = nb_module_new(decoder ? "TransformerDecoderLayer" : "TransformerLayer", dt,
                                 layer_forward, c, free);
    const nb_norm_layer_opts lo = {.dtype = dt};
    const int64_t dm[1] = {o.d_model};
    nb_status st = m ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK)
        st = nb_module_add_child(m, "ln1", nb_layer_norm_new(1, dm, &lo));
    if (st == NB_OK)
        st = nb_module_add_child(m, "attn", nb_mha_new(o.d_model, o.heads, o.causal, rng, dt));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ln2", nb_layer_norm_new(1, dm, &lo));
    if (st == NB_OK && decoder)
        st = nb_module_add_child(m, "cross", nb_mha_new(o.d_model, o.heads, false, rng, dt));
    if (st == NB_OK && decoder)
        st = nb_module_add_child(m, "ln3", nb_layer_norm_new(1, dm, &lo));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ff1", nb_linear_new_ex(o.d_model, o.d_ff, true, rng, dt));
    if (st == NB_OK)
        st = nb_module_add_child(m, "ff2", nb_linear_new_ex(o.d_ff, o.d_model, true, rng, dt));
    if (st != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    const char *acts[3] = {"GELU (tanh)", "GELU", "ReLU"};
    nb_module_set_info(m, "d_model %lld, %lld heads, d_ff %lld, %s, %s-norm%s",
                       (long long)o.d_model, (long long)o.heads, (long long)o.d_ff,
                       acts[o.activation], o.post_norm ? "post" : "pre",
                       o.causal ? ", causal" : "");
    return m;
}

nb_module *nb_transformer_layer_new(const nb_transformer_opts *opts, nb_rng *rng)
{
    return layer_new("nb_transformer_layer_new", false, opts, rng);
}

nb_module *nb_transformer_decoder_layer_new(const nb_transformer_opts *opts, nb_rng *rng)
{
    return layer_new("nb_transformer_decoder_layer_new", true, opts, rng);
}

/* The layer's config when m is a layer of the wanted kind, else NULL with an error. */
static const layer_cfg *layer_of(nb_module *m, const char *fn, bool decoder)
{
    const char *want = decoder ? "TransformerDecoderLayer" : "TransformerLayer";
    if (!m || strcmp(nb_module_kind(m), want) != 0) {
        nb_set_error(NB_ERR_VALUE, "%s: module is a %s, not a %s", fn,
                     m ? nb_module_kind(m) : "NULL", want);
        return NULL;
    }
    return nb_module_user_data(m);
}

nb_tensor *nb_transformer_layer_forward(nb_module *m, nb_tensor *x, const nb_attn_masks *masks)
{
    if (!layer_of(m, "nb_transformer_layer_forward", false))
        return NULL;
    const layer_args a = {.self = masks};
    return nbi_module_call(layer_run, m, x, &a);
}

nb_tensor *nb_transformer_decoder_forward(nb_module *m, nb_tensor *x, nb_tensor *memory,
                                          const nb_attn_masks *self_masks,
                                          const nb_attn_masks *memory_masks)
{
    const char *fn = "nb_transformer_decoder_forward";
    if (!layer_of(m, fn, true))
        return NULL;
    if (!memory) {
        nb_set_error(NB_ERR_VALUE, "%s: memory must not be NULL", fn);
        return NULL;
    }
    const layer_args a = {memory, self_masks, memory_masks};
    return nbi_module_call(layer_run, m, x, &a);
}

/* ---- learned positions and tied output projection ---- */
static nb_tensor *pos_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *w = nb_module_param(m, "weight");
    const int64_t L = nb_tensor_dim(w, 0), D = nb_tensor_dim(w, 1);
    if (!x || nb_tensor_ndim(x) < 2 || nb_tensor_dim(x, -1) != D || nb_tensor_dim(x, -2) > L) {
        char got[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [*, T, %lld] with T <= %lld",
                        x ? nb_tensor_shape_str(x, got, sizeof got) : "NULL", (long long)D,
                        (long long)L);
        return NULL;
    }
    return nb_add(x, nb_slice(w, 0, 0, nb_tensor_dim(x, -2), 1));
}

nb_module *nb_position_embedding_new(int64_t max_len, int64_t dim, nb_rng *rng, nb_dtype dtype)
{
    if (max_len < 1 || dim < 1 || !rng) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_position_embedding_new: need max_len, dim >= 1 and an rng, got %lld, "
                     "%lld%s",
                     (long long)max_len, (long long)dim, rng ? "" : ", rng NULL");
        return NULL;
    }
    nb_module *m = nb_module_new("PositionEmbedding", dtype, pos_forward, NULL, NULL);
    nb_tensor *w = m ? nb_module_add_param(m, "weight", 2, (const int64_t[]){max_len, dim}) : NULL;
    if (!w || nb_init_normal(w, rng, 0.0, 0.02) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld positions, dim %lld", (long long)max_len, (long long)dim);
    return m;
}

static nb_tensor *tied_logits(nb_module *emb, nb_tensor *h, const void *ctx)
{
    (void)ctx;
    nb_tensor *E = nb_module_param(emb, "weight"); /* [V, D] */
    const int64_t V = nb_tensor_dim(E, 0), D = nb_tensor_dim(E, 1);
    const int nd = nb_tensor_ndim(h);
    if (nd < 1 || nb_tensor_dim(h, -1) != D) {
        char got[64];
        nb_module_error(emb, NB_ERR_SHAPE, "tied logits: input is %s, expected [*, %lld]",
                        nb_tensor_shape_str(h, got, sizeof got), (long long)D);
        return NULL;
    }
    int64_t out[NB_MAX_DIMS];
    memcpy(out, nb_tensor_shape(h), (size_t)nd * sizeof *out);
    out[nd - 1] = V;
    nb_tensor *h2 = nb_reshape(h, 2, (const int64_t[]){-1, D});
    return nb_reshape(nb_matmul(h2, nb_transpose(E, 0, 1)), nd, out);
}

nb_tensor *nb_tied_logits(nb_module *embedding, nb_tensor *h)
{
    if (!embedding || strcmp(nb_module_kind(embedding), "Embedding") != 0) {
        nb_set_error(NB_ERR_VALUE, "nb_tied_logits: module is a %s, not an Embedding",
                     embedding ? nb_module_kind(embedding) : "NULL");
        return NULL;
    }
    if (!h)
        return NULL;
    return nbi_module_call(tied_logits, embedding, h, NULL);
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
