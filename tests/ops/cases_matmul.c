/* tests/ops/cases_matmul.c — gradient checks of nb_matmul (2-D, batched, broadcast batches,
 * transposed and sliced operands passed to BLIS as strides, 1-D operands, size-1 dims) and of
 * nb_linear and nb_linear_ex. */
#include "support/nbt.h"

NBT_GRADCASE(matmul_2d, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(matmul_batched, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 2, 3, 4),
             NBT_IN(-1, 1, 2, 4, 5))
NBT_GRADCASE(matmul_batch_broadcast_right, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 2, 3, 4),
             NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(matmul_batch_broadcast_left, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 3, 4),
             NBT_IN(-1, 1, 2, 4, 5))
NBT_GRADCASE(matmul_batch_broadcast_both, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 2, 1, 3, 4),
             NBT_IN(-1, 1, 3, 4, 2))
/* a^T @ b, a @ b^T, a^T @ b^T: transposed views are handed to BLIS with swapped strides. */
NBT_GRADCASE(matmul_transposed_a, nb_matmul(nb_transpose(in[0], 0, 1), in[1]), NBT_IN(-1, 1, 4, 3),
             NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(matmul_transposed_b, nb_matmul(in[0], nb_transpose(in[1], 0, 1)), NBT_IN(-1, 1, 3, 4),
             NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(matmul_transposed_both,
             nb_matmul(nb_transpose(in[0], 0, 1), nb_transpose(in[1], 0, 1)), NBT_IN(-1, 1, 4, 3),
             NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(matmul_batched_transposed, nb_matmul(in[0], nb_transpose(in[1], -1, -2)),
             NBT_IN(-1, 1, 2, 3, 4), NBT_IN(-1, 1, 2, 5, 4))
/* Batch made by permuting: [M, B, K] -> [B, M, K], a non-contiguous batch stride. */
NBT_GRADCASE(matmul_permuted_batch, nb_matmul(nb_permute(in[0], (const int[]){1, 0, 2}), in[1]),
             NBT_IN(-1, 1, 3, 2, 4), NBT_IN(-1, 1, 2, 4, 5))
/* Slices with a step along rows and along columns. */
NBT_GRADCASE(matmul_sliced_operands,
             nb_matmul(nb_slice(in[0], 0, 0, 6, 2), nb_slice(in[1], 1, 1, 10, 2)),
             NBT_IN(-1, 1, 6, 4), NBT_IN(-1, 1, 4, 10))
NBT_GRADCASE(matmul_vector_left, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 4, 5))
NBT_GRADCASE(matmul_vector_right, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 4))
NBT_GRADCASE(matmul_vector_dot, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 6), NBT_IN(-1, 1, 6))
NBT_GRADCASE(matmul_vector_batched, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 2, 3, 4),
             NBT_IN(-1, 1, 4))
NBT_GRADCASE(matmul_outer_k1, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 3, 1), NBT_IN(-1, 1, 1, 5))
NBT_GRADCASE(matmul_row_times_column, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 1, 4),
             NBT_IN(-1, 1, 4, 1))
NBT_GRADCASE(matmul_single_column_result, nb_matmul(in[0], in[1]), NBT_IN(-1, 1, 5, 3),
             NBT_IN(-1, 1, 3, 1))
/* Operands broadcast by nb_expand: a stride-0 batch dim (read in place) and a stride-0 row dim
 * (copied densely for BLIS); their gradients are summed back by expand. */
static const int64_t batch_243[3] = {2, 4, 3}, rows_43[2] = {4, 3};
NBT_GRADCASE(matmul_expanded_batch, nb_matmul(nb_expand(in[0], 3, batch_243), in[1]),
             NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 2, 3, 5))
NBT_GRADCASE(matmul_expanded_rows, nb_matmul(nb_expand(in[0], 2, rows_43), in[1]),
             NBT_IN(-1, 1, 1, 3), NBT_IN(-1, 1, 3, 2))
/* x @ x: one tensor in both slots. */
NBT_GRADCASE(matmul_same_tensor, nb_matmul(in[0], in[0]), NBT_IN(-1, 1, 4, 4))
/* Only b requires grad. */
NBT_GRADCASE(matmul_constant_a, nb_matmul(in[0], in[1]),
             {.ndim = 2, .shape = {3, 4}, .lo = -1, .hi = 1, .no_grad = true}, NBT_IN(-1, 1, 4, 2))
NBT_GRADCASE(linear_with_bias, nb_linear(in[0], in[1], in[2]), NBT_IN(-1, 1, 5, 3),
             NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4))
NBT_GRADCASE(linear_without_bias, nb_linear(in[0], in[1], NULL), NBT_IN(-1, 1, 5, 3),
             NBT_IN(-1, 1, 2, 3))
