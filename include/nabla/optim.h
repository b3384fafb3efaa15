/* nabla/optim.h — optimizers, gradient clipping, learning-rate schedules.
 *
 * An optimizer (nb_optim) updates a set of parameters from their gradients. It is created over
 * a module (every parameter of its tree) and/or explicit tensors (nb_optim_add_param), owns its
 * state (momentum buffers, moment estimates, the step count) and updates the parameters in
 * place, off the tape: an update is never recorded and never needs an active step. Parameters
 * that do not require grad (frozen) or have no gradient yet are skipped, as in PyTorch.
 *
 *     nb_adam_opts ao = nb_adam_defaults();
 *     ao.lr = 1e-3;
 *     nb_optim *opt = nb_adam_new(net, &ao);
 *     nb_lr_schedule sched = nb_lr_with_warmup(nb_lr_cosine(ao.lr, total_steps, 0.0), 100, 0.1);
 *     for (int64_t t = 0; t < total_steps; t++) {
 *         nb_step_begin(step);
 *         nb_optim_zero_grad(opt);
 *         nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
 *         nb_status st = loss ? nb_backward(loss) : nb_last_status();
 *         if (st == NB_OK) {
 *             nb_clip_grad_norm(net, 1.0);
 *             nb_optim_apply_schedule(opt, &sched, t);
 *             st = nb_optim_update(opt);
 *         }
 *         nb_step_end(step);
 *     }
 *     nb_optim_free(opt);
 *
 * Update formulas are PyTorch's (torch.optim, same defaults); each constructor's comment gives
 * its formula for a gradient g of parameter p at step t = 1, 2, ... Computations run in the
 * parameter's dtype.
 *
 * Parameter groups (PyTorch's param_groups): the constructor makes group 0 from its options and
 * the module's parameters; nb_optim_add_group adds more, each with its own learning rate, weight
 * decay and the family's other per-group options (momentum, betas, eps, ...), or frozen (never
 * updated, no state). A group added after some updates counts its steps from 1 (bias
 * corrections, SGD's first momentum step), as PyTorch's per-parameter step does.
 *
 *     nb_optim *opt = nb_adamw_new(head, &ao);                 // group 0: lr 1e-3
 *     nb_optim_group_opts g = nb_optim_group_defaults();       // NaN: the constructor's value
 *     g.lr = 1e-4;
 *     g.weight_decay = 0;
 *     int backbone_group = nb_optim_add_group(opt, backbone, "backbone", &g);
 */
#ifndef NABLA_OPTIM_H
#define NABLA_OPTIM_H

#include "nabla/io.h"
#include "nabla/nn.h"
#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_optim nb_optim;

/* ---- common interface ---- */
/* One update of every parameter that requires grad and has a gradient; increments the step
 * count first (so t = 1 at the first step). Errors: NB_ERR_VALUE for NULL or when a gradient
 * holds NaN/Inf (nothing is updated then). */
NB_API nb_status nb_optim_update(nb_optim *o);
/* Zero the gradients of every parameter of the optimizer. */
NB_API void nb_optim_zero_grad(nb_optim *o);
/* Free the optimizer and its state (not the parameters). NULL is a no-op. */
NB_API void nb_optim_free(nb_optim *o);
/* Set the learning rate of every group to lr (finite and >= 0; NB_ERR_VALUE naming the value
 * otherwise, and no rate changes). Per-group rates: nb_optim_set_group_lr, or a schedule
 * through nb_optim_apply_schedule. nb_optim_get_lr returns group 0's rate (NaN for NULL). */
NB_API nb_status nb_optim_set_lr(nb_optim *o, double lr);
NB_API double nb_optim_get_lr(const nb_optim *o);
/* "SGD", "Adagrad", "AdaDelta", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "Adamax". */
NB_API const char *nb_optim_name(const nb_optim *o);
/* Steps taken so far (the "step" state tensor). One count serves every parameter (bias
 * corrections, SGD's first momentum step); a group added later counts from its joining. */
