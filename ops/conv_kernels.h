/* ops/conv_kernels.h — im2col, col2im, layout changes, depthwise and bias loops.
 * Written once over the element type T and included twice by conv.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* d [n] += s [n] (a helper: GCC vectorises it here but not inside the OpenMP regions). */
static void NB_FN(add_run)(void *dv, const void *sv, int64_t n)
{
    T *d = dv;
    const T *s = sv;
    for (int64_t i = 0; i < n; i++)
        d[i] += s[i];
}

/* col [C*KH*KW, N*OH*OW] (rows ld apart) from x [N, C, H, W]: row (c, u, v), column (n, i, j) holds
 * x[n, c, i*sh - pt + u*dh, j*sw - pl + v*dw], or 0 in the padding. */
static void NB_FN(im2col)(const void *xv, void *colv, int64_t ld, int64_t N, int64_t C, int64_t H,
                          int64_t W, const nbi_window *g)
{
    const T *x = xv;
    T *col = colv;
    const int64_t OH = g->oh, OW = g->ow, P = OH * OW, NP = N * P;
    const bool run = slab_contiguous(g, W);
    const int nt = nbi_threads_for(C * g->kh * g->kw * NP);
    NBI_PARALLEL_RANGE(
        N * C, nt, nc0, nc1, for (int64_t nc = nc0; nc < nc1; nc++) {
            const int64_t n = nc / C, c = nc % C;
            const T *src = x + nc * H * W;
            for (int64_t u = 0; u < g->kh; u++) {
                int64_t i0, i1;
                nbi_window_span(OH, H, g->sh, u * g->dh - g->pt, &i0, &i1);
                for (int64_t v = 0; v < g->kw; v++) {
                    T *dst = col + ((c * g->kh + u) * g->kw + v) * ld + n * P;
                    if (run) {
                        int64_t shift, lo, hi, c0, c1;
                        slab_run(g, H, W, u, v, &i0, &i1, &shift, &lo, &hi, &c0, &c1);
                        memset(dst, 0, (size_t)lo * sizeof(T));
                        memcpy(dst + lo, src + lo + shift, (size_t)(hi - lo) * sizeof(T));
                        memset(dst + hi, 0, (size_t)(P - hi) * sizeof(T));
                        for (int64_t i = i0; i < i1; i++)
                            for (int64_t j = c0; j < c1; j++)
                                dst[i * W + j] = 0;
                        continue;
                    }
                    int64_t j0, j1;
                    const int64_t off = v * g->dw - g->pl;
                    nbi_window_span(OW, W, g->sw, off, &j0, &j1);
                    memset(dst, 0, (size_t)(i0 * OW) * sizeof(T));
                    for (int64_t i = i0; i < i1; i++) {
                        T *d = dst + i * OW;
                        const T *s = src + (i * g->sh + u * g->dh - g->pt) * W; /* input row */
                        for (int64_t j = 0; j < j0; j++)
                            d[j] = 0;
                        if (g->sw == 1)
                            memcpy(d + j0, s + j0 + off, (size_t)(j1 - j0) * sizeof(T));
                        else
                            for (int64_t j = j0; j < j1; j++)
                                d[j] = s[j * g->sw + off];
                        for (int64_t j = j1; j < OW; j++)
                            d[j] = 0;
                    }
                    memset(dst + i1 * OW, 0, (size_t)((OH - i1) * OW) * sizeof(T));
                }
            }
        });
}

/* dx [N, C, H, W] += col2im(dcol): the adjoint of im2col (taps in the padding are dropped).
 * Clobbers the padding taps of col (set to -0.0, which adds nothing: x + -0.0 == x for every x)
 * on the contiguous path, so that each tap is one run of additions. */
