/* nn/module.c — the module tree: parameters gathered in one buffer per tree, buffers
 * (non-trainable state), children, modes, named parameters and buffers, freezing, summary, and
 * forward calls outside a step (run in a private step).
 *
 * Layout invariant: m->buf (1-D, m->numel elements) holds m's subtree in depth-first order —
 * m's own parameters in the order added, then each child's subtree in order. A child's buf is a
 * view into its parent's buf at the child's offset, and each parameter (and gradient) is a view
 * into the root's buffer. Growing a tree (a new parameter or child) allocates the new buffers
 * and moves every existing view into them with nb_tensor_rebase, so tensor pointers held by
 * module kinds stay valid. Only roots grow: a module inside a container is sealed. */
#include "module_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A parameter (a view into the tree's buffer that owns its gradient view) or a buffer (a
 * module-owned tensor of its own). */
typedef struct param_entry {
    char name[NB_MODULE_NAME_MAX + 1];
    nb_tensor *t;
} param_entry;

/* What nb_module_named_params / nb_module_named_buffers list. */
enum { PARAMS = 0, BUFFERS = 1 };

typedef struct named_cache {
    nb_named_tensor *items;
    char *text;
} named_cache;

struct nb_module {
    char kind[NB_MODULE_NAME_MAX + 1];
    char name[NB_MODULE_NAME_MAX + 1];
    char info[128];
    nb_dtype dtype;
    nb_module_forward_fn forward;
    void *user;
    nb_module_free_fn free_user;
    nb_module *parent;
    param_entry *params;
    int n_params, cap_params;
    param_entry *buffers;
    int n_buffers, cap_buffers;
    nb_module **children;
    int n_children, cap_children;
    bool training;
    int64_t numel;                   /* scalar parameters in the subtree */
    nb_tensor *buf;                  /* [numel] values of the subtree, NULL when numel == 0 */
    nb_tensor *gbuf;                 /* [numel] gradients */
    named_cache named[2];            /* nb_module_named_params / _buffers caches */
    struct computed_param *computed; /* parameters computed from others (weight norm) */
    int n_computed;
};

/* A parameter computed by ops from m's own parameters on every lookup (nbi_module_add_computed):
 * inside a step the op result (on the tape), outside one a module-owned snapshot. */
typedef struct computed_param {
    char name[NB_MODULE_NAME_MAX + 1];
    nbi_param_fn fn;
    void *ctx;
    nb_module_free_fn free_ctx;
    nb_tensor *snapshot; /* value of the last lookup outside a step, NULL before */
} computed_param;

/* ---- small helpers ---- */

static bool valid_name(const char *s, bool allow_dot)
{
    if (!s || !s[0] || strlen(s) > NB_MODULE_NAME_MAX)
        return false;
    return allow_dot || !strchr(s, '.');
}

