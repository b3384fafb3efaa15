/* autograd/strided.c — copies, accumulations and reductions over strided tensors: the kernels
 * below every op that moves data between views (contiguous copies, gradient scatter into views,
 * the reduction of broadcast gradients), and below the engine (the seed of nb_backward_ex).
 * Rows of dense runs are copied with memcpy or summed in vector lanes; transposed copies go
 * tile by tile through 8x8 register transposes. */
#include "strided.h"
#include "kernel.h"

#include <string.h>

void *nbi_work_alloc(const char *fn, size_t bytes, bool *heap)
{
    void *p = nbi_scratch(bytes);
    *heap = !p;
    if (!p && !(p = nbi_calloc(1, bytes ? bytes : 1)))
        nbi_error(NB_ERR_NOMEM, "%s: out of memory (%zu bytes of work memory)", fn, bytes);
    return p;
}

/* ---- strided helpers ---- */

/* A strided walk in rows: t's dims without the size-1 ones, adjacent dims merged where one
 * steps over the other exactly (so a contiguous block is one row and a slice of whole rows is
 * a few long rows). The last dim is the row; the loops below run it as a plain inner loop, which
 * the compiler vectorises when its stride is 1. */
typedef struct {
    int nd;
    int64_t n[NB_MAX_DIMS], s[NB_MAX_DIMS];
} walk_dims;

static void walk_of(const nb_tensor *t, walk_dims *w)
{
    w->nd = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 1)
            continue;
        if (w->nd > 0 && w->s[w->nd - 1] == t->strides[d] * t->shape[d]) {
            w->n[w->nd - 1] *= t->shape[d];
            w->s[w->nd - 1] = t->strides[d];
        } else {
            w->n[w->nd] = t->shape[d];
            w->s[w->nd] = t->strides[d];
            w->nd++;
        }
    }
    if (w->nd == 0) {
        w->nd = 1;
        w->n[0] = 1;
        w->s[0] = 1;
    }
}

/* Start the row walk (autograd/kernel.h) of w's dims. */
static bool walk_rows(const walk_dims *w, nbi_rows *r)
{
    return nbi_rows_init(r, 1, w->nd, w->n, (const int64_t *const[]){w->s});
}

/* Side of the square tiles of add_to_transposed and copy_tiled: a tile's destination columns and
 * source rows (2 x 32 lines of 64 bytes for f32) stay in L1 while it is added. */
#define TILE 32

