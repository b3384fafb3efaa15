/* tests/ops/test_pool.c — ops/pool.c: max and average pooling against direct loops written here
 * (f32 and f64), padding semantics, ties and NaN, global pooling, error messages, constant
 * padding; then the gradient-check cases of tests/ops/cases_pool.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

extern const nbt_case nbt_cases_pool[];

typedef struct {
    bool max;
    int64_t x[4], kh, kw;
    nb_pool_opts opts;
} pool_config;

/* The TensorFlow SAME rule, written independently of the library. */
static void same_pads(int64_t in, int64_t k, int64_t s, int64_t *pb, int64_t *pe)
{
    int64_t out = (in + s - 1) / s;
    int64_t need = (out - 1) * s + k - in;
    if (need < 0)
        need = 0;
    *pb = need / 2;
    *pe = need - *pb;
}

/* Direct pooling: windows over the padded input; max skips padding, avg sums the input elements
 * and divides by kh*kw (or by their count with exclude_padding). */
static double *direct_pool(const pool_config *c, const double *x, int64_t *oh, int64_t *ow)
{
    const nb_pool_opts *o = &c->opts;
    const int64_t N = c->x[0], C = c->x[1], H = c->x[2], W = c->x[3];
    const int64_t sh = o->stride_h ? o->stride_h : c->kh, sw = o->stride_w ? o->stride_w : c->kw;
    int64_t pt = 0, pb = 0, pl = 0, pr = 0;
    if (o->padding == NB_PAD_EXPLICIT) {
        pt = o->pad_top, pb = o->pad_bottom, pl = o->pad_left, pr = o->pad_right;
    } else if (o->padding == NB_PAD_SAME) {
        same_pads(H, c->kh, sh, &pt, &pb);
        same_pads(W, c->kw, sw, &pl, &pr);
    }
    *oh = (H + pt + pb - c->kh) / sh + 1;
    *ow = (W + pl + pr - c->kw) / sw + 1;
    double *y = calloc((size_t)(N * C * *oh * *ow), sizeof *y);
    for (int64_t m = 0; m < N * C; m++)
        for (int64_t i = 0; i < *oh; i++)
            for (int64_t j = 0; j < *ow; j++) {
                double acc = c->max ? -INFINITY : 0.0;
                int64_t count = 0;
                for (int64_t u = 0; u < c->kh; u++)
                    for (int64_t v = 0; v < c->kw; v++) {
                        int64_t h = i * sh - pt + u, q = j * sw - pl + v;
                        if (h < 0 || h >= H || q < 0 || q >= W)
                            continue;
                        double e = x[(m * H + h) * W + q];
                        acc = c->max ? fmax(acc, e) : acc + e;
                        count++;
                    }
                if (!c->max)
                    acc /= (double)(o->exclude_padding ? count : c->kh * c->kw);
                y[(m * *oh + i) * *ow + j] = acc;
            }
    return y;
}