char *nb_module_path(const nb_module *m, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!m)
        return buf;
    const nb_module *chain[64];
    int depth = 0;
    for (const nb_module *x = m; x->parent && depth < 64; x = x->parent)
        chain[depth++] = x;
    size_t used = 0;
    for (int i = depth - 1; i >= 0 && used + 1 < size; i--) {
        int w =
            snprintf(buf + used, size - used, "%s%s", i == depth - 1 ? "" : ".", chain[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static void describe(const nb_module *m, char *buf, size_t size)
{
    char path[256];
    nb_module_path(m, path, sizeof path);
    int w = snprintf(buf, size, "%s", m->kind);
    if (w >= 0 && (size_t)w < size && path[0])
        w += snprintf(buf + w, size - (size_t)w, " '%s'", path);
    if (w >= 0 && (size_t)w < size && m->info[0])
        snprintf(buf + w, size - (size_t)w, " (%s)", m->info);
}

nb_status nb_module_error(const nb_module *m, nb_status status, const char *fmt, ...)
{
    char who[512], what[512];
    if (m)
        describe(m, who, sizeof who);
    else
        snprintf(who, sizeof who, "(NULL module)");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt ? fmt : "", ap);
    va_end(ap);
    return nb_set_error(status, "nb_module_forward: %s: %s", who, what);
}

/* ---- creation and freeing ---- */

nb_module *nb_module_new(const char *kind, nb_dtype dtype, nb_module_forward_fn forward,
                         void *user_data, nb_module_free_fn free_user)
{
    const char *fn = "nb_module_new";
    nb_status st = NB_OK;
    if (!valid_name(kind, true))
        st = nb_set_error(NB_ERR_VALUE, "%s: kind must be 1 to %d characters, got \"%s\"", fn,
                          NB_MODULE_NAME_MAX, kind ? kind : "(NULL)");
    else if (dtype != NB_F32 && dtype != NB_F64)
        st = nb_set_error(NB_ERR_DTYPE, "%s: %s: parameters must be f32 or f64, got %s", fn, kind,
                          nb_dtype_name(dtype));
    nb_module *m = NULL;
    if (st == NB_OK && !(m = nb_calloc(1, sizeof *m)))
        st = nb_set_error(NB_ERR_NOMEM, "%s: %s: out of memory", fn, kind);
    if (st != NB_OK) {
        if (free_user && user_data)
            free_user(user_data);
        return NULL;
    }
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    m->dtype = dtype;
    m->forward = forward;
    m->user = user_data;
    m->free_user = free_user;
    m->training = true;
    return m;
}

static void drop_named_cache(nb_module *m)
{
    for (int k = 0; k < 2; k++) {
        nb_free(m->named[k].items);
        nb_free(m->named[k].text);
        m->named[k] = (named_cache){0};
    }
}

static void free_tree(nb_module *m)
{
    for (int i = 0; i < m->n_children; i++)
        free_tree(m->children[i]);
    for (int i = 0; i < m->n_params; i++)
        nb_tensor_free(m->params[i].t);
    for (int i = 0; i < m->n_buffers; i++)
        nb_tensor_free(m->buffers[i].t);
    nb_tensor_free(m->buf);
    nb_tensor_free(m->gbuf);
    if (m->free_user && m->user)
        m->free_user(m->user);
    for (int i = 0; i < m->n_computed; i++) {
        if (m->computed[i].free_ctx && m->computed[i].ctx)
            m->computed[i].free_ctx(m->computed[i].ctx);
        nb_tensor_free(m->computed[i].snapshot);
    }
    nb_free(m->computed);
    drop_named_cache(m);
    nb_free(m->params);
    nb_free(m->buffers);
    nb_free(m->children);
    nb_free(m);
}

void nb_module_free(nb_module *m)
{
    if (m && !m->parent)
        free_tree(m);
}

/* ---- buffer layout ---- */

/* Move m's subtree into (buf, gbuf) starting at *off, in layout order. Rebasing contiguous leaf
 * views of the same dtype into a buffer large enough cannot fail. */
static void place(nb_module *m, nb_tensor *buf, nb_tensor *gbuf, int64_t *off)
{
    const int64_t start = *off;
    for (int i = 0; i < m->n_params; i++) {
        nb_tensor *t = m->params[i].t;
        nb_tensor_rebase(t, buf, *off);
        nb_tensor_rebase(nb_tensor_grad(t), gbuf, *off);
        *off += nb_tensor_numel(t);
    }
    for (int i = 0; i < m->n_children; i++)
        place(m->children[i], buf, gbuf, off);
    if (m->buf) { /* a child's subtree view (the root's buffers are replaced by the caller) */
        nb_tensor_rebase(m->buf, buf, start);
        nb_tensor_rebase(m->gbuf, gbuf, start);
    }
}

/* New root buffers of `numel` elements, or NB_ERR_NOMEM. */
static nb_status new_buffers(const char *fn, const nb_module *m, int64_t numel, nb_tensor **buf,
                             nb_tensor **gbuf)
{
    const int64_t shape[1] = {numel};
    *buf = nb_tensor_zeros(m->dtype, 1, shape);
    *gbuf = *buf ? nb_tensor_zeros(m->dtype, 1, shape) : NULL;
    if (*gbuf)
        return NB_OK;
    nb_tensor_free(*buf);
    *buf = NULL;
    return nb_set_error(NB_ERR_NOMEM, "%s: %s: out of memory for %lld parameters", fn, m->kind,
                        (long long)numel);
}

/* Install new root buffers: move the subtree (own params first), then drop the old ones. */
static void relayout(nb_module *m, nb_tensor *buf, nb_tensor *gbuf)
{
    nb_tensor *old = m->buf, *gold = m->gbuf;
    m->buf = NULL; /* so place() does not rebase the root's own buffers */
    m->gbuf = NULL;
    int64_t off = 0;
    place(m, buf, gbuf, &off);
    m->buf = buf;
    m->gbuf = gbuf;
    nb_tensor_free(old);
    nb_tensor_free(gold);
    drop_named_cache(m);
}

static bool name_taken(const nb_module *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, name))
            return true;
    for (int i = 0; i < m->n_buffers; i++)
        if (!strcmp(m->buffers[i].name, name))
            return true;
    for (int i = 0; i < m->n_children; i++)
        if (!strcmp(m->children[i]->name, name))
            return true;
    for (int i = 0; i < m->n_computed; i++)
        if (!strcmp(m->computed[i].name, name))
            return true;
    return false;
}

/* Checks shared by nb_module_add_param and nb_module_add_buffer (which: PARAMS or BUFFERS): a
 * valid unused name, m not in a container yet, a valid shape; makes room for one more entry in
 * m's list. Sets *numel. */
static nb_status check_new_entry(const char *fn, nb_module *m, int which, const char *name,
                                 int ndim, const int64_t *shape, int64_t *numel)
{
    if (!m)
        return nb_set_error(NB_ERR_VALUE, "%s: module is NULL", fn);
    const char *what = which == PARAMS ? "parameter" : "buffer";
    param_entry **list = which == PARAMS ? &m->params : &m->buffers;
    const int n = which == PARAMS ? m->n_params : m->n_buffers;
    int *cap = which == PARAMS ? &m->cap_params : &m->cap_buffers;
    if (!valid_name(name, false) || name_taken(m, name))
        return nb_set_error(NB_ERR_VALUE,
                            "%s: %s: %s name \"%s\" is empty, too long, contains '.' or is "
                            "already used",
                            fn, m->kind, what, name ? name : "(NULL)");
    if (m->parent)
        return nb_set_error(NB_ERR_STATE,
                            "%s: %s: module already belongs to a container; add %ss before "
                            "adding it as a child",
                            fn, m->kind, what);
    if (ndim < 0 || ndim > NB_MAX_DIMS || (ndim > 0 && !shape))
        return nb_set_error(NB_ERR_SHAPE, "%s: %s.%s: ndim must be in [0, %d], got %d", fn, m->kind,
                            name, NB_MAX_DIMS, ndim);
    *numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && *numel > INT64_MAX / shape[d]))
            return nb_set_error(NB_ERR_SHAPE, "%s: %s.%s: dim %d is %lld", fn, m->kind, name, d,
                                (long long)shape[d]);
        *numel *= shape[d];
    }
    if (n == *cap) {
        int grown = *cap ? 2 * *cap : 4;
        param_entry *p = nb_realloc(*list, (size_t)grown * sizeof *p);
        if (!p)
            return nb_set_error(NB_ERR_NOMEM, "%s: %s: out of memory", fn, m->kind);
        *list = p;
        *cap = grown;
    }
    return NB_OK;
}