/* Tile [i0, i1) x [j0, j1) of a 4-byte transpose, d[i * drs + j * dcs] = s[i * srs + j * scs],
 * where one side is dense along j and the other along i: 8 x 8 blocks are loaded as 8 vectors,
 * transposed in registers and stored as 8 vectors; the tile's edges go element by element.
 * Returns false (nothing done) for other layouts or without vector shuffles. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define NB_HAVE_SHUFFLEVECTOR 1
#endif
#endif

#ifdef NB_HAVE_SHUFFLEVECTOR
typedef uint32_t u32x8 __attribute__((vector_size(32)));
#define SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)

/* 8 rows of 8 from src (rows `ss` apart) -> 8 columns to dst (columns `ds` apart). */
static void transpose8x8_u32(uint32_t *d, int64_t ds, const uint32_t *s, int64_t ss)
{
    u32x8 r[8], t[8], u[8];
    for (int k = 0; k < 8; k++)
        memcpy(&r[k], s + k * ss, sizeof r[k]);
    for (int k = 0; k < 8; k += 2) {
        t[k] = SHUF(r[k], r[k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[k + 1] = SHUF(r[k], r[k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = SHUF(t[k], t[k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 1] = SHUF(t[k], t[k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[k + 2] = SHUF(t[k + 1], t[k + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 3] = SHUF(t[k + 1], t[k + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int k = 0; k < 4; k++) {
        const u32x8 lo = SHUF(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        const u32x8 hi = SHUF(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
        memcpy(d + k * ds, &lo, sizeof lo);
        memcpy(d + (k + 4) * ds, &hi, sizeof hi);
    }
}
#endif

static bool copy_tiled_u32_transpose(uint32_t *d, int64_t drs, int64_t dcs, const uint32_t *s,
                                     int64_t srs, int64_t scs, int64_t i0, int64_t i1, int64_t j0,
                                     int64_t j1)
{
#ifdef NB_HAVE_SHUFFLEVECTOR
    /* a: src dense along j, dst along i; b: src dense along i, dst along j */
    const bool a = scs == 1 && drs == 1, b = srs == 1 && dcs == 1;
    if (!a && !b)
        return false;
    const int64_t i8 = i0 + (i1 - i0) / 8 * 8, j8 = j0 + (j1 - j0) / 8 * 8;
    for (int64_t i = i0; i < i8; i += 8)
        for (int64_t j = j0; j < j8; j += 8) {
            if (a)
                transpose8x8_u32(d + i + j * dcs, dcs, s + i * srs + j, srs);
            else
                transpose8x8_u32(d + i * drs + j, drs, s + i + j * scs, scs);
        }
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = i < i8 ? j8 : j0; j < j1; j++)
            d[i * drs + j * dcs] = s[i * srs + j * scs];
    return true;
#else
    (void)d, (void)drs, (void)dcs, (void)s, (void)srs, (void)scs, (void)i0, (void)i1, (void)j0,
        (void)j1;
    return false;
#endif
}

static bool copy_tiled_u64_transpose(uint64_t *d, int64_t drs, int64_t dcs, const uint64_t *s,
                                     int64_t srs, int64_t scs, int64_t i0, int64_t i1, int64_t j0,
                                     int64_t j1)
{
    (void)d, (void)drs, (void)dcs, (void)s, (void)srs, (void)scs, (void)i0, (void)i1, (void)j0,
        (void)j1;
    return false;
}

#define DEFINE_COPY_TILED(name, U)                                                                 \
    static void name(U *d, const int64_t *ds, const U *s, const int64_t *ss, int nd,               \
                     const int64_t *shape)                                                         \
    {                                                                                              \
        const int64_t R = shape[nd - 2], C = shape[nd - 1];                                        \
        const int64_t drs = ds[nd - 2], dcs = ds[nd - 1], srs = ss[nd - 2], scs = ss[nd - 1];      \
        int64_t n_outer = 1;                                                                       \
        for (int k = 0; k < nd - 2; k++)                                                           \
            n_outer *= shape[k];                                                                   \
        for (int64_t o = 0; o < n_outer; o++) {                                                    \
            int64_t db = 0, sb = 0;                                                                \
            for (int64_t k = nd - 3, rest = o; k >= 0; k--) {                                      \
                db += (rest % shape[k]) * ds[k];                                                   \
                sb += (rest % shape[k]) * ss[k];                                                   \
                rest /= shape[k];                                                                  \
            }                                                                                      \
            for (int64_t i0 = 0; i0 < R; i0 += TILE) {                                             \
                const int64_t i1 = i0 + TILE < R ? i0 + TILE : R;                                  \
                for (int64_t j0 = 0; j0 < C; j0 += TILE) {                                         \
                    const int64_t j1 = j0 + TILE < C ? j0 + TILE : C;                              \
                    if (name##_transpose(d + db, drs, dcs, s + sb, srs, scs, i0, i1, j0, j1))      \
                        continue;                                                                  \
                    if (dcs == 1) /* inner loop along dst's dense dim */                           \
                        for (int64_t i = i0; i < i1; i++)                                          \
                            for (int64_t j = j0; j < j1; j++)                                      \
                                d[db + i * drs + j] = s[sb + i * srs + j * scs];                   \
                    else if (drs == 1)                                                             \
                        for (int64_t j = j0; j < j1; j++)                                          \
                            for (int64_t i = i0; i < i1; i++)                                      \
                                d[db + i + j * dcs] = s[sb + i * srs + j * scs];                   \
                    else                                                                           \
                        for (int64_t i = i0; i < i1; i++)                                          \
                            for (int64_t j = j0; j < j1; j++)                                      \
                                d[db + i * drs + j * dcs] = s[sb + i * srs + j * scs];             \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
DEFINE_COPY_TILED(copy_tiled_u32, uint32_t)
DEFINE_COPY_TILED(copy_tiled_u64, uint64_t)

void nbi_copy_2d_u32(uint32_t *d, int64_t drs, int64_t dcs, const uint32_t *s, int64_t srs,
                     int64_t scs, int64_t rows, int64_t cols)
{
    const int64_t ds[2] = {drs, dcs}, ss[2] = {srs, scs}, shape[2] = {rows, cols};
    copy_tiled_u32(d, ds, s, ss, 2, shape);
}

/* d = s between two strided layouts of one shape (element offsets; dst has no stride-0 dim), tile
 * by tile when that pays: when some dim p is dense in dst and another dim q dense in src (a
 * transpose, in whichever dims), those two dims go last (in their own order if they are the last
 * two already) and are walked in tiles (8 x 8 register transposes for 4-byte elements); otherwise
 * when the last two dims span tiles and one side walks its last dim with a stride other than 1.
 * Returns false when a row-by-row walk is the better choice (nothing copied). */
static bool try_copy_tiled(size_t es, void *d, const int64_t *ds, const void *s, const int64_t *ss,
                           int nd, const int64_t *shape)
{
    int p = -1, q = -1;
    for (int k = 0; k < nd; k++) {
        if (ds[k] == 1 && shape[k] >= TILE / 2)
            p = k;
        if (ss[k] == 1 && shape[k] >= TILE / 2)
            q = k;
    }
    int64_t sh[NB_MAX_DIMS], dd[NB_MAX_DIMS], sd[NB_MAX_DIMS];
    const bool last_two = nd >= 2 && ((p == nd - 2 && q == nd - 1) || (p == nd - 1 && q == nd - 2));
    if (p >= 0 && q >= 0 && p != q && !last_two) {
        int m = 0;
        for (int k = 0; k < nd; k++)
            if (k != p && k != q)
                sh[m] = shape[k], dd[m] = ds[k], sd[m] = ss[k], m++;
        sh[m] = shape[p], dd[m] = ds[p], sd[m] = ss[p], m++;
        sh[m] = shape[q], dd[m] = ds[q], sd[m] = ss[q];
    } else if (last_two || (nd >= 2 && shape[nd - 2] >= TILE / 2 && shape[nd - 1] >= TILE / 2 &&
                            (ds[nd - 1] != 1 || ss[nd - 1] != 1))) {
        memcpy(sh, shape, (size_t)nd * sizeof *sh);
        memcpy(dd, ds, (size_t)nd * sizeof *dd);
        memcpy(sd, ss, (size_t)nd * sizeof *sd);
    } else {
        return false;
    }
    if (es == 4)
        copy_tiled_u32(d, dd, s, sd, nd, sh);
    else
        copy_tiled_u64(d, dd, s, sd, nd, sh);
    return true;
}

void nbi_copy_strided(void *dst, const nb_tensor *src)
{
    const size_t es = nb_dtype_size(src->dtype);
    const char *s = nbi_data(src);
    if (src->numel == 0)
        return;
    if (nbi_is_contiguous(src)) {
        memcpy(dst, s, (size_t)src->numel * es);
        return;
    }
    int64_t dense[NB_MAX_DIMS];
    nbi_contiguous_strides(src->ndim, src->shape, dense);
    if (try_copy_tiled(es, dst, dense, s, src->strides, src->ndim, src->shape))
        return;
    walk_dims w;
    walk_of(src, &w);
    char *d = dst;
    if (w.s[w.nd - 1] == 1) {
        nbi_rows r;
        for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
            const int64_t base = r.off[0], len = r.len;
            memcpy(d + (size_t)r.i0 * es, s + (size_t)base * es, (size_t)len * es);
        }
    } else if (es == 4) {
        uint32_t *d4 = dst;
        const uint32_t *p = (const uint32_t *)(const void *)s;
        nbi_rows r;
        for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
            const int64_t base = r.off[0], len = r.len, st = r.st[0];
            uint32_t *dr = d4 + r.i0;
            const uint32_t *pr = p + base;
            for (int64_t k = 0; k < len; k++)
                dr[k] = pr[k * st];
        }
    } else {
        uint64_t *d8 = dst;
        const uint64_t *p = (const uint64_t *)(const void *)s;
        nbi_rows r;
        for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
            const int64_t base = r.off[0], len = r.len, st = r.st[0];
            uint64_t *dr = d8 + r.i0;
            const uint64_t *pr = p + base;
            for (int64_t k = 0; k < len; k++)
                dr[k] = pr[k * st];
        }
    }
}

#define NB_KERNELS "strided_kernels.h"
#include "nabla/typed.h"

void nbi_accumulate(nb_tensor *dst, const nb_tensor *src)
{
    NB_ASSERT(dst->numel == src->numel && dst->dtype == src->dtype);
    if (src->numel > 0)
        NB_DISPATCH(dst->dtype, accumulate, dst, src);
}

/* dst (f32 view with stride-0 dims: several elements of src add into one target, as when a
 * broadcast gradient is summed back) += src. Each target first collects its sum in a double
 * accumulator, then is added once, so summing over millions of rows keeps float precision (a
 * float accumulator stalls at 2^24 ones). Returns false (nothing done) when no target is added
 * to more than once. */
static bool add_to_broadcast_f32(nb_tensor *dst, const float *src)
{
    nb_tensor acc_view = *dst, targets = *dst;
    int64_t n_targets = 1;
    bool repeats = false;
    targets.ndim = 0;
    for (int d = dst->ndim - 1; d >= 0; d--) {
        if (dst->strides[d] == 0 && dst->shape[d] > 1) {
            acc_view.strides[d] = 0;
            repeats = true;
        } else {
            acc_view.strides[d] = n_targets;
            n_targets *= dst->shape[d];
        }
    }
    if (!repeats)
        return false;
    for (int d = 0; d < dst->ndim; d++)
        if (acc_view.strides[d] != 0 || dst->shape[d] <= 1) {
            targets.shape[targets.ndim] = dst->shape[d];
            targets.strides[targets.ndim++] = dst->strides[d];
        }
    targets.numel = n_targets;
    bool heap;
    double *acc = nbi_work_alloc("gradient reduction", (size_t)n_targets * sizeof *acc, &heap);
    if (!acc)
        return true;
    walk_dims w;
    walk_of(&acc_view, &w);
    nbi_rows r;
    for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
        const int64_t base = r.off[0], len = r.len, st = r.st[0];
        const float *restrict sr = src + r.i0;
        double *restrict ar = acc + base;
        if (st == 0) {
            ar[0] += sum_run_f32(sr, len);
        } else if (st == 1) {
            _Pragma("omp simd") for (int64_t k = 0; k < len; k++) ar[k] += sr[k];
        } else {
            for (int64_t k = 0; k < len; k++)
                ar[k * st] += sr[k];
        }
    }
    float *d = nbi_data(dst);
    NBI_FOR_STRIDED(&targets, i, off, d[off] += (float)acc[i];);
    if (heap)
        nbi_free(acc);
    return true;
}

void nbi_add_to_strided(nb_tensor *dst_view, const void *src)
{
    const int nd = dst_view->ndim;
    if (dst_view->numel == 0)
        return;
    if (dst_view->dtype == NB_F32 && add_to_broadcast_f32(dst_view, src))
        return;
    /* Tiles pay off once the last two dims span several tiles; stride-0 (broadcast) dims keep
     * the plain walk. */
    if (nd >= 2 && dst_view->shape[nd - 2] >= TILE && dst_view->shape[nd - 1] >= TILE &&
        dst_view->strides[nd - 1] != 1 && dst_view->strides[nd - 1] != 0 &&
        dst_view->strides[nd - 2] != 0)
        NB_DISPATCH(dst_view->dtype, add_to_transposed, dst_view, src);
    else
        NB_DISPATCH(dst_view->dtype, add_to_strided, dst_view, src);
}

void nbi_reduce_into(nb_tensor *dst, const nb_tensor *src)
{
    /* View dst with src's shape: missing leading dims and size-1 dims get stride 0. */
    nb_tensor v = *dst;
    int lead = src->ndim - dst->ndim;
    NB_ASSERT(lead >= 0);
    v.ndim = src->ndim;
    v.numel = src->numel;
    for (int d = 0; d < src->ndim; d++) {
        int sd = d - lead;
        v.shape[d] = src->shape[d];
        v.strides[d] = sd < 0 || dst->shape[sd] == 1 ? 0 : dst->strides[sd];
    }
    nbi_add_to_strided(&v, nbi_data(src));
}

/* dst (strided view) = src (contiguous, dst's shape): a plain copy by element size, so it serves
 * every dtype. */
void nbi_copy_to_strided(nb_tensor *dst, const void *src)
{
    const size_t es = nb_dtype_size(dst->dtype);
    if (dst->numel == 0)
        return;
    int64_t dense[NB_MAX_DIMS];
    nbi_contiguous_strides(dst->ndim, dst->shape, dense);
    if (try_copy_tiled(es, nbi_data(dst), dst->strides, src, dense, dst->ndim, dst->shape))
        return;
    walk_dims w;
    walk_of(dst, &w);
    if (w.s[w.nd - 1] == 1) {
        char *d = nbi_data(dst);
        const char *s = src;
        nbi_rows r;
        for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
            const int64_t base = r.off[0], len = r.len;
            memcpy(d + (size_t)base * es, s + (size_t)r.i0 * es, (size_t)len * es);
        }
    } else if (es == 4) {
        uint32_t *d = nbi_data(dst);
        const uint32_t *s = src;
        NBI_FOR_STRIDED(dst, i, off, d[off] = s[i];);
    } else {
        uint64_t *d = nbi_data(dst);
        const uint64_t *s = src;
        NBI_FOR_STRIDED(dst, i, off, d[off] = s[i];);
    }
}

/* dst (strided view) = src (strided view of the same shape), by element size. */
void nbi_copy_strided_to_strided(nb_tensor *dst, const nb_tensor *src)
{
    if (nbi_is_contiguous(src)) {
        nbi_copy_to_strided(dst, nbi_data(src));
    } else if (dst->numel == 0) {
        return;
    } else if (try_copy_tiled(nb_dtype_size(dst->dtype), nbi_data(dst), dst->strides, nbi_data(src),
                              src->strides, dst->ndim, dst->shape)) {
        return;
    } else if (nb_dtype_size(dst->dtype) == 4) {
        uint32_t *d = nbi_data(dst);
        const uint32_t *s = nbi_data(src);
        NBI_FOR_STRIDED2(dst, src, i, offd, offs, d[offd] = s[offs];);
    } else {
        uint64_t *d = nbi_data(dst);
        const uint64_t *s = nbi_data(src);
        NBI_FOR_STRIDED2(dst, src, i, offd, offs, d[offd] = s[offs];);
    }
}
