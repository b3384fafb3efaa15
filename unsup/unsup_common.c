/* unsup/unsup_common.c — running compositions of ops inside a step (unsup/unsup_impl.h). */
#include "unsup_impl.h"

#include <stdio.h>

/* nb_step_begin clears the pending error; begin `st` and restore that error. */
static void begin_keeping_error(nb_step *st)
{
    nb_status pending = nb_last_status();
    char msg[512] = "";
    if (pending != NB_OK)
        snprintf(msg, sizeof msg, "%s", nb_last_error());
    nb_step_begin(st);
    if (pending != NB_OK)
        nb_set_error(pending, "%s", msg);
}

nb_tensor *nbi_unsup_call(nbi_unsup_fn f, nb_module *m, nb_tensor *x, const void *ctx)
{
    if (nb_step_active())
        return f(m, x, ctx);
    nb_step *st = nb_step_new();
    if (!st)
        return NULL;
    begin_keeping_error(st);
    nb_tensor *y = f(m, x, ctx);
    nb_tensor *out = y ? nb_tensor_copy(y) : NULL;
    nb_step_end(st);
    nb_step_free(st);
    return out;
}

nb_status nbi_scope_begin(nbi_scope *s, nb_step *reuse)
{
    s->own = NULL;
    if (!nb_step_active()) {
        nb_step *st = reuse ? reuse : nb_step_new();
        if (!st)
            return nb_last_status();
        begin_keeping_error(st);
        s->own = st;
    }
    s->grad_was = nb_set_grad_enabled(false);
    return NB_OK;
}

void nbi_scope_end(nbi_scope *s, nb_step *reuse)
{
    nb_set_grad_enabled(s->grad_was);
    if (s->own) {
        nb_step_end(s->own);
        if (s->own != reuse)
            nb_step_free(s->own);
    }
}
