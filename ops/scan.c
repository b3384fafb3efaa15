/* ops/scan.c — cumulative sum and product along one axis (torch.cumsum / cumprod).
 *
 * x (contiguous) is seen as [outer, n, inner] around the axis; a running value per inner
 * position is kept in double, so each output is rounded once:
 *   cumsum:  y_k = sum_{j <= k} x_j;    dx_k += sum_{i >= k} dy_i (a reverse cumulative sum)
 *   cumprod: y_k = prod_{j <= k} x_j;   dx_k += P_{k-1} S_k, where P_{k-1} = prod_{j < k} x_j and
 *            S_k = sum_{i >= k} dy_i prod_{k < j <= i} x_j = dy_k + x_{k+1} S_{k+1}
 * cumprod's gradient uses no division, so zeros in x (one or several) need no special case. */
#include "ops/op_def.h"

#include <math.h>

typedef struct {
    int axis; /* as given (may be negative) */
} scan_attr;

/* x as [outer, n, inner] around its (validated) axis; a 0-dim x is [1, 1, 1]. */
static void scan_dims(const nbi_record *r, int64_t *outer, int64_t *n, int64_t *inner)
{
    const nb_tensor *x = r->in[0];
    const int ax = nbi_axis(r->api, ((const scan_attr *)r->attr)->axis, x->ndim ? x->ndim : 1);
    *outer = *n = *inner = 1;
    for (int d = 0; d < x->ndim; d++)
        *(d < ax ? outer : d == ax ? n : inner) *= x->shape[d];
}

static nb_status scan_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0];
    if (nbi_axis(r->api, ((const scan_attr *)r->attr)->axis, x->ndim ? x->ndim : 1) < 0)
        return nb_last_status();
    return nbi_shape_same(r, dtype, ndim, shape);
}

#define NB_KERNELS "ops/scan_kernels.h"
#include "nabla/typed.h"

/* Work memory of `count` doubles (at least one) for a kernel; NULL with the error set. */
static double *scan_work(const nbi_record *r, int64_t count, bool *heap)
{
    return nbi_work_alloc(r->api, (size_t)(count > 0 ? count : 1) * sizeof(double), heap);
}

static nb_status scan_forward(nbi_record *r)
{
    int64_t outer, n, inner;
    scan_dims(r, &outer, &n, &inner);
    bool heap = false;
    double *acc = scan_work(r, inner, &heap);
    if (!acc)
        return nb_last_status();
    NB_DISPATCH(r->out->dtype, scan_fwd, r, acc, r->id == NB_OP_CUMPROD);
    if (heap)
        nbi_free(acc);
    return NB_OK;
}

static void scan_backward(nbi_record *r)
{
    if (!r->in[0]->grad)
        return;
    int64_t outer, n, inner;
    scan_dims(r, &outer, &n, &inner);
    const bool prod = r->id == NB_OP_CUMPROD;
    bool heap = false;
    double *work = scan_work(r, prod ? n : inner, &heap);
    if (!work)
        return; /* error set: the backward reports it */
    if (prod)
        NB_DISPATCH(r->out->dtype, cumprod_bwd, r, work);
    else
        NB_DISPATCH(r->out->dtype, cumsum_bwd, r, work);
    if (heap)
        nbi_free(work);
}

#define SCAN_DEF(sym)                                                                              \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = "nb_" #sym,                                                                         \
        .arity = 1,                                                                                \
        .flags = NBI_OP_WRITES_ALL,                                                                \
        .attr_size = sizeof(scan_attr),                                                            \
        .shape = scan_shape,                                                                       \
        .forward = scan_forward,                                                                   \
        .backward = scan_backward,                                                                 \
    };
SCAN_DEF(cumsum)
SCAN_DEF(cumprod)

nb_tensor *nb_cumsum(nb_tensor *x, int axis)
{
    const scan_attr a = {.axis = axis};
    return nbi_apply(NB_OP_CUMSUM, 1, &x, &a);
}

nb_tensor *nb_cumprod(nb_tensor *x, int axis)
{
    const scan_attr a = {.axis = axis};
    return nbi_apply(NB_OP_CUMPROD, 1, &x, &a);
}
