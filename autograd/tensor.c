/* autograd/tensor.c — tensor allocation (arena or heap), views, accessors, gradients. */
#include "tensor_impl.h"

#include "profile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- shapes ---- */
bool nbi_is_float(nb_dtype dtype)
{
    return dtype == NB_F32 || dtype == NB_F64;
}

const char *nbi_shape_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t pos = 0;
    int w = snprintf(buf, n, "[");
    pos = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < ndim && pos < n; i++) {
        w = snprintf(buf + pos, n - pos, "%s%lld", i ? ", " : "", (long long)shape[i]);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    if (pos < n)
        snprintf(buf + pos, n - pos, "]");
    return buf;
}

const char *nbi_fmt_shape(const nb_tensor *t)
{
    static _Thread_local char bufs[4][128];
    static _Thread_local int next = 0;
    char *b = bufs[next];
    next = (next + 1) % 4;
    if (!t)
        return "(null)";
    return nbi_shape_str(t->ndim, t->shape, b, 128);
}

nb_status nbi_check_shape(const char *fn, int ndim, const int64_t *shape, int64_t *numel)
{
    if (ndim < 0 || ndim > NB_MAX_DIMS)
        return nbi_error(NB_ERR_SHAPE, "%s: ndim %d out of range [0, %d]", fn, ndim, NB_MAX_DIMS);
    if (ndim > 0 && !shape)
        return nbi_error(NB_ERR_VALUE, "%s: shape is NULL", fn);
    /* n: the element count; span: the product with zero dims counted as 1, which bounds the
     * contiguous strides (an empty [0, 2^62, 4] would otherwise overflow them) */
    int64_t n = 1, span = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            char b[160];
            return nbi_error(NB_ERR_SHAPE, "%s: negative dimension in shape %s", fn,
                             nbi_shape_str(ndim, shape, b, sizeof b));
        }
        if (!nbi_mul_overflow(n, shape[i], &n) || n > ((int64_t)1 << 60) ||
            !nbi_mul_overflow(span, shape[i] > 0 ? shape[i] : 1, &span) ||
            span > ((int64_t)1 << 60)) {
            char b[160];
            return nbi_error(NB_ERR_SHAPE, "%s: shape %s has too many elements", fn,
                             nbi_shape_str(ndim, shape, b, sizeof b));
        }
    }
    *numel = n;
    return NB_OK;
}

void nbi_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

bool nbi_is_contiguous(const nb_tensor *t)
{
    if (t->numel == 0)
        return true; /* no element to misplace */
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != s)
            return false;
        s *= t->shape[i];
    }
    return true;
}

bool nbi_same_shape(const nb_tensor *a, const nb_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

int nbi_axis(const char *fn, int axis, int ndim)
{
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim) {
        nbi_error(NB_ERR_VALUE, "%s: axis %d out of range for a %d-dim tensor", fn, axis, ndim);
        return -1;
    }
    return a;
}

/* ---- allocation ---- */
static void *alloc_in(nbi_arena *arena, size_t bytes)
{
    return arena ? nbi_arena_alloc(arena, bytes) : nbi_calloc(1, bytes);
}

/* Tensor data: 64-byte aligned in the arena and on the heap alike. */
static void *data_in(nbi_arena *arena, size_t bytes)
{
    return arena ? nbi_arena_alloc(arena, bytes) : nbi_calloc_aligned(bytes);
}

/* New tensor struct + storage of `bytes` (arena when given, else heap). The storage is zeroed
 * unless `uninit` and it comes from the arena. */
