/* ops/user_fn_kernels.h — nb_elementwise's forward and backward.
 * Written once over the element type T and included twice by user_fn.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static nb_status NB_FN(fn_fwd)(nbi_record *r)
{
    double (*f)(double) = ((const fn_attr *)r->attr)->def->f;
    const T *x = nbi_data(r->in[0]);
    T *y = nbi_data(r->out);
    for (int64_t i = 0; i < r->out->numel; i++)
        y[i] = (T)f((double)x[i]);
    return NB_OK;
}

static void NB_FN(fn_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    double (*df)(double, double) = ((const fn_attr *)r->attr)->def->df;
    const T *x = nbi_data(r->in[0]), *y = nbi_data(r->out), *dy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t i = 0; i < r->out->numel; i++)
        dx[i] += (T)((double)dy[i] * df((double)x[i], (double)y[i]));
}
