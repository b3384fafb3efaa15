/* tests/nn/test_conv_layers.c — nn/conv_layers.c: Conv1d/Conv2d against direct loops, PyTorch's
 * default initialisation, parameter counts, float64 gradient checks through every module,
 * Dropout2d masks, and errors that name the module. */
#include "support/nbt.h"

#include <math.h>

static nb_tensor *forward_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_module_forward(user, in[0]);
}

/* Gradient check of net on x (set to require grad) and every parameter of net. */
static void assert_module_gradcheck(nb_module *net, nb_tensor *x)
{
    assert_non_null(net);
    assert_non_null(x);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *in[NB_GRADCHECK_MAX_INPUTS] = {x};
    nb_named_tensor np[NB_GRADCHECK_MAX_INPUTS];
    int n = nb_module_named_params(net, np, NB_GRADCHECK_MAX_INPUTS - 1);
    assert_true(n >= 0 && n < NB_GRADCHECK_MAX_INPUTS);
    for (int i = 0; i < n; i++)
        in[1 + i] = np[i].tensor;
    assert_int_equal(nbt_check_tensors(forward_fn, net, in, 1 + n), NB_OK);
}

static void test_conv2d_matches_direct_loop_with_stride_padding_and_groups(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_conv_layer_opts o = {.conv = {.stride_h = 2,
                                     .stride_w = 1,
                                     .padding = NB_PAD_EXPLICIT,
                                     .pad_top = 1,
                                     .pad_bottom = 1,
                                     .pad_left = 1,
                                     .pad_right = 0,
                                     .groups = 2},
                            .dtype = NB_F64};
    nb_module *conv = nb_conv2d_new(4, 6, 3, 2, &o, &r);
    assert_non_null(conv);
    assert_string_equal(nb_module_kind(conv), "Conv2d");
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 4, 5, 4}, &r, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(conv, x);
    assert_non_null(y);
    /* OH = (5 + 2 - 3) / 2 + 1 = 3, OW = (4 + 1 - 2) / 1 + 1 = 4 */
    assert_int_equal(nb_tensor_ndim(y), 4);
    assert_int_equal(nb_tensor_dim(y, 1), 6);
    assert_int_equal(nb_tensor_dim(y, 2), 3);
    assert_int_equal(nb_tensor_dim(y, 3), 4);
    nb_tensor *w = nb_module_param(conv, "weight"), *b = nb_module_param(conv, "bias");
    assert_int_equal(nb_tensor_dim(w, 1), 2); /* in_ch / groups */
    for (int n = 0; n < 2; n++)
        for (int oc = 0; oc < 6; oc++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++) {
                    double ref = nb_tensor_get(b, oc);
                    const int g = oc / 3;
                    for (int c = 0; c < 2; c++)
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 2; v++) {
                                const int h = i * 2 + u - 1, wi = j + v - 1;
                                if (h < 0 || h >= 5 || wi < 0 || wi >= 4)
                                    continue;
                                ref += nb_tensor_get(w, ((oc * 2 + c) * 3 + u) * 2 + v) *
                                       nb_tensor_get(x, ((n * 4 + g * 2 + c) * 5 + h) * 4 + wi);
                            }
                    assert_float_equal(nb_tensor_get(y, ((n * 6 + oc) * 3 + i) * 4 + j), ref,
                                       1e-12);
                }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(conv);
}

static void test_conv1d_same_padding_keeps_length_and_matches_direct_loop(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(2);
    nb_module *conv = nb_conv1d_new(
        2, 3, 4, &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME, .dtype = NB_F64}, &r);
    assert_non_null(conv);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){1, 2, 7}, &r, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(conv, x);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 2), 7);
    nb_tensor *w = nb_module_param(conv, "weight"), *b = nb_module_param(conv, "bias");
    /* SAME with an even kernel 4: total pad 3, one before and two after */
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 7; i++) {
            double ref = nb_tensor_get(b, o);
            for (int c = 0; c < 2; c++)
                for (int k = 0; k < 4; k++) {
                    const int t = i + k - 1;
                    if (t >= 0 && t < 7)
                        ref += nb_tensor_get(w, (o * 2 + c) * 4 + k) * nb_tensor_get(x, c * 7 + t);
                }
            assert_float_equal(nb_tensor_get(y, o * 7 + i), ref, 1e-12);
        }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(conv);
}

