/* tests/ops/test_conv.c — ops/conv.c: forward against a direct convolution written here (f32 and
 * f64), transposed convolution (direct scatter, adjointness), the course's worked example, output
 * sizes, error messages, gradient plumbing (second backward, frozen input, threads, chunking, out
 * of memory); then the gradient-check cases of tests/ops/cases_conv.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/window.h"
#include "support/nbt.h"

extern const nbt_case nbt_cases_conv[];

/* ---- direct reference ---- */
typedef struct {
    int64_t sh, sw, dh, dw, pt, pb, pl, pr, groups;
} geom;

/* The TensorFlow SAME rule, written independently of the library: out = ceil(in / s), the
 * missing padding split with the extra element at the end. */
static void same_pads(int64_t in, int64_t k, int64_t s, int64_t d, int64_t *pb, int64_t *pe)
{
    int64_t out = (in + s - 1) / s;
    int64_t need = (out - 1) * s + (k - 1) * d + 1 - in;
    if (need < 0)
        need = 0;
    *pb = need / 2;
    *pe = need - *pb;
}

/* y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x[n, g*Cg + c, i*sh - pt + u*dh, ...]. */
static double *direct_conv2d(const double *x, const int64_t xs[4], const double *w,
                             const int64_t ws[4], const double *b, const geom *g, int64_t *oh,
                             int64_t *ow)
{
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
    const int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3], Og = O / g->groups;
    *oh = (H + g->pt + g->pb - g->dh * (KH - 1) - 1) / g->sh + 1;
    *ow = (W + g->pl + g->pr - g->dw * (KW - 1) - 1) / g->sw + 1;
    double *y = calloc((size_t)(N * O * *oh * *ow), sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < *oh; i++)
                for (int64_t j = 0; j < *ow; j++) {
                    double s = b ? b[o] : 0.0;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t u = 0; u < KH; u++)
                            for (int64_t v = 0; v < KW; v++) {
                                int64_t h = i * g->sh - g->pt + u * g->dh;
                                int64_t q = j * g->sw - g->pl + v * g->dw;
                                if (h < 0 || h >= H || q < 0 || q >= W)
                                    continue;
                                int64_t ci = (o / Og) * Cg + c;
                                s += w[((o * Cg + c) * KH + u) * KW + v] *
                                     x[((n * C + ci) * H + h) * W + q];
                            }
                    y[((n * O + o) * *oh + i) * *ow + j] = s;
                }
    return y;
}

static double *random_values(nb_rng *rng, int64_t n)
{
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = 2.0 * nb_rng_uniform(rng) - 1.0;
    return v;
}

static int64_t prod(const int64_t *s, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= s[i];
    return p;
}

/* Tensor of dtype holding the doubles v. */
static nb_tensor *tensor_of(nb_dtype dt, int ndim, const int64_t *shape, const double *v)
{
    nb_tensor *t = nb_tensor_new(dt, ndim, shape);
    assert_non_null(t);
    for (int64_t i = 0; i < prod(shape, ndim); i++)
        nb_tensor_set(t, i, v[i]);
    return t;
}

typedef struct {
    int64_t x[4], w[4];
    bool bias;
    nb_conv_opts opts;
} conv_config;

/* The geometry the reference uses for a configuration (SAME resolved by same_pads). */
static geom geom_of(const conv_config *c)
{
    const nb_conv_opts *o = &c->opts;
    geom g = {.sh = o->stride_h ? o->stride_h : 1,
              .sw = o->stride_w ? o->stride_w : 1,
              .dh = o->dilation_h ? o->dilation_h : 1,
              .dw = o->dilation_w ? o->dilation_w : 1,
              .groups = o->groups ? o->groups : 1};
    if (o->padding == NB_PAD_EXPLICIT) {
        g.pt = o->pad_top, g.pb = o->pad_bottom, g.pl = o->pad_left, g.pr = o->pad_right;
    } else if (o->padding == NB_PAD_SAME) {
        same_pads(c->x[2], c->w[2], g.sh, g.dh, &g.pt, &g.pb);
        same_pads(c->x[3], c->w[3], g.sw, g.dw, &g.pl, &g.pr);
    }
    return g;
}

static void check_against_direct(const conv_config *c, nb_dtype dt, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    double *xv = random_values(&rng, prod(c->x, 4)), *wv = random_values(&rng, prod(c->w, 4));
    double *bv = random_values(&rng, c->w[0]);
    const geom g = geom_of(c);
    int64_t oh, ow;
    double *ref = direct_conv2d(xv, c->x, wv, c->w, c->bias ? bv : NULL, &g, &oh, &ow);

    nb_tensor *x = tensor_of(dt, 4, c->x, xv), *w = tensor_of(dt, 4, c->w, wv);
    nb_tensor *b = c->bias ? tensor_of(dt, 1, c->w, bv) : NULL;
    nb_tensor *y = nb_conv2d(x, w, b, &c->opts);
    if (!y)
        fail_msg("nb_conv2d failed: %s", nb_last_error());
    const int64_t ys[4] = {c->x[0], c->w[0], oh, ow};
    for (int d = 0; d < 4; d++)
        assert_int_equal(nb_tensor_dim(y, d), ys[d]);
    const double tol = dt == NB_F64 ? 1e-12 : 1e-5;
    for (int64_t i = 0; i < prod(ys, 4); i++)
        if (fabs(nb_tensor_get(y, i) - ref[i]) > tol * (1 + fabs(ref[i])))
            fail_msg("element %lld: %.9g, direct %.9g", (long long)i, nb_tensor_get(y, i), ref[i]);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(b);
    free(ref);
    free(xv);
    free(wv);
    free(bv);
}

