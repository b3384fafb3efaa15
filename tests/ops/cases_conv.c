/* tests/ops/cases_conv.c — gradient checks of ops/conv.c: conv2d and conv1d over strides,
 * dilations, the three padding modes, groups (including depthwise) and with / without bias;
 * the fused ReLU on every path; transposed convolution (2-D and 1-D, output padding). */
#include "support/nbt.h"

/* One convolution configuration: shapes of x, w (and b when has_bias) and the options. */
typedef struct {
    bool one_d, has_bias, transposed;
    int64_t x[4], w[4];
    nb_conv_opts opts;
} conv_case;

static nb_tensor *f_conv(nb_tensor *const *in, int n, void *user)
{
    const conv_case *c = user;
    nb_tensor *b = n > 2 ? in[2] : NULL;
    if (c->transposed)
        return c->one_d ? nb_conv_transpose1d(in[0], in[1], b, &c->opts)
                        : nb_conv_transpose2d(in[0], in[1], b, &c->opts);
    return c->one_d ? nb_conv1d(in[0], in[1], b, &c->opts) : nb_conv2d(in[0], in[1], b, &c->opts);
}

static nb_status check_conv(const conv_case *c, uint64_t seed)
{
    const int rank = c->one_d ? 3 : 4;
    nbt_input in[3] = {{.ndim = rank, .lo = -1, .hi = 1},
                       {.ndim = rank, .lo = -1, .hi = 1},
                       {.ndim = 1, .lo = -1, .hi = 1}};
    /* bias: one per output channel (transposed: w is [C, O/groups, ...]) */
    in[2].shape[0] = c->transposed ? c->w[1] * (c->opts.groups ? c->opts.groups : 1) : c->w[0];
    for (int d = 0; d < rank; d++) {
        in[0].shape[d] = c->x[d];
        in[1].shape[d] = c->w[d];
    }
    return nbt_check(f_conv, (void *)(uintptr_t)c, in, c->has_bias ? 3 : 2, seed);
}

static nb_status case_conv2d_valid_bias(void)
{
    static const conv_case c = {.has_bias = true, .x = {2, 3, 5, 6}, .w = {4, 3, 3, 3}};
    return check_conv(&c, 1);
}

/* SAME with stride 2 on 7 x 6: pads 1+1 (height) and 0+1 (width, the extra one at the end). */
static nb_status case_conv2d_stride2_same_no_bias(void)
{
    static const conv_case c = {.x = {2, 2, 7, 6},
                                .w = {3, 2, 3, 2},
                                .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME}};
    return check_conv(&c, 2);
}

static nb_status case_conv2d_dilation2_explicit_asymmetric(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 2, 6, 5},
                                .w = {3, 2, 2, 3},
                                .opts = {.stride_w = 2,
                                         .dilation_h = 2,
                                         .dilation_w = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 2,
                                         .pad_bottom = 0,
                                         .pad_left = 1,
                                         .pad_right = 3}};
    return check_conv(&c, 3);
}

static nb_status case_conv2d_groups2_same(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 4, 5, 5},
                                .w = {6, 2, 3, 3},
                                .opts = {.padding = NB_PAD_SAME, .groups = 2}};
    return check_conv(&c, 4);
}

/* groups == C: depthwise, two filters per channel, stride 2, explicit padding. */
static nb_status case_conv2d_depthwise_multiplier2(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 3, 6, 6},
                                .w = {6, 1, 3, 3},
                                .opts = {.stride_h = 2,
                                         .stride_w = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 1,
                                         .pad_bottom = 1,
                                         .pad_left = 1,
                                         .pad_right = 1,
                                         .groups = 3}};
    return check_conv(&c, 5);
}

/* Depthwise as in Xception: one filter per channel, SAME, dilation 2. */
static nb_status case_conv2d_depthwise_same_dilated(void)
{
    static const conv_case c = {
        .x = {1, 4, 5, 6},
        .w = {4, 1, 3, 3},
        .opts = {.dilation_h = 2, .dilation_w = 2, .padding = NB_PAD_SAME, .groups = 4}};
    return check_conv(&c, 6);
}

/* 1 x 1 (pointwise) convolution with stride 2 on an odd size. */
/* Stride 1 with the output as wide as the input: each tap is one contiguous run (ops/conv.c).
 * Here the kernel is wider and taller than the input (some taps read only padding). */
static nb_status case_conv2d_same_kernel_exceeds_input(void)
{
    static const conv_case c = {
        .has_bias = true, .x = {2, 2, 3, 2}, .w = {3, 2, 5, 5}, .opts = {.padding = NB_PAD_SAME}};
    return check_conv(&c, 21);
}

