/* tests/unsup/test_autoencoder.c — unsup/autoencoder.c: MLP and autoencoder layouts, encode/decode,
 * corruption processes, sparsity penalties (values against loops, gradients by central
 * differences), a small autoencoder that learns, latent-map codes, and the error paths. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static const int64_t course[6] = {784, 128, 64, 36, 18, 9};

static void assert_kinds(nb_module *seq, const char *const *kinds, int n)
{
    assert_int_equal(nb_module_num_children(seq), n);
    for (int i = 0; i < n; i++)
        assert_string_equal(nb_module_kind(nb_module_child_at(seq, i)), kinds[i]);
}

static void test_autoencoder_has_the_course_layout(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    nb_module *ae = nb_autoencoder_new(6, course, NULL, &r);
    assert_non_null(ae);
    assert_string_equal(nb_module_kind(ae), "Autoencoder");
    static const char *const enc[] = {"Linear", "ReLU",   "Linear", "ReLU",  "Linear",
                                      "ReLU",   "Linear", "ReLU",   "Linear"};
    static const char *const dec[] = {"Linear", "ReLU",   "Linear", "ReLU",   "Linear",
                                      "ReLU",   "Linear", "ReLU",   "Linear", "Sigmoid"};
    assert_kinds(nb_autoencoder_encoder(ae), enc, 9);
    assert_kinds(nb_autoencoder_decoder(ae), dec, 10);
    int64_t want = 0;
    for (int i = 0; i + 1 < 6; i++)
        want += 2 * (course[i] * course[i + 1]) + course[i + 1] + course[i];
    assert_int_equal(nb_module_num_params(ae), want);
    /* the decoder mirrors the encoder: its first layer maps 9 -> 18, its last 128 -> 784 */
    nb_tensor *w0 = nb_module_param(ae, "decoder.0.weight");
    assert_int_equal(nb_tensor_dim(w0, 0), 18);
    assert_int_equal(nb_tensor_dim(w0, 1), 9);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){3, 784}, &r, 0, 1);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_tensor *y = nb_module_forward(ae, x);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 0), 3);
    assert_int_equal(nb_tensor_dim(y, 1), 784);
    for (int64_t i = 0; i < nb_tensor_numel(y); i++)
        assert_true(nb_tensor_get(y, i) > 0.0 && nb_tensor_get(y, i) < 1.0);
    nb_tensor *code = nb_autoencoder_encode(ae, x);
    assert_int_equal(nb_tensor_dim(code, 1), 9);
    assert_true(nb_tensor_allclose(nb_autoencoder_decode(ae, code), y, 0, 0));
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(x);
    nb_module_free(ae);
}

static void test_autoencoder_options_choose_activations(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(2);
    nb_autoencoder_opts o = nb_autoencoder_defaults();
    o.hidden = NB_ACT_TANH;
    o.code = NB_ACT_SIGMOID;
    o.output = NB_ACT_NONE;
    o.dtype = NB_F64;
    nb_module *ae = nb_autoencoder_new(3, (int64_t[]){8, 4, 2}, &o, &r);
    assert_non_null(ae);
    assert_int_equal(nb_module_dtype(ae), NB_F64);
    static const char *const enc[] = {"Linear", "Tanh", "Linear", "Sigmoid"};
    static const char *const dec[] = {"Linear", "Tanh", "Linear"};
    assert_kinds(nb_autoencoder_encoder(ae), enc, 4);
    assert_kinds(nb_autoencoder_decoder(ae), dec, 3);
    /* with no step the encode result is caller-owned and nothing else is left behind */
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){5, 8}, &r, -1, 1);
    nb_tensor *code = nb_autoencoder_encode(ae, x);
    assert_int_equal(nb_tensor_dim(code, 1), 2);
    nb_tensor_free(code);
    nb_tensor_free(x);
    nb_module_free(ae);
}