NB_API int64_t nb_optim_update_count(const nb_optim *o);
/* Number of parameter tensors the optimizer updates. */
NB_API int nb_optim_num_params(const nb_optim *o);
/* Add a parameter to group 0: a caller- or module-owned contiguous float tensor, named `name`
 * (copied, unique) in the state names. The tensor must outlive the optimizer. Its state starts
 * at zero (or the optimizer's initial value). Errors: NB_ERR_VALUE (NULL, duplicate name, a
 * tensor already in a group: the message names both groups), NB_ERR_DTYPE (not float),
 * NB_ERR_SHAPE (not contiguous), NB_ERR_NOMEM. */
NB_API nb_status nb_optim_add_param(nb_optim *o, const char *name, nb_tensor *param);
/* Fill out[0 .. min(cap, total) - 1] with the optimizer's state tensors and return the total
 * (call with cap 0 to size the array; -1 on NB_ERR_NOMEM): "step" (an NB_I64 scalar holding the
 * step count), then per parameter "<param name>.<state>" in parameter order, e.g.
 * "0.weight.momentum_buffer", "fc1.bias.exp_avg_sq" (a frozen group's parameters have none).
 * Tensors and names are owned by the optimizer (valid until nb_optim_free, nb_optim_add_param
 * or nb_optim_add_group); writing into them (loading a checkpoint) restores the optimizer's
 * state. The groups' options are not tensors: nb_checkpoint_save_model saves them. */
NB_API int nb_optim_named_state(nb_optim *o, nb_named_tensor *out, int cap);

/* ---- parameter groups (optim/optim.c) ---- */
/* Options of a new group. Every number left NaN takes the constructor's value (PyTorch's
 * defaults); a number the optimizer's family does not have (momentum for Adam) must stay NaN.
 * Per-group options by family (the rest, such as nesterov, amsgrad, centered, are the
 * constructor's for every group):
 *   SGD: lr, weight_decay, momentum, dampening      Adagrad: lr, weight_decay, eps, lr_decay
 *   AdaDelta: lr, weight_decay, eps, rho            RMSprop: lr, weight_decay, eps, momentum, alpha
 *   Adam, AdamW, RAdam, Adamax: lr, weight_decay, eps, beta1, beta2
 *   NAdam: lr, weight_decay, eps, beta1, beta2, momentum_decay */
typedef struct nb_optim_group_opts {
    double lr, weight_decay, momentum, dampening, eps, beta1, beta2, alpha, rho, lr_decay,
        momentum_decay;
    bool frozen; /* false; true: the group's parameters are never updated and have no state */
} nb_optim_group_opts;
/* Every number NaN, not frozen. */
NB_API nb_optim_group_opts nb_optim_group_defaults(void);
/* Add a group holding every parameter of `params`' tree (may be NULL: add tensors with
 * nb_optim_add_group_param), named "<prefix>.<path>" in the state names (prefix NULL or "": the
 * path alone; give the sub-module's path in the whole model, e.g. "0", so that names stay
 * unique and match nb_module_named_params of the model); opts NULL = the constructor's
 * options. Returns the new group's index (1, 2, ...), or -1 with NB_ERR_VALUE (NULL optimizer;
 * an option the family does not have, naming it and the family's per-group options; an option
 * out of range, with the constructor's message, e.g. "nb_optim_add_group: lr must be >= 0 and
 * finite, got -1"; a parameter already in a group) or NB_ERR_NOMEM; the optimizer is then
 * unchanged. An option may change the state a group's parameters carry (SGD with momentum 0
 * has none; a group with momentum 0.9 gets momentum buffers). */
NB_API int nb_optim_add_group(nb_optim *o, nb_module *params, const char *prefix,
                              const nb_optim_group_opts *opts);
