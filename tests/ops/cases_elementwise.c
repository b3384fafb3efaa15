/* tests/ops/cases_elementwise.c — gradient checks of the unary and binary elementwise ops.
 *
 * Inputs stay off kinks (relu/abs/leaky_relu at 0, clamp at its bounds) and inside domains
 * (log/sqrt/pow on positive inputs, divisors away from 0). Binary ops are checked with
 * broadcasting on either side, over leading dims and with both sides broadcast at once. */
#include "support/nbt.h"

/* ---- unary ---- */
NBT_GRADCASE(tanh, nb_tanh(in[0]), NBT_IN(-3, 3, 2, 3, 5))
NBT_GRADCASE(sigmoid, nb_sigmoid(in[0]), NBT_IN(-6, 6, 4, 5))
NBT_GRADCASE(softplus, nb_softplus(in[0]), NBT_IN(-30, 30, 3, 7))
NBT_GRADCASE(exp, nb_exp(in[0]), NBT_IN(-2, 2, 3, 4))
NBT_GRADCASE(log, nb_log(in[0]), NBT_IN(0.1, 3, 3, 4))
NBT_GRADCASE(sqrt, nb_sqrt(in[0]), NBT_IN(0.1, 3, 12))
NBT_GRADCASE(square, nb_square(in[0]), NBT_IN(-2, 2, 2, 2, 3))
NBT_GRADCASE(neg, nb_neg(in[0]), NBT_IN(-2, 2, 5))
NBT_GRADCASE(affine, nb_affine(in[0], -1.5, 0.25), NBT_IN(-2, 2, 3, 2))
NBT_GRADCASE(add_scalar, nb_add_scalar(in[0], 3.0), NBT_IN(-2, 2, 4))
NBT_GRADCASE(mul_scalar, nb_mul_scalar(in[0], -0.5), NBT_IN(-2, 2, 4))
NBT_GRADCASE(pow_fractional, nb_pow_scalar(in[0], 2.5), NBT_IN(0.2, 2, 3, 3))
NBT_GRADCASE(pow_negative, nb_pow_scalar(in[0], -1.5), NBT_IN(0.5, 2, 6))
NBT_GRADCASE(pow_integer_negative_base, nb_pow_scalar(in[0], 3.0), NBT_IN(-2, -0.5, 6))
NBT_GRADCASE(abs, nb_abs(in[0]), {.ndim = 2, .shape = {4, 5}, .lo = -2, .hi = 2, .n_kinks = 1})
NBT_GRADCASE(relu, nb_relu(in[0]), {.ndim = 2, .shape = {4, 5}, .lo = -2, .hi = 2, .n_kinks = 1})
NBT_GRADCASE(leaky_relu, nb_leaky_relu(in[0], 0.1),
             {.ndim = 2, .shape = {4, 5}, .lo = -2, .hi = 2, .n_kinks = 1})
NBT_GRADCASE(clamp, nb_clamp(in[0], -0.5, 0.75),
             {.ndim = 2, .shape = {5, 6}, .lo = -2, .hi = 2, .n_kinks = 2, .kinks = {-0.5, 0.75}})
/* A unary op fed a transposed (strided) view: the engine's contiguous copy is on the path. */
NBT_GRADCASE(tanh_of_transposed_view, nb_tanh(nb_transpose(in[0], 0, 1)), NBT_IN(-2, 2, 3, 4))
/* 0-dim input. */
NBT_GRADCASE(exp_scalar, nb_exp(in[0]), NBT_IN0(-1, 1))

