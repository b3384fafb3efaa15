/* nabla/transformer.h — attention and Transformer layers, composed of public ops (nn/).
 *
 * Inputs are [B, T, D] (batch, positions, features). Multi-head attention projects with
 * nb_linear, splits heads as views and runs the fused nb_scaled_dot_product_attention, so
 * memory grows with T, not T^2. A decoder-only language model is an nb_embedding, learned or
 * sinusoidal positions, a stack of causal pre-norm layers, a final LayerNorm and an output
 * projection, which may reuse the embedding table (weight tying: logits = h @ E^T with nb_matmul
 * and nb_transpose of nb_module_param(embedding, "weight")); examples/gpt_chars.c builds one. */
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

/* RMSNorm over the last dim: x / sqrt(mean(x^2) + eps) * weight (eps <= 0 -> 1e-6). */
NB_API nb_module *nb_rms_norm_new(int64_t dim, double eps, nb_dtype dtype);

typedef struct nb_transformer_opts {
    int64_t d_model, heads, d_ff;
    double dropout; /* on the attention and MLP outputs (training mode) */
    bool causal;    /* self-attention sees only earlier positions (decoder-only models) */
    bool post_norm; /* false (default): pre-norm x + f(LN(x)); true: LN(x + f(x)) */
    nb_dtype dtype;
} nb_transformer_opts;

/* One Transformer encoder layer (self-attention + GELU MLP, residual connections, LayerNorm):
 * children "ln1", "attn", "ln2", "ff1", "ff2". A causal layer is a decoder-only block. Dropout
 * draws from a generator seeded from rng. Errors: NB_ERR_VALUE (bad sizes), NB_ERR_NOMEM. */
NB_API nb_module *nb_transformer_layer_new(const nb_transformer_opts *opts, nb_rng *rng);

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
