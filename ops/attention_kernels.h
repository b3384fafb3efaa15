/* ops/attention_kernels.h — block scores and the per-head forward and backward.
 * Written once over the element type T and included twice by attention.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* Scores of a block into s (nq x nk, row stride BK, as double): scale * q k^T + mask, -inf where
 * masked out. sbuf is the GEMM's output in the tensor dtype. */
static void NB_FN(block_scores)(const sdpa_ctx *c, int64_t b, int64_t h, int64_t i0, int64_t nq,
                                int64_t j0, int64_t nk, void *sbuf, double *s)
{
    T *g = sbuf;
    nbi_gemm(c->dt, nq, nk, c->d, c->a->scale, head_row(c->q, b, h, i0), c->q->strides[2],
             c->q->strides[3], head_row(c->k, b, h, j0), c->k->strides[3], c->k->strides[2], 0.0, g,
             BK, 1);
    for (int64_t r = 0; r < nq; r++) {
        const int64_t i = i0 + r;
        for (int64_t t = 0; t < nk; t++) {
            const int64_t j = j0 + t;
            double x = (double)g[r * BK + t];
            if (c->a->causal && j > i)
                x = -INFINITY;
            else if (c->a->has_mask) {
                const T *m = c->mask.data;
                double mv = (double)
                    m[b * c->mask.s[0] + h * c->mask.s[1] + i * c->mask.s[2] + j * c->mask.s[3]];
                if (c->a->mask_is_bool)
                    x = mv != 0 ? x : -INFINITY;
                else
                    x += mv;
            }
            s[r * BK + t] = x;
        }
    }
}

/* Row i's weights p[0..nk) of key columns j0.. into out in T, with dropout when it is on: kept
 * weights scaled by 1 / (1 - p), the others 0. */
static void NB_FN(weights_out)(const sdpa_ctx *c, int64_t bh, int64_t i, int64_t j0, int64_t nk,
                               const double *p, T *out)
{
    if (c->a->dropout > 0)
        for (int64_t t = 0; t < nk; t++)
            out[t] = keep_at(c->a->seed, bh, i, j0 + t, c->Tq, c->S, c->threshold)
                         ? (T)(p[t] * c->inv_keep)
                         : (T)0;
    else
        for (int64_t t = 0; t < nk; t++)
            out[t] = (T)p[t];
}

/* Forward of head (b, h): y rows and the row log-sum-exp L (+inf for a fully masked row). */
static void NB_FN(sdpa_head_fwd)(const sdpa_ctx *c, int64_t b, int64_t h, nb_tensor *y, double *L,
                                 void *work)
{
    double *s = work;                         /* BQ x BK scores, then weights */
    double *acc = s + BQ * BK;                /* BQ x e */
    double *m = acc + BQ * c->e, *l = m + BQ; /* BQ each */
    T *g = (T *)(l + BQ);                     /* BQ x BK GEMM buffer */
    T *pv = g + BQ * BK;                      /* BQ x e product */
    T *pb = pv + BQ * c->e;                   /* BQ x BK weights in T */
    const int64_t bh = b * c->H + h;
    for (int64_t i0 = 0; i0 < c->Tq; i0 += BQ) {
        const int64_t nq = c->Tq - i0 < BQ ? c->Tq - i0 : BQ;
        for (int64_t r = 0; r < nq; r++)
            m[r] = -INFINITY, l[r] = 0;
        memset(acc, 0, (size_t)(nq * c->e) * sizeof *acc);
        const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
        for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
            const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
            NB_FN(block_scores)(c, b, h, i0, nq, j0, nk, g, s);
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
                /* the weights, in a loop that vectorises (libmvec's exp); dropout after */
                double *sr = s + r * BK, lsum = 0;
#pragma omp simd reduction(+ : lsum)
                for (int64_t t = 0; t < nk; t++) {
                    const double p = exp(sr[t] - mx);
                    sr[t] = p;
                    lsum += p;
                }
                l[r] += lsum;
                NB_FN(weights_out)(c, bh, i0 + r, j0, nk, sr, pb + r * BK);
            }
            /* pv = p_blk [nq, nk] @ v_blk [nk, e] */
            nbi_gemm(c->dt, nq, c->e, nk, 1.0, pb, BK, 1, head_row(c->v, b, h, j0),
                     c->v->strides[2], c->v->strides[3], 0.0, pv, c->e, 1);
            for (int64_t r = 0; r < nq * c->e; r++)
                acc[r] += (double)pv[r];
        }
        T *yr = (T *)nbi_data(y) + ((b * c->H + h) * c->Tq + i0) * c->e;
        for (int64_t r = 0; r < nq; r++) {
            const bool dead = l[r] == 0;
            L[i0 + r] = dead ? INFINITY : m[r] + log(l[r]);
            for (int64_t cc = 0; cc < c->e; cc++)
                yr[r * c->e + cc] = dead ? (T)0 : (T)(acc[r * c->e + cc] / l[r]);
        }
    }
}