static nb_tensor *tensor_make_ex(const char *fn, nbi_arena *arena, nb_dtype dtype, int ndim,
                                 const int64_t *shape, int64_t numel, bool uninit)
{
    size_t bytes = (size_t)numel * nb_dtype_size(dtype);
    nb_tensor *t = arena ? nbi_header_alloc() : nbi_calloc(1, sizeof *t);
    nbi_storage *st = t ? alloc_in(arena, sizeof *st) : NULL;
    void *data = !st               ? NULL
                 : arena && uninit ? nbi_arena_alloc_uninit(arena, bytes)
                                   : data_in(arena, bytes);
    if (!data) {
        if (!arena) {
            nbi_free(st);
            nbi_free(t);
        }
        return nbi_oom(fn, bytes + sizeof *t + sizeof *st);
    }
    st->data = data;
    st->nbytes = bytes;
    st->refs = 1;
    st->arena = arena != NULL;
    t->storage = st;
    t->numel = numel;
    t->ndim = ndim;
    t->dtype = dtype;
    t->arena = arena != NULL;
    t->epoch = arena ? nbi_active_epoch() : 0;
    if (ndim > 0)
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    nbi_contiguous_strides(ndim, t->shape, t->strides);
    return t;
}

static nb_tensor *tensor_make(const char *fn, nbi_arena *arena, nb_dtype dtype, int ndim,
                              const int64_t *shape, int64_t numel)
{
    return tensor_make_ex(fn, arena, dtype, ndim, shape, numel, false);
}

nb_tensor *nbi_tensor_alloc(const char *fn, nb_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t numel;
    if (nbi_check_shape(fn, ndim, shape, &numel) != NB_OK)
        return NULL;
    return tensor_make(fn, nbi_active_arena(), dtype, ndim, shape, numel);
}

nb_tensor *nbi_tensor_alloc_uninit(const char *fn, nb_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t numel;
    if (nbi_check_shape(fn, ndim, shape, &numel) != NB_OK)
        return NULL;
    return tensor_make_ex(fn, nbi_active_arena(), dtype, ndim, shape, numel, true);
}

nb_tensor *nbi_tensor_view(const char *fn, nb_tensor *x, int ndim, const int64_t *shape,
                           const int64_t *strides, int64_t offset)
{
    nbi_arena *arena = nbi_active_arena();
    nb_tensor *t = arena ? nbi_header_alloc() : nbi_calloc(1, sizeof *t);
    if (!t)
        return nbi_oom(fn, sizeof *t);
    t->storage = x->storage;
    if (!arena)
        x->storage->refs++;
    t->offset = offset;
    t->ndim = ndim;
    t->dtype = x->dtype;
    t->arena = arena != NULL;
    t->epoch = arena ? nbi_active_epoch() : 0;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->strides[i] = strides[i];
        t->numel *= shape[i];
    }
    return t;
}

nb_tensor *nbi_grad_buffer(nb_tensor *t)
{
    nbi_arena *arena = t->arena ? nbi_active_arena() : NULL;
    return tensor_make("nb_backward", arena, t->dtype, t->ndim, t->shape, t->numel);
}

nb_tensor *nbi_grad_buffer_uninit(nb_tensor *t, bool *fresh)
{
    nbi_arena *arena = t->arena ? nbi_active_arena() : NULL;
    *fresh = arena != NULL;
    return tensor_make_ex("nb_backward", arena, t->dtype, t->ndim, t->shape, t->numel, *fresh);
}

void *nbi_scratch(size_t bytes)
{
    nbi_arena *a = nbi_active_arena();
    return a ? nbi_arena_alloc(a, bytes) : NULL;
}

void *nbi_temp(const char *fn, size_t bytes, bool *heap)
{
    nbi_arena *a = nbi_active_arena();
    void *p = a ? nbi_arena_alloc_uninit(a, bytes) : NULL;
    *heap = !p;
    if (!p && !(p = nbi_calloc_aligned(bytes ? bytes : 1)))
        nbi_error(NB_ERR_NOMEM, "%s: out of memory (%zu bytes of work memory)", fn, bytes);
    return p;
}

void nbi_temp_release(void *p, size_t bytes, bool heap)
{
    if (heap) {
        nbi_free(p);
        return;
    }
    nbi_arena *a = nbi_active_arena();
    if (a && p)
        nbi_arena_release_top(a, p, bytes);
}

