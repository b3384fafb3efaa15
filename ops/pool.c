/* ops/pool.c — max and average pooling over 2-D windows (1-D pooling is the same ops on
 * [N, C, L], as H = 1), global pooling (compositions of the reductions in ops/reduce.c), and
 * constant padding.
 *
 *   max:  y[n, c, i, j] = max of the window, padding never wins;   dx[argmax] += dy
 *         (forward saves each window's argmax when recording, so backward compares nothing)
 *   avg:  y[n, c, i, j] = sum of the window / d;                   dx[window] += dy / d
 *         d = KH*KW (padding counts as zeros, PyTorch's count_include_pad=True default), or the
 *         number of input elements in the window with exclude_padding.
 * Explicit pads are smaller than the window (checked), so every window covers at least one input
 * element. Forward and backward run in parallel over (image, channel) planes. */
#include "ops/window.h"

#include <math.h>

/* What the caller gave: the window, the options (NULL: all defaults) and whether it called a
 * 1-D function. pool_resolve validates it against x and resolves the window, for the shape rule
 * and again for forward and backward. */
typedef struct {
    int64_t kh, kw;
    nb_pool_opts opts;
    bool one_d;
} pool_attr;

static nb_status pool_resolve(const nbi_record *r, nbi_window *g)
{
    const pool_attr *a = r->attr;
    const nb_pool_opts o = a->opts;
    const char *fn = r->api;
    const nb_tensor *x = r->in[0];
    const bool one_d = a->one_d;
    const int rank = one_d ? 3 : 4;
    if (x->ndim != rank)
        return nbi_error(NB_ERR_SHAPE, "%s: x must be %s, got %s", fn,
                         one_d ? "[N, C, L]" : "[N, C, H, W]", nbi_fmt_shape(x));
    if (o.stride_h < 0 || o.stride_w < 0)
        return nbi_error(NB_ERR_VALUE,
                         "%s: stride must be >= 1 (0 = the window size), got %lldx%lld", fn,
                         (long long)o.stride_h, (long long)o.stride_w);
    if (one_d && (o.stride_h > 1 || o.pad_top || o.pad_bottom))
        return nbi_error(NB_ERR_VALUE,
                         "%s: stride_h, pad_top and pad_bottom do not apply to 1-D (use stride_w, "
                         "pad_left, pad_right): got %lld, %lld, %lld",
                         fn, (long long)o.stride_h, (long long)o.pad_top, (long long)o.pad_bottom);
    *g = (nbi_window){.kh = a->kh, .kw = a->kw, .dh = 1, .dw = 1};
    g->sh = one_d ? 1 : o.stride_h ? o.stride_h : a->kh;
    g->sw = o.stride_w ? o.stride_w : a->kw;
    const int64_t pads[4] = {o.pad_top, o.pad_bottom, o.pad_left, o.pad_right};
    const int64_t H = one_d ? 1 : x->shape[2], W = x->shape[rank - 1];
    if (nbi_window_resolve(fn, one_d, false, H, W, o.padding, pads, g) != NB_OK)
        return nb_last_status();
    if (g->pt >= a->kh || g->pb >= a->kh || g->pl >= a->kw || g->pr >= a->kw)
        return nbi_error(NB_ERR_VALUE,
                         "%s: each pad must be smaller than the window (else a window could hold "
                         "only padding): window %lldx%lld, padding %lld+%lld (height), %lld+%lld "
                         "(width)",
                         fn, (long long)a->kh, (long long)a->kw, (long long)g->pt, (long long)g->pb,
                         (long long)g->pl, (long long)g->pr);
    return NB_OK;
}

static nb_status pool_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    nbi_window g;
    const nb_status st = pool_resolve(r, &g);
    if (st != NB_OK)
        return st;
    const nb_tensor *x = r->in[0];
    *dtype = x->dtype;
    *ndim = x->ndim;
    shape[0] = x->shape[0];
    shape[1] = x->shape[1];
    if (x->ndim == 4)
        shape[2] = g.oh;
    shape[x->ndim - 1] = g.ow;
    return NB_OK;
}

/* Forward and backward: the window of a record that passed its shape rule, and x's planes
 * (N*C of them, H x W; [N, C, L] is H = 1). */
