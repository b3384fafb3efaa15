/* nn/module_impl.h — running a composition of ops the way a single op runs; internal to nn/. */
#ifndef NABLA_NN_MODULE_IMPL_H
#define NABLA_NN_MODULE_IMPL_H

#include "nabla/autograd.h"
#include "nabla/nn.h"

/* A composition of ops y = f(m, x, ctx). */
typedef nb_tensor *(*nbi_module_fn)(nb_module *m, nb_tensor *x, const void *ctx);

/* Op-like call of f: inside the active step f runs as it is (its result lives in the step's
 * arena); with no active step f runs inside a private step with gradient recording off and its
 * result is returned as a caller-owned copy (a new tensor even when f returns x), so none of the
 * composition's intermediates reach the caller. A pending error is kept. */
nb_tensor *nbi_module_call(nbi_module_fn f, nb_module *m, nb_tensor *x, const void *ctx);
/* nb_module_forward(m, x) with f(m, x, ctx) in place of m's forward: the same call and the same
 * record for nb_module_summary_shapes, for a parent that fuses more work into a child's op. */
nb_tensor *nbi_module_forward_as(nbi_module_fn f, nb_module *m, nb_tensor *x, const void *ctx);

/* nb_step_begin(st), keeping the pending error that nb_step_begin would clear. */
void nbi_step_begin_keeping_error(nb_step *st);

/* A parameter computed from a module's own parameters by ops: y = fn(m, ctx), run inside a step.
 * nb_module_param(m, name) returns fn's result inside a step (recorded, so gradients reach the
 * parameters it reads) and outside one a module-owned snapshot refreshed on each lookup;
 * nb_module_has_param is true for it; nb_module_named_params does not list it. */
typedef nb_tensor *(*nbi_param_fn)(nb_module *m, const void *ctx);

/* Register computed parameter `name` (unused among m's names) on m. m owns ctx from the call
 * on (free_ctx frees it, also when the call fails). */
nb_status nbi_module_add_computed(nb_module *m, const char *name, nbi_param_fn fn, void *ctx,
                                  nb_module_free_fn free_ctx);
/* Rename m's own parameter `from` to `to` (unused); values, position and gradient stay. */
nb_status nbi_module_rename_param(nb_module *m, const char *from, const char *to);

#endif
