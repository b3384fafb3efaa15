/* nabla/ops.h — differentiable operations.
 *
 * Common rules for every function here:
 *   - Results live in the active step's arena (valid until nb_step_end); with no active step
 *     they are caller-owned (nb_tensor_free) and nothing is recorded.
 *   - Float inputs of one op must share a dtype (f32 or f64); no implicit conversion.
 *   - Binary elementwise ops broadcast with NumPy rules; the gradient of a broadcast input is
 *     summed back to its shape.
 *   - On error: NULL, and nb_last_error() says "nb_<op>: what: values". A NULL input yields
 *     NULL and keeps the first message, so a whole expression can be checked once at the end.
 *   - Axes may be negative (counted from the end). */
#ifndef NABLA_OPS_H
#define NABLA_OPS_H

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise, binary (broadcasting) ---- */
NB_API nb_tensor *nb_add(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_sub(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_mul(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_div(nb_tensor *a, nb_tensor *b);
/* Elementwise max/min; the gradient goes to a where a >= b (resp. a <= b), else to b. A NaN in
 * either operand gives NaN (PyTorch's torch.maximum), and its gradient goes to both. */
NB_API nb_tensor *nb_maximum(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_minimum(nb_tensor *a, nb_tensor *b);
/* a^b elementwise (torch.pow with a tensor exponent). A negative a with a non-integer b gives
 * NaN. Gradients, PyTorch's conventions at 0: d/da = b a^(b-1), and 0 where b = 0 (also at
 * a = 0); d/db = a^b log(a), and 0 where a = 0 and b >= 0 (so -inf where a = 0, b < 0, and NaN
 * where a < 0). */
NB_API nb_tensor *nb_pow(nb_tensor *a, nb_tensor *b);

/* ---- elementwise with scalars ---- */
/* y = alpha * x + beta. */
NB_API nb_tensor *nb_affine(nb_tensor *x, double alpha, double beta);
NB_API nb_tensor *nb_add_scalar(nb_tensor *x, double s);
NB_API nb_tensor *nb_mul_scalar(nb_tensor *x, double s);
/* y = x^p. For non-integer p, x must be > 0 where the result is used. Gradient p * x^(p-1), and
 * 0 for p = 0 (PyTorch's rule, so x^0 has gradient 0 at x = 0 too). */
NB_API nb_tensor *nb_pow_scalar(nb_tensor *x, double p);

/* ---- elementwise, unary ---- */
NB_API nb_tensor *nb_neg(nb_tensor *x);
NB_API nb_tensor *nb_exp(nb_tensor *x);
NB_API nb_tensor *nb_log(nb_tensor *x);
NB_API nb_tensor *nb_sqrt(nb_tensor *x);
NB_API nb_tensor *nb_square(nb_tensor *x);
/* |x|; gradient sign(x) (0 at 0). */
NB_API nb_tensor *nb_abs(nb_tensor *x);
/* min(max(x, lo), hi); gradient 1 strictly inside (lo, hi), else 0. lo <= hi. clamp(NaN) = NaN
 * with gradient 0. */
NB_API nb_tensor *nb_clamp(nb_tensor *x, double lo, double hi);
/* max(x, 0); relu(NaN) = NaN with gradient 0 (PyTorch's rule). */
NB_API nb_tensor *nb_relu(nb_tensor *x);
/* x for x > 0, slope * x otherwise (NaN stays NaN). */
NB_API nb_tensor *nb_leaky_relu(nb_tensor *x, double slope);
NB_API nb_tensor *nb_sigmoid(nb_tensor *x);
NB_API nb_tensor *nb_tanh(nb_tensor *x);
/* log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, exact for x << 0 (PyTorch's
 * beta = 1; it returns x itself past its threshold 20, which differs from this by < 2.1e-9). */
NB_API nb_tensor *nb_softplus(nb_tensor *x);
/* Heaviside step: 1 where x >= 0, else 0 (the perceptron's activation). Not differentiable:
 * the result never requires grad. */
NB_API nb_tensor *nb_heaviside(nb_tensor *x);
/* Trigonometric, with gradients cos(x) and -sin(x). */
NB_API nb_tensor *nb_sin(nb_tensor *x);
NB_API nb_tensor *nb_cos(nb_tensor *x);
/* log(1 + x), exact for small x; -inf at -1, NaN below. Gradient 1 / (1 + x). */
NB_API nb_tensor *nb_log1p(nb_tensor *x);
/* exp(x) - 1, exact for small x. Gradient exp(x). */
NB_API nb_tensor *nb_expm1(nb_tensor *x);
/* The error function; gradient 2 / sqrt(pi) exp(-x^2). */
NB_API nb_tensor *nb_erf(nb_tensor *x);
/* 1 / sqrt(x) (inf at 0, NaN below); gradient -rsqrt(x)^3 / 2. */
NB_API nb_tensor *nb_rsqrt(nb_tensor *x);
/* 1 / x (+-inf at +-0); gradient -1 / x^2. */
NB_API nb_tensor *nb_reciprocal(nb_tensor *x);

/* ---- activations (PyTorch's torch.nn.functional semantics) ----
 * NaN in gives NaN out. Gradients at NaN follow PyTorch's backward formulas: NaN for gelu, silu,
 * mish and softsign, while hardtanh passes the gradient (1), and elu/selu give their slope for
 * x > 0 (1, and selu's scale). */
typedef enum nb_gelu_approx {
    NB_GELU_EXACT = 0, /* x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (approximate='none') */
    NB_GELU_TANH = 1   /* x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 (approximate='tanh') */
} nb_gelu_approx;
/* GELU, exact or in its tanh form. Errors: NB_ERR_VALUE for another `approximate`. */
NB_API nb_tensor *nb_gelu(nb_tensor *x, nb_gelu_approx approximate);
/* SiLU / Swish: x sigmoid(x). */
NB_API nb_tensor *nb_silu(nb_tensor *x);
/* Mish: x tanh(softplus(x)). */
NB_API nb_tensor *nb_mish(nb_tensor *x);
/* ELU: x for x > 0, alpha (exp(x) - 1) otherwise (PyTorch's default alpha is 1). Gradient 1 for
 * x > 0, alpha exp(x) for x <= 0. Errors: NB_ERR_VALUE for a non-finite alpha. */
NB_API nb_tensor *nb_elu(nb_tensor *x, double alpha);
/* SELU: scale * elu(x, alpha) with PyTorch's constants alpha = 1.6732632423543772,
 * scale = 1.0507009873554805. */
NB_API nb_tensor *nb_selu(nb_tensor *x);
/* min(max(x, min_val), max_val) (PyTorch's default range is [-1, 1]); gradient 1 strictly
 * inside (min_val, max_val), 0 at and beyond the bounds. Errors: NB_ERR_VALUE unless
 * min_val <= max_val. */
NB_API nb_tensor *nb_hardtanh(nb_tensor *x, double min_val, double max_val);
/* x / (1 + |x|); gradient 1 / (1 + |x|)^2. */
NB_API nb_tensor *nb_softsign(nb_tensor *x);

/* ---- elementwise, not differentiable ----
 * The result never requires grad and nothing is recorded (PyTorch gives these a zero gradient:
 * the same leaf gradients). */
/* -1, 0 or 1 by the sign of x; sign(+-0) = 0 and sign(NaN) = 0, as torch.sign. */
NB_API nb_tensor *nb_sign(nb_tensor *x);
/* Round down, up, and to the nearest integer with halves to even (torch.round: round(0.5) = 0,
 * round(1.5) = round(2.5) = 2). NaN and +-inf are kept. */
NB_API nb_tensor *nb_floor(nb_tensor *x);
NB_API nb_tensor *nb_ceil(nb_tensor *x);
NB_API nb_tensor *nb_round(nb_tensor *x);

/* ---- reductions ---- */
/* Sum / mean / max over one axis; keepdim keeps it as size 1. Sums and means accumulate in
 * double for f32 too (rounded once at the end), so long float32 reductions stay exact to float
 * rounding. Max propagates NaN. */
NB_API nb_tensor *nb_sum(nb_tensor *x, int axis, bool keepdim);
NB_API nb_tensor *nb_mean(nb_tensor *x, int axis, bool keepdim);
/* Max over an axis; the gradient goes to the first maximal element. */
NB_API nb_tensor *nb_max(nb_tensor *x, int axis, bool keepdim);
/* Over several axes (n_axes in [1, ndim], distinct). */
NB_API nb_tensor *nb_sum_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
NB_API nb_tensor *nb_mean_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
NB_API nb_tensor *nb_max_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
/* Over all elements: a 0-dim scalar. */
NB_API nb_tensor *nb_sum_all(nb_tensor *x);
NB_API nb_tensor *nb_mean_all(nb_tensor *x);
/* Index of the (first) maximum along axis as an NB_I64 tensor (not differentiable); a NaN counts
 * as the maximum (PyTorch's rule). */
NB_API nb_tensor *nb_argmax(nb_tensor *x, int axis);
/* Min over an axis (or several, as nb_max_axes), with nb_max's conventions: NaN propagates, and
 * the gradient goes to the first minimal element in row-major order (as torch.min(x, dim),
 * whose index is the first one; torch.amin shares it equally among ties instead). Errors:
 * NB_ERR_SHAPE over an empty axis. */
NB_API nb_tensor *nb_min(nb_tensor *x, int axis, bool keepdim);
NB_API nb_tensor *nb_min_axes(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
/* Index of the (first) minimum along axis as an NB_I64 tensor (not differentiable); a NaN counts
 * as the minimum (PyTorch's rule). */
NB_API nb_tensor *nb_argmin(nb_tensor *x, int axis);
/* Reductions over the axes axes[0..n_axes) (distinct, negative allowed) like nb_sum_axes, or over
 * every axis when axes is NULL and n_axes is 0 (PyTorch's dim=None); keepdim keeps them as size 1.
 * Each output element reduces its elements in double (rounded once for f32). Errors: NB_ERR_VALUE
 * (bad axes, bad scalar argument), NB_ERR_DTYPE (i64 x, except for nb_any / nb_all). */
/* Product (torch.prod; 1 over an empty axis). The gradient of x_k is the product of the other
 * elements, computed without division: right with one zero or several (0 everywhere but at a
 * single zero, whose gradient is the product of the rest). */
NB_API nb_tensor *nb_prod(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
/* Variance and standard deviation, sum((x - mean)^2) / max(0, n - correction) (torch.var / std:
 * correction 0 is the population variance, 1 Bessel's; n - correction <= 0 gives inf or NaN, and
 * an empty axis NaN). std's gradient is 0 where std is 0, as in PyTorch. Errors: NB_ERR_VALUE for
 * a non-finite correction. */
NB_API nb_tensor *nb_var(nb_tensor *x, int n_axes, const int *axes, double correction,
                         bool keepdim);
NB_API nb_tensor *nb_std(nb_tensor *x, int n_axes, const int *axes, double correction,
                         bool keepdim);
/* Vector p-norm (torch.linalg.vector_norm): (sum |x|^p)^(1/p); p = INFINITY is max |x|, p = 0
 * the count of nonzero elements (zero gradient). Gradients follow PyTorch: 0 where x = 0 and
 * where the norm is 0 (so the 2-norm of zeros has gradient 0), and the inf-norm's gradient is
 * shared equally by the elements at the max. Errors: NB_ERR_VALUE for p < 0, -inf or NaN
 * (PyTorch accepts those), NB_ERR_SHAPE for the inf-norm over an empty axis. */
NB_API nb_tensor *nb_norm(nb_tensor *x, double p, int n_axes, const int *axes, bool keepdim);
/* log(sum(exp(x))), stable: max + log(sum(exp(x - max))). A row of -inf gives -inf (and +inf
 * given +inf), an empty one -inf; gradient exp(x - y), which is NaN on a row of -inf, as in
 * PyTorch. */
NB_API nb_tensor *nb_logsumexp(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
/* Whether some / every element is nonzero (NaN counts as nonzero), as a mask in the comparison
 * ops' convention (0/1 floats of x's dtype, f32 for NB_I64 x; see "comparison and selection"
 * below); over an empty axis any is 0 and all is 1. Not differentiable. x: f32, f64 or i64. */
NB_API nb_tensor *nb_any(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
NB_API nb_tensor *nb_all(nb_tensor *x, int n_axes, const int *axes, bool keepdim);
/* Cumulative sum / product along axis (torch.cumsum / cumprod), same shape; accumulated in
 * double. cumprod's gradient needs no division, so it is right with zeros in x. */
NB_API nb_tensor *nb_cumsum(nb_tensor *x, int axis);
NB_API nb_tensor *nb_cumprod(nb_tensor *x, int axis);
/* Sorting along axis. The order is stable: equal elements keep their order along the axis (as
 * torch.sort(stable=True), also when descending), and NaN sorts above every number (last
 * ascending, first descending), as in PyTorch. Indices are NB_I64 positions along the axis.
 * Values are differentiable (the gradient goes back to the element each value came from), and
 * are nb_gather(x, axis, indices). */
/* Indices that sort x along axis (torch.argsort, always stable). */
NB_API nb_tensor *nb_argsort(nb_tensor *x, int axis, bool descending);
/* Sorted values and their indices into *values and *indices (either may be NULL when not
 * wanted). Returns NB_OK, or an error with the outputs set to NULL. */
NB_API nb_status nb_sort(nb_tensor *x, int axis, bool descending, nb_tensor **values,
                         nb_tensor **indices);
/* The k largest (or smallest) elements along axis (torch.topk), k in [0, size of axis]: the
 * first k of the stable sort, so among equal elements the first along the axis is taken (the
 * order PyTorch leaves unspecified). sorted: largest first (smallest first with !largest); else
 * they are given in their order along the axis (PyTorch's order is unspecified then). Outputs as
 * nb_sort. Each row is sorted whole (O(n log n) whatever k). Errors: NB_ERR_VALUE (k out of
 * range, bad axis). */
NB_API nb_status nb_topk(nb_tensor *x, int64_t k, int axis, bool largest, bool sorted,
                         nb_tensor **values, nb_tensor **indices);

/* ---- linear algebra (BLIS) ----
 * a: [..., M, K], b: [..., K, N] -> [..., M, N]. 1-D a is [1, K] (row), 1-D b is [K, 1]
 * (column) and that dim is dropped from the result. Batch dims broadcast. Transposed views
 * are passed to BLIS as strides: no copy. */
NB_API nb_tensor *nb_matmul(nb_tensor *a, nb_tensor *b);
/* y = x @ w^T + b. x: [n, n_in], w: [n_out, n_in], b: [n_out] or NULL -> [n, n_out]. One op
 * (equal to nb_add(nb_matmul(x, nb_transpose(w, 0, 1)), b)): its backward writes the gradient of
 * w with one GEMM and sums the bias gradient over rows, with no intermediate views. */
NB_API nb_tensor *nb_linear(nb_tensor *x, nb_tensor *w, nb_tensor *b);
/* The input activation of nb_linear_ex. */
typedef enum nb_linear_act {
    NB_LINEAR_ACT_NONE = 0,
    NB_LINEAR_ACT_RELU = 1,      /* as nb_relu */
    NB_LINEAR_ACT_GELU = 2,      /* as nb_gelu(x, NB_GELU_EXACT) */
    NB_LINEAR_ACT_GELU_TANH = 3, /* as nb_gelu(x, NB_GELU_TANH) */
} nb_linear_act;
/* y = act(x) @ w^T + b + residual as one op: the value (and gradients) of
 * nb_add(residual, nb_linear(act(x), w, b)), with neither act(x) nor the product kept as a
 * tensor of its own. act(x) is computed into a temporary in forward and again in backward for
 * w's gradient, so between the two only x is stored: a Transformer's MLP ff2(gelu(ff1(h))) keeps
 * ff1's output and not the activation's, and a residual connection h + f(h) stores only the sum.
 * b and residual may be NULL; residual: [n, n_out]; act: NB_LINEAR_ACT_*. Errors as nb_linear,
 * plus NB_ERR_SHAPE (residual) and NB_ERR_VALUE (unknown act). */
NB_API nb_tensor *nb_linear_ex(nb_tensor *x, nb_tensor *w, nb_tensor *b, nb_tensor *residual,
                               nb_linear_act act);
/* In place, c = alpha * a @ b + beta * c (BLAS's gemm; PyTorch's c.addmm_(a, b, beta=beta,
 * alpha=alpha)). c: [m, n], a: [m, k], b: [k, n], one float dtype, any strides (a transposed
 * view costs no copy) except broadcast (stride-0) dims; c must not share storage with a or b.
 * With beta = 0, c's old values are not read (NaN or Inf there do not survive); k = 0 gives
 * beta * c. Like nb_tensor_axpby it records nothing: use it for hand-written updates under
 * no-grad (e.g. a momentum buffer mom * v + lr * x^T @ y in one pass over v), on tensors no
 * graph of the active step still reads. Errors: NB_ERR_VALUE (NULL, alpha or beta not finite,
 * stride-0 dims, shared storage), NB_ERR_DTYPE, NB_ERR_SHAPE, NB_ERR_STATE. */
NB_API nb_status nb_tensor_addmm(nb_tensor *c, double alpha, const nb_tensor *a, const nb_tensor *b,
                                 double beta);

/* ---- shape (views share storage; no copy) ----
 * These move data only, so besides f32/f64 they also accept NB_I64 tensors (e.g. slicing a
 * batch of class ids); all inputs of one call share a dtype. */
/* New shape with the same numel; one dim may be -1 (inferred). A view when x is contiguous,
 * otherwise x is copied first. */
NB_API nb_tensor *nb_reshape(nb_tensor *x, int ndim, const int64_t *shape);
/* [d0, d1, ...] -> [d0, d1 * ...]: keep the first dim, flatten the rest. */
NB_API nb_tensor *nb_flatten(nb_tensor *x);
/* Swap two axes (view). */
NB_API nb_tensor *nb_transpose(nb_tensor *x, int axis0, int axis1);
/* Reorder axes: result dim i is x's dim perm[i] (view). */
NB_API nb_tensor *nb_permute(nb_tensor *x, const int *perm);
/* Elements start, start+step, ... < stop along axis (view). Negative start/stop count from the
 * end; they are clipped to the dim; step >= 1. */
NB_API nb_tensor *nb_slice(nb_tensor *x, int axis, int64_t start, int64_t stop, int64_t step);
/* Broadcast to `shape` (NumPy rules; view with stride 0). */
NB_API nb_tensor *nb_expand(nb_tensor *x, int ndim, const int64_t *shape);
/* Insert / remove a size-1 axis (views). */
NB_API nb_tensor *nb_unsqueeze(nb_tensor *x, int axis);
NB_API nb_tensor *nb_squeeze(nb_tensor *x, int axis);
/* Element `index` along axis with that axis removed (view; PyTorch's x.select(axis, index),
 * x[:, t]): [T, B] -> [B] for axis 0. A negative index counts from the end. Differentiable.
 * Errors: NB_ERR_VALUE (axis or index out of range, naming both and the shape). */
NB_API nb_tensor *nb_select(nb_tensor *x, int axis, int64_t index);
/* Contiguous copy (recorded: the gradient flows through). */
NB_API nb_tensor *nb_contiguous(nb_tensor *x);
/* Join n >= 1 tensors along an existing axis (all other dims equal). Any number of inputs:
 * past 64 (the inputs one op application takes) they are joined in groups of 64 first.
 * Errors: NB_ERR_SHAPE when the sizes along axis add up past INT64_MAX. */
NB_API nb_tensor *nb_concat(int n, nb_tensor *const *xs, int axis);
/* Join n >= 1 equal-shape tensors along a new axis (any number, as nb_concat). */
NB_API nb_tensor *nb_stack(int n, nb_tensor *const *xs, int axis);
/* Split x into n equal parts along axis (dim must divide by n); parts are views written to
 * out[0..n-1]. Returns NB_OK or an error (out entries are then NULL). */
NB_API nb_status nb_split(nb_tensor *x, int axis, int n, nb_tensor **out);

/* ---- softmax ---- */
/* exp(x - max) / sum, along axis; numerically stable for any finite input. */
NB_API nb_tensor *nb_softmax(nb_tensor *x, int axis);
NB_API nb_tensor *nb_log_softmax(nb_tensor *x, int axis);

/* ---- normalisation ---- */
/* Layer normalisation over the last ndim dims of x, as one op (PyTorch's F.layer_norm): every
 * slice over those dims is normalised to mean 0 and biased variance 1,
 *   y = (x - mean) / sqrt(var + eps) * weight + bias,
 * weight and bias (both, or both NULL) of the normalised shape (x's last ndim dims). Row
 * statistics accumulate in double for f32 too. Gradients flow to x, weight and bias. nn's
 * LayerNorm module calls it (two passes over x instead of the nine of its composition from
 * means and elementwise ops, which the tests check it against).
 * Errors: NB_ERR_SHAPE (ndim outside [1, x's ndim], weight or bias not the normalised shape),
 * NB_ERR_VALUE (only one of weight and bias, eps < 0 or not finite), NB_ERR_DTYPE. */
NB_API nb_tensor *nb_layer_norm(nb_tensor *x, int ndim, nb_tensor *weight, nb_tensor *bias,
                                double eps);

/* ---- recurrent cells: the gate math of one step as one op ---- */
/* The LSTM step's elementwise part (PyTorch's LSTMCell after its two products): z holds the
 * pre-activations (x W_ih^T + b_ih + h W_hh^T + b_hh) as four blocks of H rows along `axis`,
 * in PyTorch's order i, f, g, o; c is the cell state, z's shape with H rows along the axis.
 *   i, f, o = sigmoid(block), g = tanh(block);  c' = f * c + i * g;  h' = o * tanh(c')
 * Returns z's shape with 2H rows along the axis: h' then c' (nb_slice / nb_split them). axis
 * may be negative (from the end): -1 for [B, 4H], 0 for the feature-major [4H, B] that nn's
 * LSTM layers run. One pass forward and one backward instead of the composition's ten ops;
 * gradients flow to z and c. Errors: NB_ERR_SHAPE (axis out of range, z's rows along it not a
 * multiple of 4, c not z's shape with H rows), NB_ERR_DTYPE. */
NB_API nb_tensor *nb_lstm_cell(nb_tensor *z, nb_tensor *c, int axis);
/* The GRU step's elementwise part: xg the input side (x W_ih^T + b_ih, with b_hr and b_hz
 * added to its r and z blocks) and hg the recurrent side (h W_hh^T), each three blocks of H
 * rows along `axis` in PyTorch's order r, z, n; h the state (H rows); bhn the recurrent bias of
 * n (PyTorch's b_hn, h's shape) or NULL.
 *   r = sigmoid(xg_r + hg_r), z = sigmoid(xg_z + hg_z), n = tanh(xg_n + r * (hg_n + bhn)),
 *   h' = (1 - z) * n + z * h.
 * Returns h' (h's shape). Gradients flow to every input. Errors: NB_ERR_SHAPE, NB_ERR_DTYPE. */
NB_API nb_tensor *nb_gru_cell(nb_tensor *xg, nb_tensor *hg, nb_tensor *h, nb_tensor *bhn, int axis);

/* ---- indexing ---- */
/* y[n] = x[n, idx[n]]. x: [N, C] float, idx: [N] NB_I64 with values in [0, C). */
NB_API nb_tensor *nb_pick(nb_tensor *x, nb_tensor *idx);
/* Rows of `table` selected by ids: table [V, D], ids NB_I64 of any shape S -> [S..., D].
 * The gradient scatter-adds into the rows used. Ids out of [0, V) are NB_ERR_VALUE. */
NB_API nb_tensor *nb_gather_rows(nb_tensor *table, nb_tensor *ids);
/* One-hot encoding: ids NB_I64 [S...] -> float [S..., n_classes] of dtype (not recorded). */
NB_API nb_tensor *nb_one_hot(nb_tensor *ids, int64_t n_classes, nb_dtype dtype);

/* ---- constants and random tensors ----
 * Not recorded (they never require grad); placed like op results: in the active step's arena,
 * or caller-owned with no step. */
NB_API nb_tensor *nb_constant(nb_dtype dtype, int ndim, const int64_t *shape, double value);
NB_API nb_tensor *nb_rand_uniform(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                                  double lo, double hi);
NB_API nb_tensor *nb_rand_normal(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                                 double mean, double std);
/* 1 with probability p, else 0. p in [0, 1]. */
NB_API nb_tensor *nb_rand_bernoulli(nb_dtype dtype, int ndim, const int64_t *shape, nb_rng *rng,
                                    double p);
/* Elementwise Bernoulli samples with probabilities probs (values in [0, 1]): same shape and
 * dtype; the RBM's Gibbs sampling. */
NB_API nb_tensor *nb_sample_bernoulli(nb_tensor *probs, nb_rng *rng);
/* A view of x that does not require grad: the gradient stops here (truncated BPTT, targets). */
NB_API nb_tensor *nb_detach(nb_tensor *x);
/* Inverted dropout (recorded, differentiable): y = x * m / (1 - p), dx = dy * m / (1 - p), with
 * m_i = 1 with probability 1 - p. p in [0, 1). The mask comes from one 64-bit seed drawn from
 * rng (nb_rng_u64; no draw when p = 0): element i, in row-major order, is kept when
 * splitmix64's output for the counter i + 1, mix64(seed + 0x9e3779b97f4a7c15 (i + 1)), is at
 * least p 2^64. Every element is decided on its own, so the op splits across threads with the
 * same result, and backward decides again from the seed instead of storing a mask. It is the
 * rule of nb_scaled_dot_product_attention's dropout, so nb_sdpa_composed drops the same
 * weights as the fused op. */
NB_API nb_tensor *nb_dropout(nb_tensor *x, double p, nb_rng *rng);

/* ---- losses (composed from the ops above) ---- */
typedef enum nb_reduction {
    NB_REDUCE_MEAN = 0, /* mean over all elements (batch-mean for cross-entropy) */
    NB_REDUCE_SUM = 1,
    NB_REDUCE_NONE = 2,      /* per-element (per-sample for cross-entropy) */
    NB_REDUCE_BATCHMEAN = 3, /* nb_kl_div only: the sum divided by the first dim (the batch) */
} nb_reduction;

/* Every loss takes (prediction, target, reduction).
 * Squared error (pred - target)^2, same shapes: MEAN is the mean squared error, SUM the sum of
 * squared errors, NONE per element. */
NB_API nb_tensor *nb_mse(nb_tensor *pred, nb_tensor *target, nb_reduction reduction);
/* Binary cross-entropy of probabilities p in [0, 1] and targets, PyTorch's formula with its log
 * clamp: -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)). In f32 each log is bounded at
 * log(FLT_MIN) = -87.3 instead, so gradients stay finite; past the clamp the gradient is 0. */
NB_API nb_tensor *nb_bce(nb_tensor *p, nb_tensor *target, nb_reduction reduction);
/* Binary cross-entropy on logits z: softplus(z) - z * target, stable for large |z|. */
NB_API nb_tensor *nb_bce_with_logits(nb_tensor *z, nb_tensor *target, nb_reduction reduction);
/* Cross-entropy of logits [N, C] against class indices [N] (NB_I64); also [N, C, d1, ...] with
 * targets [N, d1, ...] (see nb_cross_entropy_ex below for the rules and errors). */
NB_API nb_tensor *nb_cross_entropy(nb_tensor *logits, nb_tensor *targets, nb_reduction reduction);
/* Cross-entropy of logits [N, C] against one-hot / probability targets [N, C]. */
NB_API nb_tensor *nb_cross_entropy_onehot(nb_tensor *logits, nb_tensor *target,
                                          nb_reduction reduction);
/* Options of the class-index losses (nb_cross_entropy_ex, nb_nll_ex); NULL or {0} is plain
 * cross-entropy / NLL. */
typedef struct nb_cross_entropy_opts {
    nb_tensor *weight;     /* [C] class weights of the logits' dtype, or NULL (all 1). Not
                            * differentiated (PyTorch refuses a weight that requires grad) */
    bool use_ignore_index; /* targets equal to ignore_index then add 0 and leave the mean's
                            * denominator (PyTorch's ignore_index; its default is -100) */
    int64_t ignore_index;
    double
        label_smoothing; /* cross-entropy only, in [0, 1]: the target is (1 - e) one-hot + e / C */
} nb_cross_entropy_opts;
/* Class-index losses, PyTorch's cross_entropy / nll_loss. Shapes: input [N, C] with target [N],
 * [N, C, d1, d2, ...] with target [N, d1, d2, ...] (a class per position, e.g. segmentation),
 * or unbatched [C] with a 0-dim target; targets NB_I64 in [0, C). Per position:
 *     loss = -w[t] logp[t]                            (logp = log_softmax(logits, class axis))
 *          = (1 - e) (-w[t] logp[t]) + e / C sum_c -w[c] logp[c]      (label smoothing e)
 * and 0 at an ignored position. NB_REDUCE_NONE gives these in the target's shape, SUM their sum,
 * MEAN their sum divided by the sum of w[t] over the positions not ignored (PyTorch's weighted
 * mean: the count of positions without weights; NaN when every position is ignored).
 * Gradients flow to the logits / log-probabilities. Errors: NB_ERR_SHAPE (shapes, a weight not
 * [C]), NB_ERR_VALUE naming the position and value of a target outside [0, C) (and not the
 * ignore_index), a label_smoothing outside [0, 1] (or non-zero for NLL), an unknown reduction;
 * NB_ERR_DTYPE (target not i64, weight of another dtype). */
/* Cross-entropy with class weights, ignore_index and label smoothing; opts may be NULL. */
NB_API nb_tensor *nb_cross_entropy_ex(nb_tensor *logits, nb_tensor *target, nb_reduction reduction,
                                      const nb_cross_entropy_opts *opts);
/* Negative log-likelihood of log-probabilities logp (e.g. nb_log_softmax's output): shapes,
 * reductions and errors as cross-entropy; nb_cross_entropy(z, t, r) equals
 * nb_nll(nb_log_softmax(z, 1), t, r). */
NB_API nb_tensor *nb_nll(nb_tensor *logp, nb_tensor *target, nb_reduction reduction);
/* NLL with class weights and ignore_index (label_smoothing must be 0); opts may be NULL. */
NB_API nb_tensor *nb_nll_ex(nb_tensor *logp, nb_tensor *target, nb_reduction reduction,
                            const nb_cross_entropy_opts *opts);
/* Options of nb_bce_with_logits_ex; NULL or {0} is nb_bce_with_logits. Both tensors have the
 * logits' dtype, broadcast to their shape, and are differentiable. */
typedef struct nb_bce_opts {
    nb_tensor *weight;     /* rescales each element's loss, or NULL */
    nb_tensor *pos_weight; /* weight of the positive term, e.g. [C] over [N, C]: loss =
                            * (1 - t) z + (1 + (pos_weight - 1) t) softplus(-z) (PyTorch's) */
} nb_bce_opts;
/* Binary cross-entropy on logits with weight and pos_weight. Errors: NB_ERR_SHAPE (target not
 * z's shape, a weight that does not broadcast to it), NB_ERR_VALUE (reduction). */
NB_API nb_tensor *nb_bce_with_logits_ex(nb_tensor *z, nb_tensor *target, nb_reduction reduction,
                                        const nb_bce_opts *opts);
/* |pred - target| (PyTorch's l1_loss). Same shapes. */
NB_API nb_tensor *nb_l1(nb_tensor *pred, nb_tensor *target, nb_reduction reduction);
/* Smooth L1 with d = |pred - target|: 0.5 d^2 / beta for d < beta, d - 0.5 beta otherwise;
 * beta = 0 is the L1 loss (PyTorch's smooth_l1_loss; its default beta is 1). Same shapes.
 * Errors: NB_ERR_VALUE for beta < 0 or not finite. */
NB_API nb_tensor *nb_smooth_l1(nb_tensor *pred, nb_tensor *target, nb_reduction reduction,
                               double beta);
/* Huber: 0.5 d^2 for d < delta, delta (d - 0.5 delta) otherwise (= delta * smooth L1 with
 * beta = delta; PyTorch's huber_loss, default delta 1). Errors: NB_ERR_VALUE unless delta > 0. */
NB_API nb_tensor *nb_huber(nb_tensor *pred, nb_tensor *target, nb_reduction reduction,
                           double delta);
/* KL divergence, PyTorch's kl_div: input holds log-probabilities, target probabilities (or their
 * logs with log_target); pointwise target (log target - input), with 0 where target = 0, or
 * exp(target) (target - input) with log_target. Same shapes. NB_REDUCE_BATCHMEAN (the sum over
 * the first dim's size) is the true KL divergence per sample; MEAN is over all elements, as in
 * PyTorch. Differentiable in both. Errors: NB_ERR_SHAPE (shapes; a 0-dim input with
 * BATCHMEAN), NB_ERR_VALUE (reduction). */
NB_API nb_tensor *nb_kl_div(nb_tensor *input, nb_tensor *target, nb_reduction reduction,
                            bool log_target);
/* Hinge embedding (PyTorch's hinge_embedding_loss): x where target is 1, max(0, margin - x)
 * where it is -1 (other target values get both terms, as in PyTorch). Same shapes; the target
 * is a float tensor of x's dtype. Differentiable in x. */
NB_API nb_tensor *nb_hinge_embedding(nb_tensor *x, nb_tensor *target, nb_reduction reduction,
                                     double margin);
/* Margin ranking: max(0, -target (x1 - x2) + margin), target +-1 (x1 should rank higher where
 * it is 1). x1, x2 and target share one shape (NB_ERR_SHAPE otherwise). */
NB_API nb_tensor *nb_margin_ranking(nb_tensor *x1, nb_tensor *x2, nb_tensor *target,
                                    nb_reduction reduction, double margin);
/* Cosine embedding (PyTorch's cosine_embedding_loss): x1, x2 [N, D] (or [D]), target [N] (or
 * []) of +-1; with cos the cosine similarity of each row (PyTorch's 1e-12 added to each squared
 * norm), 1 - cos where target is 1 and max(0, cos - margin) where it is -1, 0 elsewhere.
 * Differentiable in x1 and x2. Errors: NB_ERR_SHAPE (shapes), NB_ERR_VALUE (reduction). */
NB_API nb_tensor *nb_cosine_embedding(nb_tensor *x1, nb_tensor *x2, nb_tensor *target,
                                      nb_reduction reduction, double margin);

/* ==== convolution, pooling and padding (ops/conv.c, ops/pool.c) ====
 * Layout is channels-first: images are [N, C, H, W], signals [N, C, L]. A 1-D op treats the
 * length axis as the width of an image of height 1, so it reads the width fields of the option
 * structs (stride_w, dilation_w, pad_left, pad_right); its height fields must be 0 (or 1 for
 * stride_h / dilation_h).
 *
 * Along one axis of length `in`, a window of `kernel` taps spaced `dilation` apart slides with
 * step `stride` over the input padded with pad_begin before and pad_end after it:
 *     out = floor((in + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride) + 1
 * (out < 1 means no window fits: the ops report NB_ERR_SHAPE). */

/* How the input is padded before the windows slide over it. */
typedef enum nb_padding {
    NB_PAD_VALID = 0,    /* no padding: only windows fully inside the input */
    NB_PAD_SAME = 1,     /* TensorFlow's rule: out = ceil(in / stride); the needed padding
                          * max((out - 1) * stride + dilation * (kernel - 1) + 1 - in, 0) is split
                          * with the extra element at the end (bottom / right) */
    NB_PAD_EXPLICIT = 2, /* pad_top, pad_bottom, pad_left, pad_right (each >= 0) */
} nb_padding;

/* Output length along one axis (the formula above), or 0 when no window fits. `padding` chooses
 * how the pads are found: for NB_PAD_EXPLICIT *pad_begin and *pad_end are read; for VALID and
 * SAME they are computed. Either way, when the pointers are non-NULL they receive the padding
 * actually used. Returns -1 for invalid arguments (in < 0, kernel, stride or dilation < 1,
 * negative explicit pads, unknown padding mode). Pure arithmetic: sets no error. */
NB_API int64_t nb_conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                   nb_padding padding, int64_t *pad_begin, int64_t *pad_end);

/* Convolution options. Zero-initialised ({0}) means stride 1, dilation 1, NB_PAD_VALID,
 * groups 1, no fused activation. */
typedef struct nb_conv_opts {
    int64_t stride_h, stride_w;     /* 0 -> 1 */
    int64_t dilation_h, dilation_w; /* spacing of the kernel taps; 0 -> 1 */
    nb_padding padding;
    int64_t pad_top, pad_bottom, pad_left, pad_right; /* NB_PAD_EXPLICIT only */
    int64_t groups; /* 0 -> 1. Input channels C and output channels O split into `groups`
                     * independent convolutions; groups == C is a depthwise convolution */
    int64_t output_padding_h, output_padding_w; /* transposed convolution only (see there) */
    bool relu; /* nb_conv2d / nb_conv1d only: the output is nb_relu of the convolution (+ b),
                * computed in the pass that writes it, and the backward masks dy in its first
                * pass over it: the same values and gradients as nb_relu(nb_conv2d(...)) without
                * a separate activation tensor, its gradient and their two passes over memory */
} nb_conv_opts;

/* 2-D convolution as deep-learning frameworks define it (cross-correlation: the kernel is not
 * flipped):
 *     y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v]
 *                            * xpad[n, g * C/groups + c, i * stride_h + u * dilation_h,
 *                                                         j * stride_w + v * dilation_w]
 * with g = o / (O/groups) and xpad the zero-padded input.
 * x: [N, C, H, W], w: [O, C/groups, KH, KW], b: [O] or NULL -> y: [N, O, OH, OW].
 * opts may be NULL (all defaults). Placed like every op result (see the top of this file).
 * Errors (NULL + nb_last_error()): NB_ERR_SHAPE when a rank or the weight shape is wrong, when C
 * or O does not divide by groups, or when an output size would be < 1 (the message gives the
 * input, kernel, dilation, padding and stride of that axis); NB_ERR_VALUE for a stride,
 * dilation or groups < 0, a negative pad, an unknown padding mode or a non-zero output_padding
 * (and, for the transposed convolutions, relu);
 * NB_ERR_DTYPE when the dtypes differ. Gradients flow to x, w and b. Computed as im2col + one BLIS
 * GEMM per group over the whole batch (depthwise, groups == C > 1: direct loops). */
NB_API nb_tensor *nb_conv2d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts);
/* 1-D convolution: x: [N, C, L], w: [O, C/groups, K], b: [O] or NULL -> y: [N, O, L_out].
 * Options and errors as nb_conv2d (width fields; see the top of this section). */
NB_API nb_tensor *nb_conv1d(nb_tensor *x, nb_tensor *w, nb_tensor *b, const nb_conv_opts *opts);

/* Transposed 2-D convolution ("deconvolution", fractionally strided convolution): the adjoint of
 * nb_conv2d in its input, so nb_conv_transpose2d(dy, w, NULL, opts) is the gradient nb_conv2d
 * passes to its x for the same w and opts. Each input pixel scatters w times its value:
 *     y[n, g*O/G + o, i*stride_h - pad_top + u*dilation_h, j*stride_w - pad_left + v*dilation_w]
 *         += x[n, c, i, j] * w[c, o, u, v]      (c in group g; taps outside y are dropped)
 * then b[o] is added. x: [N, C, H, W], w: [C, O/groups, KH, KW] (PyTorch's layout),
 * b: [O] or NULL -> y: [N, O, OH, OW] with
 *     OH = (H - 1) * stride_h - pad_top - pad_bottom + dilation_h * (KH - 1) + 1 + output_padding_h
 * for NB_PAD_VALID (pads 0) and NB_PAD_EXPLICIT, and OH = H * stride_h for NB_PAD_SAME (the
 * pads are those nb_conv2d's SAME rule gives for an OH-high input), likewise for the width.
 * output_padding (>= 0, smaller than the stride or the dilation, VALID / EXPLICIT only) picks
 * among the input sizes a strided nb_conv2d maps to the same H. opts may be NULL.
 * Errors as nb_conv2d (an output size < 1 is NB_ERR_SHAPE; a bad output_padding NB_ERR_VALUE).
 * Computed with the same im2col / col2im and GEMMs as nb_conv2d. */
NB_API nb_tensor *nb_conv_transpose2d(nb_tensor *x, nb_tensor *w, nb_tensor *b,
                                      const nb_conv_opts *opts);
/* 1-D: x: [N, C, L], w: [C, O/groups, K], b: [O] or NULL -> y: [N, O, L_out] (width fields). */
NB_API nb_tensor *nb_conv_transpose1d(nb_tensor *x, nb_tensor *w, nb_tensor *b,
                                      const nb_conv_opts *opts);

/* Pooling options. Zero-initialised means stride = kernel (windows side by side) and
 * NB_PAD_VALID. */
typedef struct nb_pool_opts {
    int64_t stride_h, stride_w; /* 0 -> the kernel size along that axis */
    nb_padding padding;
    int64_t pad_top, pad_bottom, pad_left, pad_right; /* NB_PAD_EXPLICIT only */
    /* Average pooling only. false (default, PyTorch's count_include_pad=True): every window is
     * divided by KH*KW, padded zeros included. true: divided by the number of input elements
     * the window covers (what TensorFlow does with SAME). */
    bool exclude_padding;
} nb_pool_opts;

/* Max pooling over KH x KW windows: x: [N, C, H, W] -> [N, C, OH, OW]. Padding never wins (it
 * acts as -inf); each pad must be smaller than the kernel, so every window covers at least one
 * input element. The gradient goes to the first maximal element of each window (row-major);
 * a NaN in a window is its maximum. opts may be NULL.
 * Errors: NB_ERR_SHAPE (x not 4-D, an output size < 1), NB_ERR_VALUE (kernel < 1, stride < 0,
 * a negative pad or one >= the kernel, unknown padding mode). */
NB_API nb_tensor *nb_max_pool2d(nb_tensor *x, int64_t kh, int64_t kw, const nb_pool_opts *opts);
/* Average pooling over KH x KW windows; padding counts as zeros (see exclude_padding).
 * Shapes and errors as nb_max_pool2d. */
NB_API nb_tensor *nb_avg_pool2d(nb_tensor *x, int64_t kh, int64_t kw, const nb_pool_opts *opts);
/* 1-D pooling over windows of k: x: [N, C, L] -> [N, C, L_out] (width fields of opts). */
NB_API nb_tensor *nb_max_pool1d(nb_tensor *x, int64_t k, const nb_pool_opts *opts);
NB_API nb_tensor *nb_avg_pool1d(nb_tensor *x, int64_t k, const nb_pool_opts *opts);
/* Global pooling: mean / max over every axis after the first two: x: [N, C, ...] (3 to 8 dims)
 * -> [N, C]. Compositions of nb_mean_axes / nb_max_axes (the max gradient goes to the first
 * maximal element). Errors: NB_ERR_SHAPE when x has fewer than 3 dims. */
NB_API nb_tensor *nb_global_avg_pool(nb_tensor *x);
NB_API nb_tensor *nb_global_max_pool(nb_tensor *x);

/* Constant padding of the last two axes: x: [..., H, W] (>= 2 dims) ->
 * [..., top + H + bottom, left + W + right], new elements set to `value`. Differentiable in x.
 * Errors: NB_ERR_SHAPE (fewer than 2 dims), NB_ERR_VALUE (a negative pad). */
NB_API nb_tensor *nb_pad2d(nb_tensor *x, int64_t top, int64_t bottom, int64_t left, int64_t right,
                           double value);
/* Constant padding of the last axis: x: [..., L] (>= 1 dim) -> [..., left + L + right]. */
NB_API nb_tensor *nb_pad1d(nb_tensor *x, int64_t left, int64_t right, double value);

/* ---- attention ---- */
typedef struct nb_sdpa_opts {
    double scale;      /* 0: 1 / sqrt(d) */
    bool causal;       /* query i sees keys j <= i (PyTorch's is_causal, top-left aligned) */
    bool mask_is_bool; /* mask holds 0/1: 0 hides a key; else the mask is added to the scores */
    double dropout;    /* probability of dropping an attention weight, in [0, 1) */
    nb_rng *rng;       /* required when dropout > 0 (one draw per call) */
    bool heads_last;   /* q, k, v and the result are [B, T, H, *] (see below) */
} nb_sdpa_opts;

/* Scaled dot-product attention, softmax(scale * q k^T + mask) v, as one fused op:
 *   q [B, H, T, d], k [B, H, S, d], v [B, H, S, e] -> [B, H, T, e]; mask (may be NULL) of the
 *   same dtype, broadcastable to [B, H, T, S] (e.g. [T, S], or [B, 1, 1, S] for key padding).
 * Forward and backward never hold the [T, S] weights: memory grows with T * (d + e) (tiled
 * online softmax, recomputed in backward). q, k, v may be strided views (e.g. heads split from
 * [B, T, H, d] by nb_permute) and are read in place. Gradients flow to q, k and v, not to the
 * mask. A row whose every key is hidden gives 0 (PyTorch gives NaN). Dropout masks are derived
 * from one draw of opts->rng and the position, so backward needs no stored mask. Errors:
 * NB_ERR_SHAPE (shapes, mask), NB_ERR_VALUE (scale <= 0, dropout outside [0, 1), dropout
 * without rng), NB_ERR_DTYPE.
 * opts->heads_last: q [B, T, H, d], k [B, S, H, d], v [B, S, H, e] -> [B, T, H, e], the layout
 * of projections reshaped to [B, T, H, d] (views, no permute) and of the result that the output
 * projection reads as [B, T, H e] (a view, no copy); the gradients of q, k, v come in that
 * layout too. The values equal the default layout's with every tensor permuted (0, 2, 1, 3);
 * the mask still broadcasts to [B, H, T, S], and dropout drops the same weights. */
NB_API nb_tensor *nb_scaled_dot_product_attention(nb_tensor *q, nb_tensor *k, nb_tensor *v,
                                                  nb_tensor *mask, const nb_sdpa_opts *opts);
/* The same computation composed of nb_matmul, nb_softmax and (with dropout) nb_dropout, with
 * the [T, S] weights materialised: the reference the fused op is tested against. A boolean
 * mask is applied as nb_log(mask) (so anomaly mode reports its -inf). With dropout and the
 * same generator state it draws the same seed and drops the same weights as the fused op. */
NB_API nb_tensor *nb_sdpa_composed(nb_tensor *q, nb_tensor *k, nb_tensor *v, nb_tensor *mask,
                                   const nb_sdpa_opts *opts);

/* ==== comparison and selection (ops/compare.c) ====
 * Masks. A comparison or logical op returns a mask: 1 where the condition holds, else 0, as a
 * float tensor of the inputs' dtype (f32 when the inputs are NB_I64, e.g. comparing nb_argmax
 * with class ids). Why floats and not a bool dtype as in PyTorch: a mask is used in arithmetic
 * far more often than it is stored — nb_mul(x, mask) to zero entries, nb_mean_all(mask) for an
 * accuracy, nb_sum for a count, a loss weight — and every op takes float tensors, so a float
 * mask needs no conversion and keeps the dtype rules of the library unchanged (f32 costs 4 bytes
 * per element, half of an i64 mask). Values are exactly 0 and 1. Ops that read a mask read
 * nonzero (NaN included) as true; where and masked_fill take a mask of any dtype.
 * Masks are not differentiable: they never require grad and record nothing.
 * NaN compares as in IEEE 754 and PyTorch: eq(NaN, NaN) = 0, ne(NaN, NaN) = 1, and <, <=, >,
 * >= with a NaN operand are 0. Inputs broadcast (NumPy rules), so a scalar threshold is a 0-dim
 * tensor: nb_gt(x, nb_constant(NB_F32, NB_SHAPE_SCALAR, 0.5)). Inputs: f32, f64 or i64, both of one
 * dtype. Errors: NB_ERR_SHAPE (shapes do not broadcast), NB_ERR_DTYPE (dtypes differ). */
NB_API nb_tensor *nb_eq(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_ne(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_lt(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_le(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_gt(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_ge(nb_tensor *a, nb_tensor *b);
/* Logical and / or / xor of two masks (nonzero = true), and not of one: masks as above. */
NB_API nb_tensor *nb_logical_and(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_logical_or(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_logical_xor(nb_tensor *a, nb_tensor *b);
NB_API nb_tensor *nb_logical_not(nb_tensor *x);
/* Masks of the elements that are NaN / finite (neither NaN nor +-Inf); x of any dtype (an i64
 * element is never NaN and always finite). */
NB_API nb_tensor *nb_isnan(nb_tensor *x);
NB_API nb_tensor *nb_isfinite(nb_tensor *x);

/* y = cond ? a : b elementwise; cond, a and b broadcast together (NumPy rules). a and b share a
 * dtype (f32, f64 or i64: the result's); cond is a mask of any dtype, nonzero = true (converted
 * to a's dtype first when it differs). Differentiable in a and b: da = dy where cond, 0
 * elsewhere; db the rest (a NaN or Inf in the branch not taken never reaches the result or the
 * gradient). cond is not differentiated. Errors: NB_ERR_SHAPE, NB_ERR_DTYPE (a and b differ). */
NB_API nb_tensor *nb_where(nb_tensor *cond, nb_tensor *a, nb_tensor *b);
/* y = mask ? value : x elementwise, x and mask broadcast together (like PyTorch's out-of-place
 * masked_fill); mask of any dtype, nonzero = true. value may be +-Inf or NaN for float x (-Inf
 * is the usual attention mask); for i64 x it must be an integer (NB_ERR_VALUE). Differentiable
 * in x: dx = dy where the mask is 0. Errors: NB_ERR_SHAPE, NB_ERR_VALUE. */
NB_API nb_tensor *nb_masked_fill(nb_tensor *x, nb_tensor *mask, double value);
/* Lower / upper triangle of the last two axes: x [..., R, C] (>= 2 dims, any dtype) -> same
 * shape, keeping element (i, j) when j - i <= diagonal (tril) / j - i >= diagonal (triu) and
 * zeroing the rest. diagonal 0 is the main diagonal, > 0 above it, < 0 below it; any value is
 * accepted (beyond the matrix it keeps all or nothing), as in PyTorch. A causal attention mask
 * is nb_tril(nb_full(NB_F32, NB_SHAPE(T, T), 1), 0). Differentiable: dx = dy on the kept
 * elements. Errors: NB_ERR_SHAPE (fewer than 2 dims). */
NB_API nb_tensor *nb_tril(nb_tensor *x, int64_t diagonal);
NB_API nb_tensor *nb_triu(nb_tensor *x, int64_t diagonal);

/* ==== creation (ops/create.c) ====
 * Constants made from arguments, like nb_constant: not recorded, never requiring grad, placed
 * like op results — in the active step's arena (valid until nb_step_end), or caller-owned
 * (free with nb_tensor_free) when no step is active. (nb_tensor_new / _zeros / _full are always
 * caller-owned.) Errors: NULL and nb_last_error(). */
/* [start, start + step, ...) up to end (excluded): ceil((end - start) / step) elements, each
 * start + i * step computed in double and rounded to dtype (PyTorch's rule). dtype f32, f64 or
 * i64; for i64, start and step must be integers and start, end within +-2^53 (PyTorch would
 * truncate a fractional step instead). Errors: NB_ERR_DTYPE, NB_ERR_VALUE (step 0, a non-finite
 * argument, a step going away from end), NB_ERR_SHAPE (too many elements). */
NB_API nb_tensor *nb_arange(nb_dtype dtype, double start, double end, double step);
/* `steps` values evenly spaced from start to end, both included (steps 1: [start]; 0: empty),
 * computed in dtype's precision with PyTorch's formula (from start for the first half, from end
 * for the second, so both ends are exact). dtype f32 or f64. Errors: NB_ERR_DTYPE, NB_ERR_VALUE
 * (steps < 0, a non-finite bound). */
NB_API nb_tensor *nb_linspace(nb_dtype dtype, double start, double end, int64_t steps);
/* Tensor of `shape` filled with value: nb_constant that also takes i64 (value an integer). */
NB_API nb_tensor *nb_full(nb_dtype dtype, int ndim, const int64_t *shape, double value);
/* [n, m] with ones on the main diagonal (a square identity: m = n). dtype f32, f64 or i64.
 * Errors: NB_ERR_DTYPE, NB_ERR_VALUE (n or m < 0). */
NB_API nb_tensor *nb_eye(nb_dtype dtype, int64_t n, int64_t m);
/* New tensors of x's dtype and shape (contiguous; x's values, strides and requires_grad are not
 * used): zeros, ones, value (an integer for i64 x). x may be any live tensor; a NULL x gives
 * NULL and keeps the first error. */
NB_API nb_tensor *nb_zeros_like(const nb_tensor *x);
NB_API nb_tensor *nb_ones_like(const nb_tensor *x);
NB_API nb_tensor *nb_full_like(const nb_tensor *x, double value);
/* Uniform [0, 1) / standard normal draws from rng in x's shape and float dtype, in row-major
 * order (the same numbers as nb_rand_uniform / nb_rand_normal). Errors: NB_ERR_DTYPE (i64 x),
 * NB_ERR_VALUE (rng NULL). */
NB_API nb_tensor *nb_rand_like(const nb_tensor *x, nb_rng *rng);
NB_API nb_tensor *nb_randn_like(const nb_tensor *x, nb_rng *rng);
/* ---- indexing along an axis, masked selection, flips, rolls, repeats, padding modes ----
 * PyTorch's semantics. Index tensors are NB_I64 (never differentiated); an index outside the
 * size it indexes is NB_ERR_VALUE naming its position and value (negative indices are refused,
 * as torch.gather does). A result is a new contiguous tensor unless said otherwise. */
/* torch.gather: y[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (likewise for any axis).
 * index has x's ndim and is no larger than x in every dim but axis; y has index's shape.
 * Differentiable in x: an element picked several times accumulates each gradient. */
NB_API nb_tensor *nb_gather(nb_tensor *x, int axis, nb_tensor *index);
/* torch.scatter: y = x, then y[index[i][j][k]][j][k] = src[i][j][k] (axis 0). index has the
 * ndim of x and src, is no larger than src in any dim and than x off the axis. When an index
 * repeats, the last write in row-major order of index wins (PyTorch leaves it unspecified).
 * Gradient: dx = dy where nothing was written, 0 where src was; dsrc = dy at the position each
 * src element was written to, 0 for a write that a later one overwrote (so the gradient is
 * that of the value computed; PyTorch gives every repeat dy). */
NB_API nb_tensor *nb_scatter(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src);
/* torch.scatter_add: as nb_scatter with +=, so repeated indices sum. dx = dy. */
NB_API nb_tensor *nb_scatter_add(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src);
/* torch.index_select: the entries index[0..k) (1-D) of x along axis: x [.., n, ..] ->
 * [.., k, ..]. The gradient scatter-adds back (repeated indices sum). */
NB_API nb_tensor *nb_index_select(nb_tensor *x, int axis, nb_tensor *index);
/* torch.index_add: y = x; y[.., index[k], ..] += alpha * src[.., k, ..] along axis. index 1-D
 * [k], src is x's shape with axis sized k. Differentiable in x and src. */
NB_API nb_tensor *nb_index_add(nb_tensor *x, int axis, nb_tensor *index, nb_tensor *src,
                               double alpha);
/* torch.masked_select: the elements of x where mask is true, in row-major order, as a 1-D
 * tensor (its length is the number of true elements). The mask is f32, f64 (0.0 / 1.0, what
 * the comparison ops give) or NB_I64 (0 / 1); like every op that reads a mask, nonzero (NaN
 * included) counts as true. The mask broadcasts to x's shape (x itself is not broadcast to the
 * mask: expand it first). Differentiable in x (not in the mask). */
NB_API nb_tensor *nb_masked_select(nb_tensor *x, nb_tensor *mask);
/* Split x along axis into n parts of sizes[0..n) elements (each >= 0, summing to the axis
 * size; torch.split with a list of sizes). The parts are views (nb_slice) written to
 * out[0..n); differentiable like any view. On error out[0..n) are NULL and the status (e.g.
 * NB_ERR_SHAPE naming the sizes) is returned. */
NB_API nb_status nb_split_sizes(nb_tensor *x, int axis, int n, const int64_t *sizes,
                                nb_tensor **out);
/* torch.flip: reverse the order of elements along each of axes[0..n_axes) (distinct). A copy. */
NB_API nb_tensor *nb_flip(nb_tensor *x, int n_axes, const int *axes);
/* torch.roll: shift elements by shifts[i] along axes[i] (i < n), wrapping around: y[o] =
 * x[(o - shift) mod size]; shifts may be negative or exceed the size. axes NULL: n must be 1
 * and the flattened tensor is rolled, then given x's shape back. */
NB_API nb_tensor *nb_roll(nb_tensor *x, int n, const int64_t *shifts, const int *axes);
/* torch.Tensor.repeat: tile x repeats[i] times along axis i; n >= x's ndim (x's shape is
 * prefixed with ones when n is larger). Repeats >= 0. The gradient sums the copies. */
NB_API nb_tensor *nb_repeat(nb_tensor *x, int n, const int64_t *repeats);
/* torch.tile: as nb_repeat, but with n < ndim the repeats are prefixed with ones. */
NB_API nb_tensor *nb_tile(nb_tensor *x, int n, const int64_t *repeats);

/* Padding modes of nb_pad (torch.nn.functional.pad's). */
typedef enum nb_pad_mode {
    NB_PAD_CONSTANT,  /* new elements are `value` */
    NB_PAD_REFLECT,   /* mirrored without the edge: [1 2 3] padded 2 left -> [3 2 1 2 3] */
    NB_PAD_REPLICATE, /* the edge element repeated: [1 2 3] -> [1 1 1 2 3] */
    NB_PAD_CIRCULAR,  /* wrapped around: [1 2 3] -> [2 3 1 2 3] */
} nb_pad_mode;
/* Pad the last n_axes axes of x (1 <= n_axes <= ndim, any leading dims are batch dims):
 * pads[2k], pads[2k+1] are the elements added before and after the k-th of those axes, in axis
 * order (as nb_pad2d's top, bottom, left, right; torch's F.pad lists the last axis first).
 * value is used by NB_PAD_CONSTANT only. Pads are >= 0; reflect needs each pad < the axis size,
 * circular each pad <= the axis size, replicate a non-empty axis. Differentiable in x: an
 * element copied into the padding gets those gradients too.
 * Errors: NB_ERR_SHAPE (n_axes out of range), NB_ERR_VALUE (negative or too large pad, unknown
 * mode), each naming the axis, pads and x's shape. */
NB_API nb_tensor *nb_pad(nb_tensor *x, int n_axes, const int64_t *pads, nb_pad_mode mode,
                         double value);

/* ---- Einstein summation, outer product ---- */
/* Two-operand torch.einsum: spec names a's and b's axes with one letter each (a-z, A-Z),
 * "ij,jk->ik", "bij,bjk->bik", "bhqd,bhkd->bhqk", "i,j->ij", "i,i->"; without "->" the output
 * is the letters used once, in ASCII order. Letters in both operands and not in the output are
 * summed over (contracted); a letter in one operand only and not in the output is summed out of
 * it. Computed as one (batched) nb_matmul on views of a and b, so BLIS does the work; an
 * operand is copied only when no order of its letters is dense. The result may be a strided
 * view (a permutation of the matmul's output). Differentiable in a and b.
 * Errors (NB_ERR_VALUE unless said): a character other than a letter, ',' or "->" (ellipsis
 * included), one or more than two operands, a letter repeated within an operand (diagonals) or
 * in the output, an output letter in neither operand; NB_ERR_SHAPE: a letter count other than
 * the operand's ndim, a letter with two sizes (naming both), an output of more than
 * NB_MAX_DIMS dims. Each message quotes the spec. */
NB_API nb_tensor *nb_einsum(const char *spec, nb_tensor *a, nb_tensor *b);
/* torch.outer: a [n], b [m] -> [n, m], y[i, j] = a[i] * b[j]. NB_ERR_SHAPE unless both 1-D. */
NB_API nb_tensor *nb_outer(nb_tensor *a, nb_tensor *b);

/* ==== sampling (ops/sample.c) ====
 * Draws of class ids as NB_I64 tensors, not differentiable, placed like op results (the step's
 * arena, or caller-owned without a step). Each draw takes one nb_rng_uniform from rng, rows in
 * order, so the same seed gives the same ids. */
/* Options of nb_sample_logits. Start from NB_SAMPLE_DEFAULTS (every field must hold a valid
 * value, so a zero-initialised struct is refused):
 *     nb_sample_opts o = NB_SAMPLE_DEFAULTS;
 *     o.temperature = 0.8, o.top_k = 40; */
typedef struct nb_sample_opts {
    double temperature;  /* finite and > 0: the logits are divided by it (1: unchanged; towards 0
                          * the draw becomes the argmax, ties to the lowest id) */
    int64_t top_k;       /* >= 1: only classes whose logit is at least the k-th largest can be
                          * drawn (ties with it included; k >= C keeps every class) */
    double top_p;        /* in (0, 1]: then only the smallest set of most likely classes whose
                          * probability reaches top_p (nucleus sampling; 1 keeps every class) */
    int64_t num_samples; /* 0: one draw per row, result [N] ([] for [C] logits); k >= 1: k
                          * independent draws per row (with replacement), result [N, k] ([k]) */
} nb_sample_opts;
#define NB_SAMPLE_DEFAULTS                                                                         \
    {                                                                                              \
        1.0, INT64_MAX, 1.0, 0                                                                     \
    }
/* Categorical sampling from logits [N, C] (or [C]), f32 or f64: temperature, then top-k, then
 * top-p on the renormalised probabilities of the classes left; a class of probability 0 (logit
 * -inf, or underflowing after the temperature) is never drawn. opts NULL: NB_SAMPLE_DEFAULTS.
 * Errors: NB_ERR_VALUE (temperature <= 0 or not finite, top_k < 1, top_p outside (0, 1],
 * num_samples < 0, rng NULL, a NaN or +inf logit naming its row and class, a row of -inf only),
 * NB_ERR_SHAPE (not [N, C] or [C], C = 0), NB_ERR_DTYPE (not float). */
NB_API nb_tensor *nb_sample_logits(nb_tensor *logits, const nb_sample_opts *opts, nb_rng *rng);
/* torch.multinomial: num_samples (>= 1) class ids per row of weights [N, C] (or [C]), each drawn
 * with probability proportional to its weight (weights finite and >= 0, need not sum to 1) ->
 * [N, num_samples] (or [num_samples]). Without replacement a drawn class is removed before the
 * next draw, so a row never repeats an id, and it needs num_samples <= its number of positive
 * weights. Errors: NB_ERR_VALUE (a negative, NaN or infinite weight naming its row and class, a
 * row with no positive weight, too few for num_samples, num_samples < 1, rng NULL),
 * NB_ERR_SHAPE, NB_ERR_DTYPE as nb_sample_logits. */
NB_API nb_tensor *nb_multinomial(nb_tensor *weights, int64_t num_samples, bool replacement,
                                 nb_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
