/* nabla/transformer.h — attention and Transformer layers, composed of public ops (nn/).
 *
 * Inputs are [B, T, D] (batch, positions, features). Multi-head attention projects with
 * nb_linear, splits heads as views and runs the fused nb_scaled_dot_product_attention, so
 * memory grows with T, not T^2. A decoder-only language model is an nb_embedding, learned or
 * sinusoidal positions, a stack of causal pre-norm layers, a final LayerNorm and an output
 * projection, which may reuse the embedding table (weight tying: nb_tied_logits, logits = h @
 * E^T); examples/gpt_chars.c builds one. docs/transformer.md maps each module's parameters to
 * PyTorch's, so weights load one to one. */
#ifndef NABLA_TRANSFORMER_H
#define NABLA_TRANSFORMER_H

#include "nabla/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Multi-head attention: children "q", "k", "v", "out" (Linear d_model -> d_model, with bias).
 * nb_module_forward(m, x) is self-attention over x [B, T, d_model] (causal when made so).
 * Errors: NB_ERR_VALUE (d_model not a positive multiple of heads), NB_ERR_NOMEM. */
NB_API nb_module *nb_mha_new(int64_t d_model, int64_t heads, bool causal, nb_rng *rng,
                             nb_dtype dtype);
/* Attention of queries from xq [B, T, D] over keys and values from xkv [B, S, D] (NULL: xq, i.e.
 * self-attention; else cross-attention), with an optional mask broadcastable to [B, H, T, S]
 * (additive, e.g. -inf at padded keys as [B, 1, 1, S]) and causal masking. */
NB_API nb_tensor *nb_mha_attend(nb_module *m, nb_tensor *xq, nb_tensor *xkv, nb_tensor *mask,
                                bool causal);

/* Masks of one attention call (zeroed = none). PyTorch's key_padding_mask and float attn_mask. */
typedef struct nb_attn_masks {
    nb_tensor *mask;        /* additive, of the input dtype, broadcastable to [B, H, T, S] */
    nb_tensor *key_padding; /* [B, S], any dtype: nonzero marks a padded key no query sees */
    bool causal;            /* query i sees keys j <= i */
} nb_attn_masks;
/* nb_mha_attend with key-padding masks: attention of xq [B, T, D] over xkv [B, S, D] (NULL: xq)
 * with masks (NULL: none). The padded keys get -inf added to their scores (a query whose every
 * key is hidden gets 0, where PyTorch gives NaN). Errors: NB_ERR_SHAPE (xq, xkv or key_padding
 * of another shape), NB_ERR_VALUE (m not a MultiheadAttention). */
NB_API nb_tensor *nb_mha_attend_masked(nb_module *m, nb_tensor *xq, nb_tensor *xkv,
                                       const nb_attn_masks *masks);

/* RMSNorm over the last dim: x / sqrt(mean(x^2) + eps) * weight (eps <= 0 -> 1e-6). */
NB_API nb_module *nb_rms_norm_new(int64_t dim, double eps, nb_dtype dtype);

/* The MLP activation of a Transformer layer (PyTorch: activation="gelu" is NB_FF_GELU,
 * "relu" NB_FF_RELU, and F.gelu(x, approximate="tanh") NB_FF_GELU_TANH). */
typedef enum nb_ff_activation {
    NB_FF_GELU_TANH = 0,
    NB_FF_GELU = 1,
    NB_FF_RELU = 2
} nb_ff_activation;

typedef struct nb_transformer_opts {
    int64_t d_model, heads, d_ff;
    double dropout; /* on the attention and MLP outputs (training mode) */
    bool causal;    /* self-attention sees only earlier positions (decoder-only models) */
    bool post_norm; /* false (default): pre-norm x + f(LN(x)); true: LN(x + f(x)) */
    nb_dtype dtype;
    nb_ff_activation activation; /* of the MLP: GELU in its tanh form (default), GELU, ReLU */
} nb_transformer_opts;

