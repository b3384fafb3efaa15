/* optim/adaptive.c — methods with per-element step sizes: Adagrad, AdaDelta, RMSprop, Adam and
 * AdamW (with AMSGrad). PyTorch's torch.optim update rules; one typed loop per method. */
#include "optim_impl.h"

#include <tgmath.h> /* sqrt in the typed kernels: sqrtf for float, sqrt for double */

/* Data pointers of parameter e in dtype T: p, g and state k (NULL when absent). */
/* The buffers never overlap (restrict), so the loops vectorise. */
#define PTRS(T, SUF, e, o)                                                                         \
    T *restrict p = nb_tensor_data_##SUF((e)->p);                                                  \
    const T *restrict g = nb_tensor_data_##SUF(nb_tensor_grad((e)->p));                            \
    T *restrict s0 = (o)->n_state > 0 ? nb_tensor_data_##SUF((e)->state[0]) : NULL;                \
    T *restrict s1 = (o)->n_state > 1 ? nb_tensor_data_##SUF((e)->state[1]) : NULL;                \
    T *restrict s2 = (o)->n_state > 2 ? nb_tensor_data_##SUF((e)->state[2]) : NULL;                \
    const int64_t n = nb_tensor_numel((e)->p);                                                     \
    (void)s1;                                                                                      \
    (void)s2

/* Each method: a macro-generated typed kernel pair and an update that dispatches on dtype. */
#define DISPATCH(method)                                                                           \
    static void method##_update(const nb_optim *o, nbi_optim_param *e, int64_t t, double lr)       \
    {                                                                                              \
        if (nb_tensor_dtype(e->p) == NB_F32)                                                       \
            method##_f32(o, e, t, lr);                                                             \
        else                                                                                       \
            method##_f64(o, e, t, lr);                                                             \
    }

/* ---- Adagrad ----  clr = lr / (1 + (t-1) lr_decay); d = g + wd p; s += d^2;
 *                    p -= clr d / (sqrt(s) + eps) */