/* ---- public creation ---- */
nb_tensor *nb_tensor_new(nb_dtype dtype, int ndim, const int64_t *shape)
{
    if (nb_dtype_size(dtype) == 0) {
        nbi_error(NB_ERR_DTYPE, "nb_tensor_new: unknown dtype %d", (int)dtype);
        return NULL;
    }
    int64_t numel;
    if (nbi_check_shape("nb_tensor_new", ndim, shape, &numel) != NB_OK)
        return NULL;
    return tensor_make("nb_tensor_new", NULL, dtype, ndim, shape, numel);
}

nb_tensor *nb_tensor_zeros(nb_dtype dtype, int ndim, const int64_t *shape)
{
    return nb_tensor_new(dtype, ndim, shape);
}

nb_tensor *nb_tensor_full(nb_dtype dtype, int ndim, const int64_t *shape, double value)
{
    nb_tensor *t = nb_tensor_new(dtype, ndim, shape);
    if (t)
        nb_tensor_fill(t, value);
    return t;
}

nb_tensor *nb_tensor_from_data(nb_dtype dtype, int ndim, const int64_t *shape, const void *data)
{
    if (!data) {
        nbi_error(NB_ERR_VALUE, "nb_tensor_from_data: data is NULL");
        return NULL;
    }
    nb_tensor *t = nb_tensor_new(dtype, ndim, shape);
    if (t)
        memcpy(t->storage->data, data, t->storage->nbytes);
    return t;
}

static nb_tensor *tensor_random(const char *fn, nb_dtype dtype, int ndim, const int64_t *shape,
                                nb_rng *rng, double a, double b, bool normal)
{
    if (!rng) {
        nbi_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    if (!nbi_is_float(dtype)) {
        nbi_error(NB_ERR_DTYPE, "%s: dtype must be f32 or f64, got %s", fn, nb_dtype_name(dtype));
        return NULL;
    }
    nb_tensor *t = nb_tensor_new(dtype, ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = normal ? a + b * nb_rng_normal(rng) : a + (b - a) * nb_rng_uniform(rng);
        if (dtype == NB_F32)
            ((float *)t->storage->data)[i] = (float)v;
        else
            ((double *)t->storage->data)[i] = v;
    }
    return t;
}

nb_tensor *nb_tensor_uniform(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng, double lo,
                             double hi)
{
    return tensor_random("nb_tensor_uniform", dtype, ndim, shape, rng, lo, hi, false);
}

nb_tensor *nb_tensor_normal(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                            double mean, double std)
{
    return tensor_random("nb_tensor_normal", dtype, ndim, shape, rng, mean, std, true);
}

/* Element i (row-major over t's shape) -> storage index. */
static int64_t flat_to_offset(const nb_tensor *t, int64_t i)
{
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d];
        off += (i % n) * t->strides[d];
        i /= n;
    }
    return off;
}

static double load(const nb_tensor *t, int64_t off)
{
    switch (t->dtype) {
    case NB_F32:
        return ((const float *)t->storage->data)[off];
    case NB_F64:
        return ((const double *)t->storage->data)[off];
    case NB_I64:
        return (double)((const int64_t *)t->storage->data)[off];
    }
    return NAN;
}

static void store(nb_tensor *t, int64_t off, double v)
{
    switch (t->dtype) {
    case NB_F32:
        ((float *)t->storage->data)[off] = (float)v;
        break;
    case NB_F64:
        ((double *)t->storage->data)[off] = v;
        break;
    case NB_I64:
        ((int64_t *)t->storage->data)[off] = (int64_t)v;
        break;
    }
}

/* An int64 element cannot hold NaN, Inf or a value outside its range (the cast would be
 * undefined): refuse them. */
static nb_status check_storable(const char *fn, const nb_tensor *t, double value)
{
    if (t->dtype == NB_I64 && !(value >= -0x1p63 && value < 0x1p63))
        return nbi_error(NB_ERR_VALUE, "%s: %g cannot be stored in an i64 tensor", fn, value);
    return NB_OK;
}

