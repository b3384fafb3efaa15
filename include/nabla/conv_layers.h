/* nabla/conv_layers.h — convolution, pooling, normalisation and channel-dropout modules.
 *
 * Every module here is built from the public ops of ops.h (nb_conv2d, nb_max_pool2d,
 * nb_mean_axes, ...) like the layers of nn.h, so nb_backward differentiates them with no extra
 * code, and they go into containers (nb_sequential_new) like any module. Layout is
 * channels-first: images [N, C, H, W], signals [N, C, L].
 *
 *     nb_rng rng = nb_rng_seed(1);
 *     nb_module *net = nb_sequential_new(5, (nb_module *[]){
 *         nb_conv2d_new(1, 32, 3, 3, &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME}, &rng),
 *         nb_relu_new(), nb_max_pool2d_new(2, 2, NULL),
 *         nb_flatten_new(), nb_linear_new(32 * 14 * 14, 10, true, &rng)});
 *
 * Errors raised inside a forward name the module, e.g.
 *     "nb_module_forward: Conv2d '0' (1 -> 32, 3x3, same): input is [8, 3, 28, 28], expected
 *      [N, 1, H, W]"
 * Constructors return a caller-owned module (nb_module_free), or NULL with nb_last_error() set:
 * NB_ERR_VALUE for a bad size or option, NB_ERR_DTYPE for a dtype other than f32/f64,
 * NB_ERR_NOMEM. */
#ifndef NABLA_CONV_LAYERS_H
#define NABLA_CONV_LAYERS_H

#include "nabla/nn.h"
#include "nabla/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolutions ---- */

/* Options of a convolution layer; a zeroed struct (or NULL) means stride 1, dilation 1, VALID
 * padding, groups 1, with a bias, f32 parameters. */
typedef struct nb_conv_layer_opts {
    nb_conv_opts conv; /* stride, dilation, padding mode and explicit pads, groups, and relu
                        * (a ReLU fused into the convolution: Conv2d + ReLU as one layer and
                        * one op) (ops.h); output_padding must be 0 */
    bool no_bias;      /* true: no "bias" parameter */
    nb_dtype dtype;    /* parameter dtype: NB_F32 (the zero value) or NB_F64 */
    /* > 0: `pad` zeros on both sides of every spatial axis, PyTorch's Conv2d(padding=pad) (the
     * same on both sides at any stride, unlike NB_PAD_SAME's rule): shorthand for
     * conv.padding = NB_PAD_EXPLICIT with pad_top = pad_bottom = pad_left = pad_right = pad (a
     * 1-D layer: pad_left = pad_right = pad). conv.padding must then be left NB_PAD_VALID with
     * zero pads (NB_ERR_VALUE otherwise, and for pad < 0). */
    int64_t pad;
    /* > 0: the stride of every spatial axis, PyTorch's Conv2d(stride=s): shorthand for
     * conv.stride_h = conv.stride_w = stride (a 1-D layer: stride_w). conv's strides must then be
     * left 0 (NB_ERR_VALUE otherwise, and for stride < 0). */
    int64_t stride;
} nb_conv_layer_opts;

/* 2-D convolution layer y = nb_conv2d(x, weight, bias, &opts->conv).
 * Parameters: "weight" [out_ch, in_ch / groups, kh, kw] and (unless no_bias) "bias" [out_ch].
 * Input [N, in_ch, H, W] -> [N, out_ch, OH, OW] (sizes from nb_conv_output_size). Initialised
 * like PyTorch's nn.Conv2d: weight Kaiming-uniform with a = sqrt(5), i.e. uniform in
 * +-1/sqrt(fan_in) with fan_in = in_ch / groups * kh * kw, bias uniform in the same range, drawn
 * from rng (required). Errors: NB_ERR_VALUE (a size < 1, in_ch or out_ch not divisible by
 * groups, negative stride/dilation/pad, unknown padding mode, non-zero output_padding, rng NULL),
 * NB_ERR_DTYPE, NB_ERR_NOMEM. Forward errors (NB_ERR_SHAPE): input not 4-D or with another
 * channel count, or too small for the kernel. */
NB_API nb_module *nb_conv2d_new(int64_t in_ch, int64_t out_ch, int64_t kh, int64_t kw,
                                const nb_conv_layer_opts *opts, nb_rng *rng);
/* 1-D convolution layer (nb_conv1d; the width fields of opts->conv, height fields 0).
 * Parameters "weight" [out_ch, in_ch / groups, k] and "bias" [out_ch]; input [N, in_ch, L] ->
 * [N, out_ch, L_out]. Initialisation and errors as nb_conv2d_new (fan_in = in_ch / groups * k). */
NB_API nb_module *nb_conv1d_new(int64_t in_ch, int64_t out_ch, int64_t k,
                                const nb_conv_layer_opts *opts, nb_rng *rng);

/* ---- pooling (no parameters; f32 or f64 input) ---- */