#define ADAGRAD_KERNEL(T, SUF)                                                                     \
    static void adagrad_##SUF(const nb_optim *o, nbi_optim_param *e, int64_t t, double lr)         \
    {                                                                                              \
        PTRS(T, SUF, e, o);                                                                        \
        const nb_adagrad_opts *h = &o->hp.adagrad;                                                 \
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
DISPATCH(adagrad)

nb_adagrad_opts nb_adagrad_defaults(void)
{
    return (nb_adagrad_opts){.lr = 1e-2, .eps = 1e-10};
}

nb_optim *nb_adagrad_new(nb_module *params, const nb_adagrad_opts *opts)
{
    const char *fn = "nb_adagrad_new";
    const nb_adagrad_opts h = opts ? *opts : nb_adagrad_defaults();
    if (!nbi_optim_ok(fn, "lr", h.lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "lr_decay", h.lr_decay, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "weight_decay", h.weight_decay, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "initial_accumulator_value", h.initial_accumulator_value, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "eps", h.eps, NBI_POSITIVE))
        return NULL;
    nb_optim *o = nbi_optim_new("Adagrad", adagrad_update, h.lr);
    if (!o)
        return NULL;
    o->hp.adagrad = h;
    nbi_optim_state(o, "sum", h.initial_accumulator_value);
    return nbi_optim_add_module(o, params);
}

/* ---- AdaDelta ----  d = g + wd p; v = rho v + (1-rho) d^2;
 *                     u' = sqrt(u + eps) / sqrt(v + eps) d; u = rho u + (1-rho) u'^2; p -= lr u' */
#define ADADELTA_KERNEL(T, SUF)                                                                    \
    static void adadelta_##SUF(const nb_optim *o, nbi_optim_param *e, int64_t t, double lr)        \
    {                                                                                              \
        PTRS(T, SUF, e, o);                                                                        \
        (void)t;                                                                                   \
        const nb_adadelta_opts *h = &o->hp.adadelta;                                               \
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
DISPATCH(adadelta)

nb_adadelta_opts nb_adadelta_defaults(void)
{
    return (nb_adadelta_opts){.lr = 1.0, .rho = 0.9, .eps = 1e-6};
}

nb_optim *nb_adadelta_new(nb_module *params, const nb_adadelta_opts *opts)
{
    const char *fn = "nb_adadelta_new";
    const nb_adadelta_opts h = opts ? *opts : nb_adadelta_defaults();
    if (!nbi_optim_ok(fn, "lr", h.lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "eps", h.eps, NBI_POSITIVE) ||
        !nbi_optim_ok(fn, "weight_decay", h.weight_decay, NBI_NONNEG))
        return NULL;
    if (!nbi_optim_ok(fn, "rho", h.rho, NBI_UNIT))
        return NULL;
    nb_optim *o = nbi_optim_new("AdaDelta", adadelta_update, h.lr);
    if (!o)
        return NULL;
    o->hp.adadelta = h;
    nbi_optim_state(o, "square_avg", 0.0);
    nbi_optim_state(o, "acc_delta", 0.0);
    return nbi_optim_add_module(o, params);
}

/* ---- RMSprop ----  d = g + wd p; v = a v + (1-a) d^2; centered: m = a m + (1-a) d,
 *                    den = sqrt(v - m^2) + eps, else sqrt(v) + eps;
 *                    momentum: b = mu b + d / den, p -= lr b; else p -= lr d / den
 * State order: square_avg, then grad_avg (centered), then momentum_buffer (momentum > 0). */
#define RMSPROP_KERNEL(T, SUF)                                                                     \
    static void rmsprop_##SUF(const nb_optim *o, nbi_optim_param *e, int64_t t, double lr)         \
    {                                                                                              \
        PTRS(T, SUF, e, o);                                                                        \
        (void)t;                                                                                   \
        const nb_rmsprop_opts *h = &o->hp.rmsprop;                                                 \
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
DISPATCH(rmsprop)

nb_rmsprop_opts nb_rmsprop_defaults(void)
{
    return (nb_rmsprop_opts){.lr = 1e-2, .alpha = 0.99, .eps = 1e-8};
}

nb_optim *nb_rmsprop_new(nb_module *params, const nb_rmsprop_opts *opts)
{
    const char *fn = "nb_rmsprop_new";
    const nb_rmsprop_opts h = opts ? *opts : nb_rmsprop_defaults();
    if (!nbi_optim_ok(fn, "lr", h.lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "alpha", h.alpha, NBI_UNIT) ||
        !nbi_optim_ok(fn, "eps", h.eps, NBI_POSITIVE) ||
        !nbi_optim_ok(fn, "weight_decay", h.weight_decay, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "momentum", h.momentum, NBI_NONNEG))
        return NULL;
    nb_optim *o = nbi_optim_new("RMSprop", rmsprop_update, h.lr);
    if (!o)
        return NULL;
    o->hp.rmsprop = h;
    nbi_optim_state(o, "square_avg", 0.0);
    if (h.centered)
        nbi_optim_state(o, "grad_avg", 0.0);
    if (h.momentum > 0)
        nbi_optim_state(o, "momentum_buffer", 0.0);
    return nbi_optim_add_module(o, params);
}

/* ---- Adam / AdamW ----  Adam: d = g + wd p;  AdamW: p *= 1 - lr wd, d = g
 *   m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; amsgrad: vmax = max(vmax, v), use vmax
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps) */
#define ADAM_KERNEL(T, SUF)                                                                        \
    static void adam_##SUF(const nb_optim *o, nbi_optim_param *e, int64_t t, double lr)            \
    {                                                                                              \
        PTRS(T, SUF, e, o);                                                                        \
        const nb_adam_opts *h = &o->hp.adam;                                                       \
        const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps;                               \
        const T l2 = o->decoupled ? 0 : (T)h->weight_decay;                                        \
        const T shrink = o->decoupled ? (T)(1.0 - lr * h->weight_decay) : 1;                       \
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
DISPATCH(adam)

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

static nb_optim *adam_common(const char *fn, const char *name, bool decoupled, nb_module *params,
                             const nb_adam_opts *opts)
{
    const nb_adam_opts h = opts ? *opts : decoupled ? nb_adamw_defaults() : nb_adam_defaults();
    if (!nbi_optim_ok(fn, "lr", h.lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "eps", h.eps, NBI_POSITIVE) ||
        !nbi_optim_ok(fn, "weight_decay", h.weight_decay, NBI_NONNEG))
        return NULL;
    if (!nbi_optim_ok(fn, "beta1", h.beta1, NBI_UNIT_OPEN) ||
        !nbi_optim_ok(fn, "beta2", h.beta2, NBI_UNIT_OPEN))
        return NULL;
    nb_optim *o = nbi_optim_new(name, adam_update, h.lr);
    if (!o)
        return NULL;
    o->hp.adam = h;
    o->decoupled = decoupled;
    nbi_optim_state(o, "exp_avg", 0.0);
    nbi_optim_state(o, "exp_avg_sq", 0.0);
    if (h.amsgrad)
        nbi_optim_state(o, "max_exp_avg_sq", 0.0);
    return nbi_optim_add_module(o, params);
}

nb_optim *nb_adam_new(nb_module *params, const nb_adam_opts *opts)
{
    return adam_common("nb_adam_new", "Adam", false, params, opts);
}

nb_optim *nb_adamw_new(nb_module *params, const nb_adam_opts *opts)
{
    return adam_common("nb_adamw_new", "AdamW", true, params, opts);
}
