/* ops/reduce.c — sum, mean, max and min over a set of axes (keepdim or not), argmax and argmin,
 * and the row reductions prod, var, std, norm, logsumexp, any and all.
 *
 * Every kernel walks x once while a second, "reduced" view of y (x's shape, stride 0 on the
 * reduced axes) gives the output slot of each element:
 *   sum:  y[o] += x[i];             dx[i] += dy[o]
 *   mean: y[o] += x[i] / count;     dx[i] += dy[o] / count
 * (sums accumulate in double whatever the dtype, then round once)
 *   max:  y[o] = max x[i];          dx[first argmax of o] += dy[o]   (min likewise)
 * The row reductions (below) see each output slot's elements as one row of doubles. */
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
    double p; /* var/std: the correction; norm: the order p */
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

/* Reductions with no identity: max, min, their arg forms, and the inf-norm. */
static bool needs_an_element(const nbi_record *r)
{
    const reduce_attr *a = r->attr;
    return r->id == NB_OP_MAX || r->id == NB_OP_ARGMAX || r->id == NB_OP_MIN ||
           r->id == NB_OP_ARGMIN || (r->id == NB_OP_NORM && a->p == INFINITY);
}

/* The scalar argument: var/std's correction is finite, norm's p is >= 0 or +inf. */
static nb_status param_check(const nbi_record *r)
{
    const reduce_attr *a = r->attr;
    if ((r->id == NB_OP_VAR || r->id == NB_OP_STD) && !isfinite(a->p))
        return nbi_error(NB_ERR_VALUE, "%s: correction must be finite, got %g", r->api, a->p);
    if (r->id == NB_OP_NORM && !(a->p >= 0))
        return nbi_error(NB_ERR_VALUE, "%s: p must be >= 0 or inf, got %g", r->api, a->p);
    return NB_OK;
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
        if ((mask & (1u << d)) && x->shape[d] == 0 && needs_an_element(r))
            return nbi_error(NB_ERR_SHAPE, "%s: cannot take the %s over an empty axis of %s",
                             r->api, r->def->name, nbi_fmt_shape(x));
    }
    *ndim = n;
    *dtype = r->id == NB_OP_ARGMAX || r->id == NB_OP_ARGMIN ? NB_I64
             : r->id == NB_OP_ANY || r->id == NB_OP_ALL ? (x->dtype == NB_I64 ? NB_F32 : x->dtype)
                                                        : x->dtype;
    return param_check(r);
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

#define NB_KERNELS "ops/reduce_kernels.h"
#include "nabla/typed.h"

/* Sum (times scale) into r->out through a double accumulator: the output itself for f64, a
 * scratch array for f32. */
static nb_status sum_into(nbi_record *r, double scale)
{
    double *acc = nbi_data(r->out); /* f64: zeroed, as the op does not set NBI_OP_WRITES_ALL */
    bool heap = false;
    if (r->out->dtype != NB_F64 &&
        !(acc = nbi_work_alloc(r->api, (size_t)r->out->numel * sizeof *acc, &heap)))
        return nb_last_status();
    NB_DISPATCH(r->out->dtype, sum_fwd, r, scale, acc);
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
        NB_DISPATCH(r->out->dtype, sum_bwd, r, 1.0);
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
        NB_DISPATCH(r->out->dtype, sum_bwd, r, 1.0 / (double)c);
}

static nb_status max_forward(nbi_record *r)
{
    int64_t *arg = NULL;
    if (nbi_recording() && r->in[0]->requires_grad) {
        arg = nbi_scratch((size_t)r->out->numel * sizeof *arg);
        if (!arg && r->out->numel)
            return nbi_error(NB_ERR_NOMEM, "%s: out of memory", r->api);
    }
    NB_DISPATCH(r->out->dtype, max_fwd, r, arg, r->id == NB_OP_MIN);
    r->saved = arg;
    return NB_OK;
}

static nb_status argmax_forward(nbi_record *r)
{
    nb_tensor v = reduced_view(r->in[0], r->out, reduced_axes(r));
    NB_DISPATCH(r->in[0]->dtype, argmax_fwd, r, &v, r->id == NB_OP_ARGMIN);
    return NB_OK;
}