/* nb_optim_add_param into group `group`. Errors as nb_optim_add_param, and NB_ERR_VALUE for an
 * unknown group index (the message gives the number of groups). */
NB_API nb_status nb_optim_add_group_param(nb_optim *o, int group, const char *name,
                                          nb_tensor *param);
/* Number of groups (>= 1; 0 for NULL). */
NB_API int nb_optim_num_groups(const nb_optim *o);
/* Set group `group`'s learning rate (finite and >= 0). Errors: NB_ERR_VALUE for NULL, an
 * unknown group or a bad rate (the rate is then unchanged). */
NB_API nb_status nb_optim_set_group_lr(nb_optim *o, int group, double lr);
/* Group `group`'s option `name`: "lr", "initial_lr" (the rate it was created with, which the
 * schedules scale), "frozen" (1 or 0) or one of the family's per-group options listed above.
 * NaN with NB_ERR_VALUE for NULL, an unknown group or name. */
NB_API double nb_optim_get_group_option(const nb_optim *o, int group, const char *name);
/* The group holding tensor `param`, or -1 (no error set) when the optimizer does not hold it. */
NB_API int nb_optim_param_group(const nb_optim *o, const nb_tensor *param);

/* ---- SGD (optim/sgd.c) ----
 *   g <- g + weight_decay * p
 *   momentum != 0:  b <- g at t = 1, else b <- momentum * b + (1 - dampening) * g
 *                   g <- g + momentum * b  (nesterov)   or   g <- b
 *   p <- p - lr * g
 * State: "momentum_buffer" (when momentum != 0). Nesterov needs momentum > 0 and dampening 0. */
typedef struct nb_sgd_opts {
    double lr;           /* 1e-3 */
    double momentum;     /* 0 */
    double dampening;    /* 0 */
    double weight_decay; /* 0 (L2 penalty added to the gradient) */
    bool nesterov;       /* false */
} nb_sgd_opts;
NB_API nb_sgd_opts nb_sgd_defaults(void);
/* Optimizer over every parameter of `params`' tree (params may be NULL: add tensors with
 * nb_optim_add_param). opts NULL = defaults. Errors -> NULL: NB_ERR_VALUE naming the function,
 * the option and its value when an option is out of range (lr, momentum, weight_decay: finite
 * and >= 0; dampening in [0, 1]; NaN and Inf are never accepted) or Nesterov is set without
 * momentum > 0 and dampening 0; NB_ERR_NOMEM. */
NB_API nb_optim *nb_sgd_new(nb_module *params, const nb_sgd_opts *opts);

/* ---- adaptive methods (optim/adaptive.c); constructors as nb_sgd_new ----
 * Accepted options: lr, lr_decay, weight_decay, initial_accumulator_value, momentum finite and
 * >= 0; eps finite and > 0 (PyTorch accepts 0, which divides 0 by 0 on a zero gradient); rho,
 * alpha in [0, 1]; beta1, beta2 in [0, 1). Anything else (NaN included) is NB_ERR_VALUE. */

/* Adagrad (Duchi et al. 2011):
 *   clr = lr / (1 + (t - 1) * lr_decay);  g <- g + weight_decay * p
 *   s <- s + g^2;  p <- p - clr * g / (sqrt(s) + eps)
 * State: "sum" (starts at initial_accumulator_value). */
typedef struct nb_adagrad_opts {
    double lr;                        /* 1e-2 */
    double lr_decay;                  /* 0 */
    double weight_decay;              /* 0 */
    double initial_accumulator_value; /* 0 */
    double eps;                       /* 1e-10 */
} nb_adagrad_opts;
NB_API nb_adagrad_opts nb_adagrad_defaults(void);
NB_API nb_optim *nb_adagrad_new(nb_module *params, const nb_adagrad_opts *opts);