static void NB_FN(col2im)(void *colv, int64_t ld, void *dxv, int64_t N, int64_t C, int64_t H,
                          int64_t W, const nbi_window *g)
{
    T *col = colv;
    T *dx = dxv;
    const int64_t OH = g->oh, OW = g->ow, P = OH * OW, NP = N * P;
    const bool run = slab_contiguous(g, W);
    const int nt = nbi_threads_for(C * g->kh * g->kw * NP);
    NBI_PARALLEL_RANGE(
        N * C, nt, nc0, nc1, for (int64_t nc = nc0; nc < nc1; nc++) {
            const int64_t n = nc / C, c = nc % C;
            T *dst = dx + nc * H * W;
            for (int64_t u = 0; u < g->kh; u++) {
                int64_t i0, i1;
                nbi_window_span(OH, H, g->sh, u * g->dh - g->pt, &i0, &i1);
                for (int64_t v = 0; v < g->kw; v++) {
                    T *src = col + ((c * g->kh + u) * g->kw + v) * ld + n * P;
                    if (run) {
                        int64_t shift, lo, hi, c0, c1;
                        slab_run(g, H, W, u, v, &i0, &i1, &shift, &lo, &hi, &c0, &c1);
                        for (int64_t i = i0; i < i1; i++)
                            for (int64_t j = c0; j < c1; j++)
                                src[i * W + j] = (T)-0.0;
                        NB_FN(add_run)(dst + lo + shift, src + lo, hi - lo);
                        continue;
                    }
                    int64_t j0, j1;
                    const int64_t off = v * g->dw - g->pl;
                    nbi_window_span(OW, W, g->sw, off, &j0, &j1);
                    for (int64_t i = i0; i < i1; i++) {
                        const T *s = src + i * OW;
                        T *d = dst + (i * g->sh + u * g->dh - g->pt) * W; /* input row */
                        if (g->sw == 1)
                            for (int64_t j = j0; j < j1; j++)
                                d[j + off] += s[j];
                        else
                            for (int64_t j = j0; j < j1; j++)
                                d[j * g->sw + off] += s[j];
                    }
                }
            }
        });
}

/* dst [C, N*P] (rows ld apart) = src [N, C, P] (channel-major copy of a batch); with mask
 * [N, C, P] (a fused ReLU's output, or NULL), src times (mask > 0): nb_relu's backward, which
 * keeps a NaN of src.
 * (The masks are products, not conditional reads: GCC 12 vectorises a `m > 0 ? s : 0` over
 * two vectors per iteration with the first vector's mask on the second's load.) */
static void NB_FN(to_channel_major)(const void *srcv, void *dstv, int64_t ld, int64_t N, int64_t C,
                                    int64_t P, const void *maskv)
{
    const T *src = srcv, *mask = maskv;
    T *dst = dstv;
    const int nt = nbi_threads_for(N * C * P);
    NBI_PARALLEL_RANGE(
        N * C, nt, lo, hi, for (int64_t nc = lo; nc < hi; nc++) {
            T *d = dst + (nc % C) * ld + nc / C * P;
            if (!mask) {
                memcpy(d, src + nc * P, (size_t)P * sizeof(T));
                continue;
            }
            const T *s = src + nc * P, *m = mask + nc * P;
            for (int64_t p = 0; p < P; p++)
                d[p] = s[p] * (m[p] > 0 ? (T)1 : (T)0);
        });
}

/* d [n] = s [n] times (m [n] > 0) (m NULL: s [n]); *sum = the sum of d (sixteen partial sums,
 * so the loop vectorises). */
static void NB_FN(copy_sum_row)(const void *sv, void *dv, int64_t n, const void *mv, void *sumv)
{
    const T *src = sv, *m = mv;
    T *dst = dv, acc[16] = {0}, rest = 0;
    int64_t i = 0;
    if (m) {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) {
                const T v = src[i + l] * (m[i + l] > 0 ? (T)1 : (T)0);
                dst[i + l] = v;
                acc[l] += v;
            }
        for (; i < n; i++) {
            dst[i] = src[i] * (m[i] > 0 ? (T)1 : (T)0);
            rest += dst[i];
        }
    } else {
        for (; i + 16 <= n; i += 16)
            for (int l = 0; l < 16; l++) {
                dst[i + l] = src[i + l];
                acc[l] += src[i + l];
            }
        for (; i < n; i++) {
            dst[i] = src[i];
            rest += src[i];
        }
    }
    for (int l = 0; l < 16; l++)
        rest += acc[l];
    *(T *)sumv = rest;
}