static nb_tensor *tensor_of(nb_dtype dt, int ndim, const int64_t *shape, const double *v)
{
    nb_tensor *t = nb_tensor_new(dt, ndim, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        nb_tensor_set(t, i, v[i]);
    return t;
}

static nb_tensor *pool(const pool_config *c, nb_tensor *x)
{
    return c->max ? nb_max_pool2d(x, c->kh, c->kw, &c->opts)
                  : nb_avg_pool2d(x, c->kh, c->kw, &c->opts);
}

static const pool_config configs[] = {
    {.max = true, .x = {2, 3, 6, 6}, .kh = 2, .kw = 2},
    {.max = true, .x = {1, 2, 7, 5}, .kh = 3, .kw = 2, .opts = {.stride_h = 1, .stride_w = 1}},
    {.max = true,
     .x = {2, 2, 5, 6},
     .kh = 3,
     .kw = 3,
     .opts = {.stride_h = 2,
              .stride_w = 1,
              .padding = NB_PAD_EXPLICIT,
              .pad_top = 2,
              .pad_bottom = 0,
              .pad_left = 1,
              .pad_right = 2}},
    {.max = true, .x = {1, 3, 7, 6}, .kh = 3, .kw = 2, .opts = {.padding = NB_PAD_SAME}},
    {.x = {2, 3, 6, 6}, .kh = 2, .kw = 2},
    {.x = {1, 2, 5, 5},
     .kh = 3,
     .kw = 3,
     .opts = {.stride_h = 2,
              .stride_w = 2,
              .padding = NB_PAD_EXPLICIT,
              .pad_top = 1,
              .pad_bottom = 2,
              .pad_left = 0,
              .pad_right = 1}},
    {.x = {2, 2, 6, 5}, .kh = 3, .kw = 3, .opts = {.stride_h = 1, .padding = NB_PAD_SAME}},
    {.x = {2, 2, 6, 5},
     .kh = 3,
     .kw = 3,
     .opts = {.stride_w = 1, .padding = NB_PAD_SAME, .exclude_padding = true}},
};

static void test_pool2d_matches_direct_pooling(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        const pool_config *c = &configs[k];
        const int64_t n = c->x[0] * c->x[1] * c->x[2] * c->x[3];
        nb_rng rng = nb_rng_seed(30 + k);
        double *xv = malloc((size_t)n * sizeof *xv);
        for (int64_t i = 0; i < n; i++)
            xv[i] = 4 * nb_rng_uniform(&rng) - 2;
        int64_t oh, ow;
        double *ref = direct_pool(c, xv, &oh, &ow);
        for (int d = 0; d < 2; d++) {
            const nb_dtype dt = d ? NB_F32 : NB_F64;
            nb_tensor *x = tensor_of(dt, 4, c->x, xv);
            nb_tensor *y = pool(c, x);
            if (!y)
                fail_msg("config %zu: %s", k, nb_last_error());
            assert_int_equal(nb_tensor_dim(y, 2), oh);
            assert_int_equal(nb_tensor_dim(y, 3), ow);
            for (int64_t i = 0; i < nb_tensor_numel(y); i++)
                if (fabs(nb_tensor_get(y, i) - ref[i]) > (d ? 1e-6 : 1e-14))
                    fail_msg("config %zu %s element %lld: %.9g, direct %.9g", k, nb_dtype_name(dt),
                             (long long)i, nb_tensor_get(y, i), ref[i]);
            nb_tensor_free(y);
            nb_tensor_free(x);
        }
        free(ref);
        free(xv);
    }
}

/* 1-D pooling is 2-D pooling of height 1 with the width fields. */
static void test_pool1d_matches_direct_pooling(void **state)
{
    (void)state;
    const int64_t xs[3] = {2, 3, 10};
    nb_rng rng = nb_rng_seed(4);
    double xv[60];
    for (int i = 0; i < 60; i++)
        xv[i] = nb_rng_uniform(&rng);
    for (int max = 0; max < 2; max++) {
        const pool_config c = {
            .max = max,
            .x = {2, 3, 1, 10},
            .kh = 1,
            .kw = 3,
            .opts = {.stride_w = 2, .padding = NB_PAD_EXPLICIT, .pad_left = 2, .pad_right = 1}};
        int64_t oh, ow;
        double *ref = direct_pool(&c, xv, &oh, &ow);
        nb_tensor *x = tensor_of(NB_F64, 3, xs, xv);
        nb_tensor *y = max ? nb_max_pool1d(x, 3, &c.opts) : nb_avg_pool1d(x, 3, &c.opts);
        assert_non_null(y);
        assert_int_equal(nb_tensor_ndim(y), 3);
        assert_int_equal(nb_tensor_dim(y, 2), ow);
        for (int64_t i = 0; i < nb_tensor_numel(y); i++)
            assert_float_equal(nb_tensor_get(y, i), ref[i], 1e-14);
        nb_tensor_free(y);
        nb_tensor_free(x);
        free(ref);
    }
}

