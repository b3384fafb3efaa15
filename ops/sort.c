/* ops/sort.c — argsort along one axis, behind nb_argsort, nb_sort and nb_topk.
 *
 * One op computes NB_I64 indices (not differentiable): each row along the axis is sorted by a
 * stable bottom-up merge sort of its positions (keys read as doubles), and the first k positions
 * are written (k = the row's length for sort and argsort). Sorted values are
 * nb_gather(x, axis, indices), so their gradient is gather's: dy goes back to the element each
 * value came from. Order: ascending puts NaN last, descending first (PyTorch's rule); equal keys
 * keep their order along the axis in both directions. */
#include "ops/op_def.h"

#include <math.h>
#include <string.h>

typedef struct {
    int axis;        /* as given (may be negative) */
    int64_t k;       /* positions kept per row (topk) */
    bool whole;      /* sort, argsort: every position (k unused) */
    bool descending; /* largest first */
    bool in_order;   /* topk with sorted = false: the k kept in their order along the axis */
} sort_attr;

/* x as [outer, n, inner] around its axis (a 0-dim x is [1, 1, 1]); -1 when the axis is bad. */
static int sort_dims(const nbi_record *r, int64_t *outer, int64_t *n, int64_t *inner)
{
    const nb_tensor *x = r->in[0];
    const int ax = nbi_axis(r->api, ((const sort_attr *)r->attr)->axis, x->ndim ? x->ndim : 1);
    *outer = *n = *inner = 1;
    for (int d = 0; d < x->ndim; d++)
        *(d < ax ? outer : d == ax ? n : inner) *= x->shape[d];
    return ax;
}

static nb_status argsort_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const sort_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    int64_t outer, n, inner;
    const int ax = sort_dims(r, &outer, &n, &inner);
    if (ax < 0)
        return nb_last_status();
    if (!a->whole && (a->k < 0 || a->k > n))
        return nbi_error(NB_ERR_VALUE, "%s: k = %lld is outside [0, %lld] (size of axis %d of %s)",
                         r->api, (long long)a->k, (long long)n, a->axis, nbi_fmt_shape(x));
    *dtype = NB_I64;
    *ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++)
        shape[d] = d == ax && !a->whole ? a->k : x->shape[d];
    return NB_OK;
}

/* Key u goes strictly before key v (NaN above every number). */
static inline bool precedes(double u, double v, bool desc)
{
    return desc ? !isnan(v) && (isnan(u) || u > v) : !isnan(u) && (isnan(v) || u < v);
}

/* Stable merge sort of the positions idx[0..n) by key; tmp: n scratch positions. */
static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, const double *key, bool desc)
{
    enum { RUN = 16 }; /* runs of RUN positions are insertion-sorted first (stable too) */
    for (int64_t lo = 0; lo < n; lo += RUN) {
        const int64_t hi = lo + RUN < n ? lo + RUN : n;
        for (int64_t i = lo + 1; i < hi; i++) {
            const int64_t p = idx[i];
            int64_t j = i;
            for (; j > lo && precedes(key[p], key[idx[j - 1]], desc); j--)
                idx[j] = idx[j - 1];
            idx[j] = p;
        }
    }
    int64_t *src = idx, *dst = tmp;
    for (int64_t w = RUN; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            const int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                dst[o++] = precedes(key[src[j]], key[src[i]], desc) ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < hi)
                dst[o++] = src[j++];
        }
        int64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, (size_t)n * sizeof *idx);
}

#define NB_KERNELS "ops/sort_kernels.h"
#include "nabla/typed.h"

static nb_status argsort_forward(nbi_record *r)
{
    int64_t outer, n, inner;
    sort_dims(r, &outer, &n, &inner);
    bool heap = false;
    const size_t m = (size_t)(n > 0 ? n : 1);
    char *work = nbi_work_alloc(r->api, m * (sizeof(double) + 2 * sizeof(int64_t) + 1), &heap);
    if (!work)
        return nb_last_status();
    double *key = (double *)work;
    int64_t *idx = (int64_t *)(work + m * sizeof(double));
    unsigned char *kept = (unsigned char *)(idx + 2 * m);
    NB_DISPATCH(r->in[0]->dtype, argsort_fwd, r, key, idx, kept);
    if (heap)
        nbi_free(work);
    return NB_OK;
}

const nbi_op_def nbi_op_argsort = {
    .name = "argsort",
    .api = "nb_argsort",
    .arity = 1,
    .flags = NBI_OP_NONDIFF | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(sort_attr),
    .shape = argsort_shape,
    .forward = argsort_forward,
};

nb_tensor *nb_argsort(nb_tensor *x, int axis, bool descending)
{
    const sort_attr a = {.axis = axis, .whole = true, .descending = descending};
    return nbi_apply(NB_OP_ARGSORT, 1, &x, &a);
}

/* Indices from the op (messages naming fn), and the values gathered with them. */
static nb_status sort_outputs(const char *fn, nb_tensor *x, const sort_attr *a, nb_tensor **values,
                              nb_tensor **indices)
{
    if (values)
        *values = NULL;
    if (indices)
        *indices = NULL;
    nb_tensor *idx = nbi_apply_as(NB_OP_ARGSORT, fn, NULL, 1, &x, a);
    if (!idx)
        return nb_last_status();
    if (values && !(*values = nb_gather(x, a->axis, idx))) {
        nb_tensor_free(idx);
        return nb_last_status();
    }
    if (indices)
        *indices = idx;
    else
        nb_tensor_free(idx);
    return NB_OK;
}

nb_status nb_sort(nb_tensor *x, int axis, bool descending, nb_tensor **values, nb_tensor **indices)
{
    const sort_attr a = {.axis = axis, .whole = true, .descending = descending};
    return sort_outputs("nb_sort", x, &a, values, indices);
}

nb_status nb_topk(nb_tensor *x, int64_t k, int axis, bool largest, bool sorted, nb_tensor **values,
                  nb_tensor **indices)
{
    const sort_attr a = {.axis = axis, .k = k, .descending = largest, .in_order = !sorted};
    return sort_outputs("nb_topk", x, &a, values, indices);
}