/* Max / average pooling over kh x kw windows (nb_max_pool2d / nb_avg_pool2d with opts, which
 * may be NULL: stride = kernel, VALID). Input [N, C, H, W] -> [N, C, OH, OW].
 * Errors: NB_ERR_VALUE for a kernel < 1, a negative stride or pad, a pad >= the kernel, an unknown
 * padding mode; forward: NB_ERR_SHAPE for an input that is not 4-D or smaller than a window. */
NB_API nb_module *nb_max_pool2d_new(int64_t kh, int64_t kw, const nb_pool_opts *opts);
NB_API nb_module *nb_avg_pool2d_new(int64_t kh, int64_t kw, const nb_pool_opts *opts);
/* 1-D pooling over windows of k (width fields of opts): [N, C, L] -> [N, C, L_out]. */
NB_API nb_module *nb_max_pool1d_new(int64_t k, const nb_pool_opts *opts);
NB_API nb_module *nb_avg_pool1d_new(int64_t k, const nb_pool_opts *opts);
/* Mean / max over every axis after the first two: [N, C, ...] (3 to 8 dims) -> [N, C]
 * (nb_global_avg_pool / nb_global_max_pool). Forward: NB_ERR_SHAPE for fewer than 3 dims. */
NB_API nb_module *nb_global_avg_pool_new(void);
NB_API nb_module *nb_global_max_pool_new(void);

/* ---- normalisation ---- */

/* Options of the normalisation layers; zeroed (or NULL) = PyTorch's defaults. */
typedef struct nb_norm_layer_opts {
    double eps;      /* added to the variance; 0 -> 1e-5 */
    double momentum; /* running-statistics momentum in (0, 1] of BatchNorm and of InstanceNorm
                      * with track_running_stats; 0 -> 0.1 */
    bool no_affine;  /* true: no "weight" (gamma) and "bias" (beta) parameters */
    nb_dtype dtype;  /* parameter and running-statistics dtype: NB_F32 (zero value) or NB_F64 */
    bool affine;     /* InstanceNorm only: add "weight" and "bias" (PyTorch's affine=True);
                      * InstanceNorm has none by default and ignores no_affine */
    bool track_running_stats; /* InstanceNorm only (PyTorch's track_running_stats=True): keep
                               * running statistics, used in eval mode; false (the default):
                               * none, input statistics in eval mode too */
} nb_norm_layer_opts;

/* Batch normalisation (Ioffe & Szegedy 2015) over channel axis 1.
 *   nb_batch_norm1d_new: input [N, C] or [N, C, L]; statistics over N (and L).
 *   nb_batch_norm2d_new: input [N, C, H, W];       statistics over N, H and W.
 * Training mode: with the batch mean m_c and the biased batch variance v_c of each channel
 * (composed from nb_mean_axes, so the gradient flows through them),
 *     y = (x - m_c) / sqrt(v_c + eps) * weight[c] + bias[c],
 * and, off the tape, the running statistics are updated with the unbiased batch variance:
 *     running_mean <- (1 - momentum) * running_mean + momentum * m_c
 *     running_var  <- (1 - momentum) * running_var  + momentum * v_c * n / (n - 1)
 * where n is the number of values per channel (n = 1 uses v_c). A training batch needs n > 1
 * (NB_ERR_SHAPE otherwise, as in PyTorch). Eval mode: y uses running_mean and running_var
 * instead of the batch statistics (nothing is updated).
 * Parameters: "weight" [C] (ones) and "bias" [C] (zeros) unless no_affine.
 * The running statistics (initially mean 0 and variance 1) are NOT parameters but module
 * buffers (nn.h) "running_mean" and "running_var" [C] of the parameter dtype: never touched by
 * optimizers, not counted by nb_module_num_params, not in nb_module_named_params, but listed by
 * nb_module_named_buffers and saved and loaded by nb_checkpoint_save_model /
 * nb_checkpoint_load_model (as "model.<path>.running_mean", like PyTorch's state_dict), so a
 * loaded model evaluates exactly like the saved one. Errors: NB_ERR_VALUE (channels < 1, eps
 * < 0, momentum outside [0, 1]), NB_ERR_DTYPE, NB_ERR_NOMEM; forward: NB_ERR_SHAPE for another
 * rank or channel count. */
NB_API nb_module *nb_batch_norm1d_new(int64_t channels, const nb_norm_layer_opts *opts);
NB_API nb_module *nb_batch_norm2d_new(int64_t channels, const nb_norm_layer_opts *opts);
/* The running mean / running variance [C] of a BatchNorm module: its buffers "running_mean" /
 * "running_var" (module-owned; writing into them changes what eval mode uses). NULL with
 * NB_ERR_VALUE when m is not a BatchNorm1d/2d module. */
