/* autograd/step.c — steps: the active step of each thread, step runs and their epochs, the
 * ring of tensor headers, the tape, and the grad / anomaly switches. */
#include "profile.h"
#include "step_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Every step run gets a fresh epoch, process-wide, so a tensor of an ended run never matches
 * a later one (see nb_tensor.epoch). */
static _Atomic uint64_t next_epoch = 1;

static _Thread_local nb_step *active_step = NULL;
static _Thread_local nb_step *private_step = NULL; /* see nbi_scope_enter */
static _Thread_local bool grad_enabled = true;
static _Thread_local bool anomaly_mode = false;

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

static void run_begin(nb_step *step);

nb_status nb_step_begin(nb_step *step)
{
    if (!step)
        return nbi_error(NB_ERR_VALUE, "nb_step_begin: step is NULL");
    if (active_step) /* the caller's pending error, if any, stays the one reported */
        return nbi_error(NB_ERR_STATE, "nb_step_begin: another step is active on this thread "
                                       "(call nb_step_end first)");
    nb_clear_error();
    run_begin(step);
    if (nbi_profiling())
        nbi_prof_phase(NBI_PROF_STEP_BEGIN);
    return NB_OK;
}

/* ---- private steps: one memory mode for the library's internals ----
 * An op called with no active step runs in this thread's private step, and its result is copied
 * out as a caller-owned tensor: inside the library every intermediate lives in an arena. */
static pthread_key_t private_key;
static pthread_once_t private_once = PTHREAD_ONCE_INIT;

static void private_free(void *step)
{
    nb_step_free(step);
}

static void private_key_init(void)
{
    pthread_key_create(&private_key, private_free);
}

bool nbi_scope_enter(nbi_scope *sc)
{
    sc->opened = false;
    if (active_step)
        return true;
    if (!private_step) {
        pthread_once(&private_once, private_key_init);
        private_step = nb_step_new();
        if (!private_step)
            return false;
        pthread_setspecific(private_key, private_step); /* freed when the thread exits */
    }
    run_begin(private_step); /* unlike nb_step_begin, keeps a pending error */
    sc->opened = true;
    return true;
}

nb_tensor *nbi_scope_exit(nbi_scope *sc, nb_tensor *result)
{
    if (!sc->opened)
        return result;
    nb_tensor *out = NULL;
    if (result)
        out = nb_tensor_copy(result); /* contiguous, caller-owned, no gradient history */
    nb_step_end(private_step);
    sc->opened = false;
    return out;
}

bool nbi_in_private_step(void)
{
    return active_step && active_step == private_step;
}

static void run_begin(nb_step *step)
{
    active_step = step;
    step->active = true;
    step->run++;
    step->tape_len = 0;
    step->n_pool = 0;
    step->epoch = atomic_fetch_add(&next_epoch, 1);
}

void nb_step_end(nb_step *step)
{
    if (!step)
        return;
    if (step->active && step != private_step && nbi_profiling())
        nbi_prof_phase(NBI_PROF_STEP_END);
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
    /* nothing runs backward in the private step: its results are handed out as copies */
    return active_step && grad_enabled && active_step != private_step;
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

nb_step *nbi_active_step(void)
{
    return active_step;
}

bool nbi_anomaly_mode(void)
{
    return anomaly_mode;
}

int64_t nbi_tape_length(void)
{
    return active_step ? active_step->tape_len : 0;
}

nb_status nbi_tape_push(nbi_record *r)
{
    nb_step *s = active_step;
    if (s->tape_len == s->tape_cap) {
        int64_t cap = s->tape_cap ? 2 * s->tape_cap : 256;
        nbi_record **t = nbi_realloc(s->tape, (size_t)cap * sizeof *t);
        if (!t)
            return nbi_error(NB_ERR_NOMEM, "%s: out of memory growing the tape to %lld records",
                             r->api, (long long)cap);
        s->tape = t;
        s->tape_cap = cap;
    }
    s->tape[s->tape_len++] = r;
    return NB_OK;
}

/* First non-finite element of a float tensor (row-major over its shape), or -1. */
int64_t nbi_find_nonfinite(const nb_tensor *t)
{
    if (!nbi_is_float(t->dtype))
        return -1;
    if (!nbi_is_contiguous(t)) {
        /* A view: walk each stored element once. A broadcast dim (stride 0) repeats the same
         * elements, so it is walked at index 0 only; an expanded view of a small tensor costs
         * what the small tensor costs, not what its shape would. */
        int64_t n[NB_MAX_DIMS], idx[NB_MAX_DIMS] = {0}, total = 1;
        for (int d = 0; d < t->ndim; d++) {
            n[d] = t->strides[d] == 0 ? 1 : t->shape[d];
            total *= n[d];
        }
        if (t->numel == 0)
            return -1;
        const char *base = t->storage->data;
        for (int64_t k = 0; k < total; k++) {
            int64_t off = t->offset, flat = 0;
            for (int d = 0; d < t->ndim; d++) {
                off += idx[d] * t->strides[d];
                flat = flat * t->shape[d] + idx[d];
            }
            double v =
                t->dtype == NB_F32 ? ((const float *)base)[off] : ((const double *)base)[off];
            if (!isfinite(v))
                return flat;
            for (int d = t->ndim - 1; d >= 0; d--) {
                if (++idx[d] < n[d])
                    break;
                idx[d] = 0;
            }
        }
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
