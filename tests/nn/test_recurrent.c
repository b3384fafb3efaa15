/* tests/nn/test_recurrent.c — RNN, LSTM and GRU cells and layers (nn/recurrent.c): forward
 * against the equations written out with plain loops, gradient checks through time including
 * every parameter, multi-layer shapes, truncated BPTT and error messages. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/nbt.h"

/* ---- reference: the equations of include/nabla/seq.h with plain loops (double) ---- */

static double sigm(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

/* Parameter element as double: p[r, c] of a [rows, cols] tensor, or p[r] of a vector. */
static double P(nb_module *m, const char *name, int64_t r, int64_t c)
{
    nb_tensor *t = nb_module_param(m, name);
    if (!t)
        return 0.0; /* no bias */
    return nb_tensor_get(t, nb_tensor_ndim(t) == 2 ? r * nb_tensor_dim(t, 1) + c : r);
}

/* One step for one sample. x [F], h [H], c [H] (LSTM) -> h2, c2. Names with suffix sfx
 * ("" for cells, "_l0" ... for layers). */
static void ref_step(nb_rnn_mode mode, nb_module *m, const char *sfx, int64_t F, int64_t H,
                     const double *x, const double *h, const double *c, double *h2, double *c2)
{
    char wih[32], whh[32], bih[32], bhh[32];
    snprintf(wih, sizeof wih, "weight_ih%s", sfx);
    snprintf(whh, sizeof whh, "weight_hh%s", sfx);
    snprintf(bih, sizeof bih, "bias_ih%s", sfx);
    snprintf(bhh, sizeof bhh, "bias_hh%s", sfx);
    const int G = mode == NB_LSTM ? 4 : mode == NB_GRU ? 3 : 1;
    double gx[4 * 16], gh[4 * 16]; /* H <= 16 in these tests */
    for (int64_t r = 0; r < G * H; r++) {
        gx[r] = P(m, bih, r, 0);
        for (int64_t k = 0; k < F; k++)
            gx[r] += P(m, wih, r, k) * x[k];
        gh[r] = P(m, bhh, r, 0);
        for (int64_t k = 0; k < H; k++)
            gh[r] += P(m, whh, r, k) * h[k];
    }
    for (int64_t j = 0; j < H; j++) {
        if (mode == NB_RNN_TANH) {
            h2[j] = tanh(gx[j] + gh[j]);
        } else if (mode == NB_RNN_RELU) {
            h2[j] = fmax(0.0, gx[j] + gh[j]);
        } else if (mode == NB_LSTM) {
            double i = sigm(gx[j] + gh[j]), f = sigm(gx[H + j] + gh[H + j]);
            double g = tanh(gx[2 * H + j] + gh[2 * H + j]), o = sigm(gx[3 * H + j] + gh[3 * H + j]);
            c2[j] = f * c[j] + i * g;
            h2[j] = o * tanh(c2[j]);
        } else {
            double r = sigm(gx[j] + gh[j]), z = sigm(gx[H + j] + gh[H + j]);
            double n = tanh(gx[2 * H + j] + r * gh[2 * H + j]);
            h2[j] = (1 - z) * n + z * h[j];
        }
    }
}

/* A whole layer: x [B, T, F], h0/c0 [L, B, H] (NULL = zeros) -> y [B, T, H], hn/cn [L, B, H]. */
static void ref_layer(nb_rnn_mode mode, nb_module *m, int L, int64_t B, int64_t T, int64_t F,
                      int64_t H, const nb_tensor *x, const nb_tensor *h0, const nb_tensor *c0,
                      double *y, double *hn, double *cn)
{
    static double in[160 * 16], out[160 * 16]; /* [T, B, max(F, H)] as [t][b][k], T * B <= 160 */
    const int64_t W = 16;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t k = 0; k < F; k++)
                in[(t * B + b) * W + k] = nb_tensor_get(x, (b * T + t) * F + k);
    int64_t fin = F;
    for (int l = 0; l < L; l++) {
        char sfx[16];
        snprintf(sfx, sizeof sfx, "_l%d", l);
        for (int64_t b = 0; b < B; b++) {
            double h[16], c[16], h2[16], c2[16];
            for (int64_t j = 0; j < H; j++) {
                h[j] = h0 ? nb_tensor_get(h0, (l * B + b) * H + j) : 0.0;
                c[j] = c0 ? nb_tensor_get(c0, (l * B + b) * H + j) : 0.0;
            }
            for (int64_t t = 0; t < T; t++) {
                ref_step(mode, m, sfx, fin, H, &in[(t * B + b) * W], h, c, h2, c2);
                memcpy(h, h2, sizeof h);
                memcpy(c, c2, sizeof c);
                memcpy(&out[(t * B + b) * W], h, (size_t)H * sizeof *h);
            }
            memcpy(&hn[(l * B + b) * H], h, (size_t)H * sizeof *h);
            if (cn)
                memcpy(&cn[(l * B + b) * H], c, (size_t)H * sizeof *c);
        }
        memcpy(in, out, sizeof in);
        fin = H;
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < H; j++)
                y[(b * T + t) * H + j] = in[(t * B + b) * W + j];
}