static void test_conv2d_default_init_is_uniform_within_one_over_sqrt_fan_in(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    nb_module *conv = nb_conv2d_new(16, 32, 3, 3, NULL, &r);
    assert_non_null(conv);
    const double bound = 1.0 / sqrt(16.0 * 9.0);
    nb_tensor *w = nb_module_param(conv, "weight"), *b = nb_module_param(conv, "bias");
    double mx = 0, sq = 0;
    for (int64_t i = 0; i < nb_tensor_numel(w); i++) {
        mx = fmax(mx, fabs(nb_tensor_get(w, i)));
        sq += nb_tensor_get(w, i) * nb_tensor_get(w, i);
    }
    assert_true(mx <= bound && mx > 0.98 * bound);
    /* uniform(-a, a) has variance a^2 / 3 */
    assert_true(fabs(sq / (double)nb_tensor_numel(w) / (bound * bound / 3.0) - 1.0) < 0.05);
    for (int64_t i = 0; i < nb_tensor_numel(b); i++)
        assert_true(fabs(nb_tensor_get(b, i)) <= bound);
    nb_module_free(conv);
}

static void test_conv_parameter_counts_follow_groups_and_bias(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(4);
    nb_module *a = nb_conv2d_new(3, 5, 3, 3, NULL, &r);
    nb_module *dw = nb_conv2d_new(8, 8, 3, 3, &(nb_conv_layer_opts){.conv.groups = 8}, &r);
    nb_module *nb = nb_conv1d_new(4, 6, 5, &(nb_conv_layer_opts){.no_bias = true}, &r);
    assert_int_equal(nb_module_num_params(a), 5 * 3 * 9 + 5);
    assert_int_equal(nb_module_num_params(dw), 8 * 1 * 9 + 8);
    assert_int_equal(nb_module_num_params(nb), 6 * 4 * 5);
    assert_null(nb_module_param(nb, "bias"));
    nb_module_free(a);
    nb_module_free(dw);
    nb_module_free(nb);
}

static void test_conv2d_pool_stack_passes_gradient_check_in_f64(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    const nb_conv_layer_opts o = {.conv.padding = NB_PAD_SAME, .dtype = NB_F64};
    nb_module *net = nb_sequential_new(
        6, (nb_module *[]){
               nb_conv2d_new(2, 3, 3, 3, &o, &r), nb_tanh_new(), nb_max_pool2d_new(2, 2, NULL),
               nb_conv2d_new(
                   3, 4, 2, 2,
                   &(nb_conv_layer_opts){.conv.dilation_h = 1, .conv.stride_w = 1, .dtype = NB_F64},
                   &r),
               nb_avg_pool2d_new(2, 1, &(nb_pool_opts){.stride_h = 1}), nb_global_avg_pool_new()});
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 2, 6, 6}, &r, -1, 1);
    assert_module_gradcheck(net, x);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_conv1d_pool_stack_passes_gradient_check_in_f64(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(6);
    nb_module *net = nb_sequential_new(
        5, (nb_module *[]){
               nb_conv1d_new(3, 4, 3, &(nb_conv_layer_opts){.conv.dilation_w = 2, .dtype = NB_F64},
                             &r),
               nb_avg_pool1d_new(2, NULL), nb_sigmoid_new(),
               nb_conv1d_new(4, 4, 2, &(nb_conv_layer_opts){.conv.groups = 2, .dtype = NB_F64}, &r),
               nb_max_pool1d_new(2, &(nb_pool_opts){.stride_w = 1})});
    nb_module *head = nb_global_max_pool_new();
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 3, 12}, &r, -1, 1);
    assert_module_gradcheck(net, x);
    /* and the global max pool on its own: [2, 3, 12] -> [2, 3] */
    assert_module_gradcheck(head, x);
    nb_tensor_free(x);
    nb_module_free(net);
    nb_module_free(head);
}