static const conv_config configs[] = {
    {.x = {2, 3, 6, 7}, .w = {4, 3, 3, 3}, .bias = true},
    {.x = {1, 2, 7, 6}, .w = {3, 2, 3, 2}, .opts = {.stride_h = 2, .stride_w = 2}},
    {.x = {2, 2, 7, 6}, .w = {3, 2, 3, 3}, .opts = {.stride_h = 2, .padding = NB_PAD_SAME}},
    {.x = {1, 2, 8, 9},
     .w = {2, 2, 3, 2},
     .bias = true,
     .opts = {.dilation_h = 2, .dilation_w = 3, .padding = NB_PAD_SAME}},
    {.x = {2, 2, 6, 5},
     .w = {3, 2, 2, 3},
     .opts = {.stride_w = 2,
              .dilation_h = 2,
              .padding = NB_PAD_EXPLICIT,
              .pad_top = 2,
              .pad_bottom = 0,
              .pad_left = 1,
              .pad_right = 3}},
    {.x = {2, 4, 5, 5}, .w = {6, 2, 3, 3}, .bias = true, .opts = {.groups = 2}},
    {.x = {2, 3, 6, 6},
     .w = {3, 1, 3, 3},
     .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME, .groups = 3}},
    {.x = {1, 4, 5, 4}, .w = {8, 1, 2, 2}, .bias = true, .opts = {.groups = 4}},
    {.x = {3, 5, 4, 4}, .w = {2, 5, 1, 1}, .opts = {.stride_h = 3, .stride_w = 2}},
    {.x = {1, 1, 3, 3}, .w = {1, 1, 5, 5}, .opts = {.padding = NB_PAD_SAME}},
    {.x = {2, 2, 3, 2}, .w = {3, 2, 5, 5}, .bias = true, .opts = {.padding = NB_PAD_SAME}},
    {.x = {2, 3, 5, 4},
     .w = {2, 3, 2, 3},
     .opts = {.dilation_h = 2,
              .dilation_w = 2,
              .padding = NB_PAD_EXPLICIT,
              .pad_top = 2,
              .pad_left = 0,
              .pad_right = 4}},
    {.x = {3, 4, 9, 17}, .w = {5, 4, 3, 3}, .bias = true, .opts = {.padding = NB_PAD_SAME}},
};

static void test_conv2d_matches_direct_convolution(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        check_against_direct(&configs[i], NB_F64, 10 + i);
        check_against_direct(&configs[i], NB_F32, 20 + i);
    }
}

/* conv1d against a direct 1-D loop (written here, not via conv2d). */
static void test_conv1d_matches_direct_convolution(void **state)
{
    (void)state;
    const int64_t N = 2, C = 4, L = 11, O = 6, K = 3, G = 2, Cg = C / G, Og = O / G;
    const int64_t s = 2, d = 2, pl = 3, pr = 1;
    const int64_t Lo = (L + pl + pr - d * (K - 1) - 1) / s + 1;
    nb_rng rng = nb_rng_seed(5);
    double *xv = random_values(&rng, N * C * L), *wv = random_values(&rng, O * Cg * K);
    double *bv = random_values(&rng, O);
    const nb_conv_opts opts = {.stride_w = s,
                               .dilation_w = d,
                               .padding = NB_PAD_EXPLICIT,
                               .pad_left = pl,
                               .pad_right = pr,
                               .groups = G};
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F32 : NB_F64;
        const int64_t xs[3] = {N, C, L}, ws[3] = {O, Cg, K}, bs[1] = {O};
        nb_tensor *x = tensor_of(dt, 3, xs, xv), *w = tensor_of(dt, 3, ws, wv);
        nb_tensor *b = tensor_of(dt, 1, bs, bv);
        nb_tensor *y = nb_conv1d(x, w, b, &opts);
        assert_non_null(y);
        assert_int_equal(nb_tensor_ndim(y), 3);
        assert_int_equal(nb_tensor_dim(y, 2), Lo);
        for (int64_t n = 0; n < N; n++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t j = 0; j < Lo; j++) {
                    double ref = bv[o];
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t v = 0; v < K; v++) {
                            int64_t q = j * s - pl + v * d;
                            if (q >= 0 && q < L)
                                ref += wv[(o * Cg + c) * K + v] *
                                       xv[(n * C + (o / Og) * Cg + c) * L + q];
                        }
                    assert_float_equal(nb_tensor_get(y, (n * O + o) * Lo + j), ref,
                                       dt == NB_F64 ? 1e-12 : 1e-5);
                }
        nb_tensor_free(y);
        nb_tensor_free(x);
        nb_tensor_free(w);
        nb_tensor_free(b);
    }
    free(xv);
    free(wv);
    free(bv);
}

/* The course's vertical-edge example: a 5 x 5 image and the kernel [[1, 0, -1]] x 3. Deep-learning
 * "convolution" is cross-correlation (the kernel is not flipped), so the first output is the
 * top-left 3 x 3 patch times the kernel, element by element:
 *   (3 + 1 + 2) * 1 + (0 + 5 + 7) * 0 + (1 + 8 + 2) * -1 = -5. */
static void test_conv2d_course_vertical_edge_example(void **state)
{
    (void)state;
    const double img[25] = {3, 0, 1, 2, 7, 1, 5, 8, 9, 3, 2, 7, 2,
                            5, 1, 0, 1, 3, 1, 7, 4, 2, 1, 6, 2};
    const double ker[9] = {1, 0, -1, 1, 0, -1, 1, 0, -1};
    const int64_t xs[4] = {1, 1, 5, 5}, ws[4] = {1, 1, 3, 3};
    nb_tensor *x = tensor_of(NB_F32, 4, xs, img), *w = tensor_of(NB_F32, 4, ws, ker);
    nb_tensor *y = nb_conv2d(x, w, NULL, NULL);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 2), 3);
    assert_int_equal(nb_tensor_dim(y, 3), 3);
    const double first = (3 + 1 + 2) * 1 + (0 + 5 + 7) * 0 + (1 + 8 + 2) * -1;
    assert_float_equal(nb_tensor_get(y, 0), first, 0);
    assert_float_equal(nb_tensor_get(y, 0), -5.0, 0);
    /* the rest against the direct loop */
    const geom g = {.sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1};
    int64_t oh, ow;
    double *ref = direct_conv2d(img, xs, ker, ws, NULL, &g, &oh, &ow);
    for (int i = 0; i < 9; i++)
        assert_float_equal(nb_tensor_get(y, i), ref[i], 0);
    free(ref);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(w);
}

