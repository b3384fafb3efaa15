/* tests/ops/test_conv_relu.c — the fused ReLU of nb_conv2d / nb_conv1d (nb_conv_opts.relu): the
 * same outputs and gradients as nb_relu of the plain convolution on every path of ops/conv.c
 * (per image, by chunks with and without bias, depthwise, grouped, 1-D), in float32 and
 * float64, on one and two threads; NaN kept as nb_relu keeps it; the transposed convolutions
 * reject the option. The gradient checks are among tests/ops/cases_conv.c's. */
#include <math.h>

#include "ops/window.h"
#include "support/nbt.h"

typedef struct {
    bool one_d, bias;
    int64_t x[4], w[4];
    nb_conv_opts o;
} relu_case;

static const relu_case cases[] = {
    {.bias = true, .x = {3, 1, 9, 8}, .w = {6, 1, 3, 3}, .o = {.padding = NB_PAD_SAME}},
    {.bias = true, .x = {4, 6, 7, 7}, .w = {8, 6, 3, 3}, .o = {.padding = NB_PAD_SAME}},
    {.x = {4, 6, 7, 7}, .w = {8, 6, 3, 3}, .o = {.stride_w = 2}},
    {.bias = true,
     .x = {3, 8, 6, 6},
     .w = {40, 4, 3, 3},
     .o = {.padding = NB_PAD_SAME, .groups = 2}},
    {.bias = true, .x = {2, 4, 6, 6}, .w = {8, 1, 3, 3}, .o = {.groups = 4}},
    /* per image (Kg = 18) with two groups */
    {.bias = true,
     .x = {3, 4, 6, 5},
     .w = {6, 2, 3, 3},
     .o = {.padding = NB_PAD_SAME, .groups = 2}},
    {.one_d = true, .bias = true, .x = {3, 5, 11}, .w = {7, 5, 3}, .o = {.padding = NB_PAD_SAME}},
};

static nb_tensor *conv(const relu_case *c, nb_tensor *x, nb_tensor *w, nb_tensor *b, bool relu)
{
    nb_conv_opts o = c->o;
    o.relu = relu;
    return c->one_d ? nb_conv1d(x, w, b, &o) : nb_conv2d(x, w, b, &o);
}

typedef struct {
    nb_tensor *y, *dx, *dw, *db; /* copies, owned */
} outcome;

/* Forward and backward (a fixed random output gradient) of the fused op or of nb_relu after
 * the plain one, on the same inputs. */
static outcome run(const relu_case *c, nb_dtype dt, bool fused)
{
    nb_rng rng = nb_rng_seed(7);
    const int rank = c->one_d ? 3 : 4;
    nb_tensor *x = nb_tensor_uniform(dt, rank, c->x, &rng, -1, 1);
    nb_tensor *w = nb_tensor_uniform(dt, rank, c->w, &rng, -1, 1);
    nb_tensor *b = c->bias ? nb_tensor_uniform(dt, 1, c->w, &rng, -1, 1) : NULL;
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(w, true);
    if (b)
        nb_tensor_set_requires_grad(b, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = fused ? conv(c, x, w, b, true) : nb_relu(conv(c, x, w, b, false));
    assert_non_null(y);
    nb_tensor *seed = nb_tensor_uniform(dt, nb_tensor_ndim(y), nb_tensor_shape(y), &rng, -1, 1);
    assert_int_equal(nb_backward_ex(y, seed), NB_OK);
    outcome r = {nb_tensor_copy(y), nb_tensor_copy(nb_tensor_grad(x)),
                 nb_tensor_copy(nb_tensor_grad(w)), b ? nb_tensor_copy(nb_tensor_grad(b)) : NULL};
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(seed);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(b);
    return r;
}

static void assert_close(nb_tensor *a, nb_tensor *b, double tol)
{
    if (!a && !b)
        return;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nb_tensor_numel(a), nb_tensor_numel(b));
    for (int64_t i = 0; i < nb_tensor_numel(a); i++)
        assert_float_equal(nb_tensor_get(a, i), nb_tensor_get(b, i), tol);
}

