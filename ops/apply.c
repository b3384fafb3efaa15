/* ops/apply.c — nbi_apply, the front door of every op.
 *
 * It checks inputs, runs the shape rule, inserts broadcast views (expand) and contiguous copies
 * where the op asks for them — through the op table, like any other op application — allocates
 * the output, runs forward and appends a record to the step's tape when an input requires
 * grad. Gradients of broadcast inputs are reduced in exactly one place: expand's backward. */
#include "ops/op_def.h"

#include "autograd/profile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- apply ---- */
nb_status nbi_broadcast_shape(const char *fn, const nb_tensor *a, const nb_tensor *b, int *ndim,
                              int64_t *shape)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nbi_error(NB_ERR_SHAPE,
                             "%s: shapes do not broadcast: a is %s, b is %s (dim %d: %lld vs %lld)",
                             fn, nbi_fmt_shape(a), nbi_fmt_shape(b), i, (long long)da,
                             (long long)db);
        shape[i] = da == 1 ? db : da;
    }
    *ndim = n;
    return NB_OK;
}

nb_status nb_op_broadcast_shape(const nb_op_ctx *ctx, int *ndim, int64_t *shape)
{
    if (!ctx || !ndim || !shape || ctx->n_in < 1)
        return nbi_error(NB_ERR_VALUE, "nb_op_broadcast_shape: NULL argument or no input");
    const nb_tensor *x = ctx->in[0];
    nb_tensor acc = {.ndim = x->ndim}; /* shape-only stand-in for the running result */
    memcpy(acc.shape, x->shape, sizeof acc.shape);
    for (int i = 1; i < ctx->n_in; i++) {
        int n;
        int64_t s[NB_MAX_DIMS];
        if (nbi_broadcast_shape(ctx->def->api, &acc, ctx->in[i], &n, s) != NB_OK)
            return NB_ERR_SHAPE;
        acc.ndim = n;
        memcpy(acc.shape, s, sizeof s);
    }
    *ndim = acc.ndim;
    memcpy(shape, acc.shape, (size_t)acc.ndim * sizeof *shape);
    return NB_OK;
}

double nbi_flops_elementwise(const nbi_record *r, bool backward)
{
    if (!backward)
        return (double)r->out->numel;
    double f = 0;
    for (int i = 0; i < r->n_in; i++)
        if (r->in[i]->grad)
            f += (double)r->in[i]->numel;
    return f;
}

nb_status nbi_shape_same(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0];
    *dtype = x->dtype;
    *ndim = x->ndim;
    memcpy(shape, x->shape, sizeof x->shape);
    return NB_OK;
}

static bool any_requires_grad(int n, nb_tensor *const *in)
{
    for (int i = 0; i < n; i++)
        if (in[i]->requires_grad)
            return true;
    return false;
}

static nb_tensor *apply_prepared(const nbi_op_def *def, int id, const char *fn, int n_in,
                                 nb_tensor *const *in, nb_tensor **in_local, const void *attr,
                                 nbi_prof_span *sp);

/* Input i in messages: its name, or "input i". */
static const char *input_name(const char *const *names, int i, char buf[16])
{
    if (names && names[i])
        return names[i];
    snprintf(buf, 16, "input %d", i);
    return buf;
}

/* Inputs of different dtypes. Named inputs: "x, w and b must share one float dtype: x is f64,
 * w is f32" (every name of the op, then the dtype of each input given); else the first pair. */
static void dtype_mismatch(const nbi_op_def *def, const char *fn, const char *const *names,
                           int n_in, nb_tensor *const *in, int i)
{
    if (!names) {
        nbi_error(NB_ERR_DTYPE, "%s: dtypes differ: input 0 is %s, input %d is %s", fn,
                  nb_dtype_name(in[0]->dtype), i, nb_dtype_name(in[i]->dtype));
        return;
    }
    char all[128] = "", given[256] = "";
    size_t a = 0, g = 0;
    for (int k = 0; names[k]; k++)
        a += (size_t)snprintf(all + a, a < sizeof all ? sizeof all - a : 0, "%s%s",
                              k == 0         ? ""
                              : names[k + 1] ? ", "
                                             : " and ",
                              names[k]);
    for (int k = 0; k < n_in && names[k]; k++)
        g += (size_t)snprintf(given + g, g < sizeof given ? sizeof given - g : 0, "%s%s is %s",
                              k ? ", " : "", names[k], nb_dtype_name(in[k]->dtype));
    nbi_error(NB_ERR_DTYPE, "%s: %s must share one %sdtype: %s", fn, all,
              def->flags & NBI_OP_ANY_DTYPE ? "" : "float ", given);
}

