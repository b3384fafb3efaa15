/* unsup/unsup_common.c — running compositions of ops inside a step (unsup/unsup_impl.h). */
#include "unsup_impl.h"

nb_status nbi_scope_begin(nbi_scope *s, nb_step *reuse)
{
    s->own = NULL;
    if (!nb_step_active()) {
        nb_step *st = reuse ? reuse : nb_step_new();
        if (!st)
            return nb_last_status();
        nbi_step_begin_keeping_error(st);
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