static void test_dropout2d_zeros_whole_channels_and_is_identity_in_eval(void **state)
{
    (void)state;
    nb_module *d = nb_dropout2d_new(0.5, 9);
    assert_non_null(d);
    nb_tensor *x = nb_tensor_full(NB_F32, 4, (int64_t[]){8, 16, 3, 3}, 1.0);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(d, x);
    assert_non_null(y);
    int dropped = 0;
    for (int nc = 0; nc < 8 * 16; nc++) {
        const double first = nb_tensor_get(y, nc * 9);
        assert_true(first == 0.0 || first == 2.0);
        for (int k = 1; k < 9; k++)
            assert_float_equal(nb_tensor_get(y, nc * 9 + k), first, 0);
        dropped += first == 0.0;
    }
    /* 128 Bernoulli(0.5) draws: far from none and from all */
    assert_true(dropped > 32 && dropped < 96);
    nb_module_train(d, false);
    assert_ptr_equal(nb_module_forward(d, x), x);
    nb_step_end(step);
    nb_step_free(step);
    /* gradient: dy * mask / (1 - p) through the kept channels (same seed -> same mask) */
    nb_module *d2 = nb_dropout2d_new(0.3, 4);
    nb_rng r = nb_rng_seed(10);
    nb_tensor *x2 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 3, 4}, &r, -1, 1);
    nb_step *s2 = nb_step_new();
    nb_step_begin(s2);
    nb_tensor_set_requires_grad(x2, true);
    nb_tensor *y2 = nb_module_forward(d2, x2);
    assert_int_equal(nb_backward(nb_sum_all(y2)), NB_OK);
    for (int i = 0; i < 24; i++) {
        const double g = nb_tensor_get(nb_tensor_grad(x2), i);
        const double ratio = nb_tensor_get(y2, i) / nb_tensor_get(x2, i);
        assert_float_equal(g, ratio, 1e-12);
        assert_true(g == 0.0 || fabs(g - 1.0 / 0.7) < 1e-12);
    }
    nb_step_end(s2);
    nb_step_free(s2);
    nb_tensor_free(x2);
    nb_module_free(d2);
    nb_tensor_free(x);
    nb_module_free(d);
}

static void test_conv_layers_reject_wrong_input_naming_the_module(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(11);
    nb_module *net =
        nb_sequential_new(2, (nb_module *[]){nb_conv2d_new(3, 4, 3, 3, NULL, &r), nb_relu_new()});
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, (int64_t[]){2, 2, 5, 5});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_module_forward(net, x));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: Conv2d '0' (3 -> 4, 3x3): input is "
                                   "[2, 2, 5, 5], expected [N, 3, H, W]");
    nb_module *c1 = nb_conv1d_new(2, 2, 3, NULL, &r);
    assert_null(nb_module_forward(c1, x));
    nbt_assert_error(NB_ERR_SHAPE, "Conv1d (2 -> 2, k 3): input is [2, 2, 5, 5], expected "
                                   "[N, 2, L]");
    nb_module *mp = nb_max_pool2d_new(2, 2, NULL);
    nb_tensor *x3 = nb_reshape(x, 3, (int64_t[]){2, 2, 25});
    assert_null(nb_module_forward(mp, x3));
    nbt_assert_error(NB_ERR_SHAPE, "MaxPool2d (2x2, stride 2x2): input is [2, 2, 25], "
                                   "expected [N, C, H, W]");
    nb_module *ap = nb_avg_pool1d_new(3, NULL);
    assert_null(nb_module_forward(ap, x));
    nbt_assert_error(NB_ERR_SHAPE, "AvgPool1d (k 3, stride 3): input is [2, 2, 5, 5]");
    nb_module *gp = nb_global_avg_pool_new();
    nb_tensor *x2 = nb_reshape(x, 2, (int64_t[]){2, 50});
    assert_null(nb_module_forward(gp, x2));
    nbt_assert_error(NB_ERR_SHAPE, "GlobalAvgPool: input is [2, 50], expected [N, C, ...]");
    nb_module *d2 = nb_dropout2d_new(0.5, 1);
    assert_null(nb_module_forward(d2, x2));
    nbt_assert_error(NB_ERR_SHAPE, "Dropout2d (p=0.5): input is [2, 50]");
    /* an input too small for the kernel: the op says so */
    nb_module *big = nb_conv2d_new(2, 1, 7, 7, NULL, &r);
    assert_null(nb_module_forward(big, x));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d");
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
    nb_module_free(c1);
    nb_module_free(mp);
    nb_module_free(ap);
    nb_module_free(gp);
    nb_module_free(d2);
    nb_module_free(big);
}

