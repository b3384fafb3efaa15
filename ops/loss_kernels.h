/* ops/loss_kernels.h — the fused nll op's forward and backward.
 * Written once over the element type T and included twice by loss.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static void NB_FN(nll_fwd)(nbi_record *r, int64_t outer, int64_t C, int64_t inner)
{
    const nll_attr *a = r->attr;
    const T *x = nbi_data(r->in[0]), *w = nbi_data(r->in[2]);
    const int64_t *t = nbi_data(r->in[1]);
    T *y = nbi_data(r->out);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t s = 0; s < inner; s++) {
            const int64_t i = o * inner + s, c = t[i];
            y[i] = a->ignore && c == a->ignore_index ? (T)0 : -w[c] * x[(o * C + c) * inner + s];
        }
}

/* nll's backward (typed slots): dims from the record. */
static void NB_FN(nll_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    int64_t outer, C, inner;
    nll_dims(r->in[0], &outer, &C, &inner);
    const nll_attr *a = r->attr;
    const T *w = nbi_data(r->in[2]), *dy = nbi_data(r->out->grad);
    const int64_t *t = nbi_data(r->in[1]);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t s = 0; s < inner; s++) {
            const int64_t i = o * inner + s, c = t[i];
            if (!(a->ignore && c == a->ignore_index))
                dx[(o * C + c) * inner + s] -= w[c] * dy[i];
        }
}