nb_tensor *nb_module_add_param(nb_module *m, const char *name, int ndim, const int64_t *shape)
{
    const char *fn = "nb_module_add_param";
    int64_t numel = 0;
    if (check_new_entry(fn, m, PARAMS, name, ndim, shape, &numel) != NB_OK)
        return NULL;
    /* The new parameter goes after m's own parameters, before the children. */
    int64_t off = 0;
    for (int i = 0; i < m->n_params; i++)
        off += nb_tensor_numel(m->params[i].t);
    nb_tensor *buf, *gbuf;
    if (new_buffers(fn, m, m->numel + numel, &buf, &gbuf) != NB_OK)
        return NULL;
    nb_tensor *t = nb_tensor_view_new(buf, off, ndim, shape);
    nb_tensor *g = t ? nb_tensor_view_new(gbuf, off, ndim, shape) : NULL;
    if (!t || !g || nb_tensor_attach_grad(t, g) != NB_OK ||
        nb_tensor_set_requires_grad(t, true) != NB_OK) {
        if (t && g && nb_tensor_grad(t) != g)
            nb_tensor_free(g);
        nb_tensor_free(t);
        nb_tensor_free(buf);
        nb_tensor_free(gbuf);
        return NULL;
    }
    /* Layout the old subtree around the new slot: own params, new one, children. */
    nb_tensor *old = m->buf, *gold = m->gbuf;
    m->buf = NULL;
    m->gbuf = NULL;
    int64_t pos = 0;
    for (int i = 0; i < m->n_params; i++) {
        nb_tensor_rebase(m->params[i].t, buf, pos);
        nb_tensor_rebase(nb_tensor_grad(m->params[i].t), gbuf, pos);
        pos += nb_tensor_numel(m->params[i].t);
    }
    pos += numel;
    for (int i = 0; i < m->n_children; i++)
        place(m->children[i], buf, gbuf, &pos);
    nb_tensor_free(old);
    nb_tensor_free(gold);
    m->buf = buf;
    m->gbuf = gbuf;
    snprintf(m->params[m->n_params].name, sizeof m->params[0].name, "%s", name);
    m->params[m->n_params++].t = t;
    m->numel += numel;
    drop_named_cache(m);
    return t;
}

nb_tensor *nb_module_add_buffer(nb_module *m, const char *name, nb_dtype dtype, int ndim,
                                const int64_t *shape)
{
    const char *fn = "nb_module_add_buffer";
    int64_t numel = 0;
    if (check_new_entry(fn, m, BUFFERS, name, ndim, shape, &numel) != NB_OK)
        return NULL;
    if (dtype != NB_F32 && dtype != NB_F64 && dtype != NB_I64) {
        nb_set_error(NB_ERR_DTYPE, "%s: %s.%s: buffers are f32, f64 or i64, got %s", fn, m->kind,
                     name, nb_dtype_name(dtype));
        return NULL;
    }
    nb_tensor *t = nb_tensor_zeros(dtype, ndim, shape);
    if (!t)
        return NULL;
    snprintf(m->buffers[m->n_buffers].name, sizeof m->buffers[0].name, "%s", name);
    m->buffers[m->n_buffers++].t = t;
    drop_named_cache(m);
    return t;
}

nb_status nb_module_add_child(nb_module *m, const char *name, nb_module *child)
{
    const char *fn = "nb_module_add_child";
    nb_status st = NB_OK;
    if (!child)
        return nb_set_error(NB_ERR_VALUE, "%s: child \"%s\" is NULL (its constructor failed)", fn,
                            name ? name : "(NULL)");
    if (child->parent || child == m)
        /* Not freed: it belongs to another container (or is m itself). */
        return nb_set_error(NB_ERR_STATE, "%s: %s \"%s\" already belongs to a container", fn,
                            child->kind, child->name);
    if (!m)
        st = nb_set_error(NB_ERR_VALUE, "%s: module is NULL", fn);
    else if (!valid_name(name, false) || name_taken(m, name))
        st = nb_set_error(NB_ERR_VALUE,
                          "%s: %s: child name \"%s\" is empty, too long, contains '.' or is "
                          "already used",
                          fn, m->kind, name ? name : "(NULL)");
    else if (m->parent)
        st = nb_set_error(NB_ERR_STATE,
                          "%s: %s already belongs to a container; build it completely before "
                          "adding it",
                          fn, m->kind);
    else if (m->numel > 0 && child->numel > 0 && m->dtype != child->dtype)
        st = nb_set_error(NB_ERR_DTYPE, "%s: %s has %s parameters, child %s \"%s\" has %s", fn,
                          m->kind, nb_dtype_name(m->dtype), child->kind, name,
                          nb_dtype_name(child->dtype));
    if (st == NB_OK && m->n_children == m->cap_children) {
        int cap = m->cap_children ? 2 * m->cap_children : 4;
        nb_module **c = nb_realloc(m->children, (size_t)cap * sizeof *c);
        if (!c)
            st = nb_set_error(NB_ERR_NOMEM, "%s: %s: out of memory", fn, m->kind);
        else {
            m->children = c;
            m->cap_children = cap;
        }
    }
    nb_tensor *buf = NULL, *gbuf = NULL;
    if (st == NB_OK && child->numel > 0) {
        if (m->numel == 0)
            m->dtype = child->dtype; /* a container takes its children's dtype */
        st = new_buffers(fn, m, m->numel + child->numel, &buf, &gbuf);
    }
    if (st != NB_OK) {
        free_tree(child);
        return st;
    }
    snprintf(child->name, sizeof child->name, "%s", name);
    child->parent = m;
    m->children[m->n_children++] = child;
    if (child->numel > 0) {
        m->numel += child->numel;
        relayout(m, buf, gbuf);
    }
    drop_named_cache(m);
    return NB_OK;
}

