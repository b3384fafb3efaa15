/* optim/checkpoint.c — training checkpoints (nb_checkpoint_save_model / _load_model): a module's
 * parameters and buffers ("model.*"), the optimizer's named state and its parameter groups
 * ("optim.*") in one nb_checkpoint file. */
#include "nabla/io.h"
#include "nabla/nn.h"
#include "optim_impl.h"

#include <math.h>
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

/* ---- parameter groups: "optim.group.<g>.frozen", ".joined_at" (i64 scalars) and the group's
 * numbers (f64 scalars: lr, initial_lr, the family's options); "optim.<param name>.group" (an
 * i64 scalar) per parameter ---- */

#define GROUP_PREFIX OPTIM_PREFIX "group."
enum { GROUP_I64 = 2, MAX_NUMBERS = 4 + NBI_OPTIM_MAX_FIELDS, ENTRY_NAME = 64 };

/* A group as a checkpoint holds it. */
typedef struct group_record {
    int64_t frozen, joined_at;
    int n_numbers;
    const char *names[MAX_NUMBERS];
    double numbers[MAX_NUMBERS];
} group_record;

static group_record group_of(const nb_optim *o, int g)
{
    group_record r = {.frozen = o->groups[g].frozen, .joined_at = o->groups[g].joined_at};
    r.n_numbers = nbi_optim_group_numbers(o, g, r.names, r.numbers);
    return r;
}

/* Name of entry k of group g ("optim.group.<g>.frozen", ...) into buf. */
static void group_entry_name(const group_record *r, int g, int k, char *buf, size_t cap)
{
    static const char *const what[GROUP_I64] = {"frozen", "joined_at"};
    snprintf(buf, cap, GROUP_PREFIX "%d.%s", g, k < GROUP_I64 ? what[k] : r->names[k - GROUP_I64]);
}

static int group_entry_count(const nb_optim *o)
{
    int n = o->n_params;
    for (int g = 0; g < o->n_groups; g++)
        n += GROUP_I64 + group_of(o, g).n_numbers;
    return n;
}

/* Append o's groups and every parameter's group index to l as owned tensors holding them. */
static nb_status push_groups(const nb_optim *o, named_list *l, const char *fn)
{
    nb_status st = NB_OK;
    char name[ENTRY_NAME];
    for (int g = 0; g < o->n_groups && st == NB_OK; g++) {
        const group_record r = group_of(o, g);
        for (int k = 0; k < GROUP_I64 + r.n_numbers && st == NB_OK; k++) {
            group_entry_name(&r, g, k, name, sizeof name);
            nb_tensor *t = k == 0   ? nb_tensor_from_data(NB_I64, 0, NULL, &r.frozen)
                           : k == 1 ? nb_tensor_from_data(NB_I64, 0, NULL, &r.joined_at)
                                    : nb_tensor_from_data(NB_F64, 0, NULL, &r.numbers[k - 2]);
            st = t ? list_push(l, "", name, t, true, fn) : nb_last_status();
        }
    }
    for (int i = 0; i < o->n_params && st == NB_OK; i++) {
        const int64_t g = o->params[i].group;
        nb_tensor *t = nb_tensor_from_data(NB_I64, 0, NULL, &g);
        st = t ? list_push(l, OPTIM_PREFIX, o->params[i].name, t, true, fn) : nb_last_status();
        if (st == NB_OK) { /* "<name>" -> "<name>.group" */
            char *s = nb_malloc(strlen(l->names[l->n - 1]) + sizeof ".group");
            if (!s)
                return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for a tensor name", fn);
            sprintf(s, "%s.group", l->names[l->n - 1]);
            nb_free(l->names[l->n - 1]);
            l->names[l->n - 1] = s;
            l->items[l->n - 1].name = s;
        }
    }
    return st;
}

static const nb_checkpoint_entry *find_entry(const nb_checkpoint_toc *toc, const char *name)
{
    for (int64_t i = 0; i < toc->count; i++)
        if (!strcmp(toc->entries[i].name, name))
            return &toc->entries[i];
    return NULL;
}

/* The 8-byte little-endian scalar `name` of dtype dt from f (the file of toc) into out. False
 * when absent, of another dtype or shape, or unreadable: the load itself then reports it. */
static bool peek(FILE *f, const nb_checkpoint_toc *toc, const char *name, nb_dtype dt, void *out)
{
    const nb_checkpoint_entry *e = find_entry(toc, name);
    unsigned char b[8];
    if (!e || e->dtype != dt || e->ndim != 0 || fseek(f, (long)e->offset, SEEK_SET) != 0 ||
        fread(b, 1, 8, f) != 8)
        return false;
    uint64_t u = 0;
    for (int k = 7; k >= 0; k--)
        u = u << 8 | b[k];
    memcpy(out, &u, 8);
    return true;
}

/* The file's groups, checked against o's before anything is loaded and restored after (apply):
 * the same number of groups (the load's name check), each parameter in the same group, the same
 * frozen flags, valid options. */
