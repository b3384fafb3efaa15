/* tests/ops/test_compare.c — ops/compare.c: masks (comparisons, logical ops, isnan, isfinite)
 * against C's own comparisons, with NaN, Inf, broadcasting, strided and i64 inputs; where and
 * masked_fill (picking, NaN in the branch not taken, gradients, converted masks); tril / triu
 * for every diagonal against a naive loop; and the error messages. */
#include "support/nbt.h"

#include <math.h>

extern const nbt_case nbt_cases_compare[];

typedef nb_tensor *(*binary_fn)(nb_tensor *, nb_tensor *);
typedef nb_tensor *(*unary_fn)(nb_tensor *);

static double ref_eq(double a, double b)
{
    return a == b;
}
static double ref_ne(double a, double b)
{
    return a != b;
}
static double ref_lt(double a, double b)
{
    return a < b;
}
static double ref_le(double a, double b)
{
    return a <= b;
}
static double ref_gt(double a, double b)
{
    return a > b;
}
static double ref_ge(double a, double b)
{
    return a >= b;
}
static double ref_and(double a, double b)
{
    return a != 0 && b != 0;
}
static double ref_or(double a, double b)
{
    return a != 0 || b != 0;
}
static double ref_xor(double a, double b)
{
    return (a != 0) != (b != 0);
}

static const struct {
    const char *name;
    binary_fn fn;
    double (*ref)(double, double);
} binary_masks[] = {
    {"eq", nb_eq, ref_eq},
    {"ne", nb_ne, ref_ne},
    {"lt", nb_lt, ref_lt},
    {"le", nb_le, ref_le},
    {"gt", nb_gt, ref_gt},
    {"ge", nb_ge, ref_ge},
    {"logical_and", nb_logical_and, ref_and},
    {"logical_or", nb_logical_or, ref_or},
    {"logical_xor", nb_logical_xor, ref_xor},
};
#define N_BINARY (sizeof binary_masks / sizeof binary_masks[0])

/* Every pair of these values, NaN and infinities included. */
static const double special[6] = {1.0, -2.5, 0.0, NAN, INFINITY, -INFINITY};

static nb_tensor *from_doubles(nb_dtype dt, int ndim, const int64_t *shape, const double *v)
{
    nb_tensor *t = nb_tensor_new(dt, ndim, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        assert_int_equal(nb_tensor_set(t, i, v[i]), NB_OK);
    return t;
}

/* a [6, 1] against b [6] broadcast to [6, 6]: all 36 pairs of special values. */
static void test_binary_masks_match_c_comparisons_with_nan_and_inf(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *a = from_doubles(dt, NB_SHAPE(6, 1), special);
        nb_tensor *b = from_doubles(dt, NB_SHAPE(6), special);
        for (size_t k = 0; k < N_BINARY; k++) {
            nb_tensor *y = binary_masks[k].fn(a, b);
            assert_non_null(y);
            assert_int_equal(nb_tensor_dtype(y), dt);
            assert_int_equal(nb_tensor_ndim(y), 2);
            assert_int_equal(nb_tensor_dim(y, 0), 6);
            assert_int_equal(nb_tensor_dim(y, 1), 6);
            double ref[36];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    ref[i * 6 + j] = binary_masks[k].ref(special[i], special[j]);
            nbt_assert_values(y, ref, 0);
            nb_tensor_free(y);
        }
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}

/* PyTorch's NaN semantics, spelled out. */
static void test_nan_compares_unequal_to_itself(void **state)
{
    (void)state;
    nb_tensor *n = nb_tensor_full(NB_F64, NB_SHAPE(1), NAN);
    nb_tensor *y[] = {nb_eq(n, n), nb_ne(n, n), nb_lt(n, n),       nb_le(n, n),
                      nb_gt(n, n), nb_ge(n, n), nb_logical_not(n), nb_logical_and(n, n)};
    const double want[] = {0, 1, 0, 0, 0, 0, 0, 1};
    for (size_t i = 0; i < sizeof y / sizeof y[0]; i++) {
        assert_non_null(y[i]);
        assert_float_equal(nb_tensor_get(y[i], 0), want[i], 0);
        nb_tensor_free(y[i]);
    }
    nb_tensor_free(n);
}

static void test_unary_masks(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *x = from_doubles(dt, NB_SHAPE(2, 3), special);
        nb_tensor *isn = nb_isnan(x), *isf = nb_isfinite(x), *no = nb_logical_not(x);
        double rn[6], rf[6], rno[6];
        for (int i = 0; i < 6; i++) {
            rn[i] = isnan(special[i]);
            rf[i] = isfinite(special[i]);
            rno[i] = special[i] == 0;
        }
        nbt_assert_values(isn, rn, 0);
        nbt_assert_values(isf, rf, 0);
        nbt_assert_values(no, rno, 0);
        assert_int_equal(nb_tensor_dtype(isn), dt);
        nb_tensor *all[] = {isn, isf, no, x};
        for (size_t i = 0; i < 4; i++)
            nb_tensor_free(all[i]);
    }
}

