/* autograd/engine.c — steps, the tape, applying an op (nbi_apply) and backward.
 *
 * nbi_apply is the single entry of every op: it checks inputs, runs the shape rule, inserts
 * broadcast views (expand) and contiguous copies where the op asks for them, allocates the
 * output, runs forward and appends a record to the tape when an input requires grad. Because
 * records are appended in creation order, the tape is a topological order and backward is one
 * reverse walk. Gradients of broadcast inputs are reduced in exactly one place: expand's
 * backward. */
#include "ops/op_def.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Gradient buffers of intermediates whose backward has run, kept for reuse by later gradients of
 * the same dtype and size within the same backward pass (an unrolled RNN's steps repeat their
 * shapes, so the gradients of a long unroll need the memory of a few steps). Buffers of one
 * size are chained through their (otherwise unused) grad field. */
#define GRAD_POOL_SIZES 32
typedef struct {
    nb_dtype dtype;
    int64_t numel;
    nb_tensor *head;
} grad_pool;

/* Tensor headers (the nb_tensor structs of op results) do not live in the arena: they come from
 * slabs the step keeps until nb_step_free, so a stale handle always points at memory the library
 * still owns and the liveness check (which reads only the header's epoch) is safe. The slabs
 * form a ring reused in allocation order, and a slab is reused only when its newest header is
 * HEADER_QUARANTINE runs old: a handle from one of the last HEADER_QUARANTINE - 1 runs of the
 * step still holds its own (ended) epoch and is always reported, never aliased to a live tensor.
 * Debug and sanitizer builds never reuse a header (unbounded quarantine). */
#define HEADER_SLAB 64
#ifdef NB_DEBUG_POISON
#define HEADER_QUARANTINE UINT64_MAX
#else
#define HEADER_QUARANTINE 8
#endif
typedef struct header_slab {
    struct header_slab *next; /* ring, in allocation order */
    uint64_t last_run;        /* newest run that took a header from this slab */
    int used;
    nb_tensor h[HEADER_SLAB];
} header_slab;

struct nb_step {
    nbi_arena *arena;
    header_slab *hdr; /* slab headers are taken from now (NULL before the first) */
    int64_t hdr_slabs;
    uint64_t run; /* runs begun on this step (the first is 1) */
    grad_pool pool[GRAD_POOL_SIZES];
    int n_pool;
    nbi_record **tape; /* heap array kept across steps */
    int64_t tape_len, tape_cap;
    bool active;
    uint64_t epoch; /* of the current run (nb_step_begin .. nb_step_end); 0 when not active */
};

/* Every step run gets a fresh epoch, process-wide, so a tensor of an ended run never matches
 * a later one (see nb_tensor.epoch). */
static _Atomic uint64_t next_epoch = 1;

static _Thread_local nb_step *active_step = NULL;
static _Thread_local bool grad_enabled = true;
static _Thread_local bool anomaly_mode = false;

_Thread_local long nbi_op_backward_calls[NB_OP_COUNT];

/* ---- steps ---- */
nb_step *nb_step_new(void)
{
    nb_step *s = nbi_calloc(1, sizeof *s);
    if (!s)
        return nbi_oom("nb_step_new", sizeof *s);
    s->arena = nbi_arena_new();
    if (!s->arena) {
        nbi_free(s);
        return NULL;
    }
    return s;
}

nb_status nb_step_begin(nb_step *step)
{
    if (!step)
        return nbi_error(NB_ERR_VALUE, "nb_step_begin: step is NULL");
    if (active_step) /* the caller's pending error, if any, stays the one reported */
        return nbi_error(NB_ERR_STATE, "nb_step_begin: another step is active on this thread "
                                       "(call nb_step_end first)");
    nb_clear_error();
    active_step = step;
    step->active = true;
    step->run++;
    step->tape_len = 0;
    step->n_pool = 0;
    step->epoch = atomic_fetch_add(&next_epoch, 1);
    return NB_OK;
}

