/* ops/pool_kernels.h — max and average pooling, padding.
 * Written once over the element type T and included twice by pool.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* d [B] = max of the windows over input rows r0, r1 [2B]; k [B] = each window's argmax code.
 * Called with a constant B by the block functions below. */
static MAX2_INLINE void NB_FN(max2_fwd_block)(const T *restrict r0, const T *restrict r1,
                                              T *restrict d, uint8_t *restrict k, const int B)
{
    for (int j = 0; j < B; j++) {
        T best = r0[2 * j];
        uint8_t at = 0;
        MAX_TAKE(r0[2 * j + 1], 1);
        MAX_TAKE(r1[2 * j], 2);
        MAX_TAKE(r1[2 * j + 1], 3);
        d[j] = best;
        k[j] = at;
    }
}

MAX2_NOINLINE static void NB_FN(max2_fwd_block8)(const T *restrict r0, const T *restrict r1,
                                                 T *restrict d, uint8_t *restrict k)
{
    NB_FN(max2_fwd_block)(r0, r1, d, k, 8);
}

MAX2_NOINLINE static void NB_FN(max2_fwd_block16)(const T *restrict r0, const T *restrict r1,
                                                  T *restrict d, uint8_t *restrict k)
{
    NB_FN(max2_fwd_block)(r0, r1, d, k, 16);
}

/* One block of B (8 or 16) outputs. */
static inline void NB_FN(max2_fwd)(int64_t B, const T *r0, const T *r1, T *d, uint8_t *k)
{
    if (B == 16)
        NB_FN(max2_fwd_block16)(r0, r1, d, k);
    else
        NB_FN(max2_fwd_block8)(r0, r1, d, k);
}

/* One plane: y [OH, OW] from x [H, W]; k [OH, OW] = argmax codes (NULL: not kept). */
static void NB_FN(max2_fwd_plane)(const void *xv, void *yv, uint8_t *k, int64_t H, int64_t W,
                                  int64_t OH, int64_t OW)
{
    (void)H;
    const T *x = xv;
    T *y = yv;
    const int64_t B = max2_block(W, OW);
    uint8_t kb[16];
    for (int64_t i = 0; i < OH; i++) {
        const T *r0 = x + 2 * i * W, *r1 = r0 + W;
        T *d = y + i * OW;
        uint8_t *kr = k ? k + i * OW : NULL;
        if (OW >= B) { /* whole blocks, the last one moved back to end the row */
            for (int64_t j = 0;; j += B) {
                if (j + B > OW)
                    j = OW - B;
                NB_FN(max2_fwd)(B, r0 + 2 * j, r1 + 2 * j, d + j, kr ? kr + j : kb);
                if (j + B == OW)
                    break;
            }
        } else if (i + 1 < OH && B <= W && B <= 2 * OW) { /* in place, past the row */
            NB_FN(max2_fwd)(B, r0, r1, d, kr ? kr : kb);
        } else {
            T a[32] = {0}, b[32] = {0}, o[16];
            for (int64_t l = 0; l < 2 * OW; l++) {
                a[l] = r0[l];
                b[l] = r1[l];
            }
            NB_FN(max2_fwd)(B, a, b, o, kb);
            for (int64_t l = 0; l < OW; l++) {
                d[l] = o[l];
                if (kr)
                    kr[l] = kb[l];
            }
        }
    }
}

/* Input rows d0, d1 [2n] (= when fresh, else +=) dy [n] routed by the codes k [n], element by
 * element: the window's winner gets dy (+ 0 when fresh: the sum a zeroed gradient would hold),
 * the others 0 (fresh) or nothing. Stores by address, not branches on the codes. */
static void NB_FN(max2_bwd_scalar)(const T *dy, const uint8_t *k, T *d0, T *d1, int64_t n,
                                   int64_t W, bool fresh)
{
    if (fresh) {
        for (int64_t l = 0; l < 2 * n; l++)
            d0[l] = d1[l] = 0;
        for (int64_t j = 0; j < n; j++)
            d0[(k[j] >> 1) * W + 2 * j + (k[j] & 1)] = dy[j] + (T)0;
    } else {
        for (int64_t j = 0; j < n; j++)
            d0[(k[j] >> 1) * W + 2 * j + (k[j] & 1)] += dy[j];
    }
}

#ifdef MAX2_VECTORS
/* max2_bwd_scalar for 8 outputs in vector registers: per code a masked copy of dy, then the
 * masked copies of codes 0 and 1 (2 and 3) interleaved into row d0 (d1). Accumulating adds -0.0
 * (the exact additive identity) where a position loses. */