/* i64 inputs give f32 masks: accuracy = mean(eq(argmax(logits), labels)). */
static void test_i64_comparison_gives_f32_mask_for_accuracy(void **state)
{
    (void)state;
    const double lv[8] = {0.1, 0.9, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4};
    const int64_t ids[4] = {1, 0, 0, 0};
    nb_tensor *logits = from_doubles(NB_F32, NB_SHAPE(4, 2), lv);
    nb_tensor *labels = nbt_ids(NB_SHAPE(4), ids);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *hit = nb_eq(nb_argmax(logits, 1), labels);
    assert_non_null(hit);
    assert_int_equal(nb_tensor_dtype(hit), NB_F32);
    const double want[4] = {1, 1, 0, 1};
    nbt_assert_values(hit, want, 0);
    assert_float_equal(nb_tensor_item(nb_mean_all(hit)), 0.75, 0);
    nb_tensor *isf = nb_isfinite(labels), *isn = nb_isnan(labels);
    const double ones[4] = {1, 1, 1, 1}, zeros[4] = {0};
    nbt_assert_values(isf, ones, 0);
    nbt_assert_values(isn, zeros, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(logits);
    nb_tensor_free(labels);
}

/* A transposed a and a sliced b take the strided path. */
static void test_masks_of_strided_views(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F64, NB_SHAPE(3, 4), 3, -1, 1);
    nb_tensor *z = nbt_uniform(NB_F64, NB_SHAPE(4, 6), 4, -1, 1);
    nb_tensor *xt = nb_transpose(x, 0, 1), *zs = nb_slice(z, 1, 0, 6, 2); /* both [4, 3] */
    nb_tensor *y = nb_lt(xt, zs);
    double ref[12];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            ref[i * 3 + j] = nb_tensor_get(x, j * 4 + i) < nb_tensor_get(z, i * 6 + 2 * j);
    nbt_assert_values(y, ref, 0);
    nb_tensor *all[] = {y, xt, zs, x, z};
    for (size_t i = 0; i < 5; i++)
        nb_tensor_free(all[i]);
}

