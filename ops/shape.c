/* ops/shape.c — views (reshape, permute, slice, expand) and copies (contiguous, concat); the
 * strided copies and accumulations they run on are in autograd/strided.c.
 *
 * A view op is defined by its geometry: a function that, given a tensor with x's shape and
 * strides, fills in the view's shape, strides and offset. Forward applies it to x (sharing
 * storage). Backward applies the same geometry to x's contiguous gradient buffer and adds the
 * view's gradient into that strided window: for expand the window has stride-0 dims, so the
 * adds sum the broadcast gradient back to x's shape — the one place where broadcasting is
 * undone. */
#include "ops/op_def.h"

#include <string.h>

/* ---- generic view machinery ---- */
typedef void (*geometry_fn)(const nb_tensor *x, const void *attr, nb_tensor *v);

static nb_tensor *make_view(nbi_record *r, geometry_fn geom)
{
    nb_tensor v = *r->in[0];
    geom(r->in[0], r->attr, &v);
    return nbi_tensor_view(r->def->api, r->in[0], v.ndim, v.shape, v.strides, v.offset);
}

/* Views that are bijections of x (reshape, permute: flag NBI_OP_GRAD_ASSIGN) write a fresh
 * gradient of x instead of adding into it: the window covers every element once. */
static void view_backward(nbi_record *r, geometry_fn geom)
{
    nb_tensor *gx = r->in[0]->grad;
    if (!gx)
        return;
    nb_tensor v = *gx; /* contiguous buffer with x's shape */
    geom(gx, r->attr, &v);
    v.numel = r->out->numel;
    if (r->in[0]->grad_fresh)
        nbi_copy_to_strided(&v, nbi_data(r->out->grad));
    else
        nbi_add_to_strided(&v, nbi_data(r->out->grad));
}

#define VIEW_OP(sym, API, ARITY, FLAGS, ATTR)                                                      \
    static nb_tensor *sym##_view(nbi_record *r)                                                    \
    {                                                                                              \
        return make_view(r, sym##_geometry);                                                       \
    }                                                                                              \
    static void sym##_backward(nbi_record *r)                                                      \
    {                                                                                              \
        view_backward(r, sym##_geometry);                                                          \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = API,                                                                                \
        .arity = ARITY,                                                                            \
        .flags = NBI_OP_VIEW | NBI_OP_ANY_DTYPE | (FLAGS),                                         \
        .attr_size = sizeof(ATTR),                                                                 \
        .shape = sym##_shape,                                                                      \
        .backward = sym##_backward,                                                                \
        .view = sym##_view,                                                                        \
    };

/* ---- reshape ----  view of a contiguous x with another shape; dx += dy (same order) */
typedef nbi_shape_attr shape_attr;

static nb_status reshape_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const shape_attr *a = r->attr;
    *dtype = r->in[0]->dtype;
    *ndim = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    return NB_OK;
}

static void reshape_geometry(const nb_tensor *x, const void *attr, nb_tensor *v)
{
    const shape_attr *a = attr;
    v->ndim = a->ndim;
    memcpy(v->shape, a->shape, sizeof a->shape);
    nbi_contiguous_strides(a->ndim, a->shape, v->strides);
    v->offset = x->offset;
}
VIEW_OP(reshape, "nb_reshape", 1, NBI_OP_GRAD_ASSIGN | NBI_OP_GRAD_PASSTHROUGH, shape_attr)

nb_tensor *nb_reshape(nb_tensor *x, int ndim, const int64_t *shape)
{
    const char *fn = "nb_reshape";
    if (!x) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: input is NULL", fn);
        return NULL;
    }
    if (!nbi_check_live(fn, x))
        return NULL;
    if (ndim < 0 || ndim > NB_MAX_DIMS || (ndim > 0 && !shape)) {
        nbi_error(NB_ERR_SHAPE, "%s: bad target ndim %d", fn, ndim);
        return NULL;
    }
    shape_attr a = {.ndim = ndim};
    int infer = -1;
    int64_t known = 1;
    bool overflow = false; /* a product past int64: no tensor has that many elements */
    for (int i = 0; i < ndim; i++) {
        a.shape[i] = shape[i];
        if (shape[i] == -1 && infer < 0) {
            infer = i;
        } else if (shape[i] < 0) {
            char b[160];
            nbi_error(NB_ERR_SHAPE, "%s: bad target shape %s", fn,
                      nbi_shape_str(ndim, shape, b, sizeof b));
            return NULL;
        } else {
            overflow |= !nbi_mul_overflow(known, shape[i], &known);
        }
    }
    if (infer >= 0 && !overflow)
        a.shape[infer] = known ? x->numel / known : 0;
    int64_t n = 1;
    for (int i = 0; i < ndim && !overflow; i++)
        overflow |= !nbi_mul_overflow(n, a.shape[i], &n);
    if (overflow || n != x->numel || (infer >= 0 && known && x->numel % known)) {
        char b[160];
        nbi_error(NB_ERR_SHAPE, "%s: cannot reshape %s (%lld elements) to %s", fn, nbi_fmt_shape(x),
                  (long long)x->numel, nbi_shape_str(ndim, shape, b, sizeof b));
        return NULL;
    }
    /* an empty tensor matches any shape with a 0 in it: the other dims must still give
     * representable strides ([0, 2^63 - 1, 6] would overflow them) */
    if (nbi_check_shape(fn, ndim, a.shape, &n) != NB_OK)
        return NULL;
    if (nbi_is_contiguous(x))
        return nbi_apply(NB_OP_RESHAPE, 1, &x, &a);
    nb_tensor *c = nb_contiguous(x);
    nb_tensor *y = nbi_apply(NB_OP_RESHAPE, 1, &c, &a);
    nb_tensor_free(c); /* without a step the copy is ours; the view holds its storage */
    return y;
}

