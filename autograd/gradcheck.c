/* autograd/gradcheck.c — numerical gradient checking by central differences in float64.
 *
 * L(x) = sum(r * f(x)) with a fixed random cotangent r, so one backward gives the whole
 * vector-Jacobian product and each element needs two evaluations of f. For large inputs the
 * directional mode compares g . v with (L(x + h v) - L(x - h v)) / 2h along random unit v. */
#include "tensor_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    nb_gradcheck_fn f;
    void *user;
    nb_tensor *const *in;
    int n;
    nb_tensor *cot; /* cotangent, set after the first evaluation */
    nb_step *step;
    nb_rng rng;
} gc_ctx;

/* L = sum(cot * f(in)) evaluated in a fresh step without recording; NAN on error. */
static double eval_loss(gc_ctx *c, nb_status *st)
{
    nb_step_begin(c->step);
    bool prev = nb_set_grad_enabled(false);
    nb_tensor *y = c->f(c->in, c->n, c->user);
    nb_set_grad_enabled(prev);
    double L = NAN;
    if (!y) {
        *st = nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_VALUE;
    } else if (y->numel != c->cot->numel) {
        *st = nbi_error(NB_ERR_SHAPE, "nb_gradcheck: f's output changed shape between calls");
    } else {
        L = 0;
        for (int64_t i = 0; i < y->numel; i++)
            L += nb_tensor_get(y, i) * nb_tensor_get(c->cot, i);
    }
    nb_status keep = nb_last_status();
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", nb_last_error());
    nb_step_end(c->step);
    if (keep != NB_OK) /* nb_step_begin cleared it; restore for the caller */
        nbi_error(keep, "%s", msg);
    return L;
}

