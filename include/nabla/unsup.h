/* nabla/unsup.h — unsupervised learning: autoencoders (plain, denoising, sparse, stacked),
 * restricted Boltzmann machines trained by contrastive divergence, deep belief nets; the codes
 * of a latent map for generative models; the Gaussian codes of variational autoencoders.
 *
 * Everything here is built from public ops and modules (nn.h), so an autoencoder is an ordinary
 * module trained with nb_backward and any optimizer:
 *
 *     nb_rng rng = nb_rng_seed(1);
 *     nb_module *ae = nb_autoencoder_new(6, (int64_t[]){784, 128, 64, 36, 18, 9}, NULL, &rng);
 *     nb_optim *opt = nb_adam_new(ae, NULL);
 *     ... per batch x [B, 784] in [0, 1], inside a step:
 *         nb_tensor *loss = nb_mse(nb_module_forward(ae, x), x, NB_REDUCE_MEAN);
 *         nb_backward(loss); nb_optim_update(opt);
 *
 * An RBM is a module too (parameters "weight" [V, H], "visible_bias" [V], "hidden_bias" [H]),
 * but it is trained by contrastive divergence rather than backpropagation: nb_rbm_cd_grad
 * writes the CD estimate of the negative log-likelihood gradient into the parameter gradients
 * (so any optimizer can apply it), and nb_rbm_trainer bundles CD-k / persistent CD with the
 * classic momentum and weight-decay update:
 *
 *     nb_module *rbm = nb_rbm_new(784, 500, NB_RBM_BERNOULLI, &rng);
 *     nb_rbm_train_opts o = nb_rbm_train_defaults();            (CD-1, lr 0.1, momentum 0.5)
 *     nb_rbm_trainer *tr = nb_rbm_trainer_new(rbm, &o);
 *     ... per batch v [B, 784] in [0, 1]:  nb_rbm_trainer_update(tr, v, &stats);
 *     nb_rbm_trainer_free(tr);
 *
 * Functions that compute internally with ops (CD, metrics, transforms) use the active step when
 * there is one (their intermediates are then freed by its nb_step_end) and a private step of
 * their own otherwise. Functions documented as "op-like" follow the rules of ops.h: results live
 * in the active step's arena, or are caller-owned with no active step; NULL inputs propagate. */
#ifndef NABLA_UNSUP_H
#define NABLA_UNSUP_H

#include "nabla/nn.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================
 * Multilayer perceptrons and autoencoders (unsup/autoencoder.c)
 * ====================================================================================== */

/* Elementwise activation placed after a linear layer. */
typedef enum nb_activation {
    NB_ACT_NONE = 0, /* identity: no module is added */
    NB_ACT_RELU,
    NB_ACT_SIGMOID,
    NB_ACT_TANH,
    NB_ACT_LEAKY_RELU,     /* slope 0.01 (PyTorch's default) */
    NB_ACT_LEAKY_RELU_0_2, /* slope 0.2: GAN generators and discriminators (DCGAN's choice) */
} nb_activation;

/* "none", "relu", "sigmoid", "tanh", "leaky_relu", "leaky_relu_0.2" ("?" for an unknown
 * value). */
NB_API const char *nb_activation_name(nb_activation act);
/* New activation module for act (NB_ACT_NONE gives an Identity). NULL with NB_ERR_VALUE for an
 * unknown value, NB_ERR_NOMEM. */
NB_API nb_module *nb_activation_new(nb_activation act);

/* Sequential of Linear layers sizes[0] -> sizes[1] -> ... -> sizes[n_sizes - 1] (n_sizes >= 2,
 * every size >= 1), each followed by `hidden` except the last, which is followed by `last`
 * (no module for NB_ACT_NONE). Children are "0", "1", ... in that order: e.g. 784-128-10 with
 * ReLU and NONE gives Linear, ReLU, Linear. Linear layers are initialised as nb_linear_new
 * (PyTorch's default) from rng; parameters have `dtype` (NB_F32 or NB_F64). Returns a
 * caller-owned module. Errors -> NULL: NB_ERR_VALUE (bad sizes or activation, NULL rng),
 * NB_ERR_DTYPE, NB_ERR_NOMEM. */
