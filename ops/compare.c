/* ops/compare.c — comparison and selection: masks (eq, ne, lt, le, gt, ge, logical and / or /
 * xor / not, isnan, isfinite), where, masked_fill, tril and triu.
 *
 * A mask is a float tensor holding exactly 0 and 1, of the compared inputs' dtype (f32 when
 * they are i64): include/nabla/ops.h says why. Ops that read a mask treat any nonzero element
 * (NaN included) as true, as PyTorch's bool conversion does.
 *
 *   where:       y = c ? a : b;        da += c ? dy : 0,  db += c ? 0 : dy   (c not differentiated)
 *   masked_fill: y = m ? value : x;    dx += m ? 0 : dy
 *   tril / triu: y = keep(i, j) ? x : 0 on the last two axes;  dx += keep(i, j) ? dy : 0
 *                with keep = (j - i <= k) for tril, (j - i >= k) for triu */
#include "ops/op_def.h"

#include <math.h>
#include <string.h>

/* Start the row walk (autograd/kernel.h) of n tensors in[0..n) (n <= 3) of one shape, each with
 * its own strides (broadcast views have stride 0). When every input is contiguous the whole
 * tensor is one row. */
static bool rows_init(nbi_rows *r, int n, const nb_tensor *const *in)
{
    static const int64_t one = 1;
    const int64_t *st[NBI_ROWS_MAX] = {&one, &one, &one};
    bool flat = true;
    for (int k = 0; k < n; k++)
        flat = flat && nbi_is_contiguous(in[k]);
    if (flat)
        return nbi_rows_init(r, n, 1, &in[0]->numel, st);
    for (int k = 0; k < n; k++)
        st[k] = in[k]->strides;
    return nbi_rows_init(r, n, in[0]->ndim, in[0]->shape, st);
}

#define DISPATCH3(dtype, name, ...)                                                                \
    do {                                                                                           \
        if ((dtype) == NB_I64)                                                                     \
            name##_i64(__VA_ARGS__);                                                               \
        else                                                                                       \
            NB_DISPATCH(dtype, name, __VA_ARGS__);                                                 \
    } while (0)

/* ---- masks ----
 * One line per op: arity and the test on a (and b) giving the mask element. */
#define MASK_OPS(X)                                                                                \
    X(eq, EQ, 2, a == b)                                                                           \
    X(ne, NE, 2, a != b)                                                                           \
    X(lt, LT, 2, a < b)                                                                            \
    X(le, LE, 2, a <= b)                                                                           \
    X(gt, GT, 2, a > b)                                                                            \
    X(ge, GE, 2, a >= b)                                                                           \
    X(logical_and, LOGICAL_AND, 2, a != 0 && b != 0)                                               \
    X(logical_or, LOGICAL_OR, 2, a != 0 || b != 0)                                                 \
    X(logical_xor, LOGICAL_XOR, 2, (a != 0) != (b != 0))                                           \
    X(logical_not, LOGICAL_NOT, 1, a == 0)                                                         \
    X(isnan, ISNAN, 1, a != a)                                                                     \
    X(isfinite, ISFINITE, 1, isfinite((double)a))

/* The mask's dtype: the inputs' float dtype, f32 for i64 inputs. */
static nb_dtype mask_dtype(nb_dtype in)
{
    return in == NB_I64 ? NB_F32 : in;
}

static nb_status mask_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *a = r->in[0];
    *dtype = mask_dtype(a->dtype);
    if (r->n_in == 2)
        return nbi_broadcast_shape(r->def->api, a, r->in[1], ndim, shape);
    *ndim = a->ndim;
    memcpy(shape, a->shape, sizeof a->shape);
    return NB_OK;
}