/* to_channel_major (masked likewise), and db [C] += the sum of what it wrote over n and p (the
 * bias gradient, from the copy's own pass over src). psum: [N*C] scratch for the per-plane
 * sums. */
static void NB_FN(to_channel_major_sum)(const void *srcv, void *dstv, int64_t ld, int64_t N,
                                        int64_t C, int64_t P, const void *maskv, void *psumv,
                                        void *dbv)
{
    const T *src = srcv, *mask = maskv;
    T *dst = dstv, *psum = psumv, *db = dbv;
    const int nt = nbi_threads_for(N * C * P);
    NBI_PARALLEL_RANGE(N * C, nt, lo, hi,
                       for (int64_t nc = lo; nc < hi; nc++)
                           NB_FN(copy_sum_row)(src + nc * P, dst + (nc % C) * ld + nc / C * P, P,
                                               mask ? mask + nc * P : NULL, psum + nc););
    for (int64_t c = 0; c < C; c++) {
        T s = 0;
        for (int64_t n = 0; n < N; n++)
            s += psum[n * C + c];
        db[c] += s;
    }
}

/* dst [N, C, P] (= or +=) src [C, N*P] (rows ld apart) + bias [C] (bias may be NULL); relu
 * (with = only): max(., 0) of that, NaN kept as nb_relu keeps it. */
static void NB_FN(from_channel_major)(const void *srcv, int64_t ld, void *dstv, const void *biasv,
                                      bool accumulate, bool relu, int64_t N, int64_t C, int64_t P)
{
    const T *src = srcv, *bias = biasv;
    T *dst = dstv;
    const int nt = nbi_threads_for(N * C * P);
    NBI_PARALLEL_RANGE(
        N * C, nt, lo, hi, for (int64_t nc = lo; nc < hi; nc++) {
            const T *s = src + (nc % C) * ld + nc / C * P;
            T *d = dst + nc * P;
            const T b = bias ? bias[nc % C] : 0;
            if (accumulate)
                for (int64_t p = 0; p < P; p++)
                    d[p] += s[p] + b;
            else if (relu)
                for (int64_t p = 0; p < P; p++) {
                    const T v = s[p] + b;
                    d[p] = v <= 0 ? 0 : v;
                }
            else
                for (int64_t p = 0; p < P; p++)
                    d[p] = s[p] + b;
        });
}

/* y [n] = max(y [n], 0) in place, NaN kept (nb_relu's rule): a fused ReLU after the products. */
static void NB_FN(relu_inplace)(void *yv, int64_t n)
{
    T *y = yv;
    for (int64_t i = 0; i < n; i++)
        y[i] = y[i] <= 0 ? 0 : y[i];
}

/* d [n] = s [n] times (m [n] > 0): a fused ReLU's gradient, in a whole-batch buffer. */
static void NB_FN(relu_mask)(const void *sv, const void *mv, void *dv, int64_t n)
{
    const T *s = sv, *m = mv;
    T *d = dv;
    const int nt = nbi_threads_for(n);
    NBI_PARALLEL_RANGE(n, nt, lo, hi,
                       for (int64_t i = lo; i < hi; i++) d[i] = s[i] * (m[i] > 0 ? (T)1 : (T)0););
}

/* ---- depthwise kernels (groups == C > 1): direct loops, no columns ----
 * Output channel o = c*M + m (M = O/C filters per channel) reads only input channel c:
 *   y[n, o, i, j]   = b[o] + sum_{u, v} w[o, u, v] * xpad[n, c, i*sh + u*dh, j*sw + v*dw]
 *   dx[n, c, tap]  += w[o, u, v] * dy[n, o, i, j]
 *   dw[o, u, v]    += sum_{n, i, j} dy[n, o, i, j] * x[n, c, tap];   db[o] += sum dy[n, o]
 * A GEMM per group would have one row: these loops run a tap at a time over whole rows. */