/* Apply def (built-in op `id`, or -1 for a user's op) after checking its inputs; messages name
 * the public function fn and the inputs by names (NULL-terminated, may be NULL). */
static nb_tensor *apply_def(const nbi_op_def *def, int id, const char *fn, const char *const *names,
                            int n_in, nb_tensor *const *in, const void *attr)
{
    if (!in) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: the input array is NULL", fn);
        return NULL;
    }
    if (n_in < 1 || n_in > NBI_MAX_INPUTS || (def->arity >= 0 && def->arity != n_in)) {
        if (def->arity >= 0)
            nbi_error(NB_ERR_VALUE, "%s: %d inputs given, the op takes %d", fn, n_in, def->arity);
        else
            nbi_error(NB_ERR_VALUE, "%s: %d inputs (accepted: 1 to %d)", fn, n_in, NBI_MAX_INPUTS);
        return NULL;
    }
    for (int i = 0; i < n_in; i++) {
        char buf[16];
        if (!in[i]) {
            if (!nbi_error_pending())
                nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, input_name(names, i, buf));
            return NULL;
        }
        if (!nbi_check_live(fn, in[i]))
            return NULL;
        bool index_slot = (def->flags & NBI_OP_INDEX_IN1) && i == 1;
        bool any = (def->flags & NBI_OP_ANY_DTYPE) && nb_dtype_size(in[i]->dtype) > 0;
        if (!any && (index_slot ? in[i]->dtype != NB_I64 : !nbi_is_float(in[i]->dtype))) {
            nbi_error(NB_ERR_DTYPE, "%s: %s must be %s, got %s", fn, input_name(names, i, buf),
                      index_slot ? "i64 (indices)" : "f32 or f64", nb_dtype_name(in[i]->dtype));
            return NULL;
        }
    }
    for (int i = 1; i < n_in; i++) {
        if (!((def->flags & NBI_OP_INDEX_IN1) && i == 1) && in[i]->dtype != in[0]->dtype) {
            dtype_mismatch(def, fn, names, n_in, in, i);
            return NULL;
        }
    }
    nb_tensor *in_local[NBI_MAX_INPUTS];
    memcpy(in_local, in, (size_t)n_in * sizeof *in);
    /* With no active step a view op makes a caller-owned view sharing its input's storage (kept
     * alive by its reference count); any other op runs in the private step (one memory mode: its
     * broadcast views and contiguous copies live in an arena) and hands back a copy. */
    nbi_scope sc = {0};
    if (!(def->flags & NBI_OP_VIEW) && !nbi_scope_enter(&sc))
        return NULL;
    if (nbi_profiling()) { /* nabla/profile.h: one span per application */
        nbi_prof_span sp;
        nbi_prof_begin(&sp);
        nb_tensor *out = apply_prepared(def, id, fn, n_in, in, in_local, attr, &sp);
        nbi_prof_end(&sp, false);
        return nbi_scope_exit(&sc, out);
    }
    return nbi_scope_exit(&sc, apply_prepared(def, id, fn, n_in, in, in_local, attr, NULL));
}

nb_tensor *nbi_apply(nb_op_id id, int n_in, nb_tensor *const *in, const void *attr)
{
    NB_ASSERT(id >= 0 && id < NB_OP_COUNT);
    return apply_def(nbi_op_table[id], (int)id, nbi_op_table[id]->api, NULL, n_in, in, attr);
}

nb_tensor *nbi_apply_as(nb_op_id id, const char *fn, const char *const *names, int n_in,
                        nb_tensor *const *in, const void *attr)
{
    NB_ASSERT(id >= 0 && id < NB_OP_COUNT && fn);
    return apply_def(nbi_op_table[id], (int)id, fn, names, n_in, in, attr);
}