/* Mask kernel reading TI elements and writing TO (the mask dtype). */
#define MASK_KERNEL(name, TI, TO, NIN, TEST)                                                       \
    static void name(const nbi_record *r)                                                          \
    {                                                                                              \
        const TI *pa = nbi_data(r->in[0]), *pb = nbi_data(r->in[(NIN)-1]);                         \
        TO *py = nbi_data(r->out);                                                                 \
        const nb_tensor *in_[2] = {r->in[0], r->in[(NIN)-1]};                                      \
        nbi_rows w_;                                                                               \
        for (bool more_ = rows_init(&w_, (NIN), in_); more_; more_ = nbi_rows_next(&w_)) {         \
            const int64_t n = w_.len, i0 = w_.i0, oa = w_.off[0], sa = w_.st[0];                   \
            const int64_t ob = w_.off[(NIN)-1], sb = w_.st[(NIN)-1];                               \
            for (int64_t k = 0; k < n; k++) {                                                      \
                const TI a = pa[oa + k * sa], b = pb[ob + k * sb];                                 \
                (void)b;                                                                           \
                py[i0 + k] = (TO)(TEST);                                                           \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_MASK(sym, E, NIN, TEST)                                                             \
    MASK_KERNEL(sym##_f32, float, float, NIN, TEST)                                                \
    MASK_KERNEL(sym##_f64, double, double, NIN, TEST)                                              \
    MASK_KERNEL(sym##_i64, int64_t, float, NIN, TEST)                                              \
    static nb_status sym##_forward(nbi_record *r)                                                  \
    {                                                                                              \
        DISPATCH3(r->in[0]->dtype, sym, r);                                                        \
        return NB_OK;                                                                              \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = (NIN),                                                                            \
        .flags = NBI_OP_NONDIFF | NBI_OP_ANY_DTYPE | NBI_OP_STRIDED | NBI_OP_WRITES_ALL |          \
                 ((NIN) > 1 ? NBI_OP_BROADCAST : 0),                                               \
        .shape = mask_shape,                                                                       \
        .forward = sym##_forward,                                                                  \
    };

MASK_OPS(DEFINE_MASK)

/* The public functions: nb_eq(a, b) ... nb_logical_xor(a, b), nb_logical_not(x) ... */
#define MASK_API_2(sym, E)                                                                         \
    nb_tensor *nb_##sym(nb_tensor *a, nb_tensor *b)                                                \
    {                                                                                              \
        nb_tensor *in[2] = {a, b};                                                                 \
        return nbi_apply(NB_OP_##E, 2, in, NULL);                                                  \
    }
#define MASK_API_1(sym, E)                                                                         \
    nb_tensor *nb_##sym(nb_tensor *x)                                                              \
    {                                                                                              \
        return nbi_apply(NB_OP_##E, 1, &x, NULL);                                                  \
    }
#define DEFINE_MASK_API(sym, E, NIN, TEST) MASK_API_##NIN(sym, E)
MASK_OPS(DEFINE_MASK_API)

/* ---- where and masked_fill: y = c ? a : b ----
 * where's inputs are (cond, a, b); masked_fill's are (x, mask) with a = the value attribute,
 * b = x. All are views of the output's shape (broadcast by the engine). */
typedef struct select_attr {
    double value; /* masked_fill's fill value */
} select_attr;

static nb_status where_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    *dtype = r->in[1]->dtype;
    return nb_op_broadcast_shape(r, ndim, shape);
}

static nb_status masked_fill_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const double v = ((const select_attr *)r->attr)->value;
    *dtype = r->in[0]->dtype;
    if (*dtype == NB_I64 && !(v == floor(v) && fabs(v) <= 0x1p62))
        return nbi_error(NB_ERR_VALUE,
                         "nb_masked_fill: value %g is not an integer an i64 tensor can hold", v);
    return nbi_broadcast_shape("nb_masked_fill", r->in[0], r->in[1], ndim, shape);
}

#define NB_KERNELS "ops/compare_kernels.h"
#define NB_KERNELS_I64
#include "nabla/typed.h"

static nb_status where_forward(nbi_record *r)
{
    DISPATCH3(r->out->dtype, select_fwd, r, r->in[0], r->in[1], 0.0, r->in[2]);
    return NB_OK;
}

const nbi_op_def nbi_op_where = {
    .name = "where",
    .api = "nb_where",
    .arity = 3,
    .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_ANY_DTYPE | NBI_OP_WRITES_ALL,
    .shape = where_shape,
    .forward = where_forward,
    .backward_f32 = where_bwd_f32,
    .backward_f64 = where_bwd_f64,
};

static nb_status masked_fill_forward(nbi_record *r)
{
    const double v = ((const select_attr *)r->attr)->value;
    DISPATCH3(r->out->dtype, select_fwd, r, r->in[1], NULL, v, r->in[0]);
    return NB_OK;
}

const nbi_op_def nbi_op_masked_fill = {
    .name = "masked_fill",
    .api = "nb_masked_fill",
    .arity = 2,
    .flags = NBI_OP_BROADCAST | NBI_OP_STRIDED | NBI_OP_ANY_DTYPE | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(select_attr),
    .shape = masked_fill_shape,
    .forward = masked_fill_forward,
    .backward_f32 = masked_fill_bwd_f32,
    .backward_f64 = masked_fill_bwd_f64,
};

/* A mask of another dtype than the data it selects is converted to the data's dtype (0 / 1,
 * nonzero -> 1): not recorded, placed like an op result. */
/* mask as `like`'s dtype: mask itself when the dtypes agree (or either is NULL, stale or of an
 * unknown dtype: nbi_apply then reports it), else a converted copy (*made = true). */
static nb_tensor *mask_as(const char *fn, nb_tensor *mask, const nb_tensor *like, bool *made)
{
    *made = false;
    if (!mask || !like || mask->dtype == like->dtype || !nb_tensor_is_live(mask) ||
        !nb_tensor_is_live(like) || nb_dtype_size(mask->dtype) == 0 ||
        nb_dtype_size(like->dtype) == 0)
        return mask;
    nb_tensor *c = nbi_tensor_alloc_uninit(fn, like->dtype, mask->ndim, mask->shape);
    if (!c)
        return NULL;
    DISPATCH3(like->dtype, mask_cast, mask, c);
    *made = true;
    return c;
}

/* Apply op id to in[] where in[mask_slot] was converted (made): a heap copy (no step) is freed
 * after the op, which keeps no reference to it. */
static nb_tensor *apply_with_mask(nb_op_id id, int n, nb_tensor **in, int mask_slot, bool made,
                                  const void *attr)
{
    nb_tensor *y = nbi_apply(id, n, in, attr);
    if (made && !nbi_active_arena())
        nb_tensor_free(in[mask_slot]);
    return y;
}

nb_tensor *nb_where(nb_tensor *cond, nb_tensor *a, nb_tensor *b)
{
    bool made;
    nb_tensor *c = mask_as("nb_where", cond, a, &made);
    nb_tensor *in[3] = {c, a, b};
    return cond && !c ? NULL : apply_with_mask(NB_OP_WHERE, 3, in, 0, made, NULL);
}

nb_tensor *nb_masked_fill(nb_tensor *x, nb_tensor *mask, double value)
{
    bool made;
    nb_tensor *m = mask_as("nb_masked_fill", mask, x, &made);
    nb_tensor *in[2] = {x, m};
    const select_attr attr = {.value = value};
    return mask && !m ? NULL : apply_with_mask(NB_OP_MASKED_FILL, 2, in, 1, made, &attr);
}

/* ---- tril / triu ---- */
typedef struct tri_attr {
    int64_t diagonal; /* k: 0 the main diagonal, > 0 above it, < 0 below it */
} tri_attr;

static nb_status tri_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0];
    if (x->ndim < 2)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: x must have at least 2 dims (a batch of matrices): x is %s",
                         r->def->api, nbi_fmt_shape(x));
    return nbi_shape_same(r, dtype, ndim, shape);
}

/* Does element (i, j) survive? (i, j < 2^62, so j - i cannot overflow; k is any int64.) */
static inline bool tri_keep(bool lower, int64_t i, int64_t j, int64_t k)
{
    return lower ? j - i <= k : j - i >= k;
}

#define NB_KERNELS "ops/tri_kernels.h"
#define NB_KERNELS_I64
#include "nabla/typed.h"

#define DEFINE_TRI(sym, E, LOWER)                                                                  \
    static nb_status sym##_forward(nbi_record *r)                                                  \
    {                                                                                              \
        DISPATCH3(r->out->dtype, tri_fwd, r, LOWER);                                               \
        return NB_OK;                                                                              \
    }                                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = NBI_OP_ANY_DTYPE | NBI_OP_WRITES_ALL,                                             \
        .attr_size = sizeof(tri_attr),                                                             \
        .shape = tri_shape,                                                                        \
        .forward = sym##_forward,                                                                  \
        .backward_f32 = tri_bwd_f32,                                                               \
        .backward_f64 = tri_bwd_f64,                                                               \
    };                                                                                             \
    nb_tensor *nb_##sym(nb_tensor *x, int64_t diagonal)                                            \
    {                                                                                              \
        const tri_attr attr = {.diagonal = diagonal};                                              \
        return nbi_apply(NB_OP_##E, 1, &x, &attr);                                                 \
    }

DEFINE_TRI(tril, TRIL, true)
DEFINE_TRI(triu, TRIU, false)
