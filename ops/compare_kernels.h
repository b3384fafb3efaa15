/* ops/compare_kernels.h — where and masked_fill, forward and backward; masks of another dtype.
 * Written once over the element type T and included by compare.c (nabla/typed.h): NB_FN(name)
 * is name_f32, name_f64 or (where NB_FLOAT is 0) name_i64. */

/* cond, then (NULL: the scalar v) and else as strided views of the output's shape. */
static void NB_FN(select_fwd)(const nbi_record *r, const nb_tensor *C, const nb_tensor *A,
                               double v, const nb_tensor *B)
{
    const nb_tensor *in[3] = {C, B, A ? A : B};
    const T *pc = nbi_data(C), *pb = nbi_data(B), *pa = nbi_data(in[2]);
    const T fill = (T)v;
    T *py = nbi_data(r->out);
    FOR_ROWS(3, in, o, s, n, i0, {
        for (int64_t k = 0; k < n; k++)
            py[i0 + k] =
                pc[o[0] + k * s[0]] != 0 ? (A ? pa[o[2] + k * s[2]] : fill) : pb[o[1] + k * s[1]];
    });
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
    FOR_ROWS(1, in, o, s, n, i0, {
        for (int64_t k = 0; k < n; k++)
            if ((pc[o[0] + k * s[0]] != 0) == when)
                g[i0 + k] += dy[i0 + k];
    });
}

#endif
