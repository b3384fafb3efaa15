/* tests/ops/cases_attention.c — gradient checks of the fused scaled dot-product attention:
 * plain, causal with T != S and several blocks, additive and boolean masks, strided heads,
 * dropout, and the heads-last layout (the mask is derived from a fixed seed, so every evaluation
 * draws the same one). */
#include "support/nbt.h"

static nb_tensor *f_plain(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_scaled_dot_product_attention(in[0], in[1], in[2], NULL, NULL);
}
static nb_status case_sdpa_plain(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 2, 2, 3, 4), NBT_IN(-1, 1, 2, 2, 5, 4),
                              NBT_IN(-1, 1, 2, 2, 5, 3)};
    return nbt_check(f_plain, NULL, spec, 3, 1);
}

/* T = 133 and S = 131 cross the 32-row query blocks and the 128-row key blocks; causal */
static nb_tensor *f_causal(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_sdpa_opts o = {.causal = true};
    return nb_scaled_dot_product_attention(in[0], in[1], in[2], NULL, &o);
}
static nb_status case_sdpa_causal_blocks(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 1, 1, 133, 2), NBT_IN(-1, 1, 1, 1, 131, 2),
                              NBT_IN(-1, 1, 1, 1, 131, 2)};
    return nbt_check(f_causal, NULL, spec, 3, 2);
}

static nb_tensor *f_masks(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_sdpa_opts bo = {.mask_is_bool = true, .scale = 0.7};
    nb_tensor *keep = nbi_tensor_alloc("test", in[0]->dtype, 2, (const int64_t[]){3, 4});
    for (int64_t i = 0; i < 12; i++)
        nb_tensor_set(keep, i, (i * 7) % 5 == 0 ? 0.0 : 1.0);
    nb_tensor *a = nb_scaled_dot_product_attention(in[0], in[1], in[2], keep, &bo);
    nb_tensor *b = nb_scaled_dot_product_attention(in[0], in[1], in[2], in[3], NULL);
    return nb_add(a, b);
}
static nb_status case_sdpa_masks(void)
{
    nbt_input spec[] = {NBT_IN(-1, 1, 1, 2, 3, 2), NBT_IN(-1, 1, 1, 2, 4, 2),
                        NBT_IN(-1, 1, 1, 2, 4, 3), NBT_IN(-1, 1, 1, 1, 1, 4)};
    spec[3].no_grad = true; /* additive key-padding style mask [1, 1, 1, S] */
    return nbt_check(f_masks, NULL, spec, 4, 3);
}

/* heads split from [B, T, H, d] by a permute: q, k, v read through their strides */
static nb_tensor *f_strided(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    const int p[4] = {0, 2, 1, 3};
    return nb_scaled_dot_product_attention(nb_permute(in[0], p), nb_permute(in[1], p),
                                           nb_permute(in[2], p), NULL, NULL);
}
static nb_status case_sdpa_strided(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 2, 3, 2, 4), NBT_IN(-1, 1, 2, 5, 2, 4),
                              NBT_IN(-1, 1, 2, 5, 2, 3)};
    return nbt_check(f_strided, NULL, spec, 3, 4);
}

static nb_tensor *f_dropout(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_rng rng = nb_rng_seed(99); /* the same draw every evaluation */
    nb_sdpa_opts o = {.dropout = 0.3, .rng = &rng};
    return nb_scaled_dot_product_attention(in[0], in[1], in[2], NULL, &o);
}
static nb_status case_sdpa_dropout(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 1, 2, 6, 3), NBT_IN(-1, 1, 1, 2, 7, 3),
                              NBT_IN(-1, 1, 1, 2, 7, 2)};
    return nbt_check(f_dropout, NULL, spec, 3, 5);
}

/* heads_last: [B, T, H, *] tensors, causal with T != S across blocks, an additive mask, and a
 * q that is a strided view (every other query of a longer tensor) */
static nb_tensor *f_heads_last(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_sdpa_opts o = {.causal = true, .heads_last = true};
    nb_tensor *a = nb_scaled_dot_product_attention(in[0], in[1], in[2], NULL, &o);
    nb_sdpa_opts m = {.heads_last = true};
    nb_tensor *b =
        nb_scaled_dot_product_attention(nb_slice(in[3], 1, 0, 70, 2), in[1], in[2], in[4], &m);
    return nb_add(a, b);
}
static nb_status case_sdpa_heads_last(void)
{
    nbt_input spec[] = {NBT_IN(-1, 1, 1, 35, 2, 2), NBT_IN(-1, 1, 1, 33, 2, 2),
                        NBT_IN(-1, 1, 1, 33, 2, 3), NBT_IN(-1, 1, 1, 70, 2, 2),
                        NBT_IN(-1, 1, 1, 2, 1, 33)};
    spec[4].no_grad = true; /* additive mask [1, H, 1, S] */
    return nbt_check(f_heads_last, NULL, spec, 5, 6);
}

const nbt_case nbt_cases_attention[] = {
    {"sdpa_plain", NB_OP_SDPA, case_sdpa_plain},
    {"sdpa_causal_blocks", NB_OP_SDPA, case_sdpa_causal_blocks},
    {"sdpa_masks", NB_OP_SDPA, case_sdpa_masks},
    {"sdpa_strided", NB_OP_SDPA, case_sdpa_strided},
    {"sdpa_dropout", NB_OP_SDPA, case_sdpa_dropout},
    {"sdpa_heads_last", NB_OP_SDPA, case_sdpa_heads_last},
    {0},
};
