/* ops/sort_kernels.h — argsort along one axis.
 * Written once over the element type T and included twice by sort.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* work: n keys, 2n positions, n flags. */
static void NB_FN(argsort_fwd)(nbi_record *r, double *restrict key, int64_t *restrict idx,
                               unsigned char *restrict kept)
{
    const sort_attr *a = r->attr;
    int64_t outer, n, inner;
    sort_dims(r, &outer, &n, &inner);
    const int64_t k = a->whole ? n : a->k;
    const T *px = nbi_data(r->in[0]);
    int64_t *py = nbi_data(r->out);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const T *xr = px + o * n * inner + i;
            int64_t *yr = py + o * k * inner + i;
            for (int64_t j = 0; j < n; j++) {
                key[j] = (double)xr[j * inner];
                idx[j] = j;
            }
            merge_sort(idx, idx + n, n, key, a->descending);
            if (!a->in_order) {
                for (int64_t j = 0; j < k; j++)
                    yr[j * inner] = idx[j];
                continue;
            }
            memset(kept, 0, (size_t)n);
            for (int64_t j = 0; j < k; j++)
                kept[idx[j]] = 1;
            for (int64_t j = 0, m = 0; j < n; j++)
                if (kept[j])
                    yr[m++ * inner] = j;
        }
}
