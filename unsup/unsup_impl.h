/* unsup/unsup_impl.h — helpers shared by the unsupervised-learning files (rbm.c, dbn.c,
 * autoencoder.c); internal to nn/. */
#ifndef NABLA_NN_UNSUP_IMPL_H
#define NABLA_NN_UNSUP_IMPL_H

#include "nabla/autograd.h"
#include "nabla/unsup.h"

/* A composition of ops y = f(m, x, ctx). */
typedef nb_tensor *(*nbi_unsup_fn)(nb_module *m, nb_tensor *x, const void *ctx);

/* Op-like call of f: inside the active step f runs as it is (its result lives in the step's
 * arena); with no active step f runs inside a private step and its result is returned as a
 * caller-owned copy, so the intermediates of the composition are not leaked to the caller. */
nb_tensor *nbi_unsup_call(nbi_unsup_fn f, nb_module *m, nb_tensor *x, const void *ctx);

/* A region of no-grad computation inside the active step, or inside a step of its own (`reuse`
 * when not NULL, else a new one) when none is active. A pending error survives the region's
 * nb_step_begin. */
typedef struct nbi_scope {
    nb_step *own;
    bool grad_was;
} nbi_scope;

nb_status nbi_scope_begin(nbi_scope *s, nb_step *reuse);
/* End the region: restore gradient recording; end the private step (freeing it unless it is
 * `reuse`). */
void nbi_scope_end(nbi_scope *s, nb_step *reuse);

#endif