nb_tensor *nb_flatten(nb_tensor *x)
{
    if (!x || !nbi_check_live("nb_flatten", x))
        return nb_reshape(NULL, 0, NULL);
    if (x->ndim < 1) {
        nbi_error(NB_ERR_SHAPE, "nb_flatten: needs at least 1 dim, got %s", nbi_fmt_shape(x));
        return NULL;
    }
    int64_t s[2] = {x->shape[0], -1};
    if (x->shape[0] == 0)
        s[1] = 0;
    return nb_reshape(x, 2, s);
}

nb_tensor *nb_unsqueeze(nb_tensor *x, int axis)
{
    if (!x || !nbi_check_live("nb_unsqueeze", x))
        return nb_reshape(NULL, 0, NULL);
    int a = nbi_axis("nb_unsqueeze", axis, x->ndim + 1);
    if (a < 0)
        return NULL;
    if (x->ndim >= NB_MAX_DIMS) {
        nbi_error(NB_ERR_SHAPE, "nb_unsqueeze: %s already has %d dims", nbi_fmt_shape(x),
                  NB_MAX_DIMS);
        return NULL;
    }
    int64_t s[NB_MAX_DIMS];
    for (int i = 0, j = 0; i <= x->ndim; i++)
        s[i] = i == a ? 1 : x->shape[j++];
    return nb_reshape(x, x->ndim + 1, s);
}

nb_tensor *nb_squeeze(nb_tensor *x, int axis)
{
    if (!x || !nbi_check_live("nb_squeeze", x))
        return nb_reshape(NULL, 0, NULL);
    int a = nbi_axis("nb_squeeze", axis, x->ndim);
    if (a < 0)
        return NULL;
    if (x->shape[a] != 1) {
        nbi_error(NB_ERR_SHAPE, "nb_squeeze: axis %d of %s is not 1", axis, nbi_fmt_shape(x));
        return NULL;
    }
    int64_t s[NB_MAX_DIMS];
    for (int i = 0, j = 0; i < x->ndim; i++)
        if (i != a)
            s[j++] = x->shape[i];
    return nb_reshape(x, x->ndim - 1, s);
}