/* Masks record nothing and never require grad, even from inputs that do. */
static void test_masks_are_not_differentiable(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F64, NB_SHAPE(5), 5, -1, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *m = nb_gt(x, nb_constant(NB_F64, NB_SHAPE_SCALAR, 0.0));
    assert_non_null(m);
    assert_false(nb_tensor_requires_grad(m));
    assert_int_equal(nb_step_tape_length(step), 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* where picks a where cond, else b; a NaN / Inf in the branch not taken never shows, in the
 * result or in the gradients. */
static void test_where_picks_and_keeps_nan_out_of_gradients(void **state)
{
    (void)state;
    const double cv[4] = {1, 0, NAN, 0}, av[4] = {10, NAN, 30, INFINITY}, bv[4] = {-1, -2, NAN, -4};
    nb_tensor *c = from_doubles(NB_F64, NB_SHAPE(4), cv),
              *a = from_doubles(NB_F64, NB_SHAPE(4), av),
              *b = from_doubles(NB_F64, NB_SHAPE(4), bv);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_where(c, a, b);
    const double want[4] = {10, -2, 30, -4}; /* NaN in cond counts as true */
    nbt_assert_values(y, want, 0);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    const double da[4] = {1, 0, 1, 0}, db[4] = {0, 1, 0, 1};
    nbt_assert_values(nb_tensor_grad(a), da, 0);
    nbt_assert_values(nb_tensor_grad(b), db, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor *all[] = {a, b, c};
    for (size_t i = 0; i < 3; i++)
        nb_tensor_free(all[i]);
}

/* cond of another dtype (an i64 mask, an f32 mask for f64 data) is converted; with no step the
 * converted copy is freed (ASan's leak check runs this test); i64 data works too. */
static void test_where_converts_masks_of_other_dtypes(void **state)
{
    (void)state;
    const int64_t cm[3] = {0, 5, -1}, av[3] = {1, 2, 3}, bv[3] = {7, 8, 9};
    nb_tensor *ci = nbt_ids(NB_SHAPE(3), cm);
    nb_tensor *a = nbt_uniform(NB_F64, NB_SHAPE(2, 3), 6, -1, 1);
    nb_tensor *b = nb_tensor_full(NB_F64, NB_SHAPE(1), 0.5);
    nb_tensor *y = nb_where(ci, a, b);
    assert_non_null(y);
    double ref[6];
    for (int i = 0; i < 6; i++)
        ref[i] = cm[i % 3] ? nb_tensor_get(a, i) : 0.5;
    nbt_assert_values(y, ref, 0);
    nb_tensor *cf = nb_tensor_to_dtype(ci, NB_F32);
    nb_tensor *y2 = nb_where(cf, a, b);
    nbt_assert_values(y2, ref, 0);
    nb_tensor *ai = nbt_ids(NB_SHAPE(3), av), *bi = nbt_ids(NB_SHAPE(3), bv);
    nb_tensor *yi = nb_where(cf, ai, bi);
    assert_int_equal(nb_tensor_dtype(yi), NB_I64);
    const double refi[3] = {7, 2, 3};
    nbt_assert_values(yi, refi, 0);
    nb_tensor *all[] = {y, y2, yi, ci, cf, a, b, ai, bi};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The usual attention mask: -inf above the diagonal, broadcast over the batch. */
static void test_masked_fill_with_causal_mask(void **state)
{
    (void)state;
    nb_tensor *s = nbt_uniform(NB_F32, NB_SHAPE(2, 3, 3), 7, -1, 1);
    nb_tensor *ones = nb_tensor_full(NB_F32, NB_SHAPE(3, 3), 1), *upper = nb_triu(ones, 1);
    nb_tensor *y = nb_masked_fill(s, upper, -INFINITY);
    assert_non_null(y);
    double ref[18];
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                ref[(n * 3 + i) * 3 + j] =
                    j > i ? -INFINITY : nb_tensor_get(s, (n * 3 + i) * 3 + j);
    for (int i = 0; i < 18; i++) /* exact, -inf included */
        assert_true(nb_tensor_get(y, i) == ref[i]);
    /* i64 data takes an integer value */
    const int64_t v[2] = {4, 5}, mv[2] = {1, 0};
    nb_tensor *xi = nbt_ids(NB_SHAPE(2), v), *mi = nbt_ids(NB_SHAPE(2), mv);
    nb_tensor *yi = nb_masked_fill(xi, mi, -100);
    const double refi[2] = {-100, 5};
    nbt_assert_values(yi, refi, 0);
    nb_tensor *all[] = {s, ones, upper, y, xi, mi, yi};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* Every diagonal from far below to far above, for tril and triu, f32 / f64 / i64, batched. */
static void test_tril_triu_match_naive_loops_for_every_diagonal(void **state)
{
    (void)state;
    const nb_dtype dts[3] = {NB_F32, NB_F64, NB_I64};
    const int64_t ks[] = {INT64_MIN, -5, -2, -1, 0, 1, 2, 3, 4, 5, INT64_MAX};
    for (int d = 0; d < 3; d++) {
        nb_tensor *u = nbt_uniform(NB_F64, NB_SHAPE(2, 3, 4), 8, -9, 9);
        nb_tensor *x = nb_tensor_new(dts[d], NB_SHAPE(2, 3, 4));
        for (int i = 0; i < 24; i++)
            nb_tensor_set(x, i, round(nb_tensor_get(u, i)) + (dts[d] == NB_I64 ? 0 : 0.25));
        for (size_t kk = 0; kk < sizeof ks / sizeof ks[0]; kk++) {
            for (int lower = 0; lower < 2; lower++) {
                nb_tensor *y = lower ? nb_tril(x, ks[kk]) : nb_triu(x, ks[kk]);
                assert_non_null(y);
                assert_int_equal(nb_tensor_dtype(y), dts[d]);
                double ref[24];
                for (int m = 0; m < 2; m++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 4; j++) {
                            const int at = (m * 3 + i) * 4 + j;
                            /* j - i compared in double: exact for these small values */
                            const bool keep = lower ? (double)(j - i) <= (double)ks[kk]
                                                    : (double)(j - i) >= (double)ks[kk];
                            ref[at] = keep ? nb_tensor_get(x, at) : 0;
                        }
                nbt_assert_values(y, ref, 0);
                nb_tensor_free(y);
            }
        }
        nb_tensor_free(x);
        nb_tensor_free(u);
    }
}

static void test_compare_errors(void **state)
{
    (void)state;
    nb_tensor *a = nbt_uniform(NB_F32, NB_SHAPE(2, 3), 9, -1, 1);
    nb_tensor *b = nbt_uniform(NB_F32, NB_SHAPE(4), 9, -1, 1);
    nb_tensor *d = nbt_uniform(NB_F64, NB_SHAPE(2, 3), 9, -1, 1);
    nb_tensor *v = nbt_uniform(NB_F32, NB_SHAPE(3), 9, -1, 1);

    assert_null(nb_eq(a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_eq: shapes do not broadcast: a is [2, 3], b is [4]");
    assert_null(nb_logical_or(a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_logical_or: shapes do not broadcast");
    assert_null(nb_ge(a, d));
    nbt_assert_error(NB_ERR_DTYPE, "nb_ge: dtypes differ: input 0 is f32, input 1 is f64");
    assert_null(nb_where(a, a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_where: shapes do not broadcast");
    assert_null(nb_where(a, a, d));
    nbt_assert_error(NB_ERR_DTYPE, "nb_where: dtypes differ: input 0 is f32, input 2 is f64");
    assert_null(nb_masked_fill(a, b, 0));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_masked_fill: shapes do not broadcast: a is [2, 3], b is [4]");
    const int64_t iv[2] = {1, 2};
    nb_tensor *xi = nbt_ids(NB_SHAPE(2), iv);
    assert_null(nb_masked_fill(xi, xi, 0.5));
    nbt_assert_error(NB_ERR_VALUE, "nb_masked_fill: value 0.5 is not an integer");
    assert_null(nb_tril(v, 0));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_tril: x must have at least 2 dims (a batch of matrices): x is [3]");
    assert_null(nb_triu(xi, 1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_triu: x must have at least 2 dims");
    /* NULL propagates and keeps the first message */
    assert_null(nb_where(nb_eq(a, b), a, a));
    nbt_assert_error(NB_ERR_SHAPE, "nb_eq: shapes do not broadcast");
    assert_null(nb_masked_fill(NULL, a, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_masked_fill: input 0 is NULL");
    assert_null(nb_isnan(NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_isnan: input 0 is NULL");
    nb_tensor *all[] = {a, b, d, v, xi};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_masks_match_c_comparisons_with_nan_and_inf),
        cmocka_unit_test(test_nan_compares_unequal_to_itself),
        cmocka_unit_test(test_unary_masks),
        cmocka_unit_test(test_i64_comparison_gives_f32_mask_for_accuracy),
        cmocka_unit_test(test_masks_of_strided_views),
        cmocka_unit_test(test_masks_are_not_differentiable),
        cmocka_unit_test(test_where_picks_and_keeps_nan_out_of_gradients),
        cmocka_unit_test(test_where_converts_masks_of_other_dtypes),
        cmocka_unit_test(test_masked_fill_with_causal_mask),
        cmocka_unit_test(test_tril_triu_match_naive_loops_for_every_diagonal),
        cmocka_unit_test(test_compare_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("compare gradient checks", nbt_cases_compare);
}