/* Strided operands reach BLIS as strides: a transposed x, a transposed w (x @ w for a w of
 * [n_in, n_out], as an RBM's up pass), a sliced bias (copied contiguous) and an x broadcast
 * along its rows (made BLIS-ready); constant x / w: their gradients are skipped. */
NBT_GRADCASE(linear_transposed_x, nb_linear(nb_transpose(in[0], 0, 1), in[1], in[2]),
             NBT_IN(-1, 1, 3, 5), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4))
NBT_GRADCASE(linear_transposed_w, nb_linear(in[0], nb_transpose(in[1], 0, 1), in[2]),
             NBT_IN(-1, 1, 5, 3), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 4))
NBT_GRADCASE(linear_strided_bias, nb_linear(in[0], in[1], nb_slice(in[2], 0, 1, 8, 2)),
             NBT_IN(-1, 1, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 9))
NBT_GRADCASE(linear_broadcast_x,
             nb_linear(nb_expand(in[0], 2, (int64_t[]){5, 3}), nb_transpose(in[1], 0, 1), in[2]),
             NBT_IN(-1, 1, 1, 3), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 4))
NBT_GRADCASE(linear_constant_x, nb_linear(in[0], in[1], in[2]),
             {.ndim = 2, .shape = {6, 3}, .lo = -1, .hi = 1, .no_grad = true}, NBT_IN(-1, 1, 2, 3),
             NBT_IN(-1, 1, 2))
NBT_GRADCASE(linear_constant_w, nb_linear(in[0], in[1], in[2]), NBT_IN(-1, 1, 6, 3),
             {.ndim = 2, .shape = {2, 3}, .lo = -1, .hi = 1, .no_grad = true}, NBT_IN(-1, 1, 2))
/* One tensor as x and w: both gradients go into one buffer. */
NBT_GRADCASE(linear_same_tensor, nb_linear(in[0], in[0], in[1]), NBT_IN(-1, 1, 3, 3),
             NBT_IN(-1, 1, 3))
/* The output used twice: its gradient arrives accumulated from two consumers. */
NBT_GRADCASE(linear_output_reused,
             nb_mul(nb_linear(in[0], in[1], in[2]), nb_linear(in[0], in[1], in[2])),
             NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 2))

/* nb_linear_ex: y = act(x) @ w^T + b + residual, the activation recomputed in backward. Each
 * activation with bias and residual; no bias; a transposed x under an activation (copied
 * contiguous) and a sliced residual (copied contiguous); x also read by a plain linear, so
 * linear_ex's backward accumulates into a gradient already written. */
