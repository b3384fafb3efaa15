/* ops/loss.c — loss functions, composed from public ops (no backward code of their own). Each
 * runs in a scope (NBI_RETURN_SCOPED): with no active step, in the private step, so the
 * intermediates always live in an arena. */
#include "ops/op_def.h"

#include <float.h>
#include <math.h>

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
        return nb_mean_all(per_elem);
    case NB_REDUCE_SUM:
        return nb_sum_all(per_elem);
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

nb_tensor *nb_mse(nb_tensor *pred, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_mse", pred, target, reduction, true))
        return NULL;
    NBI_RETURN_SCOPED(reduce(nb_square(nb_sub(pred, target)), reduction));
}

static nb_tensor *bce_terms(nb_tensor *p, nb_tensor *t, double lo, nb_reduction reduction)
{
    nb_tensor *pos = nb_mul(t, nb_log(nb_clamp(p, lo, 1.0)));
    nb_tensor *log_1mp = nb_log(nb_clamp(nb_affine(p, -1.0, 1.0), lo, 1.0));
    nb_tensor *neg = nb_mul(nb_affine(t, -1.0, 1.0), log_1mp);
    return reduce(nb_neg(nb_add(pos, neg)), reduction);
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
    NBI_RETURN_SCOPED(bce_terms(p, target, lo, reduction));
}

/* softplus(z) - z t  ==  -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))). */
nb_tensor *nb_bce_with_logits(nb_tensor *z, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_bce_with_logits", z, target, reduction, true))
        return NULL;
    NBI_RETURN_SCOPED(reduce(nb_sub(nb_softplus(z), nb_mul(z, target)), reduction));
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
    NBI_RETURN_SCOPED(reduce(nb_neg(nb_pick(nb_log_softmax(logits, 1), targets)), reduction));
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
    NBI_RETURN_SCOPED(
        reduce(nb_neg(nb_sum(nb_mul(target, nb_log_softmax(logits, 1)), 1, false)), reduction));
}
