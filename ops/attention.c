/* ops/attention.c — scaled dot-product attention as one op, with a forward and backward that
 * never hold the [T, S] weights: tiled online softmax, recomputed in backward.
 *
 *   q [B, H, T, d], k [B, H, S, d], v [B, H, S, e], optional mask broadcastable to [B, H, T, S]
 *   s = scale * q k^T + mask (additive) or -inf where a boolean mask is 0 or causal excludes
 *   p = softmax_j(s), dropout on p (keep with probability 1 - p_drop, scaled by 1 / (1 - p_drop))
 *   y = p v                                                              [B, H, T, e]
 *
 * Forward walks query blocks of BQ rows against key blocks of BK rows: a block of scores is one
 * GEMM, the running maximum m and sum l of every row are updated (online softmax) and the
 * output accumulator rescaled, then acc += p_blk v_blk is a second GEMM. Only the row log-sum-exp
 * L = m + log l (T values per head) is kept for backward, which recomputes each block of p from
 * q, k and L: memory grows with T * d, not T^2. Backward per block (D_i = dy_i . y_i):
 *   dv += p_drop^T dy,  dp = (dy v^T) * keep / (1 - p_drop),  ds = p * (dp - D),
 *   dq += scale * ds k,  dk += scale * ds^T q.
 * Dropout draws no stored mask: keep(b, h, i, j) is a hash of a per-call seed and the position,
 * so backward regenerates it. Heads run in parallel (each writes only its own dq, dk, dv rows,
 * so results do not depend on the thread count); the GEMMs inside run on their thread. A row
 * that every key is masked out of gets y = 0 and no gradient (PyTorch returns NaN there). */
#include "ops/op_def.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "ops/drop_rule.h"
#include "ops/vmath.h"

/* Blocks of 32 query rows against 128 keys: W8's heads (T = S = 128, d = 32, causal) ran
 * forward + backward in 4.55 ms per layer against 5.46 with 64 x 64 and 6.8 with 128 x 128 (one
 * thread, Zen 4): short query blocks skip most of the causal triangle's empty half, long key
 * blocks make fewer, larger products and fewer rescalings of the running sums. */
#define BQ 32
#define BK 128

typedef struct {
    double scale; /* resolved: opts.scale or 1 / sqrt(d) */
    bool causal, mask_is_bool, has_mask;
    bool heads_last; /* q, k, v and y are [B, T, H, *] instead of [B, H, T, *] */
    double dropout;
    uint64_t seed; /* drawn from opts.rng at the call */
} sdpa_attr;

/* Element (b, h, i, j) of the mask, through strides that broadcast it to [B, H, T, S]. */
typedef struct {
    const void *data;
    int64_t s[4];
} mask_view;

static mask_view mask_of(const nb_tensor *m)
{
    mask_view mv = {.data = nbi_data(m)};
    for (int d = 0; d < 4; d++) {
        int md = d - (4 - m->ndim);
        mv.s[d] = md >= 0 && m->shape[md] > 1 ? m->strides[md] : 0;
    }
    return mv;
}

/* Whether dropout keeps weight (bh, i, j), its flat index in [B, H, T, S] (ops/drop_rule.h): the
 * same answer in forward and backward, and nb_dropout's on the composition's weights. */
static inline bool keep_at(uint64_t seed, int64_t bh, int64_t i, int64_t j, int64_t T, int64_t S,
                           uint64_t threshold)
{
    uint64_t idx = ((uint64_t)bh * (uint64_t)T + (uint64_t)i) * (uint64_t)S + (uint64_t)j;
    return nbi_drop_keep(seed, idx, threshold);
}