static void assert_close(nb_tensor *t, const double *want, int64_t n, double tol)
{
    assert_non_null(t);
    assert_int_equal(nb_tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++)
        if (fabs(nb_tensor_get(t, i) - want[i]) > tol) {
            fprintf(stderr, "element %lld: got %.12g, want %.12g\n", (long long)i,
                    nb_tensor_get(t, i), want[i]);
            fail();
        }
}

static const char *const mode_names[] = {"RNN tanh", "RNN relu", "LSTM", "GRU"};

/* ---- one step of a cell vs the equations ---- */
static void check_cell_step(nb_rnn_mode mode)
{
    const int64_t B = 3, F = 5, H = 4;
    nb_rng rng = nb_rng_seed(11 + mode);
    nb_module *cell = nb_rnn_cell_new_ex(mode, F, H, true, &rng, NB_F64);
    assert_non_null(cell);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){B, F}, &rng, -2, 2);
    nb_tensor *h = nb_tensor_uniform(NB_F64, 2, (int64_t[]){B, H}, &rng, -1, 1);
    nb_tensor *c = nb_tensor_uniform(NB_F64, 2, (int64_t[]){B, H}, &rng, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state out = nb_cell_forward(cell, x, (nb_rnn_state){h, mode == NB_LSTM ? c : NULL});
    assert_non_null(out.h);
    assert_true((out.c != NULL) == (mode == NB_LSTM));
    double wh[3 * 4], wc[3 * 4];
    for (int64_t b = 0; b < B; b++) {
        double xv[5], hv[4], cv[4];
        for (int64_t k = 0; k < F; k++)
            xv[k] = nb_tensor_get(x, b * F + k);
        for (int64_t k = 0; k < H; k++) {
            hv[k] = nb_tensor_get(h, b * H + k);
            cv[k] = nb_tensor_get(c, b * H + k);
        }
        ref_step(mode, cell, "", F, H, xv, hv, cv, &wh[b * H], &wc[b * H]);
    }
    assert_close(out.h, wh, B * H, 1e-12);
    if (mode == NB_LSTM)
        assert_close(out.c, wc, B * H, 1e-12);
    /* nb_module_forward: one step from zeros */
    nb_tensor *h1 = nb_module_forward(cell, x);
    double zero[4] = {0};
    for (int64_t b = 0; b < B; b++) {
        double xv[5];
        for (int64_t k = 0; k < F; k++)
            xv[k] = nb_tensor_get(x, b * F + k);
        ref_step(mode, cell, "", F, H, xv, zero, zero, &wh[b * H], &wc[b * H]);
    }
    assert_close(h1, wh, B * H, 1e-12);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(h);
    nb_tensor_free(c);
    nb_module_free(cell);
}

static void test_lstm_cell_step_matches_the_equations(void **state)
{
    (void)state;
    check_cell_step(NB_LSTM);
}

