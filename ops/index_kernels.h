/* ops/index_kernels.h — pick and gather_rows.
 * Written once over the element type T and included twice by index.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static void NB_FN(pick_fwd)(nbi_record *r)
{
    const int64_t C = r->in[0]->shape[1];
    const T *x = nbi_data(r->in[0]);
    const int64_t *idx = nbi_data(r->in[1]);
    T *y = nbi_data(r->out);
    for (int64_t n = 0; n < r->out->numel; n++)
        y[n] = x[n * C + idx[n]];
}

static void NB_FN(pick_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const int64_t C = r->in[0]->shape[1];
    const int64_t *idx = nbi_data(r->in[1]);
    const T *dy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t n = 0; n < r->out->numel; n++)
        dx[n * C + idx[n]] += dy[n];
}

static void NB_FN(gather_rows_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const int64_t D = r->in[0]->shape[1];
    const int64_t *id = nbi_data(r->in[1]);
    const T *dy = nbi_data(r->out->grad);
    T *dt = nbi_data(r->in[0]->grad);
    for (int64_t s = 0; s < r->in[1]->numel; s++)
        for (int64_t d = 0; d < D; d++)
            dt[id[s] * D + d] += dy[s * D + d];
}