nb_tensor *nb_tensor_to_dtype(const nb_tensor *t, nb_dtype dtype)
{
    if (!t) {
        nbi_error(NB_ERR_VALUE, "nb_tensor_to_dtype: tensor is NULL");
        return NULL;
    }
    if (!nbi_check_live("nb_tensor_to_dtype", t))
        return NULL;
    nb_tensor *c = nb_tensor_new(dtype, t->ndim, t->shape);
    if (!c)
        return NULL;
    if (dtype == t->dtype && nbi_is_contiguous(t)) {
        memcpy(c->storage->data, nbi_data(t), c->storage->nbytes);
        return c;
    }
    for (int64_t i = 0; i < t->numel; i++) {
        double v = load(t, flat_to_offset(t, i));
        if (check_storable("nb_tensor_to_dtype", c, v) != NB_OK) {
            nb_tensor_free(c);
            return NULL;
        }
        store(c, i, v);
    }
    return c;
}

nb_tensor *nb_tensor_copy(const nb_tensor *t)
{
    return t ? nb_tensor_to_dtype(t, t->dtype) : nb_tensor_to_dtype(NULL, NB_F32);
}

nb_tensor *nb_tensor_view_new(nb_tensor *base, int64_t offset, int ndim, const int64_t *shape)
{
    const char *fn = "nb_tensor_view_new";
    if (!base) {
        nbi_error(NB_ERR_VALUE, "%s: base is NULL", fn);
        return NULL;
    }
    int64_t numel;
    if (nbi_check_shape(fn, ndim, shape, &numel) != NB_OK)
        return NULL;
    if (base->epoch != 0) {
        nbi_error(NB_ERR_STATE, "%s: base must be caller-owned, not an op result", fn);
        return NULL;
    }
    if (!nbi_is_contiguous(base) || offset < 0 || numel > base->numel ||
        offset > base->numel - numel) {
        nbi_error(NB_ERR_SHAPE, "%s: view of %lld elements at offset %lld does not fit in %s", fn,
                  (long long)numel, (long long)offset, nbi_fmt_shape(base));
        return NULL;
    }
    nb_tensor *t = nbi_calloc(1, sizeof *t);
    if (!t)
        return nbi_oom(fn, sizeof *t);
    t->storage = base->storage;
    base->storage->refs++;
    t->offset = base->offset + offset;
    t->ndim = ndim;
    t->dtype = base->dtype;
    t->numel = numel;
    if (ndim > 0)
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    nbi_contiguous_strides(ndim, t->shape, t->strides);
    return t;
}

nb_status nb_tensor_rebase(nb_tensor *t, nb_tensor *base, int64_t offset)
{
    const char *fn = "nb_tensor_rebase";
    if (!t || !base)
        return nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, t ? "base" : "tensor");
    if (t->arena || t->creator || base->arena)
        return nbi_error(NB_ERR_STATE, "%s: only caller-owned leaf tensors can be moved", fn);
    if (t->dtype != base->dtype)
        return nbi_error(NB_ERR_DTYPE, "%s: tensor is %s, base is %s", fn, nb_dtype_name(t->dtype),
                         nb_dtype_name(base->dtype));
    if (!nbi_is_contiguous(t) || !nbi_is_contiguous(base) || offset < 0 ||
        offset > base->numel - t->numel)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: %s tensor of %lld elements at offset %lld does not fit in %s", fn,
                         nbi_is_contiguous(t) ? "contiguous" : "non-contiguous",
                         (long long)t->numel, (long long)offset, nbi_fmt_shape(base));
    const size_t esz = nb_dtype_size(t->dtype);
    char *dst = (char *)nbi_data(base) + (size_t)offset * esz;
    if (t->numel > 0)
        memmove(dst, nbi_data(t), (size_t)t->numel * esz);
    nbi_storage *old = t->storage;
    base->storage->refs++;
    t->storage = base->storage;
    t->offset = base->offset + offset;
    if (old && !old->arena && --old->refs == 0) {
        nbi_free(old->data);
        nbi_free(old);
    }
    return NB_OK;
}