static void test_gru_cell_step_matches_the_equations(void **state)
{
    (void)state;
    check_cell_step(NB_GRU);
}

static void test_rnn_cell_step_matches_the_equations(void **state)
{
    (void)state;
    check_cell_step(NB_RNN_TANH);
    check_cell_step(NB_RNN_RELU);
}

/* ---- layers over sequences vs the equations ---- */
static void check_layer_ex(nb_rnn_mode mode, int L, int64_t B, int64_t T, bool with_init, bool bias)
{
    const int64_t F = 3, H = 4;
    nb_rng rng = nb_rng_seed(100 + (uint64_t)mode * 7 + (uint64_t)L);
    nb_module *m = nb_rnn_new_ex(mode, F, H, L, bias, &rng, NB_F64);
    assert_non_null(m);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){B, T, F}, &rng, -2, 2);
    nb_tensor *h0 = NULL, *c0 = NULL;
    if (with_init) {
        h0 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){L, B, H}, &rng, -1, 1);
        if (mode == NB_LSTM)
            c0 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){L, B, H}, &rng, -1, 1);
    }
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward(m, x, (nb_rnn_state){h0, c0}, &last);
    if (!y)
        fprintf(stderr, "%s\n", nb_last_error());
    assert_non_null(y);
    assert_int_equal(nb_tensor_ndim(y), 3);
    assert_int_equal(nb_tensor_dim(y, 0), B);
    assert_int_equal(nb_tensor_dim(y, 1), T);
    assert_int_equal(nb_tensor_dim(y, 2), H);
    assert_int_equal(nb_tensor_ndim(last.h), 3);
    assert_int_equal(nb_tensor_dim(last.h, 0), L);
    assert_int_equal(nb_tensor_dim(last.h, 1), B);
    assert_true((last.c != NULL) == (mode == NB_LSTM));
    static double wy[160 * 16], wh[64], wc[64];
    ref_layer(mode, m, L, B, T, F, H, x, h0, c0, wy, wh, mode == NB_LSTM ? wc : NULL);
    assert_close(y, wy, B * T * H, 1e-12);
    assert_close(last.h, wh, L * B * H, 1e-12);
    if (mode == NB_LSTM)
        assert_close(last.c, wc, L * B * H, 1e-12);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(h0);
    nb_tensor_free(c0);
    nb_module_free(m);
}

static void check_layer(nb_rnn_mode mode, int L, int64_t B, int64_t T, bool with_init)
{
    check_layer_ex(mode, L, B, T, with_init, true);
}

static void test_layers_match_the_equations_over_time(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        check_layer((nb_rnn_mode)mode, 1, 2, 5, false);
        check_layer((nb_rnn_mode)mode, 1, 3, 4, true);
    }
}

static void test_stacked_layers_match_the_equations(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        check_layer((nb_rnn_mode)mode, 2, 2, 4, true);
        check_layer((nb_rnn_mode)mode, 3, 2, 3, false);
    }
}

static void test_layers_without_bias_match_the_equations(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++)
        check_layer_ex((nb_rnn_mode)mode, 2, 2, 3, true, false);
}

/* More steps than one nb_stack / nb_concat takes (64): every output step in its place. */
static void test_long_sequences_match_the_equations(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++)
        check_layer((nb_rnn_mode)mode, 2, 1, 150, mode % 2 == 0);
}

