/* tests/ops/cases_random.c — gradient checks of the ops that draw random numbers: nb_dropout.
 * Each evaluation draws its mask from a fresh generator with a fixed seed, so the function that
 * nb_gradcheck differentiates is the same every time it is called. */
#include "support/nbt.h"

static nb_tensor *dropout_seeded(nb_tensor *x, double p)
{
    nb_rng rng = nb_rng_seed(42); /* nb_dropout reads the generator only while it runs */
    return nb_dropout(x, p, &rng);
}

NBT_GRADCASE(dropout, dropout_seeded(in[0], 0.3), NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(dropout_keep_all, dropout_seeded(in[0], 0.0), NBT_IN(-1, 1, 3, 2))
NBT_GRADCASE(dropout_transposed_input, dropout_seeded(nb_transpose(in[0], 0, 1), 0.5),
             NBT_IN(-1, 1, 3, 6))
/* The output consumed twice, and the input used again after dropout. */
NBT_GRADCASE(dropout_reused, nb_add(nb_mul(dropout_seeded(in[0], 0.4), in[0]), in[0]),
             NBT_IN(-1, 1, 7))

const nbt_case nbt_cases_random[] = {
    {"dropout", NB_OP_DROPOUT, case_dropout},
    {"dropout_keep_all", NB_OP_DROPOUT, case_dropout_keep_all},
    {"dropout_transposed_input", NB_OP_DROPOUT, case_dropout_transposed_input},
    {"dropout_reused", NB_OP_DROPOUT, case_dropout_reused},
    {0},
};
