/* optim/optim.c — the optimizer interface: parameters and their groups, state, the update,
 * checkpointable state and gradient clipping. The update rules live in sgd.c and adaptive.c,
 * the learning-rate schedules in schedule.c. */
#include "optim_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nb_status nbi_optim_bad(const char *fn, const char *what, const char *rule, double value)
{
    return nb_set_error(NB_ERR_VALUE, "%s: %s must be %s, got %g", fn, what, rule, value);
}

bool nbi_optim_ok(const char *fn, const char *what, double v, nbi_optim_range range)
{
    static const char *const rule[] = {
        [NBI_NONNEG] = ">= 0 and finite",
        [NBI_POSITIVE] = "> 0 and finite",
        [NBI_UNIT] = "in [0, 1]",
        [NBI_UNIT_OPEN] = "in [0, 1)",
    };
    const bool ok = range == NBI_NONNEG     ? v >= 0 && isfinite(v)
                    : range == NBI_POSITIVE ? v > 0 && isfinite(v)
                    : range == NBI_UNIT     ? v >= 0 && v <= 1
                                            : v >= 0 && v < 1;
    if (!ok)
        nbi_optim_bad(fn, what, rule[range], v);
    return ok;
}

void nbi_optim_state(nbi_optim_group *g, const char *name, double init)
{
    if (g->n_state < NBI_OPTIM_MAX_STATE) {
        g->state_names[g->n_state] = name;
        g->state_init[g->n_state++] = init;
    }
}

/* The double at `offset` in h (every family's options begin with `double lr`). */
static double *hp_field(nbi_optim_hp *h, size_t offset)
{
    return (double *)((char *)h + offset);
}

static double hp_get(const nbi_optim_hp *h, size_t offset)
{
    double v;
    memcpy(&v, (const char *)h + offset, sizeof v);
    return v;
}

/* Group options h with rate lr, checked for fn; its layout declared. False on a bad option. */
static bool group_init(const nb_optim *o, nbi_optim_group *g, const nbi_optim_hp *h, double lr,
                       bool frozen, const char *fn)
{
    *g = (nbi_optim_group){
        .lr = lr, .initial_lr = lr, .hp = *h, .frozen = frozen, .mu_product = 1.0};
    *hp_field(&g->hp, 0) = lr;
    if (!o->family->check(fn, &g->hp))
        return false;
    if (!frozen)
        o->family->layout(g, &g->hp);
    g->joined_at = o->step ? (int64_t)nb_tensor_item(o->step) : 0;
    return true;
}

static nb_status push_group(nb_optim *o, const nbi_optim_group *g, const char *fn)
{
    if (o->n_groups == o->cap_groups) {
        int cap = o->cap_groups ? 2 * o->cap_groups : 4;
        nbi_optim_group *p = nb_realloc(o->groups, (size_t)cap * sizeof *p);
        if (!p)
            return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        o->groups = p;
        o->cap_groups = cap;
    }
    o->groups[o->n_groups++] = *g;
    return NB_OK;
}

static void drop_named(nb_optim *o)
{
    nb_free(o->named);
    nb_free(o->named_text);
    o->named = NULL;
    o->named_text = NULL;
}

static void free_param(nbi_optim_param *e)
{
    nb_free(e->name);
    for (int k = 0; k < NBI_OPTIM_MAX_STATE; k++)
        nb_tensor_free(e->state[k]);
}

