/* ops/index.c — ops driven by integer indices: pick (one entry per row, for NLL losses) and
 * gather_rows (embedding lookup), plus one-hot encoding.
 *
 *   pick:        y[n] = x[n, idx[n]];          dx[n, idx[n]] += dy[n]
 *   gather_rows: y[s, :] = table[ids[s], :];   dtable[ids[s], :] += dy[s, :]  (scatter-add) */
#include "ops/op_def.h"

#include <string.h>

/* First id outside [0, n), or -1 when all are valid. */
static int64_t bad_index(const int64_t *ids, int64_t count, int64_t n)
{
    for (int64_t i = 0; i < count; i++)
        if (ids[i] < 0 || ids[i] >= n)
            return i;
    return -1;
}

/* ---- pick ---- */
static nb_status pick_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0], *idx = r->in[1];
    if (x->ndim != 2 || idx->ndim != 1 || idx->shape[0] != x->shape[0])
        return nbi_error(NB_ERR_SHAPE, "nb_pick: x must be [N, C] and idx [N]: x is %s, idx is %s",
                         nbi_fmt_shape(x), nbi_fmt_shape(idx));
    *dtype = x->dtype;
    *ndim = 1;
    shape[0] = x->shape[0];
    return NB_OK;
}

#define NB_KERNELS "ops/index_kernels.h"
#include "nabla/typed.h"

static nb_status pick_forward(nbi_record *r)
{
    const int64_t C = r->in[0]->shape[1];
    int64_t bad = bad_index(nbi_data(r->in[1]), r->in[1]->numel, C);
    if (bad >= 0)
        return nbi_error(NB_ERR_VALUE, "nb_pick: idx[%lld] = %lld is outside [0, %lld)",
                         (long long)bad, (long long)((const int64_t *)nbi_data(r->in[1]))[bad],
                         (long long)C);
    NB_DISPATCH(r->out->dtype, pick_fwd, r);
    return NB_OK;
}

const nbi_op_def nbi_op_pick = {
    .name = "pick",
    .api = "nb_pick",
    .arity = 2,
    .flags = NBI_OP_INDEX_IN1,
    .shape = pick_shape,
    .forward = pick_forward,
    .backward_f32 = pick_bwd_f32,
    .backward_f64 = pick_bwd_f64,
};

nb_tensor *nb_pick(nb_tensor *x, nb_tensor *idx)
{
    nb_tensor *in[2] = {x, idx};
    return nbi_apply(NB_OP_PICK, 2, in, NULL);
}

/* ---- gather_rows ---- */
static nb_status gather_rows_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *t = r->in[0], *ids = r->in[1];
    if (t->ndim != 2 || ids->ndim + 1 > NB_MAX_DIMS)
        return nbi_error(NB_ERR_SHAPE,
                         "nb_gather_rows: table must be [V, D] and ids at most %d-dim: table is "
                         "%s, ids is %s",
                         NB_MAX_DIMS - 1, nbi_fmt_shape(t), nbi_fmt_shape(ids));
    memcpy(shape, ids->shape, (size_t)ids->ndim * sizeof *shape);
    shape[ids->ndim] = t->shape[1];
    *ndim = ids->ndim + 1;
    *dtype = t->dtype;
    return NB_OK;
}

static nb_status gather_rows_forward(nbi_record *r)
{
    const nb_tensor *t = r->in[0], *ids = r->in[1];
    const int64_t V = t->shape[0], D = t->shape[1];
    const int64_t *id = nbi_data(ids);
    int64_t bad = bad_index(id, ids->numel, V);
    if (bad >= 0)
        return nbi_error(NB_ERR_VALUE, "nb_gather_rows: ids[%lld] = %lld is outside [0, %lld)",
                         (long long)bad, (long long)id[bad], (long long)V);
    const size_t row = (size_t)D * nb_dtype_size(t->dtype);
    const char *src = nbi_data(t);
    char *dst = nbi_data(r->out);
    for (int64_t s = 0; s < ids->numel; s++)
        memcpy(dst + (size_t)s * row, src + (size_t)id[s] * row, row);
    return NB_OK;
}

const nbi_op_def nbi_op_gather_rows = {
    .name = "gather_rows",
    .api = "nb_gather_rows",
    .arity = 2,
    .flags = NBI_OP_INDEX_IN1,
    .shape = gather_rows_shape,
    .forward = gather_rows_forward,
    .backward_f32 = gather_rows_bwd_f32,
    .backward_f64 = gather_rows_bwd_f64,
};

nb_tensor *nb_gather_rows(nb_tensor *table, nb_tensor *ids)
{
    nb_tensor *in[2] = {table, ids};
    return nbi_apply(NB_OP_GATHER_ROWS, 2, in, NULL);
}

/* ---- one-hot (a constant: not recorded) ---- */
nb_tensor *nb_one_hot(nb_tensor *ids, int64_t n_classes, nb_dtype dtype)
{
    const char *fn = "nb_one_hot";
    if (!ids) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: ids is NULL", fn);
        return NULL;
    }
    if (!nbi_check_live(fn, ids))
        return NULL;
    if (ids->dtype != NB_I64 || !nbi_is_float(dtype)) {
        nbi_error(NB_ERR_DTYPE, "%s: ids must be i64 and the result f32/f64, got %s -> %s", fn,
                  nb_dtype_name(ids->dtype), nb_dtype_name(dtype));
        return NULL;
    }
    if (n_classes < 1 || ids->ndim + 1 > NB_MAX_DIMS) {
        nbi_error(NB_ERR_VALUE, "%s: n_classes must be >= 1 (got %lld), ids at most %d-dim", fn,
                  (long long)n_classes, NB_MAX_DIMS - 1);
        return NULL;
    }
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, ids->shape, (size_t)ids->ndim * sizeof *shape);
    shape[ids->ndim] = n_classes;
    nb_tensor *y = nbi_tensor_alloc(fn, dtype, ids->ndim + 1, shape);
    if (!y)
        return NULL;
    for (int64_t s = 0; s < ids->numel; s++) {
        double v = nb_tensor_get(ids, s);
        if (v < 0 || v >= (double)n_classes) {
            nbi_error(NB_ERR_VALUE, "%s: ids[%lld] = %lld is outside [0, %lld)", fn, (long long)s,
                      (long long)v, (long long)n_classes);
            nb_tensor_free(y);
            return NULL;
        }
        nb_tensor_set(y, s * n_classes + (int64_t)v, 1.0);
    }
    return y;
}
