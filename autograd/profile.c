/* autograd/profile.c — the profiler (nabla/profile.h): per-thread tables of op kinds, the
 * trace-event buffer, the step phases, the table and the Chrome trace-event JSON. */
#include "nabla/profile.h"

#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

_Atomic int nbi_prof_threads = 0;

#define USER_KINDS   64 /* distinct user op definitions; more share the last kind */
#define MAX_KINDS    (NBI_MAX_OPS + USER_KINDS)
#define NAME_LEN     48
#define EVENTS_FIRST 4096

enum { EV_FWD, EV_BWD, EV_STEP, EV_PH_FWD, EV_PH_BWD, EV_PH_UPD, EV_TYPES };
static const char *const ev_names[EV_TYPES] = {NULL, NULL, "step", "forward", "backward", "update"};
static const char *const ev_cats[EV_TYPES] = {"op.forward", "op.backward", "step",
                                              "phase",      "phase",       "phase"};

typedef struct {
    char name[NAME_LEN];
    int64_t calls, bwd_calls, bytes;
    uint64_t fwd_ns, bwd_ns;
    double flops, bwd_flops;
} kind;

typedef struct {
    uint64_t t0, dur; /* ns since the start */
    int32_t kind;     /* op events: index into kinds */
    uint8_t type;     /* EV_* */
} event;

typedef struct {
    uint64_t start;
    int16_t slot_of_id[NBI_MAX_OPS]; /* built-in op id -> kinds index + 1 (0: none yet) */
    const nbi_op_def *user_def[USER_KINDS];
    int16_t user_slot[USER_KINDS];
    int n_user;
    kind kinds[MAX_KINDS];
    int n_kinds;
    event *ev;
    int64_t n_ev, cap_ev, max_ev, dropped;
    /* step phases */
    bool in_step;
    int phase; /* EV_PH_* of the open phase, or -1 */
    uint64_t step_t0, phase_t0;
    int64_t steps;
    uint64_t phase_ns[EV_TYPES];
} prof_state;

static _Thread_local prof_state *st;
static _Thread_local bool running;
static _Thread_local nbi_prof_span *open_span; /* innermost open op span */

bool nbi_prof_here(void)
{
    return running;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- recording ---- */
static void add_event(uint64_t t0, uint64_t t1, int type, int k)
{
    if (st->n_ev == st->cap_ev) {
        int64_t cap = st->cap_ev ? 2 * st->cap_ev : EVENTS_FIRST;
        if (cap > st->max_ev)
            cap = st->max_ev;
        event *e = st->n_ev < cap ? nbi_realloc(st->ev, (size_t)cap * sizeof *e) : NULL;
        if (!e) { /* at the cap, or no memory: the statistics still count it */
            st->dropped++;
            return;
        }
        st->ev = e;
        st->cap_ev = cap;
    }
    st->ev[st->n_ev++] =
        (event){.t0 = t0 - st->start, .dur = t1 - t0, .kind = k, .type = (uint8_t)type};
}

static int new_kind(const char *name)
{
    kind *k = &st->kinds[st->n_kinds];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name ? name : "?");
    return st->n_kinds++;
}

static int kind_of(const nbi_op_def *def, int id)
{
    if (id >= 0 && id < NBI_MAX_OPS) {
        if (!st->slot_of_id[id])
            st->slot_of_id[id] = (int16_t)(new_kind(def->name) + 1);
        return st->slot_of_id[id] - 1;
    }
    for (int u = 0; u < st->n_user; u++)
        if (st->user_def[u] == def)
            return st->user_slot[u];
    if (st->n_user == USER_KINDS) /* the last one collects the rest */
        return st->user_slot[USER_KINDS - 1];
    int k = new_kind(st->n_user == USER_KINDS - 1 ? "(other user ops)" : def->name);
    st->user_def[st->n_user] = def;
    st->user_slot[st->n_user++] = (int16_t)k;
    return k;
}

void nbi_prof_begin(nbi_prof_span *sp)
{
    *sp = (nbi_prof_span){.parent = open_span, .id = -1};
    open_span = sp;
    sp->t0 = now_ns();
}

void nbi_prof_capture(nbi_prof_span *sp, const nbi_record *r, bool backward)
{
    sp->def = r->def;
    sp->id = r->id;
    sp->flops = r->def->flops ? r->def->flops(r, backward) : 0;
    if (!backward && !(r->def->flags & NBI_OP_VIEW) && r->out)
        sp->bytes = r->out->numel * (int64_t)nb_dtype_size(r->out->dtype);
}

void nbi_prof_capture_call(nbi_prof_span *sp, const nbi_op_def *def, double flops)
{
    sp->def = def;
    sp->id = -1;
    sp->flops = flops;
}

