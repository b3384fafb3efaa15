/* tests/ops/cases_softmax.c — gradient checks of softmax and log_softmax along the first, a
 * middle and the last axis, including large logits (the max is subtracted, so still exact). */
#include "support/nbt.h"

NBT_GRADCASE(softmax_last_axis, nb_softmax(in[0], -1), NBT_IN(-3, 3, 4, 5))
NBT_GRADCASE(softmax_axis0, nb_softmax(in[0], 0), NBT_IN(-3, 3, 4, 5))
NBT_GRADCASE(softmax_middle_axis, nb_softmax(in[0], 1), NBT_IN(-3, 3, 2, 3, 4))
NBT_GRADCASE(softmax_large_logits, nb_softmax(in[0], 1), NBT_IN(500, 503, 3, 4))
NBT_GRADCASE(softmax_of_transposed_view, nb_softmax(nb_transpose(in[0], 0, 1), -1),
             NBT_IN(-2, 2, 5, 3))
NBT_GRADCASE(log_softmax_last_axis, nb_log_softmax(in[0], -1), NBT_IN(-3, 3, 4, 5))
NBT_GRADCASE(log_softmax_axis0, nb_log_softmax(in[0], 0), NBT_IN(-3, 3, 4, 5))
NBT_GRADCASE(log_softmax_middle_axis, nb_log_softmax(in[0], 1), NBT_IN(-3, 3, 2, 3, 4))
NBT_GRADCASE(log_softmax_large_logits, nb_log_softmax(in[0], -1), NBT_IN(-503, -500, 3, 4))
NBT_GRADCASE(log_softmax_1d, nb_log_softmax(in[0], 0), NBT_IN(-3, 3, 7))

const nbt_case nbt_cases_softmax[] = {
    {"softmax_last_axis", NB_OP_SOFTMAX, case_softmax_last_axis},
    {"softmax_axis0", NB_OP_SOFTMAX, case_softmax_axis0},
    {"softmax_middle_axis", NB_OP_SOFTMAX, case_softmax_middle_axis},
    {"softmax_large_logits", NB_OP_SOFTMAX, case_softmax_large_logits},
    {"softmax_of_transposed_view", NB_OP_SOFTMAX, case_softmax_of_transposed_view},
    {"log_softmax_last_axis", NB_OP_LOG_SOFTMAX, case_log_softmax_last_axis},
    {"log_softmax_axis0", NB_OP_LOG_SOFTMAX, case_log_softmax_axis0},
    {"log_softmax_middle_axis", NB_OP_LOG_SOFTMAX, case_log_softmax_middle_axis},
    {"log_softmax_large_logits", NB_OP_LOG_SOFTMAX, case_log_softmax_large_logits},
    {"log_softmax_1d", NB_OP_LOG_SOFTMAX, case_log_softmax_1d},
    {0},
};