/* One Transformer encoder layer (self-attention + GELU MLP, residual connections, LayerNorm):
 * children "ln1", "attn", "ln2", "ff1", "ff2". A causal layer is a decoder-only block. Dropout
 * draws from a generator seeded from rng. Errors: NB_ERR_VALUE (bad sizes), NB_ERR_NOMEM. */
NB_API nb_module *nb_transformer_layer_new(const nb_transformer_opts *opts, nb_rng *rng);

/* Transformer decoder layer (Vaswani et al.; PyTorch's nn.TransformerDecoderLayer): causal-able
 * self-attention, cross-attention over a memory, MLP, each a residual sublayer with its own
 * LayerNorm (pre- or post-norm as in nb_transformer_layer_new). Children "ln1", "attn" (self),
 * "ln2", "cross", "ln3", "ff1", "ff2"; opts->causal makes the self-attention causal. It runs only
 * through nb_transformer_decoder_forward (nb_module_forward: NB_ERR_VALUE, it needs a memory).
 * Errors: as nb_transformer_layer_new. */
NB_API nb_module *nb_transformer_decoder_layer_new(const nb_transformer_opts *opts, nb_rng *rng);
/* Decoder layer on x [B, T, D] attending to memory [B, S, D]: self_masks apply to the
 * self-attention (T keys; causal adds to the layer's own), memory_masks to the cross-attention
 * (S keys); either may be NULL. NULL on error (NB_ERR_VALUE: m not a decoder layer or memory
 * NULL; NB_ERR_SHAPE). */
NB_API nb_tensor *nb_transformer_decoder_forward(nb_module *m, nb_tensor *x, nb_tensor *memory,
                                                 const nb_attn_masks *self_masks,
                                                 const nb_attn_masks *memory_masks);
/* Encoder layer (nb_transformer_layer_new) on x [B, T, D] with self-attention masks (e.g. a key
 * padding mask; NULL: none, the same as nb_module_forward). NB_ERR_VALUE if m is not one. */
NB_API nb_tensor *nb_transformer_layer_forward(nb_module *m, nb_tensor *x,
                                               const nb_attn_masks *masks);

/* Learned position embedding: parameter "weight" [max_len, dim] drawn N(0, 0.02^2) (GPT-2's
 * init). nb_module_forward(m, x) for x [*, T, dim] with T <= max_len is x + weight[0:T], i.e.
 * PyTorch's x + nn.Embedding(max_len, dim)(arange(T)). Errors: NB_ERR_VALUE (sizes < 1, rng
 * NULL), NB_ERR_NOMEM; forward: NB_ERR_SHAPE (last dim not dim, T > max_len). */
NB_API nb_module *nb_position_embedding_new(int64_t max_len, int64_t dim, nb_rng *rng,
                                            nb_dtype dtype);

/* Weight tying: the output projection of a language model that reuses the embedding table E
 * [V, D] of an nb_embedding module: h [*, D] -> logits [*, V] = h @ E^T. E is the one tensor of
 * both uses, so its gradient is the sum of the lookup's and the projection's (no copy, no extra
 * parameter; optimizers update it once). Errors: NB_ERR_VALUE (not an Embedding), NB_ERR_SHAPE. */
NB_API nb_tensor *nb_tied_logits(nb_module *embedding, nb_tensor *h);

/* Caller-owned [len, dim] table of sinusoidal position encodings (Vaswani et al.): even
 * columns sin(t / 10000^(2i/dim)), odd columns cos(...). dim must be even. */
NB_API nb_tensor *nb_sinusoidal_positions(int64_t len, int64_t dim, nb_dtype dtype);

/* GELU in its tanh form, composed of ops: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) —
 * the reference the fused nb_gelu(x, NB_GELU_TANH) (which the layers use) is checked against. */
NB_API nb_tensor *nb_gelu_tanh_composed(nb_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
