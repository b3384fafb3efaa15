/* dist/sync_bn.c — synchronised BatchNorm statistics: a differentiable all-reduce, defined with
 * the public op contract (nabla/op.h) like any user's op, installed into every BatchNorm of a
 * model through nb_batch_norm_set_sync.
 *
 *   forward:  y = sum over ranks of x            backward: dx += sum over ranks of dy
 *
 * Every rank runs the same BatchNorm forwards in the same order, so the collectives match. */
#include "dist_impl.h"
#include "nabla/conv_layers.h"
#include "nabla/op.h"

#include <stdlib.h>
#include <string.h>

/* dst (+)= sum over ranks of src (contiguous, same numel), through a double buffer. */
static nb_status allreduce_into(nb_tensor *dst, nb_tensor *src, bool accumulate)
{
    const int64_t n = nb_tensor_numel(src);
    double *buf = malloc((size_t)(n > 0 ? n : 1) * sizeof *buf);
    if (!buf)
        return nb_set_error(NB_ERR_NOMEM, "nb_ddp_sync_batch_norm: out of memory");
    for (int64_t i = 0; i < n; i++)
        buf[i] = nb_tensor_get(src, i);
    nb_status st = nb_dist_allreduce_sum(buf, (int)n);
    for (int64_t i = 0; st == NB_OK && i < n; i++)
        nb_tensor_set(dst, i, (accumulate ? nb_tensor_get(dst, i) : 0.0) + buf[i]);
    free(buf);
    return st;
}

static nb_status allreduce_forward(nb_op_ctx *c)
{
    return allreduce_into(nb_op_output(c), nb_op_input(c, 0), false);
}

static void allreduce_backward(nb_op_ctx *c)
{
    nb_tensor *dx = nb_op_grad_input(c, 0);
    /* every rank calls this (same graph), even when its input needs no gradient */
    nb_tensor *dy = nb_op_grad_output(c);
    if (dx)
        allreduce_into(dx, dy, true);
    else
        allreduce_into(dy, dy, false); /* keep the collective matched; the result is unused */
}

static const nb_op_def allreduce_def = {
    .name = "allreduce_sum",
    .api = "nb_ddp_sync_batch_norm",
    .arity = 1,
    .shape = nb_op_shape_same,
    .forward = allreduce_forward,
    .backward = allreduce_backward,
};

static nb_tensor *sum_over_ranks(nb_tensor *t, void *user)
{
    (void)user;
    return nb_op_apply(&allreduce_def, 1, &t, NULL);
}

/* Depth-first over the module tree; returns how many BatchNorms were switched. */
static int install(nb_module *m, bool on)
{
    int n = 0;
    const char *kind = nb_module_kind(m);
    if (strcmp(kind, "BatchNorm1d") == 0 || strcmp(kind, "BatchNorm2d") == 0)
        n += nb_batch_norm_set_sync(m, on ? sum_over_ranks : NULL, NULL) == NB_OK;
    for (int i = 0; i < nb_module_num_children(m); i++)
        n += install(nb_module_child_at(m, i), on);
    return n;
}

int nb_ddp_sync_batch_norm(nb_module *model, bool on)
{
    if (!model) {
        nb_set_error(NB_ERR_VALUE, "nb_ddp_sync_batch_norm: model is NULL");
        return -1;
    }
    if (on && !nb_dist_initialized()) {
        nb_set_error(NB_ERR_STATE, "nb_ddp_sync_batch_norm: nb_dist_init has not been called");
        return -1;
    }
    return install(model, on);
}
