/* ops/conv.c — convolution and transposed convolution (2-D, and 1-D as the same ops on [N, C, L]),
 * plus the window geometry (ops/window.h) that ops/pool.c shares.
 *
 * Convolution is im2col + GEMM over chunks of images. With K = C*KH*KW, P = OH*OW, a chunk of
 * nb images (np = nb*P columns) and g = 0 .. groups-1 (rows of each matrix split evenly by
 * group):
 *   forward   col [K, np]    = im2col(x)             (zero where a tap falls in the padding)
 *             yt  [O, np]    = w_g [O/G, K/G] @ col_g     one GEMM per group
 *             y   [nb, O, P] = yt transposed batch-first, + b
 *   backward  dyt [O, np]    = dy transposed               (in yt's buffer)
 *             db  [O]       += sum over n, p of dy
 *             dw_g          += dyt_g @ col_g^T             inner dimension np (computed as
 *                                                          its transpose, or directly for few
 *                                                          columns: see gemm_dwt, dw_direct)
 *             dcol_g         = w_g^T @ dyt_g               [K/G, np], in col's buffer
 *             dx            += col2im(dcol)
 * With few columns per group (Kg = C/G*KH*KW <= 32: first layers) the products run per image
 * in place instead, y_i = w @ col_i (+ b), dw += dy_i @ col_i^T, dcol_i = w^T @ dy_i with dy_i
 * read as it is: no channel-major copies of y and dy (see per_image).
 * A chunk's columns take at most nbi_conv_col_budget bytes (2 MiB) per thread: the GEMMs then
 * read columns that are still in cache, which BLIS runs at up to ~3x the rate of one GEMM over
 * the whole batch when O is small (32-64), and the buffers stay small. Backward rebuilds each
 * chunk's columns. With several threads, each thread takes one contiguous range of images and
 * runs it chunk by chunk (conv_workers, worker_images): a static split, so its partial weight
 * and bias gradients, added in thread order, are the same bits on every run.
 * When the whole batch fits one chunk, forward's columns are kept for backward (the buffers
 * live in the step arena until nb_step_end anyway), unless a second backward in the same step
 * finds col overwritten by dcol. im2col and col2im run in parallel over (image, channel)
 * planes: col2im's planes never overlap, so its += needs no atomics.
 * Depthwise convolution (groups == C > 1) would make one-row GEMMs; it runs direct loops
 * instead (see "depthwise kernels"). */
#include "ops/window.h"

#include <string.h>

/* ---- window geometry (shared with pool.c) ---- */
int64_t nb_conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                            nb_padding padding, int64_t *pad_begin, int64_t *pad_end)
{
    int64_t pb = 0, pe = 0, span, out;
    if (in < 0 || kernel < 1 || stride < 1 || dilation < 1 ||
        !nbi_mul_overflow(dilation, kernel - 1, &span) || span > INT64_MAX - 1 - in)
        return -1;
    span += 1; /* extent of one window */
    switch (padding) {
    case NB_PAD_VALID:
        break;
    case NB_PAD_SAME: {
        out = in / stride + (in % stride != 0);
        int64_t total = out > 0 ? (out - 1) * stride + span - in : 0;
        if (total > 0) {
            pb = total / 2;
            pe = total - pb;
        }
        break;
    }
    case NB_PAD_EXPLICIT:
        pb = pad_begin ? *pad_begin : 0;
        pe = pad_end ? *pad_end : 0;
        if (pb < 0 || pe < 0 || pb > INT64_MAX / 4 || pe > INT64_MAX / 4 || in > INT64_MAX / 4)
            return -1;
        break;
    default:
        return -1;
    }
    if (pad_begin)
        *pad_begin = pb;
    if (pad_end)
        *pad_end = pe;
    const int64_t room = in + pb + pe - span; /* window start positions minus one */
    return room < 0 ? 0 : room / stride + 1;
}

static nb_status window_axis(const char *fn, const char *axis, bool show_dilation, int64_t in,
                             int64_t kernel, int64_t stride, int64_t dilation, nb_padding padding,
                             int64_t *pb, int64_t *pe, int64_t *out)
{
    const char *what = show_dilation ? "kernel" : "window";
    if (kernel < 1)
        return nbi_error(NB_ERR_VALUE, "%s: %s %s must be >= 1, got %lld", fn, what, axis,
                         (long long)kernel);
    if (stride < 1)
        return nbi_error(NB_ERR_VALUE, "%s: stride (%s) must be >= 1 (0 = default), got %lld", fn,
                         axis, (long long)stride);
    if (dilation < 1)
        return nbi_error(NB_ERR_VALUE, "%s: dilation (%s) must be >= 1 (0 = default), got %lld", fn,
                         axis, (long long)dilation);
    if (padding == NB_PAD_EXPLICIT && (*pb < 0 || *pe < 0))
        return nbi_error(NB_ERR_VALUE, "%s: padding (%s) must be >= 0, got %lld+%lld", fn, axis,
                         (long long)*pb, (long long)*pe);
    int64_t o = nb_conv_output_size(in, kernel, stride, dilation, padding, pb, pe);
    if (o < 0)
        return nbi_error(NB_ERR_VALUE, "%s: window sizes out of range (%s): input %lld, %s %lld",
                         fn, axis, (long long)in, what, (long long)kernel);
    if (o < 1) {
        if (show_dilation)
            return nbi_error(NB_ERR_SHAPE,
                             "%s: output %s would be 0: input %lld, kernel %lld, dilation %lld, "
                             "padding %lld+%lld, stride %lld",
                             fn, axis, (long long)in, (long long)kernel, (long long)dilation,
                             (long long)*pb, (long long)*pe, (long long)stride);
        return nbi_error(NB_ERR_SHAPE,
                         "%s: output %s would be 0: input %lld, window %lld, padding %lld+%lld, "
                         "stride %lld",
                         fn, axis, (long long)in, (long long)kernel, (long long)*pb, (long long)*pe,
                         (long long)stride);
    }
    *out = o;
    return NB_OK;
}

nb_status nbi_window_resolve(const char *fn, bool one_d, bool show_dilation, int64_t H, int64_t W,
                             nb_padding padding, const int64_t pads[4], nbi_window *w)
{
    if (padding != NB_PAD_VALID && padding != NB_PAD_SAME && padding != NB_PAD_EXPLICIT)
        return nbi_error(NB_ERR_VALUE,
                         "%s: unknown padding mode %d (NB_PAD_VALID, NB_PAD_SAME or "
                         "NB_PAD_EXPLICIT)",
                         fn, (int)padding);
    w->pt = pads[0], w->pb = pads[1], w->pl = pads[2], w->pr = pads[3];
    if (window_axis(fn, "height", show_dilation, H, w->kh, w->sh, w->dh, padding, &w->pt, &w->pb,
                    &w->oh) != NB_OK)
        return nb_last_status();
    return window_axis(fn, one_d ? "length" : "width", show_dilation, W, w->kw, w->sw, w->dw,
                       padding, &w->pl, &w->pr, &w->ow);
}