void nb_step_end(nb_step *step)
{
    if (!step)
        return;
#ifdef NB_DEBUG_POISON
    const bool poison = true;
#else
    const bool poison = false;
#endif
    nbi_arena_reset(step->arena, poison);
    step->tape_len = 0;
    step->n_pool = 0;
    step->active = false;
    step->epoch = 0;
    if (active_step == step)
        active_step = NULL;
}

void nb_step_free(nb_step *step)
{
    if (!step)
        return;
    nb_step_end(step);
    if (step->hdr) {
        header_slab *h = step->hdr->next;
        step->hdr->next = NULL;
        while (h) {
            header_slab *n = h->next;
            nbi_free(h);
            h = n;
        }
    }
    nbi_arena_free(step->arena);
    nbi_free(step->tape);
    nbi_free(step);
}

nb_step *nb_step_active(void)
{
    return active_step;
}

size_t nb_step_arena_bytes(const nb_step *step)
{
    return step ? nbi_arena_capacity(step->arena) : 0;
}

int64_t nb_step_tape_length(const nb_step *step)
{
    return step ? step->tape_len : 0;
}

nb_tensor *nbi_header_alloc(void)
{
    nb_step *s = active_step;
    if (!s)
        return NULL;
    header_slab *c = s->hdr;
    if (!c || c->used == HEADER_SLAB) {
        header_slab *n = c ? c->next : NULL;
        if (n && n != c && s->run - n->last_run >= HEADER_QUARANTINE) {
            n->used = 0; /* every header in it belongs to a run long ended */
        } else {
            n = nbi_malloc(sizeof *n);
            if (!n)
                return NULL;
            n->used = 0;
            n->next = c ? c->next : n;
            if (c)
                c->next = n;
            s->hdr_slabs++;
        }
        s->hdr = c = n;
    }
    c->last_run = s->run;
    nb_tensor *t = &c->h[c->used++];
    memset(t, 0, sizeof *t);
    return t;
}

int64_t nbi_step_header_slabs(const nb_step *step)
{
    return step ? step->hdr_slabs : 0;
}

nbi_arena *nbi_active_arena(void)
{
    return active_step ? active_step->arena : NULL;
}

uint64_t nbi_active_epoch(void)
{
    return active_step ? active_step->epoch : 0;
}

bool nbi_check_live(const char *fn, const nb_tensor *t)
{
    if (!t || t->epoch == 0 || (active_step && t->epoch == active_step->epoch))
        return true;
    if (!nbi_error_pending())
        nbi_error(NB_ERR_STATE,
                  "%s: a tensor from a step that has ended was used (op results live until "
                  "nb_step_end; keep values with nb_tensor_copy_into)",
                  fn);
    return false;
}

bool nbi_recording(void)
{
    return active_step && grad_enabled;
}

bool nb_set_grad_enabled(bool enabled)
{
    bool prev = grad_enabled;
    grad_enabled = enabled;
    return prev;
}

bool nb_is_grad_enabled(void)
{
    return grad_enabled;
}

bool nb_set_anomaly_mode(bool enabled)
{
    bool prev = anomaly_mode;
    anomaly_mode = enabled;
    return prev;
}

static nb_status tape_push(nb_step *s, nbi_record *r)
{
    if (s->tape_len == s->tape_cap) {
        int64_t cap = s->tape_cap ? 2 * s->tape_cap : 256;
        nbi_record **t = nbi_realloc(s->tape, (size_t)cap * sizeof *t);
        if (!t)
            return nbi_error(NB_ERR_NOMEM, "%s: out of memory growing the tape to %lld records",
                             r->def->api, (long long)cap);
        s->tape = t;
        s->tape_cap = cap;
    }
    s->tape[s->tape_len++] = r;
    return NB_OK;
}

/* First non-finite element of a float tensor (row-major over its shape), or -1. */
static int64_t find_nonfinite(const nb_tensor *t)
{
    if (!nbi_is_float(t->dtype))
        return -1;
    if (!nbi_is_contiguous(t)) { /* a view: anomaly mode may be slow */
        for (int64_t i = 0; i < t->numel; i++)
            if (!isfinite(nb_tensor_get(t, i)))
                return i;
        return -1;
    }
    if (t->dtype == NB_F32) {
        const float *p = nbi_data(t);
        for (int64_t i = 0; i < t->numel; i++)
            if (!isfinite(p[i]))
                return i;
    } else {
        const double *p = nbi_data(t);
        for (int64_t i = 0; i < t->numel; i++)
            if (!isfinite(p[i]))
                return i;
    }
    return -1;
}

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

