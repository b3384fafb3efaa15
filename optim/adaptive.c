/* optim/adaptive.c — methods with per-element step sizes: Adagrad, AdaDelta, RMSprop, Adam and
 * AdamW (with AMSGrad). PyTorch's torch.optim update rules; one typed loop per method. */
#include "optim_impl.h"

#include <tgmath.h> /* sqrt in the typed kernels: sqrtf for float, sqrt for double */

#define NB_KERNELS "adaptive_kernels.h"
#include "nabla/typed.h"

/* ---- Adagrad ---- */
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

/* ---- AdaDelta ---- */
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

/* ---- RMSprop ---- */
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

/* ---- Adam / AdamW ---- */
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
