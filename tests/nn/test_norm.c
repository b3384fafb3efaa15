/* tests/nn/test_norm.c — nn/norm.c: BatchNorm1d/2d against the direct formula in training and
 * eval mode, running statistics after two steps, float64 gradient checks (BatchNorm in training
 * mode, LayerNorm, GroupNorm, InstanceNorm), parameters vs running statistics, errors that name
 * the module. */
#include "support/nbt.h"

#include <math.h>

static nb_tensor *forward_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_module_forward(user, in[0]);
}

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

/* Per-channel mean and biased variance of x [N, C, S] (S = H*W, or 1) computed directly. */
static void channel_stats(const nb_tensor *x, int64_t N, int64_t C, int64_t S, int64_t c,
                          double *mean, double *var)
{
    double s = 0, q = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < S; k++)
            s += nb_tensor_get(x, (n * C + c) * S + k);
    *mean = s / (double)(N * S);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < S; k++) {
            const double d = nb_tensor_get(x, (n * C + c) * S + k) - *mean;
            q += d * d;
        }
    *var = q / (double)(N * S);
}

static void set_affine(nb_module *bn, int64_t C)
{
    for (int64_t c = 0; c < C; c++) {
        nb_tensor_set(nb_module_param(bn, "weight"), c, 0.5 + 0.25 * (double)c);
        nb_tensor_set(nb_module_param(bn, "bias"), c, -0.3 + 0.2 * (double)c);
    }
}

static void test_batch_norm2d_training_forward_matches_formula(void **state)
{
    (void)state;
    const int64_t N = 4, C = 3, H = 2, W = 3, S = H * W;
    nb_module *bn = nb_batch_norm2d_new(C, &(nb_norm_layer_opts){.dtype = NB_F64});
    assert_non_null(bn);
    set_affine(bn, C);
    nb_rng r = nb_rng_seed(1);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){N, C, H, W}, &r, -2, 3);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(bn, x);
    assert_non_null(y);
    for (int64_t c = 0; c < C; c++) {
        double m, v;
        channel_stats(x, N, C, S, c, &m, &v);
        const double g = 0.5 + 0.25 * (double)c, b = -0.3 + 0.2 * (double)c;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < S; k++) {
                const int64_t i = (n * C + c) * S + k;
                const double ref = (nb_tensor_get(x, i) - m) / sqrt(v + 1e-5) * g + b;
                assert_float_equal(nb_tensor_get(y, i), ref, 1e-12);
            }
    }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(bn);
}

static void test_batch_norm_running_stats_after_two_steps_and_eval_uses_them(void **state)
{
    (void)state;
    const int64_t N = 5, C = 2, L = 4, S = L;
    const double mom = 0.1, eps = 1e-5;
    nb_module *bn = nb_batch_norm1d_new(C, &(nb_norm_layer_opts){.dtype = NB_F64});
    assert_non_null(bn);
    set_affine(bn, C);
    nb_tensor *rm = nb_batch_norm_running_mean(bn), *rv = nb_batch_norm_running_var(bn);
    assert_non_null(rm);
    assert_non_null(rv);
    double ref_m[2] = {0, 0}, ref_v[2] = {1, 1};
    for (int64_t c = 0; c < C; c++) {
        assert_float_equal(nb_tensor_get(rm, c), 0.0, 0);
        assert_float_equal(nb_tensor_get(rv, c), 1.0, 0);
    }
    nb_rng r = nb_rng_seed(2);
    nb_step *step = nb_step_new();
    for (int it = 0; it < 2; it++) {
        nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){N, C, L}, &r, -1 + it, 2 + 3 * it);
        nb_step_begin(step);
        assert_non_null(nb_module_forward(bn, x));
        nb_step_end(step);
        for (int64_t c = 0; c < C; c++) {
            double m, v;
            channel_stats(x, N, C, S, c, &m, &v);
            const double n = (double)(N * S);
            ref_m[c] = (1 - mom) * ref_m[c] + mom * m;
            ref_v[c] = (1 - mom) * ref_v[c] + mom * v * n / (n - 1); /* unbiased */
        }
        nb_tensor_free(x);
    }
    for (int64_t c = 0; c < C; c++) {
        assert_float_equal(nb_tensor_get(rm, c), ref_m[c], 1e-12);
        assert_float_equal(nb_tensor_get(rv, c), ref_v[c], 1e-12);
    }
    /* eval: normalised with the running statistics, which stay unchanged */
    nb_module_train(bn, false);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){N, C, L}, &r, -3, 3);
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(bn, x);
    assert_non_null(y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t k = 0; k < L; k++) {
                const int64_t i = (n * C + c) * L + k;
                const double g = 0.5 + 0.25 * (double)c, b = -0.3 + 0.2 * (double)c;
                const double ref = (nb_tensor_get(x, i) - ref_m[c]) / sqrt(ref_v[c] + eps) * g + b;
                assert_float_equal(nb_tensor_get(y, i), ref, 1e-12);
            }
    nb_step_end(step);
    for (int64_t c = 0; c < C; c++)
        assert_float_equal(nb_tensor_get(rm, c), ref_m[c], 0);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(bn);
}