/* AdaDelta (Zeiler 2012):
 *   g <- g + weight_decay * p;  v <- rho * v + (1 - rho) * g^2
 *   d = sqrt(u + eps) / sqrt(v + eps) * g;  u <- rho * u + (1 - rho) * d^2;  p <- p - lr * d
 * State: "square_avg" (v), "acc_delta" (u). */
typedef struct nb_adadelta_opts {
    double lr;           /* 1.0 */
    double rho;          /* 0.9 */
    double eps;          /* 1e-6 */
    double weight_decay; /* 0 */
} nb_adadelta_opts;
NB_API nb_adadelta_opts nb_adadelta_defaults(void);
NB_API nb_optim *nb_adadelta_new(nb_module *params, const nb_adadelta_opts *opts);

/* RMSprop (Hinton's lecture 6e):
 *   g <- g + weight_decay * p;  v <- alpha * v + (1 - alpha) * g^2
 *   centered:  a <- alpha * a + (1 - alpha) * g;  den = sqrt(v - a^2) + eps
 *   otherwise: den = sqrt(v) + eps
 *   momentum > 0: b <- momentum * b + g / den;  p <- p - lr * b
 *   otherwise:    p <- p - lr * g / den
 * State: "square_avg", "grad_avg" (centered), "momentum_buffer" (momentum > 0). */
typedef struct nb_rmsprop_opts {
    double lr;           /* 1e-2 */
    double alpha;        /* 0.99 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0 */
    double momentum;     /* 0 */
    bool centered;       /* false */
} nb_rmsprop_opts;
NB_API nb_rmsprop_opts nb_rmsprop_defaults(void);
NB_API nb_optim *nb_rmsprop_new(nb_module *params, const nb_rmsprop_opts *opts);

/* Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019):
 *   Adam:  g <- g + weight_decay * p          AdamW: p <- p * (1 - lr * weight_decay)
 *   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
 *   amsgrad: vmax <- max(vmax, v), use vmax for v below
 *   p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * State: "exp_avg" (m), "exp_avg_sq" (v), "max_exp_avg_sq" (amsgrad). */
typedef struct nb_adam_opts {
    double lr;           /* 1e-3 */
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* Adam: 0 (L2 in the gradient); AdamW: 1e-2 (decoupled) */
    bool amsgrad;        /* false */
} nb_adam_opts;
NB_API nb_adam_opts nb_adam_defaults(void);
NB_API nb_adam_opts nb_adamw_defaults(void);
NB_API nb_optim *nb_adam_new(nb_module *params, const nb_adam_opts *opts);
NB_API nb_optim *nb_adamw_new(nb_module *params, const nb_adam_opts *opts);

/* NAdam (Dozat 2016), PyTorch 1.13's torch.optim.NAdam:
 *   g <- g + weight_decay * p
 *   mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  P_t = mu_1 * ... * mu_t
 *   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
 *   den = sqrt(v / (1 - beta2^t)) + eps
 *   p <- p - lr * (1 - mu_t) / (1 - P_t) * g / den
 *   p <- p - lr * mu_{t+1} / (1 - P_t * mu_t * mu_{t+1}) * m / den
 * (1.13 multiplies mu_t into the second product twice; later PyTorch versions do not).
 * State: "exp_avg" (m), "exp_avg_sq" (v); P_t is recomputed from the step count. */
typedef struct nb_nadam_opts {
    double lr;             /* 2e-3 */
    double beta1;          /* 0.9 */
    double beta2;          /* 0.999 */
    double eps;            /* 1e-8 */
    double weight_decay;   /* 0 */
    double momentum_decay; /* 4e-3 (finite and >= 0) */
} nb_nadam_opts;
NB_API nb_nadam_opts nb_nadam_defaults(void);
NB_API nb_optim *nb_nadam_new(nb_module *params, const nb_nadam_opts *opts);

/* RAdam (Liu et al. 2020), PyTorch 1.13's torch.optim.RAdam:
 *   g <- g + weight_decay * p
 *   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
 *   rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
 *   rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
 *              p <- p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
 *   otherwise: p <- p - lr * m / (1 - beta1^t)
 * State: "exp_avg", "exp_avg_sq". */
