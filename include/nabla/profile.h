/* nabla/profile.h — where a training step spends its time, per op kind.
 *
 *     nb_profile_start(NULL);
 *     for (...) { nb_step_begin(step); ... nb_backward(loss); nb_optim_update(opt);
 *                 nb_step_end(step); }
 *     nb_profile_stop();
 *     nb_profile_print(stdout);                   (the table, sorted by total time)
 *     nb_profile_write_trace("trace.json");       (open in https://ui.perfetto.dev)
 *
 * While running, the profiler records for each op kind (matmul, relu, a user's op, ...):
 *   - forward calls and time: one application from the shape rule to the finished output
 *     (dispatch, allocation, broadcast and copy bookkeeping included), self time: a broadcast
 *     view or contiguous copy made for an op counts as its own kind (expand, contiguous);
 *   - backward calls and time: the op's backward in nb_backward, gradient buffers included;
 *   - bytes of the outputs its forward allocated (0 for views);
 *   - FLOPs, from the op definition's flops callback (nabla/op.h); 0 means unknown.
 * The in-place calls that are not ops (nb_tensor_addmm, nb_tensor_axpby: a hand-written
 * optimizer's work) are kinds of their own, "addmm (in place)" and "axpby (in place)", with
 * calls, time and FLOPs.
 * and, for the trace, one span per op forward and backward and per step phase: "step"
 * (nb_step_begin to nb_step_end), inside it "forward" (to the first nb_backward), "backward"
 * (each nb_backward) and "update" (after a backward, to the next one or nb_step_end: the
 * optimizer and anything else the program does there). Time a step phase spends outside the
 * op spans is the program's own work and the per-op front-door cost not attributed to a kind.
 *
 * Threads: the profiler is per thread, like the active step (docs/threads.md): start and stop
 * on one thread profile the ops that thread applies; each thread has its own profile; the
 * results stay readable on that thread until its next nb_profile_start or nb_profile_clear
 * (call nb_profile_clear before a thread that profiled exits: its profile is not freed else).
 * Work the library runs on worker threads inside one op (OpenMP loops, BLIS) is counted in that
 * op. When no thread profiles, the cost of the profiler in the library is one branch per op. */
#ifndef NABLA_PROFILE_H
#define NABLA_PROFILE_H

#include <stdio.h>

#include "nabla/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_profile_options {
    /* trace events kept (ops and phases); later ones are counted but dropped. 0: 1,000,000 */
    int64_t max_events;
} nb_profile_options;

/* Start profiling this thread (opt may be NULL: defaults). Clears the previous profile.
 * NB_ERR_STATE if the profiler already runs on this thread (no nesting). */
NB_API nb_status nb_profile_start(const nb_profile_options *opt);
/* Stop profiling this thread; the results stay until the next start or nb_profile_clear.
 * NB_ERR_STATE if it is not running, or if called from an op's forward or backward. */
NB_API nb_status nb_profile_stop(void);
/* True while the profiler runs on this thread. */
NB_API bool nb_profile_running(void);
/* Free this thread's profile (stopping the profiler if it runs). */
NB_API void nb_profile_clear(void);

/* One op kind of a stopped profile. Times are self times in milliseconds. */
typedef struct nb_profile_entry {
    const char *name; /* the op's name ("matmul"); valid until the next start or clear */
    int64_t calls;    /* forward applications */
    int64_t backward_calls;
    double forward_ms, backward_ms;
    int64_t bytes;                /* bytes of the outputs forward allocated */
    double flops, backward_flops; /* 0: the op reports none */
} nb_profile_entry;

/* Copy up to max op kinds of this thread's stopped profile into out (may be NULL with max 0),
 * sorted by forward_ms + backward_ms, largest first; returns how many kinds there are, or -1
 * (NB_ERR_STATE) while running or with no profile. */
NB_API int nb_profile_entries(nb_profile_entry *out, int max);
/* Print the table of the stopped profile (sorted by total time) and the step phases to f.
 * NB_ERR_STATE while running or with no profile; NB_ERR_VALUE for a NULL f. */
NB_API nb_status nb_profile_print(FILE *f);
/* Write the stopped profile as Chrome trace-event JSON (Perfetto, chrome://tracing): one
 * complete ("X") event per op forward, op backward and step phase, times in microseconds from
 * nb_profile_start. NB_ERR_STATE as above, NB_ERR_IO if path cannot be written. */
NB_API nb_status nb_profile_write_trace(const char *path);

#ifdef __cplusplus
}
#endif
#endif
