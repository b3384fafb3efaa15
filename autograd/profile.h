/* autograd/profile.h — the profiler's hooks (nabla/profile.h). The front door (ops/apply.c), the
 * engine (backward.c) and the steps (step.c) call them only when nbi_profiling() is true, so
 * with the profiler off its cost is one load of a process-wide counter and a branch. */
#ifndef NABLA_AUTOGRAD_PROFILE_H
#define NABLA_AUTOGRAD_PROFILE_H

#include "op.h"

#include <stdatomic.h>

/* Threads whose profiler runs now (any thread: a relaxed load, a plain read). */
extern NBI_FUNC _Atomic int nbi_prof_threads;
NBI_FUNC bool nbi_prof_here(void); /* the profiler runs on this thread */

static inline bool nbi_profiling(void)
{
    return atomic_load_explicit(&nbi_prof_threads, memory_order_relaxed) > 0 && nbi_prof_here();
}

/* One op span (on the caller's stack): begin, capture when the op succeeded, end. Spans nest
 * (a broadcast view made inside an op's application is a span of its own): a span's time counts
 * as its own kind's, and is taken off its parent's self time. */
typedef struct nbi_prof_span {
    struct nbi_prof_span *parent;
    uint64_t t0, child_ns;
    const nbi_op_def *def; /* set by capture: the span is recorded */
    int id;
    int64_t bytes;
    double flops;
} nbi_prof_span;

NBI_FUNC void nbi_prof_begin(nbi_prof_span *sp);
/* r finished (forward when !backward): note its kind, output bytes and FLOPs. */
NBI_FUNC void nbi_prof_capture(nbi_prof_span *sp, const nbi_record *r, bool backward);
NBI_FUNC void nbi_prof_end(nbi_prof_span *sp, bool backward);
/* A library call that is not an op (nb_tensor_addmm, nb_tensor_axpby: in place, recorded on no
 * tape) finished: count it as a forward call of the kind named by def->name, with its FLOPs. */
NBI_FUNC void nbi_prof_capture_call(nbi_prof_span *sp, const nbi_op_def *def, double flops);

/* Step phases, in the order a step passes them. */
typedef enum {
    NBI_PROF_STEP_BEGIN,
    NBI_PROF_BACKWARD_BEGIN,
    NBI_PROF_BACKWARD_END,
    NBI_PROF_STEP_END,
} nbi_prof_event;
NBI_FUNC void nbi_prof_phase(nbi_prof_event e);

#endif
