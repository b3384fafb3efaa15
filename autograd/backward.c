/* autograd/backward.c — nb_backward: one reverse walk over the step's tape (records are
 * appended in creation order, so the tape is a topological order), with the gradient pool that
 * hands consumed intermediate gradients to later ones. */
#include "profile.h"
#include "step_impl.h"
#include "strided.h"

#include <string.h>

/* How many times each built-in op's backward ran on this thread (tests use it to prove gradcheck
 * coverage). Thread-local: backward on several threads at once must not race on it. */
_Thread_local long nbi_op_backward_calls[NBI_MAX_OPS];

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

/* Gradient buffer g (contiguous, t's numel) takes t's shape. */
static void shape_like(nb_tensor *g, const nb_tensor *t)
{
    g->ndim = t->ndim;
    memcpy(g->shape, t->shape, sizeof g->shape);
    nbi_contiguous_strides(g->ndim, g->shape, g->strides);
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
        shape_like(g, t);
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
    if (t->arena && nbi_active_step() && (t->grad = pool_take(nbi_active_step(), t)) != NULL) {
        memset(nbi_data(t->grad), 0, (size_t)t->numel * nb_dtype_size(t->dtype));
        return NB_OK;
    }
    t->grad = nbi_grad_buffer(t);
    return t->grad ? NB_OK : NB_ERR_NOMEM;
}

/* A reshape's backward copies dy into x's gradient as it is (the same elements in the same
 * order). When x is an intermediate of this step without a gradient yet, dy's buffer becomes
 * x's gradient instead: no copy, and one buffer fewer. Not when the reshape's output keeps its
 * gradient (retained, or a buffer the user attached), which must stay its own. */
static bool reshape_hands_over_grad(nbi_record *r)
{
    nb_tensor *x = r->in[0], *y = r->out, *g = y->grad;
    if (!(r->def->flags & NBI_OP_GRAD_PASSTHROUGH) || !x->requires_grad || x->grad || !x->arena ||
        y->retain_grad || !g || !g->arena || g->numel != x->numel || g->dtype != x->dtype)
        return false;
    y->grad = NULL;
    shape_like(g, x);
    x->grad = g;
    x->grad_fresh = false;
    return true;
}

/* For an NBI_OP_GRAD_ASSIGN op: a gradient buffer the op writes without it being zeroed. */
static nb_status ensure_grad_fresh(nb_tensor *t)
{
    if (t->grad)
        return NB_OK;
    if (t->arena && nbi_active_step() && (t->grad = pool_take(nbi_active_step(), t)) != NULL) {
        t->grad_fresh = true;
        return NB_OK;
    }
    bool fresh;
    t->grad = nbi_grad_buffer_uninit(t, &fresh);
    t->grad_fresh = fresh;
    return t->grad ? NB_OK : NB_ERR_NOMEM;
}

/* ---- gradient hooks (nabla/autograd.h) ---- */
#define MAX_HOOKS 8
static _Thread_local nb_grad_hook hooks[MAX_HOOKS];
static _Thread_local bool hook_used[MAX_HOOKS];
static _Thread_local int n_hooks;
static _Thread_local uint64_t hook_pass; /* backward passes with hooks on this thread */

int nb_grad_hook_add(const nb_grad_hook *hook)
{
    if (!hook || (!hook->ready && !hook->done)) {
        nbi_error(NB_ERR_VALUE, "nb_grad_hook_add: hook is NULL or has no function");
        return -1;
    }
    for (int h = 0; h < MAX_HOOKS; h++) {
        if (!hook_used[h]) {
            hooks[h] = *hook;
            hook_used[h] = true;
            n_hooks++;
            return h;
        }
    }
    nbi_error(NB_ERR_VALUE, "nb_grad_hook_add: %d hooks are registered on this thread already",
              MAX_HOOKS);
    return -1;
}

void nb_grad_hook_remove(int handle)
{
    if (handle >= 0 && handle < MAX_HOOKS && hook_used[handle]) {
        hook_used[handle] = false;
        n_hooks--;
    }
}

/* Leaves (no creator, requires grad) that this backward reaches get the tape index of their
 * first use: their gradient is final once that record's backward has run. */
static void mark_leaves(nb_step *s, int64_t start)
{
    hook_pass++;
    for (int64_t i = 0; i <= start; i++) {
        nbi_record *r = s->tape[i];
        for (int k = 0; k < r->n_in; k++) {
            nb_tensor *x = r->in[k];
            if (!x->creator && x->requires_grad && x->hook_pass != hook_pass) {
                x->hook_pass = hook_pass;
                x->hook_first_use = i;
            }
        }
    }
}