static void test_mlp_new_places_activations(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    nb_module *m =
        nb_mlp_new(4, (int64_t[]){5, 4, 3, 2}, NB_ACT_LEAKY_RELU, NB_ACT_NONE, &r, NB_F32);
    static const char *const kinds[] = {"Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear"};
    assert_kinds(m, kinds, 5);
    assert_int_equal(nb_module_num_params(m), 5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2);
    nb_module_free(m);
    assert_string_equal(nb_activation_name(NB_ACT_SIGMOID), "sigmoid");
    /* the GAN slope: y = 0.2 x below 0 */
    m = nb_mlp_new(2, (int64_t[]){1, 1}, NB_ACT_NONE, NB_ACT_LEAKY_RELU_0_2, &r, NB_F32);
    assert_non_null(m);
    assert_string_equal(nb_module_kind(nb_module_child_at(m, 1)), "LeakyReLU");
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){2, 1}, (const float[]){-3, 2});
    nb_tensor *lin = nb_module_forward(nb_module_child_at(m, 0), x);
    nb_tensor *y = nb_module_forward(m, x), *want = nb_leaky_relu(lin, 0.2);
    nb_tensor *other = nb_leaky_relu(lin, 0.01); /* one of the two rows is below 0 */
    assert_true(nb_tensor_allclose(y, want, 0, 0));
    assert_false(nb_tensor_allclose(y, other, 1e-6, 1e-6));
    nb_tensor_free(other);
    assert_string_equal(nb_activation_name(NB_ACT_LEAKY_RELU_0_2), "leaky_relu_0.2");
    assert_string_equal(nb_activation_name((nb_activation)99), "?");
    nb_tensor_free(want), nb_tensor_free(y), nb_tensor_free(lin), nb_tensor_free(x);
    nb_module_free(m);
}

static void test_mlp_and_autoencoder_reject_bad_sizes(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(4);
    assert_null(nb_mlp_new(1, (int64_t[]){5}, NB_ACT_RELU, NB_ACT_NONE, &r, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_mlp_new: need at least 2 sizes, got 1");
    assert_null(nb_mlp_new(3, (int64_t[]){5, 0, 2}, NB_ACT_RELU, NB_ACT_NONE, &r, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_mlp_new: sizes[1] is 0, must be >= 1");
    assert_null(nb_mlp_new(2, (int64_t[]){5, 2}, (nb_activation)42, NB_ACT_NONE, &r, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "unknown activation 42");
    assert_null(nb_autoencoder_new(2, (int64_t[]){5, 2}, NULL, NULL));
    nbt_assert_error(NB_ERR_VALUE, "rng is NULL");
    nb_module *lin = nb_linear_new(2, 2, true, &r);
    assert_null(nb_autoencoder_encoder(lin));
    nbt_assert_error(NB_ERR_VALUE, "nb_autoencoder_encoder: module is Linear, expected an "
                                   "Autoencoder");
    nb_module_free(lin);
}

/* ---- corruption ---- */

static void test_corrupt_mask_zeroes_a_fraction_p_and_keeps_the_rest(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(5);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){200, 50}, &r, 0.1, 1.0);
    nb_rng a = nb_rng_seed(6), b = nb_rng_seed(6);
    nb_tensor *y = nb_corrupt_mask(x, 0.3, &a), *y2 = nb_corrupt_mask(x, 0.3, &b);
    assert_true(nb_tensor_allclose(y, y2, 0, 0));
    int64_t zeros = 0, n = nb_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(y, i);
        if (v == 0.0)
            zeros++;
        else
            assert_true(v == nb_tensor_get(x, i));
    }
    /* 10000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0046 */
    assert_true(fabs((double)zeros / (double)n - 0.3) < 0.02);
    nb_tensor *none = nb_corrupt_mask(x, 0.0, &a), *all = nb_corrupt_mask(x, 1.0, &a);
    assert_true(nb_tensor_allclose(none, x, 0, 0));
    for (int64_t i = 0; i < n; i++)
        assert_true(nb_tensor_get(all, i) == 0.0);
    nb_tensor_free(none);
    nb_tensor_free(all);
    nb_tensor_free(y);
    nb_tensor_free(y2);
    nb_tensor_free(x);
}

static void test_corrupt_gaussian_adds_noise_of_the_given_std(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(7);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){100, 100}, &r, 0.0, 1.0);
    nb_tensor *y = nb_corrupt_gaussian(x, 0.2, 0.0, 0.0, &r); /* lo == hi: no clamping */
    double s = 0.0, s2 = 0.0;
    int64_t n = nb_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double d = nb_tensor_get(y, i) - nb_tensor_get(x, i);
        s += d;
        s2 += d * d;
    }
    double mean = s / (double)n, sd = sqrt(s2 / (double)n - mean * mean);
    assert_true(fabs(mean) < 0.01);
    assert_true(fabs(sd - 0.2) < 0.01);
    nb_tensor *c = nb_corrupt_gaussian(x, 0.5, 0.0, 1.0, &r);
    for (int64_t i = 0; i < n; i++)
        assert_true(nb_tensor_get(c, i) >= 0.0 && nb_tensor_get(c, i) <= 1.0);
    nb_tensor_free(c);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_corrupt_salt_pepper_replaces_with_lo_or_hi(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(8);
    nb_tensor *x = nb_tensor_full(NB_F32, 2, (int64_t[]){100, 100}, 0.5);
    nb_tensor *y = nb_corrupt_salt_pepper(x, 0.2, 0.0, 1.0, &r);
    int64_t lo = 0, hi = 0, n = nb_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(y, i);
        assert_true(v == 0.0 || v == 0.5 || v == 1.0);
        lo += v == 0.0;
        hi += v == 1.0;
    }
    assert_true(fabs((double)(lo + hi) / (double)n - 0.2) < 0.02);
    assert_true(fabs((double)lo / (double)n - 0.1) < 0.015);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_corruption_is_not_recorded(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(9);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){4, 4}, &r, 0, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_tensor *y = nb_corrupt_mask(x, 0.5, &r);
    assert_non_null(y);
    assert_false(nb_tensor_requires_grad(y));
    assert_int_equal(nb_step_tape_length(st), 0);
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(x);
}