NB_API nb_module *nb_mlp_new(int n_sizes, const int64_t *sizes, nb_activation hidden,
                             nb_activation last, nb_rng *rng, nb_dtype dtype);

typedef struct nb_autoencoder_opts {
    nb_activation hidden; /* after every inner layer of encoder and decoder: NB_ACT_RELU */
    nb_activation code;   /* after the encoder's last layer (the code): NB_ACT_NONE */
    nb_activation output; /* after the decoder's last layer: NB_ACT_SIGMOID */
    nb_dtype dtype;       /* NB_F32 */
} nb_autoencoder_opts;

/* The defaults above: the course's stacked autoencoder (ReLU inside, linear code, sigmoid
 * output for inputs in [0, 1]). */
NB_API nb_autoencoder_opts nb_autoencoder_defaults(void);

/* Autoencoder with an encoder sizes[0] -> ... -> sizes[n_sizes - 1] (the code size) and a
 * mirrored decoder sizes[n_sizes - 1] -> ... -> sizes[0], both nb_mlp_new Sequentials, held as
 * the children "encoder" and "decoder" of a module of kind "Autoencoder" whose forward is
 * decoder(encoder(x)): x [*, sizes[0]] -> [*, sizes[0]]. n_sizes >= 2. opts NULL = defaults.
 * Returns a caller-owned module. Errors -> NULL as nb_mlp_new. */
NB_API nb_module *nb_autoencoder_new(int n_sizes, const int64_t *sizes,
                                     const nb_autoencoder_opts *opts, nb_rng *rng);
/* The "encoder" / "decoder" child of an autoencoder (owned by it), or NULL with NB_ERR_VALUE
 * when ae is not one. */
NB_API nb_module *nb_autoencoder_encoder(nb_module *ae);
NB_API nb_module *nb_autoencoder_decoder(nb_module *ae);
/* Op-like: the code of x ([*, sizes[0]] -> [*, code]) and the reconstruction of a code. */
NB_API nb_tensor *nb_autoencoder_encode(nb_module *ae, nb_tensor *x);
NB_API nb_tensor *nb_autoencoder_decode(nb_module *ae, nb_tensor *code);

/* ---- latent maps of generative models (VAE, GAN) ---- */

/* Codes to decode into a side x side map of a latent space [side * side, dim] (PyTorch: a
 * meshgrid of Normal(0, 1).icdf(linspace(p_lo, p_hi, side))): every entry 0 except dims x and
 * y, which run over the standard normal's quantiles at probabilities evenly spaced from p_lo to
 * p_hi; x grows from left to right along a map row, y from the bottom row up, so code r * side
 * + c has z[x] = Q(p_lo + (p_hi - p_lo) c / (side - 1)) and z[y] = Q(p_hi - (p_hi - p_lo) r /
 * (side - 1)). F32. Op-like placement (the active step's arena, caller-owned without a step).
 * Errors -> NULL: NB_ERR_VALUE (side < 2, dim < 2, x or y outside [0, dim) or x == y, not 0 <
 * p_lo < p_hi < 1), NB_ERR_NOMEM. */
NB_API nb_tensor *nb_latent_grid(int64_t side, int64_t dim, int x, int y, double p_lo, double p_hi);

/* ---- Gaussian codes of variational autoencoders (unsup/gaussian.c) ----
 * An encoder's q(z | x) = N(mu, diag(exp(logvar))): mu and logvar (log sigma^2) of one shape,
 * usually [batch, latent], f32 or f64 (both the same). Op-like and differentiable: compositions
 * of ops, so gradients reach mu and logvar; results live in the active step's arena (caller-owned
 * copies without a step, gradient recording off then). A NULL mu or logvar (a failed op) keeps its
 * error; NaN propagates as in every op (nb_set_anomaly_mode reports it). */

/* Reparameterised sample z = mu + exp(logvar / 2) * eps (PyTorch: Normal(mu, std).rsample()),
 * eps ~ N(0, 1) of mu's shape drawn from rng by nb_randn_like(mu, rng) (advancing rng; eps is a
 * constant of the graph). Errors: NB_ERR_VALUE (NULL rng), NB_ERR_SHAPE (shapes differ, naming
 * both), NB_ERR_DTYPE (dtypes differ or not a float type). */