static nb_status sdpa_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const char *fn = "nb_scaled_dot_product_attention";
    const nb_tensor *q = r->in[0], *k = r->in[1], *v = r->in[2];
    const sdpa_attr *a = r->attr;
    const int td = a->heads_last ? 1 : 2, hd = 3 - td; /* the dims of T (or S) and of H */
    const char *want = a->heads_last ? "[B, T, H, d], [B, S, H, d], [B, S, H, e]"
                                     : "[B, H, T, d], [B, H, S, d], [B, H, S, e]";
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return nbi_error(NB_ERR_SHAPE, "%s: q, k and v must be %s: q is %s, k is %s, v is %s", fn,
                         want, nbi_fmt_shape(q), nbi_fmt_shape(k), nbi_fmt_shape(v));
    if (k->shape[0] != q->shape[0] || v->shape[0] != q->shape[0] || k->shape[hd] != q->shape[hd] ||
        v->shape[hd] != q->shape[hd] || k->shape[3] != q->shape[3] || v->shape[td] != k->shape[td])
        return nbi_error(NB_ERR_SHAPE,
                         "%s: q, k and v must be %s with one B, H, d and S: q is %s, k is %s, v "
                         "is %s",
                         fn, want, nbi_fmt_shape(q), nbi_fmt_shape(k), nbi_fmt_shape(v));
    if (a->has_mask) {
        const nb_tensor *m = r->in[3];
        const int64_t want_m[4] = {q->shape[0], q->shape[hd], q->shape[td], k->shape[td]};
        bool ok = m->ndim <= 4;
        for (int d = 0; ok && d < m->ndim; d++) {
            int64_t md = m->shape[d], wd = want_m[d + 4 - m->ndim];
            ok = md == 1 || md == wd;
        }
        if (!ok) {
            char b[160];
            return nbi_error(NB_ERR_SHAPE, "%s: mask %s does not broadcast to [B, H, T, S] = %s",
                             fn, nbi_fmt_shape(m), nbi_shape_str(4, want_m, b, sizeof b));
        }
    }
    if (!(a->scale > 0) || !isfinite(a->scale))
        return nbi_error(NB_ERR_VALUE, "%s: scale must be finite and > 0, got %g", fn, a->scale);
    if (!(a->dropout >= 0 && a->dropout < 1))
        return nbi_error(NB_ERR_VALUE, "%s: dropout must be in [0, 1), got %g", fn, a->dropout);
    *dtype = q->dtype;
    *ndim = 4;
    shape[0] = q->shape[0], shape[1] = q->shape[1], shape[2] = q->shape[2];
    shape[3] = v->shape[3];
    return NB_OK;
}

/* Everything one head's blocks need. */
typedef struct {
    nb_dtype dt;
    int64_t Tq, S, d, e, H; /* Tq: the query length T */
    int td, hd;             /* the dims of T (or S) and of H in q, k, v and y */
    const nb_tensor *q, *k, *v;
    const sdpa_attr *a;
    mask_view mask;
    uint64_t threshold; /* dropout: keep when hash >= threshold */
    double inv_keep;
    double exp_floor; /* -80: sdpa_weight's clamp, read at run time (see there) */
} sdpa_ctx;

static sdpa_ctx ctx_of(const nbi_record *r)
{
    const sdpa_attr *a = r->attr;
    const int td = a->heads_last ? 1 : 2, hd = 3 - td;
    sdpa_ctx c = {.dt = r->out->dtype,
                  .Tq = r->in[0]->shape[td],
                  .S = r->in[1]->shape[td],
                  .d = r->in[0]->shape[3],
                  .e = r->in[2]->shape[3],
                  .H = r->in[0]->shape[hd],
                  .td = td,
                  .hd = hd,
                  .q = r->in[0],
                  .k = r->in[1],
                  .v = r->in[2],
                  .a = a};
    if (a->has_mask)
        c.mask = mask_of(r->in[3]);
    c.threshold = nbi_drop_threshold(a->dropout);
    c.inv_keep = 1.0 / (1.0 - a->dropout);
    c.exp_floor = -80;
    return c;
}

/* Pointer to row i of head (b, h) of input t (any strides); its rows are row_stride(c, t)
 * elements apart, its columns t->strides[3]. */