static void test_pool_stride_defaults_to_the_window(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 4, 6};
    nb_tensor *x = nb_tensor_full(NB_F32, 4, xs, 1.0);
    nb_tensor *y = nb_max_pool2d(x, 2, 3, NULL);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 2), 2);
    assert_int_equal(nb_tensor_dim(y, 3), 2);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

/* A 2 x 2 input of ones, 3 x 3 windows, stride 1, padding 1: each window covers all 4 inputs
 * and 5 padded zeros. By default (count_include_pad) the mean is 4/9; excluding padding, 1. */
static void test_avg_pool2d_counts_padding_unless_excluded(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 2, 2};
    nb_tensor *x = nb_tensor_full(NB_F64, 4, xs, 1.0);
    nb_pool_opts o = {.stride_h = 1,
                      .stride_w = 1,
                      .padding = NB_PAD_EXPLICIT,
                      .pad_top = 1,
                      .pad_bottom = 1,
                      .pad_left = 1,
                      .pad_right = 1};
    nb_tensor *inc = nb_avg_pool2d(x, 3, 3, &o);
    o.exclude_padding = true;
    nb_tensor *exc = nb_avg_pool2d(x, 3, 3, &o);
    assert_non_null(inc);
    assert_non_null(exc);
    for (int i = 0; i < 4; i++) {
        assert_float_equal(nb_tensor_get(inc, i), 4.0 / 9.0, 1e-15);
        assert_float_equal(nb_tensor_get(exc, i), 1.0, 1e-15);
    }
    nb_tensor_free(inc);
    nb_tensor_free(exc);
    nb_tensor_free(x);
}

/* Equal values in a window: the gradient goes to the first one (row-major), not to each. */
static void test_max_pool2d_gradient_goes_to_first_maximum(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 2, 4};
    const double v[8] = {5, 1, 2, 7, 5, 5, 7, 3}; /* windows {5,1,5,5} and {2,7,7,3} */
    nb_tensor *x = tensor_of(NB_F64, 4, xs, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_max_pool2d(x, 2, 2, NULL);
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(y, 0), 5, 0);
    assert_float_equal(nb_tensor_get(y, 1), 7, 0);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    nb_step_end(step);
    nb_step_free(step);
    const double want[8] = {1, 0, 0, 1, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(x), i), want[i], 0);
    nb_tensor_free(x);
}

static void test_max_pool2d_propagates_nan(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 2, 2};
    const double v[4] = {1, NAN, 3, 2};
    nb_tensor *x = tensor_of(NB_F32, 4, xs, v);
    nb_tensor *y = nb_max_pool2d(x, 2, 2, NULL);
    assert_non_null(y);
    assert_true(isnan(nb_tensor_get(y, 0)));
    nb_tensor_free(y);
    nb_tensor_free(x);
}

/* Max pooling with first-maximum / first-NaN semantics, written here: y [oh, ow] per plane and
 * the flat index of each window's winner (padding never wins). */
static void direct_max_pool(const int64_t *xs, const double *x, int64_t k, int64_t s, int64_t pt,
                            int64_t pl, int64_t oh, int64_t ow, double *y, int64_t *arg)
{
    const int64_t H = xs[2], W = xs[3];
    for (int64_t m = 0; m < xs[0] * xs[1]; m++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                int64_t best = -1;
                for (int64_t u = 0; u < k; u++)
                    for (int64_t v = 0; v < k; v++) {
                        const int64_t h = i * s - pt + u, q = j * s - pl + v;
                        if (h < 0 || h >= H || q < 0 || q >= W)
                            continue;
                        const int64_t at = (m * H + h) * W + q;
                        if (best < 0 || (!isnan(x[best]) && (isnan(x[at]) || x[at] > x[best])))
                            best = at;
                    }
                y[(m * oh + i) * ow + j] = x[best];
                arg[(m * oh + i) * ow + j] = best;
            }
}

/* 2x2 stride-2 windows (a kernel of their own when every window lies inside the input) against
 * direct loops: odd sizes (last row / column in no window), rows shorter and longer than the
 * kernel's blocks (whole blocks, blocks run past the row end, padded copies), ties,
 * NaN and infinities, with and without recording, f32 and f64, one and two threads. SAME padding
 * on odd sizes puts windows over the padding: the general kernel, same reference. */