static void NB_FN(depthwise_fwd)(const void *xv, const void *wv, const void *bv, void *yv,
                                 int64_t N, int64_t C, int64_t H, int64_t W, int64_t M,
                                 const nbi_window *g)
{
    const T *x = xv, *w = wv, *b = bv;
    T *y = yv;
    const int64_t OW = g->ow, P = g->oh * OW, KK = g->kh * g->kw;
    const int nt = nbi_threads_for(N * C * M * P * KK);
    NBI_PARALLEL_RANGE(
        N * C, nt, nc0, nc1, for (int64_t nc = nc0; nc < nc1; nc++) {
            const int64_t n = nc / C, c = nc % C;
            const T *xp = x + nc * H * W;
            for (int64_t m = 0; m < M; m++) {
                const int64_t o = c * M + m;
                T *yp = y + (n * C * M + o) * P;
                const T bias = b ? b[o] : 0;
                for (int64_t p = 0; p < P; p++)
                    yp[p] = bias;
                for (int64_t u = 0; u < g->kh; u++) {
                    int64_t i0, i1;
                    nbi_window_span(g->oh, H, g->sh, u * g->dh - g->pt, &i0, &i1);
                    for (int64_t v = 0; v < g->kw; v++) {
                        const int64_t off = v * g->dw - g->pl;
                        const T wt = w[o * KK + u * g->kw + v];
                        int64_t j0, j1;
                        nbi_window_span(OW, W, g->sw, off, &j0, &j1);
                        for (int64_t i = i0; i < i1; i++) {
                            const T *row = xp + (i * g->sh + u * g->dh - g->pt) * W;
                            T *yr = yp + i * OW;
                            if (g->sw == 1)
                                for (int64_t j = j0; j < j1; j++)
                                    yr[j] += wt * row[j + off];
                            else
                                for (int64_t j = j0; j < j1; j++)
                                    yr[j] += wt * row[j * g->sw + off];
                        }
                    }
                }
            }
        });
}

/* dx: parallel over input planes (each written by its own thread). */
static void NB_FN(depthwise_dx)(const void *dyv, const void *wv, void *dxv, int64_t N, int64_t C,
                                int64_t H, int64_t W, int64_t M, const nbi_window *g)
{
    const T *dy = dyv, *w = wv;
    T *dx = dxv;
    const int64_t OW = g->ow, P = g->oh * OW, KK = g->kh * g->kw;
    const int nt = nbi_threads_for(N * C * M * P * KK);
    NBI_PARALLEL_RANGE(
        N * C, nt, nc0, nc1, for (int64_t nc = nc0; nc < nc1; nc++) {
            const int64_t n = nc / C, c = nc % C;
            T *dxp = dx + nc * H * W;
            for (int64_t m = 0; m < M; m++) {
                const int64_t o = c * M + m;
                const T *dyp = dy + (n * C * M + o) * P;
                for (int64_t u = 0; u < g->kh; u++) {
                    int64_t i0, i1;
                    nbi_window_span(g->oh, H, g->sh, u * g->dh - g->pt, &i0, &i1);
                    for (int64_t v = 0; v < g->kw; v++) {
                        const int64_t off = v * g->dw - g->pl;
                        const T wt = w[o * KK + u * g->kw + v];
                        int64_t j0, j1;
                        nbi_window_span(OW, W, g->sw, off, &j0, &j1);
                        for (int64_t i = i0; i < i1; i++) {
                            T *row = dxp + (i * g->sh + u * g->dh - g->pt) * W;
                            const T *dyr = dyp + i * OW;
                            if (g->sw == 1)
                                for (int64_t j = j0; j < j1; j++)
                                    row[j + off] += wt * dyr[j];
                            else
                                for (int64_t j = j0; j < j1; j++)
                                    row[j * g->sw + off] += wt * dyr[j];
                        }
                    }
                }
            }
        });
}