static const char *head_row(const sdpa_ctx *c, const nb_tensor *t, int64_t b, int64_t h, int64_t i)
{
    return (const char *)nbi_data(t) +
           (size_t)(b * t->strides[0] + h * t->strides[c->hd] + i * t->strides[c->td]) *
               nb_dtype_size(t->dtype);
}

static int64_t row_stride(const sdpa_ctx *c, const nb_tensor *t)
{
    return t->strides[c->td];
}

/* Offset (elements) of row i of head (b, h) in a dense tensor of the layout with len rows per
 * head and rows of n (the output, and the gradients of y, q, k, v); its rows are dense_rs apart. */
static int64_t dense_row(const sdpa_ctx *c, int64_t b, int64_t h, int64_t i, int64_t len, int64_t n)
{
    return c->td == 1 ? ((b * len + i) * c->H + h) * n : ((b * c->H + h) * len + i) * n;
}

static int64_t dense_rs(const sdpa_ctx *c, int64_t n)
{
    return c->td == 1 ? c->H * n : n;
}

/* A softmax weight exp(x) from a score less the row's maximum or log-sum-exp (x <= 0, -inf
 * where masked out), in the element type: expf for float, exp for double, both libmvec's vector
 * variants in an `omp simd` loop (ops/vmath.h). Exactly 0 at -inf, exp(max(x, lo)) elsewhere,
 * lo = -80 (NaN stays NaN): the clamp keeps every lane of the vector exp in its fast range
 * (libmvec redoes a whole vector with scalar calls when one lane underflows, as every masked
 * score did). Below -80 a weight is under 2e-35 where the row's weights sum to 1 (or its running
 * sum is at least 1), so the clamp changes nothing a float or a double can show. lo comes from
 * the context, not a literal: with a constant GCC rewrites exp(x < lo ? lo : x) as
 * x < lo ? exp(lo) : exp(x), which calls exp on the unclamped lanes again. */
static inline float sdpa_weight_f32(float x, float lo)
{
    const float e = expf(x < lo ? lo : x);
    return x == -INFINITY ? 0.0f : e;
}
static inline double sdpa_weight_f64(double x, double lo)
{
    const double e = exp(x < lo ? lo : x);
    return x == -INFINITY ? 0.0 : e;
}
#define SDPA_WEIGHT(x, lo) _Generic((x), float : sdpa_weight_f32, default : sdpa_weight_f64)(x, lo)

/* One worker's buffers for a head's blocks (one layout serves forward and backward): */
typedef struct {
    double *acc;           /* BQ x e: forward's output rows, accumulated */
    double *m, *l, *D;     /* BQ each: forward's row maxima and sums; backward's rows of dy . y */
    void *s, *pb, *g, *ds; /* BQ x BK each, in T: scores then weights; the weights after dropout;
                            backward's dy v^T and the scores' gradient */
    void *pv;              /* BQ x e, in T: forward's weights @ v */
} sdpa_work;

/* The buffers in base (NULL: only their size), each on a 64-byte boundary; returns the bytes. */
static size_t work_layout(const sdpa_ctx *c, char *base, sdpa_work *w)
{
    const size_t es = nb_dtype_size(c->dt), block = (size_t)(BQ * BK) * es;
    size_t at = 0;
#define WORK_TAKE(field, type, bytes)                                                              \
    do {                                                                                           \
        if (base)                                                                                  \
            w->field = (type *)(base + at);                                                        \
        at += ((bytes) + 63) / 64 * 64;                                                            \
    } while (0)
    WORK_TAKE(acc, double, (size_t)(BQ * c->e) * sizeof(double));
    WORK_TAKE(m, double, BQ * sizeof(double));
    WORK_TAKE(l, double, BQ * sizeof(double));
    WORK_TAKE(D, double, BQ * sizeof(double));
    WORK_TAKE(s, void, block);
    WORK_TAKE(pb, void, block);
    WORK_TAKE(g, void, block);
    WORK_TAKE(ds, void, block);
    WORK_TAKE(pv, void, (size_t)(BQ * c->e) * es);
#undef WORK_TAKE
    return at;
}

