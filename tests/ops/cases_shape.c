/* tests/ops/cases_shape.c — gradient checks of the view ops (reshape, permute, slice, expand),
 * contiguous copies, concat, stack and split, alone and chained (views of views). */
#include "support/nbt.h"

static const int64_t shape_6x2[2] = {6, 2};
static const int64_t shape_infer[3] = {2, -1, 2};
static const int64_t shape_expand[3] = {2, 4, 3};
static const int64_t shape_expand_scalar[2] = {3, 2};
static const int perm_201[3] = {2, 0, 1};

NBT_GRADCASE(reshape, nb_reshape(in[0], 2, shape_6x2), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(reshape_inferred_dim, nb_reshape(in[0], 3, shape_infer), NBT_IN(-1, 1, 4, 3))
/* Reshape of a non-contiguous view copies first; the gradient flows through the copy. */
NBT_GRADCASE(reshape_of_transposed_view, nb_reshape(nb_transpose(in[0], 0, 1), 2, shape_6x2),
             NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(flatten, nb_flatten(in[0]), NBT_IN(-1, 1, 2, 3, 2))
NBT_GRADCASE(unsqueeze_squeeze, nb_squeeze(nb_unsqueeze(in[0], 1), -2), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(permute, nb_permute(in[0], perm_201), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(transpose, nb_transpose(in[0], 0, -1), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(slice, nb_slice(in[0], 0, 1, 3, 1), NBT_IN(-1, 1, 4, 3))
NBT_GRADCASE(slice_with_step, nb_slice(in[0], 1, 1, 8, 3), NBT_IN(-1, 1, 3, 8))
NBT_GRADCASE(slice_negative_bounds, nb_slice(in[0], -1, -4, -1, 2), NBT_IN(-1, 1, 2, 7))
NBT_GRADCASE(expand_leading_dims, nb_expand(in[0], 3, shape_expand), NBT_IN(-1, 1, 3))
NBT_GRADCASE(expand_size1_dims, nb_expand(in[0], 3, shape_expand), NBT_IN(-1, 1, 2, 1, 3))
NBT_GRADCASE(expand_scalar, nb_expand(in[0], 2, shape_expand_scalar), NBT_IN0(-1, 1))
NBT_GRADCASE(contiguous_of_permuted_view, nb_contiguous(nb_permute(in[0], perm_201)),
             NBT_IN(-1, 1, 2, 3, 4))
/* Views of views: slice of a transpose, then a unary op (contiguous copy on the way). */
NBT_GRADCASE(chained_views, nb_exp(nb_slice(nb_transpose(in[0], 0, 1), 0, 0, 4, 2)),
             NBT_IN(-1, 1, 3, 4))
/* Overlapping views: two slices of the same tensor add their gradients where they overlap. */
NBT_GRADCASE(overlapping_slices, nb_mul(nb_slice(in[0], 0, 0, 3, 1), nb_slice(in[0], 0, 1, 4, 1)),
             NBT_IN(-1, 1, 4, 2))

/* Bijective views write a fresh gradient of x; a second view of the same x then adds to it. */
NBT_GRADCASE(two_transposes_of_one_tensor,
             nb_mul(nb_transpose(in[0], 0, 1), nb_exp(nb_transpose(in[0], 0, 1))),
             NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(reshape_and_direct_use, nb_add(nb_reshape(in[0], 2, shape_6x2), nb_square(in[1])),
             NBT_IN(-1, 1, 3, 4), NBT_IN(-1, 1, 6, 2))
/* Reshapes of intermediates with no gradient yet hand their output gradient over as the
 * input's (autograd/backward.c); t's is then accumulated into by the earlier mul (recorded
 * before the reshape, so its backward runs after it) and by t's second reshape. */
static nb_tensor *f_reshape_hand_over(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *t = nb_square(in[0]);
    nb_tensor *z = nb_mul(t, in[1]);
    nb_tensor *y = nb_reshape(t, 2, shape_6x2);
    nb_tensor *y2 = nb_reshape(t, 3, shape_infer);
    return nb_add(nb_add(nb_reshape(z, 2, shape_6x2), nb_square(y)),
                  nb_reshape(nb_exp(y2), 2, shape_6x2));
}
static nb_status case_reshape_hands_over_gradient(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 4, 3), NBT_IN(-1, 1, 4, 3)};
    return nbt_check(f_reshape_hand_over, NULL, spec, 2, 7);
}
NBT_GRADCASE(reshape_twice_of_one_tensor,
             nb_mul(nb_reshape(in[0], 2, shape_6x2), nb_reshape(nb_exp(in[0]), 2, shape_6x2)),
             NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(contiguous_twice_of_one_view,
             nb_mul(nb_contiguous(nb_transpose(in[0], 0, 1)),
                    nb_contiguous(nb_transpose(in[0], 0, 1))),
             NBT_IN(-1, 1, 3, 4))
/* A tensor fed to a stack and to another op: the stack writes or adds, by order. */
static nb_tensor *f_stack_and_reuse(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *parts[2] = {in[0], nb_square(in[0])}, *other[2] = {nb_exp(in[0]), in[0]};
    return nb_mul(nb_stack(2, parts, 1), nb_stack(2, other, 1));
}

static nb_status case_stack_and_reuse(void)
{
    const nbt_input spec[1] = {NBT_IN(-1, 1, 3, 3)};
    return nbt_check(f_stack_and_reuse, NULL, spec, 1, 39);
}

/* Transposes large enough for the tiled copies (last two dims of 16 or more, partial tiles):
 * forward copy, fresh permute gradient, stack of transposed inputs. */
static const int perm_021[3] = {0, 2, 1};
NBT_GRADCASE(contiguous_of_large_transpose, nb_contiguous(nb_permute(in[0], perm_021)),
             NBT_IN(-1, 1, 2, 17, 35))
NBT_GRADCASE(large_transpose_fresh_gradient, nb_exp(nb_transpose(in[0], 0, 1)),
             NBT_IN(-1, 1, 33, 18))
static nb_tensor *f_stack_large_transposes(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *parts[2] = {nb_transpose(in[0], 0, 1), nb_transpose(in[1], 0, 1)};
    return nb_stack(2, parts, 1);
}

static nb_status case_stack_large_transposes(void)
{
    const nbt_input spec[2] = {NBT_IN(-1, 1, 20, 34), NBT_IN(-1, 1, 20, 34)};
    return nbt_check(f_stack_large_transposes, NULL, spec, 2, 40);
}

static const int64_t shape_expand_last[3] = {2, 3, 4};
/* Broadcast along the innermost dim: expand's gradient sums whole rows. */
NBT_GRADCASE(expand_last_dim, nb_expand(in[0], 3, shape_expand_last), NBT_IN(-1, 1, 3, 1))
/* Copy of a column slice: rows of the view are contiguous runs. */
NBT_GRADCASE(contiguous_of_column_slice, nb_contiguous(nb_slice(in[0], 1, 1, 4, 1)),
             NBT_IN(-1, 1, 3, 5))
/* Slices of whole rows and of row blocks of a 3-d tensor: their gradient windows are runs of
 * contiguous memory. */
NBT_GRADCASE(slice_row_blocks,
             nb_mul(nb_slice(in[0], 0, 1, 3, 1), nb_slice(nb_slice(in[0], 1, 0, 2, 1), 0, 0, 2, 1)),
             NBT_IN(-1, 1, 4, 2, 5))

static nb_tensor *f_concat_axis0(nb_tensor *const *in, int n, void *u)
{
    (void)u;
    return nb_concat(n, in, 0);
}

static nb_tensor *f_concat_axis1(nb_tensor *const *in, int n, void *u)
{
    (void)u;
    return nb_concat(n, in, -1);
}

static nb_status case_concat_axis0(void)
{
    const nbt_input spec[3] = {NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 1, 3), NBT_IN(-1, 1, 3, 3)};
    return nbt_check(f_concat_axis0, NULL, spec, 3, 31);
}

/* The middle input is a constant: it gets no gradient, the others still do. */
static nb_status case_concat_last_axis(void)
{
    const nbt_input spec[3] = {NBT_IN(-1, 1, 2, 2, 3),
                               {.ndim = 3, .shape = {2, 2, 1}, .lo = -1, .hi = 1, .no_grad = true},
                               NBT_IN(-1, 1, 2, 2, 2)};
    return nbt_check(f_concat_axis1, NULL, spec, 3, 32);
}

/* Concat of strided inputs (transposed views). */
static nb_tensor *f_concat_transposed(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *parts[2] = {nb_transpose(in[0], 0, 1), nb_transpose(in[1], 0, 1)};
    return nb_concat(2, parts, 1);
}

static nb_status case_concat_transposed(void)
{
    const nbt_input spec[2] = {NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 4, 3)};
    return nbt_check(f_concat_transposed, NULL, spec, 2, 33);
}

/* The same tensor twice: both slabs' gradients land in it. */
static nb_tensor *f_concat_self(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *parts[3] = {in[0], in[1], in[0]};
    return nb_concat(3, parts, 1);
}

static nb_status case_concat_same_tensor_twice(void)
{
    const nbt_input spec[2] = {NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 2, 1)};
    return nbt_check(f_concat_self, NULL, spec, 2, 37);
}

static nb_tensor *f_stack0(nb_tensor *const *in, int n, void *u)
{
    (void)u;
    return nb_stack(n, in, 0);
}

static nb_tensor *f_stack_last(nb_tensor *const *in, int n, void *u)
{
    (void)u;
    return nb_stack(n, in, -1);
}

static nb_status case_stack_axis0(void)
{
    const nbt_input spec[3] = {NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 2, 3), NBT_IN(-1, 1, 2, 3)};
    return nbt_check(f_stack0, NULL, spec, 3, 34);
}

static nb_status case_stack_last_axis(void)
{
    const nbt_input spec[2] = {NBT_IN(-1, 1, 3, 2), NBT_IN(-1, 1, 3, 2)};
    return nbt_check(f_stack_last, NULL, spec, 2, 35);
}

/* Stack of strided inputs (transposed views) along a middle axis: read where they lie. */
static nb_tensor *f_stack_transposed(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *parts[3] = {nb_transpose(in[0], 0, 1), nb_transpose(in[1], 0, 1),
                           nb_slice(in[2], 1, 1, 4, 1)};
    return nb_stack(3, parts, 1);
}

static nb_status case_stack_strided_middle_axis(void)
{
    const nbt_input spec[3] = {NBT_IN(-1, 1, 3, 2), NBT_IN(-1, 1, 3, 2), NBT_IN(-1, 1, 2, 5)};
    return nbt_check(f_stack_transposed, NULL, spec, 3, 38);
}

/* Split into three parts and combine two of them (the third gets zero gradient). */
static nb_tensor *f_split(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    nb_tensor *p[3];
    if (nb_split(in[0], 1, 3, p) != NB_OK)
        return NULL;
    return nb_sub(nb_mul(p[0], p[2]), p[0]);
}

static nb_status case_split(void)
{
    const nbt_input spec[1] = {NBT_IN(-1, 1, 2, 6)};
    return nbt_check(f_split, NULL, spec, 1, 36);
}

const nbt_case nbt_cases_shape[] = {
    {"reshape", NB_OP_RESHAPE, case_reshape},
    {"reshape_inferred_dim", NB_OP_RESHAPE, case_reshape_inferred_dim},
    {"reshape_of_transposed_view", NB_OP_CONTIGUOUS, case_reshape_of_transposed_view},
    {"flatten", NB_OP_RESHAPE, case_flatten},
    {"unsqueeze_squeeze", NB_OP_RESHAPE, case_unsqueeze_squeeze},
    {"permute", NB_OP_PERMUTE, case_permute},
    {"transpose", NB_OP_PERMUTE, case_transpose},
    {"slice", NB_OP_SLICE, case_slice},
    {"slice_with_step", NB_OP_SLICE, case_slice_with_step},
    {"slice_negative_bounds", NB_OP_SLICE, case_slice_negative_bounds},
    {"expand_leading_dims", NB_OP_EXPAND, case_expand_leading_dims},
    {"expand_size1_dims", NB_OP_EXPAND, case_expand_size1_dims},
    {"expand_scalar", NB_OP_EXPAND, case_expand_scalar},
    {"contiguous_of_permuted_view", NB_OP_CONTIGUOUS, case_contiguous_of_permuted_view},
    {"chained_views", NB_OP_SLICE, case_chained_views},
    {"overlapping_slices", NB_OP_SLICE, case_overlapping_slices},
    {"concat_axis0", NB_OP_CONCAT, case_concat_axis0},
    {"concat_last_axis", NB_OP_CONCAT, case_concat_last_axis},
    {"concat_transposed", NB_OP_CONCAT, case_concat_transposed},
    {"concat_same_tensor_twice", NB_OP_CONCAT, case_concat_same_tensor_twice},
    {"stack_axis0", NB_OP_CONCAT, case_stack_axis0},
    {"stack_last_axis", NB_OP_CONCAT, case_stack_last_axis},
    {"stack_strided_middle_axis", NB_OP_CONCAT, case_stack_strided_middle_axis},
    {"stack_and_reuse", NB_OP_CONCAT, case_stack_and_reuse},
    {"contiguous_of_large_transpose", NB_OP_CONTIGUOUS, case_contiguous_of_large_transpose},
    {"large_transpose_fresh_gradient", NB_OP_PERMUTE, case_large_transpose_fresh_gradient},
    {"stack_large_transposes", NB_OP_CONCAT, case_stack_large_transposes},
    {"two_transposes_of_one_tensor", NB_OP_PERMUTE, case_two_transposes_of_one_tensor},
    {"reshape_and_direct_use", NB_OP_RESHAPE, case_reshape_and_direct_use},
    {"reshape_hands_over_gradient", NB_OP_RESHAPE, case_reshape_hands_over_gradient},
    {"reshape_twice_of_one_tensor", NB_OP_RESHAPE, case_reshape_twice_of_one_tensor},
    {"contiguous_twice_of_one_view", NB_OP_CONTIGUOUS, case_contiguous_twice_of_one_view},
    {"expand_last_dim", NB_OP_EXPAND, case_expand_last_dim},
    {"contiguous_of_column_slice", NB_OP_CONTIGUOUS, case_contiguous_of_column_slice},
    {"slice_row_blocks", NB_OP_SLICE, case_slice_row_blocks},
    {"split", NB_OP_SLICE, case_split},
    {0},
};
