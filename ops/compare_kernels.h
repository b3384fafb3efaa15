/* ops/compare_kernels.h — where and masked_fill, forward and backward; masks of another dtype.
 * Written once over the element type T and included by compare.c (nabla/typed.h): NB_FN(name)
 * is name_f32, name_f64 or (where NB_FLOAT is 0) name_i64. */

/* cond, then (NULL: the scalar v) and else as strided views of the output's shape. */
static void NB_FN(select_fwd)(const nbi_record *r, const nb_tensor *C, const nb_tensor *A, double v,
                              const nb_tensor *B)
{
    const nb_tensor *in[3] = {C, B, A ? A : B};
    const T *pc = nbi_data(C), *pb = nbi_data(B), *pa = nbi_data(in[2]);
    const T fill = (T)v;
    T *py = nbi_data(r->out);
    nbi_rows w;
    for (bool more = rows_init(&w, 3, in); more; more = nbi_rows_next(&w)) {
        const int64_t n = w.len, i0 = w.i0, o0 = w.off[0], o1 = w.off[1], o2 = w.off[2];
        const int64_t s0 = w.st[0], s1 = w.st[1], s2 = w.st[2];
        for (int64_t k = 0; k < n; k++)
            py[i0 + k] = pc[o0 + k * s0] != 0 ? (A ? pa[o2 + k * s2] : fill) : pb[o1 + k * s1];
    }
}

/* out (contiguous, dtype T) = mask m (another dtype, any strides) as 0 and 1, nonzero -> 1. */
static void NB_FN(mask_cast)(const nb_tensor *m, nb_tensor *out)
{
    T *po = nbi_data(out);
    if (m->dtype == NB_I64) {
        NBI_FOR_STRIDED(m, i, off, po[i] = ((const int64_t *)nbi_data(m))[off] != 0;);
    } else if (m->dtype == NB_F32) {
        NBI_FOR_STRIDED(m, i, off, po[i] = ((const float *)nbi_data(m))[off] != 0;);
    } else {
        NBI_FOR_STRIDED(m, i, off, po[i] = ((const double *)nbi_data(m))[off] != 0;);
    }
}

#if NB_FLOAT
/* g (contiguous, the output's shape) += dy where the condition is `when` (true or false). */
static void NB_FN(select_bwd)(const nbi_record *r, const nb_tensor *C, nb_tensor *G, bool when)
{
    const T *pc = nbi_data(C), *dy = nbi_data(r->out->grad);
    T *g = nbi_data(G);
    const nb_tensor *in[1] = {C};
    nbi_rows w;
    for (bool more = rows_init(&w, 1, in); more; more = nbi_rows_next(&w)) {
        const int64_t n = w.len, i0 = w.i0, o0 = w.off[0], s0 = w.st[0];
        for (int64_t k = 0; k < n; k++)
            if ((pc[o0 + k * s0] != 0) == when)
                g[i0 + k] += dy[i0 + k];
    }
}

/* where's backward: da += dy where the condition (input 0) holds, db += dy where it does not. */
static void NB_FN(where_bwd)(nbi_record *r)
{
    for (int w = 1; w <= 2; w++)
        if (r->in[w]->grad)
            NB_FN(select_bwd)(r, r->in[0], r->in[w]->grad, w == 1);
}

/* masked_fill's backward: dx += dy where the mask (input 1) is false. */
static void NB_FN(masked_fill_bwd)(nbi_record *r)
{
    if (r->in[0]->grad)
        NB_FN(select_bwd)(r, r->in[1], r->in[0]->grad, false);
}

#endif