#define NB_KERNELS "ops/attention_kernels.h"
#include "nabla/typed.h"

static size_t work_bytes(const sdpa_ctx *c)
{
    return work_layout(c, NULL, NULL);
}

/* The buffer of the worker that runs heads [lo, hi) of n (NBI_PARALLEL_RANGE): its thread in the
 * region, which has at most as many threads as buffers; 0 for the whole range, run on the
 * calling thread without a region (that thread may belong to an enclosing region, whose thread
 * number says nothing about these buffers). */
static int worker_of(int64_t lo, int64_t hi, int64_t n)
{
    return lo == 0 && hi == n ? 0 : omp_get_thread_num();
}

static nb_status sdpa_forward(nbi_record *r)
{
    const sdpa_ctx c = ctx_of(r);
    const int64_t B = r->out->shape[0], BH = B * c.H;
    /* ops always run in a step (the private one outside the caller's), so L lives in an arena */
    double *L = nbi_scratch((size_t)(BH * c.Tq) * sizeof *L + 1);
    if (!L)
        return nbi_error(NB_ERR_NOMEM, "nb_scaled_dot_product_attention: out of memory");
    r->saved = L;
    const int nt = BH > 1 ? nbi_threads_for(BH * c.Tq * c.S * (c.d + c.e)) : 1;
    const size_t wb = work_bytes(&c);
    bool heap;
    char *work = nbi_work_alloc("nb_scaled_dot_product_attention", wb * (size_t)nt, &heap);
    if (!work)
        return NB_ERR_NOMEM;
    NBI_PARALLEL_RANGE(BH, nt, lo, hi, {
        char *mine = work + (size_t)worker_of(lo, hi, BH) * wb;
        for (int64_t p = lo; p < hi; p++)
            NB_DISPATCH(c.dt, sdpa_head_fwd, &c, p / c.H, p % c.H, r->out, L + p * c.Tq, mine);
    });
    if (heap)
        nbi_free(work);
    return NB_OK;
}

static void sdpa_backward(nbi_record *r)
{
    const sdpa_ctx c = ctx_of(r);
    const int64_t BH = r->out->shape[0] * c.H;
    nb_tensor *dq = r->in[0]->grad ? r->in[0] : NULL, *dk = r->in[1]->grad ? r->in[1] : NULL;
    nb_tensor *dv = r->in[2]->grad ? r->in[2] : NULL;
    const int nt = BH > 1 ? nbi_threads_for(BH * c.Tq * c.S * (c.d + c.e)) : 1;
    const size_t wb = work_bytes(&c);
    bool heap;
    char *work = nbi_work_alloc("nb_scaled_dot_product_attention", wb * (size_t)nt, &heap);
    if (!work)
        return; /* the error is set: nb_backward reports it */
    NBI_PARALLEL_RANGE(BH, nt, lo, hi, {
        char *mine = work + (size_t)worker_of(lo, hi, BH) * wb;
        for (int64_t p = lo; p < hi; p++)
            NB_DISPATCH(c.dt, sdpa_head_bwd, &c, p / c.H, p % c.H, r->out,
                        (const double *)r->saved + p * c.Tq, dq, dk, dv, mine);
    });
    if (heap)
        nbi_free(work);
}

const nbi_op_def nbi_op_sdpa = {
    .name = "scaled_dot_product_attention",
    .api = "nb_scaled_dot_product_attention",
    .arity = -1,
    .flags = NBI_OP_STRIDED | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(sdpa_attr),
    .shape = sdpa_shape,
    .forward = sdpa_forward,
    .backward = sdpa_backward,
};

