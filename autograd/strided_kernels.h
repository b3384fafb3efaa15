/* autograd/strided_kernels.h — accumulations into and out of strided views.
 * Written once over the element type T and included twice by strided.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* Sum of a contiguous run in 16 independent double lanes (vectorisable), then across the lanes. */
#define SUM_LANES 16
static double NB_FN(sum_run)(const T *restrict s, int64_t n)
{
    double lane[SUM_LANES] = {0};
    int64_t k = 0;
    for (; k + SUM_LANES <= n; k += SUM_LANES)
        for (int j = 0; j < SUM_LANES; j++)
            lane[j] += s[k + j];
    double acc = 0;
    for (; k < n; k++)
        acc += s[k];
    for (int j = 0; j < SUM_LANES; j++)
        acc += lane[j];
    return acc;
}
#undef SUM_LANES

static void NB_FN(accumulate)(nb_tensor *dst, const nb_tensor *src)
{
    T *d = nbi_data(dst);
    const T *s = nbi_data(src);
    if (nbi_is_contiguous(src)) {
        for (int64_t i = 0; i < src->numel; i++)
            d[i] += s[i];
        return;
    }
    walk_dims w;
    walk_of(src, &w);
    nbi_rows r;
    for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
        const int64_t base = r.off[0], len = r.len, st = r.st[0];
        T *restrict dr = d + r.i0;
        const T *restrict sr = s + base;
        if (st == 1)
            for (int64_t k = 0; k < len; k++)
                dr[k] += sr[k];
        else
            for (int64_t k = 0; k < len; k++)
                dr[k] += sr[k * st];
    }
}

/* dst (strided view, possibly with stride-0 dims) += src (contiguous, dst's shape). Rows of
 * stride 0 (a broadcast dim innermost) are summed first and added once. */
static void NB_FN(add_to_strided)(nb_tensor *dst, const void *src)
{
    T *d = nbi_data(dst);
    const T *s = src;
    walk_dims w;
    walk_of(dst, &w);
    nbi_rows r;
    for (bool more = walk_rows(&w, &r); more; more = nbi_rows_next(&r)) {
        const int64_t base = r.off[0], len = r.len, st = r.st[0];
        T *restrict dr = d + base;
        const T *restrict sr = s + r.i0;
        if (st == 1) {
            for (int64_t k = 0; k < len; k++)
                dr[k] += sr[k];
        } else if (st == 0) {
            dr[0] += (T)NB_FN(sum_run)(sr, len);
        } else {
            for (int64_t k = 0; k < len; k++)
                dr[k * st] += sr[k];
        }
    }
}

/* Same for a view whose last dim is not stored contiguously (a transposed weight's gradient, in
 * every nb_linear backward): the plain row-major walk would touch a new cache line for every
 * element of dst. Walk the last two dims in TILE x TILE tiles instead, each tile column by
 * column, so both sides reuse their cache lines. Each element still gets exactly one add. */
static void NB_FN(add_to_transposed)(nb_tensor *dst, const void *src)
{
    T *d = nbi_data(dst);
    const T *s = src;
    const int nd = dst->ndim;
    const int64_t R = dst->shape[nd - 2], C = dst->shape[nd - 1];
    const int64_t rs = dst->strides[nd - 2], cs = dst->strides[nd - 1];
    for (int64_t o = 0, n_outer = dst->numel / (R * C); o < n_outer; o++) {
        int64_t base = 0;
        for (int64_t k = nd - 3, rest = o; k >= 0; k--) {
            base += (rest % dst->shape[k]) * dst->strides[k];
            rest /= dst->shape[k];
        }
        const T *so = s + o * R * C;
        for (int64_t i0 = 0; i0 < R; i0 += TILE) {
            const int64_t i1 = i0 + TILE < R ? i0 + TILE : R;
            for (int64_t j0 = 0; j0 < C; j0 += TILE) {
                const int64_t j1 = j0 + TILE < C ? j0 + TILE : C;
                for (int64_t j = j0; j < j1; j++) {
                    T *dj = d + base + j * cs;
                    for (int64_t i = i0; i < i1; i++)
                        dj[i * rs] += so[i * C + j];
                }
            }
        }
    }
}
