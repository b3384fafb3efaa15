/* ops/gather.c — ops that read or write elements at positions named by an NB_I64 index tensor
 * along one axis (PyTorch's semantics), plus masked selection and the unequal split.
 *
 *   gather:       y[i..] = x[i.. with i_ax = idx[i..]];        dx[that] += dy[i..]
 *   scatter:      y = x; y[i.. with i_ax = idx[i..]] = src[i..]  (the last of repeats wins)
 *                 dx = dy where nothing was written, else 0;  dsrc[i..] += dy[its position]
 *                 for the writes not overwritten later (the others do not reach y)
 *   scatter_add:  same with +=;  dx += dy;                     dsrc[i..] += dy[written position]
 *   index_select: y[o, k, r] = x[o, idx[k], r];                dx[o, idx[k], r] += dy[o, k, r]
 *   index_add:    y = x; y[o, idx[k], r] += alpha src[o, k, r]
 *                 dx += dy;  dsrc[o, k, r] += alpha dy[o, idx[k], r]
 *   masked_select: y = the x[i] whose mask[i] is 1, in row-major order;  dx[i] += dy[j]
 * ([o, k, r] views a tensor as [outer, axis, inner].) Indices are validated by forward against
 * the size they index, naming the index position and value. */
#include "ops/op_def.h"

#include <string.h>

typedef struct {
    int axis;     /* as the user gave it (may be negative) */
    double alpha; /* index_add */
} axis_attr;

/* Position mi (an index tensor's multi-index, ndim dims) as a flat offset into a contiguous
 * tensor of `shape`, with coordinate ax replaced by `at`. */
static int64_t offset_at(int ndim, const int64_t *mi, const int64_t *shape, int ax, int64_t at)
{
    int64_t off = 0;
    for (int d = 0; d < ndim; d++)
        off = off * shape[d] + (d == ax ? at : mi[d]);
    return off;
}

/* NB_ERR_VALUE naming fn and the first index of idx (contiguous) outside [0, n), or NB_OK. */
static nb_status check_indices(const char *fn, const nb_tensor *idx, int64_t n, int ax)
{
    const int64_t *id = nbi_data(idx);
    for (int64_t i = 0; i < idx->numel; i++) {
        if (id[i] >= 0 && id[i] < n)
            continue;
        int64_t mi[NB_MAX_DIMS];
        for (int64_t d = idx->ndim - 1, rest = i; d >= 0; d--) {
            mi[d] = rest % idx->shape[d];
            rest /= idx->shape[d];
        }
        char b[160];
        return nbi_error(NB_ERR_VALUE, "%s: index%s = %lld is outside [0, %lld) (size of axis %d)",
                         fn, nbi_shape_str(idx->ndim, mi, b, sizeof b), (long long)id[i],
                         (long long)n, ax);
    }
    return NB_OK;
}

/* Normalised axis of a->axis for x, or -1 with the error set. */
static int axis_of(const nbi_record *r, const nb_tensor *x)
{
    const axis_attr *a = r->attr;
    return nbi_axis(r->def->api, a->axis, x->ndim > 0 ? x->ndim : 1);
}

/* ---- gather / scatter / scatter_add ---- */

/* Shared shape checks: idx has x's ndim and fits x off the axis (and src everywhere). */
static nb_status gather_like_shape(const nbi_record *r, const nb_tensor *src, nb_dtype *dtype,
                                   int *ndim, int64_t *shape)
{
    const char *fn = r->def->api;
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    int ax = axis_of(r, x);
    if (ax < 0)
        return nb_last_status();
    bool ok = idx->ndim == x->ndim && (!src || src->ndim == x->ndim);
    for (int d = 0; ok && d < x->ndim; d++)
        ok = (d == ax || idx->shape[d] <= x->shape[d]) && (!src || idx->shape[d] <= src->shape[d]);
    if (!ok) {
        if (src)
            return nbi_error(NB_ERR_SHAPE,
                             "%s: index must have x's and src's number of dims, be no larger "
                             "than src in any dim and than x off axis %d: x is %s, index is %s, "
                             "src is %s",
                             fn, ax, nbi_fmt_shape(x), nbi_fmt_shape(idx), nbi_fmt_shape(src));
        return nbi_error(NB_ERR_SHAPE,
                         "%s: index must have x's number of dims and be no larger than x off "
                         "axis %d: x is %s, index is %s",
                         fn, ax, nbi_fmt_shape(x), nbi_fmt_shape(idx));
    }
    *dtype = x->dtype;
    *ndim = src ? x->ndim : idx->ndim;
    memcpy(shape, src ? x->shape : idx->shape, sizeof x->shape);
    return NB_OK;
}