/* Add parameter `param` to group g (validated by the caller). */
static nb_status add_param(nb_optim *o, int g, const char *name, nb_tensor *param, const char *fn)
{
    if (!o || !name || !name[0] || !param)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL or empty", fn,
                            !o       ? "optimizer"
                            : !param ? "param"
                                     : "name");
    for (int i = 0; i < o->n_params; i++) {
        if (o->params[i].p == param && o->params[i].group == g)
            return nb_set_error(NB_ERR_VALUE,
                                "%s: %s: parameter \"%s\" is already added (as \"%s\", group %d)",
                                fn, o->name, name, o->params[i].name, g);
        if (o->params[i].p == param)
            return nb_set_error(NB_ERR_VALUE,
                                "%s: %s: parameter \"%s\" is already in group %d (as \"%s\"); a "
                                "parameter belongs to one group, cannot add it to group %d",
                                fn, o->name, name, o->params[i].group, o->params[i].name, g);
        if (!strcmp(o->params[i].name, name))
            return nb_set_error(NB_ERR_VALUE, "%s: %s: parameter \"%s\" is already added", fn,
                                o->name, name);
    }
    const nb_dtype dt = nb_tensor_dtype(param);
    if (dt != NB_F32 && dt != NB_F64)
        return nb_set_error(NB_ERR_DTYPE, "%s: %s: \"%s\" must be f32 or f64, got %s", fn, o->name,
                            name, nb_dtype_name(dt));
    if (!nb_tensor_is_contiguous(param)) {
        char s[96];
        return nb_set_error(NB_ERR_SHAPE, "%s: %s: \"%s\" %s is not contiguous", fn, o->name, name,
                            nb_tensor_shape_str(param, s, sizeof s));
    }
    if (o->n_params == o->cap_params) {
        int cap = o->cap_params ? 2 * o->cap_params : 8;
        nbi_optim_param *p = nb_realloc(o->params, (size_t)cap * sizeof *p);
        if (!p)
            return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        o->params = p;
        o->cap_params = cap;
    }
    const nbi_optim_group *gr = &o->groups[g];
    nbi_optim_param e = {.p = param, .group = g};
    size_t len = strlen(name) + 1;
    bool ok = (e.name = nb_malloc(len)) != NULL;
    for (int k = 0; k < gr->n_state && ok; k++)
        ok = (e.state[k] = nb_tensor_full(dt, nb_tensor_ndim(param), nb_tensor_shape(param),
                                          gr->state_init[k])) != NULL;
    if (!ok) {
        free_param(&e);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    }
    memcpy(e.name, name, len);
    o->params[o->n_params++] = e;
    drop_named(o);
    return NB_OK;
}

/* Add every parameter of m's tree to group g, named "<prefix>.<path>" (prefix NULL or empty:
 * the path); on error the parameters added here are removed. */
static nb_status add_module(nb_optim *o, int g, nb_module *m, const char *prefix, const char *fn)
{
    if (!m)
        return NB_OK;
    const int before = o->n_params;
    int n = nb_module_named_params(m, NULL, 0);
    nb_named_tensor *list = n > 0 ? nb_malloc((size_t)n * sizeof *list) : NULL;
    nb_status st = n < 0 ? nb_last_status() : NB_OK;
    if (n > 0 && !list)
        st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    if (st == NB_OK && n > 0)
        nb_module_named_params(m, list, n);
    const bool pre = prefix && prefix[0];
    for (int i = 0; i < n && st == NB_OK; i++) {
        const size_t len = (pre ? strlen(prefix) + 1 : 0) + strlen(list[i].name) + 1;
        char *name = pre ? nb_malloc(len) : NULL;
        if (pre && !name) {
            st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
            break;
        }
        if (pre)
            snprintf(name, len, "%s.%s", prefix, list[i].name);
        st = add_param(o, g, pre ? name : list[i].name, list[i].tensor, fn);
        nb_free(name);
    }
    nb_free(list);
    while (st != NB_OK && o->n_params > before)
        free_param(&o->params[--o->n_params]);
    return st;
}

nb_optim *nbi_optim_create(const nbi_optim_family *family, const nbi_optim_hp *h, double lr,
                           nb_module *params)
{
    nb_optim *o = nb_calloc(1, sizeof *o);
    if (!o) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", family->ctor);
        return NULL;
    }
    o->family = family;
    o->name = family->name;
    o->defaults = *h;
    nbi_optim_group g;
    bool ok = group_init(o, &g, h, lr, false, family->ctor);
    if (ok && !(o->step = nb_tensor_zeros(NB_I64, 0, NULL)))
        ok = nb_set_error(NB_ERR_NOMEM, "%s: out of memory", family->ctor) == NB_OK;
    ok = ok && push_group(o, &g, family->ctor) == NB_OK &&
         add_module(o, 0, params, NULL, family->ctor) == NB_OK;
    if (!ok) {
        nb_optim_free(o);
        return NULL;
    }
    return o;
}

nb_status nb_optim_add_param(nb_optim *o, const char *name, nb_tensor *param)
{
    return add_param(o, 0, name, param, "nb_optim_add_param");
}