/* ---- accessors ---- */

void *nb_module_user_data(const nb_module *m)
{
    return m ? m->user : NULL;
}

nb_status nb_module_set_info(nb_module *m, const char *fmt, ...)
{
    if (!m)
        return nb_set_error(NB_ERR_VALUE, "nb_module_set_info: module is NULL");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->info, sizeof m->info, fmt ? fmt : "", ap);
    va_end(ap);
    return NB_OK;
}

const char *nb_module_kind(const nb_module *m)
{
    return m ? m->kind : "";
}

const char *nb_module_name(const nb_module *m)
{
    return m ? m->name : "";
}

const char *nb_module_info(const nb_module *m)
{
    return m ? m->info : "";
}

nb_dtype nb_module_dtype(const nb_module *m)
{
    return m ? m->dtype : NB_F32;
}

nb_module *nb_module_parent(const nb_module *m)
{
    return m ? m->parent : NULL;
}

void nb_module_train(nb_module *m, bool training)
{
    if (!m)
        return;
    m->training = training;
    for (int i = 0; i < m->n_children; i++)
        nb_module_train(m->children[i], training);
}

bool nb_module_is_training(const nb_module *m)
{
    return m && m->training;
}

void nbi_step_begin_keeping_error(nb_step *st)
{
    nb_status pending = nb_last_status();
    char msg[1024] = "";
    if (pending != NB_OK)
        snprintf(msg, sizeof msg, "%s", nb_last_error());
    nb_step_begin(st);
    if (pending != NB_OK)
        nb_set_error(pending, "%s", msg);
}

nb_tensor *nbi_module_call(nbi_module_fn f, nb_module *m, nb_tensor *x, const void *ctx)
{
    if (nb_step_active())
        return f(m, x, ctx);
    nb_step *st = nb_step_new();
    if (!st)
        return NULL;
    nbi_step_begin_keeping_error(st);
    const bool grad_was = nb_set_grad_enabled(false);
    nb_tensor *y = f(m, x, ctx);
    nb_tensor *out = y ? nb_tensor_copy(y) : NULL;
    nb_set_grad_enabled(grad_was);
    nb_step_end(st);
    nb_step_free(st);
    return out;
}

static void record_output(const nb_module *m, const nb_tensor *y);

static nb_tensor *run_forward(nb_module *m, nb_tensor *x, const void *ctx)
{
    (void)ctx;
    return m->forward(m, x);
}

nb_tensor *nbi_module_forward_as(nbi_module_fn f, nb_module *m, nb_tensor *x, const void *ctx)
{
    if (!x)
        return NULL;
    if (!m) {
        nb_set_error(NB_ERR_VALUE, "nb_module_forward: module is NULL");
        return NULL;
    }
    nb_tensor *y = nbi_module_call(f, m, x, ctx);
    record_output(m, y); /* for nb_module_summary_shapes */
    return y;
}

nb_tensor *nb_module_forward(nb_module *m, nb_tensor *x)
{
    if (x && m && !m->forward) {
        nb_module_error(m, NB_ERR_STATE, "this module has no forward function");
        return NULL;
    }
    return nbi_module_forward_as(run_forward, m, x, NULL);
}

/* ---- parameters ---- */

int64_t nb_module_num_params(const nb_module *m)
{
    return m ? m->numel : 0;
}

int64_t nb_module_num_trainable_params(const nb_module *m)
{
    if (!m)
        return 0;
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (nb_tensor_requires_grad(m->params[i].t))
            n += nb_tensor_numel(m->params[i].t);
    for (int i = 0; i < m->n_children; i++)
        n += nb_module_num_trainable_params(m->children[i]);
    return n;
}

int nb_module_num_param_tensors(const nb_module *m)
{
    if (!m)
        return 0;
    int n = m->n_params;
    for (int i = 0; i < m->n_children; i++)
        n += nb_module_num_param_tensors(m->children[i]);
    return n;
}

/* Visit the subtree's parameters (which == PARAMS, in layout order) or buffers with their dotted
 * names (prefix + name). */
typedef void (*visit_fn)(void *ctx, const char *name, nb_tensor *t);

static void visit_entries(const nb_module *m, int which, char *prefix, size_t len, size_t cap,
                          visit_fn f, void *ctx)
{
    const param_entry *list = which == PARAMS ? m->params : m->buffers;
    const int n = which == PARAMS ? m->n_params : m->n_buffers;
    for (int i = 0; i < n; i++) {
        snprintf(prefix + len, cap - len, "%s", list[i].name);
        f(ctx, prefix, list[i].t);
    }
    for (int i = 0; i < m->n_children; i++) {
        int w = snprintf(prefix + len, cap - len, "%s.", m->children[i]->name);
        size_t nlen = w > 0 ? len + (size_t)w : len;
        visit_entries(m->children[i], which, prefix, nlen < cap ? nlen : cap - 1, cap, f, ctx);
    }
    prefix[len] = '\0';
}

#define PATH_CAP 1024

typedef struct {
    size_t chars;
    int count;
    nb_named_tensor *out;
    char *text;
} names_ctx;

static void count_name(void *ctx, const char *name, nb_tensor *t)
{
    names_ctx *c = ctx;
    (void)t;
    c->chars += strlen(name) + 1;
    c->count++;
}

