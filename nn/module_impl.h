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

/* nb_step_begin(st), keeping the pending error that nb_step_begin would clear. */
void nbi_step_begin_keeping_error(nb_step *st);

#endif