static void test_conv2d_valid_and_same_output_sizes(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 5, 5}, ws[4] = {1, 1, 3, 3};
    nb_tensor *x = nb_tensor_full(NB_F64, 4, xs, 1.0), *w = nb_tensor_full(NB_F64, 4, ws, 1.0);
    nb_tensor *valid = nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = NB_PAD_VALID});
    nb_tensor *same = nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = NB_PAD_SAME});
    assert_non_null(valid);
    assert_non_null(same);
    assert_int_equal(nb_tensor_dim(valid, 2), 3);
    assert_int_equal(nb_tensor_dim(valid, 3), 3);
    assert_int_equal(nb_tensor_dim(same, 2), 5);
    assert_int_equal(nb_tensor_dim(same, 3), 5);
    /* all-ones input: a corner sees 4 inputs, an edge 6, the centre 9 */
    assert_float_equal(nb_tensor_get(same, 0), 4, 0);
    assert_float_equal(nb_tensor_get(same, 2), 6, 0);
    assert_float_equal(nb_tensor_get(same, 12), 9, 0);
    assert_float_equal(nb_tensor_get(valid, 0), 9, 0);
    nb_tensor_free(valid);
    nb_tensor_free(same);
    nb_tensor_free(x);
    nb_tensor_free(w);
}

static void test_conv_output_size_arithmetic(void **state)
{
    (void)state;
    int64_t pb = -1, pe = -1;
    assert_int_equal(nb_conv_output_size(5, 3, 1, 1, NB_PAD_VALID, &pb, &pe), 3);
    assert_int_equal(pb, 0);
    assert_int_equal(pe, 0);
    assert_int_equal(nb_conv_output_size(5, 3, 1, 1, NB_PAD_SAME, &pb, &pe), 5);
    assert_int_equal(pb, 1);
    assert_int_equal(pe, 1);
    /* SAME, stride 2 on 6: ceil(6/2) = 3 outputs need 1 pad, which goes at the end */
    assert_int_equal(nb_conv_output_size(6, 3, 2, 1, NB_PAD_SAME, &pb, &pe), 3);
    assert_int_equal(pb, 0);
    assert_int_equal(pe, 1);
    /* SAME with dilation 2: window extent 5 on 7 with stride 2 -> 4 outputs, pads 2+2 */
    assert_int_equal(nb_conv_output_size(7, 3, 2, 2, NB_PAD_SAME, &pb, &pe), 4);
    assert_int_equal(pb, 2);
    assert_int_equal(pe, 2);
    /* SAME never pads when stride > window: 1 x 1 kernel, stride 2 on 5 -> 3 */
    assert_int_equal(nb_conv_output_size(5, 1, 2, 1, NB_PAD_SAME, &pb, &pe), 3);
    assert_int_equal(pb + pe, 0);
    /* explicit: floor((5 + 1 + 0 - 3) / 2) + 1 = 2 */
    pb = 1, pe = 0;
    assert_int_equal(nb_conv_output_size(5, 3, 2, 1, NB_PAD_EXPLICIT, &pb, &pe), 2);
    assert_int_equal(nb_conv_output_size(5, 7, 1, 1, NB_PAD_VALID, NULL, NULL), 0);
    assert_int_equal(nb_conv_output_size(5, 3, 0, 1, NB_PAD_VALID, NULL, NULL), -1);
    assert_int_equal(nb_conv_output_size(5, 0, 1, 1, NB_PAD_VALID, NULL, NULL), -1);
    pb = -1;
    assert_int_equal(nb_conv_output_size(5, 3, 1, 1, NB_PAD_EXPLICIT, &pb, &pe), -1);
    assert_int_equal(nb_conv_output_size(5, 3, 1, 1, (nb_padding)9, NULL, NULL), -1);
}

/* ---- transposed convolution ---- */
/* Direct scatter: every x[n, c, i, j] adds x * w[c, o, u, v] at
 * y[n, g*Og + o, i*sh - pt + u*dh, j*sw - pl + v*dw] (dropped outside y), then b. */
static double *direct_conv_transpose2d(const double *x, const int64_t xs[4], const double *w,
                                       const int64_t ws[4], const double *b, const geom *g,
                                       int64_t OH, int64_t OW)
{
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
    const int64_t Og = ws[1], KH = ws[2], KW = ws[3], O = Og * g->groups, Cg = C / g->groups;
    double *y = calloc((size_t)(N * O * OH * OW), sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < H; i++)
                for (int64_t j = 0; j < W; j++)
                    for (int64_t o = 0; o < Og; o++)
                        for (int64_t u = 0; u < KH; u++)
                            for (int64_t v = 0; v < KW; v++) {
                                int64_t h = i * g->sh - g->pt + u * g->dh;
                                int64_t q = j * g->sw - g->pl + v * g->dw;
                                if (h < 0 || h >= OH || q < 0 || q >= OW)
                                    continue;
                                int64_t oc = (c / Cg) * Og + o;
                                y[((n * O + oc) * OH + h) * OW + q] +=
                                    x[((n * C + c) * H + i) * W + j] *
                                    w[((c * Og + o) * KH + u) * KW + v];
                            }
    if (b)
        for (int64_t k = 0; k < N * O * OH * OW; k++)
            y[k] += b[(k / (OH * OW)) % O];
    return y;
}

typedef struct {
    int64_t x[4], w[4], oh, ow; /* oh, ow: the expected output size */
    geom g;                     /* the pads the reference uses */
    bool bias;
    nb_conv_opts opts;
} transpose_config;

static const transpose_config tconfigs[] = {
    /* VALID, stride 2: OH = (4 - 1) * 2 + 3 = 9, OW = (3 - 1) * 2 + 2 = 6 */
    {.x = {2, 3, 4, 3},
     .w = {3, 2, 3, 2},
     .oh = 9,
     .ow = 6,
     .g = {.sh = 2, .sw = 2, .dh = 1, .dw = 1, .groups = 1},
     .bias = true,
     .opts = {.stride_h = 2, .stride_w = 2}},
    /* explicit pads, dilation, output padding: OH = 2*2 - 1 - 0 + 2*1 + 1 + 1 = 7,
     * OW = 3*3 - 2 - 1 + 3 + 2 = 11 */
    {.x = {1, 2, 3, 4},
     .w = {2, 3, 2, 3},
     .oh = 7,
     .ow = 11,
     .g = {.sh = 2, .sw = 3, .dh = 2, .dw = 1, .pt = 1, .pl = 2, .pr = 1, .groups = 1},
     .opts = {.stride_h = 2,
              .stride_w = 3,
              .dilation_h = 2,
              .padding = NB_PAD_EXPLICIT,
              .pad_top = 1,
              .pad_left = 2,
              .pad_right = 1,
              .output_padding_h = 1,
              .output_padding_w = 2}},
    /* SAME, stride 2, groups 2: OH = 3 * 2 = 6 with SAME pads 0+1 for a 6-high input */
    {.x = {2, 4, 3, 3},
     .w = {4, 1, 3, 3},
     .oh = 6,
     .ow = 6,
     .g = {.sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 0, .pb = 1, .pl = 0, .pr = 1, .groups = 2},
     .bias = true,
     .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME, .groups = 2}},
};