static void store_name(void *ctx, const char *name, nb_tensor *t)
{
    names_ctx *c = ctx;
    size_t n = strlen(name) + 1;
    memcpy(c->text, name, n);
    c->out[c->count].name = c->text;
    c->out[c->count].tensor = t;
    c->text += n;
    c->count++;
}

static int named_entries(const char *fn, nb_module *m, int which, nb_named_tensor *out, int cap)
{
    if (!m) {
        nb_set_error(NB_ERR_VALUE, "%s: module is NULL", fn);
        return -1;
    }
    char prefix[PATH_CAP];
    prefix[0] = '\0';
    names_ctx c = {0};
    visit_entries(m, which, prefix, 0, sizeof prefix, count_name, &c);
    const int total = c.count;
    named_cache *nc = &m->named[which];
    if (!nc->items && total > 0) {
        nc->items = nb_malloc((size_t)total * sizeof *nc->items);
        nc->text = nb_malloc(c.chars);
        if (!nc->items || !nc->text) {
            drop_named_cache(m);
            nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
            return -1;
        }
        names_ctx s = {.out = nc->items, .text = nc->text};
        visit_entries(m, which, prefix, 0, sizeof prefix, store_name, &s);
    }
    for (int i = 0; i < total && i < cap && out; i++)
        out[i] = nc->items[i];
    return total;
}

int nb_module_named_params(nb_module *m, nb_named_tensor *out, int cap)
{
    return named_entries("nb_module_named_params", m, PARAMS, out, cap);
}

int nb_module_named_buffers(nb_module *m, nb_named_tensor *out, int cap)
{
    return named_entries("nb_module_named_buffers", m, BUFFERS, out, cap);
}

/* ---- lookups by dotted path ---- */

/* The descendant at path[0 .. len) (len 0: m itself), or NULL; *stuck is the deepest module
 * found on the way (the one lacking the next name). */
static nb_module *find_child(const nb_module *m, const char *path, size_t len,
                             const nb_module **stuck)
{
    const char *p = path, *end = path + len;
    *stuck = m;
    while (p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        const nb_module *next = NULL;
        for (int i = 0; i < m->n_children && !next; i++)
            if (strlen(m->children[i]->name) == n && !strncmp(m->children[i]->name, p, n))
                next = m->children[i];
        if (!next || (dot && dot + 1 == end)) /* missing, or a trailing dot */
            return NULL;
        m = *stuck = next;
        p = dot ? dot + 1 : end;
    }
    return (nb_module *)(uintptr_t)m;
}

/* The parameter (PARAMS) or buffer at a dotted path, or NULL with *stuck as in find_child. */
static nb_tensor *find_entry(const nb_module *m, const char *path, int which,
                             const nb_module **stuck)
{
    const char *last = strrchr(path, '.');
    const nb_module *owner = last ? find_child(m, path, (size_t)(last - path), stuck) : m;
    if (!owner)
        return NULL;
    *stuck = owner;
    const char *name = last ? last + 1 : path;
    const param_entry *list = which == PARAMS ? owner->params : owner->buffers;
    const int n = which == PARAMS ? owner->n_params : owner->n_buffers;
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i].name, name))
            return list[i].t;
    return NULL;
}

/* Append "<label> a, b, c" to buf (at *used), separated from earlier lists by "; ". */
static void list_names(char *buf, size_t size, size_t *used, const char *label,
                       const param_entry *entries, nb_module *const *children, int n)
{
    for (int i = 0; i < n && *used + 1 < size; i++) {
        const char *name = entries ? entries[i].name : children[i]->name;
        const char *sep = i > 0 ? ", " : *used > 0 ? "; " : "";
        int w = snprintf(buf + *used, size - *used, "%s%s%s%s", sep, i == 0 ? label : "",
                         i == 0 ? " " : "", name);
        *used = w < 0 ? size - 1 : *used + (size_t)w < size ? *used + (size_t)w : size - 1;
    }
}

/* "<fn>: <m> has no <what> "<path>"; <stuck> has parameters ..., buffers ..., children ..." */
static void lookup_error(const char *fn, const nb_module *m, const char *what, const char *path,
                         const nb_module *stuck)
{
    char who[512], where[512], has[512];
    size_t used = 0;
    has[0] = '\0';
    describe(m, who, sizeof who);
    if (stuck == m)
        snprintf(where, sizeof where, "it");
    else
        describe(stuck, where, sizeof where);
    list_names(has, sizeof has, &used, "parameters", stuck->params, NULL, stuck->n_params);
    list_names(has, sizeof has, &used, "buffers", stuck->buffers, NULL, stuck->n_buffers);
    list_names(has, sizeof has, &used, "children", NULL, stuck->children, stuck->n_children);
    nb_set_error(NB_ERR_VALUE, "%s: %s has no %s \"%s\"; %s has %s", fn, who, what, path, where,
                 used > 0 ? has : "no parameters, buffers or children");
}

static bool lookup_args_ok(const char *fn, const nb_module *m, const char *path)
{
    if (m && path)
        return true;
    nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !m ? "module" : "path");
    return false;
}

nb_module *nb_module_child(const nb_module *m, const char *path)
{
    const char *fn = "nb_module_child";
    if (!lookup_args_ok(fn, m, path))
        return NULL;
    const nb_module *stuck;
    nb_module *c = find_child(m, path, strlen(path), &stuck);
    if (!c)
        lookup_error(fn, m, "child", path, stuck);
    return c;
}

