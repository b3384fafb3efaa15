/* ops/attention_kernels.h — block scores and the per-head forward and backward.
 * Written once over the element type T and included twice by attention.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* Scores of a block into s (nq x nk, row stride BK, in T): scale * q k^T + mask, -inf where
 * masked out. The softmax that follows runs in T as well (float: libmvec's vector expf); the
 * row maxima, sums and output accumulators are kept in double. */
static void NB_FN(block_scores)(const sdpa_ctx *c, int64_t b, int64_t h, int64_t i0, int64_t nq,
                                int64_t j0, int64_t nk, T *s)
{
    nbi_gemm(c->dt, nq, nk, c->d, c->a->scale, head_row(c, c->q, b, h, i0), row_stride(c, c->q),
             c->q->strides[3], head_row(c, c->k, b, h, j0), c->k->strides[3], row_stride(c, c->k),
             0.0, s, BK, 1);
    if (!c->a->causal && !c->a->has_mask)
        return;
    for (int64_t r = 0; r < nq; r++) {
        const int64_t i = i0 + r;
        T *sr = s + r * BK;
        /* keys past the query are out under the causal flag; the mask applies to the rest */
        const int64_t seen = !c->a->causal     ? nk
                             : i - j0 + 1 < 0  ? 0
                             : i - j0 + 1 < nk ? i - j0 + 1
                                               : nk;
        for (int64_t t = seen; t < nk; t++)
            sr[t] = (T)-INFINITY;
        if (!c->a->has_mask)
            continue;
        const T *m =
            (const T *)c->mask.data + b * c->mask.s[0] + h * c->mask.s[1] + i * c->mask.s[2];
        for (int64_t t = 0; t < seen; t++) {
            const T mv = m[(j0 + t) * c->mask.s[3]];
            if (c->a->mask_is_bool)
                sr[t] = mv != 0 ? sr[t] : (T)-INFINITY;
            else
                sr[t] += mv;
        }
    }
}

/* Row i's weights p[0..nk) of key columns j0.. into out with dropout: kept weights scaled by
 * 1 / (1 - p), the others 0. Without dropout the GEMMs read the weights where they are. */
static void NB_FN(weights_out)(const sdpa_ctx *c, int64_t bh, int64_t i, int64_t j0, int64_t nk,
                               const T *p, T *out)
{
    for (int64_t t = 0; t < nk; t++)
        out[t] = keep_at(c->a->seed, bh, i, j0 + t, c->Tq, c->S, c->threshold)
                     ? (T)(p[t] * c->inv_keep)
                     : (T)0;
}

/* Forward of head (b, h): y rows and the row log-sum-exp L (+inf for a fully masked row). */
static void NB_FN(sdpa_head_fwd)(const sdpa_ctx *c, int64_t b, int64_t h, nb_tensor *y, double *L,
                                 void *work)
{
    sdpa_work w;
    work_layout(c, work, &w);
    T *s = w.s, *pb = w.pb, *pv = w.pv;
    double *acc = w.acc, *m = w.m, *l = w.l;
    const bool drop = c->a->dropout > 0;
    const T lo = (T)c->exp_floor;
    const int64_t bh = b * c->H + h;
    for (int64_t i0 = 0; i0 < c->Tq; i0 += BQ) {
        const int64_t nq = c->Tq - i0 < BQ ? c->Tq - i0 : BQ;
        for (int64_t r = 0; r < nq; r++)
            m[r] = -INFINITY, l[r] = 0;
        memset(acc, 0, (size_t)(nq * c->e) * sizeof *acc);
        const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
        for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
            const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
            NB_FN(block_scores)(c, b, h, i0, nq, j0, nk, s);
            for (int64_t r = 0; r < nq; r++) {
                T *sr = s + r * BK, bmx = (T)-INFINITY;
#pragma omp simd reduction(max : bmx)
                for (int64_t t = 0; t < nk; t++)
                    bmx = sr[t] > bmx ? sr[t] : bmx;
                const double mx = (double)bmx > m[r] ? (double)bmx : m[r];
                if (mx == -INFINITY) { /* nothing visible yet in this row */
                    for (int64_t t = 0; t < nk; t++)
                        sr[t] = 0;
                } else {
                    const double corr = exp(m[r] - mx);
                    l[r] *= corr;
                    for (int64_t cc = 0; cc < c->e; cc++)
                        acc[r * c->e + cc] *= corr;
                    m[r] = mx;
                    const T mxt = (T)mx; /* a score, so exact in T */
                    T lsum = 0;
#pragma omp simd reduction(+ : lsum)
                    for (int64_t t = 0; t < nk; t++) {
                        const T p = SDPA_WEIGHT(sr[t] - mxt, lo);
                        sr[t] = p;
                        lsum += p;
                    }
                    l[r] += (double)lsum;
                }
                if (drop)
                    NB_FN(weights_out)(c, bh, i0 + r, j0, nk, sr, pb + r * BK);
            }
            /* pv = p_blk [nq, nk] @ v_blk [nk, e] */
            nbi_gemm(c->dt, nq, c->e, nk, 1.0, drop ? pb : s, BK, 1, head_row(c, c->v, b, h, j0),
                     row_stride(c, c->v), c->v->strides[3], 0.0, pv, c->e, 1);
            for (int64_t r = 0; r < nq * c->e; r++)
                acc[r] += (double)pv[r];
        }
        T *yr = (T *)nbi_data(y) + dense_row(c, b, h, i0, c->Tq, c->e);
        const int64_t yrs = dense_rs(c, c->e);
        for (int64_t r = 0; r < nq; r++) {
            const bool dead = l[r] == 0;
            L[i0 + r] = dead ? INFINITY : m[r] + log(l[r]);
            for (int64_t cc = 0; cc < c->e; cc++)
                yr[r * yrs + cc] = dead ? (T)0 : (T)(acc[r * c->e + cc] / l[r]);
        }
    }
}

