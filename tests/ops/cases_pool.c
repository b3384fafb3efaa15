/* tests/ops/cases_pool.c — gradient checks of ops/pool.c: max and average pooling, 2-D and 1-D,
 * side-by-side and overlapping windows, with padding; global pooling; constant padding. */
#include "support/nbt.h"

typedef struct {
    bool max, one_d;
    int64_t x[4];
    int64_t kh, kw;
    nb_pool_opts opts;
} pool_case;

static nb_tensor *f_pool(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    const pool_case *c = user;
    if (c->one_d)
        return c->max ? nb_max_pool1d(in[0], c->kw, &c->opts)
                      : nb_avg_pool1d(in[0], c->kw, &c->opts);
    return c->max ? nb_max_pool2d(in[0], c->kh, c->kw, &c->opts)
                  : nb_avg_pool2d(in[0], c->kh, c->kw, &c->opts);
}

/* Values are spread over [-4, 4) so that no two elements of a window are within the
 * finite-difference step of each other (max pooling has a kink at ties). */
static nb_status check_pool(const pool_case *c, uint64_t seed)
{
    nbt_input x = {.ndim = c->one_d ? 3 : 4, .lo = -4, .hi = 4};
    for (int d = 0; d < x.ndim; d++)
        x.shape[d] = c->x[d];
    return nbt_check(f_pool, (void *)(uintptr_t)c, &x, 1, seed);
}

static nb_status case_max_pool2d_2x2(void)
{
    static const pool_case c = {.max = true, .x = {2, 3, 6, 6}, .kh = 2, .kw = 2};
    return check_pool(&c, 1);
}

/* Odd height and width: the last row and column are in no window (the 2x2 fast path). */
static nb_status case_max_pool2d_2x2_odd(void)
{
    static const pool_case c = {.max = true, .x = {2, 2, 5, 7}, .kh = 2, .kw = 2};
    return check_pool(&c, 11);
}

/* 3 x 3 windows with stride 1 overlap; padding 1 on every side. */
static nb_status case_max_pool2d_overlapping_padded(void)
{
    static const pool_case c = {.max = true,
                                .x = {2, 2, 5, 6},
                                .kh = 3,
                                .kw = 3,
                                .opts = {.stride_h = 1,
                                         .stride_w = 1,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 1,
                                         .pad_bottom = 1,
                                         .pad_left = 1,
                                         .pad_right = 1}};
    return check_pool(&c, 2);
}

static nb_status case_max_pool2d_same_stride2(void)
{
    static const pool_case c = {.max = true,
                                .x = {1, 3, 7, 6},
                                .kh = 3,
                                .kw = 2,
                                .opts = {.stride_h = 2, .stride_w = 2, .padding = NB_PAD_SAME}};
    return check_pool(&c, 3);
}

static nb_status case_avg_pool2d_overlapping_include_padding(void)
{
    static const pool_case c = {.x = {2, 2, 5, 5},
                                .kh = 3,
                                .kw = 3,
                                .opts = {.stride_h = 2,
                                         .stride_w = 2,
                                         .padding = NB_PAD_EXPLICIT,
                                         .pad_top = 1,
                                         .pad_bottom = 2,
                                         .pad_left = 0,
                                         .pad_right = 1}};
    return check_pool(&c, 4);
}

static nb_status case_avg_pool2d_same_exclude_padding(void)
{
    static const pool_case c = {
        .x = {2, 2, 6, 5},
        .kh = 3,
        .kw = 3,
        .opts = {.stride_h = 1, .stride_w = 2, .padding = NB_PAD_SAME, .exclude_padding = true}};
    return check_pool(&c, 5);
}

static nb_status case_max_pool1d_overlapping_padded(void)
{
    static const pool_case c = {
        .max = true,
        .one_d = true,
        .x = {2, 3, 9},
        .kw = 3,
        .opts = {.stride_w = 2, .padding = NB_PAD_EXPLICIT, .pad_left = 1, .pad_right = 2}};
    return check_pool(&c, 6);
}

static nb_status case_avg_pool1d_same(void)
{
    static const pool_case c = {
        .one_d = true, .x = {2, 2, 8}, .kw = 3, .opts = {.stride_w = 1, .padding = NB_PAD_SAME}};
    return check_pool(&c, 7);
}

static nb_tensor *f_global_avg(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_global_avg_pool(in[0]);
}

static nb_tensor *f_global_max(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_global_max_pool(in[0]);
}

static nb_status case_global_avg_pool(void)
{
    const nbt_input x = {.ndim = 4, .shape = {2, 3, 4, 5}, .lo = -1, .hi = 1};
    return nbt_check(f_global_avg, NULL, &x, 1, 8);
}

static nb_status case_global_max_pool(void)
{
    const nbt_input x = {.ndim = 3, .shape = {2, 3, 7}, .lo = -4, .hi = 4};
    return nbt_check(f_global_max, NULL, &x, 1, 9);
}

static nb_tensor *f_pad2d(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_pad2d(in[0], 1, 0, 2, 3, 0.5);
}

static nb_status case_pad2d(void)
{
    const nbt_input x = {.ndim = 4, .shape = {2, 3, 4, 5}, .lo = -1, .hi = 1};
    return nbt_check(f_pad2d, NULL, &x, 1, 12);
}

static nb_tensor *f_pad1d(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_pad1d(in[0], 0, 2, -1.0);
}

static nb_status case_pad1d(void)
{
    const nbt_input x = {.ndim = 2, .shape = {3, 4}, .lo = -1, .hi = 1};
    return nbt_check(f_pad1d, NULL, &x, 1, 13);
}

const nbt_case nbt_cases_pool[] = {
    {"max_pool2d_2x2", NB_OP_MAX_POOL2D, case_max_pool2d_2x2},
    {"max_pool2d_2x2_odd", NB_OP_MAX_POOL2D, case_max_pool2d_2x2_odd},
    {"max_pool2d_overlapping_padded", NB_OP_MAX_POOL2D, case_max_pool2d_overlapping_padded},
    {"max_pool2d_same_stride2", NB_OP_MAX_POOL2D, case_max_pool2d_same_stride2},
    {"avg_pool2d_overlapping_include_padding", NB_OP_AVG_POOL2D,
     case_avg_pool2d_overlapping_include_padding},
    {"avg_pool2d_same_exclude_padding", NB_OP_AVG_POOL2D, case_avg_pool2d_same_exclude_padding},
    {"max_pool1d_overlapping_padded", NB_OP_MAX_POOL2D, case_max_pool1d_overlapping_padded},
    {"avg_pool1d_same", NB_OP_AVG_POOL2D, case_avg_pool1d_same},
    {"global_avg_pool", NB_OP_MEAN, case_global_avg_pool},
    {"global_max_pool", NB_OP_MAX, case_global_max_pool},
    {"pad2d", NB_OP_PAD, case_pad2d},
    {"pad1d", NB_OP_PAD, case_pad1d},
    {0},
};
