/* tests/ops/cases_compare.c — gradient checks of where, masked_fill, tril and triu (the mask
 * ops have no gradient). Conditions come from a constant input compared with 0, so about half
 * the elements take each branch; broadcasting is checked on every input of where and on the
 * mask of masked_fill. */
#include "support/nbt.h"

#define ZERO nb_constant(NB_F64, NB_SHAPE_SCALAR, 0.0)
#define COND(lo_, hi_, ...)                                                                        \
    {                                                                                              \
        .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}, \
        .lo = (lo_), .hi = (hi_), .no_grad = true                                                  \
    }

NBT_GRADCASE(where, nb_where(nb_gt(in[0], ZERO), in[1], in[2]), COND(-1, 1, 3, 4),
             NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 3, 4))
/* cond [3, 1], a [4], b [1, 4]: every input is broadcast to [3, 4]. */
NBT_GRADCASE(where_broadcast, nb_where(nb_gt(in[0], ZERO), in[1], in[2]), COND(-1, 1, 3, 1),
             NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 1, 4))
/* The condition as a raw f64 tensor (nonzero = true) that also feeds the result. */
NBT_GRADCASE(where_mask_times_value, nb_mul(nb_where(nb_le(in[0], ZERO), in[0], in[1]), in[0]),
             NBT_IN(-1, 1, 2, 5), NBT_IN(-1, 1, 2, 5))
NBT_GRADCASE(masked_fill, nb_masked_fill(in[0], nb_gt(in[1], ZERO), -2.5), NBT_IN(-1, 1, 3, 4),
             COND(-1, 1, 3, 4))
/* A [T, T] causal mask broadcast over a batch of [B, T, T] scores. */
NBT_GRADCASE(masked_fill_broadcast_mask, nb_masked_fill(in[0], nb_gt(in[1], ZERO), 0.0),
             NBT_IN(-1, 1, 2, 4, 4), COND(-1, 1, 4, 4))
NBT_GRADCASE(tril, nb_tril(in[0], 0), NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(tril_batched_below, nb_tril(in[0], -1), NBT_IN(-1, 1, 2, 3, 5, 4))
NBT_GRADCASE(triu, nb_triu(in[0], 0), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(triu_above_of_transposed_view, nb_triu(nb_transpose(in[0], 0, 1), 2),
             NBT_IN(-1, 1, 6, 3))

const nbt_case nbt_cases_compare[] = {
    {"where", NB_OP_WHERE, case_where},
    {"where_broadcast", NB_OP_WHERE, case_where_broadcast},
    {"where_mask_times_value", NB_OP_WHERE, case_where_mask_times_value},
    {"masked_fill", NB_OP_MASKED_FILL, case_masked_fill},
    {"masked_fill_broadcast_mask", NB_OP_MASKED_FILL, case_masked_fill_broadcast_mask},
    {"tril", NB_OP_TRIL, case_tril},
    {"tril_batched_below", NB_OP_TRIL, case_tril_batched_below},
    {"triu", NB_OP_TRIU, case_triu},
    {"triu_above_of_transposed_view", NB_OP_TRIU, case_triu_above_of_transposed_view},
    {0},
};