/* dw and db: parallel over output channels (each owns its filter and bias). */
static void NB_FN(depthwise_dw)(const void *xv, const void *dyv, void *dwv, void *dbv, int64_t N,
                                int64_t C, int64_t H, int64_t W, int64_t M, const nbi_window *g)
{
    const T *x = xv, *dy = dyv;
    T *dw = dwv, *db = dbv;
    const int64_t OW = g->ow, P = g->oh * OW, KK = g->kh * g->kw;
    const int nt = nbi_threads_for(N * C * M * P * KK);
    NBI_PARALLEL_RANGE(
        C * M, nt, lo, hi, for (int64_t o = lo; o < hi; o++) {
            const int64_t c = o / M;
            T bsum = 0;
            for (int64_t n = 0; n < N; n++) {
                const T *xp = x + (n * C + c) * H * W, *dyp = dy + (n * C * M + o) * P;
                if (db)
                    for (int64_t p = 0; p < P; p++)
                        bsum += dyp[p];
                if (!dw)
                    continue;
                for (int64_t u = 0; u < g->kh; u++) {
                    int64_t i0, i1;
                    nbi_window_span(g->oh, H, g->sh, u * g->dh - g->pt, &i0, &i1);
                    for (int64_t v = 0; v < g->kw; v++) {
                        const int64_t off = v * g->dw - g->pl;
                        int64_t j0, j1;
                        nbi_window_span(OW, W, g->sw, off, &j0, &j1);
                        T acc = 0;
                        for (int64_t i = i0; i < i1; i++) {
                            const T *row = xp + (i * g->sh + u * g->dh - g->pt) * W;
                            const T *dyr = dyp + i * OW;
                            if (g->sw == 1)
                                for (int64_t j = j0; j < j1; j++)
                                    acc += dyr[j] * row[j + off];
                            else
                                for (int64_t j = j0; j < j1; j++)
                                    acc += dyr[j] * row[j * g->sw + off];
                        }
                        dw[o * KK + u * g->kw + v] += acc;
                    }
                }
            }
            if (db)
                db[o] += bsum;
        });
}

/* out[i][m] = sum over p < np of a_i[p] * b_m[p] for the na (1..2) rows a_i = a + i * lda and
 * the nb (1..4) rows b_m = b + m * ldb (missing rows repeat the first; their sums are dropped). */
static void NB_FN(dot_tile)(const void *av, int64_t lda, int na, const void *bv, int64_t ldb,
                            int nb, int64_t np, void *outv)
{
    const T *a0 = av, *a1 = na > 1 ? a0 + lda : a0, *b0 = bv;
    const T *b1 = nb > 1 ? b0 + ldb : b0, *b2 = nb > 2 ? b0 + 2 * ldb : b0;
    const T *b3 = nb > 3 ? b0 + 3 * ldb : b0;
    T s[8][DW_LANES] = {{0}};
    int64_t p = 0;
    for (; p + DW_LANES <= np; p += DW_LANES)
        for (int l = 0; l < DW_LANES; l++) {
            const T x = a0[p + l], y = a1[p + l];
            const T c0 = b0[p + l], c1 = b1[p + l], c2 = b2[p + l], c3 = b3[p + l];
            s[0][l] += x * c0;
            s[1][l] += x * c1;
            s[2][l] += x * c2;
            s[3][l] += x * c3;
            s[4][l] += y * c0;
            s[5][l] += y * c1;
            s[6][l] += y * c2;
            s[7][l] += y * c3;
        }
    T r[8] = {0};
    for (; p < np; p++) {
        const T x = a0[p], y = a1[p];
        const T c[4] = {b0[p], b1[p], b2[p], b3[p]};
        for (int m = 0; m < 4; m++) {
            r[m] += x * c[m];
            r[4 + m] += y * c[m];
        }
    }
    for (int m = 0; m < 8; m++)
        for (int l = 0; l < DW_LANES; l++)
            r[m] += s[m][l];
    T *out = outv;
    for (int i = 0; i < na; i++)
        for (int m = 0; m < nb; m++)
            out[i * 4 + m] = r[i * 4 + m];
}