/* ---- row reductions: prod, var, std, norm, logsumexp, any, all ----
 * Output slot o reduces one row: the elements of x (contiguous) at base(o) + k * step, or at
 * base(o) + roff[k] when the reduced axes are not adjacent, k < count in row-major order over
 * the reduced axes. A row is read into doubles (an f64 row of unit step is read in place) and
 * reduced in double by the op's row function; backward recomputes y in double and scatters the
 * row's gradient into dx (n = count, c = correction):
 *   prod:      y = prod x;        dx_k = dy prod_{j != k} x_j, as prefix times suffix products
 *              (no division: exact with one zero or several)
 *   var:       y = sum (x - mean)^2 / max(0, n - c);      dx = dy 2 (x - mean) / max(0, n - c)
 *   std:       y = sqrt(var);     dx = dy (x - mean) / (max(0, n - c) y), and 0 where y = 0
 *   norm:      y = (sum |x|^p)^(1/p);  dx = dy sign(x) (|x| / y)^(p-1), 0 where x = 0 or y = 0;
 *              p = 1: dy sign(x); p = 2: dy x / y; p = inf: y = max |x|, dy sign(x) shared
 *              equally by the elements at the max (or NaN); p = 0: y = count of x != 0, dx = 0
 *   logsumexp: y = m + log(sum exp(x - m)), m = max x (y = m when m is +-inf; NaN if any x is);
 *              dx = dy exp(x - y)
 *   any / all: 1 if some / every x != 0 (NaN counts as true), else 0 (empty: 0 / 1) */

typedef struct {
    int nk; /* kept axes */
    int64_t kshape[NB_MAX_DIMS], kstride[NB_MAX_DIMS];
    int64_t count, step;
    int64_t *roff; /* NULL: regular rows (step) */
    bool heap;
} rows;

static nb_status rows_init(const nbi_record *r, rows *rw)
{
    const nb_tensor *x = r->in[0];
    const unsigned mask = reduced_axes(r);
    int red[NB_MAX_DIMS], nr = 0;
    memset(rw, 0, sizeof *rw);
    rw->count = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (mask & (1u << d)) {
            red[nr++] = d;
            rw->count *= x->shape[d];
        } else {
            rw->kshape[rw->nk] = x->shape[d];
            rw->kstride[rw->nk++] = x->strides[d];
        }
    }
    bool regular = true;
    for (int i = 0; i + 1 < nr; i++)
        regular &= x->strides[red[i]] == x->strides[red[i + 1]] * x->shape[red[i + 1]];
    rw->step = nr ? x->strides[red[nr - 1]] : 0;
    if (regular || rw->count == 0)
        return NB_OK;
    rw->roff = nbi_work_alloc(r->api, (size_t)rw->count * sizeof *rw->roff, &rw->heap);
    if (!rw->roff)
        return nb_last_status();
    int64_t idx[NB_MAX_DIMS] = {0};
    for (int64_t k = 0; k < rw->count; k++) {
        int64_t off = 0;
        for (int i = 0; i < nr; i++)
            off += idx[i] * x->strides[red[i]];
        rw->roff[k] = off;
        for (int i = nr - 1; i >= 0 && ++idx[i] == x->shape[red[i]]; i--)
            idx[i] = 0;
    }
    return NB_OK;
}

static void rows_free(rows *rw)
{
    if (rw->heap)
        nbi_free(rw->roff);
}

static int64_t row_base(const rows *rw, int64_t o)
{
    int64_t b = 0;
    for (int d = rw->nk - 1; d >= 0; d--) {
        b += (o % rw->kshape[d]) * rw->kstride[d];
        o /= rw->kshape[d];
    }
    return b;
}