/* pad p is the four explicit pads p (PyTorch's Conv2d(padding=p)): at stride 2 a 4x4 input gives
 * 2x2 with one zero row above (SAME would pad only below); conv1d pads left and right. */
static void test_conv_symmetric_pad_is_explicit_pads_on_every_side(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(3), r2 = nb_rng_seed(3), r3 = nb_rng_seed(3);
    nb_module *a = nb_conv2d_new(
        2, 3, 3, 3, &(nb_conv_layer_opts){.conv = {.stride_h = 2, .stride_w = 2}, .pad = 1}, &r1);
    nb_module *b = nb_conv2d_new(2, 3, 3, 3,
                                 &(nb_conv_layer_opts){.conv = {.stride_h = 2,
                                                                .stride_w = 2,
                                                                .padding = NB_PAD_EXPLICIT,
                                                                .pad_top = 1,
                                                                .pad_bottom = 1,
                                                                .pad_left = 1,
                                                                .pad_right = 1}},
                                 &r2);
    nb_module *c = nb_conv2d_new(
        2, 3, 3, 3,
        &(nb_conv_layer_opts){.conv = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME}}, &r3);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_equal(nb_module_info(a), "2 -> 3, 3x3, stride 2, pad 1");
    nb_tensor *x = nb_tensor_uniform(NB_F32, 4, (int64_t[]){1, 2, 4, 4}, &r1, -1, 1);
    nb_tensor *ya = nb_module_forward(a, x), *yb = nb_module_forward(b, x);
    nb_tensor *yc = nb_module_forward(c, x);
    assert_non_null(ya);
    assert_int_equal(nb_tensor_dim(ya, 2), 2);
    assert_int_equal(nb_tensor_dim(ya, 3), 2);
    assert_true(nb_tensor_allclose(ya, yb, 0, 0));
    assert_false(nb_tensor_allclose(ya, yc, 1e-6, 1e-6));
    nb_tensor_free(ya), nb_tensor_free(yb), nb_tensor_free(yc), nb_tensor_free(x);
    nb_module_free(a), nb_module_free(b), nb_module_free(c);
    /* 1-D: L 5, kernel 3, pad 2 -> 7 */
    nb_module *d = nb_conv1d_new(1, 1, 3, &(nb_conv_layer_opts){.pad = 2}, &r2);
    assert_non_null(d);
    x = nb_tensor_uniform(NB_F32, 3, (int64_t[]){1, 1, 5}, &r2, -1, 1);
    nb_tensor *y = nb_module_forward(d, x);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 2), 7);
    nb_tensor_free(y), nb_tensor_free(x);
    nb_module_free(d);
    /* pad with another padding, or negative */
    assert_null(nb_conv2d_new(2, 3, 3, 3,
                              &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME, .pad = 1}, &r1));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d_new: pad must be >= 0 and, when > 0, the only");
    assert_null(
        nb_conv2d_new(2, 3, 3, 3, &(nb_conv_layer_opts){.conv.pad_left = 1, .pad = 1}, &r1));
    nbt_assert_error(NB_ERR_VALUE, "got pad 1");
    assert_null(nb_conv1d_new(2, 3, 3, &(nb_conv_layer_opts){.pad = -1}, &r1));
    nbt_assert_error(NB_ERR_VALUE, "got pad -1");
}