nb_tensor *nb_select(nb_tensor *x, int axis, int64_t index)
{
    if (!x || !nbi_check_live("nb_select", x))
        return nb_reshape(NULL, 0, NULL);
    const int a = nbi_axis("nb_select", axis, x->ndim);
    if (a < 0)
        return NULL;
    const int64_t n = x->shape[a], i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) {
        nbi_error(NB_ERR_VALUE, "nb_select: index %lld out of range for axis %d of %s",
                  (long long)index, axis, nbi_fmt_shape(x));
        return NULL;
    }
    return nb_squeeze(nb_slice(x, a, i, i + 1, 1), a);
}

/* ---- permute ----  y dim i = x dim perm[i]; dx[perm] += dy */
typedef struct {
    int perm[NB_MAX_DIMS];
} perm_attr;

static nb_status permute_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const perm_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    bool seen[NB_MAX_DIMS] = {false};
    for (int i = 0; i < x->ndim; i++) {
        int p = a->perm[i];
        if (p < 0 || p >= x->ndim || seen[p])
            return nbi_error(NB_ERR_VALUE, "nb_permute: perm is not a permutation of 0..%d",
                             x->ndim - 1);
        seen[p] = true;
        shape[i] = x->shape[p];
    }
    *dtype = x->dtype;
    *ndim = x->ndim;
    return NB_OK;
}

static void permute_geometry(const nb_tensor *x, const void *attr, nb_tensor *v)
{
    const perm_attr *a = attr;
    for (int i = 0; i < x->ndim; i++) {
        v->shape[i] = x->shape[a->perm[i]];
        v->strides[i] = x->strides[a->perm[i]];
    }
    v->ndim = x->ndim;
    v->offset = x->offset;
}
VIEW_OP(permute, "nb_permute", 1, NBI_OP_GRAD_ASSIGN, perm_attr)

nb_tensor *nb_permute(nb_tensor *x, const int *perm)
{
    perm_attr a = {{0}};
    if (!nbi_check_live("nb_permute", x))
        return NULL;
    if (x && !perm) {
        nbi_error(NB_ERR_VALUE, "nb_permute: perm is NULL");
        return NULL;
    }
    for (int i = 0; x && i < x->ndim; i++)
        a.perm[i] = perm[i] < 0 ? perm[i] + x->ndim : perm[i];
    return nbi_apply(NB_OP_PERMUTE, 1, &x, &a);
}

nb_tensor *nb_transpose(nb_tensor *x, int axis0, int axis1)
{
    if (!x || !nbi_check_live("nb_transpose", x))
        return nb_permute(NULL, NULL);
    int a0 = nbi_axis("nb_transpose", axis0, x->ndim),
        a1 = nbi_axis("nb_transpose", axis1, x->ndim);
    if (a0 < 0 || a1 < 0)
        return NULL;
    int perm[NB_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        perm[i] = i == a0 ? a1 : i == a1 ? a0 : i;
    return nb_permute(x, perm);
}

/* ---- slice ----  y = x[start:stop:step] along axis; dx[start:stop:step] += dy */
typedef struct {
    int axis;
    int64_t start, len, step;
} slice_attr;

static nb_status slice_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const slice_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    *dtype = x->dtype;
    *ndim = x->ndim;
    memcpy(shape, x->shape, sizeof x->shape);
    shape[a->axis] = a->len;
    return NB_OK;
}

static void slice_geometry(const nb_tensor *x, const void *attr, nb_tensor *v)
{
    const slice_attr *a = attr;
    v->ndim = x->ndim;
    memcpy(v->shape, x->shape, sizeof x->shape);
    memcpy(v->strides, x->strides, sizeof x->strides);
    v->shape[a->axis] = a->len;
    v->strides[a->axis] = x->strides[a->axis] * a->step;
    v->offset = x->offset + a->start * x->strides[a->axis];
}
VIEW_OP(slice, "nb_slice", 1, 0, slice_attr)

