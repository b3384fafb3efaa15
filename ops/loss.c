/* ops/loss.c — loss functions, composed from public ops (no backward code of their own).
 *
 * Without an active step every intermediate is a heap tensor owned by the loss, so each one is
 * freed as soon as it has been used (`used`). With a step they live in the arena and
 * nb_tensor_free ignores them. */
#include "ops/op_def.h"

#include <float.h>
#include <math.h>

/* Returns y after freeing the intermediates a and b (either may be NULL). */
static nb_tensor *used(nb_tensor *y, nb_tensor *a, nb_tensor *b)
{
    nb_tensor_free(a);
    nb_tensor_free(b);
    return y;
}

static bool valid_reduction(const char *fn, nb_reduction reduction)
{
    if (reduction == NB_REDUCE_MEAN || reduction == NB_REDUCE_SUM || reduction == NB_REDUCE_NONE)
        return true;
    nbi_error(NB_ERR_VALUE, "%s: unknown reduction %d", fn, (int)reduction);
    return false;
}

static nb_tensor *reduce(nb_tensor *per_elem, nb_reduction reduction)
{
    switch (reduction) {
    case NB_REDUCE_MEAN:
        return used(nb_mean_all(per_elem), per_elem, NULL);
    case NB_REDUCE_SUM:
        return used(nb_sum_all(per_elem), per_elem, NULL);
    case NB_REDUCE_NONE:
        break;
    }
    return per_elem;
}

/* Checks shared by every loss: live inputs, a known reduction, and (when both are given)
 * equal shapes. */
static bool check_args(const char *fn, const nb_tensor *a, const nb_tensor *b,
                       nb_reduction reduction, bool same_shape)
{
    if (!nbi_check_live(fn, a) || !nbi_check_live(fn, b) || !valid_reduction(fn, reduction))
        return false;
    if (same_shape && a && b && !nbi_same_shape(a, b)) {
        nbi_error(NB_ERR_SHAPE, "%s: prediction is %s, target is %s (they must match)", fn,
                  nbi_fmt_shape(a), nbi_fmt_shape(b));
        return false;
    }
    return true;
}

nb_tensor *nb_mse_ex(nb_tensor *pred, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_mse", pred, target, reduction, true))
        return NULL;
    nb_tensor *d = nb_sub(pred, target);
    return reduce(used(nb_square(d), d, NULL), reduction);
}

nb_tensor *nb_mse(nb_tensor *pred, nb_tensor *target)
{
    return nb_mse_ex(pred, target, NB_REDUCE_MEAN);
}

nb_tensor *nb_sse(nb_tensor *pred, nb_tensor *target)
{
    if (!check_args("nb_sse", pred, target, NB_REDUCE_SUM, true))
        return NULL;
    nb_tensor *d = nb_sub(pred, target);
    return reduce(used(nb_square(d), d, NULL), NB_REDUCE_SUM);
}

/* -(t log p + (1 - t) log(1 - p)) with PyTorch's binary_cross_entropy clamp of each log at
 * >= -100, which keeps the loss finite at p = 0 or 1. The clamp is applied to the log's
 * argument instead, p and 1 - p (1 - p is exact for p >= 0.5, so a confident float32
 * prediction keeps its small loss), at the smallest value whose log is >= -100 and whose
 * reciprocal (the log's gradient) is finite: exp(-100) in f64 (the log is then exactly
 * PyTorch's -100) and FLT_MIN in f32 (the log bottoms out at -87.3; below FLT_MIN 1/p is
 * infinite). Past the clamp the gradient is 0. */
nb_tensor *nb_bce(nb_tensor *p, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_bce", p, target, reduction, true))
        return NULL;
    const double lo = p && nb_tensor_dtype(p) == NB_F32 ? FLT_MIN : exp(-100.0);
    nb_tensor *pc = nb_clamp(p, lo, 1.0);
    nb_tensor *log_p = used(nb_log(pc), pc, NULL);
    nb_tensor *pos = used(nb_mul(target, log_p), log_p, NULL);
    nb_tensor *one_minus_p = nb_affine(p, -1.0, 1.0);
    nb_tensor *qc = used(nb_clamp(one_minus_p, lo, 1.0), one_minus_p, NULL);
    nb_tensor *log_1mp = used(nb_log(qc), qc, NULL);
    nb_tensor *one_minus_t = nb_affine(target, -1.0, 1.0);
    nb_tensor *neg = used(nb_mul(one_minus_t, log_1mp), one_minus_t, log_1mp);
    nb_tensor *sum = used(nb_add(pos, neg), pos, neg);
    return reduce(used(nb_neg(sum), sum, NULL), reduction);
}

/* softplus(z) - z t  ==  -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))). */
nb_tensor *nb_bce_with_logits(nb_tensor *z, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_bce_with_logits", z, target, reduction, true))
        return NULL;
    nb_tensor *sp = nb_softplus(z), *zt = nb_mul(z, target);
    return reduce(used(nb_sub(sp, zt), sp, zt), reduction);
}

nb_tensor *nb_cross_entropy(nb_tensor *logits, nb_tensor *targets, nb_reduction reduction)
{
    if (!check_args("nb_cross_entropy", logits, targets, reduction, false))
        return NULL;
    if (logits && targets &&
        (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])) {
        nbi_error(NB_ERR_SHAPE,
                  "nb_cross_entropy: logits must be [N, C] and targets [N]: logits are %s, "
                  "targets %s",
                  nbi_fmt_shape(logits), nbi_fmt_shape(targets));
        return NULL;
    }
    nb_tensor *logp = nb_log_softmax(logits, 1);
    nb_tensor *picked = used(nb_pick(logp, targets), logp, NULL);
    return reduce(used(nb_neg(picked), picked, NULL), reduction);
}

nb_tensor *nb_cross_entropy_onehot(nb_tensor *logits, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_cross_entropy_onehot", logits, target, reduction, true))
        return NULL;
    if (logits && logits->ndim != 2) {
        nbi_error(NB_ERR_SHAPE, "nb_cross_entropy_onehot: logits must be [N, C], got %s",
                  nbi_fmt_shape(logits));
        return NULL;
    }
    nb_tensor *logp = nb_log_softmax(logits, 1);
    nb_tensor *weighted = used(nb_mul(target, logp), logp, NULL);
    nb_tensor *per_sample = used(nb_sum(weighted, 1, false), weighted, NULL);
    return reduce(used(nb_neg(per_sample), per_sample, NULL), reduction);
}