/* ---- scratch buffers: step arena while a step is active, else heap; never zero-filled (every
 * kernel that uses one writes all of it before reading) ---- */
typedef struct {
    void *p;
    bool heap;
} scratch;

static nb_status scratch_get(scratch *s, const char *fn, int64_t a, int64_t b, nb_dtype dtype)
{
    int64_t n;
    s->p = NULL;
    s->heap = nb_step_active() == NULL;
    if (!nbi_mul_overflow(a, b, &n) || !nbi_mul_overflow(n, (int64_t)nb_dtype_size(dtype), &n))
        return nbi_error(NB_ERR_NOMEM, "%s: a %lld x %lld work buffer is too large", fn,
                         (long long)a, (long long)b);
    const size_t bytes = n > 0 ? (size_t)n : 1;
    s->p = s->heap ? nbi_malloc(bytes) : nbi_arena_alloc_uninit(nbi_active_arena(), bytes);
    if (!s->p)
        return nbi_error(NB_ERR_NOMEM, "%s: out of memory allocating a %zu-byte work buffer", fn,
                         bytes);
    return NB_OK;
}

static void scratch_release(scratch *s)
{
    if (s->heap)
        nbi_free(s->p);
    s->p = NULL;
}

/* ---- typed kernels ---- */

/* Stride 1 with OW == W ("same" width; any dilation and height padding): output pixel p of a
 * tap (u, v) reads input pixel p + shift of the same plane, shift = (u*dh - pt)*W + off with
 * off = v*dw - pl, so the valid rows [i0, i1) of the tap are one contiguous run apart from the
 * columns j with j + off outside [0, W). The run is clipped to stay inside the plane (what is
 * cut off lies in those columns). slab_run gives the clipped run [*lo, *hi) within
 * [i0*W, i1*W) and the invalid columns [*c0, *c1) of each row in [i0, i1). */
static bool slab_contiguous(const nbi_window *g, int64_t W)
{
    return g->sh == 1 && g->sw == 1 && g->ow == W;
}

static inline void slab_run(const nbi_window *g, int64_t H, int64_t W, int64_t u, int64_t v,
                            int64_t *i0, int64_t *i1, int64_t *shift, int64_t *lo, int64_t *hi,
                            int64_t *c0, int64_t *c1)
{
    nbi_window_span(g->oh, H, 1, u * g->dh - g->pt, i0, i1);
    const int64_t off = v * g->dw - g->pl;
    *shift = (u * g->dh - g->pt) * W + off;
    *lo = *i0 * W, *hi = *i1 * W;
    if (*lo + *shift < 0)
        *lo = -*shift < *hi ? -*shift : *hi;
    if (*hi + *shift > H * W)
        *hi = H * W - *shift;
    if (*hi < *lo)
        *hi = *lo;
    /* invalid columns: [0, -off) when off < 0, [W - off, W) when off > 0 (all if |off| >= W) */
    *c0 = off < 0 ? 0 : W - off < 0 ? 0 : W - off;
    *c1 = off < 0 ? (-off < W ? -off : W) : W;
    if (off == 0)
        *c0 = *c1 = 0;
}

/* ---- conv2d ---- */
/* The attribute is what the caller gave: the options (NULL: all defaults) and whether it called
 * a 1-D function (x [N, C, L], w [O, C/groups, K]: the same op with H = 1). conv_resolve
 * validates it against the inputs and resolves it into a plan, for the shape rule and again for
 * forward and backward. */
typedef struct {
    nb_conv_opts opts;
    bool one_d;
} conv_attr;

/* g describes the convolution proper: for conv2d it maps x to y; for conv_transpose2d it maps
 * y-shaped images (out_h x out_w) to x-shaped ones (g.oh x g.ow), and the op is its adjoint. */
typedef struct {
    nbi_window g;
    int64_t groups;
    int64_t out_h, out_w; /* conv_transpose2d: the output size */
} conv_plan;

static nb_status conv_resolve(const nbi_record *r, conv_plan *p);

/* The shape rule of conv2d and conv_transpose2d. */
static nb_status conv_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    conv_plan p;
    const nb_status st = conv_resolve(r, &p);
    if (st != NB_OK)
        return st;
    const nb_tensor *x = r->in[0], *w = r->in[1];
    const bool transposed = r->id == NB_OP_CONV_TRANSPOSE2D;
    *dtype = x->dtype;
    *ndim = x->ndim;
    shape[0] = x->shape[0];
    shape[1] = transposed ? w->shape[1] * p.groups : w->shape[0];
    if (x->ndim == 4)
        shape[2] = transposed ? p.out_h : p.g.oh;
    shape[x->ndim - 1] = transposed ? p.out_w : p.g.ow;
    return NB_OK;
}

/* Geometry of one application, in elements. The batch is processed in chunks of images whose
 * columns fit nbi_conv_col_budget bytes (at least one image per chunk). */
typedef struct {
    nb_dtype dt;
    size_t es;
    int64_t N, C, H, W, O, P, K, G, Og, Kg, chunk;
    nbi_window g;
} conv_geom;

int64_t nbi_conv_col_budget = (int64_t)2 << 20;

/* img: the convolution's input images (x for conv2d, y for conv_transpose2d), [N, C, H, W] or
 * [N, C, L]. */
static conv_geom conv_geometry(const nbi_record *r, const nb_tensor *img)
{
    conv_plan a;
    const nb_status st = conv_resolve(r, &a); /* cannot fail: the shape rule passed */
    NB_ASSERT(st == NB_OK);
    const nb_tensor *w = r->in[1];
    conv_geom q = {.dt = img->dtype, .es = nb_dtype_size(img->dtype), .g = a.g, .G = a.groups};
    q.N = img->shape[0], q.C = img->shape[1], q.W = img->shape[img->ndim - 1];
    q.H = img->ndim == 4 ? img->shape[2] : 1; /* 1-D: [N, C, L] is [N, C, 1, L] */
    q.O = w->shape[0], q.P = a.g.oh * a.g.ow;
    q.Og = q.O / q.G;
    q.Kg = w->shape[1] * a.g.kh * a.g.kw;
    q.K = q.Kg * q.G;
    const int64_t per_image = q.K * q.P * (int64_t)q.es; /* fits: the output was allocated */
    q.chunk = per_image > 0 ? nbi_conv_col_budget / per_image : q.N;
    q.chunk = q.chunk > q.N ? q.N : q.chunk;
    if (q.chunk < 1) /* also for an empty batch */
        q.chunk = 1;
    if (q.N == 0)
        return q;
    /* with threads, at least two chunks per thread where the batch allows (conv_workers) */
    const int64_t nt = nbi_threads_for(q.N * q.P * q.K * q.Og);
    if (nt > 1 && q.chunk > (q.N + 2 * nt - 1) / (2 * nt))
        q.chunk = (q.N + 2 * nt - 1) / (2 * nt);
    /* chunks of (nearly) equal size */
    const int64_t chunks = (q.N + q.chunk - 1) / q.chunk;
    q.chunk = (q.N + chunks - 1) / chunks;
    return q;
}