/* Backward of head (b, h): accumulates dq, dk, dv rows of this head (grads may be NULL). */
static void NB_FN(sdpa_head_bwd)(const sdpa_ctx *c, int64_t b, int64_t h, const nb_tensor *y,
                                 const double *L, nb_tensor *dq, nb_tensor *dk, nb_tensor *dv,
                                 void *work)
{
    double *s = work;                      /* BQ x BK scores -> p */
    double *ds = s + BQ * BK;              /* BQ x BK */
    double *D = ds + BQ * BK;              /* BQ */
    T *g = (T *)(D + BQ + BQ * c->e + BQ); /* BQ x BK GEMM buffer */
    T *pb = g + BQ * BK;                   /* p with dropout, in T */
    T *dsb = pb + BQ * BK;                 /* ds in T */
    const int64_t bh = b * c->H + h;
    const size_t head_y = (size_t)(bh * c->Tq);
    const T *yv = (const T *)nbi_data(y) + head_y * (size_t)c->e;
    const T *dy = (const T *)nbi_data(y->grad) + head_y * (size_t)c->e;
    T *dqh = dq ? (T *)nbi_data(dq->grad) + head_y * (size_t)c->d : NULL;
    T *dkh = dk ? (T *)nbi_data(dk->grad) + (size_t)(bh * c->S * c->d) : NULL;
    T *dvh = dv ? (T *)nbi_data(dv->grad) + (size_t)(bh * c->S * c->e) : NULL;
    for (int64_t i0 = 0; i0 < c->Tq; i0 += BQ) {
        const int64_t nq = c->Tq - i0 < BQ ? c->Tq - i0 : BQ;
        for (int64_t r = 0; r < nq; r++) {
            double acc = 0;
            for (int64_t cc = 0; cc < c->e; cc++)
                acc += (double)dy[(i0 + r) * c->e + cc] * (double)yv[(i0 + r) * c->e + cc];
            D[r] = acc;
        }
        const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
        for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
            const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
            NB_FN(block_scores)(c, b, h, i0, nq, j0, nk, g, s);
            for (int64_t r = 0; r < nq; r++) {
                const double Li = L[i0 + r];
                double *sr = s + r * BK;
                if (Li == INFINITY) /* a fully masked row: no weights */
                    for (int64_t t = 0; t < nk; t++)
                        sr[t] = 0;
                else
#pragma omp simd
                    for (int64_t t = 0; t < nk; t++)
                        sr[t] = exp(sr[t] - Li);
                NB_FN(weights_out)(c, bh, i0 + r, j0, nk, sr, pb + r * BK);
            }
            if (dvh) /* dv_blk [nk, e] += p_drop^T [nk, nq] @ dy_blk [nq, e] */
                nbi_gemm(c->dt, nk, c->e, nq, 1.0, pb, 1, BK, dy + i0 * c->e, c->e, 1, 1.0,
                         dvh + j0 * c->e, c->e, 1);
            if (!dqh && !dkh)
                continue;
            /* g = dy_blk [nq, e] @ v_blk^T [e, nk] */
            nbi_gemm(c->dt, nq, nk, c->e, 1.0, dy + i0 * c->e, c->e, 1, head_row(c->v, b, h, j0),
                     c->v->strides[3], c->v->strides[2], 0.0, g, BK, 1);
            for (int64_t r = 0; r < nq; r++)
                for (int64_t t = 0; t < nk; t++) {
                    const double p = s[r * BK + t];
                    double dp = (double)g[r * BK + t];
                    if (c->a->dropout > 0)
                        dp = keep_at(c->a->seed, bh, i0 + r, j0 + t, c->Tq, c->S, c->threshold)
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
}