nb_tensor *nb_scaled_dot_product_attention(nb_tensor *q, nb_tensor *k, nb_tensor *v,
                                           nb_tensor *mask, const nb_sdpa_opts *opts)
{
    const nb_sdpa_opts o = opts ? *opts : (nb_sdpa_opts){0};
    sdpa_attr a = {.causal = o.causal,
                   .mask_is_bool = o.mask_is_bool,
                   .has_mask = mask != NULL,
                   .heads_last = o.heads_last,
                   .dropout = o.dropout};
    if (o.dropout != 0 && !o.rng) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "nb_scaled_dot_product_attention: dropout %g needs opts.rng",
                      o.dropout);
        return NULL;
    }
    a.seed = o.dropout > 0 ? nb_rng_u64(o.rng) : 0;
    const int64_t d = q && q->ndim == 4 ? q->shape[3] : 1;
    a.scale = o.scale != 0 ? o.scale : 1.0 / sqrt((double)(d > 0 ? d : 1));
    nb_tensor *in[4] = {q, k, v, mask};
    return nbi_apply(NB_OP_SDPA, mask ? 4 : 3, in, &a);
}

/* The same attention composed of ops (the [T, S] weights are materialised): the reference the
 * fused op is checked against, and the path to read the weights themselves. */
static nb_tensor *sdpa_composed(nb_tensor *q, nb_tensor *k, nb_tensor *v, nb_tensor *mask,
                                const nb_sdpa_opts *o, double scale)
{
    nb_tensor *s = nb_mul_scalar(nb_matmul(q, nb_transpose(k, 2, 3)), scale);
    if (mask && o->mask_is_bool) /* 0 -> -inf: log of the 0/1 mask */
        s = nb_add(s, nb_log(mask));
    else if (mask)
        s = nb_add(s, mask);
    if (s && o->causal) {
        const int64_t T = q->shape[2], S = k->shape[2];
        nb_tensor *c = nbi_tensor_alloc("nb_sdpa_composed", s->dtype, 2, (const int64_t[]){T, S});
        for (int64_t i = 0; c && i < T; i++)
            for (int64_t j = i + 1; j < S; j++)
                nb_tensor_set(c, i * S + j, -INFINITY);
        s = nb_add(s, c);
    }
    nb_tensor *p = nb_softmax(s, -1);
    if (p && o->dropout > 0)
        p = nb_dropout(p, o->dropout, o->rng);
    return nb_matmul(p, v);
}

/* heads_last: the default layout's composition on permuted views, its result permuted back */
static nb_tensor *heads_last_composed(nb_tensor *q, nb_tensor *k, nb_tensor *v, nb_tensor *mask,
                                      const nb_sdpa_opts *o, double scale)
{
    const int perm[4] = {0, 2, 1, 3};
    return nb_permute(sdpa_composed(nb_permute(q, perm), nb_permute(k, perm), nb_permute(v, perm),
                                    mask, o, scale),
                      perm);
}

nb_tensor *nb_sdpa_composed(nb_tensor *q, nb_tensor *k, nb_tensor *v, nb_tensor *mask,
                            const nb_sdpa_opts *opts)
{
    const nb_sdpa_opts o = opts ? *opts : (nb_sdpa_opts){0};
    if (!q || !k || !v) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "nb_sdpa_composed: q, k and v must not be NULL");
        return NULL;
    }
    if (q->ndim != 4 || k->ndim != 4) {
        nbi_error(NB_ERR_SHAPE, "nb_sdpa_composed: q and k must be 4-D, got %s and %s",
                  nbi_fmt_shape(q), nbi_fmt_shape(k));
        return NULL;
    }
    const double scale =
        o.scale != 0 ? o.scale : 1.0 / sqrt((double)(q->shape[3] ? q->shape[3] : 1));
    if (!o.heads_last)
        NBI_RETURN_SCOPED(sdpa_composed(q, k, v, mask, &o, scale));
    NBI_RETURN_SCOPED(heads_last_composed(q, k, v, mask, &o, scale));
}
