/* ops/reduce_kernels.h — sum, mean, max and min, forward and backward.
 * Written once over the element type T and included twice by reduce.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* acc (double, y's numel, zeroed) += x summed over the reduced axes, x walked row by row along
 * its last dim: a row along a reduced last axis is one vectorised double sum, a row along a kept
 * last axis adds into a run of acc. Float data is accumulated in double too, so a sum of 20M
 * float32 ones along an axis is exact (a float accumulator stalls at 2^24). */
static void NB_FN(sum_acc)(const nb_tensor *x, const nb_tensor *v, double *restrict acc)
{
    const T *px = nbi_data(x);
    const int nd = x->ndim;
    const int64_t len = nd ? x->shape[nd - 1] : 1, sx = nd ? x->strides[nd - 1] : 0,
                  sv = nd ? v->strides[nd - 1] : 0;
    int64_t idx[NB_MAX_DIMS] = {0}, bx = 0, bv = 0;
    if (x->numel == 0)
        return;
    for (;;) {
        const T *restrict row = px + bx;
        double *restrict a = acc + bv;
        if (sv == 0) {
            double s = 0;
            if (sx == 1) {
#pragma omp simd reduction(+ : s)
                for (int64_t k = 0; k < len; k++)
                    s += row[k];
            } else {
                for (int64_t k = 0; k < len; k++)
                    s += row[k * sx];
            }
            a[0] += s;
        } else if (sx == 1 && sv == 1) {
#pragma omp simd
            for (int64_t k = 0; k < len; k++)
                a[k] += row[k];
        } else {
            for (int64_t k = 0; k < len; k++)
                a[k * sv] += row[k * sx];
        }
        int d = nd - 2;
        for (; d >= 0; d--) {
            bx += x->strides[d];
            bv += v->strides[d];
            if (++idx[d] < x->shape[d])
                break;
            bx -= x->strides[d] * x->shape[d];
            bv -= v->strides[d] * x->shape[d];
            idx[d] = 0;
        }
        if (d < 0)
            break;
    }
}

static void NB_FN(sum_fwd)(nbi_record *r, double scale, double *acc)
{
    const nb_tensor *x = r->in[0];
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    if (r->out->numel == 1 && nbi_is_contiguous(x)) {
        /* everything into one value: a vectorised sum in double (more exact than a float chain) */
        double s = 0;
        const int64_t n = x->numel;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; i++)
            s += px[i];
        py[0] = (T)(s * scale);
        return;
    }
    nb_tensor v = reduced_view(x, r->out, reduced_axes(r));
    NB_FN(sum_acc)(x, &v, acc);
    for (int64_t i = 0; i < r->out->numel; i++)
        py[i] = (T)(acc[i] * scale);
}

static void NB_FN(sum_bwd)(nbi_record *r, double scale)
{
    const nb_tensor *x = r->in[0];
    nb_tensor v = reduced_view(x, r->out->grad, reduced_axes(r));
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(x->grad);
    const T s = (T)scale;
    if (r->out->numel == 1 && nbi_is_contiguous(x)) {
        const T g = s * pdy[0];
        const int64_t n = x->numel;
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            dx[i] += g;
        return;
    }
    NBI_FOR_STRIDED2(x, &v, i, ox, oy, dx[ox] += s * pdy[oy];);
}

/* max / min: forward also records, per output slot, the flat index of the first maximum
 * (minimum) when the op is recorded, so backward needs no comparison. */
static void NB_FN(max_fwd)(nbi_record *r, int64_t *arg, bool lo)
{
    const nb_tensor *x = r->in[0];
    nb_tensor v = reduced_view(x, r->out, reduced_axes(r));
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    for (int64_t o = 0; o < r->out->numel; o++)
        py[o] = lo ? INFINITY : -INFINITY;
    if (arg)
        for (int64_t o = 0; o < r->out->numel; o++)
            arg[o] = -1;
    NBI_FOR_STRIDED2(x, &v, i, ox, oy, {
        const T val = px[ox];
        const bool take = (arg && arg[oy] < 0) || (lo ? val < py[oy] : val > py[oy]) ||
                          (isnan(val) && !isnan(py[oy]));
        if (take) {
            py[oy] = val;
            if (arg)
                arg[oy] = ox;
        }
    });
}

static void NB_FN(max_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const int64_t *arg = r->saved;
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t o = 0; o < r->out->numel; o++)
        dx[arg[o]] += pdy[o];
}

/* argmax / argmin over one axis: not differentiable; output i64. */
static void NB_FN(argmax_fwd)(nbi_record *r, const nb_tensor *v, bool lo)
{
    const nb_tensor *x = r->in[0];
    const T *px = nbi_data(x);
    int64_t *py = nbi_data(r->out);
    const unsigned mask = reduced_axes(r);
    int ax = -1;
    for (int d = 0; d < x->ndim; d++)
        if (mask & (1u << d))
            ax = d;
    int64_t inner = 1;
    for (int d = ax + 1; d < x->ndim; d++)
        inner *= x->shape[d];
    for (int64_t o = 0; o < r->out->numel; o++)
        py[o] = -1;
    NBI_FOR_STRIDED2(x, v, i, ox, oy, {
        const int64_t k = (i / inner) % x->shape[ax];
        const T cur = py[oy] < 0 ? 0 : px[ox - (k - py[oy]) * inner];
        const bool better = lo ? px[ox] < cur : px[ox] > cur;
        if (py[oy] < 0 || better || (isnan(px[ox]) && !isnan(cur))) /* NaN wins either way */
            py[oy] = k;
    });
}
