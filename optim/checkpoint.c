/* optim/checkpoint.c — training checkpoints (nb_checkpoint_save_model / _load_model): a module's
 * parameters and buffers ("model.*") and the optimizer's named state ("optim.*") in one
 * nb_checkpoint file. */
#include "nabla/io.h"
#include "nabla/nn.h"
#include "nabla/optim.h"

#include <stdio.h>
#include <string.h>

#define MODEL_PREFIX "model."
#define OPTIM_PREFIX "optim."

/* A list of named tensors whose names are owned by the list. */
typedef struct named_list {
    nb_named_tensor *items;
    char **names;
    nb_tensor **owned; /* tensors allocated here (ignored optimizer entries), or NULL */
    int n, cap;
} named_list;

static void list_free(named_list *l)
{
    for (int i = 0; i < l->n; i++) {
        nb_free(l->names[i]);
        if (l->owned)
            nb_tensor_free(l->owned[i]);
    }
    nb_free(l->items);
    nb_free(l->names);
    nb_free(l->owned);
    *l = (named_list){0};
}

static nb_status list_reserve(named_list *l, int cap, const char *fn)
{
    l->items = nb_malloc((size_t)(cap > 0 ? cap : 1) * sizeof *l->items);
    l->names = nb_malloc((size_t)(cap > 0 ? cap : 1) * sizeof *l->names);
    l->owned = nb_malloc((size_t)(cap > 0 ? cap : 1) * sizeof *l->owned);
    if (!l->items || !l->names || !l->owned) {
        list_free(l);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for %d tensor names", fn, cap);
    }
    l->cap = cap;
    return NB_OK;
}

/* Append prefix + name -> t (owned: freed with the list). */
static nb_status list_push(named_list *l, const char *prefix, const char *name, nb_tensor *t,
                           bool owned, const char *fn)
{
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *s = nb_malloc(len);
    if (!s) {
        if (owned)
            nb_tensor_free(t);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for a tensor name", fn);
    }
    snprintf(s, len, "%s%s", prefix, name);
    l->names[l->n] = s;
    l->owned[l->n] = owned ? t : NULL;
    l->items[l->n] = (nb_named_tensor){.name = s, .tensor = t};
    l->n++;
    return NB_OK;
}

/* Fill l with the module's parameters, then its buffers and, when optim is given, the
 * optimizer's state. `extra` more slots are reserved. */
static nb_status collect(nb_module *module, nb_optim *optim, int extra, named_list *l,
                         const char *fn)
{
    *l = (named_list){0};
    int np = nb_module_named_params(module, NULL, 0);
    int nbuf = nb_module_named_buffers(module, NULL, 0);
    int ns = optim ? nb_optim_named_state(optim, NULL, 0) : 0;
    if (np < 0 || nbuf < 0 || ns < 0)
        return nb_last_status() != NB_OK
                   ? nb_last_status()
                   : nb_set_error(NB_ERR_NOMEM, "%s: cannot list the tensors", fn);
    if (np + nbuf == 0)
        return nb_set_error(NB_ERR_VALUE, "%s: the %s module has no parameters or buffers", fn,
                            nb_module_kind(module));
    nb_named_tensor *tmp = nb_malloc((size_t)(np + nbuf + ns) * sizeof *tmp);
    if (!tmp)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory listing tensors", fn);
    nb_status st = list_reserve(l, np + nbuf + ns + extra, fn);
    if (st == NB_OK && (nb_module_named_params(module, tmp, np) != np ||
                        nb_module_named_buffers(module, tmp + np, nbuf) != nbuf))
        st = nb_set_error(NB_ERR_STATE, "%s: the module's parameters changed while listed", fn);
    for (int i = 0; st == NB_OK && i < np + nbuf; i++)
        st = list_push(l, MODEL_PREFIX, tmp[i].name, tmp[i].tensor, false, fn);
    if (st == NB_OK && ns > 0 && nb_optim_named_state(optim, tmp, ns) != ns)
        st = nb_set_error(NB_ERR_STATE, "%s: the optimizer's state changed while listed", fn);
    for (int i = 0; st == NB_OK && i < ns; i++)
        st = list_push(l, OPTIM_PREFIX, tmp[i].name, tmp[i].tensor, false, fn);
    nb_free(tmp);
    if (st != NB_OK)
        list_free(l);
    return st;
}

