/* optim/optim.c — the optimizer interface (parameters, state, step, checkpointable state),
 * gradient clipping and learning-rate schedules. The update rules live in sgd.c and
 * adaptive.c. */
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

nb_optim *nbi_optim_new(const char *name, nbi_optim_update_fn update, double lr)
{
    nb_optim *o = nb_calloc(1, sizeof *o);
    nb_tensor *step = o ? nb_tensor_zeros(NB_I64, 0, NULL) : NULL;
    if (!step) {
        nb_free(o);
        nb_set_error(NB_ERR_NOMEM, "nb_%s_new: out of memory", name);
        return NULL;
    }
    o->name = name;
    o->update = update;
    o->lr = lr;
    o->step = step;
    return o;
}

void nbi_optim_state(nb_optim *o, const char *name, double init)
{
    if (o->n_state < NBI_OPTIM_MAX_STATE) {
        o->state_names[o->n_state] = name;
        o->state_init[o->n_state++] = init;
    }
}

nb_optim *nbi_optim_add_module(nb_optim *o, nb_module *m)
{
    if (!m)
        return o;
    int n = nb_module_named_params(m, NULL, 0);
    nb_named_tensor *list = n > 0 ? nb_malloc((size_t)n * sizeof *list) : NULL;
    nb_status st = n < 0 ? nb_last_status() : NB_OK;
    if (n > 0 && !list)
        st = nb_set_error(NB_ERR_NOMEM, "nb_%s_new: out of memory", o->name);
    if (st == NB_OK && n > 0)
        nb_module_named_params(m, list, n);
    for (int i = 0; i < n && st == NB_OK; i++)
        st = nb_optim_add_param(o, list[i].name, list[i].tensor);
    nb_free(list);
    if (st != NB_OK) {
        nb_optim_free(o);
        return NULL;
    }
    return o;
}

static void drop_named(nb_optim *o)
{
    nb_free(o->named);
    nb_free(o->named_text);
    o->named = NULL;
    o->named_text = NULL;
}

nb_status nb_optim_add_param(nb_optim *o, const char *name, nb_tensor *param)
{
    const char *fn = "nb_optim_add_param";
    if (!o || !name || !name[0] || !param)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL or empty", fn,
                            !o       ? "optimizer"
                            : !param ? "param"
                                     : "name");
    for (int i = 0; i < o->n_params; i++)
        if (!strcmp(o->params[i].name, name) || o->params[i].p == param)
            return nb_set_error(NB_ERR_VALUE, "%s: %s: parameter \"%s\" is already added", fn,
                                o->name, name);
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
    nbi_optim_param e = {.p = param};
    size_t len = strlen(name) + 1;
    bool ok = (e.name = nb_malloc(len)) != NULL;
    for (int k = 0; k < o->n_state && ok; k++)
        ok = (e.state[k] = nb_tensor_full(dt, nb_tensor_ndim(param), nb_tensor_shape(param),
                                          o->state_init[k])) != NULL;
    if (!ok) {
        nb_free(e.name);
        for (int k = 0; k < o->n_state; k++)
            nb_tensor_free(e.state[k]);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    }
    memcpy(e.name, name, len);
    o->params[o->n_params++] = e;
    drop_named(o);
    return NB_OK;
}

void nb_optim_free(nb_optim *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n_params; i++) {
        nb_free(o->params[i].name);
        for (int k = 0; k < o->n_state; k++)
            nb_tensor_free(o->params[i].state[k]);
    }
    nb_free(o->params);
    nb_tensor_free(o->step);
    drop_named(o);
    nb_free(o);
}

/* Gradient of a parameter the step updates, or NULL (frozen or no gradient yet). */
static nb_tensor *active_grad(const nbi_optim_param *p)
{
    return nb_tensor_requires_grad(p->p) ? nb_tensor_grad(p->p) : NULL;
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
        nb_tensor *g = active_grad(&o->params[i]);
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
        if (active_grad(&o->params[i]))
            o->update(o, &o->params[i], step, o->lr);
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
    o->lr = lr;
    return NB_OK;
}

