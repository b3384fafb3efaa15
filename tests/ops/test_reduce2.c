/* tests/ops/test_reduce2.c — min, argmin, prod, var, std, norm, logsumexp, any, all (ops/reduce.c),
 * cumsum and cumprod (ops/scan.c), argsort, sort and topk (ops/sort.c): forward values against
 * hand-computed ones and naive loops, gradients at zeros and ties, edge rows (empty, -inf, NaN),
 * and the error messages; then the gradient-check cases of tests/ops/cases_reduce2.c. */
#include "support/nbt.h"

#include <math.h>

extern const nbt_case nbt_cases_reduce2[];

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[])                   \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static nb_tensor *from(nb_dtype dt, int ndim, const int64_t *shape, const double *v)
{
    nb_tensor *x = nb_tensor_from_data(NB_F64, ndim, shape, v);
    if (dt == NB_F64)
        return x;
    nb_tensor *y = nb_tensor_to_dtype(x, dt);
    nb_tensor_free(x);
    return y;
}

/* The gradient of sum(f(x) * w) at x (f64), w the cotangent (NULL: ones). */
typedef nb_tensor *(*unary_fn)(nb_tensor *x);
static void check_grad(unary_fn f, nb_tensor *x, const double *w, const double *want, double tol)
{
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_zero_grad(x);
    nb_step *s = nb_step_new();
    nb_step_begin(s);
    nb_tensor *y = f(x);
    assert_non_null(y);
    nb_tensor *dy = w ? nb_tensor_from_data(NB_F64, nb_tensor_ndim(y), nb_tensor_shape(y), w)
                      : nb_tensor_full(NB_F64, nb_tensor_ndim(y), nb_tensor_shape(y), 1);
    assert_int_equal(nb_backward_ex(y, dy), NB_OK);
    nbt_assert_values(nb_tensor_grad(x), want, tol);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(dy);
}

/* ---- min, argmin ---- */
static void test_min_and_argmin_values_ties_and_nan(void **state)
{
    (void)state;
    const double v[12] = {1, 3, 1, 2, /**/ 7, 0, 7, 0, /**/ -1, NAN, -2, -3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(3, 4), v);
    nb_tensor *m = nb_min(x, 1, false), *a = nb_argmin(x, -1), *m0 = nb_min(x, 0, true);
    assert_float_equal(nb_tensor_get(m, 0), 1, 0);
    assert_float_equal(nb_tensor_get(m, 1), 0, 0);
    assert_true(isnan(nb_tensor_get(m, 2)));
    assert_int_equal(nb_tensor_dtype(a), NB_I64);
    const double ra[3] = {0, 1, 1}; /* first minimum; a NaN counts as the minimum */
    nbt_assert_values(a, ra, 0);
    assert_int_equal(nb_tensor_ndim(m0), 2);
    assert_true(isnan(nb_tensor_get(m0, 1)));
    const double r0[4] = {-1, NAN, -2, -3};
    for (int j = 0; j < 4; j++)
        if (j != 1)
            assert_float_equal(nb_tensor_get(m0, j), r0[j], 0);
    nb_tensor_free(m0);
    nb_tensor_free(a);
    nb_tensor_free(m);
    nb_tensor_free(x);
}

static nb_tensor *min_rows(nb_tensor *x)
{
    return nb_min(x, 1, false);
}

/* On ties the whole gradient goes to the first minimal element (as torch.min(x, dim)). */
static void test_min_gradient_goes_to_first_minimum(void **state)
{
    (void)state;
    const double v[6] = {1, 3, 1, /**/ 2, 0, 0};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(2, 3), v);
    const double g[6] = {1, 0, 0, 0, 1, 0};
    check_grad(min_rows, x, NULL, g, 0);
    nb_tensor_free(x);
}