static inline void NB_FN(max2_bwd8)(const T *dy, const uint8_t *k, T *d0, T *d1, bool fresh)
{
    typedef T vec __attribute__((vector_size(8 * sizeof(T))));
    typedef __typeof__((vec){0} == (vec){0}) mask;
    const vec zero = {0}, fill = fresh ? zero : zero * (T)-1; /* 0 or -0.0 in every lane */
    vec g, c, a[4];
    memcpy(&g, dy, sizeof g);
    if (fresh)
        g = g + zero;
    for (int l = 0; l < 8; l++)
        c[l] = (T)k[l];
    for (int code = 0; code < 4; code++) {
        const mask m = c == zero + (T)code;
        a[code] = (vec)(((mask)g & m) | ((mask)fill & ~m));
    }
    vec row[4] = {MAX2_SHUF(a[0], a[1], 0, 8, 1, 9, 2, 10, 3, 11),
                  MAX2_SHUF(a[0], a[1], 4, 12, 5, 13, 6, 14, 7, 15),
                  MAX2_SHUF(a[2], a[3], 0, 8, 1, 9, 2, 10, 3, 11),
                  MAX2_SHUF(a[2], a[3], 4, 12, 5, 13, 6, 14, 7, 15)};
    T *const dst[4] = {d0, d0 + 8, d1, d1 + 8};
    for (int h = 0; h < 4; h++) {
        if (!fresh) {
            vec d;
            memcpy(&d, dst[h], sizeof d);
            row[h] = d + row[h];
        }
        memcpy(dst[h], &row[h], sizeof row[h]);
    }
}
#endif

/* One plane: dx [H, W] (= when fresh, else +=) dy [OH, OW] routed by the codes k [OH, OW]; when
 * fresh, the input rows and columns no window covers get 0. */
static void NB_FN(max2_bwd_plane)(const void *dyv, const uint8_t *k, void *dxv, int64_t H,
                                  int64_t W, int64_t OH, int64_t OW, bool fresh)
{
    const T *dy = dyv;
    T *dx = dxv;
    for (int64_t i = 0; i < OH; i++) {
        const T *g = dy + i * OW;
        const uint8_t *kr = k + i * OW;
        T *d0 = dx + 2 * i * W, *d1 = d0 + W;
        int64_t j = 0;
#ifdef MAX2_VECTORS
        for (; j + 8 <= OW; j += 8)
            NB_FN(max2_bwd8)(g + j, kr + j, d0 + 2 * j, d1 + 2 * j, fresh);
        if (fresh && j > 0 && j < OW) { /* the last 8, again: it rewrites the same values */
            j = OW - 8;
            NB_FN(max2_bwd8)(g + j, kr + j, d0 + 2 * j, d1 + 2 * j, fresh);
            j = OW;
        }
#endif
        NB_FN(max2_bwd_scalar)(g + j, kr + j, d0 + 2 * j, d1 + 2 * j, OW - j, W, fresh);
        if (fresh)
            for (int64_t l = 2 * OW; l < W; l++)
                d0[l] = d1[l] = 0;
    }
    if (fresh)
        memset(dx + 2 * OH * W, 0, (size_t)((H - 2 * OH) * W) * sizeof(T));
}

static void NB_FN(max_pool2_fwd)(nbi_record *r, const nbi_window *g, uint8_t *code)
{
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t OH = g->oh, OW = g->ow;
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    const int nt = nbi_threads_for(NC * OH * OW * 4);
    NBI_PARALLEL_RANGE(NC, nt, lo, hi,
                       for (int64_t nc = lo; nc < hi; nc++)
                           NB_FN(max2_fwd_plane)(px + nc * H * W, py + nc * OH * OW,
                                                 code ? code + nc * OH * OW : NULL, H, W, OH, OW););
}

static void NB_FN(max_pool2_bwd)(nbi_record *r, const nbi_window *g)
{
    const uint8_t *code = r->saved;
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t OH = g->oh, OW = g->ow;
    const T *pdy = nbi_data(r->out->grad);
    T *pdx = nbi_data(x->grad);
    const int nt = nbi_threads_for(NC * OH * OW * 4);
    const bool fresh = x->grad_fresh;
    NBI_PARALLEL_RANGE(NC, nt, lo, hi,
                       for (int64_t nc = lo; nc < hi; nc++)
                           NB_FN(max2_bwd_plane)(pdy + nc * OH * OW, code + nc * OH * OW,
                                                 pdx + nc * H * W, H, W, OH, OW, fresh););
}

