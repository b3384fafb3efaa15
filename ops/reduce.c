/* ops/reduce.c — sum, mean and max over a set of axes (keepdim or not), and argmax.
 *
 * Every kernel walks x once while a second, "reduced" view of y (x's shape, stride 0 on the
 * reduced axes) gives the output slot of each element:
 *   sum:  y[o] += x[i];             dx[i] += dy[o]
 *   mean: y[o] += x[i] / count;     dx[i] += dy[o] / count
 * (sums accumulate in double whatever the dtype, then round once)
 *   max:  y[o] = max x[i];          dx[first argmax of o] += dy[o] */
#include "ops/op_def.h"

#include <math.h>
#include <string.h>

/* What the caller gave: the axes (at most NB_MAX_DIMS kept; more fail the shape rule by their
 * count), or every axis; reduce_mask validates them against x and resolves them into a mask, for
 * the shape rule and again for forward and backward. */
typedef struct {
    int n_axes;
    int axes[NB_MAX_DIMS];
    bool axes_null, all, keepdim;
} reduce_attr;

/* Bit d set: axis d is reduced. */
static nb_status reduce_mask(const nbi_record *r, unsigned *mask)
{
    const reduce_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    const char *fn = r->api;
    *mask = 0;
    if (a->all) {
        *mask = (1u << x->ndim) - 1;
        return NB_OK;
    }
    if (a->n_axes < 1 || a->n_axes > x->ndim || a->axes_null)
        return nbi_error(NB_ERR_VALUE, "%s: %d axes given for a %d-dim tensor %s", fn, a->n_axes,
                         x->ndim, nbi_fmt_shape(x));
    for (int i = 0; i < a->n_axes; i++) {
        const int ax = nbi_axis(fn, a->axes[i], x->ndim);
        if (ax < 0)
            return nb_last_status();
        if (*mask & (1u << ax))
            return nbi_error(NB_ERR_VALUE, "%s: axis %d given twice", fn, a->axes[i]);
        *mask |= 1u << ax;
    }
    return NB_OK;
}

/* The mask of a record that passed its shape rule. */
static unsigned reduced_axes(const nbi_record *r)
{
    unsigned mask;
    const nb_status st = reduce_mask(r, &mask);
    NB_ASSERT(st == NB_OK);
    return mask;
}

static nb_status reduce_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const reduce_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    unsigned mask;
    const nb_status st = reduce_mask(r, &mask);
    if (st != NB_OK)
        return st;
    int n = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!(mask & (1u << d)))
            shape[n++] = x->shape[d];
        else if (a->keepdim)
            shape[n++] = 1;
        if ((mask & (1u << d)) && x->shape[d] == 0 && (r->id == NB_OP_MAX || r->id == NB_OP_ARGMAX))
            return nbi_error(NB_ERR_SHAPE, "%s: cannot take the %s over an empty axis of %s",
                             r->api, r->def->name, nbi_fmt_shape(x));
    }
    *ndim = n;
    *dtype = r->id == NB_OP_ARGMAX ? NB_I64 : x->dtype;
    return NB_OK;
}

/* View of y (contiguous) with x's shape: reduced axes stride 0. */
static nb_tensor reduced_view(const nb_tensor *x, const nb_tensor *y, unsigned mask)
{
    nb_tensor v = *y;
    int64_t s = 1;
    for (int d = x->ndim - 1; d >= 0; d--) {
        v.shape[d] = x->shape[d];
        if (mask & (1u << d)) {
            v.strides[d] = 0;
        } else {
            v.strides[d] = s;
            s *= x->shape[d];
        }
    }
    v.ndim = x->ndim;
    v.numel = x->numel;
    return v;
}

static int64_t reduce_count(const nb_tensor *x, unsigned mask)
{
    int64_t c = 1;
    for (int d = 0; d < x->ndim; d++)
        if (mask & (1u << d))
            c *= x->shape[d];
    return c;
}

/* acc (double, y's numel, zeroed) += x summed over the reduced axes, x walked row by row along
 * its last dim: a row along a reduced last axis is one vectorised double sum, a row along a kept
 * last axis adds into a run of acc. Float data is accumulated in double too, so a sum of 20M
 * float32 ones along an axis is exact (a float accumulator stalls at 2^24). */