static void test_max_pool2d_2x2_matches_direct_loops(void **state)
{
    (void)state;
    static const struct {
        int64_t x[4];
        bool same;
    } shapes[] = {
        {{1, 2, 5, 7}, false},  {{2, 3, 8, 6}, false},    {{3, 2, 4, 37}, false},
        {{1, 1, 3, 2}, false},  {{8, 8, 32, 33}, false},  {{2, 2, 6, 23}, false},
        {{1, 3, 4, 16}, false}, {{2, 3, 6, 14}, false},   {{1, 2, 7, 15}, false},
        {{1, 2, 4, 9}, false},  {{16, 8, 14, 14}, false}, {{1, 2, 5, 7}, true},
    };
    const double special[4] = {NAN, INFINITY, -INFINITY, 0.5};
    const int prev = nb_get_num_threads();
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int64_t *xs = shapes[k].x;
        const int64_t n = xs[0] * xs[1] * xs[2] * xs[3];
        const int64_t pb = shapes[k].same ? xs[2] % 2 : 0, pr = shapes[k].same ? xs[3] % 2 : 0;
        const int64_t oh = (xs[2] + pb) / 2, ow = (xs[3] + pr) / 2, ny = xs[0] * xs[1] * oh * ow;
        nb_rng rng = nb_rng_seed(60 + k);
        double *xv = malloc((size_t)n * sizeof *xv), *rv = malloc((size_t)ny * sizeof *rv);
        double *yref = malloc((size_t)ny * sizeof *yref), *gref = calloc((size_t)n, sizeof *gref);
        int64_t *arg = malloc((size_t)ny * sizeof *arg);
        for (int64_t i = 0; i < n; i++) /* few distinct values: many ties */
            xv[i] = nb_rng_uniform(&rng) < 0.05 ? special[nb_rng_below(&rng, 4)]
                                                : (double)nb_rng_below(&rng, 4) - 2;
        for (int64_t i = 0; i < ny; i++)
            rv[i] = nb_rng_uniform(&rng) - 0.5;
        direct_max_pool(xs, xv, 2, 2, 0, 0, oh, ow, yref, arg);
        for (int64_t i = 0; i < ny; i++)
            gref[arg[i]] += rv[i];
        const nb_pool_opts o = {.padding = shapes[k].same ? NB_PAD_SAME : NB_PAD_VALID};
        for (int run = 0; run < 8; run++) { /* dtype x threads x recording */
            const nb_dtype dt = run & 1 ? NB_F32 : NB_F64;
            const bool record = run & 4;
            nb_set_num_threads(run & 2 ? 2 : 1);
            nb_tensor *x = tensor_of(dt, 4, xs, xv);
            nb_tensor_set_requires_grad(x, record);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *y = nb_max_pool2d(x, 2, 2, &o);
            assert_non_null(y);
            assert_int_equal(nb_tensor_dim(y, 2), oh);
            assert_int_equal(nb_tensor_dim(y, 3), ow);
            for (int64_t i = 0; i < ny; i++) {
                const double got = nb_tensor_get(y, i), want = yref[i];
                if (!(got == want || (isnan(got) && isnan(want))))
                    fail_msg("shape %zu run %d element %lld: %g, direct %g", k, run, (long long)i,
                             got, want);
            }
            if (record) {
                nb_tensor *r = tensor_of(dt, 4, nb_tensor_shape(y), rv);
                assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, r))), NB_OK);
                nb_tensor_free(r);
            }
            nb_step_end(step);
            nb_step_free(step);
            if (record)
                for (int64_t i = 0; i < n; i++) {
                    const double got = nb_tensor_get(nb_tensor_grad(x), i);
                    const double want = dt == NB_F32 ? (double)(float)gref[i] : gref[i];
                    if (got != want)
                        fail_msg("shape %zu run %d gradient %lld: %g, direct %g", k, run,
                                 (long long)i, got, want);
                }
            nb_tensor_free(x);
        }
        free(arg);
        free(gref);
        free(yref);
        free(rv);
        free(xv);
    }
    nb_set_num_threads(prev);
}

