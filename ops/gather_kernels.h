/* ops/gather_kernels.h — index walks of gather, scatter, index_select and masks.
 * Written once over the element type T and included twice by gather.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* For each element k of idx (multi-index mi): dst[dst_off] op= src[src_off], where the offset on
 * the indexed side (x's shape, `xs`) has coordinate ax replaced by idx[k] and the other side's
 * is mi in its own shape (`os`). to_x: the indexed side is dst (scatter) or src (gather). */
static void NB_FN(index_walk)(const nb_tensor *idx, int ax, const int64_t *xs, const int64_t *os,
                              void *dst, const void *src, bool to_x, bool add)
{
    const int64_t *id = nbi_data(idx);
    T *d = dst;
    const T *s = src;
    int64_t mi[NB_MAX_DIMS] = {0};
    const int nd = idx->ndim;
    for (int64_t k = 0; k < idx->numel; k++, nbi_next_index(nd, idx->shape, mi)) {
        const int64_t xo = offset_at(nd, mi, xs, ax, id[k]);
        const int64_t oo = offset_at(nd, mi, os, -1, 0);
        const int64_t di = to_x ? xo : oo, si = to_x ? oo : xo;
        if (add)
            d[di] += s[si];
        else
            d[di] = s[si];
    }
}

static void NB_FN(scatter_dx)(nbi_record *r)
{
    const unsigned char *written = nb_op_saved(r);
    const T *dy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t i = 0; i < r->out->numel; i++)
        dx[i] += written && written[i] ? 0 : dy[i];
}

/* dsrc[k] += dy[written position of k] for the writes that won (every write for scatter_add). */
static void NB_FN(scatter_dsrc)(nbi_record *r, int ax)
{
    const nb_tensor *idx = r->in[1], *src = r->in[2];
    const unsigned char *saved = nb_op_saved(r), *wins = saved ? saved + r->out->numel : NULL;
    const int64_t *id = nbi_data(idx);
    const T *dy = nbi_data(r->out->grad);
    T *ds = nbi_data(src->grad);
    int64_t mi[NB_MAX_DIMS] = {0};
    for (int64_t k = 0; k < idx->numel; k++, nbi_next_index(idx->ndim, idx->shape, mi))
        if (!wins || wins[k])
            ds[offset_at(idx->ndim, mi, src->shape, -1, 0)] +=
                dy[offset_at(idx->ndim, mi, r->out->shape, ax, id[k])];
}

/* Rows along the axis: for o, k: dst[o, id[k] or k, :] += (or =) alpha * src[o, k or id[k], :],
 * dst having nd rows per outer slice, src ns. scatter: the ids index dst, else src. */
static void NB_FN(rows_walk)(const int64_t *id, int64_t n_id, int64_t outer, int64_t inner,
                             int64_t nd, int64_t ns, void *dst, const void *src, double alpha,
                             bool scatter, bool add)
{
    T *d = dst;
    const T *s = src;
    const T al = (T)alpha;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < n_id; k++) {
            T *dr = d + (o * nd + (scatter ? id[k] : k)) * inner;
            const T *sr = s + (o * ns + (scatter ? k : id[k])) * inner;
            if (add)
                for (int64_t i = 0; i < inner; i++)
                    dr[i] += al * sr[i];
            else
                for (int64_t i = 0; i < inner; i++)
                    dr[i] = sr[i];
        }
}

static void NB_FN(masked_walk)(const int64_t *m, int64_t n, void *xv, void *yv, bool backward)
{
    T *x = xv, *y = yv;
    for (int64_t i = 0, j = 0; i < n; i++) {
        if (!m[i])
            continue;
        if (backward)
            x[i] += y[j++];
        else
            y[j++] = x[i];
    }
}

/* masked_select's forward: y = the elements of x where the mask (input 1) is 1, in order. */
static nb_status NB_FN(masked_select_fwd)(nbi_record *r)
{
    const int64_t *m = nbi_data(r->in[1]), n = r->in[1]->numel;
    NB_FN(masked_walk)(m, n, nbi_data(r->in[0]), nbi_data(r->out), false);
    return NB_OK;
}

/* masked_select's backward: dx += dy at the elements the mask selected. */
static void NB_FN(masked_select_bwd)(nbi_record *r)
{
    const int64_t *m = nbi_data(r->in[1]), n = r->in[1]->numel;
    if (r->in[0]->grad)
        NB_FN(masked_walk)(m, n, nbi_data(r->in[0]->grad), nbi_data(r->out->grad), true);
}