/* Element offset -> byte pointer. */
#define AT(p, q, elems) ((p) + (size_t)(elems) * (q)->es)

/* ---- weight gradient with few columns per group (Kg <= DW_DIRECT_MAX_K) ----
 * dw_g [Og, Kg] += dt_g [Og, np] @ col_g^T: a tiny result over a very long inner dimension (the
 * first layer of a network: Kg = C*KH*KW with C = 1..3), where BLIS spends its time packing
 * (~20-35 GFLOP/s). Direct dot products instead: two rows o by four columns k at once, sixteen
 * partial sums each, in blocks of DW_BLOCK positions. */
#define DW_DIRECT_MAX_K 32
#define DW_LANES        16
#define DW_BLOCK        2048

#define NB_KERNELS "ops/conv_kernels.h"
#include "nabla/typed.h"

/* Row stride of the chunk matrices col [K, np] and t [O, np]: np rounded up to whole cache lines,
 * and to an odd number of them. With np a multiple of 4 KB (32 x 32 images: P = 1024) every row
 * of a block fell into the same cache sets, and BLIS's small-dimension kernels, which stream
 * the rows of B unpacked, ran at half speed (32 x 1024 x 27: 42 -> 85 GFLOP/s, 32 x 1024 x 288:
 * 64 -> 104 with the rows one line further apart). */
static int64_t col_ld(const conv_geom *q, int64_t np)
{
    const int64_t line = 64 / (int64_t)q->es, ld = (np + line - 1) / line * line;
    return ld / line % 2 ? ld : ld + line;
}

/* Images [n0, n0 + nb) of x into col [K, nb*P], rows ld apart. */
static void conv_im2col(const conv_geom *q, const nb_tensor *x, int64_t n0, int64_t nb, void *col,
                        int64_t ld)
{
    const char *px = AT((const char *)nbi_data(x), q, n0 * q->C * q->H * q->W);
    NB_DISPATCH(q->dt, im2col, px, col, ld, nb, q->C, q->H, q->W, &q->g);
}

/* Per group g: t_g [Og, np] = w_g [Og, Kg] @ col_g [Kg, np] (t and col: rows ld apart). */
static void gemm_forward(const conv_geom *q, const char *w, const char *col, char *t, int64_t np,
                         int64_t ld)
{
    for (int64_t g = 0; g < q->G; g++)
        nbi_gemm(q->dt, q->Og, np, q->Kg, 1.0, AT(w, q, g * q->Og * q->Kg), q->Kg, 1,
                 AT(col, q, g * q->Kg * ld), ld, 1, 0.0, AT(t, q, g * q->Og * ld), ld, 1);
}

/* Per group: dw_g [Og, Kg] += dt_g [Og, np] @ col_g^T [np, Kg]  (inner dimension np). */
static void gemm_dw(const conv_geom *q, const char *t, const char *col, char *dw, int64_t np,
                    int64_t ld)
{
    for (int64_t g = 0; g < q->G; g++)
        nbi_gemm(q->dt, q->Og, q->Kg, np, 1.0, AT(t, q, g * q->Og * ld), ld, 1,
                 AT(col, q, g * q->Kg * ld), 1, ld, 1.0, AT(dw, q, g * q->Og * q->Kg), q->Kg, 1);
}

/* Per group: dcol_g [Kg, np] = w_g^T [Kg, Og] @ dt_g [Og, np]. */
static void gemm_dcol(const conv_geom *q, const char *w, const char *t, char *col, int64_t np,
                      int64_t ld)
{
    for (int64_t g = 0; g < q->G; g++)
        nbi_gemm(q->dt, q->Kg, np, q->Og, 1.0, AT(w, q, g * q->Og * q->Kg), 1, q->Kg,
                 AT(t, q, g * q->Og * ld), ld, 1, 0.0, AT(col, q, g * q->Kg * ld), ld, 1);
}

typedef struct {
    int64_t chunk;  /* images per chunk, as forward sized the buffers */
    int workers;    /* threads that each run whole chunks (1: one chunk after another) */
    void *col;      /* workers x [K, chunk*P]: columns of a chunk (or dcol after a backward) */
    void *t;        /* workers x [O, chunk*P]: yt in forward, dyt in backward (conv2d by
                     * chunks; conv_transpose2d: xt) */
    void *part;     /* workers x ([K*Og] weight gradient + [O] bias gradient partial sums,
                     * [chunk*O] scratch) */
    bool col_valid; /* col holds the columns of the whole batch (one chunk, not overwritten) */
} conv_saved;

/* Workers that each run whole chunks at once, each with its own buffers and with
 * single-threaded kernels and GEMMs inside (a nested OpenMP region runs on one thread): one
 * parallel region per forward or backward instead of several per chunk. 1 when the batch is one
 * chunk or the work is small; the GEMMs then use the threads themselves. */
static int conv_workers(const conv_geom *q)
{
    const int64_t chunks = (q->N + q->chunk - 1) / q->chunk;
    const int64_t nt = nbi_threads_for(q->N * q->P * q->K * q->Og);
    return (int)(nt < chunks ? nt : chunks);
}

/* Images [*n0, *n1) of worker w of `workers`: contiguous ranges whose sizes differ by at most
 * one image, run in chunks of *step images (the last one shorter), *step <= q->chunk. Fixed by
 * the batch and the worker count alone, not by which thread runs the worker or when, so each
 * worker's partial weight and bias gradients, summed in worker order, give the same bits on
 * every run. */
static void worker_images(const conv_geom *q, int workers, int w, int64_t *n0, int64_t *n1,
                          int64_t *step)
{
    *n0 = q->N * w / workers;
    *n1 = q->N * (w + 1) / workers;
    const int64_t m = *n1 - *n0, chunks = (m + q->chunk - 1) / q->chunk;
    *step = chunks > 0 ? (m + chunks - 1) / chunks : 1;
}

