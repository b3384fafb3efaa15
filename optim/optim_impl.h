/* optim/optim_impl.h — the optimizer object shared by the files of optim/ (not installed).
 *
 * An optimizer is a list of parameter groups and a list of parameters. A group holds the
 * family's options (nbi_optim_hp: its learning rate, weight decay, momentum or betas, ...) and
 * the layout of the state tensors its parameters carry (up to NBI_OPTIM_MAX_STATE, each of the
 * parameter's shape); a frozen group's parameters carry none and are never updated. Each
 * parameter points to its group. One step count serves the optimizer; a group counts its own
 * steps from the update count at which it joined. Families (sgd.c, adaptive.c) describe
 * themselves once (nbi_optim_family: options check, state layout, per-group option names) and
 * write the update loop. */
#ifndef NABLA_OPTIM_IMPL_H
#define NABLA_OPTIM_IMPL_H

#include "nabla/optim.h"
#include "nabla/typed.h" /* NB_DISPATCH */

#include <stddef.h>

#define NBI_OPTIM_MAX_STATE 3

/* Update loops: vectorised, and shared among nb_get_num_threads() threads when a parameter is
 * large enough to pay for it (NBI_OPTIM_PAR_MIN elements). nb_optim_update then calls the
 * family's update inside one OpenMP parallel region, every thread runs it, and each
 * NBI_OPTIM_LOOP is a worksharing loop (`omp for`) that splits the elements among them; below
 * the size, or with one thread, the update runs on the calling thread with no region at all
 * (an orphaned `omp for` is a plain loop), because entering a region, even of one thread, costs
 * a futex system call. So an update writes memory only inside NBI_OPTIM_LOOPs. Every element's
 * update is independent and uses only exactly rounded operations (+, *, /, sqrt), so the split
 * does not change any result. */
#define NBI_OPTIM_PAR_MIN 65536
/* (_Pragma needs its string in one piece) */
// clang-format off
#define NBI_OPTIM_LOOP(n)                                                                          \
    _Pragma("omp for simd schedule(static)")                                                      \
    for (int64_t i = 0; i < (n); i++)
// clang-format on

/* Every family's options; a group holds the one of its optimizer's family. */
typedef union nbi_optim_hp {
    nb_sgd_opts sgd;
    nb_adagrad_opts adagrad;
    nb_adadelta_opts adadelta;
    nb_rmsprop_opts rmsprop;
    nb_adam_opts adam;
    nb_nadam_opts nadam;
    nb_radam_opts radam;
    nb_adamax_opts adamax;
} nbi_optim_hp;

typedef struct nbi_optim_group {
    double lr;         /* the rate of the next update */
    double initial_lr; /* the rate the group was created with: schedules scale it */
    nbi_optim_hp hp;   /* the family's options (hp.<family>.lr is not used: lr above is) */
    bool frozen;       /* no update, no state */
    int64_t joined_at; /* the optimizer's update count when the group was added */
    int n_state;
    const char *state_names[NBI_OPTIM_MAX_STATE];
    double state_init[NBI_OPTIM_MAX_STATE];
    double mu_product; /* NAdam: prod of mu_1..mu_{mu_t}, a cache of a function of the step */
    int64_t mu_t;
} nbi_optim_group;

typedef struct nbi_optim_param {
    char *name;
    nb_tensor *p;
    int group;
    nb_tensor *state[NBI_OPTIM_MAX_STATE]; /* group's layout; same shape and dtype as p */
} nbi_optim_param;

/* Update parameter `p` of group g (its gradient is present and finite) at the group's step
 * t >= 1 with rate g->lr. */
typedef void (*nbi_optim_update_fn)(const nb_optim *o, nbi_optim_group *g, nbi_optim_param *p,
                                    int64_t t);

/* A per-group numeric option: its name and where the double lives in nbi_optim_hp. */
typedef struct nbi_optim_field {
    const char *name;
    size_t offset;
} nbi_optim_field;