/* Without an active step, the broadcast views and contiguous copies nbi_apply makes of its
 * inputs are heap tensors nobody else holds: free them (views keep their storage alive by its
 * reference count, so the output never dangles). With a step they live in the arena. */
static void free_temporaries(int n, nb_tensor *const *in, nb_tensor *const *in_local)
{
    if (active_step)
        return;
    for (int i = 0; i < n; i++)
        if (in_local[i] != in[i])
            nb_tensor_free(in_local[i]);
}

/* Replace input i by `t` (a view or copy made from it), freeing the temporary it replaces. */
static void replace_input(int i, nb_tensor *const *in, nb_tensor **in_local, nb_tensor *t)
{
    if (!active_step && in_local[i] != in[i])
        nb_tensor_free(in_local[i]);
    in_local[i] = t;
}

static nb_tensor *apply_prepared(const nbi_op_def *def, nb_op_id id, int n_in, nb_tensor *const *in,
                                 nb_tensor **in_local, const void *attr);

nb_tensor *nbi_apply(nb_op_id id, int n_in, nb_tensor *const *in, const void *attr)
{
    NB_ASSERT(id >= 0 && id < NB_OP_COUNT);
    const nbi_op_def *def = nbi_op_table[id];
    NB_ASSERT(def->arity < 0 || def->arity == n_in);
    if (n_in < 1 || n_in > NBI_MAX_INPUTS) {
        nbi_error(NB_ERR_VALUE, "%s: %d inputs (accepted: 1 to %d)", def->api, n_in,
                  NBI_MAX_INPUTS);
        return NULL;
    }
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) {
            if (!nbi_error_pending())
                nbi_error(NB_ERR_VALUE, "%s: input %d is NULL", def->api, i);
            return NULL;
        }
        if (!nbi_check_live(def->api, in[i]))
            return NULL;
        bool index_slot = (def->flags & NBI_OP_INDEX_IN1) && i == 1;
        bool any = (def->flags & NBI_OP_ANY_DTYPE) && nb_dtype_size(in[i]->dtype) > 0;
        if (!any && (index_slot ? in[i]->dtype != NB_I64 : !nbi_is_float(in[i]->dtype))) {
            nbi_error(NB_ERR_DTYPE, "%s: input %d must be %s, got %s", def->api, i,
                      index_slot ? "i64 (indices)" : "f32 or f64", nb_dtype_name(in[i]->dtype));
            return NULL;
        }
        if (!index_slot && i > 0 && in[i]->dtype != in[0]->dtype) {
            nbi_error(NB_ERR_DTYPE, "%s: dtypes differ: input 0 is %s, input %d is %s", def->api,
                      nb_dtype_name(in[0]->dtype), i, nb_dtype_name(in[i]->dtype));
            return NULL;
        }
    }
    nb_tensor *in_local[NBI_MAX_INPUTS];
    memcpy(in_local, in, (size_t)n_in * sizeof *in);
    nb_tensor *out = apply_prepared(def, id, n_in, in, in_local, attr);
    free_temporaries(n_in, in, in_local);
    return out;
}

/* nbi_apply after the input checks: in_local starts as a copy of in and collects the views and
 * copies made for broadcasting and density (the caller frees them when they are heap tensors). */