nb_status nb_tensor_copy_into(nb_tensor *dst, const nb_tensor *src)
{
    if (!dst || !src)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_copy_into: %s is NULL", dst ? "src" : "dst");
    if (!nbi_check_live("nb_tensor_copy_into", dst) || !nbi_check_live("nb_tensor_copy_into", src))
        return nb_last_status();
    if (dst->numel != src->numel || dst->dtype != src->dtype)
        return nbi_error(NB_ERR_SHAPE, "nb_tensor_copy_into: dst is %s %s, src is %s %s",
                         nb_dtype_name(dst->dtype), nbi_fmt_shape(dst), nb_dtype_name(src->dtype),
                         nbi_fmt_shape(src));
    if (nbi_is_contiguous(dst) && nbi_is_contiguous(src)) {
        memmove(nbi_data(dst), nbi_data(src), (size_t)src->numel * nb_dtype_size(src->dtype));
        return NB_OK;
    }
    for (int64_t i = 0; i < src->numel; i++)
        store(dst, flat_to_offset(dst, i), load(src, flat_to_offset(src, i)));
    return NB_OK;
}

/* y = a x + b y over n contiguous elements; b = 0 does not read y */
#define AXPBY_LOOP(T)                                                                              \
    do {                                                                                           \
        T *py = nbi_data(y);                                                                       \
        const T *px = nbi_data(x);                                                                 \
        const T ta = (T)a, tb = (T)b;                                                              \
        if (b == 0) {                                                                              \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) py[i] = ta * px[i];                \
        } else {                                                                                   \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) py[i] = ta * px[i] + tb * py[i];   \
        }                                                                                          \
    } while (0)

nb_status nb_tensor_axpby(nb_tensor *y, double a, const nb_tensor *x, double b)
{
    const char *fn = "nb_tensor_axpby";
    if (!y || !x)
        return nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, y ? "x" : "y");
    if (!nbi_check_live(fn, y) || !nbi_check_live(fn, x))
        return nb_last_status();
    if (y->dtype != x->dtype || (y->dtype != NB_F32 && y->dtype != NB_F64))
        return nbi_error(NB_ERR_DTYPE, "%s: y and x must both be f32 or both f64, got %s and %s",
                         fn, nb_dtype_name(y->dtype), nb_dtype_name(x->dtype));
    if (y->ndim != x->ndim || memcmp(y->shape, x->shape, (size_t)y->ndim * sizeof *y->shape))
        return nbi_error(NB_ERR_SHAPE, "%s: y is %s, x is %s (need one shape)", fn,
                         nbi_fmt_shape(y), nbi_fmt_shape(x));
    if (!isfinite(a) || !isfinite(b))
        return nbi_error(NB_ERR_VALUE, "%s: a and b must be finite, got %g and %g", fn, a, b);
    const int64_t n = y->numel;
    nbi_prof_span sp;
    const bool prof = nbi_profiling();
    if (prof)
        nbi_prof_begin(&sp);
    if (nbi_is_contiguous(y) && nbi_is_contiguous(x)) {
        if (y->dtype == NB_F32)
            AXPBY_LOOP(float);
        else
            AXPBY_LOOP(double);
    } else {
        for (int64_t i = 0; i < n; i++) {
            const int64_t oy = flat_to_offset(y, i);
            const double xv = load(x, flat_to_offset(x, i));
            store(y, oy, b == 0 ? a * xv : a * xv + b * load(y, oy));
        }
    }
    if (prof) { /* a row of its own in the profile: "axpby (in place)" */
        static const nbi_op_def kind = {.name = "axpby (in place)"};
        nbi_prof_capture_call(&sp, &kind, (double)n * (b == 0 ? 1 : 3));
        nbi_prof_end(&sp, false);
    }
    return NB_OK;
}
#undef AXPBY_LOOP

void nb_tensor_free(nb_tensor *t)
{
    if (!t || t->epoch != 0) /* arena tensors (live or from an ended step) are not ours */
        return;
    nb_tensor_free(t->grad);
    nbi_storage *st = t->storage;
    if (st && !st->arena && --st->refs == 0) {
        nbi_free(st->data);
        nbi_free(st);
    }
    nbi_free(t);
}