typedef struct nb_radam_opts {
    double lr;           /* 1e-3 */
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0 */
} nb_radam_opts;
NB_API nb_radam_opts nb_radam_defaults(void);
NB_API nb_optim *nb_radam_new(nb_module *params, const nb_radam_opts *opts);

/* Adamax (Kingma & Ba 2015, the infinity-norm variant), PyTorch 1.13's torch.optim.Adamax:
 *   g <- g + weight_decay * p
 *   m <- beta1 * m + (1 - beta1) * g;  u <- max(beta2 * u, |g| + eps)
 *   p <- p - lr / (1 - beta1^t) * m / u
 * State: "exp_avg" (m), "exp_inf" (u). */
typedef struct nb_adamax_opts {
    double lr;           /* 2e-3 */
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0 */
} nb_adamax_opts;
NB_API nb_adamax_opts nb_adamax_defaults(void);
NB_API nb_optim *nb_adamax_new(nb_module *params, const nb_adamax_opts *opts);

/* ---- gradient clipping (optim/optim.c) ----
 * Return the global L2 norm of all gradients before clipping; when it exceeds max_norm every
 * gradient is scaled by max_norm / (norm + 1e-6) (PyTorch's clip_grad_norm_). The module form
 * is one loop over the module's gradient buffer; the optimizer form covers the optimizer's
 * parameters that require grad. Errors: NaN and NB_ERR_VALUE for NULL or max_norm <= 0 or NaN; a
 * non-finite norm is returned as is with NB_ERR_VALUE and the gradients are left unchanged. */
NB_API double nb_clip_grad_norm(nb_module *m, double max_norm);
NB_API double nb_optim_clip_grad_norm(nb_optim *o, double max_norm);
/* Clamp every gradient element to [-clip, clip] (clip > 0). */
NB_API nb_status nb_clip_grad_value(nb_module *m, double clip);
NB_API nb_status nb_optim_clip_grad_value(nb_optim *o, double clip);

/* ---- learning-rate schedules (optim/optim.c) ----
 * A schedule is a small value: lr at step t (t = 0 for the first step) is nb_lr_at(&s, t).
 * Set it before each step with nb_optim_apply_schedule(opt, &s, t), which runs the schedule for
 * every group on the group's own initial rate (as PyTorch's schedulers scale each group's
 * initial_lr), or with nb_optim_set_lr(opt, nb_lr_at(&s, t)) for one rate everywhere. */
typedef enum nb_lr_kind {
    NB_LR_CONSTANT = 0, /* base_lr */
    NB_LR_STAIRCASE,    /* base_lr * gamma^floor(t / step_size) */
    NB_LR_EXPONENTIAL,  /* base_lr * gamma^t */
    NB_LR_COSINE,    /* eta_min + (base_lr - eta_min) * (1 + cos(pi * min(t, t_max) / t_max)) / 2 */
    NB_LR_ONE_CYCLE, /* PyTorch's OneCycleLR with max_lr = base_lr (nb_lr_one_cycle) */
} nb_lr_kind;