static void test_batch_norm_running_stats_are_not_parameters(void **state)
{
    (void)state;
    nb_module *bn = nb_batch_norm2d_new(6, NULL);
    assert_non_null(bn);
    assert_int_equal(nb_module_num_params(bn), 12);
    nb_named_tensor np[4];
    assert_int_equal(nb_module_named_params(bn, np, 4), 2);
    assert_string_equal(np[0].name, "weight");
    assert_string_equal(np[1].name, "bias");
    assert_false(nb_tensor_requires_grad(nb_batch_norm_running_mean(bn)));
    assert_int_equal(nb_tensor_numel(nb_batch_norm_running_var(bn)), 6);
    nb_module *plain = nb_batch_norm1d_new(3, &(nb_norm_layer_opts){.no_affine = true});
    assert_int_equal(nb_module_num_params(plain), 0);
    assert_non_null(nb_batch_norm_running_mean(plain));
    nb_module *relu = nb_relu_new();
    assert_null(nb_batch_norm_running_mean(relu));
    nbt_assert_error(NB_ERR_VALUE, "nb_batch_norm_running_mean: not a BatchNorm module (kind "
                                   "'ReLU')");
    nb_module_free(relu);
    nb_module_free(plain);
    nb_module_free(bn);
}

static void test_batch_norm_training_passes_gradient_check_in_f64(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    nb_module *bn2 = nb_batch_norm2d_new(3, &(nb_norm_layer_opts){.dtype = NB_F64});
    set_affine(bn2, 3);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){3, 3, 2, 2}, &r, -1, 2);
    assert_module_gradcheck(bn2, x);
    /* BatchNorm1d on [N, C] and, without affine parameters, on [N, C, L] */
    nb_module *bn1 = nb_batch_norm1d_new(4, &(nb_norm_layer_opts){.dtype = NB_F64});
    nb_tensor *x1 = nb_tensor_uniform(NB_F64, 2, (int64_t[]){5, 4}, &r, -1, 2);
    assert_module_gradcheck(bn1, x1);
    nb_module *bn1p =
        nb_batch_norm1d_new(2, &(nb_norm_layer_opts){.dtype = NB_F64, .no_affine = true});
    nb_tensor *x2 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){3, 2, 3}, &r, -1, 2);
    assert_module_gradcheck(bn1p, x2);
    /* eval mode: an affine map of x with constant statistics */
    nb_module_train(bn2, false);
    assert_module_gradcheck(bn2, x);
    nb_tensor_free(x);
    nb_tensor_free(x1);
    nb_tensor_free(x2);
    nb_module_free(bn2);
    nb_module_free(bn1);
    nb_module_free(bn1p);
}

