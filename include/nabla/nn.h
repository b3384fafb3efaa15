/* nabla/nn.h — modules: parameters in one buffer, layers, activations, containers, initialisers.
 *
 * A module (nb_module) is a layer or a network: a kind ("Linear", "Sequential", ...), parameters,
 * children, a train/eval flag and a forward function. Modules are built only from public ops, so
 * nb_backward differentiates them with no extra code.
 *
 * Parameters. A module owns its parameters and those of its descendants in ONE contiguous
 * buffer (and one contiguous gradient buffer of the same size), in depth-first order: the
 * module's own parameters in the order they were added, then each child's, in order. Every
 * parameter is a view into that buffer and its gradient a view into the gradient buffer, so
 * zeroing gradients, clipping, optimizer updates and checkpoints are single loops
 * (nb_module_param_buffer, nb_module_grad_buffer). Adding a child moves the child's parameters
 * into the parent's buffer: nb_tensor pointers stay valid, raw data pointers taken before
 * (nb_tensor_data_f32) do not. Parameters are f32 or f64; all parameters of a tree share one
 * dtype. Parameter tensors and their gradients are owned by the module: never free them.
 *
 * Buffers. Non-trainable state that belongs to a module's value, like BatchNorm's running mean
 * and variance (PyTorch's register_buffer): named tensors (nb_module_add_buffer) that are not
 * parameters — they have no gradient, optimizers and nb_module_named_params never list them and
 * nb_module_num_params does not count them — but they are listed by nb_module_named_buffers
 * with dotted names ("1.running_mean") and saved and loaded by nb_checkpoint_save_model /
 * nb_checkpoint_load_model beside the parameters. Each buffer is a tensor of its own (not in the
 * parameter buffer), owned by its module.
 *
 * Ownership. Constructors return a caller-owned module; nb_module_free frees it with its
 * children. A module added to a container (nb_module_add_child, nb_sequential_new,
 * nb_sequential_append) belongs to the container from then on, even when the call fails, so
 * constructors can be nested without leaks:
 *
 *     nb_rng rng = nb_rng_seed(42);
 *     nb_module *net = nb_sequential_new(3, (nb_module *[]){
 *         nb_linear_new(784, 128, true, &rng), nb_relu_new(), nb_linear_new(128, 10, true, &rng)});
 *     if (!net) fprintf(stderr, "%s\n", nb_last_error());   (any NULL inside is reported here)
 *     ...
 *     nb_tensor *logits = nb_module_forward(net, x);          (x: [batch, 784])
 *     nb_module_free(net);
 *
 * Forward results are op results: they live in the active step's arena, like those of any op.
 * With no active step, nb_module_forward runs the forward inside a private step and returns a
 * caller-owned copy of the result (free it with nb_tensor_free), so no intermediate of the
 * forward leaks. nb_module_forward propagates NULL: a NULL input yields NULL and keeps the first
 * error message.
 *
 * Lookups by name (nb_module_child, nb_module_param, nb_module_buffer) set an error naming the
 * missing name and listing what the module has, e.g.
 *     "nb_module_child: Sequential has no child "nope"; it has children 0, 1, 2"
 * and forwarding the NULL they return keeps that message. nb_module_has_child / _param /
 * _buffer test for an optional entry without an error.
 *
 * Errors name the module by its dotted path in the tree and its kind, e.g.
 *     "nb_module_forward: Linear '0' (3 -> 2): input is [4, 5], expected [*, 3]"
 *
 * Defining a new kind of module (RNN cells, convolutions, normalisation, RBMs, ...) uses the same
 * public API as the built-in layers (nn/linear.c is a complete example):
 *
 *     typedef struct { double scale; } affine_cfg;             (per-module settings)
 *
 *     static nb_tensor *affine_forward(nb_module *m, nb_tensor *x)
 *     {
 *         const affine_cfg *cfg = nb_module_user_data(m);
 *         nb_tensor *w = nb_module_param(m, "weight"), *b = nb_module_param(m, "bias");
 *         if (x && nb_tensor_dim(x, -1) != nb_tensor_dim(w, 0)) {
 *             char got[64];
 *             nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [*, %lld]",
 *                             nb_tensor_shape_str(x, got, sizeof got),
 *                             (long long)nb_tensor_dim(w, 0));
 *             return NULL;
 *         }
 *         return nb_add(nb_mul_scalar(nb_mul(x, w), cfg->scale), b);   (NULL-propagating)
 *     }
 *
 *     nb_module *affine_new(int64_t n, double scale, nb_dtype dtype)
 *     {
 *         affine_cfg *cfg = malloc(sizeof *cfg);
 *         if (!cfg) return NULL;
 *         cfg->scale = scale;
 *         nb_module *m = nb_module_new("Affine", dtype, affine_forward, cfg, free);
 *         if (!m) return NULL;                       (cfg was freed by nb_module_new)
 *         nb_tensor *w = nb_module_add_param(m, "weight", 1, (int64_t[]){n});
 *         nb_tensor *b = nb_module_add_param(m, "bias", 1, (int64_t[]){n});
 *         if (!w || !b || nb_init_constant(w, 1.0) != NB_OK) {
 *             nb_module_free(m);
 *             return NULL;
 *         }
 *         nb_module_set_info(m, "n=%lld", (long long)n);           (shown by summary/errors)
 *         return m;
 *     }
 *
 * Modules with several inputs or outputs (an LSTM cell taking (x, h, c)) keep their own typed
 * functions beside the generic forward and reach their parameters with nb_module_param. */
