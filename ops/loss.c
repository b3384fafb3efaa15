/* ops/loss.c — loss functions, composed from public ops, plus one fused op, nll (the weighted
 * negative log-likelihood of a class per position, which cross-entropy applies to log_softmax).
 * Each public loss runs in a scope (NBI_RETURN_SCOPED): with no active step, in the private
 * step, so the intermediates always live in an arena. */
#include "ops/op_def.h"

#include <float.h>
#include <math.h>
#include <string.h>

static bool valid_reduction(const char *fn, nb_reduction reduction)
{
    if (reduction == NB_REDUCE_MEAN || reduction == NB_REDUCE_SUM || reduction == NB_REDUCE_NONE)
        return true;
    if (reduction == NB_REDUCE_BATCHMEAN)
        nbi_error(NB_ERR_VALUE, "%s: NB_REDUCE_BATCHMEAN is a reduction of nb_kl_div only", fn);
    else
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
    case NB_REDUCE_BATCHMEAN: /* nb_kl_div's own; valid_reduction refuses it elsewhere */
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

/* softplus(z) - z t  ==  -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))); with pos_weight
 * p: (1 - t) z + (1 + (p - 1) t) softplus(-z) (PyTorch's form), each term times weight w. */
static nb_tensor *bce_logit_terms(nb_tensor *z, nb_tensor *t, nb_tensor *w, nb_tensor *p)
{
    nb_tensor *l = p ? nb_add(nb_mul(nb_affine(t, -1.0, 1.0), z),
                              nb_mul(nb_add_scalar(nb_mul(nb_add_scalar(p, -1.0), t), 1.0),
                                     nb_softplus(nb_neg(z))))
                     : nb_sub(nb_softplus(z), nb_mul(z, t));
    return w ? nb_mul(l, w) : l;
}

nb_tensor *nb_bce_with_logits(nb_tensor *z, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_bce_with_logits", z, target, reduction, true))
        return NULL;
    NBI_RETURN_SCOPED(reduce(bce_logit_terms(z, target, NULL, NULL), reduction));
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

/* ---- elementwise regression losses ---- */
nb_tensor *nb_l1(nb_tensor *pred, nb_tensor *target, nb_reduction reduction)
{
    if (!check_args("nb_l1", pred, target, reduction, true))
        return NULL;
    NBI_RETURN_SCOPED(reduce(nb_abs(nb_sub(pred, target)), reduction));
}

/* a m^2 + b (d - m) with d = |pred - target| and m = min(d, c): the quadratic part below c and
 * the linear part above it, one expression without a branch (the gradient of m is 1 below c and
 * 0 above). Smooth L1 is a = 0.5 / beta, b = 1, c = beta; Huber a = 0.5, b = c = delta. */
static nb_tensor *quad_linear(nb_tensor *pred, nb_tensor *target, double a, double b, double c,
                              nb_reduction reduction)
{
    nb_tensor *d = nb_abs(nb_sub(pred, target)), *m = nb_clamp(d, 0.0, c);
    nb_tensor *lin = nb_sub(d, m);
    return reduce(nb_add(nb_mul_scalar(nb_square(m), a), b == 1.0 ? lin : nb_mul_scalar(lin, b)),
                  reduction);
}

nb_tensor *nb_smooth_l1(nb_tensor *pred, nb_tensor *target, nb_reduction reduction, double beta)
{
    if (!check_args("nb_smooth_l1", pred, target, reduction, true))
        return NULL;
    if (!(beta >= 0.0 && beta < INFINITY)) {
        nbi_error(NB_ERR_VALUE, "nb_smooth_l1: beta must be finite and >= 0, got %g", beta);
        return NULL;
    }
    if (beta == 0.0) /* PyTorch's rule: the L1 loss */
        NBI_RETURN_SCOPED(reduce(nb_abs(nb_sub(pred, target)), reduction));
    NBI_RETURN_SCOPED(quad_linear(pred, target, 0.5 / beta, 1.0, beta, reduction));
}

nb_tensor *nb_huber(nb_tensor *pred, nb_tensor *target, nb_reduction reduction, double delta)
{
    if (!check_args("nb_huber", pred, target, reduction, true))
        return NULL;
    if (!(delta > 0.0 && delta < INFINITY)) {
        nbi_error(NB_ERR_VALUE, "nb_huber: delta must be finite and > 0, got %g", delta);
        return NULL;
    }
    NBI_RETURN_SCOPED(quad_linear(pred, target, 0.5, delta, delta, reduction));
}

/* ---- KL divergence ---- */
/* A 0-dim constant of x's dtype (NULL for a NULL x, whose error is already set). */
static nb_tensor *scalar_like(const nb_tensor *x, double v)
{
    return x ? nb_constant(x->dtype, 0, NULL, v) : NULL;
}

/* Pointwise t (log t - x) with 0 log 0 = 0 (PyTorch's xlogy: t = 0 takes log 1 instead, so
 * neither the value nor the gradient meets log 0), or e^t (t - x) for log-space targets. */
static nb_tensor *kl_terms(nb_tensor *x, nb_tensor *t, bool log_target)
{
    if (log_target)
        return nb_mul(nb_exp(t), nb_sub(t, x));
    nb_tensor *t_or_1 = nb_masked_fill(t, nb_eq(t, scalar_like(t, 0.0)), 1.0);
    return nb_sub(nb_mul(t, nb_log(t_or_1)), nb_mul(t, x));
}

nb_tensor *nb_kl_div(nb_tensor *input, nb_tensor *target, nb_reduction reduction, bool log_target)
{
    const char *fn = "nb_kl_div";
    if (!check_args(fn, input, target, reduction == NB_REDUCE_BATCHMEAN ? NB_REDUCE_SUM : reduction,
                    true))
        return NULL;
    if (reduction == NB_REDUCE_BATCHMEAN && input && input->ndim == 0) {
        nbi_error(NB_ERR_SHAPE, "%s: NB_REDUCE_BATCHMEAN needs a batch axis, input is []", fn);
        return NULL;
    }
    if (reduction != NB_REDUCE_BATCHMEAN)
        NBI_RETURN_SCOPED(reduce(kl_terms(input, target, log_target), reduction));
    NBI_RETURN_SCOPED(nb_mul_scalar(nb_sum_all(kl_terms(input, target, log_target)),
                                    1.0 / (double)input->shape[0]));
}

/* ---- margin losses ---- */
/* Target t in {1, -1} (other values, as in PyTorch, take both terms):
 * x where t != -1, plus max(0, margin - x) where t != 1. */
nb_tensor *nb_hinge_embedding(nb_tensor *x, nb_tensor *target, nb_reduction reduction,
                              double margin)
{
    if (!check_args("nb_hinge_embedding", x, target, reduction, true))
        return NULL;
    NBI_RETURN_SCOPED(reduce(
        nb_add(nb_mul(nb_ne(target, scalar_like(target, 1.0)), nb_relu(nb_affine(x, -1.0, margin))),
               nb_mul(nb_ne(target, scalar_like(target, -1.0)), x)),
        reduction));
}

nb_tensor *nb_margin_ranking(nb_tensor *x1, nb_tensor *x2, nb_tensor *target,
                             nb_reduction reduction, double margin)
{
    const char *fn = "nb_margin_ranking";
    if (!check_args(fn, x1, x2, reduction, false) || !nbi_check_live(fn, target))
        return NULL;
    if (x1 && x2 && target && (!nbi_same_shape(x1, x2) || !nbi_same_shape(x1, target))) {
        nbi_error(NB_ERR_SHAPE, "%s: x1, x2 and target must have one shape: %s, %s and %s", fn,
                  nbi_fmt_shape(x1), nbi_fmt_shape(x2), nbi_fmt_shape(target));
        return NULL;
    }
    NBI_RETURN_SCOPED(
        reduce(nb_relu(nb_add_scalar(nb_mul(nb_neg(target), nb_sub(x1, x2)), margin)), reduction));
}

static nb_tensor *sq_norm(nb_tensor *x, int axis)
{
    return nb_add_scalar(nb_sum(nb_square(x), axis, false), 1e-12);
}

static nb_tensor *cosine_terms(nb_tensor *x1, nb_tensor *x2, nb_tensor *t, double margin)
{
    const int ax = x1 ? x1->ndim - 1 : 0;
    nb_tensor *cos = nb_div(nb_sum(nb_mul(x1, x2), ax, false),
                            nb_sqrt(nb_mul(sq_norm(x1, ax), sq_norm(x2, ax))));
    return nb_add(nb_mul(nb_eq(t, scalar_like(t, 1.0)), nb_affine(cos, -1.0, 1.0)),
                  nb_mul(nb_eq(t, scalar_like(t, -1.0)), nb_relu(nb_add_scalar(cos, -margin))));
}

/* PyTorch's formula: cos = <x1, x2> / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)) over the last
 * axis; 1 - cos where t = 1, max(0, cos - margin) where t = -1, 0 elsewhere. */
nb_tensor *nb_cosine_embedding(nb_tensor *x1, nb_tensor *x2, nb_tensor *target,
                               nb_reduction reduction, double margin)
{
    const char *fn = "nb_cosine_embedding";
    if (!check_args(fn, x1, x2, reduction, false) || !nbi_check_live(fn, target))
        return NULL;
    if (x1 && x2 && target) {
        bool ok = (x1->ndim == 1 || x1->ndim == 2) && nbi_same_shape(x1, x2) &&
                  target->ndim == x1->ndim - 1 &&
                  (x1->ndim == 1 || target->shape[0] == x1->shape[0]);
        if (!ok) {
            nbi_error(NB_ERR_SHAPE,
                      "%s: x1 and x2 must be [N, D] (or [D]) and target [N] (or []): x1 is %s, "
                      "x2 is %s, target is %s",
                      fn, nbi_fmt_shape(x1), nbi_fmt_shape(x2), nbi_fmt_shape(target));
            return NULL;
        }
    }
    NBI_RETURN_SCOPED(reduce(cosine_terms(x1, x2, target, margin), reduction));
}

/* ---- nll: the weighted negative log-likelihood of one class per position ----
 *   y[n, s] = -w[t] x[n, t, s] with t = target[n, s], and 0 where t is the ignored index;
 *   dx[n, t, s] += -w[t] dy[n, s]            (w and the target are not differentiated)
 * x: [N, C, d1, ...] or [C], target: [N, d1, ...] or [] (NB_I64), w: [C] -> y: target's shape.
 * The public functions below reduce y with the weighted mean PyTorch uses. */
typedef struct {
    bool ignore;
    int64_t ignore_index;
} nll_attr;

/* The class axis of x: 1, or 0 for an unbatched [C]. */
static int class_axis(const nb_tensor *x)
{
    return x->ndim == 1 ? 0 : 1;
}

/* x [N, C, d1, ...] or [C] against target [N, d1, ...] or [], and w (may be NULL) [C]; the
 * messages call x `what` ("input" or "logits"). */
static nb_status check_class_shapes(const char *fn, const char *what, const nb_tensor *x,
                                    const nb_tensor *t, const nb_tensor *w)
{
    const int ca = class_axis(x);
    bool ok = x->ndim >= 1 && t->ndim == x->ndim - 1;
    for (int d = 0, e = 0; ok && d < x->ndim; d++)
        if (d != ca)
            ok = t->shape[e++] == x->shape[d];
    if (!ok)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: %s must be [N, C, d1, ...] (or [C]) and target [N, d1, ...] "
                         "(or []): %s is %s, target is %s",
                         fn, what, what, nbi_fmt_shape(x), nbi_fmt_shape(t));
    if (w && (w->ndim != 1 || w->shape[0] != x->shape[ca]))
        return nbi_error(NB_ERR_SHAPE, "%s: weight must be [C] = [%lld] for %s %s, got %s", fn,
                         (long long)x->shape[ca], what, nbi_fmt_shape(x), nbi_fmt_shape(w));
    return NB_OK;
}

static nb_status nll_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = r->in[0], *t = r->in[1];
    nb_status st = check_class_shapes(r->api, "input", x, t, r->in[2]);
    if (st != NB_OK)
        return st;
    *dtype = x->dtype;
    *ndim = t->ndim;
    memcpy(shape, t->shape, (size_t)t->ndim * sizeof *shape);
    return NB_OK;
}

