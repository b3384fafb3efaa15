/* optim/adaptive.c — methods with per-element step sizes: Adagrad, AdaDelta, RMSprop, Adam and
 * AdamW (with AMSGrad). PyTorch's torch.optim update rules; one typed loop per method. */
#include "optim_impl.h"

#include <tgmath.h> /* sqrt in the typed kernels: sqrtf for float, sqrt for double */

/* ---- Adagrad ----  clr = lr / (1 + (t-1) lr_decay); d = g + wd p; s += d^2;
 *                    p -= clr d / (sqrt(s) + eps) */
#define ADAGRAD_KERNEL(T, SUF)                                                                     \
    static void adagrad_##SUF(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e,          \
                              int64_t t)                                                           \
    {                                                                                              \
        NBI_OPTIM_PTRS(T, SUF, e, gr);                                                             \
        (void)o;                                                                                   \
        const nb_adagrad_opts *h = &gr->hp.adagrad;                                                \
        const T clr = (T)(lr / (1.0 + (double)(t - 1) * h->lr_decay));                             \
        const T wd = (T)h->weight_decay, eps = (T)h->eps;                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T d = g[i] + wd * p[i];                                                          \
            s0[i] += d * d;                                                                        \
            p[i] -= clr * d / (sqrt(s0[i]) + eps);                                                 \
        }                                                                                          \
    }
ADAGRAD_KERNEL(float, f32)
ADAGRAD_KERNEL(double, f64)
NBI_OPTIM_DISPATCH(adagrad)

nb_adagrad_opts nb_adagrad_defaults(void)
{
    return (nb_adagrad_opts){.lr = 1e-2, .eps = 1e-10};
}

static bool adagrad_check(const char *fn, const nbi_optim_hp *hp)
{
    const nb_adagrad_opts *h = &hp->adagrad;
    return nbi_optim_ok(fn, "lr", h->lr, NBI_NONNEG) &&
           nbi_optim_ok(fn, "lr_decay", h->lr_decay, NBI_NONNEG) &&
           nbi_optim_ok(fn, "weight_decay", h->weight_decay, NBI_NONNEG) &&
           nbi_optim_ok(fn, "initial_accumulator_value", h->initial_accumulator_value,
                        NBI_NONNEG) &&
           nbi_optim_ok(fn, "eps", h->eps, NBI_POSITIVE);
}

static void adagrad_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    nbi_optim_state(g, "sum", h->adagrad.initial_accumulator_value);
}

static const nbi_optim_field ADAGRAD_FIELDS[] = {
    {"weight_decay", offsetof(nb_adagrad_opts, weight_decay)},
    {"eps", offsetof(nb_adagrad_opts, eps)},
    {"lr_decay", offsetof(nb_adagrad_opts, lr_decay)},
    {NULL, 0},
};

static const nbi_optim_family ADAGRAD = {
    "Adagrad",      "nb_adagrad_new", adagrad_update, adagrad_check,
    adagrad_layout, ADAGRAD_FIELDS,   false,          false,
};

nb_optim *nb_adagrad_new(nb_module *params, const nb_adagrad_opts *opts)
{
    const nbi_optim_hp h = {.adagrad = opts ? *opts : nb_adagrad_defaults()};
    return nbi_optim_create(&ADAGRAD, &h, h.adagrad.lr, params);
}

/* ---- AdaDelta ----  d = g + wd p; v = rho v + (1-rho) d^2;
 *                     u' = sqrt(u + eps) / sqrt(v + eps) d; u = rho u + (1-rho) u'^2; p -= lr u' */
#define ADADELTA_KERNEL(T, SUF)                                                                    \
    static void adadelta_##SUF(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e,         \
                               int64_t t)                                                          \
    {                                                                                              \
        NBI_OPTIM_PTRS(T, SUF, e, gr);                                                             \
        (void)o;                                                                                   \
        (void)t;                                                                                   \
        const nb_adadelta_opts *h = &gr->hp.adadelta;                                              \
        const T rho = (T)h->rho, eps = (T)h->eps, wd = (T)h->weight_decay, eta = (T)lr;            \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T d = g[i] + wd * p[i];                                                          \
            s0[i] = rho * s0[i] + (1 - rho) * d * d;                                               \
            const T delta = sqrt(s1[i] + eps) / sqrt(s0[i] + eps) * d;                             \
            s1[i] = rho * s1[i] + (1 - rho) * delta * delta;                                       \
            p[i] -= eta * delta;                                                                   \
        }                                                                                          \
    }
ADADELTA_KERNEL(float, f32)
ADADELTA_KERNEL(double, f64)
NBI_OPTIM_DISPATCH(adadelta)

nb_adadelta_opts nb_adadelta_defaults(void)
{
    return (nb_adadelta_opts){.lr = 1.0, .rho = 0.9, .eps = 1e-6};
}

static bool adadelta_check(const char *fn, const nbi_optim_hp *hp)
{
    const nb_adadelta_opts *h = &hp->adadelta;
    return nbi_optim_ok(fn, "lr", h->lr, NBI_NONNEG) &&
           nbi_optim_ok(fn, "eps", h->eps, NBI_POSITIVE) &&
           nbi_optim_ok(fn, "weight_decay", h->weight_decay, NBI_NONNEG) &&
           nbi_optim_ok(fn, "rho", h->rho, NBI_UNIT);
}

