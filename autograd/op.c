/* autograd/op.c — what an op's shape rule, forward and backward may ask of their record: the
 * public side of the op contract (nabla/op.h). Built-in kernels read the record directly. */
#include "op.h"

#include <string.h>

int nb_op_num_inputs(const nb_op_ctx *ctx)
{
    return ctx ? ctx->n_in : 0;
}

nb_tensor *nb_op_input(const nb_op_ctx *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->n_in ? ctx->in[i] : NULL;
}

const void *nb_op_attr(const nb_op_ctx *ctx)
{
    return ctx ? ctx->attr : NULL;
}

nb_tensor *nb_op_output(const nb_op_ctx *ctx)
{
    return ctx ? ctx->out : NULL;
}

nb_tensor *nb_op_grad_output(const nb_op_ctx *ctx)
{
    return ctx && ctx->out ? ctx->out->grad : NULL;
}

nb_tensor *nb_op_grad_input(const nb_op_ctx *ctx, int i)
{
    nb_tensor *x = nb_op_input(ctx, i);
    return x ? x->grad : NULL;
}

bool nb_op_grad_input_fresh(const nb_op_ctx *ctx, int i)
{
    nb_tensor *x = nb_op_input(ctx, i);
    return x && x->grad && x->grad_fresh;
}

void *nb_op_save(nb_op_ctx *ctx, size_t bytes)
{
    const char *fn = ctx && ctx->api ? ctx->api : "nb_op_save";
    nbi_arena *a = nbi_active_arena();
    if (!ctx || !a)
        return NULL;
    void *p = nbi_arena_alloc(a, bytes ? bytes : 1);
    if (!p)
        return nbi_oom(fn, bytes);
    ctx->saved = p;
    return p;
}

void *nb_op_saved(const nb_op_ctx *ctx)
{
    return ctx ? ctx->saved : NULL;
}

const nb_op_def *nb_op_definition(const nb_op_ctx *ctx)
{
    return ctx ? ctx->def : NULL;
}

nb_status nb_op_shape_same(const nb_op_ctx *ctx, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = nb_op_input(ctx, 0);
    if (!x || !dtype || !ndim || !shape)
        return nbi_error(NB_ERR_VALUE, "nb_op_shape_same: NULL argument or no input");
    *dtype = x->dtype;
    *ndim = x->ndim;
    memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
    return NB_OK;
}