static nb_tensor *apply_prepared(const nbi_op_def *def, nb_op_id id, int n_in, nb_tensor *const *in,
                                 nb_tensor **in_local, const void *attr)
{
    nbi_record rec_local = {.def = def, .id = id, .n_in = n_in, .in = in_local, .attr = attr};

    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS] = {0};
    if (def->shape(&rec_local, &dtype, &ndim, shape) != NB_OK)
        return NULL;

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
            nb_tensor *e = nb_expand(x, ndim, shape);
            if (!e)
                return NULL;
            replace_input(i, in, in_local, e);
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
                c = nbi_tensor_alloc(def->api, NB_I64, in_local[i]->ndim, in_local[i]->shape);
                if (c)
                    nbi_copy_strided(nbi_data(c), in_local[i]);
            } else {
                c = nb_contiguous(in_local[i]);
            }
            if (!c)
                return NULL;
            replace_input(i, in, in_local, c);
        }
    }

    bool record =
        nbi_recording() && !(def->flags & NBI_OP_NONDIFF) && any_requires_grad(n_in, in_local);

    /* Backward reads the indices again, after the caller may have changed them (a reused id
     * buffer): it gets a private copy, which forward validates and nobody else can write. */
    if (record && (def->flags & NBI_OP_INDEX_IN1) && in_local[1] == in[1]) {
        nb_tensor *c = nbi_tensor_alloc_uninit(def->api, NB_I64, in[1]->ndim, in[1]->shape);
        if (!c)
            return NULL;
        nbi_copy_strided(nbi_data(c), in[1]);
        in_local[1] = c;
    }

    nbi_record *r = &rec_local;
    if (active_step) {
        r = nbi_arena_alloc(active_step->arena, sizeof *r);
        nb_tensor **ins =
            r ? nbi_arena_alloc(active_step->arena, (size_t)n_in * sizeof *ins) : NULL;
        void *a = NULL;
        if (ins && def->attr_size)
            a = nbi_arena_alloc(active_step->arena, def->attr_size);
        if (!ins || (def->attr_size && !a)) {
            nbi_oom(def->api, sizeof *r);
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
        out = def->flags & NBI_OP_WRITES_ALL ? nbi_tensor_alloc_uninit(def->api, dtype, ndim, shape)
                                             : nbi_tensor_alloc(def->api, dtype, ndim, shape);
        if (!out)
            return NULL;
        r->out = out;
        if (def->forward(r) != NB_OK) {
            nb_tensor_free(out);
            return NULL;
        }
    }
    r->out = out;

    if (anomaly_mode) {
        /* A NaN/Inf that arrived in a caller's tensor (a leaf: parameters, data) is named as
         * such, not blamed on the first op that read it. */
        for (int i = 0; i < n_in; i++) {
            int64_t bad = in[i]->creator ? -1 : find_nonfinite(in[i]);
            if (bad >= 0) {
                nbi_error(NB_ERR_VALUE,
                          "%s: anomaly: input %d (%s %s) already holds %g at flat index %lld",
                          def->api, i,
                          in[i]->epoch ? "an op result not checked when it was made"
                                       : "a caller-owned leaf",
                          nbi_fmt_shape(in[i]), nb_tensor_get(in[i], bad), (long long)bad);
                nb_tensor_free(out);
                return NULL;
            }
        }
        int64_t bad = find_nonfinite(out);
        if (bad >= 0) {
            nbi_error(NB_ERR_VALUE,
                      "%s: anomaly: forward produced %g at flat index %lld of output %s (tape "
                      "record %lld)",
                      def->api, nb_tensor_get(out, bad), (long long)bad, nbi_fmt_shape(out),
                      (long long)(active_step ? active_step->tape_len : 0));
            nb_tensor_free(out);
            return NULL;
        }
    }
    if (record) {
        out->requires_grad = true;
        out->creator = r;
        if (tape_push(active_step, r) != NB_OK)
            return NULL;
    }
    return out;
}

/* ---- backward ---- */
/* Give t's dead gradient buffer back to the step's pool (only arena buffers of intermediates). */
static void pool_put(nb_step *s, nb_tensor *t)
{
    nb_tensor *g = t->grad;
    t->grad = NULL;
    if (!g || !g->arena || g->numel == 0)
        return;
    int k = 0;
    while (k < s->n_pool && (s->pool[k].dtype != g->dtype || s->pool[k].numel != g->numel))
        k++;
    if (k == s->n_pool) {
        if (k == GRAD_POOL_SIZES)
            return;
        s->pool[k] = (grad_pool){.dtype = g->dtype, .numel = g->numel, .head = NULL};
        s->n_pool++;
    }
    g->grad = s->pool[k].head;
    s->pool[k].head = g;
}