static void test_conv_layer_constructors_reject_bad_settings(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(12);
    assert_null(nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.conv.groups = 2}, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d_new: in and out channels must divide by groups, "
                                   "got in 3, out 4, groups 2");
    assert_null(nb_conv2d_new(3, 4, 0, 3, NULL, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d_new: need channels and kernel sizes >= 1");
    assert_null(nb_conv1d_new(3, 4, 3, NULL, NULL));
    nbt_assert_error(NB_ERR_VALUE, "rng NULL");
    assert_null(nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.conv.stride_h = -1}, &r));
    nbt_assert_error(NB_ERR_VALUE, "must be >= 0");
    assert_null(
        nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.conv.padding = (nb_padding)7}, &r));
    nbt_assert_error(NB_ERR_VALUE, "unknown padding mode 7");
    assert_null(nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.conv.output_padding_w = 1}, &r));
    nbt_assert_error(NB_ERR_VALUE, "output_padding");
    assert_null(nb_conv2d_new(3, 4, 3, 3, &(nb_conv_layer_opts){.dtype = NB_I64}, &r));
    nbt_assert_error(NB_ERR_DTYPE, "nb_conv2d_new: parameters must be f32 or f64, got i64");
    assert_null(nb_conv1d_new(3, 4, 3, &(nb_conv_layer_opts){.conv.stride_h = 2}, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv1d_new: a 1-D convolution uses the width fields");
    assert_null(nb_max_pool2d_new(2, 0, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_max_pool2d_new: kernel must be >= 1, got 2x0");
    assert_null(
        nb_avg_pool2d_new(2, 2, &(nb_pool_opts){.padding = NB_PAD_EXPLICIT, .pad_left = 2}));
    nbt_assert_error(NB_ERR_VALUE, "pads smaller than the kernel");
    assert_null(nb_dropout2d_new(1.0, 1));
    nbt_assert_error(NB_ERR_VALUE, "nb_dropout2d_new: p must be in [0, 1), got 1");
}

/* stride s is conv.stride_h = conv.stride_w = s (PyTorch's Conv2d(stride=s)); conv1d: stride_w. */
static void test_conv_relu_layer_is_conv_then_relu_and_gradchecks(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(8), r2 = nb_rng_seed(8);
    const nb_conv_layer_opts fused = {.conv = {.padding = NB_PAD_SAME, .relu = true}};
    nb_module *a = nb_conv2d_new(2, 4, 3, 3, &fused, &r1);
    nb_module *b =
        nb_conv2d_new(2, 4, 3, 3, &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME}, &r2);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(nb_module_info(a), "2 -> 4, 3x3, same, relu");
    nb_tensor *x = nb_tensor_uniform(NB_F32, 4, (int64_t[]){2, 2, 5, 5}, &r1, -1, 1);
    nb_tensor *ya = nb_module_forward(a, x), *yb = nb_module_forward(b, x);
    nb_tensor *rb = nb_relu(yb);
    assert_non_null(ya);
    assert_non_null(rb);
    assert_true(nb_tensor_allclose(ya, rb, 0, 0));
    nb_tensor_free(ya), nb_tensor_free(yb), nb_tensor_free(rb), nb_tensor_free(x);
    nb_module_free(a), nb_module_free(b);
    /* float64 gradient check through the fused layer, 2-D and 1-D */
    nb_module *c = nb_conv2d_new(
        2, 3, 3, 3,
        &(nb_conv_layer_opts){.conv = {.padding = NB_PAD_SAME, .relu = true}, .dtype = NB_F64},
        &r1);
    x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 2, 4, 4}, &r1, -1, 1);
    assert_module_gradcheck(c, x);
    nb_tensor_free(x);
    nb_module_free(c);
    nb_module *d = nb_conv1d_new(
        2, 3, 3, &(nb_conv_layer_opts){.conv.relu = true, .pad = 1, .dtype = NB_F64}, &r1);
    x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 2, 6}, &r1, -1, 1);
    assert_module_gradcheck(d, x);
    nb_tensor_free(x);
    nb_module_free(d);
}

