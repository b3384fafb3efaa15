/* optim/schedule.c — learning-rate schedules: the closed forms (constant, staircase,
 * exponential, cosine, one-cycle) with linear warm-up, applied to every parameter group, and
 * ReduceLROnPlateau. PyTorch's lr_scheduler rules. */
#include "optim_impl.h"

#include <math.h>
#include <string.h>

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

nb_lr_schedule nb_lr_one_cycle(double max_lr, int64_t total_steps)
{
    return (nb_lr_schedule){.kind = NB_LR_ONE_CYCLE,
                            .base_lr = max_lr,
                            .total_steps = total_steps,
                            .pct_start = 0.3,
                            .div_factor = 25,
                            .final_div_factor = 1e4,
                            .cycle_momentum = true,
                            .base_momentum = 0.85,
                            .max_momentum = 0.95};
}

nb_lr_schedule nb_lr_with_warmup(nb_lr_schedule s, int64_t steps, double start_factor)
{
    s.warmup_steps = steps;
    s.warmup_start = start_factor;
    return s;
}

/* One-cycle: the phase holding step t (clamped to total_steps - 1) and the fraction of it done,
 * as PyTorch's OneCycleLR.get_lr walks its phases (end steps are floats there too). Phase k
 * runs from value index from[k] to to[k] of {initial, max, min}. Returns the phase, or -1 when
 * the phase holding t has no length (PyTorch divides by zero). */
static int cycle_phase(const nb_lr_schedule *s, int64_t t, double *pct)
{
    const double total = (double)s->total_steps, p = s->pct_start;
    const double two[2] = {p * total - 1, total - 1};
    const double three[3] = {p * total - 1, 2 * p * total - 2, total - 1};
    const double *end = s->three_phase ? three : two;
    const int n = s->three_phase ? 3 : 2;
    const double step = (double)(t < s->total_steps ? t : s->total_steps - 1);
    double start = 0;
    for (int k = 0; k < n; k++) {
        if (step <= end[k] || k == n - 1) {
            if (end[k] == start)
                return -1;
            *pct = (step - start) / (end[k] - start);
            return k;
        }
        start = end[k];
    }
    return -1;
}

static double anneal(const nb_lr_schedule *s, double start, double end, double pct)
{
    const double pi = 3.14159265358979323846;
    if (s->anneal_linear)
        return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (cos(pi * pct) + 1);
}

/* Rate (momentum false) or momentum of a one-cycle schedule at step t; NaN on a phase of no
 * length. */
static double cycle_at(const nb_lr_schedule *s, int64_t t, bool momentum)
{
    double pct;
    const int k = cycle_phase(s, t, &pct);
    if (k < 0)
        return NAN;
    const double initial = s->base_lr / s->div_factor, top = s->base_lr;
    const double bottom = initial / s->final_div_factor;
    const double lo = s->base_momentum, hi = s->max_momentum;
    /* {start, end} per phase: two phases, or three */
    static const int lr2[2][2] = {{0, 1}, {1, 2}}, lr3[3][2] = {{0, 1}, {1, 0}, {0, 2}};
    static const int mo2[2][2] = {{1, 0}, {0, 1}}, mo3[3][2] = {{1, 0}, {0, 1}, {1, 1}};
    const double lrs[3] = {initial, top, bottom}, moms[2] = {lo, hi};
    const int *ends =
        momentum ? (s->three_phase ? mo3[k] : mo2[k]) : (s->three_phase ? lr3[k] : lr2[k]);
    const double *v = momentum ? moms : lrs;
    return anneal(s, v[ends[0]], v[ends[1]], pct);
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
    case NB_LR_ONE_CYCLE:
        return cycle_at(s, t, false);
    }
    return NAN;
}