/* ---- accessors ----
 * Every accessor first checks that t is not an op result of an ended step run (NB_ERR_STATE and
 * the neutral value otherwise): nbi_check_live reads only the header, which the step keeps. */
#define LIVE(fn, t) ((t) && nbi_check_live(fn, t))

bool nb_tensor_is_live(const nb_tensor *t)
{
    return t && (t->epoch == 0 || t->epoch == nbi_active_epoch());
}

nb_dtype nb_tensor_dtype(const nb_tensor *t)
{
    return LIVE("nb_tensor_dtype", t) ? t->dtype : NB_F32;
}

int nb_tensor_ndim(const nb_tensor *t)
{
    return LIVE("nb_tensor_ndim", t) ? t->ndim : -1;
}

int64_t nb_tensor_dim(const nb_tensor *t, int dim)
{
    if (!LIVE("nb_tensor_dim", t))
        return -1;
    int d = dim < 0 ? dim + t->ndim : dim;
    return d >= 0 && d < t->ndim ? t->shape[d] : -1;
}

const int64_t *nb_tensor_shape(const nb_tensor *t)
{
    return LIVE("nb_tensor_shape", t) ? t->shape : NULL;
}

const int64_t *nb_tensor_strides(const nb_tensor *t)
{
    return LIVE("nb_tensor_strides", t) ? t->strides : NULL;
}

int64_t nb_tensor_numel(const nb_tensor *t)
{
    return LIVE("nb_tensor_numel", t) ? t->numel : 0;
}

bool nb_tensor_is_contiguous(const nb_tensor *t)
{
    return LIVE("nb_tensor_is_contiguous", t) && nbi_is_contiguous(t);
}

float *nb_tensor_data_f32(nb_tensor *t)
{
    return LIVE("nb_tensor_data_f32", t) && t->dtype == NB_F32 ? (float *)nbi_data(t) : NULL;
}

double *nb_tensor_data_f64(nb_tensor *t)
{
    return LIVE("nb_tensor_data_f64", t) && t->dtype == NB_F64 ? (double *)nbi_data(t) : NULL;
}

int64_t *nb_tensor_data_i64(nb_tensor *t)
{
    return LIVE("nb_tensor_data_i64", t) && t->dtype == NB_I64 ? (int64_t *)nbi_data(t) : NULL;
}

void *nb_tensor_data(nb_tensor *t)
{
    return LIVE("nb_tensor_data", t) ? nbi_data(t) : NULL;
}

double nb_tensor_get(const nb_tensor *t, int64_t i)
{
    if (!LIVE("nb_tensor_get", t) || i < 0 || i >= t->numel)
        return NAN;
    return load(t, flat_to_offset(t, i));
}

nb_status nb_tensor_set(nb_tensor *t, int64_t i, double value)
{
    if (t && !nbi_check_live("nb_tensor_set", t))
        return NB_ERR_STATE;
    if (!t || i < 0 || i >= t->numel)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_set: index %lld out of range for %s",
                         (long long)i, nbi_fmt_shape(t));
    if (check_storable("nb_tensor_set", t, value) != NB_OK)
        return NB_ERR_VALUE;
    store(t, flat_to_offset(t, i), value);
    return NB_OK;
}

nb_status nb_tensor_fill(nb_tensor *t, double value)
{
    if (!t)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_fill: tensor is NULL");
    if (!nbi_check_live("nb_tensor_fill", t))
        return NB_ERR_STATE;
    if (check_storable("nb_tensor_fill", t, value) != NB_OK)
        return NB_ERR_VALUE;
    for (int64_t i = 0; i < t->numel; i++)
        store(t, flat_to_offset(t, i), value);
    return NB_OK;
}

double nb_tensor_item(const nb_tensor *t)
{
    return LIVE("nb_tensor_item", t) && t->numel == 1 ? load(t, t->offset) : NAN;
}