/* A pooled buffer reshaped for t (contents undefined), or NULL when none fits. */
static nb_tensor *pool_take(nb_step *s, const nb_tensor *t)
{
    for (int k = 0; k < s->n_pool; k++) {
        grad_pool *p = &s->pool[k];
        if (p->dtype != t->dtype || p->numel != t->numel || !p->head)
            continue;
        nb_tensor *g = p->head;
        p->head = g->grad;
        g->grad = NULL;
        g->ndim = t->ndim;
        memcpy(g->shape, t->shape, sizeof g->shape);
        nbi_contiguous_strides(g->ndim, g->shape, g->strides);
        return g;
    }
    return NULL;
}

static nb_status ensure_grad(nb_tensor *t)
{
    if (t->grad) {
        if (t->grad_fresh) { /* left unwritten by a backward that failed part-way */
            memset(nbi_data(t->grad), 0, (size_t)t->grad->numel * nb_dtype_size(t->dtype));
            t->grad_fresh = false;
        }
        return NB_OK;
    }
    if (t->arena && active_step && (t->grad = pool_take(active_step, t)) != NULL) {
        memset(nbi_data(t->grad), 0, (size_t)t->numel * nb_dtype_size(t->dtype));
        return NB_OK;
    }
    t->grad = nbi_grad_buffer(t);
    return t->grad ? NB_OK : NB_ERR_NOMEM;
}

/* For an NBI_OP_GRAD_ASSIGN op: a gradient buffer the op writes without it being zeroed. */
static nb_status ensure_grad_fresh(nb_tensor *t)
{
    if (t->grad)
        return NB_OK;
    if (t->arena && active_step && (t->grad = pool_take(active_step, t)) != NULL) {
        t->grad_fresh = true;
        return NB_OK;
    }
    bool fresh;
    t->grad = nbi_grad_buffer_uninit(t, &fresh);
    t->grad_fresh = fresh;
    return t->grad ? NB_OK : NB_ERR_NOMEM;
}