/* dw [Og, Kg] += t [Og, np] @ col^T, col [Kg, np]: rows ldt and ldc apart. */
static void NB_FN(dw_direct)(int64_t Og, int64_t Kg, const void *tv, int64_t ldt, const void *colv,
                             int64_t ldc, void *dwv, int64_t np)
{
    const T *t = tv, *col = colv;
    T *dw = dwv;
    const int64_t pairs = (Og + 1) / 2;
    const int nt = nbi_threads_for(Og * Kg * np);
    /* each thread its rows o of t, two at a time, in blocks of DW_BLOCK positions, so that the
     * column block stays in cache while the thread's rows pass over it */
    NBI_PARALLEL_RANGE(
        pairs, nt, op0, op1, for (int64_t p0 = 0; p0 < np; p0 += DW_BLOCK) {
            const int64_t len = np - p0 < DW_BLOCK ? np - p0 : DW_BLOCK;
            for (int64_t op = op0; op < op1; op++) {
                const int64_t o = 2 * op;
                const int na = Og - o < 2 ? 1 : 2;
                for (int64_t k = 0; k < Kg; k += 4) {
                    const int nb = Kg - k < 4 ? (int)(Kg - k) : 4;
                    T out[8];
                    NB_FN(dot_tile)
                    (t + o * ldt + p0, ldt, na, col + k * ldc + p0, ldc, nb, len, out);
                    for (int i = 0; i < na; i++)
                        for (int m = 0; m < nb; m++)
                            dw[(o + i) * Kg + k + m] += out[i * 4 + m];
                }
            }
        });
}

/* dw [G, Og, Kg] += dwt [G, Kg, Og] transposed per group. */
static void NB_FN(add_transposed)(const void *dwtv, void *dwv, int64_t G, int64_t Og, int64_t Kg)
{
    const T *dwt = dwtv;
    T *dw = dwv;
    for (int64_t g = 0; g < G; g++)
        for (int64_t o = 0; o < Og; o++)
            for (int64_t k = 0; k < Kg; k++)
                dw[(g * Og + o) * Kg + k] += dwt[(g * Kg + k) * Og + o];
}

/* y [C, P] = b [C] per row. */
static void NB_FN(fill_rows)(void *yv, const void *bv, int64_t C, int64_t P)
{
    T *y = yv;
    const T *b = bv;
    for (int64_t c = 0; c < C; c++)
        for (int64_t p = 0; p < P; p++)
            y[c * P + p] = b[c];
}

/* y [N, C, P] += b [C] per channel. */
static void NB_FN(add_channel_bias)(void *yv, const void *bv, int64_t N, int64_t C, int64_t P)
{
    T *y = yv;
    const T *b = bv;
    const int nt = nbi_threads_for(N * C * P);
    NBI_PARALLEL_RANGE(N * C, nt, lo, hi,
                       for (int64_t nc = lo; nc < hi; nc++) for (int64_t p = 0; p < P; p++)
                           y[nc * P + p] += b[nc % C];);
}

/* db [C] += sum over n, p of dy [N, C, P] (eight partial sums per plane). */
static void NB_FN(channel_sum)(const void *dyv, void *dbv, int64_t N, int64_t C, int64_t P)
{
    const T *dy = dyv;
    T *db = dbv;
    const int nt = nbi_threads_for(N * C * P);
    NBI_PARALLEL_RANGE(
        C, nt, lo, hi, for (int64_t c = lo; c < hi; c++) {
            T acc[8] = {0}, s = 0;
            for (int64_t n = 0; n < N; n++) {
                const T *p = dy + (n * C + c) * P;
                int64_t k = 0;
                for (; k + 8 <= P; k += 8)
                    for (int l = 0; l < 8; l++)
                        acc[l] += p[k + l];
                for (; k < P; k++)
                    s += p[k];
            }
            for (int l = 0; l < 8; l++)
                s += acc[l];
            db[c] += s;
        });
}
