/* nabla/autograd.h — steps (arena + tape), backward, no-grad mode, gradient checking.
 *
 * Define-by-run: while a step is active on this thread, every op result is allocated in the
 * step's arena, and when an input requires grad the op is appended to the step's tape. The tape
 * is already in topological order, so nb_backward walks it backwards. nb_step_end frees every
 * intermediate at once and keeps the memory for the next step: a training loop in steady state
 * makes no allocation per op.
 *
 *     nb_step *step = nb_step_new();
 *     for (int it = 0; it < iters; it++) {
 *         nb_step_begin(step);
 *         nb_tensor *loss = nb_mse(nb_matmul(x, w), y, NB_REDUCE_MEAN);
 *         nb_status st = loss ? nb_backward(loss) : nb_last_status();
 *         ... update w from nb_tensor_grad(w) ...
 *         nb_step_end(step);
 *     }
 *     nb_step_free(step);
 *
 * Double backward (gradients of gradients) is not supported. */
#ifndef NABLA_AUTOGRAD_H
#define NABLA_AUTOGRAD_H

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_step nb_step;

/* New step (arena + tape). NULL on NB_ERR_NOMEM. */
NB_API nb_step *nb_step_new(void);
/* Make `step` the active step of this thread and clear the pending error. Steps do not nest:
 * beginning a step while another is active is NB_ERR_STATE (and a pending error is kept). */
NB_API nb_status nb_step_begin(nb_step *step);
/* Free every tensor made during the step and the tape; keep the memory for reuse. */
NB_API void nb_step_end(nb_step *step);
/* Free the step (ends it first if active). NULL is a no-op. */
NB_API void nb_step_free(nb_step *step);
/* Active step of this thread, or NULL. */
NB_API nb_step *nb_step_active(void);
/* Bytes the arena holds (its high-water mark) and the number of tape records now. */
NB_API size_t nb_step_arena_bytes(const nb_step *step);
NB_API int64_t nb_step_tape_length(const nb_step *step);

/* Backpropagate from a one-element tensor made in the active step: accumulates d loss / d leaf
 * into the gradient of every leaf that requires grad. Gradients of intermediates from an earlier
 * backward in the same step are reset first, so calling it twice adds the leaf gradients twice.
 * Errors: NB_ERR_STATE (no active step, or loss not from it), NB_ERR_SHAPE (not one element). */
NB_API nb_status nb_backward(nb_tensor *loss);
/* Same with an explicit upstream gradient `seed` of out's shape (vector-Jacobian product). */
NB_API nb_status nb_backward_ex(nb_tensor *out, const nb_tensor *seed);

/* Gradient hooks: called during nb_backward on this thread, so work on finished gradients (an
 * all-reduce in data-parallel training, per-layer clipping, logging) can start while backward
 * is still running on the rest of the graph.
 *   ready(leaf, user): leaf's gradient is final for this backward — every record that uses the
 *     leaf has run its backward (the last one in the reverse walk is the leaf's first use on the
 *     tape, so the gradients of the last layers come first). Called once per leaf that requires
 *     grad and that the loss's graph reaches, also when no gradient flowed into it.
 *   done(status, user): the backward call has finished (after every ready), with its status.
 * A hook must not call nb_backward, nor begin or end steps. Up to 8 hooks per thread. */
typedef struct nb_grad_hook {
    void (*ready)(nb_tensor *leaf, void *user);
    void (*done)(nb_status status, void *user);
    void *user;
} nb_grad_hook;
/* Register a hook (copied) on this thread; returns its handle (>= 0), or -1 with NB_ERR_VALUE
 * (NULL hook, no function, or 8 hooks already). */
NB_API int nb_grad_hook_add(const nb_grad_hook *hook);
/* Unregister; an unknown handle is ignored. */
NB_API void nb_grad_hook_remove(int handle);

/* Gradient recording on this thread (default on). Returns the previous setting. While off,
 * ops record nothing and their results do not require grad (evaluation, optimizer updates). */
NB_API bool nb_set_grad_enabled(bool enabled);
NB_API bool nb_is_grad_enabled(void);

/* Anomaly mode (default off): every op result, and every gradient backward computes, is checked
 * for NaN/Inf; the first one found is reported as NB_ERR_VALUE naming the op and the pass. Op
 * inputs that no op made (caller-owned leaves: data, parameters) are checked too, so a NaN that
 * entered through a leaf is reported as the leaf's, naming the op that read it. */
NB_API bool nb_set_anomaly_mode(bool enabled);

/* ---- numerical gradient checking ----
 * f builds y = f(inputs) with public ops (it is called many times, each in a fresh step) and
 * returns it. The check compares, for L = sum(r * y) with a fixed random cotangent r, the
 * gradient nb_backward gives with central differences (L(x+h) - L(x-h)) / 2h.
 * Inputs must be caller-owned float64 tensors; those with requires_grad are checked. */
typedef nb_tensor *(*nb_gradcheck_fn)(nb_tensor *const *inputs, int n_inputs, void *user);

typedef struct nb_gradcheck_opts {
    double eps;     /* step h; 0 -> 1e-6 */
    double atol;    /* pass if |analytic - numeric| <= atol + rtol * |numeric|; 0 -> 1e-7 */
    double rtol;    /* 0 -> 1e-5 */
    int directions; /* 0: every element; k > 0: k random directions per input (large inputs) */
    uint64_t seed;  /* for the cotangent and the directions */
    bool verbose;   /* print each failing element to stderr */
} nb_gradcheck_opts;

#define NB_GRADCHECK_MAX_INPUTS 16

typedef struct nb_gradcheck_report {
    double max_abs_err[NB_GRADCHECK_MAX_INPUTS]; /* per input */
    double max_rel_err[NB_GRADCHECK_MAX_INPUTS];
    int64_t n_checked; /* elements or directions compared */
    int64_t n_failed;
    int worst_input; /* input and flat index of the worst failure, -1 if none */
    int64_t worst_index;
    double worst_analytic, worst_numeric;
} nb_gradcheck_report;

/* Returns NB_OK when every compared value passes, NB_ERR_VALUE when some fail (see report) or
 * when nothing was compared (no input requires grad, or those that do are empty), or the error
 * f raised. opts and report may be NULL. Prints nothing unless opts->verbose. */
NB_API nb_status nb_gradcheck(nb_gradcheck_fn f, void *user, nb_tensor *const *inputs, int n_inputs,
                              const nb_gradcheck_opts *opts, nb_gradcheck_report *report);

#ifdef __cplusplus
}
#endif
#endif