static void test_conv_stride_shorthand_sets_every_spatial_stride(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(4), r2 = nb_rng_seed(4);
    nb_module *a = nb_conv2d_new(2, 3, 3, 3, &(nb_conv_layer_opts){.stride = 2, .pad = 1}, &r1);
    nb_module *b = nb_conv2d_new(
        2, 3, 3, 3, &(nb_conv_layer_opts){.conv = {.stride_h = 2, .stride_w = 2}, .pad = 1}, &r2);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(nb_module_info(a), nb_module_info(b));
    nb_tensor *x = nb_tensor_uniform(NB_F32, NB_SHAPE(1, 2, 6, 6), &r1, -1, 1);
    nb_tensor *ya = nb_module_forward(a, x), *yb = nb_module_forward(b, x);
    assert_non_null(ya);
    assert_int_equal(nb_tensor_dim(ya, 2), 3);
    assert_true(nb_tensor_allclose(ya, yb, 0, 0));
    nb_tensor_free(ya), nb_tensor_free(yb), nb_tensor_free(x);
    nb_module_free(a), nb_module_free(b);
    nb_module *d = nb_conv1d_new(1, 1, 3, &(nb_conv_layer_opts){.stride = 2}, &r1);
    assert_non_null(d);
    x = nb_tensor_uniform(NB_F32, NB_SHAPE(1, 1, 9), &r1, -1, 1);
    nb_tensor *y = nb_module_forward(d, x); /* (9 - 3) / 2 + 1 = 4 */
    assert_int_equal(nb_tensor_dim(y, 2), 4);
    nb_tensor_free(y), nb_tensor_free(x);
    nb_module_free(d);
    assert_null(
        nb_conv2d_new(2, 3, 3, 3, &(nb_conv_layer_opts){.stride = 2, .conv.stride_h = 2}, &r1));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d_new: stride must be >= 0 and, when > 0, the only");
    assert_null(nb_conv2d_new(2, 3, 3, 3, &(nb_conv_layer_opts){.stride = -1}, &r1));
    nbt_assert_error(NB_ERR_VALUE, "got stride -1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_matches_direct_loop_with_stride_padding_and_groups),
        cmocka_unit_test(test_conv1d_same_padding_keeps_length_and_matches_direct_loop),
        cmocka_unit_test(test_conv2d_default_init_is_uniform_within_one_over_sqrt_fan_in),
        cmocka_unit_test(test_conv_parameter_counts_follow_groups_and_bias),
        cmocka_unit_test(test_conv2d_pool_stack_passes_gradient_check_in_f64),
        cmocka_unit_test(test_conv1d_pool_stack_passes_gradient_check_in_f64),
        cmocka_unit_test(test_dropout2d_zeros_whole_channels_and_is_identity_in_eval),
        cmocka_unit_test(test_conv_layers_reject_wrong_input_naming_the_module),
        cmocka_unit_test(test_conv_layer_constructors_reject_bad_settings),
        cmocka_unit_test(test_conv_symmetric_pad_is_explicit_pads_on_every_side),
        cmocka_unit_test(test_conv_stride_shorthand_sets_every_spatial_stride),
        cmocka_unit_test(test_conv_relu_layer_is_conv_then_relu_and_gradchecks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
