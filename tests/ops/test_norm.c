/* tests/ops/test_norm.c — nb_layer_norm (ops/norm.c) against its composition from means and
 * elementwise ops (values and the gradients of x, weight and bias, f64 and f32, rows that cross
 * the thread split, gradients that accumulate into existing ones), the error paths, and its
 * gradient checks (tests/ops/cases_norm.c). */
#include <math.h>

#include "support/nbt.h"

extern const nbt_case nbt_cases_norm[];

/* the textbook composition: (x - mean) / sqrt(var + eps) * w + b over the last nd dims */
static nb_tensor *composed(nb_tensor *x, int nd, nb_tensor *w, nb_tensor *b, double eps)
{
    int axes[NB_MAX_DIMS];
    const int xd = nb_tensor_ndim(x);
    for (int d = 0; d < nd; d++)
        axes[d] = xd - nd + d;
    nb_tensor *xc = nb_sub(x, nb_mean_axes(x, nd, axes, true));
    nb_tensor *var = nb_mean_axes(nb_square(xc), nd, axes, true);
    nb_tensor *y = nb_div(xc, nb_sqrt(nb_add_scalar(var, eps)));
    return w ? nb_add(nb_mul(y, w), b) : y;
}

/* max relative |fused - composed| over y and the gradients for L = sum(y * r); with twice,
 * the loss is used twice so the gradients accumulate (the op's second backward adds) */
static double compare(nb_dtype dt, int ndim, const int64_t *shape, int nd, bool affine, bool twice)
{
    nb_rng rng = nb_rng_seed(5);
    const int64_t *ns = shape + ndim - nd;
    nb_tensor *x = nb_tensor_uniform(dt, ndim, shape, &rng, -3, 5);
    nb_tensor *r = nb_tensor_uniform(dt, ndim, shape, &rng, -1, 1);
    nb_tensor *w = affine ? nb_tensor_uniform(dt, nd, ns, &rng, 0.5, 1.5) : NULL;
    nb_tensor *b = affine ? nb_tensor_uniform(dt, nd, ns, &rng, -1, 1) : NULL;
    nb_tensor *in[3] = {x, w, b};
    const int n_in = affine ? 3 : 1;
    for (int i = 0; i < n_in; i++)
        nb_tensor_set_requires_grad(in[i], true);
    nb_tensor *keep[4][2] = {{0}};
    nb_step *s = nb_step_new();
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n_in; i++)
            nb_tensor_zero_grad(in[i]);
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *y = pass ? composed(x, nd, w, b, 1e-5) : nb_layer_norm(x, nd, w, b, 1e-5);
        assert_non_null(y);
        nb_tensor *loss = nb_sum_all(nb_mul(y, r));
        if (twice)
            loss = nb_add(loss, nb_sum_all(nb_mul(nb_layer_norm(x, nd, w, b, 1e-5), r)));
        assert_int_equal(nb_backward(loss), NB_OK);
        keep[0][pass] = nb_tensor_copy(y);
        for (int i = 0; i < n_in; i++)
            keep[i + 1][pass] = nb_tensor_copy(nb_tensor_grad(in[i]));
        nb_step_end(s);
    }
    double worst = 0;
    for (int t = 0; t < 1 + n_in; t++) {
        for (int64_t i = 0; i < nb_tensor_numel(keep[t][0]); i++) {
            /* the composed pass with `twice` uses the fused op for its second term */
            double a = nb_tensor_get(keep[t][0], i), c = nb_tensor_get(keep[t][1], i);
            double err = fabs(a - c) / fmax(1.0, fabs(c));
            worst = err > worst ? err : worst;
        }
        nb_tensor_free(keep[t][0]), nb_tensor_free(keep[t][1]);
    }
    nb_step_free(s);
    for (int i = 0; i < 3; i++)
        nb_tensor_free(in[i]);
    nb_tensor_free(r);
    return worst;
}