nb_tensor *nb_slice(nb_tensor *x, int axis, int64_t start, int64_t stop, int64_t step)
{
    slice_attr a = {0};
    if (!nbi_check_live("nb_slice", x))
        return NULL;
    if (x) {
        int ax = nbi_axis("nb_slice", axis, x->ndim);
        if (ax < 0)
            return NULL;
        if (step < 1) {
            nbi_error(NB_ERR_VALUE, "nb_slice: step must be >= 1, got %lld", (long long)step);
            return NULL;
        }
        int64_t n = x->shape[ax];
        if (start < 0)
            start += n;
        if (stop < 0)
            stop += n;
        start = start < 0 ? 0 : start > n ? n : start;
        stop = stop < start ? start : stop > n ? n : stop;
        /* ceil((stop - start) / step) without forming stop - start + step (step may be near
         * INT64_MAX); an axis of length 0 or 1 never uses its stride, so its step becomes 1 and
         * stride * step (otherwise <= stride * (n - 1), inside x's extent) cannot overflow */
        const int64_t len = stop > start ? (stop - start - 1) / step + 1 : 0;
        a = (slice_attr){.axis = ax, .start = start, .len = len, .step = len > 1 ? step : 1};
    }
    return nbi_apply(NB_OP_SLICE, 1, &x, &a);
}

nb_status nb_split(nb_tensor *x, int axis, int n, nb_tensor **out)
{
    const char *fn = "nb_split";
    if (!out)
        return nbi_error(NB_ERR_VALUE, "%s: out is NULL", fn);
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
    if (n < 1 || x->shape[ax] % n)
        return nbi_error(NB_ERR_SHAPE, "%s: axis %d of %s does not split into %d equal parts", fn,
                         axis, nbi_fmt_shape(x), n);
    int64_t len = x->shape[ax] / n;
    for (int i = 0; i < n; i++) {
        out[i] = nb_slice(x, ax, i * len, (i + 1) * len, 1);
        if (!out[i]) {
            for (int j = 0; j < n; j++)
                out[j] = NULL;
            return nb_last_status();
        }
    }
    return NB_OK;
}

/* ---- expand ----  broadcast view (stride 0); dx += dy summed over the broadcast dims */
static nb_status expand_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const shape_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    int64_t numel;
    if (nbi_check_shape("nb_expand", a->ndim, a->shape, &numel) != NB_OK)
        return nb_last_status();
    const int lead = a->ndim - x->ndim;
    bool ok = lead >= 0; /* fewer target dims than x has (also a 0-dim target): never */
    for (int d = 0; ok && d < a->ndim; d++) {
        const int xd = d - lead;
        ok = xd < 0 || x->shape[xd] == 1 || x->shape[xd] == a->shape[d];
    }
    if (!ok) {
        char b[160];
        return nbi_error(NB_ERR_SHAPE, "nb_expand: cannot broadcast %s to %s", nbi_fmt_shape(x),
                         nbi_shape_str(a->ndim, a->shape, b, sizeof b));
    }
    *dtype = x->dtype;
    *ndim = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    return NB_OK;
}

static void expand_geometry(const nb_tensor *x, const void *attr, nb_tensor *v)
{
    const shape_attr *a = attr;
    int lead = a->ndim - x->ndim;
    for (int d = 0; d < a->ndim; d++) {
        int xd = d - lead;
        v->shape[d] = a->shape[d];
        v->strides[d] = xd < 0 || (x->shape[xd] == 1 && a->shape[d] != 1) ? 0 : x->strides[xd];
    }
    v->ndim = a->ndim;
    v->offset = x->offset;
}
VIEW_OP(expand, "nb_expand", 1, 0, shape_attr)

nb_tensor *nb_expand(nb_tensor *x, int ndim, const int64_t *shape)
{
    shape_attr a = {.ndim = ndim};
    if (ndim < 0 || ndim > NB_MAX_DIMS || (ndim && !shape)) {
        nbi_error(NB_ERR_SHAPE, "nb_expand: bad target ndim %d", ndim);
        return NULL;
    }
    for (int i = 0; i < ndim; i++)
        a.shape[i] = shape[i];
    return nbi_apply(NB_OP_EXPAND, 1, &x, &a);
}

/* ---- contiguous ----  y = dense copy of x; dx += dy (through x's strides: x's grad is dense) */
static nb_status contiguous_forward(nbi_record *r)
{
    nbi_copy_strided(nbi_data(r->out), r->in[0]);
    return NB_OK;
}