static nb_status restore_groups(const char *path, const nb_checkpoint_toc *toc, nb_optim *o,
                                bool apply, const char *fn)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nb_set_error(NB_ERR_IO, "%s: cannot open %s", fn, path);
    nb_status st = NB_OK;
    char name[NB_CHECKPOINT_MAX_NAME + 16];
    for (int i = 0; i < o->n_params && st == NB_OK; i++) {
        int64_t g;
        snprintf(name, sizeof name, OPTIM_PREFIX "%s.group", o->params[i].name);
        if (peek(f, toc, name, NB_I64, &g) && g != o->params[i].group)
            st = nb_set_error(NB_ERR_VALUE,
                              "%s: %s: parameter \"%s\" is in group %lld in the file but in group "
                              "%d of the %s optimizer (build the groups as when it was saved)",
                              fn, path, o->params[i].name, (long long)g, o->params[i].group,
                              o->name);
    }
    for (int g = 0; g < o->n_groups && st == NB_OK; g++) {
        group_record got = group_of(o, g);
        bool ok = true;
        for (int k = 0; k < GROUP_I64 + got.n_numbers && ok; k++) {
            group_entry_name(&got, g, k, name, sizeof name);
            ok = k == 0   ? peek(f, toc, name, NB_I64, &got.frozen)
                 : k == 1 ? peek(f, toc, name, NB_I64, &got.joined_at)
                          : peek(f, toc, name, NB_F64, &got.numbers[k - GROUP_I64]);
        }
        if (!ok)
            continue;
        if (got.frozen != o->groups[g].frozen)
            st = nb_set_error(NB_ERR_VALUE,
                              "%s: %s: group %d is %sfrozen in the file but %sin the %s optimizer",
                              fn, path, g, got.frozen ? "" : "not ",
                              o->groups[g].frozen ? "frozen " : "not frozen ", o->name);
        else if (got.joined_at < 0)
            st = nb_set_error(NB_ERR_VALUE, "%s: %s: group %d joined at update %lld", fn, path, g,
                              (long long)got.joined_at);
        else
            st = nbi_optim_group_restore(o, g, got.numbers, apply, fn);
        if (st == NB_OK && apply)
            o->groups[g].joined_at = got.joined_at;
    }
    fclose(f);
    return st;
}

static bool toc_has_groups(const nb_checkpoint_toc *toc)
{
    for (int64_t i = 0; i < toc->count; i++)
        if (!strncmp(toc->entries[i].name, GROUP_PREFIX, strlen(GROUP_PREFIX)))
            return true;
    return false;
}

nb_status nb_checkpoint_save_model(const char *path, nb_module *module, nb_optim *optim)
{
    static const char fn[] = "nb_checkpoint_save_model";
    if (!path || !module)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !path ? "path" : "module");
    named_list l;
    nb_status st = collect(module, optim, optim ? group_entry_count(optim) : 0, &l, fn);
    if (st == NB_OK && optim)
        st = push_groups(optim, &l, fn);
    if (st != NB_OK) {
        list_free(&l);
        return st;
    }
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
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    if (!toc)
        return nb_last_status();
    /* A file saved before checkpoints held groups has no "optim.group.*": the groups keep their
     * options. Otherwise the file's groups are checked before anything is loaded. */
    const bool groups = optim && toc_has_groups(toc);
    nb_status st = groups ? restore_groups(path, toc, optim, false, fn) : NB_OK;
    for (int64_t i = 0; !optim && i < toc->count; i++)
        n_optim_in_file += strncmp(toc->entries[i].name, OPTIM_PREFIX, strlen(OPTIM_PREFIX)) == 0;
    named_list l = {0};
    if (st == NB_OK)
        st =
            collect(module, optim,
                    optim ? (groups ? group_entry_count(optim) : 0) : (int)n_optim_in_file, &l, fn);
    if (st == NB_OK && groups) /* scratch destinations: the values are restored below */
        st = push_groups(optim, &l, fn);
    /* Optimizer entries the caller does not want: load them into scratch tensors so the file
     * still has to match exactly and be verified as a whole. */
    for (int64_t i = 0; st == NB_OK && !optim && i < toc->count; i++) {
        const nb_checkpoint_entry *e = &toc->entries[i];
        if (strncmp(e->name, OPTIM_PREFIX, strlen(OPTIM_PREFIX)) != 0)
            continue;
        nb_tensor *t = nb_tensor_new(e->dtype, e->ndim, e->shape);
        st = t ? list_push(&l, "", e->name, t, true, fn) : nb_last_status();
    }
    if (st != NB_OK) {
        nb_checkpoint_toc_free(toc);
        list_free(&l);
        return st;
    }
    st = nb_checkpoint_load(path, l.items, l.n);
    if (st == NB_ERR_VALUE)
        explain_missing_buffers(fn, path, module);
    if (st == NB_OK && groups)
        st = restore_groups(path, toc, optim, true, fn);
    nb_checkpoint_toc_free(toc);
    list_free(&l);
    return st;
}