/* How backward forms the weight gradient: when Kg >= Og, as its transpose dwt_g [Kg, Og] +=
 * col_g @ dt_g^T, a shape (long inner dimension, a row-major result with at least as many rows
 * as columns) BLIS runs about twice as fast as dw_g = dt_g @ col_g^T itself; with few columns
 * (Kg <= DW_DIRECT_MAX_K) and Kg < Og by direct dot products (dw_direct). */
typedef enum { DW_TRANSPOSED, DW_DIRECT, DW_GEMM } dw_mode;

static dw_mode dw_mode_of(const conv_geom *q)
{
    return q->Kg >= q->Og ? DW_TRANSPOSED : q->Kg <= DW_DIRECT_MAX_K ? DW_DIRECT : DW_GEMM;
}

/* Few columns per group (a first layer: C = 1..3 input channels): each image's products run in
 * place, y_i [O, P] = w @ col_i and dy_i read as it is, with no batch-wide channel-major copies
 * of y and dy, which there cost more than the products (W2's first layer: forward 0.8 -> 0.5
 * ms). With more columns the products dominate, and BLIS runs them faster over the columns of
 * a whole chunk (W2's second layer, P = 196: 4.1 ms per chunk, 4.8 ms per image). */
static bool per_image(const conv_geom *q)
{
    return q->Kg <= DW_DIRECT_MAX_K;
}

/* Elements of one worker's buffer t: by chunk, the channel-major [O, chunk * P] products; per
 * image, with a fused ReLU, backward's masked dy of one image [O, P]; else none. */
static int64_t t_elems(const conv_geom *q, bool relu)
{
    return !per_image(q) ? q->O * col_ld(q, q->chunk * q->P) : relu ? q->O * q->P : 0;
}

/* Forward of images [n0, n0 + nb) with one worker's buffers: by chunk, t = w @ col, then y
 * from t channel-major (+ b); per image i and group g, y_i,g [Og, P] = w_g @ col_g's columns of
 * image i (+ b, filled in first), written in place. A fused ReLU (opts.relu) runs in the pass
 * that writes y, or over each image's y_i while it is still in cache. */
static void conv2d_forward_chunk(const conv_geom *q, const nbi_record *r, int64_t n0, int64_t nb,
                                 void *col, void *t)
{
    const nb_tensor *b = r->n_in > 2 ? r->in[2] : NULL;
    const int64_t np = nb * q->P, ld = col_ld(q, np);
    const char *w = nbi_data(r->in[1]);
    const bool relu = ((const conv_attr *)r->attr)->opts.relu;
    conv_im2col(q, r->in[0], n0, nb, col, ld);
    if (!per_image(q)) {
        gemm_forward(q, w, col, t, np, ld);
        NB_DISPATCH(q->dt, from_channel_major, t, ld,
                    AT((char *)nbi_data(r->out), q, n0 * q->O * q->P), b ? nbi_data(b) : NULL,
                    false, relu, nb, q->O, q->P);
        return;
    }
    for (int64_t i = 0; i < nb; i++) {
        char *y = AT((char *)nbi_data(r->out), q, (n0 + i) * q->O * q->P);
        if (b)
            NB_DISPATCH(q->dt, fill_rows, y, nbi_data(b), q->O, q->P);
        for (int64_t g = 0; g < q->G; g++)
            nbi_gemm(q->dt, q->Og, q->P, q->Kg, 1.0, AT(w, q, g * q->Og * q->Kg), q->Kg, 1,
                     AT((const char *)col, q, g * q->Kg * ld + i * q->P), ld, 1, b ? 1.0 : 0.0,
                     AT(y, q, g * q->Og * q->P), q->P, 1);
        if (relu)
            NB_DISPATCH(q->dt, relu_inplace, y, q->O * q->P);
    }
}

static nb_status conv2d_forward(nbi_record *r)
{
    const nb_tensor *x = r->in[0], *b = r->n_in > 2 ? r->in[2] : NULL;
    nb_tensor *y = r->out;
    const conv_geom q = conv_geometry(r, x);
    if (y->numel == 0)
        return NB_OK;
    if (q.G > 1 && q.G == q.C) {
        NB_DISPATCH(q.dt, depthwise_fwd, nbi_data(x), nbi_data(r->in[1]), b ? nbi_data(b) : NULL,
                    nbi_data(y), q.N, q.C, q.H, q.W, q.Og, &q.g);
        if (((const conv_attr *)r->attr)->opts.relu)
            NB_DISPATCH(q.dt, relu_inplace, nbi_data(y), y->numel);
        return NB_OK;
    }
    const int workers = conv_workers(&q);
    const int64_t col_n = q.K * col_ld(&q, q.chunk * q.P),
                  t_n = t_elems(&q, ((const conv_attr *)r->attr)->opts.relu);
    scratch col, t;
    if (scratch_get(&col, "nb_conv2d", workers, col_n, q.dt) != NB_OK)
        return nb_last_status();
    if (scratch_get(&t, "nb_conv2d", workers, t_n, q.dt) != NB_OK) {
        scratch_release(&col);
        return nb_last_status();
    }
    if (workers > 1) {
        _Pragma("omp parallel for num_threads(workers) schedule(static, 1)") for (int k = 0;
                                                                                  k < workers; k++)
        {
            int64_t n0, n1, step;
            worker_images(&q, workers, k, &n0, &n1, &step);
            for (; n0 < n1; n0 += step)
                conv2d_forward_chunk(&q, r, n0, n1 - n0 < step ? n1 - n0 : step,
                                     AT((char *)col.p, &q, k * col_n),
                                     AT((char *)t.p, &q, k * t_n));
        }
    } else {
        for (int64_t n0 = 0; n0 < q.N; n0 += q.chunk)
            conv2d_forward_chunk(&q, r, n0, q.N - n0 < q.chunk ? q.N - n0 : q.chunk, col.p, t.p);
    }

    bool keep = false;
    for (int i = 0; i < r->n_in; i++)
        keep = keep || r->in[i]->requires_grad;
    keep = keep && nbi_recording();
    conv_saved *saved = keep ? nbi_scratch(sizeof *saved) : NULL;
    if (keep && !saved)
        return nbi_error(NB_ERR_NOMEM, "nb_conv2d: out of memory");
    if (saved) { /* the buffers live in the step arena anyway: backward reuses them */
        *saved = (conv_saved){.chunk = q.chunk,
                              .workers = workers,
                              .col = col.p,
                              .t = t.p,
                              .col_valid = q.chunk == q.N};
        r->saved = saved;
        scratch part;
        if (scratch_get(&part, "nb_conv2d", workers, q.K * q.Og + q.O + q.chunk * q.O, q.dt) !=
            NB_OK)
            return nb_last_status();
        saved->part = part.p;
    } else {
        scratch_release(&col);
        scratch_release(&t);
    }
    return NB_OK;
}