static nb_status gather_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    return gather_like_shape(r, NULL, dtype, ndim, shape);
}

static nb_status scatter_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    return gather_like_shape(r, r->in[2], dtype, ndim, shape);
}

#define NB_KERNELS "ops/gather_kernels.h"
#include "nabla/typed.h"

static void index_walk(nb_dtype dt, const nb_tensor *idx, int ax, const int64_t *xs,
                       const int64_t *os, void *dst, const void *src, bool to_x, bool add)
{
    NB_DISPATCH(dt, index_walk, idx, ax, xs, os, dst, src, to_x, add);
}

static nb_status gather_forward(nbi_record *r)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    const int ax = axis_of(r, x);
    if (check_indices(r->def->api, idx, x->ndim ? x->shape[ax] : 1, ax) != NB_OK)
        return NB_ERR_VALUE;
    index_walk(x->dtype, idx, ax, x->shape, idx->shape, nbi_data(r->out), nbi_data(x), false,
               false);
    return NB_OK;
}

static void gather_backward(nbi_record *r)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    if (x->grad)
        index_walk(x->dtype, idx, axis_of(r, x), x->shape, idx->shape, nbi_data(x->grad),
                   nbi_data(r->out->grad), true, true);
}

const nbi_op_def nbi_op_gather = {
    .name = "gather",
    .api = "nb_gather",
    .arity = 2,
    .flags = NBI_OP_INDEX_IN1,
    .attr_size = sizeof(axis_attr),
    .shape = gather_shape,
    .forward = gather_forward,
    .backward = gather_backward,
};

nb_tensor *nb_gather(nb_tensor *x, int axis, nb_tensor *index)
{
    nb_tensor *in[2] = {x, index};
    axis_attr a = {.axis = axis};
    return nbi_apply(NB_OP_GATHER, 2, in, &a);
}

static nb_status scatter_forward(nbi_record *r)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1], *src = r->in[2];
    const bool add = r->id == NB_OP_SCATTER_ADD;
    const int ax = axis_of(r, x);
    if (check_indices(r->def->api, idx, x->ndim ? x->shape[ax] : 1, ax) != NB_OK)
        return NB_ERR_VALUE;
    memcpy(nbi_data(r->out), nbi_data(x), (size_t)x->numel * nb_dtype_size(x->dtype));
    index_walk(x->dtype, idx, ax, x->shape, src->shape, nbi_data(r->out), nbi_data(src), true, add);
    /* scatter: dx is 0 where src was written, and of repeated indices only the src element
     * written last (the one in y) gets a gradient. Kept for backward: written[x numel], then
     * wins[index numel]. */
    if (!add && nbi_recording()) {
        unsigned char *written = nb_op_save(r, (size_t)(x->numel + idx->numel));
        if (!written)
            return NB_ERR_NOMEM;
        unsigned char *wins = written + x->numel;
        const int64_t *id = nbi_data(idx);
        int64_t mi[NB_MAX_DIMS];
        for (int64_t k = idx->numel - 1; k >= 0; k--) {
            for (int64_t d = idx->ndim - 1, rest = k; d >= 0; d--) {
                mi[d] = rest % idx->shape[d];
                rest /= idx->shape[d];
            }
            const int64_t p = offset_at(idx->ndim, mi, x->shape, ax, id[k]);
            wins[k] = !written[p];
            written[p] = 1;
        }
    }
    return NB_OK;
}