/* The 2x2 backward writes a fresh input gradient whole (zeros where no window routes, the rows
 * and columns of odd sizes included) and adds into one that already holds values: x's gradient
 * from max_pool2d(x) and from a second use of x (x * s, recorded before or after the pooling,
 * so the pooling's backward runs first or second), and through an intermediate (x + 0.5).
 * Widths give rows of 8 outputs, a whole vector plus a remainder, two vectors, and shorter. */
static void test_max_pool2d_2x2_gradient_writes_or_adds(void **state)
{
    (void)state;
    static const int64_t shapes[][4] = {
        {2, 3, 4, 16}, {1, 2, 5, 23}, {2, 2, 3, 33}, {1, 3, 7, 7}, {3, 1, 6, 19},
    };
    const int prev = nb_get_num_threads();
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int64_t *xs = shapes[k];
        const int64_t n = xs[0] * xs[1] * xs[2] * xs[3];
        const int64_t oh = xs[2] / 2, ow = xs[3] / 2, ny = xs[0] * xs[1] * oh * ow;
        nb_rng rng = nb_rng_seed(90 + k);
        double *xv = malloc((size_t)n * sizeof *xv), *sv = malloc((size_t)n * sizeof *sv);
        double *rv = malloc((size_t)ny * sizeof *rv), *yref = malloc((size_t)ny * sizeof *yref);
        double *gref = calloc((size_t)n, sizeof *gref);
        int64_t *arg = malloc((size_t)ny * sizeof *arg);
        for (int64_t i = 0; i < n; i++) {
            xv[i] = nb_rng_uniform(&rng) - 0.5;
            sv[i] = nb_rng_uniform(&rng) - 0.5;
        }
        for (int64_t i = 0; i < ny; i++)
            rv[i] = nb_rng_uniform(&rng) - 0.5;
        direct_max_pool(xs, xv, 2, 2, 0, 0, oh, ow, yref, arg);
        for (int64_t i = 0; i < ny; i++)
            gref[arg[i]] += rv[i];
        for (int run = 0; run < 16; run++) { /* dtype x threads x the other use of x */
            const nb_dtype dt = run & 1 ? NB_F32 : NB_F64;
            const int use = run >> 2; /* 0: none, 1: x * s after, 2: before, 3: via x + 0.5 */
            nb_set_num_threads(run & 2 ? 2 : 1);
            nb_tensor *x = tensor_of(dt, 4, xs, xv), *s = tensor_of(dt, 4, xs, sv);
            nb_tensor_set_requires_grad(x, true);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *r = tensor_of(dt, 4, (const int64_t[]){xs[0], xs[1], oh, ow}, rv);
            nb_tensor *before = use == 2 ? nb_sum_all(nb_mul(x, s)) : NULL;
            nb_tensor *y = nb_max_pool2d(use == 3 ? nb_add_scalar(x, 0.5) : x, 2, 2, NULL);
            nb_tensor *loss = nb_sum_all(nb_mul(y, r));
            if (use == 1)
                loss = nb_add(loss, nb_sum_all(nb_mul(x, s)));
            if (use == 2)
                loss = nb_add(loss, before);
            assert_int_equal(nb_backward(loss), NB_OK);
            nb_tensor_free(r);
            nb_step_end(step);
            nb_step_free(step);
            for (int64_t i = 0; i < n; i++) {
                double want = dt == NB_F32 ? (double)(float)gref[i] : gref[i];
                if (use == 1 || use == 2)
                    want = dt == NB_F32 ? (double)((float)want + (float)sv[i]) : want + sv[i];
                const double got = nb_tensor_get(nb_tensor_grad(x), i);
                if (got != want)
                    fail_msg("shape %zu run %d gradient %lld: %g, want %g", k, run, (long long)i,
                             got, want);
            }
            nb_tensor_free(s);
            nb_tensor_free(x);
        }
        free(arg);
        free(gref);
        free(yref);
        free(rv);
        free(sv);
        free(xv);
    }
    nb_set_num_threads(prev);
}