NBI_TYPED(sum_acc, (const nb_tensor *x, const nb_tensor *v, double *restrict acc), {
    const T *px = nbi_data(x);
    const int nd = x->ndim;
    const int64_t len = nd ? x->shape[nd - 1] : 1, sx = nd ? x->strides[nd - 1] : 0,
                  sv = nd ? v->strides[nd - 1] : 0;
    int64_t idx[NB_MAX_DIMS] = {0}, bx = 0, bv = 0;
    if (x->numel == 0)
        return;
    for (;;) {
        const T *restrict row = px + bx;
        double *restrict a = acc + bv;
        if (sv == 0) {
            double s = 0;
            if (sx == 1) {
                _Pragma("omp simd reduction(+ : s)") for (int64_t k = 0; k < len; k++) s += row[k];
            } else {
                for (int64_t k = 0; k < len; k++)
                    s += row[k * sx];
            }
            a[0] += s;
        } else if (sx == 1 && sv == 1) {
            _Pragma("omp simd") for (int64_t k = 0; k < len; k++) a[k] += row[k];
        } else {
            for (int64_t k = 0; k < len; k++)
                a[k * sv] += row[k * sx];
        }
        int d = nd - 2;
        for (; d >= 0; d--) {
            bx += x->strides[d];
            bv += v->strides[d];
            if (++idx[d] < x->shape[d])
                break;
            bx -= x->strides[d] * x->shape[d];
            bv -= v->strides[d] * x->shape[d];
            idx[d] = 0;
        }
        if (d < 0)
            break;
    }
})

NBI_TYPED(sum_fwd, (nbi_record * r, double scale, double *acc), {
    const nb_tensor *x = r->in[0];
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    if (r->out->numel == 1 && nbi_is_contiguous(x)) {
        /* everything into one value: a vectorised sum in double (more exact than a float chain) */
        double s = 0;
        const int64_t n = x->numel;
        _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; i++) s += px[i];
        py[0] = (T)(s * scale);
        return;
    }
    nb_tensor v = reduced_view(x, r->out, reduced_axes(r));
    NBI_DISPATCH(x->dtype, sum_acc, x, &v, acc);
    for (int64_t i = 0; i < r->out->numel; i++)
        py[i] = (T)(acc[i] * scale);
})

NBI_TYPED(sum_bwd, (nbi_record * r, double scale), {
    const nb_tensor *x = r->in[0];
    nb_tensor v = reduced_view(x, r->out->grad, reduced_axes(r));
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(x->grad);
    const T s = (T)scale;
    if (r->out->numel == 1 && nbi_is_contiguous(x)) {
        const T g = s * pdy[0];
        const int64_t n = x->numel;
        _Pragma("omp simd") for (int64_t i = 0; i < n; i++) dx[i] += g;
        return;
    }
    NBI_FOR_STRIDED2(x, &v, i, ox, oy, dx[ox] += s * pdy[oy];);
})

/* Sum (times scale) into r->out through a double accumulator: the output itself for f64, a
 * scratch array for f32. */
static nb_status sum_into(nbi_record *r, double scale)
{
    double *acc = nbi_data(r->out); /* f64: zeroed, as the op does not set NBI_OP_WRITES_ALL */
    bool heap = false;
    if (r->out->dtype != NB_F64 &&
        !(acc = nbi_work_alloc(r->api, (size_t)r->out->numel * sizeof *acc, &heap)))
        return nb_last_status();
    NBI_DISPATCH(r->out->dtype, sum_fwd, r, scale, acc);
    if (heap)
        nbi_free(acc);
    return NB_OK;
}

static nb_status sum_forward(nbi_record *r)
{
    return sum_into(r, 1.0);
}

static void sum_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        NBI_DISPATCH(r->out->dtype, sum_bwd, r, 1.0);
}

static nb_status mean_forward(nbi_record *r)
{
    int64_t c = reduce_count(r->in[0], reduced_axes(r));
    return sum_into(r, c ? 1.0 / (double)c : NAN);
}

static void mean_backward(nbi_record *r)
{
    int64_t c = reduce_count(r->in[0], reduced_axes(r));
    if (r->in[0]->grad && c)
        NBI_DISPATCH(r->out->dtype, sum_bwd, r, 1.0 / (double)c);
}

/* max: forward also records, per output slot, the flat index of the first maximum (when the
 * op is recorded), so backward needs no comparison. */
NBI_TYPED(max_fwd, (nbi_record * r, int64_t *arg), {
    const nb_tensor *x = r->in[0];
    nb_tensor v = reduced_view(x, r->out, reduced_axes(r));
    const T *px = nbi_data(x);
    T *py = nbi_data(r->out);
    for (int64_t o = 0; o < r->out->numel; o++)
        py[o] = -INFINITY;
    if (arg)
        for (int64_t o = 0; o < r->out->numel; o++)
            arg[o] = -1;
    NBI_FOR_STRIDED2(x, &v, i, ox, oy, {
        const T val = px[ox];
        const bool take = (arg && arg[oy] < 0) || val > py[oy] || (isnan(val) && !isnan(py[oy]));
        if (take) {
            py[oy] = val;
            if (arg)
                arg[oy] = ox;
        }
    });
})