/* Weight gradient over np columns by dw_mode_of, += into dwp ([G, Kg, Og] transposed, else
 * [O, Kg]), from dt [O, np] and col [K, np] with rows ldt and ldc apart. */
static void conv2d_dw(const conv_geom *q, const char *dt, int64_t ldt, const char *col, int64_t ldc,
                      char *dwp, int64_t np)
{
    const int64_t Og = q->Og, Kg = q->Kg;
    for (int64_t g = 0; g < q->G; g++) {
        const char *tg = AT(dt, q, g * Og * ldt), *cg = AT(col, q, g * Kg * ldc);
        switch (dw_mode_of(q)) {
        case DW_TRANSPOSED: /* dwt_g [Kg, Og] += col_g @ dt_g^T */
            nbi_gemm(q->dt, Kg, Og, np, 1.0, cg, ldc, 1, tg, 1, ldt, 1.0, AT(dwp, q, g * Kg * Og),
                     Og, 1);
            break;
        case DW_DIRECT:
            NB_DISPATCH(q->dt, dw_direct, Og, Kg, tg, ldt, cg, ldc, AT(dwp, q, g * Og * Kg), np);
            break;
        case DW_GEMM: /* dw_g [Og, Kg] += dt_g @ col_g^T */
            nbi_gemm(q->dt, Og, Kg, np, 1.0, tg, ldt, 1, cg, 1, ldc, 1.0, AT(dwp, q, g * Og * Kg),
                     Kg, 1);
            break;
        }
    }
}

/* Backward of images [n0, n0 + nb) with one worker's buffers, from dy_all (y's gradient, [N,
 * O, P]; with a fused ReLU and per_image, already masked): db += into dbp, the weight gradient
 * += into dwp (conv2d_dw); dx directly (the chunks' images are disjoint). By chunk, dy is first
 * copied channel-major into t (summing db on the way; masked by mask_all, y, for a fused ReLU,
 * else NULL); per image (per_image), dy_i [O, P] is read in place. rebuild: col does not hold
 * this chunk's columns. */
static void conv2d_backward_chunk(const conv_geom *q, nbi_record *r, const char *dy_all,
                                  const char *mask_all, int64_t n0, int64_t nb, void *col, void *t,
                                  void *dwp, void *dbp, bool rebuild)
{
    nb_tensor *x = r->in[0], *w = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
    const int64_t np = nb * q->P, P = q->P, ld = col_ld(q, np);
    const char *dy = AT(dy_all, q, n0 * q->O * P);
    const char *mask = mask_all ? AT(mask_all, q, n0 * q->O * P) : NULL;
    const bool by_image = per_image(q);
    if (by_image) {
        if (w->grad && rebuild)
            conv_im2col(q, x, n0, nb, col, ld);
        for (int64_t i = 0; i < nb; i++) {
            const char *dyi = AT(dy, q, i * q->O * P);
            if (mask) { /* this image's dy where y > 0, in t */
                NB_DISPATCH(q->dt, relu_mask, dyi, AT(mask, q, i * q->O * P), t, q->O * P);
                dyi = t;
            }
            if (b && b->grad)
                NB_DISPATCH(q->dt, channel_sum, dyi, dbp, 1, q->O, P);
            if (w->grad)
                conv2d_dw(q, dyi, P, AT((const char *)col, q, i * P), ld, dwp, P);
            if (x->grad) /* dcol_g,i [Kg, P] = w_g^T @ dy_i,g, in col (after dw has read it) */
                for (int64_t g = 0; g < q->G; g++)
                    nbi_gemm(q->dt, q->Kg, P, q->Og, 1.0,
                             AT((const char *)nbi_data(w), q, g * q->Og * q->Kg), 1, q->Kg,
                             AT(dyi, q, g * q->Og * P), P, 1, 0.0,
                             AT((char *)col, q, g * q->Kg * ld + i * P), ld, 1);
        }
        if (x->grad)
            NB_DISPATCH(q->dt, col2im, col, ld,
                        AT((char *)nbi_data(x->grad), q, n0 * q->C * q->H * q->W), nb, q->C, q->H,
                        q->W, &q->g);
        return;
    }
    if (b && b->grad) /* dbp is followed by chunk*O elements of scratch */
        NB_DISPATCH(q->dt, to_channel_major_sum, dy, t, ld, nb, q->O, P, mask,
                    AT((char *)dbp, q, q->O), dbp);
    else
        NB_DISPATCH(q->dt, to_channel_major, dy, t, ld, nb, q->O, P, mask);
    if (w->grad) {
        if (rebuild)
            conv_im2col(q, x, n0, nb, col, ld);
        conv2d_dw(q, t, ld, col, ld, dwp, np);
    }
    if (!x->grad)
        return;
    gemm_dcol(q, nbi_data(w), t, col, np, ld);
    NB_DISPATCH(q->dt, col2im, col, ld, AT((char *)nbi_data(x->grad), q, n0 * q->C * q->H * q->W),
                nb, q->C, q->H, q->W, &q->g);
}

