/* ops/shape.c — views (reshape, permute, slice, expand) and copies (contiguous, concat), plus
 * the strided copy/accumulate helpers every op's gradient plumbing uses.
 *
 * A view op is defined by its geometry: a function that, given a tensor with x's shape and
 * strides, fills in the view's shape, strides and offset. Forward applies it to x (sharing
 * storage). Backward applies the same geometry to x's contiguous gradient buffer and adds the
 * view's gradient into that strided window: for expand the window has stride-0 dims, so the
 * adds sum the broadcast gradient back to x's shape — the one place where broadcasting is
 * undone. */
#include "ops/op_def.h"

#include <string.h>

/* ---- strided helpers ---- */
void nbi_copy_strided(void *dst, const nb_tensor *src)
{
    const size_t es = nb_dtype_size(src->dtype);
    const char *s = nbi_data(src);
    if (nbi_is_contiguous(src)) {
        memcpy(dst, s, (size_t)src->numel * es);
        return;
    }
    if (es == 4) {
        uint32_t *d = dst;
        const uint32_t *p = (const uint32_t *)(const void *)s;
        NBI_FOR_STRIDED(src, i, off, d[i] = p[off];);
    } else {
        uint64_t *d = dst;
        const uint64_t *p = (const uint64_t *)(const void *)s;
        NBI_FOR_STRIDED(src, i, off, d[i] = p[off];);
    }
}

NBI_TYPED(accumulate, (nb_tensor * dst, const nb_tensor *src), {
    T *d = nbi_data(dst);
    const T *s = nbi_data(src);
    if (nbi_is_contiguous(src)) {
        for (int64_t i = 0; i < src->numel; i++)
            d[i] += s[i];
    } else {
        NBI_FOR_STRIDED(src, i, off, d[i] += s[off];);
    }
})

void nbi_accumulate(nb_tensor *dst, const nb_tensor *src)
{
    NB_ASSERT(dst->numel == src->numel && dst->dtype == src->dtype);
    NBI_DISPATCH(dst->dtype, accumulate, dst, src);
}

NBI_TYPED(add_to_strided, (nb_tensor * dst, const void *src), {
    T *d = nbi_data(dst);
    const T *s = src;
    if (dst->ndim == 2 && dst->strides[0] == 1 && dst->strides[1] > 1) {
        /* A transposed window (e.g. the gradient of nb_transpose(w) flowing back into w):
         * walk it in tiles so both sides stay in cache instead of striding through memory. */
        const int64_t R = dst->shape[0], C = dst->shape[1], ld = dst->strides[1], B = 64;
        for (int64_t i0 = 0; i0 < R; i0 += B)
            for (int64_t j0 = 0; j0 < C; j0 += B)
                for (int64_t j = j0; j < C && j < j0 + B; j++)
                    for (int64_t i = i0; i < R && i < i0 + B; i++)
                        d[i + j * ld] += s[i * C + j];
    } else {
        NBI_FOR_STRIDED(dst, i, off, d[off] += s[i];);
    }
})

void nbi_add_to_strided(nb_tensor *dst_view, const void *src)
{
    NBI_DISPATCH(dst_view->dtype, add_to_strided, dst_view, src);
}

void nbi_reduce_into(nb_tensor *dst, const nb_tensor *src)
{
    /* View dst with src's shape: missing leading dims and size-1 dims get stride 0. */
    nb_tensor v = *dst;
    int lead = src->ndim - dst->ndim;
    NB_ASSERT(lead >= 0);
    v.ndim = src->ndim;
    v.numel = src->numel;
    for (int d = 0; d < src->ndim; d++) {
        int sd = d - lead;
        v.shape[d] = src->shape[d];
        v.strides[d] = sd < 0 || dst->shape[sd] == 1 ? 0 : dst->strides[sd];
    }
    nbi_add_to_strided(&v, nbi_data(src));
}

/* ---- generic view machinery ---- */
typedef void (*geometry_fn)(const nb_tensor *x, const void *attr, nb_tensor *v);

static nb_tensor *make_view(nbi_record *r, geometry_fn geom)
{
    nb_tensor v = *r->in[0];
    geom(r->in[0], r->attr, &v);
    return nbi_tensor_view(r->def->api, r->in[0], v.ndim, v.shape, v.strides, v.offset);
}

