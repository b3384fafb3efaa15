/* ops/remap_kernels.h — the remap ops' walk.
 * Written once over the element type T and included twice by remap.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* y[o] = x[map(o)] (backward: dx[map(o)] += dy[o]), walking the output row by row. */
static void NB_FN(remap_walk)(const plan *p, const int64_t *tab, const int64_t *at, void *xv,
                              void *yv, bool backward)
{
    T *x = xv, *y = yv;
    const int nd = p->ndim, last = nd - 1;
    int64_t mi[NB_MAX_DIMS] = {0}, rows = 1;
    for (int d = 0; d < last; d++)
        rows *= p->out[d];
    const int64_t len = nd ? p->out[last] : 1;
    const int64_t *row_tab = nd ? tab + at[last] : NULL;
    for (int64_t row = 0, o = 0; row < rows; row++, nbi_next_index(last, p->out, mi)) {
        int64_t base = 0;
        for (int d = 0; d < last && base >= 0; d++) {
            const int64_t t = tab[at[d] + mi[d]];
            base = t < 0 ? -1 : base + t;
        }
        for (int64_t j = 0; j < len; j++, o++) {
            const int64_t t = row_tab ? row_tab[j] : 0;
            const bool in = base >= 0 && t >= 0;
            if (backward && in)
                x[base + t] += y[o];
            else if (!backward)
                y[o] = in ? x[base + t] : (T)p->value;
        }
    }
}