void nbi_prof_end(nbi_prof_span *sp, bool backward)
{
    uint64_t t1 = now_ns(), dur = t1 - sp->t0;
    open_span = sp->parent;
    if (sp->parent)
        sp->parent->child_ns += dur;
    if (!st || !running || !sp->def) /* stopped inside the op (refused), or the op failed */
        return;
    int k = kind_of(sp->def, sp->id);
    kind *q = &st->kinds[k];
    uint64_t self = dur > sp->child_ns ? dur - sp->child_ns : 0;
    if (backward) {
        q->bwd_calls++;
        q->bwd_ns += self;
        q->bwd_flops += sp->flops;
    } else {
        q->calls++;
        q->fwd_ns += self;
        q->flops += sp->flops;
        q->bytes += sp->bytes;
    }
    add_event(sp->t0, t1, backward ? EV_BWD : EV_FWD, k);
}

static void close_phase(uint64_t t)
{
    if (st->phase >= 0) {
        add_event(st->phase_t0, t, st->phase, -1);
        st->phase_ns[st->phase] += t - st->phase_t0;
    }
    st->phase = -1;
}

static void open_phase(int phase, uint64_t t)
{
    st->phase = phase;
    st->phase_t0 = t;
}

void nbi_prof_phase(nbi_prof_event e)
{
    uint64_t t = now_ns();
    switch (e) {
    case NBI_PROF_STEP_BEGIN:
        st->in_step = true;
        st->step_t0 = t;
        open_phase(EV_PH_FWD, t);
        break;
    case NBI_PROF_BACKWARD_BEGIN:
        close_phase(t);
        open_phase(EV_PH_BWD, t);
        break;
    case NBI_PROF_BACKWARD_END:
        close_phase(t);
        if (st->in_step)
            open_phase(EV_PH_UPD, t);
        break;
    case NBI_PROF_STEP_END:
        close_phase(t);
        if (st->in_step) {
            add_event(st->step_t0, t, EV_STEP, -1);
            st->phase_ns[EV_STEP] += t - st->step_t0;
            st->steps++;
        }
        st->in_step = false;
        break;
    }
}

/* ---- start / stop ---- */
void nb_profile_clear(void)
{
    if (running) {
        running = false;
        atomic_fetch_sub(&nbi_prof_threads, 1);
    }
    if (st) {
        nbi_free(st->ev);
        nbi_free(st);
        st = NULL;
    }
}

nb_status nb_profile_start(const nb_profile_options *opt)
{
    if (running)
        return nbi_error(NB_ERR_STATE, "nb_profile_start: the profiler is already running on this "
                                       "thread (call nb_profile_stop first; profiles do not nest)");
    int64_t max_ev = opt && opt->max_events ? opt->max_events : 1000000;
    if (max_ev < 0)
        return nbi_error(NB_ERR_VALUE, "nb_profile_start: max_events must be >= 0, got %lld",
                         (long long)max_ev);
    nb_profile_clear();
    st = nbi_calloc(1, sizeof *st);
    if (!st)
        return nbi_error(NB_ERR_NOMEM, "nb_profile_start: no memory for the profile (%zu bytes)",
                         sizeof *st);
    st->max_ev = max_ev;
    st->phase = -1;
    /* a step already active: its phases start at its next nb_step_begin */
    st->start = now_ns();
    open_span = NULL;
    running = true;
    atomic_fetch_add(&nbi_prof_threads, 1);
    return NB_OK;
}

nb_status nb_profile_stop(void)
{
    if (!running)
        return nbi_error(NB_ERR_STATE, "nb_profile_stop: the profiler is not running on this "
                                       "thread (call nb_profile_start first)");
    if (open_span)
        return nbi_error(NB_ERR_STATE,
                         "nb_profile_stop: called from inside an op's forward or backward (%s); "
                         "stop the profiler after the op returns",
                         open_span->def ? open_span->def->name : "an op being applied");
    close_phase(now_ns());
    if (st->in_step) { /* the open step ends here for the profile */
        add_event(st->step_t0, now_ns(), EV_STEP, -1);
        st->in_step = false;
    }
    running = false;
    atomic_fetch_sub(&nbi_prof_threads, 1);
    return NB_OK;
}

bool nb_profile_running(void)
{
    return running;
}

/* ---- results ---- */
static bool readable(const char *fn)
{
    if (running)
        nbi_error(NB_ERR_STATE, "%s: the profiler is still running (call nb_profile_stop first)",
                  fn);
    else if (!st)
        nbi_error(NB_ERR_STATE,
                  "%s: no profile on this thread (nb_profile_start, run, nb_profile_stop first)",
                  fn);
    return !running && st;
}

