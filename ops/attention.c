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

#define BQ 64
#define BK 64

typedef struct {
    double scale; /* resolved: opts.scale or 1 / sqrt(d) */
    bool causal, mask_is_bool, has_mask;
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

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Whether dropout keeps weight (bh, i, j): the same answer in forward and backward. */
static inline bool keep_at(uint64_t seed, int64_t bh, int64_t i, int64_t j, int64_t T, int64_t S,
                           uint64_t threshold)
{
    uint64_t idx = ((uint64_t)bh * (uint64_t)T + (uint64_t)i) * (uint64_t)S + (uint64_t)j;
    return mix64(seed + 0x9e3779b97f4a7c15ULL * (idx + 1)) >= threshold;
}

static nb_status sdpa_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const char *fn = "nb_scaled_dot_product_attention";
    const nb_tensor *q = r->in[0], *k = r->in[1], *v = r->in[2];
    const sdpa_attr *a = r->attr;
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: q, k and v must be [B, H, T, d], [B, H, S, d], [B, H, S, e]: q is "
                         "%s, k is %s, v is %s",
                         fn, nbi_fmt_shape(q), nbi_fmt_shape(k), nbi_fmt_shape(v));
    if (k->shape[0] != q->shape[0] || v->shape[0] != q->shape[0] || k->shape[1] != q->shape[1] ||
        v->shape[1] != q->shape[1] || k->shape[3] != q->shape[3] || v->shape[2] != k->shape[2])
        return nbi_error(NB_ERR_SHAPE,
                         "%s: q, k and v must be [B, H, T, d], [B, H, S, d], [B, H, S, e] with "
                         "one B, H, d and S: q is %s, k is %s, v is %s",
                         fn, nbi_fmt_shape(q), nbi_fmt_shape(k), nbi_fmt_shape(v));
    if (a->has_mask) {
        const nb_tensor *m = r->in[3];
        const int64_t want[4] = {q->shape[0], q->shape[1], q->shape[2], k->shape[2]};
        bool ok = m->ndim <= 4;
        for (int d = 0; ok && d < m->ndim; d++) {
            int64_t md = m->shape[d], wd = want[d + 4 - m->ndim];
            ok = md == 1 || md == wd;
        }
        if (!ok) {
            char b[160];
            return nbi_error(NB_ERR_SHAPE, "%s: mask %s does not broadcast to [B, H, T, S] = %s",
                             fn, nbi_fmt_shape(m), nbi_shape_str(4, want, b, sizeof b));
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
    int64_t T, S, d, e, H;
    const nb_tensor *q, *k, *v;
    const sdpa_attr *a;
    mask_view mask;
    uint64_t threshold; /* dropout: keep when hash >= threshold */
    double inv_keep;
} sdpa_ctx;

static sdpa_ctx ctx_of(const nbi_record *r)
{
    const sdpa_attr *a = r->attr;
    sdpa_ctx c = {.dt = r->out->dtype,
                  .T = r->in[0]->shape[2],
                  .S = r->in[1]->shape[2],
                  .d = r->in[0]->shape[3],
                  .e = r->in[2]->shape[3],
                  .H = r->in[0]->shape[1],
                  .q = r->in[0],
                  .k = r->in[1],
                  .v = r->in[2],
                  .a = a};
    if (a->has_mask)
        c.mask = mask_of(r->in[3]);
    c.threshold = (uint64_t)(a->dropout * 18446744073709551616.0);
    if (a->dropout > 0 && c.threshold == 0)
        c.threshold = 1;
    c.inv_keep = 1.0 / (1.0 - a->dropout);
    return c;
}

/* Pointer to row i of head (b, h) of t, in elements, and t's row / column strides. */
static const char *head_row(const nb_tensor *t, int64_t b, int64_t h, int64_t i)
{
    return (const char *)nbi_data(t) +
           (size_t)(b * t->strides[0] + h * t->strides[1] + i * t->strides[2]) *
               nb_dtype_size(t->dtype);
}

/* Scores of a block into s (nq x nk, row stride BK, as double): scale * q k^T + mask, -inf where
 * masked out. sbuf is the GEMM's output in the tensor dtype. */
NBI_TYPED(block_scores,
          (const sdpa_ctx *c, int64_t b, int64_t h, int64_t i0, int64_t nq, int64_t j0, int64_t nk,
           void *sbuf, double *s),
          {
              T *g = sbuf;
              nbi_gemm(c->dt, nq, nk, c->d, c->a->scale, head_row(c->q, b, h, i0), c->q->strides[2],
                       c->q->strides[3], head_row(c->k, b, h, j0), c->k->strides[3],
                       c->k->strides[2], 0.0, g, BK, 1);
              for (int64_t r = 0; r < nq; r++) {
                  const int64_t i = i0 + r;
                  for (int64_t t = 0; t < nk; t++) {
                      const int64_t j = j0 + t;
                      double x = (double)g[r * BK + t];
                      if (c->a->causal && j > i)
                          x = -INFINITY;
                      else if (c->a->has_mask) {
                          const T *m = c->mask.data;
                          double mv = (double)m[b * c->mask.s[0] + h * c->mask.s[1] +
                                                i * c->mask.s[2] + j * c->mask.s[3]];
                          if (c->a->mask_is_bool)
                              x = mv != 0 ? x : -INFINITY;
                          else
                              x += mv;
                      }
                      s[r * BK + t] = x;
                  }
              }
          })

/* Forward of head (b, h): y rows and the row log-sum-exp L (+inf for a fully masked row). */
NBI_TYPED(sdpa_head_fwd,
          (const sdpa_ctx *c, int64_t b, int64_t h, nb_tensor *y, double *L, void *work), {
              double *s = work;                         /* BQ x BK scores, then weights */
              double *acc = s + BQ * BK;                /* BQ x e */
              double *m = acc + BQ * c->e, *l = m + BQ; /* BQ each */
              T *g = (T *)(l + BQ);                     /* BQ x BK GEMM buffer */
              T *pv = g + BQ * BK;                      /* BQ x e product */
              T *pb = pv + BQ * c->e;                   /* BQ x BK weights in T */
              const int64_t bh = b * c->H + h;
              for (int64_t i0 = 0; i0 < c->T; i0 += BQ) {
                  const int64_t nq = c->T - i0 < BQ ? c->T - i0 : BQ;
                  for (int64_t r = 0; r < nq; r++)
                      m[r] = -INFINITY, l[r] = 0;
                  memset(acc, 0, (size_t)(nq * c->e) * sizeof *acc);
                  const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
                  for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
                      const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
                      NBI_DISPATCH(c->dt, block_scores, c, b, h, i0, nq, j0, nk, g, s);
                      for (int64_t r = 0; r < nq; r++) {
                          double mx = m[r];
                          for (int64_t t = 0; t < nk; t++)
                              mx = s[r * BK + t] > mx ? s[r * BK + t] : mx;
                          if (mx == -INFINITY) { /* nothing visible yet in this row */
                              for (int64_t t = 0; t < nk; t++)
                                  pb[r * BK + t] = 0;
                              continue;
                          }
                          const double corr = exp(m[r] - mx);
                          l[r] *= corr;
                          for (int64_t cc = 0; cc < c->e; cc++)
                              acc[r * c->e + cc] *= corr;
                          m[r] = mx;
                          for (int64_t t = 0; t < nk; t++) {
                              double p = exp(s[r * BK + t] - mx);
                              l[r] += p;
                              if (c->a->dropout > 0)
                                  p = keep_at(c->a->seed, bh, i0 + r, j0 + t, c->T, c->S,
                                              c->threshold)
                                          ? p * c->inv_keep
                                          : 0.0;
                              pb[r * BK + t] = (T)p;
                          }
                      }
                      /* pv = p_blk [nq, nk] @ v_blk [nk, e] */
                      nbi_gemm(c->dt, nq, c->e, nk, 1.0, pb, BK, 1, head_row(c->v, b, h, j0),
                               c->v->strides[2], c->v->strides[3], 0.0, pv, c->e, 1);
                      for (int64_t r = 0; r < nq * c->e; r++)
                          acc[r] += (double)pv[r];
                  }
                  T *yr = (T *)nbi_data(y) + ((b * c->H + h) * c->T + i0) * c->e;
                  for (int64_t r = 0; r < nq; r++) {
                      const bool dead = l[r] == 0;
                      L[i0 + r] = dead ? INFINITY : m[r] + log(l[r]);
                      for (int64_t cc = 0; cc < c->e; cc++)
                          yr[r * c->e + cc] = dead ? (T)0 : (T)(acc[r * c->e + cc] / l[r]);
                  }
              }
          })