/* The computed parameter at a dotted path and its module (*owner), or NULL. */
static computed_param *find_computed(const nb_module *m, const char *path, nb_module **owner)
{
    const char *last = strrchr(path, '.');
    const nb_module *stuck;
    const nb_module *o = last ? find_child(m, path, (size_t)(last - path), &stuck) : m;
    const char *name = last ? last + 1 : path;
    for (int i = 0; o && i < o->n_computed; i++)
        if (!strcmp(o->computed[i].name, name)) {
            *owner = (nb_module *)(uintptr_t)o;
            return &o->computed[i];
        }
    return NULL;
}

static nb_tensor *run_computed(nb_module *m, nb_tensor *x, const void *ctx)
{
    (void)x;
    const computed_param *c = ctx;
    return c->fn(m, c->ctx);
}

/* Inside a step: the op result. Outside: computed in a private step into c's snapshot. */
static nb_tensor *compute_param(nb_module *owner, computed_param *c)
{
    if (nb_step_active())
        return c->fn(owner, c->ctx);
    nb_tensor *y = nbi_module_call(run_computed, owner, NULL, c);
    if (!y || !c->snapshot) {
        c->snapshot = c->snapshot ? c->snapshot : y;
        return y;
    }
    nb_status st = nb_tensor_copy_into(c->snapshot, y);
    nb_tensor_free(y);
    return st == NB_OK ? c->snapshot : NULL;
}

/* nb_module_param / nb_module_buffer. */
static nb_tensor *lookup_entry(const char *fn, nb_module *m, const char *path, int which)
{
    if (!lookup_args_ok(fn, m, path))
        return NULL;
    const nb_module *stuck;
    nb_tensor *t = find_entry(m, path, which, &stuck);
    nb_module *owner = NULL;
    computed_param *c = t || which != PARAMS ? NULL : find_computed(m, path, &owner);
    if (c)
        return compute_param(owner, c);
    if (!t)
        lookup_error(fn, m, which == PARAMS ? "parameter" : "buffer", path, stuck);
    return t;
}

nb_status nbi_module_add_computed(nb_module *m, const char *name, nbi_param_fn fn, void *ctx,
                                  nb_module_free_fn free_ctx)
{
    const char *f = "nbi_module_add_computed";
    nb_status st = NB_OK;
    if (!m || !fn || !valid_name(name, false) || name_taken(m, name))
        st = nb_set_error(NB_ERR_VALUE, "%s: bad module, function or name \"%s\"", f,
                          name ? name : "(NULL)");
    computed_param *list =
        st == NB_OK ? nb_realloc(m->computed, (size_t)(m->n_computed + 1) * sizeof *list) : NULL;
    if (st == NB_OK && !list)
        st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory", f);
    if (st != NB_OK) {
        if (free_ctx && ctx)
            free_ctx(ctx);
        return st;
    }
    m->computed = list;
    list[m->n_computed] = (computed_param){.fn = fn, .ctx = ctx, .free_ctx = free_ctx};
    snprintf(list[m->n_computed++].name, sizeof list->name, "%s", name);
    return NB_OK;
}

nb_status nbi_module_rename_param(nb_module *m, const char *from, const char *to)
{
    if (!m || !from || !valid_name(to, false) || name_taken(m, to))
        return nb_set_error(NB_ERR_VALUE, "nbi_module_rename_param: new name \"%s\" is bad or used",
                            to ? to : "(NULL)");
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, from)) {
            snprintf(m->params[i].name, sizeof m->params[i].name, "%s", to);
            drop_named_cache(m);
            return NB_OK;
        }
    return nb_set_error(NB_ERR_VALUE, "nbi_module_rename_param: %s has no parameter \"%s\"",
                        m->kind, from);
}

nb_tensor *nb_module_param(nb_module *m, const char *path)
{
    return lookup_entry("nb_module_param", m, path, PARAMS);
}

nb_tensor *nb_module_buffer(nb_module *m, const char *path)
{
    return lookup_entry("nb_module_buffer", m, path, BUFFERS);
}

bool nb_module_has_child(const nb_module *m, const char *path)
{
    const nb_module *stuck;
    return m && path && find_child(m, path, strlen(path), &stuck);
}

bool nb_module_has_param(const nb_module *m, const char *path)
{
    const nb_module *stuck;
    nb_module *owner;
    return m && path && (find_entry(m, path, PARAMS, &stuck) || find_computed(m, path, &owner));
}

bool nb_module_has_buffer(const nb_module *m, const char *path)
{
    const nb_module *stuck;
    return m && path && find_entry(m, path, BUFFERS, &stuck);
}

nb_tensor *nb_module_param_buffer(nb_module *m)
{
    return m ? m->buf : NULL;
}

nb_tensor *nb_module_grad_buffer(nb_module *m)
{
    return m ? m->gbuf : NULL;
}

void nb_module_zero_grad(nb_module *m)
{
    if (m && m->gbuf)
        memset(nb_tensor_data(m->gbuf), 0,
               (size_t)m->numel * nb_dtype_size(nb_tensor_dtype(m->gbuf)));
}