static nbi_window pool_window(const nbi_record *r)
{
    nbi_window g;
    const nb_status st = pool_resolve(r, &g);
    NB_ASSERT(st == NB_OK);
    return g;
}

static void pool_planes(const nb_tensor *x, int64_t *NC, int64_t *H, int64_t *W)
{
    *NC = x->shape[0] * x->shape[1];
    *H = x->ndim == 4 ? x->shape[2] : 1;
    *W = x->shape[x->ndim - 1];
}

/* The part [u0, u1) x [v0, v1) of window (i, j) that lies inside the H x W input; h0, w0 is the
 * window's top-left corner in input coordinates (may be negative). */
#define WINDOW_CLIP(g, H, W, i, j)                                                                 \
    const int64_t h0 = (i) * (g)->sh - (g)->pt, w0 = (j) * (g)->sw - (g)->pl;                      \
    const int64_t u0 = h0 < 0 ? -h0 : 0, u1 = (g)->kh < (H)-h0 ? (g)->kh : (H)-h0;                 \
    const int64_t v0 = w0 < 0 ? -w0 : 0, v1 = (g)->kw < (W)-w0 ? (g)->kw : (W)-w0

/* ---- max pooling ---- */
/* Window 2x2, stride 2, no top/left padding, every window inside the input (the common
 * "max-pool 2"): a branch-free kernel that saves each window's argmax as a code 0..3
 * (2*row + column within the window) in one byte. Other windows take the general loop, which
 * saves flat indices into the plane. Both pick the first maximum in row-major window order, or
 * the first NaN. */
static bool pool_is_2x2(const nbi_window *g, int64_t H, int64_t W)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->pt == 0 && g->pl == 0 &&
           2 * g->oh <= H && 2 * g->ow <= W;
}

/* best, at := v, n when v beats best: v > best, or v is the first NaN. */
#define MAX_TAKE(v, n)                                                                             \
    do {                                                                                           \
        const bool take_ = (v) > best || ((v) != (v) && best == best);                             \
        best = take_ ? (v) : best;                                                                 \
        at = take_ ? (n) : at;                                                                     \
    } while (0)

/* The 2x2 forward works in blocks of 8 or 16 outputs: fixed-length loops that the compiler turns
 * into branch-free vector code (a loop over a whole row is only vectorised for long rows, and
 * the scalar remainder branches on every comparison, which mispredicts on data). Blocks are
 * separate functions: inlined into the row loops they lose their vectorisation.
 *
 * A row shorter than a block still runs one block in place when the block stays inside the
 * plane's next rows, which exist for every row but the last: it then also writes some outputs
 * of the next row (rewritten when that row comes). The last row of a plane goes through padded
 * copies instead: the next plane may belong to another thread.
 *
 * The backward routes each dy by its code; with a fresh gradient (max_pool2d claims
 * NBI_OP_GRAD_ASSIGN) it writes the whole input gradient, zeros included, instead of adding
 * into a buffer the engine zeroed first. */
#if defined(__GNUC__)
#define MAX2_NOINLINE __attribute__((noinline))
#define MAX2_INLINE   inline __attribute__((always_inline))
#else
#define MAX2_NOINLINE
#define MAX2_INLINE inline
#endif

/* Block size for a plane: 16 when rows are long enough, else 8. */
static int64_t max2_block(int64_t W, int64_t OW)
{
    return OW >= 16 || (W >= 16 && OW >= 8) ? 16 : 8;
}

/* Divisor of an average pooling window covering cells elements of the input. */
#define AVG_DIVISOR(g, exclude_padding, cells) ((exclude_padding) ? (cells) : (g)->kh * (g)->kw)

/* The 2x2 backward in vector registers where the compiler has vector shuffles (GCC >= 12,
 * Clang): written as a loop, routing each dy to one of four interleaved positions compiles to
 * scalar code that branches on every code. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define MAX2_VECTORS         1
#define MAX2_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#endif
#endif

#include <string.h>

#define NB_KERNELS "ops/pool_kernels.h"
#include "nabla/typed.h"

/* Uninitialised step-arena memory (every byte is written before it is read), NULL without a
 * step. */
static void *pool_scratch(size_t bytes)
{
    nbi_arena *a = nbi_active_arena();
    return a ? nbi_arena_alloc_uninit(a, bytes) : NULL;
}