static void test_multi_layer_shapes_and_parameter_names(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    nb_module *lstm = nb_lstm_new(7, 6, 3, &rng);
    assert_non_null(lstm);
    assert_string_equal(nb_module_kind(lstm), "LSTM");
    assert_string_equal(nb_module_info(lstm), "7 -> 6, 3 layers");
    assert_int_equal(nb_rnn_num_layers(lstm), 3);
    assert_int_equal(nb_rnn_mode_of(lstm), NB_LSTM);
    assert_true(nb_is_rnn_layer(lstm));
    nb_tensor *w0 = nb_module_param(lstm, "weight_ih_l0"),
              *w2 = nb_module_param(lstm, "weight_ih_l2");
    assert_int_equal(nb_tensor_dim(w0, 0), 24);
    assert_int_equal(nb_tensor_dim(w0, 1), 7);
    assert_int_equal(nb_tensor_dim(w2, 1), 6);
    assert_non_null(nb_module_param(lstm, "bias_hh_l2"));
    /* PyTorch's count: 4H(F + H + 2) + 2 * 4H(H + H + 2) */
    assert_int_equal(nb_module_num_params(lstm), 24 * (7 + 6 + 2) + 2 * 24 * (6 + 6 + 2));
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){5, 9, 7});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward(lstm, x, (nb_rnn_state){0}, &last);
    assert_non_null(y);
    char s[64];
    assert_string_equal(nb_tensor_shape_str(y, s, sizeof s), "[5, 9, 6]");
    assert_true(nb_tensor_is_contiguous(y));
    assert_string_equal(nb_tensor_shape_str(last.h, s, sizeof s), "[3, 5, 6]");
    assert_string_equal(nb_tensor_shape_str(last.c, s, sizeof s), "[3, 5, 6]");
    nb_step_end(step);

    nb_module *gru = nb_gru_new(7, 6, 2, &rng);
    nb_step_begin(step);
    y = nb_rnn_forward(gru, x, (nb_rnn_state){0}, &last);
    assert_string_equal(nb_tensor_shape_str(y, s, sizeof s), "[5, 9, 6]");
    assert_string_equal(nb_tensor_shape_str(last.h, s, sizeof s), "[2, 5, 6]");
    assert_null(last.c);
    nb_step_end(step);
    /* the parameter-free bias option */
    nb_module *rnn = nb_rnn_new_ex(NB_RNN_TANH, 7, 6, 1, false, &rng, NB_F32);
    assert_null(nb_module_param(rnn, "bias_ih_l0"));
    assert_int_equal(nb_module_num_params(rnn), 6 * 7 + 6 * 6);
    nb_module_free(rnn);
    nb_module_free(gru);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(lstm);
}

static void test_long_sequences_are_not_limited_by_concat(void **state)
{
    (void)state;
    /* more steps than one nb_concat takes (64): the layer joins them in groups */
    nb_rng rng = nb_rng_seed(9);
    nb_module *gru = nb_rnn_new_ex(NB_GRU, 2, 3, 2, true, &rng, NB_F64);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){1, 150, 2}, &rng, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward(gru, x, (nb_rnn_state){0}, &last);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 1), 150);
    /* the last output step is the last layer's final state */
    for (int j = 0; j < 3; j++)
        assert_float_equal(nb_tensor_get(y, 149 * 3 + j), nb_tensor_get(last.h, 3 + j), 0);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(gru);
}

static void test_init_is_uniform_in_one_over_sqrt_hidden(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(3);
    nb_module *m = nb_lstm_new(10, 25, 1, &rng);
    nb_tensor *all = nb_module_param_buffer(m);
    double lo = 1, hi = -1, mean = 0;
    const int64_t n = nb_tensor_numel(all);
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(all, i);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        mean += v / (double)n;
    }
    assert_true(lo >= -0.2 && hi <= 0.2); /* 1/sqrt(25) */
    assert_true(lo < -0.19 && hi > 0.19);
    assert_true(fabs(mean) < 0.01);
    nb_module_free(m);
}

/* ---- gradient checks through time, every parameter included ---- */
typedef struct {
    nb_module *m;
    nb_rnn_mode mode;
} gc_user;

/* inputs: x, h0, [c0], parameters... -> concat(y, h_n, c_n) flattened */
static nb_tensor *layer_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    const gc_user *u = user;
    const bool lstm = u->mode == NB_LSTM;
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward(u->m, in[0], (nb_rnn_state){in[1], lstm ? in[2] : NULL}, &last);
    const int64_t flat[1] = {-1};
    nb_tensor *parts[3] = {nb_reshape(y, 1, flat), nb_reshape(last.h, 1, flat),
                           lstm ? nb_reshape(last.c, 1, flat) : NULL};
    return nb_concat(lstm ? 3 : 2, parts, 0);
}