/* NULL optimizer or a group index out of range: reports it for fn. */
static bool group_ok(const nb_optim *o, int group, const char *fn)
{
    if (!o) {
        nb_set_error(NB_ERR_VALUE, "%s: optimizer is NULL", fn);
        return false;
    }
    if (group < 0 || group >= o->n_groups) {
        nb_set_error(NB_ERR_VALUE, "%s: %s has no group %d (it has %d: 0 to %d)", fn, o->name,
                     group, o->n_groups, o->n_groups - 1);
        return false;
    }
    return true;
}

nb_status nb_optim_add_group_param(nb_optim *o, int group, const char *name, nb_tensor *param)
{
    const char *fn = "nb_optim_add_group_param";
    if (!group_ok(o, group, fn))
        return nb_last_status();
    return add_param(o, group, name, param, fn);
}

nb_optim_group_opts nb_optim_group_defaults(void)
{
    return (nb_optim_group_opts){
        .lr = NAN,
        .weight_decay = NAN,
        .momentum = NAN,
        .dampening = NAN,
        .eps = NAN,
        .beta1 = NAN,
        .beta2 = NAN,
        .alpha = NAN,
        .rho = NAN,
        .lr_decay = NAN,
        .momentum_decay = NAN,
    };
}

/* The numbers of nb_optim_group_opts by name (lr is handled apart). */
static const nbi_optim_field GROUP_OPTS[] = {
    {"weight_decay", offsetof(nb_optim_group_opts, weight_decay)},
    {"momentum", offsetof(nb_optim_group_opts, momentum)},
    {"dampening", offsetof(nb_optim_group_opts, dampening)},
    {"eps", offsetof(nb_optim_group_opts, eps)},
    {"beta1", offsetof(nb_optim_group_opts, beta1)},
    {"beta2", offsetof(nb_optim_group_opts, beta2)},
    {"alpha", offsetof(nb_optim_group_opts, alpha)},
    {"rho", offsetof(nb_optim_group_opts, rho)},
    {"lr_decay", offsetof(nb_optim_group_opts, lr_decay)},
    {"momentum_decay", offsetof(nb_optim_group_opts, momentum_decay)},
};

static const nbi_optim_field *family_field(const nbi_optim_family *f, const char *name)
{
    for (const nbi_optim_field *x = f->fields; x->name; x++)
        if (!strcmp(x->name, name))
            return x;
    return NULL;
}

int nb_optim_add_group(nb_optim *o, nb_module *params, const char *prefix,
                       const nb_optim_group_opts *opts)
{
    const char *fn = "nb_optim_add_group";
    if (!o) {
        nb_set_error(NB_ERR_VALUE, "%s: optimizer is NULL", fn);
        return -1;
    }
    const nb_optim_group_opts go = opts ? *opts : nb_optim_group_defaults();
    nbi_optim_hp h = o->defaults;
    for (size_t i = 0; i < sizeof GROUP_OPTS / sizeof GROUP_OPTS[0]; i++) {
        const double v = *(const double *)((const char *)&go + GROUP_OPTS[i].offset);
        if (isnan(v))
            continue;
        const nbi_optim_field *f = family_field(o->family, GROUP_OPTS[i].name);
        if (!f) {
            char list[160] = "lr";
            for (const nbi_optim_field *x = o->family->fields; x->name; x++)
                snprintf(list + strlen(list), sizeof list - strlen(list), ", %s", x->name);
            nb_set_error(NB_ERR_VALUE,
                         "%s: %s has no per-group option %s (got %g; leave it NaN); its options "
                         "are %s",
                         fn, o->name, GROUP_OPTS[i].name, v, list);
            return -1;
        }
        *hp_field(&h, f->offset) = v;
    }
    nbi_optim_group g;
    if (!group_init(o, &g, &h, isnan(go.lr) ? *hp_field(&o->defaults, 0) : go.lr, go.frozen, fn) ||
        push_group(o, &g, fn) != NB_OK)
        return -1;
    if (add_module(o, o->n_groups - 1, params, prefix, fn) != NB_OK) {
        o->n_groups--;
        return -1;
    }
    drop_named(o);
    return o->n_groups - 1;
}

int nb_optim_num_groups(const nb_optim *o)
{
    return o ? o->n_groups : 0;
}

nb_status nb_optim_set_group_lr(nb_optim *o, int group, double lr)
{
    const char *fn = "nb_optim_set_group_lr";
    if (!group_ok(o, group, fn) || !nbi_optim_ok(fn, "lr", lr, NBI_NONNEG))
        return nb_last_status();
    o->groups[group].lr = lr;
    return NB_OK;
}

