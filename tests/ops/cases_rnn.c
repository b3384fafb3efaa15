/* tests/ops/cases_rnn.c — gradient checks of nb_lstm_cell and nb_gru_cell: the feature-major
 * layout of nn's layers (gates along axis 0), PyTorch's [B, G*H] (axis -1), a 3-D tensor with
 * dims on both sides of the gate axis, one hidden unit, and the GRU with and without b_hn. */
#include "support/nbt.h"

NBT_GRADCASE(lstm_cell_feature_major, nb_lstm_cell(in[0], in[1], 0), NBT_IN(-2, 2, 12, 4),
             NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(lstm_cell_batch_major, nb_lstm_cell(in[0], in[1], -1), NBT_IN(-2, 2, 3, 8),
             NBT_IN(-1, 1, 3, 2))
NBT_GRADCASE(lstm_cell_middle_axis, nb_lstm_cell(in[0], in[1], 1), NBT_IN(-2, 2, 2, 8, 3),
             NBT_IN(-1, 1, 2, 2, 3))
NBT_GRADCASE(lstm_cell_one_unit, nb_lstm_cell(in[0], in[1], 0), NBT_IN(-3, 3, 4, 5),
             NBT_IN(-2, 2, 1, 5))
NBT_GRADCASE(gru_cell_feature_major, nb_gru_cell(in[0], in[1], in[2], in[3], 0),
             NBT_IN(-2, 2, 9, 4), NBT_IN(-2, 2, 9, 4), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(gru_cell_batch_major_no_bias, nb_gru_cell(in[0], in[1], in[2], NULL, -1),
             NBT_IN(-2, 2, 3, 6), NBT_IN(-2, 2, 3, 6), NBT_IN(-1, 1, 3, 2))
NBT_GRADCASE(gru_cell_middle_axis, nb_gru_cell(in[0], in[1], in[2], in[3], 1),
             NBT_IN(-2, 2, 2, 6, 3), NBT_IN(-2, 2, 2, 6, 3), NBT_IN(-1, 1, 2, 2, 3),
             NBT_IN(-1, 1, 2, 2, 3))

const nbt_case nbt_cases_rnn[] = {
    {"lstm_cell_feature_major", NB_OP_LSTM_CELL, case_lstm_cell_feature_major},
    {"lstm_cell_batch_major", NB_OP_LSTM_CELL, case_lstm_cell_batch_major},
    {"lstm_cell_middle_axis", NB_OP_LSTM_CELL, case_lstm_cell_middle_axis},
    {"lstm_cell_one_unit", NB_OP_LSTM_CELL, case_lstm_cell_one_unit},
    {"gru_cell_feature_major", NB_OP_GRU_CELL, case_gru_cell_feature_major},
    {"gru_cell_batch_major_no_bias", NB_OP_GRU_CELL, case_gru_cell_batch_major_no_bias},
    {"gru_cell_middle_axis", NB_OP_GRU_CELL, case_gru_cell_middle_axis},
    {0},
};
