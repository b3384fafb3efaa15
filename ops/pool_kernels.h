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

/* Input rows d0, d1 [2B] += dy [B] routed by the codes k [B] (a code above 3 routes nowhere).
 * -0.0 is the exact additive identity (x + -0.0 == x, also for x = -0.0), so the positions
 * that lose are unchanged. */
static MAX2_INLINE void NB_FN(max2_bwd_block)(const T *restrict dy, const uint8_t *restrict k,
                                              T *restrict d0, T *restrict d1, const int B)
{
    for (int j = 0; j < B; j++) {
        const T g = dy[j];
        const uint8_t c = k[j];
        const T a0 = c == 0 ? g : (T)-0.0, a1 = c == 1 ? g : (T)-0.0;
        const T a2 = c == 2 ? g : (T)-0.0, a3 = c == 3 ? g : (T)-0.0;
        d0[2 * j] += a0;
        d0[2 * j + 1] += a1;
        d1[2 * j] += a2;
        d1[2 * j + 1] += a3;
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

MAX2_NOINLINE static void NB_FN(max2_bwd_block8)(const T *restrict dy, const uint8_t *restrict k,
                                                 T *restrict d0, T *restrict d1)
{
    NB_FN(max2_bwd_block)(dy, k, d0, d1, 8);
}

MAX2_NOINLINE static void NB_FN(max2_bwd_block16)(const T *restrict dy, const uint8_t *restrict k,
                                                  T *restrict d0, T *restrict d1)
{
    NB_FN(max2_bwd_block)(dy, k, d0, d1, 16);
}

/* One block of B (8 or 16) outputs. */
static inline void NB_FN(max2_fwd)(int64_t B, const T *r0, const T *r1, T *d, uint8_t *k)
{
    if (B == 16)
        NB_FN(max2_fwd_block16)(r0, r1, d, k);
    else
        NB_FN(max2_fwd_block8)(r0, r1, d, k);
}

static inline void NB_FN(max2_bwd)(int64_t B, const T *dy, const uint8_t *k, T *d0, T *d1)
{
    if (B == 16)
        NB_FN(max2_bwd_block16)(dy, k, d0, d1);
    else
        NB_FN(max2_bwd_block8)(dy, k, d0, d1);
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

/* One plane: dx [H, W] += dy [OH, OW] routed by the codes k [OH, OW]. */
static void NB_FN(max2_bwd_plane)(const void *dyv, const uint8_t *k, void *dxv, int64_t W,
                                  int64_t OH, int64_t OW)
{
    const T *dy = dyv;
    T *dx = dxv;
    const int64_t B = max2_block(W, OW);
    for (int64_t i = 0; i < OH; i++) {
        const T *g = dy + i * OW;
        const uint8_t *kr = k + i * OW;
        T *d0 = dx + 2 * i * W, *d1 = d0 + W;
        int64_t j = 0;
        for (; j + B <= OW; j += B)
            NB_FN(max2_bwd)(B, g + j, kr + j, d0 + 2 * j, d1 + 2 * j);
        const int64_t rest = OW - j;
        if (rest == 0)
            continue;
        uint8_t c[16]; /* the rest's codes; 4 (nowhere) past the row */
        for (int64_t l = 0; l < 16; l++)
            c[l] = l < rest ? kr[j + l] : 4;
        if (i + 1 < OH && j + B <= W && j + B <= 2 * OW) { /* in place, past the row */
            NB_FN(max2_bwd)(B, g + j, c, d0 + 2 * j, d1 + 2 * j);
            continue;
        }
        T gb[16] = {0}, a[32] = {0}, b[32] = {0};
        for (int64_t l = 0; l < rest; l++)
            gb[l] = g[j + l];
        for (int64_t l = 0; l < 2 * rest; l++) {
            a[l] = d0[2 * j + l];
            b[l] = d1[2 * j + l];
        }
        NB_FN(max2_bwd)(B, gb, c, a, b);
        for (int64_t l = 0; l < 2 * rest; l++) {
            d0[2 * j + l] = a[l];
            d1[2 * j + l] = b[l];
        }
    }
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++)
        NB_FN(max2_fwd_plane)
    (px + nc * H * W, py + nc * OH * OW, code ? code + nc * OH * OW : NULL, H, W, OH, OW);
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++)
        NB_FN(max2_bwd_plane)
    (pdy + nc * OH * OW, code + nc * OH * OW, pdx + nc * H * W, W, OH, OW);
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++) {
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
    }
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++)
        for (int64_t p = 0; p < P; p++)
            dx[nc * HW + arg[nc * P + p]] += dy[nc * P + p];
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++) {
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
    }
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
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t nc = 0; nc < NC; nc++) {
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
    }
}