nb_status nb_gradcheck(nb_gradcheck_fn f, void *user, nb_tensor *const *inputs, int n_inputs,
                       const nb_gradcheck_opts *opts, nb_gradcheck_report *report)
{
    const char *fn = "nb_gradcheck";
    nb_gradcheck_opts o = opts ? *opts : (nb_gradcheck_opts){0};
    if (o.eps == 0)
        o.eps = 1e-6;
    if (o.atol == 0)
        o.atol = 1e-7;
    if (o.rtol == 0)
        o.rtol = 1e-5;
    nb_gradcheck_report rep_local;
    nb_gradcheck_report *rep = report ? report : &rep_local;
    memset(rep, 0, sizeof *rep);
    rep->worst_input = -1;
    rep->worst_index = -1;

    if (!f || !inputs || n_inputs < 1 || n_inputs > NB_GRADCHECK_MAX_INPUTS)
        return nbi_error(NB_ERR_VALUE, "%s: need f and 1 to %d inputs", fn,
                         NB_GRADCHECK_MAX_INPUTS);
    if (nb_step_active())
        return nbi_error(NB_ERR_STATE, "%s: must be called outside a step (it runs its own)", fn);
    for (int i = 0; i < n_inputs; i++) {
        const nb_tensor *x = inputs[i];
        if (!x || x->epoch != 0 ||
            (x->requires_grad && (x->dtype != NB_F64 || !nbi_is_contiguous(x))))
            return nbi_error(NB_ERR_DTYPE,
                             "%s: input %d must be a caller-owned tensor; checked inputs must be "
                             "contiguous f64",
                             fn, i);
    }

    gc_ctx c = {.f = f,
                .user = user,
                .in = inputs,
                .n = n_inputs,
                .rng = nb_rng_seed(o.seed ? o.seed : 0x5eed)};
    c.step = nb_step_new();
    if (!c.step)
        return nb_last_status();
    nb_status st = NB_OK;

    /* Analytic gradient: one recorded evaluation, backward with the cotangent as seed. */
    for (int i = 0; i < n_inputs; i++)
        nb_tensor_zero_grad(inputs[i]);
    nb_step_begin(c.step);
    nb_tensor *y = f(inputs, n_inputs, user);
    if (!y) {
        st = nb_last_status() != NB_OK ? nb_last_status()
                                       : nbi_error(NB_ERR_VALUE, "%s: f returned NULL", fn);
    } else {
        nb_rng r = c.rng;
        c.cot = nb_tensor_uniform(y->dtype, y->ndim, y->shape, &r, -1.0, 1.0);
        c.rng = r;
        if (!c.cot)
            st = nb_last_status();
        else if (y->requires_grad)
            st = nb_backward_ex(y, c.cot);
    }
    nb_status keep = st;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", nb_last_error());
    nb_step_end(c.step);
    if (keep != NB_OK) {
        nbi_error(keep, "%s", msg);
        nb_tensor_free(c.cot);
        nb_step_free(c.step);
        return keep;
    }

    for (int k = 0; k < n_inputs && st == NB_OK; k++) {
        nb_tensor *x = inputs[k];
        if (!x->requires_grad)
            continue;
        double *xd = nbi_data(x);
        const double *g = x->grad ? (const double *)nbi_data(x->grad) : NULL;
        int64_t count = o.directions > 0 ? o.directions : x->numel;
        double *v = NULL;
        if (o.directions > 0 && !(v = nbi_malloc((size_t)x->numel * sizeof *v))) {
            st = nbi_error(NB_ERR_NOMEM, "%s: out of memory", fn);
            break;
        }
        for (int64_t j = 0; j < count && st == NB_OK; j++) {
            double analytic = 0;
            if (v) { /* random unit direction */
                double norm = 0;
                for (int64_t i = 0; i < x->numel; i++) {
                    v[i] = nb_rng_normal(&c.rng);
                    norm += v[i] * v[i];
                }
                norm = sqrt(norm);
                for (int64_t i = 0; i < x->numel; i++) {
                    v[i] /= norm;
                    analytic += (g ? g[i] : 0.0) * v[i];
                }
            } else {
                analytic = g ? g[j] : 0.0;
            }
            double lp, lm;
            if (v) {
                for (int64_t i = 0; i < x->numel; i++)
                    xd[i] += o.eps * v[i];
                lp = eval_loss(&c, &st);
                for (int64_t i = 0; i < x->numel; i++)
                    xd[i] -= 2 * o.eps * v[i];
                lm = eval_loss(&c, &st);
                for (int64_t i = 0; i < x->numel; i++)
                    xd[i] += o.eps * v[i];
            } else {
                const double saved = xd[j];
                xd[j] = saved + o.eps;
                lp = eval_loss(&c, &st);
                xd[j] = saved - o.eps;
                lm = eval_loss(&c, &st);
                xd[j] = saved;
            }
            if (st != NB_OK)
                break;
            const double numeric = (lp - lm) / (2 * o.eps);
            const double abs_err = fabs(analytic - numeric);
            const double rel_err = abs_err / fmax(fabs(numeric), 1e-300);
            rep->n_checked++;
            if (abs_err > rep->max_abs_err[k])
                rep->max_abs_err[k] = abs_err;
            if (abs_err > o.atol && rel_err > rep->max_rel_err[k])
                rep->max_rel_err[k] = rel_err;
            if (!(abs_err <= o.atol + o.rtol * fabs(numeric))) {
                rep->n_failed++;
                if (rep->worst_input < 0 ||
                    abs_err > fabs(rep->worst_analytic - rep->worst_numeric)) {
                    rep->worst_input = k;
                    rep->worst_index = j;
                    rep->worst_analytic = analytic;
                    rep->worst_numeric = numeric;
                }
                if (o.verbose)
                    fprintf(stderr,
                            "nb_gradcheck: input %d %s %lld: analytic %.10g, numeric %.10g "
                            "(abs err %.3g)\n",
                            k, v ? "direction" : "element", (long long)j, analytic, numeric,
                            abs_err);
            }
        }
        nbi_free(v);
    }
    nb_tensor_free(c.cot);
    nb_step_free(c.step);
    if (st != NB_OK)
        return st;
    if (rep->n_checked == 0)
        return nbi_error(NB_ERR_VALUE,
                         "%s: compared no gradient value: no input requires grad or every such "
                         "input is empty (an op result or view made outside a step never requires "
                         "grad: pass the caller-owned tensor and call "
                         "nb_tensor_set_requires_grad on it)",
                         fn);
    if (rep->n_failed > 0)
        return nbi_error(NB_ERR_VALUE,
                         "%s: %lld of %lld gradient values differ; worst: input %d index %lld, "
                         "analytic %.10g vs numeric %.10g",
                         fn, (long long)rep->n_failed, (long long)rep->n_checked, rep->worst_input,
                         (long long)rep->worst_index, rep->worst_analytic, rep->worst_numeric);
    return NB_OK;
}