static void test_conv_batch_norm_net_passes_gradient_check_in_f64(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(4);
    nb_module *net = nb_sequential_new(
        4, (nb_module *[]){nb_conv2d_new(2, 3, 2, 2, &(nb_conv_layer_opts){.dtype = NB_F64}, &r),
                           nb_batch_norm2d_new(3, &(nb_norm_layer_opts){.dtype = NB_F64}),
                           nb_tanh_new(), nb_global_avg_pool_new()});
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 2, 4, 4}, &r, -1, 1);
    assert_module_gradcheck(net, x);
    nb_tensor_free(x);
    nb_module_free(net);
}

static void test_layer_norm_matches_formula_and_passes_gradient_check(void **state)
{
    (void)state;
    const int64_t shape[2] = {3, 4};
    nb_module *ln = nb_layer_norm_new(2, shape, &(nb_norm_layer_opts){.dtype = NB_F64});
    assert_non_null(ln);
    assert_int_equal(nb_module_num_params(ln), 24);
    nb_tensor *g = nb_module_param(ln, "weight"), *b = nb_module_param(ln, "bias");
    for (int i = 0; i < 12; i++) {
        nb_tensor_set(g, i, 0.5 + 0.1 * i);
        nb_tensor_set(b, i, 0.05 * i - 0.2);
    }
    nb_rng r = nb_rng_seed(5);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 3, 4}, &r, -2, 2);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(ln, x);
    assert_non_null(y);
    for (int n = 0; n < 2; n++) {
        double s = 0, q = 0;
        for (int i = 0; i < 12; i++)
            s += nb_tensor_get(x, n * 12 + i);
        const double m = s / 12;
        for (int i = 0; i < 12; i++)
            q += (nb_tensor_get(x, n * 12 + i) - m) * (nb_tensor_get(x, n * 12 + i) - m);
        const double v = q / 12;
        for (int i = 0; i < 12; i++) {
            const double ref =
                (nb_tensor_get(x, n * 12 + i) - m) / sqrt(v + 1e-5) * (0.5 + 0.1 * i) + 0.05 * i -
                0.2;
            assert_float_equal(nb_tensor_get(y, n * 12 + i), ref, 1e-12);
        }
    }
    nb_step_end(step);
    nb_step_free(step);
    assert_module_gradcheck(ln, x);
    nb_module *ln1 = nb_layer_norm_new(1, (int64_t[]){4}, &(nb_norm_layer_opts){.dtype = NB_F64});
    assert_module_gradcheck(ln1, x);
    nb_tensor_free(x);
    nb_module_free(ln);
    nb_module_free(ln1);
}