NBT_GRADCASE(linear_ex_residual, nb_linear_ex(in[0], in[1], in[2], in[3], NB_LINEAR_ACT_NONE),
             NBT_IN(-1, 1, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(linear_ex_relu, nb_linear_ex(in[0], in[1], in[2], in[3], NB_LINEAR_ACT_RELU),
             NBT_IN(-1, 1, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(linear_ex_gelu, nb_linear_ex(in[0], in[1], in[2], in[3], NB_LINEAR_ACT_GELU),
             NBT_IN(-2, 2, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(linear_ex_gelu_tanh, nb_linear_ex(in[0], in[1], in[2], in[3], NB_LINEAR_ACT_GELU_TANH),
             NBT_IN(-2, 2, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(linear_ex_gelu_no_bias, nb_linear_ex(in[0], in[1], NULL, NULL, NB_LINEAR_ACT_GELU),
             NBT_IN(-2, 2, 5, 3), NBT_IN(-1, 1, 4, 3))
NBT_GRADCASE(linear_ex_strided_inputs,
             nb_linear_ex(nb_transpose(in[0], 0, 1), in[1], in[2], nb_slice(in[3], 1, 0, 8, 2),
                          NB_LINEAR_ACT_GELU_TANH),
             NBT_IN(-2, 2, 3, 5), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4), NBT_IN(-1, 1, 5, 8))
/* only w's gradient (x constant: the activation recomputed for it alone), only x's */
NBT_GRADCASE(linear_ex_constant_x, nb_linear_ex(in[0], in[1], in[2], NULL, NB_LINEAR_ACT_GELU),
             {.ndim = 2, .shape = {5, 3}, .lo = -2, .hi = 2, .no_grad = true}, NBT_IN(-1, 1, 4, 3),
             NBT_IN(-1, 1, 4))
NBT_GRADCASE(linear_ex_constant_w, nb_linear_ex(in[0], in[1], NULL, in[2], NB_LINEAR_ACT_RELU),
             NBT_IN(-1, 1, 5, 3), {.ndim = 2, .shape = {4, 3}, .lo = -1, .hi = 1, .no_grad = true},
             NBT_IN(-1, 1, 5, 4))
/* the residual also read by a later op, whose backward writes its gradient first */
NBT_GRADCASE(linear_ex_residual_accumulates,
             nb_add(nb_linear_ex(in[0], in[1], NULL, in[2], NB_LINEAR_ACT_NONE),
                    nb_mul_scalar(in[2], 2.0)),
             NBT_IN(-1, 1, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 5, 4))
NBT_GRADCASE(linear_ex_accumulates,
             nb_add(nb_linear(in[0], in[1], in[2]),
                    nb_linear_ex(in[0], in[1], in[2], NULL, NB_LINEAR_ACT_GELU_TANH)),
             NBT_IN(-2, 2, 5, 3), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4))

const nbt_case nbt_cases_matmul[] = {
    {"matmul_2d", NB_OP_MATMUL, case_matmul_2d},
    {"matmul_batched", NB_OP_MATMUL, case_matmul_batched},
    {"matmul_batch_broadcast_right", NB_OP_MATMUL, case_matmul_batch_broadcast_right},
    {"matmul_batch_broadcast_left", NB_OP_MATMUL, case_matmul_batch_broadcast_left},
    {"matmul_batch_broadcast_both", NB_OP_MATMUL, case_matmul_batch_broadcast_both},
    {"matmul_transposed_a", NB_OP_MATMUL, case_matmul_transposed_a},
    {"matmul_transposed_b", NB_OP_MATMUL, case_matmul_transposed_b},
    {"matmul_transposed_both", NB_OP_MATMUL, case_matmul_transposed_both},
    {"matmul_batched_transposed", NB_OP_MATMUL, case_matmul_batched_transposed},
    {"matmul_permuted_batch", NB_OP_MATMUL, case_matmul_permuted_batch},
    {"matmul_sliced_operands", NB_OP_MATMUL, case_matmul_sliced_operands},
    {"matmul_vector_left", NB_OP_MATMUL, case_matmul_vector_left},
    {"matmul_vector_right", NB_OP_MATMUL, case_matmul_vector_right},
    {"matmul_vector_dot", NB_OP_MATMUL, case_matmul_vector_dot},
    {"matmul_vector_batched", NB_OP_MATMUL, case_matmul_vector_batched},
    {"matmul_outer_k1", NB_OP_MATMUL, case_matmul_outer_k1},
    {"matmul_row_times_column", NB_OP_MATMUL, case_matmul_row_times_column},
    {"matmul_single_column_result", NB_OP_MATMUL, case_matmul_single_column_result},
    {"matmul_expanded_batch", NB_OP_MATMUL, case_matmul_expanded_batch},
    {"matmul_expanded_rows", NB_OP_MATMUL, case_matmul_expanded_rows},
    {"matmul_same_tensor", NB_OP_MATMUL, case_matmul_same_tensor},
    {"matmul_constant_a", NB_OP_MATMUL, case_matmul_constant_a},
    {"linear_with_bias", NB_OP_LINEAR, case_linear_with_bias},
    {"linear_without_bias", NB_OP_LINEAR, case_linear_without_bias},
    {"linear_transposed_x", NB_OP_LINEAR, case_linear_transposed_x},
    {"linear_transposed_w", NB_OP_LINEAR, case_linear_transposed_w},
    {"linear_strided_bias", NB_OP_LINEAR, case_linear_strided_bias},
    {"linear_broadcast_x", NB_OP_LINEAR, case_linear_broadcast_x},
    {"linear_ex_residual", NB_OP_LINEAR, case_linear_ex_residual},
    {"linear_ex_relu", NB_OP_LINEAR, case_linear_ex_relu},
    {"linear_ex_gelu", NB_OP_LINEAR, case_linear_ex_gelu},
    {"linear_ex_gelu_tanh", NB_OP_LINEAR, case_linear_ex_gelu_tanh},
    {"linear_ex_gelu_no_bias", NB_OP_LINEAR, case_linear_ex_gelu_no_bias},
    {"linear_ex_strided_inputs", NB_OP_LINEAR, case_linear_ex_strided_inputs},
    {"linear_ex_constant_x", NB_OP_LINEAR, case_linear_ex_constant_x},
    {"linear_ex_constant_w", NB_OP_LINEAR, case_linear_ex_constant_w},
    {"linear_ex_residual_accumulates", NB_OP_LINEAR, case_linear_ex_residual_accumulates},
    {"linear_ex_accumulates", NB_OP_LINEAR, case_linear_ex_accumulates},
    {"linear_constant_x", NB_OP_LINEAR, case_linear_constant_x},
    {"linear_constant_w", NB_OP_LINEAR, case_linear_constant_w},
    {"linear_same_tensor", NB_OP_LINEAR, case_linear_same_tensor},
    {"linear_output_reused", NB_OP_LINEAR, case_linear_output_reused},
    {0},
};