/* Backward of head (b, h): accumulates dq, dk, dv rows of this head (grads may be NULL). */
static void NB_FN(sdpa_head_bwd)(const sdpa_ctx *c, int64_t b, int64_t h, const nb_tensor *y,
                                 const double *L, nb_tensor *dq, nb_tensor *dk, nb_tensor *dv,
                                 void *work)
{
    sdpa_work w;
    work_layout(c, work, &w);
    T *s = w.s, *pb = w.pb, *g = w.g, *dsb = w.ds;
    double *D = w.D;
    const bool drop = c->a->dropout > 0;
    const T lo = (T)c->exp_floor;
    const int64_t bh = b * c->H + h;
    /* y, dy and the input gradients are dense in the layout: rows ys, qs, ks apart */
    const int64_t ys = dense_rs(c, c->e), qs = dense_rs(c, c->d), vs = ys;
    const T *yv = (const T *)nbi_data(y) + dense_row(c, b, h, 0, c->Tq, c->e);
    const T *dy = (const T *)nbi_data(y->grad) + dense_row(c, b, h, 0, c->Tq, c->e);
    T *dqh = dq ? (T *)nbi_data(dq->grad) + dense_row(c, b, h, 0, c->Tq, c->d) : NULL;
    T *dkh = dk ? (T *)nbi_data(dk->grad) + dense_row(c, b, h, 0, c->S, c->d) : NULL;
    T *dvh = dv ? (T *)nbi_data(dv->grad) + dense_row(c, b, h, 0, c->S, c->e) : NULL;
    for (int64_t i0 = 0; i0 < c->Tq; i0 += BQ) {
        const int64_t nq = c->Tq - i0 < BQ ? c->Tq - i0 : BQ;
        for (int64_t r = 0; r < nq; r++) {
            double acc = 0;
            for (int64_t cc = 0; cc < c->e; cc++)
                acc += (double)dy[(i0 + r) * ys + cc] * (double)yv[(i0 + r) * ys + cc];
            D[r] = acc;
        }
        const int64_t j_end = c->a->causal && i0 + nq < c->S ? i0 + nq : c->S;
        for (int64_t j0 = 0; j0 < j_end; j0 += BK) {
            const int64_t nk = j_end - j0 < BK ? j_end - j0 : BK;
            NB_FN(block_scores)(c, b, h, i0, nq, j0, nk, s);
            for (int64_t r = 0; r < nq; r++) {
                const double Li = L[i0 + r];
                T *sr = s + r * BK;
                if (Li == INFINITY) { /* a fully masked row: no weights */
                    for (int64_t t = 0; t < nk; t++)
                        sr[t] = 0;
                } else {
                    const T lt = (T)Li;
#pragma omp simd
                    for (int64_t t = 0; t < nk; t++)
                        sr[t] = SDPA_WEIGHT(sr[t] - lt, lo);
                }
                if (drop)
                    NB_FN(weights_out)(c, bh, i0 + r, j0, nk, sr, pb + r * BK);
            }
            if (dvh) /* dv_blk [nk, e] += p_drop^T [nk, nq] @ dy_blk [nq, e] */
                nbi_gemm(c->dt, nk, c->e, nq, 1.0, drop ? pb : s, 1, BK, dy + i0 * ys, ys, 1, 1.0,
                         dvh + j0 * vs, vs, 1);
            if (!dqh && !dkh)
                continue;
            /* g = dy_blk [nq, e] @ v_blk^T [e, nk] */
            nbi_gemm(c->dt, nq, nk, c->e, 1.0, dy + i0 * ys, ys, 1, head_row(c, c->v, b, h, j0),
                     c->v->strides[3], row_stride(c, c->v), 0.0, g, BK, 1);
            for (int64_t r = 0; r < nq; r++) {
                const T *pr = s + r * BK, *gr = g + r * BK, dr = (T)D[r];
                T *ds = dsb + r * BK;
                if (drop)
                    for (int64_t t = 0; t < nk; t++) {
                        const T dp =
                            keep_at(c->a->seed, bh, i0 + r, j0 + t, c->Tq, c->S, c->threshold)
                                ? (T)(gr[t] * c->inv_keep)
                                : (T)0;
                        ds[t] = pr[t] * (dp - dr);
                    }
                else
#pragma omp simd
                    for (int64_t t = 0; t < nk; t++)
                        ds[t] = pr[t] * (gr[t] - dr);
            }
            if (dqh) /* dq_blk [nq, d] += scale * ds [nq, nk] @ k_blk [nk, d] */
                nbi_gemm(c->dt, nq, c->d, nk, c->a->scale, dsb, BK, 1, head_row(c, c->k, b, h, j0),
                         row_stride(c, c->k), c->k->strides[3], 1.0, dqh + i0 * qs, qs, 1);
            if (dkh) /* dk_blk [nk, d] += scale * ds^T [nk, nq] @ q_blk [nq, d] */
                nbi_gemm(c->dt, nk, c->d, nq, c->a->scale, dsb, 1, BK, head_row(c, c->q, b, h, i0),
                         row_stride(c, c->q), c->q->strides[3], 1.0, dkh + j0 * qs, qs, 1);
        }
    }
}