/* Rows before the class axis, classes, positions after it. */
static void nll_dims(const nb_tensor *x, int64_t *outer, int64_t *C, int64_t *inner)
{
    const int ca = class_axis(x);
    *outer = ca ? x->shape[0] : 1;
    *C = x->shape[ca];
    *inner = 1;
    for (int d = ca + 1; d < x->ndim; d++)
        *inner *= x->shape[d];
}

#define NB_KERNELS "ops/loss_kernels.h"
#include "nabla/typed.h"

static nb_status nll_forward(nbi_record *r)
{
    const nll_attr *a = r->attr;
    const nb_tensor *tg = r->in[1];
    const int64_t *t = nbi_data(tg);
    int64_t outer, C, inner;
    nll_dims(r->in[0], &outer, &C, &inner);
    for (int64_t i = 0; i < tg->numel; i++) {
        if ((t[i] >= 0 && t[i] < C) || (a->ignore && t[i] == a->ignore_index))
            continue;
        int64_t mi[NB_MAX_DIMS], rest = i;
        for (int d = tg->ndim - 1; d >= 0; d--) {
            mi[d] = rest % tg->shape[d];
            rest /= tg->shape[d];
        }
        char pos[160];
        nbi_shape_str(tg->ndim, mi, pos, sizeof pos);
        return nbi_error(NB_ERR_VALUE, "%s: target%s = %lld is outside [0, %lld)%s", r->api, pos,
                         (long long)t[i], (long long)C,
                         a->ignore ? " and is not the ignore_index" : "");
    }
    NB_DISPATCH(r->out->dtype, nll_fwd, r, outer, C, inner);
    return NB_OK;
}