static size_t work_bytes(const sdpa_ctx *c)
{
    const size_t es = nb_dtype_size(c->dt);
    return (size_t)(2 * BQ * BK + BQ * c->e + 2 * BQ) * sizeof(double) +
           (size_t)(3 * BQ * BK + 2 * BQ * c->e + BK * c->e + BK * c->d + BQ * c->d) * es + 64;
}

static nb_status sdpa_forward(nbi_record *r)
{
    const sdpa_ctx c = ctx_of(r);
    const int64_t B = r->out->shape[0], BH = B * c.H;
    /* ops always run in a step (the private one outside the caller's), so L lives in an arena */
    double *L = nbi_scratch((size_t)(BH * c.T) * sizeof *L + 1);
    if (!L)
        return nbi_error(NB_ERR_NOMEM, "nb_scaled_dot_product_attention: out of memory");
    r->saved = L;
    const int nt = BH > 1 ? nbi_threads_for(BH * c.T * c.S * (c.d + c.e)) : 1;
    const size_t wb = work_bytes(&c);
    bool heap;
    char *work = nbi_work_alloc("nb_scaled_dot_product_attention", wb * (size_t)nt, &heap);
    if (!work)
        return NB_ERR_NOMEM;
    _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)") for (int64_t p = 0;
                                                                                  p < BH; p++)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        NBI_DISPATCH(c.dt, sdpa_head_fwd, &c, p / c.H, p % c.H, r->out, L + p * c.T,
                     work + (size_t)tid * wb);
    }
    if (heap)
        nbi_free(work);
    return NB_OK;
}

