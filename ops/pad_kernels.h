/* ops/pad_kernels.h — constant padding (pool.c's pad op), forward and backward.
 * Written once over the element type T and included twice by pool.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static nb_status NB_FN(pad_fwd)(nbi_record *r)
{
    const pad_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    T *py = nbi_data(r->out);
    const T *px = nbi_data(x);
    for (int64_t i = 0; i < r->out->numel; i++)
        py[i] = (T)a->value;
    nb_tensor v = inner_view(r, r->out);
    T *pv = nbi_data(&v);
    NBI_FOR_STRIDED(&v, i, off, pv[off] = px[i];);
    return NB_OK;
}

static void NB_FN(pad_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const nb_tensor *x = r->in[0];
    nb_tensor v = inner_view(r, r->out->grad);
    const T *pv = nbi_data(&v);
    T *dx = nbi_data(x->grad);
    NBI_FOR_STRIDED(&v, i, off, dx[i] += pv[off];);
}