const nbi_op_def nbi_op_nll = {
    .name = "nll",
    .api = "nb_nll",
    .arity = 3,
    .flags = NBI_OP_INDEX_IN1 | NBI_OP_WRITES_ALL,
    .attr_size = sizeof(nll_attr),
    .shape = nll_shape,
    .forward = nll_forward,
    .backward_f32 = nll_bwd_f32,
    .backward_f64 = nll_bwd_f64,
};

/* The weighted mean's denominator: the sum of w[t] over the targets not ignored (their count
 * without weights), PyTorch's rule. Read after the nll op has validated the targets. */
static double weight_total(const nb_tensor *target, const nb_tensor *w, const nll_attr *a)
{
    if (!w && !a->ignore) /* plain cross-entropy: the count, with no pass over the targets */
        return (double)target->numel;
    double total = 0;
    for (int64_t i = 0; i < target->numel; i++) {
        const int64_t c = (int64_t)nb_tensor_get(target, i);
        if (!(a->ignore && c == a->ignore_index))
            total += w ? nb_tensor_get(w, c) : 1.0;
    }
    return total;
}

/* 1 where the target counts, 0 where it is ignored, in x's dtype and the target's shape. */
static nb_tensor *counted_mask(const nb_tensor *x, const nb_tensor *target, const nll_attr *a)
{
    nb_tensor *m = nb_constant(x->dtype, target->ndim, target->shape, 1.0);
    for (int64_t i = 0; m && a->ignore && i < target->numel; i++)
        if ((int64_t)nb_tensor_get(target, i) == a->ignore_index)
            nb_tensor_set(m, i, 0.0);
    return m;
}