static void gradcheck_layer_ex(nb_rnn_mode mode, int L, bool bias)
{
    const int64_t B = 2, T = 3, F = 3, H = 4;
    nb_rng rng = nb_rng_seed(77 + (uint64_t)mode);
    gc_user u = {nb_rnn_new_ex(mode, F, H, L, bias, &rng, NB_F64), mode};
    assert_non_null(u.m);
    nb_tensor *in[NB_GRADCHECK_MAX_INPUTS];
    int n = 0;
    in[n++] = nb_tensor_uniform(NB_F64, 3, (int64_t[]){B, T, F}, &rng, -1.5, 1.5);
    in[n++] = nb_tensor_uniform(NB_F64, 3, (int64_t[]){L, B, H}, &rng, -1, 1);
    if (mode == NB_LSTM)
        in[n++] = nb_tensor_uniform(NB_F64, 3, (int64_t[]){L, B, H}, &rng, -1, 1);
    const int first_param = n;
    nb_named_tensor params[16];
    int np = nb_module_named_params(u.m, params, 16);
    assert_true(np == (bias ? 4 : 2) * L && n + np <= NB_GRADCHECK_MAX_INPUTS);
    for (int i = 0; i < np; i++)
        in[n++] = params[i].tensor;
    for (int i = 0; i < first_param; i++)
        nb_tensor_set_requires_grad(in[i], true);
    nb_status st = nbt_check_tensors(layer_fn, &u, in, n);
    if (st != NB_OK)
        fprintf(stderr, "%s, %d layer(s): %s\n", mode_names[mode], L, nb_last_error());
    assert_int_equal(st, NB_OK);
    for (int i = 0; i < first_param; i++)
        nb_tensor_free(in[i]);
    nb_module_free(u.m);
}

static void gradcheck_layer(nb_rnn_mode mode, int L)
{
    gradcheck_layer_ex(mode, L, true);
}

static void test_layers_without_bias_gradcheck(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++)
        gradcheck_layer_ex((nb_rnn_mode)mode, 2, false);
}

static void test_lstm_gradcheck_three_steps_with_parameters(void **state)
{
    (void)state;
    gradcheck_layer(NB_LSTM, 1);
    gradcheck_layer(NB_LSTM, 2);
}

static void test_gru_gradcheck_three_steps_with_parameters(void **state)
{
    (void)state;
    gradcheck_layer(NB_GRU, 1);
    gradcheck_layer(NB_GRU, 2);
}

static void test_rnn_gradcheck_three_steps_with_parameters(void **state)
{
    (void)state;
    gradcheck_layer(NB_RNN_TANH, 1);
    gradcheck_layer(NB_RNN_TANH, 2);
}

/* cells: inputs x, h, [c], parameters -> concat(h', c') */
static nb_tensor *cell_fn(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    const gc_user *u = user;
    const bool lstm = u->mode == NB_LSTM;
    nb_rnn_state s = nb_cell_forward(u->m, in[0], (nb_rnn_state){in[1], lstm ? in[2] : NULL});
    s = nb_cell_forward(u->m, in[0], s); /* two steps: the state feeds back */
    const int64_t flat[1] = {-1};
    nb_tensor *parts[2] = {nb_reshape(s.h, 1, flat), lstm ? nb_reshape(s.c, 1, flat) : NULL};
    return lstm ? nb_concat(2, parts, 0) : parts[0];
}