static void test_conv_transpose2d_matches_direct_scatter(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof tconfigs / sizeof tconfigs[0]; k++) {
        const transpose_config *c = &tconfigs[k];
        const int64_t O = c->w[1] * c->g.groups, bs[1] = {O};
        nb_rng rng = nb_rng_seed(40 + k);
        double *xv = random_values(&rng, prod(c->x, 4)), *wv = random_values(&rng, prod(c->w, 4));
        double *bv = random_values(&rng, O);
        double *ref =
            direct_conv_transpose2d(xv, c->x, wv, c->w, c->bias ? bv : NULL, &c->g, c->oh, c->ow);
        for (int d = 0; d < 2; d++) {
            const nb_dtype dt = d ? NB_F32 : NB_F64;
            nb_tensor *x = tensor_of(dt, 4, c->x, xv), *w = tensor_of(dt, 4, c->w, wv);
            nb_tensor *b = c->bias ? tensor_of(dt, 1, bs, bv) : NULL;
            nb_tensor *y = nb_conv_transpose2d(x, w, b, &c->opts);
            if (!y)
                fail_msg("config %zu: %s", k, nb_last_error());
            const int64_t ys[4] = {c->x[0], O, c->oh, c->ow};
            for (int a = 0; a < 4; a++)
                assert_int_equal(nb_tensor_dim(y, a), ys[a]);
            const double tol = d ? 1e-5 : 1e-12;
            for (int64_t i = 0; i < prod(ys, 4); i++)
                if (fabs(nb_tensor_get(y, i) - ref[i]) > tol * (1 + fabs(ref[i])))
                    fail_msg("config %zu element %lld: %.9g, direct %.9g", k, (long long)i,
                             nb_tensor_get(y, i), ref[i]);
            nb_tensor_free(y);
            nb_tensor_free(x);
            nb_tensor_free(w);
            nb_tensor_free(b);
        }
        free(ref);
        free(xv);
        free(wv);
        free(bv);
    }
}

static double dot(nb_tensor *a, nb_tensor *b)
{
    assert_int_equal(nb_tensor_numel(a), nb_tensor_numel(b));
    double s = 0;
    for (int64_t i = 0; i < nb_tensor_numel(a); i++)
        s += nb_tensor_get(a, i) * nb_tensor_get(b, i);
    return s;
}

/* <conv2d(u, w), x> == <u, conv_transpose2d(x, w)> for the same w and options, when the
 * transposed output has u's size (here 8 x 7 -> 4 x 4 -> 8 x 7 with output padding 1 x 0). */
static void test_conv_transpose2d_is_the_adjoint_of_conv2d(void **state)
{
    (void)state;
    const int64_t us[4] = {2, 4, 8, 7}, ws[4] = {6, 2, 3, 3}, xs[4] = {2, 6, 4, 4};
    nb_rng rng = nb_rng_seed(11);
    nb_tensor *u = nb_tensor_uniform(NB_F64, 4, us, &rng, -1, 1);
    nb_tensor *w = nb_tensor_uniform(NB_F64, 4, ws, &rng, -1, 1);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 4, xs, &rng, -1, 1);
    nb_conv_opts o = {.stride_h = 2,
                      .stride_w = 2,
                      .padding = NB_PAD_EXPLICIT,
                      .pad_top = 1,
                      .pad_bottom = 1,
                      .pad_left = 1,
                      .pad_right = 1,
                      .groups = 2};
    nb_tensor *v = nb_conv2d(u, w, NULL, &o);
    o.output_padding_h = 1;
    nb_tensor *t = nb_conv_transpose2d(x, w, NULL, &o);
    assert_non_null(v);
    assert_non_null(t);
    assert_int_equal(nb_tensor_dim(v, 2), 4);
    assert_int_equal(nb_tensor_dim(v, 3), 4);
    assert_int_equal(nb_tensor_dim(t, 2), 8);
    assert_int_equal(nb_tensor_dim(t, 3), 7);
    const double lhs = dot(v, x), rhs = dot(u, t);
    assert_float_equal(lhs, rhs, 1e-11 * (1 + fabs(lhs)));
    nb_tensor_free(v);
    nb_tensor_free(t);
    nb_tensor_free(u);
    nb_tensor_free(w);
    nb_tensor_free(x);
}