double nb_optim_get_group_option(const nb_optim *o, int group, const char *name)
{
    const char *fn = "nb_optim_get_group_option";
    if (!group_ok(o, group, fn))
        return NAN;
    const nbi_optim_group *g = &o->groups[group];
    const nbi_optim_field *f = name ? family_field(o->family, name) : NULL;
    if (f)
        return hp_get(&g->hp, f->offset);
    if (name && !strcmp(name, "lr"))
        return g->lr;
    if (name && !strcmp(name, "initial_lr"))
        return g->initial_lr;
    if (name && !strcmp(name, "frozen"))
        return g->frozen;
    nb_set_error(NB_ERR_VALUE, "%s: %s has no group option \"%s\"", fn, o->name,
                 name ? name : "(NULL)");
    return NAN;
}

int nb_optim_param_group(const nb_optim *o, const nb_tensor *param)
{
    for (int i = 0; o && i < o->n_params; i++)
        if (o->params[i].p == param)
            return o->params[i].group;
    return -1;
}

int nbi_optim_group_numbers(const nb_optim *o, int g, const char **names, double *values)
{
    const nbi_optim_group *gr = &o->groups[g];
    int n = 0;
    names[n] = "lr";
    values[n++] = gr->lr;
    names[n] = "initial_lr";
    values[n++] = gr->initial_lr;
    for (const nbi_optim_field *x = o->family->fields; x->name; x++) {
        names[n] = x->name;
        values[n++] = hp_get(&gr->hp, x->offset);
    }
    if (o->family->mu_product) {
        names[n] = "mu_product";
        values[n++] = gr->mu_product;
        names[n] = "mu_step";
        values[n++] = (double)gr->mu_t;
    }
    return n;
}

nb_status nbi_optim_group_restore(nb_optim *o, int g, const double *values, bool apply,
                                  const char *fn)
{
    nbi_optim_group *gr = &o->groups[g];
    nbi_optim_group next = *gr;
    next.lr = values[0];
    next.initial_lr = values[1];
    int n = 2;
    for (const nbi_optim_field *x = o->family->fields; x->name; x++)
        *hp_field(&next.hp, x->offset) = values[n++];
    *hp_field(&next.hp, 0) = next.lr;
    if (!nbi_optim_ok(fn, "initial_lr", next.initial_lr, NBI_NONNEG) ||
        !o->family->check(fn, &next.hp))
        return nb_last_status();
    if (o->family->mu_product) {
        if (!nbi_optim_ok(fn, "mu_product", values[n], NBI_UNIT))
            return nb_last_status();
        if (!(values[n + 1] >= 0 && values[n + 1] < 9e15) || floor(values[n + 1]) != values[n + 1])
            return nbi_optim_bad(fn, "mu_step", "a whole number >= 0", values[n + 1]);
        next.mu_product = values[n];
        next.mu_t = (int64_t)values[n + 1];
    }
    nbi_optim_group layout = {0};
    if (!gr->frozen)
        o->family->layout(&layout, &next.hp);
    bool same = layout.n_state == gr->n_state;
    for (int k = 0; same && k < gr->n_state; k++)
        same = !strcmp(layout.state_names[k], gr->state_names[k]);
    if (!same)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: group %d's options would change the state its parameters carry "
                            "(%d tensors instead of %d, e.g. SGD momentum 0 against > 0)",
                            fn, g, layout.n_state, gr->n_state);
    if (apply)
        *gr = next;
    return NB_OK;
}

void nb_optim_free(nb_optim *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n_params; i++)
        free_param(&o->params[i]);
    nb_free(o->params);
    nb_free(o->groups);
    nb_tensor_free(o->step);
    drop_named(o);
    nb_free(o);
}

/* Gradient of parameter i if the update changes it, else NULL (frozen: the tensor does not
 * require grad or its group is frozen; or no gradient yet). */
static nb_tensor *active_grad(const nb_optim *o, int i)
{
    const nbi_optim_param *p = &o->params[i];
    if (o->groups[p->group].frozen || !nb_tensor_requires_grad(p->p))
        return NULL;
    return nb_tensor_grad(p->p);
}