NB_API nb_tensor *nb_gaussian_rsample(nb_tensor *mu, nb_tensor *logvar, nb_rng *rng);

/* KL divergence of N(mu, exp(logvar)) from the standard normal, per entry
 *     kl = -1/2 (1 + logvar - mu^2 - exp(logvar))     (>= 0, 0 only at mu = 0, logvar = 0),
 * reduced by `reduction`: NB_REDUCE_NONE the entries (mu's shape), NB_REDUCE_SUM their sum (a
 * 0-dim tensor), NB_REDUCE_BATCHMEAN the sum divided by the first dim, i.e. the KL of each
 * sample's diagonal Gaussian (summed over its features) averaged over the batch, the usual VAE
 * term; NB_REDUCE_MEAN the mean over all entries. Errors: as nb_gaussian_rsample, and
 * NB_ERR_VALUE (an unknown reduction), NB_ERR_SHAPE (BATCHMEAN of a 0-dim or empty batch). */
NB_API nb_tensor *nb_gaussian_kl(nb_tensor *mu, nb_tensor *logvar, nb_reduction reduction);

/* ---- corruption for denoising autoencoders (op-like, not recorded: the result is an input) ----
 * The clean x stays the training target. */

/* Masking noise: each element of x is set to 0 with probability p in [0, 1], else kept (no
 * rescaling). Any shape, f32/f64. Errors: NB_ERR_VALUE (p out of range, NULL rng). */
NB_API nb_tensor *nb_corrupt_mask(nb_tensor *x, double p, nb_rng *rng);
/* Additive Gaussian noise x + N(0, std^2), then clamped to [lo, hi] when lo < hi (e.g. 0, 1
 * for images; pass lo == hi for no clamping). std >= 0. Errors: NB_ERR_VALUE. */
NB_API nb_tensor *nb_corrupt_gaussian(nb_tensor *x, double std, double lo, double hi, nb_rng *rng);
/* Salt-and-pepper noise: each element is replaced with probability p by lo or hi (equally
 * likely). p in [0, 1]. Errors: NB_ERR_VALUE. */
NB_API nb_tensor *nb_corrupt_salt_pepper(nb_tensor *x, double p, double lo, double hi, nb_rng *rng);

/* ---- sparsity penalties on a code h [B, K] (op-like, differentiable; 0-dim results) ---- */

/* L1 penalty: mean over the batch of sum_k |h[b, k]|. */
NB_API nb_tensor *nb_sparsity_l1(nb_tensor *h);
/* KL penalty (Ng's sparse autoencoder): with rho_hat[k] = mean_b h[b, k] (h must lie in (0, 1),
 * e.g. after a sigmoid; rho_hat is clamped to [1e-6, 1 - 1e-6]),
 *     sum_k rho log(rho / rho_hat[k]) + (1 - rho) log((1 - rho) / (1 - rho_hat[k])).
 * rho in (0, 1). Errors: NB_ERR_VALUE (rho out of range), NB_ERR_SHAPE (h not 2-D). */
NB_API nb_tensor *nb_sparsity_kl(nb_tensor *h, double rho);

/* ======================================================================================
 * Restricted Boltzmann machines (unsup/rbm.c)
 * ======================================================================================
 * Energy with binary hidden units h in {0,1}^H, weights W [V, H], visible bias b [V], hidden
 * bias c [H]:
 *     Bernoulli visible v in {0,1}^V:  E(v, h) = -b.v - c.h - v^T W h
 *     Gaussian visible v in R^V (unit variance; standardise the data first):
 *                                      E(v, h) = |v - b|^2 / 2 - c.h - v^T W h
 * Conditionals: p(h_j = 1 | v) = sigmoid(c_j + (v W)_j); Bernoulli p(v_i = 1 | h) =
 * sigmoid(b_i + (W h)_i); Gaussian v | h ~ N(b + W h, I).
 * Free energy F(v) = -log sum_h exp(-E(v, h)):
 *     Bernoulli: -b.v - sum_j softplus(c_j + (v W)_j)
 *     Gaussian:  |v - b|^2 / 2 - sum_j softplus(c_j + (v W)_j)
 * so p(v) = exp(-F(v)) / Z. */