nb_status nb_module_set_requires_grad(nb_module *m, bool requires_grad)
{
    if (!m)
        return nb_set_error(NB_ERR_VALUE, "nb_module_set_requires_grad: module is NULL");
    for (int i = 0; i < m->n_params; i++) {
        nb_status st = nb_tensor_set_requires_grad(m->params[i].t, requires_grad);
        if (st != NB_OK)
            return st;
    }
    for (int i = 0; i < m->n_children; i++) {
        nb_status st = nb_module_set_requires_grad(m->children[i], requires_grad);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}

int nb_module_num_children(const nb_module *m)
{
    return m ? m->n_children : 0;
}

nb_module *nb_module_child_at(const nb_module *m, int i)
{
    return m && i >= 0 && i < m->n_children ? m->children[i] : NULL;
}

/* ---- walking the tree ---- */

static int apply_rec(nb_module *m, char *path, size_t len, int depth, nb_module_visit_fn fn,
                     void *ctx)
{
    int r = fn(m, path, depth, ctx);
    for (int i = 0; i < m->n_children && r == 0; i++) {
        int w = snprintf(path + len, PATH_CAP - len, "%s%s", len ? "." : "", m->children[i]->name);
        size_t nlen = w > 0 && len + (size_t)w < PATH_CAP ? len + (size_t)w : PATH_CAP - 1;
        r = apply_rec(m->children[i], path, nlen, depth + 1, fn, ctx);
        path[len] = '\0';
    }
    return r;
}

int nb_module_apply(nb_module *m, nb_module_visit_fn fn, void *ctx)
{
    if (!m || !fn)
        return nb_set_error(NB_ERR_VALUE, "nb_module_apply: %s is NULL", !m ? "module" : "fn");
    char path[PATH_CAP] = "";
    return apply_rec(m, path, 0, 0, fn, ctx);
}

/* ---- summary ---- */

/* One row of a summary: a module, its path relative to the summarised root, and (with an input
 * shape) its first output shape, the number of forward calls and its train flag to restore. */
typedef struct summary_row {
    nb_module *m;
    char path[256];
    int depth;
    int calls;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    bool training;
} summary_row;

typedef struct summary_rows {
    summary_row *rows;
    int n, cap;
} summary_rows;

/* Rows of the summary being recorded by nb_module_summary_shapes on this thread, or NULL. */
static _Thread_local summary_rows *recording;

static int collect_row(nb_module *m, const char *path, int depth, void *ctx)
{
    summary_rows *s = ctx;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        summary_row *r = nb_realloc(s->rows, (size_t)cap * sizeof *r);
        if (!r)
            return nb_set_error(NB_ERR_NOMEM, "nb_module_summary: out of memory");
        s->rows = r;
        s->cap = cap;
    }
    summary_row *r = &s->rows[s->n++];
    *r = (summary_row){.m = m, .depth = depth, .training = m->training};
    snprintf(r->path, sizeof r->path, "%s", depth == 0 ? "(root)" : path);
    return 0;
}

/* Called after each module forward: remember the module's first output shape. */
static void record_output(const nb_module *m, const nb_tensor *y)
{
    for (int i = 0; recording && y && i < recording->n; i++) {
        summary_row *r = &recording->rows[i];
        if (r->m != m)
            continue;
        if (r->calls++ == 0) {
            r->ndim = nb_tensor_ndim(y);
            for (int d = 0; d < r->ndim; d++)
                r->shape[d] = nb_tensor_dim(y, d);
        }
        return;
    }
}

/* "1,234,567" */
static char *group_digits(int64_t v, char *buf, size_t size)
{
    char raw[32];
    int n = snprintf(raw, sizeof raw, "%lld", (long long)(v < 0 ? -v : v));
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 1 < size)
            buf[o++] = ',';
        if (o + 1 < size)
            buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "32x28x28 = 25,088" for shape[skip ..]; one dim is "64", none "scalar". */
static void shape_notation(const int64_t *shape, int ndim, int skip, char *buf, size_t size)
{
    int64_t count = 1;
    size_t used = 0;
    buf[0] = '\0';
    for (int d = skip; d < ndim; d++) {
        count *= shape[d];
        int w =
            snprintf(buf + used, size - used, "%s%lld", d > skip ? "x" : "", (long long)shape[d]);
        used = w < 0 || used + (size_t)w >= size ? size - 1 : used + (size_t)w;
    }
    char c[32];
    if (ndim - skip >= 2)
        snprintf(buf + used, size - used, " = %s", group_digits(count, c, sizeof c));
    else if (ndim - skip == 1)
        group_digits(count, buf, size);
    else
        snprintf(buf, size, "scalar");
}

static int64_t own_params(const nb_module *m)
{
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        n += nb_tensor_numel(m->params[i].t);
    return n;
}

