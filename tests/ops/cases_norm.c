/* tests/ops/cases_norm.c — gradient checks of nb_layer_norm: with and without weight and bias,
 * one and two normalised dims, a row of one element (its output is 0, its gradient too), and
 * an input far from zero (the mean must be subtracted before squaring). */
#include "support/nbt.h"

NBT_GRADCASE(layer_norm_last_dim, nb_layer_norm(in[0], 1, NULL, NULL, 1e-5), NBT_IN(-2, 2, 3, 5))
NBT_GRADCASE(layer_norm_affine, nb_layer_norm(in[0], 1, in[1], in[2], 1e-5), NBT_IN(-2, 2, 2, 3, 6),
             NBT_IN(0.5, 1.5, 6), NBT_IN(-1, 1, 6))
NBT_GRADCASE(layer_norm_two_dims, nb_layer_norm(in[0], 2, in[1], in[2], 0.1),
             NBT_IN(-2, 2, 4, 3, 2), NBT_IN(0.5, 1.5, 3, 2), NBT_IN(-1, 1, 3, 2))
NBT_GRADCASE(layer_norm_all_dims, nb_layer_norm(in[0], 2, NULL, NULL, 1e-3), NBT_IN(-2, 2, 3, 4))
NBT_GRADCASE(layer_norm_offset_input, nb_layer_norm(in[0], 1, in[1], in[2], 1e-5),
             NBT_IN(99, 101, 4, 7), NBT_IN(0.5, 1.5, 7), NBT_IN(-1, 1, 7))
NBT_GRADCASE(layer_norm_one_element_rows, nb_layer_norm(in[0], 1, in[1], in[2], 1e-5),
             NBT_IN(-2, 2, 3, 1), NBT_IN(0.5, 1.5, 1), NBT_IN(-1, 1, 1))

const nbt_case nbt_cases_norm[] = {
    {"layer_norm_last_dim", NB_OP_LAYER_NORM, case_layer_norm_last_dim},
    {"layer_norm_affine", NB_OP_LAYER_NORM, case_layer_norm_affine},
    {"layer_norm_two_dims", NB_OP_LAYER_NORM, case_layer_norm_two_dims},
    {"layer_norm_all_dims", NB_OP_LAYER_NORM, case_layer_norm_all_dims},
    {"layer_norm_offset_input", NB_OP_LAYER_NORM, case_layer_norm_offset_input},
    {"layer_norm_one_element_rows", NB_OP_LAYER_NORM, case_layer_norm_one_element_rows},
    {0},
};