typedef enum nb_rbm_visible {
    NB_RBM_BERNOULLI = 0, /* binary visible units (or probabilities in [0, 1] as data) */
    NB_RBM_GAUSSIAN = 1,  /* real visible units with unit variance */
} nb_rbm_visible;

/* New RBM module of kind "RBM" with n_visible x n_hidden weights drawn from N(0, 0.01^2)
 * (Hinton's "practical guide") and zero biases, f32 parameters "weight" [V, H],
 * "visible_bias" [V], "hidden_bias" [H]. Its nb_module_forward(v) is p(h = 1 | v): an RBM can
 * sit in a Sequential as a feature layer. Returns a caller-owned module. Errors -> NULL:
 * NB_ERR_VALUE (a size < 1, unknown visible type, NULL rng), NB_ERR_NOMEM. */
NB_API nb_module *nb_rbm_new(int64_t n_visible, int64_t n_hidden, nb_rbm_visible visible,
                             nb_rng *rng);
/* Same with parameters of `dtype` (NB_F32 or NB_F64). */
NB_API nb_module *nb_rbm_new_ex(int64_t n_visible, int64_t n_hidden, nb_rbm_visible visible,
                                nb_rng *rng, nb_dtype dtype);
/* True when m is an RBM made by nb_rbm_new. */
NB_API bool nb_is_rbm(const nb_module *m);
/* Sizes and visible type of an RBM (-1 / NB_RBM_BERNOULLI for anything else). */
NB_API int64_t nb_rbm_num_visible(const nb_module *rbm);
NB_API int64_t nb_rbm_num_hidden(const nb_module *rbm);
NB_API nb_rbm_visible nb_rbm_visible_type(const nb_module *rbm);
/* Set the visible bias from training data v [N, V] (Bernoulli: b_i = log(p_i / (1 - p_i)) with
 * p_i the mean of column i clamped to [0.01, 0.99]; Gaussian: the column mean), the usual
 * starting point. Errors: NB_ERR_VALUE (not an RBM), NB_ERR_SHAPE, NB_ERR_DTYPE. */
NB_API nb_status nb_rbm_init_visible_bias(nb_module *rbm, nb_tensor *v);

/* ---- up / down passes (op-like; differentiable where noted) ---- */

/* p(h = 1 | v) = sigmoid(v W + c): v [B, V] -> [B, H]. Differentiable. */
NB_API nb_tensor *nb_rbm_hidden_probs(nb_module *rbm, nb_tensor *v);
/* E[v | h]: sigmoid(h W^T + b) (Bernoulli) or h W^T + b (Gaussian): h [B, H] -> [B, V].
 * Differentiable. */
NB_API nb_tensor *nb_rbm_visible_mean(nb_module *rbm, nb_tensor *h);
/* Samples h ~ p(h | v) (binary) and v ~ p(v | h) (binary, or mean + N(0, 1) noise), drawn from
 * rng. Not recorded. */
NB_API nb_tensor *nb_rbm_sample_hidden(nb_module *rbm, nb_tensor *v, nb_rng *rng);
NB_API nb_tensor *nb_rbm_sample_visible(nb_module *rbm, nb_tensor *h, nb_rng *rng);
/* k >= 0 steps of block Gibbs sampling from v [B, V]: h ~ p(h | v), v ~ p(v | h), k times.
 * Returns the visible state after k steps; when mean is true the last visible state is E[v | h]
 * instead of a sample (smoother images). Not recorded. Errors: NB_ERR_VALUE (k < 0, NULL rng). */
NB_API nb_tensor *nb_rbm_gibbs(nb_module *rbm, nb_tensor *v, int k, bool mean, nb_rng *rng);
/* Free energy F(v) per sample (formula above): v [B, V] -> [B]. Differentiable. */
NB_API nb_tensor *nb_rbm_free_energy(nb_module *rbm, nb_tensor *v);

/* ---- contrastive divergence ---- */

