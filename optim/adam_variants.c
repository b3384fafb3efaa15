/* optim/adam_variants.c — NAdam, RAdam and Adamax: Adam's moment estimates with Nesterov
 * momentum, a rectified variance and the infinity norm. PyTorch 1.13's torch.optim update
 * rules (single-tensor form); one typed loop per method. */
#include "optim_impl.h"

#include <tgmath.h> /* sqrt, fabs in the typed kernels: float and double forms */

/* Options shared by the three (all begin lr, beta1, beta2, eps, weight_decay). */
#define ADAM_LIKE_CHECK(h)                                                                         \
    (nbi_optim_ok(fn, "lr", (h)->lr, NBI_NONNEG) &&                                                \
     nbi_optim_ok(fn, "eps", (h)->eps, NBI_POSITIVE) &&                                            \
     nbi_optim_ok(fn, "weight_decay", (h)->weight_decay, NBI_NONNEG) &&                            \
     nbi_optim_ok(fn, "beta1", (h)->beta1, NBI_UNIT_OPEN) &&                                       \
     nbi_optim_ok(fn, "beta2", (h)->beta2, NBI_UNIT_OPEN))

#define ADAM_LIKE_FIELDS(S)                                                                        \
    {"weight_decay", offsetof(S, weight_decay)}, {"eps", offsetof(S, eps)},                        \
        {"beta1", offsetof(S, beta1)},                                                             \
    {                                                                                              \
        "beta2", offsetof(S, beta2)                                                                \
    }

/* Two moment estimates: NAdam and RAdam. */
static void two_moments_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    (void)h;
    nbi_optim_state(g, "exp_avg", 0.0);
    nbi_optim_state(g, "exp_avg_sq", 0.0);
}

/* ---- NAdam ----  mu_t = b1 (1 - 0.5 * 0.96^(t psi)); P_t = P_{t-1} mu_t
 *   d = g + wd p; m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; den = sqrt(v / (1 - b2^t)) + eps
 *   p += c1 d / den + c2 m / den,  c1 = -lr (1 - mu_t) / (1 - P_t),
 *                                  c2 = -lr mu_{t+1} / (1 - P_t mu_t mu_{t+1})  (1.13's product)
 * P_t is the group's (PyTorch keeps one per parameter; they agree while every parameter of the
 * group gets a gradient at every update). It advances once per group step, with the beta1 of
 * that step, so a cycled beta1 enters it as in PyTorch. */
static double nadam_mu(const nb_nadam_opts *h, int64_t t)
{
    return h->beta1 * (1. - 0.5 * pow(0.96, (double)t * h->momentum_decay));
}

#define NB_KERNELS "adam_variants_kernels.h"
#include "nabla/typed.h"

NBI_OPTIM_DISPATCH(nadam)

nb_nadam_opts nb_nadam_defaults(void)
{
    return (nb_nadam_opts){
        .lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .momentum_decay = 4e-3};
}

static bool nadam_check(const char *fn, const nbi_optim_hp *hp)
{
    return ADAM_LIKE_CHECK(&hp->nadam) &&
           nbi_optim_ok(fn, "momentum_decay", hp->nadam.momentum_decay, NBI_NONNEG);
}

static const nbi_optim_field NADAM_FIELDS[] = {
    ADAM_LIKE_FIELDS(nb_nadam_opts),
    {"momentum_decay", offsetof(nb_nadam_opts, momentum_decay)},
    {NULL, 0},
};

static const nbi_optim_family NADAM = {
    "NAdam",      "nb_nadam_new", nadam_update, nadam_check, two_moments_layout,
    NADAM_FIELDS, false,          true,
};

nb_optim *nb_nadam_new(nb_module *params, const nb_nadam_opts *opts)
{
    const nbi_optim_hp h = {.nadam = opts ? *opts : nb_nadam_defaults()};
    return nbi_optim_create(&NADAM, &h, h.nadam.lr, params);
}

/* ---- RAdam ---- */
NBI_OPTIM_DISPATCH(radam)

nb_radam_opts nb_radam_defaults(void)
{
    return (nb_radam_opts){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

static bool radam_check(const char *fn, const nbi_optim_hp *hp)
{
    return ADAM_LIKE_CHECK(&hp->radam);
}

static const nbi_optim_field RADAM_FIELDS[] = {ADAM_LIKE_FIELDS(nb_radam_opts), {NULL, 0}};

static const nbi_optim_family RADAM = {
    "RAdam",      "nb_radam_new", radam_update, radam_check, two_moments_layout,
    RADAM_FIELDS, false,          false,
};

nb_optim *nb_radam_new(nb_module *params, const nb_radam_opts *opts)
{
    const nbi_optim_hp h = {.radam = opts ? *opts : nb_radam_defaults()};
    return nbi_optim_create(&RADAM, &h, h.radam.lr, params);
}

/* ---- Adamax ---- */
NBI_OPTIM_DISPATCH(adamax)

nb_adamax_opts nb_adamax_defaults(void)
{
    return (nb_adamax_opts){.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

static bool adamax_check(const char *fn, const nbi_optim_hp *hp)
{
    return ADAM_LIKE_CHECK(&hp->adamax);
}

static void adamax_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    (void)h;
    nbi_optim_state(g, "exp_avg", 0.0);
    nbi_optim_state(g, "exp_inf", 0.0);
}

static const nbi_optim_field ADAMAX_FIELDS[] = {ADAM_LIKE_FIELDS(nb_adamax_opts), {NULL, 0}};

static const nbi_optim_family ADAMAX = {
    "Adamax",      "nb_adamax_new", adamax_update, adamax_check,
    adamax_layout, ADAMAX_FIELDS,   false,         false,
};

nb_optim *nb_adamax_new(nb_module *params, const nb_adamax_opts *opts)
{
    const nbi_optim_hp h = {.adamax = opts ? *opts : nb_adamax_defaults()};
    return nbi_optim_create(&ADAMAX, &h, h.adamax.lr, params);
}