#define ROW_WALK(rw, k, off, ...)                                                                  \
    do {                                                                                           \
        const int64_t n_ = (rw)->count, s_ = (rw)->step, *ro_ = (rw)->roff;                        \
        if (ro_) {                                                                                 \
            for (int64_t k = 0; k < n_; k++) {                                                     \
                const int64_t off = ro_[k];                                                        \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t off = k * s_;                                                        \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Row at base as doubles: in place for f64 with unit step, else converted into buf. */
static const double *load_row(const nb_tensor *x, const rows *rw, int64_t base,
                              double *restrict buf)
{
    if (x->dtype == NB_F64) {
        const double *p = (const double *)nbi_data(x) + base;
        if (!rw->roff && rw->step == 1)
            return p;
        ROW_WALK(rw, k, off, buf[k] = p[off];);
    } else if (x->dtype == NB_F32) {
        const float *p = (const float *)nbi_data(x) + base;
        ROW_WALK(rw, k, off, buf[k] = (double)p[off];);
    } else {
        const int64_t *p = (const int64_t *)nbi_data(x) + base;
        ROW_WALK(rw, k, off, buf[k] = (double)p[off];);
    }
    return buf;
}

/* dx[base + row offsets] += g. */
static void store_row_grad(nb_tensor *dx, const rows *rw, int64_t base, const double *restrict g)
{
    if (dx->dtype == NB_F64) {
        double *p = (double *)nbi_data(dx) + base;
        ROW_WALK(rw, k, off, p[off] += g[k];);
    } else {
        float *p = (float *)nbi_data(dx) + base;
        ROW_WALK(rw, k, off, p[off] += (float)g[k];);
    }
}

typedef double (*row_fn)(const double *x, int64_t n, double p);
typedef void (*row_grad_fn)(const double *x, int64_t n, double p, double y, double dy, double *dx);

static double prod_row(const double *x, int64_t n, double p)
{
    (void)p;
    double y = 1;
    for (int64_t k = 0; k < n; k++)
        y *= x[k];
    return y;
}

static void prod_grad(const double *x, int64_t n, double p, double y, double dy, double *dx)
{
    (void)p, (void)y;
    double pre = 1, suf = dy;
    for (int64_t k = 0; k < n; k++) {
        dx[k] = pre;
        pre *= x[k];
    }
    for (int64_t k = n - 1; k >= 0; k--) {
        dx[k] *= suf;
        suf *= x[k];
    }
}

/* Sum of squared deviations from the mean (two passes). */
static double sq_dev(const double *x, int64_t n, double *mean)
{
    double s = 0, ss = 0;
    _Pragma("omp simd reduction(+ : s)") for (int64_t k = 0; k < n; k++) s += x[k];
    const double m = s / (double)n;
    _Pragma("omp simd reduction(+ : ss)") for (int64_t k = 0; k < n; k++) ss +=
        (x[k] - m) * (x[k] - m);
    *mean = m;
    return ss;
}

static double var_row(const double *x, int64_t n, double c)
{
    double m;
    return sq_dev(x, n, &m) / fmax(0.0, (double)n - c);
}

static double std_row(const double *x, int64_t n, double c)
{
    return sqrt(var_row(x, n, c));
}

static void var_grad(const double *x, int64_t n, double c, double y, double dy, double *dx)
{
    (void)y;
    double m;
    sq_dev(x, n, &m);
    const double g = 2 * dy / fmax(0.0, (double)n - c);
    for (int64_t k = 0; k < n; k++)
        dx[k] = g * (x[k] - m);
}

static void std_grad(const double *x, int64_t n, double c, double y, double dy, double *dx)
{
    var_grad(x, n, c, y, y == 0 ? 0 : dy / (2 * y), dx);
}

static double sign_of(double v)
{
    return (double)((v > 0) - (v < 0));
}

static double norm_row(const double *x, int64_t n, double p)
{
    double s = 0;
    if (p == INFINITY) {
        for (int64_t k = 0; k < n; k++)
            if (isnan(x[k]) || fabs(x[k]) > s)
                s = fabs(x[k]);
        return s;
    }
    if (p == 0) {
        for (int64_t k = 0; k < n; k++)
            s += x[k] != 0;
    } else if (p == 1) {
        _Pragma("omp simd reduction(+ : s)") for (int64_t k = 0; k < n; k++) s += fabs(x[k]);
    } else if (p == 2) {
        _Pragma("omp simd reduction(+ : s)") for (int64_t k = 0; k < n; k++) s += x[k] * x[k];
        return sqrt(s);
    } else {
        for (int64_t k = 0; k < n; k++)
            s += pow(fabs(x[k]), p);
        return pow(s, 1 / p);
    }
    return s;
}

static void norm_grad(const double *x, int64_t n, double p, double y, double dy, double *dx)
{
    double ties = 0;
    if (p == INFINITY)
        for (int64_t k = 0; k < n; k++)
            ties += fabs(x[k]) == y || isnan(x[k]);
    for (int64_t k = 0; k < n; k++) {
        const double a = fabs(x[k]);
        if (p == 0 || x[k] == 0 || y == 0)
            dx[k] = 0;
        else if (p == INFINITY)
            dx[k] = a == y || isnan(a) ? sign_of(x[k]) * dy / ties : 0;
        else if (p == 1)
            dx[k] = sign_of(x[k]) * dy;
        else if (p == 2)
            dx[k] = x[k] / y * dy;
        else
            dx[k] = sign_of(x[k]) * pow(a / y, p - 1) * dy;
    }
}

static double logsumexp_row(const double *x, int64_t n, double p)
{
    (void)p;
    double m = -INFINITY, s = 0;
    bool nan = false;
    for (int64_t k = 0; k < n; k++) {
        nan |= isnan(x[k]);
        m = x[k] > m ? x[k] : m;
    }
    if (nan)
        return NAN;
    if (isinf(m))
        return m;
    for (int64_t k = 0; k < n; k++)
        s += exp(x[k] - m);
    return m + log(s);
}

static void logsumexp_grad(const double *x, int64_t n, double p, double y, double dy, double *dx)
{
    (void)p;
    for (int64_t k = 0; k < n; k++)
        dx[k] = dy * exp(x[k] - y);
}

static double any_row(const double *x, int64_t n, double p)
{
    (void)p;
    for (int64_t k = 0; k < n; k++)
        if (x[k] != 0)
            return 1;
    return 0;
}

static double all_row(const double *x, int64_t n, double p)
{
    (void)p;
    for (int64_t k = 0; k < n; k++)
        if (x[k] == 0)
            return 0;
    return 1;
}

static void row_fns(int id, row_fn *f, row_grad_fn *g)
{
    switch (id) {
    case NB_OP_PROD:
        *f = prod_row, *g = prod_grad;
        break;
    case NB_OP_VAR:
        *f = var_row, *g = var_grad;
        break;
    case NB_OP_STD:
        *f = std_row, *g = std_grad;
        break;
    case NB_OP_NORM:
        *f = norm_row, *g = norm_grad;
        break;
    case NB_OP_LOGSUMEXP:
        *f = logsumexp_row, *g = logsumexp_grad;
        break;
    case NB_OP_ANY:
        *f = any_row, *g = NULL;
        break;
    default:
        *f = all_row, *g = NULL;
        break;
    }
}

/* Forward (dy NULL) or backward of a row reduction: two row buffers of count doubles. */
static nb_status rows_run(nbi_record *r, const nb_tensor *dy)
{
    const nb_tensor *x = r->in[0];
    const double p = ((const reduce_attr *)r->attr)->p;
    row_fn f;
    row_grad_fn g;
    row_fns(r->id, &f, &g);
    rows rw;
    if (rows_init(r, &rw) != NB_OK)
        return nb_last_status();
    bool heap = false;
    double *buf =
        nbi_work_alloc(r->api, 2 * (size_t)(rw.count ? rw.count : 1) * sizeof *buf, &heap);
    if (!buf) {
        rows_free(&rw);
        return nb_last_status();
    }
    for (int64_t o = 0; o < r->out->numel; o++) {
        const int64_t base = row_base(&rw, o);
        const double *row = load_row(x, &rw, base, buf);
        const double y = f(row, rw.count, p);
        if (!dy) {
            if (r->out->dtype == NB_F64)
                ((double *)nbi_data(r->out))[o] = y;
            else
                ((float *)nbi_data(r->out))[o] = (float)y;
            continue;
        }
        const double d = dy->dtype == NB_F64 ? ((const double *)nbi_data(dy))[o]
                                             : ((const float *)nbi_data(dy))[o];
        g(row, rw.count, p, y, d, buf + rw.count);
        store_row_grad(x->grad, &rw, base, buf + rw.count);
    }
    if (heap)
        nbi_free(buf);
    rows_free(&rw);
    return NB_OK;
}

static nb_status rows_forward(nbi_record *r)
{
    return rows_run(r, NULL);
}

static void rows_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        (void)rows_run(r, r->out->grad);
}

#define REDUCE_DEF(sym, FLAGS, FWD, BWD)                                                           \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = (FLAGS),                                                                          \
        .attr_size = sizeof(reduce_attr),                                                          \
        .shape = reduce_shape,                                                                     \
        .forward = FWD,                                                                            \
        .backward = BWD,                                                                           \
    };
/* The same with a typed backward pair, BWDK_f32 and BWDK_f64. */
#define REDUCE_DEF_TYPED_BWD(sym, FWD, BWDK)                                                       \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .attr_size = sizeof(reduce_attr),                                                          \
        .shape = reduce_shape,                                                                     \
        .forward = FWD,                                                                            \
        .backward_f32 = BWDK##_f32,                                                                \
        .backward_f64 = BWDK##_f64,                                                                \
    };