static void test_cells_gradcheck_with_parameters(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        nb_rng rng = nb_rng_seed(31 + (uint64_t)mode);
        gc_user u = {nb_rnn_cell_new_ex((nb_rnn_mode)mode, 3, 2, true, &rng, NB_F64),
                     (nb_rnn_mode)mode};
        nb_tensor *in[8];
        int n = 0;
        in[n++] = nb_tensor_uniform(NB_F64, 2, (int64_t[]){2, 3}, &rng, -1.5, 1.5);
        in[n++] = nb_tensor_uniform(NB_F64, 2, (int64_t[]){2, 2}, &rng, -1, 1);
        if (mode == NB_LSTM)
            in[n++] = nb_tensor_uniform(NB_F64, 2, (int64_t[]){2, 2}, &rng, -1, 1);
        const int first_param = n;
        nb_named_tensor params[4];
        assert_int_equal(nb_module_named_params(u.m, params, 4), 4);
        for (int i = 0; i < 4; i++)
            in[n++] = params[i].tensor;
        for (int i = 0; i < first_param; i++)
            nb_tensor_set_requires_grad(in[i], true);
        assert_int_equal(nbt_check_tensors(cell_fn, &u, in, n), NB_OK);
        for (int i = 0; i < first_param; i++)
            nb_tensor_free(in[i]);
        nb_module_free(u.m);
    }
}

/* ---- truncated BPTT ---- */

static void test_tbptt_chunks_continue_the_sequence(void **state)
{
    (void)state;
    /* Two chunks of 4 steps with the state carried equal one run of 8 steps. */
    nb_rng rng = nb_rng_seed(21);
    nb_module *lstm = nb_rnn_new_ex(NB_LSTM, 3, 5, 2, true, &rng, NB_F64);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (int64_t[]){2, 8, 3}, &rng, -1, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *full = nb_tensor_copy(nb_rnn_forward(lstm, x, (nb_rnn_state){0}, NULL));
    nb_step_end(step);
    assert_non_null(full);

    nb_rnn_state carry = nb_rnn_state_zeros(lstm, 2);
    assert_non_null(carry.h);
    assert_non_null(carry.c);
    for (int chunk = 0; chunk < 2; chunk++) {
        nb_step_begin(step);
        nb_tensor *xc = nb_slice(x, 1, chunk * 4, chunk * 4 + 4, 1);
        nb_rnn_state last;
        nb_tensor *y = nb_rnn_forward(lstm, xc, carry, &last);
        assert_non_null(y);
        for (int64_t b = 0; b < 2; b++)
            for (int64_t t = 0; t < 4; t++)
                for (int64_t j = 0; j < 5; j++)
                    assert_float_equal(nb_tensor_get(y, (b * 4 + t) * 5 + j),
                                       nb_tensor_get(full, (b * 8 + chunk * 4 + t) * 5 + j), 1e-12);
        assert_int_equal(nb_rnn_state_copy_into(&carry, last), NB_OK);
        nb_step_end(step);
    }
    nb_rnn_state_reset(&carry);
    assert_float_equal(nb_tensor_get(carry.c, 7), 0.0, 0);
    nb_rnn_state_free(&carry);
    assert_null(carry.h);
    nb_step_free(step);
    nb_tensor_free(full);
    nb_tensor_free(x);
    nb_module_free(lstm);
}

static size_t train_chunks(nb_module *net, nb_module *head, nb_tensor *x, int chunks,
                           nb_rnn_state *carry, int64_t *tape_len)
{
    nb_step *step = nb_step_new();
    size_t bytes = 0;
    for (int k = 0; k < chunks; k++) {
        nb_step_begin(step);
        nb_module_zero_grad(net);
        nb_rnn_state last;
        nb_tensor *y = nb_rnn_forward(net, x, *carry, &last);
        nb_tensor *loss = nb_mean_all(nb_square(nb_module_forward(head, y)));
        assert_int_equal(nb_backward(loss), NB_OK);
        *tape_len = nb_step_tape_length(step);
        assert_int_equal(nb_rnn_state_copy_into(carry, last), NB_OK);
        nb_step_end(step);
        bytes = nb_step_arena_bytes(step);
    }
    nb_step_free(step);
    return bytes;
}