#ifndef NABLA_NN_H
#define NABLA_NN_H

#include <stdio.h>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_module nb_module;

/* Forward function of a module kind: y = f(m, x). x is never NULL, and a step is always active
 * (nb_module_forward provides a private one when the caller has none), so the function composes
 * ops freely. Return an op result (or x itself), or NULL after reporting an error with
 * nb_module_error / an op's own error. */
typedef nb_tensor *(*nb_module_forward_fn)(nb_module *m, nb_tensor *x);
/* Frees a module's user_data (called once by nb_module_free). */
typedef void (*nb_module_free_fn)(void *user_data);

/* Longest kind, parameter or child name (without the terminating NUL). */
#define NB_MODULE_NAME_MAX 63

/* ======================================================================================
 * Using modules
 * ====================================================================================== */

/* y = m(x). Inside a step, y is an op result recorded on the step's tape (or x itself for
 * modules that return their input, like Identity or Dropout in eval mode). With no active step,
 * the forward runs in a private step with gradient recording off, and y is a new caller-owned
 * tensor (always distinct from x) holding the same values a step would give: there is no tape to
 * differentiate, y does not require grad, and the caller frees it with nb_tensor_free. Module
 * state changes the same way in both cases (Dropout's rng advances, BatchNorm in training mode
 * updates its running statistics).
 * Propagates NULL: a NULL x returns NULL without a new message, and a NULL m (a failed lookup)
 * keeps the lookup's message. Errors from the module's forward (wrong shapes, dtypes) return
 * NULL and set nb_last_error(); a module without a forward function (a pure parameter container)
 * is NB_ERR_STATE. */
NB_API nb_tensor *nb_module_forward(nb_module *m, nb_tensor *x);
/* Free m, its children, parameters, gradients and user_data. NULL is a no-op. A module that
 * belongs to a container is freed by its container: calling this on it does nothing. */
NB_API void nb_module_free(nb_module *m);

/* Kind given at creation ("Linear", "ReLU", "Sequential", ...). "" for NULL. */
NB_API const char *nb_module_kind(const nb_module *m);
/* Name in the parent ("0", "fc1"); "" for a root module. */
NB_API const char *nb_module_name(const nb_module *m);
/* Dotted path from the root ("encoder.0"); "" for the root. Writes into buf (always
 * NUL-terminated) and returns it. */