NB_API nb_tensor *nb_batch_norm_running_mean(nb_module *m);
NB_API nb_tensor *nb_batch_norm_running_var(nb_module *m);
/* Synchronised statistics (data-parallel training): sum(t, user) must return the elementwise sum
 * of t over every process, as a differentiable op (its backward sums the gradient likewise;
 * nb_ddp_sync_batch_norm in nabla/dist.h installs one on Open MPI). In training mode the batch
 * mean and variance are then those of the whole global batch: each process sums x, x^2 and its
 * count per channel, the sums are added across processes, and var = E[x^2] - mean^2 (one pass,
 * like PyTorch's SyncBatchNorm; less exact than the local two-pass variance for data far from
 * zero). NULL sum: local statistics again (the default). NB_ERR_VALUE if m is not a BatchNorm. */
typedef nb_tensor *(*nb_norm_sum_fn)(nb_tensor *t, void *user);
NB_API nb_status nb_batch_norm_set_sync(nb_module *m, nb_norm_sum_fn sum, void *user);

/* Layer normalisation (Ba et al. 2016) over the last ndim dims of the input, whose sizes must
 * equal shape[0..ndim-1] (ndim in [1, 7]):
 *     y = (x - mean) / sqrt(var + eps) * weight + bias
 * with mean and biased var over those dims for each leading index; the same in training and
 * eval mode. Parameters "weight" (ones) and "bias" (zeros) of `shape` unless no_affine (the
 * momentum field is ignored). Errors: NB_ERR_VALUE (ndim out of range, a size < 1, eps < 0),
 * NB_ERR_DTYPE, NB_ERR_NOMEM; forward: NB_ERR_SHAPE when the trailing dims differ. */
NB_API nb_module *nb_layer_norm_new(int ndim, const int64_t *shape, const nb_norm_layer_opts *opts);

/* Group normalisation (Wu & He 2018), PyTorch's nn.GroupNorm: input [N, C, *] (>= 2 dims), the
 * C channels split into `groups` consecutive groups of C / groups; each (sample, group) is
 * normalised by the mean and biased variance over its channels and all trailing positions,
 *     y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c],
 * the same in training and eval mode. Parameters "weight" [C] (ones) and "bias" [C] (zeros)
 * unless no_affine. Errors: NB_ERR_VALUE (groups < 1, channels not a positive multiple of
 * groups, eps < 0), NB_ERR_DTYPE, NB_ERR_NOMEM; forward: NB_ERR_SHAPE (rank < 2, another C). */
NB_API nb_module *nb_group_norm_new(int64_t groups, int64_t channels,
                                    const nb_norm_layer_opts *opts);
/* Instance normalisation (Ulyanov et al. 2016), PyTorch's nn.InstanceNorm1d / 2d: each
 * (sample, channel) map of [N, C, L] / [N, C, H, W] is normalised by its own mean m[n, c] and
 * biased variance v[n, c] (GroupNorm with groups = C),
 *     y = (x - m[n, c]) / sqrt(v[n, c] + eps) * weight[c] + bias[c].
 * Parameters "weight" [C] (ones) and "bias" [C] (zeros) only when opts->affine (PyTorch's default
 * is affine=False; no_affine is ignored).
 * Without opts->track_running_stats (PyTorch's default): the same in training and eval mode, no
 * running statistics, no buffers (momentum is ignored).
 * With opts->track_running_stats (track_running_stats=True, momentum = opts->momentum, 0 -> 0.1):
 * module buffers (nn.h) "running_mean" and "running_var" [C] of the parameter dtype (initially
 * 0 and 1), named as in PyTorch's state_dict, saved and loaded by checkpoints like BatchNorm's.
 * Training mode normalises with the per-instance statistics as above and, off the tape, updates
 * the buffers exactly as PyTorch (which runs batch_norm on x viewed as [1, N*C, ...]):
 *     running_mean[c] <- mean over n of ((1 - momentum) * running_mean[c] + momentum * m[n, c])
 *     running_var[c]  <- mean over n of ((1 - momentum) * running_var[c]
 *                                        + momentum * v[n, c] * l / (l - 1))
 * with l = L or H * W values per instance (training needs l > 1: NB_ERR_SHAPE otherwise, as in
 * PyTorch). Eval mode normalises with the running statistics instead (nothing is updated):
 *     y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c].
 * PyTorch's num_batches_tracked buffer (which InstanceNorm never advances) has no counterpart.
 * Errors as GroupNorm's (and NB_ERR_VALUE for momentum outside [0, 1] with running statistics);
 * forward: NB_ERR_SHAPE for another rank or channel count. */
NB_API nb_module *nb_instance_norm1d_new(int64_t channels, const nb_norm_layer_opts *opts);
NB_API nb_module *nb_instance_norm2d_new(int64_t channels, const nb_norm_layer_opts *opts);

/* ---- channel dropout ---- */

/* Dropout2d: in training mode each (sample, channel) map of an input [N, C, ...] (>= 3 dims) is
 * zeroed whole with probability p, the others scaled by 1 / (1 - p) (mask [N, C, 1, ...] from
 * nb_rand_bernoulli with the module's own rng seeded with `seed`); eval mode: the identity.
 * Errors: NB_ERR_VALUE for p outside [0, 1); forward: NB_ERR_SHAPE for fewer than 3 dims. */
NB_API nb_module *nb_dropout2d_new(double p, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