static void test_conv_transpose_rejects_bad_sizes_and_options(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 2, 2, 2}, ws[4] = {2, 3, 3, 3}, wbad[4] = {3, 3, 3, 3};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, xs), *w = nb_tensor_zeros(NB_F32, 4, ws);
    nb_tensor *w2 = nb_tensor_zeros(NB_F32, 4, wbad);
    const nb_conv_opts pads = {
        .padding = NB_PAD_EXPLICIT, .pad_top = 2, .pad_bottom = 2, .pad_left = 0, .pad_right = 0};
    assert_null(nb_conv_transpose2d(x, w, NULL, &pads));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv_transpose2d: output height would be 0: input 2, "
                                   "kernel 3, dilation 1, padding 2+2, stride 1, output padding 0");
    assert_null(nb_conv_transpose2d(x, w, NULL, &(nb_conv_opts){.output_padding_w = 1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv_transpose2d: output padding (width) 1 must be >= 0 "
                                   "and smaller than the stride (1) or the dilation (1)");
    assert_null(nb_conv_transpose2d(
        x, w, NULL, &(nb_conv_opts){.stride_h = 2, .padding = NB_PAD_SAME, .output_padding_h = 1}));
    nbt_assert_error(NB_ERR_VALUE, "applies to VALID and EXPLICIT padding only");
    assert_null(nb_conv_transpose2d(x, w2, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv_transpose2d: w is [3, 3, 3, 3] but x [1, 2, 2, 2] has "
                                   "2 channels: w must be [2, O/groups, KH, KW]");
    const int64_t bs[1] = {2};
    nb_tensor *b = nb_tensor_zeros(NB_F32, 1, bs);
    assert_null(nb_conv_transpose2d(x, w, b, NULL)); /* O = 3 */
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv_transpose2d: b must be [O] = [3], got [2]");
    /* VALID sizes: (2 - 1) * 1 + 3 = 4; SAME with stride 3: 2 * 3 = 6 */
    nb_tensor *y = nb_conv_transpose2d(x, w, NULL, NULL);
    nb_tensor *z = nb_conv_transpose2d(
        x, w, NULL, &(nb_conv_opts){.stride_h = 3, .stride_w = 3, .padding = NB_PAD_SAME});
    assert_non_null(y);
    assert_non_null(z);
    assert_int_equal(nb_tensor_dim(y, 2), 4);
    assert_int_equal(nb_tensor_dim(z, 3), 6);
    nb_tensor_free(y);
    nb_tensor_free(z);
    nb_tensor_free(b);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(w2);
}

/* ---- errors ---- */
static nb_tensor *zeros(int ndim, const int64_t *shape)
{
    nb_tensor *t = nb_tensor_zeros(NB_F32, ndim, shape);
    assert_non_null(t);
    return t;
}

static void test_conv2d_rejects_kernel_larger_than_input(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 1, 5, 5}, ws[4] = {1, 1, 7, 7};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws);
    assert_null(nb_conv2d(x, w, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: output height would be 0: input 5, kernel 7, "
                                   "dilation 1, padding 0+0, stride 1");
    const int64_t ws2[4] = {1, 1, 1, 3};
    nb_tensor *w2 = zeros(4, ws2);
    const nb_conv_opts o = {.dilation_w = 3, .padding = NB_PAD_EXPLICIT, .pad_left = 1};
    assert_null(nb_conv2d(x, w2, NULL, &o));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: output width would be 0: input 5, kernel 3, "
                                   "dilation 3, padding 1+0, stride 1");
    const int64_t xs1[3] = {2, 1, 4}, ws1[3] = {1, 1, 5};
    nb_tensor *x1 = zeros(3, xs1), *w1 = zeros(3, ws1);
    assert_null(nb_conv1d(x1, w1, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv1d: output length would be 0: input 4, kernel 5");
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(w2);
    nb_tensor_free(x1);
    nb_tensor_free(w1);
}

static void test_conv2d_rejects_channels_not_divisible_by_groups(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 6, 5, 5}, ws[4] = {8, 1, 3, 3}, ws2[4] = {6, 2, 3, 3};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws), *w2 = zeros(4, ws2);
    assert_null(nb_conv2d(x, w, NULL, &(nb_conv_opts){.groups = 4}));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: channels must divide by groups: input channels "
                                   "6, output channels 8, groups 4");
    nb_tensor *ok = nb_conv2d(x, w2, NULL, &(nb_conv_opts){.groups = 3}); /* 6 / 3 = 2 */
    assert_non_null(ok);
    nb_tensor_free(ok);
    const int64_t ws3[4] = {4, 3, 3, 3};
    nb_tensor *w3 = zeros(4, ws3);
    assert_null(nb_conv2d(x, w3, NULL, &(nb_conv_opts){.groups = 3}));
    nbt_assert_error(NB_ERR_SHAPE, "output channels 4, groups 3");
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(w2);
    nb_tensor_free(w3);
}