/* min over several axes equals -max(-x). */
static void test_min_axes_match_negated_max(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F32, 3, (const int64_t[]){2, 3, 4}, 3, -2, 2);
    nb_tensor *nx = nb_neg(x);
    const int axes[2] = {2, 0};
    for (int keep = 0; keep < 2; keep++) {
        nb_tensor *m = nb_min_axes(x, 2, axes, keep), *mx = nb_max_axes(nx, 2, axes, keep);
        assert_int_equal(nb_tensor_numel(m), 3);
        for (int i = 0; i < 3; i++)
            assert_float_equal(nb_tensor_get(m, i), -nb_tensor_get(mx, i), 0);
        nb_tensor_free(mx);
        nb_tensor_free(m);
    }
    nb_tensor_free(nx);
    nb_tensor_free(x);
}

/* ---- prod ---- */
static nb_tensor *prod_rows(nb_tensor *x)
{
    return nb_prod(x, 1, (const int[]){1}, false);
}

static void test_prod_values_and_gradient_with_zeros(void **state)
{
    (void)state;
    /* rows: no zero, one zero, two zeros */
    const double v[12] = {2, -1, 3, 0.5, /**/ 2, 0, 3, 4, /**/ 2, 0, 3, 0};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(3, 4), v);
    nb_tensor *p = prod_rows(x);
    const double rp[3] = {-3, 0, 0};
    nbt_assert_values(p, rp, 0);
    const double g[12] = {-1.5, 3, -1, -6, /**/ 0, 24, 0, 0, /**/ 0, 0, 0, 0};
    check_grad(prod_rows, x, NULL, g, 0);
    nb_tensor_free(p);
    nb_tensor_free(x);
}

static void test_prod_of_all_and_of_empty_axis(void **state)
{
    (void)state;
    const double v[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor *x = from(NB_F32, SHAPE(2, 3), v);
    nb_tensor *p = nb_prod(x, 0, NULL, false), *pk = nb_prod(x, 0, NULL, true);
    assert_int_equal(nb_tensor_ndim(p), 0);
    assert_float_equal(nb_tensor_item(p), 720, 0);
    assert_int_equal(nb_tensor_ndim(pk), 2);
    nb_tensor *e = nb_tensor_new(NB_F64, SHAPE(2, 0));
    nb_tensor *pe = nb_prod(e, 1, (const int[]){1}, false);
    const double ones[2] = {1, 1};
    nbt_assert_values(pe, ones, 0);
    nb_tensor_free(pe);
    nb_tensor_free(e);
    nb_tensor_free(pk);
    nb_tensor_free(p);
    nb_tensor_free(x);
}

/* ---- var, std ---- */
static void test_var_and_std_with_corrections(void **state)
{
    (void)state;
    const double v[8] = {1, 2, 3, 4, /**/ 2, 2, 2, 2};
    for (int t = 0; t < 2; t++) {
        nb_dtype dt = t ? NB_F32 : NB_F64;
        nb_tensor *x = from(dt, SHAPE(2, 4), v);
        const int ax[1] = {-1};
        nb_tensor *v0 = nb_var(x, 1, ax, 0, false), *v1 = nb_var(x, 1, ax, 1, true),
                  *s1 = nb_std(x, 1, ax, 1, false), *v5 = nb_var(x, 1, ax, 5, false);
        const double r0[2] = {1.25, 0}, r1[2] = {5.0 / 3, 0}, rs[2] = {sqrt(5.0 / 3), 0};
        nbt_assert_values(v0, r0, 1e-7);
        nbt_assert_values(v1, r1, 1e-7);
        assert_int_equal(nb_tensor_ndim(v1), 2);
        nbt_assert_values(s1, rs, 1e-7);
        assert_true(isinf(nb_tensor_get(v5, 0))); /* n - correction < 0: divided by 0 */
        assert_true(isnan(nb_tensor_get(v5, 1)));
        nb_tensor_free(v5);
        nb_tensor_free(s1);
        nb_tensor_free(v1);
        nb_tensor_free(v0);
        nb_tensor_free(x);
    }
}

/* var over several axes equals the naive two-pass formula. */
static void test_var_over_two_axes_matches_naive(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F64, 3, (const int64_t[]){2, 3, 4}, 11, -2, 2);
    nb_tensor *v = nb_var(x, 2, (const int[]){0, 2}, 1, false);
    for (int j = 0; j < 3; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 4; k++)
                s += nb_tensor_get(x, (i * 3 + j) * 4 + k);
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 4; k++) {
                const double d = nb_tensor_get(x, (i * 3 + j) * 4 + k) - s / 8;
                ss += d * d;
            }
        assert_float_equal(nb_tensor_get(v, j), ss / 7, 1e-14);
    }
    nb_tensor_free(v);
    nb_tensor_free(x);
}