static void test_norm_layers_reject_wrong_input_naming_the_module(void **state)
{
    (void)state;
    nb_module *net = nb_sequential_new(1, (nb_module *[]){nb_batch_norm2d_new(3, NULL)});
    nb_module *bn1 = nb_batch_norm1d_new(2, NULL);
    nb_module *ln = nb_layer_norm_new(2, (int64_t[]){3, 4}, NULL);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, (int64_t[]){2, 2, 3, 4});
    nb_tensor *one = nb_tensor_zeros(NB_F32, 2, (int64_t[]){1, 2});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_module_forward(net, x));
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_forward: BatchNorm2d '0' (3, eps 1e-05, momentum "
                                   "0.1): input is [2, 2, 3, 4], expected [N, C, H, W] with C = 3");
    assert_null(nb_module_forward(bn1, x));
    nbt_assert_error(NB_ERR_SHAPE, "BatchNorm1d (2, eps 1e-05, momentum 0.1): input is "
                                   "[2, 2, 3, 4], expected [N, C] or [N, C, L] with C = 2");
    assert_null(nb_module_forward(bn1, one));
    nbt_assert_error(NB_ERR_SHAPE, "input is [1, 2]: training needs more than one value per "
                                   "channel");
    nb_module_train(bn1, false); /* eval mode accepts a single sample */
    assert_non_null(nb_module_forward(bn1, one));
    nb_tensor *bad = nb_reshape(x, 3, (int64_t[]){2, 4, 6});
    assert_null(nb_module_forward(ln, bad));
    nbt_assert_error(NB_ERR_SHAPE, "LayerNorm (3x4, eps 1e-05): input is [2, 4, 6], expected "
                                   "[*, 3, 4]");
    nb_step_end(step);
    nb_step_free(step);
    assert_null(nb_batch_norm2d_new(0, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_batch_norm2d_new: channels must be >= 1, got 0");
    assert_null(nb_batch_norm1d_new(2, &(nb_norm_layer_opts){.momentum = 1.5}));
    nbt_assert_error(NB_ERR_VALUE, "nb_batch_norm1d_new: need eps >= 0 and momentum in [0, 1]");
    assert_null(nb_layer_norm_new(0, (int64_t[]){3}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_layer_norm_new: need 1 to 7 normalised dims, got 0");
    assert_null(nb_layer_norm_new(1, (int64_t[]){0}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_layer_norm_new: dim 0 of the normalised shape is 0");
    assert_null(nb_layer_norm_new(1, (int64_t[]){3}, &(nb_norm_layer_opts){.dtype = NB_I64}));
    nbt_assert_error(NB_ERR_DTYPE, "must be f32 or f64, got i64");
    nb_tensor_free(x);
    nb_tensor_free(one);
    nb_module_free(net);
    nb_module_free(bn1);
    nb_module_free(ln);
}

/* GroupNorm and InstanceNorm: parameters as in PyTorch (InstanceNorm affine only when asked),
 * the same result in eval mode, float64 gradient checks through input and parameters (values
 * against PyTorch: tests/nn/test_golden_modules.c). */
static void test_group_and_instance_norm_layout_and_gradients(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(7);
    const nb_norm_layer_opts f64 = {.dtype = NB_F64};
    nb_module *gn = nb_group_norm_new(2, 4, &f64);
    nb_module *in_plain = nb_instance_norm2d_new(3, &f64);
    nb_module *in_aff =
        nb_instance_norm1d_new(3, &(nb_norm_layer_opts){.dtype = NB_F64, .affine = true});
    assert_non_null(gn);
    assert_int_equal(nb_module_num_params(gn), 8);       /* weight [4], bias [4] */
    assert_int_equal(nb_module_num_params(in_plain), 0); /* PyTorch: affine=False */
    assert_int_equal(nb_module_num_params(in_aff), 6);
    set_affine(gn, 4);
    set_affine(in_aff, 3);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 4, 3}, &rng, -1, 1);
    nb_tensor *y = nb_module_forward(gn, x);
    /* group 1 of sample 0 is channels 2, 3: its 6 values */
    double mean = 0, var = 0;
    for (int k = 0; k < 6; k++)
        mean += nb_tensor_get(x, 6 + k) / 6;
    for (int k = 0; k < 6; k++)
        var += pow(nb_tensor_get(x, 6 + k) - mean, 2) / 6;
    const double want = (nb_tensor_get(x, 9) - mean) / sqrt(var + 1e-5) * 1.25 + 0.3; /* c 3 */
    assert_float_equal(nb_tensor_get(y, 9), want, 1e-12);
    nb_module_train(gn, false);
    nb_tensor *ye = nb_module_forward(gn, x);
    for (int64_t i = 0; i < 24; i++)
        assert_float_equal(nb_tensor_get(ye, i), nb_tensor_get(y, i), 0);
    nb_module_train(gn, true);
    assert_module_gradcheck(gn, x);
    nb_tensor *x1 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 3, 4}, &rng, -1, 1);
    assert_module_gradcheck(in_aff, x1);
    nb_tensor *x2 = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 3, 2, 2}, &rng, -1, 1);
    assert_module_gradcheck(in_plain, x2);
    nb_tensor_free(y), nb_tensor_free(ye), nb_tensor_free(x), nb_tensor_free(x1);
    nb_tensor_free(x2);
    nb_module_free(gn), nb_module_free(in_plain), nb_module_free(in_aff);
}

