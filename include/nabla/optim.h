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
 *             nb_optim_set_lr(opt, nb_lr_at(&sched, t));
 *             st = nb_optim_update(opt);
 *         }
 *         nb_step_end(step);
 *     }
 *     nb_optim_free(opt);
 *
 * Update formulas are PyTorch's (torch.optim, same defaults); each constructor's comment gives
 * its formula for a gradient g of parameter p at step t = 1, 2, ... Computations run in the
 * parameter's dtype. */
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
/* Learning rate used by the next step (lr finite and >= 0; NB_ERR_VALUE naming the value
 * otherwise, and the rate is unchanged). */
NB_API nb_status nb_optim_set_lr(nb_optim *o, double lr);
NB_API double nb_optim_get_lr(const nb_optim *o);
/* "SGD", "Adagrad", "AdaDelta", "RMSprop", "Adam", "AdamW". */
NB_API const char *nb_optim_name(const nb_optim *o);
/* Steps taken so far (the "step" state tensor). One count serves every parameter (bias
 * corrections, SGD's first momentum step). */
NB_API int64_t nb_optim_update_count(const nb_optim *o);
/* Number of parameter tensors the optimizer updates. */
NB_API int nb_optim_num_params(const nb_optim *o);
/* Add a parameter: a caller- or module-owned contiguous float tensor, named `name` (copied,
 * unique) in the state names. The tensor must outlive the optimizer. Its state starts at zero
 * (or the optimizer's initial value). Errors: NB_ERR_VALUE (NULL, duplicate name),
 * NB_ERR_DTYPE (not float), NB_ERR_SHAPE (not contiguous), NB_ERR_NOMEM. */
NB_API nb_status nb_optim_add_param(nb_optim *o, const char *name, nb_tensor *param);
/* Fill out[0 .. min(cap, total) - 1] with the optimizer's state tensors and return the total
 * (call with cap 0 to size the array; -1 on NB_ERR_NOMEM): "step" (an NB_I64 scalar holding the
 * step count), then per parameter "<param name>.<state>" in parameter order, e.g.
 * "0.weight.momentum_buffer", "fc1.bias.exp_avg_sq". Tensors and names are owned by the optimizer
 * (valid until nb_optim_free or nb_optim_add_param); writing into them (loading a checkpoint)
 * restores the optimizer. */
NB_API int nb_optim_named_state(nb_optim *o, nb_named_tensor *out, int cap);

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
 * Set it before each step with nb_optim_set_lr(opt, nb_lr_at(&s, t)). */
typedef enum nb_lr_kind {
    NB_LR_CONSTANT = 0, /* base_lr */
    NB_LR_STAIRCASE,    /* base_lr * gamma^floor(t / step_size) */
    NB_LR_EXPONENTIAL,  /* base_lr * gamma^t */
    NB_LR_COSINE, /* eta_min + (base_lr - eta_min) * (1 + cos(pi * min(t, t_max) / t_max)) / 2 */
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
} nb_lr_schedule;

NB_API nb_lr_schedule nb_lr_constant(double lr);
NB_API nb_lr_schedule nb_lr_staircase(double base_lr, int64_t step_size, double gamma);
NB_API nb_lr_schedule nb_lr_exponential(double base_lr, double gamma);
NB_API nb_lr_schedule nb_lr_cosine(double base_lr, int64_t t_max, double eta_min);
/* s with a linear warm-up of `steps` steps starting at factor `start_factor`. */
NB_API nb_lr_schedule nb_lr_with_warmup(nb_lr_schedule s, int64_t steps, double start_factor);
/* Learning rate at step t >= 0 (negative t counts as 0). NaN with NB_ERR_VALUE naming the
 * field and its value for NULL or an invalid schedule: an unknown kind, base_lr (and gamma,
 * eta_min where used) not finite and >= 0, step_size or t_max < 1 where used, warmup_steps < 0,
 * warmup_start outside [0, 1]. */
NB_API double nb_lr_at(const nb_lr_schedule *s, int64_t t);

/* ---- training checkpoints: a module and its optimizer ----
 * One checkpoint file holding a module's parameters and buffers (nn.h; BatchNorm's running
 * statistics), named "model.<path>" ("model.0.weight", "model.1.running_mean", like PyTorch's
 * state_dict), and optionally an optimizer's state, named "optim.<state name>" ("optim.step",
 * "optim.0.weight.momentum_buffer"). Loading both into a freshly built model and optimizer of the
 * same configuration resumes training exactly: the following steps give bit-identical
 * parameters to an uninterrupted run. */
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
 * (another architecture), or holds no optimizer state while optim is given. A file saved before
 * checkpoints held buffers (no "model.*.running_mean" for a module with BatchNorm) is refused
 * with NB_ERR_VALUE saying so; its parameters can still be read with nb_checkpoint_load_tensor
 * or with nb_checkpoint_load and the names of nb_module_named_params prefixed by "model.". */
NB_API nb_status nb_checkpoint_load_model(const char *path, nb_module *module, nb_optim *optim);

#ifdef __cplusplus
}
#endif
#endif