static bool all_finite(nb_tensor *g)
{
    const int64_t n = nb_tensor_numel(g);
    const float *f = nb_tensor_data_f32(g);
    const double *d = nb_tensor_data_f64(g);
    /* NaN/Inf propagate through the sum (x * 0 is NaN for them); in any order, so it vectorises */
    if (f) {
        float acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; i++)
            acc += f[i] * 0.0f;
        return acc == 0.0f;
    }
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; i++)
        acc += d[i] * 0.0;
    return acc == 0.0;
}

nb_status nb_optim_update(nb_optim *o)
{
    if (!o)
        return nb_set_error(NB_ERR_VALUE, "nb_optim_update: optimizer is NULL");
    for (int i = 0; i < o->n_params; i++) {
        nb_tensor *g = active_grad(o, i);
        if (g && !all_finite(g))
            return nb_set_error(NB_ERR_VALUE,
                                "nb_optim_update: %s: the gradient of \"%s\" holds NaN or Inf; no "
                                "parameter was updated (lower the learning rate or clip "
                                "gradients)",
                                o->name, o->params[i].name);
    }
    int64_t *t = nb_tensor_data_i64(o->step);
    const int64_t step = ++*t;
    for (int i = 0; i < o->n_params; i++)
        if (active_grad(o, i)) {
            nbi_optim_group *g = &o->groups[o->params[i].group];
            nbi_optim_param *e = &o->params[i];
            const int nt = nb_tensor_numel(e->p) >= NBI_OPTIM_PAR_MIN ? nb_get_num_threads() : 1;
            if (nt > 1) {
#pragma omp parallel num_threads(nt)
                o->family->update(o, g, e, step - g->joined_at);
            } else {
                o->family->update(o, g, e, step - g->joined_at);
            }
        }
    return NB_OK;
}

void nb_optim_zero_grad(nb_optim *o)
{
    for (int i = 0; o && i < o->n_params; i++)
        nb_tensor_zero_grad(o->params[i].p);
}

nb_status nb_optim_set_lr(nb_optim *o, double lr)
{
    if (!o)
        return nb_set_error(NB_ERR_VALUE, "nb_optim_set_lr: optimizer is NULL");
    if (!nbi_optim_ok("nb_optim_set_lr", "lr", lr, NBI_NONNEG))
        return nb_last_status();
    for (int g = 0; g < o->n_groups; g++)
        o->groups[g].lr = lr;
    return NB_OK;
}

double nb_optim_get_lr(const nb_optim *o)
{
    return o ? o->groups[0].lr : NAN;
}

const char *nb_optim_name(const nb_optim *o)
{
    return o ? o->name : "";
}

int64_t nb_optim_update_count(const nb_optim *o)
{
    return o ? (int64_t)nb_tensor_item(o->step) : 0;
}

int nb_optim_num_params(const nb_optim *o)
{
    return o ? o->n_params : 0;
}

int nb_optim_named_state(nb_optim *o, nb_named_tensor *out, int cap)
{
    if (!o) {
        nb_set_error(NB_ERR_VALUE, "nb_optim_named_state: optimizer is NULL");
        return -1;
    }
    int total = 1;
    for (int i = 0; i < o->n_params; i++)
        total += o->groups[o->params[i].group].n_state;
    if (!o->named) {
        size_t chars = sizeof "step";
        for (int i = 0; i < o->n_params; i++) {
            const nbi_optim_group *g = &o->groups[o->params[i].group];
            for (int k = 0; k < g->n_state; k++)
                chars += strlen(o->params[i].name) + 1 + strlen(g->state_names[k]) + 1;
        }
        o->named = nb_malloc((size_t)total * sizeof *o->named);
        o->named_text = nb_malloc(chars);
        if (!o->named || !o->named_text) {
            drop_named(o);
            nb_set_error(NB_ERR_NOMEM, "nb_optim_named_state: out of memory");
            return -1;
        }
        char *s = o->named_text;
        memcpy(s, "step", sizeof "step");
        o->named[0] = (nb_named_tensor){.name = s, .tensor = o->step};
        s += sizeof "step";
        int j = 1;
        for (int i = 0; i < o->n_params; i++) {
            const nbi_optim_group *g = &o->groups[o->params[i].group];
            for (int k = 0; k < g->n_state; k++) {
                int w = sprintf(s, "%s.%s", o->params[i].name, g->state_names[k]);
                o->named[j++] = (nb_named_tensor){.name = s, .tensor = o->params[i].state[k]};
                s += w + 1;
            }
        }
    }
    for (int i = 0; out && i < total && i < cap; i++)
        out[i] = o->named[i];
    return total;
}