NB_API char *nb_module_path(const nb_module *m, char *buf, size_t size);
/* Short description set by the constructor ("784 -> 128", "p=0.5"); "" when none. */
NB_API const char *nb_module_info(const nb_module *m);
/* Parameter dtype (NB_F32 or NB_F64). */
NB_API nb_dtype nb_module_dtype(const nb_module *m);
/* Parent container, or NULL for a root. */
NB_API nb_module *nb_module_parent(const nb_module *m);

/* Train / eval mode for m and all its descendants (default: training). Dropout is active only
 * in training mode; custom modules read it with nb_module_is_training. */
NB_API void nb_module_train(nb_module *m, bool training);
NB_API bool nb_module_is_training(const nb_module *m);

/* ---- parameters ---- */
/* Number of scalar parameters of m and its descendants (weights and biases; "count the
 * weights"). 0 for NULL. */
NB_API int64_t nb_module_num_params(const nb_module *m);
/* Same, counting only parameters that require grad (not frozen). */
NB_API int64_t nb_module_num_trainable_params(const nb_module *m);
/* Number of parameter tensors of m and its descendants. */
NB_API int nb_module_num_param_tensors(const nb_module *m);
/* Fill out[0 .. min(cap, total) - 1] with the parameters of m and its descendants in buffer
 * order, named by their dotted path relative to m ("0.weight", "fc1.bias"); returns the total
 * number (call with cap 0 to size the array), or -1 on NB_ERR_NOMEM / NULL m. Names are owned by m
 * and valid until the next call of this function on m, a structural change (add param/child) or
 * nb_module_free. */
NB_API int nb_module_named_params(nb_module *m, nb_named_tensor *out, int cap);
/* A parameter by dotted path relative to m ("weight", "0.bias"); owned by the module. Missing:
 * NULL with NB_ERR_VALUE naming the path and listing the parameters, buffers and children of the
 * module where the lookup stopped (test optional parameters with nb_module_has_param). */
NB_API nb_tensor *nb_module_param(nb_module *m, const char *path);
/* Whether m has a parameter at `path` (no error set). */
NB_API bool nb_module_has_param(const nb_module *m, const char *path);
/* All parameter values of m's tree as one contiguous 1-D tensor [nb_module_num_params(m)]
 * (a view owned by the module; writes change the parameters). NULL when m has no parameters.
 * Valid until m's structure changes (a param or child added to m or an ancestor). */
NB_API nb_tensor *nb_module_param_buffer(nb_module *m);
/* The matching gradient buffer: gradient of parameter k at the same offset as its value. */
NB_API nb_tensor *nb_module_grad_buffer(nb_module *m);
/* Set every parameter gradient of m's tree to zero (one memset). */
NB_API void nb_module_zero_grad(nb_module *m);
/* Freeze (false) or unfreeze (true) every parameter of m's tree: frozen parameters get no
 * gradient from nb_backward and optimizers skip them (transfer learning: freeze a pretrained
 * body, train a new head). Errors: NB_ERR_VALUE for NULL. */
NB_API nb_status nb_module_set_requires_grad(nb_module *m, bool requires_grad);

/* ---- buffers (non-trainable state; see the top of this file) ---- */
/* Fill out[0 .. min(cap, total) - 1] with the buffers of m and its descendants (each module's
 * own in the order added, then each child's, depth-first) named by their dotted path relative to
 * m ("running_mean", "1.running_var"); returns the total number (cap 0 to size the array), or -1
 * on NB_ERR_NOMEM / NULL m. Names are valid like those of nb_module_named_params. */
NB_API int nb_module_named_buffers(nb_module *m, nb_named_tensor *out, int cap);
/* A buffer by dotted path relative to m ("0.running_mean"); owned by the module. Missing: NULL
 * with NB_ERR_VALUE naming the path and listing what the module has. */
NB_API nb_tensor *nb_module_buffer(nb_module *m, const char *path);
/* Whether m has a buffer at `path` (no error set). */
NB_API bool nb_module_has_buffer(const nb_module *m, const char *path);