double nb_optim_get_lr(const nb_optim *o)
{
    return o ? o->lr : NAN;
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
    const int total = 1 + o->n_params * o->n_state;
    if (!o->named) {
        size_t chars = sizeof "step";
        for (int i = 0; i < o->n_params; i++)
            for (int k = 0; k < o->n_state; k++)
                chars += strlen(o->params[i].name) + 1 + strlen(o->state_names[k]) + 1;
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
        for (int i = 0; i < o->n_params; i++)
            for (int k = 0; k < o->n_state; k++) {
                int w = sprintf(s, "%s.%s", o->params[i].name, o->state_names[k]);
                o->named[j++] = (nb_named_tensor){.name = s, .tensor = o->params[i].state[k]};
                s += w + 1;
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
        nb_tensor *g = active_grad(&s.o->params[i]);
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
            nb_tensor *g = active_grad(&s.o->params[i]);
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
        nb_tensor *g = active_grad(&o->params[i]);
        if (g)
            clamp(g, clip);
    }
    return NB_OK;
}

/* ---- learning-rate schedules ---- */

nb_lr_schedule nb_lr_constant(double lr)
{
    return (nb_lr_schedule){.kind = NB_LR_CONSTANT, .base_lr = lr};
}

nb_lr_schedule nb_lr_staircase(double base_lr, int64_t step_size, double gamma)
{
    return (nb_lr_schedule){
        .kind = NB_LR_STAIRCASE, .base_lr = base_lr, .step_size = step_size, .gamma = gamma};
}

nb_lr_schedule nb_lr_exponential(double base_lr, double gamma)
{
    return (nb_lr_schedule){.kind = NB_LR_EXPONENTIAL, .base_lr = base_lr, .gamma = gamma};
}

nb_lr_schedule nb_lr_cosine(double base_lr, int64_t t_max, double eta_min)
{
    return (nb_lr_schedule){
        .kind = NB_LR_COSINE, .base_lr = base_lr, .t_max = t_max, .eta_min = eta_min};
}

nb_lr_schedule nb_lr_with_warmup(nb_lr_schedule s, int64_t steps, double start_factor)
{
    s.warmup_steps = steps;
    s.warmup_start = start_factor;
    return s;
}

/* The schedule without warm-up at step t >= 0; NaN when invalid. */
static double base_at(const nb_lr_schedule *s, int64_t t)
{
    switch (s->kind) {
    case NB_LR_CONSTANT:
        return s->base_lr;
    case NB_LR_STAIRCASE:
        return s->step_size < 1 ? NAN : s->base_lr * pow(s->gamma, (double)(t / s->step_size));
    case NB_LR_EXPONENTIAL:
        return s->base_lr * pow(s->gamma, (double)t);
    case NB_LR_COSINE: {
        if (s->t_max < 1)
            return NAN;
        const double pi = 3.14159265358979323846;
        const double tc = (double)(t < s->t_max ? t : s->t_max);
        return s->eta_min + (s->base_lr - s->eta_min) * (1 + cos(pi * tc / (double)s->t_max)) / 2;
    }
    }
    return NAN;
}

/* The schedule's numbers lie in their ranges (the ones its kind uses); else reports. */
static bool schedule_ok(const nb_lr_schedule *s)
{
    const char *fn = "nb_lr_at";
    if (s->kind < NB_LR_CONSTANT || s->kind > NB_LR_COSINE) {
        nb_set_error(NB_ERR_VALUE, "%s: invalid schedule (kind %d)", fn, (int)s->kind);
        return false;
    }
    if (!nbi_optim_ok(fn, "base_lr", s->base_lr, NBI_NONNEG))
        return false;
    if ((s->kind == NB_LR_STAIRCASE || s->kind == NB_LR_EXPONENTIAL) &&
        !nbi_optim_ok(fn, "gamma", s->gamma, NBI_NONNEG))
        return false;
    if (s->kind == NB_LR_COSINE && !nbi_optim_ok(fn, "eta_min", s->eta_min, NBI_NONNEG))
        return false;
    if (s->warmup_steps < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: warmup_steps must be >= 0, got %lld", fn,
                     (long long)s->warmup_steps);
        return false;
    }
    return s->warmup_steps == 0 || nbi_optim_ok(fn, "warmup_start", s->warmup_start, NBI_UNIT);
}

double nb_lr_at(const nb_lr_schedule *s, int64_t t)
{
    if (!s) {
        nb_set_error(NB_ERR_VALUE, "nb_lr_at: schedule is NULL");
        return NAN;
    }
    if (!schedule_ok(s))
        return NAN;
    if (t < 0)
        t = 0;
    double lr;
    if (s->warmup_steps > 0 && t < s->warmup_steps) {
        const double f =
            s->warmup_start + (1 - s->warmup_start) * (double)t / (double)s->warmup_steps;
        lr = base_at(s, 0) * f;
    } else {
        lr = base_at(s, s->warmup_steps > 0 ? t - s->warmup_steps : t);
    }
    if (isnan(lr))
        nb_set_error(NB_ERR_VALUE,
                     "nb_lr_at: invalid schedule (kind %d, step_size %lld, t_max %lld)",
                     (int)s->kind, (long long)s->step_size, (long long)s->t_max);
    return lr;
}