typedef struct nb_lr_schedule {
    nb_lr_kind kind;
    double base_lr;
    double gamma;      /* STEP, EXPONENTIAL */
    int64_t step_size; /* STEP */
    int64_t t_max;     /* COSINE: steps to reach eta_min (it stays there after) */
    double eta_min;    /* COSINE */
    /* Linear warm-up in front of any schedule: for t < warmup_steps the lr is
     * schedule(0) * (warmup_start + (1 - warmup_start) * t / warmup_steps); afterwards the
     * schedule runs from its own step 0, i.e. lr(t) = schedule(t - warmup_steps). */
    int64_t warmup_steps;
    double warmup_start; /* factor at t = 0, in [0, 1] */
    /* ONE_CYCLE: from base_lr / div_factor up to base_lr over the first pct_start of
     * total_steps, then down to base_lr / (div_factor * final_div_factor) at step total_steps - 1
     * (it stays there after); three_phase: up, back down to base_lr / div_factor by
     * 2 * pct_start, then to the minimum. Cosine annealing between the phase ends, or linear.
     * cycle_momentum: the momentum (SGD, RMSprop) or beta1 (the Adam family) runs the other way,
     * from max_momentum to base_momentum and back (nb_lr_momentum_at). */
    int64_t total_steps;     /* >= 1 */
    double pct_start;        /* 0.3, in [0, 1] */
    bool anneal_linear;      /* false: cosine */
    bool three_phase;        /* false */
    double div_factor;       /* 25, > 0 */
    double final_div_factor; /* 1e4, > 0 */
    bool cycle_momentum;     /* true */
    double base_momentum;    /* 0.85 */
    double max_momentum;     /* 0.95 */
} nb_lr_schedule;

NB_API nb_lr_schedule nb_lr_constant(double lr);
NB_API nb_lr_schedule nb_lr_staircase(double base_lr, int64_t step_size, double gamma);
NB_API nb_lr_schedule nb_lr_exponential(double base_lr, double gamma);
NB_API nb_lr_schedule nb_lr_cosine(double base_lr, int64_t t_max, double eta_min);
/* One cycle of total_steps steps peaking at max_lr, with PyTorch's defaults (above). */
NB_API nb_lr_schedule nb_lr_one_cycle(double max_lr, int64_t total_steps);
/* s with a linear warm-up of `steps` steps starting at factor `start_factor`. */
NB_API nb_lr_schedule nb_lr_with_warmup(nb_lr_schedule s, int64_t steps, double start_factor);
/* Learning rate at step t >= 0 (negative t counts as 0). NaN with NB_ERR_VALUE naming the
 * field and its value for NULL or an invalid schedule: an unknown kind, base_lr (and gamma,
 * eta_min where used) not finite and >= 0, step_size or t_max < 1 where used, warmup_steps < 0,
 * warmup_start outside [0, 1]; for ONE_CYCLE total_steps < 1, pct_start outside [0, 1],
 * div_factor or final_div_factor not finite and > 0, momenta (when cycled) outside [0, 1), or
 * t in a phase of no length (where PyTorch divides by zero). */
NB_API double nb_lr_at(const nb_lr_schedule *s, int64_t t);
/* The momentum (or beta1) a ONE_CYCLE schedule with cycle_momentum gives step t; NaN with
 * NB_ERR_VALUE for any other schedule or an invalid one. */
NB_API double nb_lr_momentum_at(const nb_lr_schedule *s, int64_t t);
/* Set every group's learning rate to the schedule at step t run on the group's initial rate in
 * place of s->base_lr (for one-cycle the group's initial rate is its max_lr); with a cycled
 * momentum also every group's momentum (SGD, RMSprop: groups built with momentum > 0) or beta1
 * (Adam, AdamW, NAdam, RAdam, Adamax). Errors: NB_ERR_VALUE for NULL, an invalid schedule (as
 * nb_lr_at), a cycled momentum the optimizer cannot take (naming the family or the group);
 * nothing changes then. */
NB_API nb_status nb_optim_apply_schedule(nb_optim *o, const nb_lr_schedule *s, int64_t t);

/* ReduceLROnPlateau: after each evaluation, nb_lr_plateau_observe(&p, opt, metric); when the
 * metric has not improved on the best one for more than `patience` observations, every group's
 * rate becomes max(lr * factor, min_lr) (unless that changes it by eps or less), and the next
 * `cooldown` observations count no bad ones. "Improved", mode min: metric < best * (1 -
 * threshold) (relative) or metric < best - threshold (absolute); mode max: metric > best * (1 +
 * threshold) or metric > best + threshold. NaN never improves. PyTorch's rules and defaults;
 * the struct carries the state (plain values: copy it to save it). */