static nb_status max_pool2d_forward(nbi_record *r)
{
    const nb_tensor *x = r->in[0];
    const nbi_window g = pool_window(r);
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const bool fast = pool_is_2x2(&g, H, W);
    void *arg = NULL;
    if (nbi_recording() && x->requires_grad && r->out->numel > 0) {
        const size_t each = fast ? sizeof(uint8_t) : sizeof(int64_t);
        arg = pool_scratch((size_t)r->out->numel * each);
        if (!arg)
            return nbi_error(NB_ERR_NOMEM, "nb_max_pool2d: out of memory saving %lld indices",
                             (long long)r->out->numel);
    }
    if (fast)
        NB_DISPATCH(r->out->dtype, max_pool2_fwd, r, &g, arg);
    else
        NB_DISPATCH(r->out->dtype, max_pool_fwd, r, &g, arg);
    r->saved = arg;
    return NB_OK;
}

static void max_pool2d_backward(nbi_record *r)
{
    const nb_tensor *x = r->in[0];
    if (!x->grad || !r->saved)
        return;
    const nbi_window g = pool_window(r);
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    if (pool_is_2x2(&g, H, W))
        NB_DISPATCH(r->out->dtype, max_pool2_bwd, r, &g);
    else
        NB_DISPATCH(r->out->dtype, max_pool_bwd, r, &g);
}

const nbi_op_def nbi_op_max_pool2d = {
    .name = "max_pool2d",
    .api = "nb_max_pool2d",
    .arity = 1,
    .flags = NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .attr_size = sizeof(pool_attr),
    .shape = pool_shape,
    .forward = max_pool2d_forward,
    .backward = max_pool2d_backward,
};

/* ---- average pooling ---- */

const nbi_op_def nbi_op_avg_pool2d = {
    .name = "avg_pool2d",
    .api = "nb_avg_pool2d",
    .arity = 1,
    .flags = NBI_OP_WRITES_ALL,
    .attr_size = sizeof(pool_attr),
    .shape = pool_shape,
    .forward_f32 = avg_pool_fwd_f32,
    .forward_f64 = avg_pool_fwd_f64,
    .backward_f32 = avg_pool_bwd_f32,
    .backward_f64 = avg_pool_bwd_f64,
};

/* ---- public functions ---- */
/* The window and options as given (resolved by the shape rule) and which function was called. */
static const char *const pool_inputs[] = {"x", NULL};

static nb_tensor *pool(nb_op_id id, const char *fn, bool one_d, nb_tensor *x, int64_t kh,
                       int64_t kw, const nb_pool_opts *opts)
{
    const pool_attr a = {
        .kh = kh, .kw = kw, .opts = opts ? *opts : (nb_pool_opts){0}, .one_d = one_d};
    return nbi_apply_as(id, fn, pool_inputs, 1, &x, &a);
}

nb_tensor *nb_max_pool2d(nb_tensor *x, int64_t kh, int64_t kw, const nb_pool_opts *opts)
{
    return pool(NB_OP_MAX_POOL2D, "nb_max_pool2d", false, x, kh, kw, opts);
}

nb_tensor *nb_avg_pool2d(nb_tensor *x, int64_t kh, int64_t kw, const nb_pool_opts *opts)
{
    return pool(NB_OP_AVG_POOL2D, "nb_avg_pool2d", false, x, kh, kw, opts);
}

nb_tensor *nb_max_pool1d(nb_tensor *x, int64_t k, const nb_pool_opts *opts)
{
    return pool(NB_OP_MAX_POOL2D, "nb_max_pool1d", true, x, 1, k, opts);
}

nb_tensor *nb_avg_pool1d(nb_tensor *x, int64_t k, const nb_pool_opts *opts)
{
    return pool(NB_OP_AVG_POOL2D, "nb_avg_pool1d", true, x, 1, k, opts);
}

/* Reduce over the spatial axes 2 .. ndim-1. */
static nb_tensor *global_pool(const char *fn, bool max, nb_tensor *x)
{
    if (!x) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: x is NULL", fn);
        return NULL;
    }
    if (x->ndim < 3) {
        nbi_error(NB_ERR_SHAPE, "%s: x must be [N, C, ...] with at least one spatial axis, got %s",
                  fn, nbi_fmt_shape(x));
        return NULL;
    }
    int axes[NB_MAX_DIMS];
    for (int d = 2; d < x->ndim; d++)
        axes[d - 2] = d;
    return max ? nb_max_axes(x, x->ndim - 2, axes, false)
               : nb_mean_axes(x, x->ndim - 2, axes, false);
}