/* NLL of log-probabilities (from_logits false) or cross-entropy of logits, with the options:
 * per position (1 - eps) nll + eps / C * sum_c -w[c] logp[c] (the second term 0 at ignored
 * positions), and MEAN divides the sum by weight_total — PyTorch's cross_entropy. */
static nb_tensor *class_loss(const char *fn, nb_tensor *x, nb_tensor *target,
                             nb_reduction reduction, const nb_cross_entropy_opts *opts,
                             bool from_logits)
{
    static const char *const names[] = {"input", "target", "weight", NULL};
    const nb_cross_entropy_opts o = opts ? *opts : (nb_cross_entropy_opts){0};
    if (!nbi_check_live(fn, x) || !nbi_check_live(fn, target) || !nbi_check_live(fn, o.weight) ||
        !valid_reduction(fn, reduction))
        return NULL;
    if (!(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0)) {
        nbi_error(NB_ERR_VALUE, "%s: label_smoothing must be in [0, 1], got %g", fn,
                  o.label_smoothing);
        return NULL;
    }
    if (!from_logits && o.label_smoothing != 0.0) {
        nbi_error(NB_ERR_VALUE, "%s: label_smoothing applies to cross-entropy only, got %g", fn,
                  o.label_smoothing);
        return NULL;
    }
    if (!x || !target) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, x ? "target" : "input");
        return NULL;
    }
    if (check_class_shapes(fn, from_logits ? "logits" : "input", x, target, o.weight) != NB_OK)
        return NULL;
    const int ca = class_axis(x);
    const int64_t C = x->shape[ca];
    const nll_attr a = {o.use_ignore_index, o.ignore_index};
    nb_tensor *logp = from_logits ? nb_log_softmax(x, ca) : x;
    nb_tensor *w = o.weight ? o.weight : nb_constant(x->dtype, 1, &C, 1.0);
    nb_tensor *per = nbi_apply_as(NB_OP_NLL, fn, names, 3, (nb_tensor *[]){logp, target, w}, &a);
    if (!per)
        return NULL;
    const double eps = o.label_smoothing;
    if (eps > 0) {
        int64_t wshape[NB_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++)
            wshape[d] = d == ca ? C : 1;
        nb_tensor *smooth = nb_neg(nb_sum(nb_mul(logp, nb_reshape(w, x->ndim, wshape)), ca, false));
        per = nb_add(nb_mul_scalar(per, 1.0 - eps),
                     nb_mul_scalar(nb_mul(smooth, counted_mask(x, target, &a)), eps / (double)C));
    }
    if (reduction != NB_REDUCE_MEAN)
        return reduce(per, reduction);
    return nb_div(nb_sum_all(per), scalar_like(x, weight_total(target, o.weight, &a)));
}