/* ---- children ---- */
NB_API int nb_module_num_children(const nb_module *m);
/* Child i in insertion order, or NULL when out of range. */
NB_API nb_module *nb_module_child_at(const nb_module *m, int i);
/* Descendant by dotted path ("encoder.0"; "" is m itself). Missing: NULL with NB_ERR_VALUE
 * naming the path and listing the children of the module where the lookup stopped, e.g.
 *     "nb_module_child: Sequential has no child "nope"; it has children 0, 1, 2" */
NB_API nb_module *nb_module_child(const nb_module *m, const char *path);
/* Whether m has a descendant at `path` (no error set). */
NB_API bool nb_module_has_child(const nb_module *m, const char *path);
/* The forward of m's descendant at `path` on x, nb_module_forward(nb_module_child(m, path), x):
 * how a custom forward calls its children (PyTorch's self.conv1(x)), nesting like the ops:
 *     return nb_relu(nb_child_forward(m, "bn1", nb_child_forward(m, "conv1", x)));
 * NULL with nb_module_child's error (naming the missing child) or the forward's; a NULL x
 * yields NULL keeping the pending error. */
NB_API nb_tensor *nb_child_forward(nb_module *m, const char *path, nb_tensor *x);

/* Print a table of m's tree: one row per module in pre-order, containers (built-in or custom)
 * included and indented by depth (name, kind and info, parameter count, parameter shapes; a
 * container's count is its subtree total in parentheses), then the total and trainable counts.
 * Counts are written with thousands separators ("25,088"). With an input shape:
 * nb_module_summary_shapes. */
NB_API void nb_module_summary(const nb_module *m, FILE *out);

/* ---- walking the tree, summaries with output shapes ---- */
/* Called by nb_module_apply for each module: `path` is its dotted path relative to the walk's
 * root ("" for the root, "0", "encoder.1"), depth 0 for the root. Return 0 (NB_OK) to go on;
 * any other value stops the walk and is returned by nb_module_apply (so a callback can return
 * an nb_status from an initialiser). The callback may change parameters, buffers, info and
 * train mode; it must not add parameters or children, or free modules. */
typedef int (*nb_module_visit_fn)(nb_module *m, const char *path, int depth, void *ctx);
/* Apply fn to m and every descendant in pre-order (a module before its children, children in
 * insertion order), like PyTorch's Module.apply but with names and an early stop. Returns 0 when
 * every module was visited, the first non-zero value fn returned, or NB_ERR_VALUE (with an
 * error message) for NULL m or fn. Example, initialisation by layer type:
 *
 *     static int init_linear(nb_module *m, const char *path, int depth, void *rng)
 *     {
 *         (void)path, (void)depth;
 *         if (strcmp(nb_module_kind(m), "Linear"))
 *             return 0;
 *         return nb_init_xavier_uniform(nb_module_param(m, "weight"), rng, 1.0);
 *     }
 *     ...
 *     nb_status st = nb_module_apply(net, init_linear, &rng); */
NB_API int nb_module_apply(nb_module *m, nb_module_visit_fn fn, void *ctx);
/* nb_module_summary with each module's output for an input of `shape` (ndim dims, batch first;
 * NB_SHAPE(1, 1, 28, 28)) and `dtype` (the parameters' dtype for most networks, NB_I64 for
 * token ids): runs one forward on zeros with gradient recording off and every module in eval
 * mode (train flags are restored afterwards, so running statistics and dropout rngs do not
 * change), inside a private step (or the caller's active step, whose arena then holds the
 * intermediates until it ends), and prints one row per module, containers included, indented
 * by depth, in the notes' compact notation: for an input with a batch dim (ndim >= 2) shapes are
 * per sample, e.g. "32x28x28 = 25,088" (values per sample); "-" for a module the forward did
 * not reach through nb_module_forward, "(k calls)" after one reached k times. A container's
 * parameter count is its subtree total in parentheses. Returns NB_OK, or the forward's error
 * (nothing printed), NB_ERR_VALUE for NULL m or out, NB_ERR_SHAPE for a bad ndim or a dim < 1,
 * NB_ERR_STATE for a module without a forward function. */
