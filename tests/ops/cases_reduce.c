/* tests/ops/cases_reduce.c — gradient checks of sum, mean and max over one or several axes,
 * with and without keepdim, and over all elements. Max inputs are continuous random values, so
 * ties (where the gradient is not defined) do not occur. */
#include "support/nbt.h"

static const int axes_02[2] = {0, 2};
static const int axes_12[2] = {1, -1};
static const int axes_all3[3] = {2, 0, 1};

NBT_GRADCASE(sum_axis0, nb_sum(in[0], 0, false), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(sum_last_axis_keepdim, nb_sum(in[0], -1, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(sum_middle_axis, nb_sum(in[0], 1, false), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(sum_two_axes, nb_sum_axes(in[0], 2, axes_02, false), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(sum_two_axes_keepdim, nb_sum_axes(in[0], 2, axes_02, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(sum_all_axes_keepdim, nb_sum_axes(in[0], 3, axes_all3, true), NBT_IN(-1, 1, 2, 3, 2))
NBT_GRADCASE(sum_all, nb_sum_all(in[0]), NBT_IN(-1, 1, 3, 5))
NBT_GRADCASE(sum_of_transposed_view, nb_sum(nb_transpose(in[0], 0, 1), 1, false),
             NBT_IN(-1, 1, 4, 3))
NBT_GRADCASE(mean_axis0, nb_mean(in[0], 0, false), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(mean_last_axis_keepdim, nb_mean(in[0], -1, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(mean_two_axes, nb_mean_axes(in[0], 2, axes_12, false), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(mean_two_axes_keepdim, nb_mean_axes(in[0], 2, axes_02, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(mean_all, nb_mean_all(in[0]), NBT_IN(-1, 1, 3, 5))
NBT_GRADCASE(max_axis0, nb_max(in[0], 0, false), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(max_last_axis_keepdim, nb_max(in[0], -1, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(max_middle_axis, nb_max(in[0], 1, false), NBT_IN(-1, 1, 2, 5, 3))
NBT_GRADCASE(max_two_axes, nb_max_axes(in[0], 2, axes_02, false), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(max_two_axes_keepdim, nb_max_axes(in[0], 2, axes_12, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(max_all_axes, nb_max_axes(in[0], 3, axes_all3, false), NBT_IN(-1, 1, 2, 3, 2))
NBT_GRADCASE(max_of_sliced_view, nb_max(nb_slice(in[0], 1, 1, 6, 2), 1, false), NBT_IN(-1, 1, 3, 6))

const nbt_case nbt_cases_reduce[] = {
    {"sum_axis0", NB_OP_SUM, case_sum_axis0},
    {"sum_last_axis_keepdim", NB_OP_SUM, case_sum_last_axis_keepdim},
    {"sum_middle_axis", NB_OP_SUM, case_sum_middle_axis},
    {"sum_two_axes", NB_OP_SUM, case_sum_two_axes},
    {"sum_two_axes_keepdim", NB_OP_SUM, case_sum_two_axes_keepdim},
    {"sum_all_axes_keepdim", NB_OP_SUM, case_sum_all_axes_keepdim},
    {"sum_all", NB_OP_SUM, case_sum_all},
    {"sum_of_transposed_view", NB_OP_SUM, case_sum_of_transposed_view},
    {"mean_axis0", NB_OP_MEAN, case_mean_axis0},
    {"mean_last_axis_keepdim", NB_OP_MEAN, case_mean_last_axis_keepdim},
    {"mean_two_axes", NB_OP_MEAN, case_mean_two_axes},
    {"mean_two_axes_keepdim", NB_OP_MEAN, case_mean_two_axes_keepdim},
    {"mean_all", NB_OP_MEAN, case_mean_all},
    {"max_axis0", NB_OP_MAX, case_max_axis0},
    {"max_last_axis_keepdim", NB_OP_MAX, case_max_last_axis_keepdim},
    {"max_middle_axis", NB_OP_MAX, case_max_middle_axis},
    {"max_two_axes", NB_OP_MAX, case_max_two_axes},
    {"max_two_axes_keepdim", NB_OP_MAX, case_max_two_axes_keepdim},
    {"max_all_axes", NB_OP_MAX, case_max_all_axes},
    {"max_of_sliced_view", NB_OP_MAX, case_max_of_sliced_view},
    {0},
};