static void conv2d_backward(nbi_record *r)
{
    conv_saved *s = r->saved;
    nb_tensor *x = r->in[0], *w = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
    const nb_tensor *y = r->out;
    conv_geom q = conv_geometry(r, x);
    if (y->numel == 0) /* nothing flows */
        return;
    /* A fused ReLU: dy where y > 0. The by-chunk path masks in its channel-major copy and the
     * per-image one each image's dy into t while it is in cache; depthwise reads dy in place, so
     * it gets a masked copy of the batch. */
    const bool relu = ((const conv_attr *)r->attr)->opts.relu, depthwise = q.G > 1 && q.G == q.C;
    const char *dy = nbi_data(y->grad), *mask = NULL;
    bool heap = false;
    void *masked = NULL;
    if (relu && depthwise) {
        masked = nbi_work_alloc("nb_conv2d", (size_t)y->numel * q.es, &heap);
        if (!masked)
            return; /* the error is set: nb_backward reports it */
        NB_DISPATCH(q.dt, relu_mask, dy, nbi_data(y), masked, y->numel);
        dy = masked;
    } else if (relu) {
        mask = nbi_data(y);
    }
    if (depthwise) {
        if (w->grad || (b && b->grad))
            NB_DISPATCH(q.dt, depthwise_dw, nbi_data(x), dy, w->grad ? nbi_data(w->grad) : NULL,
                        b && b->grad ? nbi_data(b->grad) : NULL, q.N, q.C, q.H, q.W, q.Og, &q.g);
        if (x->grad)
            NB_DISPATCH(q.dt, depthwise_dx, dy, nbi_data(w), nbi_data(x->grad), q.N, q.C, q.H, q.W,
                        q.Og, &q.g);
        if (heap)
            nbi_free(masked);
        return;
    }
    q.chunk = s->chunk;
    const int workers = s->workers;
    const int64_t col_n = q.K * col_ld(&q, q.chunk * q.P), t_n = t_elems(&q, relu);
    const int64_t part_n = q.K * q.Og + q.O + q.chunk * q.O;
    memset(s->part, 0, (size_t)(workers * part_n) * q.es);
    if (workers > 1) {
        _Pragma("omp parallel for num_threads(workers) schedule(static, 1)") for (int k = 0;
                                                                                  k < workers; k++)
        {
            int64_t n0, n1, step;
            worker_images(&q, workers, k, &n0, &n1, &step);
            char *part = AT((char *)s->part, &q, k * part_n);
            for (; n0 < n1; n0 += step)
                conv2d_backward_chunk(&q, r, dy, mask, n0, n1 - n0 < step ? n1 - n0 : step,
                                      AT((char *)s->col, &q, k * col_n),
                                      AT((char *)s->t, &q, k * t_n), part, AT(part, &q, q.K * q.Og),
                                      true);
        }
        s->col_valid = false;
    } else {
        bool valid = s->col_valid;
        for (int64_t n0 = 0; n0 < q.N; n0 += q.chunk) {
            const int64_t nb = q.N - n0 < q.chunk ? q.N - n0 : q.chunk;
            conv2d_backward_chunk(&q, r, dy, mask, n0, nb, s->col, s->t, s->part,
                                  AT((char *)s->part, &q, q.K * q.Og), !valid);
            valid = q.chunk == q.N && (valid || w->grad) && !x->grad;
        }
        s->col_valid = valid;
    }
    /* the workers' partial sums into the gradients, in worker order */
    for (int id = 0; id < workers; id++) {
        const char *part = AT((const char *)s->part, &q, id * part_n);
        if (w->grad) {
            if (dw_mode_of(&q) == DW_TRANSPOSED)
                NB_DISPATCH(q.dt, add_transposed, part, nbi_data(w->grad), q.G, q.Og, q.Kg);
            else
                NB_DISPATCH(q.dt, add_run, nbi_data(w->grad), part, q.K * q.Og);
        }
        if (b && b->grad)
            NB_DISPATCH(q.dt, add_run, nbi_data(b->grad), AT(part, &q, q.K * q.Og), q.O);
    }
    if (heap)
        nbi_free(masked);
}

/* Multiply-adds of a convolution: every element of the larger side (conv2d: y, transposed: x)
 * meets w's per-channel kernel (w->numel / w->shape[0]) once; 2 FLOPs each, + 1 per output
 * element for the bias. Backward: the same products for dx and for dw, the bias sum for db. */
static double conv_flops(const nbi_record *r, bool backward, const nb_tensor *big)
{
    const nb_tensor *x = r->in[0], *w = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
    double prod = w->shape[0] ? 2.0 * (double)big->numel * (double)(w->numel / w->shape[0]) : 0;
    double bias = (double)r->out->numel;
    if (!backward)
        return prod + (b ? bias : 0);
    return prod * ((x->grad != NULL) + (w->grad != NULL)) + (b && b->grad ? bias : 0);
}

static double conv2d_flops(const nbi_record *r, bool backward)
{
    return conv_flops(r, backward, r->out);
}

static double conv_transpose2d_flops(const nbi_record *r, bool backward)
{
    return conv_flops(r, backward, r->in[0]);
}

const nbi_op_def nbi_op_conv2d = {
    .name = "conv2d",
    .api = "nb_conv2d",
    .arity = -1, /* x, w and optionally b */
    .flags = NBI_OP_WRITES_ALL,
    .attr_size = sizeof(conv_attr),
    .shape = conv_shape,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .flops = conv2d_flops,
};

/* ---- conv_transpose2d ----
 * The adjoint of conv2d in its input: x [N, Ci, H, W] plays conv2d's dy, y [N, Co, OH, OW] its
 * dx, and w [Ci, Co/G, KH, KW] is the weight of that conv2d (O = Ci, C = Co). So forward is
 * conv2d's data gradient and backward reuses conv2d's forward pieces:
 *   forward   xt [Ci, N*P] = x transposed;  col = w_g^T @ xt_g;  y = col2im(col) + b
 *   backward  col = im2col(dy);  dw_g += xt_g @ col_g^T;  dxt = w_g @ col_g -> dx;  db += sum dy
 * (P = H*W). Forward keeps xt for dw. */

static nb_status conv_transpose2d_forward(nbi_record *r)
{
    const nb_tensor *x = r->in[0], *b = r->n_in > 2 ? r->in[2] : NULL;
    nb_tensor *y = r->out;
    const conv_geom q = conv_geometry(r, y);
    if (y->numel == 0)
        return NB_OK;
    const char *fn = "nb_conv_transpose2d";
    scratch col, t;
    if (scratch_get(&col, fn, q.K, col_ld(&q, q.chunk * q.P), q.dt) != NB_OK)
        return nb_last_status();
    if (scratch_get(&t, fn, q.O, col_ld(&q, q.chunk * q.P), q.dt) != NB_OK) {
        scratch_release(&col);
        return nb_last_status();
    }
    for (int64_t n0 = 0; n0 < q.N; n0 += q.chunk) {
        const int64_t nb = q.N - n0 < q.chunk ? q.N - n0 : q.chunk, ld = col_ld(&q, nb * q.P);
        NB_DISPATCH(q.dt, to_channel_major, AT((const char *)nbi_data(x), &q, n0 * q.O * q.P), t.p,
                    ld, nb, q.O, q.P, NULL);
        gemm_dcol(&q, nbi_data(r->in[1]), t.p, col.p, nb * q.P, ld);
        NB_DISPATCH(q.dt, col2im, col.p, ld, AT((char *)nbi_data(y), &q, n0 * q.C * q.H * q.W), nb,
                    q.C, q.H, q.W, &q.g);
    }
    if (b)
        NB_DISPATCH(q.dt, add_channel_bias, nbi_data(y), nbi_data(b), q.N, q.C, q.H * q.W);

    bool keep = false;
    for (int i = 0; i < r->n_in; i++)
        keep = keep || r->in[i]->requires_grad;
    keep = keep && nbi_recording();
    conv_saved *saved = keep ? nbi_scratch(sizeof *saved) : NULL;
    if (keep && !saved)
        return nbi_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    if (saved) { /* here "valid" means t holds xt for the whole batch */
        *saved =
            (conv_saved){.chunk = q.chunk, .col = col.p, .t = t.p, .col_valid = q.chunk == q.N};
        r->saved = saved;
    } else {
        scratch_release(&col);
        scratch_release(&t);
    }
    return NB_OK;
}