/* The schedule's numbers lie in their ranges (the ones its kind uses); else reports. */
static bool schedule_ok(const nb_lr_schedule *s)
{
    const char *fn = "nb_lr_at";
    if (s->kind < NB_LR_CONSTANT || s->kind > NB_LR_ONE_CYCLE) {
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
    if (s->kind == NB_LR_ONE_CYCLE) {
        if (s->total_steps < 1) {
            nb_set_error(NB_ERR_VALUE, "%s: total_steps must be >= 1, got %lld", fn,
                         (long long)s->total_steps);
            return false;
        }
        if (!nbi_optim_ok(fn, "pct_start", s->pct_start, NBI_UNIT) ||
            !nbi_optim_ok(fn, "div_factor", s->div_factor, NBI_POSITIVE) ||
            !nbi_optim_ok(fn, "final_div_factor", s->final_div_factor, NBI_POSITIVE))
            return false;
        if (s->cycle_momentum &&
            (!nbi_optim_ok(fn, "base_momentum", s->base_momentum, NBI_UNIT_OPEN) ||
             !nbi_optim_ok(fn, "max_momentum", s->max_momentum, NBI_UNIT_OPEN)))
            return false;
    }
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
    if (isnan(lr) && s->kind == NB_LR_ONE_CYCLE)
        nb_set_error(NB_ERR_VALUE,
                     "nb_lr_at: invalid one-cycle schedule: the phase holding step %lld has no "
                     "length (total_steps %lld, pct_start %g%s)",
                     (long long)t, (long long)s->total_steps, s->pct_start,
                     s->three_phase ? ", three phases" : "");
    else if (isnan(lr))
        nb_set_error(NB_ERR_VALUE,
                     "nb_lr_at: invalid schedule (kind %d, step_size %lld, t_max %lld)",
                     (int)s->kind, (long long)s->step_size, (long long)s->t_max);
    return lr;
}

double nb_lr_momentum_at(const nb_lr_schedule *s, int64_t t)
{
    const char *fn = "nb_lr_momentum_at";
    if (!s || s->kind != NB_LR_ONE_CYCLE || !s->cycle_momentum) {
        nb_set_error(NB_ERR_VALUE, "%s: %s", fn,
                     !s ? "schedule is NULL"
                        : "only a one-cycle schedule with cycle_momentum cycles the momentum");
        return NAN;
    }
    if (isnan(nb_lr_at(s, t))) /* validates, and reports a phase of no length */
        return NAN;
    return cycle_at(s, t < 0 ? 0 : t, true);
}

/* The per-group option a cycled momentum sets: "momentum" or "beta1" (NULL: none). */
static const nbi_optim_field *momentum_field(const nb_optim *o)
{
    const nbi_optim_field *beta1 = NULL;
    for (const nbi_optim_field *x = o->family->fields; x->name; x++) {
        if (!strcmp(x->name, "momentum"))
            return x;
        if (!strcmp(x->name, "beta1"))
            beta1 = x;
    }
    return beta1;
}

nb_status nb_optim_apply_schedule(nb_optim *o, const nb_lr_schedule *s, int64_t t)
{
    const char *fn = "nb_optim_apply_schedule";
    if (!o || !s)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !o ? "optimizer" : "schedule");
    const bool cycle = s->kind == NB_LR_ONE_CYCLE && s->cycle_momentum;
    const nbi_optim_field *mf = cycle ? momentum_field(o) : NULL;
    if (cycle && !mf)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: %s has no momentum or beta1 for the one-cycle schedule to cycle; "
                            "set cycle_momentum to false",
                            fn, o->name);
    const double mom = cycle ? nb_lr_momentum_at(s, t) : 0;
    if (isnan(mom))
        return nb_last_status();
    /* every group's new options first: nothing changes when one is refused */
    nbi_optim_group *next = nb_malloc((size_t)o->n_groups * sizeof *next);
    if (!next)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    nb_status st = NB_OK;
    for (int g = 0; g < o->n_groups && st == NB_OK; g++) {
        next[g] = o->groups[g];
        nb_lr_schedule own = *s;
        own.base_lr = o->groups[g].initial_lr;
        next[g].lr = nb_lr_at(&own, t);
        if (isnan(next[g].lr)) {
            st = nb_last_status();
            break;
        }
        if (!cycle)
            continue;
        double *m = (double *)((char *)&next[g].hp + mf->offset);
        if (!strcmp(mf->name, "momentum") && !(*m > 0) && !next[g].frozen) {
            st = nb_set_error(NB_ERR_VALUE,
                              "%s: %s group %d has momentum %g, so no momentum buffers to cycle "
                              "(build it with momentum > 0, or set cycle_momentum to false)",
                              fn, o->name, g, *m);
            break;
        }
        *m = mom;
        if (!o->family->check(fn, &next[g].hp))
            st = nb_last_status();
    }
    if (st == NB_OK)
        memcpy(o->groups, next, (size_t)o->n_groups * sizeof *next);
    nb_free(next);
    return st;
}

/* ---- ReduceLROnPlateau ---- */

nb_lr_plateau nb_lr_plateau_defaults(void)
{
    return (nb_lr_plateau){.factor = 0.1, .patience = 10, .threshold = 1e-4, .eps = 1e-8};
}

static bool plateau_ok(const nb_lr_plateau *p, const char *fn)
{
    if (!nbi_optim_ok(fn, "factor", p->factor, NBI_UNIT_OPEN) ||
        !nbi_optim_ok(fn, "threshold", p->threshold, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "min_lr", p->min_lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "eps", p->eps, NBI_NONNEG))
        return false;
    if (p->patience < 0 || p->cooldown < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: %s must be >= 0, got %lld", fn,
                     p->patience < 0 ? "patience" : "cooldown",
                     (long long)(p->patience < 0 ? p->patience : p->cooldown));
        return false;
    }
    return true;
}

/* PyTorch's is_better (NaN compares false, so never improves). */
static bool improves(const nb_lr_plateau *p, double a)
{
    if (!p->maximize)
        return p->threshold_abs ? a < p->best - p->threshold : a < p->best * (1 - p->threshold);
    return p->threshold_abs ? a > p->best + p->threshold : a > p->best * (1 + p->threshold);
}

nb_status nb_lr_plateau_observe(nb_lr_plateau *p, nb_optim *o, double metric)
{
    const char *fn = "nb_lr_plateau_observe";
    if (!p || !o)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !p ? "plateau" : "optimizer");
    if (!plateau_ok(p, fn))
        return nb_last_status();
    if (p->observations++ == 0)
        p->best = p->maximize ? -INFINITY : INFINITY;
    if (improves(p, metric)) {
        p->best = metric;
        p->num_bad = 0;
    } else {
        p->num_bad++;
    }
    if (p->cooldown_left > 0) {
        p->cooldown_left--;
        p->num_bad = 0;
    }
    if (p->num_bad > p->patience) {
        for (int g = 0; g < o->n_groups; g++) {
            const double old = o->groups[g].lr, lr = fmax(old * p->factor, p->min_lr);
            if (old - lr > p->eps)
                o->groups[g].lr = lr;
        }
        p->cooldown_left = p->cooldown;
        p->num_bad = 0;
    }
    return NB_OK;
}