/* ---- unary, the research op set ---- */
NBT_GRADCASE(sin, nb_sin(in[0]), NBT_IN(-4, 4, 3, 5))
NBT_GRADCASE(cos, nb_cos(in[0]), NBT_IN(-4, 4, 3, 5))
NBT_GRADCASE(log1p, nb_log1p(in[0]), NBT_IN(-0.8, 3, 3, 4))
NBT_GRADCASE(expm1, nb_expm1(in[0]), NBT_IN(-3, 2, 3, 4))
NBT_GRADCASE(erf, nb_erf(in[0]), NBT_IN(-2.5, 2.5, 3, 4))
NBT_GRADCASE(gelu, nb_gelu(in[0], NB_GELU_EXACT), NBT_IN(-4, 4, 4, 5))
NBT_GRADCASE(gelu_tanh, nb_gelu(in[0], NB_GELU_TANH), NBT_IN(-4, 4, 4, 5))
NBT_GRADCASE(silu, nb_silu(in[0]), NBT_IN(-8, 8, 4, 5))
/* Past 20 mish switches to its saturated form: cover both sides. */
NBT_GRADCASE(mish, nb_mish(in[0]), NBT_IN(-8, 8, 4, 5))
NBT_GRADCASE(mish_large, nb_mish(in[0]), NBT_IN(15, 25, 8))
NBT_GRADCASE(elu, nb_elu(in[0], 0.7), {.ndim = 2, .shape = {4, 5}, .lo = -3, .hi = 2, .n_kinks = 1})
NBT_GRADCASE(selu, nb_selu(in[0]), {.ndim = 2, .shape = {4, 5}, .lo = -3, .hi = 2, .n_kinks = 1})
NBT_GRADCASE(hardtanh, nb_hardtanh(in[0], -0.5, 1.25),
             {.ndim = 2, .shape = {5, 6}, .lo = -2, .hi = 2, .n_kinks = 2, .kinks = {-0.5, 1.25}})
NBT_GRADCASE(softsign, nb_softsign(in[0]), NBT_IN(-4, 4, 4, 5))
NBT_GRADCASE(rsqrt, nb_rsqrt(in[0]), NBT_IN(0.2, 3, 3, 4))
NBT_GRADCASE(reciprocal, nb_reciprocal(in[0]), NBT_IN(0.3, 2, 3, 4))
NBT_GRADCASE(reciprocal_negative, nb_reciprocal(in[0]), NBT_IN(-2, -0.3, 6))