static void conv_transpose2d_backward(nbi_record *r)
{
    conv_saved *s = r->saved;
    nb_tensor *x = r->in[0], *w = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
    const nb_tensor *y = r->out;
    conv_geom q = conv_geometry(r, y);
    if (b && b->grad)
        NB_DISPATCH(q.dt, channel_sum, nbi_data(y->grad), nbi_data(b->grad), q.N, q.C, q.H * q.W);
    if (!s) /* empty batch */
        return;
    q.chunk = s->chunk;
    bool valid = s->col_valid;
    for (int64_t n0 = 0; n0 < q.N; n0 += q.chunk) {
        const int64_t nb = q.N - n0 < q.chunk ? q.N - n0 : q.chunk, np = nb * q.P,
                      ld = col_ld(&q, np);
        conv_im2col(&q, y->grad, n0, nb, s->col, ld);
        if (w->grad) {
            if (!valid)
                NB_DISPATCH(q.dt, to_channel_major,
                            AT((const char *)nbi_data(x), &q, n0 * q.O * q.P), s->t, ld, nb, q.O,
                            q.P, NULL);
            gemm_dw(&q, s->t, s->col, nbi_data(w->grad), np, ld);
        }
        if (x->grad) {
            gemm_forward(&q, nbi_data(w), s->col, s->t, np, ld);
            NB_DISPATCH(q.dt, from_channel_major, s->t, ld,
                        AT((char *)nbi_data(x->grad), &q, n0 * q.O * q.P), NULL, true, false, nb,
                        q.O, q.P);
        }
        valid = q.chunk == q.N && (valid || w->grad) && !x->grad;
    }
    s->col_valid = valid;
}

const nbi_op_def nbi_op_conv_transpose2d = {
    .name = "conv_transpose2d",
    .api = "nb_conv_transpose2d",
    .arity = -1, /* x, w and optionally b */
    .attr_size = sizeof(conv_attr),
    .shape = conv_shape,
    .forward = conv_transpose2d_forward,
    .backward = conv_transpose2d_backward,
    .flops = conv_transpose2d_flops,
};

/* Output size of a transposed convolution along one axis (the input size of the convolution it
 * is the adjoint of), resolving SAME padding; errors name fn and the axis. */
static nb_status transpose_axis(const char *fn, const char *axis, int64_t in, int64_t kernel,
                                int64_t stride, int64_t dilation, nb_padding padding, int64_t *pb,
                                int64_t *pe, int64_t out_pad, int64_t *out)
{
    if (in < 1)
        return nbi_error(NB_ERR_SHAPE, "%s: input %s must be >= 1, got %lld", fn, axis,
                         (long long)in);
    if (out_pad < 0 || (out_pad > 0 && out_pad >= stride && out_pad >= dilation))
        return nbi_error(NB_ERR_VALUE,
                         "%s: output padding (%s) %lld must be >= 0 and smaller than the stride "
                         "(%lld) or the dilation (%lld)",
                         fn, axis, (long long)out_pad, (long long)stride, (long long)dilation);
    if (padding == NB_PAD_SAME && out_pad)
        return nbi_error(NB_ERR_VALUE,
                         "%s: output padding (%s) applies to VALID and EXPLICIT padding only", fn,
                         axis);
    /* Check kernel, stride, dilation and pads the way conv2d does (on a large enough input). */
    int64_t o, span;
    if (window_axis(fn, axis, true, INT32_MAX, kernel, stride, dilation, padding, pb, pe, &o) !=
            NB_OK ||
        !nbi_mul_overflow(dilation, kernel - 1, &span) || !nbi_mul_overflow(in - 1, stride, &o))
        return nbi_error(NB_ERR_VALUE, "%s: sizes out of range (%s): input %lld, kernel %lld", fn,
                         axis, (long long)in, (long long)kernel);
    if (padding == NB_PAD_SAME) { /* TensorFlow: out = in * stride */
        *out = in * stride;
        nb_conv_output_size(*out, kernel, stride, dilation, NB_PAD_SAME, pb, pe);
        return NB_OK;
    }
    if (padding == NB_PAD_VALID)
        *pb = *pe = 0;
    *out = o - *pb - *pe + span + 1 + out_pad;
    if (*out < 1)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: output %s would be %lld: input %lld, kernel %lld, dilation %lld, "
                         "padding %lld+%lld, stride %lld, output padding %lld",
                         fn, axis, (long long)*out, (long long)in, (long long)kernel,
                         (long long)dilation, (long long)*pb, (long long)*pe, (long long)stride,
                         (long long)out_pad);
    return NB_OK;
}

/* Validate a convolution or transposed convolution (by r->id) in the caller's terms, 2-D or 1-D
 * on [N, C, L] (by the attribute), and resolve it into p. */
