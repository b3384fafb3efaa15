/* ops/scan_kernels.h — cumsum and cumprod, forward and backward.
 * Written once over the element type T and included twice by scan.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* acc: inner doubles. */
static void NB_FN(scan_fwd)(const nbi_record *r, double *restrict acc, bool prod)
{
    int64_t outer, n, inner;
    scan_dims(r, &outer, &n, &inner);
    const T *px = nbi_data(r->in[0]);
    T *py = nbi_data(r->out);
    if (inner == 1) { /* along the last axis: one running value per row */
        for (int64_t o = 0; o < outer; o++) {
            const T *restrict xr = px + o * n;
            T *restrict yr = py + o * n;
            double v = prod ? 1 : 0;
            for (int64_t k = 0; k < n; k++) {
                v = prod ? v * xr[k] : v + xr[k];
                yr[k] = (T)v;
            }
        }
        return;
    }
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++)
            acc[i] = prod ? 1 : 0;
        for (int64_t k = 0; k < n; k++) {
            const T *restrict xr = px + (o * n + k) * inner;
            T *restrict yr = py + (o * n + k) * inner;
            if (prod) {
#pragma omp simd
                for (int64_t i = 0; i < inner; i++) {
                    acc[i] *= xr[i];
                    yr[i] = (T)acc[i];
                }
            } else {
#pragma omp simd
                for (int64_t i = 0; i < inner; i++) {
                    acc[i] += xr[i];
                    yr[i] = (T)acc[i];
                }
            }
        }
    }
}

/* cumsum: acc holds inner doubles. */
static void NB_FN(cumsum_bwd)(const nbi_record *r, double *restrict acc)
{
    int64_t outer, n, inner;
    scan_dims(r, &outer, &n, &inner);
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++) {
            double v = 0;
            for (int64_t k = n - 1; k >= 0; k--) {
                v += pdy[o * n + k];
                dx[o * n + k] += (T)v;
            }
        }
        return;
    }
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++)
            acc[i] = 0;
        for (int64_t k = n - 1; k >= 0; k--) {
            const T *restrict g = pdy + (o * n + k) * inner;
            T *restrict d = dx + (o * n + k) * inner;
#pragma omp simd
            for (int64_t i = 0; i < inner; i++) {
                acc[i] += g[i];
                d[i] += (T)acc[i];
            }
        }
    }
}

/* cumprod: pre holds n doubles (the exclusive prefix products of one row). */
static void NB_FN(cumprod_bwd)(const nbi_record *r, double *restrict pre)
{
    int64_t outer, n, inner;
    scan_dims(r, &outer, &n, &inner);
    const T *px = nbi_data(r->in[0]);
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const int64_t b = o * n * inner + i;
            double p = 1;
            for (int64_t k = 0; k < n; k++) {
                pre[k] = p;
                p *= px[b + k * inner];
            }
            double s = 0;
            for (int64_t k = n - 1; k >= 0; k--) {
                s = pdy[b + k * inner] + (k + 1 < n ? px[b + (k + 1) * inner] * s : 0);
                dx[b + k * inner] += (T)(pre[k] * s);
            }
        }
}