REDUCE_DEF(sum, 0, sum_forward, sum_backward)
REDUCE_DEF(mean, 0, mean_forward, mean_backward)
REDUCE_DEF_TYPED_BWD(max, max_forward, max_bwd)
REDUCE_DEF(argmax, NBI_OP_NONDIFF, argmax_forward, NULL)
REDUCE_DEF_TYPED_BWD(min, max_forward, max_bwd)
REDUCE_DEF(argmin, NBI_OP_NONDIFF, argmax_forward, NULL)
REDUCE_DEF(prod, NBI_OP_WRITES_ALL, rows_forward, rows_backward)
REDUCE_DEF(var, NBI_OP_WRITES_ALL, rows_forward, rows_backward)
REDUCE_DEF(std, NBI_OP_WRITES_ALL, rows_forward, rows_backward)
REDUCE_DEF(norm, NBI_OP_WRITES_ALL, rows_forward, rows_backward)
REDUCE_DEF(logsumexp, NBI_OP_WRITES_ALL, rows_forward, rows_backward)
REDUCE_DEF(any, NBI_OP_NONDIFF | NBI_OP_ANY_DTYPE | NBI_OP_WRITES_ALL, rows_forward, NULL)
REDUCE_DEF(all, NBI_OP_NONDIFF | NBI_OP_ANY_DTYPE | NBI_OP_WRITES_ALL, rows_forward, NULL)