nb_status nb_checkpoint_save_model(const char *path, nb_module *module, nb_optim *optim)
{
    static const char fn[] = "nb_checkpoint_save_model";
    if (!path || !module)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !path ? "path" : "module");
    named_list l;
    nb_status st = collect(module, optim, 0, &l, fn);
    if (st != NB_OK)
        return st;
    st = nb_checkpoint_save(path, l.items, l.n);
    list_free(&l);
    return st;
}

/* After a failed load: when the file holds none of the module's buffers, it was written before
 * checkpoints included buffers; say so, keeping the load's own message. */
static void explain_missing_buffers(const char *fn, const char *path, nb_module *module)
{
    int n = nb_module_named_buffers(module, NULL, 0);
    nb_named_tensor *bufs = n > 0 ? nb_malloc((size_t)n * sizeof *bufs) : NULL;
    nb_checkpoint_toc *toc = NULL;
    if (bufs && nb_module_named_buffers(module, bufs, n) == n)
        toc = nb_checkpoint_read_toc(path); /* errors here are dropped: the load's is kept */
    bool found = !toc;
    for (int64_t j = 0; toc && j < toc->count && !found; j++)
        for (int i = 0; i < n && !found; i++)
            found = !strncmp(toc->entries[j].name, MODEL_PREFIX, strlen(MODEL_PREFIX)) &&
                    !strcmp(toc->entries[j].name + strlen(MODEL_PREFIX), bufs[i].name);
    if (!found) {
        char why[1024];
        snprintf(why, sizeof why, "%s", nb_last_error());
        nb_clear_error();
        nb_set_error(NB_ERR_VALUE,
                     "%s: %s holds none of the module's %d buffers (such as '" MODEL_PREFIX
                     "%s'): it was saved before checkpoints included buffers like BatchNorm's "
                     "running statistics; nothing was loaded (%s)",
                     fn, path, n, bufs[0].name, why);
    }
    nb_checkpoint_toc_free(toc);
    nb_free(bufs);
}

nb_status nb_checkpoint_load_model(const char *path, nb_module *module, nb_optim *optim)
{
    static const char fn[] = "nb_checkpoint_load_model";
    if (!path || !module)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !path ? "path" : "module");
    int64_t n_optim_in_file = 0;
    nb_checkpoint_toc *toc = NULL;
    if (!optim) {
        /* Optimizer entries the caller does not want: load them into scratch tensors so the file
         * still has to match exactly and be verified as a whole. */
        toc = nb_checkpoint_read_toc(path);
        if (!toc)
            return nb_last_status();
        for (int64_t i = 0; i < toc->count; i++)
            n_optim_in_file +=
                strncmp(toc->entries[i].name, OPTIM_PREFIX, strlen(OPTIM_PREFIX)) == 0;
    }
    named_list l;
    nb_status st = collect(module, optim, (int)n_optim_in_file, &l, fn);
    for (int64_t i = 0; st == NB_OK && toc && i < toc->count; i++) {
        const nb_checkpoint_entry *e = &toc->entries[i];
        if (strncmp(e->name, OPTIM_PREFIX, strlen(OPTIM_PREFIX)) != 0)
            continue;
        nb_tensor *t = nb_tensor_new(e->dtype, e->ndim, e->shape);
        st = t ? list_push(&l, "", e->name, t, true, fn) : nb_last_status();
    }
    nb_checkpoint_toc_free(toc);
    if (st != NB_OK) {
        list_free(&l);
        return st;
    }
    st = nb_checkpoint_load(path, l.items, l.n);
    if (st == NB_ERR_VALUE)
        explain_missing_buffers(fn, path, module);
    list_free(&l);
    return st;
}