static void scatter_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        NB_DISPATCH(r->out->dtype, scatter_dx, r);
    if (r->in[2]->grad)
        NB_DISPATCH(r->out->dtype, scatter_dsrc, r, axis_of(r, r->in[0]));
}

const nbi_op_def nbi_op_scatter = {
    .name = "scatter",
    .api = "nb_scatter",
    .arity = 3,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(axis_attr),
    .shape = scatter_shape,
    .forward = scatter_forward,
    .backward = scatter_backward,
};

const nbi_op_def nbi_op_scatter_add = {
    .name = "scatter_add",
    .api = "nb_scatter_add",
    .arity = 3,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(axis_attr),
    .shape = scatter_shape,
    .forward = scatter_forward,
    .backward = scatter_backward,
};

nb_tensor *nb_scatter(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src)
{
    nb_tensor *in[3] = {x, index, src};
    axis_attr a = {.axis = axis};
    return nbi_apply(NB_OP_SCATTER, 3, in, &a);
}

nb_tensor *nb_scatter_add(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src)
{
    nb_tensor *in[3] = {x, index, src};
    axis_attr a = {.axis = axis};
    return nbi_apply(NB_OP_SCATTER_ADD, 3, in, &a);
}

/* ---- index_select / index_add ---- */

/* t as [outer, t.shape[ax], inner]. */
static void outer_inner(const nb_tensor *t, int ax, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (d < ax)
            *outer *= t->shape[d];
        else if (d > ax)
            *inner *= t->shape[d];
    }
}

/* rows_walk of x-sized tensor xt and idx-sized tensor it (the ids index xt). */
static void rows_of(const nbi_record *r, void *dst, const void *src, double alpha, bool to_x,
                    bool add)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    const int ax = axis_of(r, x);
    int64_t outer, inner;
    outer_inner(x, ax, &outer, &inner);
    const int64_t nx = x->ndim ? x->shape[ax] : 1, ni = idx->numel;
    if (to_x)
        NB_DISPATCH(x->dtype, rows_walk, nbi_data(idx), ni, outer, inner, nx, ni, dst, src, alpha,
                    true, add);
    else
        NB_DISPATCH(x->dtype, rows_walk, nbi_data(idx), ni, outer, inner, ni, nx, dst, src, alpha,
                    false, add);
}

/* x's shape with the axis sized like the 1-D idx: index_select's output, index_add's src. */
static nb_status selected_shape(const nbi_record *r, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    int ax = axis_of(r, x);
    if (ax < 0)
        return nb_last_status();
    if (idx->ndim != 1)
        return nbi_error(NB_ERR_SHAPE, "%s: index must be 1-D, got %s", r->def->api,
                         nbi_fmt_shape(idx));
    *ndim = x->ndim ? x->ndim : 1;
    for (int d = 0; d < *ndim; d++)
        shape[d] = d == ax ? idx->shape[0] : x->shape[d];
    return NB_OK;
}

static nb_status index_select_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    *dtype = r->in[0]->dtype;
    return selected_shape(r, ndim, shape);
}

static nb_status checked_ids(const nbi_record *r)
{
    const nb_tensor *x = r->in[0];
    const int ax = axis_of(r, x);
    return check_indices(r->def->api, r->in[1], x->ndim ? x->shape[ax] : 1, ax);
}

static nb_status index_select_forward(nbi_record *r)
{
    if (checked_ids(r) != NB_OK)
        return NB_ERR_VALUE;
    rows_of(r, nbi_data(r->out), nbi_data(r->in[0]), 1.0, false, false);
    return NB_OK;
}

static void index_select_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        rows_of(r, nbi_data(r->in[0]->grad), nbi_data(r->out->grad), 1.0, true, true);
}

const nbi_op_def nbi_op_index_select = {
    .name = "index_select",
    .api = "nb_index_select",
    .arity = 2,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(axis_attr),
    .shape = index_select_shape,
    .forward = index_select_forward,
    .backward = index_select_backward,
};

nb_tensor *nb_index_select(nb_tensor *x, int axis, nb_tensor *index)
{
    nb_tensor *in[2] = {x, index};
    axis_attr a = {.axis = axis};
    return nbi_apply(NB_OP_INDEX_SELECT, 2, in, &a);
}