nb_tensor *nb_op_apply(const nb_op_def *def, int n_in, nb_tensor *const *in, const void *attr)
{
    const char *fn = def && def->api ? def->api : "nb_op_apply";
    const char *bad =
        !def                      ? "def is NULL"
        : !def->name || !def->api ? "name and api must be set"
        : !def->shape             ? "shape must be set"
        : !def->forward != (def->forward_f32 && def->forward_f64)
            ? "set forward or both of forward_f32 and forward_f64 (one kind, not both)"
        : !def->forward_f32 != !def->forward_f64 ? "forward_f32 and forward_f64 come together"
        : def->backward && (def->backward_f32 || def->backward_f64)
            ? "set backward or both of backward_f32 and backward_f64 (one kind, not both)"
        : !def->backward_f32 != !def->backward_f64 ? "backward_f32 and backward_f64 come together"
        : def->flags & NBI_OP_VIEW                 ? "view ops are the library's own"
        : def->view                                ? "view must be NULL"
        : !(def->flags & NBI_OP_NONDIFF) && !nbi_has_backward(def)
            ? "backward must be set (or backward_f32 and backward_f64, or flag NB_OPF_NONDIFF)"
        : def->flags &
                ~(unsigned)(NB_OPF_BROADCAST | NB_OPF_STRIDED | NB_OPF_NONDIFF | NB_OPF_INDEX_IN1 |
                            NB_OPF_ANY_DTYPE | NB_OPF_WRITES_ALL | NB_OPF_GRAD_ASSIGN)
            ? "unknown flags"
        : def->attr_size && !attr ? "attr is NULL but attr_size is not 0"
                                  : NULL;
    if (bad) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: invalid op definition: %s", fn, bad);
        return NULL;
    }
    return apply_def(def, -1, def->api, NULL, n_in, in, attr);
}

/* nbi_apply after the input checks: in_local starts as a copy of in and collects the views and
 * copies made for broadcasting and density (the caller frees them when they are heap tensors).
 * sp: the profiler's span of this application (NULL when it is off), told of the success. */