static void test_conv2d_rejects_mismatched_weight_and_bias(void **state)
{
    (void)state;
    const int64_t xs[4] = {2, 3, 5, 5}, ws[4] = {4, 2, 3, 3}, ws_ok[4] = {4, 3, 3, 3};
    const int64_t bs[1] = {5}, ws3[3] = {4, 3, 3};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws), *w_ok = zeros(4, ws_ok), *b = zeros(1, bs);
    nb_tensor *w3 = zeros(3, ws3);
    assert_null(nb_conv2d(x, w, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: w is [4, 2, 3, 3] but x [2, 3, 5, 5] has 3 "
                                   "channels in 1 group(s): w must be [O, 3, KH, KW]");
    assert_null(nb_conv2d(x, w_ok, b, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: b must be [O] = [4], got [5]");
    assert_null(nb_conv2d(x, w3, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: w must be [O, C/groups, KH, KW], got [4, 3, 3]");
    assert_null(nb_conv2d(w3, w_ok, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv2d: x must be [N, C, H, W], got [4, 3, 3]");
    assert_null(nb_conv1d(x, w_ok, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_conv1d: x must be [N, C, L], got [2, 3, 5, 5]");
    nb_tensor *x64 = nb_tensor_zeros(NB_F64, 4, xs);
    assert_null(nb_conv2d(x64, w_ok, NULL, NULL));
    nbt_assert_error(NB_ERR_DTYPE, "nb_conv2d: x, w and b must share one float dtype: x is f64, "
                                   "w is f32");
    nb_tensor_free(x64);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(w_ok);
    nb_tensor_free(b);
    nb_tensor_free(w3);
}

static void test_conv2d_rejects_bad_options(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 2, 5, 5}, ws[4] = {2, 2, 3, 3};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws);
    assert_null(nb_conv2d(x, w, NULL, &(nb_conv_opts){.stride_w = -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d: stride, dilation and groups must be >= 1");
    assert_null(nb_conv2d(x, w, NULL, &(nb_conv_opts){.groups = -2}));
    nbt_assert_error(NB_ERR_VALUE, "groups -2");
    assert_null(nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = (nb_padding)7}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d: unknown padding mode 7");
    assert_null(
        nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = NB_PAD_EXPLICIT, .pad_bottom = -1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d: padding (height) must be >= 0, got 0+-1");
    const int64_t xs1[3] = {1, 2, 5}, ws1[3] = {2, 2, 3};
    nb_tensor *x1 = zeros(3, xs1), *w1 = zeros(3, ws1);
    assert_null(nb_conv1d(x1, w1, NULL, &(nb_conv_opts){.stride_h = 2}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv1d: stride_h, dilation_h, pad_top, pad_bottom and "
                                   "output_padding_h do not apply to 1-D");
    assert_null(nb_conv2d(x, w, NULL, &(nb_conv_opts){.output_padding_w = 1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d: output_padding applies to transposed convolution "
                                   "only, got 0x1");
    /* the width fields are the 1-D ones; stride_h 1 is allowed */
    nb_tensor *y = nb_conv1d(x1, w1, NULL, &(nb_conv_opts){.stride_h = 1, .stride_w = 2});
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 2), 2);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(w);
    nb_tensor_free(x1);
    nb_tensor_free(w1);
}

static void test_conv2d_propagates_null_input(void **state)
{
    (void)state;
    const int64_t ws[4] = {2, 2, 3, 3};
    nb_tensor *w = zeros(4, ws);
    assert_null(nb_conv2d(NULL, w, NULL, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_conv2d: x is NULL");
    /* a failing inner expression keeps its own message */
    const int64_t a[2] = {2, 3}, bshape[2] = {4, 3};
    nb_tensor *p = zeros(2, a), *q = zeros(2, bshape);
    assert_null(nb_conv2d(nb_add(p, q), w, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_add: shapes do not broadcast");
    nb_tensor_free(p);
    nb_tensor_free(q);
    nb_tensor_free(w);
}

/* 1-D convolution and pooling read a strided x (a transposed view) like its dense copy. */
static void test_conv1d_and_pool1d_accept_a_strided_view(void **state)
{
    (void)state;
    const int64_t ts[3] = {2, 7, 3}, ws[3] = {4, 3, 2};
    nb_tensor *t = nb_tensor_zeros(NB_F64, 3, ts), *w = nb_tensor_zeros(NB_F64, 3, ws);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++)
        nb_tensor_set(t, i, (double)((i * 7) % 11) - 5.0);
    for (int64_t i = 0; i < nb_tensor_numel(w); i++)
        nb_tensor_set(w, i, (double)((i * 3) % 5) - 2.0);
    nb_tensor *x = nb_transpose(t, 1, 2); /* [2, 3, 7], strided */
    nb_tensor *xc = nb_contiguous(x);
    assert_non_null(xc);
    nb_tensor *y[4] = {nb_conv1d(x, w, NULL, NULL), nb_conv1d(xc, w, NULL, NULL),
                       nb_max_pool1d(x, 2, NULL), nb_max_pool1d(xc, 2, NULL)};
    for (int k = 0; k < 4; k += 2) {
        assert_non_null(y[k]);
        assert_non_null(y[k + 1]);
        assert_int_equal(nb_tensor_ndim(y[k]), 3);
        assert_int_equal(nb_tensor_numel(y[k]), nb_tensor_numel(y[k + 1]));
        for (int64_t i = 0; i < nb_tensor_numel(y[k]); i++)
            assert_float_equal(nb_tensor_get(y[k], i), nb_tensor_get(y[k + 1], i), 0);
    }
    assert_int_equal(nb_tensor_dim(y[0], 2), 6);
    assert_int_equal(nb_tensor_dim(y[2], 2), 3);
    for (int k = 0; k < 4; k++)
        nb_tensor_free(y[k]);
    nb_tensor_free(xc);
    nb_tensor_free(x);
    nb_tensor_free(t);
    nb_tensor_free(w);
}

/* A result of a step that has ended is refused as such by every convolution (the front door
 * checks liveness before it reads anything else of a tensor, dtype included). */
static void test_conv_rejects_a_result_of_an_ended_step(void **state)
{
    (void)state;
    const int64_t xs[4] = {1, 2, 5, 5}, ws[4] = {2, 2, 3, 3}, xs1[3] = {1, 2, 5},
                  ws1[3] = {2, 2, 3};
    nb_tensor *x0 = zeros(4, xs), *w = zeros(4, ws), *x1 = zeros(3, xs1), *w1 = zeros(3, ws1);
    nb_tensor *x0_64 = nb_tensor_zeros(NB_F64, 4, xs);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *x = nb_mul_scalar(x0, 2.0), *x1s = nb_mul_scalar(x1, 2.0);
    nb_tensor *x64 = nb_mul_scalar(x0_64, 2.0); /* f64, w is f32 */
    assert_non_null(x64);
    assert_non_null(x);
    assert_non_null(x1s);
    nb_step_end(s);
    assert_null(nb_conv2d(x, w, NULL, NULL));
    nbt_assert_error(NB_ERR_STATE, "nb_conv2d: ");
    assert_null(nb_conv2d(x0, x, NULL, NULL)); /* as the weight too */
    nbt_assert_error(NB_ERR_STATE, "nb_conv2d: ");
    assert_null(nb_conv2d(x64, w, NULL, NULL)); /* not a dtype error */
    nbt_assert_error(NB_ERR_STATE, "nb_conv2d: ");
    assert_null(nb_conv_transpose2d(x, w, NULL, NULL));
    nbt_assert_error(NB_ERR_STATE, "nb_conv_transpose2d: ");
    assert_null(nb_conv1d(x1s, w1, NULL, NULL));
    nbt_assert_error(NB_ERR_STATE, "nb_conv1d: ");
    assert_null(nb_conv_transpose1d(x1s, w1, NULL, NULL));
    nbt_assert_error(NB_ERR_STATE, "nb_conv_transpose1d: ");
    nb_step_free(s);
    nb_tensor_free(x0_64);
    nb_tensor_free(x0);
    nb_tensor_free(w);
    nb_tensor_free(x1);
    nb_tensor_free(w1);
}

/* ---- gradient plumbing ---- */
typedef struct {
    nb_tensor *x, *w, *b, *seed, *y; /* y: a copy of the output */
} conv_setup;

static conv_setup make_setup(uint64_t s, const int64_t xs[4], const int64_t ws[4], bool x_grad)
{
    nb_rng rng = nb_rng_seed(s);
    conv_setup c;
    const int64_t bs[1] = {ws[0]};
    c.x = nb_tensor_uniform(NB_F64, 4, xs, &rng, -1, 1);
    c.w = nb_tensor_uniform(NB_F64, 4, ws, &rng, -1, 1);
    c.b = nb_tensor_uniform(NB_F64, 1, bs, &rng, -1, 1);
    nb_tensor_set_requires_grad(c.x, x_grad);
    nb_tensor_set_requires_grad(c.w, true);
    nb_tensor_set_requires_grad(c.b, true);
    c.seed = NULL;
    c.y = NULL;
    return c;
}

static void free_setup(conv_setup *c)
{
    nb_tensor_free(c->x);
    nb_tensor_free(c->w);
    nb_tensor_free(c->b);
    nb_tensor_free(c->seed);
    nb_tensor_free(c->y);
}

/* Run forward + `backwards` backward passes in one step with a fixed seed gradient. */
static void run_backward(conv_setup *c, const nb_conv_opts *o, int backwards)
{
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_conv2d(c->x, c->w, c->b, o);
    assert_non_null(y);
    if (!c->seed) {
        nb_rng rng = nb_rng_seed(99);
        c->seed = nb_tensor_uniform(NB_F64, 4, nb_tensor_shape(y), &rng, -1, 1);
    }
    for (int i = 0; i < backwards; i++)
        assert_int_equal(nb_backward_ex(y, c->seed), NB_OK);
    nb_tensor_free(c->y);
    c->y = nb_tensor_copy(y);
    nb_step_end(step);
    nb_step_free(step);
}

static void assert_scaled_equal(nb_tensor *a, nb_tensor *b, double scale, double tol)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nb_tensor_numel(a), nb_tensor_numel(b));
    for (int64_t i = 0; i < nb_tensor_numel(a); i++)
        assert_float_equal(nb_tensor_get(a, i), scale * nb_tensor_get(b, i), tol);
}

/* The first backward reuses the saved columns for dcol; the second must rebuild them. */
static void test_conv2d_second_backward_in_a_step_adds_the_same_gradients(void **state)
{
    (void)state;
    const int64_t xs[4] = {2, 4, 6, 5}, ws[4] = {6, 2, 3, 3};
    const nb_conv_opts o = {.padding = NB_PAD_SAME, .stride_h = 2, .groups = 2};
    conv_setup once = make_setup(1, xs, ws, true), twice = make_setup(1, xs, ws, true);
    run_backward(&once, &o, 1);
    run_backward(&twice, &o, 2);
    assert_scaled_equal(nb_tensor_grad(twice.x), nb_tensor_grad(once.x), 2.0, 1e-12);
    assert_scaled_equal(nb_tensor_grad(twice.w), nb_tensor_grad(once.w), 2.0, 1e-12);
    assert_scaled_equal(nb_tensor_grad(twice.b), nb_tensor_grad(once.b), 2.0, 1e-12);
    free_setup(&once);
    free_setup(&twice);
}

/* A first layer: the input needs no gradient; w's and b's must not change. */
static void test_conv2d_weight_gradient_without_input_gradient(void **state)
{
    (void)state;
    const int64_t xs[4] = {3, 2, 7, 7}, ws[4] = {4, 2, 3, 3};
    const nb_conv_opts o = {.padding = NB_PAD_SAME};
    conv_setup all = make_setup(2, xs, ws, true), frozen = make_setup(2, xs, ws, false);
    run_backward(&all, &o, 1);
    run_backward(&frozen, &o, 1);
    assert_null(nb_tensor_grad(frozen.x));
    assert_scaled_equal(nb_tensor_grad(frozen.w), nb_tensor_grad(all.w), 1.0, 1e-12);
    assert_scaled_equal(nb_tensor_grad(frozen.b), nb_tensor_grad(all.b), 1.0, 1e-12);
    free_setup(&all);
    free_setup(&frozen);
}

/* Large enough for the parallel loops (im2col / col2im, the depthwise kernels, and chunks of
 * images run by separate threads): two threads give the same numbers as one. The cases cover
 * each way of forming the weight gradient (Kg >= Og; Kg < Og with few or many columns) and the
 * stride-1 full-width column path. */
static void test_conv2d_two_threads_match_one(void **state)
{
    (void)state;
    static const struct {
        int64_t x[4], w[4];
        nb_conv_opts o;
    } cases[] = {
        {{8, 8, 12, 12}, {8, 4, 3, 3}, {.padding = NB_PAD_SAME, .stride_w = 2, .groups = 2}},
        {{8, 8, 12, 12}, {16, 1, 3, 3}, {.padding = NB_PAD_SAME, .stride_w = 2, .groups = 8}},
        {{9, 2, 12, 12}, {24, 2, 3, 3}, {.padding = NB_PAD_SAME}},
        {{7, 4, 12, 12}, {40, 4, 3, 3}, {.padding = NB_PAD_SAME}},
    };
    const int prev = nb_get_num_threads();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        conv_setup one = make_setup(3, cases[k].x, cases[k].w, true);
        conv_setup two = make_setup(3, cases[k].x, cases[k].w, true);
        nb_set_num_threads(1);
        run_backward(&one, &cases[k].o, 2);
        nb_set_num_threads(2);
        run_backward(&two, &cases[k].o, 2);
        assert_scaled_equal(two.y, one.y, 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(two.x), nb_tensor_grad(one.x), 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(two.w), nb_tensor_grad(one.w), 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(two.b), nb_tensor_grad(one.b), 1.0, 1e-12);
        free_setup(&one);
        free_setup(&two);
    }
    nb_set_num_threads(prev);
}

static void assert_bitwise_equal(nb_tensor *a, nb_tensor *b)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nb_tensor_numel(a), nb_tensor_numel(b));
    assert_memory_equal(nb_tensor_data(a), nb_tensor_data(b),
                        (size_t)nb_tensor_numel(a) * sizeof(double));
}

/* On two threads the batch is split among them and each sums its own weight and bias gradients:
 * repeated runs give the same bits (the split and the order of the sums are fixed, not decided
 * by which thread is first). One image per chunk and an odd batch: many chunks, unevenly split,
 * for each way of forming the weight gradient. */
static void test_conv2d_two_threads_give_the_same_bits_every_run(void **state)
{
    (void)state;
    static const struct {
        int64_t x[4], w[4];
    } cases[] = {
        {{13, 4, 10, 10}, {8, 4, 3, 3}},  /* Kg >= Og: transposed GEMM */
        {{13, 1, 10, 10}, {16, 1, 3, 3}}, /* few columns: direct dot products */
        {{13, 4, 10, 10}, {40, 4, 3, 3}}, /* GEMM */
    };
    const nb_conv_opts o = {.padding = NB_PAD_SAME};
    const int64_t saved_budget = nbi_conv_col_budget;
    const int prev = nb_get_num_threads();
    nb_set_num_threads(2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nbi_conv_col_budget = cases[k].x[1] * 9 * 100 * (int64_t)sizeof(double); /* one image */
        conv_setup first = make_setup(5, cases[k].x, cases[k].w, true);
        run_backward(&first, &o, 1);
        for (int run = 0; run < 6; run++) {
            conv_setup again = make_setup(5, cases[k].x, cases[k].w, true);
            run_backward(&again, &o, 1);
            assert_bitwise_equal(again.y, first.y);
            assert_bitwise_equal(nb_tensor_grad(again.x), nb_tensor_grad(first.x));
            assert_bitwise_equal(nb_tensor_grad(again.w), nb_tensor_grad(first.w));
            assert_bitwise_equal(nb_tensor_grad(again.b), nb_tensor_grad(first.b));
            free_setup(&again);
        }
        free_setup(&first);
    }
    nb_set_num_threads(prev);
    nbi_conv_col_budget = saved_budget;
}

/* A batch whose columns exceed the budget is processed in chunks of images (here 1, then 2 per
 * chunk): same outputs and gradients as one chunk, also for a second backward in the step. */
static void test_conv2d_chunked_batch_matches_whole_batch(void **state)
{
    (void)state;
    const int64_t xs[4] = {3, 4, 6, 5}, ws[4] = {6, 2, 3, 3};
    const nb_conv_opts o = {.padding = NB_PAD_SAME, .stride_w = 2, .groups = 2};
    const int64_t saved_budget = nbi_conv_col_budget;
    const int64_t per_image = 4 * 9 * 6 * 3 * (int64_t)sizeof(double); /* K * P * 8 bytes */
    conv_setup whole = make_setup(4, xs, ws, true);
    run_backward(&whole, &o, 2);
    for (int64_t images = 1; images <= 2; images++) {
        nbi_conv_col_budget = images * per_image;
        conv_setup chunked = make_setup(4, xs, ws, true);
        run_backward(&chunked, &o, 2);
        assert_scaled_equal(chunked.y, whole.y, 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(chunked.x), nb_tensor_grad(whole.x), 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(chunked.w), nb_tensor_grad(whole.w), 1.0, 1e-12);
        assert_scaled_equal(nb_tensor_grad(chunked.b), nb_tensor_grad(whole.b), 1.0, 1e-12);
        free_setup(&chunked);
    }
    /* and every gradient-check case with one image per chunk */
    nbi_conv_col_budget = 1;
    for (const nbt_case *c = nbt_cases_conv; c->name; c++)
        if (c->run() != NB_OK)
            fail_msg("case %s with one image per chunk: %s", c->name, nb_last_error());
    nbi_conv_col_budget = saved_budget;
    free_setup(&whole);
}

/* Every allocation a convolution makes may fail: the result is NULL with NB_ERR_NOMEM (or the
 * call succeeds when the failure point is past its last allocation), and nothing leaks. */
static void test_conv2d_reports_out_of_memory(void **state)
{
    (void)state;
    const int64_t xs[4] = {2, 3, 6, 6}, ws[4] = {4, 3, 3, 3};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws);
    for (int with_step = 0; with_step < 2; with_step++) {
        bool succeeded = false;
        int failures = 0;
        for (long n = 1; n <= 40 && !succeeded; n++) {
            nb_step *step = with_step ? nb_step_new() : NULL;
            if (step)
                nb_step_begin(step);
            nb_debug_fail_alloc_after(n);
            nb_tensor *y = nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = NB_PAD_SAME});
            nb_debug_fail_alloc_after(0);
            if (y) {
                succeeded = true;
            } else {
                assert_int_equal(nb_last_status(), NB_ERR_NOMEM);
                nb_clear_error();
                failures++;
            }
            if (!step)
                nb_tensor_free(y);
            nb_step_free(step);
        }
        assert_true(succeeded);
        assert_true(failures >= (with_step ? 1 : 3)); /* output, columns, GEMM buffer */
    }
    nb_tensor_free(x);
    nb_tensor_free(w);
}

static void test_conv2d_accepts_an_empty_batch(void **state)
{
    (void)state;
    const int64_t xs[4] = {0, 2, 5, 5}, ws[4] = {3, 2, 3, 3};
    nb_tensor *x = zeros(4, xs), *w = zeros(4, ws);
    nb_tensor *y = nb_conv2d(x, w, NULL, NULL);
    assert_non_null(y);
    assert_int_equal(nb_tensor_numel(y), 0);
    assert_int_equal(nb_tensor_dim(y, 1), 3);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_tensor_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_matches_direct_convolution),
        cmocka_unit_test(test_conv1d_matches_direct_convolution),
        cmocka_unit_test(test_conv2d_course_vertical_edge_example),
        cmocka_unit_test(test_conv2d_valid_and_same_output_sizes),
        cmocka_unit_test(test_conv_output_size_arithmetic),
        cmocka_unit_test(test_conv_transpose2d_matches_direct_scatter),
        cmocka_unit_test(test_conv_transpose2d_is_the_adjoint_of_conv2d),
        cmocka_unit_test(test_conv_transpose_rejects_bad_sizes_and_options),
        cmocka_unit_test(test_conv2d_rejects_kernel_larger_than_input),
        cmocka_unit_test(test_conv2d_rejects_channels_not_divisible_by_groups),
        cmocka_unit_test(test_conv2d_rejects_mismatched_weight_and_bias),
        cmocka_unit_test(test_conv2d_rejects_bad_options),
        cmocka_unit_test(test_conv2d_propagates_null_input),
        cmocka_unit_test(test_conv_rejects_a_result_of_an_ended_step),
        cmocka_unit_test(test_conv1d_and_pool1d_accept_a_strided_view),
        cmocka_unit_test(test_conv2d_second_backward_in_a_step_adds_the_same_gradients),
        cmocka_unit_test(test_conv2d_weight_gradient_without_input_gradient),
        cmocka_unit_test(test_conv2d_two_threads_match_one),
        cmocka_unit_test(test_conv2d_two_threads_give_the_same_bits_every_run),
        cmocka_unit_test(test_conv2d_chunked_batch_matches_whole_batch),
        cmocka_unit_test(test_conv2d_reports_out_of_memory),
        cmocka_unit_test(test_conv2d_accepts_an_empty_batch),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("conv gradient checks", nbt_cases_conv);
}