#define NBI_OPTIM_MAX_FIELDS 8

typedef struct nbi_optim_family {
    const char *name; /* "Adam" */
    const char *ctor; /* "nb_adam_new" */
    nbi_optim_update_fn update;
    /* True when every option of h is valid; otherwise reports it for function fn. */
    bool (*check)(const char *fn, const nbi_optim_hp *h);
    /* Declare the state tensors of a group with options h (nbi_optim_state on g). */
    void (*layout)(nbi_optim_group *g, const nbi_optim_hp *h);
    /* The options a group may set (besides lr), ending with {NULL, 0}. */
    const nbi_optim_field *fields;
    bool decoupled;  /* AdamW */
    bool mu_product; /* NAdam: the group's momentum product is saved with its options */
} nbi_optim_family;

struct nb_optim {
    const nbi_optim_family *family;
    const char *name;      /* family->name */
    nbi_optim_hp defaults; /* the constructor's options: new groups start from them */
    nbi_optim_group *groups;
    int n_groups, cap_groups;
    nbi_optim_param *params;
    int n_params, cap_params;
    nb_tensor *step; /* NB_I64 scalar */
    nb_named_tensor *named;
    char *named_text;
};

/* Check h with family->check for fn (the constructor's name) and make an optimizer with group 0
 * holding the parameters of `params`' tree (may be NULL) with options h and rate lr. NULL on
 * error (the message names fn). */
nb_optim *nbi_optim_create(const nbi_optim_family *family, const nbi_optim_hp *h, double lr,
                           nb_module *params);
/* Declare state tensor k of group g (inside a family's layout function). */
void nbi_optim_state(nbi_optim_group *g, const char *name, double init);

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

/* Data pointers of parameter e of group gr in dtype T: p, g and state k (NULL when absent), and
 * the element count n and the group's rate lr. */
/* The buffers never overlap (restrict), so the loops vectorise. */
#define NBI_OPTIM_PTRS(T, e, gr)                                                                   \
    T *restrict p = nb_tensor_data((e)->p);                                                        \
    const T *restrict g = nb_tensor_data(nb_tensor_grad((e)->p));                                  \
    T *restrict s0 = (gr)->n_state > 0 ? nb_tensor_data((e)->state[0]) : NULL;                     \
    T *restrict s1 = (gr)->n_state > 1 ? nb_tensor_data((e)->state[1]) : NULL;                     \
    T *restrict s2 = (gr)->n_state > 2 ? nb_tensor_data((e)->state[2]) : NULL;                     \
    const int64_t n = nb_tensor_numel((e)->p);                                                     \
    const double lr = (gr)->lr;                                                                    \
    (void)lr;                                                                                      \
    (void)s1;                                                                                      \
    (void)s2

/* Each method: its kernel written once over T in optim/<file>_kernels.h (nabla/typed.h), and
 * an update that calls method_f32 or method_f64 by dtype. */
#define NBI_OPTIM_DISPATCH(method)                                                                 \
    static void method##_update(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e,        \
                                int64_t t)                                                         \
    {                                                                                              \
        NB_DISPATCH(nb_tensor_dtype(e->p), method, o, gr, e, t);                                   \
    }

/* ---- group options by name (checkpoints) ---- */
/* Names of group g's saved numbers: "lr", "initial_lr", the family's fields, then for NAdam
 * "mu_product" and "mu_step". Returns the count (at most 4 + NBI_OPTIM_MAX_FIELDS) and fills
 * names/values. */
int nbi_optim_group_numbers(const nb_optim *o, int g, const char **names, double *values);
/* Check that `values` (in the order of nbi_optim_group_numbers) are valid options for group g
 * and keep its state layout; apply them when `apply`. Errors name fn. */
nb_status nbi_optim_group_restore(nb_optim *o, int g, const double *values, bool apply,
                                  const char *fn);

#endif