static nb_status index_add_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0], *src = r->in[2];
    int64_t want[NB_MAX_DIMS];
    int n = 0;
    if (selected_shape(r, &n, want) != NB_OK)
        return nb_last_status();
    bool ok = src->ndim == n || (x->ndim == 0 && src->ndim == 0);
    for (int d = 0; ok && d < src->ndim; d++)
        ok = src->shape[d] == want[d];
    if (!ok) {
        char b[160];
        return nbi_error(NB_ERR_SHAPE,
                         "nb_index_add: src must be %s (x %s with axis %d sized "
                         "like index %s), got %s",
                         nbi_shape_str(n, want, b, sizeof b), nbi_fmt_shape(x), axis_of(r, x),
                         nbi_fmt_shape(r->in[1]), nbi_fmt_shape(src));
    }
    *dtype = x->dtype;
    *ndim = x->ndim;
    memcpy(shape, x->shape, sizeof x->shape);
    return NB_OK;
}

static nb_status index_add_forward(nbi_record *r)
{
    const axis_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    if (checked_ids(r) != NB_OK)
        return NB_ERR_VALUE;
    memcpy(nbi_data(r->out), nbi_data(x), (size_t)x->numel * nb_dtype_size(x->dtype));
    rows_of(r, nbi_data(r->out), nbi_data(r->in[2]), a->alpha, true, true);
    return NB_OK;
}

static void index_add_backward(nbi_record *r)
{
    const axis_attr *a = r->attr;
    if (r->in[0]->grad)
        nbi_accumulate(r->in[0]->grad, r->out->grad);
    if (r->in[2]->grad)
        rows_of(r, nbi_data(r->in[2]->grad), nbi_data(r->out->grad), a->alpha, false, true);
}

const nbi_op_def nbi_op_index_add = {
    .name = "index_add",
    .api = "nb_index_add",
    .arity = 3,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(axis_attr),
    .shape = index_add_shape,
    .forward = index_add_forward,
    .backward = index_add_backward,
};

nb_tensor *nb_index_add(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src, double alpha)
{
    nb_tensor *in[3] = {x, index, src};
    axis_attr a = {.axis = axis, .alpha = alpha};
    return nbi_apply(NB_OP_INDEX_ADD, 3, in, &a);
}

/* ---- masked_select ---- */

/* The op takes an i64 0/1 mask of x's shape; nb_masked_select builds it from the caller's. */
static nb_status masked_select_shape(const nbi_record *r, nb_dtype *dtype, int *ndim,
                                     int64_t *shape)
{
    const nb_tensor *x = r->in[0], *m = r->in[1];
    if (!nbi_same_shape(x, m))
        return nbi_error(NB_ERR_SHAPE,
                         "nb_masked_select: mask must have x's shape: x is %s, "
                         "mask is %s",
                         nbi_fmt_shape(x), nbi_fmt_shape(m));
    int64_t count = 0;
    const int64_t *mv = nbi_data(m);
    for (int64_t i = 0; i < m->numel; i++) {
        if (mv[i] != 0 && mv[i] != 1)
            return nbi_error(NB_ERR_VALUE, "nb_masked_select: mask[%lld] = %lld is not 0 or 1",
                             (long long)i, (long long)mv[i]);
        count += mv[i];
    }
    *dtype = x->dtype;
    *ndim = 1;
    shape[0] = count;
    return NB_OK;
}

const nbi_op_def nbi_op_masked_select = {
    .name = "masked_select",
    .api = "nb_masked_select",
    .arity = 2,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .shape = masked_select_shape,
    .forward_f32 = masked_select_fwd_f32,
    .forward_f64 = masked_select_fwd_f64,
    .backward_f32 = masked_select_bwd_f32,
    .backward_f64 = masked_select_bwd_f64,
};

/* Element at storage offset off of t (f32, f64 or i64) as a double. */
static double element(const nb_tensor *t, int64_t off)
{
    const void *p = nbi_data(t);
    switch (t->dtype) {
    case NB_F32:
        return ((const float *)p)[off];
    case NB_F64:
        return ((const double *)p)[off];
    default:
        return (double)((const int64_t *)p)[off];
    }
}

