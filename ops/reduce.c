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

typedef struct {
    unsigned mask; /* bit d set: axis d is reduced */
    bool keepdim;
} reduce_attr;

static nb_status reduce_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const reduce_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    int n = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!(a->mask & (1u << d)))
            shape[n++] = x->shape[d];
        else if (a->keepdim)
            shape[n++] = 1;
        if ((a->mask & (1u << d)) && x->shape[d] == 0 &&
            (r->id == NB_OP_MAX || r->id == NB_OP_ARGMAX))
            return nbi_error(NB_ERR_SHAPE, "%s: cannot take the %s over an empty axis of %s",
                             r->def->api, r->def->name, nbi_fmt_shape(x));
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
    const reduce_attr *a = r->attr;
    nb_tensor v = reduced_view(x, r->out, a->mask);
    NBI_DISPATCH(x->dtype, sum_acc, x, &v, acc);
    for (int64_t i = 0; i < r->out->numel; i++)
        py[i] = (T)(acc[i] * scale);
})

NBI_TYPED(sum_bwd, (nbi_record * r, double scale), {
    const nb_tensor *x = r->in[0];
    const reduce_attr *a = r->attr;
    nb_tensor v = reduced_view(x, r->out->grad, a->mask);
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
        !(acc = nbi_work_alloc(r->def->api, (size_t)r->out->numel * sizeof *acc, &heap)))
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
    int64_t c = reduce_count(r->in[0], ((const reduce_attr *)r->attr)->mask);
    return sum_into(r, c ? 1.0 / (double)c : NAN);
}

static void mean_backward(nbi_record *r)
{
    int64_t c = reduce_count(r->in[0], ((const reduce_attr *)r->attr)->mask);
    if (r->in[0]->grad && c)
        NBI_DISPATCH(r->out->dtype, sum_bwd, r, 1.0 / (double)c);
}

/* max: forward also records, per output slot, the flat index of the first maximum (when the
 * op is recorded), so backward needs no comparison. */
NBI_TYPED(max_fwd, (nbi_record * r, int64_t *arg), {
    const nb_tensor *x = r->in[0];
    const reduce_attr *a = r->attr;
    nb_tensor v = reduced_view(x, r->out, a->mask);
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
    int ax = -1;
    for (int d = 0; d < x->ndim; d++)
        if (((const reduce_attr *)r->attr)->mask & (1u << d))
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
    nb_tensor v = reduced_view(r->in[0], r->out, ((const reduce_attr *)r->attr)->mask);
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

static nb_tensor *reduce(nb_op_id id, const char *fn, nb_tensor *x, int n_axes, const int *axes,
                         bool keepdim)
{
    reduce_attr a = {0, keepdim};
    if (!nbi_check_live(fn, x))
        return NULL;
    if (x) {
        if (n_axes < 1 || n_axes > x->ndim || !axes) {
            nbi_error(NB_ERR_VALUE, "%s: %d axes given for a %d-dim tensor %s", fn, n_axes, x->ndim,
                      nbi_fmt_shape(x));
            return NULL;
        }
        for (int i = 0; i < n_axes; i++) {
            int ax = nbi_axis(fn, axes[i], x->ndim);
            if (ax < 0)
                return NULL;
            if (a.mask & (1u << ax)) {
                nbi_error(NB_ERR_VALUE, "%s: axis %d given twice", fn, axes[i]);
                return NULL;
            }
            a.mask |= 1u << ax;
        }
    }
    return nbi_apply(id, 1, &x, &a);
}

nb_tensor *nb_sum_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_SUM, "nb_sum", x, n_axes, axes, keepdim);
}

nb_tensor *nb_mean_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_MEAN, "nb_mean", x, n_axes, axes, keepdim);
}

nb_tensor *nb_max_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_MAX, "nb_max", x, n_axes, axes, keepdim);
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
    return reduce(NB_OP_ARGMAX, "nb_argmax", x, 1, &axis, false);
}

static nb_tensor *reduce_all(nb_op_id id, const char *fn, nb_tensor *x)
{
    int axes[NB_MAX_DIMS];
    if (!x || !nbi_check_live(fn, x))
        return reduce(id, fn, NULL, 0, NULL, false);
    if (x->ndim == 0)
        return nb_reshape(x, 0, NULL); /* already a scalar */
    for (int i = 0; i < x->ndim; i++)
        axes[i] = i;
    return reduce(id, fn, x, x->ndim, axes, false);
}

nb_tensor *nb_sum_all(nb_tensor *x)
{
    return reduce_all(NB_OP_SUM, "nb_sum_all", x);
}

nb_tensor *nb_mean_all(nb_tensor *x)
{
    return reduce_all(NB_OP_MEAN, "nb_mean_all", x);
}