/* Print the table; `skip` leading dims are left out of output shapes (-1: no shapes column). */
static void print_rows(const nb_module *m, FILE *out, const summary_rows *s, int skip)
{
    enum { TEXT = 512 };
    char(*cells)[3][TEXT] = nb_calloc((size_t)s->n, sizeof *cells);
    if (!cells) {
        fprintf(out, "(out of memory for the summary of %s)\n", m->kind);
        return;
    }
    int wname = 5, wkind = 4, wout = 6, wcount = 10;
    for (int i = 0; i < s->n; i++) {
        const summary_row *r = &s->rows[i];
        const nb_module *x = r->m;
        snprintf(cells[i][0], TEXT, "%*s%s", 2 * r->depth, "", r->path);
        snprintf(cells[i][1], TEXT, "%s%s%s%s", x->kind, x->info[0] ? "(" : "", x->info,
                 x->info[0] ? ")" : "");
        if (skip >= 0 && r->calls == 0)
            snprintf(cells[i][2], TEXT, "-");
        else if (skip >= 0) {
            shape_notation(r->shape, r->ndim, r->ndim >= 2 ? skip : 0, cells[i][2], TEXT);
            if (r->calls > 1) {
                size_t l = strlen(cells[i][2]);
                snprintf(cells[i][2] + l, TEXT - l, " (%d calls)", r->calls);
            }
        }
        int a = (int)strlen(cells[i][0]), b = (int)strlen(cells[i][1]),
            c = (int)strlen(cells[i][2]);
        wname = a > wname ? a : wname;
        wkind = b > wkind ? b : wkind;
        wout = c > wout ? c : wout;
    }
    if (skip >= 0)
        fprintf(out, "  %-*s  %-*s  %-*s  %*s  %s\n", wname, "layer", wkind, "type", wout, "output",
                wcount, "parameters", "shapes");
    else
        fprintf(out, "  %-*s  %-*s  %*s  %s\n", wname, "layer", wkind, "type", wcount, "parameters",
                "shapes");
    for (int i = 0; i < s->n; i++) {
        const nb_module *x = s->rows[i].m;
        char shapes[TEXT] = "", own[32], total[32], count[80];
        size_t used = 0;
        for (int k = 0; k < x->n_params; k++) {
            char sh[128];
            nb_tensor *t = x->params[k].t;
            int w = snprintf(shapes + used, sizeof shapes - used, "%s%s %s%s", k ? ", " : "",
                             x->params[k].name, nb_tensor_shape_str(t, sh, sizeof sh),
                             nb_tensor_requires_grad(t) ? "" : " (frozen)");
            if (w < 0 || (size_t)w >= sizeof shapes - used)
                break;
            used += (size_t)w;
        }
        group_digits(own_params(x), own, sizeof own);
        group_digits(x->numel, total, sizeof total);
        if (x->n_children == 0)
            snprintf(count, sizeof count, "%s", own);
        else if (x->n_params == 0)
            snprintf(count, sizeof count, "(%s)", total);
        else
            snprintf(count, sizeof count, "%s (%s)", own, total);
        if (skip >= 0)
            fprintf(out, "  %-*s  %-*s  %-*s  %*s", wname, cells[i][0], wkind, cells[i][1], wout,
                    cells[i][2], wcount, count);
        else
            fprintf(out, "  %-*s  %-*s  %*s", wname, cells[i][0], wkind, cells[i][1], wcount,
                    count);
        fprintf(out, "%s%s\n", shapes[0] ? "  " : "", shapes);
    }
    char t1[32], t2[32];
    fprintf(out, "  total parameters: %s (trainable: %s, %s)\n",
            group_digits(nb_module_num_params(m), t1, sizeof t1),
            group_digits(nb_module_num_trainable_params(m), t2, sizeof t2),
            nb_dtype_name(m->dtype));
    nb_free(cells);
}

void nb_module_summary(const nb_module *m, FILE *out)
{
    if (!m || !out)
        return;
    char title[512];
    describe(m, title, sizeof title);
    summary_rows s = {0};
    if (nb_module_apply((nb_module *)(uintptr_t)m, collect_row, &s) != 0) {
        fprintf(out, "%s\n  (out of memory for the summary)\n", title);
        nb_free(s.rows);
        return;
    }
    fprintf(out, "%s\n", title);
    print_rows(m, out, &s, -1);
    nb_free(s.rows);
}

nb_status nb_module_summary_shapes(nb_module *m, FILE *out, nb_dtype dtype, int ndim,
                                   const int64_t *shape)
{
    const char *fn = "nb_module_summary_shapes";
    if (!m || !out)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !m ? "module" : "out");
    if (!m->forward)
        return nb_set_error(NB_ERR_STATE, "%s: %s has no forward function", fn, m->kind);
    if (recording)
        return nb_set_error(NB_ERR_STATE, "%s: called from inside a summary's forward", fn);
    for (int d = 0; d < ndim && ndim <= NB_MAX_DIMS && shape; d++)
        if (shape[d] < 1)
            return nb_set_error(NB_ERR_SHAPE, "%s: %s: input dim %d is %lld, need >= 1", fn,
                                m->kind, d, (long long)shape[d]);
    if (ndim < 0 || ndim > NB_MAX_DIMS || (ndim > 0 && !shape))
        return nb_set_error(NB_ERR_SHAPE, "%s: %s: input ndim must be in [0, %d], got %d", fn,
                            m->kind, NB_MAX_DIMS, ndim);
    /* In the caller's step the input lives in its arena like the rest (the forward's views of it
     * may outlive this call); otherwise it is ours, and the forward runs in a private step. */
    const bool in_step = nb_step_active() != NULL;
    nb_tensor *zeros =
        in_step ? nb_full(dtype, ndim, shape, 0.0) : nb_tensor_new(dtype, ndim, shape);
    if (!zeros)
        return nb_last_status();
    summary_rows s = {0};
    int r = nb_module_apply(m, collect_row, &s);
    if (r != 0) {
        if (!in_step)
            nb_tensor_free(zeros);
        nb_free(s.rows);
        return (nb_status)r;
    }
    nb_module_train(m, false);
    const bool grad_was = nb_set_grad_enabled(false);
    recording = &s;
    nb_tensor *y = nbi_module_call(run_forward, m, zeros, NULL);
    record_output(m, y); /* the root's forward ran outside nb_module_forward */
    recording = NULL;
    nb_set_grad_enabled(grad_was);
    for (int i = 0; i < s.n; i++)
        s.rows[i].m->training = s.rows[i].training;
    nb_status st = y ? NB_OK : nb_last_status();
    if (y) {
        char title[512], in[256], sh[128];
        describe(m, title, sizeof title);
        shape_notation(shape, ndim, ndim >= 2 ? 1 : 0, in, sizeof in);
        nb_tensor_shape_str(zeros, sh, sizeof sh);
        if (ndim >= 2)
            fprintf(out, "%s for input %s (per sample %s; the batch dim is left out below)\n",
                    title, sh, in);
        else
            fprintf(out, "%s for input %s\n", title, sh);
        print_rows(m, out, &s, ndim >= 2 ? 1 : 0);
    }
    if (!in_step) {
        nb_tensor_free(y);
        nb_tensor_free(zeros);
    }
    nb_free(s.rows);
    return st;
}
