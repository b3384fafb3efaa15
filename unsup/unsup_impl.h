/* unsup/unsup_impl.h — helpers shared by the unsupervised-learning files (rbm.c, dbn.c,
 * autoencoder.c); internal to nn/. */
#ifndef NABLA_NN_UNSUP_IMPL_H
#define NABLA_NN_UNSUP_IMPL_H

#include "nabla/unsup.h"
#include "nn/module_impl.h"

/* A composition of ops y = f(m, x, ctx), called op-like with nbi_unsup_call (nbi_module_call of
 * nn/module_impl.h: with no active step, f runs in a private step and its result is returned as
 * a caller-owned copy). */
typedef nbi_module_fn nbi_unsup_fn;

static inline nb_tensor *nbi_unsup_call(nbi_unsup_fn f, nb_module *m, nb_tensor *x, const void *ctx)
{
    return nbi_module_call(f, m, x, ctx);
}

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