static void test_corruption_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(10);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 1, (int64_t[]){4});
    assert_null(nb_corrupt_mask(x, 1.5, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_corrupt_mask: p must be in [0, 1], got 1.5");
    assert_null(nb_corrupt_gaussian(x, -1, 0, 1, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_corrupt_gaussian: std must be finite and >= 0, got -1");
    assert_null(nb_corrupt_salt_pepper(x, 0.1, 0, 1, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_corrupt_salt_pepper: rng is NULL");
    nb_tensor_free(x);
}

/* ---- sparsity ---- */

static void test_sparsity_l1_is_the_mean_row_sum_of_abs(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(11);
    nb_tensor *h = nb_tensor_uniform(NB_F64, 2, (int64_t[]){6, 5}, &r, -1, 1);
    double want = 0.0;
    for (int i = 0; i < 30; i++)
        want += fabs(nb_tensor_get(h, i));
    nb_tensor *p = nb_sparsity_l1(h);
    assert_float_equal(nb_tensor_item(p), want / 6, 1e-12);
    nb_tensor_free(p);
    nb_tensor_free(h);
}

static double kl_loops(nb_tensor *h, int64_t n, int64_t k, double rho)
{
    double s = 0.0;
    for (int64_t j = 0; j < k; j++) {
        double m = 0.0;
        for (int64_t b = 0; b < n; b++)
            m += nb_tensor_get(h, b * k + j);
        m /= (double)n;
        s += rho * log(rho / m) + (1 - rho) * log((1 - rho) / (1 - m));
    }
    return s;
}

static void test_sparsity_kl_matches_formula_and_vanishes_at_rho(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(12);
    nb_tensor *h = nb_tensor_uniform(NB_F64, 2, (int64_t[]){7, 4}, &r, 0.05, 0.95);
    nb_tensor *p = nb_sparsity_kl(h, 0.1);
    assert_float_equal(nb_tensor_item(p), kl_loops(h, 7, 4, 0.1), 1e-12);
    assert_true(nb_tensor_item(p) > 0.0);
    nb_tensor *flat = nb_tensor_full(NB_F64, 2, (int64_t[]){3, 4}, 0.1);
    nb_tensor *z = nb_sparsity_kl(flat, 0.1);
    assert_float_equal(nb_tensor_item(z), 0.0, 1e-12);
    assert_null(nb_sparsity_kl(h, 1.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_sparsity_kl: rho must be in (0, 1), got 1");
    nb_tensor *h1 = nb_tensor_zeros(NB_F64, 1, (int64_t[]){4});
    assert_null(nb_sparsity_l1(h1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_sparsity_l1: h is [4], expected [batch, units]");
    nb_tensor_free(h1);
    nb_tensor_free(z);
    nb_tensor_free(flat);
    nb_tensor_free(p);
    nb_tensor_free(h);
}

static nb_tensor *kl_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_sparsity_kl(in[0], 0.2);
}

static nb_tensor *l1_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_sparsity_l1(in[0]);
}

static void test_sparsity_penalties_pass_gradient_checks(void **state)
{
    (void)state;
    const nbt_input h = {.ndim = 2, .shape = {5, 3}, .lo = 0.1, .hi = 0.9};
    assert_int_equal(nbt_check(kl_fn, NULL, &h, 1, 13), NB_OK);
    assert_int_equal(nbt_check(l1_fn, NULL, &h, 1, 14), NB_OK);
}

/* A 16-8-4 autoencoder trained with Adam on 64 samples drawn around 4 prototypes: the
 * reconstruction error falls far below its starting value. */
static void test_small_autoencoder_learns(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(15);
    float data[64 * 16];
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 16; j++)
            data[i * 16 + j] =
                (float)(((j / 4) == (i % 4) ? 0.9 : 0.1) + 0.05 * nb_rng_uniform(&r));
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){64, 16}, data);
    nb_module *ae = nb_autoencoder_new(3, (int64_t[]){16, 8, 4}, NULL, &r);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = 1e-2;
    nb_optim *opt = nb_adam_new(ae, &ao);
    assert_non_null(opt);
    nb_step *st = nb_step_new();
    double first = 0.0, last = 0.0;
    for (int it = 0; it < 300; it++) {
        nb_step_begin(st);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_mse(nb_module_forward(ae, x), x, NB_REDUCE_MEAN);
        assert_non_null(loss);
        assert_int_equal(nb_backward(loss), NB_OK);
        assert_int_equal(nb_optim_update(opt), NB_OK);
        if (it == 0)
            first = nb_tensor_item(loss);
        last = nb_tensor_item(loss);
        nb_step_end(st);
    }
    assert_true(last < 0.1 * first);
    nb_step_free(st);
    nb_optim_free(opt);
    nb_module_free(ae);
    nb_tensor_free(x);
}

static void test_latent_grid_runs_two_dims_over_normal_quantiles(void **state)
{
    (void)state;
    nb_tensor *z = nb_latent_grid(3, 4, 2, 0, 0.1, 0.9);
    assert_non_null(z);
    assert_int_equal(nb_tensor_dim(z, 0), 9);
    assert_int_equal(nb_tensor_dim(z, 1), 4);
    const double q[3] = {nb_normal_quantile(0.1), 0.0, nb_normal_quantile(0.9)};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            const int64_t i = r * 3 + c;
            assert_float_equal(nb_tensor_get(z, i * 4 + 2), q[c], 1e-6);     /* x: left to right */
            assert_float_equal(nb_tensor_get(z, i * 4 + 0), q[2 - r], 1e-6); /* y: bottom up */
            assert_float_equal(nb_tensor_get(z, i * 4 + 1), 0.0, 0);
            assert_float_equal(nb_tensor_get(z, i * 4 + 3), 0.0, 0);
        }
    assert_true(nb_tensor_dtype(z) == NB_F32);
    nb_tensor_free(z);
}

static void test_latent_grid_rejects_bad_arguments(void **state)
{
    (void)state;
    const struct {
        int64_t side, dim;
        int x, y;
        double p_lo, p_hi;
        const char *message;
    } bad[] = {
        {1, 4, 0, 1, 0.1, 0.9, "nb_latent_grid: need side >= 2"},
        {3, 4, 1, 1, 0.1, 0.9, "x 1, y 1"},
        {3, 4, 0, 4, 0.1, 0.9, "dim 4, x 0, y 4"},
        {3, 4, 0, 1, 0.0, 0.9, "0 < p_lo < p_hi < 1"},
        {3, 4, 0, 1, 0.9, 0.1, "p 0.9..0.1"},
        {3, 1, 0, 1, 0.1, 0.9, "dim 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(
            nb_latent_grid(bad[i].side, bad[i].dim, bad[i].x, bad[i].y, bad[i].p_lo, bad[i].p_hi));
        nbt_assert_error(NB_ERR_VALUE, bad[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_autoencoder_has_the_course_layout),
        cmocka_unit_test(test_autoencoder_options_choose_activations),
        cmocka_unit_test(test_mlp_new_places_activations),
        cmocka_unit_test(test_mlp_and_autoencoder_reject_bad_sizes),
        cmocka_unit_test(test_corrupt_mask_zeroes_a_fraction_p_and_keeps_the_rest),
        cmocka_unit_test(test_corrupt_gaussian_adds_noise_of_the_given_std),
        cmocka_unit_test(test_corrupt_salt_pepper_replaces_with_lo_or_hi),
        cmocka_unit_test(test_corruption_is_not_recorded),
        cmocka_unit_test(test_corruption_rejects_bad_arguments),
        cmocka_unit_test(test_sparsity_l1_is_the_mean_row_sum_of_abs),
        cmocka_unit_test(test_sparsity_kl_matches_formula_and_vanishes_at_rho),
        cmocka_unit_test(test_sparsity_penalties_pass_gradient_checks),
        cmocka_unit_test(test_small_autoencoder_learns),
        cmocka_unit_test(test_latent_grid_runs_two_dims_over_normal_quantiles),
        cmocka_unit_test(test_latent_grid_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
