/* optim/optim_impl.h — the optimizer object shared by the files of optim/ (not installed).
 *
 * An optimizer is a list of parameters, each with up to NBI_OPTIM_MAX_STATE state tensors of its
 * shape, plus the step count and a per-family update function. Families (sgd.c, adaptive.c)
 * only validate their options and write the update loop. */
#ifndef NABLA_OPTIM_IMPL_H
#define NABLA_OPTIM_IMPL_H

#include "nabla/optim.h"

#define NBI_OPTIM_MAX_STATE 3

/* Update loops: vectorised, and shared among nb_get_num_threads() threads when a parameter is
 * large enough to pay for it. Every element's update is independent and uses only exactly
 * rounded operations (+, *, /, sqrt), so the split does not change any result. The if clause
 * names `parallel`: a bare if on a combined `parallel for simd` also switches SIMD off. */
#define NBI_OPTIM_PAR_MIN 65536
/* (_Pragma needs its string in one piece) */
// clang-format off
#define NBI_OPTIM_LOOP(n)                                                                          \
    _Pragma("omp parallel for simd num_threads(nt_) if (parallel : nt_ > 1) schedule(static)")    \
    for (int64_t i = 0; i < (n); i++)
// clang-format on
#define NBI_OPTIM_THREADS(n) const int nt_ = (n) >= NBI_OPTIM_PAR_MIN ? nb_get_num_threads() : 1

typedef struct nbi_optim_param {
    char *name;
    nb_tensor *p;
    nb_tensor *state[NBI_OPTIM_MAX_STATE]; /* same shape and dtype as p, owned by the optimizer */
} nbi_optim_param;

/* Update parameter `p` (its gradient is present and finite) at step t >= 1 with rate lr. */
typedef void (*nbi_optim_update_fn)(const nb_optim *o, nbi_optim_param *p, int64_t t, double lr);

struct nb_optim {
    const char *name; /* "Adam" */
    nbi_optim_update_fn update;
    double lr;
    union {
        nb_sgd_opts sgd;
        nb_adagrad_opts adagrad;
        nb_adadelta_opts adadelta;
        nb_rmsprop_opts rmsprop;
        nb_adam_opts adam;
    } hp;
    bool decoupled; /* AdamW */
    int n_state;
    const char *state_names[NBI_OPTIM_MAX_STATE];
    double state_init[NBI_OPTIM_MAX_STATE];
    nbi_optim_param *params;
    int n_params, cap_params;
    nb_tensor *step; /* NB_I64 scalar */
    nb_named_tensor *named;
    char *named_text;
};

/* New optimizer without parameters (hyperparameters in o->hp are set by the caller after).
 * NULL with NB_ERR_NOMEM. */
nb_optim *nbi_optim_new(const char *name, nbi_optim_update_fn update, double lr);
/* Declare state tensor k (call before nbi_optim_add_module). */
void nbi_optim_state(nb_optim *o, const char *name, double init);
/* Add all parameters of m's tree; frees o and returns NULL on error. */
nb_optim *nbi_optim_add_module(nb_optim *o, nb_module *m);

/* Report an invalid hyperparameter: "nb_<fn>: <what> must be <rule>, got <value>". */
nb_status nbi_optim_bad(const char *fn, const char *what, const char *rule, double value);

/* The ranges a hyperparameter may be required to lie in (NaN and Inf lie in none). */
typedef enum nbi_optim_range {
    NBI_NONNEG,    /* >= 0 and finite */
    NBI_POSITIVE,  /* > 0 and finite (eps: 0 would divide 0 by 0 on a zero gradient) */
    NBI_UNIT,      /* in [0, 1] */
    NBI_UNIT_OPEN, /* in [0, 1) */
} nbi_optim_range;

/* True when v lies in range; otherwise reports it with nbi_optim_bad and returns false. */
bool nbi_optim_ok(const char *fn, const char *what, double v, nbi_optim_range range);

#endif