static nb_status conv_resolve(const nbi_record *r, conv_plan *p)
{
    const conv_attr *at = r->attr;
    const char *fn = r->api;
    const bool one_d = at->one_d, transposed = r->id == NB_OP_CONV_TRANSPOSE2D;
    const nb_conv_opts o = at->opts;
    const nb_tensor *x = r->in[0], *w = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
    NB_ASSERT(r->n_in == 2 || r->n_in == 3);
    const int rank = one_d ? 3 : 4;
    const char *w_form = transposed ? (one_d ? "[C, O/groups, K]" : "[C, O/groups, KH, KW]")
                                    : (one_d ? "[O, C/groups, K]" : "[O, C/groups, KH, KW]");
    if (x->ndim != rank)
        return nbi_error(NB_ERR_SHAPE, "%s: x must be %s, got %s", fn,
                         one_d ? "[N, C, L]" : "[N, C, H, W]", nbi_fmt_shape(x));
    if (w->ndim != rank)
        return nbi_error(NB_ERR_SHAPE, "%s: w must be %s, got %s", fn, w_form, nbi_fmt_shape(w));
    if (o.groups < 0 || o.stride_h < 0 || o.stride_w < 0 || o.dilation_h < 0 || o.dilation_w < 0)
        return nbi_error(
            NB_ERR_VALUE,
            "%s: stride, dilation and groups must be >= 1 (0 = default): stride %lldx%lld, "
            "dilation %lldx%lld, groups %lld",
            fn, (long long)o.stride_h, (long long)o.stride_w, (long long)o.dilation_h,
            (long long)o.dilation_w, (long long)o.groups);
    if (one_d &&
        (o.stride_h > 1 || o.dilation_h > 1 || o.pad_top || o.pad_bottom || o.output_padding_h))
        return nbi_error(
            NB_ERR_VALUE,
            "%s: stride_h, dilation_h, pad_top, pad_bottom and output_padding_h do not "
            "apply to 1-D (use the width / left / right fields): got %lld, %lld, %lld, "
            "%lld, %lld",
            fn, (long long)o.stride_h, (long long)o.dilation_h, (long long)o.pad_top,
            (long long)o.pad_bottom, (long long)o.output_padding_h);
    if (transposed && o.relu)
        return nbi_error(NB_ERR_VALUE,
                         "%s: relu (a fused ReLU) applies to nb_conv2d and nb_conv1d only", fn);
    if (!transposed && (o.output_padding_h || o.output_padding_w))
        return nbi_error(NB_ERR_VALUE,
                         "%s: output_padding applies to transposed convolution only, got %lldx%lld",
                         fn, (long long)o.output_padding_h, (long long)o.output_padding_w);
    /* C: x's channels; O: y's channels; weight [O, C/G, ...] (transposed: [C, O/G, ...]) */
    const int64_t G = o.groups ? o.groups : 1, C = x->shape[1];
    int64_t O = w->shape[0];
    if (transposed && __builtin_mul_overflow(w->shape[1], G, &O))
        return nbi_error(NB_ERR_VALUE,
                         "%s: groups %lld times %lld output channels per group overflows", fn,
                         (long long)G, (long long)w->shape[1]);
    if (C % G || O % G)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: channels must divide by groups: input channels %lld, output channels "
                         "%lld, groups %lld",
                         fn, (long long)C, (long long)O, (long long)G);
    bool zero_dim = O < 1 || C < 1;
    for (int d = 2; d < rank; d++)
        zero_dim = zero_dim || w->shape[d] < 1;
    if ((transposed ? w->shape[0] != C : w->shape[1] != C / G) || zero_dim) {
        if (transposed)
            return nbi_error(
                NB_ERR_SHAPE,
                "%s: w is %s but x %s has %lld channels: w must be [%lld, O/groups, %s] "
                "with O >= 1 and a non-empty kernel",
                fn, nbi_fmt_shape(w), nbi_fmt_shape(x), (long long)C, (long long)C,
                one_d ? "K" : "KH, KW");
        else
            return nbi_error(NB_ERR_SHAPE,
                             "%s: w is %s but x %s has %lld channels in %lld group(s): w must be "
                             "[O, %lld, %s] with O >= 1 and a non-empty kernel",
                             fn, nbi_fmt_shape(w), nbi_fmt_shape(x), (long long)C, (long long)G,
                             (long long)(C / G), one_d ? "K" : "KH, KW");
    }
    if (b && (b->ndim != 1 || b->shape[0] != O))
        return nbi_error(NB_ERR_SHAPE, "%s: b must be [O] = [%lld], got %s", fn, (long long)O,
                         nbi_fmt_shape(b));
    conv_plan a = {.groups = G};
    a.g.kh = one_d ? 1 : w->shape[2];
    a.g.kw = w->shape[rank - 1];
    a.g.sh = o.stride_h ? o.stride_h : 1;
    a.g.sw = o.stride_w ? o.stride_w : 1;
    a.g.dh = o.dilation_h ? o.dilation_h : 1;
    a.g.dw = o.dilation_w ? o.dilation_w : 1;
    const int64_t pads[4] = {o.pad_top, o.pad_bottom, o.pad_left, o.pad_right};
    const int64_t H = one_d ? 1 : x->shape[2], W = x->shape[rank - 1];
    if (!transposed) {
        if (nbi_window_resolve(fn, one_d, true, H, W, o.padding, pads, &a.g) != NB_OK)
            return nb_last_status();
    } else {
        if (o.padding != NB_PAD_VALID && o.padding != NB_PAD_SAME && o.padding != NB_PAD_EXPLICIT)
            return nbi_error(NB_ERR_VALUE,
                             "%s: unknown padding mode %d (NB_PAD_VALID, NB_PAD_SAME or "
                             "NB_PAD_EXPLICIT)",
                             fn, (int)o.padding);
        a.g.pt = pads[0], a.g.pb = pads[1], a.g.pl = pads[2], a.g.pr = pads[3];
        if (transpose_axis(fn, "height", H, a.g.kh, a.g.sh, a.g.dh, o.padding, &a.g.pt, &a.g.pb,
                           o.output_padding_h, &a.out_h) != NB_OK ||
            transpose_axis(fn, one_d ? "length" : "width", W, a.g.kw, a.g.sw, a.g.dw, o.padding,
                           &a.g.pl, &a.g.pr, o.output_padding_w, &a.out_w) != NB_OK)
            return nb_last_status();
        a.g.oh = H, a.g.ow = W;
    }
    *p = a;
    return NB_OK;
}

/* The public functions: the options as given (resolved by the shape rule) and which one was
 * called; the front door checks x, w and b (NULL, live, one float dtype) in these terms. */
static const char *const conv_inputs[] = {"x", "w", "b", NULL};

static nb_tensor *conv(nb_op_id id, const char *fn, bool one_d, nb_tensor *x, nb_tensor *w,
                       nb_tensor *b, const nb_conv_opts *opts)
{
    const conv_attr a = {.opts = opts ? *opts : (nb_conv_opts){0}, .one_d = one_d};
    return nbi_apply_as(id, fn, conv_inputs, b ? 3 : 2, (nb_tensor *[]){x, w, b}, &a);
}

nb_tensor *nb_conv2d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts)
{
    return conv(NB_OP_CONV2D, "nb_conv2d", false, x, w, b, opts);
}

nb_tensor *nb_conv1d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts)
{
    return conv(NB_OP_CONV2D, "nb_conv1d", true, x, w, b, opts);
}

nb_tensor *nb_conv_transpose2d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts)
{
    return conv(NB_OP_CONV_TRANSPOSE2D, "nb_conv_transpose2d", false, x, w, b, opts);
}

nb_tensor *nb_conv_transpose1d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts)
{
    return conv(NB_OP_CONV_TRANSPOSE2D, "nb_conv_transpose1d", true, x, w, b, opts);
}