nb_tensor *nb_global_avg_pool(nb_tensor *x)
{
    return global_pool("nb_global_avg_pool", false, x);
}

nb_tensor *nb_global_max_pool(nb_tensor *x)
{
    return global_pool("nb_global_max_pool", true, x);
}

/* ---- constant padding ----  y = value outside, x inside;  dx += the inner window of dy */
/* What the caller gave: before/after pairs for the last n_axes axes, from the first of them. */
typedef struct {
    int n_axes;
    int64_t pads[4];
    double value;
} pad_attr;

/* Validate in the caller's terms; before/after [x->ndim]: the pads of every axis. */
static nb_status pad_resolve(const nbi_record *r, int64_t *before, int64_t *after)
{
    const pad_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    if (x->ndim < a->n_axes)
        return nbi_error(NB_ERR_SHAPE, "%s: x needs at least %d dims, got %s", r->api, a->n_axes,
                         nbi_fmt_shape(x));
    for (int d = 0; d < x->ndim; d++)
        before[d] = after[d] = 0;
    for (int k = 0; k < a->n_axes; k++) {
        const int d = x->ndim - a->n_axes + k;
        const int64_t b = a->pads[2 * k], e = a->pads[2 * k + 1];
        if (b < 0 || e < 0 || b > INT32_MAX || e > INT32_MAX)
            return nbi_error(NB_ERR_VALUE,
                             "%s: pads must be in [0, 2^31), got %lld and %lld on axis %d", r->api,
                             (long long)b, (long long)e, d);
        before[d] = b;
        after[d] = e;
    }
    return NB_OK;
}

static nb_status pad_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    int64_t before[NB_MAX_DIMS], after[NB_MAX_DIMS];
    const nb_status st = pad_resolve(r, before, after);
    if (st != NB_OK)
        return st;
    const nb_tensor *x = r->in[0];
    *dtype = x->dtype;
    *ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++)
        shape[d] = before[d] + x->shape[d] + after[d];
    return NB_OK;
}

/* The window of t (contiguous, the padded shape) that holds x, for a record that passed its
 * shape rule. */
static nb_tensor inner_view(const nbi_record *r, const nb_tensor *t)
{
    const nb_tensor *x = r->in[0];
    int64_t before[NB_MAX_DIMS], after[NB_MAX_DIMS];
    const nb_status st = pad_resolve(r, before, after);
    NB_ASSERT(st == NB_OK);
    nb_tensor v = *t;
    for (int d = 0; d < x->ndim; d++) {
        v.offset += before[d] * t->strides[d];
        v.shape[d] = x->shape[d];
    }
    v.numel = x->numel;
    return v;
}

#define NB_KERNELS "ops/pad_kernels.h"
#include "nabla/typed.h"

const nbi_op_def nbi_op_pad = {
    .name = "pad",
    .api = "nb_pad2d",
    .arity = 1,
    .flags = NBI_OP_WRITES_ALL,
    .attr_size = sizeof(pad_attr),
    .shape = pad_shape,
    .forward_f32 = pad_fwd_f32,
    .forward_f64 = pad_fwd_f64,
    .backward_f32 = pad_bwd_f32,
    .backward_f64 = pad_bwd_f64,
};

nb_tensor *nb_pad2d(nb_tensor *x, int64_t top, int64_t bottom, int64_t left, int64_t right,
                    double value)
{
    const pad_attr a = {.n_axes = 2, .pads = {top, bottom, left, right}, .value = value};
    return nbi_apply_as(NB_OP_PAD, "nb_pad2d", pool_inputs, 1, &x, &a);
}

nb_tensor *nb_pad1d(nb_tensor *x, int64_t left, int64_t right, double value)
{
    const pad_attr a = {.n_axes = 1, .pads = {left, right}, .value = value};
    return nbi_apply_as(NB_OP_PAD, "nb_pad1d", pool_inputs, 1, &x, &a);
}