static void test_group_and_instance_norm_errors(void **state)
{
    (void)state;
    assert_null(nb_group_norm_new(3, 4, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_group_norm_new: need channels >= 1 divisible by groups >= "
                                   "1, got 4, 3");
    assert_null(nb_group_norm_new(0, 4, NULL));
    nbt_assert_error(NB_ERR_VALUE, "got 4, 0");
    assert_null(nb_instance_norm2d_new(0, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_instance_norm2d_new: need channels >= 1");
    assert_null(nb_instance_norm1d_new(2, &(nb_norm_layer_opts){.eps = -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_instance_norm1d_new: need eps >= 0");
    nb_module *gn = nb_group_norm_new(2, 4, NULL), *in = nb_instance_norm2d_new(4, NULL);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){2, 3, 5});
    nb_tensor *v = nb_tensor_zeros(NB_F32, 1, (int64_t[]){4});
    assert_null(nb_module_forward(gn, x));
    nbt_assert_error(NB_ERR_SHAPE, "GroupNorm (2 groups, 4 channels, eps 1e-05): input is "
                                   "[2, 3, 5], expected [N, C, *] with C = 4");
    assert_null(nb_module_forward(gn, v));
    nbt_assert_error(NB_ERR_SHAPE, "input is [4], expected [N, C, *]");
    assert_null(nb_module_forward(in, x));
    nbt_assert_error(NB_ERR_SHAPE, "InstanceNorm2d (4, eps 1e-05): input is [2, 3, 5], expected "
                                   "[N, C, H, W] with C = 4");
    nb_tensor_free(x), nb_tensor_free(v);
    nb_module_free(gn), nb_module_free(in);
}

/* InstanceNorm with track_running_stats: buffers (not parameters) only when asked, running
 * statistics against the direct formula after two training forwards, eval mode normalising with
 * them, a gradient check in training mode, and the errors. (Values against PyTorch:
 * tests/nn/test_golden_modules.c.) */
static void test_instance_norm_running_stats(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(11);
    const int64_t N = 3, C = 2, L = 5;
    nb_module *plain = nb_instance_norm1d_new(C, NULL);
    assert_int_equal(nb_module_named_buffers(plain, NULL, 0), 0); /* default: no buffers */
    nb_module *in = nb_instance_norm1d_new(
        C, &(nb_norm_layer_opts){.dtype = NB_F64, .track_running_stats = true, .momentum = 0.25});
    assert_non_null(in);
    assert_string_equal(nb_module_info(in), "2, eps 1e-05, running stats, momentum 0.25");
    assert_int_equal(nb_module_num_params(in), 0);
    nb_named_tensor b[4];
    assert_int_equal(nb_module_named_buffers(in, b, 4), 2);
    assert_string_equal(b[0].name, "running_mean");
    assert_string_equal(b[1].name, "running_var");
    assert_int_equal(nb_tensor_dtype(b[0].tensor), NB_F64);
    assert_float_equal(nb_tensor_get(b[1].tensor, 1), 1.0, 0);

    double rm[2] = {0, 0}, rv[2] = {1, 1};
    nb_tensor *x = NULL;
    for (int step = 0; step < 2; step++) {
        nb_tensor_free(x);
        x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){N, C, L}, &rng, -1, 2);
        nb_tensor *y = nb_module_forward(in, x);
        assert_non_null(y);
        for (int64_t c = 0; c < C; c++) {
            double sm = 0, sv = 0;
            for (int64_t n = 0; n < N; n++) {
                double mean, var;
                channel_stats(x, 1, N * C, L, n * C + c, &mean, &var); /* one (n, c) map */
                sm += 0.75 * rm[c] + 0.25 * mean;
                sv += 0.75 * rv[c] + 0.25 * var * (double)L / (double)(L - 1);
                if (step == 1 && c == 1) /* training output uses the instance statistics */
                    assert_float_equal(
                        nb_tensor_get(y, (n * C + c) * L + 2),
                        (nb_tensor_get(x, (n * C + c) * L + 2) - mean) / sqrt(var + 1e-5), 1e-12);
            }
            rm[c] = sm / (double)N;
            rv[c] = sv / (double)N;
        }
        nb_tensor_free(y);
    }
    for (int64_t c = 0; c < C; c++) {
        assert_float_equal(nb_tensor_get(b[0].tensor, c), rm[c], 1e-14);
        assert_float_equal(nb_tensor_get(b[1].tensor, c), rv[c], 1e-14);
    }
    nb_module_train(in, false);
    nb_tensor *ye = nb_module_forward(in, x);
    for (int64_t i = 0; i < N * C * L; i++) {
        const int64_t c = (i / L) % C;
        assert_float_equal(nb_tensor_get(ye, i), (nb_tensor_get(x, i) - rm[c]) / sqrt(rv[c] + 1e-5),
                           1e-12);
    }
    assert_float_equal(nb_tensor_get(b[0].tensor, 0), rm[0], 0); /* eval updates nothing */
    nb_module_train(in, true);
    nb_module *in_aff = nb_instance_norm2d_new(
        3, &(nb_norm_layer_opts){.dtype = NB_F64, .affine = true, .track_running_stats = true});
    set_affine(in_aff, 3);
    assert_int_equal(nb_module_named_buffers(in_aff, NULL, 0), 2);
    nb_tensor *x4 = nb_tensor_uniform(NB_F64, 4, (int64_t[]){2, 3, 2, 3}, &rng, -1, 1);
    assert_module_gradcheck(in_aff, x4);
    nb_tensor_free(x4);

    /* errors: momentum checked only when it is used; training needs l > 1 */
    nb_module *ok = nb_instance_norm1d_new(2, &(nb_norm_layer_opts){.momentum = 2});
    assert_non_null(ok);
    assert_null(nb_instance_norm2d_new(
        2, &(nb_norm_layer_opts){.momentum = 2, .track_running_stats = true}));
    nbt_assert_error(NB_ERR_VALUE, "nb_instance_norm2d_new: need eps >= 0 and momentum in [0, 1]");
    nb_tensor *one = nb_tensor_zeros(NB_F64, 3, (int64_t[]){4, C, 1});
    assert_null(nb_module_forward(in, one));
    nbt_assert_error(NB_ERR_SHAPE, "input is [4, 2, 1]: training with running statistics needs "
                                   "more than one value per instance");
    nb_module_train(in, false);
    nb_tensor *y1 = nb_module_forward(in, one); /* eval mode: fine */
    assert_non_null(y1);
    nb_tensor_free(y1), nb_tensor_free(one), nb_tensor_free(ye), nb_tensor_free(x);
    nb_module_free(ok), nb_module_free(in_aff), nb_module_free(in), nb_module_free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_norm2d_training_forward_matches_formula),
        cmocka_unit_test(test_batch_norm_running_stats_after_two_steps_and_eval_uses_them),
        cmocka_unit_test(test_batch_norm_running_stats_are_not_parameters),
        cmocka_unit_test(test_batch_norm_training_passes_gradient_check_in_f64),
        cmocka_unit_test(test_conv_batch_norm_net_passes_gradient_check_in_f64),
        cmocka_unit_test(test_layer_norm_matches_formula_and_passes_gradient_check),
        cmocka_unit_test(test_norm_layers_reject_wrong_input_naming_the_module),
        cmocka_unit_test(test_group_and_instance_norm_layout_and_gradients),
        cmocka_unit_test(test_group_and_instance_norm_errors),
        cmocka_unit_test(test_instance_norm_running_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