static nb_tensor *std_all(nb_tensor *x)
{
    return nb_std(x, 0, NULL, 1, false);
}

/* std of a constant is 0 with gradient 0 (PyTorch's rule); one element with Bessel's correction
 * gives NaN. */
static void test_std_gradient_at_zero_and_degenerate_rows(void **state)
{
    (void)state;
    nb_tensor *c = nb_tensor_full(NB_F64, SHAPE(3), 2.0);
    const double z[3] = {0, 0, 0};
    check_grad(std_all, c, NULL, z, 0);
    nb_tensor *one = nb_tensor_full(NB_F64, SHAPE(1), 2.0), *e = nb_tensor_new(NB_F64, SHAPE(0));
    nb_tensor *s1 = std_all(one), *ve = nb_var(e, 0, NULL, 0, false);
    assert_true(isnan(nb_tensor_item(s1)));
    assert_true(isnan(nb_tensor_item(ve)));
    nb_tensor_free(ve);
    nb_tensor_free(s1);
    nb_tensor_free(e);
    nb_tensor_free(one);
    nb_tensor_free(c);
}

/* ---- norm ---- */
static void test_norm_orders(void **state)
{
    (void)state;
    const double v[4] = {3, -4, 0, 0};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(4), v);
    const double p[5] = {1, 2, INFINITY, 0, 3}, want[5] = {7, 5, 4, 2, cbrt(91)};
    for (int i = 0; i < 5; i++) {
        nb_tensor *n = nb_norm(x, p[i], 0, NULL, false);
        assert_float_equal(nb_tensor_item(n), want[i], 1e-14);
        nb_tensor_free(n);
    }
    nb_tensor_free(x);
}

static double norm_p;
static nb_tensor *norm_all(nb_tensor *x)
{
    return nb_norm(x, norm_p, 0, NULL, false);
}

/* Gradient 0 at x = 0 and at a zero norm (PyTorch's rule); the inf-norm's gradient is shared
 * by the tied elements. */
static void test_norm_gradients_at_zero_and_ties(void **state)
{
    (void)state;
    nb_tensor *zero = nb_tensor_full(NB_F64, SHAPE(3), 0.0);
    const double z[3] = {0, 0, 0};
    const double ps[4] = {2, 1, INFINITY, 3};
    for (int i = 0; i < 4; i++) {
        norm_p = ps[i];
        check_grad(norm_all, zero, NULL, z, 0);
    }
    const double v[4] = {1, -1, 0.5, 0};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(4), v);
    norm_p = INFINITY;
    const double gi[4] = {0.5, -0.5, 0, 0};
    check_grad(norm_all, x, NULL, gi, 0);
    norm_p = 1;
    const double g1[4] = {1, -1, 1, 0};
    check_grad(norm_all, x, NULL, g1, 0);
    norm_p = 0.5; /* sign(x) (|x| / y)^(-1/2); 0 at x = 0 */
    const double y = pow(2 + sqrt(0.5), 2);
    const double gh[4] = {sqrt(y), -sqrt(y), sqrt(y / 0.5), 0};
    check_grad(norm_all, x, NULL, gh, 1e-14);
    nb_tensor_free(x);
    nb_tensor_free(zero);
}

/* ---- logsumexp ---- */
static nb_tensor *lse_rows(nb_tensor *x)
{
    return nb_logsumexp(x, 1, (const int[]){1}, false);
}