nb_status nb_backward_ex(nb_tensor *out, const nb_tensor *seed)
{
    const char *fn = "nb_backward";
    if (!out) {
        if (nbi_error_pending())
            return nb_last_status();
        return nbi_error(NB_ERR_VALUE, "%s: loss is NULL", fn);
    }
    if (!nbi_check_live(fn, out) || !nbi_check_live(fn, seed))
        return nb_last_status();
    nb_step *s = active_step;
    if (!s)
        return nbi_error(NB_ERR_STATE,
                         "%s: no active step (call nb_step_begin before building "
                         "the graph)",
                         fn);
    if (!out->requires_grad)
        return nbi_error(NB_ERR_STATE,
                         "%s: the loss does not depend on any tensor that requires grad (did "
                         "you forget nb_tensor_set_requires_grad, or build it with grad off?)",
                         fn);
    if (seed && (!nbi_same_shape(seed, out) || seed->dtype != out->dtype))
        return nbi_error(NB_ERR_SHAPE, "%s: seed is %s %s, output is %s %s", fn,
                         nb_dtype_name(seed->dtype), nbi_fmt_shape(seed), nb_dtype_name(out->dtype),
                         nbi_fmt_shape(out));

    if (!seed && out->numel != 1)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: loss must have one element, got %s (use nb_backward_ex with a seed "
                         "gradient, or reduce with nb_sum_all / nb_mean_all)",
                         fn, nbi_fmt_shape(out));

    const bool error_before = nbi_error_pending();

    /* Reset intermediate gradients from an earlier backward in this step. */
    for (int64_t i = 0; i < s->tape_len; i++)
        s->tape[i]->out->grad = NULL;

    if (ensure_grad(out) != NB_OK)
        return nb_last_status();
    if (seed)
        nbi_accumulate(out->grad, seed);
    else if (out->dtype == NB_F32)
        *(float *)nbi_data(out->grad) += 1.0f;
    else
        *(double *)nbi_data(out->grad) += 1.0;

    int64_t start = out->creator ? -1 : 0;
    for (int64_t i = s->tape_len - 1; i >= 0 && start < 0; i--)
        if (s->tape[i] == out->creator)
            start = i;
    if (start < 0)
        return nbi_error(NB_ERR_STATE, "%s: the loss is not on the active step's tape", fn);
    if (!out->creator)
        return NB_OK; /* a leaf: its gradient is the seed */

    for (int64_t i = start; i >= 0; i--) {
        nbi_record *r = s->tape[i];
        if (!r->out->grad)
            continue; /* nothing flows through this record */
        const bool assign = r->def->flags & NBI_OP_GRAD_ASSIGN;
        for (int k = 0; k < r->n_in; k++) {
            nb_tensor *x = r->in[k];
            if (!x->requires_grad)
                continue;
            /* A gradient the op may write instead of accumulating: only if x is not also
             * another input of this record (x * x accumulates twice into one buffer). */
            bool once = assign;
            for (int j = 0; once && j < r->n_in; j++)
                once = j == k || r->in[j] != x;
            if (once ? ensure_grad_fresh(x) != NB_OK : ensure_grad(x) != NB_OK)
                return nb_last_status();
        }
        /* Inputs that need no gradient are shown to backward with grad == NULL. */
        nb_tensor *hidden[NBI_MAX_INPUTS];
        int n_hidden = 0;
        for (int k = 0; k < r->n_in; k++) {
            if (!r->in[k]->requires_grad && r->in[k]->grad) {
                hidden[n_hidden++] = r->in[k]->grad;
                r->in[k]->grad = NULL;
            } else {
                hidden[n_hidden++] = NULL;
            }
        }
        r->def->backward(r);
        nbi_op_backward_calls[r->id]++;
        if (!error_before && nbi_error_pending()) /* a backward that got no work memory */
            return nb_last_status();
        for (int k = 0; k < r->n_in; k++)
            r->in[k]->grad_fresh = false;
        /* Every contribution to this intermediate's gradient came from later records, and its
         * own backward has consumed it: the buffer can serve a gradient further down. */
        if (!r->out->retain_grad)
            pool_put(s, r->out);
        for (int k = 0; k < r->n_in; k++)
            if (hidden[k])
                r->in[k]->grad = hidden[k];
        if (anomaly_mode) {
            for (int k = 0; k < r->n_in; k++) {
                nb_tensor *g = r->in[k]->requires_grad ? r->in[k]->grad : NULL;
                int64_t bad = g ? find_nonfinite(g) : -1;
                if (bad >= 0)
                    return nbi_error(NB_ERR_VALUE,
                                     "%s: anomaly: backward of %s (tape record %lld) produced "
                                     "%g in the gradient of input %d at flat index %lld",
                                     fn, r->def->api, (long long)i, nb_tensor_get(g, bad), k,
                                     (long long)bad);
            }
        }
    }
    return NB_OK;
}

nb_status nb_backward(nb_tensor *loss)
{
    return nb_backward_ex(loss, NULL);
}

/* ---- threads ---- */
/* Process-wide; atomic so that threads running ops while another reads the default from the
 * environment for the first time do not race (0 = not read yet). */
static _Atomic int n_threads = 0;

static int threads_init(void)
{
    int n = atomic_load_explicit(&n_threads, memory_order_relaxed);
    if (n > 0)
        return n;
    const char *env = getenv("NB_NUM_THREADS");
    int want = env ? atoi(env) : 1;
    want = want < 1 ? 1 : want;
    int expected = 0;
    if (atomic_compare_exchange_strong(&n_threads, &expected, want)) {
        nbi_gemm_set_threads(want);
        return want;
    }
    return expected; /* another thread set it first */
}

void nb_set_num_threads(int n)
{
    n = n < 1 ? 1 : n;
    atomic_store(&n_threads, n);
    nbi_gemm_set_threads(n);
}

int nb_get_num_threads(void)
{
    return threads_init();
}

int nbi_threads(void)
{
    return threads_init();
}

int nbi_threads_for(int64_t work)
{
    int n = threads_init();
    if (n == 1 || work < 32768)
        return 1;
    return n;
}