nb_tensor *nb_masked_select(nb_tensor *x, nb_tensor *mask)
{
    const char *fn = "nb_masked_select";
    if (!x || !mask) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, x ? "mask" : "x");
        return NULL;
    }
    if (!nbi_check_live(fn, x) || !nbi_check_live(fn, mask))
        return NULL;
    if (!nbi_is_float(mask->dtype) && mask->dtype != NB_I64) {
        nbi_error(NB_ERR_DTYPE, "%s: mask must be f32, f64 or i64, got %s", fn,
                  nb_dtype_name(mask->dtype));
        return NULL;
    }
    /* mask broadcast to x's shape (stride 0 along the broadcast dims) */
    int64_t ms[NB_MAX_DIMS];
    const int lead = x->ndim - mask->ndim;
    bool ok = lead >= 0;
    for (int d = 0; ok && d < x->ndim; d++) {
        const int md = d - lead;
        ok = md < 0 || mask->shape[md] == 1 || mask->shape[md] == x->shape[d];
        ms[d] = md < 0 || mask->shape[md] == 1 ? 0 : mask->strides[md];
    }
    if (!ok) {
        nbi_error(NB_ERR_SHAPE, "%s: mask %s does not broadcast to x's shape %s", fn,
                  nbi_fmt_shape(mask), nbi_fmt_shape(x));
        return NULL;
    }
    nb_tensor *m = nbi_tensor_alloc_uninit(fn, NB_I64, x->ndim, x->shape);
    if (!m)
        return NULL;
    int64_t *mv = nbi_data(m), mi[NB_MAX_DIMS] = {0};
    for (int64_t i = 0; i < m->numel; i++, nbi_next_index(x->ndim, x->shape, mi)) {
        int64_t off = 0;
        for (int d = 0; d < x->ndim; d++)
            off += mi[d] * ms[d];
        mv[i] = element(mask, off) != 0; /* nonzero (NaN included) is true */
    }
    nb_tensor *in[2] = {x, m};
    nb_tensor *y = nbi_apply(NB_OP_MASKED_SELECT, 2, in, NULL);
    if (!nbi_active_arena())
        nb_tensor_free(m);
    return y;
}

/* ---- unequal split (views, through nb_slice) ---- */
nb_status nb_split_sizes(nb_tensor *x, int axis, int n, const int64_t *sizes, nb_tensor **out)
{
    const char *fn = "nb_split_sizes";
    if (!out || n < 1 || !sizes)
        return nbi_error(NB_ERR_VALUE, "%s: needs n >= 1 (got %d), sizes and out", fn, n);
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (!x)
        return nbi_error_pending() ? nb_last_status()
                                   : nbi_error(NB_ERR_VALUE, "%s: input is NULL", fn);
    if (!nbi_check_live(fn, x))
        return nb_last_status();
    int ax = nbi_axis(fn, axis, x->ndim);
    if (ax < 0)
        return nb_last_status();
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0 || sizes[i] > x->shape[ax] - total)
            return nbi_error(
                NB_ERR_SHAPE, "%s: sizes[%d] = %lld %s (axis %d of %s has %lld, %lld used before)",
                fn, i, (long long)sizes[i], sizes[i] < 0 ? "is negative" : "runs past the axis",
                axis, nbi_fmt_shape(x), (long long)x->shape[ax], (long long)total);
        total += sizes[i];
    }
    if (total != x->shape[ax])
        return nbi_error(NB_ERR_SHAPE, "%s: sizes add up to %lld, axis %d of %s has %lld", fn,
                         (long long)total, axis, nbi_fmt_shape(x), (long long)x->shape[ax]);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        out[i] = nb_slice(x, ax, at, at + sizes[i], 1);
        if (!out[i]) {
            for (int j = 0; j < i; j++) {
                if (!nbi_active_arena())
                    nb_tensor_free(out[j]);
                out[j] = NULL;
            }
            return nb_last_status();
        }
        at += sizes[i];
    }
    return NB_OK;
}
