/* autograd/cleanup.c — nb_cleanup: a list of (function, object) pairs run in reverse order. It
 * only stores and calls function pointers, so the frees of higher layers reach it from the
 * caller's side (nabla/cleanup.h), never from here. */
#include "nabla/cleanup.h"

void *nb_cleanup_push(nb_cleanup *c, nb_cleanup_fn fn, void *ptr)
{
    if (!ptr)
        return NULL;
    if (!c || !fn) {
        nb_set_error(NB_ERR_VALUE, "nb_cleanup_push: %s",
                     fn ? "the list is NULL (the object was freed)" : "fn is NULL");
        if (fn)
            fn(ptr);
        return NULL;
    }
    if (c->n == c->cap) {
        const int cap = c->cap ? 2 * c->cap : 16;
        nb_cleanup_entry *e = nb_realloc(c->entries, (size_t)cap * sizeof *e);
        if (!e) {
            nb_set_error(NB_ERR_NOMEM, "nb_cleanup_push: no memory for entry %d (freed it)",
                         c->n + 1);
            fn(ptr);
            return NULL;
        }
        c->entries = e;
        c->cap = cap;
    }
    c->entries[c->n++] = (nb_cleanup_entry){fn, ptr};
    return ptr;
}

void nb_cleanup_run(nb_cleanup *c)
{
    if (!c)
        return;
    while (c->n > 0) {
        const nb_cleanup_entry e = c->entries[--c->n];
        e.fn(e.ptr);
    }
    nb_free(c->entries);
    *c = (nb_cleanup){0};
}

int nb_cleanup_return(nb_cleanup *c, int status)
{
    nb_cleanup_run(c);
    return status;
}