/* ---- gradient clipping ---- */

/* Sum of squares of g (any float dtype) in double. */
static double sum_sq(nb_tensor *g)
{
    const int64_t n = nb_tensor_numel(g);
    const float *f = nb_tensor_data_f32(g);
    const double *d = nb_tensor_data_f64(g);
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = f ? (double)f[i] : d[i];
        s += v * v;
    }
    return s;
}

static void scale(nb_tensor *g, double c)
{
    const int64_t n = nb_tensor_numel(g);
    float *f = nb_tensor_data_f32(g);
    double *d = nb_tensor_data_f64(g);
    for (int64_t i = 0; i < n; i++) {
        if (f)
            f[i] = (float)((double)f[i] * c);
        else
            d[i] *= c;
    }
}

static void clamp(nb_tensor *g, double c)
{
    const int64_t n = nb_tensor_numel(g);
    float *f = nb_tensor_data_f32(g);
    double *d = nb_tensor_data_f64(g);
    const float cf = (float)c;
    for (int64_t i = 0; i < n; i++) {
        if (f)
            f[i] = f[i] > cf ? cf : f[i] < -cf ? -cf : f[i];
        else
            d[i] = d[i] > c ? c : d[i] < -c ? -c : d[i];
    }
}

/* The gradients to clip: the module's whole gradient buffer, or the optimizer's gradients. */
typedef struct {
    nb_tensor *single;
    const nb_optim *o;
} grad_set;

static double clip_norm(const char *fn, grad_set s, double max_norm)
{
    if (!(max_norm > 0)) {
        nbi_optim_bad(fn, "max_norm", "> 0", max_norm);
        return NAN;
    }
    double total = 0;
    if (s.single)
        total = sum_sq(s.single);
    for (int i = 0; s.o && i < s.o->n_params; i++) {
        nb_tensor *g = active_grad(s.o, i);
        if (g)
            total += sum_sq(g);
    }
    const double norm = sqrt(total);
    if (!isfinite(norm)) {
        nb_set_error(NB_ERR_VALUE, "%s: the gradient norm is %g; gradients left unchanged", fn,
                     norm);
        return norm;
    }
    const double c = max_norm / (norm + 1e-6);
    if (c < 1.0) {
        if (s.single)
            scale(s.single, c);
        for (int i = 0; s.o && i < s.o->n_params; i++) {
            nb_tensor *g = active_grad(s.o, i);
            if (g)
                scale(g, c);
        }
    }
    return norm;
}

double nb_clip_grad_norm(nb_module *m, double max_norm)
{
    if (!m) {
        nb_set_error(NB_ERR_VALUE, "nb_clip_grad_norm: module is NULL");
        return NAN;
    }
    return clip_norm("nb_clip_grad_norm", (grad_set){.single = nb_module_grad_buffer(m)}, max_norm);
}

double nb_optim_clip_grad_norm(nb_optim *o, double max_norm)
{
    if (!o) {
        nb_set_error(NB_ERR_VALUE, "nb_optim_clip_grad_norm: optimizer is NULL");
        return NAN;
    }
    return clip_norm("nb_optim_clip_grad_norm", (grad_set){.o = o}, max_norm);
}

nb_status nb_clip_grad_value(nb_module *m, double clip)
{
    if (!m)
        return nb_set_error(NB_ERR_VALUE, "nb_clip_grad_value: module is NULL");
    if (!(clip > 0))
        return nbi_optim_bad("nb_clip_grad_value", "clip", "> 0", clip);
    if (nb_module_grad_buffer(m))
        clamp(nb_module_grad_buffer(m), clip);
    return NB_OK;
}

nb_status nb_optim_clip_grad_value(nb_optim *o, double clip)
{
    if (!o)
        return nb_set_error(NB_ERR_VALUE, "nb_optim_clip_grad_value: optimizer is NULL");
    if (!(clip > 0))
        return nbi_optim_bad("nb_optim_clip_grad_value", "clip", "> 0", clip);
    for (int i = 0; i < o->n_params; i++) {
        nb_tensor *g = active_grad(o, i);
        if (g)
            clamp(g, clip);
    }
    return NB_OK;
}