static void test_logsumexp_is_stable_and_keeps_infinite_rows(void **state)
{
    (void)state;
    const double v[8] = {0, log(3.0), /**/ 1000, 1000, /**/ -INFINITY, -INFINITY, /**/ INFINITY, 1};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(4, 2), v);
    nb_tensor *l = lse_rows(x);
    assert_float_equal(nb_tensor_get(l, 0), log(4.0), 1e-15);
    assert_float_equal(nb_tensor_get(l, 1), 1000 + log(2.0), 1e-12);
    assert_true(nb_tensor_get(l, 2) == -INFINITY);
    assert_true(nb_tensor_get(l, 3) == INFINITY);
    nb_tensor *e = nb_tensor_new(NB_F32, SHAPE(2, 0));
    nb_tensor *le = nb_logsumexp(e, 1, (const int[]){-1}, true);
    assert_int_equal(nb_tensor_ndim(le), 2);
    assert_true(nb_tensor_get(le, 0) == -INFINITY);
    /* gradient: the softmax of the row */
    const double w[2] = {1, 2};
    nb_tensor *f = nb_tensor_from_data(NB_F64, SHAPE(2, 2), v);
    const double g[4] = {0.25, 0.75, 1, 1};
    check_grad(lse_rows, f, w, g, 1e-12);
    nb_tensor_free(f);
    nb_tensor_free(le);
    nb_tensor_free(e);
    nb_tensor_free(l);
    nb_tensor_free(x);
}

/* ---- any, all ---- */
static void test_any_and_all_masks(void **state)
{
    (void)state;
    const double v[9] = {0, 0, 0, /**/ 0, NAN, 0, /**/ 1, -2, 3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(3, 3), v);
    nb_tensor *an = nb_any(x, 1, (const int[]){1}, false),
              *al = nb_all(x, 1, (const int[]){1}, true);
    const double ra[3] = {0, 1, 1}, rl[3] = {0, 0, 1};
    assert_int_equal(nb_tensor_dtype(an), NB_F64);
    nbt_assert_values(an, ra, 0);
    nbt_assert_values(al, rl, 0);
    assert_int_equal(nb_tensor_ndim(al), 2);
    const int64_t ids[4] = {3, 0, 2, 1};
    nb_tensor *i = nbt_ids(1, (const int64_t[]){4}, ids);
    nb_tensor *ai = nb_all(i, 0, NULL, false), *yi = nb_any(i, 0, NULL, false);
    assert_int_equal(nb_tensor_dtype(ai), NB_F32); /* the mask dtype of i64 input */
    assert_float_equal(nb_tensor_item(ai), 0, 0);
    assert_float_equal(nb_tensor_item(yi), 1, 0);
    nb_tensor *e = nb_tensor_new(NB_F32, SHAPE(0));
    nb_tensor *ae = nb_any(e, 0, NULL, false), *le = nb_all(e, 0, NULL, false);
    assert_float_equal(nb_tensor_item(ae), 0, 0);
    assert_float_equal(nb_tensor_item(le), 1, 0);
    nb_tensor_free(le);
    nb_tensor_free(ae);
    nb_tensor_free(e);
    nb_tensor_free(yi);
    nb_tensor_free(ai);
    nb_tensor_free(i);
    nb_tensor_free(al);
    nb_tensor_free(an);
    nb_tensor_free(x);
}

/* ---- cumsum, cumprod ---- */
static void test_cumsum_and_cumprod_values(void **state)
{
    (void)state;
    const double v[6] = {1, 2, 3, /**/ 4, 0, -1};
    nb_tensor *x = from(NB_F32, SHAPE(2, 3), v);
    nb_tensor *s1 = nb_cumsum(x, 1), *s0 = nb_cumsum(x, 0), *p1 = nb_cumprod(x, -1),
              *p0 = nb_cumprod(x, 0);
    const double rs1[6] = {1, 3, 6, 4, 4, 3}, rs0[6] = {1, 2, 3, 5, 2, 2},
                 rp1[6] = {1, 2, 6, 4, 0, 0}, rp0[6] = {1, 2, 3, 4, 0, -3};
    nbt_assert_values(s1, rs1, 0);
    nbt_assert_values(s0, rs0, 0);
    nbt_assert_values(p1, rp1, 0);
    nbt_assert_values(p0, rp0, 0);
    nb_tensor_free(p0);
    nb_tensor_free(p1);
    nb_tensor_free(s0);
    nb_tensor_free(s1);
    nb_tensor_free(x);
}

static const double scan_w[5] = {1, 2, 3, 4, 5};
static nb_tensor *cumprod0(nb_tensor *x)
{
    return nb_cumprod(x, 0);
}