char *nb_tensor_shape_str(const nb_tensor *t, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    if (!t) {
        snprintf(buf, size, "(null)");
        return buf;
    }
    nbi_shape_str(t->ndim, t->shape, buf, size);
    return buf;
}

void nb_tensor_print(const nb_tensor *t, const char *name, int max_elems)
{
    if (!t || !nbi_check_live("nb_tensor_print", t)) {
        printf("%s: %s\n", name ? name : "tensor", t ? "(from an ended step)" : "(null)");
        return;
    }
    printf("%s: %s %s [", name ? name : "tensor", nb_dtype_name(t->dtype), nbi_fmt_shape(t));
    int64_t n = t->numel < max_elems ? t->numel : max_elems;
    for (int64_t i = 0; i < n; i++)
        printf("%s%.6g", i ? ", " : "", nb_tensor_get(t, i));
    printf("%s]\n", n < t->numel ? ", ..." : "");
}

bool nb_tensor_allclose(const nb_tensor *a, const nb_tensor *b, double rtol, double atol)
{
    if (!LIVE("nb_tensor_allclose", a) || !LIVE("nb_tensor_allclose", b) || !nbi_same_shape(a, b))
        return false;
    for (int64_t i = 0; i < a->numel; i++) {
        double x = nb_tensor_get(a, i), y = nb_tensor_get(b, i);
        if (!(fabs(x - y) <= atol + rtol * fabs(y)))
            return false;
    }
    return true;
}

/* ---- gradients ---- */
nb_status nb_tensor_set_requires_grad(nb_tensor *t, bool requires_grad)
{
    if (!t)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_set_requires_grad: tensor is NULL");
    if (!nbi_check_live("nb_tensor_set_requires_grad", t))
        return NB_ERR_STATE;
    if (requires_grad && !nbi_is_float(t->dtype))
        return nbi_error(NB_ERR_DTYPE, "nb_tensor_set_requires_grad: %s tensors have no gradient",
                         nb_dtype_name(t->dtype));
    if (t->creator)
        return nbi_error(NB_ERR_STATE,
                         "nb_tensor_set_requires_grad: only leaves can be changed, this tensor "
                         "is an op result");
    t->requires_grad = requires_grad;
    return NB_OK;
}

nb_status nb_tensor_retain_grad(nb_tensor *t)
{
    if (!t)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_retain_grad: tensor is NULL");
    if (!nbi_check_live("nb_tensor_retain_grad", t))
        return NB_ERR_STATE;
    t->retain_grad = true;
    return NB_OK;
}

bool nb_tensor_requires_grad(const nb_tensor *t)
{
    return LIVE("nb_tensor_requires_grad", t) && t->requires_grad;
}

nb_tensor *nb_tensor_grad(nb_tensor *t)
{
    return LIVE("nb_tensor_grad", t) ? t->grad : NULL;
}

nb_status nb_tensor_attach_grad(nb_tensor *t, nb_tensor *grad)
{
    if (!t || !grad)
        return nbi_error(NB_ERR_VALUE, "nb_tensor_attach_grad: %s is NULL", t ? "grad" : "tensor");
    if (t->arena || grad->arena || !nbi_same_shape(t, grad) || t->dtype != grad->dtype ||
        !nbi_is_contiguous(grad))
        return nbi_error(NB_ERR_SHAPE,
                         "nb_tensor_attach_grad: grad must be a caller-owned contiguous %s %s "
                         "tensor, got %s %s",
                         nb_dtype_name(t->dtype), nbi_fmt_shape(t), nb_dtype_name(grad->dtype),
                         nbi_fmt_shape(grad));
    if (t->grad != grad)
        nb_tensor_free(t->grad);
    t->grad = grad;
    return NB_OK;
}

void nb_tensor_zero_grad(nb_tensor *t)
{
    if (LIVE("nb_tensor_zero_grad", t) && t->grad)
        memset(nbi_data(t->grad), 0, (size_t)t->grad->numel * nb_dtype_size(t->grad->dtype));
}