/* Gradient estimate of the negative mean log-likelihood of the batch v0 [B, V] by contrastive
 * divergence, added (+=, like nb_backward) to the gradients of the RBM's parameters that
 * require grad:
 *     d weight       = -(v0^T p(h | v0) / B - vk^T p(h | vk) / M)
 *     d visible_bias = -(mean_b v0 - mean_m vk)
 *     d hidden_bias  = -(mean_b p(h | v0) - mean_m p(h | vk))
 * (Gaussian units use the same statistics), where vk [M, V] are the negative-phase visible
 * states after k >= 1 Gibbs steps:
 *   - chain == NULL (CD-k): the chains start from the data (M = B) with h ~ p(h | v0);
 *   - chain != NULL (persistent CD, Tieleman 2008): chain is a caller-owned [M, V] tensor of
 *     the RBM's dtype holding the persistent "fantasy particles"; the chains start from it
 *     and it is overwritten with vk.
 * Visible states are sampled in every Gibbs step. When negative is not NULL it must be a
 * caller-owned [M, V] tensor of the RBM's dtype and receives vk. An optimizer step (p -= lr *
 * grad) then raises the likelihood. Runs in no-grad mode and records nothing. Errors:
 * NB_ERR_VALUE (not an RBM, k < 1, NULL v0 or rng), NB_ERR_SHAPE, NB_ERR_DTYPE, NB_ERR_NOMEM;
 * gradients are unchanged then. */
NB_API nb_status nb_rbm_cd_grad(nb_module *rbm, nb_tensor *v0, int k, nb_tensor *chain, nb_rng *rng,
                                nb_tensor *negative);

/* The classic RBM update (Hinton's "practical guide"):
 *     delta <- momentum * delta - lr * (grad + weight_decay * W)     (no decay on biases)
 *     p     <- p + delta
 * with grad from nb_rbm_cd_grad. */
typedef struct nb_rbm_train_opts {
    double lr;           /* 0.1 */
    double momentum;     /* 0.5 (0.9 is common after the first epochs) */
    double weight_decay; /* 2e-4, on the weights only */
    int k;               /* Gibbs steps per update: 1 (CD-1) */
    bool persistent;     /* false: CD-k; true: persistent CD */
    int64_t n_chains;    /* persistent CD: number of fantasy particles; 0 -> the first batch's
                            size (the chains start at that batch) */
    uint64_t seed;       /* for the trainer's rng (Gibbs sampling) */
} nb_rbm_train_opts;

NB_API nb_rbm_train_opts nb_rbm_train_defaults(void);

typedef struct nb_rbm_update_stats {
    /* Mean over the batch of sum_i (v0_i - E[v_i | p(h | v0)])^2, the mean-field
     * reconstruction error of the batch before the update (as nb_rbm_reconstruction_error). */
    double recon_error;
} nb_rbm_update_stats;

typedef struct nb_rbm_trainer nb_rbm_trainer;

/* New trainer for `rbm` (which must outlive it); opts NULL = defaults. The trainer owns the
 * momentum buffers, the persistent chains and an rng seeded with opts->seed. Errors -> NULL:
 * NB_ERR_VALUE (not an RBM, lr < 0, momentum outside [0, 1), weight_decay < 0, k < 1,
 * n_chains < 0), NB_ERR_NOMEM. */
NB_API nb_rbm_trainer *nb_rbm_trainer_new(nb_module *rbm, const nb_rbm_train_opts *opts);
/* One update from the batch v0 [B, V]: zero the RBM's gradients, nb_rbm_cd_grad, the update
 * above. stats may be NULL (computing them costs one more [B, H] x [H, V] product). Errors as
 * nb_rbm_cd_grad (nothing is updated then). */
NB_API nb_status nb_rbm_trainer_update(nb_rbm_trainer *tr, nb_tensor *v0,
                                       nb_rbm_update_stats *stats);
/* Change the learning rate or momentum for the next steps (same ranges as the options). */
NB_API nb_status nb_rbm_trainer_set_lr(nb_rbm_trainer *tr, double lr);
NB_API nb_status nb_rbm_trainer_set_momentum(nb_rbm_trainer *tr, double momentum);
/* The persistent chains [M, V] (owned by the trainer), or NULL before the first step or for
 * CD-k. */