static void adadelta_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    (void)h;
    nbi_optim_state(g, "square_avg", 0.0);
    nbi_optim_state(g, "acc_delta", 0.0);
}

static const nbi_optim_field ADADELTA_FIELDS[] = {
    {"weight_decay", offsetof(nb_adadelta_opts, weight_decay)},
    {"eps", offsetof(nb_adadelta_opts, eps)},
    {"rho", offsetof(nb_adadelta_opts, rho)},
    {NULL, 0},
};

static const nbi_optim_family ADADELTA = {
    "AdaDelta",      "nb_adadelta_new", adadelta_update, adadelta_check,
    adadelta_layout, ADADELTA_FIELDS,   false,           false,
};

nb_optim *nb_adadelta_new(nb_module *params, const nb_adadelta_opts *opts)
{
    const nbi_optim_hp h = {.adadelta = opts ? *opts : nb_adadelta_defaults()};
    return nbi_optim_create(&ADADELTA, &h, h.adadelta.lr, params);
}

/* ---- RMSprop ----  d = g + wd p; v = a v + (1-a) d^2; centered: m = a m + (1-a) d,
 *                    den = sqrt(v - m^2) + eps, else sqrt(v) + eps;
 *                    momentum: b = mu b + d / den, p -= lr b; else p -= lr d / den
 * State order: square_avg, then grad_avg (centered), then momentum_buffer (momentum > 0). */
#define RMSPROP_KERNEL(T, SUF)                                                                     \
    static void rmsprop_##SUF(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e,          \
                              int64_t t)                                                           \
    {                                                                                              \
        NBI_OPTIM_PTRS(T, SUF, e, gr);                                                             \
        (void)o;                                                                                   \
        (void)t;                                                                                   \
        const nb_rmsprop_opts *h = &gr->hp.rmsprop;                                                \
        const T a = (T)h->alpha, eps = (T)h->eps, wd = (T)h->weight_decay, mu = (T)h->momentum;    \
        const T eta = (T)lr;                                                                       \
        T *avg = h->centered ? s1 : NULL;                                                          \
        T *buf = h->momentum > 0 ? (h->centered ? s2 : s1) : NULL;                                 \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T d = g[i] + wd * p[i];                                                          \
            s0[i] = a * s0[i] + (1 - a) * d * d;                                                   \
            T den;                                                                                 \
            if (avg) {                                                                             \
                avg[i] = a * avg[i] + (1 - a) * d;                                                 \
                den = sqrt(s0[i] - avg[i] * avg[i]) + eps;                                         \
            } else {                                                                               \
                den = sqrt(s0[i]) + eps;                                                           \
            }                                                                                      \
            if (buf) {                                                                             \
                buf[i] = mu * buf[i] + d / den;                                                    \
                p[i] -= eta * buf[i];                                                              \
            } else {                                                                               \
                p[i] -= eta * d / den;                                                             \
            }                                                                                      \
        }                                                                                          \
    }
RMSPROP_KERNEL(float, f32)
RMSPROP_KERNEL(double, f64)
NBI_OPTIM_DISPATCH(rmsprop)

nb_rmsprop_opts nb_rmsprop_defaults(void)
{
    return (nb_rmsprop_opts){.lr = 1e-2, .alpha = 0.99, .eps = 1e-8};
}

static bool rmsprop_check(const char *fn, const nbi_optim_hp *hp)
{
    const nb_rmsprop_opts *h = &hp->rmsprop;
    return nbi_optim_ok(fn, "lr", h->lr, NBI_NONNEG) &&
           nbi_optim_ok(fn, "alpha", h->alpha, NBI_UNIT) &&
           nbi_optim_ok(fn, "eps", h->eps, NBI_POSITIVE) &&
           nbi_optim_ok(fn, "weight_decay", h->weight_decay, NBI_NONNEG) &&
           nbi_optim_ok(fn, "momentum", h->momentum, NBI_NONNEG);
}

static void rmsprop_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    nbi_optim_state(g, "square_avg", 0.0);
    if (h->rmsprop.centered)
        nbi_optim_state(g, "grad_avg", 0.0);
    if (h->rmsprop.momentum > 0)
        nbi_optim_state(g, "momentum_buffer", 0.0);
}

static const nbi_optim_field RMSPROP_FIELDS[] = {
    {"weight_decay", offsetof(nb_rmsprop_opts, weight_decay)},
    {"eps", offsetof(nb_rmsprop_opts, eps)},
    {"momentum", offsetof(nb_rmsprop_opts, momentum)},
    {"alpha", offsetof(nb_rmsprop_opts, alpha)},
    {NULL, 0},
};

static const nbi_optim_family RMSPROP = {
    "RMSprop",      "nb_rmsprop_new", rmsprop_update, rmsprop_check,
    rmsprop_layout, RMSPROP_FIELDS,   false,          false,
};

