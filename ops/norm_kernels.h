/* ops/norm_kernels.h — layer normalisation, forward and backward.
 * Written once over the element type T and included twice by norm.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* One row: its mean and 1 / sqrt(var + eps) into st[0], st[1], and y. */
static void NB_FN(ln_row_fwd)(const T *x, T *y, const T *w, const T *b, int64_t D, double eps,
                              double *st)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < D; d++)
        s += (double)x[d];
    const double mu = s / (double)D;
    double v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t d = 0; d < D; d++) {
        const double c = (double)x[d] - mu;
        v += c * c;
    }
    const double rstd = 1.0 / sqrt(v / (double)D + eps);
    st[0] = mu;
    st[1] = rstd;
    const T m = (T)mu, rs = (T)rstd;
    if (w)
#pragma omp simd
        for (int64_t d = 0; d < D; d++)
            y[d] = (x[d] - m) * rs * w[d] + b[d];
    else
#pragma omp simd
        for (int64_t d = 0; d < D; d++)
            y[d] = (x[d] - m) * rs;
}

static nb_status NB_FN(ln_fwd)(nbi_record *r)
{
    int64_t rows, D;
    ln_layout(r, &rows, &D);
    /* ops run in a step (a private one outside the caller's), so the statistics live in an
     * arena until backward */
    double *st = nbi_scratch((size_t)(2 * rows) * sizeof *st + 1);
    if (!st)
        return nbi_error(NB_ERR_NOMEM, "nb_layer_norm: out of memory");
    r->saved = st;
    const T *x = nbi_data(r->in[0]);
    const T *w = r->n_in > 1 ? nbi_data(r->in[1]) : NULL, *b = w ? nbi_data(r->in[2]) : NULL;
    T *y = nbi_data(r->out);
    const double eps = ((const ln_attr *)r->attr)->eps;
    const int nt = nbi_threads_for(rows * D * 8);
    NBI_PARALLEL_RANGE(rows, nt, lo, hi,
                       for (int64_t i = lo; i < hi; i++)
                           NB_FN(ln_row_fwd)(x + i * D, y + i * D, w, b, D, eps, st + 2 * i););
    return NB_OK;
}

/* One row of dx (written when fresh, else added). */
static void NB_FN(ln_row_bwd)(const T *x, const T *dy, const T *w, const double *st, int64_t D,
                              bool fresh, T *dx)
{
    const T m = (T)st[0], rs = (T)st[1];
    double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
    for (int64_t d = 0; d < D; d++) {
        const T g = w ? dy[d] * w[d] : dy[d], xh = (x[d] - m) * rs;
        sg += (double)g;
        sgx += (double)(g * xh);
    }
    const T mg = (T)(sg / (double)D), mgx = (T)(sgx / (double)D);
    if (fresh)
#pragma omp simd
        for (int64_t d = 0; d < D; d++) {
            const T g = w ? dy[d] * w[d] : dy[d], xh = (x[d] - m) * rs;
            dx[d] = rs * (g - mg - xh * mgx);
        }
    else
#pragma omp simd
        for (int64_t d = 0; d < D; d++) {
            const T g = w ? dy[d] * w[d] : dy[d], xh = (x[d] - m) * rs;
            dx[d] += rs * (g - mg - xh * mgx);
        }
}

static void NB_FN(ln_bwd)(nbi_record *r)
{
    int64_t rows, D;
    ln_layout(r, &rows, &D);
    const double *st = r->saved;
    nb_tensor *xt = r->in[0];
    nb_tensor *wt = r->n_in > 1 ? r->in[1] : NULL, *bt = wt ? r->in[2] : NULL;
    const T *x = nbi_data(xt), *dy = nbi_data(r->out->grad);
    const T *w = wt ? nbi_data(wt) : NULL;
    if (xt->grad) {
        T *dx = nbi_data(xt->grad);
        const bool fresh = xt->grad_fresh;
        const int nt = nbi_threads_for(rows * D * 10);
        NBI_PARALLEL_RANGE(rows, nt, lo, hi,
                           for (int64_t i = lo; i < hi; i++) NB_FN(ln_row_bwd)(
                               x + i * D, dy + i * D, w, st + 2 * i, D, fresh, dx + i * D););
    }
    if (!(wt && wt->grad) && !(bt && bt->grad))
        return;
    bool heap;
    double *acc = nbi_work_alloc("nb_layer_norm", (size_t)(2 * D) * sizeof *acc, &heap);
    if (!acc)
        return; /* the error is set: nb_backward reports it */
    double *aw = acc, *ab = acc + D;
    for (int64_t i = 0; i < rows; i++) {
        const T *xr = x + i * D, *dr = dy + i * D;
        const T m = (T)st[2 * i], rs = (T)st[2 * i + 1];
#pragma omp simd
        for (int64_t d = 0; d < D; d++) {
            aw[d] += (double)(dr[d] * ((xr[d] - m) * rs));
            ab[d] += (double)dr[d];
        }
    }
    nb_tensor *gt[2] = {wt, bt};
    for (int k = 0; k < 2; k++) {
        if (!gt[k]->grad)
            continue;
        T *g = nbi_data(gt[k]->grad);
        const double *a = k ? ab : aw;
        if (gt[k]->grad_fresh)
            for (int64_t d = 0; d < D; d++)
                g[d] = (T)a[d];
        else
            for (int64_t d = 0; d < D; d++)
                g[d] += (T)a[d];
    }
    if (heap)
        nbi_free(acc);
}