static int by_total(const void *a, const void *b)
{
    const kind *x = *(const kind *const *)a, *y = *(const kind *const *)b;
    uint64_t tx = x->fwd_ns + x->bwd_ns, ty = y->fwd_ns + y->bwd_ns;
    return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

/* The kinds sorted by total time (into order[MAX_KINDS]). */
static int sorted(const kind **order)
{
    for (int k = 0; k < st->n_kinds; k++)
        order[k] = &st->kinds[k];
    qsort(order, (size_t)st->n_kinds, sizeof *order, by_total);
    return st->n_kinds;
}

int nb_profile_entries(nb_profile_entry *out, int max)
{
    if (!readable("nb_profile_entries"))
        return -1;
    const kind *order[MAX_KINDS];
    int n = sorted(order);
    for (int i = 0; out && i < n && i < max; i++)
        out[i] = (nb_profile_entry){.name = order[i]->name,
                                    .calls = order[i]->calls,
                                    .backward_calls = order[i]->bwd_calls,
                                    .forward_ms = (double)order[i]->fwd_ns / 1e6,
                                    .backward_ms = (double)order[i]->bwd_ns / 1e6,
                                    .bytes = order[i]->bytes,
                                    .flops = order[i]->flops,
                                    .backward_flops = order[i]->bwd_flops};
    return n;
}

nb_status nb_profile_print(FILE *f)
{
    if (!f)
        return nbi_error(NB_ERR_VALUE, "nb_profile_print: f is NULL");
    if (!readable("nb_profile_print"))
        return NB_ERR_STATE;
    const kind *order[MAX_KINDS];
    int n = sorted(order);
    uint64_t all = 0;
    for (int i = 0; i < n; i++)
        all += order[i]->fwd_ns + order[i]->bwd_ns;
    fprintf(f, "%-20s %9s %10s %9s %10s %10s %6s %10s %9s %8s\n", "op", "calls", "fwd ms",
            "bwd calls", "bwd ms", "total ms", "%", "out MB", "GFLOP", "GFLOP/s");
    for (int i = 0; i < n; i++) {
        const kind *k = order[i];
        double ms = (double)(k->fwd_ns + k->bwd_ns) / 1e6, gf = (k->flops + k->bwd_flops) / 1e9;
        fprintf(f, "%-20s %9lld %10.3f %9lld %10.3f %10.3f %6.1f %10.2f %9.3f ", k->name,
                (long long)k->calls, (double)k->fwd_ns / 1e6, (long long)k->bwd_calls,
                (double)k->bwd_ns / 1e6, ms,
                all ? 100.0 * (double)(k->fwd_ns + k->bwd_ns) / (double)all : 0.0,
                (double)k->bytes / 1e6, gf);
        if (gf > 0 && ms > 0)
            fprintf(f, "%8.2f\n", gf / (ms / 1e3));
        else
            fprintf(f, "%8s\n", "-");
    }
    fprintf(f, "ops total %.3f ms\n", (double)all / 1e6);
    if (st->steps > 0) {
        double per = 1e6 * (double)st->steps;
        fprintf(f,
                "%lld steps, per step: %.3f ms (forward %.3f, backward %.3f, update %.3f; in op "
                "spans %.3f)\n",
                (long long)st->steps, (double)st->phase_ns[EV_STEP] / per,
                (double)st->phase_ns[EV_PH_FWD] / per, (double)st->phase_ns[EV_PH_BWD] / per,
                (double)st->phase_ns[EV_PH_UPD] / per, (double)all / per);
    }
    if (st->dropped)
        fprintf(f, "trace: %lld events dropped (max_events %lld)\n", (long long)st->dropped,
                (long long)st->max_ev);
    return NB_OK;
}

/* s as a JSON string body (quotes and backslashes escaped, control characters as \u00XX). */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

nb_status nb_profile_write_trace(const char *path)
{
    if (!path)
        return nbi_error(NB_ERR_VALUE, "nb_profile_write_trace: path is NULL");
    if (!readable("nb_profile_write_trace"))
        return NB_ERR_STATE;
    FILE *f = fopen(path, "w");
    if (!f)
        return nbi_error(NB_ERR_IO, "nb_profile_write_trace: cannot open '%s' for writing", path);
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
          "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":"
          "\"nabla\"}}",
          f);
    for (int64_t i = 0; i < st->n_ev; i++) {
        const event *e = &st->ev[i];
        fputs(",\n{\"name\":", f);
        json_string(f, e->type <= EV_BWD ? st->kinds[e->kind].name : ev_names[e->type]);
        fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f}",
                ev_cats[e->type], (double)e->t0 / 1e3, (double)e->dur / 1e3);
    }
    fprintf(f, "\n],\"otherData\":{\"dropped_events\":%lld}}\n", (long long)st->dropped);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad)
        return nbi_error(NB_ERR_IO, "nb_profile_write_trace: writing '%s' failed", path);
    return NB_OK;
}