nb_optim *nb_rmsprop_new(nb_module *params, const nb_rmsprop_opts *opts)
{
    const nbi_optim_hp h = {.rmsprop = opts ? *opts : nb_rmsprop_defaults()};
    return nbi_optim_create(&RMSPROP, &h, h.rmsprop.lr, params);
}

/* ---- Adam / AdamW ----  Adam: d = g + wd p;  AdamW: p *= 1 - lr wd, d = g
 *   m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; amsgrad: vmax = max(vmax, v), use vmax
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps) */
#define ADAM_KERNEL(T, SUF)                                                                        \
    static void adam_##SUF(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)  \
    {                                                                                              \
        NBI_OPTIM_PTRS(T, SUF, e, gr);                                                             \
        (void)o;                                                                                   \
        const nb_adam_opts *h = &gr->hp.adam;                                                      \
        const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps;                               \
        const T l2 = o->family->decoupled ? 0 : (T)h->weight_decay;                                \
        const T shrink = o->family->decoupled ? (T)(1.0 - lr * h->weight_decay) : 1;               \
        const T step = (T)(lr / (1.0 - pow(h->beta1, (double)t)));                                 \
        const T bc2 = (T)sqrt(1.0 - pow(h->beta2, (double)t));                                     \
        NBI_OPTIM_THREADS(n);                                                                      \
        if (s2) { /* AMSGrad */                                                                    \
            NBI_OPTIM_LOOP(n)                                                                      \
            {                                                                                      \
                p[i] *= shrink;                                                                    \
                const T d = g[i] + l2 * p[i];                                                      \
                s0[i] = b1 * s0[i] + (1 - b1) * d;                                                 \
                s1[i] = b2 * s1[i] + (1 - b2) * d * d;                                             \
                s2[i] = s2[i] > s1[i] ? s2[i] : s1[i];                                             \
                p[i] -= step * s0[i] / (sqrt(s2[i]) / bc2 + eps);                                  \
            }                                                                                      \
        } else {                                                                                   \
            NBI_OPTIM_LOOP(n)                                                                      \
            {                                                                                      \
                p[i] *= shrink;                                                                    \
                const T d = g[i] + l2 * p[i];                                                      \
                s0[i] = b1 * s0[i] + (1 - b1) * d;                                                 \
                s1[i] = b2 * s1[i] + (1 - b2) * d * d;                                             \
                p[i] -= step * s0[i] / (sqrt(s1[i]) / bc2 + eps);                                  \
            }                                                                                      \
        }                                                                                          \
    }
ADAM_KERNEL(float, f32)
ADAM_KERNEL(double, f64)
NBI_OPTIM_DISPATCH(adam)

nb_adam_opts nb_adam_defaults(void)
{
    return (nb_adam_opts){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

nb_adam_opts nb_adamw_defaults(void)
{
    nb_adam_opts h = nb_adam_defaults();
    h.weight_decay = 1e-2;
    return h;
}

static bool adam_check(const char *fn, const nbi_optim_hp *hp)
{
    const nb_adam_opts *h = &hp->adam;
    return nbi_optim_ok(fn, "lr", h->lr, NBI_NONNEG) &&
           nbi_optim_ok(fn, "eps", h->eps, NBI_POSITIVE) &&
           nbi_optim_ok(fn, "weight_decay", h->weight_decay, NBI_NONNEG) &&
           nbi_optim_ok(fn, "beta1", h->beta1, NBI_UNIT_OPEN) &&
           nbi_optim_ok(fn, "beta2", h->beta2, NBI_UNIT_OPEN);
}

static void adam_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    nbi_optim_state(g, "exp_avg", 0.0);
    nbi_optim_state(g, "exp_avg_sq", 0.0);
    if (h->adam.amsgrad)
        nbi_optim_state(g, "max_exp_avg_sq", 0.0);
}

static const nbi_optim_field ADAM_FIELDS[] = {
    {"weight_decay", offsetof(nb_adam_opts, weight_decay)},
    {"eps", offsetof(nb_adam_opts, eps)},
    {"beta1", offsetof(nb_adam_opts, beta1)},
    {"beta2", offsetof(nb_adam_opts, beta2)},
    {NULL, 0},
};

static const nbi_optim_family ADAM = {
    "Adam", "nb_adam_new", adam_update, adam_check, adam_layout, ADAM_FIELDS, false, false,
};
static const nbi_optim_family ADAMW = {
    "AdamW", "nb_adamw_new", adam_update, adam_check, adam_layout, ADAM_FIELDS, true, false,
};

nb_optim *nb_adam_new(nb_module *params, const nb_adam_opts *opts)
{
    const nbi_optim_hp h = {.adam = opts ? *opts : nb_adam_defaults()};
    return nbi_optim_create(&ADAM, &h, h.adam.lr, params);
}

nb_optim *nb_adamw_new(nb_module *params, const nb_adam_opts *opts)
{
    const nbi_optim_hp h = {.adam = opts ? *opts : nb_adamw_defaults()};
    return nbi_optim_create(&ADAMW, &h, h.adam.lr, params);
}