static nb_tensor *apply_prepared(const nbi_op_def *def, int id, const char *fn, int n_in,
                                 nb_tensor *const *in, nb_tensor **in_local, const void *attr,
                                 nbi_prof_span *sp)
{
    nbi_record rec_local = {
        .def = def, .api = fn, .id = id, .n_in = n_in, .in = in_local, .attr = attr};

    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS] = {0};
    if (def->shape(&rec_local, &dtype, &ndim, shape) != NB_OK) {
        if (!nbi_error_pending()) /* a user's shape rule that reported nothing */
            nbi_error(NB_ERR_VALUE, "%s: the inputs were refused by the op's shape rule", fn);
        return NULL;
    }
    if (ndim < 0 || ndim > NB_MAX_DIMS || nb_dtype_size(dtype) == 0) {
        nbi_error(NB_ERR_VALUE, "%s: the op's shape rule gave ndim %d, dtype %d", fn, ndim,
                  (int)dtype);
        return NULL;
    }

    /* Broadcasting: replace differing inputs by expanded views (recorded, so their gradient is
     * reduced back by expand's backward). */
    if (def->flags & NBI_OP_BROADCAST) {
        for (int i = 0; i < n_in; i++) {
            nb_tensor *x = in_local[i];
            bool same = x->ndim == ndim;
            for (int d = 0; same && d < ndim; d++)
                same = x->shape[d] == shape[d];
            if (same)
                continue;
            nbi_shape_attr ea = {.ndim = ndim};
            memcpy(ea.shape, shape, sizeof ea.shape);
            nb_tensor *e = nbi_apply(NB_OP_EXPAND, 1, &x, &ea);
            if (!e)
                return NULL;
            in_local[i] = e;
        }
    }
    /* Ops that want dense inputs get contiguous copies (recorded). */
    if (!(def->flags & (NBI_OP_STRIDED | NBI_OP_VIEW))) {
        for (int i = 0; i < n_in; i++) {
            bool index_slot = (def->flags & NBI_OP_INDEX_IN1) && i == 1;
            if (nbi_is_contiguous(in_local[i]))
                continue;
            nb_tensor *c;
            if (index_slot) {
                c = nbi_tensor_alloc(fn, NB_I64, in_local[i]->ndim, in_local[i]->shape);
                if (c)
                    nbi_copy_strided(nbi_data(c), in_local[i]);
            } else {
                c = nbi_apply(NB_OP_CONTIGUOUS, 1, &in_local[i], NULL);
            }
            if (!c)
                return NULL;
            in_local[i] = c;
        }
    }

    bool record =
        nbi_recording() && !(def->flags & NBI_OP_NONDIFF) && any_requires_grad(n_in, in_local);

    /* Backward reads the indices again, after the caller may have changed them (a reused id
     * buffer): it gets a private copy, which forward validates and nobody else can write. */
    if (record && (def->flags & NBI_OP_INDEX_IN1) && in_local[1] == in[1]) {
        nb_tensor *c = nbi_tensor_alloc_uninit(fn, NB_I64, in[1]->ndim, in[1]->shape);
        if (!c)
            return NULL;
        nbi_copy_strided(nbi_data(c), in[1]);
        in_local[1] = c;
    }

    nbi_record *r = &rec_local;
    nbi_arena *arena = nbi_active_arena();
    if (arena) {
        r = nbi_arena_alloc(arena, sizeof *r);
        nb_tensor **ins = r ? nbi_arena_alloc(arena, (size_t)n_in * sizeof *ins) : NULL;
        void *a = NULL;
        if (ins && def->attr_size)
            a = nbi_arena_alloc(arena, def->attr_size);
        if (!ins || (def->attr_size && !a)) {
            nbi_oom(fn, sizeof *r);
            return NULL;
        }
        *r = rec_local;
        memcpy(ins, in_local, (size_t)n_in * sizeof *ins);
        r->in = ins;
        if (a) {
            memcpy(a, attr, def->attr_size);
            r->attr = a;
        }
    }

    nb_tensor *out;
    if (def->flags & NBI_OP_VIEW) {
        out = def->view(r);
        if (!out)
            return NULL;
    } else {
        out = def->flags & NBI_OP_WRITES_ALL ? nbi_tensor_alloc_uninit(fn, dtype, ndim, shape)
                                             : nbi_tensor_alloc(fn, dtype, ndim, shape);
        if (!out)
            return NULL;
        r->out = out;
        /* an empty output has nothing to compute (and a kernel's outer loops over the other
         * dims of, say, [2^42, 0] would spin for hours) */
        if (out->numel > 0 && nbi_run_forward(r) != NB_OK) {
            if (!nbi_error_pending())
                nbi_error(NB_ERR_VALUE, "%s: forward failed", fn);
            nb_tensor_free(out);
            return NULL;
        }
    }
    r->out = out;

    if (nbi_anomaly_mode()) {
        /* A NaN/Inf that arrived in a caller's tensor (a leaf: parameters, data) is named as
         * such, not blamed on the first op that read it. */
        for (int i = 0; i < n_in; i++) {
            int64_t bad = in[i]->creator ? -1 : nbi_find_nonfinite(in[i]);
            if (bad >= 0) {
                nbi_error(NB_ERR_VALUE,
                          "%s: anomaly: input %d (%s %s) already holds %g at flat index %lld", fn,
                          i,
                          in[i]->epoch ? "an op result not checked when it was made"
                                       : "a caller-owned leaf",
                          nbi_fmt_shape(in[i]), nb_tensor_get(in[i], bad), (long long)bad);
                nb_tensor_free(out);
                return NULL;
            }
        }
        int64_t bad = nbi_find_nonfinite(out);
        if (bad >= 0) {
            nbi_error(NB_ERR_VALUE,
                      "%s: anomaly: forward produced %g at flat index %lld of output %s (tape "
                      "record %lld)",
                      fn, nb_tensor_get(out, bad), (long long)bad, nbi_fmt_shape(out),
                      (long long)nbi_tape_length());
            nb_tensor_free(out);
            return NULL;
        }
    }
    if (record) {
        out->requires_grad = true;
        out->creator = r;
        if (nbi_tape_push(r) != NB_OK)
            return NULL;
    }
    if (sp)
        nbi_prof_capture(sp, r, false);
    return out;
}