/* The axes as given (resolved by the shape rule); messages name the op's function. */
static nb_tensor *reduce_p(nb_op_id id, nb_tensor *x, int n_axes, const int *axes, bool all,
                           bool keepdim, double p)
{
    reduce_attr a = {.n_axes = n_axes, .axes_null = !axes, .all = all, .keepdim = keepdim, .p = p};
    for (int i = 0; axes && i < n_axes && i < NB_MAX_DIMS; i++)
        a.axes[i] = axes[i];
    return nbi_apply(id, 1, &x, &a);
}

static nb_tensor *reduce(nb_op_id id, nb_tensor *x, int n_axes, const int *axes, bool all,
                         bool keepdim)
{
    return reduce_p(id, x, n_axes, axes, all, keepdim, 0.0);
}

/* The row reductions: axes NULL with n_axes 0 reduce every axis. */
static nb_tensor *reduce_rows(nb_op_id id, nb_tensor *x, int n_axes, const int *axes, bool keepdim,
                              double p)
{
    return reduce_p(id, x, n_axes, axes, !axes && n_axes == 0, keepdim, p);
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

nb_tensor *nb_min(nb_tensor *x, int axis, bool keepdim)
{
    return nb_min_axes(x, 1, &axis, keepdim);
}

nb_tensor *nb_min_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce(NB_OP_MIN, x, n_axes, axes, false, keepdim);
}

nb_tensor *nb_argmin(nb_tensor *x, int axis)
{
    return reduce(NB_OP_ARGMIN, x, 1, &axis, false, false);
}

nb_tensor *nb_prod(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce_rows(NB_OP_PROD, x, n_axes, axes, keepdim, 0);
}

nb_tensor *nb_var(nb_tensor *x, int n_axes, const int *axes, double correction, bool keepdim)
{
    return reduce_rows(NB_OP_VAR, x, n_axes, axes, keepdim, correction);
}

nb_tensor *nb_std(nb_tensor *x, int n_axes, const int *axes, double correction, bool keepdim)
{
    return reduce_rows(NB_OP_STD, x, n_axes, axes, keepdim, correction);
}

nb_tensor *nb_norm(nb_tensor *x, double p, int n_axes, const int *axes, bool keepdim)
{
    return reduce_rows(NB_OP_NORM, x, n_axes, axes, keepdim, p);
}

nb_tensor *nb_logsumexp(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce_rows(NB_OP_LOGSUMEXP, x, n_axes, axes, keepdim, 0);
}

nb_tensor *nb_any(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce_rows(NB_OP_ANY, x, n_axes, axes, keepdim, 0);
}

nb_tensor *nb_all(nb_tensor *x, int n_axes, const int *axes, bool keepdim)
{
    return reduce_rows(NB_OP_ALL, x, n_axes, axes, keepdim, 0);
}