nb_tensor *nb_nll(nb_tensor *logp, nb_tensor *target, nb_reduction reduction)
{
    NBI_RETURN_SCOPED(class_loss("nb_nll", logp, target, reduction, NULL, false));
}

nb_tensor *nb_nll_ex(nb_tensor *logp, nb_tensor *target, nb_reduction reduction,
                     const nb_cross_entropy_opts *opts)
{
    NBI_RETURN_SCOPED(class_loss("nb_nll_ex", logp, target, reduction, opts, false));
}

nb_tensor *nb_cross_entropy(nb_tensor *logits, nb_tensor *target, nb_reduction reduction)
{
    NBI_RETURN_SCOPED(class_loss("nb_cross_entropy", logits, target, reduction, NULL, true));
}

nb_tensor *nb_cross_entropy_ex(nb_tensor *logits, nb_tensor *target, nb_reduction reduction,
                               const nb_cross_entropy_opts *opts)
{
    NBI_RETURN_SCOPED(class_loss("nb_cross_entropy_ex", logits, target, reduction, opts, true));
}

/* ---- BCE with logits, weighted ----
 * PyTorch's form: (1 - t) z + (1 + (pos_weight - 1) t) softplus(-z), times weight; without
 * pos_weight it is softplus(z) - z t. */
static bool check_broadcasts_to(const char *fn, const char *name, const nb_tensor *w,
                                const nb_tensor *ref)
{
    if (!w || !ref)
        return true;
    bool ok = w->ndim <= ref->ndim;
    for (int d = 1; ok && d <= w->ndim; d++) {
        const int64_t a = w->shape[w->ndim - d], b = ref->shape[ref->ndim - d];
        ok = a == b || a == 1;
    }
    if (!ok)
        nbi_error(NB_ERR_SHAPE, "%s: %s %s does not broadcast to the logits' shape %s", fn, name,
                  nbi_fmt_shape(w), nbi_fmt_shape(ref));
    return ok;
}

nb_tensor *nb_bce_with_logits_ex(nb_tensor *z, nb_tensor *target, nb_reduction reduction,
                                 const nb_bce_opts *opts)
{
    const char *fn = "nb_bce_with_logits_ex";
    const nb_bce_opts o = opts ? *opts : (nb_bce_opts){0};
    if (!check_args(fn, z, target, reduction, true) || !nbi_check_live(fn, o.weight) ||
        !nbi_check_live(fn, o.pos_weight) || !check_broadcasts_to(fn, "weight", o.weight, z) ||
        !check_broadcasts_to(fn, "pos_weight", o.pos_weight, z))
        return NULL;
    NBI_RETURN_SCOPED(reduce(bce_logit_terms(z, target, o.weight, o.pos_weight), reduction));
}
