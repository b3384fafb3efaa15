/* optim/sgd.c — stochastic gradient descent: plain, momentum (with dampening), Nesterov,
 * L2 weight decay. PyTorch's torch.optim.SGD update, written as one typed loop. */
#include "optim_impl.h"

#include <math.h>

#define NB_KERNELS "sgd_kernels.h"
#include "nabla/typed.h"

static void sgd_update(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    (void)o;
    nb_tensor *g = nb_tensor_grad(e->p), *b = gr->n_state > 0 ? e->state[0] : NULL;
    const int64_t n = nb_tensor_numel(e->p);
    if (nb_tensor_dtype(e->p) == NB_F32)
        sgd_f32(nb_tensor_data_f32(e->p), nb_tensor_data_f32(g), nb_tensor_data_f32(b), n,
                &gr->hp.sgd, t == 1, gr->lr);
    else
        sgd_f64(nb_tensor_data_f64(e->p), nb_tensor_data_f64(g), nb_tensor_data_f64(b), n,
                &gr->hp.sgd, t == 1, gr->lr);
}

static bool sgd_check(const char *fn, const nbi_optim_hp *hp)
{
    const nb_sgd_opts *h = &hp->sgd;
    if (!nbi_optim_ok(fn, "lr", h->lr, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "momentum", h->momentum, NBI_NONNEG) ||
        !nbi_optim_ok(fn, "dampening", h->dampening, NBI_UNIT) ||
        !nbi_optim_ok(fn, "weight_decay", h->weight_decay, NBI_NONNEG))
        return false;
    if (h->nesterov && (h->momentum <= 0 || h->dampening != 0)) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: Nesterov momentum needs momentum > 0 and dampening 0, got %g and %g", fn,
                     h->momentum, h->dampening);
        return false;
    }
    return true;
}

static void sgd_layout(nbi_optim_group *g, const nbi_optim_hp *h)
{
    if (h->sgd.momentum != 0)
        nbi_optim_state(g, "momentum_buffer", 0.0);
}

static const nbi_optim_field SGD_FIELDS[] = {
    {"weight_decay", offsetof(nb_sgd_opts, weight_decay)},
    {"momentum", offsetof(nb_sgd_opts, momentum)},
    {"dampening", offsetof(nb_sgd_opts, dampening)},
    {NULL, 0},
};

static const nbi_optim_family SGD = {
    "SGD", "nb_sgd_new", sgd_update, sgd_check, sgd_layout, SGD_FIELDS, false, false,
};

nb_sgd_opts nb_sgd_defaults(void)
{
    return (nb_sgd_opts){.lr = 1e-3};
}

nb_optim *nb_sgd_new(nb_module *params, const nb_sgd_opts *opts)
{
    const nbi_optim_hp h = {.sgd = opts ? *opts : nb_sgd_defaults()};
    return nbi_optim_create(&SGD, &h, h.sgd.lr, params);
}