/* After record i: tell the hooks about every leaf whose gradient is now final. */
static void fire_ready(const nbi_record *r, int64_t i)
{
    for (int k = 0; k < r->n_in; k++) {
        nb_tensor *x = r->in[k];
        if (x->creator || !x->requires_grad || x->hook_pass != hook_pass || x->hook_first_use != i)
            continue;
        x->hook_pass = 0; /* once per pass, even if x is several inputs of r */
        for (int h = 0; h < MAX_HOOKS; h++)
            if (hook_used[h] && hooks[h].ready)
                hooks[h].ready(x, hooks[h].user);
    }
}

static nb_status backward_walk(nb_tensor *out, const nb_tensor *seed);

nb_status nb_backward_ex(nb_tensor *out, const nb_tensor *seed)
{
    const bool prof = nbi_profiling();
    if (prof)
        nbi_prof_phase(NBI_PROF_BACKWARD_BEGIN);
    nb_status st = backward_walk(out, seed);
    if (prof)
        nbi_prof_phase(NBI_PROF_BACKWARD_END);
    if (n_hooks > 0) {
        nb_grad_hook now[MAX_HOOKS];
        int n = 0;
        for (int h = 0; h < MAX_HOOKS; h++)
            if (hook_used[h] && hooks[h].done)
                now[n++] = hooks[h];
        for (int h = 0; h < n; h++)
            now[h].done(st, now[h].user);
    }
    return st;
}

static nb_status backward_walk(nb_tensor *out, const nb_tensor *seed)
{
    const char *fn = "nb_backward";
    if (!out) {
        if (nbi_error_pending())
            return nb_last_status();
        return nbi_error(NB_ERR_VALUE, "%s: loss is NULL", fn);
    }
    if (!nbi_check_live(fn, out) || !nbi_check_live(fn, seed))
        return nb_last_status();
    nb_step *s = nbi_active_step();
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
    if (!out->creator) {
        if (n_hooks > 0 && out->requires_grad) /* a leaf: its gradient is the seed, final now */
            for (int h = 0; h < MAX_HOOKS; h++)
                if (hook_used[h] && hooks[h].ready)
                    hooks[h].ready(out, hooks[h].user);
        return NB_OK;
    }
    const bool with_hooks = n_hooks > 0;
    if (with_hooks)
        mark_leaves(s, start);
    const bool prof = nbi_profiling();

    for (int64_t i = start; i >= 0; i--) {
        nbi_record *r = s->tape[i];
        if (!r->out->grad) { /* nothing flows through this record */
            if (with_hooks)
                fire_ready(r, i);
            continue;
        }
        if (!with_hooks && reshape_hands_over_grad(r)) {
            if (r->id >= 0)
                nbi_op_backward_calls[r->id]++;
            continue;
        }
        nbi_prof_span sp;
        if (prof)
            nbi_prof_begin(&sp);
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
            if (once ? ensure_grad_fresh(x) != NB_OK : ensure_grad(x) != NB_OK) {
                if (prof) /* closes the span without recording it */
                    nbi_prof_end(&sp, true);
                return nb_last_status();
            }
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
        if (r->out->numel > 0) {
            nbi_run_backward(r);
        } else { /* every contribution is 0: a fresh (unwritten) gradient becomes zeros */
            for (int k = 0; k < r->n_in; k++) {
                nb_tensor *g = r->in[k]->grad;
                if (g && r->in[k]->grad_fresh)
                    memset(nbi_data(g), 0, (size_t)g->numel * nb_dtype_size(g->dtype));
            }
        }
        if (r->id >= 0)
            nbi_op_backward_calls[r->id]++;
        if (prof) {
            nbi_prof_capture(&sp, r, true);
            nbi_prof_end(&sp, true);
        }
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
        if (nbi_anomaly_mode()) {
            for (int k = 0; k < r->n_in; k++) {
                nb_tensor *g = r->in[k]->requires_grad ? r->in[k]->grad : NULL;
                int64_t bad = g ? nbi_find_nonfinite(g) : -1;
                if (bad >= 0)
                    return nbi_error(NB_ERR_VALUE,
                                     "%s: anomaly: backward of %s (tape record %lld) produced "
                                     "%g in the gradient of input %d at flat index %lld",
                                     fn, r->api, (long long)i, nb_tensor_get(g, bad), k,
                                     (long long)bad);
            }
        }
        if (with_hooks)
            fire_ready(r, i);
    }
    return NB_OK;
}

nb_status nb_backward(nb_tensor *loss)
{
    return nb_backward_ex(loss, NULL);
}