NB_API nb_tensor *nb_rbm_trainer_chains(nb_rbm_trainer *tr);
NB_API void nb_rbm_trainer_free(nb_rbm_trainer *tr);

/* ---- monitoring (numbers, computed in no-grad mode) ---- */

/* Mean over the batch of sum_i (v_i - E[v_i | p(h | v)])^2: deterministic mean-field
 * reconstruction error of v [B, V]. NaN and an error on failure. */
NB_API double nb_rbm_reconstruction_error(nb_module *rbm, nb_tensor *v);
/* Mean free energy of the batch v [B, V]. Comparing it on training data and held-out data
 * shows overfitting (the held-out value rises above the training one). NaN on failure. */
NB_API double nb_rbm_mean_free_energy(nb_module *rbm, nb_tensor *v);
/* Stochastic pseudo-log-likelihood of binary v [B, V] (Bernoulli RBMs): for each sample one
 * coordinate i is drawn from rng and V * log sigmoid(F(v with bit i flipped) - F(v)) estimates
 * sum_i log p(v_i | v_-i); returns the mean over the batch (<= 0, higher is better). NaN and
 * NB_ERR_STATE for Gaussian RBMs. */
NB_API double nb_rbm_pseudo_log_likelihood(nb_module *rbm, nb_tensor *v, nb_rng *rng);
/* Exact log partition function log Z = log sum_v,h exp(-E(v, h)) of a small Bernoulli RBM,
 * summing over all 2^min(V, H) states of the smaller layer in float64. NaN and NB_ERR_VALUE
 * when min(V, H) > 24 or for Gaussian RBMs. */
NB_API double nb_rbm_log_partition(nb_module *rbm);
/* Exact mean log-likelihood of binary data v [B, V] under a small Bernoulli RBM:
 * mean_b (-F(v_b)) - log Z. NaN on failure (see nb_rbm_log_partition). */
NB_API double nb_rbm_log_likelihood(nb_module *rbm, nb_tensor *v);

/* ======================================================================================
 * Deep belief nets (unsup/dbn.c)
 * ====================================================================================== */

/* p(h = 1 | v) of a whole data set x [N, V] computed in batches of `batch_size` (0 -> 256),
 * as a new caller-owned contiguous [N, H] tensor: the training data of the next RBM in greedy
 * layer-wise pretraining. Call it outside a step: with no active step each batch runs in a
 * private step and memory stays bounded; inside a step every batch's intermediates stay in that
 * step's arena until its nb_step_end. Errors -> NULL: NB_ERR_VALUE, NB_ERR_SHAPE, NB_ERR_DTYPE,
 * NB_ERR_NOMEM. */
NB_API nb_tensor *nb_rbm_transform(nb_module *rbm, nb_tensor *x, int64_t batch_size);
/* Linear layer V -> H computing the RBM's hidden pre-activation: weight = W^T [H, V],
 * bias = hidden bias; follow it by a sigmoid to get p(h = 1 | v). Parameters have the RBM's
 * dtype. Returns a caller-owned module. Errors -> NULL: NB_ERR_VALUE, NB_ERR_NOMEM. */
NB_API nb_module *nb_rbm_to_linear(nb_module *rbm);
/* The MLP of a deep belief net: for each RBM in order a Linear initialised by nb_rbm_to_linear
 * and a Sigmoid, then when n_classes > 0 a Linear H_last -> n_classes (logits for
 * nb_cross_entropy) initialised from rng like nb_linear_new. Consecutive RBMs must fit
 * (rbms[i]'s hidden size == rbms[i + 1]'s visible size). The RBMs are only read. Returns a
 * caller-owned Sequential. Errors -> NULL: NB_ERR_VALUE (n < 1, NULL entry, not an RBM, rng
 * NULL with n_classes > 0), NB_ERR_SHAPE (sizes do not chain), NB_ERR_DTYPE, NB_ERR_NOMEM. */
NB_API nb_module *nb_dbn_to_mlp(int n, nb_module *const *rbms, int64_t n_classes, nb_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
