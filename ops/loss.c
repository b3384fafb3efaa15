/* ops/loss.c — loss functions, composed from public ops (no backward code of their own). */
#include "ops/op_def.h"

static nb_tensor *reduce(nb_tensor *per_elem, nb_reduction reduction, const char *fn)
{
    switch (reduction) {
    case NB_REDUCE_MEAN:
        return nb_mean_all(per_elem);
    case NB_REDUCE_SUM:
        return nb_sum_all(per_elem);
    case NB_REDUCE_NONE:
        return per_elem;
    }
    nbi_error(NB_ERR_VALUE, "%s: unknown reduction %d", fn, (int)reduction);
    return NULL;
}

static bool same_shape_or_error(const char *fn, const nb_tensor *a, const nb_tensor *b)
{
    if (a && b && !nbi_same_shape(a, b)) {
        nbi_error(NB_ERR_SHAPE, "%s: prediction is %s, target is %s (they must match)", fn,
                  nbi_fmt_shape(a), nbi_fmt_shape(b));
        return false;
    }
    return true;
}

nb_tensor *nb_mse_ex(nb_tensor *pred, nb_tensor *target, nb_reduction reduction)
{
    if (!same_shape_or_error("nb_mse", pred, target))
        return NULL;
    return reduce(nb_square(nb_sub(pred, target)), reduction, "nb_mse");
}

nb_tensor *nb_mse(nb_tensor *pred, nb_tensor *target)
{
    return nb_mse_ex(pred, target, NB_REDUCE_MEAN);
}

nb_tensor *nb_sse(nb_tensor *pred, nb_tensor *target)
{
    if (!same_shape_or_error("nb_sse", pred, target))
        return NULL;
    return nb_sum_all(nb_square(nb_sub(pred, target)));
}

/* -(t log p + (1 - t) log(1 - p)), p clamped away from 0 and 1. */
nb_tensor *nb_bce(nb_tensor *p, nb_tensor *target, nb_reduction reduction)
{
    if (!same_shape_or_error("nb_bce", p, target))
        return NULL;
    const double eps = 1e-12;
    nb_tensor *pc = nb_clamp(p, eps, 1.0 - eps);
    nb_tensor *pos = nb_mul(target, nb_log(pc));
    nb_tensor *neg = nb_mul(nb_affine(target, -1.0, 1.0), nb_log(nb_affine(pc, -1.0, 1.0)));
    return reduce(nb_neg(nb_add(pos, neg)), reduction, "nb_bce");
}

/* softplus(z) - z t  ==  -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))). */
nb_tensor *nb_bce_with_logits(nb_tensor *z, nb_tensor *target, nb_reduction reduction)
{
    if (!same_shape_or_error("nb_bce_with_logits", z, target))
        return NULL;
    return reduce(nb_sub(nb_softplus(z), nb_mul(z, target)), reduction, "nb_bce_with_logits");
}

nb_tensor *nb_cross_entropy(nb_tensor *logits, nb_tensor *targets, nb_reduction reduction)
{
    if (logits && targets &&
        (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])) {
        nbi_error(NB_ERR_SHAPE,
                  "nb_cross_entropy: logits must be [N, C] and targets [N]: logits are %s, "
                  "targets %s",
                  nbi_fmt_shape(logits), nbi_fmt_shape(targets));
        return NULL;
    }
    return reduce(nb_neg(nb_pick(nb_log_softmax(logits, 1), targets)), reduction,
                  "nb_cross_entropy");
}

nb_tensor *nb_cross_entropy_onehot(nb_tensor *logits, nb_tensor *target, nb_reduction reduction)
{
    if (!same_shape_or_error("nb_cross_entropy_onehot", logits, target))
        return NULL;
    if (logits && logits->ndim != 2) {
        nbi_error(NB_ERR_SHAPE, "nb_cross_entropy_onehot: logits must be [N, C], got %s",
                  nbi_fmt_shape(logits));
        return NULL;
    }
    nb_tensor *per_sample = nb_neg(nb_sum(nb_mul(target, nb_log_softmax(logits, 1)), 1, false));
    return reduce(per_sample, reduction, "nb_cross_entropy_onehot");
}
