/* optim/adaptive_kernels.h — the update loops of Adagrad, AdaDelta, RMSprop and Adam / AdamW.
 * Written once over the element type T and included twice by adaptive.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* ---- Adagrad ----  clr = lr / (1 + (t-1) lr_decay); d = g + wd p; s += d^2;
 *                    p -= clr d / (sqrt(s) + eps) */
static void NB_FN(adagrad)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    const nb_adagrad_opts *h = &gr->hp.adagrad;
    const T clr = (T)(lr / (1.0 + (double)(t - 1) * h->lr_decay));
    const T wd = (T)h->weight_decay, eps = (T)h->eps;
    NBI_OPTIM_LOOP(n)
    {
        const T d = g[i] + wd * p[i];
        s0[i] += d * d;
        p[i] -= clr * d / (sqrt(s0[i]) + eps);
    }
}

/* ---- AdaDelta ----  d = g + wd p; v = rho v + (1-rho) d^2;
 *                     u' = sqrt(u + eps) / sqrt(v + eps) d; u = rho u + (1-rho) u'^2; p -= lr u' */
static void NB_FN(adadelta)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    (void)t;
    const nb_adadelta_opts *h = &gr->hp.adadelta;
    const T rho = (T)h->rho, eps = (T)h->eps, wd = (T)h->weight_decay, eta = (T)lr;
    NBI_OPTIM_LOOP(n)
    {
        const T d = g[i] + wd * p[i];
        s0[i] = rho * s0[i] + (1 - rho) * d * d;
        const T delta = sqrt(s1[i] + eps) / sqrt(s0[i] + eps) * d;
        s1[i] = rho * s1[i] + (1 - rho) * delta * delta;
        p[i] -= eta * delta;
    }
}

/* ---- RMSprop ----  d = g + wd p; v = a v + (1-a) d^2; centered: m = a m + (1-a) d,
 *                    den = sqrt(v - m^2) + eps, else sqrt(v) + eps;
 *                    momentum: b = mu b + d / den, p -= lr b; else p -= lr d / den
 * State order: square_avg, then grad_avg (centered), then momentum_buffer (momentum > 0). */
static void NB_FN(rmsprop)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    (void)t;
    const nb_rmsprop_opts *h = &gr->hp.rmsprop;
    const T a = (T)h->alpha, eps = (T)h->eps, wd = (T)h->weight_decay, mu = (T)h->momentum;
    const T eta = (T)lr;
    T *avg = h->centered ? s1 : NULL;
    T *buf = h->momentum > 0 ? (h->centered ? s2 : s1) : NULL;
    NBI_OPTIM_LOOP(n)
    {
        const T d = g[i] + wd * p[i];
        s0[i] = a * s0[i] + (1 - a) * d * d;
        T den;
        if (avg) {
            avg[i] = a * avg[i] + (1 - a) * d;
            den = sqrt(s0[i] - avg[i] * avg[i]) + eps;
        } else {
            den = sqrt(s0[i]) + eps;
        }
        if (buf) {
            buf[i] = mu * buf[i] + d / den;
            p[i] -= eta * buf[i];
        } else {
            p[i] -= eta * d / den;
        }
    }
}

/* ---- Adam / AdamW ----  Adam: d = g + wd p;  AdamW: p *= 1 - lr wd, d = g
 *   m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; amsgrad: vmax = max(vmax, v), use vmax
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps) */
static void NB_FN(adam)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    const nb_adam_opts *h = &gr->hp.adam;
    const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps;
    const T l2 = o->family->decoupled ? 0 : (T)h->weight_decay;
    const T shrink = o->family->decoupled ? (T)(1.0 - lr * h->weight_decay) : 1;
    const T step = (T)(lr / (1.0 - pow(h->beta1, (double)t)));
    const T bc2 = (T)sqrt(1.0 - pow(h->beta2, (double)t));
    if (s2) { /* AMSGrad */
        NBI_OPTIM_LOOP(n)
        {
            p[i] *= shrink;
            const T d = g[i] + l2 * p[i];
            s0[i] = b1 * s0[i] + (1 - b1) * d;
            s1[i] = b2 * s1[i] + (1 - b2) * d * d;
            s2[i] = s2[i] > s1[i] ? s2[i] : s1[i];
            p[i] -= step * s0[i] / (sqrt(s2[i]) / bc2 + eps);
        }
    } else {
        NBI_OPTIM_LOOP(n)
        {
            p[i] *= shrink;
            const T d = g[i] + l2 * p[i];
            s0[i] = b1 * s0[i] + (1 - b1) * d;
            s1[i] = b2 * s1[i] + (1 - b2) * d * d;
            p[i] -= step * s0[i] / (sqrt(s1[i]) / bc2 + eps);
        }
    }
}