static void test_tbptt_memory_does_not_grow_with_chunks(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(4);
    nb_module *gru = nb_gru_new(4, 8, 1, &rng);
    nb_module *head = nb_linear_new(8, 1, true, &rng);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 3, (int64_t[]){3, 6, 4}, &rng, -1, 1);
    nb_rnn_state carry = nb_rnn_state_zeros(gru, 3);
    int64_t tape3 = 0, tape30 = 0;
    size_t after3 = train_chunks(gru, head, x, 3, &carry, &tape3);
    nb_rnn_state_reset(&carry);
    size_t after30 = train_chunks(gru, head, x, 30, &carry, &tape30);
    assert_true(after3 > 0);
    assert_int_equal(after30, after3);
    assert_int_equal(tape30, tape3);
    /* the carried state moved on: not zeros any more */
    double s = 0;
    for (int i = 0; i < 24; i++)
        s += fabs(nb_tensor_get(carry.h, i));
    assert_true(s > 0);
    nb_rnn_state_free(&carry);
    nb_tensor_free(x);
    nb_module_free(head);
    nb_module_free(gru);
}

static void test_detached_state_stops_the_gradient(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(8);
    nb_module *rnn = nb_rnn_new_ex(NB_RNN_TANH, 2, 3, 1, true, &rng, NB_F64);
    nb_tensor *x1 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){1, 2, 2}, &rng, -1, 1);
    nb_tensor *x2 = nb_tensor_uniform(NB_F64, 3, (int64_t[]){1, 2, 2}, &rng, -1, 1);
    nb_tensor_set_requires_grad(x1, true);
    nb_step *step = nb_step_new();
    for (int detach = 0; detach < 2; detach++) {
        nb_step_begin(step);
        nb_tensor_zero_grad(x1);
        nb_rnn_state last;
        assert_non_null(nb_rnn_forward(rnn, x1, (nb_rnn_state){0}, &last));
        if (detach)
            last = nb_rnn_state_detach(last);
        nb_tensor *y2 = nb_rnn_forward(rnn, x2, last, NULL);
        assert_int_equal(nb_backward(nb_sum_all(y2)), NB_OK);
        double g = 0;
        for (int i = 0; i < 4; i++)
            g += fabs(nb_tensor_grad(x1) ? nb_tensor_get(nb_tensor_grad(x1), i) : 0.0);
        if (detach)
            assert_true(g == 0.0);
        else
            assert_true(g > 0.0);
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(x1);
    nb_tensor_free(x2);
    nb_module_free(rnn);
}

/* ---- errors ---- */