/* ---- binary, same shape ---- */
NBT_GRADCASE(add, nb_add(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(sub, nb_sub(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(mul, nb_mul(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(div, nb_div(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(0.5, 2, 3, 4))
NBT_GRADCASE(div_negative_divisor, nb_div(in[0], in[1]), NBT_IN(-1, 1, 5), NBT_IN(-2, -0.5, 5))
/* a in [-1, 0), b in [0, 1): never equal, so the winner is always well defined. */
NBT_GRADCASE(maximum, nb_maximum(in[0], in[1]), NBT_IN(-1, -0.05, 3, 4), NBT_IN(0.05, 1, 3, 4))
NBT_GRADCASE(maximum_mixed, nb_maximum(nb_sub(in[0], in[1]), in[1]), NBT_IN(-1, 1, 12),
             NBT_IN(-0.4, -0.1, 12))
NBT_GRADCASE(minimum, nb_minimum(in[0], in[1]), NBT_IN(-1, -0.05, 3, 4), NBT_IN(0.05, 1, 3, 4))
NBT_GRADCASE(minimum_mixed, nb_minimum(nb_sub(in[0], in[1]), in[1]), NBT_IN(-1, 1, 12),
             NBT_IN(-0.4, -0.1, 12))
/* x * x: one tensor in both slots gets both contributions. */
NBT_GRADCASE(mul_same_tensor_twice, nb_mul(in[0], in[0]), NBT_IN(-2, 2, 6))

/* ---- binary, broadcasting ---- */
/* b broadcasts over a's rows: exercises expand's backward too. */
NBT_GRADCASE(add_broadcast, nb_add(in[0], in[1]), NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 3))
NBT_GRADCASE(add_broadcast_left, nb_add(in[0], in[1]), NBT_IN(-1, 1, 3), NBT_IN(-1, 1, 4, 3))
NBT_GRADCASE(sub_broadcast_leading_dims, nb_sub(in[0], in[1]), NBT_IN(-1, 1, 4, 1),
             NBT_IN(-1, 1, 2, 3, 4, 5))
NBT_GRADCASE(sub_broadcast_right, nb_sub(in[0], in[1]), NBT_IN(-1, 1, 2, 3, 4), NBT_IN(-1, 1, 3, 1))
NBT_GRADCASE(mul_broadcast_both_sides, nb_mul(in[0], in[1]), NBT_IN(-1, 1, 4, 1),
             NBT_IN(-1, 1, 1, 3))
NBT_GRADCASE(mul_broadcast_leading_and_inner, nb_mul(in[0], in[1]), NBT_IN(-1, 1, 2, 1, 3),
             NBT_IN(-1, 1, 4, 1))
NBT_GRADCASE(mul_by_scalar_tensor, nb_mul(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN0(-2, 2))
NBT_GRADCASE(div_broadcast_divisor, nb_div(in[0], in[1]), NBT_IN(-1, 1, 3, 4), NBT_IN(0.5, 2, 4))
NBT_GRADCASE(div_broadcast_dividend, nb_div(in[0], in[1]), NBT_IN(-1, 1, 3, 1),
             NBT_IN(0.5, 2, 2, 3, 4))
NBT_GRADCASE(maximum_broadcast, nb_maximum(in[0], in[1]), NBT_IN(-1, -0.05, 3, 4),
             NBT_IN(0.05, 1, 4))
NBT_GRADCASE(minimum_broadcast_left, nb_minimum(in[0], in[1]), NBT_IN(-1, -0.05, 1, 4),
             NBT_IN(0.05, 1, 3, 4))
/* Only one side requires grad: the other gets no gradient buffer. */
NBT_GRADCASE(mul_constant_side, nb_mul(in[0], in[1]), NBT_IN(-1, 1, 3, 4),
             {.ndim = 1, .shape = {4}, .lo = -1, .hi = 1, .no_grad = true})
/* pow with a tensor exponent: positive base (both gradients defined), the exponent broadcast
 * over rows, and a negative base with a constant integer exponent (d/db is NaN there). */
NBT_GRADCASE(pow, nb_pow(in[0], in[1]), NBT_IN(0.3, 2, 3, 4), NBT_IN(-2, 2, 3, 4))
NBT_GRADCASE(pow_broadcast_exponent, nb_pow(in[0], in[1]), NBT_IN(0.3, 2, 3, 4), NBT_IN(-2, 2, 4))
NBT_GRADCASE(pow_broadcast_base, nb_pow(in[0], in[1]), NBT_IN(0.3, 2, 1, 4), NBT_IN(-2, 2, 3, 1))
NBT_GRADCASE(pow_negative_base_integer_exponent,
             nb_pow(in[0], nb_constant(NB_F64, 1, (int64_t[]){5}, 3.0)), NBT_IN(-2, -0.3, 4, 5))
/* Binary op on strided operands (a transposed view and a slice with a step). */
NBT_GRADCASE(mul_strided_operands, nb_mul(nb_transpose(in[0], 0, 1), nb_slice(in[1], 1, 0, 8, 2)),
             NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 3, 8))

const nbt_case nbt_cases_elementwise[] = {
    {"tanh", NB_OP_TANH, case_tanh},
    {"sigmoid", NB_OP_SIGMOID, case_sigmoid},
    {"softplus", NB_OP_SOFTPLUS, case_softplus},
    {"exp", NB_OP_EXP, case_exp},
    {"log", NB_OP_LOG, case_log},
    {"sqrt", NB_OP_SQRT, case_sqrt},
    {"square", NB_OP_SQUARE, case_square},
    {"neg", NB_OP_NEG, case_neg},
    {"affine", NB_OP_AFFINE, case_affine},
    {"add_scalar", NB_OP_AFFINE, case_add_scalar},
    {"mul_scalar", NB_OP_AFFINE, case_mul_scalar},
    {"pow_fractional", NB_OP_POW_SCALAR, case_pow_fractional},
    {"pow_negative", NB_OP_POW_SCALAR, case_pow_negative},
    {"pow_integer_negative_base", NB_OP_POW_SCALAR, case_pow_integer_negative_base},
    {"abs", NB_OP_ABS, case_abs},
    {"relu", NB_OP_RELU, case_relu},
    {"leaky_relu", NB_OP_LEAKY_RELU, case_leaky_relu},
    {"clamp", NB_OP_CLAMP, case_clamp},
    {"tanh_of_transposed_view", NB_OP_TANH, case_tanh_of_transposed_view},
    {"exp_scalar", NB_OP_EXP, case_exp_scalar},
    {"sin", NB_OP_SIN, case_sin},
    {"cos", NB_OP_COS, case_cos},
    {"log1p", NB_OP_LOG1P, case_log1p},
    {"expm1", NB_OP_EXPM1, case_expm1},
    {"erf", NB_OP_ERF, case_erf},
    {"gelu", NB_OP_GELU, case_gelu},
    {"gelu_tanh", NB_OP_GELU_TANH, case_gelu_tanh},
    {"silu", NB_OP_SILU, case_silu},
    {"mish", NB_OP_MISH, case_mish},
    {"mish_large", NB_OP_MISH, case_mish_large},
    {"elu", NB_OP_ELU, case_elu},
    {"selu", NB_OP_SELU, case_selu},
    {"hardtanh", NB_OP_HARDTANH, case_hardtanh},
    {"softsign", NB_OP_SOFTSIGN, case_softsign},
    {"rsqrt", NB_OP_RSQRT, case_rsqrt},
    {"reciprocal", NB_OP_RECIPROCAL, case_reciprocal},
    {"reciprocal_negative", NB_OP_RECIPROCAL, case_reciprocal_negative},
    {"add", NB_OP_ADD, case_add},
    {"sub", NB_OP_SUB, case_sub},
    {"mul", NB_OP_MUL, case_mul},
    {"div", NB_OP_DIV, case_div},
    {"div_negative_divisor", NB_OP_DIV, case_div_negative_divisor},
    {"maximum", NB_OP_MAXIMUM, case_maximum},
    {"maximum_mixed", NB_OP_MAXIMUM, case_maximum_mixed},
    {"minimum", NB_OP_MINIMUM, case_minimum},
    {"minimum_mixed", NB_OP_MINIMUM, case_minimum_mixed},
    {"mul_same_tensor_twice", NB_OP_MUL, case_mul_same_tensor_twice},
    {"add_broadcast", NB_OP_ADD, case_add_broadcast},
    {"add_broadcast_left", NB_OP_ADD, case_add_broadcast_left},
    {"sub_broadcast_leading_dims", NB_OP_SUB, case_sub_broadcast_leading_dims},
    {"sub_broadcast_right", NB_OP_SUB, case_sub_broadcast_right},
    {"mul_broadcast_both_sides", NB_OP_MUL, case_mul_broadcast_both_sides},
    {"mul_broadcast_leading_and_inner", NB_OP_MUL, case_mul_broadcast_leading_and_inner},
    {"mul_by_scalar_tensor", NB_OP_MUL, case_mul_by_scalar_tensor},
    {"div_broadcast_divisor", NB_OP_DIV, case_div_broadcast_divisor},
    {"div_broadcast_dividend", NB_OP_DIV, case_div_broadcast_dividend},
    {"maximum_broadcast", NB_OP_MAXIMUM, case_maximum_broadcast},
    {"minimum_broadcast_left", NB_OP_MINIMUM, case_minimum_broadcast_left},
    {"mul_constant_side", NB_OP_MUL, case_mul_constant_side},
    {"mul_strided_operands", NB_OP_MUL, case_mul_strided_operands},
    {"pow", NB_OP_POW, case_pow},
    {"pow_broadcast_exponent", NB_OP_POW, case_pow_broadcast_exponent},
    {"pow_broadcast_base", NB_OP_POW, case_pow_broadcast_base},
    {"pow_negative_base_integer_exponent", NB_OP_POW, case_pow_negative_base_integer_exponent},
    {0},
};