static void free_outcome(outcome *r)
{
    nb_tensor_free(r->y);
    nb_tensor_free(r->dx);
    nb_tensor_free(r->dw);
    nb_tensor_free(r->db);
}

static void check_all(int threads)
{
    const int prev = nb_get_num_threads();
    nb_set_num_threads(threads);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int d = 0; d < 2; d++) {
            const nb_dtype dt = d ? NB_F64 : NB_F32;
            const double tol = d ? 1e-12 : 1e-5;
            outcome fused = run(&cases[k], dt, true), plain = run(&cases[k], dt, false);
            int64_t zeros = 0, positive = 0;
            for (int64_t i = 0; i < nb_tensor_numel(fused.y); i++) {
                zeros += nb_tensor_get(fused.y, i) == 0;
                positive += nb_tensor_get(fused.y, i) > 0;
            }
            assert_true(zeros > 0 && positive > 0); /* both sides of the kink are exercised */
            assert_close(fused.y, plain.y, tol);
            assert_close(fused.dx, plain.dx, tol);
            assert_close(fused.dw, plain.dw, tol);
            assert_close(fused.db, plain.db, tol);
            free_outcome(&fused);
            free_outcome(&plain);
        }
    nb_set_num_threads(prev);
}

static void test_fused_relu_matches_relu_of_the_convolution(void **state)
{
    (void)state;
    check_all(1);
}

static void test_fused_relu_matches_on_two_threads(void **state)
{
    (void)state;
    check_all(2);
}

/* One image per chunk: the by-chunk backward masks each chunk of dy against its own rows of y. */
static void test_fused_relu_matches_in_chunks_of_one_image(void **state)
{
    (void)state;
    const int64_t saved = nbi_conv_col_budget;
    nbi_conv_col_budget = 1;
    check_all(1);
    nbi_conv_col_budget = saved;
}

/* relu(NaN) is NaN (nb_relu's rule, PyTorch's): a NaN input reaches the output it touches. */
static void test_fused_relu_keeps_nan(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 3, 3}, ws[4] = {1, 1, 1, 1};
    nb_tensor *x = nb_tensor_full(NB_F32, 4, xs, -1.0);
    nb_tensor *w = nb_tensor_full(NB_F32, 4, ws, 1.0);
    nb_tensor_set(x, 4, NAN);
    nb_tensor *y = nb_conv2d(x, w, NULL, &(nb_conv_opts){.relu = true});
    assert_non_null(y);
    for (int64_t i = 0; i < 9; i++)
        if (i == 4)
            assert_true(isnan(nb_tensor_get(y, i)));
        else
            assert_true(nb_tensor_get(y, i) == 0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(w);
}

static void test_transposed_convolutions_reject_relu(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 2, 3, 3}, ws[4] = {2, 2, 2, 2};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, xs), *w = nb_tensor_zeros(NB_F32, 4, ws);
    assert_null(nb_conv_transpose2d(x, w, NULL, &(nb_conv_opts){.relu = true}));
    nbt_assert_error(NB_ERR_VALUE,
                     "nb_conv_transpose2d: relu (a fused ReLU) applies to nb_conv2d and nb_conv1d");
    nb_tensor *x1 = nb_tensor_zeros(NB_F32, 3, xs), *w1 = nb_tensor_zeros(NB_F32, 3, ws);
    assert_null(nb_conv_transpose1d(x1, w1, NULL, &(nb_conv_opts){.relu = true}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv_transpose1d: relu");
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(x1);
    nb_tensor_free(w1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_relu_matches_relu_of_the_convolution),
        cmocka_unit_test(test_fused_relu_matches_on_two_threads),
        cmocka_unit_test(test_fused_relu_matches_in_chunks_of_one_image),
        cmocka_unit_test(test_fused_relu_keeps_nan),
        cmocka_unit_test(test_transposed_convolutions_reject_relu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
