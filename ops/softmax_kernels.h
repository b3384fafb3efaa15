/* ops/softmax_kernels.h — softmax and log-softmax, forward and backward.
 * Written once over the element type T and included twice by softmax.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* One contiguous row of n: the same arithmetic as the strided loops below (the maximum, the sum
 * of exponentials in double, then the outputs), written so that each loop vectorises. */
static void NB_FN(softmax_row)(const T *restrict x, T *restrict y, int64_t n, bool logsm)
{
    T m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t k = 0; k < n; k++)
        m = x[k] > m ? x[k] : m;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; k++)
        s += (double)exp(x[k] - m);
    if (logsm) {
        const T ls = (T)log(s);
#pragma omp simd
        for (int64_t k = 0; k < n; k++)
            y[k] = (x[k] - m) - ls;
    } else {
#pragma omp simd
        for (int64_t k = 0; k < n; k++)
            y[k] = (T)(exp(x[k] - m) / s);
    }
}

/* The op's forward (typed slots of nbi_op_softmax and nbi_op_log_softmax; the record's op says
 * which). */
static nb_status NB_FN(softmax_fwd)(nbi_record *r)
{
    const bool logsm = r->id == NB_OP_LOG_SOFTMAX;
    int64_t outer, n, inner;
    layout(r, &outer, &n, &inner);
    const T *px = nbi_data(r->in[0]);
    T *py = nbi_data(r->out);
    const int nt = nbi_threads_for(outer * n * inner * 16);
    NBI_PARALLEL_RANGE(
        outer, nt, lo, hi, for (int64_t o = lo; o < hi; o++) {
            if (inner == 1) { /* the last axis: contiguous rows, vector loops */
                NB_FN(softmax_row)(px + o * n, py + o * n, n, logsm);
                continue;
            }
            for (int64_t j = 0; j < inner; j++) {
                const T *x = px + o * n * inner + j;
                T *y = py + o * n * inner + j;
                T m = -INFINITY;
                for (int64_t k = 0; k < n; k++)
                    m = x[k * inner] > m ? x[k * inner] : m;
                double s = 0; /* in double: a float sum drifts over long axes */
                for (int64_t k = 0; k < n; k++)
                    s += exp(x[k * inner] - m);
                if (logsm) {
                    /* (x - m) - log(s), not x - (m + log(s)): m + log(s) would be rounded at the
                     * magnitude of the logits, costing float precision when they are large. */
                    const T ls = (T)log(s);
                    for (int64_t k = 0; k < n; k++)
                        y[k * inner] = (x[k * inner] - m) - ls;
                } else {
                    for (int64_t k = 0; k < n; k++)
                        y[k * inner] = (T)(exp(x[k * inner] - m) / s);
                }
            }
        });
    return NB_OK;
}

/* The op's backward: dx += the vector-Jacobian product of softmax or log-softmax. */
static void NB_FN(softmax_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const bool logsm = r->id == NB_OP_LOG_SOFTMAX;
    int64_t outer, n, inner;
    layout(r, &outer, &n, &inner);
    const T *py = nbi_data(r->out), *pdy = nbi_data(r->out->grad);
    T *pdx = nbi_data(r->in[0]->grad);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < inner; j++) {
            const int64_t base = o * n * inner + j;
            const T *y = py + base, *dy = pdy + base;
            T *dx = pdx + base;
            double acc = 0;
            if (logsm && inner == 1) { /* contiguous: vector loops, the same sums */
#pragma omp simd reduction(+ : acc)
                for (int64_t k = 0; k < n; k++)
                    acc += dy[k];
                const T s = (T)acc;
#pragma omp simd
                for (int64_t k = 0; k < n; k++)
                    dx[k] += dy[k] - exp(y[k]) * s;
            } else if (logsm) {
                for (int64_t k = 0; k < n; k++)
                    acc += dy[k * inner];
                const T s = (T)acc;
                for (int64_t k = 0; k < n; k++)
                    dx[k * inner] += dy[k * inner] - exp(y[k * inner]) * s;
            } else {
                for (int64_t k = 0; k < n; k++)
                    acc += (double)dy[k * inner] * y[k * inner];
                const T s = (T)acc;
                for (int64_t k = 0; k < n; k++)
                    dx[k * inner] += y[k * inner] * (dy[k * inner] - s);
            }
        }
    }
}