/* The contiguous-run path with dilation and lopsided pads (left 0, right 4; top 2, bottom 0). */
static nb_status case_conv2d_full_width_dilated_lopsided(void)
{
    static const conv_case c = {.x = {2, 3, 5, 4},
                                .w = {2, 3, 2, 3},
                                .opts = {.dilation_h = 2,
                                         .dilation_w = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 2,
                                         .pad_bottom = 0,
                                         .pad_left = 0,
                                         .pad_right = 4}};
    return check_conv(&c, 22);
}

static nb_status case_conv2d_pointwise_stride2(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 3, 5, 5},
                                .w = {4, 3, 1, 1},
                                .opts = {.stride_h = 2, .stride_w = 2}};
    return check_conv(&c, 7);
}

static nb_status case_conv2d_stride2_dilation2_same_groups2(void)
{
    static const conv_case c = {.x = {1, 4, 8, 7},
                                .w = {2, 2, 3, 2},
                                .opts = {.stride_h = 2,
                                         .stride_w = 2,
                                         .dilation_h = 2,
                                         .dilation_w = 2,
                                         .padding = NB_PAD_SAME,
                                         .groups = 2}};
    return check_conv(&c, 8);
}

static nb_status case_conv1d_valid_bias(void)
{
    static const conv_case c = {.one_d = true, .has_bias = true, .x = {2, 3, 9}, .w = {4, 3, 3}};
    return check_conv(&c, 9);
}

static nb_status case_conv1d_stride2_dilation2_same_groups3(void)
{
    static const conv_case c = {
        .one_d = true,
        .has_bias = true,
        .x = {2, 6, 11},
        .w = {3, 2, 3},
        .opts = {.stride_w = 2, .dilation_w = 2, .padding = NB_PAD_SAME, .groups = 3}};
    return check_conv(&c, 10);
}

static nb_status case_conv1d_depthwise_explicit_asymmetric(void)
{
    static const conv_case c = {
        .one_d = true,
        .x = {2, 3, 7},
        .w = {3, 1, 4},
        .opts = {.padding = NB_PAD_EXPLICIT, .pad_left = 3, .pad_right = 1, .groups = 3}};
    return check_conv(&c, 11);
}

static nb_status case_conv_transpose2d_stride2_bias(void)
{
    static const conv_case c = {.transposed = true,
                                .has_bias = true,
                                .x = {2, 3, 4, 3},
                                .w = {3, 2, 3, 3},
                                .opts = {.stride_h = 2, .stride_w = 2}};
    return check_conv(&c, 12);
}

static nb_status case_conv_transpose2d_explicit_dilated_output_padding(void)
{
    static const conv_case c = {.transposed = true,
                                .x = {1, 2, 3, 4},
                                .w = {2, 3, 2, 3},
                                .opts = {.stride_h = 2,
                                         .stride_w = 3,
                                         .dilation_h = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 1,
                                         .pad_left = 2,
                                         .pad_right = 1,
                                         .output_padding_h = 1,
                                         .output_padding_w = 2}};
    return check_conv(&c, 13);
}

static nb_status case_conv_transpose2d_groups2_same(void)
{
    static const conv_case c = {
        .transposed = true,
        .has_bias = true,
        .x = {2, 4, 3, 3},
        .w = {4, 1, 3, 3},
        .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME, .groups = 2}};
    return check_conv(&c, 14);
}

static nb_status case_conv_transpose1d_same_stride2(void)
{
    static const conv_case c = {.transposed = true,
                                .one_d = true,
                                .has_bias = true,
                                .x = {2, 3, 5},
                                .w = {3, 2, 4},
                                .opts = {.stride_w = 2, .padding = NB_PAD_SAME}};
    return check_conv(&c, 15);
}

/* More than 32 columns per group (C/groups * KH * KW): conv2d runs by chunks of images through
 * channel-major copies (fewer go image by image, see per_image in ops/conv.c). Kg = 45 >= O
 * (the transposed weight-gradient GEMM), stride 2, bias. */
static nb_status case_conv2d_wide_stride2_bias(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 5, 6, 5},
                                .w = {3, 5, 3, 3},
                                .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME}};
    return check_conv(&c, 16);
}

/* By chunks with Kg = 36 < O = 40 (the plain weight-gradient GEMM). */
static nb_status case_conv2d_wide_many_filters(void)
{
    static const conv_case c = {
        .x = {2, 4, 4, 3}, .w = {40, 4, 3, 3}, .opts = {.padding = NB_PAD_SAME}};
    return check_conv(&c, 17);
}

/* By chunks, two groups of Kg = 36, dilation 2, explicit lopsided pads. */
static nb_status case_conv2d_wide_groups2_dilated(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {1, 8, 6, 7},
                                .w = {4, 4, 3, 3},
                                .opts = {.dilation_h = 2,
                                         .dilation_w = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 1,
                                         .pad_bottom = 2,
                                         .pad_left = 2,
                                         .pad_right = 0,
                                         .groups = 2}};
    return check_conv(&c, 18);
}