static void contiguous_backward(nbi_record *r)
{
    nb_tensor *gx = r->in[0]->grad;
    if (!gx)
        return;
    if (r->in[0]->grad_fresh)
        memcpy(nbi_data(gx), nbi_data(r->out->grad), (size_t)gx->numel * nb_dtype_size(gx->dtype));
    else
        nbi_accumulate(gx, r->out->grad);
}

const nbi_op_def nbi_op_contiguous = {
    .name = "contiguous",
    .api = "nb_contiguous",
    .arity = 1,
    .flags = NBI_OP_STRIDED | NBI_OP_ANY_DTYPE | NBI_OP_GRAD_ASSIGN,
    .shape = nbi_shape_same,
    .forward = contiguous_forward,
    .backward = contiguous_backward,
};

nb_tensor *nb_contiguous(nb_tensor *x)
{
    return nbi_apply(NB_OP_CONTIGUOUS, 1, &x, NULL);
}

/* ---- concat ----  y = [x0 | x1 | ...] along axis; dxi += dy[slice i]
 * The same op stacks (attr.stack): then the inputs have one shape and y has a new axis of size
 * n there, input i filling index i. Inputs may be strided views (read where they lie). */
typedef struct {
    int axis;
    int stack; /* 1: nb_stack (new axis), 0: nb_concat */
} axis_attr;

static nb_status concat_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const axis_attr *a = r->attr;
    const nb_tensor *x0 = r->in[0];
    const char *fn = a->stack ? "nb_stack" : "nb_concat";
    int ax = nbi_axis(fn, a->axis, x0->ndim + a->stack);
    if (ax < 0)
        return nb_last_status();
    if (a->stack && x0->ndim >= NB_MAX_DIMS)
        return nbi_error(NB_ERR_SHAPE, "nb_stack: inputs already have %d dims", NB_MAX_DIMS);
    for (int i = 1; i < r->n_in; i++) {
        const nb_tensor *x = r->in[i];
        bool ok = x->ndim == x0->ndim;
        for (int d = 0; ok && d < x0->ndim; d++)
            ok = (!a->stack && d == ax) || x->shape[d] == x0->shape[d];
        if (!ok) {
            if (a->stack)
                return nbi_error(NB_ERR_SHAPE, "nb_stack: input %d is %s, input 0 is %s", i,
                                 nbi_fmt_shape(x), nbi_fmt_shape(x0));
            return nbi_error(NB_ERR_SHAPE,
                             "nb_concat: input %d is %s, input 0 is %s (only axis %d may differ)",
                             i, nbi_fmt_shape(x), nbi_fmt_shape(x0), ax);
        }
    }
    if (a->stack) {
        for (int d = 0, j = 0; d <= x0->ndim; d++)
            shape[d] = d == ax ? r->n_in : x0->shape[j++];
        *ndim = x0->ndim + 1;
    } else {
        memcpy(shape, x0->shape, sizeof x0->shape);
        for (int i = 1; i < r->n_in; i++) {
            if (shape[ax] > INT64_MAX - r->in[i]->shape[ax])
                return nbi_error(NB_ERR_SHAPE,
                                 "nb_concat: the sizes along axis %d add up past INT64_MAX "
                                 "(%lld + %lld at input %d)",
                                 ax, (long long)shape[ax], (long long)r->in[i]->shape[ax], i);
            shape[ax] += r->in[i]->shape[ax];
        }
        *ndim = x0->ndim;
    }
    *dtype = x0->dtype;
    return NB_OK;
}

/* View of y's slab that holds input i: along axis ax from `at`, `len` long (concat), or index
 * `at` of axis ax with that axis dropped (stack), so the view has input i's shape. */
static nb_tensor slab(const nb_tensor *y, int ax, int64_t at, int64_t len, bool stack)
{
    nb_tensor v = *y;
    v.offset = y->offset + at * y->strides[ax];
    v.numel = y->numel / (y->shape[ax] ? y->shape[ax] : 1) * len;
    if (stack) {
        for (int d = ax; d + 1 < y->ndim; d++) {
            v.shape[d] = y->shape[d + 1];
            v.strides[d] = y->strides[d + 1];
        }
        v.ndim = y->ndim - 1;
    } else {
        v.shape[ax] = len;
    }
    return v;
}

