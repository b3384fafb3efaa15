/* ops/softmax.c — softmax and log-softmax along one axis, numerically stable (max subtracted).
 *
 *   softmax:     y = exp(x - m) / s,          dx += y * (dy - sum(dy * y))
 *   log_softmax: y = (x - m) - log(s),        dx += dy - exp(y) * sum(dy)
 * with m = max and s = sum(exp(x - m)) along the axis. x is viewed as [outer, n, inner]. The
 * sums along the axis accumulate in double for f32 too. */
#include "ops/op_def.h"

#include <tgmath.h>

typedef struct {
    int axis; /* as given: negative counts from the end */
} axis_attr;

static nb_status softmax_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0];
    if (x->ndim == 0)
        return nbi_error(NB_ERR_SHAPE, "%s: needs at least 1 dim, got a scalar", r->api);
    if (nbi_axis(r->api, ((const axis_attr *)r->attr)->axis, x->ndim) < 0)
        return nb_last_status();
    return nbi_shape_same(r, dtype, ndim, shape);
}

/* x as [outer, n, inner] around the axis (of a record that passed its shape rule). */
static void layout(const nbi_record *r, int64_t *outer, int64_t *n, int64_t *inner)
{
    const nb_tensor *x = r->in[0];
    const int ax = nbi_axis(r->api, ((const axis_attr *)r->attr)->axis, x->ndim);
    NB_ASSERT(ax >= 0);
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < ax; d++)
        *outer *= x->shape[d];
    for (int d = ax + 1; d < x->ndim; d++)
        *inner *= x->shape[d];
    *n = x->shape[ax];
}

#define NB_KERNELS "ops/softmax_kernels.h"
#include "nabla/typed.h"

const nbi_op_def nbi_op_softmax = {
    .name = "softmax",
    .api = "nb_softmax",
    .arity = 1,
    .attr_size = sizeof(axis_attr),
    .shape = softmax_shape,
    .forward_f32 = softmax_fwd_f32,
    .forward_f64 = softmax_fwd_f64,
    .backward_f32 = softmax_bwd_f32,
    .backward_f64 = softmax_bwd_f64,
};

const nbi_op_def nbi_op_log_softmax = {
    .name = "log_softmax",
    .api = "nb_log_softmax",
    .arity = 1,
    .attr_size = sizeof(axis_attr),
    .shape = softmax_shape,
    .forward_f32 = softmax_fwd_f32,
    .forward_f64 = softmax_fwd_f64,
    .backward_f32 = softmax_bwd_f32,
    .backward_f64 = softmax_bwd_f64,
};

nb_tensor *nb_softmax(nb_tensor *x, int axis)
{
    return nbi_apply(NB_OP_SOFTMAX, 1, &x, &(axis_attr){axis});
}

nb_tensor *nb_log_softmax(nb_tensor *x, int axis)
{
    return nbi_apply(NB_OP_LOG_SOFTMAX, 1, &x, &(axis_attr){axis});
}
