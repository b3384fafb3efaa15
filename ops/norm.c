/* ops/norm.c — layer normalisation over the trailing dims of x as one op (PyTorch's
 * F.layer_norm):
 *
 *   x viewed as [rows, D], D the product of the normalised dims; per row
 *   mu = mean(x),  var = mean((x - mu)^2) (biased),  rstd = 1 / sqrt(var + eps)
 *   xhat = (x - mu) * rstd,  y = xhat * w + b        (w, b of the normalised shape, optional)
 *   backward, with g = dy * w (dy without w):
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  dw = sum_rows dy * xhat,
 *   db = sum_rows dy
 *
 * One op instead of its composition (two means, sub, square, add, sqrt, div, mul, add: nine
 * passes over x forward and more backward, each with its own output): two passes forward,
 * two backward. Forward keeps mu and rstd of every row (doubles) for backward. The row
 * statistics and the sums over rows accumulate in double for f32 too. Rows run in parallel;
 * the sums over rows for dw and db run in row order on one thread, so results do not depend on
 * the thread count. The tests check it against its composition, and the LayerNorm module's
 * golden cases compare it with PyTorch. */
#include "ops/op_def.h"

#include <math.h>
#include <omp.h>
#include <string.h>

typedef struct {
    int ndim; /* normalised trailing dims */
    double eps;
} ln_attr;

static nb_status ln_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const ln_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    if (r->n_in != 1 && r->n_in != 3)
        return nbi_error(NB_ERR_VALUE, "%s: 1 or 3 inputs (x, or x, weight and bias), got %d",
                         r->api, r->n_in);
    if (a->ndim < 1 || a->ndim > x->ndim)
        return nbi_error(NB_ERR_SHAPE, "%s: cannot normalise the last %d dims of %s", r->api,
                         a->ndim, nbi_fmt_shape(x));
    for (int i = 1; i < r->n_in; i++) {
        const nb_tensor *p = r->in[i];
        bool ok = p->ndim == a->ndim;
        for (int d = 0; ok && d < a->ndim; d++)
            ok = p->shape[d] == x->shape[x->ndim - a->ndim + d];
        if (!ok)
            return nbi_error(NB_ERR_SHAPE,
                             "%s: %s is %s, must be the normalised shape (the last %d dims of x, "
                             "which is %s)",
                             r->api, i == 1 ? "weight" : "bias", nbi_fmt_shape(p), a->ndim,
                             nbi_fmt_shape(x));
    }
    return nbi_shape_same(r, dtype, ndim, shape);
}

/* x as [rows, D] (of a record that passed its shape rule) */
static void ln_layout(const nbi_record *r, int64_t *rows, int64_t *D)
{
    const ln_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    *D = 1;
    for (int d = x->ndim - a->ndim; d < x->ndim; d++)
        *D *= x->shape[d];
    *rows = *D ? x->numel / *D : 0;
}

#define NB_KERNELS "ops/norm_kernels.h"
#include "nabla/typed.h"

/* 2 n flops for the statistics, 4 n for y; backward about 10 n */
static double ln_flops(const nbi_record *r, bool backward)
{
    return (double)r->in[0]->numel * (backward ? 10.0 : 6.0);
}

const nbi_op_def nbi_op_layer_norm = {
    .name = "layer_norm",
    .api = "nb_layer_norm",
    .arity = -1,
    .flags = NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .attr_size = sizeof(ln_attr),
    .shape = ln_shape,
    .forward_f32 = ln_fwd_f32,
    .forward_f64 = ln_fwd_f64,
    .backward_f32 = ln_bwd_f32,
    .backward_f64 = ln_bwd_f64,
    .flops = ln_flops,
};

nb_tensor *nb_layer_norm(nb_tensor *x, int ndim, nb_tensor *weight, nb_tensor *bias, double eps)
{
    const char *fn = "nb_layer_norm";
    if (!x || ((weight || bias) && (!weight || !bias))) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: %s", fn,
                      !x ? "input is NULL" : "give both weight and bias, or neither");
        return NULL;
    }
    if (!(eps >= 0) || !isfinite(eps)) {
        nbi_error(NB_ERR_VALUE, "%s: eps must be finite and >= 0, got %g", fn, eps);
        return NULL;
    }
    nb_tensor *in[3] = {x, weight, bias};
    return nbi_apply(NB_OP_LAYER_NORM, weight ? 3 : 1, in, &(ln_attr){ndim, eps});
}