static nb_status concat_forward(nbi_record *r)
{
    const axis_attr *a = r->attr;
    const int ax = a->axis < 0 ? a->axis + r->out->ndim : a->axis;
    int64_t at = 0;
    for (int i = 0; i < r->n_in; i++) {
        const int64_t len = a->stack ? 1 : r->in[i]->shape[ax];
        nb_tensor v = slab(r->out, ax, at, len, a->stack);
        nbi_copy_strided_to_strided(&v, r->in[i]);
        at += len;
    }
    return NB_OK;
}

static void concat_backward(nbi_record *r)
{
    const axis_attr *a = r->attr;
    const int ax = a->axis < 0 ? a->axis + r->out->ndim : a->axis;
    int64_t at = 0;
    for (int i = 0; i < r->n_in; i++) {
        const int64_t len = a->stack ? 1 : r->in[i]->shape[ax];
        nb_tensor v = slab(r->out->grad, ax, at, len, a->stack);
        if (r->in[i]->grad && r->in[i]->grad_fresh)
            nbi_copy_strided(nbi_data(r->in[i]->grad), &v);
        else if (r->in[i]->grad)
            nbi_accumulate(r->in[i]->grad, &v);
        at += len;
    }
}

const nbi_op_def nbi_op_concat = {
    .name = "concat",
    .api = "nb_concat",
    .arity = -1,
    .flags = NBI_OP_ANY_DTYPE | NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .attr_size = sizeof(axis_attr),
    .shape = concat_shape,
    .forward = concat_forward,
    .backward = concat_backward,
};

/* One op application takes at most NBI_MAX_INPUTS inputs; more are joined in groups of that
 * many first (stacked, for nb_stack), then the groups are concatenated along the same axis. The
 * gradient flows back through both levels. Runs in a scope, so the groups live in an arena. */
static nb_tensor *join_groups(int n, nb_tensor *const *xs, int axis, bool stack)
{
    const int ng = (n + NBI_MAX_INPUTS - 1) / NBI_MAX_INPUTS;
    nb_tensor **groups = nbi_calloc((size_t)ng, sizeof *groups);
    if (!groups)
        return nbi_oom(stack ? "nb_stack" : "nb_concat", (size_t)ng * sizeof *groups);
    nb_tensor *y = NULL;
    int made = 0;
    for (; made < ng; made++) {
        const int at = made * NBI_MAX_INPUTS, k = n - at < NBI_MAX_INPUTS ? n - at : NBI_MAX_INPUTS;
        groups[made] = stack ? nb_stack(k, xs + at, axis) : nb_concat(k, xs + at, axis);
        if (!groups[made])
            break;
    }
    if (made == ng)
        y = nb_concat(ng, groups, axis);
    nbi_free(groups);
    return y;
}

nb_tensor *nb_concat(int n, nb_tensor *const *xs, int axis)
{
    if (n < 1 || !xs) {
        nbi_error(NB_ERR_VALUE, "nb_concat: needs at least one input, got %d", n);
        return NULL;
    }
    if (n > NBI_MAX_INPUTS)
        NBI_RETURN_SCOPED(join_groups(n, xs, axis, false));
    axis_attr a = {axis, 0};
    return nbi_apply(NB_OP_CONCAT, n, xs, &a);
}

nb_tensor *nb_stack(int n, nb_tensor *const *xs, int axis)
{
    if (n < 1 || !xs) {
        nbi_error(NB_ERR_VALUE, "nb_stack: needs at least one input, got %d", n);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (!nbi_check_live("nb_stack", xs[i]))
            return NULL;
        if (xs[i] && i > 0 && xs[0] && !nbi_same_shape(xs[i], xs[0])) {
            nbi_error(NB_ERR_SHAPE, "nb_stack: input %d is %s, input 0 is %s", i,
                      nbi_fmt_shape(xs[i]), nbi_fmt_shape(xs[0]));
            return NULL;
        }
    }
    if (n > NBI_MAX_INPUTS)
        NBI_RETURN_SCOPED(join_groups(n, xs, axis, true));
    axis_attr a = {axis, 1};
    return nbi_apply(NB_OP_CONCAT, n, xs, &a);
}