/* dx_k = sum_{i >= k} w_i prod_{j <= i, j != k} x_j, by the O(n^2) definition. */
static void cumprod_grad_naive(const double *x, double *g)
{
    for (int k = 0; k < 5; k++) {
        g[k] = 0;
        for (int i = k; i < 5; i++) {
            double p = scan_w[i];
            for (int j = 0; j <= i; j++)
                p *= j == k ? 1 : x[j];
            g[k] += p;
        }
    }
}

static void test_cumprod_gradient_with_zeros(void **state)
{
    (void)state;
    const double cases[3][5] = {{2, -1, 3, 0.5, 4}, {2, 0, 3, 4, 5}, {2, 0, 3, 0, 5}};
    for (int c = 0; c < 3; c++) {
        nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(5), cases[c]);
        double g[5];
        cumprod_grad_naive(cases[c], g);
        check_grad(cumprod0, x, scan_w, g, 1e-15);
        nb_tensor_free(x);
    }
    const double two_zeros[5] = {1, 22, 0, 0, 0}; /* PyTorch's values for {2, 0, 3, 0, 5} */
    double g[5];
    cumprod_grad_naive(cases[2], g);
    for (int k = 0; k < 5; k++)
        assert_float_equal(g[k], two_zeros[k], 0);
}

/* ---- argsort, sort, topk ---- */
static void test_sort_is_stable_with_nan_at_the_top(void **state)
{
    (void)state;
    const double v[5] = {1, NAN, 1, 0, 1};
    nb_tensor *x = from(NB_F32, SHAPE(5), v);
    nb_tensor *vals = NULL, *idx = NULL;
    assert_int_equal(nb_sort(x, 0, false, &vals, &idx), NB_OK);
    const double ia[5] = {3, 0, 2, 4, 1};
    nbt_assert_values(idx, ia, 0);
    assert_float_equal(nb_tensor_get(vals, 0), 0, 0);
    assert_true(isnan(nb_tensor_get(vals, 4)));
    nb_tensor *d = nb_argsort(x, -1, true);
    const double id[5] = {1, 0, 2, 4, 3};
    nbt_assert_values(d, id, 0);
    nb_tensor_free(d);
    nb_tensor_free(idx);
    nb_tensor_free(vals);
    nb_tensor_free(x);
}

/* Sorting along axis 0 of a matrix sorts each column. */
static void test_sort_along_axis0_sorts_columns(void **state)
{
    (void)state;
    nb_tensor *x = nbt_uniform(NB_F64, 2, (const int64_t[]){6, 3}, 21, -1, 1);
    nb_tensor *vals = NULL, *idx = NULL;
    assert_int_equal(nb_sort(x, 0, true, &vals, &idx), NB_OK);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 6; i++) {
            const int64_t src = (int64_t)nb_tensor_get(idx, i * 3 + j);
            assert_float_equal(nb_tensor_get(vals, i * 3 + j), nb_tensor_get(x, src * 3 + j), 0);
            if (i)
                assert_true(nb_tensor_get(vals, i * 3 + j) <= nb_tensor_get(vals, (i - 1) * 3 + j));
        }
    nb_tensor_free(idx);
    nb_tensor_free(vals);
    nb_tensor_free(x);
}

/* Long rows (past the insertion-sorted runs, through the merges) with many ties and NaN: the
 * result is a permutation, ordered, and equal keys keep their order along the axis. */
static void test_long_rows_sort_stably_in_both_directions(void **state)
{
    (void)state;
    enum { N = 203 };
    double v[2 * N];
    for (int i = 0; i < 2 * N; i++)
        v[i] = i % 17 == 5 ? NAN : (double)((i * 7919) % 13) - 6;
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(2, N), v);
    for (int desc = 0; desc < 2; desc++) {
        nb_tensor *idx = nb_argsort(x, 1, desc);
        assert_non_null(idx);
        for (int r = 0; r < 2; r++) {
            bool seen[N] = {false};
            for (int j = 0; j < N; j++) {
                const int64_t p = (int64_t)nb_tensor_get(idx, r * N + j);
                assert_true(p >= 0 && p < N && !seen[p]);
                seen[p] = true;
                if (!j)
                    continue;
                const int64_t q = (int64_t)nb_tensor_get(idx, r * N + j - 1);
                const double a = v[r * N + q], b = v[r * N + p];
                const bool nan_a = isnan(a), nan_b = isnan(b);
                if (nan_a || nan_b) { /* NaN last ascending, first descending */
                    assert_true(desc ? nan_a : nan_b);
                    if (nan_a && nan_b)
                        assert_true(q < p);
                    continue;
                }
                assert_true(desc ? a >= b : a <= b);
                if (a == b)
                    assert_true(q < p);
            }
        }
        nb_tensor_free(idx);
    }
    nb_tensor_free(x);
}