/* The fused ReLU (opts.relu) on each path of forward and backward: per image (Kg = 27), by
 * chunks (Kg = 45, masking in the channel-major copy, with and without bias), depthwise, 1-D.
 * The seeds give no pre-activation within the difference step of the kink at 0. */
static nb_status case_conv2d_relu_per_image_bias(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 3, 5, 6},
                                .w = {4, 3, 3, 3},
                                .opts = {.padding = NB_PAD_SAME, .relu = true}};
    return check_conv(&c, 19);
}

static nb_status case_conv2d_relu_by_chunks(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 5, 6, 5},
                                .w = {3, 5, 3, 3},
                                .opts = {.stride_h = 2, .padding = NB_PAD_SAME, .relu = true}};
    return check_conv(&c, 20);
}

static nb_status case_conv2d_relu_by_chunks_no_bias(void)
{
    static const conv_case c = {
        .x = {2, 4, 4, 3}, .w = {40, 4, 3, 3}, .opts = {.padding = NB_PAD_SAME, .relu = true}};
    return check_conv(&c, 21);
}

static nb_status case_conv2d_relu_depthwise(void)
{
    static const conv_case c = {.has_bias = true,
                                .x = {2, 3, 5, 5},
                                .w = {6, 1, 3, 3},
                                .opts = {.groups = 3, .relu = true}};
    return check_conv(&c, 22);
}

static nb_status case_conv1d_relu(void)
{
    static const conv_case c = {.one_d = true,
                                .has_bias = true,
                                .x = {2, 3, 9},
                                .w = {4, 3, 3},
                                .opts = {.padding = NB_PAD_SAME, .relu = true}};
    return check_conv(&c, 23);
}

const nbt_case nbt_cases_conv[] = {
    {"conv2d_valid_bias", NB_OP_CONV2D, case_conv2d_valid_bias},
    {"conv2d_stride2_same_no_bias", NB_OP_CONV2D, case_conv2d_stride2_same_no_bias},
    {"conv2d_dilation2_explicit_asymmetric", NB_OP_CONV2D,
     case_conv2d_dilation2_explicit_asymmetric},
    {"conv2d_groups2_same", NB_OP_CONV2D, case_conv2d_groups2_same},
    {"conv2d_depthwise_multiplier2", NB_OP_CONV2D, case_conv2d_depthwise_multiplier2},
    {"conv2d_depthwise_same_dilated", NB_OP_CONV2D, case_conv2d_depthwise_same_dilated},
    {"conv2d_pointwise_stride2", NB_OP_CONV2D, case_conv2d_pointwise_stride2},
    {"conv2d_same_kernel_exceeds_input", NB_OP_CONV2D, case_conv2d_same_kernel_exceeds_input},
    {"conv2d_full_width_dilated_lopsided", NB_OP_CONV2D, case_conv2d_full_width_dilated_lopsided},
    {"conv2d_stride2_dilation2_same_groups2", NB_OP_CONV2D,
     case_conv2d_stride2_dilation2_same_groups2},
    {"conv2d_wide_stride2_bias", NB_OP_CONV2D, case_conv2d_wide_stride2_bias},
    {"conv2d_wide_many_filters", NB_OP_CONV2D, case_conv2d_wide_many_filters},
    {"conv2d_wide_groups2_dilated", NB_OP_CONV2D, case_conv2d_wide_groups2_dilated},
    {"conv2d_relu_per_image_bias", NB_OP_CONV2D, case_conv2d_relu_per_image_bias},
    {"conv2d_relu_by_chunks", NB_OP_CONV2D, case_conv2d_relu_by_chunks},
    {"conv2d_relu_by_chunks_no_bias", NB_OP_CONV2D, case_conv2d_relu_by_chunks_no_bias},
    {"conv2d_relu_depthwise", NB_OP_CONV2D, case_conv2d_relu_depthwise},
    {"conv1d_relu", NB_OP_CONV2D, case_conv1d_relu},
    {"conv1d_valid_bias", NB_OP_CONV2D, case_conv1d_valid_bias},
    {"conv1d_stride2_dilation2_same_groups3", NB_OP_CONV2D,
     case_conv1d_stride2_dilation2_same_groups3},
    {"conv1d_depthwise_explicit_asymmetric", NB_OP_CONV2D,
     case_conv1d_depthwise_explicit_asymmetric},
    {"conv_transpose2d_stride2_bias", NB_OP_CONV_TRANSPOSE2D, case_conv_transpose2d_stride2_bias},
    {"conv_transpose2d_explicit_dilated_output_padding", NB_OP_CONV_TRANSPOSE2D,
     case_conv_transpose2d_explicit_dilated_output_padding},
    {"conv_transpose2d_groups2_same", NB_OP_CONV_TRANSPOSE2D, case_conv_transpose2d_groups2_same},
    {"conv_transpose1d_same_stride2", NB_OP_CONV_TRANSPOSE2D, case_conv_transpose1d_same_stride2},
    {0},
};