/* Backward of head (b, h): accumulates dq, dk, dv rows of this head (grads may be NULL). */
NBI_TYPED(
    sdpa_head_bwd,
    (const sdpa_ctx *c, int64_t b, int64_t h, const nb_tensor *y, const double *L, nb_tensor *dq,
     nb_tensor *dk, nb_tensor *dv, void *work),
    {
        double *s = work;                      /* BQ x BK scores -> p */
        double *ds = s + BQ * BK;              /* BQ x BK */
        double *D = ds + BQ * BK;              /* BQ */
        T *g = (T *)(D + BQ + BQ * c->e + BQ); /* BQ x BK GEMM buffer */
        T *pb = g + BQ * BK;                   /* p with dropout, in T */
        T *dsb = pb + BQ * BK;                 /* ds in T */
        const int64_t bh = b * c->H + h;
        const size_t head_y = (size_t)(bh * c->T);
        const T *yv = (const T *)nbi_data(y) + head_y * (size_t)c->e;
        const T *dy = (const T *)nbi_data(y->grad) + head_y * (size_t)c->e;
        T *dqh = dq ? (T *)nbi_data(dq->grad) + head_y * (size_t)c->d : NULL;
        T *dkh = dk ? (T *)nbi_data(dk->grad) + (size_t)(bh * c->S * c->d) : NULL;
        T *dvh = dv ? (T *)nbi_data(dv->grad) + (size_t)(bh * c->S * c->e) : NULL;
        for (int64_t i0 = 0; i0 < c->T; i0 += BQ) {
            const int64_t nq = c->T - i0 < BQ ? c->T - i0 : BQ;
            for (int64_t r = 0; r < nq; r++) {
                double acc = 0;
                for (int64_t cc = 0; cc < c->e; cc++)
                    acc += (double)dy[(i0 + r) * c->e + cc] * (double)yv[(i0 + r) * c->e + cc];
                D[r] = acc;
            }
            const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
            for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
                const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
                NBI_DISPATCH(c->dt, block_scores, c, b, h, i0, nq, j0, nk, g, s);
                for (int64_t r = 0; r < nq; r++) {
                    const double Li = L[i0 + r];
                    for (int64_t t = 0; t < nk; t++) {
                        double p = Li == INFINITY ? 0.0 : exp(s[r * BK + t] - Li);
                        s[r * BK + t] = p;
                        bool keep = c->a->dropout == 0 || keep_at(c->a->seed, bh, i0 + r, j0 + t,
                                                                  c->T, c->S, c->threshold);
                        pb[r * BK + t] = (T)(keep ? p * c->inv_keep : 0.0);
                    }
                }
                if (dvh) /* dv_blk [nk, e] += p_drop^T [nk, nq] @ dy_blk [nq, e] */
                    nbi_gemm(c->dt, nk, c->e, nq, 1.0, pb, 1, BK, dy + i0 * c->e, c->e, 1, 1.0,
                             dvh + j0 * c->e, c->e, 1);
                if (!dqh && !dkh)
                    continue;
                /* g = dy_blk [nq, e] @ v_blk^T [e, nk] */
                nbi_gemm(c->dt, nq, nk, c->e, 1.0, dy + i0 * c->e, c->e, 1,
                         head_row(c->v, b, h, j0), c->v->strides[3], c->v->strides[2], 0.0, g, BK,
                         1);
                for (int64_t r = 0; r < nq; r++)
                    for (int64_t t = 0; t < nk; t++) {
                        const double p = s[r * BK + t];
                        double dp = (double)g[r * BK + t];
                        if (c->a->dropout > 0)
                            dp = keep_at(c->a->seed, bh, i0 + r, j0 + t, c->T, c->S, c->threshold)
                                     ? dp * c->inv_keep
                                     : 0.0;
                        dsb[r * BK + t] = (T)(p * (dp - D[r]));
                    }
                if (dqh) /* dq_blk [nq, d] += scale * ds [nq, nk] @ k_blk [nk, d] */
                    nbi_gemm(c->dt, nq, c->d, nk, c->a->scale, dsb, BK, 1, head_row(c->k, b, h, j0),
                             c->k->strides[2], c->k->strides[3], 1.0, dqh + i0 * c->d, c->d, 1);
                if (dkh) /* dk_blk [nk, d] += scale * ds^T [nk, nq] @ q_blk [nq, d] */
                    nbi_gemm(c->dt, nk, c->d, nq, c->a->scale, dsb, 1, BK, head_row(c->q, b, h, i0),
                             c->q->strides[2], c->q->strides[3], 1.0, dkh + j0 * c->d, c->d, 1);
            }
        }
    })

static void sdpa_backward(nbi_record *r)
{
    const sdpa_ctx c = ctx_of(r);
    const int64_t BH = r->out->shape[0] * c.H;
    nb_tensor *dq = r->in[0]->grad ? r->in[0] : NULL, *dk = r->in[1]->grad ? r->in[1] : NULL;
    nb_tensor *dv = r->in[2]->grad ? r->in[2] : NULL;
    const int nt = BH > 1 ? nbi_threads_for(BH * c.T * c.S * (c.d + c.e)) : 1;
    const size_t wb = work_bytes(&c);
    bool heap;
    char *work = nbi_work_alloc("nb_scaled_dot_product_attention", wb * (size_t)nt, &heap);
    if (!work)
        return; /* the error is set: nb_backward reports it */
    _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)") for (int64_t p = 0;
                                                                                  p < BH; p++)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        NBI_DISPATCH(c.dt, sdpa_head_bwd, &c, p / c.H, p % c.H, r->out,
                     (const double *)r->saved + p * c.T, dq, dk, dv, work + (size_t)tid * wb);
    }
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
    NBI_RETURN_SCOPED(sdpa_composed(q, k, v, mask, &o, scale));
}