static void NB_FN(max_pool_fwd)(nbi_record *r, const nbi_window *g, int64_t *arg)
{
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t OH = g->oh, OW = g->ow;
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    const int nt = nbi_threads_for(NC * OH * OW * g->kh * g->kw);
    NBI_PARALLEL_RANGE(
        NC, nt, lo, hi, for (int64_t nc = lo; nc < hi; nc++) {
            const T *src = px + nc * H * W;
            T *dst = py + nc * OH * OW;
            int64_t *am = arg ? arg + nc * OH * OW : NULL;
            for (int64_t i = 0; i < OH; i++)
                for (int64_t j = 0; j < OW; j++) {
                    WINDOW_CLIP(g, H, W, i, j);
                    int64_t best_at = (h0 + u0) * W + w0 + v0;
                    T best = src[best_at];
                    for (int64_t u = u0; u < u1; u++)
                        for (int64_t v = v0; v < v1; v++) {
                            const int64_t at = (h0 + u) * W + w0 + v;
                            const T val = src[at];
                            if (val > best || (isnan(val) && !isnan(best))) {
                                best = val;
                                best_at = at;
                            }
                        }
                    dst[i * OW + j] = best;
                    if (am)
                        am[i * OW + j] = best_at;
                }
        });
}

static void NB_FN(max_pool_bwd)(nbi_record *r, const nbi_window *g)
{
    const int64_t *arg = r->saved;
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t HW = H * W, P = g->oh * g->ow;
    const T *dy = nbi_data(r->out->grad);
    T *dx = nbi_data(x->grad);
    const int nt = nbi_threads_for(NC * P);
    const bool fresh = x->grad_fresh;
    NBI_PARALLEL_RANGE(NC, nt, lo, hi,
                       if (fresh) memset(dx + lo * HW, 0, (size_t)((hi - lo) * HW) * sizeof(T));
                       for (int64_t nc = lo; nc < hi; nc++) for (int64_t p = 0; p < P; p++)
                           dx[nc * HW + arg[nc * P + p]] += dy[nc * P + p];);
}

/* avg_pool2d's forward (typed slots): window and padding rule from the record. */
static nb_status NB_FN(avg_pool_fwd)(nbi_record *r)
{
    const nbi_window gw = pool_window(r), *g = &gw;
    const bool exclude_padding = ((const pool_attr *)r->attr)->opts.exclude_padding;
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t OH = g->oh, OW = g->ow;
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    const int nt = nbi_threads_for(NC * OH * OW * g->kh * g->kw);
    NBI_PARALLEL_RANGE(
        NC, nt, lo, hi, for (int64_t nc = lo; nc < hi; nc++) {
            const T *src = px + nc * H * W;
            T *dst = py + nc * OH * OW;
            for (int64_t i = 0; i < OH; i++)
                for (int64_t j = 0; j < OW; j++) {
                    WINDOW_CLIP(g, H, W, i, j);
                    T s = 0;
                    for (int64_t u = u0; u < u1; u++)
                        for (int64_t v = v0; v < v1; v++)
                            s += src[(h0 + u) * W + w0 + v];
                    dst[i * OW + j] = s / (T)AVG_DIVISOR(g, exclude_padding, (u1 - u0) * (v1 - v0));
                }
        });
    return NB_OK;
}

/* avg_pool2d's backward: each dy spread evenly over its window. */
static void NB_FN(avg_pool_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const nbi_window gw = pool_window(r), *g = &gw;
    const bool exclude_padding = ((const pool_attr *)r->attr)->opts.exclude_padding;
    const nb_tensor *x = r->in[0];
    int64_t NC, H, W;
    pool_planes(x, &NC, &H, &W);
    const int64_t OH = g->oh, OW = g->ow;
    const T *pdy = nbi_data(r->out->grad);
    T *pdx = nbi_data(x->grad);
    const int nt = nbi_threads_for(NC * OH * OW * g->kh * g->kw);
    NBI_PARALLEL_RANGE(
        NC, nt, lo, hi, for (int64_t nc = lo; nc < hi; nc++) {
            const T *dy = pdy + nc * OH * OW;
            T *dx = pdx + nc * H * W;
            for (int64_t i = 0; i < OH; i++)
                for (int64_t j = 0; j < OW; j++) {
                    WINDOW_CLIP(g, H, W, i, j);
                    const T d =
                        dy[i * OW + j] / (T)AVG_DIVISOR(g, exclude_padding, (u1 - u0) * (v1 - v0));
                    for (int64_t u = u0; u < u1; u++)
                        for (int64_t v = v0; v < v1; v++)
                            dx[(h0 + u) * W + w0 + v] += d;
                }
        });
}