static void test_topk_largest_smallest_sorted_or_in_order(void **state)
{
    (void)state;
    const double v[10] = {1, 3, 3, 2, 3, /**/ 5, -1, 4, 0, 2};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(2, 5), v);
    nb_tensor *vals = NULL, *idx = NULL;
    assert_int_equal(nb_topk(x, 2, 1, true, true, &vals, &idx), NB_OK);
    const double rv[4] = {3, 3, 5, 4}, ri[4] = {1, 2, 0, 2}; /* ties: first along the axis */
    nbt_assert_values(vals, rv, 0);
    nbt_assert_values(idx, ri, 0);
    nb_tensor_free(idx);
    nb_tensor_free(vals);
    assert_int_equal(nb_topk(x, 3, -1, false, true, &vals, &idx), NB_OK);
    const double sv[6] = {1, 2, 3, -1, 0, 2}, si[6] = {0, 3, 1, 1, 3, 4};
    nbt_assert_values(vals, sv, 0);
    nbt_assert_values(idx, si, 0);
    nb_tensor_free(idx);
    nb_tensor_free(vals);
    assert_int_equal(nb_topk(x, 3, 1, true, false, NULL, &idx), NB_OK);
    const double oi[6] = {1, 2, 4, 0, 2, 4}; /* unsorted: in their order along the axis */
    nbt_assert_values(idx, oi, 0);
    nb_tensor_free(idx);
    assert_int_equal(nb_topk(x, 0, 1, true, true, &vals, NULL), NB_OK);
    assert_int_equal(nb_tensor_numel(vals), 0);
    nb_tensor_free(vals);
    nb_tensor_free(x);
}

static nb_tensor *top2(nb_tensor *x)
{
    nb_tensor *v = NULL;
    nb_topk(x, 2, 0, true, true, &v, NULL);
    return v;
}

/* The values' gradient goes back to the elements they came from. */
static void test_topk_gradient_reaches_selected_elements(void **state)
{
    (void)state;
    const double v[4] = {0.5, 2, -1, 1};
    nb_tensor *x = nb_tensor_from_data(NB_F64, SHAPE(4), v);
    const double w[2] = {10, 20}, g[4] = {0, 10, 0, 20};
    check_grad(top2, x, w, g, 0);
    nb_tensor_free(x);
}