NB_API nb_status nb_module_summary_shapes(nb_module *m, FILE *out, nb_dtype dtype, int ndim,
                                          const int64_t *shape);

/* ======================================================================================
 * Defining new module kinds
 * ====================================================================================== */

/* New empty module of `kind` (copied; 1..NB_MODULE_NAME_MAX chars) whose parameters will have
 * `dtype` (NB_F32 or NB_F64). forward may be NULL (parameter holders, containers with custom
 * entry points). user_data is the kind's private state; free_user (may be NULL) frees it when
 * the module is freed, and also right away when this call fails. Returns a caller-owned module,
 * or NULL with NB_ERR_VALUE (bad kind), NB_ERR_DTYPE, NB_ERR_NOMEM. */
NB_API nb_module *nb_module_new(const char *kind, nb_dtype dtype, nb_module_forward_fn forward,
                                void *user_data, nb_module_free_fn free_user);
/* Add a parameter `name` (unique among m's parameters, buffers and children, no '.') of `shape` to
 * m's buffer; returns it (owned by m), zero-filled, requiring grad, with a zeroed gradient view
 * attached. m must not belong to a container yet (NB_ERR_STATE). Earlier parameters of m keep
 * their values; raw data pointers into them are invalidated. Errors -> NULL: NB_ERR_VALUE (bad
 * name), NB_ERR_SHAPE, NB_ERR_STATE, NB_ERR_NOMEM. */
NB_API nb_tensor *nb_module_add_param(nb_module *m, const char *name, int ndim,
                                      const int64_t *shape);
/* Add a buffer `name` (unique among m's parameters, buffers and children, no '.') of `dtype`
 * (NB_F32, NB_F64 or NB_I64) and `shape`: a zero-filled module-owned tensor that does not
 * require grad (see "Buffers" at the top of this file). Set its initial value through the
 * returned pointer, which stays valid for m's lifetime (buffers never move). m must not belong
 * to a container yet (NB_ERR_STATE). Errors -> NULL: NB_ERR_VALUE (bad name), NB_ERR_DTYPE,
 * NB_ERR_SHAPE, NB_ERR_STATE, NB_ERR_NOMEM. */
NB_API nb_tensor *nb_module_add_buffer(nb_module *m, const char *name, nb_dtype dtype, int ndim,
                                       const int64_t *shape);
/* Make child a child of m under `name` (unique, no '.'); child's parameters move into m's
 * buffer. m takes ownership of child in every case (on error child is freed), so a NULL child
 * from a failed constructor is reported here: NB_ERR_VALUE. Other errors: NB_ERR_STATE (m
 * already belongs to a container, or child already has a parent), NB_ERR_DTYPE (parameter
 * dtypes differ), NB_ERR_NOMEM. */
NB_API nb_status nb_module_add_child(nb_module *m, const char *name, nb_module *child);
/* The user_data given to nb_module_new. */
NB_API void *nb_module_user_data(const nb_module *m);
/* Set the short description shown by nb_module_summary and in errors (printf-style; truncated
 * to 127 characters). */
