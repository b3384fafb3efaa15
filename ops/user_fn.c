/* ops/user_fn.c — nb_elementwise: an elementwise op from a user's scalar function and its
 * derivative (nabla/op.h), evaluated in double for both float dtypes.
 *
 *   y = f(x);   dx += dy * df(x, y) */
#include "ops/op_def.h"

typedef struct {
    const nb_elementwise_def *def;
} fn_attr;

static nb_status fn_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_elementwise_def *d = ((const fn_attr *)r->attr)->def;
    if (!d->f)
        return nbi_error(NB_ERR_VALUE, "nb_elementwise: %s: f is NULL", d->name ? d->name : "op");
    return nbi_shape_same(r, dtype, ndim, shape);
}

#define NB_KERNELS "ops/user_fn_kernels.h"
#include "nabla/typed.h"

const nbi_op_def nbi_op_elementwise = {
    .name = "elementwise",
    .api = "nb_elementwise",
    .arity = 1,
    .attr_size = sizeof(fn_attr),
    .shape = fn_shape,
    .forward_f32 = fn_fwd_f32,
    .forward_f64 = fn_fwd_f64,
    .backward_f32 = fn_bwd_f32,
    .backward_f64 = fn_bwd_f64,
};

/* Without a derivative the same op is not differentiable: a user-style definition (the public
 * contract), so its result never requires grad. */
static const nb_op_def fn_nondiff = {
    .name = "elementwise",
    .api = "nb_elementwise",
    .arity = 1,
    .flags = NB_OPF_NONDIFF,
    .attr_size = sizeof(fn_attr),
    .shape = fn_shape,
    .forward_f32 = fn_fwd_f32,
    .forward_f64 = fn_fwd_f64,
};

nb_tensor *nb_elementwise(const nb_elementwise_def *def, nb_tensor *x)
{
    if (!def) {
        nbi_error(NB_ERR_VALUE, "nb_elementwise: def is NULL");
        return NULL;
    }
    fn_attr a = {.def = def};
    return def->df ? nbi_apply(NB_OP_ELEMENTWISE, 1, &x, &a) : nb_op_apply(&fn_nondiff, 1, &x, &a);
}