static nb_status max_forward(nbi_record *r)
{
    int64_t *arg = NULL;
    if (nbi_recording() && r->in[0]->requires_grad) {
        arg = nbi_scratch((size_t)r->out->numel * sizeof *arg);
        if (!arg && r->out->numel)
            return nbi_error(NB_ERR_NOMEM, "nb_max: out of memory");
    }
    NBI_DISPATCH(r->out->dtype, max_fwd, r, arg);
    r->saved = arg;
    return NB_OK;
}

NBI_TYPED(max_bwd, (nbi_record * r), {
    const int64_t *arg = r->saved;
    const T *pdy = nbi_data(r->out->grad);
    T *dx = nbi_data(r->in[0]->grad);
    for (int64_t o = 0; o < r->out->numel; o++)
        dx[arg[o]] += pdy[o];
})

static void max_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        NBI_DISPATCH(r->out->dtype, max_bwd, r);
}

/* argmax over one axis: not differentiable; output i64. */
NBI_TYPED(argmax_fwd, (nbi_record * r, const nb_tensor *v), {
    const nb_tensor *x = r->in[0];
    const T *px = nbi_data(x);
    int64_t *py = nbi_data(r->out);
    const unsigned mask = reduced_axes(r);
    int ax = -1;
    for (int d = 0; d < x->ndim; d++)
        if (mask & (1u << d))
            ax = d;
    int64_t inner = 1;
    for (int d = ax + 1; d < x->ndim; d++)
        inner *= x->shape[d];
    for (int64_t o = 0; o < r->out->numel; o++)
        py[o] = -1;
    NBI_FOR_STRIDED2(x, v, i, ox, oy, {
        const int64_t k = (i / inner) % x->shape[ax];
        const T cur = py[oy] < 0 ? 0 : px[ox - (k - py[oy]) * inner];
        if (py[oy] < 0 || px[ox] > cur || (isnan(px[ox]) && !isnan(cur))) /* NaN is the max */
            py[oy] = k;
    });
})

static nb_status argmax_forward(nbi_record *r)
{
    nb_tensor v = reduced_view(r->in[0], r->out, reduced_axes(r));
    NBI_DISPATCH(r->in[0]->dtype, argmax_fwd, r, &v);
    return NB_OK;
}

#define REDUCE_DEF(sym, FLAGS, BWD)                                                                \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = (FLAGS),                                                                          \
        .attr_size = sizeof(reduce_attr),                                                          \
        .shape = reduce_shape,                                                                     \
        .forward = sym##_forward,                                                                  \
        .backward = BWD,                                                                           \
    };
REDUCE_DEF(sum, 0, sum_backward)
REDUCE_DEF(mean, 0, mean_backward)
REDUCE_DEF(max, 0, max_backward)
REDUCE_DEF(argmax, NBI_OP_NONDIFF, NULL)

/* The axes as given (resolved by the shape rule); messages name the op's function. */
static nb_tensor *reduce(nb_op_id id, nb_tensor *x, int n_axes, const int *axes, bool all,
                         bool keepdim)
{
    reduce_attr a = {.n_axes = n_axes, .axes_null = !axes, .all = all, .keepdim = keepdim};
    for (int i = 0; axes && i < n_axes && i < NB_MAX_DIMS; i++)
        a.axes[i] = axes[i];
    return nbi_apply(id, 1, &x, &a);
}

nb_tensor *nb_sum_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_SUM, x, n_axes, axes, false, keepdim);
}

nb_tensor *nb_mean_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_MEAN, x, n_axes, axes, false, keepdim);
}

nb_tensor *nb_max_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_MAX, x, n_axes, axes, false, keepdim);
}

nb_tensor *nb_sum(nb_tensor *x, int axis, bool keepdim)
{
    return nb_sum_axes(x, 1, &axis, keepdim);
}

nb_tensor *nb_mean(nb_tensor *x, int axis, bool keepdim)
{
    return nb_mean_axes(x, 1, &axis, keepdim);
}

nb_tensor *nb_max(nb_tensor *x, int axis, bool keepdim)
{
    return nb_max_axes(x, 1, &axis, keepdim);
}

nb_tensor *nb_argmax(nb_tensor *x, int axis)
{
    return reduce(NB_OP_ARGMAX, x, 1, &axis, false, false);
}

/* Over every axis (a scalar is its own sum and mean). */
nb_tensor *nb_sum_all(nb_tensor *x)
{
    return reduce(NB_OP_SUM, x, 0, NULL, true, false);
}

nb_tensor *nb_mean_all(nb_tensor *x)
{
    return reduce(NB_OP_MEAN, x, 0, NULL, true, false);
}