static void test_errors_name_the_module_and_shapes(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(1);
    nb_module *lstm = nb_lstm_new(65, 16, 1, &rng);
    nb_module *cell = nb_gru_cell_new(5, 3, &rng);
    nb_tensor *x2 = nb_tensor_zeros(NB_F32, 2, (int64_t[]){32, 65});
    nb_tensor *x3 = nb_tensor_zeros(NB_F32, 3, (int64_t[]){32, 10, 64});
    nb_tensor *ok = nb_tensor_zeros(NB_F32, 3, (int64_t[]){32, 10, 65});
    nb_tensor *h = nb_tensor_zeros(NB_F32, 2, (int64_t[]){32, 16});
    nb_tensor *x64 = nb_tensor_zeros(NB_F64, 3, (int64_t[]){32, 10, 65});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_rnn_forward(lstm, x2, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_rnn_forward: LSTM (65 -> 16, 1 layer): x is [32, 65], "
                                   "expected [B, T, 65]");
    assert_null(nb_module_forward(lstm, x3));
    nbt_assert_error(NB_ERR_SHAPE, "LSTM (65 -> 16, 1 layer): x is [32, 10, 64], expected");
    assert_null(nb_rnn_forward(lstm, ok, (nb_rnn_state){h, NULL}, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "h is [32, 16], expected [1, 32, 16] ([layers, B, H])");
    assert_null(nb_rnn_forward(lstm, x64, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_DTYPE, "x is f64, parameters are f32");
    assert_null(nb_cell_forward(cell, x2, (nb_rnn_state){0}).h);
    nbt_assert_error(NB_ERR_SHAPE, "nb_cell_forward: GRUCell (5 -> 3): x is [32, 65], expected "
                                   "[B, 5]");
    assert_null(nb_rnn_forward(cell, ok, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_VALUE, "module is GRUCell, expected an RNN, LSTM or GRU layer");
    nb_rnn_state last = {h, h};
    assert_null(nb_rnn_forward(lstm, NULL, (nb_rnn_state){0}, &last));
    assert_null(last.h); /* *last is cleared on error */
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_forward: x is NULL");
    /* a NULL state from a failed expression is not taken for zeros */
    nb_tensor *bad = nb_add(h, x2);
    assert_null(bad);
    assert_null(nb_rnn_forward(lstm, ok, (nb_rnn_state){bad, NULL}, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_add: shapes do not broadcast");
    nb_step_end(step);
    assert_null(nb_rnn_forward(lstm, ok, (nb_rnn_state){0}, NULL));
    nbt_assert_error(NB_ERR_STATE, "nb_rnn_forward: LSTM (65 -> 16, 1 layer): no active step");
    assert_null(nb_lstm_new(0, 4, 1, &rng));
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_new: LSTM: need input_size, hidden_size, num_layers");
    assert_null(nb_rnn_state_zeros(cell, 0).h);
    nbt_assert_error(NB_ERR_VALUE, "nb_rnn_state_zeros");
    nb_step_free(step);
    nb_tensor_free(x2);
    nb_tensor_free(x3);
    nb_tensor_free(x64);
    nb_tensor_free(ok);
    nb_tensor_free(h);
    nb_module_free(cell);
    nb_module_free(lstm);
}

static void test_layer_inside_a_container_is_named_by_its_path(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(2);
    nb_module *net = nb_sequential_new(1, (nb_module *[]){nb_gru_new(4, 3, 1, &rng)});
    assert_non_null(net);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){2, 5, 7});
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_module_forward(net, x));
    nbt_assert_error(NB_ERR_SHAPE, "GRU '0' (4 -> 3, 1 layer): x is [2, 5, 7]");
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_module_free(net);
}

/* A failed assertion leaves its step active: end it so the next test starts clean. */
static int end_active_step(void **state)
{
    (void)state;
    if (nb_step_active())
        nb_step_end(nb_step_active());
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lstm_cell_step_matches_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_gru_cell_step_matches_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_rnn_cell_step_matches_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_layers_match_the_equations_over_time, end_active_step),
        cmocka_unit_test_teardown(test_stacked_layers_match_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_layers_without_bias_match_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_long_sequences_match_the_equations, end_active_step),
        cmocka_unit_test_teardown(test_multi_layer_shapes_and_parameter_names, end_active_step),
        cmocka_unit_test_teardown(test_long_sequences_are_not_limited_by_concat, end_active_step),
        cmocka_unit_test_teardown(test_init_is_uniform_in_one_over_sqrt_hidden, end_active_step),
        cmocka_unit_test_teardown(test_lstm_gradcheck_three_steps_with_parameters, end_active_step),
        cmocka_unit_test_teardown(test_gru_gradcheck_three_steps_with_parameters, end_active_step),
        cmocka_unit_test_teardown(test_rnn_gradcheck_three_steps_with_parameters, end_active_step),
        cmocka_unit_test_teardown(test_cells_gradcheck_with_parameters, end_active_step),
        cmocka_unit_test_teardown(test_layers_without_bias_gradcheck, end_active_step),
        cmocka_unit_test_teardown(test_tbptt_chunks_continue_the_sequence, end_active_step),
        cmocka_unit_test_teardown(test_tbptt_memory_does_not_grow_with_chunks, end_active_step),
        cmocka_unit_test_teardown(test_detached_state_stops_the_gradient, end_active_step),
        cmocka_unit_test_teardown(test_errors_name_the_module_and_shapes, end_active_step),
        cmocka_unit_test_teardown(test_layer_inside_a_container_is_named_by_its_path,
                                  end_active_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