typedef struct nb_lr_plateau {
    bool maximize;      /* false: mode "min" */
    double factor;      /* 0.1, in [0, 1) */
    int64_t patience;   /* 10, >= 0 */
    double threshold;   /* 1e-4, finite and >= 0 */
    bool threshold_abs; /* false: "rel" */
    int64_t cooldown;   /* 0, >= 0 */
    double min_lr;      /* 0, finite and >= 0 (every group's) */
    double eps;         /* 1e-8, finite and >= 0 */
    /* state, zero from nb_lr_plateau_defaults */
    int64_t observations, num_bad, cooldown_left;
    double best; /* meaningful once observations > 0 */
} nb_lr_plateau;
/* The options above with PyTorch's defaults and a fresh state. */
NB_API nb_lr_plateau nb_lr_plateau_defaults(void);
/* Record one metric value and lower the rates when the plateau rule says so. Errors:
 * NB_ERR_VALUE for NULL or an option out of range (named with its value); nothing changes. */
NB_API nb_status nb_lr_plateau_observe(nb_lr_plateau *p, nb_optim *o, double metric);

/* ---- training checkpoints: a module and its optimizer ----
 * One checkpoint file holding a module's parameters and buffers (nn.h; BatchNorm's running
 * statistics), named "model.<path>" ("model.0.weight", "model.1.running_mean", like PyTorch's
 * state_dict), and optionally an optimizer's state, named "optim.<state name>" ("optim.step",
 * "optim.0.weight.momentum_buffer"), and its groups: "optim.group.<g>.params" (an NB_I64 vector of
 * the group's parameter indices, in optimizer order), "optim.group.<g>.frozen", ".joined_at"
 * (NB_I64 scalars) and ".lr", ".initial_lr" and the family's per-group options (NB_F64 scalars).
 * Loading both into a freshly built model and optimizer of the same configuration (the same groups
 * of the same parameters) resumes training exactly: the following steps give bit-identical
 * parameters to an uninterrupted run, with the groups' rates and options as saved. A file
 * saved before checkpoints held groups loads too; the groups then keep their options. */
/* Save module's parameters and buffers and, when optim is not NULL, optim's state to `path`
 * (atomically, like nb_checkpoint_save in nabla/io.h). Errors: NB_ERR_VALUE (NULL path or module, a
 * module with neither parameters nor buffers), NB_ERR_IO, NB_ERR_NOMEM; an existing file is then
 * left untouched. */
NB_API nb_status nb_checkpoint_save_model(const char *path, nb_module *module, nb_optim *optim);
/* Load a file written by nb_checkpoint_save_model into module and, when optim is not NULL, into
 * optim's state (the file must then hold it). With optim NULL, optimizer entries in the file are
 * read, checked and ignored. All-or-nothing: on error neither the module nor the optimizer
 * changes. Errors: as nb_checkpoint_load, in particular NB_ERR_SHAPE when a parameter has
 * another shape in the file (the message names the tensor and both shapes, e.g. "tensor
 * 'model.0.weight' is f32 [10, 784] in the file but f32 [10, 100] in the destination") and
 * NB_ERR_VALUE when the file lacks a parameter or buffer or holds one the module does not have
 * (another architecture), or holds no optimizer state while optim is given, or its groups
 * differ from optim's (number, members, frozen) or hold options out of range. A file saved before
 * checkpoints held buffers (no "model.*.running_mean" for a module with BatchNorm) is refused
 * with NB_ERR_VALUE saying so; its parameters can still be read with nb_checkpoint_load_tensor
 * or with nb_checkpoint_load and the names of nb_module_named_params prefixed by "model.". */
NB_API nb_status nb_checkpoint_load_model(const char *path, nb_module *module, nb_optim *optim);

#ifdef __cplusplus
}
#endif
#endif