static void test_global_pools_reduce_every_spatial_axis(void **state)
{
    (void)state;
    const int64_t xs[4] = {2, 3, 2, 2};
    double v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (double)((i * 7) % 24);
    nb_tensor *x = tensor_of(NB_F64, 4, xs, v);
    nb_tensor *avg = nb_global_avg_pool(x), *max = nb_global_max_pool(x);
    assert_non_null(avg);
    assert_non_null(max);
    assert_int_equal(nb_tensor_ndim(avg), 2);
    assert_int_equal(nb_tensor_dim(avg, 0), 2);
    assert_int_equal(nb_tensor_dim(avg, 1), 3);
    for (int m = 0; m < 6; m++) {
        const double *p = v + 4 * m;
        assert_float_equal(nb_tensor_get(avg, m), (p[0] + p[1] + p[2] + p[3]) / 4, 1e-14);
        assert_float_equal(nb_tensor_get(max, m), fmax(fmax(p[0], p[1]), fmax(p[2], p[3])), 0);
    }
    nb_tensor_free(avg);
    nb_tensor_free(max);
    nb_tensor_free(x);
}

static void test_pool_rejects_impossible_shapes_and_options(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 3, 1}, xs3[3] = {1, 2, 5}, xs2[2] = {2, 3};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, xs), *x3 = nb_tensor_zeros(NB_F32, 3, xs3);
    nb_tensor *x2 = nb_tensor_zeros(NB_F32, 2, xs2);
    assert_null(nb_max_pool2d(x, 2, 2, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_max_pool2d: output width would be 0: input 1, window 2, "
                                   "padding 0+0, stride 2");
    nb_pool_opts o = {.padding = NB_PAD_EXPLICIT, .pad_top = 2};
    assert_null(nb_avg_pool2d(x, 2, 1, &o));
    nbt_assert_error(NB_ERR_VALUE, "nb_avg_pool2d: each pad must be smaller than the window");
    assert_null(nb_max_pool2d(x, 0, 1, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_max_pool2d: window height must be >= 1, got 0");
    assert_null(nb_max_pool2d(x, 1, 1, &(nb_pool_opts){.stride_w = -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_max_pool2d: stride must be >= 1");
    assert_null(nb_max_pool2d(x3, 2, 2, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_max_pool2d: x must be [N, C, H, W], got [1, 2, 5]");
    assert_null(nb_avg_pool1d(x3, 2, &(nb_pool_opts){.pad_top = 1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_avg_pool1d: stride_h, pad_top and pad_bottom do not apply");
    assert_null(nb_max_pool1d(x3, 6, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_max_pool1d: output length would be 0: input 5, window 6");
    assert_null(nb_global_avg_pool(x2));
    nbt_assert_error(NB_ERR_SHAPE, "nb_global_avg_pool: x must be [N, C, ...] with at least one "
                                   "spatial axis, got [2, 3]");
    assert_null(nb_max_pool2d(NULL, 2, 2, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_max_pool2d: x is NULL");
    nb_tensor_free(x);
    nb_tensor_free(x3);
    nb_tensor_free(x2);
}

/* Large enough for the parallel loops: two threads give the same values and gradients. */
static void test_pool2d_two_threads_match_one(void **state)
{
    (void)state;
    const int64_t xs[4] = {8, 8, 16, 16};
    const nb_pool_opts o = {.stride_h = 1, .stride_w = 2, .padding = NB_PAD_SAME};
    nb_tensor *grads[2][2];
    const int prev = nb_get_num_threads();
    for (int t = 0; t < 2; t++) {
        nb_set_num_threads(t + 1);
        for (int max = 0; max < 2; max++) {
            nb_rng rng = nb_rng_seed(8);
            nb_tensor *x = nb_tensor_uniform(NB_F64, 4, xs, &rng, -1, 1);
            nb_tensor_set_requires_grad(x, true);
            nb_step *step = nb_step_new();
            nb_step_begin(step);
            nb_tensor *y = max ? nb_max_pool2d(x, 3, 3, &o) : nb_avg_pool2d(x, 3, 3, &o);
            nb_tensor *r = nb_rand_uniform(NB_F64, 4, nb_tensor_shape(y), &rng, -1, 1);
            assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, r))), NB_OK);
            nb_step_end(step);
            nb_step_free(step);
            grads[t][max] = nb_tensor_copy(nb_tensor_grad(x));
            nb_tensor_free(x);
        }
    }
    nb_set_num_threads(prev);
    for (int max = 0; max < 2; max++) {
        assert_true(nb_tensor_allclose(grads[1][max], grads[0][max], 0, 1e-14));
        nb_tensor_free(grads[0][max]);
        nb_tensor_free(grads[1][max]);
    }
}

/* ---- constant padding ---- */
static void test_pad2d_surrounds_the_input_with_the_value(void **state)
{
    (void)state;
    const int64_t xs[3] = {2, 2, 3};
    const double v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    nb_tensor *x = tensor_of(NB_F32, 3, xs, v);
    nb_tensor *y = nb_pad2d(x, 1, 0, 2, 1, -7.0); /* [2, 3, 6] */
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 1), 3);
    assert_int_equal(nb_tensor_dim(y, 2), 6);
    for (int64_t m = 0; m < 2; m++)
        for (int64_t i = 0; i < 3; i++)
            for (int64_t j = 0; j < 6; j++) {
                const bool inside = i >= 1 && j >= 2 && j < 5;
                const double want = inside ? v[(m * 2 + i - 1) * 3 + j - 2] : -7.0;
                assert_float_equal(nb_tensor_get(y, (m * 3 + i) * 6 + j), want, 0);
            }
    nb_tensor *z = nb_pad1d(x, 0, 2, 0.0); /* [2, 2, 5] */
    assert_non_null(z);
    assert_int_equal(nb_tensor_dim(z, 2), 5);
    assert_float_equal(nb_tensor_get(z, 2), 3, 0);
    assert_float_equal(nb_tensor_get(z, 3), 0, 0);
    assert_float_equal(nb_tensor_get(z, 5), 4, 0);
    nb_tensor_free(z);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_pad2d_rejects_negative_pads_and_too_few_dims(void **state)
{
    (void)state;
    const int64_t xs[2] = {3, 4}, vs[1] = {4};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, xs), *v = nb_tensor_zeros(NB_F32, 1, vs);
    assert_null(nb_pad2d(x, 0, -1, 0, 0, 0.0));
    nbt_assert_error(NB_ERR_VALUE, "nb_pad2d: pads must be in [0, 2^31), got 0 and -1 on axis 0");
    assert_null(nb_pad2d(v, 1, 1, 1, 1, 0.0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_pad2d: x needs at least 2 dims, got [4]");
    nb_tensor_free(x);
    nb_tensor_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool2d_matches_direct_pooling),
        cmocka_unit_test(test_pool1d_matches_direct_pooling),
        cmocka_unit_test(test_pool_stride_defaults_to_the_window),
        cmocka_unit_test(test_avg_pool2d_counts_padding_unless_excluded),
        cmocka_unit_test(test_max_pool2d_gradient_goes_to_first_maximum),
        cmocka_unit_test(test_max_pool2d_propagates_nan),
        cmocka_unit_test(test_max_pool2d_2x2_matches_direct_loops),
        cmocka_unit_test(test_max_pool2d_2x2_gradient_writes_or_adds),
        cmocka_unit_test(test_global_pools_reduce_every_spatial_axis),
        cmocka_unit_test(test_pool_rejects_impossible_shapes_and_options),
        cmocka_unit_test(test_pool2d_two_threads_match_one),
        cmocka_unit_test(test_pad2d_surrounds_the_input_with_the_value),
        cmocka_unit_test(test_pad2d_rejects_negative_pads_and_too_few_dims),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("pool gradient checks", nbt_cases_pool);
}