static void view_backward(nbi_record *r, geometry_fn geom)
{
    nb_tensor *gx = r->in[0]->grad;
    if (!gx)
        return;
    nb_tensor v = *gx; /* contiguous buffer with x's shape */
    geom(gx, r->attr, &v);
    v.numel = r->out->numel;
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
typedef struct {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
} shape_attr;

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
VIEW_OP(reshape, "nb_reshape", 1, 0, shape_attr)

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
VIEW_OP(permute, "nb_permute", 1, 0, perm_attr)

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
        a = (slice_attr){
            .axis = ax, .start = start, .len = (stop - start + step - 1) / step, .step = step};
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
    int lead = a->ndim - x->ndim;
    for (int d = 0; d < a->ndim; d++) {
        int xd = d - lead;
        if (lead < 0 || (xd >= 0 && x->shape[xd] != 1 && x->shape[xd] != a->shape[d])) {
            char b[160];
            return nbi_error(NB_ERR_SHAPE, "nb_expand: cannot broadcast %s to %s", nbi_fmt_shape(x),
                             nbi_shape_str(a->ndim, a->shape, b, sizeof b));
        }
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
    if (r->in[0]->grad)
        nbi_accumulate(r->in[0]->grad, r->out->grad);
}

const nbi_op_def nbi_op_contiguous = {
    .name = "contiguous",
    .api = "nb_contiguous",
    .arity = 1,
    .flags = NBI_OP_STRIDED | NBI_OP_ANY_DTYPE,
    .shape = nbi_shape_same,
    .forward = contiguous_forward,
    .backward = contiguous_backward,
};

nb_tensor *nb_contiguous(nb_tensor *x)
{
    return nbi_apply(NB_OP_CONTIGUOUS, 1, &x, NULL);
}

/* ---- concat ----  y = [x0 | x1 | ...] along axis; dxi += dy[slice i] */
typedef struct {
    int axis;
} axis_attr;

static nb_status concat_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const axis_attr *a = r->attr;
    const nb_tensor *x0 = r->in[0];
    int ax = nbi_axis("nb_concat", a->axis, x0->ndim);
    if (ax < 0)
        return nb_last_status();
    memcpy(shape, x0->shape, sizeof x0->shape);
    for (int i = 1; i < r->n_in; i++) {
        const nb_tensor *x = r->in[i];
        bool ok = x->ndim == x0->ndim;
        for (int d = 0; ok && d < x0->ndim; d++)
            ok = d == ax || x->shape[d] == x0->shape[d];
        if (!ok)
            return nbi_error(NB_ERR_SHAPE,
                             "nb_concat: input %d is %s, input 0 is %s (only axis %d may differ)",
                             i, nbi_fmt_shape(x), nbi_fmt_shape(x0), ax);
        shape[ax] += x->shape[ax];
    }
    *dtype = x0->dtype;
    *ndim = x0->ndim;
    return NB_OK;
}

/* dst (strided view) = src (contiguous, dst's shape): a plain copy by element size, so it serves
 * every dtype. */
static void copy_to_strided(nb_tensor *dst, const void *src)
{
    if (nb_dtype_size(dst->dtype) == 4) {
        uint32_t *d = nbi_data(dst);
        const uint32_t *s = src;
        NBI_FOR_STRIDED(dst, i, off, d[off] = s[i];);
    } else {
        uint64_t *d = nbi_data(dst);
        const uint64_t *s = src;
        NBI_FOR_STRIDED(dst, i, off, d[off] = s[i];);
    }
}

/* View of y's slab that holds input i (along axis ax starting at `at`). */
static nb_tensor slab(const nb_tensor *y, int ax, int64_t at, int64_t len)
{
    nb_tensor v = *y;
    v.shape[ax] = len;
    v.offset = y->offset + at * y->strides[ax];
    v.numel = y->numel / (y->shape[ax] ? y->shape[ax] : 1) * len;
    return v;
}

static nb_status concat_forward(nbi_record *r)
{
    int ax = ((const axis_attr *)r->attr)->axis;
    ax = ax < 0 ? ax + r->out->ndim : ax;
    int64_t at = 0;
    for (int i = 0; i < r->n_in; i++) {
        nb_tensor v = slab(r->out, ax, at, r->in[i]->shape[ax]);
        copy_to_strided(&v, nbi_data(r->in[i]));
        at += r->in[i]->shape[ax];
    }
    return NB_OK;
}

static void concat_backward(nbi_record *r)
{
    int ax = ((const axis_attr *)r->attr)->axis;
    ax = ax < 0 ? ax + r->out->ndim : ax;
    int64_t at = 0;
    for (int i = 0; i < r->n_in; i++) {
        nb_tensor v = slab(r->out->grad, ax, at, r->in[i]->shape[ax]);
        if (r->in[i]->grad)
            nbi_accumulate(r->in[i]->grad, &v);
        at += r->in[i]->shape[ax];
    }
}

const nbi_op_def nbi_op_concat = {
    .name = "concat",
    .api = "nb_concat",
    .arity = -1,
    .flags = NBI_OP_ANY_DTYPE,
    .attr_size = sizeof(axis_attr),
    .shape = concat_shape,
    .forward = concat_forward,
    .backward = concat_backward,
};

nb_tensor *nb_concat(int n, nb_tensor *const *xs, int axis)
{
    if (n < 1 || !xs) {
        nbi_error(NB_ERR_VALUE, "nb_concat: needs at least one input, got %d", n);
        return NULL;
    }
    axis_attr a = {axis};
    return nbi_apply(NB_OP_CONCAT, n, xs, &a);
}

nb_tensor *nb_stack(int n, nb_tensor *const *xs, int axis)
{
    if (n < 1 || !xs || n > NBI_MAX_INPUTS) {
        nbi_error(NB_ERR_VALUE, "nb_stack: needs 1 to %d inputs, got %d", NBI_MAX_INPUTS, n);
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
    /* The unsqueezed views are temporaries: freed here when there is no step (they share
     * storage with the inputs; nb_tensor_free ignores arena tensors). */
    nb_tensor *u[NBI_MAX_INPUTS], *y = NULL;
    int made = 0;
    while (made < n && (u[made] = nb_unsqueeze(xs[made], axis)))
        made++;
    if (made == n)
        y = nb_concat(n, u, axis);
    for (int i = 0; i < made; i++)
        nb_tensor_free(u[i]);
    return y;
}