NB_API nb_status nb_module_set_info(nb_module *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Report an error from inside a module's forward as
 *     "nb_module_forward: <Kind> '<path>' (<info>): <message>"
 * (the quoted path and info only when non-empty). Keeps an earlier pending error, like every
 * nabla error. Returns status. */
NB_API nb_status nb_module_error(const nb_module *m, nb_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ======================================================================================
 * Layers and activations
 * ====================================================================================== */

/* Fully connected layer y = x @ weight^T + bias. Parameters "weight" [n_out, n_in] and, when
 * bias is true, "bias" [n_out]. Accepts x of shape [*, n_in] (any number of leading dims,
 * including none) and returns [*, n_out]. Initialised like PyTorch's nn.Linear: weight
 * Kaiming-uniform with a = sqrt(5) (uniform in +-1/sqrt(n_in)), bias uniform in
 * +-1/sqrt(n_in), drawn from rng (required). f32 parameters. Errors: NB_ERR_VALUE (n_in or n_out
 * < 1, rng NULL), NB_ERR_NOMEM. */
NB_API nb_module *nb_linear_new(int64_t n_in, int64_t n_out, bool bias, nb_rng *rng);
/* Same with parameters of `dtype` (NB_F32 or NB_F64; f64 for gradient checks). */
NB_API nb_module *nb_linear_new_ex(int64_t n_in, int64_t n_out, bool bias, nb_rng *rng,
                                   nb_dtype dtype);

/* Elementwise activations as modules (no parameters; any input shape and float dtype). */
NB_API nb_module *nb_relu_new(void);
/* x for x > 0, slope * x otherwise (PyTorch's default slope is 0.01). */
NB_API nb_module *nb_leaky_relu_new(double slope);
NB_API nb_module *nb_sigmoid_new(void);
NB_API nb_module *nb_tanh_new(void);
NB_API nb_module *nb_softplus_new(void);
/* Softmax / log-softmax along `axis` (negative counts from the end; -1 = classes of [N, C]). */
NB_API nb_module *nb_softmax_new(int axis);
NB_API nb_module *nb_log_softmax_new(int axis);
/* y = x. */
NB_API nb_module *nb_identity_new(void);
/* [d0, d1, ...] -> [d0, d1 * ...] (nb_flatten): keeps the batch dim. */
NB_API nb_module *nb_flatten_new(void);

/* Inverted dropout with drop probability p in [0, 1). Training: each element is zeroed with
 * probability p (mask from nb_rand_bernoulli with the module's own rng, seeded with `seed`) and
 * the survivors are scaled by 1 / (1 - p), so the expected output equals the input. Eval: the
 * identity. Errors: NB_ERR_VALUE for p outside [0, 1). */
NB_API nb_module *nb_dropout_new(double p, uint64_t seed);

/* ---- containers ---- */
/* Apply children in order: y = m_{n-1}(... m_0(x)). Children are named "0", "1", ...
 * Takes ownership of modules[0..n-1] in every case (frees them on error); a NULL entry (a
 * failed constructor) fails the call with NB_ERR_VALUE, keeping the constructor's message.
 * n may be 0 (an identity, to be filled with nb_sequential_append). */
NB_API nb_module *nb_sequential_new(int n, nb_module *const *modules);
/* Append a module as the next child (named by its index). Takes ownership of `module` in every
 * case. seq must be a Sequential without a parent (NB_ERR_STATE otherwise). */
NB_API nb_status nb_sequential_append(nb_module *seq, nb_module *module);

/* A child of a container made by nb_container_new: its name (unique, no '.') and the module. */
typedef struct nb_named_module {
    const char *name;
    nb_module *module;
} nb_named_module;

/* A module of `kind` with the n children given, added in order under their names: a custom
 * container built in one call (nb_module_new + one nb_module_add_child per child), as a
 * PyTorch nn.Module's __init__ assigns its submodules:
 *
 *     nb_module *net = nb_container_new("Encoder", encoder_forward, NULL, NULL, 2,
 *         (nb_named_module[]){{"emb", nb_embedding_new(V, d, &rng)},
 *                             {"rnn", nb_rnn_layer_new(d, h, &ro, &rng)}});
 *
 * forward, user_data and free_user are as for nb_module_new; a NULL forward gives the container
 * the forward of a pure container: its children applied in insertion order, y = c_{n-1}(...
 * c_0(x)), like nb_sequential_new (a container whose parts are reached only through
 * nb_module_child and custom entry points never calls it). The parameters take the children's
 * dtype. Takes ownership of children[0..n-1].module in every case: on any error every one of
 * them (and user_data, through free_user) is freed and NULL is returned. A NULL module (a failed
 * constructor) fails the call with NB_ERR_VALUE naming the child and keeping the constructor's
 * message. Errors: NB_ERR_VALUE (n < 0, children NULL with n > 0, a NULL module, a bad or
 * repeated name, a bad kind), NB_ERR_STATE (a module that already belongs to a container: that
 * one is not freed), NB_ERR_DTYPE (children with different parameter dtypes), NB_ERR_NOMEM. */
NB_API nb_module *nb_container_new(const char *kind, nb_module_forward_fn forward, void *user_data,
                                   nb_module_free_fn free_user, int n,
                                   const nb_named_module *children);

/* ---- weight normalization ---- */
/* Weight normalization (Salimans & Kingma 2016) with the semantics of PyTorch's
 * torch.nn.utils.weight_norm(module, name, dim): m's parameter `name` (e.g. "weight") is
 * replaced by two parameters, name_v (same shape, initialised to the weight; it keeps the
 * weight's place in the parameter buffer) and name_g (size 1 in every dim but `dim`, appended
 * after m's other parameters, initialised to ||weight||), and `name` becomes a computed parameter
 *     w = g * v / ||v||,   the 2-norm over every dim of v except dim (keepdim),
 * made by ops on every nb_module_param(m, name): inside a step it is an op result on the tape,
 * so nb_backward reaches g and v (the module's forward is unchanged); outside a step it is a
 * module-owned snapshot of the current value (refreshed on each lookup). nb_module_has_param(m,
 * name) stays true; nb_module_named_params, optimizers and checkpoints see name_g and name_v.
 * dim 0 (PyTorch's default) normalises each output unit's incoming weights of a Linear
 * [out, in] or each filter of a Conv2d [out, in, kh, kw]; dim -1 (PyTorch's dim=None) uses one
 * norm over the whole tensor (name_g is then 0-dim). A v with a zero slice gives NaN, as in
 * PyTorch.
 * Apply it to a layer before adding the layer to a container:
 *     nb_sequential_new(3, (nb_module *[]){nb_weight_norm(nb_linear_new(784, 128, true, &rng),
 *                                          "weight", 0), nb_relu_new(), ...});
 * Returns m itself. Takes ownership of m: on any error m is freed and NULL returned (a NULL m,
 * from a failed constructor, keeps that constructor's message). Errors: NB_ERR_VALUE (NULL m,
 * `name` not a parameter of m itself — the message lists m's parameters — or name too long, dim
 * outside [-1, ndim - 1]), NB_ERR_STATE (m already in a container: not freed), NB_ERR_NOMEM. */
NB_API nb_module *nb_weight_norm(nb_module *m, const char *name, int dim);

/* ======================================================================================
 * Initialisers (in place, off the tape, from a seeded rng)
 * ======================================================================================
 * t: a contiguous f32/f64 tensor (typically a module parameter). Fans follow PyTorch: for
 * t of shape [out, in, k...], fan_in = in * prod(k), fan_out = out * prod(k); tensors with fewer
 * than 2 dims have no fans (NB_ERR_SHAPE from the fan-based initialisers). Errors: NB_ERR_VALUE
 * (NULL t or rng, bad range), NB_ERR_DTYPE (not float), NB_ERR_SHAPE (not contiguous, no fans). */
typedef enum nb_fan_mode {
    NB_FAN_IN = 0, /* preserves the variance of activations in the forward pass */
    NB_FAN_OUT = 1 /* preserves the variance of gradients in the backward pass */
} nb_fan_mode;

/* fan_in and fan_out of t (see above). */
NB_API nb_status nb_init_fans(const nb_tensor *t, int64_t *fan_in, int64_t *fan_out);
NB_API nb_status nb_init_uniform(nb_tensor *t, nb_rng *rng, double lo, double hi);
NB_API nb_status nb_init_normal(nb_tensor *t, nb_rng *rng, double mean, double std);
NB_API nb_status nb_init_zeros(nb_tensor *t);
NB_API nb_status nb_init_constant(nb_tensor *t, double value);
/* Glorot & Bengio 2010: uniform in +-gain * sqrt(6 / (fan_in + fan_out)) / normal with std
 * gain * sqrt(2 / (fan_in + fan_out)). gain 1 for linear/sigmoid layers. */
NB_API nb_status nb_init_xavier_uniform(nb_tensor *t, nb_rng *rng, double gain);
NB_API nb_status nb_init_xavier_normal(nb_tensor *t, nb_rng *rng, double gain);
/* He et al. 2015 for a (leaky) ReLU with negative slope a (0 for ReLU): gain = sqrt(2 / (1 +
 * a^2)); uniform in +-gain * sqrt(3 / fan) / normal with std gain / sqrt(fan), fan chosen by
 * mode. */
NB_API nb_status nb_init_kaiming_uniform(nb_tensor *t, nb_rng *rng, double a, nb_fan_mode mode);
NB_API nb_status nb_init_kaiming_normal(nb_tensor *t, nb_rng *rng, double a, nb_fan_mode mode);

/* ---- evaluation and generation ---- */

/* What nb_eval_begin changed, for nb_eval_end to restore. */
typedef struct nb_eval_scope {
    nb_module *model;  /* the module put in evaluation mode (may be NULL) */
    nb_step *step;     /* the step begun */
    nb_step *own;      /* the step made by nb_eval_begin when none was given (freed at the end) */
    bool was_training; /* the model's mode before */
    bool grad_enabled; /* the gradient switch before */
} nb_eval_scope;

/* Begin an evaluation scope: model (may be NULL) in evaluation mode, gradient recording off,
 * nb_step_begin(step) (step NULL: a step made for the scope). Every op result and module output
 * made until nb_eval_end lives in the step and is freed there, so evaluation code needs no
 * frees of its own:
 *
 *     nb_eval_scope sc;
 *     if (nb_eval_begin(&sc, net, NULL) == NB_OK)
 *         printf("val loss %.4f\n", nb_tensor_item(nb_cross_entropy(
 *                                         nb_module_forward(net, x), y, NB_REDUCE_MEAN)));
 *     nb_eval_end(&sc);                   (mode, switch restored; the step ended)
 *
 * Errors (nothing changed then, and nb_eval_end is a no-op): NB_ERR_VALUE (s NULL),
 * NB_ERR_STATE (a step is already active), NB_ERR_NOMEM. */
NB_API nb_status nb_eval_begin(nb_eval_scope *s, nb_module *model, nb_step *step);
/* End the scope: nb_step_end, the model's mode and the gradient switch as they were. */
NB_API void nb_eval_end(nb_eval_scope *s);

/* Autoregressive sampling from a language model: n ids drawn one after the other into out[0..n).
 * model's forward maps ids [1, ctx] (NB_I64) to logits whose last dim is the vocabulary ([ctx,
 * V], [1, ctx, V], ...); the last row predicts the next id, drawn by nb_sample_logits(opts, rng)
 * (opts NULL: NB_SAMPLE_DEFAULTS; num_samples must be 0). The context starts as prompt[0..ctx)
 * and slides: each drawn id is appended and the oldest dropped. Runs in an evaluation scope
 * (nb_eval_begin) per id; mode and gradient switch are restored. Errors: NB_ERR_VALUE (NULL
 * model, prompt, rng or out with n > 0, ctx < 1, n < 0, num_samples != 0), NB_ERR_STATE (called
 * in an active step), those of the forward and of nb_sample_logits, prefixed with
 * "nb_generate: id I:"; out[0..I) then holds the ids drawn before. */
NB_API nb_status nb_generate(nb_module *model, const int64_t *prompt, int64_t ctx, int64_t n,
                             const nb_sample_opts *opts, nb_rng *rng, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