static void test_layer_norm_equals_composition(void **state)
{
    (void)state;
    const struct {
        int ndim, nd;
        int64_t shape[3];
        bool affine, twice;
    } cs[] = {
        {2, 1, {5, 8}, false, false},   {3, 1, {4, 7, 33}, true, false},
        {3, 2, {3, 4, 5}, true, false}, {2, 1, {3000, 64}, true, false}, /* many rows */
        {2, 1, {6, 130}, true, true},   {1, 1, {9}, true, false},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        double e64 = compare(NB_F64, cs[i].ndim, cs[i].shape, cs[i].nd, cs[i].affine, cs[i].twice);
        double e32 = compare(NB_F32, cs[i].ndim, cs[i].shape, cs[i].nd, cs[i].affine, cs[i].twice);
        print_message("  case %zu: f64 %.2e, f32 %.2e\n", i, e64, e32);
        assert_true(e64 < 1e-12);
        assert_true(e32 < 1e-4);
    }
}

/* a constant row has variance 0: y = b and dx = 0 (the eps keeps it finite) */
static void test_layer_norm_constant_row(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F64, 2, (const int64_t[]){2, 3}, 4.0);
    nb_tensor *w = nb_tensor_full(NB_F64, 1, (const int64_t[]){3}, 2.0);
    nb_tensor *b = nb_tensor_full(NB_F64, 1, (const int64_t[]){3}, 0.5);
    nb_tensor_set_requires_grad(x, true);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_layer_norm(x, 1, w, b, 1e-5);
    assert_non_null(y);
    for (int64_t i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(y, i), 0.5, 0);
    assert_int_equal(nb_backward(nb_sum_all(nb_square(y))), NB_OK);
    for (int64_t i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(x), i), 0.0, 1e-12);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x), nb_tensor_free(w), nb_tensor_free(b);
}

static void test_layer_norm_errors(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){2, 3});
    nb_tensor *w = nb_tensor_zeros(NB_F32, 1, (const int64_t[]){3});
    nb_tensor *w4 = nb_tensor_zeros(NB_F32, 1, (const int64_t[]){4});
    nb_tensor *w64 = nb_tensor_zeros(NB_F64, 1, (const int64_t[]){3});
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, (const int64_t[]){2, 3});
    assert_null(nb_layer_norm(x, 3, NULL, NULL, 1e-5));
    nbt_assert_error(NB_ERR_SHAPE, "nb_layer_norm: cannot normalise the last 3 dims of [2, 3]");
    assert_null(nb_layer_norm(x, 0, NULL, NULL, 1e-5));
    nbt_assert_error(NB_ERR_SHAPE, "cannot normalise the last 0 dims");
    assert_null(nb_layer_norm(x, 1, w4, w, 1e-5));
    nbt_assert_error(NB_ERR_SHAPE, "nb_layer_norm: weight is [4], must be the normalised shape");
    assert_null(nb_layer_norm(x, 1, w, w4, 1e-5));
    nbt_assert_error(NB_ERR_SHAPE, "bias is [4]");
    assert_null(nb_layer_norm(x, 1, w, NULL, 1e-5));
    nbt_assert_error(NB_ERR_VALUE, "give both weight and bias, or neither");
    assert_null(nb_layer_norm(x, 1, NULL, NULL, -1));
    nbt_assert_error(NB_ERR_VALUE, "eps must be finite and >= 0, got -1");
    assert_null(nb_layer_norm(x, 1, NULL, NULL, NAN));
    nbt_assert_error(NB_ERR_VALUE, "eps must be finite");
    assert_null(nb_layer_norm(x, 1, w64, w64, 1e-5));
    nbt_assert_error(NB_ERR_DTYPE, "nb_layer_norm");
    assert_null(nb_layer_norm(ids, 1, NULL, NULL, 1e-5));
    nbt_assert_error(NB_ERR_DTYPE, "nb_layer_norm");
    assert_null(nb_layer_norm(NULL, 1, NULL, NULL, 1e-5));
    nbt_assert_error(NB_ERR_VALUE, "nb_layer_norm: input is NULL");
    nb_tensor_free(x), nb_tensor_free(w), nb_tensor_free(w4), nb_tensor_free(w64),
        nb_tensor_free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_norm_equals_composition),
        cmocka_unit_test(test_layer_norm_constant_row),
        cmocka_unit_test(test_layer_norm_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("layer_norm gradient checks", nbt_cases_norm);
}
