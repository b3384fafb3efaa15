/* ops/tri_kernels.h — tril and triu, forward and backward.
 * Written once over the element type T and included by compare.c (nabla/typed.h): NB_FN(name)
 * is name_f32, name_f64 or (where NB_FLOAT is 0) name_i64. */

static void NB_FN(tri_fwd)(const nbi_record *r, bool lower)
{
    const nb_tensor *x = r->in[0];
    const int64_t R = x->shape[x->ndim - 2], C = x->shape[x->ndim - 1];
    const int64_t k = ((const tri_attr *)r->attr)->diagonal,
                  mats = R * C > 0 ? x->numel / (R * C) : 0;
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++) {
                const int64_t at = (m * R + i) * C + j;
                py[at] = tri_keep(lower, i, j, k) ? px[at] : 0;
            }
}

#if NB_FLOAT
/* The backward of tril and triu (typed slots; the record's op says which). */
static void NB_FN(tri_bwd)(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    const bool lower = r->id == NB_OP_TRIL;
    const nb_tensor *x = r->in[0];
    const int64_t R = x->shape[x->ndim - 2], C = x->shape[x->ndim - 1];
    const int64_t k = ((const tri_attr *)r->attr)->diagonal,
                  mats = R * C > 0 ? x->numel / (R * C) : 0;
    const T *dy = nbi_data(r->out->grad);
    T *dx = nbi_data(x->grad);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++) {
                const int64_t at = (m * R + i) * C + j;
                if (tri_keep(lower, i, j, k))
                    dx[at] += dy[at];
            }
}
#endif