/* ---- errors ---- */
static void test_errors_name_the_function_and_values(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_new(NB_F32, SHAPE(3, 4));
    assert_null(nb_min(x, 2, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_min: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_argmin(x, -3));
    nbt_assert_error(NB_ERR_VALUE, "nb_argmin: axis -3 out of range");
    assert_null(nb_prod(x, 2, (const int[]){0, -2}, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_prod: axis -2 given twice");
    assert_null(nb_var(x, 1, (const int[]){0}, NAN, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_var: correction must be finite, got nan");
    assert_null(nb_std(x, 3, (const int[]){0, 1, 0}, 1, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_std: 3 axes given for a 2-dim tensor [3, 4]");
    assert_null(nb_norm(x, -1, 0, NULL, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_norm: p must be >= 0 or inf, got -1");
    assert_null(nb_norm(x, -INFINITY, 0, NULL, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_norm: p must be >= 0 or inf, got -inf");
    assert_null(nb_logsumexp(x, 1, NULL, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_logsumexp: 1 axes given");
    assert_null(nb_any(x, 1, (const int[]){5}, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_any: axis 5 out of range");
    assert_null(nb_cumsum(x, 2));
    nbt_assert_error(NB_ERR_VALUE, "nb_cumsum: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_argsort(x, -3, false));
    nbt_assert_error(NB_ERR_VALUE, "nb_argsort: axis -3 out of range");
    nb_tensor *v = x, *i = x;
    assert_int_equal(nb_topk(x, 5, 1, true, true, &v, &i), NB_ERR_VALUE);
    assert_null(v);
    assert_null(i);
    nbt_assert_error(NB_ERR_VALUE, "nb_topk: k = 5 is outside [0, 4] (size of axis 1 of [3, 4])");
    assert_int_equal(nb_topk(x, -1, 0, true, true, &v, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_topk: k = -1 is outside [0, 3]");
    assert_int_equal(nb_sort(x, 7, true, &v, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_sort: axis 7 out of range");
    nb_tensor_free(x);
}

static void test_errors_for_empty_axes_and_dtypes(void **state)
{
    (void)state;
    nb_tensor *e = nb_tensor_new(NB_F64, SHAPE(3, 0));
    assert_null(nb_min(e, 1, false));
    nbt_assert_error(NB_ERR_SHAPE, "nb_min: cannot take the min over an empty axis of [3, 0]");
    assert_null(nb_argmin(e, 1));
    nbt_assert_error(NB_ERR_SHAPE, "nb_argmin: cannot take the argmin over an empty axis");
    assert_null(nb_norm(e, INFINITY, 0, NULL, false));
    nbt_assert_error(NB_ERR_SHAPE, "nb_norm: cannot take the norm over an empty axis of [3, 0]");
    nb_tensor *n2 = nb_norm(e, 2, 1, (const int[]){1}, false); /* has an identity: 0 */
    const double z[3] = {0, 0, 0};
    nbt_assert_values(n2, z, 0);
    nb_tensor_free(n2);
    nb_tensor *i = nbt_ids(1, (const int64_t[]){3}, (const int64_t[]){1, 2, 3});
    assert_null(nb_prod(i, 0, NULL, false));
    nbt_assert_error(NB_ERR_DTYPE, "nb_prod: input 0 must be f32 or f64, got i64");
    assert_null(nb_cumprod(i, 0));
    nbt_assert_error(NB_ERR_DTYPE, "nb_cumprod: input 0 must be f32 or f64, got i64");
    nb_tensor *v = NULL;
    assert_int_equal(nb_topk(i, 1, 0, true, true, &v, NULL), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_topk: input 0 must be f32 or f64, got i64");
    nb_tensor_free(i);
    nb_tensor_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_and_argmin_values_ties_and_nan),
        cmocka_unit_test(test_min_gradient_goes_to_first_minimum),
        cmocka_unit_test(test_min_axes_match_negated_max),
        cmocka_unit_test(test_prod_values_and_gradient_with_zeros),
        cmocka_unit_test(test_prod_of_all_and_of_empty_axis),
        cmocka_unit_test(test_var_and_std_with_corrections),
        cmocka_unit_test(test_var_over_two_axes_matches_naive),
        cmocka_unit_test(test_std_gradient_at_zero_and_degenerate_rows),
        cmocka_unit_test(test_norm_orders),
        cmocka_unit_test(test_norm_gradients_at_zero_and_ties),
        cmocka_unit_test(test_logsumexp_is_stable_and_keeps_infinite_rows),
        cmocka_unit_test(test_any_and_all_masks),
        cmocka_unit_test(test_cumsum_and_cumprod_values),
        cmocka_unit_test(test_cumprod_gradient_with_zeros),
        cmocka_unit_test(test_sort_is_stable_with_nan_at_the_top),
        cmocka_unit_test(test_sort_along_axis0_sorts_columns),
        cmocka_unit_test(test_long_rows_sort_stably_in_both_directions),
        cmocka_unit_test(test_topk_largest_smallest_sorted_or_in_order),
        cmocka_unit_test(test_topk_gradient_reaches_selected_elements),
        cmocka_unit_test(test_errors_name_the_function_and_values),
        cmocka_unit_test(test_errors_for_empty_axes_and_dtypes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("reduce2 gradient checks", nbt_cases_reduce2);
}
